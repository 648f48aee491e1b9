// Internal: what the run engine needs from a Model. Torch types are only
// declared here; the .cpp files that call these include LibTorch.
#pragma once

#include "twb/model.h"

#include <string>
#include <vector>

namespace c10 {
struct IValue;
}
namespace torch::jit {
struct Module;
}

namespace twb::detail {

struct Pt2Model;

struct ModelAccess {
    static const torch::jit::Module& module(const Model& model);
    // AOTInductor packages: the model spec, or null for TorchScript; its runner, loaded on first use
    // (inspecting or opening a package never runs its compiled code; running it does).
    static const Pt2Model* package(const Model& model);
    static c10::IValue runPackage(const Model& model, const std::vector<c10::IValue>& inputs);
    // forward's argument values in order, defaults filled in where the binding left them out.
    static std::vector<c10::IValue> forwardStack(const Model& model, const InputBinding& binding);
    // " (input 'x' is float64 but the model's weights are float32: …)" when that explains a failure, else "".
    static std::string dtypeHint(const Model& model, const InputBinding& binding);

    // The state_dicts loaded into the model since it was opened, in order, as a worker must load them
    // again into its own copy.
    struct StateDictLoad {
        Value stateDict;
        bool strict = true;
        std::string stripPrefix;
    };
    static std::vector<StateDictLoad> stateDictLoads(const Model& model);
};

} // namespace twb::detail
