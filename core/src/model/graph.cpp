#include "twb/graph.h"

#include "graph_internal.h"
#include "model_access.h"

#include "twb/error.h"
#include "twb/model.h"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

namespace twb {
namespace detail {

std::string sourceLocation(const torch::jit::SourceRange& range) {
    const auto flc = range.file_line_col();
    if (!flc) return {};
    return std::get<0>(*flc) + ":" + std::to_string(std::get<1>(*flc));
}

std::string sourceLine(const torch::jit::SourceRange& range) {
    if (!range.source()) return {};
    std::string text = range.text().str();
    text = text.substr(0, text.find('\n'));
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    text = text.substr(first, text.find_last_not_of(" \t") - first + 1);
    return text.size() > 160 ? text.substr(0, 157) + "..." : text;
}

namespace {

// An attribute read through a chain of prim::GetAttr: "layer1.0.conv1.weight"; "" for anything else.
std::string attributePath(const torch::jit::Value* v) {
    std::string path;
    for (const torch::jit::Node* n = v->node(); n->kind() == torch::jit::prim::GetAttr;
         n = n->input(0)->node())
        path = n->s(torch::jit::attr::name) + (path.empty() ? "" : "." + path);
    return path;
}

// The constants and attributes a node takes, named by its schema's arguments where it has one.
std::vector<std::string> argumentsOf(const torch::jit::Node* n) {
    std::vector<std::string> out;
    const c10::FunctionSchema* schema = n->maybeSchema();
    const auto inputs = n->inputs();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const torch::jit::Value* in = inputs[i];
        std::string value;
        if (in->node()->kind() == torch::jit::prim::Constant) {
            const auto constant = torch::jit::toIValue(in);
            if (!constant || constant->isTensor()) continue;
            std::ostringstream text;
            text << *constant;
            value = text.str();
        } else if (in->node()->kind() == torch::jit::prim::ListConstruct &&
                   std::all_of(in->node()->inputs().begin(), in->node()->inputs().end(),
                               [](const torch::jit::Value* e) {
                                   return e->node()->kind() == torch::jit::prim::Constant;
                               })) {
            // A list of constants (stride, padding): its elements.
            std::ostringstream text;
            text << "[";
            for (std::size_t e = 0; e < in->node()->inputs().size(); ++e) {
                const auto element = torch::jit::toIValue(in->node()->inputs()[e]);
                if (e) text << ", ";
                if (element) text << *element;
            }
            text << "]";
            value = text.str();
        } else if (in->node()->kind() == torch::jit::prim::GetAttr) {
            value = attributePath(in);
        } else {
            continue;
        }
        const std::string name = schema && i < schema->arguments().size() ? schema->arguments()[i].name()
                                                                          : "#" + std::to_string(i);
        out.push_back(name + " = " + (value.size() > 80 ? value.substr(0, 77) + "..." : value));
    }
    return out;
}

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

std::string fileOf(const std::string& location) {
    return location.substr(0, location.rfind(':'));
}

// The file of the code that led to a node: its outermost call's site where inlining left a call stack, else
// its own line's.
std::string originFile(const torch::jit::Node* n) {
    if (const auto stack = n->callstack(); stack && !(*stack)->vec().empty())
        return fileOf(sourceLocation(std::get<1>((*stack)->vec().front())));
    return fileOf(sourceLocation(n->sourceRange()));
}

// Inlining leaves some nodes without a module in their call stack (the If of a BatchNorm's
// `if self.training`, the checks of F.batch_norm): where the code that led to such a node is not the
// model's own forward's, it belongs to the module whose node comes next, the call it was inlined from. A
// function the model's forward calls itself (F.relu) was reached from the model's code, and stays the
// model's.
void adoptScopes(std::vector<GraphNode>& nodes, const std::vector<std::string>& origin,
                 const torch::jit::Module& model) {
    std::set<std::string> own;
    std::function<void(torch::jit::Block*)> files = [&](torch::jit::Block* b) {
        for (torch::jit::Node* n : b->nodes()) {
            own.insert(fileOf(sourceLocation(n->sourceRange())));
            for (torch::jit::Block* inner : n->blocks())
                files(inner);
        }
    };
    files(model.get_method("forward").graph()->block());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!nodes[i].scope.empty() || origin[i].empty() || own.count(origin[i])) continue;
        for (std::size_t j = i + 1; j < nodes.size(); ++j)
            if (!nodes[j].scope.empty()) {
                nodes[i].scope = nodes[j].scope;
                nodes[i].scopeType = nodes[j].scopeType;
                break;
            }
    }
}

} // namespace

ExtractedGraph extractGraph(const torch::jit::Module& module, const torch::jit::Module* namedBy) {
    if (!module.find_method("forward")) throw Error("the model has no forward method");
    ExtractedGraph out;
    out.ir = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*out.ir);
    Scopes scopes(namedBy ? *namedBy : module);
    std::vector<std::string> origin; // per node: the file of the code that led to it
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
    // Nodes inside an If or Loop block may carry no call stack of their own: they run in the module of
    // the node that holds the block.
    std::function<void(torch::jit::Block*, bool, const GraphNode*)> walk =
        [&](torch::jit::Block* block, bool nested, const GraphNode* holder) {
            for (torch::jit::Node* n : block->nodes()) {
                if (leftOut(n)) {
                    ++out.graph.constants;
                    continue;
                }
                GraphNode node;
                node.kind = n->kind().toQualString();
                node.location = sourceLocation(n->sourceRange());
                std::tie(node.scope, node.scopeType) = scopes.of(n);
                origin.push_back(originFile(n));
                if (holder && node.scope.empty())
                    std::tie(node.scope, node.scopeType) = std::tie(holder->scope, holder->scopeType);
                node.nested = nested;
                node.code = sourceLine(n->sourceRange());
                node.arguments = argumentsOf(n);
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
                    const GraphNode held = out.graph.nodes[std::size_t(self)];
                    walk(b, true, &held);
                }
            }
        };
    walk(out.ir->block(), false, nullptr);
    adoptScopes(out.graph.nodes, origin, namedBy ? *namedBy : module);
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
        // Part by part: numbers before names, numbers by value (then as text: "1" before "01"), names as
        // text. A strict order whatever the names, which may come from any file.
        for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
            if (a[i] == b[i]) continue;
            const bool na = number(a[i]), nb = number(b[i]);
            if (na != nb) return na;
            if (na) {
                const long x = std::stol(a[i]), y = std::stol(b[i]);
                if (x != y) return x < y;
            }
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
