// Runs core's long work off the GUI thread and hands results back as value snapshots,
// through two job trackers: measuring (the model, its inputs, runs; never two at once) and
// short jobs (comparisons, exports, sessions, reading reports), which never wait behind a
// measurement. A result from a superseded request is dropped. Cancelling sets a flag the
// harness checks between iterations.
#pragma once

#include "snapshots.h"

#include "twb/config.h"
#include "twb/divergence.h"
#include "twb/graph.h"
#include "twb/load.h"
#include "twb/report.h"
#include "twb/session.h"
#include "twb/sweep.h"

#include <QObject>
#include <QThread>

#include <atomic>
#include <functional>
#include <memory>

namespace twbui {

struct Worker;
class JobTracker;

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Inspects the file; a TorchScript model is also loaded for running.
    void openModel(const QString& path);
    void loadStateDict(const QString& path, bool strict, const QString& stripPrefix = {},
                       const QString& key = {});
    void bindInputs(const QVector<InputSpec>& inputs);
    // Where plans run (twb/target.h): none, this build; several, the same plan on each into one report.
    void setTargets(const QStringList& targets) { m_targets = targets; }
    // The tolerance the plans' output comparisons use (the Outputs tab's atol and rtol).
    void setTolerance(const twb::CompareOptions& tolerance) { m_tolerance = tolerance; }
    QStringList targets() const { return m_targets; }
    // Starts a worker on the target and reads its hello, off the GUI thread: targetChecked says what it is.
    void checkTarget(const QString& target);
    void run(const QVector<twb::RunConfig>& configs);
    // Measures and profiles each configuration (core's plan runner with profiling on); profileFinished
    // brings each one's profile, events included, and profilesFinished the report.
    void profile(const QVector<twb::RunConfig>& configs, const twb::ProfileOptions& options);
    // Races the sweep's grid within its budget: sweepProgress and sweepPointUpdated as it goes (throttled),
    // sweepFinished with the report that holds the result; cancel keeps what was measured.
    void sweep(const twb::SweepOptions& options);
    // Latency under load (twb/load.h) in a worker on the configuration's target, else the first target
    // ticked: loadProgress and loadPointUpdated as it goes, loadFinished with the report that holds it;
    // cancel keeps the points measured.
    void load(const twb::LoadOptions& options);
    // Writes a Chrome trace of the profiles off the GUI thread; traceExported says how it went.
    void exportTrace(const std::vector<twb::Profile>& profiles, const QString& path);
    // Whether a torch.save or .safetensors file holds input tensors rather than a model or weights, read
    // off the GUI thread: fileClassified says.
    void classifyFile(const QString& path);
    // Writes an output as a tensor file (twb/tensor_io.h, by its extension) off the GUI thread;
    // outputSaved says how it went.
    void saveOutput(const twb::Value& output, const QString& path);
    void compare(const twb::Value& a, const twb::Value& b, const QString& nameA, const QString& nameB,
                 const twb::CompareOptions& options, const QString& leafPath);
    void compareWithFile(const twb::Value& a, const QString& nameA, const QString& file,
                         const twb::CompareOptions& options, const QString& leafPath);
    // Reads a report written by torchwb bench or exported here, off the GUI thread.
    void readReport(const QString& path);
    // The open model's forward as a graph, read (never run) on the measuring thread: a TorchScript model's,
    // or the ExportedProgram a .pt2 keeps (`path`); graphExtracted.
    void extractGraph(const QString& path);
    // Where two configurations' outputs part (twb/divergence.h), in a worker on A's target, else the first
    // target (this build where none is set); cancel stops the worker. divergenceFinished brings the report.
    void diverge(const twb::RunConfig& a, const twb::RunConfig& b);
    void cancel();
    bool isRunning() const { return m_running; }
    // Hashes the files, fingerprints the machine and writes the report (and CSV) off the GUI thread.
    void exportReport(const twb::Report& report, const QString& jsonPath, const QString& csvPath);
    // Writes the session atomically, off the GUI thread; sessionWritten says how it went.
    void writeSession(const QString& path, const twb::Session& session);
    void readSession(const QString& path);

signals:
    void modelInspected(const twb::ModelInfo& info);
    void stateDictLoaded(const twb::StateDictReport& report, const QString& path);
    void inputsBound(const twbui::BindingSnapshot& binding);
    void runStarted(int configurations);
    void runProgress(int index, const twb::Progress& progress);
    void runFinished(const twbui::RunSnapshot& run); // one run of run()'s plan
    void profileFinished(const twb::Profile& profile);
    void sweepProgress(const twb::SweepProgress& progress);
    void sweepPointUpdated(const twb::SweepPoint& point);
    void loadProgress(const twb::LoadProgress& progress);
    void loadPointUpdated(const twb::LoadPoint& point);
    void traceExported(const QString& path, const QString& error); // error empty on success
    void outputSaved(const QString& path, const QString& error);   // error empty on success
    void fileClassified(const QString& path, bool inputTensors);
    // The end of each measuring job, always one of them, with its report as torchwb writes it (empty
    // where the job failed before it measured; failed says why).
    void runsFinished(const twb::Report& report, bool cancelled);
    void profilesFinished(const twb::Report& report, bool cancelled);
    void sweepFinished(const twb::Report& report, bool cancelled);
    void loadFinished(const twb::Report& report, bool cancelled);
    void compared(const twbui::ComparisonSnapshot& comparison);
    void compareFailed(const QString& message);
    void exported(const QString& jsonPath, const QString& error); // error empty on success
    void sessionWritten(const QString& path, bool ok);
    void sessionRead(const twb::Session& session, const QString& path,
                     const QString& error); // error empty: read
    void reportRead(const twb::Report& report, const QString& path,
                    const QString& error); // error empty: read
    void failed(const QString& message);
    void graphExtracted(std::shared_ptr<const twb::ModelGraph> graph, const QString& error); // error: none
    void divergenceFinished(const twb::DivergenceReport& report, bool cancelled);
    // ok: `text` is the target's protocol, build and machine; else why it failed, with the fix.
    // cudaDevices: the target's CUDA devices, by name; empty where it has no usable CUDA.
    void targetChecked(const QString& target, bool ok, const QString& text, const QStringList& cudaDevices);

private:
    using Finished = void (JobRunner::*)(const twb::Report&, bool);
    // The end of every measuring job: what `work` threw, as failed, then `finished` with the report
    // `work` returned, always.
    template <typename Context, typename Work>
    static void measuring(const Context& ctx, const std::shared_ptr<std::atomic<bool>>& stop,
                          Finished finished, Work&& work);
    // Sweeps and load runs: a measuring job whose progress comes at most ten times a second, cancelled by
    // the stop flag or the tracker; `work` gets the throttled progress function.
    template <typename Work> void startStreamed(Finished finished, Work work);
    // run() and profile(): the plan through core's plan runner on the measuring thread.
    // Ends a divergence run superseded before it finished (m_finished's shape).
    void divergenceSuperseded(const twb::Report&, bool cancelled);
    void startPlan(const QVector<twb::RunConfig>& configs, bool profile, const twb::ProfileOptions& options);
    // Writes a file on the short-job thread; the signal `done` says how it went (the error empty on success).
    void writeFile(const QString& path, std::function<void()> write,
                   void (JobRunner::*done)(const QString&, const QString&));
    twb::CompareOptions m_tolerance; // what runs compare their outputs with
    QStringList m_targets;
    // Runs `make` on the short-job thread; a newer comparison request drops this one's result.
    void postComparison(std::function<ComparisonSnapshot()> make);
    std::shared_ptr<Worker> m_worker; // touched only by jobs on the measuring thread
    std::unique_ptr<JobTracker> m_measure, m_short;
    std::shared_ptr<std::atomic<bool>> m_stop;
    bool m_running = false;
    Finished m_finished = nullptr; // the signal that ends the measuring job in progress
};

} // namespace twbui
