// Internal: state_dicts inside checkpoints (checkpoint.cpp), for inspecting and loading models (model.cpp).
#pragma once

#include "twb/model.h"
#include "twb/value.h"

#include <string>
#include <vector>

namespace twb::detail {

// The file as a tree of values, after the diagnosis says it is a state_dict or tensors; throws otherwise.
Value readCheckpoint(const std::string& path);
// The state_dict in `whole` (read from `path`): `wanted`'s entry, or the first found; throws naming the
// file when there is none. `foundUnderKey` gets its key, `candidates` every entry that is one.
Value stateDictIn(const std::string& path, const Value& whole, std::string* foundUnderKey,
                  const std::string& wanted = {}, std::vector<std::string>* candidates = nullptr);
// What a checkpoint holds beside its state_dict, into info.checkpointEntries.
void describeCheckpoint(const Value& whole, const std::string& stateDictKey, ModelInfo& info);

} // namespace twb::detail
