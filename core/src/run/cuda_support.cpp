// Built only against a LibTorch with CUDA (CMake checks for the torch_cuda target).
#include "cuda_support.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/cuda.h>

namespace twb::detail {

void cudaSynchronize(int device) {
    torch::cuda::synchronize(device);
}

void cudaResetPeakMemory(int device) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(c10::DeviceIndex(device));
}

int64_t cudaPeakMemory(int device) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::DeviceIndex(device));
    return stats.allocated_bytes[0].peak; // index 0: StatType::AGGREGATE
}

namespace {
class EventTimer final : public CudaEventTimer {
public:
    explicit EventTimer(int device)
        : m_device(device)
        , m_start(cudaEventDefault)
        , m_stop(cudaEventDefault) {}
    void start() override {
        c10::cuda::CUDAGuard guard{c10::DeviceIndex(m_device)};
        m_start.record();
    }
    void stop() override {
        c10::cuda::CUDAGuard guard{c10::DeviceIndex(m_device)};
        m_stop.record();
    }
    double elapsedNs() override {
        m_stop.synchronize();
        return double(m_start.elapsed_time(m_stop)) * 1e6; // ms -> ns
    }

private:
    int m_device;
    at::cuda::CUDAEvent m_start, m_stop;
};
} // namespace

std::unique_ptr<CudaEventTimer> makeCudaEventTimer(int device) {
    return std::make_unique<EventTimer>(device);
}

CudaEnvironment cudaEnvironment() {
    CudaEnvironment env;
    if (!torch::cuda::is_available()) return env;
    const long rt = at::detail::getCUDAHooks().versionCUDART();
    env.cudaVersion = std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10);
    if (torch::cuda::cudnn_is_available()) {
        const long v = at::detail::getCUDAHooks().versionCuDNN();
        env.cudnnVersion = std::to_string(v);
    }
    for (int64_t i = 0; i < int64_t(torch::cuda::device_count()); ++i) {
        const cudaDeviceProp* p = at::cuda::getDeviceProperties(i);
        env.devices.push_back(std::string(p->name) + " (" + std::to_string(p->totalGlobalMem >> 20) +
                              " MiB)");
    }
    return env;
}

} // namespace twb::detail
