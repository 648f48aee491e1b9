// Sweeps: axes and the grid with skip reasons, the Pareto front and the elimination rule on hand-made
// points, the recommendation never taking a point whose outputs differ, and real sweeps: racing on a
// model whose answer is known, batch resizing of generated and file inputs, streams, the report.
#include "test_support.h"

#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/report.h"
#include "twb/runtime.h"
#include "twb/sweep.h"

#include <random>

class TestSweep : public QObject {
    Q_OBJECT
private slots:
    void axesParse();
    void gridExpandsWithSkipReasons();
    void paretoFrontOnHandMadePoints();
    void clearlyWorseNeedsIntervalsApart();
    void recommendationSkipsDifferingOutputs();
    void racingEliminatesTheSlowAndKeepsTheBest();
    void wrongOutputsAreNeverRecommended();
    void batchAxisResizesGeneratedAndFileInputs();
    void inputsWithoutABatchAreSkipped();
    void streamsShareOneModel();
    void cancelKeepsWhatWasMeasured();
    void sweepReportRoundTrips();
};

namespace {

twb::SweepPoint measured(const std::string& id, double centreNs, double throughput, uint64_t seed,
                         bool outputsOk = true) {
    twb::SweepPoint p;
    p.id = id;
    p.config.name = id;
    p.status = twb::PointStatus::Measured;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, centreNs * 0.01);
    for (int i = 0; i < 300; ++i)
        p.samplesNs.push_back(centreNs + noise(rng));
    p.stats = twb::computeStats(p.samplesNs);
    p.items = 1;
    p.throughput = throughput;
    p.outputsChecked = true;
    p.outputsOk = outputsOk;
    return p;
}

const twb::SweepPoint* byId(const twb::SweepResult& r, const std::string& id) {
    for (const auto& p : r.points)
        if (p.id == id) return &p;
    return nullptr;
}

twb::SweepOptions options(std::vector<std::string> axes, double budget) {
    twb::SweepOptions o;
    for (const auto& a : axes)
        o.axes.push_back(twb::SweepAxis::parse(a));
    o.budgetSeconds = budget;
    return o;
}

} // namespace

void TestSweep::axesParse() {
    const auto a = twb::SweepAxis::parse("threads=1,2,4");
    QCOMPARE(a.key, std::string("threads"));
    QCOMPARE(a.values, (std::vector<std::string>{"1", "2", "4"}));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::SweepAxis::parse("jit=fast"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::SweepAxis::parse("batch=0"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::SweepAxis::parse("colour=red"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::SweepAxis::parse("threads"));
    QCOMPARE(twb::parseObjective("throughput"), twb::SweepObjective::Throughput);
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::parseObjective("speed"));
}

void TestSweep::gridExpandsWithSkipReasons() {
    std::vector<twb::SweepAxis> axes{
        twb::SweepAxis::parse("jit=off,optimize"), twb::SweepAxis::parse("threads=1,4"),
        twb::SweepAxis::parse("streams=1,2"), twb::SweepAxis::parse("device=cpu,cuda")};
    const auto points = twb::expandGrid(axes, twb::RunConfig(), 4, false);
    QCOMPARE(points.size(), std::size_t(16));
    QCOMPARE(points.front().id, std::string("jit=off,threads=1,streams=1,device=cpu"));
    QCOMPARE(points.front().config.jit, twb::JitMode::Off);
    QCOMPARE(points[8].config.jit, twb::JitMode::Optimize);
    int runnable = 0;
    for (const auto& p : points) {
        if (p.status != twb::PointStatus::Skipped) {
            ++runnable;
            continue;
        }
        if (p.config.device == "cuda")
            QVERIFY2(p.reason.find("CUDA") != std::string::npos, p.reason.c_str());
        else
            QVERIFY2(p.reason.find("above this machine's 4 hardware threads") != std::string::npos,
                     p.reason.c_str());
    }
    QCOMPARE(runnable, 2 * 3); // cpu, and threads × streams ≤ 4: (1,1) (1,2) (4,1)
    // The default space has the JIT modes, 1 and all threads, and two streams.
    const auto defaults = twb::defaultAxes(8);
    QCOMPARE(defaults.size(), std::size_t(3));
    QCOMPARE(defaults[1].values, (std::vector<std::string>{"1", "8"}));
}

void TestSweep::paretoFrontOnHandMadePoints() {
    std::vector<twb::SweepPoint> p{measured("a", 1e6, 1000, 1), measured("b", 2e6, 4000, 2),
                                   measured("c", 2e6, 900, 3), measured("d", 0.5e6, 500, 4)};
    p.push_back(measured("skipped", 0.1e6, 1e6, 5));
    p.back().status = twb::PointStatus::Skipped; // no measurement: never on the front
    QCOMPARE(twb::paretoFront(p), (std::vector<int>{0, 1, 3}));
    p[0].peakRssBytes = 100;
    p[1].peakRssBytes = 100;
    p[2].peakRssBytes = 10; // dominated on latency and throughput, but the leanest
    p[3].peakRssBytes = 100;
    QCOMPARE(twb::paretoFront(p, true), (std::vector<int>{0, 1, 2, 3}));
}

void TestSweep::clearlyWorseNeedsIntervalsApart() {
    const auto best = measured("best", 1e6, 1000, 1);
    QVERIFY(twb::clearlyWorse(measured("slow", 2e6, 500, 2), best, twb::SweepObjective::Latency));
    QVERIFY(!twb::clearlyWorse(measured("close", 1.02e6, 980, 3), best, twb::SweepObjective::Latency));
    QVERIFY(twb::clearlyWorse(measured("slow", 2e6, 500, 2), best, twb::SweepObjective::Throughput));
    // Slower per request but more items a second: not worse for throughput.
    QVERIFY(!twb::clearlyWorse(measured("batched", 2e6, 4000, 4), best, twb::SweepObjective::Throughput));
}

void TestSweep::recommendationSkipsDifferingOutputs() {
    twb::SweepResult r;
    r.objective = twb::SweepObjective::Latency;
    r.points = {measured("fast but wrong", 0.5e6, 2000, 1, false), measured("right", 1e6, 1000, 2),
                measured("slower", 1.5e6, 700, 3)};
    twb::SweepPoint lib = measured("LibTorch's default", 3e6, 333, 4);
    lib.reference = true;
    lib.referenceKind = twb::SweepReference::LibTorchDefault;
    lib.referenceName = "LibTorch's default";
    r.points.push_back(lib);
    twb::recommend(r);
    QCOMPARE(r.recommended, 1);
    QCOMPARE(r.runnerUp, 2);
    QVERIFY2(r.recommendation.find("Fastest for latency") != std::string::npos, r.recommendation.c_str());
    QVERIFY2(r.recommendation.find("3.0× faster than LibTorch's default, 95% CI") != std::string::npos,
             r.recommendation.c_str());
    QVERIFY(r.vsLibtorchDefault.significant);
    QVERIFY(r.recommendation.find("outputs allclose") != std::string::npos);
    // Throughput under a p99 limit.
    r.objective = twb::SweepObjective::Throughput;
    r.maxLatencyMs = 1.2;
    twb::recommend(r);
    QCOMPARE(r.recommended, 1); // "slower" has more latency than allowed, "fast but wrong" wrong outputs
    r.maxLatencyMs = 0.1;
    twb::recommend(r);
    QCOMPARE(r.recommended, -1);
    QVERIFY(r.recommendation.find("No configuration can be recommended") != std::string::npos);
    // A reference that wins is named as what it is, not compared with itself.
    r.maxLatencyMs = 0;
    r.objective = twb::SweepObjective::Latency;
    r.points.pop_back();
    lib = measured("LibTorch's default", 0.8e6, 1250, 5);
    lib.reference = true;
    lib.referenceKind = twb::SweepReference::LibTorchDefault;
    lib.referenceName = "LibTorch's default";
    r.points.push_back(lib);
    twb::recommend(r);
    QCOMPARE(r.recommended, 3);
    QVERIFY2(r.recommendation.find("Fastest for latency: LibTorch's default (") == 0,
             r.recommendation.c_str());
    QVERIFY2(r.recommendation.find("(no measurement of the workbench's default); outputs allclose") !=
                 std::string::npos,
             r.recommendation.c_str());
    QVERIFY2(r.recommendation.find("faster than LibTorch's default") == std::string::npos,
             r.recommendation.c_str());
}

void TestSweep::racingEliminatesTheSlowAndKeepsTheBest() {
    // folding.pt recomputes a weight-only product chain on every call unless the JIT folds it: optimize is
    // far faster on every build, and jit off is the loser racing must drop.
    const twb::Model model = twb::Model::load(TWB_DATA("folding.pt"));
    const std::vector<twb::InputSpec> inputs{twb::InputSpec::parseGenerated("normal:2x10:seed=1")};
    std::vector<std::string> seen;
    twb::SweepCallbacks callbacks;
    callbacks.pointFinished = [&](const twb::SweepPoint& p) { seen.push_back(p.id); };
    const twb::SweepResult r =
        twb::runSweep(model, inputs, {}, options({"jit=off,optimize", "threads=1"}, 6), callbacks);
    const auto* off = byId(r, "jit=off,threads=1");
    const auto* opt = byId(r, "jit=optimize,threads=1");
    QVERIFY(off && opt);
    QCOMPARE(off->status, twb::PointStatus::Eliminated);
    QVERIFY2(off->reason.find("clearly slower than jit=optimize") != std::string::npos, off->reason.c_str());
    QCOMPARE(opt->status, twb::PointStatus::Measured);
    QVERIFY(opt->rounds >= 2); // the survivor got the rest of the budget
    QCOMPARE(off->rounds, 1);
    QVERIFY(r.recommended >= 0);
    QCOMPARE(r.points[std::size_t(r.recommended)].id, std::string("jit=optimize,threads=1"));
    QVERIFY(r.vsLibtorchDefault.speedup > 1.5);
    QVERIFY(!seen.empty());
    // The references are always measured.
    QVERIFY(byId(r, "LibTorch's default") && byId(r, "LibTorch's default")->stats.count > 0);
    QVERIFY(byId(r, "the workbench's default") && byId(r, "the workbench's default")->stats.count > 0);
    qInfo("budget 6 s, measured for %.1f s: %s", r.elapsedSeconds, r.recommendation.c_str());
}

void TestSweep::wrongOutputsAreNeverRecommended() {
    // Inputs beyond float16's largest value (65504) are inf once cast: float32 stays finite.
    const twb::Model model = twb::Model::load(TWB_DATA("mlp_traced.pt"));
    const std::vector<twb::InputSpec> inputs{
        twb::InputSpec::parseGenerated("uniform:4x10:low=1e5:high=2e5:seed=2")};
    const twb::SweepResult r =
        twb::runSweep(model, inputs, {}, options({"dtype=float32,float16,bfloat16", "threads=1"}, 4));
    const auto* half = byId(r, "dtype=float16,threads=1");
    QVERIFY(half);
    QVERIFY2(half->status == twb::PointStatus::Failed || (half->outputsChecked && !half->outputsOk),
             (twb::pointStatusName(half->status) + ": " + half->reason).c_str());
    QVERIFY(r.recommended >= 0);
    QVERIFY(r.points[std::size_t(r.recommended)].config.dtype != "float16");
    const auto* bf = byId(r, "dtype=bfloat16,threads=1");
    QVERIFY(bf);
    if (bf->outputsChecked) QCOMPARE(bf->atol, 1e-2); // reduced precision: the looser default, shown
}

void TestSweep::batchAxisResizesGeneratedAndFileInputs() {
    const twb::Model model = twb::Model::load(TWB_DATA("mlp_traced.pt"));
    for (const auto& input : {twb::InputSpec::parseGenerated("normal:2x10:seed=3"),
                              twb::InputSpec::parse(TWB_DATA("mlp_x.npy"))}) {
        // A budget every point fits in: the first point here bears the process's first calls (about a
        // second), and a point that cannot finish inside the budget is not started.
        const twb::SweepResult r = twb::runSweep(model, {input}, {}, options({"batch=1,5", "threads=1"}, 6));
        for (const char* id : {"batch=1,threads=1", "batch=5,threads=1"}) {
            const auto* p = byId(r, id);
            QVERIFY2(p && p->status != twb::PointStatus::Skipped && p->status != twb::PointStatus::Failed,
                     p ? p->reason.c_str() : id);
            QVERIFY2(p->outputsChecked && p->outputsOk, (p->outputs.summary + p->reason).c_str());
        }
        QCOMPARE(byId(r, "batch=1,threads=1")->items, int64_t(1));
        QCOMPARE(byId(r, "batch=5,threads=1")->items, int64_t(5));  // mlp_x.npy has 2 rows: repeated
        QCOMPARE(byId(r, "LibTorch's default")->items, int64_t(2)); // as given
    }
}

void TestSweep::inputsWithoutABatchAreSkipped() {
    const twb::Model model = twb::Model::load(TWB_DATA("two_inputs.pt"));
    const std::vector<twb::InputSpec> inputs{twb::InputSpec::parseGenerated("x=normal:3x4"),
                                             twb::InputSpec::parseGenerated("y=normal:1x4")};
    const twb::SweepResult r = twb::runSweep(model, inputs, {}, options({"batch=2", "threads=1"}, 2));
    const auto* p = byId(r, "batch=2,threads=1");
    QVERIFY(p);
    QCOMPARE(p->status, twb::PointStatus::Skipped);
    QVERIFY2(p->reason.find("disagree on their first dimension (3 and 1)") != std::string::npos,
             p->reason.c_str());
}

void TestSweep::streamsShareOneModel() {
    if (twb::threadSettings().hardware < 2) QSKIP("one hardware thread: two streams would be skipped");
    const twb::Model model = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const std::vector<twb::InputSpec> inputs{twb::InputSpec::parseGenerated("normal:1x3x32x32:seed=4")};
    twb::SweepOptions o = options({"streams=1,2", "threads=1"}, 4);
    o.objective = twb::SweepObjective::Throughput;
    const twb::SweepResult r = twb::runSweep(model, inputs, {}, o);
    const auto* one = byId(r, "streams=1,threads=1");
    const auto* two = byId(r, "streams=2,threads=1");
    QVERIFY(one && two);
    QVERIFY2(two->status == twb::PointStatus::Measured || two->status == twb::PointStatus::Eliminated,
             two->reason.c_str());
    QVERIFY(two->throughput > 0 && one->throughput > 0);
    QVERIFY2(two->outputsChecked && two->outputsOk, two->outputs.summary.c_str());
    // Figures, not an assertion: a shared 2-core machine decides whether two streams pay.
    qInfo("throughput: 1 stream %.0f items/s, 2 streams %.0f items/s (%.2f×)", one->throughput,
          two->throughput, two->throughput / one->throughput);
}

void TestSweep::cancelKeepsWhatWasMeasured() {
    const twb::Model model = twb::Model::load(TWB_DATA("mlp_traced.pt"));
    const std::vector<twb::InputSpec> inputs{twb::InputSpec::parseGenerated("normal:2x10")};
    std::atomic<bool> stop{false};
    int finished = 0;
    twb::SweepCallbacks callbacks;
    callbacks.pointFinished = [&](const twb::SweepPoint&) {
        if (++finished == 2) stop = true; // cancelled after the second point
    };
    const twb::SweepResult r = twb::runSweep(
        model, inputs, {}, options({"jit=off,freeze,optimize", "threads=1"}, 30), callbacks, &stop);
    QVERIFY(r.cancelled);
    int measured = 0, notReached = 0;
    for (const auto& p : r.points) {
        measured += p.stats.count > 0;
        notReached += p.status == twb::PointStatus::NotReached;
    }
    QCOMPARE(measured, 2);
    QVERIFY(notReached >= 1);
    for (const auto& p : r.points)
        if (p.status == twb::PointStatus::NotReached)
            QVERIFY2(p.reason.find("cancelled") != std::string::npos, p.reason.c_str());
}

void TestSweep::sweepReportRoundTrips() {
    twb::Report report;
    report.hasSweep = true;
    report.sweep.axes = {twb::SweepAxis::parse("jit=off,optimize")};
    report.sweep.points = {measured("jit=off", 2e6, 500, 1), measured("jit=optimize", 1e6, 1000, 2)};
    report.sweep.points[0].status = twb::PointStatus::Eliminated;
    report.sweep.points[0].reason = "clearly slower";
    twb::recommend(report.sweep);
    const twb::Report back = twb::reportFromJson(twb::reportToJson(report));
    QVERIFY(back.hasSweep);
    QCOMPARE(back.sweep.points.size(), std::size_t(2));
    QCOMPARE(back.sweep.points[0].status, twb::PointStatus::Eliminated);
    QCOMPARE(back.sweep.points[0].reason, std::string("clearly slower"));
    QCOMPARE(back.sweep.points[1].samplesNs, report.sweep.points[1].samplesNs);
    QCOMPARE(back.sweep.points[1].stats.median, report.sweep.points[1].stats.median);
    QCOMPARE(back.sweep.recommended, report.sweep.recommended);
    QCOMPARE(back.sweep.recommendation, report.sweep.recommendation);
    QCOMPARE(back.sweep.axes.front().values, report.sweep.axes.front().values);

    // The references are known by what they are, not by name; reports from before that say so by name.
    twb::SweepPoint lib = measured("LibTorch's default", 3e6, 333, 4);
    lib.reference = true;
    lib.referenceKind = twb::SweepReference::LibTorchDefault;
    lib.referenceName = "LibTorch's default";
    report.sweep.points.push_back(lib);
    const std::string json = twb::reportToJson(report);
    QCOMPARE(twb::reportFromJson(json).sweep.points.back().referenceKind,
             twb::SweepReference::LibTorchDefault);
    std::string older = json;
    const std::string field = "\"reference_kind\": \"libtorch_default\"";
    QVERIFY2(older.find(field) != std::string::npos, json.c_str());
    older.replace(older.find(field), field.size(), "\"reference_kind_unknown\": 0");
    QCOMPARE(twb::reportFromJson(older).sweep.points.back().referenceKind,
             twb::SweepReference::LibTorchDefault);
    QCOMPARE(twb::reportFromJson(older).sweep.points.front().referenceKind, twb::SweepReference::None);
}

TWB_TEST_MAIN(TestSweep)
#include "tst_sweep.moc"
