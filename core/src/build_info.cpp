#include "twb/build_info.h"
#include "twb/runtime.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <mutex>
#include <thread>

#ifndef TWB_VERSION
#define TWB_VERSION "0.0.0"
#endif

namespace twb {

BuildInfo buildInfo() {
    BuildInfo b;
    b.version = TWB_VERSION;
    b.libtorchVersion = TORCH_VERSION;
#ifdef TWB_WITH_CUDA
    b.cudaCompiled = true;
#endif
    try {
        b.cudaAvailable = torch::cuda::is_available();
        b.cudaDevices = b.cudaAvailable ? int(torch::cuda::device_count()) : 0;
    } catch (const std::exception&) {
        b.cudaAvailable = false;
    }
    if (!b.cudaCompiled)
        b.cudaStatus =
            "CUDA is not compiled in: this LibTorch is a CPU-only build (as Debian's libtorch-dev is); "
            "build against an official CUDA LibTorch to use a GPU";
    else if (!b.cudaAvailable)
        b.cudaStatus = "CUDA is compiled in, but no CUDA device or driver was found on this machine";
    else
        b.cudaStatus = "CUDA is available with " + std::to_string(b.cudaDevices) + " device" +
                       (b.cudaDevices == 1 ? "" : "s");
    return b;
}

namespace {
int libtorchDefaultThreads() {
    // Read before anything changes it; LibTorch's choice is only knowable at first use.
    static const int n = at::get_num_threads();
    return n;
}
} // namespace

ThreadSettings threadSettings() {
    ThreadSettings s;
    s.libtorchDefault = libtorchDefaultThreads();
    s.hardware = int(std::max(1u, std::thread::hardware_concurrency()));
    s.current = at::get_num_threads();
    return s;
}

ThreadSettings setThreads(int n) {
    libtorchDefaultThreads();
    const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n <= 0 ? hw : n);
    return threadSettings();
}

} // namespace twb
