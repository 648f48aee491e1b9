#include "twb/bench.h"

#include "cuda_support.h"
#include "error_text.h"
#include "harness.h"
#include "model_access.h"
#include "pt2.h"
#include "torch_bridge.h"

#include "twb/error.h"
#include "twb/runtime.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <chrono>
#include <fstream>
#include <optional>

namespace twb {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// Linux: reset the resident-set high-water mark, so VmHWM afterwards is this run's peak.
void resetPeakRss() {
    std::ofstream clear("/proc/self/clear_refs");
    if (clear) clear << "5";
}

int64_t peakRss() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

c10::IValue toDevice(const c10::IValue& v, const c10::Device& device, std::optional<at::ScalarType> dtype) {
    return detail::mapTensors(v, [&](const at::Tensor& t) {
        return (dtype && t.is_floating_point() ? t.to(*dtype) : t).to(device);
    });
}

c10::IValue toCpu(const c10::IValue& v) {
    return toDevice(v, c10::Device(c10::kCPU), std::nullopt);
}

int64_t batchSizeOf(const std::vector<c10::IValue>& stack) {
    for (const auto& v : stack)
        if (v.isTensor()) return v.toTensor().dim() > 0 ? v.toTensor().size(0) : 1;
    return 1;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : percentileOfSorted(v, 50);
}

class Harness final : public detail::PreparedForward {
public:
    Harness(const Model& model, const InputBinding& binding, const RunConfig& config,
            const ProgressFn& progress, const std::atomic<bool>* stop)
        : m_model(model)
        , m_binding(binding)
        , m_config(config)
        , m_progress(progress)
        , m_stop(stop) {}

    double call() override { return call(nullptr); }
    double callConcurrently() override { return callConcurrentlyWith(m_inputs); }
    double callConcurrentlyWith(std::vector<c10::IValue> stack) override {
        const auto t0 = Clock::now();
        c10::IValue out =
            m_package ? detail::ModelAccess::runPackage(m_model, stack) : (*m_method)(std::move(stack));
        if (m_cuda) detail::cudaSynchronize(m_device.index());
        const auto t1 = Clock::now();
        return double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    void inMode(const std::function<void()>& fn) override { withGradMode(fn); }
    const torch::jit::Module& module() const override { return m_module; }
    const std::vector<c10::IValue>& inputs() const override { return m_inputs; }
    bool stopRequested() const override { return m_stop && m_stop->load(std::memory_order_relaxed); }
    bool progress(const Progress& p) override { return report(p); }

    RunResult run(bool measure, const detail::AfterMeasure& after = {},
                  const detail::AfterPrepare& prepared = {}) {
        RunResult result;
        RunRecord& r = result.record;
        r.config = m_config;
        r.label = m_config.label();
        guarded(r, [&] {
            setUp(r);
            if (prepared && !m_package) prepared(m_module);
            measure ? measureLoop(r) : singleCall(r);
            summarize(r);
            if (after && !r.cancelled) after(*this, r);
            result.output = detail::wrap(toCpu(m_lastOutput));
            r.outputs = result.output.leaves("out");
            r.ok = true;
        });
        if (!r.ok && r.error.empty()) r.error = "the run failed";
        summarize(r); // a run that failed or was cancelled keeps the statistics of what it measured
        if (m_config.warmup >= 0 && m_config.warmup < 3 && measure)
            r.warnings.push_back(
                "a warm-up of " + std::to_string(m_config.warmup) +
                " calls is short: TorchScript's profiling executor makes calls 1 and 2 slow");
        return result;
    }

private:
    void summarize(RunRecord& r) const {
        if (r.samplesNs.empty() || r.stats.count == int64_t(r.samplesNs.size())) return;
        r.stats = computeStats(r.samplesNs, m_config.percentiles);
        r.warnings = stabilityWarnings(r.stats);
        if (r.stats.median > 0) r.throughput = double(r.batchSize) * 1e9 / r.stats.median;
    }

    std::string hint() const {
        return m_config.dtype == "as_saved" ? detail::ModelAccess::dtypeHint(m_model, m_binding)
                                            : std::string();
    }

    void prepare() {
        m_device = c10::Device(m_config.device == "cuda" ? std::string("cuda:0") : m_config.device);
        std::optional<at::ScalarType> dtype;
        if (m_config.dtype != "as_saved") dtype = detail::scalarType(m_config.dtype);
        // Only a dtype or device change needs a copy of its own (freeze and optimize_for_inference clone
        // anyway). A needless deep copy also moved the weights: measured process against process, that
        // made the 6 µs MLP land in a 1.5× slower state far more often than a plain loop does.
        if (const detail::Pt2Model* package = detail::ModelAccess::package(m_model)) {
            // Compiled ahead of time: nothing to freeze, no precision to change, one target device.
            if (m_config.jit != JitMode::Off)
                throw Error(
                    "JIT modes do not apply to an AOTInductor package: torch.export compiled it ahead of "
                    "time; run it with jit=off");
            if (dtype)
                throw Error(
                    "the precision of an AOTInductor package is fixed when it is compiled: run it with "
                    "dtype=as_saved, or compile it again at " +
                    m_config.dtype);
            if (m_device.type() != (package->device.rfind("cuda", 0) == 0 ? c10::kCUDA : c10::kCPU))
                throw Error("the package was compiled for " + package->device + ", not " + m_config.device);
            m_inputs = detail::ModelAccess::forwardStack(m_model, m_binding);
            detail::ModelAccess::runPackage(m_model, m_inputs); // loads it: the compiled code runs from here
            m_package = true;
            m_cuda = m_device.is_cuda();
            return;
        }
        const torch::jit::Module& shared = detail::ModelAccess::module(m_model);
        m_module = dtype || !m_device.is_cpu() ? shared.deepcopy() : shared;
        m_module.eval();
        if (dtype) m_module.to(*dtype);
        m_module.to(m_device);
        {
            // Freezing with the optimizer off does nothing and breaks forward later: force it on here.
            torch::jit::GraphOptimizerEnabledGuard optimize(true);
            if (m_config.jit == JitMode::Freeze)
                m_module = torch::jit::freeze(m_module);
            else if (m_config.jit == JitMode::Optimize)
                m_module = torch::jit::optimize_for_inference(m_module);
        }
        m_inputs.clear();
        for (const auto& v : detail::ModelAccess::forwardStack(m_model, m_binding))
            m_inputs.push_back(toDevice(v, m_device, dtype));
        m_method.emplace(m_module.get_method("forward"));
        m_cuda = m_device.is_cuda();
        if (m_cuda) {
            m_timer = detail::makeCudaEventTimer(m_device.index());
            detail::cudaResetPeakMemory(m_device.index());
        }
    }

    // One timed call; the clock brackets a device synchronize on CUDA.
    double call(double* deviceNs) {
        // As a plain loop does it: the previous output is gone before the next call allocates.
        m_lastOutput = c10::IValue();
        std::vector<c10::IValue> stack = m_inputs;
        if (m_timer) m_timer->start();
        const auto t0 = Clock::now();
        m_lastOutput =
            m_package ? detail::ModelAccess::runPackage(m_model, stack) : (*m_method)(std::move(stack));
        if (m_cuda) {
            if (m_timer) m_timer->stop();
            detail::cudaSynchronize(m_device.index());
        }
        const auto t1 = Clock::now();
        if (deviceNs && m_timer) *deviceNs = m_timer->elapsedNs();
        return double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }

    bool report(const Progress& p) {
        if (!m_progress) return true;
        if (!m_progress(p)) {
            m_cancelledByCallback = true;
            return false;
        }
        return true;
    }

    template <typename Fn> void withGradMode(Fn&& fn) {
        torch::jit::GraphOptimizerEnabledGuard optimize(m_config.graphOptimize);
        switch (m_config.grad) {
        case GradMode::Inference: {
            c10::InferenceMode guard;
            fn();
            break;
        }
        case GradMode::NoGrad: {
            torch::NoGradGuard guard;
            fn();
            break;
        }
        case GradMode::Grad: {
            torch::AutoGradMode guard(true);
            fn();
            break;
        }
        }
    }

    void singleCall(RunRecord& r) {
        withGradMode([&] { r.firstCallNs = call(nullptr); });
    }

    void measureLoop(RunRecord& r) {
        resetPeakRss();
        withGradMode([&] {
            const auto start = Clock::now();
            if (warmUp(r, start)) measure(r, m_config.seconds, m_config.iterations, start);
        });
        if (m_cancelledByCallback)
            r.cancelled = true; // a stop after the last call does not undo a finished run
        recordPeaks(r);
    }

public:
    // The stepped form a worker uses: begin (prepare, first call, warm-up), rounds, end.
    bool begin(RunRecord& r) {
        r.config = m_config;
        r.label = m_config.label();
        return guarded(r, [&] {
            setUp(r);
            resetPeakRss();
            withGradMode([&] { warmUp(r, Clock::now()); });
        });
    }
    // One round: appends its samples to the record; false with the record's error when a call failed.
    bool round(RunRecord& r, double seconds, int64_t iterations) {
        return guarded(r, [&] {
            setThreads(m_config.threads); // another configuration may have run in this process since
            withGradMode([&] { measure(r, seconds, iterations, Clock::now()); });
        });
    }
    RunResult end(RunRecord r) {
        RunResult result;
        guarded(r, [&] {
            recordPeaks(r);
            summarize(r);
            result.output = detail::wrap(toCpu(m_lastOutput));
            r.outputs = result.output.leaves("out");
            r.ok = true;
        });
        result.record = std::move(r);
        return result;
    }

private:
    void setUp(RunRecord& r) {
        validateConfig(m_config);
        if (!m_binding.ok) throw Error("inputs do not match forward: " + m_binding.error);
        const ThreadSettings threads = setThreads(m_config.threads);
        r.threadsUsed = threads.current;
        r.config.threads = threads.current; // the record says what ran, not "0 = all"
        r.libtorchDefaultThreads = threads.libtorchDefault;
        report({"preparing", 0, 0, 0, -1});
        const auto t0 = Clock::now();
        prepare();
        r.prepareSeconds = secondsSince(t0);
        r.batchSize = batchSizeOf(m_inputs);
    }

    template <typename Fn> bool guarded(RunRecord& r, Fn&& fn) {
        try {
            fn();
            return true;
        } catch (const Error& e) {
            r.error = e.what();
            r.errorDetail = e.detail();
        } catch (const c10::Error& e) {
            r.error = detail::errorEssence(e.what_without_backtrace()) + hint();
            r.errorDetail = e.what_without_backtrace();
        } catch (const std::exception& e) {
            r.error = detail::errorEssence(e.what()) + hint();
            r.errorDetail = e.what();
        }
        r.ok = false;
        return false;
    }

    void recordPeaks(RunRecord& r) {
        r.peakRssBytes = peakRss();
        if (m_cuda) r.cudaPeakBytes = detail::cudaPeakMemory(m_device.index());
    }

    // The first call, then warm-up: a fixed count, or until the median of the last window settles.
    // False when a stop or the progress callback ended it.
    bool warmUp(RunRecord& r, Clock::time_point start) {
        if (!report({"first call", 0, 0, secondsSince(start), -1})) return false;
        r.firstCallNs = call(nullptr);
        r.warmupNs.push_back(r.firstCallNs);
        const int fixed = m_config.warmup;
        auto lastWarmupReport = Clock::now();
        const double warmupBudget = std::clamp(m_config.seconds * 0.5, 1.0, 10.0);
        while (!stopRequested()) {
            const int n = int(r.warmupNs.size());
            if (fixed >= 0) {
                if (n >= std::max(fixed, 1)) break;
            } else {
                const int window = r.warmupNs.back() > 50e6 ? 3 : 5;
                if (n >= std::max(3, 2 * window)) {
                    const double a = median({r.warmupNs.end() - 2 * window, r.warmupNs.end() - window});
                    const double b = median({r.warmupNs.end() - window, r.warmupNs.end()});
                    if (std::abs(b - a) <= 0.05 * a) break;
                }
                if (n >= 200 || (n >= 3 && secondsSince(start) > warmupBudget)) break;
            }
            r.warmupNs.push_back(call(nullptr));
            if (m_progress && Clock::now() - lastWarmupReport > std::chrono::milliseconds(100)) {
                lastWarmupReport = Clock::now();
                if (!report({"warm-up", 0, int64_t(r.warmupNs.size()), secondsSince(start), -1}))
                    return false;
            }
        }
        return true;
    }

    // Appends the steady-state samples of `iterations` calls, or of `budget` seconds (at least 5 calls).
    void measure(RunRecord& r, double budget, int64_t iterations, Clock::time_point start) {
        const bool fixedCount = iterations > 0;
        const int64_t minCalls = fixedCount ? iterations : 5;
        const double estimate = std::max(1.0, median(r.warmupNs));
        constexpr int64_t kMaxCalls = 50000000;
        const int64_t expected =
            fixedCount ? std::min(iterations, kMaxCalls)
                       : std::clamp<int64_t>(int64_t(budget * 1e9 / estimate * 1.2), 16, 2000000);
        const std::size_t before = r.samplesNs.size();
        r.samplesNs.reserve(before + std::size_t(expected));
        if (m_timer) r.deviceNs.reserve(r.deviceNs.size() + std::size_t(expected));
        const auto measureStart = Clock::now();
        double lastReported = -1;
        auto lastReportTime = measureStart;
        while (true) {
            const int64_t n = int64_t(r.samplesNs.size() - before);
            const double elapsed = secondsSince(measureStart);
            const bool done = fixedCount ? n >= iterations : (elapsed >= budget && n >= minCalls);
            if (done || n >= kMaxCalls) break;
            if (stopRequested()) {
                r.cancelled = true;
                break;
            }
            double device = 0;
            r.samplesNs.push_back(call(m_timer ? &device : nullptr));
            if (m_timer) r.deviceNs.push_back(device);
            if (m_progress) {
                const double fraction =
                    fixedCount ? double(n + 1) / double(iterations) : std::min(1.0, elapsed / budget);
                const auto now = Clock::now();
                if (fraction - lastReported >= 0.001 ||
                    now - lastReportTime > std::chrono::milliseconds(100)) {
                    const double remaining = fraction > 0 ? std::max(0.0, elapsed / fraction - elapsed) : -1;
                    if (!report({"measuring", fraction, n + 1, secondsSince(start), remaining})) {
                        r.cancelled = true;
                        break;
                    }
                    lastReported = fraction;
                    lastReportTime = now;
                }
            }
        }
    }

    const Model& m_model;
    const InputBinding& m_binding;
    RunConfig m_config;
    const ProgressFn& m_progress;
    const std::atomic<bool>* m_stop;
    c10::Device m_device{c10::kCPU};
    torch::jit::Module m_module;
    std::optional<torch::jit::Method> m_method;
    std::vector<c10::IValue> m_inputs;
    c10::IValue m_lastOutput;
    bool m_cuda = false, m_cancelledByCallback = false;
    bool m_package = false; // an AOTInductor package: no module, no method
    std::unique_ptr<detail::CudaEventTimer> m_timer;
};

} // namespace

RunResult runConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                           const ProgressFn& progress, const std::atomic<bool>* stop) {
    return Harness(model, binding, config, progress, stop).run(true);
}

RunResult runOnce(const Model& model, const InputBinding& binding, const RunConfig& config) {
    static const ProgressFn none;
    return Harness(model, binding, config, none, nullptr).run(false);
}

RunResult detail::runConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                                   const ProgressFn& progress, const std::atomic<bool>* stop, bool measure,
                                   const AfterMeasure& after, const AfterPrepare& prepared) {
    return Harness(model, binding, config, progress, stop).run(measure, after, prepared);
}

struct detail::RoundRun::Impl {
    Impl(const Model& model, const InputBinding& binding, const RunConfig& config, ProgressFn p)
        : progress(std::move(p))
        , harness(model, binding, config, progress, nullptr) {}
    ProgressFn progress;
    Harness harness;
    RunRecord record;
};

detail::RoundRun::RoundRun(const Model& model, const InputBinding& binding, const RunConfig& config,
                           ProgressFn progress)
    : m(std::make_unique<Impl>(model, binding, config, std::move(progress))) {}
detail::RoundRun::~RoundRun() = default;
bool detail::RoundRun::begin() {
    return m->harness.begin(m->record);
}
bool detail::RoundRun::round(double seconds, int64_t iterations) {
    return m->harness.round(m->record, seconds, iterations);
}
RunResult detail::RoundRun::end() {
    return m->harness.end(m->record);
}
const RunRecord& detail::RoundRun::record() const {
    return m->record;
}

} // namespace twb
