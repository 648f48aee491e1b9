// The workbench window: model, inputs and configurations on the left,
// results on the right; menus, shortcuts, drag and drop, recent files,
// sessions saved atomically and offered back after a crash.
#pragma once

#include "twb/report.h"
#include "twb/session.h"

#include "job_runner.h"

#include <QHash>
#include <QMainWindow>

class QDialog;
class QLabel;
class QMenu;
class QProgressBar;
class QSplitter;
class QTabWidget;
class QToolButton;

namespace twbui {

class ConfigPanel;
class DivergencePanel;
class GraphPanel;
class InputsPanel;
class ModelPanel;
class ProfilePanel;
class ResultsPanel;
class SweepPanel;
class LoadPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a model, state_dict or any file to diagnose; a tensor file becomes an input when a model is open;
    // a .twbsession restores a session; a .json report adds its runs to the results.
    void openFile(const QString& path);
    void setPendingInputs(const QStringList& inputs); // applied once the model's arguments are known
    void openUrls(const QList<QUrl>& urls);           // what a drop does
    void runAll();
    // Measures and profiles every configuration; the Profile panel shows them as they finish.
    void profileAll();
    // Races the Sweep panel's grid over the first configuration within its budget.
    void sweep();
    // Serves the first configuration under the Load panel's scenario (twb/load.h).
    void load();
    // Where the two configurations' outputs part, node by node, in a worker: the Divergence tab shows it.
    void diverge(const twb::RunConfig& a, const twb::RunConfig& b);
    void cancel();
    // Written off the GUI thread; sessionSaved / reportExported say when.
    void saveSession(const QString& path);
    // Starts reading the session (off the GUI thread); false when the file cannot be read at all.
    bool restoreSession(const QString& path);
    void exportReport(const QString& jsonPath, const QString& csvPath = {});
    // The report of the panel in view (Results, Profile, Sweep or Load): what Export Report writes.
    twb::Report currentReport() const;
    // The report of a panel: 0 Results (the runs'), 1 Profile, 2 Sweep, 5 Load; the model alone before any.
    twb::Report reportOfTab(int tab) const;
    void showLeftTab(int index);
    // Loads an operator library ("" asks for one), remembers it for the open model and opens the model
    // again; false (the status says why) when the library cannot be loaded here.
    bool loadOperatorLibrary(const QString& library);
    // The operator libraries remembered for a model, loaded before it each time it is opened.
    static QStringList operatorLibrariesFor(const QString& model);
    static void setOperatorLibrariesFor(const QString& model, const QStringList& libraries);
    void editOperatorLibraries(); // the list for the open model, in a dialog
    // Where Run measures (twb/target.h): none, this build; several, the same configurations on each,
    // every result labelled by its target. Kept in the settings (names and commands, never a secret).
    void setTargets(const QStringList& targets);
    QStringList targets() const;
    // The targets list, in a dialog: add, edit, remove, check (its handshake, off the GUI thread), and
    // tick those Run measures on.
    void editTargets();
    QDialog* showShortcuts(); // Help → Keyboard Shortcuts: every shortcut, read off the menus
    QDialog* showManual();    // Help → Manual: the README, bundled
    // A dark Fusion palette; the charts recolour. `remember` keeps the choice for the next start.
    void setDarkTheme(bool dark, bool remember = true);

    JobRunner* runner() const { return m_runner; }
    ModelPanel* modelPanel() const { return m_model; }
    InputsPanel* inputsPanel() const { return m_inputs; }
    ConfigPanel* configPanel() const { return m_configs; }
    ResultsPanel* resultsPanel() const { return m_results; }
    ProfilePanel* profilePanel() const { return m_profile; }
    SweepPanel* sweepPanel() const { return m_sweep; }
    LoadPanel* loadPanel() const { return m_load; }
    GraphPanel* graphPanel() const { return m_graph; }
    DivergencePanel* divergencePanel() const { return m_divergence; }
    void showRightTab(int index); // 0 results, 1 profile, 2 sweep, 3 graph, 4 divergence, 5 load
    int rightTab() const;
    QString modelPath() const { return m_modelPath; }
    QString statusText() const; // the status bar's message

    static QString autosavePath();
    // The previous start did not close cleanly (crashed, was killed) and left an autosaved session.
    bool shouldOfferRestore() const;

signals:
    void modelShown(const twb::ModelInfo& info);
    void inputsReady(bool ok);
    void targetChecked(const QString& target, bool ok, const QString& text); // the dialog's Check
    void runsFinished(bool cancelled);
    void comparisonShown();
    void sessionSaved(const QString& path, bool ok);
    void reportExported(const QString& path, bool ok);
    void reportShown(const QString& path); // a report's runs joined the charts
    void sessionRestored(const QString& path, bool ok);
    void profilesFinished(bool cancelled);
    void sweepFinished(bool cancelled);
    void loadFinished(bool cancelled);
    void divergenceFinished(bool cancelled);
    void traceExported(const QString& path, bool ok);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void rememberRecent(const QString& path);
    void refreshRecentMenu();
    void onModelInspected(const twb::ModelInfo& info);
    void onProgress(int index, const twb::Progress& p);
    void showReport(const twb::Report& report, const QString& path, const QString& error);
    void applySession(const twb::Session& session, const QString& path, const QString& error);
    void openReport(const QString& path);
    void setRunning(bool running);
    // A measuring job's end: the actions back, what it says, and the session autosaved.
    void jobEnded(const QString& said);
    void updateRunActions(bool running);  // enabled when the open file can run; else why not
    void refreshGlyphs();                 // the toolbar's icons for the palette now in use
    bool useAsInput(const QString& path); // a tensor file given to the open model; false when none takes it
    // Opens it as the model (or state_dict, …): inspected off the GUI thread.
    void openModelFile(const QString& path);
    bool readyToMeasure(); // a usable TorchScript model is open and nothing runs; labels the runs
    void about();

    JobRunner* m_runner;
    ModelPanel* m_model;
    InputsPanel* m_inputs;
    ConfigPanel* m_configs;
    ResultsPanel* m_results;
    ProfilePanel* m_profile;
    SweepPanel* m_sweep;
    LoadPanel* m_load;
    GraphPanel* m_graph;
    DivergencePanel* m_divergence;
    QTabWidget* m_left;
    QTabWidget* m_right;
    QSplitter* m_splitter;
    QLabel* m_status;
    QProgressBar* m_progress;
    QToolButton* m_cancelButton;
    QMenu* m_recentMenu = nullptr;
    QAction* m_runAction = nullptr;
    QAction* m_profileAction = nullptr;
    QAction* m_sweepAction = nullptr;
    QAction* m_loadAction = nullptr;
    QAction* m_cancelAction = nullptr;
    QString m_modelPath, m_stateDictPath;
    twb::ModelInfo m_info;
    bool m_previousExitUnclean = false;
    twb::Report m_report; // the last run's, from core's plan runner (or the restored session's)
    twb::Report m_profileReport, m_sweepReport, m_loadReport; // the last profile's, sweep's and load run's
    QStringList m_pendingInputs;
    bool m_inspecting = false;             // a model opened, not yet shown
    QString m_inspectingText;              // the status line while it is
    QStringList m_openAfterModel;          // tensor and weights files opened while it is inspected
    QHash<QString, QString> m_classifying; // a file read to tell an input from a model: the model it was for
    QStringList m_runLabels;               // of the run in progress
    int m_configCount = 0;
    bool m_strictWeights = true;
};

} // namespace twbui
