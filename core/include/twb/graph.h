// A TorchScript model's forward as a graph of plain values: every call of a submodule inlined, each node
// with its operator, the source line it came from and the module it belongs to, grouped by the module
// hierarchy; shapes and dtypes where a run recorded them. What the graph view draws and divergence
// matches nodes by.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

class Model;
struct InputBinding;
struct RunConfig;

struct GraphValue {
    std::string name;           // TorchScript's debug name: "x.3", "input"
    std::string type;           // "Tensor", "int", "Tensor[]", …
    int producer = -1;          // the node that makes it; -1: an input of the graph
    std::vector<int64_t> shape; // from a run (modelGraph with a binding); empty where none recorded it; -1 a
                                // dynamic size (an ExportedProgram's symbolic batch)
    std::string dtype;
};

struct GraphNode {
    std::string kind;      // "aten::conv2d", "prim::If", "prim::mkldnn_convolution"
    std::string location;  // "model.py:12", or the archive's code "code/__torch__/model.py:29"; "" unknown
    std::string scope;     // the module it runs in, as a dotted path ("layer1.0.conv1"); "" is the model
    std::string scopeType; // that module's class ("Conv2d"); "" where unknown
    std::vector<int> inputs, outputs; // into ModelGraph::values; constants and attributes are left out
    bool nested = false;              // inside a prim::If or prim::Loop block
    std::string code;                 // the first line of the source it came from: "x = self.conv(x)"
    // The constants and attributes it takes, by argument name where its schema has one: "stride = [2, 2]",
    // "weight = layer1.0.conv1.weight".
    std::vector<std::string> arguments;
};

// The module hierarchy the nodes are grouped by: preorder, each with its nodes (directly in it).
struct GraphGroup {
    std::string scope; // "" is the model
    std::string type;
    int depth = 0;
    int parent = -1; // into ModelGraph::groups
    std::vector<int> nodes;
    int totalNodes = 0; // with the submodules'
};

struct ModelGraph {
    std::string method = "forward";
    std::vector<GraphValue> values;
    std::vector<GraphNode> nodes; // in execution (topological) order
    std::vector<int> inputs;      // the forward's arguments, self left out
    std::vector<int> outputs;
    std::vector<GraphGroup> groups;
    int constants = 0; // prim::Constant and prim::GetAttr nodes left out
};

// The forward of a TorchScript model as it was saved, inlined. Throws twb::Error for a model that is not
// TorchScript (an AOTInductor package) or has no forward.
ModelGraph modelGraph(const Model& model);
// The same with each tensor's shape and dtype, as one call with `binding` under `config` gave them
// (freeze and optimize_for_inference rewrite the graph: it is the rewritten one then).
ModelGraph modelGraph(const Model& model, const InputBinding& binding, const RunConfig& config);

// The graph a torch.export archive (.pt2, written by torch.export.save or a package that keeps its
// ExportedProgram) holds in models/*.json, read as data: nothing in the file runs. Operators are named
// as TorchScript names them ("aten::conv2d"), modules from each node's module stack, lines from its
// stack trace, and parameters are arguments ("weight = conv.weight"). Throws twb::Error naming the file
// when it holds no such graph or the graph is damaged.
ModelGraph exportedProgramGraph(const std::string& path);

// The groups of a graph's nodes by their scope: one a module, in preorder, each with its direct nodes.
std::vector<GraphGroup> groupByModule(const std::vector<GraphNode>& nodes);

} // namespace twb
