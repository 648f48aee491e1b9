// Built when LibTorch has no CUDA: nothing here is ever reached for a CUDA
// device, because validateConfig refuses such devices first.
#include "cuda_support.h"

namespace twb::detail {

void cudaSynchronize(int) {}
void cudaResetPeakMemory(int) {}
int64_t cudaPeakMemory(int) {
    return -1;
}
std::unique_ptr<CudaEventTimer> makeCudaEventTimer(int) {
    return nullptr;
}
CudaEnvironment cudaEnvironment() {
    return {};
}

} // namespace twb::detail
