// Internal: a module's forward graph inlined into a copy of its own, with the plain ModelGraph that
// describes it and the way back from each plain node and value to the IR. Torch types are only declared
// here.
#pragma once

#include "twb/graph.h"

#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct Graph;
struct Module;
struct Node;
struct SourceRange;
struct Value;
} // namespace torch::jit

namespace twb::detail {

struct ExtractedGraph {
    ModelGraph graph;
    std::shared_ptr<torch::jit::Graph> ir;  // the inlined copy: changing it changes nothing of the module
    std::vector<torch::jit::Value*> values; // ModelGraph::values[i] in `ir`
    std::vector<torch::jit::Node*> nodes;   // ModelGraph::nodes[i] in `ir`
};

// The module's forward, copied and inlined. Throws twb::Error when it has none. Modules are named as in
// `namedBy` (the model as it was loaded) where given: freeze and optimize_for_inference drop the
// submodules of the module they prepare, whose inlined nodes still say which module they came from.
ExtractedGraph extractGraph(const torch::jit::Module& module, const torch::jit::Module* namedBy = nullptr);

// "file.py:12" of a node's source range; "" when it has none.
std::string sourceLocation(const torch::jit::SourceRange& range);
// The first line of a source range's text, trimmed; "" when it has no source.
std::string sourceLine(const torch::jit::SourceRange& range);

} // namespace twb::detail
