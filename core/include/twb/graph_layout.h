// A model's graph laid out for drawing by Graphviz's dot, as plain values: what shows is the nodes of the
// modules that are open, each closed module as one box, the graph's inputs and outputs, and frames around
// the open modules. Only what shows is laid out, and each layout is kept (GraphLayouts), so opening and
// closing modules of a large model stays quick. The figures drawn over the nodes (overlays) are computed
// here too: self time and % of peak from a profile, the error of a divergence run.
#pragma once

#include "twb/graph.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace twb {

struct Profile;
struct DivergenceReport;

struct LayoutItem {
    enum class Kind { Node, Module, Input, Output };
    Kind kind = Kind::Node;
    int index = -1;      // a node, a group (a closed module), or the graph's input or output position
    double x = 0, y = 0; // the box's centre, in points; y grows downwards
    double width = 0, height = 0; // in points
    std::string label, detail;    // "conv2d" and "[1, 8, 8, 8]"; "layer1 · Sequential" and "42 nodes"
};

// An open module: a frame around what it holds.
struct LayoutFrame {
    int group = -1;
    double x = 0, y = 0, width = 0, height = 0; // top-left corner and size, in points
    std::string label;
};

struct LayoutEdge {
    int from = -1, to = -1; // into GraphLayout::items
    // A cubic B-spline from the tail, 1 + 3k control points, then the arrow's tip where dot gives one.
    std::vector<std::pair<double, double>> points;
};

struct GraphLayout {
    std::vector<LayoutItem> items;
    std::vector<LayoutFrame> frames;
    std::vector<LayoutEdge> edges;
    std::vector<int> itemOfNode; // each node of the graph: the item that shows it (itself or a closed module)
    double width = 0, height = 0;
    double seconds = 0; // the time dot took
};

// Which groups show open: the model's (group 0) always; a group whose parent is closed shows closed.
using OpenGroups = std::vector<int>;

// The item each node shows as under `open`: the node itself when every module it lies in is open, else
// the outermost closed one. Items are numbered: inputs, then nodes and closed modules in graph order,
// then outputs.
GraphLayout layoutGraph(const ModelGraph& graph, const OpenGroups& open);

// A graph with the layouts made of it so far, one per set of open groups. Safe to use from several
// threads; dot itself runs one layout at a time.
class GraphLayouts {
public:
    explicit GraphLayouts(std::shared_ptr<const ModelGraph> graph)
        : m_graph(std::move(graph)) {}
    const ModelGraph& graph() const { return *m_graph; }
    std::shared_ptr<const ModelGraph> graphPtr() const { return m_graph; }
    std::shared_ptr<const GraphLayout> layout(OpenGroups open);
    std::size_t cached() const;

private:
    std::shared_ptr<const ModelGraph> m_graph;
    mutable std::mutex m_mutex;
    std::map<OpenGroups, std::shared_ptr<const GraphLayout>> m_layouts;
};

// The groups that lead to a node or group: every ancestor, the model's included, so that opening them
// shows it.
OpenGroups groupsToShow(const ModelGraph& graph, int group);
// The group a node lies in directly.
int groupOfNode(const ModelGraph& graph, int node);

// A figure per node, to colour the graph by; NaN where there is none. Closed modules show the total of
// their nodes (max for errors).
struct GraphOverlay {
    enum class Kind { None, SelfTime, PercentOfPeak, Error };
    Kind kind = Kind::None;
    std::vector<double> node;  // per node
    std::vector<double> group; // per group, its nodes and submodules' taken together
    std::string unit;          // "µs per forward", "% of peak", "max relative error"
    std::string note;          // what could not be placed, or how it was found
    double max = 0;            // the largest finite figure, nodes and groups
    // Errors: the tolerance (relative), which colours are drawn around; 0 for the other kinds.
    double reference = 0;
    double value(const LayoutItem& item) const;
};

// Each node's operators' self time per forward, from the profile's events (operators called from the
// node's source line, of its kind first); without events, each line's time split among its nodes.
// `graph` is best the graph of the profiled configuration; on the model as saved, the operators of nodes
// that freeze or optimize_for_inference rewrote still find their source lines.
GraphOverlay selfTimeOverlay(const ModelGraph& graph, const Profile& profile);
// Each node's FLOP rate as a share of the machine's peak, where its operators' FLOPs are counted.
GraphOverlay percentOfPeakOverlay(const ModelGraph& graph, const Profile& profile);
// Each node's largest relative error in a divergence run, on the report's first configuration's graph.
GraphOverlay errorOverlay(const DivergenceReport& report);

} // namespace twb
