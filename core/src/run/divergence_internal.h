// Internal: the recording side of a divergence across workers. A worker runs one configuration once and
// hands out its graph, then every observable tensor as it is computed, so that the tensors can travel to
// the process that compares them one at a time.
#pragma once

#include "twb/bench.h"
#include "twb/graph.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace twb {
class Model;
struct InputBinding;
} // namespace twb

namespace twb::detail {

// The graph as it runs (after freeze or optimize_for_inference) and the values that will be seen, in order.
using RecordedGraphFn = std::function<void(const ModelGraph&, const std::vector<int>&)>;
// A value's tensor, dense and on the CPU (dequantized), with the dtype the model made it in.
using RecordedTensorFn = std::function<void(int, const at::Tensor&, const std::string&)>;

// `config` called once with an observer after each node; what the callbacks throw fails the run.
RunResult recordConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                              const ProgressFn& progress, const std::atomic<bool>* stop,
                              const RecordedGraphFn& graph, const RecordedTensorFn& tensor);

} // namespace twb::detail
