// The Sweep panel: the race, its chart and table, the winner added to the configurations, the sweep
// kept as a report.
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

class TestSweepPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void sweepPanelRecommendsAndAddsTheWinner();

private:
    QTemporaryDir m_settingsDir;
};

void TestSweepPanel::sweepPanelRecommendsAndAddsTheWinner() {
    MainWindow w;
    w.show();
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QStringLiteral("gen:normal:2x10:seed=1")});
    w.openFile(QString::fromStdString(TWB_DATA("folding.pt")));
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=base,jit=off")});
    SweepPanel* panel = w.sweepPanel();
    for (const char* jit : {"freeze"})
        panel->setAxisChecked("jit", jit, false);
    panel->setBudget(4);
    const twb::SweepOptions o = panel->options(w.configPanel()->configs().front());
    QCOMPARE(o.axes.front().key, std::string("jit"));
    QCOMPARE(o.axes.front().values, (std::vector<std::string>{"off", "optimize"}));
    QCOMPARE(o.budgetSeconds, 4.0);
    QSignalSpy finished(&w, &MainWindow::sweepFinished);
    QSignalSpy live(w.runner(), &JobRunner::sweepPointUpdated);
    w.sweep();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY(live.count() > 0); // points arrive as they finish
    const twb::SweepResult& r = panel->result();
    QVERIFY(r.recommended >= 0);
    QCOMPARE(r.points[std::size_t(r.recommended)].config.jit, twb::JitMode::Optimize);
    QVERIFY2(panel->recommendationText().contains("Fastest for latency"),
             qPrintable(panel->recommendationText()));
    QAbstractItemModelTester tester(const_cast<SweepTableModel*>(panel->tableModel()),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(panel->tableModel()->rowCount(), int(r.points.size()));
    QVERIFY(panel->scatterPlot()->graphCount() >= 2);
    // The references are drawn last and named, so neither hides under a grid point measured beside it.
    QVERIFY2(panel->plotLabels().contains("LibTorch's default"), qPrintable(panel->plotLabels().join(", ")));
    QCOMPARE(panel->selectedPoint(), r.recommended); // the winner is selected
    panel->setColourBy("threads");
    QVERIFY(panel->scatterPlot()->graphCount() >= 2);
    // "Use this configuration" adds the winner to the list.
    auto* use = panel->findChild<QPushButton*>(QString(), Qt::FindChildrenRecursively);
    QPushButton* button = nullptr;
    for (auto* b : panel->findChildren<QPushButton*>())
        if (b->text().contains("Use")) button = b;
    QVERIFY(use && button && button->isEnabled());
    button->click();
    QCOMPARE(w.configPanel()->configs().size(), 2);
    QCOMPARE(w.configPanel()->configs().back().jit, twb::JitMode::Optimize);

    // The sweep is a report: exported from the Sweep panel, kept in the session, opened again.
    const QString session = m_settingsDir.filePath("swept.twbsession");
    const QString report = m_settingsDir.filePath("swept.json");
    QVERIFY(saveSessionAndExport(w, 2, session, report));
    const twb::Report written = twb::readReport(report.toStdString());
    QVERIFY(written.hasSweep);
    QCOMPARE(written.sweep.points.size(), r.points.size());
    QCOMPARE(written.sweep.recommended, r.recommended);
    MainWindow w2;
    QSignalSpy restored(&w2, &MainWindow::sessionRestored);
    QVERIFY(w2.restoreSession(session));
    QVERIFY(restored.wait(20000) && restored.last().at(1).toBool());
    QCOMPARE(w2.sweepPanel()->result().points.size(), r.points.size());
    QCOMPARE(w2.sweepPanel()->result().recommended, r.recommended);
    QCOMPARE(w2.sweepPanel()->tableModel()->rowCount(), int(r.points.size()));
    MainWindow w3;
    QSignalSpy shown(&w3, &MainWindow::reportShown);
    w3.openFile(report);
    QVERIFY(shown.wait(20000));
    QCOMPARE(w3.sweepPanel()->result().recommended, r.recommended);
    QVERIFY2(w3.statusText().contains(QString("a sweep of %1 point(s)").arg(r.points.size())),
             qPrintable(w3.statusText()));
    QVERIFY(w3.reportOfTab(2).hasSweep);
}

TWB_GUI_TEST_MAIN(TestSweepPanel)
#include "tst_sweep_panel.moc"
