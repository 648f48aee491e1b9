// Run configurations: parsing, labels, and refusals that say why.
#include "test_support.h"

#include "twb/build_info.h"
#include "twb/config.h"
#include "twb/error.h"

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void parseOverBase();
    void specRoundTrip();
    void badValues_data();
    void badValues();
    void cudaRefusedWhereAbsent();
};

void TestConfig::parseOverBase() {
    twb::RunConfig base;
    base.threads = 2;
    base.seconds = 3;
    const auto c = twb::RunConfig::parse("jit=optimize, dtype=bf16 ,warmup=5", base);
    QCOMPARE(c.jit, twb::JitMode::Optimize);
    QCOMPARE(c.dtype, std::string("bfloat16"));
    QCOMPARE(c.warmup, 5);
    QCOMPARE(c.threads, 2); // kept from the base
    QCOMPARE(c.seconds, 3.0);
    QCOMPARE(c.label(), std::string("cpu · jit optimize · 2 threads · bfloat16"));
    QCOMPARE(twb::RunConfig::parse("name=fast,iters=10").label(), std::string("fast"));
    QCOMPARE(twb::RunConfig::parse("iters=10").iterations, int64_t(10));
    QCOMPARE(twb::RunConfig::parse("grad=no_grad,graph_optimize=off").label(),
             std::string("cpu · jit off · no_grad · graph optimize off"));
}

void TestConfig::specRoundTrip() {
    const auto c = twb::RunConfig::parse(
        "device=cpu,jit=freeze,threads=3,dtype=float16,grad=grad,warmup=auto,seconds=0.5");
    const auto back = twb::RunConfig::parse(c.toSpec());
    QCOMPARE(back.toSpec(), c.toSpec());
    QCOMPARE(back.jit, twb::JitMode::Freeze);
    QCOMPARE(back.seconds, 0.5);
}

void TestConfig::badValues_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("says");
    QTest::newRow("unknown key") << "speed=fast"
                                 << "unknown key 'speed'";
    QTest::newRow("jit") << "jit=turbo"
                         << "off, freeze or optimize";
    QTest::newRow("threads") << "threads=-1"
                             << "threads";
    QTest::newRow("threads text") << "threads=two"
                                  << "whole number";
    QTest::newRow("dtype") << "dtype=int8"
                           << "dtype is as_saved";
    QTest::newRow("warmup") << "warmup=-2"
                            << "warmup";
    QTest::newRow("iters") << "iters=0"
                           << "at least 1";
    QTest::newRow("seconds") << "seconds=0"
                             << "above 0";
    QTest::newRow("not key=value") << "optimize"
                                   << "not key=value";
}

void TestConfig::badValues() {
    QFETCH(QString, spec);
    QFETCH(QString, says);
    try {
        twb::RunConfig::parse(spec.toStdString());
        QFAIL("accepted");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), says.toStdString()), e.what());
    }
}

void TestConfig::cudaRefusedWhereAbsent() {
    try {
        twb::validateConfig(twb::RunConfig::parse("device=tpu"));
        QFAIL("accepted tpu");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "use cpu, cuda or cuda:N"), e.what());
    }
    const twb::BuildInfo b = twb::buildInfo();
    if (b.cudaAvailable) {
        QVERIFY_THROWS_EXCEPTION(twb::Error, twb::validateConfig(twb::RunConfig::parse("device=cuda:64")));
        QSKIP("CUDA is available here: the refusal of CUDA is tested where it is absent");
    }
    try {
        twb::validateConfig(twb::RunConfig::parse("device=cuda"));
        QFAIL("accepted cuda");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), b.cudaCompiled ? "no CUDA device" : "not compiled in"),
                 e.what());
    }
}

TWB_TEST_MAIN(TestConfig)
#include "tst_config.moc"
