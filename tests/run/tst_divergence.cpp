// Where two configurations' outputs part, on models whose divergence point is known: float16 overflowing
// at a marked line, bfloat16's running sum leaving the tolerance at cumsum, and optimize_for_inference's
// folded and fused nodes matched to the ones they replace. In this process and in a worker, which a
// failing configuration does not take this process down with.
#include "test_support.h"

#include "twb/diagnosis.h"
#include "twb/divergence.h"
#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/suggest.h"
#include "twb/tensor_io.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

class TestDivergence : public QObject {
    Q_OBJECT
private slots:
    void float16OverflowsAtTheMarkedLine();
    void bfloat16SumPartsAtCumsum();
    void optimizeForInferenceAgreesThroughRewrites();
    void inAWorkerTheSameAndFailuresStayThere();
    void acrossTwoWorkersTheSameAsInOne();
    void packagesAreRefusedWithTheAlternative();
    void reportRoundTrip();
    void tensorsInsideALoopAreCompared();
    void whatHoldsNothingYetIsNotCompared();
};

namespace {

using twbtest::load;
using twbtest::Loaded;

// Line `location`'s number (after the last ':') of `code`; "" when there is none.
std::string lineAt(const std::string& code, const std::string& location) {
    const auto colon = location.rfind(':');
    if (colon == std::string::npos) return {};
    int wanted = std::atoi(location.c_str() + colon + 1), line = 1;
    std::size_t from = 0;
    while (line < wanted && from != std::string::npos) {
        from = code.find('\n', from);
        if (from != std::string::npos) ++from, ++line;
    }
    return from == std::string::npos ? std::string() : code.substr(from, code.find('\n', from) - from);
}

// A LibTorch without float16 or bfloat16 kernels for these operators on the CPU (1.13) cannot run B.
bool lacksKernels(const twb::DivergenceReport& r) {
    return r.errorB.find("not implemented for") != std::string::npos;
}

} // namespace

void TestDivergence::float16OverflowsAtTheMarkedLine() {
    const Loaded l = load("overflow.pt", "overflow_x.npy");
    QVERIFY2(l.binding.ok, l.binding.error.c_str());
    const twb::DivergenceReport r =
        twb::diverge(l.model, l.specs, l.binding, twb::RunConfig(), twb::RunConfig::parse("dtype=float16"));
    if (lacksKernels(r)) QSKIP(qPrintable(QString::fromStdString(r.errorB)));
    QVERIFY2(r.errorA.empty() && r.errorB.empty(), r.summary.c_str());
    QVERIFY2(r.firstDivergent >= 0, r.summary.c_str());
    const twb::NodeDivergence& first = r.nodes[std::size_t(r.firstDivergent)];
    QCOMPARE(first.kind, std::string("aten::mul"));
    // The archive keeps no debug information (make_fixtures.py strips it): the line is its own code's,
    // the marked one, "s = h * 1e4" as TorchScript wrote it.
    const std::string line = lineAt(l.model.info().code, first.location);
    QVERIFY2(twbtest::contains(line, "torch.mul(h, 10000.)"), (first.location + ": " + line).c_str());
    QVERIFY(first.infB > 0 && first.infA == 0); // overflow
    QVERIFY(twbtest::contains(r.summary, "overflow"));
    // What came before it (x * gain) is within the tolerance, which float16 loosened to 1e-2.
    QCOMPARE(r.tolerance.atol, 1e-2);
    QVERIFY(r.nodes[0].matched && r.nodes[0].within && r.firstDivergent > 0);
    const std::string text = twb::divergenceText(r);
    QVERIFY2(twbtest::contains(text, "First divergence: aten::mul at "), text.c_str());
    QVERIFY2(text.rfind(r.summary + "\n") == text.size() - r.summary.size() - 1, "the verdict is not last");
}

void TestDivergence::bfloat16SumPartsAtCumsum() {
    const Loaded l = load("accumulate.pt", "accumulate_x.npy");
    const twb::RunConfig a, b = twb::RunConfig::parse("dtype=bfloat16");
    // bfloat16's 8 bits hold 2, and 1,200 to within 1e-2: at the default tolerance they agree.
    const twb::DivergenceReport loose = twb::diverge(l.model, l.specs, l.binding, a, b);
    if (lacksKernels(loose)) QSKIP(qPrintable(QString::fromStdString(loose.errorB)));
    QVERIFY2(loose.firstDivergent < 0 && loose.matched == 2, loose.summary.c_str());
    QVERIFY(twbtest::contains(loose.summary, "agree"));
    // At 1e-3 the doubling is still exact, and the sum is where they part.
    twb::DivergeOptions tight;
    tight.tolerance.atol = tight.tolerance.rtol = 1e-3;
    tight.toleranceGiven = true;
    const twb::DivergenceReport r = twb::diverge(l.model, l.specs, l.binding, a, b, tight);
    QVERIFY2(r.firstDivergent >= 0, r.summary.c_str());
    QCOMPARE(r.nodes[std::size_t(r.firstDivergent)].kind, std::string("aten::cumsum"));
    QCOMPARE(r.nodes[0].kind, std::string("aten::mul"));
    QVERIFY(r.nodes[0].within && r.nodes[0].maxAbs == 0);
    QCOMPARE(r.nodes[std::size_t(r.firstDivergent)].dtypeB, std::string("bfloat16"));
    QVERIFY(!r.largest.empty() && r.largest[0] == r.firstDivergent);
}

// optimize_for_inference folds the batch norm into the convolution (and may make it an MKLDNN node):
// the folded convolution is matched to the batch norm's output it now computes, and everything agrees.
void TestDivergence::optimizeForInferenceAgreesThroughRewrites() {
    const Loaded l = load("cnn_scripted.pt", "cnn_x.npy");
    for (const char* mode : {"jit=freeze", "jit=optimize"}) {
        const twb::DivergenceReport r =
            twb::diverge(l.model, l.specs, l.binding, twb::RunConfig(), twb::RunConfig::parse(mode));
        QVERIFY2(r.errorA.empty() && r.errorB.empty(), r.summary.c_str());
        QVERIFY2(r.firstDivergent < 0, (std::string(mode) + ": " + twb::divergenceText(r)).c_str());
        QVERIFY(r.outputs.allclose);
        const twb::NodeDivergence* bn = nullptr;
        for (const auto& n : r.nodes)
            if (n.kind == "aten::batch_norm") bn = &n;
        QVERIFY(bn);
        QVERIFY2(bn->matched && bn->within, (std::string(mode) + ": " + bn->match).c_str());
        QVERIFY2(twbtest::contains(bn->match, "rewritten"), bn->match.c_str()); // B has no batch norm
    }
}

void TestDivergence::inAWorkerTheSameAndFailuresStayThere() {
    const Loaded l = load("accumulate.pt", "accumulate_x.npy");
    twb::DivergeOptions tight;
    tight.tolerance.atol = tight.tolerance.rtol = 1e-3;
    tight.toleranceGiven = true;
    const twb::RunConfig a, b = twb::RunConfig::parse("dtype=bfloat16");
    const twb::DivergenceReport here = twb::diverge(l.model, l.specs, l.binding, a, b, tight);
    if (lacksKernels(here)) QSKIP(qPrintable(QString::fromStdString(here.errorB)));
    const twb::DivergenceReport there = twb::divergeInWorker(l.model, l.specs, l.binding, a, b, tight, {});
    QVERIFY2(there.errorA.empty() && there.errorB.empty(), there.summary.c_str());
    QCOMPARE(there.firstDivergent, here.firstDivergent);
    QCOMPARE(there.nodes.size(), here.nodes.size());
    QCOMPARE(there.nodes[std::size_t(there.firstDivergent)].maxAbs,
             here.nodes[std::size_t(here.firstDivergent)].maxAbs);
    QCOMPARE(there.model.path, here.model.path);
    // A configuration this machine cannot run fails as the second, with its reason; the first ran.
    const twb::DivergenceReport cuda =
        twb::divergeInWorker(l.model, l.specs, l.binding, a, twb::RunConfig::parse("device=cuda"), tight, {});
    if (twb::buildInfo().cudaAvailable) return;
    QVERIFY2(cuda.errorA.empty() && !cuda.errorB.empty(), cuda.summary.c_str());
    QVERIFY(twbtest::contains(cuda.summary, "failed"));
    // A model that takes 4 GiB under a 1 GiB limit: the worker dies in A, this process goes on.
    const Loaded greedy = load("greedy_alloc.pt", "four.npy");
    twb::WorkerOptions limited;
    limited.memoryLimitBytes = int64_t(1) << 30;
    const twb::DivergenceReport oom =
        twb::divergeInWorker(greedy.model, greedy.specs, greedy.binding, a, a, {}, limited);
    QVERIFY2(!oom.errorA.empty() && oom.errorB.empty(), oom.summary.c_str());
    QVERIFY(oom.nodes.empty());
}

// Each side in its own worker, as on two targets: the tensors stream here, A's kept, B's compared as they
// arrive. The verdict, figures and matches are those of one process, rewrites included; a side whose
// target cannot start fails alone, and a cancelled run says so.
void TestDivergence::acrossTwoWorkersTheSameAsInOne() {
    const Loaded l = load("overflow.pt", "overflow_x.npy");
    const twb::RunConfig a, half = twb::RunConfig::parse("dtype=float16");
    const twb::DivergenceReport here = twb::diverge(l.model, l.specs, l.binding, a, half);
    if (lacksKernels(here)) QSKIP(qPrintable(QString::fromStdString(here.errorB)));
    const twb::DivergenceReport across =
        twb::divergeAcrossWorkers(l.model, l.specs, l.binding, a, half, {}, {}, {});
    QVERIFY2(across.errorA.empty() && across.errorB.empty(), across.summary.c_str());
    QCOMPARE(across.firstDivergent, here.firstDivergent);
    QCOMPARE(across.recordedA, here.recordedA);
    QCOMPARE(across.recordedB, here.recordedB);
    QCOMPARE(across.matched, here.matched);
    QCOMPARE(across.summary, here.summary);
    QCOMPARE(across.nodes.size(), here.nodes.size());
    for (std::size_t i = 0; i < here.nodes.size(); ++i) {
        QCOMPARE(across.nodes[i].kind, here.nodes[i].kind);
        QCOMPARE(across.nodes[i].dtypeB, here.nodes[i].dtypeB);
        QCOMPARE(across.nodes[i].infB, here.nodes[i].infB);
        QCOMPARE(across.nodes[i].maxAbs, here.nodes[i].maxAbs);
    }
    QCOMPARE(across.graphA.nodes.size(), here.graphA.nodes.size());
    const int divergent = across.nodes[std::size_t(across.firstDivergent)].node;
    const auto& made = across.graphA.nodes[std::size_t(divergent)].outputs;
    QVERIFY(!made.empty());
    QCOMPARE(across.graphA.values[std::size_t(made[0])].shape,
             here.nodes[std::size_t(here.firstDivergent)].shape);
    QVERIFY(across.outputs.leaves.size() == here.outputs.leaves.size() && !across.outputs.allclose);

    // Rewritten nodes are matched from the streamed tensors as from the kept ones.
    const Loaded cnn = load("cnn_scripted.pt", "cnn_x.npy");
    const twb::DivergenceReport optimized = twb::divergeAcrossWorkers(
        cnn.model, cnn.specs, cnn.binding, a, twb::RunConfig::parse("jit=optimize"), {}, {}, {});
    QVERIFY2(optimized.errorA.empty() && optimized.errorB.empty() && optimized.firstDivergent < 0,
             twb::divergenceText(optimized).c_str());
    QVERIFY(std::any_of(optimized.nodes.begin(), optimized.nodes.end(), [](const twb::NodeDivergence& n) {
        return n.kind == "aten::batch_norm" && n.matched && twbtest::contains(n.match, "rewritten");
    }));

    // A target that is not one is refused before anything runs.
    try {
        twb::divergeOnTargets(l.model, l.specs, l.binding, a, half, {}, "", "local:/nowhere/torchwb");
        QFAIL("a missing build was taken as a target");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "/nowhere/torchwb is not an executable file"), e.what());
    }
    // B's launcher fails: A ran, B says why, naming it.
    const twb::DivergenceReport nowhere =
        twb::divergeOnTargets(l.model, l.specs, l.binding, a, half, {}, "", "cmd:/nowhere/torchwb worker");
    QVERIFY2(nowhere.errorA.empty() && twbtest::contains(nowhere.errorB, "/nowhere/torchwb"),
             nowhere.summary.c_str());
    QVERIFY(twbtest::contains(nowhere.summary, "failed"));
    // Cancelled before A's worker answered: A says so, B never started.
    const std::atomic<bool> stop{true};
    const twb::DivergenceReport cancelled =
        twb::divergeAcrossWorkers(l.model, l.specs, l.binding, a, half, {}, {}, {}, &stop);
    QVERIFY2(!cancelled.errorA.empty() && cancelled.errorB.empty(), cancelled.summary.c_str());
    QVERIFY(cancelled.nodes.empty());
}

void TestDivergence::packagesAreRefusedWithTheAlternative() {
    if (!twb::buildInfo().aotiPackages) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    const Loaded l = load("cnn_aoti.pt2", "cnn_x.npy");
    for (bool worker : {false, true})
        try {
            if (worker)
                twb::divergeInWorker(l.model, l.specs, l.binding, {}, twb::RunConfig::parse("threads=1"), {},
                                     {});
            else
                twb::diverge(l.model, l.specs, l.binding, {}, twb::RunConfig::parse("threads=1"));
            QFAIL("a package was diverged");
        } catch (const twb::Error& e) {
            QVERIFY2(twbtest::contains(e.what(), "run --reference"), e.what());
        }
}

void TestDivergence::reportRoundTrip() {
    const Loaded l = load("accumulate.pt", "accumulate_x.npy");
    twb::DivergeOptions tight;
    tight.tolerance.atol = tight.tolerance.rtol = 1e-3;
    tight.toleranceGiven = true;
    const twb::DivergenceReport r = twb::diverge(l.model, l.specs, l.binding, twb::RunConfig(),
                                                 twb::RunConfig::parse("dtype=bfloat16"), tight);
    if (lacksKernels(r)) QSKIP(qPrintable(QString::fromStdString(r.errorB)));
    const std::string json = twb::divergenceToJson(r);
    const twb::DivergenceReport back = twb::divergenceFromJson(json);
    QCOMPARE(twb::divergenceToJson(back), json);
    QCOMPARE(back.firstDivergent, r.firstDivergent);
    QCOMPARE(back.b.dtype, std::string("bfloat16"));
    QCOMPARE(back.model.sha256, r.model.sha256);
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::divergenceFromJson("{\"schema\": \"torch-workbench-report\"}"));
    QVERIFY_THROWS_EXCEPTION(
        twb::Error,
        twb::divergenceFromJson("{\"schema\": \"torch-workbench-divergence\", \"a\": {}, \"b\": {}, "
                                "\"first_divergent\": 7, \"nodes\": []}"));
}

// A detector's work runs in a loop over its images: the tensors its first iteration makes are recorded
// and compared, in this process and in a worker, each once.
void TestDivergence::tensorsInsideALoopAreCompared() {
    const Loaded l = load("detector_list.pt", "normal:3x32x32:seed=4");
    QVERIFY2(l.binding.ok, l.binding.error.c_str());
    twb::DivergeOptions tight;
    tight.tolerance.atol = tight.tolerance.rtol = 1e-4;
    const twb::RunConfig a, b = twb::RunConfig::parse("dtype=float64");
    for (const bool worker : {false, true}) {
        const twb::DivergenceReport r =
            worker ? twb::divergeInWorker(l.model, l.specs, l.binding, a, b, tight, {})
                   : twb::diverge(l.model, l.specs, l.binding, a, b, tight);
        QVERIFY2(r.errorA.empty() && r.errorB.empty(), r.summary.c_str());
        QVERIFY2(r.firstDivergent < 0 && r.outputs.allclose, twb::divergenceText(r).c_str());
        const auto conv = std::find_if(r.nodes.begin(), r.nodes.end(),
                                       [](const twb::NodeDivergence& n) { return n.kind == "aten::conv2d"; });
        QVERIFY2(conv != r.nodes.end() && conv->matched && conv->within, twb::divergenceText(r).c_str());
        QCOMPARE(conv->shape, (std::vector<int64_t>{1, 4, 32, 32}));
        // Each node once, every one of them computed; both sides recorded as many.
        QCOMPARE(std::count_if(r.nodes.begin(), r.nodes.end(),
                               [](const twb::NodeDivergence& n) { return n.kind == "aten::conv2d"; }),
                 std::ptrdiff_t(1));
        QVERIFY(std::all_of(r.nodes.begin(), r.nodes.end(),
                            [](const twb::NodeDivergence& n) { return !n.dtypeA.empty(); }));
        QCOMPARE(r.recordedB, r.recordedA);
        QVERIFY2(r.matched >= 5, twb::divergenceText(r).c_str());
    }
}

// A value TorchScript leaves uninitialized (an early return inside MultiheadAttention's functions) is not
// observed, which would fail the run; nor is torch.empty_like's memory before it is filled in place, which
// would part on garbage.
void TestDivergence::whatHoldsNothingYetIsNotCompared() {
    const twb::RunConfig a, b = twb::RunConfig::parse("jit=freeze");
    const std::string mha = twb::inspectModelFile(TWB_DATA("mha_scripted.pt")).diagnosis.usable
                                ? "mha_scripted.pt"
                                : "mha_scripted_113.pt";
    const twb::Model attention = twb::Model::load(TWB_DATA(mha));
    const auto specs = twb::completeWithSuggestions(attention, {});
    const auto binding = attention.bindInputs(twb::readInputs(specs));
    QVERIFY2(binding.ok, binding.error.c_str());
    const twb::DivergenceReport r = twb::diverge(attention, specs, binding, a, b);
    QVERIFY2(r.errorA.empty() && r.errorB.empty(), (r.errorA + r.errorB).c_str());
    QVERIFY2(r.firstDivergent < 0 && r.matched > 0, twb::divergenceText(r).c_str());

    const twb::Model unfilled = twb::Model::load(TWB_DATA("unfilled.pt"));
    const std::vector<twb::InputSpec> given{twb::InputSpec::parseGenerated("x=normal:4x3:seed=1"),
                                            twb::InputSpec::parse("perm=" + TWB_DATA("unfilled_perm.npy"))};
    const auto bound = unfilled.bindInputs(twb::readInputs(given));
    QVERIFY2(bound.ok, bound.error.c_str());
    const twb::DivergenceReport u = twb::diverge(unfilled, given, bound, a, b);
    QVERIFY2(u.errorA.empty() && u.errorB.empty() && u.firstDivergent < 0, twb::divergenceText(u).c_str());
    QVERIFY(std::none_of(u.nodes.begin(), u.nodes.end(),
                         [](const twb::NodeDivergence& n) { return n.kind == "aten::empty_like"; }));
    QVERIFY2(u.matched >= 3, twb::divergenceText(u).c_str()); // what follows the branch is still compared
}

TWB_TEST_MAIN(TestDivergence)
#include "tst_divergence.moc"
