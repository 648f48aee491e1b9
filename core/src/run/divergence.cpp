#include "twb/divergence.h"

#include "divergence_internal.h"
#include "graph_internal.h"
#include "harness.h"
#include "json_values.h"
#include "model_access.h"
#include "observe.h"
#include "protocol.h"
#include "report_json.h"
#include "torch_bridge.h"
#include "worker_client.h"

#include "twb/error.h"
#include "twb/format.h"
#include "twb/plan.h"
#include "twb/target.h"

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace twb {
namespace {

using detail::ExtractedGraph;
using nlohmann::ordered_json;

// What a recorded tensor is compared as: dense, on the CPU, dequantized.
at::Tensor comparable(const at::Tensor& t) {
    at::Tensor d = t;
    if (d.is_quantized()) d = d.dequantize();
    if (d.is_mkldnn() || d.is_sparse()) d = d.to_dense();
    return d.detach().to(at::kCPU);
}

// A recorded value, named as nodes are matched: the module, the source line, the operator, which of
// the node's outputs, and how many such came before it.
struct Point {
    int value = -1, node = -1, output = 0;
    std::string key; // scope | location | kind | output
    int occurrence = 0;
};

// Each value must be a node's output: a worker's announcement is checked before it is used.
std::vector<Point> pointsOf(const ModelGraph& g, const std::vector<int>& values, const char* side) {
    std::vector<Point> out;
    std::map<std::string, int> seen;
    for (int v : values) {
        const int producer =
            v >= 0 && std::size_t(v) < g.values.size() ? g.values[std::size_t(v)].producer : -1;
        if (producer < 0 || std::size_t(producer) >= g.nodes.size())
            throw Error(std::string(side) + "'s record names value " + std::to_string(v) +
                        ", which no node of its graph computes");
        Point p;
        p.value = v;
        p.node = producer;
        const GraphNode& n = g.nodes[std::size_t(p.node)];
        p.output = int(std::find(n.outputs.begin(), n.outputs.end(), v) - n.outputs.begin());
        p.key = n.scope + "|" + n.location + "|" + n.kind + "|" + std::to_string(p.output);
        p.occurrence = seen[p.key]++;
        out.push_back(p);
    }
    return out;
}

// An error figure in words: where one side holds infinities or NaN the other lacks, that is the error.
std::string errorText(const NodeDivergence& n, double figure) {
    if (n.infA != n.infB)
        return "inf (" + std::to_string(n.infB) + " infinities in B, " + std::to_string(n.infA) + " in A)";
    if (n.nanA != n.nanB)
        return "NaN (" + std::to_string(n.nanB) + " in B, " + std::to_string(n.nanA) + " in A)";
    return formatGeneral(figure);
}

LeafComparison compareTensors(const at::Tensor& a, const at::Tensor& b, const CompareOptions& tolerance) {
    const OutputComparison c = compareOutputs(detail::wrap(a), detail::wrap(b), tolerance);
    return c.leaves.empty() ? LeafComparison{} : c.leaves.front();
}

// How a tensor of the second configuration that no node of the first computed under its name may still
// be one the first computed: rewritten (freeze folds a batch norm into the convolution before it,
// optimize_for_inference fuses the convolution and its ReLU into one node) within the stretch between
// the nodes both graphs share. The candidates are the first's tensors in that stretch of its shape.
struct Candidates {
    int exact = -1;          // the first configuration's point of the same name
    std::vector<int> others; // points of the first with no counterpart of their name in the second
};

class Divergence {
public:
    Divergence(const Model& model, const RunConfig& a, const RunConfig& b, const DivergeOptions& options,
               DivergenceReport& r)
        : m_model(model)
        , m_r(r) {
        m_r.a = a;
        m_r.b = b;
        m_r.labelA = a.label();
        m_r.labelB = b.label();
        m_r.tolerance = options.tolerance;
        if (!options.toleranceGiven && (a.reducedPrecision() || b.reducedPrecision()))
            m_r.tolerance.atol = m_r.tolerance.rtol = 1e-2; // rounding to 8 or 11 bits alone exceeds 1e-5
        m_top = options.top;
    }

    // The first configuration: every tensor kept. `owned`: the tensors arrive as copies already (from
    // a worker), not as the model's own, which it may change in place later.
    void beginA(const ModelGraph& graph, const std::vector<int>& values) {
        m_graphA = graph;
        m_pointsA = pointsOf(m_graphA, values, "A");
        m_kept.assign(m_graphA.values.size(), at::Tensor());
        m_wantedA = wanted(m_graphA, values);
    }
    void keepA(int v, const at::Tensor& raw, const std::string& dtype, bool owned) {
        if (v < 0 || std::size_t(v) >= m_wantedA.size() || !m_wantedA[std::size_t(v)])
            throw Error("the first configuration sent a tensor for a value it did not announce (" +
                        std::to_string(v) + ")");
        GraphValue& value = m_graphA.values[std::size_t(v)];
        value.shape = raw.sizes().vec();
        value.dtype = dtype;
        const at::Tensor t = comparable(raw);
        m_kept[std::size_t(v)] = owned ? t : t.clone();
    }
    void endA() {
        // A branch not taken computed nothing: only what was computed is held against the second.
        m_pointsA.erase(
            std::remove_if(m_pointsA.begin(), m_pointsA.end(),
                           [&](const Point& p) { return !m_kept[std::size_t(p.value)].defined(); }),
            m_pointsA.end());
        for (const Point& p : m_pointsA) {
            NodeDivergence n;
            const GraphNode& node = m_graphA.nodes[std::size_t(p.node)];
            n.node = p.node;
            n.output = p.output;
            n.kind = node.kind;
            n.location = node.location;
            n.scope = node.scope;
            n.match = "not computed by the second configuration (folded or fused into another node)";
            const at::Tensor& t = m_kept[std::size_t(p.value)];
            if (t.defined()) {
                n.shape = t.sizes().vec();
                n.dtypeA = m_graphA.values[std::size_t(p.value)].dtype;
            }
            m_r.nodes.push_back(n);
        }
        m_r.recordedA = int(m_pointsA.size());
        m_r.graphA = m_graphA;
    }

    // The second configuration: each tensor compared as it is computed, then dropped.
    void beginB(const ModelGraph& graph, const std::vector<int>& values) {
        m_graphB = graph;
        const std::vector<Point> points = pointsOf(m_graphB, values, "B");
        m_wantedB = wanted(m_graphB, values);
        m_r.recordedB = 0; // counted as they arrive: a branch not taken sends none
        std::map<std::pair<std::string, int>, int> byName; // the first's points by key and occurrence
        for (std::size_t i = 0; i < m_pointsA.size(); ++i)
            byName[{m_pointsA[i].key, m_pointsA[i].occurrence}] = int(i);
        std::vector<int> exact(points.size(), -1);
        std::vector<bool> named(m_pointsA.size(), false);
        for (std::size_t j = 0; j < points.size(); ++j)
            if (auto it = byName.find({points[j].key, points[j].occurrence}); it != byName.end()) {
                exact[j] = it->second;
                named[std::size_t(it->second)] = true;
            }
        // Each point of the second: its namesake, and the unnamed points of the first between the shared
        // points around it.
        m_candidates.clear();
        // The shared point after each of the second's, found in one pass from the end.
        std::vector<int> after(points.size() + 1, int(m_pointsA.size()));
        for (std::size_t j = points.size(); j-- > 0;)
            after[j] = exact[j] >= 0 ? exact[j] : after[j + 1];
        int before = -1;
        for (std::size_t j = 0; j < points.size(); ++j) {
            Candidates& c = m_candidates[points[j].value];
            c.exact = exact[j];
            for (int i = before + 1; i < after[j + 1] && c.others.size() < 16; ++i)
                if (!named[std::size_t(i)]) c.others.push_back(i);
            if (exact[j] >= 0) before = exact[j];
        }
        m_r.unmatchedB.clear();
    }
    void compareB(int v, const at::Tensor& raw, const std::string& dtype) {
        if (v < 0 || std::size_t(v) >= m_wantedB.size() || !m_wantedB[std::size_t(v)])
            throw Error("the second configuration sent a tensor for a value it did not announce (" +
                        std::to_string(v) + ")");
        const GraphNode& node = m_graphB.nodes[std::size_t(m_graphB.values[std::size_t(v)].producer)];
        ++m_r.recordedB;
        const at::Tensor t = comparable(raw);
        const Candidates& c = m_candidates[v];
        // The namesake when it is within the tolerance; else the closest of the same shape that is; else the
        // namesake, parted.
        int best = -1;
        LeafComparison bestFigures;
        auto consider = [&](int i) {
            const at::Tensor& a = m_kept[std::size_t(m_pointsA[std::size_t(i)].value)];
            if (!a.defined() || a.sizes() != t.sizes()) return;
            const LeafComparison figures = compareTensors(a, t, m_r.tolerance);
            // A tensor matched by its shape alone is the same one only where it agrees: one that does not is
            // no counterpart (unrelated tensors of one shape between the shared nodes), not a divergence.
            if (i != c.exact && !figures.allclose) return;
            const bool better =
                best < 0 || (figures.allclose && !bestFigures.allclose) ||
                (figures.allclose == bestFigures.allclose && figures.maxAbs < bestFigures.maxAbs);
            if (better) {
                best = i;
                bestFigures = figures;
            }
        };
        if (c.exact >= 0) consider(c.exact);
        if (best < 0 || !bestFigures.allclose)
            for (int i : c.others)
                consider(i);
        if (best < 0) {
            m_r.unmatchedB.push_back(node.kind + (node.location.empty() ? "" : " (" + node.location + ")"));
            return;
        }
        NodeDivergence& n = m_r.nodes[std::size_t(best)];
        if (n.matched && !(bestFigures.allclose && !n.within)) return; // one counterpart is enough
        n.matched = true;
        n.match =
            best == c.exact ? "same node" : "rewritten: the closest tensor of its shape between shared nodes";
        n.matchedAs = node.kind == n.kind ? "" : node.kind;
        n.dtypeB = dtype;
        n.maxAbs = bestFigures.maxAbs;
        n.maxRel = bestFigures.maxRel;
        n.cosine = bestFigures.cosine;
        n.mismatchedShare =
            bestFigures.numel > 0 ? double(bestFigures.mismatches) / double(bestFigures.numel) : 0;
        n.nanA = bestFigures.nanA;
        n.nanB = bestFigures.nanB;
        n.infA = bestFigures.infA;
        n.infB = bestFigures.infB;
        n.within = bestFigures.allclose;
    }

    // Both in this process, from the prepared forwards.
    void recordA(detail::PreparedForward& f) {
        ExtractedGraph a = detail::extractGraph(f.module(), &detail::ModelAccess::module(m_model));
        const std::vector<int> values = detail::observableValues(a);
        beginA(a.graph, values);
        detail::observe(f, a, values, [&](int v, const at::Tensor& t) {
            keepA(v, t, detail::dtypeName(t.scalar_type()), false);
        });
        endA();
    }
    void compareB(detail::PreparedForward& f) {
        ExtractedGraph b = detail::extractGraph(f.module(), &detail::ModelAccess::module(m_model));
        const std::vector<int> values = detail::observableValues(b);
        beginB(b.graph, values);
        detail::observe(f, b, values, [&](int v, const at::Tensor& t) {
            compareB(v, t, detail::dtypeName(t.scalar_type()));
        });
    }

    void conclude(const Value& outputA, const Value& outputB) {
        m_r.outputs = compareOutputs(outputA, outputB, m_r.tolerance);
        std::vector<int> order;
        for (std::size_t i = 0; i < m_r.nodes.size(); ++i) {
            const auto& n = m_r.nodes[i];
            m_r.matched += n.matched;
            if (n.matched && !n.within && m_r.firstDivergent < 0) m_r.firstDivergent = int(i);
            if (n.matched) order.push_back(int(i));
        }
        // Outside the tolerance first; then infinities or NaN the other side lacks, as the largest of
        // errors; then the relative error; then the share of elements outside.
        auto severity = [&](int i) {
            const auto& n = m_r.nodes[std::size_t(i)];
            const bool special = n.infA != n.infB || n.nanA != n.nanB || std::isnan(n.maxRel);
            return std::make_tuple(!n.within, special ? HUGE_VAL : n.maxRel, n.mismatchedShare);
        };
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return severity(x) > severity(y); });
        if (order.size() > std::size_t(std::max(0, m_top))) order.resize(std::size_t(std::max(0, m_top)));
        m_r.largest = order;
        const std::string both = "'" + m_r.labelA + "' and '" + m_r.labelB + "'";
        if (m_r.firstDivergent >= 0) {
            const auto& n = m_r.nodes[std::size_t(m_r.firstDivergent)];
            m_r.summary = both + " part at " + n.kind + (n.location.empty() ? "" : " (" + n.location + ")") +
                          (n.scope.empty() ? "" : " in " + n.scope) + ": max |a−b| " +
                          errorText(n, n.maxAbs) + ", " + formatPercent(n.mismatchedShare, 1) +
                          " of its elements outside atol " + formatGeneral(m_r.tolerance.atol) + " + rtol " +
                          formatGeneral(m_r.tolerance.rtol) + "·|a|" +
                          (n.infB > n.infA ? " (overflow: infinities in the second)" : "") +
                          (n.nanB > n.nanA ? " (NaN in the second)" : "") + ".";
        } else if (m_r.matched == 0) {
            // Nothing to hold them against: say why, and leave the verdict to the outputs.
            m_r.summary =
                (m_r.recordedA == 0 && m_r.recordedB == 0
                     ? "No intermediate tensor of " + both + " was recorded"
                     : "None of the tensors recorded (" + std::to_string(m_r.recordedA) + " in A, " +
                           std::to_string(m_r.recordedB) + " in B) could be matched between " + both) +
                (m_r.outputs.allclose ? "; the outputs are allclose." : "; the outputs are not allclose.");
        } else {
            m_r.summary =
                both + " agree: every one of the " + std::to_string(m_r.matched) +
                " tensors both computed is within atol " + formatGeneral(m_r.tolerance.atol) + " + rtol " +
                formatGeneral(m_r.tolerance.rtol) + "·|a|" +
                (m_r.outputs.allclose ? ", and so are the outputs." : "; the outputs are not allclose.");
        }
    }

    void release() { m_kept.clear(); }

private:
    // The values a side announced, by index: what it sends must be one of them.
    static std::vector<bool> wanted(const ModelGraph& g, const std::vector<int>& values) {
        std::vector<bool> out(g.values.size(), false);
        for (int v : values)
            out[std::size_t(v)] = true;
        return out;
    }

    const Model& m_model;
    DivergenceReport& m_r;
    int m_top = 5;
    ModelGraph m_graphA, m_graphB;
    std::vector<Point> m_pointsA;
    std::vector<at::Tensor> m_kept; // the first configuration's tensors, by value
    std::vector<bool> m_wantedA, m_wantedB;
    std::map<int, Candidates> m_candidates; // by value in B
};

DivergenceReport header(const Model& model, const std::vector<InputSpec>& inputs,
                        const InputBinding& binding) {
    DivergenceReport r;
    const Report h = reportFor(model, inputs, binding);
    r.environment = h.environment;
    r.model = h.model;
    r.inputs = h.inputs;
    return r;
}

void refusePackages(const Model& model) {
    if (detail::ModelAccess::package(model))
        throw Error(model.info().path + ": an AOTInductor package holds compiled code, not a graph whose "
                                        "intermediate tensors can be recorded; compare its outputs with "
                                        "torchwb run --reference instead");
}

// A configuration that failed: nothing is compared, and the summary says which and why.
DivergenceReport& failed(DivergenceReport& r, bool first, const std::string& why) {
    (first ? r.errorA : r.errorB) = why;
    r.summary = "'" + (first ? r.labelA : r.labelB) + "' failed: " + why;
    return r;
}

} // namespace

DivergenceReport diverge(const Model& model, const std::vector<InputSpec>& inputs,
                         const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                         const DivergeOptions& options, const ProgressFn& progress,
                         const std::atomic<bool>* stop) {
    refusePackages(model);
    DivergenceReport r = header(model, inputs, binding);
    Divergence d(model, a, b, options, r);
    // The phases, named by side: a worker that dies says in which configuration.
    auto side = [&progress](const char* name) -> ProgressFn {
        return [&progress, name](const Progress& p) {
            if (!progress) return true;
            Progress named = p;
            named.phase = std::string(name) + ": " + p.phase;
            return progress(named);
        };
    };
    const RunResult ra =
        detail::runConfiguration(model, binding, a, side("A"), stop, false,
                                 [&](detail::PreparedForward& f, RunRecord&) { d.recordA(f); });
    if (!ra.record.ok) return failed(r, true, ra.record.error);
    const RunResult rb =
        detail::runConfiguration(model, binding, b, side("B"), stop, false,
                                 [&](detail::PreparedForward& f, RunRecord&) { d.compareB(f); });
    d.release();
    if (!rb.record.ok) return failed(r, false, rb.record.error);
    d.conclude(ra.output, rb.output);
    return r;
}

DivergenceReport divergeInWorker(const Model& model, const std::vector<InputSpec>& inputs,
                                 const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                 const DivergeOptions& options, const WorkerOptions& worker,
                                 const std::atomic<bool>* stop) {
    refusePackages(model);
    const std::function<bool()> keepGoing = [stop] { return !stop || !stop->load(); };
    DivergenceReport r = header(model, inputs, binding);
    r.a = a;
    r.b = b;
    r.labelA = a.label();
    r.labelB = b.label();
    try {
        detail::WorkerProcess w(worker);
        w.hello(keepGoing);
        detail::Frame f = w.request(detail::loadFrame(model, &binding), "A: load",
                                    worker.firstCallTimeoutSeconds, keepGoing);
        if (f.type() == "error")
            return failed(r, true, f.header.value("message", std::string("the load failed")));
        // Each side prepares, calls the model twice and compares: as long as four first calls may take.
        f = w.request({{{"type", "diverge"},
                        {"a", a.toSpec()},
                        {"b", b.toSpec()},
                        {"atol", options.tolerance.atol},
                        {"rtol", options.tolerance.rtol},
                        {"tolerance_given", options.toleranceGiven},
                        {"top", options.top}},
                       {}},
                      "A: first call", 4 * worker.firstCallTimeoutSeconds, keepGoing);
        if (f.type() == "error") {
            const std::string message =
                f.header.value("message", std::string("the worker reported an error"));
            return failed(r, w.phase().rfind("B:", 0) != 0, message);
        }
        DivergenceReport back =
            divergenceFromJson(f.header.at("report").dump(), "the worker's divergence report");
        back.model = r.model; // as this side names them: the worker may have been sent copies
        back.inputs = r.inputs;
        w.close();
        return back;
    } catch (const detail::WorkerFailure& e) {
        std::string why = e.what();
        if (!e.fix.empty()) why += "; " + e.fix;
        if (!e.stderrTail.empty()) why += "\n" + e.stderrTail;
        return failed(r, e.phase.rfind("B:", 0) != 0, why);
    }
}

namespace detail {

RunResult recordConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                              const ProgressFn& progress, const std::atomic<bool>* stop,
                              const RecordedGraphFn& graph, const RecordedTensorFn& tensor) {
    refusePackages(model);
    return runConfiguration(
        model, binding, config, progress, stop, false, [&](PreparedForward& f, RunRecord&) {
            ExtractedGraph g = extractGraph(f.module(), &ModelAccess::module(model));
            const std::vector<int> values = observableValues(g);
            graph(g.graph, values);
            observe(f, g, values, [&](int v, const at::Tensor& t) {
                // A view travels alone, not with the storage it looks into.
                at::Tensor c = comparable(t);
                if (!c.is_contiguous() || c.storage_offset() != 0 || c.storage().nbytes() != c.nbytes())
                    c = c.clone(at::MemoryFormat::Contiguous);
                tensor(v, c, dtypeName(t.scalar_type()));
            });
        });
}

} // namespace detail

namespace {

// One side of a divergence across workers: the configuration recorded in its own worker, each tensor
// handed to `graph` and `tensor` as it arrives. "" when it ran; else why not.
std::string recordInWorker(const Model& model, const InputBinding& binding, const RunConfig& config,
                           const WorkerOptions& worker, const std::function<bool()>& keepGoing,
                           const detail::RecordedGraphFn& graph, const detail::RecordedTensorFn& tensor,
                           Value& output) {
    using detail::Frame;
    try {
        detail::WorkerProcess w(worker);
        w.hello(keepGoing);
        Frame f =
            w.request(detail::loadFrame(model, &binding), "load", worker.firstCallTimeoutSeconds, keepGoing);
        if (f.type() == "error") return f.header.value("message", std::string("the load failed"));
        f = w.request({{{"type", "record"}, {"config", config.toSpec()}}, {}}, "first call",
                      worker.firstCallTimeoutSeconds, keepGoing);
        // Each tensor is answered before the worker goes on: no more than one is ever on its way.
        for (;; f = w.request({{{"type", "record_next"}}, {}}, std::string(w.phase()),
                              worker.firstCallTimeoutSeconds, keepGoing)) {
            if (f.type() == "record_graph")
                graph(detail::graphFromJson(f.header.at("graph")),
                      f.header.at("values").get<std::vector<int>>());
            else if (f.type() == "record_tensor")
                tensor(f.header.at("value").get<int>(),
                       detail::unwrap(detail::valueFromBytes(f.payload, "a recorded tensor")).toTensor(),
                       f.header.value("dtype", std::string()));
            else
                break;
        }
        if (f.type() == "error")
            return f.header.value("message", std::string("the worker reported an error"));
        if (f.type() != "recorded") return "the worker answered '" + f.type() + "' to a record";
        const RunRecord record = detail::runFromJson(f.header.at("record"));
        if (!record.ok) return record.error;
        output = f.payload.empty() ? Value() : detail::valueFromBytes(f.payload, "the worker's output");
        w.close();
        return {};
    } catch (const detail::WorkerFailure& e) {
        std::string why = e.what();
        if (!e.fix.empty()) why += "; " + e.fix;
        if (!e.stderrTail.empty()) why += "\n" + e.stderrTail;
        return why;
    } catch (const nlohmann::ordered_json::exception& e) {
        return std::string("the worker's record is damaged (") + e.what() + ")";
    } catch (const std::exception& e) {
        return e.what();
    }
}

} // namespace

DivergenceReport divergeAcrossWorkers(const Model& model, const std::vector<InputSpec>& inputs,
                                      const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                      const DivergeOptions& options, const WorkerOptions& workerA,
                                      const WorkerOptions& workerB, const std::atomic<bool>* stop) {
    refusePackages(model);
    const std::function<bool()> keepGoing = [stop] { return !stop || !stop->load(); };
    DivergenceReport r = header(model, inputs, binding);
    Divergence d(model, a, b, options, r);
    Value outputA, outputB;
    const std::string whyA = recordInWorker(
        model, binding, a, workerA, keepGoing,
        [&](const ModelGraph& g, const std::vector<int>& values) { d.beginA(g, values); },
        [&](int v, const at::Tensor& t, const std::string& dtype) { d.keepA(v, t, dtype, true); }, outputA);
    if (!whyA.empty()) return failed(r, true, whyA);
    d.endA();
    const std::string whyB = recordInWorker(
        model, binding, b, workerB, keepGoing,
        [&](const ModelGraph& g, const std::vector<int>& values) { d.beginB(g, values); },
        [&](int v, const at::Tensor& t, const std::string& dtype) { d.compareB(v, t, dtype); }, outputB);
    d.release();
    if (!whyB.empty()) return failed(r, false, whyB);
    d.conclude(outputA, outputB);
    return r;
}

DivergenceReport divergeOnTargets(const Model& model, const std::vector<InputSpec>& inputs,
                                  const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                  const DivergeOptions& options, const std::string& targetA,
                                  const std::string& targetB, const WorkerOptions& base,
                                  const std::atomic<bool>* stop) {
    auto workerFor = [&base](const std::string& where) {
        return where.empty() ? base : Target::parse(where).workerOptions(base);
    };
    const WorkerOptions workerA = workerFor(targetA), workerB = workerFor(targetB);
    auto name = [](const std::string& where) {
        return where.empty() ? std::string("local") : Target::parse(where).name();
    };
    if (name(targetA) == name(targetB))
        return divergeInWorker(model, inputs, binding, a, b, options, workerA, stop);
    return divergeAcrossWorkers(model, inputs, binding, a, b, options, workerA, workerB, stop);
}

std::string divergenceText(const DivergenceReport& r) {
    std::ostringstream out;
    out << "A: " << r.labelA << "\nB: " << r.labelB << "\n";
    if (!r.errorA.empty() || !r.errorB.empty()) {
        out << r.summary << "\n";
        return out.str();
    }
    out << r.recordedA << " tensors recorded in A, " << r.recordedB << " in B; " << r.matched << " matched";
    if (!r.unmatchedB.empty()) out << "; " << r.unmatchedB.size() << " of B's matched none";
    out << "\n\nLargest errors:\n";
    for (int i : r.largest) {
        const NodeDivergence& n = r.nodes[std::size_t(i)];
        out << "  " << n.kind << (n.matchedAs.empty() ? "" : " (as " + n.matchedAs + ")") << "  "
            << (n.location.empty() ? "?" : n.location) << (n.scope.empty() ? "" : "  in " + n.scope)
            << "\n      "
            << (n.infA != n.infB || n.nanA != n.nanB
                    ? errorText(n, 0)
                    : "max |a−b| " + formatGeneral(n.maxAbs) + ", max rel " + formatGeneral(n.maxRel))
            << ", cosine " << formatGeneral(n.cosine, 6) << ", outside "
            << formatPercent(n.mismatchedShare, 1) << (n.within ? "" : "  NOT within") << "\n";
    }
    if (!r.unmatchedB.empty()) {
        out << "\nNot matched in B:";
        for (std::size_t i = 0; i < r.unmatchedB.size() && i < 10; ++i)
            out << (i ? ", " : " ") << r.unmatchedB[i];
        out << (r.unmatchedB.size() > 10 ? ", …" : "") << "\n";
    }
    out << "\nOutputs: " << r.outputs.summary << "\n";
    if (r.firstDivergent >= 0) {
        const NodeDivergence& n = r.nodes[std::size_t(r.firstDivergent)];
        out << "First divergence: " << n.kind << (n.matchedAs.empty() ? "" : " (as " + n.matchedAs + " in B)")
            << " at " << (n.location.empty() ? "an unknown line" : n.location)
            << (n.scope.empty() ? " in the model itself" : " in " + n.scope) << "\n";
    }
    out << r.summary << "\n";
    return out.str();
}

std::string divergenceToJson(const DivergenceReport& r, int indent) {
    ordered_json j{{"schema", "torch-workbench-divergence"},
                   {"schema_version", DivergenceReport::kSchemaVersion}};
    j["environment"] = detail::environmentToJson(r.environment);
    j["model"] = detail::modelRefToJson(r.model);
    j["inputs"] = detail::inputRefsToJson(r.inputs);
    j["a"] = {{"config", r.a.toSpec()}, {"label", r.labelA}, {"error", r.errorA}};
    j["b"] = {{"config", r.b.toSpec()}, {"label", r.labelB}, {"error", r.errorB}};
    j["atol"] = r.tolerance.atol;
    j["rtol"] = r.tolerance.rtol;
    j["recorded_a"] = r.recordedA;
    j["recorded_b"] = r.recordedB;
    j["matched"] = r.matched;
    j["first_divergent"] = r.firstDivergent;
    j["largest"] = r.largest;
    j["unmatched_b"] = r.unmatchedB;
    j["summary"] = r.summary;
    j["outputs"] = detail::outputComparisonObject(r.outputs);
    ordered_json nodes = ordered_json::array();
    for (const auto& n : r.nodes)
        nodes.push_back({{"node", n.node},
                         {"output", n.output},
                         {"kind", n.kind},
                         {"location", n.location},
                         {"scope", n.scope},
                         {"matched", n.matched},
                         {"matched_as", n.matchedAs},
                         {"match", n.match},
                         {"shape", n.shape},
                         {"dtype_a", n.dtypeA},
                         {"dtype_b", n.dtypeB},
                         {"max_abs", detail::finiteOrNull(n.maxAbs)},
                         {"max_rel", detail::finiteOrNull(n.maxRel)},
                         {"cosine", detail::finiteOrNull(n.cosine)},
                         {"mismatched_share", detail::finiteOrNull(n.mismatchedShare)},
                         {"nan", {n.nanA, n.nanB}},
                         {"inf", {n.infA, n.infB}},
                         {"within", n.within}});
    j["nodes"] = nodes;
    j["graph_a"] = detail::graphToJson(r.graphA);
    return j.dump(indent);
}

DivergenceReport divergenceFromJson(const std::string& text, const std::string& source) {
    DivergenceReport r;
    try {
        const ordered_json j = ordered_json::parse(text);
        if (!j.is_object() || j.value("schema", std::string()) != "torch-workbench-divergence")
            throw Error(source + ": not a Torch Workbench divergence report");
        if (j.value("schema_version", 0) > DivergenceReport::kSchemaVersion)
            throw Error(source + ": divergence report schema version " +
                        std::to_string(j.value("schema_version", 0)) + " is from a newer torchwb");
        auto number = [](const ordered_json& o, const char* key, double fallback) {
            return o.contains(key) && o.at(key).is_number() ? o.at(key).get<double>()
                   : o.contains(key)                        ? std::nan("")
                                                            : fallback;
        };
        if (j.contains("environment")) r.environment = detail::environmentFromJson(j.at("environment"));
        if (j.contains("model")) r.model = detail::modelRefFromJson(j.at("model"));
        if (j.contains("inputs")) r.inputs = detail::inputRefsFromJson(j.at("inputs"));
        r.a = RunConfig::parse(j.at("a").value("config", std::string()));
        r.b = RunConfig::parse(j.at("b").value("config", std::string()));
        r.labelA = j.at("a").value("label", std::string());
        r.labelB = j.at("b").value("label", std::string());
        r.errorA = j.at("a").value("error", std::string());
        r.errorB = j.at("b").value("error", std::string());
        r.tolerance.atol = j.value("atol", 1e-5);
        r.tolerance.rtol = j.value("rtol", 1e-5);
        r.recordedA = j.value("recorded_a", 0);
        r.recordedB = j.value("recorded_b", 0);
        r.matched = j.value("matched", 0);
        r.firstDivergent = j.value("first_divergent", -1);
        r.largest = j.value("largest", std::vector<int>());
        r.unmatchedB = j.value("unmatched_b", std::vector<std::string>());
        r.summary = j.value("summary", std::string());
        if (j.contains("outputs")) r.outputs = detail::outputComparisonFromJson(j.at("outputs"));
        for (const auto& o : j.value("nodes", ordered_json::array())) {
            NodeDivergence n;
            n.node = o.value("node", -1);
            n.output = o.value("output", 0);
            n.kind = o.value("kind", std::string());
            n.location = o.value("location", std::string());
            n.scope = o.value("scope", std::string());
            n.matched = o.value("matched", false);
            n.matchedAs = o.value("matched_as", std::string());
            n.match = o.value("match", std::string());
            n.shape = o.value("shape", std::vector<int64_t>());
            n.dtypeA = o.value("dtype_a", std::string());
            n.dtypeB = o.value("dtype_b", std::string());
            n.maxAbs = number(o, "max_abs", 0);
            n.maxRel = number(o, "max_rel", 0);
            n.cosine = number(o, "cosine", 1);
            n.mismatchedShare = number(o, "mismatched_share", 0);
            if (o.contains("nan") && o.at("nan").size() == 2)
                n.nanA = o.at("nan")[0], n.nanB = o.at("nan")[1];
            if (o.contains("inf") && o.at("inf").size() == 2)
                n.infA = o.at("inf")[0], n.infB = o.at("inf")[1];
            n.within = o.value("within", true);
            r.nodes.push_back(n);
        }
        if (j.contains("graph_a")) try {
                r.graphA = detail::graphFromJson(j.at("graph_a"));
            } catch (const Error& e) {
                throw Error(source + ": " + e.what());
            }
    } catch (const ordered_json::exception& e) {
        throw Error(source + ": a field of the divergence report is damaged (" + e.what() + ")");
    }
    const int count = int(r.nodes.size());
    auto inRange = [&](int i) { return i >= -1 && i < count; };
    if (!inRange(r.firstDivergent) ||
        !std::all_of(r.largest.begin(), r.largest.end(), [&](int i) { return i >= 0 && i < count; }))
        throw Error(source + ": the divergence report names a node it does not hold");
    const int graphNodes = int(r.graphA.nodes.size());
    if (graphNodes > 0 && !std::all_of(r.nodes.begin(), r.nodes.end(), [&](const NodeDivergence& n) {
            return n.node >= -1 && n.node < graphNodes;
        }))
        throw Error(source + ": the divergence report names a node its graph does not hold");
    return r;
}

} // namespace twb
