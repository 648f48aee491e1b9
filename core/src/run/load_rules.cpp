// Latency under load, the rules and figures around a run: the scenarios' names, which options are
// refused, latency summaries and the p99's upper confidence bound, the M/G/1 prediction, the peak search's
// steps, and the knee and verdict of a finished curve. The run itself is load.cpp's.
#include "twb/load.h"

#include "load_internal.h"

#include "twb/error.h"
#include "twb/format.h"
#include "twb/stats.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace twb {

namespace detail {

std::string qpsText(double qps) {
    return formatFixed(qps, qps < 100 ? 1 : 0);
}

std::string msText(double ns) {
    return formatFixed(ns / 1e6, ns < 1e7 ? 3 : 1) + " ms";
}

PeakSearch::PeakSearch(double capacityQps, double generatorLimitQps)
    : fail(std::min(generatorLimitQps, 1.2 * capacityQps))
    , qps(std::min(generatorLimitQps, 0.5 * capacityQps))
    , done(!(capacityQps > 0 && generatorLimitQps > 0)) // nothing to search from
    , capacity(capacityQps)
    , limit(generatorLimitQps) {}

double offeredUtilisation(double arrivalsPerSecond, int executors, const std::vector<ServedRequest>& served) {
    if (served.empty() || !(arrivalsPerSecond > 0) || executors < 1) return std::nan("");
    const auto callNs = [](const ServedRequest& s) {
        return double(std::chrono::duration_cast<std::chrono::nanoseconds>(s.end - s.start).count());
    };
    std::map<int, std::vector<double>> bySize; // each request's call, by the call's batch size
    for (const ServedRequest& s : served)
        bySize[s.batch].push_back(callNs(s));
    std::map<int, double> stall; // from this long, a call of that size was held up, not working
    for (auto& [size, calls] : bySize) {
        std::sort(calls.begin(), calls.end());
        stall[size] = 10 * percentileOfSorted(calls, 50);
    }
    double share = 0;
    int64_t counted = 0;
    for (const ServedRequest& s : served) {
        const double c = callNs(s);
        if (c >= stall[s.batch] && stall[s.batch] > 0) continue;
        share += c / std::max(1, s.batch);
        ++counted;
    }
    if (counted == 0) return std::nan("");
    return arrivalsPerSecond * share / double(counted) / 1e9 / executors;
}

bool PeakSearch::close(double pass, double fail) {
    return pass > 0 && fail > 0 && (fail - pass) / fail < kClose;
}

void PeakSearch::judged(bool passed) {
    ++loads;
    if (passed) {
        pass = qps;
        if (!failed && pass >= fail) fail = std::min(limit, 2 * pass); // the ceiling passed: doubled
    } else {
        fail = qps;
        failed = true;
    }
    qps = !failed ? fail : pass > 0 ? (pass + fail) / 2 : fail / 2;
    done = pass >= limit // the generator's limit, not the model's
           || (failed && close(pass, fail)) || (pass == 0 && qps < std::min(capacity, limit) / 64);
}

} // namespace detail

using detail::msText;
using detail::qpsText;

std::string scenarioName(LoadScenario s) {
    switch (s) {
    case LoadScenario::SingleStream:
        return "single";
    case LoadScenario::MultiStream:
        return "multi";
    case LoadScenario::Server:
        return "server";
    case LoadScenario::Offline:
        return "offline";
    }
    return "server";
}

LoadScenario parseScenario(const std::string& text) {
    for (LoadScenario s :
         {LoadScenario::SingleStream, LoadScenario::MultiStream, LoadScenario::Server, LoadScenario::Offline})
        if (text == scenarioName(s)) return s;
    throw Error("unknown scenario '" + text + "': use single, multi, server or offline");
}

double maxGeneratorQps() {
    // One arrival every 50 µs: the generator sleeps to within 500 µs of each arrival and spins the rest,
    // and the hand-over to an executor costs a few µs; beyond this, arrivals would bunch and the load
    // would no longer be Poisson (tests/perf/bench_load measures the generator's own lateness).
    return 20000;
}

void validateLoadOptions(const LoadOptions& o) {
    if (!(o.seconds > 0) || !(o.seconds <= 86400))
        throw Error("A load run needs a duration above zero seconds and at most a day (--seconds), not " +
                    formatFixed(o.seconds, 3) + ".");
    if (o.concurrency < 1 || o.concurrency > 256)
        throw Error("Concurrency must be between 1 and 256 executors, not " + std::to_string(o.concurrency) +
                    ".");
    if (o.maxBatch < 1 || o.maxBatch > 4096)
        throw Error("Dynamic batching serves between 1 and 4096 requests a call, not " +
                    std::to_string(o.maxBatch) + ".");
    if (!(o.batchWindowUs >= 0 && o.batchWindowUs <= 1e6))
        throw Error("The batching window must lie between 0 and 1,000,000 µs, not " +
                    formatFixed(o.batchWindowUs, 1) + ".");
    if (o.batchWindowUs > 0 && o.maxBatch == 1)
        throw Error("A batching window needs batches of more than one request (--max-batch above 1).");
    if (o.maxBatch > 1 && o.scenario == LoadScenario::SingleStream)
        throw Error("A single stream has one request in flight at a time, so there is nothing to batch it "
                    "with: leave --max-batch at 1, or use the multi, server or offline scenario.");
    if (o.batchWindowUs > 0 && o.scenario != LoadScenario::Server)
        throw Error("A batching window waits for arrivals to come, which only the server scenario spreads "
                    "out; in multi and offline every request is queued at once (--batch-window 0).");
    if (o.scenario == LoadScenario::MultiStream && (o.samplesPerQuery < 1 || o.samplesPerQuery > 4096))
        throw Error("A multi-stream query holds between 1 and 4096 samples, not " +
                    std::to_string(o.samplesPerQuery) + ".");
    if (o.qps < 0 || !std::isfinite(o.qps) || (o.qps > 0 && o.qps < 0.001))
        throw Error("The offered load must be a number of queries per second from 0.001 up, not " +
                    formatFixed(o.qps, 6) + ".");
    if (!(o.utilisation == 0 || (o.utilisation >= 0.01 && o.utilisation <= 2)))
        throw Error(
            "The utilisation is a share of the measured capacity between 0.01 and 2 (0.8: 80%), not " +
            formatFixed(o.utilisation, 3) + ".");
    if (o.utilisation > 0 && o.scenario != LoadScenario::Server)
        throw Error("A utilisation sets the rate of arrivals, which only the server scenario has; the " +
                    scenarioName(o.scenario) + " scenario issues its queries without a schedule.");
    if (o.utilisation > 0 && (o.qps > 0 || o.findPeak))
        throw Error(
            "A utilisation sets the server's offered load, so it goes without --qps and --find-peak.");
    if (o.qps > maxGeneratorQps())
        throw Error("The generator cannot keep " + qpsText(o.qps) +
                    " QPS to its schedule: it issues at most " + qpsText(maxGeneratorQps()) +
                    " arrivals a second on time.");
    if (o.minQueries < 1 || o.minQueries > 10000000)
        throw Error("The minimum query count must be between 1 and 10,000,000, not " +
                    std::to_string(o.minQueries) + ".");
    if (o.p99BoundMs < 0 || !std::isfinite(o.p99BoundMs))
        throw Error("The p99 bound must be a positive number of milliseconds, not " +
                    formatFixed(o.p99BoundMs, 3) + ".");
    if (o.findPeak && o.scenario != LoadScenario::Server)
        throw Error(
            "Only the server scenario has a peak QPS to find; use --scenario server with --find-peak.");
    if (o.findPeak && o.p99BoundMs <= 0)
        throw Error("Finding the peak QPS needs the p99 bound it must meet (--p99 MS).");
    if (o.peakSearches < 1 || o.peakSearches > 9)
        throw Error("Between 1 and 9 peak searches go in turns, not " + std::to_string(o.peakSearches) + ".");
    if (o.peakSearches > 1 && !o.findPeak)
        throw Error("Searches in turns are peak searches: add --find-peak, or leave --searches at 1.");
    if (!(o.confidence > 0.5 && o.confidence < 1))
        throw Error("The confidence of the p99's bound must lie between 0.5 and 1, not " +
                    formatFixed(o.confidence, 3) + ".");
}

LatencySummary summarizeLatency(std::vector<double> ns) {
    LatencySummary s;
    s.count = int64_t(ns.size());
    if (ns.empty()) return s;
    std::sort(ns.begin(), ns.end());
    s.mean = std::accumulate(ns.begin(), ns.end(), 0.0) / double(ns.size());
    s.p50 = percentileOfSorted(ns, 50);
    s.p90 = percentileOfSorted(ns, 90);
    s.p95 = percentileOfSorted(ns, 95);
    s.p99 = percentileOfSorted(ns, 99);
    s.p999 = percentileOfSorted(ns, 99.9);
    s.max = ns.back();
    return s;
}

double percentileUpperBound(std::vector<double> samples, double p, double confidence) {
    const auto n = int64_t(samples.size());
    const double q = p / 100;
    if (n == 0 || !(q > 0 && q < 1)) return std::nan("");
    std::sort(samples.begin(), samples.end());
    // P(B < r) = sum_{k < r} C(n, k) q^k (1 - q)^(n - k), accumulated in log space (n may be 10⁶).
    const double lq = std::log(q), l1q = std::log1p(-q), lgn = std::lgamma(double(n) + 1);
    double cdf = 0;
    for (int64_t k = 0; k < n; ++k) {
        const double logPmf = lgn - std::lgamma(double(k) + 1) - std::lgamma(double(n - k) + 1) +
                              double(k) * lq + double(n - k) * l1q;
        cdf += std::exp(logPmf);
        if (cdf >= confidence) return samples[std::size_t(k)]; // r = k + 1: X(r) is samples[k]
    }
    return std::nan("");
}

double pollaczekKhinchineWaitNs(double lambda, double meanNs, double secondMomentNs2) {
    const double rho = lambda * meanNs / 1e9;
    if (!(rho < 1)) return std::numeric_limits<double>::infinity();
    return (lambda / 1e9) * secondMomentNs2 / (2 * (1 - rho));
}

namespace {

// The curve's indices in order of offered load.
std::vector<int> byOfferedLoad(const std::vector<LoadPoint>& curve) {
    std::vector<int> order(curve.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return curve[std::size_t(a)].offeredQps < curve[std::size_t(b)].offeredQps;
    });
    return order;
}

} // namespace

double spreadAroundMiddle(std::vector<double> values) {
    if (values.empty()) return std::nan("");
    std::sort(values.begin(), values.end());
    const double middle = values[(values.size() - 1) / 2];
    if (middle == 0) return std::nan("");
    return std::max(middle - values.front(), values.back() - middle) / middle;
}

int loadKnee(const std::vector<LoadPoint>& curve) {
    const std::vector<int> order = byOfferedLoad(curve);
    int knee = -1;
    if (order.size() < 2) return knee;
    const double base = curve[std::size_t(order.front())].latency.p99;
    for (auto i = order.rbegin(); i != order.rend() && curve[std::size_t(*i)].latency.p99 > 2 * base; ++i)
        knee = *i;
    return knee;
}

namespace detail {

void finishLoad(LoadResult& r) {
    const std::vector<int> order = byOfferedLoad(r.curve);
    r.knee = r.options.scenario == LoadScenario::Server ? loadKnee(r.curve) : -1;
    if (!r.error.empty()) {
        r.verdict = r.error;
        return;
    }
    if (r.curve.empty()) {
        r.verdict =
            r.cancelled ? "Cancelled before a load point was measured." : "No load point was measured.";
        return;
    }
    const LoadPoint& last = r.curve.back();
    const std::string bound = r.options.p99BoundMs > 0 ? formatFixed(r.options.p99BoundMs, 3) + " ms" : "";
    const std::string conf = formatFixed(r.options.confidence * 100, 0) + "%";
    switch (r.options.scenario) {
    case LoadScenario::SingleStream:
        r.verdict = "One query at a time: p90 " + msText(last.latency.p90) + ", " +
                    qpsText(last.achievedQps) + " queries a second.";
        break;
    case LoadScenario::MultiStream:
        r.verdict = std::to_string(r.options.samplesPerQuery) + " samples a query: p99 " +
                    msText(last.latency.p99) + " a query, " + qpsText(last.itemsPerSecond) +
                    " samples a second.";
        break;
    case LoadScenario::Offline:
        r.verdict = "Offline: " + qpsText(last.itemsPerSecond) + " samples a second with " +
                    std::to_string(r.options.concurrency) + " executor" +
                    (r.options.concurrency == 1 ? "" : "s") + ".";
        break;
    case LoadScenario::Server:
        if (r.options.findPeak) {
            if (r.peakQps > 0 && r.peakFailedQps <= 0)
                r.verdict =
                    "Peak: at least " + qpsText(r.peakQps) + " QPS with p99 within " + bound + " at " + conf +
                    " confidence" +
                    (r.peakQps >= maxGeneratorQps() ? " (the generator's limit: the model may serve more)."
                                                    : " (no load tried missed it).");
            else if (r.peakQps > 0)
                r.verdict = "Peak: " + qpsText(r.peakQps) + " QPS with p99 within " + bound + " at " + conf +
                            " confidence (" + qpsText(r.peakFailedQps) + " QPS did not" +
                            (r.cancelled || PeakSearch::close(r.peakQps, r.peakFailedQps)
                                 ? ""
                                 : "; the search ended after its " + std::to_string(PeakSearch::kMostSteps) +
                                       " steps, before the two came within " +
                                       formatFixed(PeakSearch::kClose * 100, 0) + "%") +
                            ").";
            else {
                const bool others = std::any_of(r.searchPeaksQps.begin(), r.searchPeaksQps.end(),
                                                [](double q) { return q > 0; });
                r.verdict =
                    std::string(others ? "The middle search met" : "No load tried met") + " p99 within " +
                    bound + (others ? " at no load it tried" : "") +
                    (r.peakFailedQps > 0 ? " (the lightest, " + qpsText(r.peakFailedQps) + " QPS, did not)."
                                         : ".");
            }
            if (r.cancelled) r.verdict = "Cancelled during the peak search; so far: " + r.verdict;
            if (r.searchPeaksQps.size() > 1) {
                r.verdict += " " + std::to_string(r.searchPeaksQps.size()) + " searches in turns found ";
                for (std::size_t i = 0; i < r.searchPeaksQps.size(); ++i)
                    r.verdict += (i == 0                             ? ""
                                  : i + 1 == r.searchPeaksQps.size() ? " and "
                                                                     : ", ") +
                                 qpsText(r.searchPeaksQps[i]);
                const double spread = spreadAroundMiddle(r.searchPeaksQps);
                r.verdict += std::isfinite(spread)
                                 ? " QPS, within ±" + formatFixed(spread * 100, 1) + "% of the middle one."
                                 : " QPS.";
            }
        } else if (r.options.qps <= 0 && r.curve.size() > 1) {
            // A curve: where latency turns, where the queue outgrows the executors, the most within the
            // bound.
            const LoadPoint& lightest = r.curve[std::size_t(order.front())];
            const double highest = r.curve[std::size_t(order.back())].offeredQps;
            r.verdict = std::to_string(r.curve.size()) + " loads to " + qpsText(highest) + " QPS" +
                        (highest >= maxGeneratorQps() ? " (the generator's limit)" : "") + ": ";
            if (r.knee >= 0) {
                const LoadPoint& k = r.curve[std::size_t(r.knee)];
                r.verdict += "the knee at " + qpsText(k.offeredQps) + " QPS (p99 " + msText(k.latency.p99) +
                             " against " + msText(lightest.latency.p99) + " at " +
                             qpsText(lightest.offeredQps) + ")";
            } else {
                r.verdict +=
                    "no knee (p99 within twice the lightest load's " + msText(lightest.latency.p99) + ")";
            }
            for (int i : order)
                if (r.curve[std::size_t(i)].overloaded) {
                    r.verdict +=
                        "; the queue grows from " + qpsText(r.curve[std::size_t(i)].offeredQps) + " QPS";
                    break;
                }
            // The most within the bound is judged by its p99, as the peak search judges a load: a load
            // at the executors' pace measured under load (overloaded or not by a few percent of drift)
            // is said to be within where its p99 is, and where its queue grows, that is said beside.
            if (!bound.empty()) {
                const LoadPoint* best = nullptr;
                for (const auto& p : r.curve)
                    if (p.meetsBound && (!best || p.offeredQps > best->offeredQps)) best = &p;
                r.verdict += best
                                 ? "; the most within " + bound + ": " + qpsText(best->offeredQps) + " QPS" +
                                       (best->overloaded ? ", its queue growing (a longer run may miss)" : "")
                                 : "; none within " + bound;
            }
            r.verdict += ".";
        } else {
            const std::string share = r.options.utilisation > 0 && r.capacityQps > 0
                                          ? " (" + formatFixed(100 * last.offeredQps / r.capacityQps, 0) +
                                                "% of the capacity measured)"
                                          : "";
            r.verdict = "At " + qpsText(last.offeredQps) + " QPS" + share + ": p99 " +
                        msText(last.latency.p99) + " (queued " + msText(last.queue.p99) + ", computing " +
                        msText(last.compute.p99) + " at p99)";
            if (!bound.empty() && !std::isfinite(last.p99UpperBound))
                r.verdict += ", too few queries (" + std::to_string(last.queries) + ") to bound the p99 at " +
                             conf + " confidence";
            else if (!bound.empty())
                r.verdict += last.meetsBound ? ", within " + bound : ", over " + bound;
            if (last.overloaded) r.verdict += "; the queue grows: more than this machine serves";
            if (r.options.utilisation > 0 && last.offeredQps >= maxGeneratorQps())
                r.verdict += "; the generator's limit, below the utilisation asked";
            else if (r.options.qps <= 0 && last.offeredQps >= maxGeneratorQps())
                r.verdict += "; the curve's lightest load was already the generator's limit";
            r.verdict += ".";
        }
        break;
    }
    if (r.options.maxBatch > 1 && last.batches > 0 && !r.verdict.empty() && r.verdict.back() == '.') {
        r.verdict.pop_back();
        r.verdict += "; batches of " + formatFixed(double(last.calls) / double(last.batches), 1) +
                     " requests on average (at most " + std::to_string(r.options.maxBatch) + ").";
    }
}

} // namespace detail
} // namespace twb
