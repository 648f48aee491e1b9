// The Profile panel: operators, modules, lines, the diff, the roofline and the trace; cancel; a
// profile that crashes LibTorch ends one configuration, not the window.
#include "ui_support.h"

#include "config_panel.h"
#include "file_types.h"
#include "inputs_panel.h"
#include "item_models.h"
#include "job_runner.h"
#include "main_window.h"
#include "model_panel.h"
#include "profile_panel.h"
#include "results_panel.h"
#include "sweep_panel.h"

#include "twb/build_info.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <qcustomplot.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyleOptionButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTimer>
#include <QTreeWidget>

#include <cmath>
#include <memory>

#include <sys/stat.h>

using namespace twbui;
using namespace uitest;

class TestProfilePanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void profilePanelShowsOperatorsDiffAndTrace();
    void profileCancels();
    void profileOfAttentionUnderFreezeSurvives();

private:
    QTemporaryDir m_settingsDir;
};

void TestProfilePanel::profilePanelShowsOperatorsDiffAndTrace() {
    qputenv("XDG_CACHE_HOME", m_settingsDir.filePath("cache").toUtf8()); // the machine-peak cache
    MainWindow w;
    w.show();
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=off,jit=off,seconds=0.1"),
                                 twb::RunConfig::parse("name=optimize,jit=optimize,seconds=0.1")});
    ProfilePanel* panel = w.profilePanel();
    QSignalSpy finished(&w, &MainWindow::profilesFinished);
    QSignalSpy perProfile(w.runner(), &JobRunner::profileFinished);
    QSignalSpy progress(w.runner(), &JobRunner::runProgress);
    w.profileAll();
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    QCOMPARE(perProfile.count(), 2); // one at a time, as they finish
    QVERIFY(progress.count() > 0);
    QCOMPARE(panel->profiles().size(), std::size_t(2));
    QVERIFY2(panel->profiles()[0].ok, panel->profiles()[0].error.c_str());
    QVERIFY(w.resultsPanel()->runs().empty()); // profiling runs stay in the Profile panel
    QVERIFY2(w.statusText().contains("Profiled 2 of 2"), qPrintable(w.statusText()));

    QAbstractItemModelTester tableTester(const_cast<ProfileTableModel*>(panel->tableModel()),
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(panel->tableModel()->rowCount() > 5);
    QCOMPARE(panel->tableModel()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(),
             QString("Self %"));
    // The table's times and counts are per forward, as the bars are: totals over the profiled calls / calls.
    const twb::Profile& first = panel->profiles()[0];
    QVERIFY(first.calls > 1 && first.operators[0].timed);
    QCOMPARE(panel->tableModel()->index(0, 2).data(Qt::UserRole).toDouble(),
             first.operators[0].selfNs / first.calls);
    QCOMPARE(panel->tableModel()->index(0, 6).data(Qt::UserRole).toDouble(),
             double(first.operators[0].calls) / first.calls);
    QVERIFY(panel->tableModel()
                ->headerData(2, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains("Per forward"));
    QVERIFY(panel->barLabels().contains("aten::conv2d") ||
            panel->barLabels().contains("aten::_slow_conv2d_forward") ||
            panel->barLabels().contains("aten::mkldnn_convolution"));
    QVERIFY2(panel->summaryText().contains("a forward takes") &&
                 panel->summaryText().contains("Under the profiler it took") &&
                 panel->summaryText().contains("GFLOP/s"),
             qPrintable(panel->summaryText()));
    panel->setMetric(ProfilePanel::Metric::Calls);
    QVERIFY(panel->barLabels().contains("aten::empty")); // the most called operator
    panel->setMetric(ProfilePanel::Metric::SelfTime);
    for (auto view : {ProfileTableModel::View::Modules, ProfileTableModel::View::Lines}) {
        panel->setView(view);
        QVERIFY(panel->tableModel()->rowCount() > 0);
        // The bars follow the table: modules or source lines, not operators.
        QVERIFY(!panel->barLabels().isEmpty());
        QVERIFY2(!panel->barLabels().contains("aten::conv2d"), qPrintable(panel->barLabels().join(", ")));
        if (view == ProfileTableModel::View::Lines)
            QVERIFY2(panel->barLabels().front().contains(':'), qPrintable(panel->barLabels().front()));
    }
    panel->setView(ProfileTableModel::View::Operators);
    QVERIFY(panel->moduleTree()->topLevelItemCount() > 0);

    // The second profile is held against the first: the fused convolution replaces aten::conv2d.
    QAbstractItemModelTester diffTester(const_cast<ProfileDiffModel*>(panel->diffModel()),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(panel->diffModel()->rowCount() > 0);
    QVERIFY2(panel->diffSummaryText().contains("prim::mkldnn_convolution"),
             qPrintable(panel->diffSummaryText()));
    QVERIFY(panel->diffPlot()->plottableCount() == 2);
    QVERIFY(panel->rooflinePlot()->graphCount() >= 2);
    // The busiest operators are named beside their points, and every point has a tooltip.
    panel->showTab(3);
    QVERIFY2(!panel->rooflineLabels().isEmpty(), "no roofline point is named");
    QCustomPlot* roofline = panel->rooflinePlot();
    roofline->replot();
    QVERIFY(roofline->graph(0)->dataCount() > 0);
    const auto point = roofline->graph(0)->data()->at(0);
    const QPoint at(int(roofline->xAxis->coordToPixel(point->key)),
                    int(roofline->yAxis->coordToPixel(point->value)));
    QVERIFY2(panel->rooflineToolTipAt(at).contains("GFLOP/s"), qPrintable(panel->rooflineToolTipAt(at)));
    QVERIFY(panel->rooflineToolTipAt(QPoint(-1000, -1000)).isEmpty()); // nowhere near a point
    panel->showTab(0);
    panel->setDiffAgainst(-1);
    QCOMPARE(panel->diffModel()->rowCount(), 0);

    QSignalSpy traced(&w, &MainWindow::traceExported);
    const QString trace = m_settingsDir.filePath("trace.json");
    emit panel->traceExportRequested(trace);
    QVERIFY(traced.wait(20000));
    QVERIFY(traced.last().at(1).toBool());
    QCOMPARE(twbtest::traceForwards(trace), 2 * panel->calls());

    // The profiles are a report: kept in the session, exported from the Profile panel, and opened beside.
    const QString session = m_settingsDir.filePath("profiled.twbsession");
    const QString report = m_settingsDir.filePath("profiled.json");
    QVERIFY(saveSessionAndExport(w, 1, session, report));
    const twb::Report written = twb::readReport(report.toStdString());
    QCOMPARE(written.profiles.size(), std::size_t(2));
    QCOMPARE(written.runs.size(), std::size_t(2));
    MainWindow w2;
    QSignalSpy restored(&w2, &MainWindow::sessionRestored);
    QSignalSpy ready(&w2, &MainWindow::inputsReady);
    QVERIFY(w2.restoreSession(session));
    QVERIFY(restored.wait(20000) && restored.last().at(1).toBool());
    // The model comes back after the session, off the GUI thread; the report is opened once it has,
    // so that its status line is the last.
    QVERIFY(ready.count() > 0 || ready.wait(20000));
    QVERIFY(ready.last().at(0).toBool());
    QCOMPARE(w2.profilePanel()->profiles().size(), std::size_t(2));
    QCOMPARE(w2.profilePanel()->profiles()[1].label, panel->profiles()[1].label);
    QVERIFY(w2.resultsPanel()->runs().empty()); // the profiling runs stay the Profile panel's
    QCOMPARE(w2.reportOfTab(1).profiles.size(), std::size_t(2));
    QSignalSpy shown(&w2, &MainWindow::reportShown);
    w2.openFile(report);
    QVERIFY(shown.wait(20000));
    QCOMPARE(w2.profilePanel()->profiles().size(), std::size_t(4));
    QVERIFY(QString::fromStdString(w2.profilePanel()->profiles()[3].label).endsWith("profiled.json"));
    QVERIFY2(w2.statusText().contains("2 profile(s)"), qPrintable(w2.statusText()));
    w2.profilePanel()->setDiffAgainst(1); // an opened profile is held against this machine's
    QVERIFY(w2.profilePanel()->diffModel()->rowCount() > 0);
}

void TestProfilePanel::profileCancels() {
    MainWindow w;
    w.show();
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=long,jit=off,seconds=30")});
    QSignalSpy finished(&w, &MainWindow::profilesFinished);
    QSignalSpy progress(w.runner(), &JobRunner::runProgress);
    w.profileAll();
    QVERIFY(progress.wait(20000));
    w.cancel();
    QVERIFY(finished.wait(20000));
    QVERIFY(finished.last().at(0).toBool());
    QVERIFY(w.statusText().contains("Cancelled"));
}

void TestProfilePanel::profileOfAttentionUnderFreezeSurvives() {
    // Profiling a scripted nn.MultiheadAttention under freeze crashed LibTorch's stack capture, and with it
    // the whole window; now the profile comes back, without stacks where it had to.
    // LibTorch before 2.0 has no scaled_dot_product_attention, which 2.13's MultiheadAttention calls: there,
    // the same model as PyTorch 1.13 scripted it.
    const std::string model = twb::inspectModelFile(TWB_DATA("mha_scripted.pt")).diagnosis.usable
                                  ? TWB_DATA("mha_scripted.pt")
                                  : TWB_DATA("mha_scripted_113.pt");
    qputenv("XDG_CACHE_HOME", m_settingsDir.filePath("cache").toUtf8());
    MainWindow w;
    w.show();
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("mha_inputs.pt"))});
    w.openFile(QString::fromStdString(model));
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=freeze,jit=freeze,iters=5,warmup=3")});
    QSignalSpy finished(&w, &MainWindow::profilesFinished);
    w.profileAll();
    QVERIFY(finished.wait(120000));
    QCOMPARE(w.profilePanel()->profiles().size(), std::size_t(1));
    QVERIFY2(w.profilePanel()->profiles()[0].ok, w.profilePanel()->profiles()[0].error.c_str());
}

TWB_GUI_TEST_MAIN(TestProfilePanel)
#include "tst_profile_panel.moc"
