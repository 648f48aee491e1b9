#include "twb/plan.h"
#include "twb/target.h"

#include "model_access.h"
#include "profiler.h"
#include "protocol.h"
#include "report_json.h"
#include "run_failure.h"
#include "worker_client.h"

#include "twb/error.h"
#include "twb/operator_library.h"
#include "twb/stats.h"
#include "twb/tensor_io.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <random>

namespace twb {
namespace {

using detail::answeredError;
using detail::explainFailure;
using detail::Frame;
using detail::recordFailure;
using detail::recordMalformed;
using detail::WorkerFailure;
using detail::WorkerProcess;
using nlohmann::ordered_json;

// Rounds of separate workers switch processes, whose caches start cold: 0.2 s or more each. In a shared
// worker a switch costs nothing of the kind, and shorter rounds pair the configurations more closely in time.
constexpr double kMinRoundSeconds = 0.2, kMinSharedRoundSeconds = 0.02;
constexpr int kMaxRounds = 5, kMaxSharedRounds = 20;

double roundTimeout(const WorkerOptions& o, double expectedSeconds) {
    return std::max(o.roundTimeoutMinimumSeconds, o.roundTimeoutFactor * expectedSeconds);
}

double medianOf(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return percentileOfSorted(v, 50);
}

// One configuration's state across the plan's processes.
struct Entry {
    RunConfig config;
    std::string modelFile;
    WorkerOptions options; // how its workers start: the plan's, or its configuration's target's
    RunRecord record;
    Value output;
    bool failed = false;
    double roundSeconds = 0;
    // Its worker: its own, or the one every configuration of the process slot shares
    // (Measurement::shareWorkers), in which it is the slot numbered by its index.
    std::shared_ptr<WorkerProcess> worker;
    int roundsDone = 0;
    int parts = 1; // processes × rounds
    // A fixed count of calls is shared out exactly over the rounds: 20 calls in 3 × 2 rounds are 4,4,3,3,3,3.
    int64_t roundIterations(int process, int round, int rounds) const {
        if (config.iterations <= 0) return 0;
        const int k = process * rounds + round;
        return config.iterations / parts + (k < config.iterations % parts ? 1 : 0);
    }
};

class PlanRunner {
public:
    PlanRunner(const Model& model, const InputBinding& binding, const Plan& plan,
               const PlanCallbacks& callbacks, const std::atomic<bool>* stop, Report& report)
        : m_model(model)
        , m_binding(binding)
        , m_plan(plan)
        , m_callbacks(callbacks)
        , m_stop(stop)
        , m_report(report) {}

    // Measures every configuration; entries()[i] holds its record and output.
    void measure() {
        const Measurement& m = m_plan.measurement;
        const int processes = m.processCount();
        setUpEntries(processes);
        std::mt19937_64 rng(m.seed);
        const int rounds = m_rounds;
        m_totalRounds = processes * rounds;
        spawnAhead(processes);
        for (int p = 0; p < processes && !cancelled(); ++p) {
            startWorkers(p);
            for (int r = 0; r < rounds && !cancelled(); ++r) {
                std::vector<std::size_t> order;
                for (std::size_t i = 0; i < m_entries.size(); ++i)
                    if (!m_entries[i].failed) order.push_back(i);
                std::shuffle(order.begin(), order.end(), rng);
                for (std::size_t i : order) {
                    if (cancelled()) break;
                    // A shared worker that died with another configuration is started again for the rest.
                    if (!m_entries[i].worker && !m_entries[i].failed) startWorkers(p);
                    if (m_entries[i].worker) measureRound(m_entries[i], p, r);
                }
                if (!order.empty() && !cancelled()) probe();
            }
            finishWorkers(p);
        }
        for (auto& slot : m_ahead) // workers started for slots that never came (a cancel, failures)
            for (auto& w : slot)
                if (!cancelled()) w->close();
        m_ahead.clear();
        for (auto& e : m_entries) {
            e.worker.reset();
            RunRecord& r = e.record;
            if (cancelled() && r.error.empty()) {
                r.cancelled = true;
                r.ok = !r.samplesNs.empty();
            }
            explainFailure(r, m_plan.measurement.worker);
            summarize(r, processes);
        }
    }

    std::vector<Entry>& entries() { return m_entries; }

    // Profiles each configuration in a worker of its own (one process: a profile is about where the time
    // goes, not about figures that repeat). A profile whose stack capture crashes LibTorch is retried
    // without stacks, and says what it lost.
    void profile() {
        setUpEntries(1);
        const std::string flopsConfig =
            m_plan.configs.empty() ? std::string() : m_plan.configs.front().toSpec();
        for (std::size_t i = 0; i < m_entries.size() && !cancelled(); ++i) {
            Entry& e = m_entries[i];
            ProfileOptions options = m_plan.profileOptions;
            for (int attempt = 0; attempt < 2; ++attempt) {
                e.record = RunRecord();
                e.record.config = e.config;
                e.record.label = e.config.label();
                try {
                    auto worker = startWorker(e, int(i), nullptr);
                    if (!worker) break;
                    ordered_json o{{"calls", options.calls},
                                   {"script_profile", options.scriptProfile},
                                   {"keep_events", options.keepEvents},
                                   {"measure_peak", options.measurePeak},
                                   {"peak_cache_dir", options.peakCacheDir},
                                   {"stacks", options.stacks}};
                    const Frame f =
                        worker->request({{{"type", "profile"},
                                          {"slot", int(i)},
                                          {"config", e.config.toSpec()},
                                          {"options", o},
                                          {"flops_config", flopsConfig}},
                                         {}},
                                        "profiling",
                                        m_plan.measurement.worker.firstCallTimeoutSeconds +
                                            roundTimeout(m_plan.measurement.worker, e.config.seconds * 3),
                                        keepGoing(int(i), "profiling"));
                    worker->close();
                    if (answeredError(f, e.record)) break;
                    takeFinished(e, f, true);
                    m_profiles[i] = detail::profileFromJson(f.header.at("profile"));
                    if (f.header.contains("events"))
                        m_profiles[i].events = detail::eventsFromJson(f.header.at("events"));
                    if (!options.stacks)
                        m_profiles[i].notes.push_back("profiled without TorchScript stacks and module scope: "
                                                      "LibTorch crashed while capturing them (" +
                                                      m_lostStacks +
                                                      "), so there are no source lines or modules");
                    break;
                } catch (const WorkerFailure& f) {
                    recordFailure(e.record, f);
                    const bool crashed = f.signal == SIGSEGV || f.signal == SIGABRT || f.signal == SIGBUS;
                    if (crashed && options.stacks && f.phase == "profiling" && !f.cancelled) {
                        m_lostStacks =
                            "signal " + std::to_string(f.signal) + ", " + detail::signalName(f.signal);
                        options.stacks = false;
                        continue;
                    }
                    break;
                } catch (const std::exception& ex) {
                    recordMalformed(e.record, "profiling", ex);
                    break;
                }
            }
            e.failed = !e.record.ok;
            explainFailure(e.record, m_plan.measurement.worker);
            e.record.measurement = "quick";
            e.record.processes = 1;
            m_profiles[i].run = int(i);
            if (!e.record.ok && m_profiles[i].error.empty()) m_profiles[i].error = e.record.error;
            m_profiles[i].config = e.config;
            m_profiles[i].label = e.record.label;
        }
        for (auto& e : m_entries)
            if (cancelled() && !e.record.ok && e.record.error.empty()) e.record.cancelled = true;
    }

    const std::vector<Profile>& profiles() const { return m_profiles; }

private:
    bool cancelled() const { return m_cancelled || (m_stop && m_stop->load()); }

    // `worker`: the one the exchange is with, whose file transfers to a target show as the phase.
    std::function<bool()> keepGoing(int index, const std::string& phase,
                                    const WorkerProcess* worker = nullptr) {
        return [this, index, phase, worker] {
            if (cancelled()) return false;
            if (m_callbacks.progress) {
                Progress p;
                p.phase = worker ? worker->transfer() : std::string();
                if (p.phase.empty()) p.phase = phase;
                p.fraction = progressFraction(index);
                if (!m_callbacks.progress(index, p)) m_cancelled = true;
            }
            return !cancelled();
        };
    }

    double progressFraction(int index) const {
        if (index < 0 || std::size_t(index) >= m_entries.size() || m_totalRounds <= 0) return 0;
        return std::min(1.0, double(m_entries[std::size_t(index)].roundsDone) / double(m_totalRounds));
    }

    void setUpEntries(int processes) {
        const Measurement& m = m_plan.measurement;
        m_entries.clear();
        m_entries.resize(m_plan.configs.size());
        m_profiles.assign(m_plan.configs.size(), Profile());
        // The rounds per process follow the baseline's budget, so that every configuration has the same
        // rounds to pair with.
        const RunConfig* first = m_plan.configs.empty() ? nullptr : &m_plan.configs.front();
        int rounds = m.rounds;
        if (m.quick)
            rounds = 1;
        else if (rounds <= 0) {
            const bool sharing = m.shareWorkers && m_plan.configs.size() > 1;
            const int most = sharing ? kMaxSharedRounds : kMaxRounds;
            rounds = first && first->iterations <= 0
                         ? std::clamp(int(first->seconds / processes /
                                          (sharing ? kMinSharedRoundSeconds : kMinRoundSeconds)),
                                      1, most)
                         : std::clamp(int(first ? first->iterations / (processes * 4) : 1), 1, most);
        }
        m_rounds = rounds;
        for (std::size_t i = 0; i < m_plan.configs.size(); ++i) {
            Entry& e = m_entries[i];
            e.config = m_plan.configs[i];
            e.modelFile = i < m_plan.modelFiles.size() ? m_plan.modelFiles[i] : std::string();
            e.record.config = e.config;
            e.options = m_plan.measurement.worker;
            try {
                e.record.label = e.config.label();
                if (!e.config.target.empty()) {
                    const Target target = Target::parse(e.config.target);
                    e.options = target.workerOptions(m_plan.measurement.worker);
                    e.record.target = target.name();
                }
            } catch (const Error& err) { // a build that is gone, a target that is not one
                e.record.label = e.config.name.empty() ? e.config.target : e.config.name;
                e.record.ok = false;
                e.record.error = err.what();
                e.failed = true;
            }
            if (e.options.targetName != m_plan.measurement.worker.targetName ||
                e.options.command != m_plan.measurement.worker.command)
                m_oneTarget = false;
            e.parts = processes * rounds;
            if (e.config.iterations <= 0) e.roundSeconds = e.config.seconds / e.parts;
        }
    }

    const Frame& loadFor(const std::string& modelFile) {
        auto it = m_loads.find(modelFile);
        if (it != m_loads.end()) return it->second;
        // Another model is measured with the same inputs, bound to its own forward in the worker, and
        // without the state_dicts loaded into the plan's model.
        Frame load = modelFile.empty() ? detail::loadFrame(m_model, &m_binding)
                                       : detail::loadFrame(modelFile, &m_binding);
        return m_loads.emplace(modelFile, std::move(load)).first->second;
    }

    // Configurations on different targets cannot share a worker: each has its own, their rounds still
    // interleaved.
    bool shared() const { return m_plan.measurement.shareWorkers && m_oneTarget; }

    // Workers cost a LibTorch start each (about 0.3 s): those of every process slot are started together
    // and their hellos read before anything is measured, so that the starts overlap one another rather
    // than add up, and none is still starting while another measures. Until its slot comes a worker
    // waits, idle; none holds a model before then. One that fails here is started again when its slot
    // comes, and that failure is recorded.
    void spawnAhead(int processes) {
        constexpr std::size_t kMostAhead = 16;
        m_ahead.assign(std::size_t(processes), {});
        const std::size_t perSlot = shared() ? 1 : m_entries.size();
        std::size_t started = 0;
        for (int p = 0; p < processes && started < kMostAhead; ++p) {
            for (std::size_t k = 0; k < perSlot && started < kMostAhead; ++k, ++started) {
                try {
                    const WorkerOptions& o = m_entries[k].options;
                    m_ahead[std::size_t(p)].push_back(std::make_shared<WorkerProcess>(o));
                    m_aheadFor[m_ahead[std::size_t(p)].back().get()] = o.targetName;
                } catch (const std::exception&) { // no worker to start: said when its slot comes
                }
            }
        }
        for (auto& slot : m_ahead) {
            for (auto& w : slot) {
                if (cancelled()) return;
                try {
                    w->hello(keepGoing(0, "starting workers"));
                } catch (const std::exception&) {
                    w.reset();
                }
            }
            slot.erase(std::remove(slot.begin(), slot.end(), nullptr), slot.end());
        }
    }

    // A worker for this process slot: one started ahead, else a new one (which may throw WorkerFailure).
    // `options`: the entry's (its target's), which a worker started ahead must have been started with.
    std::shared_ptr<WorkerProcess> spawn(int process, const WorkerOptions& options) {
        if (std::size_t(process) < m_ahead.size()) {
            auto& ahead = m_ahead[std::size_t(process)];
            for (auto it = ahead.rbegin(); it != ahead.rend(); ++it)
                if (m_aheadFor[it->get()] == options.targetName) {
                    auto w = std::move(*it);
                    ahead.erase(std::next(it).base());
                    return w;
                }
        }
        return std::make_shared<WorkerProcess>(options);
    }

    // Runs one request of an entry's setup; false (the record says why, the entry failed) when it did not
    // work. A worker that failed is dropped for every entry that shared it.
    template <typename Fn> bool setUp(Entry& e, const std::string& phase, Fn&& fn) {
        try {
            fn();
            return true;
        } catch (const WorkerFailure& f) {
            recordFailure(e.record, f);
            drop(e.worker);
        } catch (const Error& err) {
            e.record.ok = false;
            e.record.error = err.what();
            e.record.errorDetail = err.detail();
        } catch (const std::exception& ex) {
            recordMalformed(e.record, phase, ex);
            drop(e.worker);
        }
        e.failed = true;
        e.worker.reset();
        return false;
    }

    // A worker that died or can no longer be read: every entry that shared it loses it (and is started
    // again in a fresh one if it has not failed).
    void drop(const std::shared_ptr<WorkerProcess>& worker) {
        if (!worker) return;
        const std::shared_ptr<WorkerProcess> keep = worker;
        m_dropped = keep.get();
        for (auto& o : m_entries)
            if (o.worker == keep) o.worker.reset();
    }

    // Loads the entry's model into `worker` (its slot is its index); false when that failed.
    bool load(Entry& e, int index, const std::shared_ptr<WorkerProcess>& worker) {
        e.worker = worker;
        return setUp(e, "load", [&] {
            Frame frame = loadFor(e.modelFile);
            frame.header["slot"] = index;
            const Frame f = worker->request(frame, "load", m_plan.measurement.worker.firstCallTimeoutSeconds,
                                            keepGoing(index, "loading", worker.get()));
            if (answeredError(f, e.record)) throw Error(e.record.error, e.record.errorDetail);
        });
    }

    // A worker with the entry's model loaded; null (and the record says why) when that failed.
    // `spawned`: one already started, whose hello has not been read.
    std::shared_ptr<WorkerProcess> startWorker(Entry& e, int index, std::shared_ptr<WorkerProcess> spawned) {
        std::shared_ptr<WorkerProcess> worker;
        if (!setUp(e, "start", [&] {
                worker = spawned ? std::move(spawned) : std::make_shared<WorkerProcess>(e.options);
                worker->hello(keepGoing(index, "starting a worker"));
            }))
            return nullptr;
        return load(e, index, worker) ? worker : nullptr;
    }

    // One exchange with an entry's worker. A worker that fails ends the entry with the failure's record
    // (and a shared worker's other entries go on in a fresh one); a model's error (fn returns false, the
    // record says why) ends the entry, its worker closed cleanly unless others still use it.
    template <typename Fn> void exchange(Entry& e, Fn&& fn) {
        const std::string phase = e.worker ? e.worker->phase() : std::string();
        try {
            if (fn()) return;
            if (e.worker.use_count() == 1) e.worker->close();
        } catch (const WorkerFailure& f) {
            recordFailure(e.record, f);
            // How far it got: the rounds before are in the record.
            if (!f.cancelled && e.roundsDone > 0)
                e.record.error += " after " + std::to_string(e.roundsDone) + " of " +
                                  std::to_string(m_totalRounds) + " rounds (those are kept)";
            drop(e.worker);
        } catch (const std::exception& ex) { // an answer that is a frame but not one this client can read
            recordMalformed(e.record, e.worker ? e.worker->phase() : phase, ex);
            drop(e.worker);
        }
        e.failed = true;
        e.worker.reset();
    }

    // Starts the workers of a process slot for every entry that has none and has not failed, loads and
    // prepares each; nothing is measured until all are ready.
    void startWorkers(int process) {
        std::vector<std::size_t> need;
        for (std::size_t i = 0; i < m_entries.size(); ++i)
            if (!m_entries[i].failed && !m_entries[i].worker) need.push_back(i);
        if (need.empty()) return;
        if (shared()) {
            // One worker for all; an entry whose load or preparation kills it has failed, and the rest
            // go on in a fresh worker.
            while (!need.empty() && !cancelled()) {
                std::shared_ptr<WorkerProcess> worker;
                try {
                    worker = spawn(process, m_entries[need.front()].options);
                    worker->hello(keepGoing(int(need.front()), "starting a worker"));
                } catch (const WorkerFailure& f) { // the worker program itself: no configuration can run
                    for (std::size_t i : need) {
                        recordFailure(m_entries[i].record, f);
                        m_entries[i].failed = true;
                    }
                    return;
                } catch (const Error& err) { // no worker program to start
                    for (std::size_t i : need) {
                        m_entries[i].record.ok = false;
                        m_entries[i].record.error = err.what();
                        m_entries[i].failed = true;
                    }
                    return;
                }
                m_dropped = nullptr; // (a new worker may live where the last one that died did)
                for (std::size_t i : need) {
                    if (cancelled()) break;
                    Entry& e = m_entries[i];
                    if (load(e, int(i), worker)) prepare(e, int(i), process);
                    if (m_dropped == worker.get()) break; // it died with this entry: the rest start again
                }
                need.clear();
                for (std::size_t i = 0; i < m_entries.size(); ++i)
                    if (!m_entries[i].failed && !m_entries[i].worker) need.push_back(i);
            }
            return;
        }
        // A worker each, all started at once, so that loading LibTorch in one overlaps the warm-up of
        // another.
        std::vector<std::shared_ptr<WorkerProcess>> spawned(m_entries.size());
        for (std::size_t i : need) {
            try {
                spawned[i] = spawn(process, m_entries[i].options);
            } catch (const std::exception&) {
                // startWorker tries again below and records why it cannot
            }
        }
        for (std::size_t i : need) {
            if (cancelled()) break;
            Entry& e = m_entries[i];
            e.worker = startWorker(e, int(i), std::move(spawned[i]));
            if (e.worker) prepare(e, int(i), process);
        }
    }

    void prepare(Entry& e, int index, int process) {
        exchange(e, [&] {
            const Frame f = e.worker->request(
                {{{"type", "prepare"}, {"slot", index}, {"config", e.config.toSpec()}}, {}}, "preparing",
                m_plan.measurement.worker.firstCallTimeoutSeconds, keepGoing(index, "warm-up"));
            if (answeredError(f, e.record)) return false;
            const RunRecord prepared = detail::runFromJson(f.header.at("record"));
            if (!f.header.value("ok", false)) {
                e.record.ok = false;
                e.record.error = prepared.error;
                e.record.errorDetail = prepared.errorDetail;
                return false;
            }
            RunRecord& r = e.record;
            if (r.warmupNs.empty() || process == 0) {
                r.config = prepared.config;
                r.threadsUsed = prepared.threadsUsed;
                r.libtorchDefaultThreads = prepared.libtorchDefaultThreads;
                r.prepareSeconds = prepared.prepareSeconds;
                r.firstCallNs = prepared.firstCallNs;
                r.warmupNs = prepared.warmupNs;
                r.batchSize = prepared.batchSize;
            }
            m_callEstimateNs[std::size_t(index)] = medianOf(prepared.warmupNs);
            return true;
        });
    }

    void measureRound(Entry& e, int process, int round) {
        const std::size_t index = std::size_t(&e - m_entries.data());
        const int64_t iterations = e.roundIterations(process, round, m_rounds);
        if (e.config.iterations > 0 && iterations == 0) return; // fewer calls than rounds
        const double expected = iterations > 0 ? double(iterations) * m_callEstimateNs[index] * 1e-9
                                               : std::max(e.roundSeconds, 5 * m_callEstimateNs[index] * 1e-9);
        exchange(e, [&] {
            const Frame f = e.worker->request({{{"type", "round"},
                                                {"slot", int(index)},
                                                {"seconds", e.roundSeconds},
                                                {"iterations", iterations}},
                                               {}},
                                              "measuring", roundTimeout(m_plan.measurement.worker, expected),
                                              keepGoing(int(index), "measuring"));
            if (answeredError(f, e.record)) return false;
            const std::vector<double> samples = detail::unpackDoubles(f.payload);
            RunRecord& r = e.record;
            r.rounds.push_back({process, round, int64_t(r.samplesNs.size()), int64_t(samples.size())});
            r.samplesNs.insert(r.samplesNs.end(), samples.begin(), samples.end());
            const auto device = f.header.value("device_ns", std::vector<double>());
            r.deviceNs.insert(r.deviceNs.end(), device.begin(), device.end());
            ++e.roundsDone;
            if (!f.header.value("ok", true)) {
                r.ok = false;
                r.error = f.header.value("error", std::string("a call failed"));
                r.errorDetail = f.header.value("detail", std::string());
                return false;
            }
            if (m_callbacks.progress) {
                Progress p;
                p.phase = "measuring";
                p.fraction = progressFraction(int(index));
                p.iterations = int64_t(r.samplesNs.size());
                if (!m_callbacks.progress(int(index), p)) m_cancelled = true;
            }
            return true;
        });
    }

    void probe() {
        for (auto& e : m_entries) {
            if (!e.worker) continue;
            try {
                const Frame f = e.worker->request({{{"type", "probe"}}, {}}, "probe", 30, {});
                if (f.type() == "probe") {
                    m_report.probe.gemmNs.push_back(f.header.value("gemm_ns", 0.0));
                    m_report.probe.copyNs.push_back(f.header.value("copy_ns", 0.0));
                }
            } catch (const WorkerFailure&) {
                // The probe is a side measurement: a worker that dies here fails at its next round.
            }
            return;
        }
    }

    void takeFinished(Entry& e, const Frame& f, bool withOutput) {
        const RunRecord done = detail::runFromJson(f.header.at("record"));
        RunRecord& r = e.record;
        if (!done.ok) {
            r.ok = false;
            r.error = done.error;
            r.errorDetail = done.errorDetail;
            return;
        }
        r.peakRssBytes = std::max(r.peakRssBytes, done.peakRssBytes);
        r.cudaPeakBytes = std::max(r.cudaPeakBytes, done.cudaPeakBytes);
        if (withOutput) {
            r.outputs = done.outputs;
            if (!f.payload.empty()) e.output = detail::valueFromBytes(f.payload, "the worker's output");
        }
        if (r.samplesNs.empty()) { // a profile: the worker measured in one go
            r = done;
        }
        r.ok = true;
    }

    void finishWorkers(int process) {
        std::vector<std::shared_ptr<WorkerProcess>> done;
        for (std::size_t i = 0; i < m_entries.size(); ++i) {
            Entry& e = m_entries[i];
            if (!e.worker) continue;
            exchange(e, [&] {
                if (!cancelled()) {
                    const Frame f = e.worker->request(
                        {{{"type", "finish"}, {"slot", int(i)}, {"output", process == 0}}, {}}, "finishing",
                        roundTimeout(m_plan.measurement.worker, 1), {});
                    if (answeredError(f, e.record)) return false;
                    takeFinished(e, f, process == 0);
                }
                return true;
            });
            if (e.worker && std::find(done.begin(), done.end(), e.worker) == done.end())
                done.push_back(e.worker);
            e.worker.reset();
        }
        for (auto& w : done)
            w->close();
    }

    void summarize(RunRecord& r, int processes) {
        r.measurement = m_plan.measurement.quick ? "quick" : "interleaved";
        const bool sharing = shared() && m_entries.size() > 1;
        if (sharing) r.measurement += ", shared workers";
        std::vector<int> seen;
        for (const auto& s : r.rounds)
            if (std::find(seen.begin(), seen.end(), s.process) == seen.end()) seen.push_back(s.process);
        r.processes = int(seen.size());
        if (r.samplesNs.empty()) return;
        r.stats = computeRoundStats(r.samplesNs, r.rounds, r.config.percentiles);
        r.warnings = stabilityWarnings(r.stats);
        if (r.stats.median > 0) r.throughput = double(r.batchSize) * 1e9 / r.stats.median;
        if (r.config.warmup >= 0 && r.config.warmup < 3)
            r.warnings.push_back(
                "a warm-up of " + std::to_string(r.config.warmup) +
                " calls is short: TorchScript's profiling executor makes calls 1 and 2 slow");
        if (sharing && r.peakRssBytes > 0)
            r.warnings.push_back("measured in worker processes shared with the plan's other configurations: "
                                 "its peak memory is theirs together");
        if (r.ok && processes > 1 && r.processes < processes)
            r.warnings.push_back("measured in " + std::to_string(r.processes) + " of " +
                                 std::to_string(processes) + " worker processes");
    }

    const Model& m_model;
    const InputBinding& m_binding;
    const Plan& m_plan;
    const PlanCallbacks& m_callbacks;
    const std::atomic<bool>* m_stop;
    Report& m_report;
    std::vector<Entry> m_entries;
    std::vector<Profile> m_profiles;
    std::map<std::string, Frame> m_loads;
    std::map<std::size_t, double> m_callEstimateNs;
    std::vector<std::vector<std::shared_ptr<WorkerProcess>>> m_ahead; // per process slot, started ahead
    const WorkerProcess* m_dropped = nullptr;                         // the worker that failed last
    std::map<const WorkerProcess*, std::string> m_aheadFor; // the target each worker started ahead is for
    bool m_oneTarget = true; // every configuration runs where the plan's workers run
    std::string m_lostStacks;
    int m_rounds = 1, m_totalRounds = 1;
    bool m_cancelled = false;
};

} // namespace

Report reportFor(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding) {
    Report report;
    report.environment = currentEnvironment();
    const ModelInfo& info = model.info();
    report.model.path = info.path;
    report.model.size = info.fileSize;
    report.model.sha256 = fileSha256(info.path);
    report.model.kind = kindName(info.diagnosis.kind);
    report.model.className = info.className;
    report.model.operatorLibraries = loadedOperatorLibraries();
    report.inputs = describeInputs(inputs, binding);
    return report;
}

Report runPlan(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding,
               const Plan& plan, const PlanCallbacks& callbacks, const std::atomic<bool>* stop) {
    Report report = reportFor(model, inputs, binding);

    Value reference;
    const bool withReference = !plan.referenceFile.empty();
    if (withReference) reference = readTensorFile(plan.referenceFile);

    PlanRunner runner(model, binding, plan, callbacks, stop, report);
    if (plan.profile)
        runner.profile();
    else
        runner.measure();

    const int count = int(plan.configs.size());
    const auto& entries = runner.entries();
    for (int i = 0; i < count; ++i) {
        const auto& e = entries[std::size_t(i)];
        // Stopped before it began: nothing to report.
        if (e.record.cancelled && e.record.warmupNs.empty() && e.record.samplesNs.empty() &&
            e.record.error.empty())
            continue;
        PlanStep step;
        step.index = i;
        step.count = count;
        step.record = e.record;
        step.record.config.target =
            plan.configs[std::size_t(i)].target; // workers are not told where they are
        step.output = e.output;
        const RunRecord* base = report.runs.empty() ? nullptr : &report.runs.front();
        if (step.record.ok && (withReference || (i > 0 && base && base->ok))) {
            RunComparison& c = step.comparison;
            c.baseline = 0;
            c.candidate = i;
            if (i > 0 && base && base->ok && !base->samplesNs.empty() && !step.record.samplesNs.empty())
                c.latency = comparePairedRounds(base->samplesNs, base->rounds, step.record.samplesNs,
                                                step.record.rounds, base->label, step.record.label);
            if (!withReference) {
                c.outputs = compareOutputs(entries.front().output, step.output, plan.tolerance);
            } else {
                try { // as torchwb run --reference compares: the leaf a one-tensor reference meets
                    c.outputs = compareWithReference(step.output, reference, plan.tolerance).outputs;
                } catch (const Error& e) {
                    c.outputs = OutputComparison{};
                    c.outputs.options = plan.tolerance;
                    c.outputs.sameStructure = false;
                    c.outputs.summary =
                        "the reference " + plan.referenceFile + " cannot be compared: " + e.what();
                }
            }
            c.hasOutputs = true;
            step.hasComparison = true;
        }
        if (plan.profile) {
            step.profile = runner.profiles()[std::size_t(i)];
            step.hasProfile = true;
        }
        report.runs.push_back(step.record);
        if (step.hasComparison) report.comparisons.push_back(step.comparison);
        if (step.hasProfile) {
            report.profiles.push_back(step.profile);
            report.profiles.back().events.clear(); // reports keep the tables; traces are written apart
        }
        if (callbacks.stepFinished) callbacks.stepFinished(step);
    }
    return report;
}

RunResult runOnceInWorker(const Model& model, const InputBinding& binding, const RunConfig& config,
                          const WorkerOptions& options) {
    RunResult result;
    result.record.config = config;
    result.record.label = config.label();
    try {
        WorkerProcess worker(options);
        worker.hello();
        Frame f = worker.request(detail::loadFrame(model, &binding), "load", options.firstCallTimeoutSeconds);
        if (!answeredError(f, result.record)) {
            f = worker.request({{{"type", "run"}, {"config", config.toSpec()}}, {}}, "first call",
                               options.firstCallTimeoutSeconds);
            if (!answeredError(f, result.record)) {
                result.record = detail::runFromJson(f.header.at("record"));
                if (!f.payload.empty())
                    result.output = detail::valueFromBytes(f.payload, "the worker's output");
            }
        }
        worker.close();
    } catch (const WorkerFailure& f) {
        recordFailure(result.record, f);
    } catch (const std::exception& ex) {
        recordMalformed(result.record, "first call", ex);
    }
    result.record.measurement = "quick";
    explainFailure(result.record, options);
    return result;
}

const RunRecord* matchingRun(const Report& baseline, const RunRecord& run, std::size_t index) {
    for (const auto& b : baseline.runs)
        if (b.label == run.label && b.ok) return &b;
    if (index < baseline.runs.size() && baseline.runs[index].ok) return &baseline.runs[index];
    return nullptr;
}

} // namespace twb
