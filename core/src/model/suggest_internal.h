// Internal: fills each argument's suggested input from the loaded module's forward graph.
// The module type is only declared here; suggest.cpp and model.cpp include LibTorch themselves.
#pragma once

#include "twb/model.h"

#include <vector>

namespace torch::jit {
struct Module;
} // namespace torch::jit

namespace twb::detail {

void fillSuggestions(const torch::jit::Module& module, std::vector<ArgumentInfo>& arguments);

} // namespace twb::detail
