// Reports: what is written reads back equal, newer fields are tolerated, a
// newer schema is refused by name; raw samples export as CSV; SHA-256.
#include "test_support.h"

#include "twb/error.h"
#include "twb/report.h"

#include <QTemporaryDir>

#include <cmath>

#include <nlohmann/json.hpp>

class TestReport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTrip();
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
