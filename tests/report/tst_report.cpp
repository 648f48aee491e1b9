// Reports: what is written reads back equal and matches the committed golden report byte for byte,
// newer fields are tolerated, a newer schema is refused by name; raw samples export as CSV; SHA-256.
#include "test_support.h"

#include "twb/error.h"
#include "twb/report.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cmath>

#include <nlohmann/json.hpp>

class TestReport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTrip();
    void matchesTheGoldenReport();
    void toleratesNewerFields();
    void refusesNewerSchema();
    void refusesOtherJson();
    void csv();
    void sha256_data();
    void sha256();

private:
    twb::Report m_report;
};

void TestReport::initTestCase() {
    const twb::Model m = twb::Model::load(TWB_DATA("two_inputs.pt"));
    const auto b =
        m.bindInputs({{"", twb::readTensorFile(TWB_DATA("two_inputs_xy.npz")), "two_inputs_xy.npz"}});
    QVERIFY2(b.ok, b.error.c_str());
    m_report.environment = twb::currentEnvironment();
    m_report.model = {TWB_DATA("two_inputs.pt"),
                      twb::fileSha256(TWB_DATA("two_inputs.pt")),
                      "torchscript",
                      "TwoInputs",
                      1234,
                      {"/opt/ops/libtorchvision.so"}};
    m_report.inputs.push_back({"x", "two_inputs_xy.npz", "abc", "", {3, 4}, "float32"});
    m_report.inputs.push_back({"y", "", "", "normal:3x4:float32:mean=0:std=1:seed=0", {3, 4}, "float32"});
    const auto a = twb::runConfiguration(m, b, twb::RunConfig::parse("iters=30,warmup=3"));
    const auto o =
        twb::runConfiguration(m, b, twb::RunConfig::parse("iters=30,warmup=3,jit=optimize,name=opt"));
    m_report.runs = {a.record, o.record};
    twb::RunComparison c;
    c.baseline = 0;
    c.candidate = 1;
    c.latency = twb::compareLatency(a.record.samplesNs, o.record.samplesNs);
    c.hasOutputs = true;
    c.outputs = twb::compareOutputs(a.output, o.output);
    m_report.comparisons.push_back(c);
    QVERIFY(!m_report.environment.libtorchVersion.empty());
    QVERIFY(m_report.environment.hardwareThreads > 0);
    QVERIFY(!m_report.environment.time.empty());
}

void TestReport::roundTrip() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("r.json").toStdString();
    twb::writeReport(path, m_report);
    const twb::Report back = twb::readReport(path);
    QCOMPARE(twb::reportToJson(back), twb::reportToJson(m_report));
    QCOMPARE(back.runs.size(), std::size_t(2));
    QCOMPARE(back.runs[0].samplesNs, m_report.runs[0].samplesNs);
    QCOMPARE(back.runs[1].config.jit, twb::JitMode::Optimize);
    QCOMPARE(back.runs[1].label, std::string("opt"));
    QCOMPARE(back.model.operatorLibraries, std::vector<std::string>{"/opt/ops/libtorchvision.so"});
    QCOMPARE(back.runs[0].stats.median, m_report.runs[0].stats.median);
    QCOMPARE(back.comparisons[0].outputs.leaves.size(), std::size_t(2));
    // A model whose logits hold NaN: the top classes are written with null for it, and read back.
    twb::Report nan = m_report;
    QVERIFY(!nan.runs[0].outputs.empty());
    nan.runs[0].outputs[0].summary.topk = {{3, std::nan("")}, {1, 0.5}};
    const twb::Report nanBack = twb::reportFromJson(twb::reportToJson(nan));
    QCOMPARE(nanBack.runs[0].outputs[0].summary.topk.size(), std::size_t(2));
    QCOMPARE(nanBack.runs[0].outputs[0].summary.topk[0].first, int64_t(3));
    QVERIFY(std::isnan(nanBack.runs[0].outputs[0].summary.topk[0].second));
    QCOMPARE(nanBack.runs[0].outputs[0].summary.topk[1].second, 0.5);
    // The figures scripts look for.
    const auto j = nlohmann::json::parse(twb::reportToJson(m_report));
    QCOMPARE(j["schema_version"].get<int>(), twb::Report::kSchemaVersion);
    QVERIFY(j["latency_ms"]["median"].get<double>() > 0);
    QVERIFY(j["latency_ms"].contains("mean") && j["latency_ms"].contains("p99"));
    QVERIFY(j["config"]["threads"].get<int>() > 0);
    QCOMPARE(j["samples_ns"].size(), std::size_t(30));
    QCOMPARE(j["runs"][1]["samples_ns"].size(), std::size_t(30));
}

namespace {

// A report of every section with figures that never change: two runs (one over rounds in two processes,
// one failed in a worker), their comparison, a profile, a sweep, the probe, the gate and two targets.
twb::Report goldenReport() {
    twb::Report r;
    twb::EnvironmentInfo& e = r.environment;
    e.torchwbVersion = "0.9.0";
    e.libtorchVersion = "2.13.0";
    e.cudaVersion = "13.0";
    e.cudaDevices = {"NVIDIA H200"};
    e.cpuModel = "Example CPU @ 3.0GHz";
    e.physicalCores = 8;
    e.hardwareThreads = 16;
    e.libtorchDefaultThreads = 8;
    e.os = "Debian GNU/Linux 12 (bookworm)";
    e.hostName = "golden";
    e.time = "2026-01-02T03:04:05Z";
    r.model = {"models/resnet.pt", "ab12", "torchscript", "ResNet", 4096, {"libtorchvision.so"}};
    r.inputs.push_back({"x", "x.npy", "cd34", "", {1, 3, 8, 8}, "float32"});
    r.inputs.push_back({"mask", "", "", "ones:1x8:bool", {1, 8}, "bool"});
    std::vector<double> a, b;
    for (int i = 0; i < 40; ++i) {
        a.push_back(1000 + 10 * (i % 7));
        b.push_back(800 + 10 * (i % 5));
    }
    twb::RunRecord run;
    run.config = twb::RunConfig::parse("jit=off,threads=2,iters=40,warmup=2");
    run.label = "cpu · jit off · 2 threads";
    run.ok = true;
    run.threadsUsed = 2;
    run.libtorchDefaultThreads = 8;
    run.prepareSeconds = 0.25;
    run.firstCallNs = 5000;
    run.warmupNs = {5000, 1500};
    run.samplesNs = a;
    run.stats = twb::computeStats(a);
    run.throughput = 1e9 / run.stats.median;
    run.peakRssBytes = 123456789;
    run.warnings = {"a warning"};
    run.measurement = "interleaved";
    run.processes = 2;
    run.rounds = {{0, 0, 0, 20}, {1, 0, 20, 20}};
    r.runs.push_back(run);
    twb::RunRecord fast = run;
    fast.config = twb::RunConfig::parse("name=fast,jit=optimize,threads=2,iters=40,warmup=2");
    fast.label = "fast";
    fast.samplesNs = b;
    fast.stats = twb::computeStats(b);
    fast.throughput = 1e9 / fast.stats.median;
    r.runs.push_back(fast);
    twb::RunRecord failed;
    failed.config = twb::RunConfig::parse("name=half,dtype=float16");
    failed.label = "half";
    failed.error = "the worker died (SIGSEGV) in the first call";
    failed.failedPhase = "first call";
    failed.signal = 11;
    failed.stderrTail = "Segmentation fault";
    failed.fix = "run it with jit=off";
    failed.measurement = "interleaved";
    r.runs.push_back(failed);
    twb::RunComparison c;
    c.baseline = 0;
    c.candidate = 1;
    c.latency = twb::compareLatency(a, b, run.label, fast.label);
    r.comparisons.push_back(c);
    twb::Profile p;
    p.ok = true;
    p.label = run.label;
    p.config = run.config;
    p.run = 0;
    p.calls = 10;
    p.profiler = "Kineto, 1 µs";
    p.forwardNs = 1100;
    p.unprofiledMedianNs = 1020;
    p.profiledMedianNs = 1090;
    p.operatorSelfNs = 900;
    p.unattributedNs = 200;
    twb::OperatorStat op;
    op.name = "aten::conv2d";
    op.calls = 10;
    op.selfNs = 8000;
    op.totalNs = 9000;
    op.topCalls = 10;
    op.topNs = 9000;
    op.shapes = {"[1, 3, 8, 8]"};
    op.shapeVariants = 1;
    op.locations = {"model.py:12"};
    p.operators.push_back(op);
    p.modelFlops = 2.5e6;
    p.modelBytes = 1.5e5;
    r.profiles.push_back(p);
    r.hasSweep = true;
    twb::SweepResult& sw = r.sweep;
    sw.axes.push_back({"jit", {"off", "optimize"}});
    sw.budgetSeconds = 30;
    sw.elapsedSeconds = 12.5;
    for (int i = 0; i < 2; ++i) {
        twb::SweepPoint pt;
        pt.id = i == 0 ? "jit=off" : "jit=optimize";
        pt.config = twb::RunConfig::parse(pt.id);
        pt.status = twb::PointStatus::Measured;
        pt.rounds = 3;
        pt.samplesNs = i == 0 ? a : b;
        pt.stats = twb::computeStats(pt.samplesNs);
        sw.points.push_back(pt);
    }
    sw.points[0].reference = true;
    sw.points[0].referenceKind = twb::SweepReference::LibTorchDefault;
    sw.points[0].referenceName = "LibTorch's default";
    sw.recommended = 1;
    sw.runnerUp = 0;
    sw.vsLibtorchDefault = c.latency;
    sw.recommendation = "Fastest for latency: jit=optimize.";
    sw.applyFlags = "--jit optimize";
    r.probe.gemmNs = {100, 101};
    r.probe.copyNs = {50};
    r.gate = {"pass", "baseline.json", {"cpu · jit off: 1.00× (pass)"}};
    r.targets.push_back({"local", true, "", e});
    r.targets.push_back({"ssh://gpu-box", false, "ssh: connect to host gpu-box: Connection refused", {}});
    return r;
}

} // namespace

// tests/data/golden_report.json is what this torchwb writes for goldenReport(): a change of the format
// shows as a change of that file, made on purpose. On a mismatch the report written now is left as
// golden_report.json.actual in the working folder, to diff and, if meant, to copy over the golden one.
void TestReport::matchesTheGoldenReport() {
    const QString golden = QString::fromStdString(TWB_DATA("golden_report.json"));
    const std::string written = twb::reportToJson(goldenReport(), 2) + "\n";
    QFile f(golden);
    const std::string expected = f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
    if (written != expected) {
        QFile actual(QDir::current().filePath("golden_report.json.actual"));
        QVERIFY(actual.open(QIODevice::WriteOnly));
        actual.write(written.data(), qint64(written.size()));
        actual.close();
        QFAIL(qPrintable("the report written differs from " + golden + ": see " + actual.fileName()));
    }
    // Everything written is read back: the golden report, read and written again, is itself.
    QCOMPARE(twb::reportToJson(twb::reportFromJson(expected, "golden_report.json"), 2) + "\n", expected);
}

void TestReport::toleratesNewerFields() {
    auto j = nlohmann::json::parse(twb::reportToJson(m_report));
    j["from_the_future"] = {{"x", 1}};
    j["runs"][0]["energy_joules"] = 3.5;
    j["environment"]["gpu_clock"] = "fixed";
    const twb::Report back = twb::reportFromJson(j.dump());
    QCOMPARE(back.runs.size(), std::size_t(2));
    QCOMPARE(back.runs[0].samplesNs, m_report.runs[0].samplesNs);
}

void TestReport::refusesNewerSchema() {
    auto j = nlohmann::json::parse(twb::reportToJson(m_report));
    j["schema_version"] = twb::Report::kSchemaVersion + 1;
    try {
        twb::reportFromJson(j.dump(), "future.json");
        QFAIL("read a newer schema");
    } catch (const twb::Error& e) {
        const std::string expected = "future.json: report schema version " +
                                     std::to_string(twb::Report::kSchemaVersion + 1) + " is not supported";
        QVERIFY2(twbtest::contains(e.what(), expected), e.what());
        QVERIFY2(twbtest::contains(e.what(), "newer torchwb"), e.what());
    }
}

void TestReport::refusesOtherJson() {
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::reportFromJson("{\"a\": 1}"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::reportFromJson("not json"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::readReport("/nonexistent/report.json"));
}

void TestReport::csv() {
    const std::string csv = twb::samplesCsv(m_report);
    std::size_t lines = 0;
    for (char c : csv)
        lines += c == '\n';
    QCOMPARE(lines, std::size_t(1 + 2 * (3 + 30)));
    QVERIFY(csv.rfind("run,label,phase,index,latency_ns,device_ns\n", 0) == 0);
    QVERIFY(twbtest::contains(csv, "1,\"opt\",sample,29,"));
}

void TestReport::sha256_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    QTest::newRow("empty") << QByteArray()
                           << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("abc") << QByteArray("abc")
                         << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    QTest::newRow("two blocks") << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                                << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
}

void TestReport::sha256() {
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    QCOMPARE(QString::fromStdString(twb::sha256Hex(input.toStdString())), digest);
    QTemporaryDir dir;
    QFile f(dir.filePath("f"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(input);
    f.close();
    QCOMPARE(QString::fromStdString(twb::fileSha256(f.fileName().toStdString())), digest);
}

TWB_TEST_MAIN(TestReport)
#include "tst_report.moc"
