#include "job_runner.h"

#include "file_types.h"

#include "twb/target.h"

#include "job_tracker.h"

#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/plan.h"
#include "twb/tensor_io.h"

#include <QDir>
#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>

#include <chrono>
#include <optional>

namespace twbui {

// The measuring thread's state: the loaded model and its binding. Only jobs on that thread touch it;
// the GUI sees value snapshots.
struct Worker {
    std::optional<twb::Model> model;
    std::vector<twb::InputSpec> inputs; // as the binding was made from them
    twb::InputBinding binding;
};

namespace {

void registerTypes() {
    static bool done = [] {
        qRegisterMetaType<twb::ModelInfo>();
        qRegisterMetaType<twb::StateDictReport>();
        qRegisterMetaType<twb::Progress>();
        qRegisterMetaType<twb::Value>();
        qRegisterMetaType<twbui::BindingSnapshot>();
        qRegisterMetaType<twbui::RunSnapshot>();
        qRegisterMetaType<twbui::ComparisonSnapshot>();
        qRegisterMetaType<twb::Report>();
        qRegisterMetaType<twb::Session>();
        qRegisterMetaType<twb::Profile>();
        qRegisterMetaType<twb::SweepProgress>();
        qRegisterMetaType<twb::SweepPoint>();
        qRegisterMetaType<twb::SweepResult>();
        qRegisterMetaType<twb::LoadProgress>();
        qRegisterMetaType<twb::LoadPoint>();
        return true;
    }();
    (void)done;
}

QString previewText(const twb::Value& v) {
    if (!v.isTensor()) return QString::fromStdString(v.describe());
    const twb::TensorSummary s = v.summary(6);
    QString shape;
    for (std::size_t i = 0; i < s.shape.size(); ++i)
        shape += (i ? "×" : "") + QString::number(s.shape[i]);
    QString first;
    for (double x : s.first)
        first += (first.isEmpty() ? "" : ", ") + QString::number(x, 'g', 4);
    return QStringLiteral("%1 %2  min %3  max %4  mean %5  [%6%7]")
        .arg(shape.isEmpty() ? QStringLiteral("scalar") : shape, QString::fromStdString(s.dtype))
        .arg(s.min, 0, 'g', 4)
        .arg(s.max, 0, 'g', 4)
        .arg(s.mean, 0, 'g', 4)
        .arg(first, s.numel > int64_t(s.first.size()) ? QStringLiteral(", …") : QString());
}

// Runs on the worker thread: a comparison made, with the histogram of |a − b| for its leaf.
ComparisonSnapshot snapshotOf(const twb::OutputComparison& comparison, const twb::Value& a,
                              const twb::Value& b, const QString& nameA, const QString& nameB,
                              const QString& leafPath) {
    ComparisonSnapshot snap;
    snap.nameA = nameA;
    snap.nameB = nameB;
    snap.comparison = comparison;
    snap.leafPath = leafPath;
    if (snap.leafPath.isEmpty() && !snap.comparison.leaves.empty())
        snap.leafPath = QString::fromStdString(snap.comparison.leaves.front().path);
    snap.errors = twb::histogram(twb::absoluteErrors(a, b, snap.leafPath.toStdString()), 40);
    return snap;
}

ComparisonSnapshot compareValues(const twb::Value& a, const twb::Value& b, const QString& nameA,
                                 const QString& nameB, const twb::CompareOptions& options,
                                 const QString& leafPath) {
    return snapshotOf(twb::compareOutputs(a, b, options), a, b, nameA, nameB, leafPath);
}

} // namespace

JobRunner::JobRunner(QObject* parent)
    : QObject(parent)
    , m_worker(std::make_shared<Worker>())
    , m_measure(std::make_unique<JobTracker>(QStringLiteral("twb-measure")))
    , m_short(std::make_unique<JobTracker>(QStringLiteral("twb-short"))) {
    registerTypes();
}

JobRunner::~JobRunner() {
    cancel();
    m_measure->stop(); // the threads end before the receiver does
    m_short->stop();
}

void JobRunner::openModel(const QString& path) {
    m_measure->supersede(JobKind::Bind);
    m_measure->supersede(JobKind::Weights);
    if (m_running) {
        // Another model supersedes the run: stop it and drop whatever it still delivers.
        cancel();
        m_measure->supersede(JobKind::Run);
        m_running = false;
        emit(this->*m_finished)(twb::Report{}, true);
    }
    auto worker = m_worker;
    m_measure->start(JobKind::Model, this, [worker, path](const JobTracker::Context<JobRunner>& ctx) {
        twb::ModelInfo info;
        worker->model.reset();
        worker->binding = {};
        try {
            const std::string file = path.toStdString();
            try {
                worker->model.emplace(twb::Model::load(file)); // diagnoses, loads and inspects in one pass
                info = worker->model->info();
            } catch (const twb::Error&) {
                info = twb::inspectModelFile(file); // not runnable: says what it is and why
            }
        } catch (const std::exception& e) {
            info.path = path.toStdString();
            info.diagnosis.kind = twb::FileKind::Corrupt;
            info.diagnosis.summary = "A file that could not be examined";
            info.diagnosis.error = e.what();
            info.diagnosis.fix = "Save or download the file again.";
        }
        ctx.deliver([info](JobRunner* r) { emit r->modelInspected(info); });
    });
}

void JobRunner::loadStateDict(const QString& path, bool strict, const QString& stripPrefix,
                              const QString& key) {
    auto worker = m_worker;
    // Belongs to the model opened last: a newer model drops its result.
    m_measure->join(JobKind::Model, this,
                    [worker, path, strict, stripPrefix, key](const JobTracker::Context<JobRunner>& ctx) {
                        if (ctx.cancelled()) return; // into a model already replaced: nothing to do
                        try {
                            if (!worker->model)
                                throw twb::Error("open a TorchScript model first, then load weights into it");
                            const twb::StateDictReport report = worker->model->loadStateDict(
                                path.toStdString(), strict, stripPrefix.toStdString(), key.toStdString());
                            ctx.deliver(
                                [report, path](JobRunner* r) { emit r->stateDictLoaded(report, path); });
                        } catch (const std::exception& e) {
                            const QString message = QString::fromUtf8(e.what());
                            ctx.deliver([message](JobRunner* r) { emit r->failed(message); });
                        }
                    });
}

void JobRunner::bindInputs(const QVector<InputSpec>& inputs) {
    auto worker = m_worker;
    m_measure->start(JobKind::Bind, this, [worker, inputs](const JobTracker::Context<JobRunner>& ctx) {
        BindingSnapshot snap;
        std::vector<twb::ProvidedInput> provided;
        std::vector<twb::InputSpec> specs;
        bool readable = true;
        for (const auto& in : inputs) {
            InputPreview row;
            row.argument = in.argument;
            row.source = in.source;
            if (in.source.trimmed().isEmpty()) continue;
            try {
                twb::InputSpec spec = twb::InputSpec::parse(in.source.trimmed().toStdString());
                spec.argument = in.argument.toStdString();
                twb::ProvidedInput p = std::move(twb::readInputs({spec}).front());
                if (!spec.isGenerated() && twb::detectTensorFormat(spec.file) == twb::TensorFormat::Image)
                    row.imagePath = in.source;
                row.ok = true;
                row.text = previewText(p.value);
                provided.push_back(std::move(p));
                specs.push_back(std::move(spec));
            } catch (const std::exception& e) {
                row.text = QString::fromUtf8(e.what());
                readable = false;
            }
            snap.rows.push_back(row);
        }
        worker->inputs = specs;
        if (!worker->model) {
            snap.error = QStringLiteral("open a TorchScript model first");
        } else if (readable) {
            try {
                worker->binding = worker->model->bindInputs(provided);
            } catch (const std::exception& e) {
                worker->binding = {};
                worker->binding.error = e.what();
            }
            snap.ok = worker->binding.ok;
            snap.error = QString::fromStdString(worker->binding.error);
            for (const auto& w : worker->binding.warnings)
                snap.warnings << QString::fromStdString(w);
            for (const auto& a : worker->binding.arguments)
                for (auto& row : snap.rows)
                    if (row.argument == QString::fromStdString(a.argument))
                        row.type = QString::fromStdString(a.type);
        } else {
            worker->binding = {};
            snap.error = QStringLiteral("an input file cannot be read");
        }
        ctx.deliver([snap](JobRunner* r) { emit r->inputsBound(snap); });
    });
}

template <typename Context, typename Work>
void JobRunner::measuring(const Context& ctx, const std::shared_ptr<std::atomic<bool>>& stop,
                          Finished finished, Work&& work) {
    twb::Report report;
    try {
        report = work();
    } catch (const std::exception& e) {
        const QString message = QString::fromUtf8(e.what());
        ctx.deliver([message](JobRunner* r) { emit r->failed(message); });
    }
    const bool cancelled = stop->load();
    ctx.deliver([finished, report = std::move(report), cancelled](JobRunner* r) {
        r->m_running = false;
        emit(r->*finished)(report, cancelled);
    });
}

void JobRunner::run(const QVector<twb::RunConfig>& configs) {
    startPlan(configs, false, {});
}

void JobRunner::profile(const QVector<twb::RunConfig>& configs, const twb::ProfileOptions& options) {
    startPlan(configs, true, options);
}

template <typename Work> void JobRunner::startStreamed(Finished finished, Work work) {
    cancel();
    m_short->supersede(JobKind::Compare);
    m_stop = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    m_finished = finished;
    emit runStarted(0);
    auto worker = m_worker;
    auto stop = m_stop;
    m_measure->start(
        JobKind::Run, this, [worker, stop, finished, work](const JobTracker::Context<JobRunner>& ctx) {
            auto lastSent = std::chrono::steady_clock::now() - std::chrono::seconds(1);
            // Sends a progress signal at most ten times a second; false once cancelled.
            auto progress = [&](auto signal, const auto& p) {
                const auto now = std::chrono::steady_clock::now();
                if (now - lastSent >= std::chrono::milliseconds(100)) {
                    lastSent = now;
                    ctx.deliver([signal, p](JobRunner* r) { emit(r->*signal)(p); });
                }
                return !stop->load() && !ctx.cancelled();
            };
            measuring(ctx, stop, finished, [&] {
                if (!worker->model)
                    throw twb::Error("Open a TorchScript model or an AOTInductor package first.");
                // The job as a report, as the CLI writes it: exported, kept in sessions and compared.
                twb::Report report = twb::reportFor(*worker->model, worker->inputs, worker->binding);
                work(*worker, stop.get(), ctx, progress, report);
                return report;
            });
        });
}

void JobRunner::sweep(const twb::SweepOptions& options) {
    startStreamed(&JobRunner::sweepFinished, [options](Worker& worker, const std::atomic<bool>* stop,
                                                       const auto& ctx, auto& progress, twb::Report& report) {
        twb::SweepCallbacks callbacks;
        callbacks.progress = [&](const twb::SweepProgress& p) {
            return progress(&JobRunner::sweepProgress, p);
        };
        callbacks.pointFinished = [&](const twb::SweepPoint& p) {
            twb::SweepPoint light = p;
            if (light.samplesNs.size() > 4000) light.samplesNs.resize(4000); // the chart needs the stats
            ctx.deliver([light](JobRunner* r) { emit r->sweepPointUpdated(light); });
        };
        report.sweep = twb::runSweep(*worker.model, worker.inputs, {}, options, callbacks, stop);
        report.hasSweep = true;
    });
}

void JobRunner::load(const twb::LoadOptions& options) {
    const std::string target = !options.config.target.empty()
                                   ? options.config.target
                                   : (m_targets.isEmpty() ? std::string() : m_targets.first().toStdString());
    twb::LoadOptions served = options;
    served.config.target = target; // recorded in the report: where the load was served
    startStreamed(&JobRunner::loadFinished, [served](Worker& worker, const std::atomic<bool>* stop,
                                                     const auto& ctx, auto& progress, twb::Report& report) {
        twb::LoadCallbacks callbacks;
        callbacks.progress = [&](const twb::LoadProgress& p) {
            return progress(&JobRunner::loadProgress, p);
        };
        callbacks.pointFinished = [&](const twb::LoadPoint& p) {
            ctx.deliver([p](JobRunner* r) { emit r->loadPointUpdated(p); });
        };
        const std::string& target = served.config.target;
        const twb::WorkerOptions where =
            target.empty() ? twb::WorkerOptions{} : twb::Target::parse(target).workerOptions();
        report.load = twb::runLoad(*worker.model, worker.inputs, {}, served, callbacks, stop, where);
        report.hasLoad = true;
    });
}

void JobRunner::writeFile(const QString& path, std::function<void()> write,
                          void (JobRunner::*done)(const QString&, const QString&)) {
    m_short->join(JobKind::Export, this, [path, write, done](const JobTracker::Context<JobRunner>& ctx) {
        QString error;
        try {
            write();
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        ctx.deliverAlways([path, error, done](JobRunner* r) { emit(r->*done)(path, error); });
    });
}

void JobRunner::exportTrace(const std::vector<twb::Profile>& profiles, const QString& path) {
    writeFile(
        path, [profiles, path] { twb::writeChromeTrace(path.toStdString(), profiles); },
        &JobRunner::traceExported);
}

void JobRunner::classifyFile(const QString& path) {
    m_short->join(JobKind::Compare, this, [path](const JobTracker::Context<JobRunner>& ctx) {
        bool tensors = false;
        try {
            tensors = holdsInputTensors(path);
        } catch (const std::exception&) { // opened as a model, whose diagnosis says what it is
        }
        ctx.deliverAlways([path, tensors](JobRunner* r) { emit r->fileClassified(path, tensors); });
    });
}

void JobRunner::saveOutput(const twb::Value& output, const QString& path) {
    writeFile(
        path, [output, path] { twb::writeTensorFile(path.toStdString(), output); }, &JobRunner::outputSaved);
}

void JobRunner::startPlan(const QVector<twb::RunConfig>& configs, bool profile,
                          const twb::ProfileOptions& options) {
    cancel();                             // a new run supersedes the old one
    m_short->supersede(JobKind::Compare); // and any comparison of the old outputs
    m_stop = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    const Finished finished = profile ? &JobRunner::profilesFinished : &JobRunner::runsFinished;
    m_finished = finished;
    const std::vector<std::string> targets = [&] {
        std::vector<std::string> t;
        for (const auto& s : m_targets)
            t.push_back(s.toStdString());
        return t;
    }();
    emit runStarted(int(configs.size()) * std::max(1, int(targets.size())));
    auto worker = m_worker;
    auto stop = m_stop;
    const twb::CompareOptions tolerance = m_tolerance;
    m_measure->start(JobKind::Run, this, [=](const JobTracker::Context<JobRunner>& ctx) {
        auto deliver = [&](auto fn) { ctx.deliver(fn); };
        if (!worker->model) {
            measuring(ctx, stop, finished, []() -> twb::Report {
                throw twb::Error("Open a TorchScript model or an AOTInductor package first.");
            });
            return;
        }
        // Core's plan runner measures, compares and builds the report; results arrive run by run: runs
        // for Results, profiles for Profile.
        twb::Plan plan;
        plan.configs.assign(configs.begin(), configs.end());
        plan.profile = profile;
        plan.profileOptions = options;
        plan.tolerance = tolerance;
        twb::PlanCallbacks callbacks;
        auto lastSent = std::chrono::steady_clock::now() - std::chrono::seconds(1);
        callbacks.progress = [&](int i, const twb::Progress& p) {
            // At most 20 updates a second reach the GUI, whatever the harness reports.
            const auto now = std::chrono::steady_clock::now();
            if (now - lastSent >= std::chrono::milliseconds(50) || p.fraction >= 1) {
                lastSent = now;
                deliver([i, p](JobRunner* r) { emit r->runProgress(i, p); });
            }
            return !stop->load() && !ctx.cancelled();
        };
        callbacks.stepFinished = [&](const twb::PlanStep& step) {
            if (step.hasProfile) deliver([p = step.profile](JobRunner* r) { emit r->profileFinished(p); });
            if (profile) return;
            RunSnapshot snap;
            snap.index = step.index;
            snap.record = step.record;
            snap.output = step.output;
            snap.hasOutput = step.record.ok;
            snap.hasComparison = step.hasComparison && step.index > 0;
            snap.vsBaseline = step.comparison.latency;
            deliver([snap](JobRunner* r) { emit r->runFinished(snap); });
        };
        measuring(ctx, stop, finished, [&] {
            return targets.empty() ? twb::runPlan(*worker->model, worker->inputs, worker->binding, plan,
                                                  callbacks, stop.get())
                                   : twb::runPlanOnTargets(*worker->model, worker->inputs, worker->binding,
                                                           plan, targets, callbacks, stop.get());
        });
    });
}

void JobRunner::extractGraph(const QString& path) {
    auto worker = m_worker;
    m_measure->start(JobKind::Graph, this, [worker, path](const JobTracker::Context<JobRunner>& ctx) {
        std::shared_ptr<const twb::ModelGraph> graph;
        QString error;
        try {
            const bool torchScript =
                worker->model && worker->model->info().diagnosis.kind != twb::FileKind::Pt2;
            graph = std::make_shared<const twb::ModelGraph>(
                torchScript ? twb::modelGraph(*worker->model)
                            : twb::exportedProgramGraph(path.toStdString()));
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        ctx.deliver([graph, error](JobRunner* r) { emit r->graphExtracted(graph, error); });
    });
}

void JobRunner::divergenceSuperseded(const twb::Report&, bool cancelled) {
    emit divergenceFinished(twb::DivergenceReport{}, cancelled);
}

void JobRunner::diverge(const twb::RunConfig& a, const twb::RunConfig& b) {
    cancel();
    m_stop = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    m_finished = &JobRunner::divergenceSuperseded;
    emit runStarted(0);
    auto worker = m_worker;
    auto stop = m_stop;
    // Where each says it runs, else the first target ticked, else this build.
    const std::string ticked = m_targets.isEmpty() ? std::string() : m_targets.first().toStdString();
    const std::string targetA = a.target.empty() ? ticked : a.target;
    const std::string targetB = b.target.empty() ? ticked : b.target;
    m_measure->start(JobKind::Run, this, [=](const JobTracker::Context<JobRunner>& ctx) {
        twb::DivergenceReport report;
        try {
            if (!worker->model) throw twb::Error("Open a TorchScript model first.");
            report = twb::divergeOnTargets(*worker->model, worker->inputs, worker->binding, a, b, {}, targetA,
                                           targetB, {}, stop.get());
        } catch (const std::exception& e) { // before either side ran: the report says why
            report.errorA = e.what();
            report.summary = e.what();
        }
        const bool cancelled = stop->load();
        ctx.deliver([report = std::move(report), cancelled](JobRunner* r) {
            r->m_running = false;
            emit r->divergenceFinished(report, cancelled);
        });
    });
}

void JobRunner::checkTarget(const QString& target) {
    m_short->start(JobKind::Target, this, [target](const JobTracker::Context<JobRunner>& ctx) {
        bool ok = false;
        QString text;
        QStringList cuda;
        try {
            const twb::TargetCheck check = twb::checkTarget(twb::Target::parse(target.toStdString()));
            text = QString::fromStdString(check.text);
            const twb::EnvironmentInfo& env = check.hello.environment;
            if (env.cudaAvailable) {
                for (const auto& d : env.cudaDevices)
                    cuda << QString::fromStdString(d);
                if (cuda.isEmpty()) cuda << QStringLiteral("cuda");
            }
            ok = true;
        } catch (const twb::Error& e) {
            text = QString::fromUtf8(e.what());
            if (!e.detail().empty()) text += "\n\n" + QString::fromStdString(e.detail()).trimmed();
        }
        // Every check's answer arrives: each is about its own target, and none makes another stale.
        ctx.deliverAlways(
            [target, ok, text, cuda](JobRunner* r) { emit r->targetChecked(target, ok, text, cuda); });
    });
}

void JobRunner::compare(const twb::Value& a, const twb::Value& b, const QString& nameA, const QString& nameB,
                        const twb::CompareOptions& options, const QString& leafPath) {
    postComparison([=] { return compareValues(a, b, nameA, nameB, options, leafPath); });
}

void JobRunner::compareWithFile(const twb::Value& a, const QString& nameA, const QString& file,
                                const twb::CompareOptions& options, const QString& leafPath) {
    postComparison([=] {
        const twb::Value b = twb::readTensorFile(file.toStdString());
        // As torchwb run --reference compares: a file of one tensor meets the one output leaf of its shape.
        const twb::ReferenceComparison c = twb::compareWithReference(a, b, options);
        const bool whole = c.target.reason.empty();
        return snapshotOf(c.outputs, c.target.value, b,
                          whole ? nameA : nameA + QString::fromStdString(c.target.path.substr(3)),
                          QFileInfo(file).fileName(), whole ? leafPath : QString());
    });
}

void JobRunner::postComparison(std::function<ComparisonSnapshot()> make) {
    // On the short-job thread: a comparison never waits behind a measurement.
    m_short->start(JobKind::Compare, this, [make](const JobTracker::Context<JobRunner>& ctx) {
        try {
            const ComparisonSnapshot snap = make();
            ctx.deliver([snap](JobRunner* r) { emit r->compared(snap); });
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            ctx.deliver([message](JobRunner* r) { emit r->compareFailed(message); });
        }
    });
}

void JobRunner::readReport(const QString& path) {
    // Reports add to what is shown: each one opened is read and shown, none supersedes another.
    m_short->join(JobKind::ReadReport, this, [path](const JobTracker::Context<JobRunner>& ctx) {
        try {
            const twb::Report report = twb::readReport(path.toStdString());
            ctx.deliverAlways([report, path](JobRunner* r) { emit r->reportRead(report, path, QString()); });
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            ctx.deliverAlways(
                [path, message](JobRunner* r) { emit r->reportRead(twb::Report{}, path, message); });
        }
    });
}

void JobRunner::exportReport(const twb::Report& report, const QString& jsonPath, const QString& csvPath) {
    // Every export finishes and says so: none supersedes another.
    m_short->join(JobKind::Export, this,
                  [snapshot = report, jsonPath, csvPath](const JobTracker::Context<JobRunner>& ctx) {
                      twb::Report report =
                          snapshot; // completed here: hashing large files belongs off the GUI thread
                      QString error;
                      try {
                          if (report.environment.torchwbVersion.empty())
                              report.environment = twb::currentEnvironment();
                          if (!report.model.path.empty() && report.model.sha256.empty())
                              report.model.sha256 = twb::fileSha256(report.model.path);
                          if (!jsonPath.isEmpty()) twb::writeReport(jsonPath.toStdString(), report);
                          if (!csvPath.isEmpty()) {
                              QSaveFile csv(csvPath);
                              if (!csv.open(QIODevice::WriteOnly))
                                  throw twb::Error(csvPath.toStdString() + ": cannot be written");
                              csv.write(QByteArray::fromStdString(twb::samplesCsv(report)));
                              if (!csv.commit())
                                  throw twb::Error(csvPath.toStdString() + ": cannot be written");
                          }
                      } catch (const std::exception& e) {
                          error = QString::fromUtf8(e.what());
                      }
                      const QString written = jsonPath.isEmpty() ? csvPath : jsonPath;
                      ctx.deliverAlways([written, error](JobRunner* r) { emit r->exported(written, error); });
                  });
}

void JobRunner::writeSession(const QString& path, const twb::Session& session) {
    m_short->join(JobKind::Session, this, [path, session](const JobTracker::Context<JobRunner>& ctx) {
        bool ok = true;
        try {
            QDir().mkpath(QFileInfo(path).absolutePath());
            twb::writeSession(path.toStdString(), session); // written whole or not at all
        } catch (const std::exception&) {
            ok = false;
        }
        ctx.deliverAlways([path, ok](JobRunner* r) { emit r->sessionWritten(path, ok); });
    });
}

void JobRunner::readSession(const QString& path) {
    m_short->start(JobKind::ReadSession, this, [path](const JobTracker::Context<JobRunner>& ctx) {
        try {
            const twb::Session session = twb::readSession(path.toStdString());
            ctx.deliver([session, path](JobRunner* r) { emit r->sessionRead(session, path, QString()); });
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            ctx.deliver([path, message](JobRunner* r) {
                static const twb::Session none; // one empty session, not a temporary (GCC 12 warns of those)
                emit r->sessionRead(none, path, message);
            });
        }
    });
}

void JobRunner::cancel() {
    if (m_stop) m_stop->store(true);
}

} // namespace twbui
