// Internal: profiling a configuration with LibTorch's profiler, and the FLOPs count the plan runner
// makes once per plan. Torch-free; profiler.cpp includes LibTorch.
#pragma once

#include "twb/bench.h"
#include "twb/profile.h"

#include <atomic>
#include <map>
#include <string>
#include <utility>

namespace twb::detail {

// Per operator call, keyed by "name|input shapes": FLOPs and the bytes of its tensor inputs and outputs.
struct FlopTable {
    bool ok = false;
    std::string error;
    double modelFlops = -1, modelBytes = -1; // per forward: operators not nested in a counted one
    std::map<std::string, std::pair<double, double>> perCall;
};

std::string flopKey(const std::string& name, const std::string& shapes);

// One forward with the JIT off, on the configuration's device and dtype, with every operator's inputs
// and outputs seen.
FlopTable countFlops(const Model& model, const InputBinding& binding, const RunConfig& config);

// Measures the configuration as runConfiguration does, then profiles `options.calls` more calls of the
// same prepared forward into `profile`. A failed profile leaves profile.ok false with the reason.
RunResult profileConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                               const ProfileOptions& options, const FlopTable& flops, Profile& profile,
                               const ProgressFn& progress, const std::atomic<bool>* stop);

} // namespace twb::detail
