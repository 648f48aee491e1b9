// Sessions are core's plain data: versioned JSON, written atomically, and every part that cannot be
// read is an error naming the file and the cause.
#include "test_support.h"

#include "twb/error.h"
#include "twb/session.h"

#include <QFile>
#include <QTemporaryDir>

class TestSession : public QObject {
    Q_OBJECT
private slots:
    void roundTrip();
    void versionOneReads();
    void refusals_data();
    void refusals();
};

void TestSession::roundTrip() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("s.twbsession").toStdString();
    twb::Session s;
    s.model = TWB_DATA("cnn_scripted.pt");
    s.stateDict = TWB_DATA("cnn_state_dict.pth");
    s.stateDictStrict = false;
    s.inputs = {{"x", TWB_DATA("cnn_x.npy")}, {"", "gen:normal:1x3x12x16:seed=2"}};
    s.configs = {twb::RunConfig::parse("jit=off,iters=5"),
                 twb::RunConfig::parse("name=fast,jit=optimize,threads=1")};
    s.configs[1].target = "cmd:srun -p gpu,debug torchwb worker"; // a target, commas and all
    s.hasReport = true;
    s.report.model.path = s.model;
    twb::RunRecord run;
    run.label = "cpu · jit off";
    run.ok = true;
    run.samplesNs = {1000, 1100, 1050};
    s.report.runs.push_back(run);
    // The profile's report (its runs and profiles) and the sweep's, kept beside the runs'.
    s.hasProfileReport = true;
    s.profileReport.runs.push_back(run);
    twb::Profile profile;
    profile.ok = true;
    profile.label = run.label;
    profile.calls = 7;
    profile.forwardNs = 1234;
    s.profileReport.profiles.push_back(profile);
    s.hasSweepReport = true;
    s.sweepReport.hasSweep = true;
    twb::SweepPoint point;
    point.config = twb::RunConfig::parse("jit=off,threads=1");
    point.samplesNs = {900, 950};
    s.sweepReport.sweep.points.push_back(point);
    s.sweepReport.sweep.recommended = 0;
    s.hasLoadReport = true;
    s.loadReport.hasLoad = true;
    s.loadReport.load.options.scenario = twb::LoadScenario::Offline;
    s.loadReport.load.curve.resize(2);
    s.loadReport.load.curve[1].latency.p99 = 2.5e6;
    s.loadReport.load.verdict = "Offline: 400 samples a second with 1 executor.";
    twb::writeSession(path, s);
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
    const twb::Session back = twb::readSession(path);
    QCOMPARE(back.model, s.model);
    QCOMPARE(back.stateDict, s.stateDict);
    QCOMPARE(back.stateDictStrict, false);
    QCOMPARE(back.inputs.size(), std::size_t(2));
    QCOMPARE(back.inputs[1].source, std::string("gen:normal:1x3x12x16:seed=2"));
    QCOMPARE(back.configs.size(), std::size_t(2));
    QCOMPARE(back.configs[1].toSpec(), s.configs[1].toSpec());
    QCOMPARE(back.configs[1].target, s.configs[1].target);
    QVERIFY(back.configs[0].target.empty());
    QVERIFY(back.hasReport);
    QCOMPARE(back.report.runs.size(), std::size_t(1));
    QCOMPARE(back.report.runs[0].samplesNs, run.samplesNs);
    QVERIFY(back.report.profiles.empty() && !back.report.hasSweep); // each report stays its own
    QVERIFY(back.hasProfileReport);
    QCOMPARE(back.profileReport.runs.size(), std::size_t(1));
    QCOMPARE(back.profileReport.profiles.size(), std::size_t(1));
    QCOMPARE(back.profileReport.profiles[0].calls, 7);
    QCOMPARE(back.profileReport.profiles[0].forwardNs, 1234.0);
    QVERIFY(back.hasSweepReport && back.sweepReport.hasSweep);
    QCOMPARE(back.sweepReport.sweep.points.size(), std::size_t(1));
    QCOMPARE(back.sweepReport.sweep.points[0].config.toSpec(), point.config.toSpec());
    QCOMPARE(back.sweepReport.sweep.recommended, 0);
    QVERIFY(back.hasLoadReport && back.loadReport.hasLoad);
    QCOMPARE(back.loadReport.load.options.scenario, twb::LoadScenario::Offline);
    QCOMPARE(back.loadReport.load.curve.size(), std::size_t(2));
    QCOMPARE(back.loadReport.load.curve[1].latency.p99, 2.5e6);
    QCOMPARE(back.loadReport.load.verdict, s.loadReport.load.verdict);
}

// A session written before profiles and sweeps were kept: the runs' report alone.
void TestSession::versionOneReads() {
    twb::Session written;
    written.model = "m.pt";
    written.hasReport = true;
    written.report.model.path = "m.pt";
    std::string json = twb::sessionToJson(written);
    const std::string v2 =
        "{\"torch_workbench_session\":" + std::to_string(twb::Session::kSchemaVersion) + ",";
    QVERIFY2(json.rfind(v2, 0) == 0, json.c_str());
    json.replace(0, v2.size(), "{\"torch_workbench_session\":1,");
    const twb::Session s = twb::sessionFromJson(json, "old.twbsession");
    QCOMPARE(s.model, std::string("m.pt"));
    QVERIFY(s.hasReport);
    QCOMPARE(s.report.model.path, std::string("m.pt"));
    QVERIFY(!s.hasProfileReport && !s.hasSweepReport);
}

void TestSession::refusals_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("why");
    QTest::newRow("not JSON") << "{\"torch_workbench_session\": 1, "
                              << "JSON is damaged";
    QTest::newRow("not a session") << "{\"schema\": \"torch-workbench-report\"}"
                                   << "not a Torch Workbench session";
    QTest::newRow("newer") << "{\"torch_workbench_session\": 7}"
                           << "schema version 7 is from a newer Torch Workbench";
    QTest::newRow("bad configuration")
        << "{\"torch_workbench_session\": 1, \"configs\": [\"jit=off\", \"jit=fast\"]}"
        << "configuration 2 'jit=fast' cannot be read";
    QTest::newRow("damaged report") << "{\"torch_workbench_session\": 1, \"report\": {\"schema\": "
                                       "\"torch-workbench-report\", \"schema_version\": 99}}"
                                    << "(its report): report schema version 99";
    QTest::newRow("damaged sweep report")
        << "{\"torch_workbench_session\": 2, \"sweep_report\": {\"schema\": \"torch-workbench-report\", "
           "\"schema_version\": 99}}"
        << "(its sweep_report): report schema version 99";
}

void TestSession::refusals() {
    QFETCH(QString, text);
    QFETCH(QString, why);
    try {
        twb::sessionFromJson(text.toStdString(), "my.twbsession");
        QFAIL("accepted");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "my.twbsession") &&
                     twbtest::contains(e.what(), why.toStdString()),
                 e.what());
    }
}

TWB_TEST_MAIN(TestSession)
#include "tst_session.moc"
