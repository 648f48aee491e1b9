// Internal: fills each argument's suggested input from the loaded module's forward graph.
#pragma once

#include "twb/model.h"

#include <torch/script.h>

#include <vector>

namespace twb::detail {

void fillSuggestions(const torch::jit::Module& module, std::vector<ArgumentInfo>& arguments);

} // namespace twb::detail
