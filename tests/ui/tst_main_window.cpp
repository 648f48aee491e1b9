// The main window driven as a user would: open, run, cancel, compare, sessions and reports, crashes
// and hostile files, targets and operator libraries, the real program killed mid-run.
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

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void openSampleRunAndCompare();
    void guiStaysResponsive();
    void cancelLongRun();
    void brokenFileShowsDiagnosisAndFix();
    void dropTensorFileBecomesInput();
    void sessionAndReportRoundTrip();
    void guiAndCliReportsCarryTheSameFields();
    void openingAnotherModelStopsTheRun();
    void helpShortcutsManualAndWhyRunIsOff();
    void windowsShareTheirIcons();
    void fitsALaptopScreen();
    void comparisonDuringARunComesBackAtOnce();
    void reportsAreReadOffTheGuiThread();
    void unreadableSessionSaysWhy();
    void restoreOfferedExactlyAfterACrash();
    void packageRunsBesideItsTorchScriptTwin();
    void brokenAndHostileFilesInARow();
    void crashingConfigurationIsAFailedRow();
    void runOnTwoTargetsLabelsEveryResult();
    void exportWritesWhatThePanelShows();
    // Last: a library loaded stays loaded in this process, and every later worker would load it too.
    void operatorLibraryIsOfferedLoadedAndRemembered();

private:
    QTemporaryDir m_settingsDir;
};

namespace {
// Every key path of a JSON document ("runs[].stats.median"), arrays by their first element.
void keyPaths(const QJsonValue& v, const QString& at, QSet<QString>& out) {
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString path = at.isEmpty() ? it.key() : at + "." + it.key();
            out.insert(path);
            keyPaths(it.value(), path, out);
        }
    } else if (v.isArray()) { // an array counts as present even when this run left it empty
        out.insert(at + "[]");
        if (!v.toArray().isEmpty()) keyPaths(v.toArray().first(), at + "[]", out);
    }
}
QSet<QString> keyPathsOf(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QSet<QString> out;
    keyPaths(QJsonDocument::fromJson(f.readAll()).object(), QString(), out);
    return out;
}
} // namespace

namespace {
QString findUnder(const QString& dir, const QString& pattern) {
    QDirIterator it(dir, {pattern}, QDir::Files, QDirIterator::Subdirectories);
    return it.hasNext() ? it.next() : QString();
}
} // namespace

void TestMainWindow::openSampleRunAndCompare() {
    MainWindow w;
    w.show();
    QSignalSpy shown(&w, &MainWindow::modelShown);
    QVERIFY(openSample(w));
    QCOMPARE(shown.count(), 1);
    QVERIFY2(w.modelPanel()->headline().contains("sample_cnn.pt — torchscript"),
             qPrintable(w.modelPanel()->headline()));
    QAbstractItemModelTester treeTester(const_cast<ModuleTreeModel*>(w.modelPanel()->treeModel()),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(w.modelPanel()->treeModel()->rowCount() > 0);

    w.configPanel()->setConfigs(quick());
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    QSignalSpy compared(&w, &MainWindow::comparisonShown);
    QSignalSpy perRun(w.runner(), &JobRunner::runFinished);
    w.runAll();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    QCOMPARE(perRun.count(), 2); // results arrive one configuration at a time
    const auto& runs = w.resultsPanel()->runs();
    QCOMPARE(runs.size(), std::size_t(2));
    QVERIFY2(runs[0].record.ok && runs[1].record.ok, runs[0].record.error.c_str());
    QCOMPARE(runs[1].record.samplesNs.size(), std::size_t(30));
    QVERIFY(runs[1].hasComparison);
    // Per run: each call, the p5 and p95 edges of its band, and the rolling median.
    QCOMPARE(w.resultsPanel()->timelinePlot()->graphCount(), 8);
    // Measured in three worker processes each: two dashed boundaries per configuration.
    QCOMPARE(runs[1].record.processes, 3);
    QCOMPARE(w.resultsPanel()->processBoundaries(), 4);

    QAbstractItemModelTester statsTester(const_cast<StatsTableModel*>(w.resultsPanel()->statsModel()),
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(w.resultsPanel()->statsModel()->rowCount(), 2);
    QCOMPARE(w.resultsPanel()->statsModel()->index(0, 2).data().toString(), QString("baseline"));
    QAbstractItemModelTester leafTester(const_cast<LeafTableModel*>(w.resultsPanel()->leafModel()),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(w.resultsPanel()->leafModel()->rowCount(), 1);

    QTRY_VERIFY_WITH_TIMEOUT(compared.count() > 0 || !w.resultsPanel()->comparisonModel()->rows().empty(),
                             20000);
    QAbstractItemModelTester cmpTester(const_cast<ComparisonTableModel*>(w.resultsPanel()->comparisonModel()),
                                       QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY2(w.resultsPanel()->comparisonVerdict().contains("the output is allclose"),
             qPrintable(w.resultsPanel()->comparisonVerdict()));
    QCOMPARE(w.resultsPanel()->comparisonModel()->index(0, 1).data().toString(), QString("allclose"));

    // An output saved from the Outputs tab is the output, as NumPy reads it.
    QTemporaryDir dir;
    QSignalSpy saved(w.runner(), &JobRunner::outputSaved);
    emit w.resultsPanel()->saveOutputRequested(runs[0].output, dir.filePath("out.npy"));
    QVERIFY(saved.wait(20000));
    QVERIFY2(saved.last().at(1).toString().isEmpty(), qPrintable(saved.last().at(1).toString()));
    const std::string same =
        twbtest::compareValueToFile(runs[0].output, dir.filePath("out.npy").toStdString(), 0, 0);
    QVERIFY2(same.empty(), same.c_str());
    QVERIFY(w.resultsPanel()->findChild<QPushButton*>("saveOutput"));
}

void TestMainWindow::guiStaysResponsive() {
    MainWindow w;
    w.show();
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs(
        {twb::RunConfig::parse("jit=off,seconds=1"), twb::RunConfig::parse("jit=optimize,seconds=1")});
    // A timer on the GUI thread: the longest gap between its ticks is the longest stall.
    // The longest gap between its ticks is the longest stall, printed as a figure; what is asserted is that
    // the event loop kept turning while the run was under way, as it cannot if the run blocks it.
    QElapsedTimer clock;
    qint64 last = 0, worst = 0;
    int ticksWhileRunning = 0;
    QTimer tick;
    tick.setInterval(5);
    connect(&tick, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        if (last) worst = std::max(worst, now - last);
        last = now;
        ticksWhileRunning += w.runner()->isRunning();
    });
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    QSignalSpy compared(&w, &MainWindow::comparisonShown);
    clock.start();
    tick.start();
    w.runAll();
    QVERIFY(finished.wait(60000));
    QTRY_VERIFY_WITH_TIMEOUT(!compared.isEmpty(), 20000); // the charts and the comparison that follow
    tick.stop();
    qInfo("longest event-loop stall during the run: %lld ms, %d ticks while it ran",
          static_cast<long long>(worst), ticksWhileRunning);
    QVERIFY2(
        ticksWhileRunning > 10,
        qPrintable(QStringLiteral("the event loop turned %1 times during the run").arg(ticksWhileRunning)));
}

void TestMainWindow::cancelLongRun() {
    MainWindow w;
    w.show();
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs(
        {twb::RunConfig::parse("jit=off,seconds=120"), twb::RunConfig::parse("jit=optimize,seconds=120")});
    QSignalSpy progress(w.runner(), &JobRunner::runProgress);
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    // Cancelled once a configuration is being measured (the workers' start and warm-up report first).
    auto measuring = [&] {
        for (const auto& args : progress)
            if (args.at(1).value<twb::Progress>().phase == "measuring") return true;
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(measuring(), 30000);
    w.cancel();
    QVERIFY(finished.wait(10000)); // a 120 s run
    QCOMPARE(finished.last().at(0).toBool(), true);
    // Rounds are interleaved: each configuration that had begun keeps what it measured, marked cancelled;
    // one whose worker was still starting is left out.
    QVERIFY(!w.resultsPanel()->runs().empty() && w.resultsPanel()->runs().size() <= 2);
    for (const auto& run : w.resultsPanel()->runs())
        QVERIFY(run.record.cancelled);
}

void TestMainWindow::brokenFileShowsDiagnosisAndFix() {
    MainWindow w;
    w.show();
    QVERIFY(showFile(w, TWB_DATA("cnn_pickled_module.pt")));
    QVERIFY(w.modelPanel()->headline().contains("cannot be used"));
    auto* fix = w.modelPanel()->findChild<QPlainTextEdit*>(QStringLiteral("fix"));
    QVERIFY(fix && fix->isVisible());
    QVERIFY2(fix->toPlainText().contains("torch.jit.script(model)"), qPrintable(fix->toPlainText()));
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll(); // refused at once, in the status bar, with no dialog and no job
    QVERIFY(!w.runner()->isRunning());
    QVERIFY2(w.statusText().contains("first"), qPrintable(w.statusText()));
    QVERIFY(QApplication::activeModalWidget() == nullptr);
    QCOMPARE(finished.count(), 0);
}

void TestMainWindow::dropTensorFileBecomesInput() {
    MainWindow w;
    w.show();
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.openFile(QString::fromStdString(TWB_DATA("two_inputs.pt")));
    QVERIFY(ready.wait(20000));
    // Nothing given: the model's suggestion for x and its guess for y, which bind.
    QCOMPARE(ready.last().at(0).toBool(), true);
    QVERIFY2(w.inputsPanel()->specs().at(0).source.startsWith("gen:"),
             qPrintable(w.inputsPanel()->specs().at(0).source));
    QVERIFY(w.acceptDrops());
    // What a drop does.
    w.openUrls({QUrl::fromLocalFile(QString::fromStdString(TWB_DATA("two_inputs_xy.npz")))});
    QTRY_VERIFY2_WITH_TIMEOUT(
        ready.count() >= 2 && ready.last().at(0).toBool(),
        qPrintable(w.inputsPanel()->bindingError() + " / " + w.inputsPanel()->specs().at(0).source), 20000);
    QCOMPARE(w.inputsPanel()->specs().at(0).source, QString::fromStdString(TWB_DATA("two_inputs_xy.npz")));

    // A torch.save file is read off the GUI thread to tell an input from a model: tensors become the input,
    // and the model stays open.
    QVERIFY(showFile(w, TWB_DATA("mlp_traced.pt")));
    QSignalSpy classified(w.runner(), &JobRunner::fileClassified);
    w.openUrls({QUrl::fromLocalFile(QString::fromStdString(TWB_DATA("mlp_x.pt")))});
    QVERIFY(classified.wait(20000));
    QVERIFY(classified.last().at(1).toBool());
    QTRY_COMPARE_WITH_TIMEOUT(w.inputsPanel()->specs().at(0).source,
                              QString::fromStdString(TWB_DATA("mlp_x.pt")), 20000);
    QVERIFY(w.modelPanel()->headline().contains("mlp_traced.pt"));

    // Dropped together, in either order: the model opens and the tensors become its inputs, whether
    // told by their name (.npz) or read to tell (a torch.save file, itself opened first).
    const std::vector<std::pair<std::string, std::string>> drops{{"two_inputs_xy.npz", "two_inputs.pt"},
                                                                 {"mlp_x.pt", "mlp_traced.pt"}};
    for (const auto& [input, model] : drops) {
        MainWindow together;
        QSignalSpy bound(&together, &MainWindow::inputsReady);
        together.openUrls({QUrl::fromLocalFile(QString::fromStdString(TWB_DATA(input))),
                           QUrl::fromLocalFile(QString::fromStdString(TWB_DATA(model)))});
        QTRY_VERIFY2_WITH_TIMEOUT(bound.count() > 0 && bound.last().at(0).toBool(),
                                  qPrintable(together.statusText()), 20000);
        QVERIFY2(together.modelPanel()->headline().contains(QString::fromStdString(model)),
                 qPrintable(together.modelPanel()->headline()));
        QCOMPARE(together.inputsPanel()->specs().at(0).source, QString::fromStdString(TWB_DATA(input)));
        QCOMPARE(together.modelPath(), QString::fromStdString(TWB_DATA(model)));
    }
}

void TestMainWindow::sessionAndReportRoundTrip() {
    QTemporaryDir dir;
    const QString session = dir.filePath("s.twbsession"), report = dir.filePath("r.json");
    {
        MainWindow w;
        QVERIFY(runQuick(w));
        QSignalSpy saved(&w, &MainWindow::sessionSaved);
        QSignalSpy exported(&w, &MainWindow::reportExported);
        w.saveSession(session);
        w.exportReport(report, dir.filePath("r.csv"));
        QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 2, 20000); // the autosave after the run, then ours
        QVERIFY(saved.last().at(1).toBool());
        QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 20000);
        QVERIFY(exported.last().at(1).toBool());
    }
    const twb::Report r = twb::readReport(report.toStdString());
    QCOMPARE(r.runs.size(), std::size_t(2));
    QCOMPARE(r.runs[1].config.jit, twb::JitMode::Optimize);
    QCOMPARE(r.model.sha256.size(), std::size_t(64));
    QVERIFY(QFileInfo(dir.filePath("r.csv")).size() > 0);

    MainWindow w2;
    QSignalSpy ready(&w2, &MainWindow::inputsReady);
    QVERIFY(w2.restoreSession(session));
    QVERIFY(ready.wait(20000));
    QVERIFY(ready.last().at(0).toBool()); // the inputs came back with the model
    // The restore is said, and what the model is after it.
    QVERIFY2(w2.statusText().startsWith("Restored the session from") &&
                 w2.statusText().contains("TorchScript"),
             qPrintable(w2.statusText()));
    QCOMPARE(w2.configPanel()->configs().size(), 2);
    QCOMPARE(w2.configPanel()->configs()[1].toSpec(), quick()[1].toSpec());
    QCOMPARE(w2.resultsPanel()->runs().size(), std::size_t(2));
    QCOMPARE(w2.resultsPanel()->runs()[1].record.samplesNs.size(), std::size_t(30));
}

// The GUI's Run and torchwb bench go through core's plan runner: their reports of the same run
// carry the same fields (input shapes, output comparisons, environment, …).
void TestMainWindow::guiAndCliReportsCarryTheSameFields() {
    const QString torchwb = qEnvironmentVariable("TORCHWB");
    if (torchwb.isEmpty()) QSKIP("TORCHWB is not set: run through ctest");
    QTemporaryDir dir;
    const QString gui = dir.filePath("gui.json"), cli = dir.filePath("cli.json");
    {
        MainWindow w;
        QVERIFY(runQuick(w));
        QSignalSpy exported(&w, &MainWindow::reportExported);
        w.exportReport(gui, QString());
        QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 20000);
        QVERIFY(exported.last().at(1).toBool());
    }
    QProcess bench;
    bench.start(torchwb, {"bench", QString::fromStdString(TWB_DATA("../../resources/sample/sample_cnn.pt")),
                          "-i", QString::fromStdString(TWB_DATA("../../resources/sample/sample_input.npy")),
                          "-q", "-c", QString::fromStdString(quick()[0].toSpec()), "-c",
                          QString::fromStdString(quick()[1].toSpec()), "--json", cli});
    QVERIFY(bench.waitForFinished(120000));
    QVERIFY2(bench.exitCode() == 0, bench.readAllStandardError().constData());
    const QSet<QString> a = keyPathsOf(gui), b = keyPathsOf(cli);
    QVERIFY(a.contains("inputs[].shape") && a.contains("comparisons[].outputs.allclose"));
    QVERIFY(a.contains("environment.libtorch_build.blas") && a.contains("model.sha256"));
    const QSet<QString> onlyGui = a - b, onlyCli = b - a;
    QVERIFY2(onlyGui.isEmpty() && onlyCli.isEmpty(),
             qPrintable("only in the GUI's: " + QStringList(onlyGui.values()).join(", ") +
                        "; only in the CLI's: " + QStringList(onlyCli.values()).join(", ")));
    const twb::Report g = twb::readReport(gui.toStdString());
    QCOMPARE(g.inputs.size(), std::size_t(1));
    QCOMPARE(g.inputs[0].shape, (std::vector<int64_t>{1, 3, 64, 64}));
    QCOMPARE(g.inputs[0].sha256.size(), std::size_t(64));
}

void TestMainWindow::openingAnotherModelStopsTheRun() {
    MainWindow w;
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("seconds=120")});
    QSignalSpy progress(w.runner(), &JobRunner::runProgress);
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 2, 20000);
    QSignalSpy shown(&w, &MainWindow::modelShown);
    QSignalSpy saved(&w, &MainWindow::sessionSaved);
    w.openFile(QString::fromStdString(TWB_DATA("mlp_traced.pt")));
    QVERIFY(shown.wait(20000)); // not stuck behind a two-minute run
    QVERIFY(!finished.isEmpty() && finished.last().at(0).toBool());
    QVERIFY(!w.runner()->isRunning());
    // The stopped run is not autosaved as the new model's session with the last model's inputs.
    QCoreApplication::processEvents();
    QVERIFY2(saved.isEmpty(), qPrintable(saved.isEmpty() ? QString() : saved.first().at(0).toString()));
    QVERIFY2(w.statusText().startsWith("Stopped to open mlp_traced.pt.") &&
                 w.statusText().contains("TorchScript"),
             qPrintable(w.statusText()));
    // The measuring thread runs one job at a time and delivers in order: whatever the old run still sent
    // arrived before the new model was shown, and was dropped.
    QVERIFY2(w.resultsPanel()->runs().empty(), "the old model's results were dropped");
}

void TestMainWindow::windowsShareTheirIcons() {
    // Pixmaps are cached by icon: a window that made its icons afresh left them cached after it closed.
    auto iconKeys = [] {
        MainWindow w;
        w.show();
        QCoreApplication::processEvents();
        QMap<QString, qint64> keys{{QStringLiteral("window"), w.windowIcon().cacheKey()}};
        for (QAction* a : w.findChildren<QAction*>())
            if (!a->icon().isNull()) keys.insert(a->text(), a->icon().cacheKey());
        return keys;
    };
    const QMap<QString, qint64> first = iconKeys(), second = iconKeys();
    QVERIFY2(first.size() >= 4,
             qPrintable(QStringList(first.keys()).join(", "))); // window, open, run, cancel
    QCOMPARE(second, first);
}

void TestMainWindow::fitsALaptopScreen() {
    // Every panel's least width side by side: the window must fit a 1280-pixel screen.
    MainWindow w;
    w.show();
    QCoreApplication::processEvents();
    QVERIFY2(w.minimumSizeHint().width() <= 1280 && w.minimumSizeHint().height() <= 720,
             qPrintable(
                 QStringLiteral("%1×%2").arg(w.minimumSizeHint().width()).arg(w.minimumSizeHint().height())));
}

// Help lists every shortcut (read off the menus) and shows the manual; a disabled Run says why; file
// dialogs open where the file opened last is.
void TestMainWindow::helpShortcutsManualAndWhyRunIsOff() {
    MainWindow w;
    QDialog* shortcuts = w.showShortcuts();
    auto* table = shortcuts->findChild<QTableWidget*>("shortcutsTable");
    QVERIFY(table);
    QStringList rows;
    for (int i = 0; i < table->rowCount(); ++i)
        rows << table->item(i, 0)->text() + " = " + table->item(i, 1)->text();
    QVERIFY2(rows.contains("Run → Run All Configurations = Ctrl+R") &&
                 rows.contains("File → Targets… = Ctrl+T") &&
                 rows.contains("Help → Keyboard Shortcuts = Ctrl+/"),
             qPrintable(rows.join('\n')));
    shortcuts->close();
    QDialog* manual = w.showManual();
    auto* text = manual->findChild<QTextBrowser*>("manual");
    QVERIFY(text);
    QVERIFY2(text->toPlainText().contains("torchwb bench"), qPrintable(text->toPlainText().left(200)));
    manual->close();

    QAction* run = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->text() == "&Run All Configurations") run = a;
    QVERIFY(run);
    QVERIFY(!run->isEnabled());
    QVERIFY2(run->toolTip().contains("Open a model first"), qPrintable(run->toolTip()));
    const QString weights = QString::fromStdString(TWB_DATA("cnn_state_dict.pth"));
    QVERIFY(showFile(w, weights.toStdString()));
    QVERIFY(!run->isEnabled());
    QVERIFY2(run->toolTip().contains("cnn_state_dict.pth cannot run: "), qPrintable(run->toolTip()));
    QCOMPARE(dialogPath("report.json"), QFileInfo(weights).absolutePath() + "/report.json");
    QVERIFY(openSample(w));
    QVERIFY(run->isEnabled());
    QCOMPARE(run->statusTip(), QString());
}

// Measuring and short jobs have threads of their own: a comparison asked for during a 30-second
// benchmark is answered while the benchmark goes on.
void TestMainWindow::comparisonDuringARunComesBackAtOnce() {
    JobRunner runner;
    QSignalSpy inspected(&runner, &JobRunner::modelInspected);
    runner.openModel(QString::fromStdString(TWB_DATA("../../resources/sample/sample_cnn.pt")));
    QVERIFY(inspected.wait(20000));
    QSignalSpy bound(&runner, &JobRunner::inputsBound);
    runner.bindInputs({{"x", QString::fromStdString(TWB_DATA("../../resources/sample/sample_input.npy"))}});
    QVERIFY(bound.wait(20000));
    QVERIFY(bound.last().at(0).value<BindingSnapshot>().ok);
    QSignalSpy progress(&runner, &JobRunner::runProgress);
    QSignalSpy finished(&runner, &JobRunner::runsFinished);
    runner.run({twb::RunConfig::parse("seconds=30,warmup=2")});
    QVERIFY(progress.wait(20000)); // the measurement is under way
    const twb::Value a = twb::readTensorFile(TWB_DATA("../../resources/sample/sample_expected.npy"));
    QSignalSpy compared(&runner, &JobRunner::compared);
    runner.compare(a, a, "a", "b", twb::CompareOptions{}, QString());
    QVERIFY(compared.wait(5000));
    QVERIFY(compared.last().at(0).value<ComparisonSnapshot>().comparison.allclose);
    QVERIFY(runner.isRunning() && finished.isEmpty()); // the benchmark went on meanwhile
    runner.cancel();
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.last().at(1).toBool(), true); // cancelled, with what it measured
}

void TestMainWindow::reportsAreReadOffTheGuiThread() {
    QTemporaryDir dir;
    const QString report = dir.filePath("r.json");
    MainWindow w;
    QVERIFY(runQuick(w));
    QSignalSpy exported(&w, &MainWindow::reportExported);
    w.exportReport(report, QString());
    QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, 20000);
    QSignalSpy shown(&w, &MainWindow::reportShown);
    w.openFile(report);
    QVERIFY(shown.wait(20000));
    std::size_t imported = 0;
    for (const auto& r : w.resultsPanel()->runs())
        imported += !r.origin.isEmpty();
    QCOMPARE(imported, std::size_t(2));
    // Two opened at once (a drop): both are read and shown, neither in place of the other.
    const QString copy = dir.filePath("r2.json");
    QVERIFY(QFile::copy(report, copy));
    w.openUrls({QUrl::fromLocalFile(report), QUrl::fromLocalFile(copy)});
    QTRY_COMPARE_WITH_TIMEOUT(shown.count(), 3, 20000);
    imported = 0;
    for (const auto& r : w.resultsPanel()->runs())
        imported += !r.origin.isEmpty();
    QCOMPARE(imported, std::size_t(6));
    // A damaged report is named and explained, not shown.
    QFile bad(dir.filePath("bad.json"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"schema\": \"torch-workbench-report\", \"schema_version\": 99}");
    bad.close();
    w.openFile(bad.fileName());
    QTRY_VERIFY_WITH_TIMEOUT(w.statusText().contains("schema version 99"), 10000);
}

void TestMainWindow::unreadableSessionSaysWhy() {
    QTemporaryDir dir;
    QFile bad(dir.filePath("bad.twbsession"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"torch_workbench_session\": 1, \"configs\": [\"jit=sideways\"]}");
    bad.close();
    MainWindow w;
    const auto before = w.configPanel()->configs().size();
    QSignalSpy restored(&w, &MainWindow::sessionRestored);
    QVERIFY(w.restoreSession(bad.fileName()));
    QVERIFY(restored.wait(10000));
    QCOMPARE(restored.last().at(1).toBool(), false);
    QVERIFY2(w.statusText().contains("bad.twbsession") &&
                 w.statusText().contains("configuration 1 'jit=sideways'"),
             qPrintable(w.statusText()));
    QCOMPARE(w.configPanel()->configs().size(), before); // nothing half-restored, no silent defaults
}

// Export Report writes what the panel in view shows: the run's report under Results, the profile's under
// Profile; a run compares outputs with the Outputs tab's atol and rtol, and its report says so. Started
// with --run (or --profile, --sweep) and --export-report, the window writes that report and quits.
void TestMainWindow::exportWritesWhatThePanelShows() {
    qputenv("XDG_CACHE_HOME", m_settingsDir.filePath("cache").toUtf8());
    {
        MainWindow w;
        QVERIFY(openSample(w));
        w.resultsPanel()->findChild<QLineEdit*>("atol")->setText("0.25");
        w.configPanel()->setConfigs(quick());
        QSignalSpy ran(&w, &MainWindow::runsFinished);
        w.runAll();
        QVERIFY(ran.wait(60000));
        w.configPanel()->setConfigs({twb::RunConfig::parse("name=profiled,jit=off,seconds=0.1")});
        QSignalSpy profiled(&w, &MainWindow::profilesFinished);
        w.profileAll();
        QVERIFY(profiled.wait(120000));
        const twb::Report profile = w.currentReport(); // the Profile panel is in view
        QCOMPARE(profile.profiles.size(), std::size_t(1));
        QCOMPARE(profile.runs.size(), std::size_t(1));
        w.showRightTab(0);
        const twb::Report run = w.currentReport();
        QCOMPARE(run.runs.size(), std::size_t(2));
        QVERIFY(run.profiles.empty());
        QCOMPARE(run.comparisons.size(), std::size_t(1));
        QVERIFY(run.comparisons[0].hasOutputs);
        QCOMPARE(run.comparisons[0].outputs.options.atol, 0.25);
    }
    const QString exe = qEnvironmentVariable("TORCH_WORKBENCH");
    if (exe.isEmpty()) QSKIP("TORCH_WORKBENCH is not set: run through ctest");
    QTemporaryDir dir;
    const QString json = dir.filePath("from-the-window.json");
    QProcess gui;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    env.insert("XDG_CONFIG_HOME", dir.filePath("config"));
    env.insert("XDG_DATA_HOME", dir.filePath("data"));
    gui.setProcessEnvironment(env);
    gui.start(exe, {QString::fromStdString(TWB_DATA("../../resources/sample/sample_cnn.pt")), "-i",
                    QString::fromStdString(TWB_DATA("../../resources/sample/sample_input.npy")), "--run",
                    "--export-report", json});
    QVERIFY(gui.waitForFinished(120000));
    QVERIFY2(gui.exitStatus() == QProcess::NormalExit && gui.exitCode() == 0,
             gui.readAllStandardError().constData());
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(report["runs"].toArray().size(), 2);
    QCOMPARE(report["model"].toObject()["sha256"].toString().size(), 64);
    QVERIFY(!report["environment"].toObject()["libtorch"].toString().isEmpty());
}

// The real program, killed with SIGKILL: the next start offers the autosaved session, and only then.
void TestMainWindow::restoreOfferedExactlyAfterACrash() {
    const QString exe = qEnvironmentVariable("TORCH_WORKBENCH");
    if (exe.isEmpty()) QSKIP("TORCH_WORKBENCH is not set: run through ctest");
    QTemporaryDir home;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home.path());
    env.insert("XDG_CONFIG_HOME", home.filePath("config"));
    env.insert("XDG_DATA_HOME", home.filePath("data"));
    env.insert("QT_QPA_PLATFORM", "offscreen");
    auto start = [&](const QString& shot) {
        auto p = std::make_unique<QProcess>();
        p->setProcessEnvironment(env);
        p->setProcessChannelMode(QProcess::MergedChannels);
        p->start(exe, {"--screenshot", home.filePath(shot)});
        return p;
    };
    // 1. The first start measures the bundled sample, autosaves, screenshots and quits: a clean exit.
    auto first = start("1.png");
    QVERIFY(first->waitForFinished(180000));
    const QString out1 = QString::fromUtf8(first->readAll());
    QVERIFY2(!out1.contains("restore offered"), qPrintable(out1));
    QVERIFY2(!findUnder(home.filePath("data"), "autosave.twbsession").isEmpty(), "no autosave after the run");
    const QString conf = findUnder(home.filePath("config"), "*.conf");
    QVERIFY(!conf.isEmpty());
    // 2. The second start has nothing to do; it is killed once it has marked itself running.
    auto second = start("2.png");
    auto marked = [&] {
        QFile f(conf);
        return f.open(QIODevice::ReadOnly) && f.readAll().contains("cleanExit=false");
    };
    QTRY_VERIFY_WITH_TIMEOUT(marked(), 30000);
    second->kill();
    QVERIFY(second->waitForFinished(10000));
    const QString out2 = QString::fromUtf8(second->readAll());
    QVERIFY2(!out2.contains("restore offered"), qPrintable(out2));
    // 3. After the kill, the restore is offered.
    auto third = start("3.png");
    QString out3;
    QTRY_VERIFY_WITH_TIMEOUT((out3 += QString::fromUtf8(third->readAll())).contains("restore offered"),
                             30000);
    third->kill();
    third->waitForFinished(10000);
}

void TestMainWindow::packageRunsBesideItsTorchScriptTwin() {
    if (!twb::buildInfo().aotiPackages) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    // The TorchScript twin measured by torchwb bench, as a report to open beside the package's run.
    const QString report = m_settingsDir.filePath("twin.json");
    QProcess bench;
    bench.start(qEnvironmentVariable("TORCHWB"),
                {"bench", QString::fromStdString(TWB_DATA("cnn_scripted.pt")), "-i",
                 QString::fromStdString(TWB_DATA("cnn_x.npy")), "--iters", "50", "--json", report, "-q"});
    if (qEnvironmentVariable("TORCHWB").isEmpty()) QSKIP("TORCHWB is not set: run through ctest");
    QVERIFY(bench.waitForFinished(60000) && bench.exitCode() == 0);
    MainWindow w;
    w.show();
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("cnn_x.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("cnn_aoti.pt2")));
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    QVERIFY2(w.modelPanel()->headline().contains("cnn_aoti.pt2 — pt2"),
             qPrintable(w.modelPanel()->headline()));
    QVERIFY(w.configPanel()->packageMode()); // JIT and precision disabled, with the reason
    for (const auto& c : w.configPanel()->configs())
        QCOMPARE(c.jit, twb::JitMode::Off);
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(60000));
    QVERIFY(!w.resultsPanel()->runs().empty());
    QVERIFY2(w.resultsPanel()->runs().front().record.ok,
             w.resultsPanel()->runs().front().record.error.c_str());
    QSignalSpy shown(&w, &MainWindow::reportShown);
    w.openFile(report);
    QVERIFY(shown.wait(20000));
    int local = 0, fromReport = 0;
    for (const auto& r : w.resultsPanel()->runs())
        (r.origin.isEmpty() ? local : fromReport) += 1;
    QVERIFY(local >= 1 && fromReport == 1); // both on the charts
    QVERIFY(w.resultsPanel()->timelinePlot()->graphCount() >= 2);
}

void TestMainWindow::brokenAndHostileFilesInARow() {
    // 30 and more broken, hostile and truncated files through the real window, one after another: each
    // shows its diagnosis, none crashes or leaves a dialog open, and the window keeps answering.
    QStringList files;
    const QDir data(QFileInfo(QString::fromStdString(TWB_DATA("evil.pt"))).absolutePath());
    for (const QString& f : data.entryList({"bad_*"}, QDir::Files))
        files << data.filePath(f);
    for (const char* f : {"evil.pt", "lfs_pointer.pt", "empty.pt", "empty.npy", "cycle.pt", "deep_nesting.pt",
                          "download.pt", "flipped_model.pt", "flipped_state_dict.pth", "missing_ops.pt",
                          "cnn_pickled_module.pt", "cnn_legacy.pth", "cnn.onnx", "exported.pt2",
                          "mlp_exported.pt2", "cuda_saved.pt", "ckpt_canary.pth", "cnn_state_dict_bad.pth"})
        files << data.filePath(QString::fromLatin1(f));
    // Truncated copies of good files, cut at a third, and a named pipe.
    for (const char* f :
         {"cnn_scripted.pt", "mlp_traced.pt", "cnn_state_dict.pth", "mlp_x.npy", "mlp_aoti.pt2"}) {
        QFile in(data.filePath(QString::fromLatin1(f)));
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray bytes = in.readAll();
        const QString cut = m_settingsDir.filePath(QStringLiteral("cut_") + QString::fromLatin1(f));
        QFile out(cut);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes.left(bytes.size() / 3));
        out.close();
        files << cut;
    }
    const QString fifo = m_settingsDir.filePath("pipe.pt");
    QVERIFY(::mkfifo(fifo.toLocal8Bit().constData(), 0600) == 0);
    files << fifo << m_settingsDir.path();
    QVERIFY2(files.size() >= 30, qPrintable(QString::number(files.size())));

    MainWindow w;
    w.show();
    QElapsedTimer gap;
    qint64 longest = 0;
    bool opening = false;
    int beatsWhileOpening = 0;
    QTimer beat;
    beat.setInterval(5);
    QObject::connect(&beat, &QTimer::timeout, &w, [&] {
        longest = std::max(longest, gap.restart());
        beatsWhileOpening += opening;
        if (QWidget* modal = QApplication::activeModalWidget()) modal->close(); // and the check below fails
    });
    gap.start();
    beat.start();
    for (const QString& file : files) {
        QSignalSpy shown(&w, &MainWindow::modelShown);
        if (qEnvironmentVariableIsSet("TWB_TEST_VERBOSE")) qInfo("opening %s", qPrintable(file));
        opening = true;
        w.openFile(file);
        QVERIFY2(shown.wait(20000), qPrintable(file));
        opening = false;
        const auto info = shown.last().at(0).value<twb::ModelInfo>();
        QVERIFY2(!info.diagnosis.summary.empty(), qPrintable(file));
        QVERIFY2(QApplication::activeModalWidget() == nullptr, qPrintable(file));
        if (!info.diagnosis.usable)
            QVERIFY2(!w.modelPanel()->problemText().isEmpty(), qPrintable(file)); // the diagnosis is shown
    }
    qInfo("%d files opened in a row; the longest event-loop stall was %lld ms", int(files.size()), longest);
    QVERIFY2(beatsWhileOpening > 0, "the event loop never turned while a file was read");
    // A folder and a pipe dropped on the window are named for what they are.
    w.openUrls({QUrl::fromLocalFile(m_settingsDir.path())});
    QTRY_VERIFY_WITH_TIMEOUT(!w.statusText().isEmpty(), 5000);
}

void TestMainWindow::crashingConfigurationIsAFailedRow() {
    // The worker of the configuration named "crash" dies of a segmentation fault while it prepares; the
    // window stays, the other configuration is measured and charted, and the failed row says why.
    MainWindow w;
    w.show();
    QVERIFY(openSample(w));
    const QByteArray worker = qgetenv("TWB_WORKER");
    qputenv("TWB_WORKER", qgetenv("TWB_FAKE_WORKER"));
    qputenv("TWB_FAKE_FAULT", "prepare segv name=crash");
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=crash,jit=off,iters=20"),
                                 twb::RunConfig::parse("name=fine,jit=off,iters=20")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    const bool done = finished.wait(60000);
    qputenv("TWB_WORKER", worker);
    qunsetenv("TWB_FAKE_FAULT");
    QVERIFY(done);
    const auto& runs = w.resultsPanel()->runs();
    QCOMPARE(runs.size(), std::size_t(2));
    QVERIFY(!runs[0].record.ok);
    QVERIFY2(QString::fromStdString(runs[0].record.error).contains("Segmentation fault"),
             runs[0].record.error.c_str());
    QVERIFY2(runs[1].record.ok, runs[1].record.error.c_str());
    QVERIFY(!runs[1].record.rounds.empty()); // the fake worker answers five samples a round
    QCOMPARE(runs[1].record.samplesNs.size(), 5 * runs[1].record.rounds.size());
    const QString tip = w.resultsPanel()
                            ->statsModel()
                            ->data(w.resultsPanel()->statsModel()->index(0, 1), Qt::ToolTipRole)
                            .toString();
    QVERIFY2(tip.contains("fake_worker: about to segv") && tip.contains("preparing"), qPrintable(tip));
}

// Run on two targets (this build, and the same build started as another): every configuration on each,
// each result labelled by its target, the plan's report with a section per target; Check shows a
// target's handshake off the GUI thread. The choice is kept for the next start.
void TestMainWindow::runOnTwoTargetsLabelsEveryResult() {
    const QString exe = QFileInfo(qEnvironmentVariable("TWB_WORKER")).absoluteFilePath();
    QVERIFY(QFileInfo(exe).isExecutable());
    {
        MainWindow w;
        QVERIFY(openSample(w));
        w.setTargets({"local", "local:" + exe});
        QCOMPARE(w.targets().size(), 2);
        w.configPanel()->setConfigs(quick());
        QSignalSpy finished(&w, &MainWindow::runsFinished);
        w.runAll();
        QVERIFY(finished.wait(120000));
        const auto runs = w.resultsPanel()->runs();
        QCOMPARE(runs.size(), 4);
        QSet<QString> labels;
        for (const auto& r : runs) {
            QVERIFY2(r.record.ok, r.record.error.c_str());
            labels << QString::fromStdString(r.record.label);
        }
        QVERIFY2(std::any_of(labels.begin(), labels.end(),
                             [&](const QString& l) { return l.endsWith(" @ local:" + exe); }),
                 qPrintable(QStringList(labels.values()).join("; ")));
        QVERIFY(std::any_of(labels.begin(), labels.end(),
                            [](const QString& l) { return l.endsWith(" @ local"); }));
        // The Statistics table compares each configuration with the same one on the first target too.
        const auto* stats = w.resultsPanel()->statsModel();
        QCOMPARE(stats->headerData(3, Qt::Horizontal, Qt::DisplayRole).toString(),
                 QString("vs first target"));
        int across = 0;
        for (int row = 0; row < stats->rowCount(); ++row) {
            const QString label = stats->index(row, 0).data().toString();
            const QString cell = stats->index(row, 3).data().toString();
            if (label.endsWith(" @ local:" + exe)) {
                ++across;
                QVERIFY2(cell.contains("outputs match") && cell.contains("×"), qPrintable(cell));
                QVERIFY2(stats->index(row, 3).data(Qt::ToolTipRole).toString().contains(" than ") ||
                             stats->index(row, 3).data(Qt::ToolTipRole).toString().contains("no significant"),
                         qPrintable(stats->index(row, 3).data(Qt::ToolTipRole).toString()));
            } else {
                QCOMPARE(cell, QString("first target"));
            }
        }
        QCOMPARE(across, 2);

        QSignalSpy checked(&w, &MainWindow::targetChecked);
        QTimer::singleShot(0, &w, [&] {
            auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            auto* list = dialog->findChild<QListWidget*>("targetsList");
            QVERIFY(list && list->count() >= 2);
            list->setCurrentRow(1);
            dialog->findChild<QPushButton*>("checkTarget")->click();
            QVERIFY(checked.wait(30000));
            QVERIFY2(checked.last().at(1).toBool(), qPrintable(checked.last().at(2).toString()));
            QVERIFY2(dialog->findChild<QPlainTextEdit*>("targetCheck")->toPlainText().contains("protocol  "),
                     qPrintable(dialog->findChild<QPlainTextEdit*>("targetCheck")->toPlainText()));
            dialog->accept();
        });
        w.editTargets();
        QCOMPARE(checked.count(), 1);
        // The targets kept are offered per configuration, so that builds are rows of one plan.
        w.configPanel()->setConfigs(quick());
        auto* combo = w.configPanel()->findChild<QComboBox*>("configTarget");
        QVERIFY(combo);
        const int at = combo->findData("local:" + exe);
        QVERIFY(at >= 0);
        combo->setCurrentIndex(at);
        QCOMPARE(QString::fromStdString(w.configPanel()->configs()[0].target), "local:" + exe);
        QVERIFY(QString::fromStdString(w.configPanel()->configs()[0].label()).endsWith(" @ local:" + exe));
    }
    {
        MainWindow again; // the targets Run used are kept
        QCOMPARE(again.targets().size(), 2);
        again.setTargets({});
    }
    MainWindow clean;
    QVERIFY(clean.targets().isEmpty());
}

void TestMainWindow::operatorLibraryIsOfferedLoadedAndRemembered() {
    // custom_op.pt calls twbtest::scale from the tests' own TORCH_LIBRARY. The panel offers the library it
    // found (TWB_OPERATOR_LIBRARIES), one click loads it and opens the model again, runnable, and the model
    // remembers it; its runs go through workers that load it too.
    const QString library = QFileInfo(qEnvironmentVariable("TWB_TEST_OPS")).canonicalFilePath();
    QVERIFY(!library.isEmpty());
    qputenv("TWB_OPERATOR_LIBRARIES", QFileInfo(library).absolutePath().toUtf8());
    const auto restore = qScopeGuard([] { qunsetenv("TWB_OPERATOR_LIBRARIES"); });
    const QString model = QString::fromStdString(TWB_DATA("custom_op.pt"));
    MainWindow w;
    w.show();
    QSignalSpy shown(&w, &MainWindow::modelShown);
    w.openFile(model);
    QVERIFY(shown.wait(20000));
    QCOMPARE(shown.last().at(0).value<twb::ModelInfo>().diagnosis.kind, twb::FileKind::NeedsOperatorLibrary);
    auto* button = w.modelPanel()->findChild<QPushButton*>(QStringLiteral("loadLibrary"));
    QVERIFY(button && button->isVisible());
    QVERIFY2(button->text().contains(QFileInfo(library).fileName()), qPrintable(button->text()));
    QVERIFY(w.modelPanel()->problemText().contains("twbtest::scale"));

    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("custom_op_x.npy"))});
    button->click();
    QVERIFY(shown.wait(20000));
    QVERIFY(twb::runnable(shown.last().at(0).value<twb::ModelInfo>().diagnosis));
    QVERIFY(!button->isVisible());
    QCOMPARE(MainWindow::operatorLibrariesFor(model), QStringList{library});
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    w.configPanel()->setConfigs({twb::RunConfig::parse("iters=10,warmup=2")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(60000));
    const auto& runs = w.resultsPanel()->runs();
    QCOMPARE(runs.size(), std::size_t(1));
    QVERIFY2(runs[0].record.ok, runs[0].record.error.c_str());
}

TWB_GUI_TEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
