// Internal: the measuring harness as the profiler reaches it. After a configuration is measured, a pass
// may call the same prepared forward again (the profiler's calls, TorchScript's per-line profile, the
// FLOPs count). Torch types are only declared here.
#pragma once

#include "twb/bench.h"

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace torch::jit {
struct Module;
}
namespace c10 {
struct IValue;
}

namespace twb::detail {

class PreparedForward {
public:
    virtual ~PreparedForward() = default;
    virtual double call() = 0; // one timed call, in ns
    // One timed call that touches no state of the harness, for several threads at once (its output is
    // dropped); call it inside inMode on each thread.
    virtual double callConcurrently() = 0;
    // The same with other arguments (forward's, on the configuration's device and in its dtype).
    virtual double callConcurrentlyWith(std::vector<c10::IValue> stack) = 0;
    // Runs fn under the configuration's grad mode and graph-optimizer setting, as the measured calls ran.
    virtual void inMode(const std::function<void()>& fn) = 0;
    virtual const torch::jit::Module& module() const = 0;
    // forward's arguments as the calls pass them: on the configuration's device, in its dtype.
    virtual const std::vector<c10::IValue>& inputs() const = 0;
    virtual bool stopRequested() const = 0;
    virtual bool progress(const Progress& p) = 0; // false: cancelled by the callback
};

// Runs after the measurement (or the single call when !measure), unless it was cancelled; what it
// throws fails the run, as a failing forward does.
using AfterMeasure = std::function<void(PreparedForward&, RunRecord&)>;

// Runs on the prepared module (after freeze / optimize_for_inference), before its first call.
using AfterPrepare = std::function<void(torch::jit::Module&)>;

RunResult runConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                           const ProgressFn& progress, const std::atomic<bool>* stop, bool measure,
                           const AfterMeasure& after, const AfterPrepare& prepared = {});

} // namespace twb::detail

namespace twb::detail {

// A configuration measured in rounds, as a worker process serves it: begin() prepares it and warms it
// up, each round() appends that round's samples to the record, end() adds the peaks, the statistics of
// every sample and the last output. The model and binding must outlive it.
class RoundRun {
public:
    RoundRun(const Model& model, const InputBinding& binding, const RunConfig& config,
             ProgressFn progress = {});
    ~RoundRun();
    bool begin(); // false: record().error says why
    bool round(double seconds, int64_t iterations);
    RunResult end();
    const RunRecord& record() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

} // namespace twb::detail
