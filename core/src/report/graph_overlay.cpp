// The figures drawn over a graph's nodes: where a profile's time went, how near the peak each node ran,
// and how far a divergence run's second configuration strayed.
#include "twb/divergence.h"
#include "twb/graph_layout.h"
#include "twb/profile.h"

#include <algorithm>
#include <map>

namespace twb {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

// Each group's figure from its nodes' and submodules': summed, or the largest.
void rollUp(const ModelGraph& graph, GraphOverlay& o, bool largest) {
    o.group.assign(graph.groups.size(), kNone);
    auto add = [&](double& into, double v) {
        if (std::isnan(v)) return;
        into = std::isnan(into) ? v : largest ? std::max(into, v) : into + v;
    };
    for (std::size_t g = 0; g < graph.groups.size(); ++g)
        for (int n : graph.groups[g].nodes)
            add(o.group[g], o.node[std::size_t(n)]);
    // Preorder: each child comes after its parent, so walking back adds every subtree before its parent.
    for (std::size_t g = graph.groups.size(); g-- > 1;)
        add(o.group[std::size_t(graph.groups[g].parent)], o.group[g]);
    o.max = 0;
    for (const auto* figures : {&o.node, &o.group})
        for (double v : *figures)
            if (std::isfinite(v)) o.max = std::max(o.max, v);
}

// Each profiled operator called by TorchScript directly, placed on a node of its source line (of its own
// kind and module first), with the operators it called: their self time and the FLOPs counted for it.
struct Placed {
    std::vector<double> ns, flops;
    double unplacedNs = 0;
    bool any = false;
};

Placed place(const ModelGraph& graph, const Profile& profile) {
    Placed p;
    p.ns.assign(graph.nodes.size(), 0);
    p.flops.assign(graph.nodes.size(), 0);
    std::map<std::string, std::vector<int>> atLine;
    for (std::size_t n = 0; n < graph.nodes.size(); ++n)
        if (!graph.nodes[n].location.empty()) atLine[graph.nodes[n].location].push_back(int(n));
    auto nodeFor = [&](const ProfileEvent& e) {
        const auto line = atLine.find(e.location);
        if (line == atLine.end()) return -1;
        int best = -1, bestScore = -1;
        for (int n : line->second) {
            const GraphNode& node = graph.nodes[std::size_t(n)];
            const int score = 2 * (node.kind == e.name) + (node.scope == e.module);
            if (score > bestScore) best = n, bestScore = score;
        }
        return best;
    };
    // Events in start order per thread; an operator within a placed one's span belongs to it.
    std::vector<const ProfileEvent*> events;
    for (const auto& e : profile.events)
        if (e.kind == EventKind::Operator) events.push_back(&e);
    std::stable_sort(events.begin(), events.end(), [](const ProfileEvent* a, const ProfileEvent* b) {
        // A caller before the operators it calls, even where they start at the same time.
        if (a->thread != b->thread) return a->thread < b->thread;
        return a->startNs != b->startNs ? a->startNs < b->startNs : a->durationNs > b->durationNs;
    });
    struct Open {
        double end;
        int node;
        double flops; // the largest count along this call: nested operators count the same work again
    };
    std::vector<Open> stack;
    uint64_t thread = 0;
    auto closeTop = [&] {
        if (stack.size() == 1 && stack.back().node >= 0)
            p.flops[std::size_t(stack.back().node)] += stack.back().flops;
        stack.pop_back();
    };
    for (const ProfileEvent* e : events) {
        if (e->thread != thread) {
            while (!stack.empty())
                closeTop();
            thread = e->thread;
        }
        while (!stack.empty() && (stack.back().end <= e->startNs || e->depth == 0))
            closeTop(); // an operator TorchScript called itself starts a call of its own
        const int node = stack.empty() ? nodeFor(*e) : stack.front().node;
        if (node >= 0) {
            p.ns[std::size_t(node)] += e->selfNs;
            p.any = true;
        } else {
            p.unplacedNs += e->selfNs;
        }
        if (!stack.empty()) stack.front().flops = std::max(stack.front().flops, e->flops);
        stack.push_back({e->startNs + e->durationNs, node, e->flops});
    }
    while (!stack.empty())
        closeTop();
    return p;
}

std::string microseconds(double ns, int calls) {
    return std::to_string(int64_t(ns / calls / 1000)) + " µs";
}

} // namespace

double GraphOverlay::value(const LayoutItem& item) const {
    const std::vector<double>* figures = item.kind == LayoutItem::Kind::Node     ? &node
                                         : item.kind == LayoutItem::Kind::Module ? &group
                                                                                 : nullptr;
    if (!figures || item.index < 0 || std::size_t(item.index) >= figures->size()) return kNone;
    return (*figures)[std::size_t(item.index)];
}

GraphOverlay selfTimeOverlay(const ModelGraph& graph, const Profile& profile) {
    GraphOverlay o;
    o.kind = GraphOverlay::Kind::SelfTime;
    o.unit = "µs per forward";
    o.node.assign(graph.nodes.size(), kNone);
    const int calls = std::max(1, profile.calls);
    if (!profile.events.empty()) {
        const Placed p = place(graph, profile);
        for (std::size_t n = 0; n < graph.nodes.size(); ++n)
            if (p.ns[n] > 0) o.node[n] = p.ns[n] / calls / 1000;
        o.note = "Operators' self time, placed on the node of their source line";
        if (p.unplacedNs > 0)
            o.note += "; " + microseconds(p.unplacedNs, calls) + " had no line in this graph";
    } else {
        // Only the line table: each line's time split evenly among its nodes.
        std::map<std::string, std::vector<int>> atLine;
        for (std::size_t n = 0; n < graph.nodes.size(); ++n)
            atLine[graph.nodes[n].location].push_back(int(n));
        double unplaced = 0;
        for (const auto& line : profile.lines) {
            const auto at = atLine.find(line.location);
            if (line.location.empty() || at == atLine.end()) {
                unplaced += line.selfNs;
                continue;
            }
            for (int n : at->second)
                o.node[std::size_t(n)] = line.selfNs / double(at->second.size()) / calls / 1000;
        }
        o.note = "Each source line's time split evenly among its nodes (the profile kept no events)";
        if (unplaced > 0) o.note += "; " + microseconds(unplaced, calls) + " had no line in this graph";
    }
    rollUp(graph, o, false);
    return o;
}

GraphOverlay percentOfPeakOverlay(const ModelGraph& graph, const Profile& profile) {
    GraphOverlay o;
    o.kind = GraphOverlay::Kind::PercentOfPeak;
    o.unit = "% of peak";
    o.node.assign(graph.nodes.size(), kNone);
    o.group.assign(graph.groups.size(), kNone);
    if (profile.peak.gflops <= 0 || profile.events.empty()) {
        o.note = profile.peak.gflops <= 0 ? "The profile has no measured machine peak"
                                          : "The profile kept no events to count each node's FLOPs";
        return o;
    }
    const Placed p = place(graph, profile);
    auto percent = [&](double flops, double ns) {
        return flops > 0 && ns > 0 ? flops / ns / profile.peak.gflops * 100 : kNone;
    };
    for (std::size_t n = 0; n < graph.nodes.size(); ++n)
        o.node[n] = percent(p.flops[n], p.ns[n]);
    // A module's rate is its FLOPs over its time, not a sum of its nodes' rates.
    std::vector<double> flops(graph.groups.size(), 0), ns(graph.groups.size(), 0);
    for (std::size_t g = 0; g < graph.groups.size(); ++g)
        for (int n : graph.groups[g].nodes)
            flops[g] += p.flops[std::size_t(n)], ns[g] += p.ns[std::size_t(n)];
    for (std::size_t g = graph.groups.size(); g-- > 1;) {
        flops[std::size_t(graph.groups[g].parent)] += flops[g];
        ns[std::size_t(graph.groups[g].parent)] += ns[g];
    }
    for (std::size_t g = 0; g < graph.groups.size(); ++g)
        o.group[g] = percent(flops[g], ns[g]);
    o.note = "FLOPs over self time, against the machine's peak of " +
             std::to_string(int64_t(profile.peak.gflops)) + " GFLOP/s; nodes without counted FLOPs have none";
    o.max = 0;
    for (const auto* figures : {&o.node, &o.group})
        for (double v : *figures)
            if (std::isfinite(v)) o.max = std::max(o.max, v);
    return o;
}

GraphOverlay errorOverlay(const DivergenceReport& report) {
    const ModelGraph& graph = report.graphA;
    GraphOverlay o;
    o.kind = GraphOverlay::Kind::Error;
    o.unit = "max relative error";
    o.node.assign(graph.nodes.size(), kNone);
    int unmatched = 0;
    for (const auto& n : report.nodes) {
        if (n.node < 0 || std::size_t(n.node) >= graph.nodes.size()) continue;
        if (!n.matched) {
            ++unmatched;
            continue;
        }
        // Infinities and NaNs on one side only count as the worst error there is.
        const bool broken = n.nanA != n.nanB || n.infA != n.infB;
        const double e = std::isnan(n.maxRel) || broken ? std::numeric_limits<double>::infinity() : n.maxRel;
        double& at = o.node[std::size_t(n.node)];
        at = std::isnan(at) ? e : std::max(at, e);
    }
    rollUp(graph, o, true);
    o.reference = report.tolerance.rtol;
    o.note = "The largest relative error of each node's outputs, '" + report.labelB + "' against '" +
             report.labelA + "'";
    if (unmatched > 0)
        o.note += "; " + std::to_string(unmatched) + " tensors were not computed by the second";
    return o;
}

} // namespace twb
