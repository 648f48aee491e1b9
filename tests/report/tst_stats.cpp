// Latency statistics against values computed by hand and by numpy's
// definitions; warnings and comparisons on constructed runs.
#include "test_support.h"

#include "twb/format.h"
#include "twb/stats.h"

#include <random>

class TestStats : public QObject {
    Q_OBJECT
private slots:
    void figures();
    void rollingBandSummarisesLongRuns();
    void knownSamples();
    void percentilesLikeNumpy_data();
    void percentilesLikeNumpy();
    void medianInterval();
    void mannWhitneyByHand();
    void warnings_data();
    void warnings();
    void comparison();
    void histograms();
    void durations_data();
    void durations();
    void roundsOverProcesses();
    void pairedRounds();
};

namespace {
std::vector<double> noisy(std::size_t n, double median, double spread, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> d(0, spread);
    std::vector<double> v(n);
    for (auto& x : v)
        x = median * (1 + d(rng));
    return v;
}
} // namespace

void TestStats::knownSamples() {
    const auto s = twb::computeStats({4, 1, 3, 2, 10, 6, 5, 9, 8, 7}); // run order does not matter
    QCOMPARE(s.count, int64_t(10));
    QCOMPARE(s.min, 1.0);
    QCOMPARE(s.max, 10.0);
    QCOMPARE(s.mean, 5.5);
    QCOMPARE(s.median, 5.5);
    QCOMPARE(s.q1, 3.25); // numpy.percentile(range(1, 11), 25)
    QCOMPARE(s.q3, 7.75);
    QCOMPARE(s.iqr, 4.5);
    QVERIFY(std::abs(s.stddev - 3.0276503540974917) < 1e-12); // sample standard deviation (n - 1)
    QVERIFY(std::abs(s.cv - 3.0276503540974917 / 5.5) < 1e-12);
    QVERIFY(std::abs(s.percentile(90) - 9.1) < 1e-12);
    QVERIFY(std::abs(s.percentile(99) - 9.91) < 1e-12);
    QVERIFY(std::isnan(s.percentile(42)));
    QCOMPARE(s.outliersHigh + s.outliersLow, int64_t(0));
    QCOMPARE(s.whiskerLow, 1.0);
    QCOMPARE(s.whiskerHigh, 10.0);
    const auto withOutlier = twb::computeStats({1, 2, 3, 4, 5, 6, 7, 8, 9, 100});
    QCOMPARE(withOutlier.whiskerHigh, 9.0); // 100 lies beyond Q3 + 1.5 IQR = 15.25
    QCOMPARE(withOutlier.outliersHigh, int64_t(1));
    const auto one = twb::computeStats({7});
    QCOMPARE(one.median, 7.0);
    QCOMPARE(one.stddev, 0.0);
    QCOMPARE(twb::computeStats({}).count, int64_t(0));
}

void TestStats::percentilesLikeNumpy_data() {
    QTest::addColumn<double>("p");
    QTest::addColumn<double>("expected");
    // numpy.percentile([15, 20, 35, 40, 50], p)
    QTest::newRow("p0") << 0.0 << 15.0;
    QTest::newRow("p30") << 30.0 << 23.0;
    QTest::newRow("p50") << 50.0 << 35.0;
    QTest::newRow("p95") << 95.0 << 48.0;
    QTest::newRow("p100") << 100.0 << 50.0;
}

void TestStats::percentilesLikeNumpy() {
    QFETCH(double, p);
    QFETCH(double, expected);
    QVERIFY(std::abs(twb::percentileOfSorted({15, 20, 35, 40, 50}, p) - expected) < 1e-12);
}

void TestStats::medianInterval() {
    const auto small = twb::computeStats(noisy(200, 1000, 0.05, 1));
    QCOMPARE(small.ciMethod, std::string("bootstrap"));
    QVERIFY(small.medianCiLow <= small.median && small.median <= small.medianCiHigh);
    QVERIFY(small.medianCiHigh - small.medianCiLow < 0.05 * 1000);
    const auto again = twb::computeStats(noisy(200, 1000, 0.05, 1));
    QCOMPARE(again.medianCiLow, small.medianCiLow); // seeded: the same samples give the same interval
    const auto big = twb::computeStats(noisy(20000, 1000, 0.05, 1));
    QVERIFY((big.medianCiHigh - big.medianCiLow) < (small.medianCiHigh - small.medianCiLow) / 3);
    const auto huge = twb::computeStats(noisy(60000, 1000, 0.05, 2));
    QCOMPARE(huge.ciMethod, std::string("order statistics"));
    QVERIFY(huge.medianCiLow <= huge.median && huge.median <= huge.medianCiHigh);
}

void TestStats::mannWhitneyByHand() {
    // U = 0, n1 = n2 = 5: z = (12.5 - 0.5) / sqrt(25 * 11 / 12) = 2.5067, p = erfc(z / sqrt 2) = 0.01219
    QVERIFY(std::abs(twb::mannWhitneyP({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}) - 0.01219) < 1e-4);
    QVERIFY(twb::mannWhitneyP({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}) > 0.9);
}

void TestStats::warnings_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("says");
    QTest::newRow("clean") << "clean"
                           << "";
    QTest::newRow("noisy") << "noisy"
                           << "noisy machine";
    QTest::newRow("drift") << "drift"
                           << "rose";
    QTest::newRow("interrupted") << "interrupted"
                                 << "more than 1.5× the median";
    QTest::newRow("few samples") << "few"
                                 << "only 4 samples";
}

void TestStats::warnings() {
    QFETCH(QString, kind);
    QFETCH(QString, says);
    std::vector<double> v = noisy(300, 1000, 0.01, 3);
    if (kind == "noisy") v = noisy(300, 1000, 0.2, 3);
    if (kind == "drift")
        for (std::size_t i = 0; i < v.size(); ++i)
            v[i] *= 1 + 0.3 * double(i) / double(v.size());
    if (kind == "interrupted")
        for (std::size_t i = 0; i < v.size(); i += 20)
            v[i] *= 3;
    if (kind == "few") v = {1000, 1001, 999, 1000};
    const auto w = twb::stabilityWarnings(twb::computeStats(v));
    if (says.isEmpty()) {
        QVERIFY2(w.empty(), w.empty() ? "" : w[0].c_str());
        return;
    }
    bool found = false;
    for (const auto& s : w)
        found = found || twbtest::contains(s, says.toStdString());
    QVERIFY2(found, w.empty() ? "no warning" : w[0].c_str());
}

void TestStats::comparison() {
    const auto a = noisy(400, 2000, 0.03, 4), b = noisy(400, 1000, 0.03, 5);
    const auto c = twb::compareLatency(a, b, "off", "optimize");
    QVERIFY(std::abs(c.speedup - 2) < 0.05);
    QVERIFY(c.ciLow < c.speedup && c.speedup < c.ciHigh);
    QVERIFY(c.significant);
    QVERIFY2(twbtest::contains(c.verdict, "optimize is 2.0"), c.verdict.c_str());
    QVERIFY2(twbtest::contains(c.verdict, "faster than off (95% CI"), c.verdict.c_str());
    const auto slower = twb::compareLatency(b, a, "A", "B");
    QVERIFY2(twbtest::contains(slower.verdict, "B is 2.0") && twbtest::contains(slower.verdict, "slower"),
             slower.verdict.c_str());
    const auto same = twb::compareLatency(noisy(300, 1000, 0.05, 6), noisy(300, 1000, 0.05, 7));
    QVERIFY(!same.significant);
    QVERIFY2(twbtest::contains(same.verdict, "no significant difference"), same.verdict.c_str());
}

void TestStats::histograms() {
    const auto h = twb::histogram({0, 1, 2, 3, 4, 4, NAN}, 4);
    QCOMPARE(h.edges, (std::vector<double>{0, 1, 2, 3, 4}));
    QCOMPARE(h.counts,
             (std::vector<int64_t>{1, 1, 1, 3})); // the maximum falls in the last bin; NaN is skipped
    const auto lg = twb::histogram({1, 10, 100, 1000}, 3, true);
    QCOMPARE(lg.edges.size(), std::size_t(4));
    QVERIFY(std::abs(lg.edges[1] - 10) < 1e-9 && std::abs(lg.edges[2] - 100) < 1e-9);
    QCOMPARE(lg.counts, (std::vector<int64_t>{1, 1, 2}));
    QVERIFY(twb::histogram({}, 5).counts.empty());
}

void TestStats::durations_data() {
    QTest::addColumn<double>("ns");
    QTest::addColumn<QString>("text");
    QTest::newRow("ns") << 812.0 << "812 ns";
    QTest::newRow("us") << 5310.0 << "5.31 µs";
    QTest::newRow("ms") << 12.4e6 << "12.4 ms";
    QTest::newRow("s") << 1.2e9 << "1.20 s";
}

void TestStats::durations() {
    QFETCH(double, ns);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(twb::formatDuration(ns)), text);
}

// The other figures the CLI, the panels and core's sentences share (twb/format.h).
void TestStats::figures() {
    QCOMPARE(twb::formatFixed(3.14159, 2), std::string("3.14"));
    QCOMPARE(twb::formatPercent(1, 8), std::string("12.5%"));
    QCOMPARE(twb::formatPercent(1, 0), std::string());
    QCOMPARE(twb::formatScaled(5.6033e6, "FLOP"), std::string("5.60 MFLOP"));
    QCOMPARE(twb::formatScaled(45.6e3, "B"), std::string("45.6 kB"));
    QCOMPARE(twb::formatScaled(812), std::string("812"));
    QCOMPARE(twb::formatScaled(2.5e12), std::string("2.50 T"));
    QCOMPARE(twb::formatScaled(999.7e3, "B"), std::string("1.00 MB")); // rounds up into the next prefix
    QCOMPARE(twb::formatScaled(0), std::string());
    QCOMPARE(twb::formatScaled(std::nan("")), std::string());
}

void TestStats::rollingBandSummarisesLongRuns() {
    // 100 000 calls: 60 000 around 10 µs, then 40 000 around 20 µs, with rare 1 ms spikes.
    std::vector<double> samples;
    for (int i = 0; i < 100000; ++i)
        samples.push_back((i < 60000 ? 10000.0 : 20000.0) + (i % 7) * 10.0 + (i % 997 == 0 ? 1e6 : 0));
    const twb::RollingBand band = twb::rollingBand(samples, 500);
    QVERIFY(band.x.size() <= 500 && band.x.size() >= 400);
    QCOMPARE(band.x.size(), band.median.size());
    QCOMPARE(band.low.size(), band.high.size());
    QVERIFY(band.x.front() < 200 && band.x.back() > 99800);
    for (std::size_t i = 0; i < band.x.size(); ++i) {
        QVERIFY(band.low[i] <= band.median[i] && band.median[i] <= band.high[i]);
        // The spikes (one call in 997) stay out of the median and the 5–95 band.
        QVERIFY(band.high[i] < 30000);
        const double expected = band.x[i] < 59000 ? 10000 : band.x[i] > 61000 ? 20000 : -1;
        if (expected > 0) QVERIFY(std::abs(band.median[i] - expected) < 100);
    }
    // A short series keeps every point.
    const twb::RollingBand small = twb::rollingBand({3, 1, 2}, 500);
    QCOMPARE(small.median, (std::vector<double>{3, 1, 2}));
    QVERIFY(twb::rollingBand({}, 500).x.empty());
}

namespace {
// `rounds` rounds in each process, `calls` samples a round around the process's centre (±1%).
void addProcesses(std::vector<double>& samples, std::vector<twb::RoundSpan>& spans,
                  const std::vector<double>& centres, int rounds, int calls, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> jitter(0.99, 1.01);
    for (int p = 0; p < int(centres.size()); ++p)
        for (int r = 0; r < rounds; ++r) {
            spans.push_back({p, r, int64_t(samples.size()), calls});
            for (int k = 0; k < calls; ++k)
                samples.push_back(centres[std::size_t(p)] * jitter(rng));
        }
}
} // namespace

void TestStats::roundsOverProcesses() {
    // Three processes whose medians differ by 20%: the interval spans them, where one process's
    // interval (±1% noise, hundreds of calls) would be a sliver around the pooled median.
    std::vector<double> s;
    std::vector<twb::RoundSpan> spans;
    addProcesses(s, spans, {100, 110, 120}, 2, 200, 1);
    const twb::LatencyStats h = twb::computeRoundStats(s, spans);
    const twb::LatencyStats flat = twb::computeStats(s);
    QCOMPARE(h.processMedians.size(), std::size_t(3));
    QVERIFY(std::abs(h.processSpread - 1.2) < 0.01);
    QVERIFY2(h.medianCiLow <= 100 && h.medianCiHigh >= 120,
             qPrintable(QString("%1–%2").arg(h.medianCiLow).arg(h.medianCiHigh)));
    QVERIFY(flat.medianCiHigh - flat.medianCiLow < 0.2 * (h.medianCiHigh - h.medianCiLow));
    QVERIFY(h.ciMethod.find("3 processes (6 rounds)") != std::string::npos);
    for (const auto& w : twb::stabilityWarnings(h))
        QVERIFY(w.find("between the") == std::string::npos); // 1.2× is within what processes do

    std::vector<double> busy;
    std::vector<twb::RoundSpan> busySpans;
    addProcesses(busy, busySpans, {100, 210, 105}, 1, 100, 2);
    bool warned = false;
    for (const auto& w : twb::stabilityWarnings(twb::computeRoundStats(busy, busySpans)))
        warned =
            warned || w.find("medians differed 2.10× between the 3 worker processes") != std::string::npos;
    QVERIFY(warned);

    // One round in one process: the plain statistics.
    std::vector<double> one;
    std::vector<twb::RoundSpan> oneSpan;
    addProcesses(one, oneSpan, {100}, 1, 100, 3);
    QCOMPARE(twb::computeRoundStats(one, oneSpan).ciMethod, std::string("bootstrap"));
}

void TestStats::pairedRounds() {
    // B is 10% faster than A in every round of every process, while the processes themselves differ by
    // 30%: pairing by round sees the 10% through the processes' spread.
    std::vector<double> a, b;
    std::vector<twb::RoundSpan> sa, sb;
    addProcesses(a, sa, {100, 130, 115, 105, 125}, 3, 50, 4);
    addProcesses(b, sb, {90, 117, 103.5, 94.5, 112.5}, 3, 50, 5);
    const twb::LatencyComparison c = twb::comparePairedRounds(a, sa, b, sb, "A", "B");
    QVERIFY2(c.significant && std::abs(c.speedup - 1 / 0.9) < 0.01, c.verdict.c_str());
    QVERIFY(c.ciLow > 1.05 && c.ciHigh < 1.17);
    QVERIFY2(c.verdict.rfind("B is 1.11× faster than A", 0) == 0, c.verdict.c_str());
    // The same spread and no difference: no verdict.
    std::vector<double> same;
    std::vector<twb::RoundSpan> ss;
    addProcesses(same, ss, {100, 130, 115, 105, 125}, 3, 50, 6);
    const twb::LatencyComparison none = twb::comparePairedRounds(a, sa, same, ss, "A", "A again");
    QVERIFY2(!none.significant && none.ciLow < 1 && none.ciHigh > 1, none.verdict.c_str());
    // Held as separate runs (a stored baseline), the processes' spread widens the interval.
    const twb::LatencyComparison apart = twb::compareRunsAcrossProcesses(a, sa, b, sb, "A", "B");
    QVERIFY(apart.ciHigh - apart.ciLow > c.ciHigh - c.ciLow);
}

TWB_TEST_MAIN(TestStats)
#include "tst_stats.moc"
