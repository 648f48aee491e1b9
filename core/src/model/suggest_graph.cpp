#include "suggest_graph.h"

#include <algorithm>

namespace twb::suggestion {
namespace {

std::optional<Origin> originOf(const JitValue* v, Origins& memo, int depth);

// A float tensor of a shape, holding no memory: what the suggestions read of a quantized weight.
at::Tensor floatShape(const at::Tensor& t) {
    return at::empty(t.sizes(), at::TensorOptions().dtype(at::kFloat).device(at::kMeta));
}

// The weight packed params hold (quantized::linear's, quantized::conv2d's), as a float tensor of its shape:
// unpack() gives it quantized.
std::optional<at::Tensor> unpackedWeight(const c10::IValue& packed) {
    const auto unpacked = callMethod(packed, "unpack");
    if (!unpacked || !unpacked->isTuple() || unpacked->toTupleRef().elements().empty()) return std::nullopt;
    const c10::IValue& w = unpacked->toTupleRef().elements()[0];
    if (!w.isTensor()) return std::nullopt;
    return floatShape(w.toTensor());
}

} // namespace

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

std::optional<int64_t> constantInt(const JitValue* v) {
    const auto iv = torch::jit::toIValue(v);
    if (iv && iv->isInt()) return iv->toInt();
    return std::nullopt;
}

// A list of ints the graph fixes: a constant, or a list built of constants (LayerNorm's normalized_shape).
std::optional<std::vector<int64_t>> constantInts(const JitValue* v) {
    if (const auto iv = torch::jit::toIValue(v); iv && iv->isIntList()) return iv->toIntVector();
    if (v->node()->kind() != c10::prim::ListConstruct) return std::nullopt;
    std::vector<int64_t> out;
    for (const auto* in : v->node()->inputs()) {
        const auto k = constantInt(in);
        if (!k) return std::nullopt;
        out.push_back(*k);
    }
    return out;
}

// Memoized: an if's branches are each walked once however many values pass through them.
std::optional<Origin> origin(const JitValue* v, Origins& memo, int depth) {
    if (const auto it = memo.find(v); it != memo.end()) return it->second;
    auto o = originOf(v, memo, depth);
    memo[v] = o;
    return o;
}

namespace {

std::optional<Origin> originOf(const JitValue* v, Origins& memo, int depth) {
    if (depth > 48) return std::nullopt;
    const Node* n = v->node();
    const std::string kind = n->kind().toQualString();
    const auto from = [&](const JitValue* in) { return origin(in, memo, depth + 1); };
    if (kind == "prim::Param") {
        if (n->owningBlock() == n->owningGraph()->block()) return Origin{v->offset(), {}, true, true};
        // A value a loop carries (`for _ in range(n): y = f(y)`): its first iteration's is the one given
        // the loop (a loop's block takes the iteration count, then what it carries).
        const Node* loop = n->owningBlock()->owningNode();
        if (loop && loop->kind() == c10::prim::Loop && v->offset() >= 1 &&
            v->offset() + 1 < loop->inputs().size())
            return from(loop->input(v->offset() + 1));
        return std::nullopt; // an if's block, or the iteration count
    }
    if (kind == "prim::TupleUnpack" || kind == "prim::ListUnpack") {
        auto o = from(n->input(0));
        if (o) o->path.push_back(v->offset());
        return o;
    }
    if (kind == "prim::TupleIndex" || kind == "aten::__getitem__") {
        const auto k = constantInt(n->input(1));
        // A list's element at any index stands for each (`for image in images`); a tuple's is its own.
        const bool anyElement = !k && n->input(0)->type()->kind() == c10::TypeKind::ListType;
        auto o = (k && *k >= 0) || anyElement ? from(n->input(0)) : std::nullopt;
        if (o) o->path.push_back(anyElement ? 0 : std::size_t(*k));
        return o;
    }
    if (kind == "aten::unsqueeze" && constantInt(n->input(1)) == int64_t(0)) {
        auto o = from(n->input(0));
        if (o && o->shapeKept && !o->batchAdded)
            o->batchAdded = true;
        else if (o)
            o->shapeKept = false;
        return o;
    }
    if (kind == "prim::If") { // the branch that keeps the most of it: `if x.dim() == 2: x = x.unsqueeze(0)`
        std::optional<Origin> best;
        for (const auto* block : n->blocks())
            if (auto o = from(block->outputs()[v->offset()])) {
                // The most kept; on a tie, the one not batched inside the model.
                const auto score = [](const Origin& x) {
                    return 2 * (int(x.shapeKept) + int(x.dtypeKept)) + int(!x.batchAdded);
                };
                if (!best || score(*o) > score(*best)) best = o;
            }
        return best;
    }
    static const char* kShapeKept[] = {"prim::unchecked_cast",
                                       "aten::contiguous",
                                       "aten::clone",
                                       "aten::detach",
                                       "aten::dropout",
                                       "aten::relu",
                                       "aten::slice",
                                       "aten::quantize_per_tensor",
                                       "aten::quantize_per_channel",
                                       "aten::quantize_per_tensor_dynamic"};
    static const char* kDtypeLost[] = {"aten::to",  "aten::type_as", "aten::float", "aten::long",
                                       "aten::int", "aten::bool",    "aten::half",  "aten::double"};
    static const char* kShapeLost[] = {"aten::unsqueeze", "aten::squeeze",   "aten::view",   "aten::reshape",
                                       "aten::permute",   "aten::transpose", "aten::select", "aten::flatten",
                                       "aten::expand",    "aten::index",     "aten::t"};
    for (const char* k : kShapeKept)
        if (kind == k) return from(n->input(0));
    for (const char* k : kDtypeLost)
        if (kind == k) {
            auto o = from(n->input(0));
            if (o) o->dtypeKept = false;
            return o;
        }
    for (const char* k : kShapeLost)
        if (kind == k) {
            auto o = from(n->input(0));
            if (o) o->shapeKept = false;
            return o;
        }
    return std::nullopt;
}

} // namespace

// The tensors a list operand holds: a module's list attribute (a scripted RNN's _flat_weights) or a
// list built of attributes (a traced one's).
std::vector<at::Tensor> tensorsOf(const JitValue* v, const JitValue* self, const c10::IValue& root) {
    std::vector<at::Tensor> out;
    if (const auto iv = attribute(v, self, root); iv && iv->isList()) {
        for (const auto& e : iv->toListRef())
            if (e.isTensor()) out.push_back(e.toTensor());
        return out;
    }
    if (v->node()->kind() == c10::prim::ListConstruct)
        for (const auto* in : v->node()->inputs())
            if (auto t = tensorOf(in, self, root)) out.push_back(*t);
    return out;
}

// A method of an object the model holds (a quantized layer's packed weights) that LibTorch itself defines
// in C++: a class of the file's own TorchScript is never called, so nothing of the file's code runs. Empty
// where there is none, or it fails.
std::optional<c10::IValue> callMethod(const c10::IValue& object, const std::string& name) {
    if (!object.isObject() || !object.isCustomClass()) return std::nullopt;
    try {
        torch::jit::Function* method = object.toObjectRef().type()->findMethod(name);
        if (!method || method->getSchema().arguments().size() != 1) return std::nullopt; // self alone
        torch::jit::Stack stack{object};
        method->run(stack);
        if (stack.size() == 1) return stack.front();
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

// The objects a list operand holds: a module's list attribute, or a list built of attributes, listed or
// appended one by one (a quantized RNN's cell parameters).
std::vector<c10::IValue> objectsOf(const JitValue* v, const JitValue* self, const c10::IValue& root) {
    std::vector<c10::IValue> out;
    if (const auto iv = attribute(v, self, root); iv && iv->isList()) {
        for (const auto& e : iv->toListRef())
            out.push_back(e);
        return out;
    }
    if (v->node()->kind() != c10::prim::ListConstruct) return out;
    for (const auto* in : v->node()->inputs())
        if (auto a = attribute(in, self, root)) out.push_back(*a);
    std::vector<const Node*> appends;
    for (const auto& use : v->uses())
        if (use.user->kind() == c10::aten::append && use.offset == 0 && use.user->inputs().size() == 2)
            appends.push_back(use.user);
    std::sort(appends.begin(), appends.end(), [](const Node* a, const Node* b) { return a->isBefore(b); });
    for (const Node* append : appends)
        if (auto a = attribute(append->input(1), self, root)) out.push_back(*a);
    return out;
}

// A quantized RNN's input and hidden weights (their shapes), from its first layer's cell parameters:
// packed (dynamic quantization) or plain tensors.
std::vector<at::Tensor> quantizedRnnWeights(const std::vector<c10::IValue>& cells) {
    if (cells.empty()) return {};
    const auto state = callMethod(cells.front(), "__getstate__");
    if (!state || !state->isTuple()) return {};
    const std::vector<c10::IValue> parts = state->toTupleRef().elements().vec();
    if (parts.size() < 5) return {};
    std::vector<at::Tensor> out;
    if (parts[4].isList() && parts[4].toListRef().size() >= 2) {
        for (std::size_t i = 0; i < 2; ++i)
            if (auto w = unpackedWeight(parts[4].toListRef()[i])) out.push_back(*w);
    } else if (parts[1].isList() && parts[1].toListRef().size() >= 2) {
        for (std::size_t i = 0; i < 2; ++i)
            if (parts[1].toListRef()[i].isTensor())
                out.push_back(floatShape(parts[1].toListRef()[i].toTensor()));
    }
    return out.size() == 2 ? out : std::vector<at::Tensor>{};
}

// Every node, in order, those inside if and loop blocks at their place.
void eachNode(const torch::jit::Block* block, const std::function<void(const Node*)>& visit) {
    for (const Node* n : block->nodes()) {
        visit(n);
        for (const auto* b : n->blocks())
            eachNode(b, visit);
    }
}

// A quantized node's packed params: operand 1 mostly, 2 for conv2d_add (after the accumulator), 3 for the
// linears taking the input's scale and zero point first.
std::optional<c10::IValue> packedParamsOf(const Node* n, const JitValue* self, const c10::IValue& root) {
    for (std::size_t i = 1; i < n->inputs().size() && i <= 3; ++i)
        if (auto a = attribute(n->input(i), self, root); a && a->isCustomClass()) return a;
    return std::nullopt;
}

// The weight they hold, as a float tensor of its shape.
std::optional<at::Tensor> packedWeightOf(const Node* n, const JitValue* self, const c10::IValue& root) {
    const auto packed = packedParamsOf(n, self, root);
    auto w = packed ? unpackedWeight(*packed) : std::nullopt;
    // A 1-d convolution packs as a 2-d one, its weight [out, in, 1, k].
    if (w && startsWith(n->kind().toQualString(), "quantized::conv1d") && w->dim() == 4 && w->size(2) == 1)
        w = w->squeeze(2);
    return w;
}

} // namespace twb::suggestion
