// The Load panel: a real load run in the window on a model of fixed work, its points drawn as they come,
// the bound as a line, the knee and the peak marked, the verdict; Cancel keeping the points measured; a
// bad parameter refused before anything starts; the run exported as a report and opened again.
#include "ui_support.h"

#include "job_runner.h"
#include "load_panel.h"
#include "main_window.h"

#include "twb/report.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>

using namespace twbui;
using namespace uitest;

class TestLoadPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void drawsTheCurveTheBoundAndTheKnee();
    void aRealRunArrivesPointByPointAndIsAReport();
    void cancelKeepsThePointsAndBadParametersAreRefused();

private:
    QTemporaryDir m_settingsDir;
};

namespace {

bool openFixedWork(MainWindow& w) {
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QStringLiteral("gen:normal:160x160:seed=1")});
    w.openFile(QString::fromStdString(TWB_DATA("fixed_work.pt")));
    return ready.wait(20000) && ready.last().at(0).toBool();
}

twb::LoadPoint point(double qps, double p99Ms) {
    twb::LoadPoint p;
    p.offeredQps = p.achievedQps = qps;
    p.latency.p50 = p99Ms * 0.5e6;
    p.latency.p99 = p99Ms * 1e6;
    p.queue.p99 = p99Ms * 0.6e6;
    p.compute.p99 = 1e6;
    p.p99UpperBound = p99Ms * 1.1e6;
    p.meetsBound = p99Ms < 5;
    p.utilisation = qps / 1000;
    return p;
}

} // namespace

void TestLoadPanel::drawsTheCurveTheBoundAndTheKnee() {
    // A result as core makes it: three loads, the third past the knee, a bound and a peak.
    LoadPanel panel;
    panel.resize(900, 700);
    panel.show();
    twb::LoadResult r;
    r.options.p99BoundMs = 5;
    r.options.findPeak = true;
    r.options.maxBatch = 4;
    r.options.batchWindowUs = 500;
    r.curve = {point(500, 2), point(250, 1.5), point(900, 9)};
    r.curve[0].calls = 300; // served in 100 calls: batches of 3 on average
    r.curve[0].batches = 100;
    r.knee = 2;
    r.peakQps = 500;
    r.peakFailedQps = 900;
    r.verdict = "Peak: 500 QPS with p99 within 5.000 ms at 99% confidence (900 QPS did not).";
    panel.showResult(r);
    QCOMPARE(panel.table()->rowCount(), 3);
    QCOMPARE(panel.plot()->graphCount(), 4); // p99, p50, queued p99, compute p99
    QCOMPARE(panel.plot()->graph(0)->dataCount(), 3);
    // Drawn in order of load, whatever order they were measured in.
    QCOMPARE(panel.plot()->graph(0)->data()->at(0)->key, 250.0);
    QCOMPARE(panel.drawnBoundMs(), 5.0);
    QCOMPARE(panel.drawnKneeQps(), 900.0);
    QCOMPARE(panel.drawnPeakQps(), 500.0);
    QVERIFY(panel.table()->item(2, 9)->text().contains("knee"));
    QVERIFY(panel.table()->item(2, 9)->text().contains("over the bound"));
    QVERIFY(!panel.table()->item(2, 9)->text().contains("again"));
    // A load measured again after missing the bound says so, and each load its search when several went in
    // turns.
    r.curve[2].again = true;
    r.options.peakSearches = 2;
    r.curve[2].search = 1;
    panel.showResult(r);
    QVERIFY(panel.table()->item(2, 9)->text().contains("again, with the load before"));
    QVERIFY(panel.table()->item(2, 9)->text().contains("search 2"));
    QVERIFY(panel.table()->item(0, 9)->text().contains("search 1"));
    r.curve[2].again = false;
    r.options.peakSearches = 1;
    r.curve[2].search = 0;
    panel.showResult(r);
    QCOMPARE(panel.table()->item(0, 8)->text(), QStringLiteral("3.0"));
    QCOMPARE(panel.table()->item(1, 8)->text(), QStringLiteral("–")); // no calls made
    QCOMPARE(panel.verdictText(), QString::fromStdString(r.verdict));
    // The fields show what the run asked.
    QVERIFY(panel.options({}).findPeak);
    QCOMPARE(panel.options({}).p99BoundMs, 5.0);
    QCOMPARE(panel.options({}).maxBatch, 4);
    QCOMPARE(panel.options({}).batchWindowUs, 500.0);
    // A single stream has nothing to batch, and offline's requests are all queued at once: no window.
    auto* scenario = panel.findChild<QComboBox*>();
    QVERIFY(scenario);
    scenario->setCurrentIndex(1);
    QCOMPARE(panel.options({}).scenario, twb::LoadScenario::SingleStream);
    QCOMPARE(panel.options({}).maxBatch, 1);
    QCOMPARE(panel.options({}).batchWindowUs, 0.0);
    scenario->setCurrentIndex(3);
    QCOMPARE(panel.options({}).maxBatch, 4);
    QCOMPARE(panel.options({}).batchWindowUs, 0.0);
    scenario->setCurrentIndex(0);
    // A share of the capacity instead of a QPS: the QPS field steps aside, and a search has neither.
    twb::LoadOptions share = panel.options({});
    share.findPeak = false;
    share.qps = 300;
    share.utilisation = 0.8;
    panel.setOptions(share);
    QCOMPARE(panel.options({}).utilisation, 0.8);
    QCOMPARE(panel.options({}).qps, 0.0);
    auto* qps = panel.findChild<QDoubleSpinBox*>();
    QVERIFY(qps && qps->suffix().contains("QPS"));
    QVERIFY(!qps->isEnabled());
    QVERIFY_THROWS_NO_EXCEPTION(twb::validateLoadOptions(panel.options({})));
    share.findPeak = true;
    share.peakSearches = 3;
    panel.setOptions(share);
    QCOMPARE(panel.options({}).utilisation, 0.0);
    // Searches in turns belong to a peak search, and go with it.
    QCOMPARE(panel.options({}).peakSearches, 3);
    QVERIFY_THROWS_NO_EXCEPTION(twb::validateLoadOptions(panel.options({})));
    auto* findPeak = panel.findChild<QCheckBox*>();
    QVERIFY(findPeak);
    findPeak->setChecked(false);
    QCOMPARE(panel.options({}).peakSearches, 1);
    QVERIFY_THROWS_NO_EXCEPTION(twb::validateLoadOptions(panel.options({})));
    share.findPeak = false;
    share.utilisation = 0;
    panel.setOptions(share);
    QVERIFY(qps->isEnabled());
    QCOMPARE(panel.options({}).qps, 300.0);
    panel.reset();
    QCOMPARE(panel.table()->rowCount(), 0);
    QCOMPARE(panel.drawnKneeQps(), 0.0);
}

void TestLoadPanel::aRealRunArrivesPointByPointAndIsAReport() {
    MainWindow w;
    w.show();
    QVERIFY(openFixedWork(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=served,threads=1")});
    twb::LoadOptions o;
    o.scenario = twb::LoadScenario::Server;
    o.seconds = 0.6;              // no bound, so no minimum of arrivals: six short loads on any build
    w.loadPanel()->setOptions(o); // no QPS: a curve of six loads up to the measured capacity
    QSignalSpy live(w.runner(), &JobRunner::loadPointUpdated);
    QSignalSpy finished(&w, &MainWindow::loadFinished);
    w.load();
    QCOMPARE(w.rightTab(), 5);
    QVERIFY(finished.wait(90000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    const twb::LoadResult& r = w.loadPanel()->result();
    QVERIFY2(r.ok, r.error.c_str());
    QCOMPARE(r.curve.size(), std::size_t(6));
    QCOMPARE(live.count(), 6); // each point as it finished
    QCOMPARE(w.loadPanel()->table()->rowCount(), 6);
    QCOMPARE(w.loadPanel()->drawnBoundMs(), 0.0);
    QCOMPARE(w.loadPanel()->plot()->graph(0)->dataCount(), 6);
    QVERIFY(r.label.find("served") != std::string::npos);
    QVERIFY2(w.statusText().contains("QPS"), qPrintable(w.statusText()));

    // Kept in the session, exported from the Load panel, and opened again into other windows.
    const QString session = m_settingsDir.filePath("load.twbsession");
    const QString report = m_settingsDir.filePath("load.json");
    QVERIFY(saveSessionAndExport(w, 5, session, report));
    MainWindow restored;
    QSignalSpy back(&restored, &MainWindow::sessionRestored);
    QVERIFY(restored.restoreSession(session));
    QVERIFY(back.wait(20000) && back.last().at(1).toBool());
    QCOMPARE(restored.loadPanel()->result().curve.size(), r.curve.size());
    const twb::Report written = twb::readReport(report.toStdString());
    QVERIFY(written.hasLoad);
    QCOMPARE(written.load.curve.size(), r.curve.size());
    MainWindow w2;
    QSignalSpy shown(&w2, &MainWindow::reportShown);
    w2.openFile(report);
    QVERIFY(shown.wait(20000));
    QCOMPARE(w2.loadPanel()->result().curve.size(), r.curve.size());
    QCOMPARE(w2.rightTab(), 5);
    QVERIFY2(w2.statusText().contains("a load run of 6 point(s)"), qPrintable(w2.statusText()));
}

void TestLoadPanel::cancelKeepsThePointsAndBadParametersAreRefused() {
    MainWindow w;
    w.show();
    QVERIFY(openFixedWork(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("threads=1")});
    twb::LoadOptions o;
    o.seconds = 1;
    o.findPeak = true; // without a bound: refused at once, nothing started
    w.loadPanel()->setOptions(o);
    QSignalSpy finished(&w, &MainWindow::loadFinished);
    w.load();
    QVERIFY2(w.statusText().contains("needs the p99 bound"), qPrintable(w.statusText()));
    QVERIFY(!w.runner()->isRunning());
    QCOMPARE(finished.count(), 0);

    o.findPeak = false;
    w.loadPanel()->setOptions(o);
    QSignalSpy live(w.runner(), &JobRunner::loadPointUpdated);
    w.load();
    QVERIFY(live.wait(30000)); // the first of six points
    w.cancel();
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.last().at(0).toBool(), true);
    const std::size_t kept = w.loadPanel()->result().curve.size();
    QVERIFY2(kept >= 1 && kept < 6, qPrintable(QString::number(kept)));
    QVERIFY2(w.statusText().contains("cancelled"), qPrintable(w.statusText()));
    // The window goes on: another run starts and ends.
    o.scenario = twb::LoadScenario::SingleStream;
    o.seconds = 0.5;
    w.loadPanel()->setOptions(o);
    w.load();
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY(w.loadPanel()->verdictText().contains("p90"));
}

TWB_GUI_TEST_MAIN(TestLoadPanel)
#include "tst_load_panel.moc"
