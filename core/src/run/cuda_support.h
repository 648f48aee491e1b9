// Internal: the CUDA-specific pieces of the run engine. cuda_support.cpp
// implements them with CUDA headers when LibTorch has CUDA; otherwise
// cuda_support_none.cpp says they are unavailable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace twb::detail {

void cudaSynchronize(int device);
void cudaResetPeakMemory(int device);
int64_t cudaPeakMemory(int device); // bytes; -1 where unknown

// Device-side time of one call, from CUDA events recorded around it.
class CudaEventTimer {
public:
    virtual ~CudaEventTimer() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual double elapsedNs() = 0; // waits for the stop event
};
std::unique_ptr<CudaEventTimer> makeCudaEventTimer(int device); // nullptr without CUDA

struct CudaEnvironment {
    std::string cudaVersion, cudnnVersion;
    std::vector<std::string> devices;
};
CudaEnvironment cudaEnvironment();

} // namespace twb::detail
