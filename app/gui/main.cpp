// torch-workbench: the desktop workbench.
//   torch-workbench [MODEL] [--input FILE]... [--run]
//   torch-workbench --sample            the bundled sample model and input, measured at once
//   torch-workbench --self-test         runs the sample headless-friendly and exits 0 when all is well
//   torch-workbench … --screenshot PNG  saves the window once the work is done, then quits
#include "config_panel.h"
#include "divergence_panel.h"
#include "graph_panel.h"
#include "job_runner.h"
#include "load_panel.h"
#include "main_window.h"
#include "profile_panel.h"
#include "results_panel.h"
#include "sweep_panel.h"

#include "twb/build_info.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>
#include <QThread>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <utility>

namespace {

QString sampleDir() {
    const QString exeDir = QCoreApplication::applicationDirPath();
    const QStringList candidates{exeDir + "/../share/torch-workbench/sample",
#ifdef TWB_SOURCE_SAMPLE_DIR
                                 QStringLiteral(TWB_SOURCE_SAMPLE_DIR),
#endif
                                 exeDir + "/../../resources/sample"};
    for (const QString& dir : candidates)
        if (QFileInfo::exists(dir + "/sample_cnn.pt")) return QDir(dir).absolutePath();
    return {};
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("torch-workbench"));
    QApplication::setOrganizationName(QStringLiteral("torch-workbench"));
    QApplication::setApplicationDisplayName(QStringLiteral("Torch Workbench"));
    QApplication::setApplicationVersion(QString::fromStdString(twb::buildInfo().version));
    QApplication::setDesktopFileName(QStringLiteral("torch-workbench"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Open, run, time and compare saved PyTorch models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"),
                                 QStringLiteral("A model, state_dict, session or report to open."));
    const QCommandLineOption input(
        {QStringLiteral("i"), QStringLiteral("input")},
        QStringLiteral("An input file or gen:SPEC for forward (NAME=FILE to name it); repeatable."),
        QStringLiteral("file"));
    const QCommandLineOption run(QStringLiteral("run"),
                                 QStringLiteral("Run the configurations once the model is open."));
    const QCommandLineOption profile(QStringLiteral("profile"),
                                     QStringLiteral("Profile the configurations once the model is open."));
    const QCommandLineOption sweep(
        QStringLiteral("sweep"),
        QStringLiteral("Sweep the configurations for SECONDS once the model is open."),
        QStringLiteral("seconds"));
    const QCommandLineOption load(
        QStringLiteral("load"),
        QStringLiteral(
            "Serve the first configuration under load, a curve to its capacity of SECONDS a point, "
            "once the model is open."),
        QStringLiteral("seconds"));
    const QCommandLineOption sample(QStringLiteral("sample"),
                                    QStringLiteral("Open the bundled sample and run it."));
    const QCommandLineOption selfTest(
        QStringLiteral("self-test"),
        QStringLiteral("Open and run the bundled sample; exit 0 when it works."));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window as PNG when the work is done, then quit."), QStringLiteral("png"));
    const QCommandLineOption tab(
        QStringLiteral("tab"),
        QStringLiteral("Show a page: model, inputs, configurations, latency, statistics, outputs, profile, "
                       "profile-modules, profile-diff, roofline, sweep, graph, divergence, load."),
        QStringLiteral("page"));
    const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Use the dark theme."));
    const QCommandLineOption exportTo(
        QStringLiteral("export-report"),
        QStringLiteral(
            "Write the report of --run, --profile, --sweep or --load to FILE when it is done, then quit "
            "(exit 0 when the work and the writing went well)."),
        QStringLiteral("file"));
    const QCommandLineOption diverge(
        QStringLiteral("diverge"),
        QStringLiteral(
            "Find where the first configuration and CONFIG (\"dtype=float16\") part, node by node."),
        QStringLiteral("CONFIG"));
    parser.addOptions(
        {input, run, profile, sweep, load, sample, selfTest, screenshot, tab, dark, exportTo, diverge});
    parser.process(app);

    twbui::MainWindow window;
    if (parser.isSet(dark)) window.setDarkTheme(true, false); // for this start only
    QStringList inputs = parser.values(input);
    QString model = parser.positionalArguments().value(0);
    const bool testing = parser.isSet(selfTest);
    const bool profileNow = parser.isSet(profile), sweepNow = parser.isSet(sweep),
               divergeNow = parser.isSet(diverge), loadNow = parser.isSet(load);
    twb::RunConfig divergeWith;
    if (divergeNow) try {
            divergeWith = twb::RunConfig::parse(parser.value(diverge).toStdString());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "torch-workbench: --diverge: %s\n", e.what());
            return 2;
        }
    if (sweepNow) window.sweepPanel()->setBudget(parser.value(sweep).toDouble());
    if (loadNow) {
        twb::LoadOptions o = window.loadPanel()->options({});
        o.seconds = parser.value(load).toDouble();
        window.loadPanel()->setOptions(o);
    }
    bool runNow = parser.isSet(run) || parser.isSet(sample) || testing || profileNow || sweepNow ||
                  divergeNow || loadNow;
    if (model.isEmpty() && (parser.isSet(sample) || testing)) {
        const QString dir = sampleDir();
        if (dir.isEmpty()) {
            std::fprintf(stderr, "torch-workbench: the bundled sample is not installed\n");
            return 1;
        }
        model = dir + "/sample_cnn.pt";
        inputs = QStringList{dir + "/sample_input.npy"};
    }
    if (testing) {
        // Short runs: the point is that everything works, not the figures.
        window.configPanel()->setConfigs({twb::RunConfig::parse("jit=off,iters=20,warmup=3"),
                                          twb::RunConfig::parse("jit=optimize,iters=20,warmup=3")});
    }

    const QString shot = parser.value(screenshot);
    const QString page = parser.value(tab);
    auto showPage = [&window, page] {
        const QStringList left{"model", "inputs", "configurations"},
            right{"latency", "statistics", "outputs"},
            profile{"profile", "profile-modules", "profile-diff", "roofline"};
        if (page == "sweep") window.showRightTab(2);
        if (page == "graph") {
            window.showRightTab(3);
            if (!window.profilePanel()->profiles().empty())
                window.graphPanel()->setColour(twbui::GraphPanel::Colour::SelfTime);
        }
        if (page == "divergence") window.showRightTab(4);
        if (page == "load") window.showRightTab(5);
        if (left.contains(page)) window.showLeftTab(int(left.indexOf(page)));
        if (right.contains(page)) {
            window.showRightTab(0);
            window.resultsPanel()->showTab(int(right.indexOf(page)));
        }
        if (profile.contains(page)) {
            window.showRightTab(1);
            window.profilePanel()->showTab(int(profile.indexOf(page)));
        }
    };
    const QString reportFile = parser.value(exportTo);
    auto finish = [&window, shot, testing, showPage, reportFile](bool ok) {
        showPage();
        QTimer::singleShot(400, &window, [&window, shot, testing, ok, reportFile] {
            // A graph is laid out off the GUI thread: the picture waits for it.
            QElapsedTimer clock;
            clock.start();
            for (twbui::GraphView* v : {window.graphPanel()->view(), window.divergencePanel()->graphView()})
                while (v->isLayingOut() && clock.elapsed() < 20000) {
                    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
                    QThread::msleep(10);
                }
            if (!shot.isEmpty()) window.grab().save(shot);
            if (testing) std::printf("self-test: %s\n", ok ? "ok" : "FAILED");
            // The report of the panel the work showed, as Export Report writes it.
            if (!reportFile.isEmpty()) {
                QObject::connect(&window, &twbui::MainWindow::reportExported, &window,
                                 [ok](const QString& path, bool written) {
                                     if (!written)
                                         std::fprintf(stderr, "torch-workbench: %s: not written\n",
                                                      qPrintable(path));
                                     QApplication::exit(ok && written ? 0 : 1);
                                 });
                window.exportReport(reportFile);
                return;
            }
            if (!shot.isEmpty() || testing) QApplication::exit(ok ? 0 : 1);
        });
    };

    QObject::connect(
        &window, &twbui::MainWindow::inputsReady, &window,
        [&window, &runNow, profileNow, sweepNow, divergeNow, loadNow, divergeWith, finish](bool ok) {
            if (!runNow) return;
            runNow = false;
            if (!ok)
                finish(false);
            else if (divergeNow)
                window.diverge(window.configPanel()->configs().value(0), divergeWith);
            else if (sweepNow)
                window.sweep();
            else if (loadNow)
                window.load();
            else if (profileNow)
                window.profileAll();
            else
                window.runAll();
        });
    // The rest only serves --self-test and --screenshot: interactive runs are left alone.
    const bool automated = testing || !shot.isEmpty() || !reportFile.isEmpty();
    if (automated) {
        QObject::connect(&window, &twbui::MainWindow::modelShown, &window,
                         [&window, &runNow, finish](const twb::ModelInfo& info) {
                             const bool runnable = twb::runnable(info.diagnosis);
                             if (runNow && runnable) return;
                             runNow = false;
                             if (!runnable) {
                                 QTimer::singleShot(800, [finish] { finish(false); });
                                 return;
                             }
                             // Its graph and its inputs' binding follow it, the binding last.
                             QObject::connect(
                                 &window, &twbui::MainWindow::inputsReady, &window,
                                 [finish] { QTimer::singleShot(800, [finish] { finish(true); }); },
                                 Qt::SingleShotConnection);
                         });
        QObject::connect(&window, &twbui::MainWindow::divergenceFinished, &window,
                         [&window, finish](bool cancelled) {
                             const twb::DivergenceReport& r = window.divergencePanel()->report();
                             finish(!cancelled && window.divergencePanel()->hasReport() && r.errorA.empty() &&
                                    r.errorB.empty() && r.recordedA > 0);
                         });
        QObject::connect(&window, &twbui::MainWindow::sweepFinished, &window,
                         [&window, finish](bool cancelled) {
                             finish(!cancelled && window.sweepPanel()->result().recommended >= 0);
                         });
        QObject::connect(
            &window, &twbui::MainWindow::loadFinished, &window,
            [&window, finish](bool cancelled) { finish(!cancelled && window.loadPanel()->result().ok); });
        QObject::connect(&window, &twbui::MainWindow::profilesFinished, &window,
                         [&window, finish](bool cancelled) {
                             bool ok = !cancelled && !window.profilePanel()->profiles().empty();
                             for (const auto& p : window.profilePanel()->profiles())
                                 ok = ok && p.ok;
                             finish(ok);
                         });
        QObject::connect(&window, &twbui::MainWindow::runsFinished, &window,
                         [&window, finish](bool cancelled) {
                             int ok = 0, local = 0, withOutput = 0;
                             for (const auto& r : window.resultsPanel()->runs()) {
                                 if (!r.origin.isEmpty()) continue;
                                 ++local;
                                 ok += r.record.ok;
                                 withOutput += r.hasOutput;
                             }
                             const bool allOk = !cancelled && ok == local && ok > 0;
                             // The comparison of the first two outputs follows the run; wait for it when
                             // there is one.
                             if (withOutput < 2) {
                                 finish(allOk);
                                 return;
                             }
                             // Either way it ends: a comparison refused (outputs of other shapes) is
                             // the comparison's, not the run's.
                             auto once = std::make_shared<bool>(false);
                             auto done = [finish, allOk, once] {
                                 if (!std::exchange(*once, true)) finish(allOk);
                             };
                             QObject::connect(&window, &twbui::MainWindow::comparisonShown, &window, done,
                                              Qt::SingleShotConnection);
                             QObject::connect(window.runner(), &twbui::JobRunner::compareFailed, &window,
                                              done, Qt::SingleShotConnection);
                         });
    }

    window.show();
    if (!model.isEmpty()) {
        window.setPendingInputs(inputs);
        window.openFile(model);
    } else {
        QSettings settings;
        const QString autosave = twbui::MainWindow::autosavePath();
        bool restore = false;
        if (window.shouldOfferRestore()) {
            if (QGuiApplication::platformName() == "offscreen") // nobody to answer: say so, restore nothing
                std::printf("restore offered: the last start did not close cleanly (%s)\n",
                            qPrintable(autosave));
            else
                restore = QMessageBox::question(
                              &window, QObject::tr("Restore session?"),
                              QObject::tr("Torch Workbench did not close cleanly last time. Restore the last "
                                          "session (model, inputs, configurations and results)?")) ==
                          QMessageBox::Yes;
            std::fflush(stdout);
        }
        if (restore) {
            window.restoreSession(autosave);
        } else if (!settings.value("firstStartDone").toBool() && !sampleDir().isEmpty()) {
            // A first start shows real work: the bundled sample, measured.
            settings.setValue("firstStartDone", true);
            runNow = true;
            window.setPendingInputs({sampleDir() + "/sample_input.npy"});
            window.openFile(sampleDir() + "/sample_cnn.pt");
        }
    }
    return app.exec();
}
