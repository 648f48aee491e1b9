// Latency under load, as it runs in a worker process: one prepared configuration, a pool of executor
// threads calling it (load_pool.cpp), and an issuer that follows the scenario (LoadGen's rules): Poisson
// arrivals on a schedule fixed in advance from the seed (server), everything at once (offline), one query
// after another (single, multi). Every request keeps its scheduled arrival, its start and its end.
#include "twb/load.h"

#include "load_internal.h"
#include "load_pool.h"

#include "error_text.h"
#include "harness.h"
#include "torch_bridge.h"

#include "twb/error.h"
#include "twb/format.h"
#include "twb/input_spec.h"
#include "twb/runtime.h"
#include "twb/tensor_io.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace twb {
namespace {

using Clock = detail::LoadClock;

// The generator sleeps until this long before each arrival and spins the rest: a sleeping thread wakes
// tens of microseconds late on a busy machine, and more on a virtual one.
constexpr auto kSpin = std::chrono::microseconds(500);

// A spinning core told so: it yields to its hyperthread sibling and draws less power.
inline void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

double nsBetween(Clock::time_point a, Clock::time_point b) {
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
}

} // namespace

namespace detail {
namespace {

class LoadRun {
public:
    LoadRun(PreparedForward& f, const LoadOptions& o, const LoadCallbacks& callbacks, LoadResult& result)
        : m_f(f)
        , m_o(o)
        , m_callbacks(callbacks)
        , m_result(result)
        , m_start(Clock::now()) {}

    void run() {
#ifdef __linux__
        // Sleeps end on time, not up to 50 µs late, the slack Linux allows a thread by default: the
        // generator's, and the executors' (started later, they inherit it) waiting for a batch to fill.
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
        if (!measureService()) return;
        const double bound = m_o.p99BoundMs * 1e6;
        if (bound > 0 && bound < m_result.serviceMeanNs) {
            m_result.error = "The p99 bound of " + msText(bound) + " is below the model's service time of " +
                             msText(m_result.serviceMeanNs) + " on its own, so no load can meet it.";
            return;
        }
        switch (m_o.scenario) {
        case LoadScenario::SingleStream:
            point(0, 1, 1, 0);
            break;
        case LoadScenario::MultiStream:
            point(0, 1, m_o.samplesPerQuery, 0);
            break;
        case LoadScenario::Offline:
            point(0, 1, 0, 0);
            break;
        case LoadScenario::Server:
            if (m_o.findPeak)
                findPeak();
            else if (m_o.qps > 0)
                point(0, 1, 0, m_o.qps);
            else if (m_o.utilisation > 0)
                atUtilisation();
            else
                curve();
            break;
        }
        m_result.ok = m_result.error.empty() && !m_result.curve.empty();
    }

private:
    bool stopped() const { return m_cancelled || m_f.stopRequested(); }

    bool progress(int index, int count, double qps, const std::string& phase, double fraction) {
        if (!m_callbacks.progress) return !stopped();
        LoadProgress p;
        p.point = index;
        p.points = count;
        p.offeredQps = qps;
        p.phase = phase;
        p.elapsedSeconds = std::chrono::duration<double>(Clock::now() - m_start).count();
        p.fraction = std::clamp(fraction, 0.0, 1.0);
        if (!m_callbacks.progress(p)) m_cancelled = true;
        return !stopped();
    }

    // Back to back on one executor, after the profiling executor's slow first calls: the service time's
    // mean and second moment, and the capacity of the pool.
    bool measureService() {
        progress(0, 1, 0, "measuring the service time", 0);
        std::vector<double> s;
        m_f.inMode([&] {
            for (int i = 0; i < 3; ++i)
                m_f.callConcurrently();
            const auto t0 = Clock::now();
            const double budget = std::clamp(m_o.seconds / 4, 0.2, 2.0);
            auto told = t0;
            while ((s.size() < 20 || nsBetween(t0, Clock::now()) < budget * 1e9) && s.size() < 100000 &&
                   !stopped()) {
                s.push_back(m_f.callConcurrently());
                if (Clock::now() - told > std::chrono::milliseconds(500)) { // a slow model is not a hung one
                    told = Clock::now();
                    progress(0, 1, 0, "measuring the service time", 0);
                }
            }
        });
        if (s.empty()) {
            m_result.cancelled = true;
            return false;
        }
        double sum = 0, sum2 = 0;
        for (double x : s) {
            sum += x;
            sum2 += x * x;
        }
        m_result.serviceMeanNs = sum / double(s.size());
        m_result.serviceSecondMomentNs2 = sum2 / double(s.size());
        m_result.capacityQps = m_o.concurrency * 1e9 / std::max(1.0, m_result.serviceMeanNs);
        if (stopped()) return false;
        return m_o.maxBatch == 1 || measureBatch();
    }

    // Batching: whether the inputs stack into batches and the model takes a full one, and that batch's
    // service time, stacking included; the capacity is then a full batch's requests per second.
    bool measureBatch() {
        progress(0, 1, 0, "measuring a batch of " + std::to_string(m_o.maxBatch), 0);
        std::string why;
        const int64_t rows = sharedFirstDimension(m_f.inputs(), why);
        if (rows < 0) {
            m_result.error = "Dynamic batching stacks requests along the inputs' first dimension, but " +
                             (rows == -1 ? "no input is a tensor" : why) + ".";
            return false;
        }
        const std::string phase = "measuring a batch of " + std::to_string(m_o.maxBatch);
        std::vector<double> s;
        std::string failed;
        m_f.inMode([&] {
            try {
                const auto t0 = Clock::now();
                auto told = t0;
                for (int i = 0; i < 3 || (s.size() < 10 && nsBetween(t0, Clock::now()) < 2e9); ++i) {
                    const auto start = Clock::now();
                    m_f.callConcurrentlyWith(stackedRequests(m_f.inputs(), rows, m_o.maxBatch));
                    if (i >= 2) s.push_back(nsBetween(start, Clock::now()));    // after the profiling runs
                    if (Clock::now() - told > std::chrono::milliseconds(500)) { // slow, not hung
                        told = Clock::now();
                        progress(0, 1, 0, phase, 0);
                    }
                    if (stopped()) return;
                }
            } catch (const std::exception& e) {
                failed = errorEssence(e.what());
            }
        });
        if (!failed.empty()) {
            if (failed.back() != '.') failed += '.';
            m_result.error = "The model does not take a batch of " + std::to_string(m_o.maxBatch) +
                             " requests stacked along the first dimension: " + failed;
            return false;
        }
        if (s.empty()) {
            m_result.cancelled = true;
            return false;
        }
        m_result.batchServiceMeanNs = std::accumulate(s.begin(), s.end(), 0.0) / double(s.size());
        m_result.capacityQps = std::max(m_result.capacityQps, m_o.concurrency * m_o.maxBatch * 1e9 /
                                                                  std::max(1.0, m_result.batchServiceMeanNs));
        return !stopped();
    }

    // One load, a share of the capacity just measured.
    void atUtilisation() {
        const double qps = std::min(maxGeneratorQps(), m_o.utilisation * m_result.capacityQps);
        if (qps < 0.001) {
            m_result.error = formatFixed(m_o.utilisation * 100, 0) + "% of the measured capacity (" +
                             formatFixed(m_result.capacityQps, 6) +
                             " QPS) is below the slowest load the generator schedules, 0.001 QPS.";
            return;
        }
        point(0, 1, 0, qps);
    }

    // Utilisations of the pool's capacity, each a point.
    void curve() {
        const std::vector<double> shares{0.3, 0.5, 0.7, 0.8, 0.9, 1.0};
        double previous = 0;
        for (std::size_t i = 0; i < shares.size() && !stopped(); ++i) {
            const double qps = std::min(maxGeneratorQps(), shares[i] * m_result.capacityQps);
            if (qps <= previous) break; // the generator's limit, reached: one point there is enough
            previous = qps;
            point(int(i), int(shares.size()), 0, qps);
            if (!m_result.error.empty()) return;
        }
    }

    // Where a server's p99 is judged against a bound, the arrivals a load needs: minQueries (LoadGen's
    // minimum query count), and at least what the confidence needs to bound the p99 at all.
    int64_t wantedQueries() const {
        if (m_o.scenario != LoadScenario::Server || m_o.p99BoundMs <= 0) return 0;
        return std::max(m_o.minQueries, int64_t(std::ceil(2 * std::log(1 - m_confidence) / std::log(0.99))));
    }

    // How long a load point is expected to run: --seconds, or as long as its wanted arrivals take, up to
    // a minute.
    double secondsAt(double qps) const {
        if (wantedQueries() == 0 || qps <= 0) return m_o.seconds;
        return std::clamp(double(wantedQueries()) / qps, m_o.seconds, std::max(m_o.seconds, 60.0));
    }

    // LoadGen's search for the peak (detail::PeakSearch). Passing: the p99's upper confidence bound within
    // the bound, as LoadGen judges (a load at or beyond the executors' pace is marked overloaded, but its
    // p99 decides: the pace measured under load drifts with the machine, and judged at a threshold it
    // made the peak follow the drift); a step that fails short of kClearlyOverloaded is measured again
    // (again()), so a search judges each load once or twice, and each judgement holds half the risk the
    // confidence leaves (a load whose p99 is beyond the bound passes either look at most 1 - confidence of
    // the time). Several searches go in turns, a load of each in rotation.
    void findPeak() {
        m_confidence = 1 - (1 - m_o.confidence) / 2;
        const int searches = std::max(1, m_o.peakSearches), most = PeakSearch::kMostSteps;
        std::vector<PeakSearch> all(std::size_t(searches),
                                    PeakSearch(m_result.capacityQps, maxGeneratorQps()));
        for (int step = 0; step < most && !stopped(); ++step) {
            bool searching = false;
            for (int i = 0; i < searches && !stopped(); ++i) {
                PeakSearch& s = all[std::size_t(i)];
                if (s.done) continue;
                const LoadPoint* p = point(step * searches + i, most * searches, 0, s.qps, i);
                if (p && !p->meetsBound && !(p->utilisation >= kClearlyOverloaded) &&
                    std::isfinite(p->p99UpperBound))
                    p = again(step * searches + i, most * searches, s.qps, i);
                if (!p || stopped()) return finishSearches(all); // a load cut short is not judged
                s.judged(p->meetsBound);
                searching = searching || !s.done;
            }
            if (!searching) break;
        }
        finishSearches(all);
    }

    // A load of the search that failed, short of clearly beyond the executors' pace, is measured again on as
    // many fresh arrivals and judged on both runs' latencies together (its utilisation, and so its overloaded
    // mark, is the two runs' mean): one stall of the machine that delayed a few dozen requests past the bound
    // fails 4,000 arrivals' p99, the machine's speed drifts by a few percent from one load to the next, and a
    // binary search never goes back above a load that failed. A load beyond the peak fails on twice the
    // arrivals too. The second point holds the two runs' bound, utilisation and verdict.
    struct Earlier {
        std::vector<double> latency;
        double utilisation = 0;
    };
    const LoadPoint* again(int index, int count, double qps, int search) {
        const Earlier first{std::move(m_latency), m_result.curve.back().utilisation};
        return point(index, count, 0, qps, search, &first);
    }

    // The peak of each search that judged a load (a cancel can leave some without one), and the middle
    // one's bracket as the result's.
    void finishSearches(const std::vector<PeakSearch>& all) {
        std::vector<const PeakSearch*> judged;
        for (const PeakSearch& s : all)
            if (s.loads > 0) judged.push_back(&s);
        m_result.searchPeaksQps.clear();
        if (judged.empty()) return;
        if (all.size() > 1)
            for (const PeakSearch* s : judged)
                m_result.searchPeaksQps.push_back(s->pass);
        std::stable_sort(judged.begin(), judged.end(),
                         [](const PeakSearch* a, const PeakSearch* b) { return a->pass < b->pass; });
        const PeakSearch& middle = *judged[(judged.size() - 1) / 2];
        m_result.peakQps = middle.pass;
        m_result.peakFailedQps = middle.failed ? middle.fail : 0;
    }

    // Whether a p99's upper bound meets the bound asked (always, without one).
    bool withinBound(double upper) const {
        const double bound = m_o.p99BoundMs * 1e6;
        return bound <= 0 || (std::isfinite(upper) && upper <= bound);
    }

    // One load point. Server: arrivals at `qps`; single and multi: queries of `perQuery` samples issued
    // back to back; offline (perQuery 0, qps 0): every sample at once.
    const LoadPoint* point(int index, int count, int perQuery, double qps, int search = 0,
                           const Earlier* before = nullptr) {
        const std::string phase = m_o.scenario == LoadScenario::Server ? "server at " + qpsText(qps) + " QPS"
                                                                       : scenarioName(m_o.scenario);
        if (!progress(index, count, qps, phase, double(index) / count)) {
            m_result.cancelled = true;
            return nullptr;
        }
        const uint64_t load = uint64_t(m_loads++);
        const double seconds = secondsAt(qps);
        const int executors = m_o.scenario == LoadScenario::SingleStream ? 1 : m_o.concurrency;
        LoadPool pool(m_f, executors, m_o.maxBatch,
                      std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double, std::micro>(m_o.batchWindowUs)));
        const auto begin = Clock::now();
        const auto end =
            begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        std::vector<double> lag;
        int64_t issued = 0, queries = 0;
        double window = seconds; // how long arrivals came
        // Progress goes out from a thread of its own, so that the issuer never waits on the client, and
        // only while calls complete: a model that hangs sends nothing, and the client's deadline ends it.
        std::atomic<bool> pointDone{false};
        std::thread ticker([&] {
            std::size_t seen = 0;
            while (!pointDone.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                if (pointDone.load()) break;
                const std::size_t done = pool.served();
                if (done == seen) continue;
                seen = done;
                const double fraction = std::min(1.0, nsBetween(begin, Clock::now()) / (seconds * 1e9));
                try {
                    progress(index, count, qps, phase, (index + fraction) / count);
                } catch (...) { // the client went away: stop, and let the caller find out
                    m_cancelled = true;
                    return;
                }
            }
        });
        struct Join {
            std::atomic<bool>& done;
            std::thread& t;
            void now() {
                done = true;
                if (t.joinable()) t.join();
            }
            ~Join() { now(); }
        } join{pointDone, ticker};
        if (m_o.scenario == LoadScenario::Server) {
            // The schedule is fixed in advance from the seed: the same seed, the same arrivals.
            // It runs for --seconds and until the wanted arrivals have come, a minute at most.
            std::mt19937_64 random(m_o.seed + load);
            std::exponential_distribution<double> gap(qps);
            const int64_t want = wantedQueries();
            const auto cap = begin + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(std::max(m_o.seconds, 60.0)));
            auto next = begin;
            while (!stopped()) {
                next +=
                    std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(random)));
                if (next >= cap || (next >= end && issued >= want)) break;
                std::this_thread::sleep_until(next - kSpin);
                while (Clock::now() < next)
                    spinPause();
                lag.push_back(nsBetween(next, Clock::now()));
                pool.push({next, issued});
                ++issued;
            }
            queries = issued;
            window = nsBetween(begin, std::min(next, Clock::now())) / 1e9;
        } else if (m_o.scenario == LoadScenario::Offline) {
            const auto n = int64_t(std::clamp(seconds * m_result.capacityQps, 4.0 * executors, 1e6));
            std::vector<LoadRequest> all(std::size_t(n), LoadRequest{begin, 0});
            for (int64_t i = 0; i < n; ++i)
                all[std::size_t(i)].query = i;
            pool.pushMany(all);
            issued = queries = n;
        } else {
            while (Clock::now() < end && !stopped()) {
                const auto at = Clock::now();
                std::vector<LoadRequest> query(std::size_t(perQuery), LoadRequest{at, queries});
                pool.pushMany(query);
                issued += perQuery;
                ++queries;
                pool.drain(Clock::time_point::max(), [this] { return stopped(); });
            }
        }
        // What arrived is served; what has not started within another run's length never counts as fast:
        // it is counted with the latency it had when the run gave up on it.
        const bool drained =
            pool.drain(std::max(end, Clock::now()) + std::chrono::duration_cast<Clock::duration>(
                                                         std::chrono::duration<double>(seconds)),
                       [this] { return stopped(); });
        const auto gaveUp = Clock::now();
        const std::vector<LoadRequest> left = pool.close();
        join.now(); // before the point is reported: one caller of the callbacks at a time
        if (const std::string e = pool.error(); !e.empty()) {
            m_result.error = "The model failed under load: " + e;
            return nullptr;
        }
        std::vector<ServedRequest> served = pool.takeServed();
        if (served.empty()) {
            m_result.cancelled = m_result.cancelled || stopped();
            return nullptr;
        }
        LoadPoint p = summarize(served, left, gaveUp, begin, qps, queries, executors, window, m_latency);
        p.batches = pool.calls();
        p.arrivalLag = summarizeLatency(lag);
        p.search = search;
        if (before) { // measured again: judged on both runs' latencies; the two runs' mean utilisation
            std::vector<double> both = before->latency;
            both.insert(both.end(), m_latency.begin(), m_latency.end());
            p.again = true;
            p.p99UpperBound = percentileUpperBound(both, 99, m_confidence);
            p.meetsBound = withinBound(p.p99UpperBound);
            p.utilisation = (before->utilisation + p.utilisation) / 2;
        }
        // Requests given up on, or (server) an offered rate at or beyond the executors' pace. A load cut
        // short by a stop is left undrained by the stop, not by its queue: its pace alone says.
        const bool server = m_o.scenario == LoadScenario::Server;
        const bool abandoned = !stopped() && (!drained || (server && !left.empty()));
        p.overloaded = abandoned || (server && p.utilisation >= 1);
        m_result.curve.push_back(p);
        if (m_callbacks.pointFinished) m_callbacks.pointFinished(p);
        if (stopped()) m_result.cancelled = true;
        return &m_result.curve.back();
    }

    // Pollaczek–Khinchine's M/G/1 mean wait, window by window, at the schedule's own rate `qps` (the
    // Poisson process's, known, not estimated from each window's count, whose noise would bias the convex
    // formula upward), from each window's compute times, weighted by its arrivals: a machine whose speed
    // drifts during the run is held to the queue each stretch of it makes. A window holds 200 arrivals or
    // more, and a second at least. NaN where a window is at or beyond full load, where the formula says
    // nothing.
    static double windowedWaitNs(const std::vector<ServedRequest>& served, Clock::time_point begin,
                                 double seconds, double qps) {
        const double width = std::max({1.0, 200 / qps, seconds / 20}) * 1e9;
        struct Window {
            double n = 0, sum = 0, sum2 = 0;
        };
        std::vector<Window> windows(std::size_t(std::ceil(std::max(seconds * 1e9, 1.0) / width)) + 1);
        for (const auto& s : served) {
            const auto w = std::min(windows.size() - 1,
                                    std::size_t(std::max(0.0, nsBetween(begin, s.scheduled)) / width));
            const double c = nsBetween(s.start, s.end);
            windows[w].n += 1;
            windows[w].sum += c;
            windows[w].sum2 += c * c;
        }
        double total = 0, weight = 0;
        for (const Window& w : windows) {
            if (w.n < 2) continue;
            const double wait = pollaczekKhinchineWaitNs(qps, w.sum / w.n, w.sum2 / w.n);
            if (!std::isfinite(wait)) return std::nan("");
            total += wait * w.n;
            weight += w.n;
        }
        return weight > 0 ? total / weight : std::nan("");
    }

    LoadPoint summarize(std::vector<ServedRequest>& served, const std::vector<LoadRequest>& left,
                        Clock::time_point gaveUp, Clock::time_point begin, double qps, int64_t queries,
                        int executors, double seconds, std::vector<double>& latency) const {
        LoadPoint p;
        p.offeredQps = qps;
        std::sort(served.begin(), served.end(),
                  [](const ServedRequest& a, const ServedRequest& b) { return a.scheduled < b.scheduled; });
        std::vector<double> queue, compute;
        latency.clear();
        for (const auto& s : served) {
            queue.push_back(nsBetween(s.scheduled, s.start));
            compute.push_back(nsBetween(s.start, s.end));
            p.largestBatch = std::max<int64_t>(p.largestBatch, s.batch);
        }
        for (const auto& r : left)
            queue.push_back(nsBetween(r.scheduled, gaveUp));
        // A query's latency runs from its arrival to its last sample's end (multi: N samples together).
        std::vector<Clock::time_point> arrival(std::size_t(queries), gaveUp),
            done(std::size_t(queries), begin);
        Clock::time_point last = begin;
        for (const auto& s : served) {
            if (s.query < 0 || s.query >= queries) continue;
            arrival[std::size_t(s.query)] = s.scheduled;
            done[std::size_t(s.query)] = std::max(done[std::size_t(s.query)], s.end);
            last = std::max(last, s.end);
        }
        for (const auto& r : left)
            if (r.query >= 0 && r.query < queries) {
                arrival[std::size_t(r.query)] = r.scheduled;
                done[std::size_t(r.query)] = gaveUp;
            }
        int64_t completed = 0; // queries all of whose samples were served
        for (int64_t q = 0; q < queries; ++q) {
            latency.push_back(nsBetween(arrival[std::size_t(q)], done[std::size_t(q)]));
            completed += done[std::size_t(q)] != gaveUp;
        }
        p.queries = int64_t(latency.size());
        p.requests = int64_t(served.size() + left.size());
        p.calls = int64_t(served.size());
        p.seconds = nsBetween(begin, last) / 1e9;
        p.achievedQps = p.seconds > 0 ? double(completed) / p.seconds : 0;
        p.itemsPerSecond = p.seconds > 0 ? double(served.size()) / p.seconds : 0;
        p.latency = summarizeLatency(latency);
        p.queue = summarizeLatency(queue);
        p.compute = summarizeLatency(compute);
        p.p99UpperBound = percentileUpperBound(latency, 99, m_confidence);
        // The offered rate (server) or the rate served (the closed loops) against the executors' pace.
        p.utilisation = offeredUtilisation(qps > 0 ? qps : p.itemsPerSecond, executors, served);
        if (m_o.scenario == LoadScenario::Server && executors == 1 && m_o.maxBatch == 1 && !served.empty()) {
            p.predictedQueueNs = windowedWaitNs(served, begin, seconds, qps);
            // Lindley's recursion over what happened: each request starts when it has arrived and the one
            // before it has finished, and computes as long as it did.
            double wait = 0;
            Clock::time_point free = begin;
            for (const auto& s : served) {
                const Clock::time_point start = std::max(s.scheduled, free);
                wait += nsBetween(s.scheduled, start);
                free = start + (s.end - s.start);
            }
            p.idealQueueNs = wait / double(served.size());
        }
        p.meetsBound = withinBound(p.p99UpperBound);
        return p;
    }

    PreparedForward& m_f;
    const LoadOptions& m_o;
    const LoadCallbacks& m_callbacks;
    LoadResult& m_result;
    Clock::time_point m_start;
    int64_t m_loads = 0; // loads begun: each one's arrivals come from the seed plus this count
    double m_confidence = m_o.confidence; // of each judgement of a load's p99 (the peak search's: findPeak())
    std::vector<double> m_latency;        // the last load's latencies, each query's
    std::atomic<bool> m_cancelled{false};
};

} // namespace

LoadResult loadInProcess(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                         const LoadOptions& options, const LoadCallbacks& callbacks,
                         const std::atomic<bool>* stop) {
    LoadResult result;
    result.options = options;
    // "All threads" under load: the cores the arrivals' generator leaves, shared among the executors, so
    // that the generator keeps its schedule and the model does not lose a core to it.
    RunConfig& served = result.options.config;
    if (served.threads <= 0 && served.device == "cpu") {
        const int executors = options.scenario == LoadScenario::SingleStream ? 1 : options.concurrency;
        served.threads = std::max(1, (threadSettings().hardware - 1) / std::max(1, executors));
    }
    result.label = served.label();
    try {
        validateLoadOptions(options);
        const InputBinding binding = model.bindInputs(readInputs(inputs, read));
        if (!binding.ok) throw Error(binding.error);
        RunConfig config = served;
        config.warmup = 1;
        const LoadOptions& o = result.options;
        const RunResult run =
            runConfiguration(model, binding, config, {}, stop, false,
                             [&](PreparedForward& f, RunRecord&) { LoadRun(f, o, callbacks, result).run(); });
        if (!run.record.ok && result.error.empty())
            result.error = run.record.error.empty() ? "the configuration did not run" : run.record.error;
        if (run.record.cancelled) result.cancelled = true;
    } catch (const std::exception& e) {
        result.error = e.what();
    }
    result.ok = result.error.empty() && !result.curve.empty();
    finishLoad(result);
    return result;
}

} // namespace detail
} // namespace twb
