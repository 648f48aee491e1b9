// Worker processes: every way a worker can fail ends its configuration with a record that says which
// phase, which signal or status and what it last wrote, and the plan goes on. Real models that hang or
// allocate too much run in the real worker; a worker that crashes, aborts or breaks the protocol on cue
// is tests/tools/fake_worker, which speaks the protocol as documented.
#include "test_support.h"

#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/plan.h"
#include "twb/worker.h"

#include <QFile>
#include <QObject>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <sys/types.h>

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

struct Bound {
    twb::Model model;
    std::vector<twb::InputSpec> specs;
    twb::InputBinding binding;
};

Bound bind(const std::string& model, const std::string& input) {
    twb::Model m = twb::Model::load(TWB_DATA(model));
    std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA(input))};
    twb::InputBinding b = m.bindInputs(twb::readInputs(specs));
    return {m, specs, b};
}

twb::Plan plan(std::vector<std::string> configs) {
    twb::Plan p;
    for (const auto& c : configs)
        p.configs.push_back(twb::RunConfig::parse(c));
    p.measurement.processes = 2;
    p.measurement.rounds = 2;
    return p;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

class TestWorker : public QObject {
    Q_OBJECT
private slots:
    void handshake();
    void faultsEndAConfiguration_data();
    void faultsEndAConfiguration();
    void aHangingModelTimesOutAndThePlanGoesOn_data();
    void aHangingModelTimesOutAndThePlanGoesOn();
    void sharedWorkersHoldEveryConfigurationOfAProcess();
    void noWorkerToStartFailsEachConfiguration();
    void aSharedWorkerThatDiesEndsOnlyTheConfigurationInFlight();
    void anAllocationBeyondTheLimitIsAnError();
    void killedMidRun();
    void cancelStopsAHungWorker();
    void roundsAreInterleavedAndKept();
    void aSweepWhoseWorkerCrashesStopsWithTheReason();
    void profileOfMultiheadAttentionUnderFreeze_data();
    void profileOfMultiheadAttentionUnderFreeze();
};

void TestWorker::handshake() {
    const twb::WorkerHello hello = twb::checkWorker();
    QCOMPARE(hello.protocol, twb::kWorkerProtocolVersion);
    QVERIFY(!hello.environment.libtorchVersion.empty());
    QVERIFY(hello.environment.hardwareThreads > 0);

    twb::WorkerOptions wrong;
    wrong.command = {env("TWB_FAKE_WORKER"), "hello", "version"};
    try {
        twb::checkWorker(wrong);
        QFAIL("a worker of another protocol version was accepted");
    } catch (const twb::Error& e) {
        QVERIFY2(contains(e.what(), "speaks protocol 999; this torchwb needs " +
                                        std::to_string(twb::kWorkerProtocolVersion)),
                 e.what());
    }
    twb::WorkerOptions missing;
    missing.command = {"/nonexistent/torchwb", "worker"};
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::checkWorker(missing));
}

void TestWorker::faultsEndAConfiguration_data() {
    QTest::addColumn<QString>("when");
    QTest::addColumn<QString>("how");
    QTest::addColumn<QString>("phase");
    QTest::addColumn<int>("signal");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("segfault while loading")
        << "load" << "segv" << "load" << SIGSEGV << 0 << "Segmentation fault";
    QTest::newRow("abort while preparing")
        << "prepare" << "abort" << "preparing" << SIGABRT << 0 << "Aborted";
    QTest::newRow("an illegal instruction while preparing")
        << "prepare" << "ill" << "preparing" << SIGILL << 0 << "Illegal instruction";
    QTest::newRow("exit while measuring")
        << "round" << "exit3" << "measuring" << 0 << 3 << "exited with status 3";
    QTest::newRow("exit without answering")
        << "load" << "silent" << "load" << 0 << 0 << "exited with status 0";
    QTest::newRow("hang while measuring")
        << "round" << "hang" << "measuring" << 0 << 0 << "no answer within 1.0 s";
    QTest::newRow("garbage on stdout")
        << "round" << "garbage" << "measuring" << 0 << 0 << "'Traceback (most recent";
    QTest::newRow("an oversized frame")
        << "load" << "oversize" << "load" << 0 << 0 << "frame payload of 1099511627776";
    QTest::newRow("another protocol")
        << "hello" << "version" << "handshake" << 0 << 0 << "speaks protocol 999";
    QTest::newRow("text for a hello")
        << "hello" << "garbage" << "handshake" << 0 << 0 << "broke the protocol";
}

void TestWorker::faultsEndAConfiguration() {
    QFETCH(QString, when);
    QFETCH(QString, how);
    QFETCH(QString, phase);
    QFETCH(int, signal);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"iters=20,warmup=1"});
    p.measurement.worker.command = {env("TWB_FAKE_WORKER"), when.toStdString(), how.toStdString()};
    p.measurement.worker.roundTimeoutMinimumSeconds = 1;
    p.measurement.worker.roundTimeoutFactor = 1;
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    QCOMPARE(r.runs.size(), std::size_t(1));
    const twb::RunRecord& run = r.runs[0];
    QVERIFY(!run.ok);
    QVERIFY2(contains(run.error, message.toStdString()), run.error.c_str());
    QCOMPARE(QString::fromStdString(run.failedPhase), phase);
    QCOMPARE(run.signal, signal);
    QCOMPARE(run.exitCode, exitCode);
    if (how == "segv" || how == "abort" || how == "ill") {
        QVERIFY2(contains(run.stderrTail, "fake_worker: about to " + how.toStdString()),
                 run.stderrTail.c_str());
        QVERIFY(!run.fix.empty());
    }
    if (how == "ill") QVERIFY2(contains(run.fix, "instructions this CPU lacks"), run.fix.c_str());
    // The report keeps the failure, and reads back with it.
    const twb::Report back = twb::reportFromJson(twb::reportToJson(r));
    QCOMPARE(back.runs[0].failedPhase, run.failedPhase);
    QCOMPARE(back.runs[0].signal, run.signal);
    QCOMPARE(back.runs[0].stderrTail, run.stderrTail);
}

void TestWorker::aHangingModelTimesOutAndThePlanGoesOn_data() {
    QTest::addColumn<bool>("shared");
    QTest::newRow("a worker each") << false;
    QTest::newRow("one worker for both") << true;
}

void TestWorker::aHangingModelTimesOutAndThePlanGoesOn() {
    // A scripted `while True:` never returns from its first call; the configuration after it still runs
    // (in a fresh worker, where both shared the one that was stopped).
    QFETCH(bool, shared);
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"iters=10,warmup=1", "iters=10,warmup=1"});
    p.measurement.shareWorkers = shared;
    p.modelFiles = {TWB_DATA("loop_forever.pt"), ""};
    p.measurement.worker.firstCallTimeoutSeconds = 5;
    // loop_forever takes a tensor of any shape: bind the CNN's input to it.
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    QCOMPARE(r.runs.size(), std::size_t(2));
    QVERIFY(!r.runs[0].ok);
    QVERIFY2(contains(r.runs[0].error, "no answer within 5.0 s during first call"), r.runs[0].error.c_str());
    QCOMPARE(r.runs[0].failedPhase, std::string("first call"));
    QVERIFY(contains(r.runs[0].fix, "--timeout"));
    QVERIFY2(r.runs[1].ok, r.runs[1].error.c_str());
    QCOMPARE(r.runs[1].samplesNs.size(), std::size_t(10));
}

namespace {

// The fake worker's log: for each process, the slots it was asked to load, in order.
std::map<int, std::vector<int>> loadsByProcess(const QString& log) {
    QFile f(log);
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::map<int, std::vector<int>> out;
    static const QRegularExpression load(QStringLiteral("^(\\d+) .*\"type\":\"load\".*\"slot\":(\\d+)"));
    for (const QByteArray& line : f.readAll().split('\n')) {
        const auto m = load.match(QString::fromUtf8(line));
        if (m.hasMatch()) out[m.captured(1).toInt()].push_back(m.captured(2).toInt());
    }
    return out;
}

} // namespace

void TestWorker::sharedWorkersHoldEveryConfigurationOfAProcess() {
    // Two configurations in one real worker per process: each measured in every round, their rounds
    // paired, the report saying how they were measured and what that means for memory.
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"iters=24,warmup=2", "jit=freeze,iters=24,warmup=2"});
    p.measurement.processes = 3;
    p.measurement.shareWorkers = true;
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    QCOMPARE(r.runs.size(), std::size_t(2));
    for (const auto& run : r.runs) {
        QVERIFY2(run.ok, run.error.c_str());
        QCOMPARE(run.measurement, std::string("interleaved, shared workers"));
        QCOMPARE(run.samplesNs.size(), std::size_t(24));
        QCOMPARE(run.processes, 3);
        QCOMPARE(run.rounds.size(), std::size_t(6));
        QVERIFY(std::any_of(run.warnings.begin(), run.warnings.end(), [](const std::string& w) {
            return contains(w, "peak memory is theirs together");
        }));
        QVERIFY(!run.outputs.empty());
    }
    for (std::size_t k = 0; k < 6; ++k) {
        QCOMPARE(r.runs[0].rounds[k].process, r.runs[1].rounds[k].process);
        QCOMPARE(r.runs[0].rounds[k].round, r.runs[1].rounds[k].round);
    }
    QCOMPARE(r.comparisons.size(), std::size_t(1));
    QVERIFY(r.comparisons[0].outputs.allclose);

    // The same plan against the fake worker, which logs who served what: one process per slot, holding both.
    QTemporaryDir dir;
    const QString log = dir.filePath("requests.log");
    qputenv("TWB_FAKE_LOG", log.toUtf8());
    p.measurement.worker.command = {env("TWB_FAKE_WORKER"), "worker"};
    const twb::Report fake = twb::runPlan(b.model, b.specs, b.binding, p);
    qunsetenv("TWB_FAKE_LOG");
    QVERIFY2(fake.runs.size() == 2 && fake.runs[0].ok && fake.runs[1].ok, fake.runs[0].error.c_str());
    const auto loads = loadsByProcess(log);
    QCOMPARE(loads.size(), std::size_t(3));
    for (const auto& [pid, loaded] : loads)
        QCOMPARE(loaded, (std::vector<int>{0, 1}));
}

void TestWorker::noWorkerToStartFailsEachConfiguration() {
    // No torchwb to start (none named, none beside the program, none on the PATH): every configuration
    // fails saying so, in either mode, and the plan returns rather than throws.
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    const QByteArray worker = qgetenv("TWB_WORKER"), path = qgetenv("PATH");
    qunsetenv("TWB_WORKER");
    qputenv("PATH", "/nonexistent");
    const auto restore = qScopeGuard([&] {
        qputenv("TWB_WORKER", worker);
        qputenv("PATH", path);
    });
    for (bool shared : {false, true}) {
        twb::Plan p = plan({"iters=10,warmup=1", "jit=freeze,iters=10,warmup=1"});
        p.measurement.shareWorkers = shared;
        const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
        QCOMPARE(r.runs.size(), std::size_t(2));
        for (const auto& run : r.runs) {
            QVERIFY(!run.ok);
            QVERIFY2(contains(run.error, "torchwb"), run.error.c_str());
        }
    }
}

void TestWorker::aSharedWorkerThatDiesEndsOnlyTheConfigurationInFlight() {
    // The worker dies of a segmentation fault in the middle configuration's first round. That one fails
    // with the signal; the two others go on in a fresh worker and are measured in every round.
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p =
        plan({"name=first,iters=20,warmup=1", "name=crash,iters=20,warmup=1", "name=last,iters=20,warmup=1"});
    p.measurement.shareWorkers = true;
    p.measurement.worker.command = {env("TWB_FAKE_WORKER"), "worker"};
    QTemporaryDir dir;
    const QString log = dir.filePath("requests.log");
    qputenv("TWB_FAKE_LOG", log.toUtf8());
    qputenv("TWB_FAKE_FAULT", "round segv \"slot\":1,");
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    qunsetenv("TWB_FAKE_FAULT");
    qunsetenv("TWB_FAKE_LOG");
    QCOMPARE(r.runs.size(), std::size_t(3));
    QVERIFY(!r.runs[1].ok);
    QCOMPARE(r.runs[1].signal, SIGSEGV);
    QCOMPARE(r.runs[1].failedPhase, std::string("measuring"));
    QVERIFY2(contains(r.runs[1].stderrTail, "fake_worker: about to segv"), r.runs[1].stderrTail.c_str());
    for (int i : {0, 2}) {
        QVERIFY2(r.runs[std::size_t(i)].ok, r.runs[std::size_t(i)].error.c_str());
        QCOMPARE(r.runs[std::size_t(i)].rounds.size(), std::size_t(4)); // 2 processes × 2 rounds
        QCOMPARE(r.runs[std::size_t(i)].processes, 2);
    }
    // The process that died held all three; the one started in its place, and the next process's, the two
    // left.
    const auto loads = loadsByProcess(log);
    if (loads.size() != 3) {
        QFile f(log);
        if (f.open(QIODevice::ReadOnly)) qInfo("%s", f.readAll().constData());
    }
    QCOMPARE(loads.size(), std::size_t(3));
    int all = 0, two = 0;
    for (const auto& [pid, loaded] : loads) {
        all += loaded == std::vector<int>{0, 1, 2};
        two += loaded == std::vector<int>{0, 2};
    }
    QCOMPARE(all, 1);
    QCOMPARE(two, 2);
}

void TestWorker::anAllocationBeyondTheLimitIsAnError() {
#ifdef TWB_ASAN
    QSKIP("AddressSanitizer maps terabytes of shadow memory: an address-space limit cannot hold under it");
#endif
    // 4 GiB asked for under a 3 GiB address-space limit: LibTorch's allocator fails, the worker says so.
    Bound b = bind("greedy_alloc.pt", "four.npy");
    twb::Plan p = plan({"iters=3,warmup=1"});
    p.measurement.quick = true;
    p.measurement.worker.memoryLimitBytes = int64_t(3) << 30;
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    QCOMPARE(r.runs.size(), std::size_t(1));
    QVERIFY(!r.runs[0].ok);
    QVERIFY2(contains(r.runs[0].error, "memory"), r.runs[0].error.c_str());
    QVERIFY2(contains(r.runs[0].fix, "--memory-limit"), r.runs[0].fix.c_str());
}

void TestWorker::killedMidRun() {
    // Each worker writes its pid first; the second configuration's worker is killed while it measures: the
    // one worker that is running while the plan waits for that configuration's round (the others sleep
    // in a read).
    QTemporaryDir dir;
    const std::string pids = dir.filePath("pids").toStdString();
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"seconds=2", "jit=optimize,seconds=2"});
    p.measurement.worker.command = {"/bin/sh", "-c", "echo $$ >> \"$1\"; exec \"$0\" worker",
                                    env("TWB_WORKER"), pids};
    bool killed = false;
    twb::PlanCallbacks callbacks;
    callbacks.progress = [&](int index, const twb::Progress& progress) {
        if (!killed && index == 1 && progress.phase == "measuring") {
            std::ifstream in(pids);
            std::vector<pid_t> running;
            for (pid_t pid = 0; in >> pid;) {
                std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
                std::string skip, state;
                stat >> skip >> skip >> state;
                if (state == "R") running.push_back(pid);
            }
            if (running.size() == 1) {
                ::kill(running[0], SIGKILL);
                killed = true;
            }
        }
        return true;
    };
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p, callbacks);
    QVERIFY(killed);
    QCOMPARE(r.runs.size(), std::size_t(2));
    QVERIFY2(r.runs[0].ok, r.runs[0].error.c_str());
    QCOMPARE(r.runs[0].processes, 2);
    QVERIFY(!r.runs[1].ok);
    QCOMPARE(r.runs[1].signal, SIGKILL);
    QCOMPARE(r.runs[1].failedPhase, std::string("measuring"));
    QVERIFY2(contains(r.runs[1].error, "killed by signal 9"), r.runs[1].error.c_str());
}

void TestWorker::cancelStopsAHungWorker() {
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"iters=10,warmup=1"});
    p.modelFiles = {TWB_DATA("loop_forever.pt")};
    std::atomic<bool> stop{false};
    twb::PlanCallbacks callbacks;
    int ticks = 0;
    callbacks.progress = [&](int, const twb::Progress&) {
        if (++ticks == 5) stop = true; // half a second into a first call that never ends
        return true;
    };
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p, callbacks, &stop);
    QVERIFY(stop.load());
    for (const auto& run : r.runs) {
        QVERIFY(run.cancelled);
        QVERIFY(run.failedPhase.empty());
    }
}

void TestWorker::roundsAreInterleavedAndKept() {
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::Plan p = plan({"iters=24,warmup=2", "jit=freeze,iters=24,warmup=2"});
    p.measurement.processes = 3;
    p.measurement.rounds = 2;
    const twb::Report r = twb::runPlan(b.model, b.specs, b.binding, p);
    QCOMPARE(r.runs.size(), std::size_t(2));
    for (const auto& run : r.runs) {
        QVERIFY2(run.ok, run.error.c_str());
        QCOMPARE(run.samplesNs.size(), std::size_t(24));
        QCOMPARE(run.processes, 3);
        QCOMPARE(run.measurement, std::string("interleaved"));
        QCOMPARE(run.rounds.size(), std::size_t(6));
        int64_t next = 0;
        for (const auto& s : run.rounds) {
            QCOMPARE(s.begin, next);
            QCOMPARE(s.count, int64_t(4));
            next += s.count;
        }
        QCOMPARE(run.stats.processMedians.size(), std::size_t(3));
        QVERIFY(run.stats.ciMethod.rfind("hierarchical bootstrap", 0) == 0);
        QVERIFY(run.stats.medianCiLow <= run.stats.median && run.stats.median <= run.stats.medianCiHigh);
        QVERIFY(!run.outputs.empty());
    }
    QCOMPARE(r.comparisons.size(), std::size_t(1));
    QVERIFY(r.comparisons[0].outputs.allclose);
    QVERIFY(!r.probe.gemmNs.empty() && r.probe.gemmNs.size() == r.probe.copyNs.size());
    const twb::Report back = twb::reportFromJson(twb::reportToJson(r));
    QCOMPARE(back.runs[1].rounds.size(), std::size_t(6));
    QCOMPARE(back.runs[1].rounds[5].process, 2);
    QCOMPARE(back.probe.gemmNs, r.probe.gemmNs);
}

void TestWorker::aSweepWhoseWorkerCrashesStopsWithTheReason() {
    Bound b = bind("cnn_scripted.pt", "cnn_x.npy");
    twb::SweepOptions options;
    options.axes = {twb::SweepAxis::parse("jit=off,optimize")};
    options.budgetSeconds = 2;
    twb::WorkerOptions crashing;
    crashing.command = {env("TWB_FAKE_WORKER"), "sweep", "segv"};
    const twb::SweepResult r = twb::runSweep(b.model, b.specs, {}, options, {}, nullptr, crashing);
    QVERIFY(!r.cancelled);
    QCOMPARE(r.recommended, -1);
    QVERIFY2(contains(r.recommendation, "The sweep stopped: the worker was killed by signal 11"),
             r.recommendation.c_str());
    // And the real worker sweeps the same model to a recommendation.
    const twb::SweepResult real = twb::runSweep(b.model, b.specs, {}, options);
    QVERIFY2(real.recommended >= 0, real.recommendation.c_str());
}

void TestWorker::profileOfMultiheadAttentionUnderFreeze_data() {
    QTest::addColumn<QString>("jit");
    QTest::newRow("freeze") << "freeze";
    QTest::newRow("optimize") << "optimize";
}

void TestWorker::profileOfMultiheadAttentionUnderFreeze() {
    // LibTorch's stack capture has crashed here (InterpreterStateImpl::callstack); the profile must come
    // back all the same, without stacks if it has to.
    QFETCH(QString, jit);
    std::optional<twb::Model> loaded;
    try {
        loaded = twb::Model::load(TWB_DATA("mha_scripted.pt"));
    } catch (const twb::Error& e) {
        // LibTorch before 2.0 has no scaled_dot_product_attention, which 2.13's MultiheadAttention calls:
        // the load doctor says so, and the same model as PyTorch 1.13 scripted it is profiled instead.
        QVERIFY2(contains(e.what(), "aten::scaled_dot_product_attention (added in PyTorch 2.0)"), e.what());
        loaded = twb::Model::load(TWB_DATA("mha_scripted_113.pt"));
    }
    twb::Model m = *loaded;
    std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("mha_inputs.pt"))};
    twb::InputBinding binding = m.bindInputs(twb::readInputs(specs));
    QVERIFY2(binding.ok, binding.error.c_str());
    twb::Plan p;
    p.configs = {twb::RunConfig::parse("jit=" + jit.toStdString() + ",iters=5,warmup=3")};
    p.profile = true;
    p.profileOptions.calls = 3;
    p.profileOptions.measurePeak = false;
    std::vector<twb::Profile> profiles;
    twb::PlanCallbacks callbacks;
    callbacks.stepFinished = [&](const twb::PlanStep& s) { profiles.push_back(s.profile); };
    const twb::Report r = twb::runPlan(m, specs, binding, p, callbacks);
    QCOMPARE(profiles.size(), std::size_t(1));
    QVERIFY2(r.runs[0].ok, r.runs[0].error.c_str());
    QVERIFY2(profiles[0].ok, profiles[0].error.c_str());
    QVERIFY(!profiles[0].operators.empty());
    bool lost = false;
    for (const auto& n : profiles[0].notes)
        lost = lost || contains(n, "without TorchScript stacks");
    qInfo("stacks %s", lost ? "lost: the capture crashed and the profile was retried without them" : "kept");
}

TWB_TEST_MAIN(TestWorker)
#include "tst_worker.moc"
