#include "twb/graph.h"

#include "graph_internal.h"
#include "model_access.h"

#include "twb/error.h"
#include "twb/model.h"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <unordered_map>

namespace twb {
namespace detail {

std::string sourceLocation(const torch::jit::SourceRange& range) {
    const auto flc = range.file_line_col();
    if (!flc) return {};
    return std::get<0>(*flc) + ":" + std::to_string(std::get<1>(*flc));
}

namespace {

// The module a node runs in, from the call stack inlining left on it: "layer1.0.conv1" and its class.
// The stack names each call's module by the name its caller used: "SELF" for a method of the same module
// (Conv2d's _conv_forward), and an index alone for a module reached through a ModuleList or Sequential
// (TransformerEncoder's layers), whose name is found among the caller's containers.
class Scopes {
public:
    explicit Scopes(const torch::jit::Module& root)
        : m_root(root) {}

    std::pair<std::string, std::string> of(const torch::jit::Node* n) {
        const auto stack = n->callstack();
        if (!stack) return {};
        std::vector<std::pair<std::string, c10::ClassTypePtr>> calls;
        std::string key;
        for (const auto& entry : (*stack)->vec()) {
            const auto& module = std::get<2>(entry);
            if (!module || module->instance_name().empty() || module->instance_name() == "SELF") continue;
            calls.emplace_back(module->instance_name(), module->class_type());
            key += module->instance_name() + "/" + (module->class_type() ? module->class_type()->str() : "") +
                   ";";
        }
        auto cached = m_cache.find(key);
        if (cached != m_cache.end()) return cached->second;
        return m_cache[key] = resolve(calls);
    }

private:
    std::pair<std::string, std::string>
    resolve(const std::vector<std::pair<std::string, c10::ClassTypePtr>>& calls) {
        std::optional<torch::jit::Module> at = m_root;
        std::string path, type;
        for (const auto& [name, cls] : calls) {
            std::string step = name;
            std::optional<torch::jit::Module> next;
            if (at) {
                for (const auto& child : at->named_children())
                    if (child.name == name) next = child.value;
                // Reached through a container: the one holding a child of that name, of that class
                // where several do (class names compared without TorchScript's mangling of copies).
                std::vector<std::pair<std::string, torch::jit::Module>> held;
                for (const auto& container : at->named_children())
                    for (const auto& child : container.value.named_children())
                        if (child.name == name) held.emplace_back(container.name, child.value);
                for (const auto& [container, child] : held)
                    if (!next && (held.size() == 1 || sameClass(child.type(), cls))) {
                        next = child;
                        step = container + "." + name;
                    }
            }
            at = next;
            path += (path.empty() ? "" : ".") + step;
            if (cls && cls->name()) type = cls->name()->name();
        }
        return {path, type};
    }

    static std::string unmangled(const c10::ClassTypePtr& c) {
        if (!c || !c->name()) return {};
        std::string n = c->name()->qualifiedName();
        const auto at = n.find("___torch_mangle_");
        if (at != std::string::npos)
            n.erase(at, n.find('.', at) == std::string::npos ? std::string::npos : n.find('.', at) - at);
        return n;
    }
    static bool sameClass(const c10::ClassTypePtr& a, const c10::ClassTypePtr& b) {
        return a && b && unmangled(a) == unmangled(b);
    }

    torch::jit::Module m_root;
    std::unordered_map<std::string, std::pair<std::string, std::string>> m_cache;
};

bool leftOut(const torch::jit::Node* n) {
    return n->kind() == torch::jit::prim::Constant || n->kind() == torch::jit::prim::GetAttr;
}

} // namespace

ExtractedGraph extractGraph(const torch::jit::Module& module, const torch::jit::Module* namedBy) {
    if (!module.find_method("forward")) throw Error("the model has no forward method");
    ExtractedGraph out;
    out.ir = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*out.ir);
    Scopes scopes(namedBy ? *namedBy : module);
    std::unordered_map<const torch::jit::Value*, int> index;
    auto valueOf = [&](torch::jit::Value* v, int producer) {
        GraphValue gv;
        gv.name = v->debugName();
        gv.type = v->type()->annotation_str();
        gv.producer = producer;
        index[v] = int(out.graph.values.size());
        out.graph.values.push_back(gv);
        out.values.push_back(v);
        return index[v];
    };
    const auto inputs = out.ir->inputs();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const int v = valueOf(inputs[i], -1);
        if (i > 0 || !inputs[i]->type()->cast<c10::ClassType>()) out.graph.inputs.push_back(v); // not self
    }
    std::function<void(torch::jit::Block*, bool)> walk = [&](torch::jit::Block* block, bool nested) {
        for (torch::jit::Node* n : block->nodes()) {
            if (leftOut(n)) {
                ++out.graph.constants;
                continue;
            }
            GraphNode node;
            node.kind = n->kind().toQualString();
            node.location = sourceLocation(n->sourceRange());
            std::tie(node.scope, node.scopeType) = scopes.of(n);
            node.nested = nested;
            for (torch::jit::Value* in : n->inputs())
                if (auto it = index.find(in); it != index.end()) node.inputs.push_back(it->second);
            const int self = int(out.graph.nodes.size());
            for (torch::jit::Value* o : n->outputs())
                node.outputs.push_back(valueOf(o, self));
            out.graph.nodes.push_back(node);
            out.nodes.push_back(n);
            for (torch::jit::Block* b : n->blocks()) {
                for (torch::jit::Value* p : b->inputs())
                    valueOf(p, self);
                walk(b, true);
            }
        }
    };
    walk(out.ir->block(), false);
    for (torch::jit::Value* o : out.ir->outputs())
        if (auto it = index.find(o); it != index.end()) out.graph.outputs.push_back(it->second);
    out.graph.groups = groupByModule(out.graph.nodes);
    return out;
}

} // namespace detail

namespace {

// Scopes compared part by part, numbers as numbers ("layers.2" before "layers.10"): a module comes
// before its submodules, and they before its next sibling.
struct ScopeOrder {
    static std::vector<std::string> parts(const std::string& s) {
        std::vector<std::string> out;
        for (std::size_t from = 0; !s.empty() && from <= s.size();) {
            const auto dot = s.find('.', from);
            out.push_back(s.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
            if (dot == std::string::npos) break;
            from = dot + 1;
        }
        return out;
    }
    static bool number(const std::string& s) {
        return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
    }
    bool operator()(const std::string& x, const std::string& y) const {
        const auto a = parts(x), b = parts(y);
        for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
            if (a[i] == b[i]) continue;
            if (number(a[i]) && number(b[i])) return std::stol(a[i]) < std::stol(b[i]);
            return a[i] < b[i];
        }
        return a.size() < b.size();
    }
};

} // namespace

std::vector<GraphGroup> groupByModule(const std::vector<GraphNode>& nodes) {
    // Every scope and each of its ancestors, in preorder.
    std::map<std::string, std::string, ScopeOrder> types{{"", ""}};
    for (const auto& n : nodes) {
        std::string s = n.scope;
        if (types[s].empty()) types[s] = n.scopeType;
        for (auto dot = s.rfind('.'); dot != std::string::npos; dot = s.rfind('.')) {
            s = s.substr(0, dot);
            types.emplace(s, "");
        }
    }
    std::vector<GraphGroup> groups;
    std::map<std::string, int> at;
    for (const auto& [scope, type] : types) {
        GraphGroup g;
        g.scope = scope;
        g.type = type;
        if (!scope.empty()) {
            const auto dot = scope.rfind('.');
            g.parent = at.at(dot == std::string::npos ? std::string() : scope.substr(0, dot));
            g.depth = groups[std::size_t(g.parent)].depth + 1;
        }
        at[scope] = int(groups.size());
        groups.push_back(g);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const int g = at.at(nodes[i].scope);
        groups[std::size_t(g)].nodes.push_back(int(i));
        for (int u = g; u >= 0; u = groups[std::size_t(u)].parent)
            ++groups[std::size_t(u)].totalNodes;
    }
    return groups;
}

ModelGraph modelGraph(const Model& model) {
    if (detail::ModelAccess::package(model))
        throw Error(model.info().path +
                    ": an AOTInductor package holds compiled code, not a TorchScript graph");
    return detail::extractGraph(detail::ModelAccess::module(model)).graph;
}

} // namespace twb
