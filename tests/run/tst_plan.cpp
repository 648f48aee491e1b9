// Core's plan runner: configurations run in order, each compared with the first (or with a
// reference file), and one report with the fingerprints; the regression gate over two reports.
#include "test_support.h"

#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/plan.h"

#include <random>

class TestPlan : public QObject {
    Q_OBJECT
private slots:
    void runsComparesAndFingerprints();
    void comparesWithAReferenceFile();
    void aReferenceMeetsTheLeafItWasSavedFrom();
    void cancelKeepsWhatWasMeasured();
    void regressionGate();
    void matchingRunsByLabelThenPosition();
};

namespace {
using twbtest::Loaded;
Loaded loadCnn() {
    return twbtest::load("cnn_scripted.pt", "cnn_x.npy");
}
twb::RunRecord fakeRun(const std::string& label, double centreNs, uint64_t seed) {
    twb::RunRecord r;
    r.label = label;
    r.ok = true;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, centreNs * 0.01);
    for (int i = 0; i < 200; ++i)
        r.samplesNs.push_back(centreNs + noise(rng));
    return r;
}
} // namespace

void TestPlan::runsComparesAndFingerprints() {
    Loaded l = loadCnn();
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("jit=off,iters=20,warmup=2"),
                    twb::RunConfig::parse("jit=optimize,iters=20,warmup=2")};
    std::vector<int> steps;
    twb::PlanCallbacks callbacks;
    callbacks.stepFinished = [&](const twb::PlanStep& s) {
        steps.push_back(s.index);
        QCOMPARE(s.count, 2);
        QVERIFY(s.record.ok);
        QCOMPARE(s.hasComparison, s.index == 1);
    };
    const twb::Report r = twb::runPlan(l.model, l.specs, l.binding, plan, callbacks);
    QCOMPARE(steps, (std::vector<int>{0, 1}));
    QCOMPARE(r.runs.size(), std::size_t(2));
    QCOMPARE(r.runs[1].samplesNs.size(), std::size_t(20));
    QCOMPARE(r.comparisons.size(), std::size_t(1));
    QCOMPARE(r.comparisons[0].candidate, 1);
    QVERIFY(r.comparisons[0].hasOutputs && r.comparisons[0].outputs.allclose);
    QVERIFY(!r.comparisons[0].latency.verdict.empty());
    QCOMPARE(r.model.sha256, twb::fileSha256(TWB_DATA("cnn_scripted.pt")));
    QCOMPARE(r.model.className, std::string("SmallCnn"));
    QCOMPARE(r.inputs.size(), std::size_t(1));
    QCOMPARE(r.inputs[0].argument, std::string("x"));
    QCOMPARE(r.inputs[0].shape, (std::vector<int64_t>{1, 3, 12, 16}));
    QCOMPARE(r.inputs[0].dtype, std::string("float32"));
    QCOMPARE(r.inputs[0].sha256, twb::fileSha256(TWB_DATA("cnn_x.npy")));
    QVERIFY(!r.environment.libtorchVersion.empty() && !r.environment.libtorchBuild.source.empty());
}

void TestPlan::comparesWithAReferenceFile() {
    Loaded l = loadCnn();
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("iters=3,warmup=1"),
                    twb::RunConfig::parse("jit=freeze,iters=3,warmup=1")};
    plan.referenceFile = TWB_DATA("cnn_expected.npy");
    const twb::Report r = twb::runPlan(l.model, l.specs, l.binding, plan);
    QCOMPARE(r.comparisons.size(), std::size_t(2)); // each run against Python's output
    for (const auto& c : r.comparisons)
        QVERIFY(c.outputs.allclose);
    plan.referenceFile = TWB_DATA("cnn_state_dict_expected.npy"); // another model's output
    const twb::Report wrong = twb::runPlan(l.model, l.specs, l.binding, plan);
    QVERIFY(!wrong.comparisons[0].outputs.allclose);
    plan.referenceFile = "/nonexistent/reference.npy";
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::runPlan(l.model, l.specs, l.binding, plan));
}

// A reference of one tensor for a model of several outputs meets the leaf of its shape, as torchwb run
// --reference compares; when two leaves have that shape, the comparison says so instead of comparing.
void TestPlan::aReferenceMeetsTheLeafItWasSavedFrom() {
    twb::Model model = twb::Model::load(TWB_DATA("two_inputs.pt"));
    const std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("two_inputs_xy.npz")),
                                            twb::InputSpec::parse("scale=2.5")};
    const twb::InputBinding binding = model.bindInputs(twb::readInputs(specs));
    QVERIFY2(binding.ok, binding.error.c_str());
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("iters=3,warmup=1")};
    plan.referenceFile = TWB_DATA("two_inputs_expected1_scale2.5.npy");
    const twb::Report r = twb::runPlan(model, specs, binding, plan);
    QCOMPARE(r.comparisons.size(), std::size_t(1));
    QVERIFY(!r.comparisons[0].outputs.allclose);
    QVERIFY2(r.comparisons[0].outputs.summary.find("cannot be compared") != std::string::npos &&
                 r.comparisons[0].outputs.summary.find("out[0], out[1] of that shape") != std::string::npos,
             r.comparisons[0].outputs.summary.c_str());
}

void TestPlan::cancelKeepsWhatWasMeasured() {
    Loaded l = loadCnn();
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("iters=5,warmup=1"), twb::RunConfig::parse("seconds=30")};
    twb::PlanCallbacks callbacks;
    callbacks.progress = [](int index, const twb::Progress& p) { return !(index == 1 && p.iterations > 3); };
    const twb::Report r = twb::runPlan(l.model, l.specs, l.binding, plan, callbacks);
    // Rounds are interleaved, so a cancel ends every configuration; what each measured is kept.
    QCOMPARE(r.runs.size(), std::size_t(2));
    QVERIFY(r.runs[1].cancelled);
    QVERIFY(r.runs[1].samplesNs.size() > 3);
    QCOMPARE(r.runs[1].rounds.size(), std::size_t(1));
    QVERIFY(r.runs[1].error.empty());
    std::atomic<bool> stop{true};
    QVERIFY(twb::runPlan(l.model, l.specs, l.binding, plan, {}, &stop).runs.empty());
}

void TestPlan::regressionGate() {
    twb::Report baseline, same, slower;
    baseline.runs = {fakeRun("a", 1e6, 1), fakeRun("b", 2e6, 2)};
    same.runs = {fakeRun("a", 1e6, 3), fakeRun("b", 2e6, 4)};
    slower.runs = {fakeRun("a", 1e6, 5), fakeRun("b", 2.4e6, 6)}; // b 20% slower
    QVERIFY(twb::regressionGate(baseline, same, 0.05).passed());
    const twb::GateResult gate = twb::regressionGate(baseline, slower, 0.05);
    QVERIFY(!gate.passed());
    QCOMPARE(gate.entries.size(), std::size_t(2));
    QVERIFY(gate.entries[0].matched && !gate.entries[0].regression);
    QVERIFY(gate.entries[1].matched && gate.entries[1].regression);
    QVERIFY(twb::regressionGate(baseline, slower, 0.5).passed()); // 20% is inside a 50% allowance
    twb::Report extra = same;
    extra.runs.push_back(fakeRun("c", 1e6, 7));
    const twb::GateResult unmatched = twb::regressionGate(baseline, extra, 0.05);
    QVERIFY(!unmatched.entries[2].matched);
    QVERIFY(!unmatched.passed());
    QCOMPARE(unmatched.verdict(), twb::GateVerdict::Inconclusive);
    QCOMPARE(gate.verdict(), twb::GateVerdict::Regression);
    QCOMPARE(twb::gateVerdictName(gate.verdict()), std::string("regression"));
    QCOMPARE(gate.summary("base.json").verdict, std::string("regression"));

    // A machine probe that ran 2× slower: a 20% slowdown of the model is within what the machine's own
    // change explains, so no verdict; a 3× slowdown is beyond it, still a regression.
    baseline.probe.gemmNs = {1.00e5, 1.01e5, 0.99e5, 1.00e5, 1.02e5};
    twb::Report moved = slower;
    moved.probe.gemmNs = {2.00e5, 2.02e5, 1.98e5, 2.01e5, 1.99e5};
    const twb::GateResult probe = twb::regressionGate(baseline, moved, 0.05);
    QCOMPARE(probe.verdict(), twb::GateVerdict::Inconclusive);
    QVERIFY2(probe.machine.find("matrix-multiply probe ran 2.00× slower") != std::string::npos,
             probe.machine.c_str());
    twb::Report muchSlower = moved;
    muchSlower.runs = {fakeRun("a", 1e6, 8), fakeRun("b", 6e6, 9)};
    QCOMPARE(twb::regressionGate(baseline, muchSlower, 0.05).verdict(), twb::GateVerdict::Regression);
    moved.probe.gemmNs = baseline.probe.gemmNs;
    QCOMPARE(twb::regressionGate(baseline, moved, 0.05).verdict(), twb::GateVerdict::Regression);
    // Another machine with a probe in neither report: no verdict.
    twb::Report oldBaseline = baseline;
    oldBaseline.probe = {};
    oldBaseline.environment.cpuModel = "CPU A";
    twb::Report elsewhere = same;
    elsewhere.environment.cpuModel = "CPU B";
    const twb::GateResult other = twb::regressionGate(oldBaseline, elsewhere, 0.05);
    QCOMPARE(other.verdict(), twb::GateVerdict::Inconclusive);
    QVERIFY2(other.machine.find("the baseline ran on CPU A") != std::string::npos, other.machine.c_str());
}

void TestPlan::matchingRunsByLabelThenPosition() {
    twb::Report baseline;
    baseline.runs = {fakeRun("x", 1, 1), fakeRun("y", 1, 2)};
    QCOMPARE(twb::matchingRun(baseline, fakeRun("y", 1, 3), 0), &baseline.runs[1]);
    QCOMPARE(twb::matchingRun(baseline, fakeRun("z", 1, 3), 0), &baseline.runs[0]);
    QCOMPARE(twb::matchingRun(baseline, fakeRun("z", 1, 3), 5), nullptr);
}

TWB_TEST_MAIN(TestPlan)
#include "tst_plan.moc"
