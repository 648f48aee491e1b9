// Latency under load: the serving scenarios of MLPerf LoadGen (single-stream, multi-stream, server with
// Poisson arrivals, offline) on one prepared configuration, served by a pool of executors, with the
// highest offered load whose p99 stays within a bound. Arrivals are open-loop and every latency is
// measured from the request's scheduled arrival, so a stall cannot hide the requests it delays; each
// latency is split into the time queued and the time computing.
#pragma once

#include "twb/config.h"
#include "twb/model.h"
#include "twb/worker.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace twb {

struct InputSpec;   // twb/input_spec.h
struct ReadOptions; // twb/tensor_io.h

enum class LoadScenario { SingleStream, MultiStream, Server, Offline };
std::string scenarioName(LoadScenario s);            // "single", "multi", "server", "offline"
LoadScenario parseScenario(const std::string& text); // throws twb::Error naming the accepted values

struct LoadOptions {
    LoadScenario scenario = LoadScenario::Server;
    RunConfig config; // what is served (its seconds and iterations are not used)
    double qps = 0;   // server: the offered load; 0: a curve over the measured capacity
    // Server, instead of qps: the offered load as a share of the capacity measured back to back just
    // before, in the same process (0.8: 80% utilisation). This machine's service time moves between
    // processes more than within one, so a share measured where it is served lands where it was asked.
    double utilisation = 0;
    double p99BoundMs = 0;   // server: the latency bound the p99 must meet; 0: none
    double seconds = 10;     // per load point
    int concurrency = 1;     // executors serving requests at once, over one prepared module
    int samplesPerQuery = 8; // multi: requests issued together as one query
    // Dynamic batching, as inference servers do it: an executor that comes free takes the oldest request,
    // waits until batchWindowUs after that request's arrival for more (or until maxBatch are waiting),
    // then serves them in one call, their inputs stacked along the first dimension. The stacking is part
    // of the call's time, as it is of a server's. 1: every request is a call of its own.
    int maxBatch = 1;
    double batchWindowUs = 0;
    bool findPeak = false; // server: binary-search the highest QPS whose p99 meets the bound
    // Peak search: this many searches made in turns, a load of each in rotation, each with arrivals of its
    // own. They see the machine in the same minutes, so their spread is the search's own, not the
    // machine's drift from one minute to the next; the peak reported is their middle one.
    int peakSearches = 1;
    uint64_t seed = 20261205; // the arrivals' random stream, recorded so a run can be repeated
    // Of the p99's upper bound that a load is held to. The peak search judges a load that fails a second time
    // on fresh arrivals and both runs together, each judgement at half the risk (0.995 for 0.99), so that a
    // load whose p99 is beyond the bound passes at most 1 - confidence of the time either way.
    double confidence = 0.99;
    // Server with a bound: each load runs until this many queries have arrived (LoadGen's minimum query
    // count), --seconds at least and a minute at most. The p99's upper bound at 99% confidence is then the
    // n·0.99 + 2.3·√(n·0.0099)-th of n latencies: with 1,000 the 3rd largest, with 4,000 the 26th, far
    // less at the mercy of one hiccup (at the peak search's 99.5%: the 3rd and the 25th).
    int64_t minQueries = 4000;
};

// Throws twb::Error, one sentence, for options no run can satisfy: zero or negative seconds, a server
// run with neither a QPS nor a peak to find, a peak search without a bound, a QPS beyond what the
// generator can keep to its schedule, concurrency or batching below 1, a batching window without batching,
// peak searches in turns outside 1 to 9 or without a peak search.
void validateLoadOptions(const LoadOptions& options);

// The highest arrival rate the generator keeps to its schedule (arrivals at most ~50 µs late at p99 on
// an idle core); above it a run is refused rather than measured wrong.
double maxGeneratorQps();

// Nanosecond figures of one part of the latency over a point's requests.
struct LatencySummary {
    int64_t count = 0;
    double mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};
LatencySummary summarizeLatency(std::vector<double> ns);

// The upper bound, at `confidence`, of the p-th percentile of the distribution the samples come from: the
// smallest order statistic X(r) with P(Binomial(n, p/100) < r) >= confidence (distribution-free). NaN when
// n is too small for any order statistic to bound it (a run too short to judge).
double percentileUpperBound(std::vector<double> samples, double p, double confidence);

// One offered load, measured.
struct LoadPoint {
    double offeredQps = 0;  // scheduled arrivals per second (server); 0 for the closed-loop scenarios
    double achievedQps = 0; // queries completed per second
    double itemsPerSecond = 0;
    double seconds = 0;
    int64_t queries = 0, requests = 0, calls = 0; // calls: requests served (the rest were given up on)
    int64_t batches = 0; // the forward calls that served them (dynamic batching: fewer than calls)
    int64_t largestBatch = 0;
    LatencySummary latency, queue, compute; // from the scheduled arrival; waiting; running
    double p99UpperBound = 0; // percentileUpperBound(latency, 99, confidence; a peak search's: see
                              // confidence); NaN: too few queries
    // Offered rate (closed loops: the rate served) × a request's mean share of its call / executors, calls
    // held up 10 times their batch size's median or longer left out; (server) at 1 or more, overloaded
    double utilisation = 0;
    // Server with one executor and no batching: the mean wait queueing theory predicts from this point's own
    // arrival rate and compute times (M/G/1, Pollaczek–Khinchine, a window at a time), beside the measured
    // queue.mean; NaN otherwise, or where a window was at full load.
    double predictedQueueNs = std::nan("");
    // Server with one executor and no batching: the mean wait an ideal FIFO server would have given these
    // very arrivals and compute times (Lindley's recursion). The measured wait less this is what dispatching
    // costs.
    double idealQueueNs = std::nan("");
    LatencySummary arrivalLag; // how late the generator issued requests against their schedule
    bool meetsBound = true;    // p99UpperBound within the bound (always true without a bound)
    int search = 0;            // peak search: which of the searches made in turns measured it
    // Peak search: the load before it missed the bound, and this is it measured again on fresh arrivals;
    // p99UpperBound and meetsBound are then the two runs' together, utilisation (and so overloaded) their
    // mean.
    bool again = false;
    // Requests were given up on, or (server) the offered rate was at or beyond the executors' pace (a
    // utilisation of 1 or more), where the queue grows however long the load runs. A load cut short by a
    // cancel is judged by its pace alone.
    bool overloaded = false;
};

struct LoadResult {
    LoadOptions options;
    std::string label; // the configuration's
    bool ok = false;
    bool cancelled = false;
    std::string error;
    // The service time alone, measured back to back before the load points: its mean and second moment
    // are what queueing theory needs (Pollaczek–Khinchine).
    double serviceMeanNs = 0, serviceSecondMomentNs2 = 0;
    double capacityQps = 0;        // concurrency / mean service time (batching: of a full batch, per request)
    double batchServiceMeanNs = 0; // batching: a full batch's (maxBatch requests') mean service time
    std::vector<LoadPoint> curve;  // in the order measured
    int knee = -1;                 // loadKnee(curve)
    // Peak search: the highest QPS that met the bound and the lowest that did not (0 when every load tried
    // met it); the peak lies between.
    double peakQps = 0, peakFailedQps = 0;
    // Several searches in turns (peakSearches > 1): each one's peak, in the order of the searches; peakQps
    // and peakFailedQps are then the middle search's (the lower middle of an even count).
    std::vector<double> searchPeaksQps;
    std::string verdict; // one sentence
};

// How far the furthest of several figures lies from their middle one (the lower middle of an even count), as
// a share of it: 0.1 is ±10%. NaN with none, or a middle one of 0.
double spreadAroundMiddle(std::vector<double> values);

// Where latency turns on a server's curve: the point, of the loads in order of offered load, from which the
// p99 stays over twice the lightest load's; -1 when the heaviest load's is not, or with fewer than two. A
// load the machine stalled in, followed by lighter p99s, is not the knee.
int loadKnee(const std::vector<LoadPoint>& curve);

// The mean time queued that an M/G/c queue with c = 1 predicts (Pollaczek–Khinchine): λ E[S²] / 2(1 − ρ).
// Infinity at or beyond full load.
double pollaczekKhinchineWaitNs(double arrivalsPerSecond, double serviceMeanNs,
                                double serviceSecondMomentNs2);

struct LoadProgress {
    int point = 0, points = 0;
    double offeredQps = 0;
    double elapsedSeconds = 0, fraction = 0;
    std::string phase; // "measuring the service time", "server at 480 QPS", …
};

struct LoadCallbacks {
    std::function<bool(const LoadProgress&)> progress; // false cancels; what was measured is kept
    std::function<void(const LoadPoint&)> pointFinished;
};

// Runs the scenario in a worker process, relaying progress and points as they come; a model that
// crashes or hangs ends the run with the points measured so far and the reason, never the program.
// Never throws for the model's failures (the result says why); throws twb::Error for invalid options.
LoadResult runLoad(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                   const LoadOptions& options, const LoadCallbacks& callbacks = {},
                   const std::atomic<bool>* stop = nullptr, const WorkerOptions& worker = {});

} // namespace twb
