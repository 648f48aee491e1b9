// Internal: turning LibTorch's long messages into the sentence a user needs.
#pragma once

#include <string>

namespace twb::detail {

// TorchScript puts the cause last ("RuntimeError: …") after its tracebacks;
// plain LibTorch errors put it first. Returns that sentence.
std::string errorEssence(const std::string& message);

} // namespace twb::detail
