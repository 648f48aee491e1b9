// Latency under load: bad parameters refused in one sentence each, the distribution-free bound of a
// percentile, and real runs in a worker on a model of fixed work (about a millisecond of matrix
// products): the waiting time of Poisson arrivals against queueing theory (M/G/1, Pollaczek–Khinchine)
// at 50% and 80% utilisation, overload measured from the schedule (coordinated omission), the peak
// search, the closed-loop scenarios, a crashing worker, cancel, and the report.
#include "test_support.h"

#include "run/load_internal.h"

#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/load.h"
#include "twb/report.h"

#include <algorithm>
#include <cmath>
#include <random>

class TestLoad : public QObject {
    Q_OBJECT
private slots:
    void badParametersAreRefusedInOneSentence_data();
    void badParametersAreRefusedInOneSentence();
    void percentileUpperBoundCoversTheTruePercentile();
    void pollaczekKhinchineOnAKnownQueue();
    void waitingTimeFollowsQueueingTheory_data();
    void waitingTimeFollowsQueueingTheory();
    void overloadIsMeasuredFromTheSchedule();
    void aBoundBelowTheServiceTimeIsRefused();
    void peakSearchBracketsTheBound();
    void spreadIsAroundTheMiddleOne();
    void searchesInTurnsAreToldApart();
    void peakSearchStepsOnMadeUpJudgements();
    void overloadIsTheExecutorsPaceNotAStall();
    void closedLoopScenarios();
    void dynamicBatchingGathersArrivalsWithinTheWindow();
    void aModelThatCannotTakeABatchIsRefused();
    void aCrashingWorkerEndsTheRunWithTheReason();
    void aHangingModelEndsTheRunWithTheReason();
    void cancelKeepsWhatWasMeasured();
    void reportRoundTrips();
    void theKneeIsWhereLatencyStaysHigh();
    void theMostWithinTheBoundIsJudgedByItsP99();
};

namespace {

const twb::Model& fixedWork() {
    static const twb::Model model = twb::Model::load(TWB_DATA("fixed_work.pt"));
    return model;
}

std::vector<twb::InputSpec> fixedWorkInputs() {
    return {twb::InputSpec::parseGenerated("normal:160x160:seed=1")};
}

twb::LoadOptions options(twb::LoadScenario scenario, double seconds) {
    twb::LoadOptions o;
    o.scenario = scenario;
    o.config = twb::RunConfig::parse("threads=1");
    o.seconds = seconds;
    return o;
}

twb::LoadResult run(const twb::LoadOptions& o, const twb::LoadCallbacks& callbacks = {},
                    const std::atomic<bool>* stop = nullptr, const twb::WorkerOptions& worker = {}) {
    return twb::runLoad(fixedWork(), fixedWorkInputs(), {}, o, callbacks, stop, worker);
}

// One sentence: no line break, no sentence break inside, a full stop at the end.
bool oneSentence(const std::string& s) {
    return !s.empty() && s.find('\n') == std::string::npos && s.back() == '.' &&
           s.substr(0, s.size() - 1).find(". ") == std::string::npos;
}

// The service time alone, back to back, measured once in a short single-stream run, for the tests that
// need only its size; 0 when it failed.
double serviceNs() {
    static const double ns = [] {
        const twb::LoadResult r = run(options(twb::LoadScenario::SingleStream, 1));
        return r.ok ? r.curve.at(0).compute.mean : 0.0;
    }();
    return ns;
}

} // namespace

void TestLoad::badParametersAreRefusedInOneSentence_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("says");
    QTest::newRow("zero seconds") << "seconds" << "above zero seconds";
    QTest::newRow("more than a day") << "a day" << "at most a day";
    QTest::newRow("a QPS too low to schedule") << "a trickle" << "from 0.001 up";
    QTest::newRow("a QPS the generator cannot keep") << "qps" << "cannot keep";
    QTest::newRow("no executors") << "concurrency" << "between 1 and 256";
    QTest::newRow("a peak without a bound") << "peak" << "needs the p99 bound";
    QTest::newRow("a peak off the server") << "peak-offline" << "Only the server scenario";
    QTest::newRow("batches of none") << "batch" << "between 1 and 4096 requests";
    QTest::newRow("a window without batches") << "window" << "--max-batch above 1";
    QTest::newRow("a negative window") << "negative window" << "between 0 and 1,000,000";
    QTest::newRow("batches of a single stream") << "single-batch" << "nothing to batch it with";
    QTest::newRow("a window offline") << "offline-window" << "only the server scenario spreads";
    QTest::newRow("a utilisation beside a QPS") << "utilisation-qps" << "without --qps";
    QTest::newRow("a utilisation of three") << "utilisation" << "between 0.01 and 2";
    QTest::newRow("a utilisation next to nothing") << "tiny utilisation" << "between 0.01 and 2";
    QTest::newRow("a utilisation that is not a number") << "nan utilisation" << "between 0.01 and 2";
    QTest::newRow("a utilisation offline") << "offline-utilisation" << "only the server scenario has";
    QTest::newRow("a utilisation and a peak") << "peak-utilisation" << "without --qps and --find-peak";
    QTest::newRow("searches in turns without a peak") << "searches" << "add --find-peak";
    QTest::newRow("ten searches in turns") << "ten searches" << "Between 1 and 9 peak searches";
}

void TestLoad::badParametersAreRefusedInOneSentence() {
    QFETCH(QString, what);
    QFETCH(QString, says);
    twb::LoadOptions o = options(twb::LoadScenario::Server, 5);
    o.qps = 100;
    if (what == "seconds") o.seconds = 0;
    if (what == "a day") o.seconds = 1e10;
    if (what == "a trickle") o.qps = 1e-9;
    if (what == "qps") o.qps = 1e7;
    if (what == "concurrency") o.concurrency = 0;
    if (what == "peak") o.findPeak = true;
    if (what == "batch") o.maxBatch = 0;
    if (what == "window") o.batchWindowUs = 500;
    if (what == "negative window") {
        o.maxBatch = 4;
        o.batchWindowUs = -1;
    }
    if (what == "single-batch") {
        o.scenario = twb::LoadScenario::SingleStream;
        o.maxBatch = 4;
    }
    if (what == "offline-window") {
        o.scenario = twb::LoadScenario::Offline;
        o.maxBatch = 4;
        o.batchWindowUs = 500;
    }
    if (what == "utilisation-qps") o.utilisation = 0.8;
    if (what.endsWith("utilisation") && what != "utilisation-qps") o.qps = 0;
    if (what == "utilisation") o.utilisation = 3;
    if (what == "tiny utilisation") o.utilisation = 1e-300;
    if (what == "nan utilisation") o.utilisation = std::nan("");
    if (what == "offline-utilisation") {
        o.scenario = twb::LoadScenario::Offline;
        o.utilisation = 0.5;
    }
    if (what == "peak-utilisation") {
        o.findPeak = true;
        o.p99BoundMs = 10;
        o.utilisation = 0.5;
    }
    if (what == "searches") o.peakSearches = 3;
    if (what == "ten searches") {
        o.findPeak = true;
        o.p99BoundMs = 10;
        o.qps = 0;
        o.peakSearches = 10;
    }
    if (what == "peak-offline") {
        o.scenario = twb::LoadScenario::Offline;
        o.findPeak = true;
        o.p99BoundMs = 10;
    }
    std::string message;
    try {
        twb::validateLoadOptions(o);
    } catch (const twb::Error& e) {
        message = e.what();
    }
    QVERIFY2(twbtest::contains(message, says.toStdString()), message.c_str());
    QVERIFY2(oneSentence(message), message.c_str());
    // runLoad refuses the same before it starts a worker.
    QVERIFY_THROWS_EXCEPTION(twb::Error, run(o));
    // And a sound request passes.
    QVERIFY_THROWS_NO_EXCEPTION(twb::validateLoadOptions(options(twb::LoadScenario::Offline, 1)));
    QCOMPARE(twb::parseScenario("multi"), twb::LoadScenario::MultiStream);
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::parseScenario("burst"));
}

void TestLoad::percentileUpperBoundCoversTheTruePercentile() {
    // 100 samples cannot bound a p99 at 99% confidence: even the largest is below it a third of the time.
    std::vector<double> few(100);
    std::iota(few.begin(), few.end(), 1.0);
    QVERIFY(std::isnan(twb::percentileUpperBound(few, 99, 0.99)));
    // Uniform samples on [0, 1): the true p99 is 0.99. At 99% confidence the bound lies below it in at
    // most about 1% of trials, and sits above the sample's own p99.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    int below = 0;
    const int trials = 1000;
    for (int t = 0; t < trials; ++t) {
        std::vector<double> s(2000);
        for (double& x : s)
            x = u(rng);
        const double bound = twb::percentileUpperBound(s, 99, 0.99);
        QVERIFY(std::isfinite(bound));
        if (bound < 0.99) ++below;
        std::sort(s.begin(), s.end());
        QVERIFY(bound >= twb::percentileOfSorted(s, 99));
    }
    qInfo("bound below the true p99 in %d of %d trials", below, trials);
    QVERIFY2(below <= 25, qPrintable(QString::number(below))); // binomial(1000, 0.01): 25 is beyond 4 sd
    QVERIFY(below >= 1 || trials < 500);                       // and it is not vacuously loose
}

void TestLoad::pollaczekKhinchineOnAKnownQueue() {
    // M/D/1 at 50%: 1 ms of service, 500 arrivals a second, a mean wait of ρ S / 2(1 − ρ) = 0.5 ms.
    QCOMPARE(std::round(twb::pollaczekKhinchineWaitNs(500, 1e6, 1e12)), 5e5);
    // M/M/1 at 80% (E[S²] = 2 S²): ρ S / (1 − ρ) = 4 ms.
    QCOMPARE(std::round(twb::pollaczekKhinchineWaitNs(800, 1e6, 2e12)), 4e6);
    QVERIFY(std::isinf(twb::pollaczekKhinchineWaitNs(1000, 1e6, 1e12)));
}

void TestLoad::waitingTimeFollowsQueueingTheory_data() {
    QTest::addColumn<double>("rho");
    QTest::addColumn<double>("arrivals");
    QTest::newRow("50%") << 0.5 << 4000.0;
    QTest::newRow("80%") << 0.8 << 6000.0;
}

namespace {
// The range in which 99% of M/D/1 queues of `n` Poisson arrivals at utilisation `rho` put their mean wait,
// as a share of the formula's: simulated (Lindley's recursion), 400 queues.
std::pair<double, double> simulatedRange(double rho, int64_t n) {
    std::mt19937_64 rng(11);
    std::exponential_distribution<double> gap(rho);
    const double formula = rho / (2 * (1 - rho));
    std::vector<double> ratios;
    for (int q = 0; q < 400; ++q) {
        double wait = 0, total = 0;
        for (int64_t i = 0; i < n; ++i) {
            total += wait;
            wait = std::max(0.0, wait + 1 - gap(rng)); // the next arrival's: this one's, its service, the gap
        }
        ratios.push_back(total / double(n) / formula);
    }
    std::sort(ratios.begin(), ratios.end());
    return {twb::percentileOfSorted(ratios, 0.5), twb::percentileOfSorted(ratios, 99.5)};
}
} // namespace

void TestLoad::waitingTimeFollowsQueueingTheory() {
    QFETCH(double, rho);
    QFETCH(double, arrivals);
#ifdef TWB_ASAN
    QSKIP("Under AddressSanitizer the calls slow in stretches and the formula's premise of independent "
          "service times fails; the release and distribution builds hold the queue to it");
#endif
    // The formula holds for a service time that stays put, and the measured wait matches the ideal one when
    // the executor is handed each request promptly. Where this machine's load moves the service time so far
    // that some stretch of the run is at or beyond full load, or slows the calls in stretches, or the run
    // lands far from the utilisation asked, or holds the executor's thread off long enough to add more than
    // 15% to the queue, the run says nothing about the formula: it is measured again, up to five times.
    // Every attempt is held to the queue its own arrivals and compute times make at the least, so a wait
    // measured from anywhere but the schedule fails every attempt.
    QVERIFY(serviceNs() > 0);
    twb::LoadPoint p;
    bool undisturbed = false;
    QStringList why; // each attempt's reasons for not judging it
    for (int attempt = 1; attempt <= 5 && !undisturbed; ++attempt) {
        // The offered load a share of the capacity the run measures just before, in its own process. As
        // many arrivals as the tolerance needs, within half a minute (a slow build serves fewer).
        twb::LoadOptions o =
            options(twb::LoadScenario::Server, std::clamp(arrivals * serviceNs() / rho / 1e9, 4.0, 30.0));
        o.utilisation = rho;
        const twb::LoadResult r = run(o);
        QVERIFY2(r.ok, r.error.c_str());
        QCOMPARE(r.curve.size(), std::size_t(1));
        p = r.curve[0];
        QVERIFY(std::abs(p.offeredQps - rho * r.capacityQps) <= 1e-6 * p.offeredQps);
        qInfo(
            "attempt %d: service %.0f µs, offered %.1f QPS, utilisation %.2f: mean wait %.0f µs, M/G/1 "
            "predicts %.0f µs, an ideal FIFO server on the same arrivals and compute times %.0f µs; arrivals "
            "late by %.1f µs at p99",
            attempt, r.serviceMeanNs / 1e3, p.offeredQps, p.utilisation, p.queue.mean / 1e3,
            p.predictedQueueNs / 1e3, p.idealQueueNs / 1e3, p.arrivalLag.p99 / 1e3);
        // The queue as measured is at least the queue these arrivals and compute times make (Lindley's
        // recursion): a wait measured from when a request was taken, not from its schedule, would fall short.
        QVERIFY(std::isfinite(p.idealQueueNs));
        QVERIFY2(p.queue.mean >= 0.95 * p.idealQueueNs,
                 qPrintable(QString("measured / ideal = %1").arg(p.queue.mean / p.idealQueueNs)));
        // Latency is queue plus compute, request by request.
        QVERIFY(std::abs(p.latency.mean - (p.queue.mean + p.compute.mean)) <= 0.01 * p.latency.mean);
        QCOMPARE(p.requests, p.calls);
        // The ideal queue of these very arrivals and compute times, far from the formula's, means the
        // compute times came in slow stretches rather than as independent draws (the machine slowed for a
        // while), and the formula does not apply to that run. The arrivals are on schedule (their lateness
        // is measured), so a generator whose schedule were not Poisson would show here in every attempt.
        const auto [low, high] = simulatedRange(std::clamp(p.utilisation, 0.2, 0.9), p.requests);
        const double idealRatio = p.idealQueueNs / p.predictedQueueNs;
        QStringList reasons;
        if (!(std::isfinite(p.predictedQueueNs) && p.predictedQueueNs > 0))
            reasons << "a stretch at or beyond full load";
        if (!(p.utilisation > rho - 0.25 && p.utilisation < 0.95))
            reasons << QString("utilisation %1").arg(p.utilisation, 0, 'f', 2);
        if (p.queue.mean > 1.15 * p.idealQueueNs + 200e3)
            reasons << QString("the executor held off (measured / ideal %1)")
                           .arg(p.queue.mean / p.idealQueueNs, 0, 'f', 2);
        if (reasons.isEmpty() && !(idealRatio >= low - 0.15 && idealRatio <= high + 0.15))
            reasons << QString("the ideal queue of these arrivals and compute times %1 of M/G/1's, outside "
                               "%2–%3: slow stretches, or arrivals that are not Poisson")
                           .arg(idealRatio, 0, 'f', 2)
                           .arg(low - 0.15, 0, 'f', 2)
                           .arg(high + 0.15, 0, 'f', 2);
        undisturbed = reasons.isEmpty();
        if (!undisturbed) why << QString("attempt %1: %2").arg(attempt).arg(reasons.join(", "));
    }
    // The attempt judged holds both halves: the queue its own arrivals and compute times make is within the
    // range that M/D/1 queues of this many arrivals give by chance alone (simulated, widened by 15% for the
    // service time's own spread), so the generator's arrivals are Poisson at the rate asked; and the queue
    // measured is that queue, within 5% below and 15% plus 200 µs above for the hand-over (every request,
    // even one that finds the executor idle, waits 30 to 60 µs for its thread to wake). Each tolerance is
    // held against what it models; multiplying them into one range around the formula would count the
    // machine's spread twice.
    QVERIFY2(undisturbed, qPrintable("no attempt the formula applies to; " + why.join("; ")));
    QVERIFY(!p.overloaded);
    qInfo("measured / predicted = %.2f for %lld arrivals", p.queue.mean / p.predictedQueueNs,
          static_cast<long long>(p.requests));
}

void TestLoad::overloadIsMeasuredFromTheSchedule() {
    // Three times what one executor serves, for two seconds: the queue grows, and the requests it delays
    // carry their whole wait. Timing each call from when it started would show the service time instead.
    const double service = serviceNs();
    twb::LoadOptions o = options(twb::LoadScenario::Server, 2);
    o.qps = std::min(twb::maxGeneratorQps(), 3e9 / service);
    const twb::LoadResult r = run(o);
    QVERIFY2(r.ok, r.error.c_str());
    const twb::LoadPoint& p = r.curve.at(0);
    qInfo("offered %.0f QPS, achieved %.0f: latency p99 %.1f ms, compute p99 %.2f ms", p.offeredQps,
          p.achievedQps, p.latency.p99 / 1e6, p.compute.p99 / 1e6);
    QVERIFY(p.overloaded);
    QVERIFY(p.latency.p99 > 0.5e9);              // the late arrivals waited most of a second at least
    QVERIFY(p.latency.p99 > 20 * p.compute.p99); // and it was the queue, not the model
    QVERIFY(p.achievedQps < 0.8 * p.offeredQps);
    QVERIFY(twbtest::contains(r.verdict, "the queue grows"));
}

void TestLoad::aBoundBelowTheServiceTimeIsRefused() {
    twb::LoadOptions o = options(twb::LoadScenario::Server, 1);
    o.qps = 10;
    o.p99BoundMs = 0.001; // 1 µs
    const twb::LoadResult r = run(o);
    QVERIFY(!r.ok);
    QVERIFY2(twbtest::contains(r.error, "below the model's service time"), r.error.c_str());
    QVERIFY2(oneSentence(r.error), r.error.c_str());
    QVERIFY(r.curve.empty());
}

void TestLoad::peakSearchBracketsTheBound() {
    const double service = serviceNs();
    // Short loads: 500 arrivals at least, and the 597 that the search's 95% bound on the p99 needs (half the
    // risk of 90% a judgement).
    twb::LoadOptions o = options(twb::LoadScenario::Server, 0.5);
    o.minQueries = 500;
    o.confidence = 0.9;
    o.findPeak = true;
    o.peakSearches = 2; // in turns: a load of each in rotation
    o.p99BoundMs = 10 * service / 1e6;
    std::vector<double> offered;
    twb::LoadCallbacks callbacks;
    callbacks.pointFinished = [&](const twb::LoadPoint& p) { offered.push_back(p.offeredQps); };
    const twb::LoadResult r = run(o, callbacks);
    QVERIFY2(r.ok, r.error.c_str());
    qInfo("%s", r.verdict.c_str());
    QVERIFY(r.peakQps > 0);
    QVERIFY(r.peakFailedQps > r.peakQps);
    QVERIFY(r.peakQps < 1.2e9 / service);     // never above what one executor can serve
    QCOMPARE(offered.size(), r.curve.size()); // each point arrived as it was measured
    // Each search's peak is a load of its own that was measured and met the bound, judged on the arrivals
    // it was asked for; the result's is the lower of the two.
    QCOMPARE(r.searchPeaksQps.size(), std::size_t(2));
    for (int search = 0; search < 2; ++search) {
        const double peak = r.searchPeaksQps[std::size_t(search)];
        const auto at = std::find_if(r.curve.rbegin(), r.curve.rend(), [&](const twb::LoadPoint& p) {
            return p.search == search && p.offeredQps == peak;
        });
        QVERIFY2(at != r.curve.rend(), qPrintable(QString::number(peak)));
        QVERIFY(at->meetsBound);
        QVERIFY(at->queries >= 500);
    }
    QCOMPARE(r.peakQps, std::min(r.searchPeaksQps[0], r.searchPeaksQps[1]));
    // A load that failed, short of clearly beyond the executors' pace, is measured again at once, for the
    // same search, and judged on both runs' arrivals: its bound is over twice as many latencies, so it lies
    // within the two runs' own. One that failed clearly beyond the pace is not.
    int again = 0;
    for (std::size_t i = 0; i < r.curve.size(); ++i) {
        const twb::LoadPoint& p = r.curve[i];
        if (p.again) {
            ++again;
            QVERIFY(i > 0 && !r.curve[i - 1].meetsBound && !r.curve[i - 1].again);
            QCOMPARE(r.curve[i - 1].offeredQps, p.offeredQps);
            QCOMPARE(r.curve[i - 1].search, p.search);
            QVERIFY(std::isfinite(p.p99UpperBound));
            QCOMPARE(p.meetsBound, p.p99UpperBound <= o.p99BoundMs * 1e6);
            QVERIFY(p.p99UpperBound <= std::max(r.curve[i - 1].p99UpperBound, p.latency.max));
        } else if (!p.meetsBound && !(p.utilisation >= twb::detail::kClearlyOverloaded) &&
                   std::isfinite(p.p99UpperBound)) {
            QVERIFY2(i + 1 < r.curve.size() && r.curve[i + 1].again,
                     qPrintable(QString("load %1 missed the bound and was not measured again").arg(i)));
        } else if (!p.meetsBound) {
            QVERIFY2(i + 1 == r.curve.size() || !r.curve[i + 1].again,
                     qPrintable(QString("load %1, %2 of the pace, was measured again")
                                    .arg(i)
                                    .arg(p.utilisation, 0, 'f', 2)));
        }
    }
    qInfo("%d loads measured again", again);
    // In turns: both searches start at the same load, one after the other, and neither runs two loads in a
    // row while the other still searches.
    std::vector<const twb::LoadPoint*> firstRuns; // each load as first measured
    for (const auto& p : r.curve)
        if (!p.again) firstRuns.push_back(&p);
    QVERIFY(firstRuns.size() >= 4);
    QCOMPARE(firstRuns[0]->search, 0);
    QCOMPARE(firstRuns[1]->search, 1);
    QCOMPARE(firstRuns[0]->offeredQps, firstRuns[1]->offeredQps);
    QCOMPARE(firstRuns[2]->search, 0);
    QVERIFY(twbtest::contains(r.verdict, "Peak: "));
    QVERIFY2(twbtest::contains(r.verdict, "2 searches in turns found "), r.verdict.c_str());
    QVERIFY2(twbtest::contains(r.verdict, "% of the middle one."), r.verdict.c_str());
    // The report keeps each search's peak and which search measured each load.
    twb::Report report;
    report.hasLoad = true;
    report.load = r;
    const twb::Report back = twb::reportFromJson(twb::reportToJson(report));
    QCOMPARE(back.load.options.peakSearches, 2);
    QCOMPARE(back.load.searchPeaksQps, r.searchPeaksQps);
    QCOMPARE(back.load.curve.size(), r.curve.size());
    for (std::size_t i = 0; i < r.curve.size(); ++i) {
        QCOMPARE(back.load.curve[i].search, r.curve[i].search);
        QCOMPARE(back.load.curve[i].again, r.curve[i].again);
    }
}

void TestLoad::spreadIsAroundTheMiddleOne() {
    QCOMPARE(twb::spreadAroundMiddle({100, 90, 105}), 0.1);
    QCOMPARE(twb::spreadAroundMiddle({500}), 0.0);
    QCOMPARE(twb::spreadAroundMiddle({80, 100}), 0.25); // the lower middle of an even count
    QVERIFY(std::isnan(twb::spreadAroundMiddle({})));
    QVERIFY(std::isnan(twb::spreadAroundMiddle({0, 0, 5})));
}

// The verdict of searches in turns, on results made up to the case: each search's peak, and the middle one's
// bracket as the result's, as the search leaves them.
void TestLoad::searchesInTurnsAreToldApart() {
    twb::LoadResult r;
    r.options = options(twb::LoadScenario::Server, 1);
    r.options.findPeak = true;
    r.options.p99BoundMs = 10;
    r.options.peakSearches = 3;
    r.curve.resize(1);
    r.curve[0].offeredQps = 450;
    auto verdict = [&] {
        r.ok = true;
        twb::detail::finishLoad(r);
        return r.verdict;
    };
    r.searchPeaksQps = {500, 460, 520};
    r.peakQps = 500;
    r.peakFailedQps = 520;
    std::string v = verdict();
    QVERIFY2(twbtest::contains(v, "Peak: 500 QPS with p99 within 10.000 ms"), v.c_str());
    QVERIFY2(twbtest::contains(
                 v, "3 searches in turns found 500, 460 and 520 QPS, within ±8.0% of the middle one."),
             v.c_str());
    QVERIFY2(!twbtest::contains(v, "steps"), v.c_str());
    // A bracket the search's steps ran out before narrowing: said so.
    r.peakQps = 400;
    r.peakFailedQps = 600;
    v = verdict();
    QVERIFY2(twbtest::contains(v,
                               "(600 QPS did not; the search ended after its 16 steps, before the two came "
                               "within 5%)."),
             v.c_str());
    // Cancelled: a wide bracket is the cancel's, not the steps'.
    r.cancelled = true;
    v = verdict();
    QVERIFY2(v.rfind("Cancelled during the peak search; so far: Peak: 400 QPS", 0) == 0, v.c_str());
    QVERIFY2(!twbtest::contains(v, "steps"), v.c_str());
    r.cancelled = false;
    r.peakQps = 500;
    r.peakFailedQps = 520;
    // The middle search found nothing, though another did: said so, not that no load met the bound.
    r.searchPeaksQps = {0, 0, 450};
    r.peakQps = 0;
    r.peakFailedQps = 14;
    v = verdict();
    QVERIFY2(
        twbtest::contains(v, "The middle search met p99 within 10.000 ms at no load it tried (the lightest, "
                             "14.0 QPS, did not)."),
        v.c_str());
    QVERIFY2(!twbtest::contains(v, "No load tried met"), v.c_str());
    // None found one.
    r.searchPeaksQps = {0, 0, 0};
    v = verdict();
    QVERIFY2(
        twbtest::contains(v, "No load tried met p99 within 10.000 ms (the lightest, 14.0 QPS, did not)."),
        v.c_str());
    // Cancelled: what the searches had found so far, said to be so, and no "0 QPS" of a failure never
    // measured.
    r.cancelled = true;
    r.searchPeaksQps = {450};
    r.peakQps = 450;
    r.peakFailedQps = 0;
    v = verdict();
    QVERIFY2(v.rfind("Cancelled during the peak search; so far: Peak: at least 450 QPS", 0) == 0, v.c_str());
    r.peakQps = 0;
    r.searchPeaksQps = {0};
    v = verdict();
    QVERIFY2(twbtest::contains(v, "No load tried met p99 within 10.000 ms."), v.c_str());
    QVERIFY2(!twbtest::contains(v, " 0 QPS"), v.c_str());
}

// The search's steps on judgements made up from a peak: it brackets the peak within 5%, with both loads
// measured, wherever the peak lies against the capacity measured on its own, within the steps a run gives
// it.
void TestLoad::peakSearchStepsOnMadeUpJudgements() {
    struct Case {
        double peak, limit;
    };
    const double capacity = 1000;
    for (const Case c : {Case{700, 1e6}, Case{1190, 1e6}, Case{1700, 1e6}, Case{9000, 1e6}, Case{900e3, 1e6},
                         Case{100, 1e6}, Case{5000, 1500}, Case{100, 300}, Case{5000, 300}}) {
        twb::detail::PeakSearch s(capacity, c.limit);
        std::vector<double> tried;
        while (!s.done && s.loads < 40) {
            QVERIFY(s.qps > 0 && s.qps <= c.limit);
            tried.push_back(s.qps);
            s.judged(s.qps <= c.peak);
        }
        const QString what = QString("peak %1, generator's limit %2").arg(c.peak).arg(c.limit);
        QVERIFY2(s.done, qPrintable(what));
        QVERIFY2(s.loads <= twb::detail::PeakSearch::kMostSteps,
                 qPrintable(what + QString(": %1 loads").arg(s.loads)));
        if (c.peak >= c.limit) { // the generator's limit, not the model's: nothing failed
            QCOMPARE(s.pass, c.limit);
            QVERIFY(!s.failed);
            continue;
        }
        QVERIFY2(s.failed, qPrintable(what)); // the failing load was measured, not assumed
        QVERIFY2(twb::detail::PeakSearch::close(s.pass, s.fail), qPrintable(what));
        QVERIFY2(s.pass <= c.peak && c.peak < s.fail, qPrintable(what)); // the bracket holds the peak
    }
    // Nothing passes: it gives up below 1/64 of the capacity, or of the generator's limit below it.
    for (const double limit : {1e6, 300.0}) {
        twb::detail::PeakSearch none(capacity, limit);
        while (!none.done && none.loads < 40)
            none.judged(false);
        QVERIFY(none.done);
        QCOMPARE(none.pass, 0.0);
        QVERIFY(none.failed && none.fail < std::min(capacity, limit) / 32);
    }
    QVERIFY(twb::detail::PeakSearch(0, 1e6).done); // no capacity measured: nothing to search from
    QVERIFY(twb::detail::PeakSearch(std::nan(""), 1e6).done);
}

// The executors' utilisation on made-up calls: the offered rate times a request's mean share of its call.
// Stalls that held a few calls for 50 ms, enough to put the mean's pace below the arrivals, are left out;
// a steady share of slow calls is not, as a median would leave it; a batch's call is shared among its
// requests, and each batch size's calls are judged against their own median.
void TestLoad::overloadIsTheExecutorsPaceNotAStall() {
    using twb::detail::ServedRequest;
    const auto call = [](double ns, int batch = 1) {
        ServedRequest s;
        s.end = s.start + std::chrono::nanoseconds(int64_t(ns));
        s.batch = batch;
        return s;
    };
    const auto calls = [&](std::size_t n, double ns, std::size_t stalls = 0, int batch = 1) {
        std::vector<ServedRequest> v(n, call(ns, batch));
        for (std::size_t i = 0; i < stalls; ++i)
            v[n - 1 - i * 7] = call(50e6, batch);
        return v;
    };
    const auto near = [](double value, double expected) { return std::abs(value - expected) < 1e-9; };
    using twb::detail::offeredUtilisation;
    // One executor at 1 ms a request serves 1,000 a second.
    QVERIFY(near(offeredUtilisation(740, 1, calls(740, 1e6, 1)), 0.74)); // a stall left out
    QVERIFY(near(offeredUtilisation(900, 1, calls(900, 1e6, 5)), 0.90)); // counted in: 1.15
    QVERIFY(near(offeredUtilisation(1000, 1, calls(1000, 1e6)), 1.0));
    QVERIFY(near(offeredUtilisation(1590, 1, calls(1590, 1e6, 3)), 1.59));
    // 40% of the calls at 3 ms: the mean is 1.8 ms (the median, 1 ms, would say 0.6 at 600 a second).
    std::vector<ServedRequest> mixed = calls(1000, 1e6);
    std::fill(mixed.begin(), mixed.begin() + 400, call(3e6));
    QVERIFY(near(offeredUtilisation(600, 1, mixed), 1.08));
    // Two executors serve twice as many.
    QVERIFY(near(offeredUtilisation(1900, 2, calls(1900, 1e6)), 0.95));
    QVERIFY(near(offeredUtilisation(2500, 2, calls(2500, 1e6, 2)), 1.25));
    // Batches: 8 requests to a 2 ms call, 0.25 ms each, a stalled batch left out.
    QVERIFY(near(offeredUtilisation(3000, 1, calls(3000, 2e6, 1, 8)), 0.75));
    // 20% of the requests alone in 1 ms calls, 80% sixteen to a 1.6 ms call (0.1 ms each): the lone calls
    // are ten times the median share, but not their own size's median.
    std::vector<ServedRequest> sizes = calls(800, 1.6e6, 0, 16);
    const std::vector<ServedRequest> lone = calls(200, 1e6);
    sizes.insert(sizes.end(), lone.begin(), lone.end());
    QVERIFY(near(offeredUtilisation(3000, 1, sizes), 3000 * (0.2 * 1e-3 + 0.8 * 0.1e-3)));
    // Nothing served, nothing arrived, or no executor: nothing to say.
    QVERIFY(std::isnan(offeredUtilisation(100, 1, {})));
    QVERIFY(std::isnan(offeredUtilisation(0, 1, calls(100, 1e6))));
    QVERIFY(std::isnan(offeredUtilisation(100, 0, calls(100, 1e6))));
}

void TestLoad::closedLoopScenarios() {
    const twb::LoadResult single = run(options(twb::LoadScenario::SingleStream, 0.5));
    QVERIFY2(single.ok, single.error.c_str());
    const twb::LoadPoint& s = single.curve.at(0);
    QCOMPARE(s.queries, s.requests);
    QVERIFY(s.queue.p99 < s.compute.p50); // one at a time: next to no queue
    QVERIFY(twbtest::contains(single.verdict, "p90"));

    twb::LoadOptions mo = options(twb::LoadScenario::MultiStream, 0.5);
    mo.samplesPerQuery = 4;
    mo.concurrency = 2;
    const twb::LoadResult multi = run(mo);
    QVERIFY2(multi.ok, multi.error.c_str());
    const twb::LoadPoint& m = multi.curve.at(0);
    QCOMPARE(m.requests, 4 * m.queries);
    QVERIFY(m.latency.p50 >= m.compute.p50); // a query waits for its last sample

    twb::LoadOptions oo = options(twb::LoadScenario::Offline, 0.5);
    oo.concurrency = 2;
    const twb::LoadResult offline = run(oo);
    QVERIFY2(offline.ok, offline.error.c_str());
    QVERIFY(offline.curve.at(0).itemsPerSecond > 0);
    QVERIFY(twbtest::contains(offline.verdict, "samples a second"));
}

namespace {
double meanBatch(const twb::LoadPoint& p) {
    return p.batches > 0 ? double(p.calls) / double(p.batches) : 0;
}
} // namespace

void TestLoad::dynamicBatchingGathersArrivalsWithinTheWindow() {
    // A request of one row: eight rows cost a call little more than one, as batching assumes. 2,000
    // arrivals a second, a few a millisecond.
    const std::vector<twb::InputSpec> row{twb::InputSpec::parseGenerated("normal:1x160:seed=1")};
    auto serve = [&](int maxBatch, double windowUs) {
        twb::LoadOptions o = options(twb::LoadScenario::Server, 1);
        o.qps = 2000;
        o.maxBatch = maxBatch;
        o.batchWindowUs = windowUs;
        return twb::runLoad(fixedWork(), row, {}, o);
    };
    // Batches of up to four, gathered for up to 4 ms after the oldest arrival: about eight arrive in that
    // time, so most batches fill.
    const twb::LoadResult wide = serve(4, 4000);
    QVERIFY2(wide.ok, wide.error.c_str());
    const twb::LoadPoint& w = wide.curve.at(0);
    qInfo("window 4 ms: %lld requests in %lld calls, queue mean %.0f µs; %s", (long long)w.calls,
          (long long)w.batches, w.queue.mean / 1e3, wide.verdict.c_str());
    QCOMPARE(w.calls, w.requests);        // every request served, once
    QCOMPARE(w.largestBatch, int64_t(4)); // never more than asked
    QVERIFY2(meanBatch(w) > 2.5, qPrintable(QString::number(meanBatch(w))));
    QVERIFY(wide.batchServiceMeanNs > 0);
    QVERIFY(std::isnan(w.predictedQueueNs) && std::isnan(w.idealQueueNs)); // M/G/1 is not a batch queue
    QVERIFY2(twbtest::contains(wide.verdict, "batches of ") && twbtest::contains(wide.verdict, "at most 4"),
             wide.verdict.c_str());

    // No window: a batch is what waited while the executor was busy, at this light load mostly one.
    const twb::LoadResult none = serve(4, 0);
    QVERIFY2(none.ok, none.error.c_str());
    const twb::LoadPoint& n = none.curve.at(0);
    QCOMPARE(n.calls, n.requests);
    QVERIFY(n.largestBatch <= 4);
    QVERIFY2(meanBatch(n) < meanBatch(w),
             qPrintable(QString("%1 against %2").arg(meanBatch(n)).arg(meanBatch(w))));
    // Waiting for the batch to fill is time queued, counted from each request's arrival.
    QVERIFY2(w.queue.mean > n.queue.mean,
             qPrintable(QString("%1 against %2").arg(w.queue.mean).arg(n.queue.mean)));

    // Without batching every request is a call of its own.
    const twb::LoadResult single = serve(1, 0);
    QVERIFY2(single.ok, single.error.c_str());
    const twb::LoadPoint& s = single.curve.at(0);
    QCOMPARE(s.batches, s.calls);
    QCOMPARE(s.largestBatch, int64_t(1));
    QVERIFY(!twbtest::contains(single.verdict, "batches of"));

    // The batching options and figures survive the report.
    twb::Report report;
    report.hasLoad = true;
    report.load = wide;
    const twb::Report back = twb::reportFromJson(twb::reportToJson(report));
    QCOMPARE(back.load.options.maxBatch, 4);
    QCOMPARE(back.load.options.batchWindowUs, 4000.0);
    QCOMPARE(back.load.curve.at(0).batches, w.batches);
    QCOMPARE(back.load.curve.at(0).largestBatch, w.largestBatch);
    QVERIFY(std::abs(back.load.batchServiceMeanNs - wide.batchServiceMeanNs) < 1);
}

void TestLoad::aModelThatCannotTakeABatchIsRefused() {
    twb::LoadOptions o = options(twb::LoadScenario::Server, 0.5);
    o.qps = 100;
    o.maxBatch = 4;
    // A vector of 160: four of them stacked are 640 long, which the model's 160×160 product refuses.
    const twb::LoadResult vector =
        twb::runLoad(fixedWork(), {twb::InputSpec::parseGenerated("normal:160:seed=1")}, {}, o);
    QVERIFY(!vector.ok);
    QVERIFY2(twbtest::contains(vector.error, "The model does not take a batch of 4 requests"),
             vector.error.c_str());
    QVERIFY(vector.curve.empty());
    QCOMPARE(vector.verdict, vector.error);
}

void TestLoad::aCrashingWorkerEndsTheRunWithTheReason() {
    twb::WorkerOptions crashing;
    crashing.command = {qEnvironmentVariable("TWB_FAKE_WORKER").toStdString(), "serve", "segv"};
    twb::LoadOptions o = options(twb::LoadScenario::Server, 1);
    o.qps = 50;
    const twb::LoadResult r = run(o, {}, nullptr, crashing);
    QVERIFY(!r.ok && !r.cancelled);
    QVERIFY2(twbtest::contains(r.error, "The load run stopped: the worker was killed by signal 11"),
             r.error.c_str());
    QCOMPARE(r.verdict, r.error);
}

void TestLoad::aHangingModelEndsTheRunWithTheReason() {
    // A scripted `while True:` never returns: nothing comes back, and the run ends at the deadline.
    const twb::Model hangs = twb::Model::load(TWB_DATA("loop_forever.pt"));
    twb::WorkerOptions worker;
    worker.firstCallTimeoutSeconds = 3;
    twb::LoadOptions o = options(twb::LoadScenario::Server, 1);
    o.qps = 50;
    const twb::LoadResult r =
        twb::runLoad(hangs, {twb::InputSpec::parseGenerated("normal:2x3")}, {}, o, {}, nullptr, worker);
    QVERIFY(!r.ok && !r.cancelled);
    QVERIFY2(twbtest::contains(r.error, "The load run stopped: ") &&
                 twbtest::contains(r.error, "no answer within"),
             r.error.c_str());
}

void TestLoad::cancelKeepsWhatWasMeasured() {
    // A curve of six points, stopped once the first has arrived.
    twb::LoadOptions o = options(twb::LoadScenario::Server, 0.6);
    std::atomic<bool> stop{false};
    twb::LoadCallbacks callbacks;
    callbacks.pointFinished = [&](const twb::LoadPoint&) { stop = true; };
    const twb::LoadResult r = run(o, callbacks, &stop);
    QVERIFY(r.cancelled);
    QVERIFY2(!r.curve.empty() && r.curve.size() < 6, qPrintable(QString::number(r.curve.size())));

    // Stopped a third of the way through the second point, at half the capacity: the point cut short is kept,
    // and its queue, left undrained by the stop, is not called one that grows.
    twb::LoadCallbacks partway;
    partway.progress = [](const twb::LoadProgress& p) {
        return !(p.point == 1 && p.fraction * p.points >= 1.3);
    };
    o.seconds = 1; // progress comes every 200 ms: several times within the point
    const twb::LoadResult cut = run(o, partway);
    QVERIFY(cut.cancelled);
    QCOMPARE(cut.curve.size(), std::size_t(2));
    QVERIFY2(cut.curve[1].utilisation < 0.9, qPrintable(QString::number(cut.curve[1].utilisation)));
    QVERIFY(!cut.curve[1].overloaded);
    QVERIFY2(!twbtest::contains(cut.verdict, "queue grows"), cut.verdict.c_str());
}

void TestLoad::reportRoundTrips() {
    twb::LoadOptions o = options(twb::LoadScenario::Server, 0.5);
    o.qps = 400; // with a bound, long enough for 1,000 arrivals: 2.5 s
    o.p99BoundMs = 50;
    o.minQueries = 1000;
    o.seed = 42;
    o.config.target = "local"; // recorded, though toSpec(), which the worker is sent, leaves it out
    const twb::LoadResult r = run(o);
    QVERIFY2(r.ok, r.error.c_str());
    QCOMPARE(r.options.config.target, std::string("local"));
    twb::Report report;
    report.hasLoad = true;
    report.load = r;
    const twb::Report back = twb::reportFromJson(twb::reportToJson(report));
    QVERIFY(back.hasLoad);
    QCOMPARE(back.load.options.seed, uint64_t(42));
    QCOMPARE(back.load.options.scenario, twb::LoadScenario::Server);
    QCOMPARE(back.load.options.p99BoundMs, 50.0);
    QCOMPARE(back.load.options.minQueries, int64_t(1000));
    QCOMPARE(back.load.options.config.target, std::string("local"));
    QCOMPARE(back.load.curve.size(), r.curve.size());
    QCOMPARE(back.load.curve[0].queries, r.curve[0].queries);
    QCOMPARE(back.load.curve[0].latency.p99, r.curve[0].latency.p99); // as measured, in ns
    QCOMPARE(back.load.serviceMeanNs, r.serviceMeanNs);
    QCOMPARE(back.load.verdict, r.verdict);
    QVERIFY(twbtest::contains(back.load.label, "1 thread"));
}

void TestLoad::theKneeIsWhereLatencyStaysHigh() {
    // Points in the order a search measures them, not in order of load.
    const auto knee = [](const std::vector<std::pair<double, double>>& qpsAndP99Ms) {
        std::vector<twb::LoadPoint> curve;
        for (const auto& [qps, p99] : qpsAndP99Ms) {
            twb::LoadPoint p;
            p.offeredQps = qps;
            p.latency.p99 = p99 * 1e6;
            curve.push_back(p);
        }
        return twb::loadKnee(curve);
    };
    // The machine stalled during the load at 200 QPS: its p99 is five times the lightest's, and the next
    // load's is back near it. Latency turns at 400 QPS and stays up.
    QCOMPARE(knee({{100, 1}, {300, 1.2}, {200, 5}, {500, 4}, {400, 3}}), 4);
    // A stall with nothing high after it is no knee.
    QCOMPARE(knee({{100, 1}, {200, 5}, {300, 1.1}}), -1);
    // Latency that turns and stays: the first load over twice the lightest's.
    QCOMPARE(knee({{100, 1}, {200, 1.5}, {300, 2.5}, {400, 9}}), 2);
    QCOMPARE(knee({{100, 1}}), -1);
    QCOMPARE(knee({}), -1);
}

// A curve's verdict on loads made up to the case: the most within the bound is the heaviest whose p99 is
// within, as the peak search judges, whether or not its pace measured under load was past the executors'
// (at the capacity, that flips with the machine's drift between runs); a growing queue is said beside it.
void TestLoad::theMostWithinTheBoundIsJudgedByItsP99() {
    twb::LoadResult r;
    r.options = options(twb::LoadScenario::Server, 1);
    r.options.p99BoundMs = 5;
    r.ok = true;
    const auto point = [](double qps, double p99Ms, bool within, bool overloaded) {
        twb::LoadPoint p;
        p.offeredQps = qps;
        p.latency.p99 = p99Ms * 1e6;
        p.meetsBound = within;
        p.overloaded = overloaded;
        return p;
    };
    r.curve = {point(300, 1, true, false), point(800, 1.5, true, false), point(1000, 4, true, true)};
    twb::detail::finishLoad(r);
    QVERIFY2(twbtest::contains(r.verdict, "; the queue grows from 1000 QPS"), r.verdict.c_str());
    QVERIFY2(
        twbtest::contains(r.verdict,
                          "; the most within 5.000 ms: 1000 QPS, its queue growing (a longer run may miss)."),
        r.verdict.c_str());
    // The same load, a few percent of the pace to the other side: the same answer, without the queue.
    r.curve.back().overloaded = false;
    twb::detail::finishLoad(r);
    QVERIFY2(twbtest::contains(r.verdict, "; the most within 5.000 ms: 1000 QPS."), r.verdict.c_str());
    // Its p99 over the bound: the one before it.
    r.curve.back().meetsBound = false;
    twb::detail::finishLoad(r);
    QVERIFY2(twbtest::contains(r.verdict, "; the most within 5.000 ms: 800 QPS."), r.verdict.c_str());
    for (auto& p : r.curve)
        p.meetsBound = false;
    twb::detail::finishLoad(r);
    QVERIFY2(twbtest::contains(r.verdict, "; none within 5.000 ms."), r.verdict.c_str());
}

TWB_TEST_MAIN(TestLoad)
#include "tst_load.moc"
