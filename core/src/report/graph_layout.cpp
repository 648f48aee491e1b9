#include "twb/graph_layout.h"

#include "twb/error.h"
#include "twb/format.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>

namespace twb {
namespace {

// Graphviz keeps global state: one layout at a time, in one context for the program's life.
std::mutex g_dot;
GVC_t* context() {
    static GVC_t* const gvc = gvContext();
    return gvc;
}

// Graphviz 2.4x takes its strings as char*; it copies them.
void set(void* object, std::string name, std::string value) {
    std::string none;
    agsafeset(object, name.data(), value.data(), none.data());
}
void declare(Agraph_t* g, int kind, std::string name, std::string value) {
    agattr(g, kind, name.data(), value.data());
}

std::string inches(double points) {
    return formatFixed(points / 72.0, 3);
}

// Which groups show open: the model's always, any other when it and every group above it are open.
std::vector<char> shownOpen(const ModelGraph& graph, const OpenGroups& open) {
    std::vector<char> asked(graph.groups.size(), 0), shown(graph.groups.size(), 0);
    for (int g : open)
        if (g >= 0 && std::size_t(g) < asked.size()) asked[std::size_t(g)] = 1;
    for (std::size_t g = 0; g < graph.groups.size(); ++g) {
        const int parent = graph.groups[g].parent;
        shown[g] = parent < 0 || (asked[g] && shown[std::size_t(parent)]);
    }
    return shown;
}

std::string shortKind(const std::string& kind) {
    const auto colons = kind.find("::");
    return colons == std::string::npos || kind.compare(0, colons, "aten") != 0 ? kind
                                                                               : kind.substr(colons + 2);
}

std::string shapeText(const ModelGraph& graph, const std::vector<int>& values) {
    for (int v : values) {
        const GraphValue& value = graph.values[std::size_t(v)];
        if (value.shape.empty() && value.dtype.empty()) continue;
        std::string s = "[";
        for (std::size_t i = 0; i < value.shape.size(); ++i)
            s += (i ? ", " : "") + (value.shape[i] < 0 ? std::string("?") : std::to_string(value.shape[i]));
        return s + "]";
    }
    return {};
}

// A box wide enough for its longer line in a 9-point sans font.
void size(LayoutItem& item) {
    const std::size_t chars = std::max(item.label.size(), item.detail.size());
    item.width = std::max(54.0, 6.2 * double(chars) + 16);
    item.height = item.detail.empty() ? 22 : 34;
}

} // namespace

GraphLayout layoutGraph(const ModelGraph& graph, const OpenGroups& open) {
    GraphLayout out;
    if (graph.groups.empty() && !graph.nodes.empty()) throw Error("the graph has no module groups");
    const std::vector<char> shown = shownOpen(graph, open);
    std::vector<int> groupOf(graph.nodes.size(), 0);
    for (std::size_t g = 0; g < graph.groups.size(); ++g)
        for (int n : graph.groups[g].nodes)
            groupOf[std::size_t(n)] = int(g);

    // The items: inputs, then nodes and closed modules as their first node comes, then outputs.
    std::vector<int> itemOfValue(graph.values.size(), -1), itemOfGroup(graph.groups.size(), -1);
    std::vector<int> containerOf; // each item's open group, which frames it
    for (std::size_t i = 0; i < graph.inputs.size(); ++i) {
        LayoutItem item;
        item.kind = LayoutItem::Kind::Input;
        item.index = int(i);
        const GraphValue& v = graph.values[std::size_t(graph.inputs[i])];
        item.label = v.name;
        item.detail = shapeText(graph, {graph.inputs[i]});
        if (item.detail.empty()) item.detail = v.type;
        itemOfValue[std::size_t(graph.inputs[i])] = int(out.items.size());
        out.items.push_back(item);
        containerOf.push_back(0);
    }
    out.itemOfNode.assign(graph.nodes.size(), -1);
    for (std::size_t n = 0; n < graph.nodes.size(); ++n) {
        // The outermost closed module above the node, if any.
        int closed = -1;
        for (int g = groupOf[n]; g >= 0; g = graph.groups[std::size_t(g)].parent)
            if (!shown[std::size_t(g)]) closed = g;
        if (closed >= 0) {
            if (itemOfGroup[std::size_t(closed)] < 0) {
                const GraphGroup& group = graph.groups[std::size_t(closed)];
                LayoutItem item;
                item.kind = LayoutItem::Kind::Module;
                item.index = closed;
                const auto dot = group.scope.rfind('.');
                item.label = (dot == std::string::npos ? group.scope : group.scope.substr(dot + 1)) +
                             (group.type.empty() ? "" : " · " + group.type);
                item.detail = std::to_string(group.totalNodes) + (group.totalNodes == 1 ? " node" : " nodes");
                itemOfGroup[std::size_t(closed)] = int(out.items.size());
                out.items.push_back(item);
                containerOf.push_back(group.parent);
            }
            out.itemOfNode[n] = itemOfGroup[std::size_t(closed)];
            continue;
        }
        const GraphNode& node = graph.nodes[n];
        LayoutItem item;
        item.kind = LayoutItem::Kind::Node;
        item.index = int(n);
        item.label = shortKind(node.kind);
        item.detail = shapeText(graph, node.outputs);
        out.itemOfNode[n] = int(out.items.size());
        out.items.push_back(item);
        containerOf.push_back(groupOf[n]);
    }
    const std::size_t firstOutput = out.items.size();
    for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
        LayoutItem item;
        item.kind = LayoutItem::Kind::Output;
        item.index = int(i);
        item.label = graph.outputs.size() == 1 ? "output" : "output " + std::to_string(i);
        item.detail = shapeText(graph, {graph.outputs[i]});
        out.items.push_back(item);
        containerOf.push_back(0);
    }
    for (auto& item : out.items)
        size(item);

    // The edges between items, once each.
    auto itemMaking = [&](int value) {
        const int producer = graph.values[std::size_t(value)].producer;
        return producer >= 0 ? out.itemOfNode[std::size_t(producer)] : itemOfValue[std::size_t(value)];
    };
    std::set<std::pair<int, int>> edges;
    for (std::size_t n = 0; n < graph.nodes.size(); ++n)
        for (int v : graph.nodes[n].inputs) {
            const int from = itemMaking(v), to = out.itemOfNode[n];
            if (from >= 0 && from != to) edges.emplace(from, to);
        }
    for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
        const int from = itemMaking(graph.outputs[i]);
        if (from >= 0) edges.emplace(from, int(firstOutput + i));
    }

    const auto started = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(g_dot);
    GVC_t* gvc = context();
    if (!gvc) throw Error("Graphviz could not start (gvContext failed)");
    Agraph_t* g = agopen(std::string("model").data(), Agdirected, nullptr);
    struct Close {
        GVC_t* gvc;
        Agraph_t* g;
        bool laidOut = false;
        ~Close() {
            if (laidOut) gvFreeLayout(gvc, g);
            agclose(g);
        }
    } close{gvc, g};
    declare(g, AGRAPH, "rankdir", "TB");
    declare(g, AGRAPH, "nodesep", "0.2");
    declare(g, AGRAPH, "ranksep", "0.3");
    declare(g, AGRAPH, "label", "");
    declare(g, AGRAPH, "fontsize", "8");
    declare(g, AGRAPH, "labeljust", "l");
    // Large graphs: fewer crossing-minimisation passes keep dot's time near linear.
    if (out.items.size() > 800) {
        declare(g, AGRAPH, "mclimit", "0.1");
        declare(g, AGRAPH, "nslimit", "2");
        declare(g, AGRAPH, "nslimit1", "2");
        declare(g, AGRAPH, "searchsize", "10");
    }
    declare(g, AGNODE, "shape", "box");
    declare(g, AGNODE, "fixedsize", "true");
    declare(g, AGNODE, "label", "");
    declare(g, AGNODE, "width", "1");
    declare(g, AGNODE, "height", "0.3");

    std::vector<Agraph_t*> cluster(graph.groups.size(), nullptr);
    std::function<Agraph_t*(int)> clusterOf = [&](int group) -> Agraph_t* {
        if (group <= 0) return g;
        if (!cluster[std::size_t(group)]) {
            Agraph_t* parent = clusterOf(graph.groups[std::size_t(group)].parent);
            std::string name = "cluster_";
            name += std::to_string(group);
            cluster[std::size_t(group)] = agsubg(parent, name.data(), 1);
            // The label as the view draws it, so that dot makes the frame wide enough for it.
            const GraphGroup& g = graph.groups[std::size_t(group)];
            set(cluster[std::size_t(group)], "label", g.scope + (g.type.empty() ? "" : " · " + g.type));
        }
        return cluster[std::size_t(group)];
    };
    std::vector<Agnode_t*> nodes;
    for (std::size_t i = 0; i < out.items.size(); ++i) {
        // Appended rather than "i" + to_string(i): GCC 12 warns (a false -Wstringop-overflow) on that form.
        std::string name = "i";
        name += std::to_string(i);
        Agnode_t* n = agnode(clusterOf(containerOf[i]), name.data(), 1);
        set(n, "width", inches(out.items[i].width));
        set(n, "height", inches(out.items[i].height));
        nodes.push_back(n);
    }
    std::vector<std::pair<Agedge_t*, std::pair<int, int>>> made;
    for (const auto& [from, to] : edges)
        made.push_back({agedge(g, nodes[std::size_t(from)], nodes[std::size_t(to)], nullptr, 1), {from, to}});

    if (gvLayout(gvc, g, "dot") != 0)
        throw Error("Graphviz's dot could not lay the graph out (where its plugin, libgvplugin_dot_layout, "
                    "is missing: reinstall Graphviz's libgvc, or run 'dot -c' as root)");
    close.laidOut = true;
    const boxf bb = GD_bb(g);
    out.width = bb.UR.x - bb.LL.x;
    out.height = bb.UR.y - bb.LL.y;
    auto x = [&](double gx) { return gx - bb.LL.x; };
    auto y = [&](double gy) { return bb.UR.y - gy; };
    for (std::size_t i = 0; i < out.items.size(); ++i) {
        out.items[i].x = x(ND_coord(nodes[i]).x);
        out.items[i].y = y(ND_coord(nodes[i]).y);
    }
    for (const auto& [e, ends] : made) {
        LayoutEdge edge;
        edge.from = ends.first;
        edge.to = ends.second;
        if (const splines* spl = ED_spl(e); spl && spl->size > 0) {
            const bezier& b = spl->list[0];
            for (int k = 0; k < b.size; ++k)
                edge.points.emplace_back(x(b.list[k].x), y(b.list[k].y));
            if (b.eflag) edge.points.emplace_back(x(b.ep.x), y(b.ep.y)); // the arrow's tip
        }
        out.edges.push_back(std::move(edge));
    }
    for (std::size_t group = 1; group < cluster.size(); ++group) {
        if (!cluster[group]) continue;
        const boxf c = GD_bb(cluster[group]);
        LayoutFrame f;
        f.group = int(group);
        f.x = x(c.LL.x);
        f.y = y(c.UR.y);
        f.width = c.UR.x - c.LL.x;
        f.height = c.UR.y - c.LL.y;
        const GraphGroup& gr = graph.groups[group];
        f.label = gr.scope + (gr.type.empty() ? "" : " · " + gr.type);
        out.frames.push_back(f);
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return out;
}

std::shared_ptr<const GraphLayout> GraphLayouts::layout(OpenGroups open) {
    // The same view asked for by another list of groups is the same layout.
    const std::vector<char> shown = shownOpen(*m_graph, open);
    OpenGroups key;
    for (std::size_t g = 1; g < shown.size(); ++g)
        if (shown[g]) key.push_back(int(g));
    std::lock_guard<std::mutex> lock(m_mutex);
    if (auto kept = m_layouts.find(key); kept != m_layouts.end()) return kept->second;
    auto made = std::make_shared<const GraphLayout>(layoutGraph(*m_graph, key)); // kept only when made
    m_layouts.emplace(key, made);
    return made;
}

std::size_t GraphLayouts::cached() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_layouts.size();
}

OpenGroups groupsToShow(const ModelGraph& graph, int group) {
    OpenGroups out;
    for (int g = group; g >= 0 && std::size_t(g) < graph.groups.size();
         g = graph.groups[std::size_t(g)].parent)
        out.insert(out.begin(), g);
    return out;
}

int groupOfNode(const ModelGraph& graph, int node) {
    for (std::size_t g = 0; g < graph.groups.size(); ++g)
        for (int n : graph.groups[g].nodes)
            if (n == node) return int(g);
    return 0;
}

} // namespace twb
