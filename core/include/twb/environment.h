// Where something ran: this torchwb and its LibTorch, CUDA, the CPU and the host. Reports keep it, and a
// worker sends it in its hello.
#pragma once

#include "twb/build_info.h"

#include <string>
#include <vector>

namespace twb {

struct EnvironmentInfo {
    std::string torchwbVersion, libtorchVersion;
    LibTorchBuild libtorchBuild;
    bool cudaCompiled = false, cudaAvailable = false;
    std::string cudaVersion, cudnnVersion;
    std::vector<std::string> cudaDevices;
    std::string cpuModel;
    int physicalCores = 0, hardwareThreads = 0, libtorchDefaultThreads = 0;
    std::string os, hostName, time; // time: ISO 8601, UTC
};

EnvironmentInfo currentEnvironment();

} // namespace twb
