// What a job ran on: the model file and each input, as reports, sessions and inputs name them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

struct ModelRef {
    std::string path, sha256, kind, className;
    uint64_t size = 0;
    std::vector<std::string> operatorLibraries; // loaded before it (--load-library), in order
};

struct InputRef {
    std::string argument, source;
    std::string sha256;    // for files
    std::string generator; // for generated inputs: the spec, seed included
    std::vector<int64_t> shape;
    std::string dtype;
};

} // namespace twb
