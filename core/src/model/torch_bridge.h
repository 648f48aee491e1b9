// Internal: the seam between core's torch-free public types and LibTorch.
// Torch types are only declared here, so this header stays cheap; the .cpp
// files that use these functions include LibTorch themselves.
#pragma once

#include "twb/value.h"

#include <cstdint>
#include <string>

#include <functional>

namespace c10 {
struct IValue;
enum class ScalarType : int8_t;
} // namespace c10
namespace c10 {
enum class QEngine : uint8_t;
} // namespace c10
namespace at {
class Tensor;
using c10::QEngine;
} // namespace at

namespace twb::detail {

Value wrap(c10::IValue v);
const c10::IValue& unwrap(const Value& v);

// The same value with every tensor inside (through tuples, lists, dicts) replaced by fn(tensor).
// Lists keep their element type (Keep), or become lists of Any (Untyped): LibTorch's pickler writes a
// typed tensor list as torch.jit._pickle.build_tensorlist, which torch.load(weights_only=True) refuses.
enum class ListTypes { Keep, Untyped };
c10::IValue mapTensors(const c10::IValue& v, const std::function<at::Tensor(const at::Tensor&)>& fn,
                       ListTypes lists = ListTypes::Keep);

// Batches along the first dimension (the sweep's batch axis, the load's dynamic batching):
// the first dimension every tensor in `values` shares; -1 when they hold no tensor; -2 when a tensor has
// none (0-d) or two disagree, and `why` says which. `names`, where given, names each value in `why`.
int64_t sharedFirstDimension(const std::vector<c10::IValue>& values, std::string& why,
                             const std::vector<std::string>& names = {});
// `v` with each tensor's first dimension made `batch`: its first rows, or its rows repeated in turn.
c10::IValue resizedAlongFirst(const c10::IValue& v, int64_t batch);

c10::ScalarType scalarType(const std::string& dtype); // canonical or alias name
std::string dtypeName(c10::ScalarType type);

// A quantized engine as PyTorch names it: "x86", "fbgemm", "onednn", "qnnpack", "none".
std::string quantizedEngineName(c10::QEngine engine);
// Quantized models pack their weights for the process's engine as they load: with none set, sets the
// first this LibTorch has of x86, fbgemm, onednn and qnnpack.
void ensureQuantizedEngine();

} // namespace twb::detail
