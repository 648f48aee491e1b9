// Internal: one call of a prepared forward with an observer after each node of a graph extracted from
// it, so that every intermediate tensor is seen as it is computed (Polygraphy's "mark all"), without
// holding them all. Torch types are only declared here.
#pragma once

#include <functional>
#include <vector>

namespace at {
class Tensor;
}

namespace twb::detail {

class PreparedForward;
struct ExtractedGraph;

// The values of `graph` that observe() can see: the tensors its nodes make, those inside loops and branches
// at their place, in graph order (indices into graph.graph.values).
std::vector<int> observableValues(const ExtractedGraph& graph);

// Inserts an observer after each of `values` into graph.ir (which extractGraph copied from f's module),
// then calls it once with f's inputs, in f's mode. `seen(value, tensor)` runs on this thread as each is
// computed, once at most (a loop's first iteration; a branch not taken, never); the tensor may be changed in
// place later by the model, so keep a copy, not the tensor.
void observe(PreparedForward& f, ExtractedGraph& graph, const std::vector<int>& values,
             const std::function<void(int, const at::Tensor&)>& seen);

} // namespace twb::detail
