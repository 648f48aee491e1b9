#include "twb/suggest.h"

#include "suggest_graph.h"
#include "suggest_internal.h"

#include <torch/csrc/jit/passes/inliner.h>

#include <map>
#include <set>

namespace twb {
namespace {

using namespace suggestion;

std::string dims(const std::vector<std::string>& d) {
    std::string s;
    for (const auto& x : d)
        s += (s.empty() ? "" : ", ") + x;
    return "[" + s + "]";
}

std::string shapeSpec(const std::vector<int64_t>& shape) {
    std::string s;
    for (auto d : shape) {
        if (!s.empty()) s += 'x';
        s += std::to_string(d);
    }
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
    std::string dtype, by; // what the use needs, and the use ("masked_fill's mask")
};

std::string weightDtype(const at::Tensor& w) {
    return w.is_floating_point() ? dtypeWord(w.scalar_type()) : std::string();
}

// One informative use of a graph value: what it implies about the value.
struct Use {
    const Node* node;
    std::size_t offset;      // which operand
    std::size_t element = 0; // for an RNN's state list: which state (h or c)
};

std::optional<Found> implied(const Use& use, const JitValue* self, const c10::IValue& root) {
    const Node* n = use.node;
    const std::string kind = n->kind().toQualString();
    const auto weightAt = [&](std::size_t i) -> std::optional<at::Tensor> {
        return i < n->inputs().size() ? tensorOf(n->input(i), self, root) : std::nullopt;
    };
    // A quantized layer's weight is packed: unpacked for its shape; its input is float all the same.
    const bool quantizedLinear =
        startsWith(kind, "quantized::linear") && kind.find("pack") == std::string::npos;
    const bool quantizedConv =
        (startsWith(kind, "quantized::conv1d") || startsWith(kind, "quantized::conv2d") ||
         startsWith(kind, "quantized::conv3d")) &&
        kind.find("pack") == std::string::npos && kind.find("transpose") == std::string::npos;
    const auto packedParams = [&] { return packedParamsOf(n, self, root); };
    const auto packedWeight = [&] { return packedWeightOf(n, self, root); };
    if ((kind == "aten::linear" || quantizedLinear) && use.offset == 0) {
        auto w = quantizedLinear ? packedWeight() : weightAt(1);
        if (!w || w->dim() != 2) return std::nullopt;
        const int64_t in = w->size(1), out = w->size(0);
        const std::string layer = "Linear(" + std::to_string(in) + ", " + std::to_string(out) + ")";
        return Found{"normal:1x" + std::to_string(in) + ":" + dtypeWord(w->scalar_type()),
                     "first layer " + layer + ": Float" + dims({"N", std::to_string(in)}) +
                         ", N free (1 suggested)",
                     weightDtype(*w), layer + "'s input"};
    }
    if (kind == "aten::_native_multi_head_attention" && use.offset <= 2 && n->inputs().size() > 5) {
        // nn.MultiheadAttention's fast path, which a scripted one holds beside its slow one whatever its
        // batch_first (an attribute of the module whose embed_dim it reads); its width is its weight's.
        const auto w = weightAt(5);
        const auto heads = attribute(n->input(4), self, root);
        if (!w || w->dim() != 2 || !heads || !heads->isInt()) return std::nullopt;
        std::optional<c10::IValue> owner;
        if (n->input(3)->node()->kind() == c10::prim::GetAttr)
            owner = attribute(n->input(3)->node()->input(0), self, root);
        bool batchFirst = true; // a constant of nn.MultiheadAttention's class (an attribute elsewhere)
        if (owner && owner->isObject()) {
            const auto& type = owner->toObjectRef().type();
            std::optional<c10::IValue> bf;
            if (type->hasConstant("batch_first"))
                bf = type->getConstant("batch_first");
            else if (type->hasAttribute("batch_first"))
                bf = owner->toObjectRef().getAttr("batch_first");
            if (bf && bf->isBool()) batchFirst = bf->toBool();
        }
        const std::string e = std::to_string(w->size(1));
        const std::string layer = "MultiheadAttention(" + e + ", " + std::to_string(heads->toInt()) + ")";
        // A sequence of 16, as long as the padding mask's suggestion ([1, 16]).
        return Found{std::string(batchFirst ? "normal:1x16x" : "normal:16x1x") + e + ":" +
                         dtypeWord(w->scalar_type()),
                     layer + ": Float" + (batchFirst ? "[N, T, " : "[T, N, ") + e + "] (batch_first " +
                         (batchFirst ? "True" : "False") + "), N and T free (1 and 16 suggested)",
                     weightDtype(*w), layer + "'s input"};
    }
    if ((kind == "aten::matmul" || kind == "aten::mm") && use.offset == 0) { // x @ self.w
        auto w = weightAt(1);
        if (!w || w->dim() != 2) return std::nullopt;
        const int64_t in = w->size(0), out = w->size(1);
        const std::string what =
            "a product with a " + std::to_string(in) + "×" + std::to_string(out) + " weight";
        return Found{"normal:1x" + std::to_string(in) + ":" + dtypeWord(w->scalar_type()),
                     what + ": Float" + dims({"N", std::to_string(in)}) + ", N free (1 suggested)",
                     weightDtype(*w), what};
    }
    if ((kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d" ||
         kind == "aten::_convolution" || quantizedConv) &&
        use.offset == 0) {
        auto w = quantizedConv ? packedWeight() : weightAt(1);
        if (!w || w->dim() < 3 || w->dim() > 5) return std::nullopt;
        const int spatial = int(w->dim()) - 2;
        int64_t groups = 1;
        const std::size_t groupsAt = kind == "aten::_convolution" ? 8 : 6;
        if (quantizedConv) {
            const auto packed = packedParams();
            if (const auto g = packed ? callMethod(*packed, "groups") : std::nullopt; g && g->isInt())
                groups = g->toInt();
        } else if (groupsAt < n->inputs().size()) {
            if (const auto g = constantInt(n->input(groupsAt))) groups = *g;
        }
        if (groups < 1 || groups > (int64_t(1) << 20)) return std::nullopt; // no model's; would overflow
        const int64_t in = w->size(1) * groups, out = w->size(0);
        const int64_t patches = quantizedConv ? 0 : patchGridSide(n, *w, root);
        const auto [flattened, linear] = spatial <= 2 && !patches ? flattenedSide(n, spatial, in, self, root)
                                                                  : std::pair<int64_t, std::string>{0, ""};
        const int64_t side = patches        ? patches
                             : flattened    ? flattened
                             : spatial == 1 ? 256
                             : spatial == 2 ? 224
                                            : 32;
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
        const std::string layer =
            "Conv" + std::to_string(spatial) + "d(" + std::to_string(in) + ", " + std::to_string(out) + ")";
        return Found{"normal:" + shapeSpec(shape) + ":" + dtypeWord(w->scalar_type()),
                     "first layer " + layer + ": Float" + dims(named) + ", " +
                         (patches ? free + " " + std::to_string(side) + " (patches of " +
                                        std::to_string(w->size(2)) + " for its position embedding's places)"
                          : flattened
                              ? free + " " + std::to_string(side) + " (the " + linear +
                                    " it flattens into takes that " + (spatial == 1 ? "length)" : "side)")
                              : free + " free (" + std::to_string(side) + " suggested)"),
                     weightDtype(*w), layer + "'s input"};
    }
    if ((kind == "aten::embedding" || kind == "aten::embedding_bag") && use.offset == 1) {
        auto w = weightAt(0);
        if (!w || w->dim() != 2) return std::nullopt;
        const int64_t count = w->size(0), width = w->size(1);
        const std::string layer = (kind == "aten::embedding" ? "Embedding(" : "EmbeddingBag(") +
                                  std::to_string(count) + ", " + std::to_string(width) + ")";
        return Found{"randint:1x16:int64:low=0:high=" + std::to_string(count),
                     layer + ": Long ids in [0, " + std::to_string(count) +
                         "), shape free ([1, 16] suggested)",
                     "int64", layer + "'s ids"};
    }
    if (kind == "aten::layer_norm" && use.offset == 0 && n->inputs().size() > 1) {
        const auto shape = constantInts(n->input(1));
        if (!shape || shape->empty()) return std::nullopt;
        const std::vector<int64_t>& normalized = *shape;
        std::vector<int64_t> full{1, 8};
        full.insert(full.end(), normalized.begin(), normalized.end());
        std::vector<std::string> named{"N", "T"};
        for (auto d : normalized)
            named.push_back(std::to_string(d));
        const auto w = weightAt(2);
        return Found{"normal:" + shapeSpec(full),
                     "first layer LayerNorm(" + shapeSpec(normalized) + "): Float" + dims(named) +
                         ", N and T free ([1, 8] suggested)",
                     w ? weightDtype(*w) : std::string(), "LayerNorm(" + shapeSpec(normalized) + ")'s input"};
    }
    if ((kind == "aten::batch_norm" || kind == "aten::instance_norm") && use.offset == 0) {
        auto w = weightAt(1);
        if (!w || w->dim() != 1) w = weightAt(3); // running_mean
        if (!w || w->dim() != 1) return std::nullopt;
        const int64_t c = w->size(0);
        return Found{"normal:1x" + std::to_string(c) + "x32x32",
                     "first layer BatchNorm(" + std::to_string(c) + "): Float[N, " + std::to_string(c) +
                         ", …], the rest free ([1, " + std::to_string(c) + ", 32, 32] suggested)",
                     weightDtype(*w), "BatchNorm(" + std::to_string(c) + ")'s input"};
    }
    if ((kind == "aten::masked_fill" || kind == "aten::masked_fill_" || kind == "aten::masked_select" ||
         kind == "aten::masked_scatter") &&
        use.offset == 1) {
        const std::string op = kind.back() == '_' ? kind.substr(6, kind.size() - 7) : kind.substr(6);
        return Found{"zeros:1x16:bool",
                     op + "'s mask: Bool, True where masked, shape free ([1, 16] of False suggested)", "bool",
                     op + "'s mask"};
    }
    if (kind == "aten::where" && use.offset == 0 && n->inputs().size() == 3)
        return Found{"zeros:1x16:bool", "where's condition: Bool, shape free ([1, 16] suggested)", "bool",
                     "where's condition"};
    if ((kind == "aten::eq" || kind == "aten::ne") && use.offset == 0 && torch::jit::toIValue(n->input(1)))
        return Found{"ones:1x16:int64",
                     "compared with a number, as an attention mask is: Long, 1 where attended, "
                     "shape free ([1, 16] suggested)",
                     "", ""};
    if (kind == "aten::index_select" && use.offset == 2)
        return Found{"zeros:16:int64", "index_select's index: Long, one dimension ([16] of 0 suggested)",
                     "int64", "index_select's index"};
    if (kind == "aten::_pack_padded_sequence" && use.offset == 1)
        return Found{"full:1:int64:value=8",
                     "pack_padded_sequence's lengths: Long[N], each at most T (8 suggested)", "int64",
                     "pack_padded_sequence's lengths"};
    const bool quantizedRnn = kind == "aten::quantized_lstm" || kind == "aten::quantized_gru";
    const bool lstm = kind == "aten::lstm" || kind == "aten::quantized_lstm",
               gru = kind == "aten::gru" || kind == "aten::quantized_gru";
    if ((lstm || gru || kind == "aten::rnn_tanh" || kind == "aten::rnn_relu") && n->inputs().size() >= 9 &&
        (use.offset == 0 || use.offset == 1)) {
        const auto params = quantizedRnn ? quantizedRnnWeights(objectsOf(n->input(2), self, root))
                                         : tensorsOf(n->input(2), self, root);
        const auto layers = attribute(n->input(4), self, root);
        const auto bidirectional = attribute(n->input(7), self, root);
        const auto batchFirst = attribute(n->input(8), self, root);
        if (params.size() < 2 || params[0].dim() != 2 || params[1].dim() != 2 || !layers ||
            !layers->isInt() || !bidirectional || !bidirectional->isBool() || !batchFirst ||
            !batchFirst->isBool())
            return std::nullopt;
        const int64_t gates = lstm ? 4 : gru ? 3 : 1;
        const int64_t in = params[0].size(1), hidden = params[0].size(0) / gates,
                      projected = params[1].size(1);
        const int64_t stack = layers->toInt() * (bidirectional->toBool() ? 2 : 1);
        const std::string name = lstm ? "LSTM" : gru ? "GRU" : "RNN";
        const std::string layer = name + "(" + std::to_string(in) + ", " + std::to_string(hidden) + ")";
        if (use.offset == 0) {
            const bool bf = batchFirst->toBool();
            return Found{"normal:" + std::string(bf ? "1x8x" : "8x1x") + std::to_string(in) + ":" +
                             dtypeWord(params[0].scalar_type()),
                         layer + ": Float" + dims({bf ? "N" : "T", bf ? "T" : "N", std::to_string(in)}) +
                             ", T and N free (8 steps of 1 suggested)",
                         weightDtype(params[0]), layer + "'s input"};
        }
        const bool cell = lstm && use.element == 1;
        const int64_t width = lstm && !cell ? projected : hidden;
        const std::string what = lstm ? (cell ? "c0" : "h0") : "h0";
        return Found{"zeros:" + std::to_string(stack) + "x1x" + std::to_string(width) + ":" +
                         dtypeWord(params[0].scalar_type()),
                     layer + "'s " + what + ": Float" +
                         dims({std::to_string(stack), "N", std::to_string(width)}) +
                         ", N free (zeros for 1 suggested)",
                     weightDtype(params[0]), layer + "'s " + what};
    }
    return std::nullopt;
}

} // namespace

namespace detail {

namespace {

bool tensorList(const c10::TypePtr& type) {
    return type->kind() == c10::TypeKind::ListType &&
           type->expectRef<c10::ListType>().getElementType()->kind() == c10::TypeKind::TensorType;
}

// What an argument nothing in the graph speaks for gets: a scalar's obvious value, a tensor's guess.
void fallback(ArgumentInfo& a, const c10::TypePtr& type) {
    switch (type->kind()) {
    case c10::TypeKind::TensorType:
        a.suggested = "normal:1x16";
        a.suggestedReason = "nothing in the model fixes its shape: a guess, Float[1, 16]";
        break;
    case c10::TypeKind::IntType:
        a.suggestionFound = true;
        a.suggested = "ones:1:int64";
        a.suggestedReason = "an int: 1 suggested";
        break;
    case c10::TypeKind::FloatType:
        a.suggestionFound = true;
        a.suggested = "ones:1:float64";
        a.suggestedReason = "a float: 1.0 suggested";
        break;
    case c10::TypeKind::BoolType:
        a.suggestionFound = true;
        a.suggested = "ones:1:bool";
        a.suggestedReason = "a bool: True suggested";
        break;
    default:
        a.suggestedReason = tensorList(type)
                                ? "a list of tensors: give it from a .pt file holding one, or one "
                                  "tensor (a file or gen:SPEC) as a list of one"
                                : "a " + a.type + ": give it from a file (a .pt holding one)";
    }
}

} // namespace

void fillSuggestions(const torch::jit::Module& module, std::vector<ArgumentInfo>& arguments) {
    if (!module.find_method("forward")) return;
    const auto method = module.get_method("forward");
    std::shared_ptr<torch::jit::Graph> graph = method.graph()->copy();
    torch::jit::Inline(*graph);
    const JitValue* self = graph->inputs().at(0);
    const c10::IValue root = module._ivalue();
    const auto& schema = method.function().getSchema();

    // Graph input i is schema argument i; a tuple argument's elements are suggested one by one.
    std::map<std::size_t, ArgumentInfo*> byInput;
    std::map<const ArgumentInfo*, c10::TypePtr> types;
    for (auto& a : arguments) {
        std::size_t i = 1;
        while (i < schema.arguments().size() && schema.arguments()[i].name() != a.name)
            ++i;
        if (i >= schema.arguments().size() || i >= graph->inputs().size()) continue;
        byInput[i] = &a;
        const c10::TypePtr type = schema.arguments()[i].type();
        types[&a] = type;
        a.elements.clear();
        if (type->kind() == c10::TypeKind::TupleType) {
            const auto& elements = type->expectRef<c10::TupleType>().elements();
            a.elements.resize(elements.size());
            for (std::size_t k = 0; k < elements.size(); ++k) {
                a.elements[k].name = a.name + "." + std::to_string(k);
                a.elements[k].type = elements[k]->annotation_str();
                types[&a.elements[k]] = elements[k];
            }
        }
    }

    // The first informative use of each argument (or element) decides what it is suggested.
    std::set<const ArgumentInfo*> decided;
    Origins memo;
    const auto consider = [&](const Use& use, const JitValue* v) {
        const auto o = origin(v, memo);
        if (!o) return;
        const auto at = byInput.find(o->input);
        if (at == byInput.end()) return;
        ArgumentInfo* a = at->second;
        // A list of tensors is given one (a list of one): its elements' uses speak for it.
        const bool list = tensorList(types[a]);
        if (list)
            a = o->path.size() == 1 ? a : nullptr;
        else if (!o->path.empty())
            a = o->path.size() == 1 && o->path[0] < a->elements.size() ? &a->elements[o->path[0]] : nullptr;
        else if (!a->elements.empty())
            a = nullptr;
        if (!a || decided.count(a) || (!list && types[a]->kind() != c10::TypeKind::TensorType)) return;
        const auto f = implied(use, self, root);
        if (!f) return;
        decided.insert(a);
        const bool floating = f->dtype.rfind("float", 0) == 0 || f->dtype == "bfloat16";
        // What the model batched itself is given without its batch dimension: "normal:1x3x…" → "normal:3x…".
        const auto colon = f->generator.find(':');
        const bool unbatched =
            o->batchAdded && colon != std::string::npos && f->generator.compare(colon + 1, 2, "1x") == 0;
        if (o->shapeKept && (!o->batchAdded || unbatched || !floating)) {
            a->suggestionFound = true;
            a->suggested =
                unbatched ? f->generator.substr(0, colon + 1) + f->generator.substr(colon + 3) : f->generator;
            a->suggestedReason = f->reason + (unbatched ? ", given without N (the model adds it)" : "");
        } else if (!floating) { // a mask's or ids' generator holds whatever the shape
            a->suggestionFound = true;
            a->suggested = f->generator;
            a->suggestedReason = f->reason;
        }
        if (list && a->suggestionFound)
            a->suggestedReason = "a list of tensors, one given (more from a .pt file): " + a->suggestedReason;
        if (o->dtypeKept) {
            a->neededDtype = f->dtype;
            a->neededBy = f->by;
        }
    };
    eachNode(graph->block(), [&](const Node* n) {
        static const c10::Symbol quantizedLstm = c10::Symbol::fromQualString("aten::quantized_lstm");
        const bool lstm = n->kind() == c10::aten::lstm || n->kind() == quantizedLstm;
        for (std::size_t i = 0; i < n->inputs().size(); ++i) {
            const JitValue* in = n->input(i);
            if (lstm && i == 1 && in->node()->kind() == c10::prim::ListConstruct) {
                for (std::size_t k = 0; k < in->node()->inputs().size(); ++k)
                    consider(Use{n, 1, k}, in->node()->input(k));
                continue;
            }
            consider(Use{n, i}, in);
        }
    });

    for (auto& [input, a] : byInput) {
        if (a->elements.empty()) {
            if (!decided.count(a)) fallback(*a, types[a]);
            continue;
        }
        bool all = true;
        std::string names;
        for (auto& e : a->elements) {
            if (!decided.count(&e)) fallback(e, types[&e]);
            all = all && e.suggestionFound;
            names += (names.empty() ? "" : ", ") + e.name;
        }
        a->suggested.clear();
        a->suggestionFound = all;
        a->suggestedReason =
            "a tuple: give it from a .pt file holding one, or its elements one by one (" + names + ")";
    }
}

} // namespace detail

std::vector<SuggestedInput> suggestInputs(const Model& model) {
    std::vector<SuggestedInput> out;
    const auto add = [&](const ArgumentInfo& a) {
        SuggestedInput s;
        s.argument = a.name;
        s.type = a.type;
        s.found = a.suggestionFound;
        s.spec.argument = a.name;
        s.spec.generator = a.suggested;
        s.reason = a.suggestedReason;
        out.push_back(std::move(s));
    };
    for (const auto& a : model.info().inputs) {
        if (a.hasDefault) continue;
        if (a.elements.empty()) add(a);
        for (const auto& e : a.elements)
            add(e);
    }
    return out;
}

std::vector<InputSpec> completeWithSuggestions(const Model& model, const std::vector<InputSpec>& given,
                                               std::vector<SuggestedInput>* used) {
    const auto base = [](const std::string& argument) { return argument.substr(0, argument.find('.')); };
    std::vector<InputSpec> out = given;
    std::size_t positional = 0;
    for (const auto& g : given)
        positional += g.argument.empty() && !g.empty();
    std::size_t position = 0; // arguments before this one, counting a tuple's elements once
    std::string last;
    bool first = true;
    for (const auto& s : suggestInputs(model)) {
        const std::string argument = base(s.argument);
        if (!first && argument != last) ++position;
        first = false;
        last = argument;
        bool named = false;
        for (const auto& g : given) // the argument, the whole tuple, or this element, by name
            named =
                named || (!g.argument.empty() && (g.argument == s.argument || g.argument == argument ||
                                                  (s.argument == argument && base(g.argument) == argument)));
        if (named) continue;
        if (position < positional) continue; // fed by a positional input
        if (s.spec.empty()) continue;
        out.push_back(s.spec);
        if (used) used->push_back(s);
    }
    return out;
}

} // namespace twb
