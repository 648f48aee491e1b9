// Profiles: FLOP formulas, nesting and self times on hand-made events, and real profiles of the small
// CNN (conv → bn → relu → mean → linear) and the attention block through the plan runner: operator
// counts, FLOPs, fused nodes under optimize_for_inference, the diff, the trace and the report.
#include "test_support.h"

#include "twb/error.h"
#include "twb/plan.h"
#include "twb/profile.h"
#include "twb/report.h"

#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>

using Shapes = std::vector<std::vector<int64_t>>;
Q_DECLARE_METATYPE(Shapes)
Q_DECLARE_METATYPE(std::vector<int64_t>)

class TestProfile : public QObject {
    Q_OBJECT
private slots:
    void flopFormulas_data();
    void flopFormulas();
    void nestingAndSelfTimes();
    void flopsCreditedWhereTheTimeGoes();
    void fusedNodesTimedByTheirLines();
    void descriptionsJoinCallByCall();
    void diffNamesReplacementsAndFolds();
    void profilesTheCnn();
    void attentionFlops();
    void optimizeNamesFusedNodes();
    void traceHoldsEveryCall();
    void reportsKeepProfilesAndOldOnesRead();
    void machinePeakIsMeasuredAndCached();
};

namespace {

using twbtest::load;
using twbtest::Loaded;

constexpr int kCalls = 4;

twb::Report profile(const Loaded& l, const std::vector<std::string>& configs, bool keepEvents = false) {
    twb::Plan plan;
    for (const auto& c : configs)
        plan.configs.push_back(twb::RunConfig::parse(c + ",threads=2,seconds=0.2"));
    plan.profile = true;
    plan.profileOptions.calls = kCalls;
    plan.profileOptions.keepEvents = keepEvents;
    plan.profileOptions.measurePeak = false;
    return twb::runPlan(l.model, l.specs, l.binding, plan);
}

const twb::OperatorStat* op(const twb::Profile& p, const std::string& name) {
    for (const auto& o : p.operators)
        if (o.name == name) return &o;
    return nullptr;
}

twb::ProfileEvent makeEvent(const std::string& name, twb::EventKind kind, double start, double duration,
                            int call = -1, const std::string& location = {}) {
    twb::ProfileEvent e;
    e.name = name;
    e.kind = kind;
    e.thread = 1;
    e.startNs = start;
    e.durationNs = duration;
    e.call = call;
    e.location = location;
    return e;
}

} // namespace

void TestProfile::flopFormulas_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<Shapes>("inputs");
    QTest::addColumn<std::vector<int64_t>>("output");
    QTest::addColumn<double>("flops");
    // Linear(in=10, out=20) at batch 4: 2·B·in·out.
    QTest::newRow("linear") << "aten::linear" << Shapes{{4, 10}, {20, 10}, {20}}
                            << std::vector<int64_t>{4, 20} << 2.0 * 4 * 10 * 20;
    QTest::newRow("linear 3-D") << "aten::linear" << Shapes{{2, 5, 16}, {48, 16}, {48}}
                                << std::vector<int64_t>{2, 5, 48} << 2.0 * 10 * 16 * 48;
    // Conv2d: 2 · N · C_out · H_out · W_out · (C_in / groups) · kH · kW, groups read off the weight.
    QTest::newRow("conv2d") << "aten::conv2d" << Shapes{{2, 3, 16, 16}, {8, 3, 3, 3}, {8}, {}, {}, {}, {}}
                            << std::vector<int64_t>{2, 8, 16, 16} << 2.0 * 2 * 8 * 16 * 16 * 3 * 9;
    QTest::newRow("conv2d groups stride") << "aten::conv2d" << Shapes{{1, 4, 9, 9}, {6, 2, 3, 3}}
                                          << std::vector<int64_t>{1, 6, 4, 4} << 2.0 * 6 * 16 * 2 * 9;
    QTest::newRow("conv1d") << "aten::conv1d" << Shapes{{1, 4, 10}, {5, 4, 3}}
                            << std::vector<int64_t>{1, 5, 8} << 2.0 * 5 * 8 * 4 * 3;
    QTest::newRow("conv3d") << "aten::conv3d" << Shapes{{1, 2, 4, 4, 4}, {3, 2, 1, 2, 2}}
                            << std::vector<int64_t>{1, 3, 4, 3, 3} << 2.0 * 3 * 36 * 2 * 4;
    QTest::newRow("transposed convolution") << "aten::convolution" << Shapes{{1, 4, 5, 5}, {4, 2, 3, 3}}
                                            << std::vector<int64_t>{1, 2, 7, 7} << -1.0;
    QTest::newRow("matmul") << "aten::matmul" << Shapes{{3, 7}, {7, 2}} << std::vector<int64_t>{3, 2}
                            << 2.0 * 3 * 2 * 7;
    QTest::newRow("addmm") << "aten::addmm" << Shapes{{5}, {1, 8}, {8, 5}, {}, {}}
                           << std::vector<int64_t>{1, 5} << 80.0;
    QTest::newRow("baddbmm") << "aten::baddbmm" << Shapes{{2, 3, 4}, {2, 3, 6}, {2, 6, 4}}
                             << std::vector<int64_t>{2, 3, 4} << 2.0 * 2 * 3 * 4 * 6;
    QTest::newRow("sdpa") << "aten::scaled_dot_product_attention"
                          << Shapes{{2, 2, 5, 8}, {2, 2, 7, 8}, {2, 2, 7, 4}}
                          << std::vector<int64_t>{2, 2, 5, 4} << (2.0 * 4 * 5 * 7 * 8 + 2.0 * 4 * 5 * 7 * 4);
    QTest::newRow("add") << "aten::add" << Shapes{{3, 4}, {4}, {}} << std::vector<int64_t>{3, 4} << 12.0;
    QTest::newRow("no formula") << "aten::relu" << Shapes{{3, 4}} << std::vector<int64_t>{3, 4} << -1.0;
}

void TestProfile::flopFormulas() {
    QFETCH(QString, name);
    QFETCH(Shapes, inputs);
    QFETCH(std::vector<int64_t>, output);
    QFETCH(double, flops);
    QCOMPARE(twb::operatorFlops(name.toStdString(), inputs, output), flops);
}

void TestProfile::nestingAndSelfTimes() {
    using K = twb::EventKind;
    // Two calls: forward ⊃ TorchScript frame ⊃ conv2d ⊃ convolution, then relu; self = duration − children.
    std::vector<twb::ProfileEvent> events;
    for (int c = 0; c < 2; ++c) {
        const double t = c * 1000;
        events.push_back(makeEvent("forward #" + std::to_string(c + 1), K::Forward, t, 900, c));
        events.push_back(makeEvent("forward", K::Function, t + 10, 880));
        events.push_back(makeEvent("aten::conv2d", K::Operator, t + 20, 600, -1, "m.py:3"));
        events.push_back(makeEvent("aten::convolution", K::Operator, t + 30, 500, -1, "m.py:3"));
        events.push_back(makeEvent("aten::relu", K::Operator, t + 700, 100, -1, "m.py:4"));
    }
    std::reverse(events.begin(), events.end()); // order must not matter
    const twb::Profile p = twb::buildProfile(events, 2, {}, {});
    QVERIFY(p.ok);
    QCOMPARE(p.forwardNs, 900.0);
    const auto* conv = op(p, "aten::conv2d");
    const auto* inner = op(p, "aten::convolution");
    const auto* relu = op(p, "aten::relu");
    QVERIFY(conv && inner && relu);
    QCOMPARE(conv->calls, int64_t(2));
    QCOMPARE(conv->selfNs, 2 * 100.0);
    QCOMPARE(conv->totalNs, 2 * 600.0);
    QCOMPARE(conv->topCalls, int64_t(2));
    QCOMPARE(inner->topCalls, int64_t(0)); // called from inside conv2d
    QCOMPARE(relu->selfNs, 2 * 100.0);
    QCOMPARE(p.operatorSelfNs, 100.0 + 500.0 + 100.0);
    QCOMPARE(p.unattributedNs, 900.0 - 700.0); // the forward's and the frame's own time
    QCOMPARE(p.operators.front().name, std::string("aten::convolution")); // by self time
    QCOMPARE(p.lines.front().location, std::string("m.py:3"));
    QCOMPARE(p.lines.front().selfNs, 2 * 600.0);
}

// FLOPs are counted on aten::conv2d, whose time sits in the kernel it calls: the kernel is credited with
// them (its rate is where the time is), conv2d names the kernel, and nothing is counted twice.
void TestProfile::flopsCreditedWhereTheTimeGoes() {
    using K = twb::EventKind;
    std::vector<twb::ProfileEvent> events;
    for (int c = 0; c < 2; ++c) {
        const double t = c * 1000;
        events.push_back(makeEvent("forward #" + std::to_string(c + 1), K::Forward, t, 900, c));
        auto conv = makeEvent("aten::conv2d", K::Operator, t + 10, 800, -1, "m.py:3");
        conv.flops = 4000;
        events.push_back(conv);
        auto inner = makeEvent("aten::convolution", K::Operator, t + 20, 780);
        inner.flops = 4000; // counted again inside: not credited twice
        events.push_back(inner);
        events.push_back(makeEvent("aten::_slow_conv2d_forward", K::Operator, t + 30, 700));
        auto relu = makeEvent("aten::relu", K::Operator, t + 820, 50, -1, "m.py:4");
        relu.flops = 10; // its time is its own: nothing to credit
        events.push_back(relu);
    }
    const twb::Profile p = twb::buildProfile(events, 2, {}, {});
    const auto* conv = op(p, "aten::conv2d");
    const auto* kernel = op(p, "aten::_slow_conv2d_forward");
    const auto* relu = op(p, "aten::relu");
    QVERIFY(conv && kernel && relu);
    QCOMPARE(conv->flops, 4000.0);
    QCOMPARE(conv->timeIn, std::string("aten::_slow_conv2d_forward"));
    QCOMPARE(kernel->flops, 0.0);
    QCOMPARE(kernel->creditedFlops, 4000.0); // per forward, once
    QCOMPARE(kernel->creditedFrom, std::vector<std::string>{"aten::conv2d"});
    QCOMPARE(kernel->gflops(p.calls), 4000.0 / 700.0);
    QVERIFY(relu->timeIn.empty() && relu->creditedFlops == 0);
    QVERIFY(op(p, "aten::convolution")->creditedFlops == 0);
    // And they are kept in reports.
    twb::Report r;
    r.profiles.push_back(p);
    const twb::Report back = twb::reportFromJson(twb::reportToJson(r));
    const auto* kept = op(back.profiles[0], "aten::_slow_conv2d_forward");
    QVERIFY(kept && kept->creditedFlops == 4000.0 && kept->creditedFrom == kernel->creditedFrom);
    QCOMPARE(op(back.profiles[0], "aten::conv2d")->timeIn, conv->timeIn);
}

void TestProfile::fusedNodesTimedByTheirLines() {
    using K = twb::EventKind;
    std::vector<twb::ProfileEvent> events{
        makeEvent("forward #1", K::Forward, 0, 1000, 0),
        makeEvent("aten::empty", K::Operator, 100, 20, -1, "conv.py:29"),
        makeEvent("aten::relu_", K::Operator, 700, 100, -1, "m.py:13"),
    };
    twb::FusedNode conv{"prim::mkldnn_convolution", 1, {"conv.py:29"}, -1};
    twb::FusedNode untimed{"prim::FusionGroup", 1, {"elsewhere.py:1"}, -1};
    // The line took 620 ns in TorchScript's own profile; the 20 ns of aten::empty were seen by the profiler.
    const twb::Profile p =
        twb::buildProfile(events, 1, {conv, untimed}, {{"conv.py:29", 620}, {"m.py:13", 110}});
    const auto* f = op(p, "prim::mkldnn_convolution");
    QVERIFY(f);
    QVERIFY(f->fused && f->timed);
    QCOMPARE(f->selfNs, 600.0);
    const auto* g = op(p, "prim::FusionGroup");
    QVERIFY(g && g->fused && !g->timed);
    QCOMPARE(p.fusedNs, 600.0);
    QCOMPARE(p.unattributedNs, 1000.0 - 120.0 - 600.0);
    QVERIFY(!p.notes.empty());
    QVERIFY(p.notes.front().find("prim::mkldnn_convolution") != std::string::npos);
}

void TestProfile::descriptionsJoinCallByCall() {
    using K = twb::EventKind;
    auto call = [](int c, const std::vector<std::string>& ops, bool described) {
        std::vector<twb::ProfileEvent> e{makeEvent("forward #", K::Forward, c * 1000.0, 900, c)};
        for (std::size_t i = 0; i < ops.size(); ++i) {
            auto op = makeEvent(ops[i], K::Operator, c * 1000.0 + 10 + double(i) * 100, 50);
            if (described) {
                op.shapes = "[[" + std::to_string(i) + "]]";
                op.location = "m.py:" + std::to_string(i + 1);
                op.module = "layer" + std::to_string(i);
                op.moduleType = "Conv2d";
                op.flops = 10;
            }
            e.push_back(op);
        }
        return e;
    };
    std::vector<twb::ProfileEvent> timed, described;
    for (auto& e : call(0, {"aten::conv2d", "aten::relu"}, false))
        timed.push_back(e);
    for (auto& e : call(1, {"aten::conv2d", "aten::relu"}, false))
        timed.push_back(e);
    for (auto& e : call(0, {"aten::conv2d", "aten::relu"}, true))
        described.push_back(e);
    for (auto& e : call(1, {"aten::conv2d", "aten::add"}, true))
        described.push_back(e); // another branch
    QCOMPARE(twb::attachDescriptions(timed, described), 1);
    QCOMPARE(timed[1].location, std::string("m.py:1"));
    QCOMPARE(timed[2].module, std::string("layer1"));
    QCOMPARE(timed[2].flops, 10.0);
    QVERIFY(timed[4].location.empty()); // the second call did not match: times only
    QCOMPARE(timed[4].durationNs, 50.0);
}

void TestProfile::diffNamesReplacementsAndFolds() {
    twb::Profile a, b;
    a.calls = b.calls = 2;
    a.label = "off";
    b.label = "optimize";
    b.config.jit = twb::JitMode::Optimize;
    auto row = [](const std::string& name, int64_t calls, double ns, std::vector<std::string> lines,
                  bool fused = false) {
        twb::OperatorStat s;
        s.name = name;
        s.calls = s.topCalls = calls;
        s.selfNs = s.totalNs = s.topNs = ns;
        s.locations = std::move(lines);
        s.fused = fused;
        return s;
    };
    a.operators = {row("aten::conv2d", 40, 16e6, {"conv.py:29"}),
                   row("aten::batch_norm", 40, 2.4e6, {"bn.py:35"}), row("aten::relu", 40, 1e6, {"m.py:13"})};
    b.operators = {row("prim::mkldnn_convolution", 40, 4.6e6, {"conv.py:29"}, true),
                   row("aten::empty", 40, 0.1e6, {"conv.py:29"}), row("aten::relu", 40, 0.5e6, {"m.py:13"})};
    const twb::ProfileDiff d = twb::diffProfiles(a, b);
    std::string all;
    for (const auto& s : d.summary)
        all += s + "\n";
    QVERIFY2(all.find("aten::conv2d ×20 (8.00 ms) → prim::mkldnn_convolution ×20 (2.30 ms)") !=
                 std::string::npos,
             all.c_str());
    QVERIFY2(all.find("aten::batch_norm ×20 (1.20 ms) vanished (folded into the convolution by freeze)") !=
                 std::string::npos,
             all.c_str());
    QVERIFY2(all.find("aten::relu ×20: 500 µs → 250 µs (faster)") != std::string::npos, all.c_str());
    QVERIFY2(all.find("aten::empty") == std::string::npos || all.find("→ aten::empty") == std::string::npos,
             all.c_str()); // an allocation replaces nothing
}

void TestProfile::profilesTheCnn() {
    const Loaded l = load("cnn_scripted.pt", "normal:2x3x16x16");
    const twb::Report r = profile(l, {"jit=off"});
    QCOMPARE(r.profiles.size(), std::size_t(1));
    const twb::Profile& p = r.profiles.front();
    QVERIFY2(p.ok, p.error.c_str());
    QCOMPARE(p.calls, kCalls);
    QCOMPARE(p.run, 0);
    QVERIFY(p.unprofiledMedianNs > 0 && p.profiledMedianNs > 0);
    // conv → bn → relu → mean → linear: each once a forward, so kCalls times in all, called by TorchScript.
    for (const char* name :
         {"aten::conv2d", "aten::batch_norm", "aten::relu", "aten::mean", "aten::linear"}) {
        const auto* o = op(p, name);
        QVERIFY2(o, name);
        QCOMPARE(o->topCalls, int64_t(kCalls));
        QCOMPARE(o->calls, int64_t(kCalls));
    }
    double self = 0;
    for (const auto& o : p.operators) {
        QVERIFY2(o.selfNs <= o.totalNs + 1e-9, o.name.c_str());
        self += o.selfNs;
    }
    // The table's self times plus the remainder make the profiled forward, within 5%.
    const double sum = self / kCalls + p.fusedNs + p.unattributedNs;
    QVERIFY2(std::abs(sum - p.forwardNs) <= 0.05 * p.forwardNs,
             (std::to_string(sum) + " vs " + std::to_string(p.forwardNs)).c_str());
    // FLOPs: Linear(8, 5) at batch 2 is exactly 2·B·in·out; Conv2d(3, 8, 3, padding=1) on 16×16 by the
    // formula.
    QCOMPARE(op(p, "aten::linear")->flops, 2.0 * 2 * 8 * 5);
    const double conv = 2.0 * 2 * 8 * 16 * 16 * 3 * 3 * 3;
    QCOMPARE(op(p, "aten::conv2d")->flops, conv);
    QCOMPARE(p.modelFlops, conv + 2.0 * 2 * 8 * 5); // the nested addmm is not counted twice
    QVERIFY(p.modelBytes > 2 * 3 * 16 * 16 * 4);
    QVERIFY(p.roofline.known);
    QVERIFY(p.roofline.sentence.find("FLOP") != std::string::npos);
    // Module scope, rolled up: the model's total holds its children's.
    if (p.moduleScope) {
        auto module = [&](const std::string& path) -> const twb::ModuleStat* {
            for (const auto& m : p.modules)
                if (m.path == path) return &m;
            return nullptr;
        };
        QVERIFY(module("") && module("conv") && module("bn") && module("head"));
        QCOMPARE(module("conv")->type, std::string("Conv2d"));
        QVERIFY(module("")->totalNs >=
                module("conv")->totalNs + module("bn")->totalNs + module("head")->totalNs - 1);
        QCOMPARE(p.modules.front().path, std::string());
    } else {
        QVERIFY(!p.notes.empty());
    }
    QVERIFY(!p.lines.empty());
}

void TestProfile::attentionFlops() {
    std::optional<twb::Model> model;
    try {
        model = twb::Model::load(TWB_DATA("attention_scripted.pt"));
    } catch (const std::exception& e) {
        QSKIP(qPrintable(QString("this LibTorch cannot load the attention block: ") + e.what()));
    }
    std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("attention_x.npy"))};
    const twb::InputBinding binding = model->bindInputs(twb::readInputs(specs));
    const Loaded l{*model, specs, binding};
    const twb::Report r = profile(l, {"jit=off"});
    const twb::Profile& p = r.profiles.front();
    QVERIFY2(p.ok, p.error.c_str());
    // x [2, 5, 16]: qkv Linear(16, 48), proj Linear(16, 16), ff Linear(16, 64) and Linear(64, 16), SDPA over
    // 2 heads of 8 with 5 tokens, and the two residual adds (one FLOP per output element).
    const double tokens = 2 * 5;
    const double expected = 2 * tokens * 16 * 48 + 2 * tokens * 16 * 16 + 2 * tokens * 16 * 64 +
                            2 * tokens * 64 * 16 + (2.0 * 4 * 5 * 5 * 8) * 2 + 2 * 160;
    QCOMPARE(p.modelFlops, expected);
    QVERIFY(op(p, "aten::scaled_dot_product_attention"));
}

void TestProfile::optimizeNamesFusedNodes() {
    const Loaded l = load("cnn_scripted.pt", "normal:2x3x16x16");
    const twb::Report r = profile(l, {"jit=off", "jit=optimize"});
    QCOMPARE(r.profiles.size(), std::size_t(2));
    const twb::Profile& off = r.profiles[0];
    const twb::Profile& opt = r.profiles[1];
    QVERIFY2(opt.ok, opt.error.c_str());
    QCOMPARE(opt.run, 1);
    const auto* conv = op(opt, "aten::conv2d");
    QVERIFY(!conv || conv->topCalls == 0); // the convolution left the operator profiler's sight …
    const auto* fused = op(opt, "prim::mkldnn_convolution");
    QVERIFY2(fused, "the fused convolution is named");
    QVERIFY(fused->fused);
    QCOMPARE(fused->topCalls, int64_t(kCalls));
    // … and the profile does not claim it costs nothing: timed by its line, or left in a named remainder.
    if (fused->timed)
        QVERIFY(fused->selfNs > 0);
    else
        QVERIFY(opt.unattributedNs > 0);
    QCOMPARE(opt.modelFlops, off.modelFlops); // counted once, with the JIT off
    const twb::ProfileDiff d = twb::diffProfiles(off, opt);
    std::string all;
    for (const auto& s : d.summary)
        all += s + "\n";
    QVERIFY2(all.find("aten::conv2d ×1") != std::string::npos &&
                 all.find("→ prim::mkldnn_convolution") != std::string::npos,
             all.c_str());
    QVERIFY2(all.find("aten::batch_norm ×1") != std::string::npos && all.find("folded") != std::string::npos,
             all.c_str());
}

void TestProfile::traceHoldsEveryCall() {
    const Loaded l = load("cnn_scripted.pt", "normal:1x3x8x8");
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("threads=1,seconds=0.1")};
    plan.profile = true;
    plan.profileOptions.calls = kCalls;
    plan.profileOptions.measurePeak = false;
    std::vector<twb::Profile> profiles;
    twb::PlanCallbacks callbacks;
    callbacks.stepFinished = [&](const twb::PlanStep& s) { profiles.push_back(s.profile); };
    const twb::Report report = twb::runPlan(l.model, l.specs, l.binding, plan, callbacks);
    QVERIFY(report.profiles.front().events.empty()); // reports do not carry events
    QCOMPARE(profiles.size(), std::size_t(1));
    QTemporaryDir dir;
    const std::string path = dir.filePath("trace.json").toStdString();
    twb::writeChromeTrace(path, profiles);
    std::ifstream in(path);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::vector<nlohmann::json> forwards, ops;
    for (const auto& e : j.at("traceEvents")) {
        if (e.at("ph") != "X") continue;
        (e.at("cat") == "forward" ? forwards : ops).push_back(e);
    }
    QCOMPARE(int(forwards.size()), kCalls);
    int nested = 0;
    for (const auto& o : ops) {
        if (o.at("cat") != "operator") continue;
        for (const auto& f : forwards)
            if (o.at("tid") == f.at("tid") && o.at("ts").get<double>() >= f.at("ts").get<double>() &&
                o.at("ts").get<double>() + o.at("dur").get<double>() <=
                    f.at("ts").get<double>() + f.at("dur").get<double>() + 1)
                ++nested;
    }
    QVERIFY2(nested >= 5 * kCalls, std::to_string(nested).c_str());
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::writeChromeTrace(path, report.profiles));
}

void TestProfile::reportsKeepProfilesAndOldOnesRead() {
    const Loaded l = load("cnn_scripted.pt", "normal:1x3x8x8");
    const twb::Report r = profile(l, {"jit=off"});
    const twb::Report back = twb::reportFromJson(twb::reportToJson(r));
    QCOMPARE(back.schemaVersion, twb::Report::kSchemaVersion);
    QCOMPARE(back.profiles.size(), std::size_t(1));
    const auto& a = r.profiles.front();
    const auto& b = back.profiles.front();
    QCOMPARE(b.label, a.label);
    QCOMPARE(b.operators.size(), a.operators.size());
    QCOMPARE(b.operators.front().name, a.operators.front().name);
    QCOMPARE(b.operators.front().selfNs, a.operators.front().selfNs);
    QCOMPARE(b.modelFlops, a.modelFlops);
    QCOMPARE(b.modules.size(), a.modules.size());
    QCOMPARE(b.lines.size(), a.lines.size());
    QCOMPARE(b.roofline.sentence, a.roofline.sentence);
    // A version 1 report, from before profiles, still reads.
    nlohmann::json v1 = nlohmann::json::parse(twb::reportToJson(r));
    v1["schema_version"] = 1;
    v1.erase("profiles");
    const twb::Report old = twb::reportFromJson(v1.dump());
    QCOMPARE(old.runs.size(), std::size_t(1));
    QVERIFY(old.profiles.empty());
}

void TestProfile::machinePeakIsMeasuredAndCached() {
    QTemporaryDir dir;
    const twb::MachinePeak first = twb::machinePeak(1, dir.path().toStdString());
    QVERIFY(first.measured);
    QVERIFY(!first.fromCache);
    QVERIFY(first.gflops > 0.1);
    QVERIFY(first.bandwidthGBs > 0.1);
    QCOMPARE(first.threads, 1);
    const twb::MachinePeak second = twb::machinePeak(1, dir.path().toStdString());
    QVERIFY(second.fromCache);
    QCOMPARE(second.gflops, first.gflops);
    QCOMPARE(second.fingerprint, first.fingerprint);
    QCOMPARE(first.gflops, std::max(first.mmGflops, first.convGflops));
    QVERIFY(!first.source.empty());
    qInfo("peak %.1f GFLOP/s by %s (matrix multiply %.1f, convolution %.1f), copy %.1f GB/s at one thread",
          first.gflops, first.source.c_str(), first.mmGflops, first.convGflops, first.bandwidthGBs);
}

TWB_TEST_MAIN(TestProfile)
#include "tst_profile.moc"
