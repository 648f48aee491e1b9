// Sweeps: which configuration is fastest. A grid over configuration axes (jit, threads, dtype, grad,
// device, batch, streams), raced in successive-halving rounds within the user's time budget, every
// point's outputs held against the model as saved, a Pareto front over latency and throughput, and a
// recommendation with its ratio and confidence interval against LibTorch's default and the workbench's.
#pragma once

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/model.h"
#include "twb/stats.h"
#include "twb/worker.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace twb {

struct InputSpec;   // twb/input_spec.h
struct ReadOptions; // twb/tensor_io.h

struct SweepAxis {
    std::string key; // a RunConfig key (jit, threads, dtype, grad, device, …), or batch, or streams
    std::vector<std::string> values;
    // "threads=1,2,4"; throws twb::Error naming the key or value it cannot take.
    static SweepAxis parse(const std::string& text);
};

enum class SweepObjective { Latency, Throughput, Balanced };
std::string objectiveName(SweepObjective objective);
SweepObjective parseObjective(const std::string& text); // throws twb::Error

struct SweepOptions {
    std::vector<SweepAxis> axes; // empty: defaultAxes()
    RunConfig base;              // what the axes vary
    SweepObjective objective = SweepObjective::Latency;
    double maxLatencyMs = 0; // throughput objective: only points whose p99 is below this (0: any)
    double budgetSeconds = 60;
    bool frontWithMemory = false; // the Pareto front also over each point's peak resident memory
    bool tolerancesGiven = false; // false: 1e-5, or 1e-2 for float16 and bfloat16 points
    CompareOptions tolerance;
};

enum class PointStatus { Measured, Skipped, Eliminated, Failed, NotReached };
std::string pointStatusName(PointStatus status);

// Which of the two reference points a point is, if either: what code asks, rather than matching names.
enum class SweepReference { None, LibTorchDefault, WorkbenchDefault };

struct SweepPoint {
    std::string id;    // "jit=optimize,threads=2,batch=8,streams=1"
    RunConfig config;  // threads: intra-op threads of each stream
    int64_t batch = 0; // 0: as given
    int streams = 1;
    bool reference = false; // LibTorch's default or the workbench's: always measured, never eliminated
    SweepReference referenceKind = SweepReference::None;
    std::string referenceName; // for people: "LibTorch's default"
    PointStatus status = PointStatus::NotReached;
    std::string reason;            // why skipped, failed or eliminated
    int rounds = 0;                // rounds it was measured in
    std::vector<double> samplesNs; // per request, all rounds
    LatencyStats stats;
    int64_t items = 0;     // items per request (the batch)
    double throughput = 0; // items per second, all streams together
    int64_t peakRssBytes = -1;
    bool outputsChecked = false, outputsOk = false;
    OutputComparison outputs;
    double atol = 0, rtol = 0; // the tolerance its outputs were held to
    bool onFront = false;
};

struct SweepResult {
    std::vector<SweepAxis> axes;
    SweepObjective objective = SweepObjective::Latency;
    double maxLatencyMs = 0, budgetSeconds = 0, elapsedSeconds = 0;
    bool cancelled = false;
    bool frontWithMemory = false;
    std::vector<SweepPoint> points; // the grid first, then the two references
    int recommended = -1;           // index into points; -1: none qualifies
    int runnerUp = -1;
    LatencyComparison vsLibtorchDefault, vsWorkbenchDefault, vsRunnerUp;
    std::string recommendation; // one sentence, or why there is none
    std::string applyFlags;     // the winner as torchwb bench flags
};

// The axes a sweep takes when none are given: JIT modes, one thread and all of them, and two streams
// where there are two hardware threads or more.
std::vector<SweepAxis> defaultAxes(int hardwareThreads);

// Every combination of the axes over `base`, each point skipped with its reason where it cannot run here
// (CUDA absent, threads × streams above the hardware threads, a value the key does not take).
std::vector<SweepPoint> expandGrid(const std::vector<SweepAxis>& axes, const RunConfig& base,
                                   int hardwareThreads, bool cudaAvailable);

// Indices of the points no other point beats on both median latency (lower) and throughput (higher), and
// on peak memory too when asked; only points with measurements count.
std::vector<int> paretoFront(const std::vector<SweepPoint>& points, bool withMemory = false);

// Successive halving: whether `candidate` is beaten beyond doubt by `best` under the objective, its
// median's 95% interval entirely worse than the best's.
bool clearlyWorse(const SweepPoint& candidate, const SweepPoint& best, SweepObjective objective);

// Chooses the winner among measured points with matching outputs (and p99 under the limit), fills
// recommended, runnerUp, the comparisons and the sentence.
void recommend(SweepResult& result);

struct SweepProgress {
    int point = 0, points = 0, round = 0;
    std::string label;
    double elapsedSeconds = 0, remainingSeconds = -1, fraction = 0;
};

struct SweepCallbacks {
    std::function<bool(const SweepProgress&)> progress; // false cancels; what was measured is kept
    std::function<void(const SweepPoint&)> pointFinished;
};

// Runs the sweep within options.budgetSeconds (plus at most a point's measurement), never throwing for a
// failing point. Inputs are resized for the batch axis: generated ones regenerated, files repeated or
// sliced along dimension 0.
// The sweep runs in a worker process: a model that crashes or hangs ends the sweep with the points
// measured so far and the reason, never the program.
SweepResult runSweep(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                     const SweepOptions& options, const SweepCallbacks& callbacks = {},
                     const std::atomic<bool>* stop = nullptr, const WorkerOptions& worker = {});

} // namespace twb
