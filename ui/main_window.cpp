#include "main_window.h"

#include "config_panel.h"
#include "divergence_panel.h"
#include "file_types.h"
#include "graph_panel.h"
#include "icons.h"
#include "inputs_panel.h"
#include "load_panel.h"
#include "model_panel.h"
#include "profile_panel.h"
#include "results_panel.h"
#include "sweep_panel.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/operator_library.h"
#include "twb/report.h"
#include "twb/runtime.h"
#include "twb/session.h"
#include "twb/target.h"

#include <utility>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

// The icons live in twb_ui, a static library: their resource must be pulled in by name.
static void initResources() {
    Q_INIT_RESOURCE(resources);
}

namespace twbui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent) {
    initResources();
    setWindowTitle(tr("Torch Workbench"));
    setWindowIcon(resourceIcon(QStringLiteral(":/icons/torch-workbench.svg")));
    setAcceptDrops(true);
    m_runner = new JobRunner(this);
    m_model = new ModelPanel;
    m_inputs = new InputsPanel;
    m_configs = new ConfigPanel;
    m_results = new ResultsPanel;
    m_profile = new ProfilePanel;
    m_sweep = new SweepPanel;
    m_graph = new GraphPanel;
    m_divergence = new DivergencePanel;
    m_load = new LoadPanel;
    m_sweep->setHardwareThreads(twb::threadSettings().hardware);

    m_left = new QTabWidget;
    m_left->addTab(m_model, tr("&Model"));
    m_left->addTab(m_inputs, tr("&Inputs"));
    m_left->addTab(m_configs, tr("&Configurations"));
    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->addWidget(m_left);
    m_right = new QTabWidget;
    m_right->addTab(m_results, tr("Results"));
    m_right->addTab(m_profile, tr("Profile"));
    m_right->addTab(m_sweep, tr("Sweep"));
    m_right->addTab(m_graph, tr("Graph"));
    m_right->addTab(m_divergence, tr("Divergence"));
    m_right->addTab(m_load, tr("Load"));
    m_splitter->addWidget(m_right);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    setCentralWidget(m_splitter);

    m_status = new QLabel(tr("Open a saved PyTorch model to begin (Ctrl+O), or drop it on this window."));
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(260);
    m_progress->setRange(0, 1000);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_cancelButton = new QToolButton;
    m_cancelButton->setText(tr("Cancel"));
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelButton);
    buildMenus();
    setRunning(false);
    // The Device field offers CUDA where a configuration's target has it: targets are checked as they
    // are chosen, off the GUI thread.
    connect(m_configs, &ConfigPanel::targetDevicesNeeded, m_runner, &JobRunner::checkTarget);
    connect(m_runner, &JobRunner::targetChecked, m_configs,
            [this](const QString& t, bool ok, const QString& text, const QStringList& cuda) {
                m_configs->setTargetDevices(t, ok, cuda, text.section('\n', 0, 0));
            });
    setTargets(QSettings().value(QStringLiteral("targetsUsed")).toStringList()); // where Run measured last

    connect(m_cancelButton, &QToolButton::clicked, this, &MainWindow::cancel);
    connect(m_runner, &JobRunner::modelInspected, this, &MainWindow::onModelInspected);
    connect(m_runner, &JobRunner::inputsBound, this, [this](const BindingSnapshot& b) {
        m_inputs->showBinding(b);
        emit inputsReady(b.ok);
    });
    connect(m_inputs, &InputsPanel::sourcesChanged, this,
            [this] { m_runner->bindInputs(m_inputs->specs()); });
    connect(m_runner, &JobRunner::runStarted, this, [this](int n) {
        m_configCount = n;
        setRunning(true);
    });
    connect(m_runner, &JobRunner::runProgress, this, &MainWindow::onProgress);
    connect(m_runner, &JobRunner::profileFinished, this, [this](const twb::Profile& p) {
        m_profile->addProfile(p);
        m_graph->setProfiles(m_profile->profiles());
        if (!p.ok)
            m_status->setText(tr("%1 was not profiled: %2")
                                  .arg(QString::fromStdString(p.label), QString::fromStdString(p.error)));
    });
    connect(m_profile, &ProfilePanel::profileRequested, this, &MainWindow::profileAll);
    connect(m_runner, &JobRunner::graphExtracted, this,
            [this](std::shared_ptr<const twb::ModelGraph> graph, const QString& error) {
                m_graph->setGraph(std::move(graph), error);
            });
    // A module or line of the Profile panel's tables is selected in the graph; a double-click goes there.
    connect(m_profile, &ProfilePanel::graphSelectionRequested, this,
            [this](ProfileTableModel::View view, const QString& key, bool show) {
                GraphView* graph = m_graph->view();
                const bool found = view == ProfileTableModel::View::Modules ? graph->selectScope(key)
                                                                            : graph->selectLocation(key);
                if (!found && show)
                    m_status->setText(tr("%1 is not in the graph of the model as it was saved (a fused or "
                                         "library node).")
                                          .arg(key.isEmpty() ? tr("The model") : key));
                if (found && show) showRightTab(3);
            });
    connect(m_configs, &ConfigPanel::changed, this,
            [this] { m_divergence->setConfigs(m_configs->configs()); });
    m_divergence->setConfigs(m_configs->configs());
    connect(m_divergence, &DivergencePanel::divergeRequested, this, &MainWindow::diverge);
    connect(m_divergence, &DivergencePanel::cancelRequested, this, &MainWindow::cancel);
    connect(m_runner, &JobRunner::divergenceFinished, this,
            [this](const twb::DivergenceReport& report, bool cancelled) {
                setRunning(false);
                m_divergence->setRunning(false);
                if (cancelled) {
                    m_status->setText(tr("Divergence cancelled."));
                } else {
                    m_divergence->showReport(report);
                    m_status->setText(QString::fromStdString(report.summary));
                }
                emit divergenceFinished(cancelled);
            });
    connect(m_sweep, &SweepPanel::sweepRequested, this, &MainWindow::sweep);
    connect(m_runner, &JobRunner::sweepPointUpdated, m_sweep, &SweepPanel::updatePoint);
    connect(m_runner, &JobRunner::sweepProgress, this, [this](const twb::SweepProgress& p) {
        m_progress->setValue(int(p.fraction * 1000));
        m_status->setText(tr("Sweep round %1: %2 (%3 of %4), %5 s left")
                              .arg(p.round + 1)
                              .arg(QString::fromStdString(p.label))
                              .arg(p.point + 1)
                              .arg(p.points)
                              .arg(p.remainingSeconds, 0, 'f', 0));
    });
    connect(m_load, &LoadPanel::loadRequested, this, &MainWindow::load);
    connect(m_runner, &JobRunner::loadPointUpdated, m_load, &LoadPanel::updatePoint);
    connect(m_runner, &JobRunner::loadProgress, this, [this](const twb::LoadProgress& p) {
        m_progress->setValue(int(p.fraction * 1000));
        m_status->setText(
            tr("Load: %1, %2 s").arg(QString::fromStdString(p.phase)).arg(p.elapsedSeconds, 0, 'f', 0));
    });
    connect(m_sweep, &SweepPanel::useConfiguration, this, [this](const twb::RunConfig& c) {
        QVector<twb::RunConfig> configs = m_configs->configs();
        configs.push_back(c);
        m_configs->setConfigs(configs);
        m_status->setText(tr("Added %1 to the configurations.").arg(QString::fromStdString(c.label())));
    });
    connect(m_profile, &ProfilePanel::traceExportRequested, this,
            [this](const QString& path) { m_runner->exportTrace(m_profile->profiles(), path); });
    connect(m_runner, &JobRunner::traceExported, this, [this](const QString& path, const QString& error) {
        m_status->setText(error.isEmpty()
                              ? tr("Wrote the trace %1: open it in ui.perfetto.dev or chrome://tracing.")
                                    .arg(QDir::toNativeSeparators(path))
                              : error);
        emit traceExported(path, error.isEmpty());
    });
    connect(m_runner, &JobRunner::runFinished, this, [this](const RunSnapshot& run) {
        m_results->addRun(run);
        if (!run.record.ok)
            m_status->setText(
                tr("%1 failed: %2")
                    .arg(QString::fromStdString(run.record.label), QString::fromStdString(run.record.error)));
    });
    connect(m_runner, &JobRunner::reportRead, this, &MainWindow::showReport);
    connect(m_runner, &JobRunner::sessionRead, this, &MainWindow::applySession);
    // Each job ends with its report, kept apart, so that Export Report writes what the panel in view
    // shows and a session keeps all three.
    connect(m_runner, &JobRunner::runsFinished, this, [this](const twb::Report& report, bool cancelled) {
        m_report = report;
        m_results->showAcrossTargets(report);
        int ok = 0;
        for (const auto& r : m_results->runs())
            ok += r.record.ok && r.origin.isEmpty();
        m_results->compareDefault();
        jobEnded(cancelled ? tr("Cancelled; the results measured so far are shown.")
                           : tr("Measured %1 of %2 configurations.").arg(ok).arg(m_configCount));
        emit runsFinished(cancelled);
    });
    connect(m_runner, &JobRunner::profilesFinished, this, [this](const twb::Report& report, bool cancelled) {
        m_profileReport = report;
        int ok = 0;
        for (const auto& p : m_profile->profiles())
            ok += p.ok;
        jobEnded(cancelled ? tr("Cancelled; the profiles finished so far are shown.")
                           : tr("Profiled %1 of %2 configurations.").arg(ok).arg(m_configCount));
        emit profilesFinished(cancelled);
    });
    connect(m_runner, &JobRunner::sweepFinished, this, [this](const twb::Report& report, bool cancelled) {
        m_sweepReport = report;
        if (report.hasSweep) m_sweep->showResult(report.sweep);
        jobEnded(cancelled ? tr("Sweep cancelled; the points measured so far are shown.")
                           : tr("Sweep finished: %1").arg(m_sweep->recommendationText()));
        emit sweepFinished(cancelled);
    });
    connect(m_runner, &JobRunner::loadFinished, this, [this](const twb::Report& report, bool cancelled) {
        m_loadReport = report;
        if (report.hasLoad) m_load->showResult(report.load);
        m_load->setRunning(false);
        jobEnded(cancelled ? tr("Load run cancelled; the points measured so far are shown.")
                           : QString::fromStdString(report.load.verdict));
        emit loadFinished(cancelled);
    });
    connect(m_runner, &JobRunner::compared, this, [this](const ComparisonSnapshot& c) {
        m_results->showComparison(c);
        emit comparisonShown();
    });
    connect(m_runner, &JobRunner::compareFailed, this, [this](const QString& message) {
        m_results->showComparisonError(message);
        m_status->setText(message);
    });
    connect(m_results, &ResultsPanel::saveOutputRequested, m_runner, &JobRunner::saveOutput);
    connect(m_runner, &JobRunner::fileClassified, this, [this](const QString& path, bool inputTensors) {
        // Asked for the model open then; another opened since is not given it.
        if (m_classifying.take(path) != m_modelPath) return;
        if (!(inputTensors && useAsInput(path))) openModelFile(path);
    });
    connect(m_runner, &JobRunner::outputSaved, this, [this](const QString& path, const QString& error) {
        m_status->setText(error.isEmpty() ? tr("Wrote %1").arg(path) : error);
    });
    connect(m_runner, &JobRunner::exported, this, [this](const QString& path, const QString& error) {
        m_status->setText(error.isEmpty() ? tr("Wrote %1").arg(path) : error);
        emit reportExported(path, error.isEmpty());
    });
    connect(m_runner, &JobRunner::sessionWritten, this, [this](const QString& path, bool ok) {
        if (path != autosavePath())
            m_status->setText(ok ? tr("Saved %1").arg(path) : tr("Could not save %1").arg(path));
        emit sessionSaved(path, ok);
    });
    connect(m_runner, &JobRunner::stateDictLoaded, this,
            [this](const twb::StateDictReport& r, const QString& path) {
                m_model->showStateDictReport(r, path);
                if (r.applied) {
                    m_stateDictPath = path;
                    m_strictWeights = r.strict;
                }
                m_status->setText(QString::fromStdString(r.describe()));
            });
    connect(m_runner, &JobRunner::failed, this,
            [this](const QString& message) { m_status->setText(message); });
    connect(
        m_results, &ResultsPanel::compareRequested, this,
        [this](int a, int b, const QString& file, const twb::CompareOptions& options, const QString& leaf) {
            const auto& runs = m_results->runs();
            const QString nameA = QString::fromStdString(runs[std::size_t(a)].record.label);
            if (b < 0)
                m_runner->compareWithFile(runs[std::size_t(a)].output, nameA, file, options, leaf);
            else
                m_runner->compare(runs[std::size_t(a)].output, runs[std::size_t(b)].output, nameA,
                                  QString::fromStdString(runs[std::size_t(b)].record.label), options, leaf);
        });
    connect(m_model, &ModelPanel::loadWeightsRequested, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Load weights"), dialogPath(),
            tr("state_dicts (*.pth *.pt *.bin *.ckpt *.safetensors);;All files (*)"));
        if (!f.isEmpty()) m_runner->loadStateDict(f, m_model->strictLoading());
    });
    connect(m_model, &ModelPanel::stripPrefixRequested, this,
            [this](const QString& weights, const QString& prefix) {
                m_runner->loadStateDict(weights, m_model->strictLoading(), prefix);
            });
    connect(m_model, &ModelPanel::loadIntoModelRequested, this, [this] {
        const QString weights = QString::fromStdString(m_info.path);
        const QString model = QFileDialog::getOpenFileName(
            this, tr("TorchScript model to load %1 into").arg(QFileInfo(weights).fileName()), dialogPath(),
            tr("TorchScript (*.pt *.pth *.zip);;All files (*)"));
        if (model.isEmpty()) return;
        const QString key = m_model->stateDictKey(); // read before the model replaces the panel
        openModelFile(model); // a model, as asked: not read first to tell it from an input
        m_runner->loadStateDict(weights, m_model->strictLoading(), {},
                                key); // queued after the model is loaded
    });

    connect(m_model, &ModelPanel::loadLibraryRequested, this,
            [this](const QString& library) { loadOperatorLibrary(library); });

    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    m_splitter->restoreState(settings.value("window/splitter").toByteArray());
    if (!restoreState(settings.value("window/state").toByteArray())) {
        // A first start: 1400×860, or nine tenths of a smaller screen.
        QSize size(1400, 860);
        if (const QScreen* screen = QGuiApplication::primaryScreen())
            size = size.boundedTo(screen->availableSize() * 0.9);
        resize(size);
    }
    if (settings.value("view/dark", false).toBool()) setDarkTheme(true, false);
    // Read before this start marks itself as running: whether the previous one ended cleanly.
    m_previousExitUnclean = !settings.value("session/cleanExit", true).toBool();
    settings.setValue("session/cleanExit", false);
    settings.sync(); // a crash or SIGKILL must find it on disk
    // Quitting without closing the window (QApplication::exit) is a clean exit too.
    connect(qApp, &QCoreApplication::aboutToQuit, this, [] {
        QSettings s;
        s.setValue("session/cleanExit", true);
    });
}

QString MainWindow::statusText() const {
    return m_status->text();
}

bool MainWindow::shouldOfferRestore() const {
    return m_previousExitUnclean && QFileInfo::exists(autosavePath());
}

MainWindow::~MainWindow() = default;

QString MainWindow::autosavePath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.twbsession";
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* open = file->addAction(standardIcon(QStyle::SP_DialogOpenButton), tr("&Open…"), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a model"), dialogPath(),
            tr("PyTorch files (*.pt *.pth *.pt2 *.bin *.ckpt *.safetensors *.onnx *.zip);;"
               "Sessions and reports (*.twbsession *.json);;All files (*)"));
        if (!f.isEmpty()) openFile(f);
    });
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    refreshRecentMenu();
    file->addAction(tr("Load &Weights (state_dict)…"), m_model, &ModelPanel::loadWeightsRequested);
    file->addAction(tr("Operator &Libraries…"), this, &MainWindow::editOperatorLibraries);
    file->addAction(tr("&Targets…"), this, &MainWindow::editTargets)->setShortcut(QKeySequence(tr("Ctrl+T")));
    file->addSeparator();
    file->addAction(tr("Open Re&port…"), this, [this] {
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Open a report"), dialogPath(), tr("Reports (*.json)"));
        if (!f.isEmpty()) openReport(f);
    });
    file->addAction(tr("&Export Report…"), this,
                    [this] {
                        const QString f = QFileDialog::getSaveFileName(
                            this, tr("Export report"), dialogPath(QStringLiteral("report.json")),
                            tr("JSON report (*.json)"));
                        if (!f.isEmpty()) exportReport(f, QString());
                    })
        ->setShortcut(QKeySequence(tr("Ctrl+E")));
    // Every call's latency, one row each: only when asked, under the name given.
    file->addAction(tr("Export &Samples (CSV)…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Export samples"), dialogPath(QStringLiteral("samples.csv")), tr("CSV (*.csv)"));
        if (!f.isEmpty()) exportReport({}, f);
    });
    file->addSeparator();
    file->addAction(tr("&Save Session…"), this,
                    [this] {
                        const QString f = QFileDialog::getSaveFileName(
                            this, tr("Save session"), dialogPath(QStringLiteral("session.twbsession")),
                            tr("Torch Workbench sessions (*.twbsession)"));
                        if (!f.isEmpty()) saveSession(f);
                    })
        ->setShortcut(QKeySequence::Save);
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    auto* run = menuBar()->addMenu(tr("&Run"));
    m_runAction = run->addAction(glyphIcon(Glyph::Run, palette()), tr("&Run All Configurations"), this,
                                 &MainWindow::runAll);
    m_runAction->setShortcut(QKeySequence(tr("Ctrl+R")));
    m_profileAction = run->addAction(tr("&Profile All Configurations"), this, &MainWindow::profileAll);
    m_profileAction->setShortcut(QKeySequence(tr("Ctrl+Shift+P")));
    m_sweepAction = run->addAction(tr("&Sweep for the Fastest Configuration"), this, &MainWindow::sweep);
    m_sweepAction->setShortcut(QKeySequence(tr("Ctrl+Shift+S")));
    m_loadAction = run->addAction(tr("Serve Under &Load"), this, &MainWindow::load);
    m_loadAction->setShortcut(QKeySequence(tr("Ctrl+Shift+L")));
    m_cancelAction =
        run->addAction(glyphIcon(Glyph::Stop, palette()), tr("&Cancel"), this, &MainWindow::cancel);
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));

    auto* view = menuBar()->addMenu(tr("&View"));
    const QStringList left{tr("Model"), tr("Inputs"), tr("Configurations")};
    for (int i = 0; i < left.size(); ++i)
        view->addAction(left[i], this, [this, i] { showLeftTab(i); })
            ->setShortcut(QKeySequence(QStringLiteral("Alt+%1").arg(i + 1)));
    const QStringList right{tr("Latency"), tr("Statistics"), tr("Outputs")};
    for (int i = 0; i < right.size(); ++i)
        view->addAction(right[i], this,
                        [this, i] {
                            showRightTab(0);
                            m_results->showTab(i);
                        })
            ->setShortcut(QKeySequence(QStringLiteral("Alt+%1").arg(i + 4)));
    view->addAction(tr("Profile"), this, [this] { showRightTab(1); })
        ->setShortcut(QKeySequence(QStringLiteral("Alt+7")));
    view->addAction(tr("Sweep"), this, [this] { showRightTab(2); })
        ->setShortcut(QKeySequence(QStringLiteral("Alt+8")));
    view->addAction(tr("Graph"), this, [this] { showRightTab(3); })
        ->setShortcut(QKeySequence(QStringLiteral("Alt+9")));
    view->addAction(tr("Divergence"), this, [this] { showRightTab(4); })
        ->setShortcut(QKeySequence(QStringLiteral("Alt+0")));
    view->addAction(tr("Load"), this, [this] { showRightTab(5); })
        ->setShortcut(QKeySequence(QStringLiteral("Alt+L")));

    view->addSeparator();
    auto* dark = view->addAction(tr("&Dark Theme"), this, [this](bool on) { setDarkTheme(on); });
    dark->setCheckable(true);
    dark->setChecked(QSettings().value("view/dark", false).toBool());

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Manual"), this, &MainWindow::showManual)->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts)
        ->setShortcut(QKeySequence(tr("Ctrl+/")));
    help->addSeparator();
    help->addAction(tr("&About Torch Workbench"), this, &MainWindow::about);

    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->addAction(open);
    bar->addAction(m_runAction);
    bar->addAction(m_cancelAction);
}

void MainWindow::showLeftTab(int index) {
    m_left->setCurrentIndex(index);
}

void MainWindow::setDarkTheme(bool dark, bool remember) {
    if (remember) QSettings().setValue("view/dark", dark);
    static const QPalette original = QApplication::palette();
    if (!dark) {
        QApplication::setPalette(original);
        refreshGlyphs();
        return;
    }
    QApplication::setStyle(QStringLiteral("Fusion"));
    QPalette p;
    // Fields and boxes lighter than the window, as Fusion draws their outline darker than the window: a
    // check box darker than both would be a black square.
    p.setColor(QPalette::Window, QColor(37, 37, 40));
    p.setColor(QPalette::WindowText, QColor(220, 220, 220));
    p.setColor(QPalette::Base, QColor(58, 58, 63));
    p.setColor(QPalette::AlternateBase, QColor(66, 66, 71));
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 155));
    p.setColor(QPalette::Text, QColor(220, 220, 220));
    p.setColor(QPalette::Button, QColor(50, 50, 54));
    p.setColor(QPalette::ButtonText, QColor(220, 220, 220));
    p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(50, 50, 54));
    p.setColor(QPalette::ToolTipText, QColor(220, 220, 220));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    QApplication::setPalette(p);
    refreshGlyphs();
}

void MainWindow::refreshGlyphs() {
    const QPalette pal = QApplication::palette();
    if (m_runAction) m_runAction->setIcon(glyphIcon(Glyph::Run, pal));
    if (m_cancelAction) m_cancelAction->setIcon(glyphIcon(Glyph::Stop, pal));
}

void MainWindow::openFile(const QString& path) {
    rememberFolderOf(path); // dialogs open where this file is
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "twbsession") {
        restoreSession(path);
        return;
    }
    if (suffix == "json") {
        openReport(path);
        return;
    }
    const TensorInput byName = tensorInputByName(path);
    if (m_inspecting && byName != TensorInput::No) {
        // Dropped with a model, or opened while one is inspected: judged once the model is known.
        m_openAfterModel << path;
        return;
    }
    if (twb::runnable(m_info.diagnosis)) { // with a model open, a tensor file is one of its inputs
        if (byName == TensorInput::Yes && useAsInput(path)) return;
        if (byName == TensorInput::Maybe) { // the file decides; read off the GUI thread
            m_status->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
            m_classifying.insert(path, m_modelPath);
            m_runner->classifyFile(path);
            return;
        }
    }
    openModelFile(path);
}

bool MainWindow::useAsInput(const QString& path) {
    if (!m_inputs->assignFile(path)) return false;
    showLeftTab(1);
    m_status->setText(tr("%1 set as an input.").arg(QFileInfo(path).fileName()));
    return true;
}

void MainWindow::openModelFile(const QString& path) {
    m_modelPath = path;
    m_inspecting = true;
    m_openAfterModel.clear(); // what was opened with the last model is not this one's
    m_stateDictPath.clear();
    m_info = twb::ModelInfo(); // nothing runs until the new model is known
    m_report = {};             // nor is anything measured on the last one exported as this one's
    m_profileReport = {};
    m_sweepReport = {};
    m_loadReport = {};
    if (m_runAction) m_runAction->setEnabled(false);
    if (m_profileAction) m_profileAction->setEnabled(false);
    if (m_sweepAction) m_sweepAction->setEnabled(false);
    if (m_loadAction) m_loadAction->setEnabled(false);
    m_inspectingText = tr("Inspecting %1…").arg(QFileInfo(path).fileName());
    m_status->setText(m_inspectingText);
    setWindowTitle(tr("%1 — Torch Workbench").arg(QFileInfo(path).fileName()));
    rememberRecent(path);
    // The operator libraries this model needed before, loaded first (workers load them too).
    for (const QString& library : operatorLibrariesFor(path)) {
        try {
            twb::loadOperatorLibrary(library.toStdString());
        } catch (const twb::Error& e) {
            m_status->setText(QString::fromStdString(e.what()));
        }
    }
    m_runner->openModel(path);
}

QStringList MainWindow::operatorLibrariesFor(const QString& model) {
    return QSettings()
        .value("operatorLibraries")
        .toMap()
        .value(QFileInfo(model).absoluteFilePath())
        .toStringList();
}

void MainWindow::setOperatorLibrariesFor(const QString& model, const QStringList& libraries) {
    QSettings settings;
    QVariantMap all = settings.value("operatorLibraries").toMap();
    if (libraries.isEmpty())
        all.remove(QFileInfo(model).absoluteFilePath());
    else
        all.insert(QFileInfo(model).absoluteFilePath(), libraries);
    settings.setValue("operatorLibraries", all);
}

bool MainWindow::loadOperatorLibrary(const QString& library) {
    QString file = library;
    if (file.isEmpty())
        file = QFileDialog::getOpenFileName(this, tr("Operator library"), dialogPath(),
                                            tr("Shared libraries (*.so *.so.*);;All files (*)"));
    if (file.isEmpty()) return false;
    try {
        twb::loadOperatorLibrary(file.toStdString());
    } catch (const twb::Error& e) {
        m_status->setText(QString::fromStdString(e.what()));
        return false;
    }
    if (m_modelPath.isEmpty()) return true;
    QStringList libraries = operatorLibrariesFor(m_modelPath);
    if (!libraries.contains(file)) setOperatorLibrariesFor(m_modelPath, libraries << file);
    openFile(m_modelPath);
    return true;
}

void MainWindow::setTargets(const QStringList& targets) {
    QStringList valid;
    for (const QString& t : targets) {
        try {
            twb::Target::parse(t.toStdString());
            valid << t;
        } catch (const twb::Error& e) {
            m_status->setText(QString::fromUtf8(e.what()));
        }
    }
    // Only this build is what no target means.
    if (valid == QStringList{QStringLiteral("local")}) valid.clear();
    m_runner->setTargets(valid);
    m_configs->setRunTargets(valid);
    QSettings().setValue(QStringLiteral("targetsUsed"), valid);
}

QStringList MainWindow::targets() const {
    return m_runner->targets();
}

void MainWindow::setPendingInputs(const QStringList& inputs) {
    m_pendingInputs = inputs;
}

void MainWindow::onModelInspected(const twb::ModelInfo& info) {
    m_info = info;
    m_model->showInfo(info);
    showLeftTab(0);
    const bool runnable = twb::runnable(info.diagnosis);
    m_divergence->clear();
    // A TorchScript model's graph, or the ExportedProgram a .pt2 keeps (even one that cannot run here).
    if (runnable || info.diagnosis.kind == twb::FileKind::Pt2)
        m_runner->extractGraph(QString::fromStdString(info.path));
    else
        m_graph->setGraph(nullptr, QString::fromStdString(info.diagnosis.summary));
    m_inputs->setArguments(runnable ? info.inputs : std::vector<twb::ArgumentInfo>{});
    m_configs->setPackage(runnable && info.diagnosis.kind == twb::FileKind::Pt2);
    updateRunActions(m_runner->isRunning());
    bool suggested = false;
    if (runnable) {
        // Nothing given: the model's own suggestions, as torchwb uses them, so that Run works at once.
        const bool given = !m_pendingInputs.isEmpty() || !m_openAfterModel.isEmpty();
        for (int i = 0; i < m_pendingInputs.size(); ++i) {
            const QString& in = m_pendingInputs[i];
            const int eq = in.indexOf('=');
            const bool named =
                eq > 0 && !QFileInfo::exists(in) && m_inputs->setSourceOf(in.left(eq), in.mid(eq + 1));
            if (!named && i < int(info.inputs.size()))
                m_inputs->setSourceOf(QString::fromStdString(info.inputs[std::size_t(i)].name), in);
        }
        m_pendingInputs.clear();
        if (!given) suggested = m_inputs->fillSuggestions();
        if (!m_inputs->flush()) m_runner->bindInputs(m_inputs->specs()); // bound once, now
    }
    const QString name = QFileInfo(QString::fromStdString(info.path)).fileName();
    const QString what =
        info.diagnosis.kind == twb::FileKind::Pt2 ? tr("an AOTInductor package") : tr("TorchScript");
    const QString said =
        !runnable   ? QString::fromStdString(info.diagnosis.summary)
        : suggested ? tr("%1: %2, forward takes %3 argument(s), given what the model suggests (Inputs): Run "
                         "(Ctrl+R), or give your own.")
                          .arg(name, what)
                          .arg(info.inputs.size())
                    : tr("%1: %2, forward takes %3 argument(s). Give inputs, then Run (Ctrl+R).")
                          .arg(name, what)
                          .arg(info.inputs.size());
    // What was said while it was inspected (a session restored, a report opened beside it) stays first.
    const QString before = m_status->text();
    m_status->setText(before == m_inspectingText || before.isEmpty() ? said : before + "  " + said);
    m_inspecting = false;
    const QStringList after = std::exchange(m_openAfterModel, {});
    if (!runnable) {
        m_pendingInputs.clear(); // a session's or the command line's inputs are not the next model's
        // Tensors opened with other files are an input of the model among them.
        if (info.diagnosis.kind == twb::FileKind::Tensors && !after.isEmpty())
            m_pendingInputs << QString::fromStdString(info.path);
    }
    emit modelShown(info);
    // The files opened with it, as each would have opened after it: inputs where it runs, or the model.
    for (const QString& path : after)
        openFile(path);
}

bool MainWindow::readyToMeasure() {
    if (m_runner->isRunning()) return false;
    if (m_modelPath.isEmpty() || !twb::runnable(m_info.diagnosis)) {
        m_status->setText(tr("Open a TorchScript model or an AOTInductor package first."));
        return false;
    }
    m_inputs->flush(); // an edit still in its debounce must reach the worker before the run
    m_runLabels.clear();
    const QStringList where = m_runner->targets();
    for (const QString& t : where.isEmpty() ? QStringList{QString()} : where)
        for (auto c : m_configs->configs()) {
            if (!t.isEmpty()) c.target = t.toStdString(); // labelled as the runs on that target are
            m_runLabels << QString::fromStdString(c.label());
        }
    return true;
}

void MainWindow::profileAll() {
    if (!readyToMeasure()) return;
    m_profile->reset();
    m_graph->setProfiles({});
    showRightTab(1);
    twb::ProfileOptions options;
    options.calls = m_profile->calls();
    m_runner->profile(m_configs->configs(), options);
}

void MainWindow::diverge(const twb::RunConfig& a, const twb::RunConfig& b) {
    if (!readyToMeasure()) {
        emit divergenceFinished(true);
        return;
    }
    showRightTab(4);
    m_divergence->setRunning(true);
    m_runner->diverge(a, b);
}

void MainWindow::sweep() {
    if (!readyToMeasure()) return;
    const QVector<twb::RunConfig> configs = m_configs->configs();
    twb::SweepOptions options;
    try {
        options = m_sweep->options(configs.isEmpty() ? twb::RunConfig() : configs.front());
    } catch (const std::exception& e) {
        m_status->setText(QString::fromUtf8(e.what()));
        return;
    }
    m_sweep->reset();
    showRightTab(2);
    m_configCount = 1;
    m_runner->sweep(options);
}

void MainWindow::load() {
    if (!readyToMeasure()) return;
    const QVector<twb::RunConfig> configs = m_configs->configs();
    const twb::LoadOptions options = m_load->options(configs.isEmpty() ? twb::RunConfig() : configs.front());
    try {
        twb::validateLoadOptions(options);
    } catch (const std::exception& e) {
        m_status->setText(QString::fromUtf8(e.what()));
        showRightTab(5);
        return;
    }
    m_load->start(options);
    showRightTab(5);
    m_configCount = 1;
    m_runner->load(options);
}

void MainWindow::showRightTab(int index) {
    m_right->setCurrentIndex(index);
}

int MainWindow::rightTab() const {
    return m_right->currentIndex();
}

void MainWindow::runAll() {
    if (!readyToMeasure()) return;
    showRightTab(0);
    m_results->reset();
    m_report = {};
    m_runner->setTolerance(m_results->tolerance()); // the plan compares outputs as the Outputs tab does
    m_runner->run(m_configs->configs());
}

void MainWindow::cancel() {
    if (!m_runner->isRunning()) return;
    m_runner->cancel();
    m_status->setText(tr("Cancelling…"));
}

void MainWindow::jobEnded(const QString& said) {
    setRunning(false);
    if (m_inspecting) {
        // Opening another model stopped it. That model's inputs are not known yet, so the session is not
        // saved with the last model's: the next job's end saves it.
        m_status->setText(tr("Stopped to open %1.").arg(QFileInfo(m_modelPath).fileName()));
        return;
    }
    m_status->setText(said);
    saveSession(autosavePath());
}

void MainWindow::setRunning(bool running) {
    m_progress->setVisible(running);
    m_cancelButton->setVisible(running);
    m_progress->setValue(0);
    if (m_cancelAction) m_cancelAction->setEnabled(running);
    updateRunActions(running);
}

void MainWindow::updateRunActions(bool running) {
    const bool runnable = !running && twb::runnable(m_info.diagnosis);
    // Disabled actions say why, in their tooltip and the status bar when hovered.
    QString why;
    if (running)
        why = tr("A run is in progress: Cancel it (Esc) first");
    else if (m_info.path.empty())
        why = tr("Open a model first (Ctrl+O)");
    else if (!runnable)
        why = tr("%1 cannot run: %2")
                  .arg(QFileInfo(QString::fromStdString(m_info.path)).fileName(),
                       QString::fromStdString(m_info.diagnosis.summary));
    for (QAction* a : {m_runAction, m_profileAction, m_sweepAction, m_loadAction}) {
        if (!a) continue;
        a->setEnabled(runnable);
        const QString name = a->text().remove('&');
        a->setToolTip(runnable ? name : name + " — " + why);
        a->setStatusTip(runnable ? QString() : why);
    }
}

void MainWindow::onProgress(int index, const twb::Progress& p) {
    const double overall = (double(index) + p.fraction) / std::max(1, m_configCount);
    m_progress->setValue(int(overall * 1000));
    const QString label = m_runLabels.value(index);
    QString text = tr("%1 (%2 of %3): %4, %5 calls")
                       .arg(label)
                       .arg(index + 1)
                       .arg(m_configCount)
                       .arg(QString::fromStdString(p.phase))
                       .arg(p.iterations);
    if (p.remainingSeconds >= 0) text += tr(", %1 s left").arg(p.remainingSeconds, 0, 'f', 1);
    m_status->setText(text);
}

void MainWindow::rememberRecent(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value("recentFiles").toStringList();
    const QString abs = QFileInfo(path).absoluteFilePath();
    recent.removeAll(abs);
    recent.prepend(abs);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue("recentFiles", recent);
    refreshRecentMenu();
}

void MainWindow::refreshRecentMenu() {
    if (!m_recentMenu) return;
    m_recentMenu->clear();
    const QStringList recent = QSettings().value("recentFiles").toStringList();
    for (const QString& f : recent)
        m_recentMenu->addAction(f, this, [this, f] { openFile(f); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    openUrls(event->mimeData()->urls());
    event->acceptProposedAction();
}

void MainWindow::openUrls(const QList<QUrl>& urls) {
    // Dropped together: plain tensor files after the rest, so that they find the model among them.
    QStringList files, tensors;
    for (const QUrl& url : urls)
        if (url.isLocalFile())
            (tensorInputByName(url.toLocalFile()) == TensorInput::Yes ? tensors : files) << url.toLocalFile();
    for (const QString& file : files + tensors)
        openFile(file);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_runner->cancel();
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("window/splitter", m_splitter->saveState());
    settings.setValue("session/cleanExit", true);
    QMainWindow::closeEvent(event);
}

twb::Report MainWindow::reportOfTab(int tab) const {
    const twb::Report& job = tab == 1   ? m_profileReport
                             : tab == 2 ? m_sweepReport
                             : tab == 5 ? m_loadReport
                                        : m_report;
    if (!job.runs.empty() || !job.profiles.empty() || job.hasSweep || job.hasLoad) return job;
    twb::Report report; // nothing measured yet: the model alone
    report.model.path = m_info.path;
    report.model.size = m_info.fileSize;
    report.model.kind = twb::kindName(m_info.diagnosis.kind);
    report.model.className = m_info.className;
    return report;
}

twb::Report MainWindow::currentReport() const {
    return reportOfTab(m_right->currentIndex()); // the panel in view: Results, Profile or Sweep
}

void MainWindow::exportReport(const QString& jsonPath, const QString& csvPath) {
    m_status->setText(tr("Writing %1…").arg(jsonPath.isEmpty() ? csvPath : jsonPath));
    m_runner->exportReport(currentReport(), jsonPath, csvPath);
}

void MainWindow::openReport(const QString& path) {
    m_status->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
    m_runner->readReport(path); // off the GUI thread; showReport follows
}

void MainWindow::showReport(const twb::Report& report, const QString& path, const QString& error) {
    if (!error.isEmpty()) {
        m_status->setText(error);
        return;
    }
    // Its runs join Results and its profiles Profile, beside this machine's and named by their origin;
    // its sweep takes the Sweep panel, and is what that panel exports.
    const QString origin =
        QString::fromStdString(report.environment.hostName) + " · " + QFileInfo(path).fileName();
    for (const auto& run : report.runs) {
        RunSnapshot snap;
        snap.record = run;
        snap.origin = origin;
        m_results->addRun(snap);
    }
    for (twb::Profile profile : report.profiles) {
        profile.label += " · " + origin.toStdString();
        m_profile->addProfile(profile);
        m_graph->setProfiles(m_profile->profiles());
    }
    if (report.hasSweep) {
        m_sweepReport = report;
        m_sweep->showResult(report.sweep);
    }
    if (report.hasLoad) {
        m_loadReport = report;
        m_load->showResult(report.load);
    }
    QStringList parts{tr("%n run(s)", nullptr, int(report.runs.size()))};
    if (!report.profiles.empty()) parts << tr("%n profile(s)", nullptr, int(report.profiles.size()));
    if (report.hasSweep) parts << tr("a sweep of %n point(s)", nullptr, int(report.sweep.points.size()));
    if (report.hasLoad) parts << tr("a load run of %n point(s)", nullptr, int(report.load.curve.size()));
    m_status->setText(tr("Added %1 from %2 (%3).")
                          .arg(parts.join(QStringLiteral(", ")), QFileInfo(path).fileName(),
                               QString::fromStdString(report.environment.cpuModel)));
    if (!report.profiles.empty() && report.runs.empty()) showRightTab(1);
    if (report.hasSweep && report.runs.empty()) showRightTab(2);
    if (report.hasLoad && report.runs.empty() && !report.hasSweep) showRightTab(5);
    emit reportShown(path);
}

void MainWindow::saveSession(const QString& path) {
    // The session is core's plain data; the widgets only hand over what they show.
    twb::Session session;
    session.model = m_modelPath.toStdString();
    session.stateDict = m_stateDictPath.toStdString();
    session.stateDictStrict = m_strictWeights;
    for (const auto& in : m_inputs->specs())
        session.inputs.push_back({in.argument.toStdString(), in.source.toStdString()});
    for (const auto& c : m_configs->configs())
        session.configs.push_back(c);
    // Each job's report: the runs', the profiles' and the sweep's.
    session.hasReport = !m_report.runs.empty();
    session.report = m_report;
    session.hasProfileReport = !m_profileReport.runs.empty() || !m_profileReport.profiles.empty();
    session.profileReport = m_profileReport;
    session.hasSweepReport = m_sweepReport.hasSweep;
    session.sweepReport = m_sweepReport;
    session.hasLoadReport = m_loadReport.hasLoad;
    session.loadReport = m_loadReport;
    m_runner->writeSession(path, session);
}

bool MainWindow::restoreSession(const QString& path) {
    if (!QFileInfo(path).isReadable()) {
        m_status->setText(tr("%1: cannot be read").arg(path));
        return false;
    }
    m_status->setText(tr("Reading %1…").arg(QFileInfo(path).fileName()));
    m_runner->readSession(path); // off the GUI thread; applySession follows
    return true;
}

void MainWindow::applySession(const twb::Session& s, const QString& path, const QString& error) {
    if (!error.isEmpty()) { // the file is left as it is; nothing half-restored
        m_status->setText(error);
        emit sessionRestored(path, false);
        return;
    }
    QVector<twb::RunConfig> configs(s.configs.begin(), s.configs.end());
    m_configs->setConfigs(configs.isEmpty() ? ConfigPanel::defaults() : configs);
    QStringList inputs;
    for (const auto& in : s.inputs)
        inputs << QString::fromStdString(in.argument) + "=" + QString::fromStdString(in.source);
    setPendingInputs(inputs);
    if (!s.model.empty()) openModelFile(QString::fromStdString(s.model)); // its weights are queued after it
    if (!s.stateDict.empty()) m_runner->loadStateDict(QString::fromStdString(s.stateDict), s.stateDictStrict);
    m_results->reset();
    for (const auto& run : s.report.runs) {
        RunSnapshot snap; // the session's own runs: saved again with it, replaced by the next run
        snap.record = run;
        m_results->addRun(snap);
    }
    m_report = s.report;
    m_profile->reset();
    m_profileReport = s.profileReport;
    for (const auto& p : s.profileReport.profiles)
        m_profile->addProfile(p);
    m_graph->setProfiles(m_profile->profiles());
    m_sweep->reset();
    m_sweepReport = s.sweepReport;
    if (s.hasSweepReport) m_sweep->showResult(s.sweepReport.sweep);
    m_load->reset();
    m_loadReport = s.loadReport;
    if (s.hasLoadReport && s.loadReport.hasLoad) m_load->showResult(s.loadReport.load);
    m_status->setText(tr("Restored the session from %1.").arg(QFileInfo(path).fileName()));
    emit sessionRestored(path, true);
}

} // namespace twbui
