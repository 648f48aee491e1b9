// What this build can do: versions, and whether CUDA is compiled in and usable.
#pragma once

#include <string>

namespace twb {

struct BuildInfo {
    std::string version;         // Torch Workbench
    std::string libtorchVersion; // compiled against
    bool cudaCompiled = false;
    bool cudaAvailable = false;
    int cudaDevices = 0;
    std::string cudaStatus; // a sentence: why CUDA is or is not usable
};

BuildInfo buildInfo();

} // namespace twb
