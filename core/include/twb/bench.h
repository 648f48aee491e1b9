// The measuring harness: runs a model's forward under one configuration,
// separates preparation, the first call and warm-up from the steady-state
// samples, keeps every raw sample, reports progress and can be cancelled.
#pragma once

#include "twb/config.h"
#include "twb/model.h"
#include "twb/stats.h"
#include "twb/value.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace twb {

struct Progress {
    std::string phase;   // "preparing", "warm-up", "measuring"
    double fraction = 0; // of the measuring phase, 0..1
    int64_t iterations = 0;
    double elapsedSeconds = 0;
    double remainingSeconds = -1; // -1 while unknown
};

// Return false to cancel. Called at most every 0.1% of progress or 100 ms.
using ProgressFn = std::function<bool(const Progress&)>;

// Everything a run measured, as plain values (what a report stores).
struct RunRecord {
    RunConfig config;
    std::string label;
    std::string target; // where it ran (twb/target.h), when a plan ran on several targets; "" here
    bool ok = false;
    bool cancelled = false;
    std::string error, errorDetail;
    int threadsUsed = 0, libtorchDefaultThreads = 0;
    double prepareSeconds = 0; // copy, device and dtype move, freeze / optimize_for_inference
    double firstCallNs = 0;
    std::vector<double> warmupNs;  // every call before measuring, the first included
    std::vector<double> samplesNs; // steady state, one per call, in order
    std::vector<double> deviceNs;  // CUDA event time per sample, where available
    LatencyStats stats;
    std::vector<std::string> warnings;
    int64_t batchSize = 1;
    double throughput = 0;     // items per second at the median latency
    int64_t peakRssBytes = -1; // resident memory peak during the run
    int64_t cudaPeakBytes = -1;
    std::vector<Leaf> outputs;

    // How it was measured: in worker processes, each configuration's rounds interleaved with the
    // others' ("interleaved"), in one worker ("quick"), or in this process ("in-process").
    std::string measurement = "in-process";
    int processes = 0;             // worker processes that measured it
    std::vector<RoundSpan> rounds; // samplesNs in order, split by process and round; empty: one round
    // A worker that died, hung or broke the protocol: the phase it was in ("load", "first call",
    // "warm-up", "measuring", "profiling"), the signal or exit code, the last lines of its stderr
    // (LibTorch's message, the worker's backtrace) and the fix where one is known.
    std::string failedPhase, stderrTail, fix;
    int signal = 0, exitCode = 0;
};

struct RunResult {
    RunRecord record;
    Value output; // the last call's output, on the CPU
};

// Never throws for a failing configuration: the record says what went wrong.
RunResult runConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                           const ProgressFn& progress = {}, const std::atomic<bool>* stop = nullptr);

// One call under the configuration (for `torchwb run`): no warm-up, no statistics.
RunResult runOnce(const Model& model, const InputBinding& binding, const RunConfig& config);

} // namespace twb
