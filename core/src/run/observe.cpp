#include "observe.h"

#include "graph_internal.h"
#include "harness.h"
#include "model_access.h"
#include "torch_bridge.h"

#include "twb/error.h"
#include "twb/model.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/library.h>
#include <torch/script.h>

#include <set>
#include <string>

namespace twb::detail {
namespace {

using Seen = std::function<void(int, const at::Tensor&)>;
thread_local const Seen* t_seen = nullptr; // the forward runs its nodes on the calling thread

void observed(const at::Tensor& x, int64_t value) {
    if (t_seen) (*t_seen)(int(value), x);
}

} // namespace
} // namespace twb::detail

// An operator of the workbench's own, inserted by observe() only: conservative alias analysis marks it as
// having side effects, so no pass removes it or moves a node across it.
TORCH_LIBRARY(twb_observe, m) {
    m.def(torch::schema("value(Tensor x, int id) -> ()", c10::AliasAnalysisKind::CONSERVATIVE),
          &twb::detail::observed);
}

namespace twb::detail {

std::vector<int> observableValues(const ExtractedGraph& graph) {
    // What holds nothing yet when it is made: a value a branch that raises leaves undefined, and memory
    // allocated to be filled in place afterwards (torch.empty_like, then scatter_).
    static const std::set<std::string> kUnfilled = {"prim::Uninitialized", "aten::empty",
                                                    "aten::empty_like",    "aten::empty_strided",
                                                    "aten::new_empty",     "aten::new_empty_strided"};
    std::vector<int> out;
    for (const auto& node : graph.graph.nodes) {
        if (kUnfilled.count(node.kind)) continue;
        for (int v : node.outputs)
            if (graph.values[std::size_t(v)]->type()->isSubtypeOf(*c10::TensorType::get())) out.push_back(v);
    }
    return out;
}

void observe(PreparedForward& f, ExtractedGraph& graph, const std::vector<int>& values, const Seen& seen) {
    torch::jit::Graph& ir = *graph.ir;
    const auto kind = c10::Symbol::fromQualString("twb_observe::value");
    for (int v : values) {
        torch::jit::Value* value = graph.values[std::size_t(v)];
        torch::jit::WithInsertPoint after(value->node()->next()); // right after the node that makes it
        torch::jit::Value* id = ir.insertConstant(int64_t(v));
        ir.insertNode(ir.create(kind, {value, id}, 0));
    }
    torch::jit::GraphFunction observed("twb_observed", graph.ir, nullptr);
    std::vector<c10::IValue> stack;
    stack.push_back(f.module()._ivalue());
    for (const auto& in : f.inputs())
        stack.push_back(in);
    // A loop's tensors are seen at its first iteration only; a branch not taken is not seen at all.
    std::vector<bool> fired(graph.values.size(), false);
    const Seen once = [&](int v, const at::Tensor& t) {
        if (v < 0 || std::size_t(v) >= fired.size() || fired[std::size_t(v)]) return;
        fired[std::size_t(v)] = true;
        seen(v, t);
    };
    struct Scope {
        explicit Scope(const Seen* s) { t_seen = s; }
        ~Scope() { t_seen = nullptr; }
    } scope(&once);
    f.inMode([&] { observed.run(stack); });
}

} // namespace twb::detail

namespace twb {

ModelGraph modelGraph(const Model& model, const InputBinding& binding, const RunConfig& config) {
    if (detail::ModelAccess::package(model))
        throw Error(model.info().path +
                    ": an AOTInductor package holds compiled code, not a TorchScript graph");
    ModelGraph graph;
    const RunResult r = detail::runConfiguration(
        model, binding, config, {}, nullptr, false, [&](detail::PreparedForward& f, RunRecord&) {
            detail::ExtractedGraph g = detail::extractGraph(f.module(), &detail::ModelAccess::module(model));
            detail::observe(f, g, detail::observableValues(g), [&](int v, const at::Tensor& t) {
                GraphValue& value = g.graph.values[std::size_t(v)];
                value.shape = t.sizes().vec();
                value.dtype = detail::dtypeName(t.scalar_type());
            });
            graph = std::move(g.graph);
        });
    if (!r.record.ok) throw Error("the model did not run under " + config.label() + ": " + r.record.error);
    return graph;
}

} // namespace twb
