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
