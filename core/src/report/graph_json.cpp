// A model's graph as JSON, as divergence reports carry it; read back with every index checked, since a
// report may come from anywhere.
#include "report_json.h"

#include "twb/error.h"

namespace twb::detail {

using nlohmann::ordered_json;

ordered_json graphToJson(const ModelGraph& g) {
    ordered_json values = ordered_json::array();
    for (const auto& v : g.values)
        values.push_back({{"name", v.name},
                          {"type", v.type},
                          {"producer", v.producer},
                          {"shape", v.shape},
                          {"dtype", v.dtype}});
    ordered_json nodes = ordered_json::array();
    for (const auto& n : g.nodes)
        nodes.push_back({{"kind", n.kind},
                         {"location", n.location},
                         {"scope", n.scope},
                         {"scope_type", n.scopeType},
                         {"inputs", n.inputs},
                         {"outputs", n.outputs},
                         {"nested", n.nested},
                         {"code", n.code},
                         {"arguments", n.arguments}});
    return {{"method", g.method}, {"values", values},     {"nodes", nodes},
            {"inputs", g.inputs}, {"outputs", g.outputs}, {"constants", g.constants}};
}

ModelGraph graphFromJson(const ordered_json& j) {
    ModelGraph g;
    g.method = j.value("method", std::string("forward"));
    for (const auto& o : j.at("values")) {
        GraphValue v;
        v.name = o.value("name", std::string());
        v.type = o.value("type", std::string());
        v.producer = o.value("producer", -1);
        v.shape = o.value("shape", std::vector<int64_t>());
        v.dtype = o.value("dtype", std::string());
        g.values.push_back(v);
    }
    for (const auto& o : j.at("nodes")) {
        GraphNode n;
        n.kind = o.value("kind", std::string());
        n.location = o.value("location", std::string());
        n.scope = o.value("scope", std::string());
        n.scopeType = o.value("scope_type", std::string());
        n.inputs = o.value("inputs", std::vector<int>());
        n.outputs = o.value("outputs", std::vector<int>());
        n.nested = o.value("nested", false);
        n.code = o.value("code", std::string());
        n.arguments = o.value("arguments", std::vector<std::string>());
        g.nodes.push_back(n);
    }
    g.inputs = j.value("inputs", std::vector<int>());
    g.outputs = j.value("outputs", std::vector<int>());
    g.constants = j.value("constants", 0);
    const int values = int(g.values.size()), nodes = int(g.nodes.size());
    auto valid = [&](const std::vector<int>& v) {
        for (int i : v)
            if (i < 0 || i >= values) throw Error("the graph names a value it does not hold");
    };
    for (const auto& v : g.values)
        if (v.producer < -1 || v.producer >= nodes) throw Error("the graph names a node it does not hold");
    for (const auto& n : g.nodes)
        valid(n.inputs), valid(n.outputs);
    valid(g.inputs);
    valid(g.outputs);
    try {
        g.groups = groupByModule(g.nodes);
    } catch (const std::exception& e) {
        throw Error(std::string("the graph's modules cannot be grouped: ") + e.what());
    }
    return g;
}

} // namespace twb::detail
