// A model-sized graph for the graph view's tests and benchmark, made without a model: `modules` modules of
// `perModule` nodes, named `blocks.N.attn` and `blocks.N.mlp` in pairs, one chain through every node, each
// also fed by the node two before it, as residual models are.
#pragma once

#include "twb/graph.h"

#include <string>

namespace twbtest {

inline twb::ModelGraph syntheticGraph(int modules, int perModule) {
    twb::ModelGraph g;
    g.values.push_back({"x", "Tensor", -1, {1, 256}, "float32"});
    g.inputs = {0};
    for (int i = 0; i < modules * perModule; ++i) {
        twb::GraphNode n;
        n.kind = i % 3 == 0 ? "aten::linear" : i % 3 == 1 ? "aten::gelu" : "aten::add";
        const int module = i / perModule;
        n.scope = "blocks." + std::to_string(module / 2) + (module % 2 ? ".mlp" : ".attn");
        n.scopeType = module % 2 ? "MLP" : "Attention";
        n.location = "model.py:" + std::to_string(20 + i % perModule);
        n.inputs = {int(g.values.size()) - 1};
        if (i >= 2) n.inputs.push_back(int(g.values.size()) - 2);
        n.outputs = {int(g.values.size())};
        g.values.push_back({"v" + std::to_string(i), "Tensor", i, {1, 256}, "float32"});
        g.nodes.push_back(n);
    }
    g.outputs = {int(g.values.size()) - 1};
    g.groups = twb::groupByModule(g.nodes);
    return g;
}

} // namespace twbtest
