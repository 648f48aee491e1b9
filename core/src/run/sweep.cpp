// Sweeps: the grid, racing in successive-halving rounds within a time budget, batch resizing, concurrent
// streams on one prepared module, the correctness gate, the Pareto front and the recommendation.
//
// Streams share one prepared module. A TorchScript module in eval mode is read-only while forward runs:
// the graph executor builds its execution plan once, under its own lock, and every call runs the plan
// with a stack of its own. LibTorch's C++ inference servers run one module from many threads the same
// way, and a test holds every stream's outputs to the single-stream ones.
#include "twb/sweep.h"

#include "sweep_internal.h"

#include "harness.h"
#include "torch_bridge.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/format.h"
#include "twb/generate.h"
#include "twb/input_spec.h"
#include "twb/runtime.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace twb {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const std::string item =
            text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

int64_t positive(const std::string& key, const std::string& value) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used == value.size() && v > 0 && v <= 1 << 20) return v;
    } catch (const std::exception&) {
    }
    throw Error("sweep: " + key + " takes positive whole numbers, not '" + value + "'");
}

// Every k-th sample in time order, at most `most`: the bootstrap behind a comparison costs its samples'
// count per resample, and a 5 µs model measured for seconds has hundreds of thousands.
std::vector<double> thinned(const std::vector<double>& v, std::size_t most = 4000) {
    if (v.size() <= most) return v;
    std::vector<double> out;
    const double step = double(v.size()) / double(most);
    for (std::size_t i = 0; i < most; ++i)
        out.push_back(v[std::size_t(double(i) * step)]);
    return out;
}

// Per-item time of each request: what throughput comparisons rank.
std::vector<double> perItem(const SweepPoint& p) {
    std::vector<double> v;
    const double div = double(std::max<int64_t>(1, p.items)) * std::max(1, p.streams);
    for (double s : thinned(p.samplesNs))
        v.push_back(s / div);
    return v;
}

double score(const SweepPoint& p, SweepObjective objective, double bestMedian, double bestThroughput) {
    switch (objective) {
    case SweepObjective::Latency:
        return -p.stats.median;
    case SweepObjective::Throughput:
        return p.throughput;
    case SweepObjective::Balanced:
        return (bestMedian > 0 ? bestMedian / p.stats.median : 0) +
               (bestThroughput > 0 ? p.throughput / bestThroughput : 0);
    }
    return 0;
}

// ---------------------------------------------------------------- batch resizing
// The first dimension all of a value's tensors share; -1 when it has no tensors, -2 (and why) when they
// have none or disagree.
int64_t firstDimension(const Value& v, std::string& why, const std::string& argument) {
    int64_t batch = -1;
    for (const Leaf& leaf : v.leaves(argument.empty() ? "input" : argument)) {
        if (leaf.summary.shape.empty()) {
            why = "'" + leaf.path + "' has no batch dimension (a 0-d tensor)";
            return -2;
        }
        if (batch >= 0 && leaf.summary.shape[0] != batch) {
            why = "the inputs disagree on their first dimension (" + std::to_string(batch) + " and " +
                  std::to_string(leaf.summary.shape[0]) + ")";
            return -2;
        }
        batch = leaf.summary.shape[0];
    }
    return batch;
}

Value resizedValue(const Value& v, int64_t batch) {
    const c10::IValue out = detail::mapTensors(detail::unwrap(v), [&](const at::Tensor& t) {
        const int64_t n = t.size(0);
        if (batch <= n) return t.narrow(0, 0, batch).clone();
        return t.index_select(0, at::arange(batch, at::kLong).remainder(n)); // repeated along dimension 0
    });
    return detail::wrap(out);
}

struct Batched {
    bool ok = false;
    std::string why;
    InputBinding binding;
    Value reference;
    bool hasReference = false;
    std::string referenceError;
};

} // namespace

SweepAxis SweepAxis::parse(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size())
        throw Error("sweep: an axis is KEY=V1,V2,… (e.g. threads=1,2), not '" + text + "'");
    SweepAxis a;
    a.key = text.substr(0, eq);
    a.values = splitList(text.substr(eq + 1));
    if (a.values.empty()) throw Error("sweep: the axis '" + a.key + "' has no values");
    for (const auto& v : a.values) {
        if (a.key == "batch" || a.key == "streams")
            positive(a.key, v);
        else {
            RunConfig probe;
            probe.set(a.key, v); // names the key or value it refuses
        }
    }
    return a;
}

std::string objectiveName(SweepObjective objective) {
    switch (objective) {
    case SweepObjective::Latency:
        return "latency";
    case SweepObjective::Throughput:
        return "throughput";
    case SweepObjective::Balanced:
        return "balanced";
    }
    return "latency";
}

SweepObjective parseObjective(const std::string& text) {
    if (text == "latency") return SweepObjective::Latency;
    if (text == "throughput") return SweepObjective::Throughput;
    if (text == "balanced") return SweepObjective::Balanced;
    throw Error("sweep: the objective is latency, throughput or balanced, not '" + text + "'");
}

std::string pointStatusName(PointStatus status) {
    switch (status) {
    case PointStatus::Measured:
        return "measured";
    case PointStatus::Skipped:
        return "skipped";
    case PointStatus::Eliminated:
        return "eliminated";
    case PointStatus::Failed:
        return "failed";
    case PointStatus::NotReached:
        return "not reached";
    }
    return "";
}

std::vector<SweepAxis> defaultAxes(int hardwareThreads) {
    std::vector<SweepAxis> axes{{"jit", {"off", "freeze", "optimize"}}};
    std::vector<std::string> threads{"1"};
    if (hardwareThreads > 1) threads.push_back(std::to_string(hardwareThreads));
    axes.push_back({"threads", threads});
    if (hardwareThreads > 1) axes.push_back({"streams", {"1", "2"}});
    return axes;
}

std::vector<SweepPoint> expandGrid(const std::vector<SweepAxis>& axes, const RunConfig& base,
                                   int hardwareThreads, bool cudaAvailable) {
    std::vector<SweepPoint> points;
    std::vector<std::size_t> at(axes.size(), 0);
    for (const auto& a : axes)
        if (a.values.empty()) return points;
    while (true) {
        SweepPoint p;
        p.config = base;
        std::string reason;
        for (std::size_t i = 0; i < axes.size(); ++i) {
            const std::string& key = axes[i].key;
            const std::string& value = axes[i].values[at[i]];
            p.id += (p.id.empty() ? "" : ",") + key + "=" + value;
            try {
                if (key == "batch")
                    p.batch = positive(key, value);
                else if (key == "streams")
                    p.streams = int(positive(key, value));
                else
                    p.config.set(key, value);
            } catch (const Error& e) {
                if (reason.empty()) reason = e.what();
            }
        }
        const int threads = p.config.threads > 0 ? p.config.threads : hardwareThreads;
        const bool cuda = p.config.device.rfind("cuda", 0) == 0;
        if (reason.empty() && cuda && !cudaAvailable) reason = "CUDA is not available here";
        if (reason.empty() && cuda && p.streams > 1) reason = "streams are measured on the CPU only";
        if (reason.empty() && threads * p.streams > hardwareThreads)
            reason = std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " × " +
                     std::to_string(p.streams) + " streams is above this machine's " +
                     std::to_string(hardwareThreads) + " hardware threads";
        if (reason.empty()) {
            try {
                validateConfig(p.config);
            } catch (const Error& e) {
                reason = e.what();
            }
        }
        p.config.name = p.id;
        if (!reason.empty()) {
            p.status = PointStatus::Skipped;
            p.reason = reason;
        }
        points.push_back(p);
        std::size_t i = axes.size();
        while (i > 0) {
            --i;
            if (++at[i] < axes[i].values.size()) break;
            at[i] = 0;
            if (i == 0) return points;
        }
        if (axes.empty()) return points;
    }
}

std::vector<int> paretoFront(const std::vector<SweepPoint>& points, bool withMemory) {
    std::vector<int> front;
    auto counts = [](const SweepPoint& p) { return p.status == PointStatus::Measured && p.stats.count > 0; };
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& a = points[i];
        if (!counts(a)) continue;
        bool dominated = false;
        for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
            const auto& b = points[j];
            if (i == j || !counts(b)) continue;
            // Unknown memory (concurrent streams are not measured for it) beats nothing and loses to
            // everything.
            auto memory = [](const SweepPoint& p) {
                return p.peakRssBytes < 0 ? std::numeric_limits<int64_t>::max() : p.peakRssBytes;
            };
            const bool noWorse = b.stats.median <= a.stats.median && b.throughput >= a.throughput &&
                                 (!withMemory || memory(b) <= memory(a));
            const bool better = b.stats.median < a.stats.median || b.throughput > a.throughput ||
                                (withMemory && memory(b) < memory(a));
            dominated = noWorse && better;
        }
        if (!dominated) front.push_back(int(i));
    }
    return front;
}

bool clearlyWorse(const SweepPoint& c, const SweepPoint& best, SweepObjective objective) {
    if (c.stats.count == 0 || best.stats.count == 0) return false;
    // A short first round drifts more than its interval says (a point measured while the machine was
    // busier): besides the intervals apart, a loser must be 25% worse to go.
    constexpr double kMargin = 1.25;
    const bool slower =
        c.stats.medianCiLow > best.stats.medianCiHigh && c.stats.median > kMargin * best.stats.median;
    // Throughput's interval follows from the median's: items per second scale with 1 / median.
    auto tpLow = [](const SweepPoint& p) {
        return p.stats.medianCiHigh > 0 ? p.throughput * p.stats.median / p.stats.medianCiHigh : 0;
    };
    auto tpHigh = [](const SweepPoint& p) {
        return p.stats.medianCiLow > 0 ? p.throughput * p.stats.median / p.stats.medianCiLow : 0;
    };
    const bool lessThroughput = tpHigh(c) < tpLow(best) && c.throughput * kMargin < best.throughput;
    switch (objective) {
    case SweepObjective::Latency:
        return slower;
    case SweepObjective::Throughput:
        return lessThroughput;
    case SweepObjective::Balanced:
        return slower && lessThroughput;
    }
    return false;
}

namespace {
// "cpu · jit optimize · 1 thread · batch 8 · 2 streams"
std::string describe(const SweepPoint& p) {
    RunConfig c = p.config;
    c.name.clear();
    std::string label = p.reference ? p.referenceName + " (" + c.label() + ")" : c.label();
    if (p.batch > 0) label += " · batch " + std::to_string(p.batch);
    if (p.streams > 1) label += " · " + std::to_string(p.streams) + " streams";
    return label;
}
} // namespace

void recommend(SweepResult& r) {
    r.recommended = r.runnerUp = -1;
    r.recommendation.clear();
    r.applyFlags.clear();
    std::vector<int> eligible;
    double bestMedian = 0, bestThroughput = 0;
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        const auto& p = r.points[i];
        if (p.status != PointStatus::Measured || p.stats.count == 0 || !p.outputsChecked || !p.outputsOk)
            continue;
        if (r.objective == SweepObjective::Throughput && r.maxLatencyMs > 0 &&
            p.stats.percentile(99) > r.maxLatencyMs * 1e6)
            continue;
        eligible.push_back(int(i));
        bestMedian = bestMedian == 0 ? p.stats.median : std::min(bestMedian, p.stats.median);
        bestThroughput = std::max(bestThroughput, p.throughput);
    }
    if (eligible.empty()) {
        r.recommendation =
            "No configuration can be recommended: none was measured with outputs that match the "
            "model as saved" +
            std::string(r.maxLatencyMs > 0 ? " and a p99 under the latency limit" : "") + ".";
        return;
    }
    std::stable_sort(eligible.begin(), eligible.end(), [&](int a, int b) {
        return score(r.points[std::size_t(a)], r.objective, bestMedian, bestThroughput) >
               score(r.points[std::size_t(b)], r.objective, bestMedian, bestThroughput);
    });
    r.recommended = eligible[0];
    if (eligible.size() > 1) r.runnerUp = eligible[1];
    const SweepPoint& w = r.points[std::size_t(r.recommended)];
    const bool latency = r.objective == SweepObjective::Latency;
    auto samplesOf = [&](const SweepPoint& p) { return latency ? thinned(p.samplesNs) : perItem(p); };
    auto against = [&](SweepReference kind, const char* name, LatencyComparison& into) -> std::string {
        for (const auto& p : r.points)
            if (p.referenceKind == kind && p.stats.count > 0) {
                into = compareLatency(samplesOf(p), samplesOf(w), p.id, w.id);
                if (&p == &w) return std::string(); // its label already names it
                const double s = into.speedup;
                return formatFixed(s >= 1 ? s : 1 / s, 1) + "× " +
                       (s >= 1 ? "faster than " : "slower than ") + name + ", 95% CI " +
                       formatFixed(s >= 1 ? into.ciLow : 1 / into.ciHigh, 2) + "–" +
                       formatFixed(s >= 1 ? into.ciHigh : 1 / into.ciLow, 2);
            }
        return std::string("no measurement of ") + name;
    };
    const std::string label = describe(w);
    std::string s;
    if (r.objective == SweepObjective::Latency)
        s = "Fastest for latency: " + label + ", " + formatDuration(w.stats.median);
    else if (r.objective == SweepObjective::Throughput)
        s = "Highest throughput: " + label + ", " + formatFixed(w.throughput, 1) + " items/s (p99 " +
            formatDuration(w.stats.percentile(99)) + ")";
    else
        s = "Best balance of latency and throughput: " + label + ", " + formatDuration(w.stats.median) +
            " and " + formatFixed(w.throughput, 1) + " items/s";
    std::string vs;
    for (const std::string& part :
         {against(SweepReference::LibTorchDefault, "LibTorch's default", r.vsLibtorchDefault),
          against(SweepReference::WorkbenchDefault, "the workbench's default", r.vsWorkbenchDefault)})
        if (!part.empty()) vs += (vs.empty() ? "" : "; ") + part;
    s += " (" + vs + "); outputs allclose";
    if (w.config.reducedPrecision())
        s += " at atol " + formatFixed(w.atol, 4) + ", rtol " + formatFixed(w.rtol, 4);
    s += ".";
    if (r.runnerUp >= 0) {
        const SweepPoint& u = r.points[std::size_t(r.runnerUp)];
        r.vsRunnerUp = compareLatency(samplesOf(u), samplesOf(w), u.id, w.id);
        if (!r.vsRunnerUp.significant)
            s += " It is not significantly better than the runner-up, " + describe(u) + " (" +
                 formatFixed(r.vsRunnerUp.speedup, 2) + "×, 95% CI " + formatFixed(r.vsRunnerUp.ciLow, 2) +
                 "–" + formatFixed(r.vsRunnerUp.ciHigh, 2) + ").";
    }
    r.recommendation = s;
    const RunConfig& c = w.config;
    r.applyFlags = "--device " + c.device + " --jit " + jitModeName(c.jit) + " --threads " +
                   std::to_string(c.threads) + " --dtype " + c.dtype + " --grad " + gradModeName(c.grad);
    if (w.batch > 0) r.applyFlags += "   (inputs at batch " + std::to_string(w.batch) + ")";
    if (w.streams > 1) r.applyFlags += "   (" + std::to_string(w.streams) + " concurrent streams)";
}

namespace {

// A sweep measured in this process: the grid and the two references, then successive halving over the
// budget (everything briefly, then the survivors longer, then the rest of it), then the front and the
// recommendation. One method a step.
class InProcessSweep {
public:
    InProcessSweep(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                   const SweepOptions& options, const SweepCallbacks& callbacks,
                   const std::atomic<bool>* stop)
        : m_model(model)
        , m_inputs(inputs)
        , m_options(options)
        , m_callbacks(callbacks)
        , m_stop(stop)
        , m_start(Clock::now())
        , m_given(readInputs(inputs, read)) {
        for (const auto& g : m_given) {
            std::string why;
            const int64_t d = firstDimension(g.value, why, g.argument);
            if (d > 0) {
                m_givenBatch = d;
                break;
            }
        }
    }

    SweepResult run() {
        grid();
        const double budget = std::max(0.5, m_options.budgetSeconds);
        for (int round = 0; round < 3 && !stopped(); ++round) {
            const std::vector<int> active = live(round);
            if (active.empty() || budget - since(m_start) <= 0) break;
            measureRound(round, active, budget);
            if (round == 2) break;
            eliminate(round, active);
        }
        return finish();
    }

private:
    bool stopped() const { return m_cancelled || (m_stop && m_stop->load()); }

    // The grid, then the two references, measured in every round.
    void grid() {
        const ThreadSettings threads = threadSettings();
        const int hardware = std::max(1, threads.hardware);
        m_r.objective = m_options.objective;
        m_r.maxLatencyMs = m_options.maxLatencyMs;
        m_r.budgetSeconds = m_options.budgetSeconds;
        m_r.axes = m_options.axes.empty() ? defaultAxes(hardware) : m_options.axes;
        m_r.points = expandGrid(m_r.axes, m_options.base, hardware, buildInfo().cudaAvailable);
        for (const SweepReference kind :
             {SweepReference::LibTorchDefault, SweepReference::WorkbenchDefault}) {
            const char* name =
                kind == SweepReference::LibTorchDefault ? "LibTorch's default" : "the workbench's default";
            SweepPoint p;
            p.reference = true;
            p.referenceKind = kind;
            p.referenceName = name;
            p.config = RunConfig();
            p.config.threads =
                kind == SweepReference::LibTorchDefault ? std::max(1, threads.libtorchDefault) : hardware;
            p.config.warmup = m_options.base.warmup;
            p.id = p.config.name = name;
            m_r.points.push_back(p);
        }
    }

    // The points a round measures: in the first, all; after it, the measured ones whose outputs held.
    std::vector<int> live(int round) const {
        std::vector<int> active;
        for (std::size_t i = 0; i < m_r.points.size(); ++i) {
            const auto& p = m_r.points[i];
            const bool live = round == 0 ? p.status == PointStatus::NotReached
                                         : p.status == PointStatus::Measured &&
                                               (p.reference || !p.outputsChecked || p.outputsOk);
            if (live) active.push_back(int(i));
        }
        return active;
    }

    // The inputs at a batch size, and the model as saved run once at that size: the outputs' reference.
    Batched& batched(int64_t batch) {
        auto it = m_batches.find(batch);
        if (it != m_batches.end()) return it->second;
        Batched& b = m_batches[batch];
        std::vector<ProvidedInput> provided = m_given;
        if (batch > 0) {
            std::string why;
            int64_t first = -1;
            for (const auto& p : provided) {
                const int64_t d = firstDimension(p.value, why, p.argument);
                if (d == -2) {
                    b.why = "inputs cannot take the batch axis: " + why;
                    return b;
                }
                if (first >= 0 && d >= 0 && d != first) {
                    b.why =
                        "inputs cannot take the batch axis: the inputs disagree on their first dimension (" +
                        std::to_string(first) + " and " + std::to_string(d) + ")";
                    return b;
                }
                if (d >= 0) first = d;
            }
            for (std::size_t i = 0; i < provided.size(); ++i) {
                std::string none;
                if (firstDimension(provided[i].value, none, provided[i].argument) == -1)
                    continue; // no tensors
                if (i < m_inputs.size() && m_inputs[i].isGenerated()) {
                    GeneratorSpec g = GeneratorSpec::parse(m_inputs[i].generator);
                    g.shape[0] = batch; // regenerated at the new batch, same seed
                    provided[i].value = generate(g);
                    provided[i].source = "generated " + g.toString();
                } else {
                    provided[i].value = resizedValue(provided[i].value, batch);
                    provided[i].source += " (batch " + std::to_string(batch) + ")";
                }
            }
        }
        b.binding = m_model.bindInputs(provided);
        if (!b.binding.ok) {
            b.why = b.binding.error;
            return b;
        }
        RunConfig saved;
        saved.threads = m_options.base.threads;
        const RunResult ref = runOnce(m_model, b.binding, saved);
        if (ref.record.ok) {
            b.reference = ref.output;
            b.hasReference = true;
        } else {
            b.referenceError = ref.record.error;
        }
        b.ok = true;
        return b;
    }

    // One round: its share of the budget spread over its points, less what each costs beyond its
    // measurement (preparation, warm-up, the outputs' check), as measured so far.
    void measureRound(int round, const std::vector<int>& active, double budget) {
        static constexpr double shares[] = {0.3, 0.3, 1.0};
        const double left = budget - since(m_start);
        const double roundEnd = since(m_start) + (round == 2 ? left : std::min(left, shares[round] * budget));
        for (std::size_t k = 0; k < active.size() && !stopped(); ++k) {
            SweepPoint& p = m_r.points[std::size_t(active[k])];
            const double pointsLeft = double(active.size() - k);
            const double perPoint = std::clamp((roundEnd - since(m_start)) / pointsLeft - m_overhead, 0.05,
                                               round == 2 ? 1e9 : 5.0);
            // A point that cannot finish inside the budget is not started (a measured one keeps its figures).
            if (since(m_start) + perPoint + m_overhead > budget * 1.02 && !(round == 0 && p.reference)) {
                if (round == 0) {
                    p.status = PointStatus::NotReached;
                    p.reason = "the time budget was spent before it was measured";
                }
                continue;
            }
            const auto t0 = Clock::now();
            measure(p, perPoint, round, int(k), int(active.size()));
            const double extra = std::max(0.0, since(t0) - perPoint);
            m_overhead = m_measuredPoints == 0 ? extra : 0.7 * m_overhead + 0.3 * extra;
            ++m_measuredPoints;
            if (m_callbacks.pointFinished) m_callbacks.pointFinished(p);
        }
    }

    // Calls from `streams` threads at once on one prepared module for `seconds`: every call's latency,
    // and the wall time they took together.
    static detail::AfterMeasure concurrently(int streams, double seconds, std::vector<double>& samples,
                                             double& wall) {
        return [streams, seconds, &samples, &wall](detail::PreparedForward& f, RunRecord&) {
            std::mutex lock;
            std::vector<std::thread> workers;
            std::atomic<bool> go{false};
            const int intra = at::get_num_threads();
            Clock::time_point begin;
            for (int s = 0; s < streams; ++s)
                workers.emplace_back([&] {
                    at::set_num_threads(intra);
                    std::vector<double> mine;
                    f.inMode([&] {
                        for (int w = 0; w < 3; ++w)
                            f.callConcurrently();
                        while (!go.load())
                            std::this_thread::yield();
                        const auto deadline = begin + std::chrono::duration<double>(seconds);
                        while (Clock::now() < deadline && !f.stopRequested())
                            mine.push_back(f.callConcurrently());
                    });
                    std::lock_guard<std::mutex> hold(lock);
                    samples.insert(samples.end(), mine.begin(), mine.end());
                });
            begin = Clock::now();
            go = true;
            for (auto& w : workers)
                w.join();
            wall = std::chrono::duration<double>(Clock::now() - begin).count();
        };
    }

    // Measures a point for `seconds` more and folds the samples into its figures; its outputs are held
    // against the model as saved the first time.
    void measure(SweepPoint& p, double seconds, int round, int index, int count) {
        Batched& b = batched(p.batch);
        if (!b.ok) {
            p.status = PointStatus::Skipped;
            p.reason = b.why;
            return;
        }
        RunConfig c = p.config;
        c.seconds = seconds;
        c.iterations = 0;
        if (c.warmup < 0) c.warmup = 3; // the profiling executor's calls 1 and 2, and one more
        const int64_t items = p.batch > 0 ? p.batch : m_givenBatch;
        ProgressFn progress = [&](const Progress&) {
            if (!m_callbacks.progress) return !stopped();
            SweepProgress sp;
            sp.point = index;
            sp.points = count;
            sp.round = round;
            sp.label = p.id;
            sp.elapsedSeconds = since(m_start);
            sp.fraction = std::min(1.0, sp.elapsedSeconds / std::max(1e-9, m_options.budgetSeconds));
            sp.remainingSeconds = std::max(0.0, m_options.budgetSeconds - sp.elapsedSeconds);
            if (!m_callbacks.progress(sp)) m_cancelled = true;
            return !stopped();
        };
        RunResult result;
        double wall = 0;
        std::vector<double> samples;
        if (p.streams <= 1) {
            result = runConfiguration(m_model, b.binding, c, progress, m_stop);
            samples = result.record.samplesNs;
        } else {
            result = detail::runConfiguration(m_model, b.binding, c, progress, m_stop, false,
                                              concurrently(p.streams, seconds, samples, wall));
        }
        const auto requests = int64_t(samples.size());
        if (!result.record.ok) {
            p.status = PointStatus::Failed;
            p.reason = result.record.error;
            return;
        }
        p.items = items;
        p.samplesNs.insert(p.samplesNs.end(), samples.begin(), samples.end());
        ++p.rounds;
        if (p.samplesNs.empty()) {
            p.status = PointStatus::Failed;
            p.reason =
                result.record.cancelled ? "cancelled before a call was measured" : "no call was measured";
            return;
        }
        p.stats = computeStats(p.samplesNs, c.percentiles);
        if (p.streams <= 1)
            p.throughput = p.stats.median > 0 ? double(items) * 1e9 / p.stats.median : 0;
        else if (wall > 0)
            p.throughput = double(requests) * double(items) / wall; // this round's: all streams together
        p.peakRssBytes = std::max(p.peakRssBytes, result.record.peakRssBytes);
        p.status = PointStatus::Measured;
        if (!p.outputsChecked) checkOutputs(p, b, result.output);
    }

    void checkOutputs(SweepPoint& p, const Batched& b, const Value& output) const {
        const bool loosened = !m_options.tolerancesGiven && p.config.reducedPrecision();
        p.atol = loosened ? 1e-2 : m_options.tolerance.atol;
        p.rtol = loosened ? 1e-2 : m_options.tolerance.rtol;
        if (!b.hasReference) {
            p.reason = "the model as saved failed at this batch: " + b.referenceError;
            return;
        }
        CompareOptions t = m_options.tolerance;
        t.atol = p.atol;
        t.rtol = p.rtol;
        p.outputs = compareOutputs(b.reference, output, t);
        p.outputsOk = p.outputs.allclose;
        p.outputsChecked = true;
    }

    // The best point with good outputs this round, by the objective; -1 when none.
    int best(const std::vector<int>& active) const {
        auto good = [&](const SweepPoint& p) {
            return p.status == PointStatus::Measured && (!p.outputsChecked || p.outputsOk);
        };
        double bm = 0, bt = 0; // the best median and throughput, for the balanced score
        if (m_r.objective == SweepObjective::Balanced)
            for (int i : active) {
                const auto& p = m_r.points[std::size_t(i)];
                if (p.status != PointStatus::Measured) continue;
                bm = bm == 0 ? p.stats.median : std::min(bm, p.stats.median);
                bt = std::max(bt, p.throughput);
            }
        int best = -1;
        for (int i : active) {
            const auto& p = m_r.points[std::size_t(i)];
            if (good(p) && (best < 0 || score(p, m_r.objective, bm, bt) >
                                            score(m_r.points[std::size_t(best)], m_r.objective, bm, bt)))
                best = i;
        }
        return best;
    }

    // What is clearly worse than the round's best point leaves the sweep.
    void eliminate(int round, const std::vector<int>& active) {
        const int b = best(active);
        if (b < 0) return;
        const SweepPoint& winner = m_r.points[std::size_t(b)];
        for (int i : active) {
            SweepPoint& p = m_r.points[std::size_t(i)];
            if (i == b || p.reference || p.status != PointStatus::Measured) continue;
            if (clearlyWorse(p, winner, m_r.objective)) {
                p.status = PointStatus::Eliminated;
                p.reason =
                    "clearly " +
                    std::string(m_r.objective == SweepObjective::Throughput ? "below" : "slower than") + " " +
                    winner.id + " after round " + std::to_string(round + 1);
                if (m_callbacks.pointFinished) m_callbacks.pointFinished(p);
            }
        }
    }

    SweepResult finish() {
        for (auto& p : m_r.points)
            if (p.status == PointStatus::NotReached && p.reason.empty())
                p.reason = stopped() ? "the sweep was cancelled first"
                                     : "the time budget was spent before it was measured";
        m_r.cancelled = stopped();
        m_r.frontWithMemory = m_options.frontWithMemory;
        for (int i : paretoFront(m_r.points, m_options.frontWithMemory))
            m_r.points[std::size_t(i)].onFront = true;
        recommend(m_r);
        m_r.elapsedSeconds = since(m_start);
        setThreads(m_options.base.threads);
        return std::move(m_r);
    }

    const Model& m_model;
    const std::vector<InputSpec>& m_inputs;
    const SweepOptions& m_options;
    const SweepCallbacks& m_callbacks;
    const std::atomic<bool>* m_stop;
    const Clock::time_point m_start;
    const std::vector<ProvidedInput> m_given;
    int64_t m_givenBatch = 1; // the inputs' own batch: the items of a point at the batch as given
    std::map<int64_t, Batched> m_batches;
    SweepResult m_r;
    bool m_cancelled = false;
    double m_overhead = 0.05; // seconds a point costs beyond its measurement, a running estimate
    int m_measuredPoints = 0;
};

} // namespace

SweepResult detail::sweepInProcess(const Model& model, const std::vector<InputSpec>& inputs,
                                   const ReadOptions& read, const SweepOptions& options,
                                   const SweepCallbacks& callbacks, const std::atomic<bool>* stop) {
    return InProcessSweep(model, inputs, read, options, callbacks, stop).run();
}

} // namespace twb
