// What the graph view costs on a model of 5,000 nodes (50 blocks of two modules of 50 nodes, each node
// fed by the one before and the one two before, as residual models are): dot's layout of what shows
// (the blocks closed, one block open, every module open), a layout asked again (kept), and the first
// paint: the scene built from the layout and the view rendered. Each figure is the median of three.
// Usage (offscreen):
//   QT_QPA_PLATFORM=offscreen bench_graph_view [NODES (5000)] [--screenshot FILE.png]
#include "graph_view.h"
#include "synthetic_graph.h"

#include "twb/graph_layout.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QImage>
#include <QTest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

double median3(const std::function<double()>& f) {
    std::vector<double> v{f(), f(), f()};
    std::sort(v.begin(), v.end());
    return v[1];
}

double secondsOf(const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int groupOf(const twb::ModelGraph& g, const std::string& scope) {
    for (std::size_t i = 0; i < g.groups.size(); ++i)
        if (g.groups[i].scope == scope) return int(i);
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    int nodes = 5000;
    QString screenshot;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--screenshot" && i + 1 < argc)
            screenshot = argv[++i];
        else
            nodes = std::stoi(a);
    }
    const twb::ModelGraph g = twbtest::syntheticGraph(nodes / 50, 50);
    std::printf("graph: %zu nodes, %zu modules\n", g.nodes.size(), g.groups.size());

    twb::OpenGroups all;
    for (std::size_t i = 1; i < g.groups.size(); ++i)
        all.push_back(int(i));
    const twb::OpenGroups oneBlock = twb::groupsToShow(g, groupOf(g, "blocks.7.attn"));
    std::size_t shown = 0;
    const double closed =
        median3([&] { return secondsOf([&] { shown = twb::layoutGraph(g, {}).items.size(); }); });
    std::printf("layout, blocks closed (%zu boxes): %.1f ms\n", shown, closed * 1e3);
    const double one =
        median3([&] { return secondsOf([&] { shown = twb::layoutGraph(g, oneBlock).items.size(); }); });
    std::printf("layout, one block open (%zu boxes): %.1f ms\n", shown, one * 1e3);
    const double whole =
        median3([&] { return secondsOf([&] { shown = twb::layoutGraph(g, all).items.size(); }); });
    std::printf("layout, every module open (%zu boxes): %.0f ms\n", shown, whole * 1e3);
    twb::GraphLayouts kept(std::make_shared<const twb::ModelGraph>(g));
    kept.layout(all);
    const double again = median3([&] { return secondsOf([&] { kept.layout(all); }); });
    std::printf("layout asked again (kept): %.3f ms\n", again * 1e3);

    // First paint: the view given the graph with every module open, until its viewport is rendered.
    std::vector<double> paints, renders;
    for (int round = 0; round < 3; ++round) {
        twbui::GraphView view;
        view.resize(1400, 900);
        view.show();
        QElapsedTimer clock;
        clock.start();
        view.setGraph(std::make_shared<const twb::ModelGraph>(g));
        while (!view.layout() || view.isLayingOut())
            QTest::qWait(1);
        view.openAll();
        while (view.isLayingOut() || view.layout()->items.size() < g.nodes.size())
            QTest::qWait(1);
        const double laidOut = clock.nsecsElapsed() / 1e9;
        QImage image(view.size(), QImage::Format_ARGB32);
        QElapsedTimer render;
        render.start();
        view.render(&image);
        renders.push_back(render.nsecsElapsed() / 1e9);
        paints.push_back(laidOut + renders.back());
        if (round == 0 && !screenshot.isEmpty()) image.save(screenshot);
    }
    std::sort(paints.begin(), paints.end());
    std::sort(renders.begin(), renders.end());
    std::printf("first paint, every module open: %.0f ms (of which the render %.0f ms)\n", paints[1] * 1e3,
                renders[1] * 1e3);
    return 0;
}
