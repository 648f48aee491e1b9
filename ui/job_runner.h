// Runs core's long work on one worker thread and hands results back as value
// snapshots. Every request carries a generation number; a result from a
// superseded request is dropped. Cancelling sets a flag the harness checks
// between iterations.
#pragma once

#include "snapshots.h"

#include "twb/config.h"
#include "twb/report.h"

#include <QJsonObject>

#include <QObject>
#include <QThread>

#include <atomic>
#include <functional>
#include <memory>

namespace twbui {

class Worker;

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    // Inspects the file; a TorchScript model is also loaded for running.
    void openModel(const QString& path);
    void loadStateDict(const QString& path, bool strict);
    void bindInputs(const QVector<InputSpec>& inputs);
    void run(const QVector<twb::RunConfig>& configs);
    void compare(const twb::Value& a, const twb::Value& b, const QString& nameA, const QString& nameB,
                 const twb::CompareOptions& options, const QString& leafPath);
    void compareWithFile(const twb::Value& a, const QString& nameA, const QString& file,
                         const twb::CompareOptions& options, const QString& leafPath);
    void cancel();
    bool isRunning() const { return m_running; }
    // Hashes the files, fingerprints the machine and writes the report (and CSV) off the GUI thread.
    void exportReport(const twb::Report& report, const QString& jsonPath, const QString& csvPath);
    // Writes `session` with the report under "report", atomically, off the GUI thread.
    void writeSession(const QString& path, const QJsonObject& session, const twb::Report& report);

signals:
    void modelInspected(const twb::ModelInfo& info);
    void stateDictLoaded(const twb::StateDictReport& report, const QString& path);
    void inputsBound(const twbui::BindingSnapshot& binding);
    void runStarted(int configurations);
    void runProgress(int index, const twb::Progress& progress);
    void runFinished(const twbui::RunSnapshot& run);
    void planFinished(const twb::Report& report); // the run's report, as torchwb bench writes it
    void allFinished(bool cancelled);
    void compared(const twbui::ComparisonSnapshot& comparison);
    void compareFailed(const QString& message);
    void exported(const QString& jsonPath, const QString& error); // error empty on success
    void sessionWritten(const QString& path, bool ok);
    void failed(const QString& message);

private:
    friend class Worker;
    // Runs `make` on the worker thread; a newer comparison request drops this one's result.
    void postComparison(std::function<ComparisonSnapshot()> make);
    QThread m_thread;
    Worker* m_worker = nullptr;
    quint64 m_modelGeneration = 0, m_bindGeneration = 0, m_runGeneration = 0, m_compareGeneration = 0;
    std::shared_ptr<std::atomic<bool>> m_stop;
    bool m_running = false;
};

} // namespace twbui
