#include "twb/suggest.h"

#include "suggest_internal.h"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <optional>
#include <sstream>

namespace twb {
namespace {

using torch::jit::Node;
using JitValue = torch::jit::Value;

// The module attribute a value of forward's graph stands for (self.fc1.weight), if it is one.
std::optional<c10::IValue> attribute(const JitValue* v, const JitValue* self, const c10::IValue& root) {
    if (v == self) return root;
    const Node* n = v->node();
    if (n->kind() == c10::prim::GetAttr) {
        const auto owner = attribute(n->input(0), self, root);
        if (!owner || !owner->isObject()) return std::nullopt;
        const auto& obj = owner->toObjectRef();
        const std::string name = n->s(c10::attr::name);
        if (!obj.type()->hasAttribute(name)) return std::nullopt;
        return obj.getAttr(name);
    }
    if (n->kind() == c10::prim::Constant) return torch::jit::toIValue(v);
    return std::nullopt;
}

std::optional<at::Tensor> tensorOf(const JitValue* v, const JitValue* self, const c10::IValue& root) {
    const auto iv = attribute(v, self, root);
    if (iv && iv->isTensor()) return iv->toTensor();
    return std::nullopt;
}

std::string dims(const std::vector<std::string>& d) {
    std::string s;
    for (const auto& x : d)
        s += (s.empty() ? "" : ", ") + x;
    return "[" + s + "]";
}

std::string shapeSpec(const std::vector<int64_t>& shape) {
    std::string s;
    for (auto d : shape)
        s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

std::string dtypeWord(c10::ScalarType t) {
    switch (t) {
    case at::kDouble:
        return "float64";
    case at::kHalf:
        return "float16";
    case at::kBFloat16:
        return "bfloat16";
    default:
        return "float32";
    }
}

struct Found {
    std::string generator, reason;
};

// What the first informative use of an input says about it. Shape-keeping ops are looked through.
std::optional<Found> fromUses(const JitValue* v, const JitValue* self, const c10::IValue& root, int depth = 0) {
    if (depth > 4) return std::nullopt;
    for (const auto& use : v->uses()) {
        const Node* n = use.user;
        const std::string kind = n->kind().toQualString();
        const auto weightAt = [&](std::size_t i) -> std::optional<at::Tensor> {
            return i < n->inputs().size() ? tensorOf(n->input(i), self, root) : std::nullopt;
        };
        if ((kind == "aten::linear" || kind == "aten::matmul") && use.offset == 0) {
            auto w = weightAt(1);
            if (!w || w->dim() != 2) continue;
            if (kind == "aten::linear") {
                const int64_t in = w->size(1), out = w->size(0);
                return Found{"normal:1x" + std::to_string(in) + ":" + dtypeWord(w->scalar_type()),
                             "first layer Linear(" + std::to_string(in) + ", " + std::to_string(out) +
                                 "): Float" + dims({"N", std::to_string(in)}) + ", N free (1 suggested)"};
            }
        }
        if ((kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d" ||
             kind == "aten::_convolution") &&
            use.offset == 0) {
            auto w = weightAt(1);
            if (!w || w->dim() < 3) continue;
            const int spatial = int(w->dim()) - 2;
            int64_t groups = 1;
            const std::size_t groupsAt = kind == "aten::_convolution" ? 8 : 6;
            if (groupsAt < n->inputs().size()) {
                const auto g = torch::jit::toIValue(n->input(groupsAt));
                if (g && g->isInt()) groups = g->toInt();
            }
            const int64_t in = w->size(1) * groups, out = w->size(0);
            const int64_t side = spatial == 1 ? 256 : spatial == 2 ? 224 : 32;
            std::vector<int64_t> shape{1, in};
            std::vector<std::string> named{"N", std::to_string(in)};
            const char* names[] = {"D", "H", "W"};
            for (int i = 0; i < spatial; ++i) {
                shape.push_back(side);
                named.push_back(spatial == 1 ? "L" : names[3 - spatial + i]);
            }
            std::string free;
            for (std::size_t i = 2; i < named.size(); ++i)
                free += (i > 2 ? (i + 1 == named.size() ? " and " : ", ") : "") + named[i];
            return Found{"normal:" + shapeSpec(shape) + ":" + dtypeWord(w->scalar_type()),
                         "first layer Conv" + std::to_string(spatial) + "d(" + std::to_string(in) + ", " +
                             std::to_string(out) + "): Float" + dims(named) + ", " + free + " free (" +
                             std::to_string(side) + " suggested)"};
        }
        if (kind == "aten::embedding" && use.offset == 1) {
            auto w = weightAt(0);
            if (!w || w->dim() != 2) continue;
            const int64_t count = w->size(0), width = w->size(1);
            return Found{"randint:1x16:int64:low=0:high=" + std::to_string(count),
                         "Embedding(" + std::to_string(count) + ", " + std::to_string(width) + "): Long ids in [0, " +
                             std::to_string(count) + "), shape free ([1, 16] suggested)"};
        }
        if (kind == "aten::layer_norm" && use.offset == 0 && n->inputs().size() > 1) {
            const auto shape = torch::jit::toIValue(n->input(1));
            if (!shape || !shape->isIntList()) continue;
            const auto normalized = shape->toIntVector();
            std::vector<int64_t> full{1, 8};
            full.insert(full.end(), normalized.begin(), normalized.end());
            std::vector<std::string> named{"N", "T"};
            for (auto d : normalized)
                named.push_back(std::to_string(d));
            return Found{"normal:" + shapeSpec(full), "first layer LayerNorm(" + shapeSpec(normalized) +
                                                          "): Float" + dims(named) + ", N and T free ([1, 8] suggested)"};
        }
        if ((kind == "aten::batch_norm" || kind == "aten::instance_norm") && use.offset == 0) {
            auto w = weightAt(1);
            if (!w || w->dim() != 1) w = weightAt(3); // running_mean
            if (!w || w->dim() != 1) continue;
            const int64_t c = w->size(0);
            return Found{"normal:1x" + std::to_string(c) + "x32x32",
                         "first layer BatchNorm(" + std::to_string(c) + "): Float[N, " + std::to_string(c) +
                             ", …], the rest free ([1, " + std::to_string(c) + ", 32, 32] suggested)"};
        }
        // Look through what keeps the input's meaning: slicing ids, dtype or layout changes, activations.
        static const char* kThrough[] = {"aten::slice", "aten::contiguous", "aten::to", "aten::relu",
                                         "aten::dropout", "aten::clone", "aten::detach", "aten::type_as"};
        for (const char* t : kThrough)
            if (kind == t && use.offset == 0 && n->outputs().size() == 1)
                if (auto f = fromUses(n->output(0), self, root, depth + 1)) return f;
    }
    return std::nullopt;
}

} // namespace

namespace detail {

void fillSuggestions(const torch::jit::Module& module, std::vector<ArgumentInfo>& arguments) {
    if (!module.find_method("forward")) return;
    const auto method = module.get_method("forward");
    std::shared_ptr<torch::jit::Graph> graph = method.graph()->copy();
    torch::jit::Inline(*graph);
    const JitValue* self = graph->inputs().at(0);
    const c10::IValue root = module._ivalue();
    const auto& schema = method.function().getSchema();
    for (auto& a : arguments) {
        std::size_t i = 1;
        while (i < schema.arguments().size() && schema.arguments()[i].name() != a.name)
            ++i;
        if (i >= schema.arguments().size() || i >= graph->inputs().size()) continue;
        const auto kind = schema.arguments()[i].type()->kind();
        if (kind == c10::TypeKind::TensorType) {
            if (auto f = fromUses(graph->inputs()[i], self, root)) {
                a.suggestionFound = true;
                a.suggested = f->generator;
                a.suggestedReason = f->reason;
            } else {
                a.suggested = "normal:1x16";
                a.suggestedReason = "nothing in the model fixes its shape: a guess, Float[1, 16]";
            }
        } else if (kind == c10::TypeKind::IntType) {
            a.suggestionFound = true;
            a.suggested = "ones:1:int64";
            a.suggestedReason = "an int: 1 suggested";
        } else if (kind == c10::TypeKind::FloatType) {
            a.suggestionFound = true;
            a.suggested = "ones:1:float64";
            a.suggestedReason = "a float: 1.0 suggested";
        } else if (kind == c10::TypeKind::BoolType) {
            a.suggestionFound = true;
            a.suggested = "ones:1:bool";
            a.suggestedReason = "a bool: True suggested";
        } else {
            a.suggestedReason = "a " + a.type + ": give it from a file (a .pt holding one)";
        }
    }
}

} // namespace detail

std::vector<SuggestedInput> suggestInputs(const Model& model) {
    std::vector<SuggestedInput> out;
    for (const auto& a : model.info().inputs) {
        if (a.hasDefault) continue;
        SuggestedInput s;
        s.argument = a.name;
        s.type = a.type;
        s.found = a.suggestionFound;
        s.spec.argument = a.name;
        s.spec.generator = a.suggested;
        s.reason = a.suggestedReason;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<InputSpec> completeWithSuggestions(const Model& model, const std::vector<InputSpec>& given,
                                               std::vector<SuggestedInput>* used) {
    std::vector<InputSpec> out = given;
    std::size_t positional = 0;
    for (const auto& g : given)
        positional += g.argument.empty() && !g.empty();
    std::size_t position = 0;
    for (const auto& s : suggestInputs(model)) {
        bool named = false;
        for (const auto& g : given)
            named = named || g.argument == s.argument;
        if (named) continue;
        if (position++ < positional) continue; // fed by a positional input
        if (s.spec.empty()) continue;
        out.push_back(s.spec);
        if (used) used->push_back(s);
    }
    return out;
}

} // namespace twb
