// Internal: latency under load as it runs inside a worker process (load.cpp, load_rules.cpp). runLoad
// (worker_load.cpp) starts a worker and asks it for this with a "serve" request.
#pragma once

#include "load_pool.h"

#include "twb/load.h"

#include <string>
#include <vector>

namespace twb::detail {

LoadResult loadInProcess(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                         const LoadOptions& options, const LoadCallbacks& callbacks,
                         const std::atomic<bool>* stop);

// A rate of queries a second, and a time in nanoseconds as milliseconds, as verdicts and errors write them.
std::string qpsText(double qps);
std::string msText(double ns);

// load_rules.cpp: the knee and the verdict, from the curve and the peak search.
void finishLoad(LoadResult& result);

// load_rules.cpp: the executors' utilisation under `arrivalsPerSecond`: the arrivals times a request's
// mean share of its call (the call's time over the requests it served, so a batch counts once), over the
// executors. A call 10 times the median of its batch size's or longer is left out: a stall of the machine
// that held a call for 50 ms says nothing of the pool's pace, and counted in it would make a load look
// beyond it. At 1 or more the offered rate is beyond the executors' pace, and the queue grows however long
// the load runs (a load a few percent beyond it can still meet a bound for the seconds it runs). NaN where
// nothing was served or nothing arrived.
double offeredUtilisation(double arrivalsPerSecond, int executors, const std::vector<ServedRequest>& served);

// A load of a peak search that missed the bound this far beyond the executors' pace is not measured again:
// its queue, not a stall, made it miss.
constexpr double kClearlyOverloaded = 1.1;

// load_rules.cpp: one search for the peak QPS, as LoadGen makes it. A passing and a failing load bracket the
// peak, halved until they are within 5% of each other. The first load is half the capacity measured on its
// own; while every load passes, the next is the ceiling: 1.2 × that capacity first, doubled each time it
// passes. So both ends of the bracket are measured, wherever the peak lies against a capacity that was a
// second's estimate on a machine whose speed drifts. It gives up below 1/64 of the capacity (or of the
// generator's limit), stops at the generator's limit, and a run gives it at most kMostSteps loads.
struct PeakSearch {
    static constexpr int kMostSteps = 16; // a peak 900 × the capacity is still bracketed within 5%
    static constexpr double kClose = 0.05;

    PeakSearch(double capacityQps, double generatorLimitQps);
    void judged(bool passed);                    // the load at `qps` met the bound or not; picks the next
    static bool close(double pass, double fail); // within kClose of each other

    double pass = 0, fail = 0, qps = 0; // the highest load that passed, the lowest that failed, the next
    bool failed = false;                // `fail` was measured, not assumed
    bool done = false;
    int loads = 0; // judged
    double capacity = 0, limit = 0;
};

} // namespace twb::detail
