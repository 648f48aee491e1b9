// The harness on real models: separated phases, raw samples, progress and
// cancellation, JIT modes agreeing on outputs, and failures reported in place.
#include "test_support.h"

#include "twb/bench.h"
#include "twb/build_info.h"
#include "twb/compare.h"

#include <atomic>
#include <chrono>
#include <thread>

class TestBench : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void fixedCounts();
    void timeBudgetAndAutoWarmup();
    void progressAndCancel();
    void stopFlagFromAnotherThread();
    void jitModesAgree_data();
    void jitModesAgree();
    void precisionAndGradModes();
    void failuresAreReportedInPlace_data();
    void failuresAreReportedInPlace();

private:
    std::unique_ptr<twb::Model> m_model;
    twb::InputBinding m_binding;
};

void TestBench::initTestCase() {
    m_model = std::make_unique<twb::Model>(twb::Model::load(TWB_DATA("cnn_scripted.pt")));
    m_binding = m_model->bindInputs({{"", twb::readTensorFile(TWB_DATA("cnn_x.npy")), "cnn_x.npy"}});
    QVERIFY2(m_binding.ok, m_binding.error.c_str());
}

void TestBench::fixedCounts() {
    const auto r =
        twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse("warmup=4,iters=25,threads=1"));
    QVERIFY2(r.record.ok, r.record.error.c_str());
    QCOMPARE(r.record.warmupNs.size(), std::size_t(4));
    QCOMPARE(r.record.samplesNs.size(), std::size_t(25));
    QCOMPARE(r.record.firstCallNs, r.record.warmupNs[0]); // the first call is kept apart from the samples
    QCOMPARE(r.record.stats.count, int64_t(25));
    QCOMPARE(r.record.threadsUsed, 1);
    QCOMPARE(r.record.config.threads, 1);
    QVERIFY(r.record.libtorchDefaultThreads >= 1);
    QCOMPARE(r.record.batchSize, int64_t(1));
    QVERIFY(r.record.throughput > 0);
    QVERIFY(r.record.peakRssBytes > 0);
    for (double s : r.record.samplesNs)
        QVERIFY(s > 0);
    QVERIFY(r.record.stats.min <= r.record.stats.median && r.record.stats.median <= r.record.stats.max);
    const std::string why = twbtest::compareToFile(r.output, TWB_DATA("cnn_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
    QCOMPARE(r.record.outputs.size(), std::size_t(1));
}

void TestBench::timeBudgetAndAutoWarmup() {
    const auto r = twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse("seconds=0.3"));
    QVERIFY2(r.record.ok, r.record.error.c_str());
    QVERIFY(r.record.warmupNs.size() >= 3); // auto warm-up covers the profiling executor's slow calls
    QVERIFY(r.record.samplesNs.size() >= 5);
    // Every call but the last began inside the budget: what the calls before it took is less than it.
    double before = 0;
    for (std::size_t i = 0; i + 1 < r.record.samplesNs.size(); ++i)
        before += r.record.samplesNs[i];
    QVERIFY2(before / 1e9 < 0.3, "a call began after the budget was spent");
}

void TestBench::progressAndCancel() {
    std::vector<twb::Progress> seen;
    int64_t cancelledAt = -1;
    const auto r = twb::runConfiguration(
        *m_model, m_binding, twb::RunConfig::parse("warmup=3,iters=100000"), [&](const twb::Progress& p) {
            seen.push_back(p);
            if (p.phase == "measuring" && p.iterations >= 40 && cancelledAt < 0) cancelledAt = p.iterations;
            return cancelledAt < 0;
        });
    QVERIFY(r.record.cancelled);
    QVERIFY2(r.record.ok, r.record.error.c_str()); // what was measured is kept
    QVERIFY(cancelledAt >= 40);
    QCOMPARE(int64_t(r.record.samplesNs.size()), cancelledAt); // no call after the one that asked to stop
    QCOMPARE(r.record.stats.count, int64_t(r.record.samplesNs.size()));
    QCOMPARE(seen.front().phase, std::string("preparing"));
    double last = -1;
    for (const auto& p : seen)
        if (p.phase == "measuring") {
            QVERIFY(p.fraction >= last);
            last = p.fraction;
            QVERIFY(p.remainingSeconds >= 0);
        }
}

void TestBench::stopFlagFromAnotherThread() {
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stop = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse("seconds=60"), {}, &stop);
    stopper.join();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    QVERIFY(r.record.cancelled);
    QVERIFY2(took < 5, "the stop flag ends a 60 s run at once");
}

void TestBench::jitModesAgree_data() {
    QTest::addColumn<QString>("jit");
    QTest::newRow("freeze") << "freeze";
    QTest::newRow("optimize") << "optimize";
}

void TestBench::jitModesAgree() {
    QFETCH(QString, jit);
    const auto off = twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse("iters=5,warmup=3"));
    const auto opt = twb::runConfiguration(
        *m_model, m_binding, twb::RunConfig::parse("iters=5,warmup=3,jit=" + jit.toStdString()));
    QVERIFY2(opt.record.ok, opt.record.error.c_str());
    QVERIFY(opt.record.prepareSeconds > 0);
    const auto c = twb::compareOutputs(off.output, opt.output);
    QVERIFY2(c.allclose, c.summary.c_str());
    // The original model is untouched by freezing a copy.
    const auto again = twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse("iters=2,warmup=1"));
    QVERIFY(twb::compareOutputs(off.output, again.output).allclose);
}

void TestBench::precisionAndGradModes() {
    const twb::Model mlp = twb::Model::load(TWB_DATA("mlp_traced.pt"));
    // A float64 input runs once the precision is set: module and inputs are cast together.
    const auto b64 = mlp.bindInputs({{"", twb::readTensorFile(TWB_DATA("mlp_x_fortran.npy")), "x"}});
    const auto r = twb::runConfiguration(mlp, b64, twb::RunConfig::parse("iters=3,warmup=1,dtype=float32"));
    QVERIFY2(r.record.ok, r.record.error.c_str());
    QCOMPARE(r.output.dtype(), std::string("float32"));
    QVERIFY(twbtest::compareToFile(r.output, TWB_DATA("mlp_expected.npy")).empty());
    const auto d = twb::runConfiguration(mlp, b64, twb::RunConfig::parse("iters=3,warmup=1,dtype=float64"));
    QVERIFY2(d.record.ok, d.record.error.c_str());
    QCOMPARE(d.output.dtype(), std::string("float64"));
    for (const char* grad : {"no_grad", "grad"}) {
        const auto g = twb::runConfiguration(
            *m_model, m_binding, twb::RunConfig::parse(std::string("iters=3,warmup=1,grad=") + grad));
        QVERIFY2(g.record.ok, g.record.error.c_str());
        QVERIFY(twbtest::compareToFile(g.output, TWB_DATA("cnn_expected.npy")).empty());
    }
}

void TestBench::failuresAreReportedInPlace_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("says");
    QTest::newRow("cuda") << "device=cuda"
                          << "cuda";
    QTest::newRow("unknown device") << "device=npu"
                                    << "use cpu, cuda or cuda:N";
}

void TestBench::failuresAreReportedInPlace() {
    QFETCH(QString, spec);
    QFETCH(QString, says);
    if (spec.contains("cuda") && twb::buildInfo().cudaAvailable) QSKIP("CUDA is available here");
    const auto r = twb::runConfiguration(*m_model, m_binding, twb::RunConfig::parse(spec.toStdString()));
    QVERIFY(!r.record.ok);
    QVERIFY2(twbtest::contains(r.record.error, says.toStdString()), r.record.error.c_str());
    QVERIFY(r.record.samplesNs.empty());
    // Inputs that do not bind are refused the same way.
    const auto bad = m_model->bindInputs({});
    const auto nb = twb::runConfiguration(*m_model, bad, twb::RunConfig::parse("iters=1"));
    QVERIFY(!nb.record.ok);
    QVERIFY2(twbtest::contains(nb.record.error, "forward needs 'x'"), nb.record.error.c_str());
}

TWB_TEST_MAIN(TestBench)
#include "tst_bench.moc"
