// Internal: the seam between core's torch-free public types and LibTorch.
// Torch types are only declared here, so this header stays cheap; the .cpp
// files that use these functions include LibTorch themselves.
#pragma once

#include "twb/value.h"

#include <cstdint>
#include <string>

namespace c10 {
struct IValue;
enum class ScalarType : int8_t;
} // namespace c10

namespace twb::detail {

Value wrap(c10::IValue v);
const c10::IValue& unwrap(const Value& v);

c10::ScalarType scalarType(const std::string& dtype); // canonical or alias name
std::string dtypeName(c10::ScalarType type);

} // namespace twb::detail
