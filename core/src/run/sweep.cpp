// Sweeps as they run in a worker: racing the grid in successive-halving rounds within a time budget, batch
// resizing, concurrent streams on one prepared module, and the correctness gate. The grid, the Pareto front
// and the recommendation are sweep_rules.cpp's.
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

struct Batched {
    bool ok = false;
    std::string why;
    InputBinding binding;
    Value reference;
    bool hasReference = false;
    std::string referenceError;
};

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
            const int64_t d = detail::sharedFirstDimension({detail::unwrap(g.value)}, why);
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
            std::vector<c10::IValue> values;
            std::vector<std::string> names;
            for (const auto& p : provided) {
                values.push_back(detail::unwrap(p.value));
                names.push_back(p.argument.empty() ? "input" : p.argument);
            }
            std::string why;
            if (detail::sharedFirstDimension(values, why, names) == -2) {
                b.why = "inputs cannot take the batch axis: " + why;
                return b;
            }
            for (std::size_t i = 0; i < provided.size(); ++i) {
                std::string none;
                if (detail::sharedFirstDimension({values[i]}, none) == -1) continue; // no tensors
                if (i < m_inputs.size() && m_inputs[i].isGenerated()) {
                    GeneratorSpec g = GeneratorSpec::parse(m_inputs[i].generator);
                    g.shape[0] = batch; // regenerated at the new batch, same seed
                    provided[i].value = generate(g);
                    provided[i].source = "generated " + g.toString();
                } else {
                    provided[i].value = detail::wrap(detail::resizedAlongFirst(values[i], batch));
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
            if (good(p) && (best < 0 ||
                            detail::objectiveScore(p, m_r.objective, bm, bt) >
                                detail::objectiveScore(m_r.points[std::size_t(best)], m_r.objective, bm, bt)))
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
