// The graph laid out by Graphviz's dot for the graph view: closed modules as one box, open ones framed,
// edges from box to box, layouts kept per view; and the figures drawn over the nodes (self time, % of
// peak, divergence error).
#include "synthetic_graph.h"
#include "test_support.h"

#include "twb/divergence.h"
#include "twb/error.h"
#include "twb/graph_layout.h"
#include "twb/model.h"
#include "twb/profile.h"

#include <cmath>

class TestGraphLayout : public QObject {
    Q_OBJECT
private slots:
    void closedModulesAreOneBox();
    void openModuleIsFramedAroundItsNodes();
    void layoutsAreKeptPerView();
    void largeGraphLaysOutWhatShows();
    void selfTimeFollowsTheEvents();
    void selfTimeFromLinesAlone();
    void percentOfPeakCountsEachCallOnce();
    void errorOverlayTakesTheWorst();
    void divergenceReportCarriesItsGraph();
};

namespace {

using Kind = twb::LayoutItem::Kind;

bool overlap(const twb::LayoutItem& a, const twb::LayoutItem& b) {
    return std::abs(a.x - b.x) * 2 < (a.width + b.width) - 1 &&
           std::abs(a.y - b.y) * 2 < (a.height + b.height) - 1;
}

// Every item inside the drawing and none over another; every edge from its tail's box to its head's.
void checkDrawable(const twb::GraphLayout& l) {
    QVERIFY(l.width > 0 && l.height > 0);
    for (std::size_t i = 0; i < l.items.size(); ++i) {
        const auto& a = l.items[i];
        QVERIFY2(a.x - a.width / 2 >= -1 && a.x + a.width / 2 <= l.width + 1 && a.y - a.height / 2 >= -1 &&
                     a.y + a.height / 2 <= l.height + 1,
                 a.label.c_str());
        for (std::size_t j = i + 1; j < l.items.size(); ++j)
            QVERIFY2(!overlap(a, l.items[j]), (a.label + " over " + l.items[j].label).c_str());
    }
    auto near = [](const twb::LayoutItem& item, std::pair<double, double> p) {
        return std::abs(p.first - item.x) <= item.width / 2 + 12 &&
               std::abs(p.second - item.y) <= item.height / 2 + 12;
    };
    for (const auto& e : l.edges) {
        QVERIFY(e.points.size() >= 4);
        QVERIFY(near(l.items[std::size_t(e.from)], e.points.front()));
        QVERIFY(near(l.items[std::size_t(e.to)], e.points.back()));
    }
}

int itemOf(const twb::GraphLayout& l, Kind kind, const std::string& label) {
    for (std::size_t i = 0; i < l.items.size(); ++i)
        if (l.items[i].kind == kind && l.items[i].label.rfind(label, 0) == 0) return int(i);
    return -1;
}

int groupOf(const twb::ModelGraph& g, const std::string& scope) {
    for (std::size_t i = 0; i < g.groups.size(); ++i)
        if (g.groups[i].scope == scope) return int(i);
    return -1;
}

twb::ProfileEvent opEvent(const std::string& name, double start, double duration, double self, int depth,
                          const std::string& location, double flops = 0) {
    twb::ProfileEvent e;
    e.name = name;
    e.startNs = start;
    e.durationNs = duration;
    e.selfNs = self;
    e.depth = depth;
    e.location = location;
    e.flops = flops;
    return e;
}

// conv (two nodes on line 5, conv2d and add), relu on line 9 in the model itself.
twb::ModelGraph smallGraph() {
    twb::ModelGraph g;
    g.values = {{"x", "Tensor", -1, {}, ""},
                {"a", "Tensor", 0, {}, ""},
                {"b", "Tensor", 1, {}, ""},
                {"c", "Tensor", 2, {}, ""}};
    g.inputs = {0};
    g.outputs = {3};
    g.nodes.resize(3);
    g.nodes[0] = {"aten::conv2d", "m.py:5", "conv", "Conv2d", {0}, {1}, false, {}, {}};
    g.nodes[1] = {"aten::add", "m.py:5", "conv", "Conv2d", {1}, {2}, false, {}, {}};
    g.nodes[2] = {"aten::relu", "m.py:9", "", "", {2}, {3}, false, {}, {}};
    g.groups = twb::groupByModule(g.nodes);
    return g;
}

} // namespace

void TestGraphLayout::closedModulesAreOneBox() {
    const twb::ModelGraph g = twb::modelGraph(twb::Model::load(TWB_DATA("cnn_scripted.pt")));
    const twb::GraphLayout l = twb::layoutGraph(g, {});
    checkDrawable(l);
    // The input, the three modules closed (bn, conv, head), the model's own nodes, the output.
    int modules = 0;
    for (const auto& item : l.items)
        modules += item.kind == Kind::Module;
    QCOMPARE(modules, 3);
    const int conv = itemOf(l, Kind::Module, "conv · Conv2d");
    QVERIFY(conv >= 0);
    QVERIFY(l.frames.empty());
    for (std::size_t n = 0; n < g.nodes.size(); ++n) {
        const int item = l.itemOfNode[n];
        QVERIFY(item >= 0);
        if (g.nodes[n].scope == "conv") QCOMPARE(item, conv);
        if (g.nodes[n].scope.empty()) QCOMPARE(l.items[std::size_t(item)].kind, Kind::Node);
    }
    // Top to bottom: the input above the convolution, the convolution above the output.
    const int input = itemOf(l, Kind::Input, "x"), output = itemOf(l, Kind::Output, "output");
    QVERIFY(input >= 0 && output >= 0);
    QVERIFY(l.items[std::size_t(input)].y < l.items[std::size_t(conv)].y);
    QVERIFY(l.items[std::size_t(conv)].y < l.items[std::size_t(output)].y);
    bool inputToConv = false;
    for (const auto& e : l.edges)
        inputToConv |= e.from == input && e.to == conv;
    QVERIFY(inputToConv);
}

void TestGraphLayout::openModuleIsFramedAroundItsNodes() {
    const twb::ModelGraph g = twb::modelGraph(twb::Model::load(TWB_DATA("cnn_scripted.pt")));
    const int conv = groupOf(g, "conv");
    const twb::GraphLayout l = twb::layoutGraph(g, twb::groupsToShow(g, conv));
    checkDrawable(l);
    QCOMPARE(itemOf(l, Kind::Module, "conv"), -1);
    QCOMPARE(l.frames.size(), std::size_t(1));
    const twb::LayoutFrame& f = l.frames[0];
    QCOMPARE(f.group, conv);
    QCOMPARE(f.label, std::string("conv · Conv2d"));
    int inside = 0;
    for (int n : g.groups[std::size_t(conv)].nodes) {
        const auto& item = l.items[std::size_t(l.itemOfNode[std::size_t(n)])];
        QCOMPARE(item.kind, Kind::Node);
        QVERIFY(item.x > f.x && item.x < f.x + f.width && item.y > f.y && item.y < f.y + f.height);
        ++inside;
    }
    QVERIFY(inside > 0);
}

void TestGraphLayout::layoutsAreKeptPerView() {
    auto graph = std::make_shared<const twb::ModelGraph>(twbtest::syntheticGraph(8, 10));
    twb::GraphLayouts layouts(graph);
    const auto closed = layouts.layout({});
    QCOMPARE(layouts.layout({0}), closed); // the model's group is always open
    const int a1 = groupOf(*graph, "blocks.1.attn"), b1 = groupOf(*graph, "blocks.1");
    QVERIFY(a1 > 0 && b1 > 0);
    // blocks.1.attn without blocks.1 and blocks open is still the closed view.
    QCOMPARE(layouts.layout({a1}), closed);
    const auto open = layouts.layout(twb::groupsToShow(*graph, a1));
    QVERIFY(open != closed);
    QCOMPARE(layouts.layout({a1, b1, groupOf(*graph, "blocks")}), open);
    QCOMPARE(layouts.cached(), std::size_t(2));
    QCOMPARE(twb::groupOfNode(*graph, graph->groups[std::size_t(a1)].nodes[0]), a1);
}

void TestGraphLayout::largeGraphLaysOutWhatShows() {
    const twb::ModelGraph g = twbtest::syntheticGraph(100, 50); // 5,000 nodes
    QCOMPARE(g.nodes.size(), std::size_t(5000));
    const twb::GraphLayout top = twb::layoutGraph(g, {});
    QCOMPARE(top.items.size(), std::size_t(3)); // x, blocks (closed), output
    const int blocks = groupOf(g, "blocks");
    const twb::GraphLayout one =
        twb::layoutGraph(g, {blocks, groupOf(g, "blocks.7"), groupOf(g, "blocks.7.mlp")});
    checkDrawable(one);
    // 49 blocks closed, blocks.7.attn closed, blocks.7.mlp's 50 nodes, the input and the output.
    QCOMPARE(one.items.size(), std::size_t(49 + 1 + 50 + 2));
    QCOMPARE(one.frames.size(), std::size_t(3));
}

void TestGraphLayout::selfTimeFollowsTheEvents() {
    const twb::ModelGraph g = smallGraph();
    twb::Profile p;
    p.calls = 2;
    // conv2d on line 5 with a nested convolution; add on line 5; relu on line 9; one without a line.
    p.events = {
        opEvent("aten::conv2d", 0, 1000, 200, 0, "m.py:5"),
        opEvent("aten::convolution", 100, 800, 800, 1, ""), opEvent("aten::add", 1000, 400, 400, 0, "m.py:5"),
        opEvent("aten::relu", 1500, 100, 100, 0, "m.py:9"), opEvent("aten::empty", 1700, 50, 50, 0, "")};
    const twb::GraphOverlay o = twb::selfTimeOverlay(g, p);
    QCOMPARE(o.node[0], 0.5); // (200 + 800) ns over two calls, in µs
    QCOMPARE(o.node[1], 0.2); // add, matched by kind on the shared line
    QCOMPARE(o.node[2], 0.05);
    QCOMPARE(o.group[std::size_t(groupOf(g, "conv"))], 0.7);
    QCOMPARE(o.group[0], 0.75);
    QCOMPARE(o.max, 0.75);
    QVERIFY2(twbtest::contains(o.note, "had no line"), o.note.c_str());
    twb::LayoutItem module;
    module.kind = Kind::Module;
    module.index = groupOf(g, "conv");
    QCOMPARE(o.value(module), 0.7);
}

void TestGraphLayout::selfTimeFromLinesAlone() {
    const twb::ModelGraph g = smallGraph();
    twb::Profile p;
    p.calls = 1;
    twb::LineStat five;
    five.location = "m.py:5";
    five.selfNs = 3000;
    p.lines = {five};
    const twb::GraphOverlay o = twb::selfTimeOverlay(g, p);
    QCOMPARE(o.node[0], 1.5);
    QCOMPARE(o.node[1], 1.5);
    QVERIFY(std::isnan(o.node[2]));
    QVERIFY2(twbtest::contains(o.note, "split evenly"), o.note.c_str());
}

void TestGraphLayout::percentOfPeakCountsEachCallOnce() {
    const twb::ModelGraph g = smallGraph();
    twb::Profile p;
    p.calls = 1;
    p.peak.gflops = 100; // 100 FLOP per ns
    // conv2d and its nested convolution both count the same 50,000 FLOPs in 1,000 ns: 50% of peak.
    p.events = {opEvent("aten::conv2d", 0, 1000, 200, 0, "m.py:5", 50000),
                opEvent("aten::convolution", 100, 800, 800, 1, "", 50000),
                opEvent("aten::relu", 1500, 100, 100, 0, "m.py:9")};
    const twb::GraphOverlay o = twb::percentOfPeakOverlay(g, p);
    QCOMPARE(o.node[0], 50.0);
    QVERIFY(std::isnan(o.node[2])); // no FLOPs counted
    QCOMPARE(o.group[0], 50000.0 / 1100 / 100 * 100);
    p.peak.gflops = 0;
    QVERIFY(std::isnan(twb::percentOfPeakOverlay(g, p).node[0]));
}

void TestGraphLayout::errorOverlayTakesTheWorst() {
    twb::DivergenceReport r;
    r.graphA = smallGraph();
    r.labelA = "A";
    r.labelB = "B";
    twb::NodeDivergence n;
    n.matched = true;
    n.node = 0;
    n.maxRel = 0.001;
    r.nodes.push_back(n);
    n.node = 2;
    n.maxRel = std::nan(""); // infinities against numbers
    r.nodes.push_back(n);
    n.node = 1;
    n.matched = false;
    r.nodes.push_back(n);
    // Infinities in B alone (an overflow): the worst, whatever the finite elements' error.
    n.node = 0;
    n.output = 1;
    n.matched = true;
    n.maxRel = 0;
    n.infB = 3;
    r.nodes.push_back(n);
    twb::GraphOverlay o = twb::errorOverlay(r);
    QVERIFY(std::isinf(o.node[0]));
    r.nodes.pop_back();
    o = twb::errorOverlay(r);
    QCOMPARE(o.node[0], 0.001);
    QVERIFY(std::isnan(o.node[1]));
    QVERIFY(std::isinf(o.node[2]));
    QVERIFY(std::isinf(o.group[0]));
    QCOMPARE(o.group[std::size_t(groupOf(r.graphA, "conv"))], 0.001);
    QCOMPARE(o.max, 0.001);
    QVERIFY2(twbtest::contains(o.note, "1 tensors were not computed"), o.note.c_str());
}

void TestGraphLayout::divergenceReportCarriesItsGraph() {
    twb::DivergenceReport r;
    r.graphA = smallGraph();
    r.graphA.values[1].shape = {1, 8, 4, 4};
    twb::NodeDivergence n;
    n.node = 2;
    r.nodes.push_back(n);
    const twb::DivergenceReport back = twb::divergenceFromJson(twb::divergenceToJson(r));
    QCOMPARE(back.graphA.nodes.size(), std::size_t(3));
    QCOMPARE(back.graphA.nodes[1].kind, std::string("aten::add"));
    QCOMPARE(back.graphA.values[1].shape, (std::vector<int64_t>{1, 8, 4, 4}));
    QCOMPARE(back.graphA.groups.size(), r.graphA.groups.size());
    // A hostile report: a node's input out of range is refused, not followed.
    std::string json = twb::divergenceToJson(r, -1);
    const std::string from = "\"inputs\":[1],\"outputs\":[2]";
    const auto at = json.find(from);
    QVERIFY(at != std::string::npos);
    json.replace(at, from.size(), "\"inputs\":[99],\"outputs\":[2]");
    try {
        twb::divergenceFromJson(json, "hostile.json");
        QFAIL("a graph naming a value it lacks was read");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "hostile.json"), e.what());
    }
}

TWB_TEST_MAIN(TestGraphLayout)
#include "tst_graph_layout.moc"
