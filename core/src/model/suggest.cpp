#include "twb/suggest.h"

#include "suggest_internal.h"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
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

// Where a value of the graph comes from: forward's input `input`, or an element of it (`path`, for a
// tuple argument), through ops that keep its shape (slicing, activations, casts) or its dtype (views).
struct Origin {
    std::size_t input = 0;
    std::vector<std::size_t> path;
    bool shapeKept = true, dtypeKept = true;
    bool batchAdded = false; // unsqueeze(0) made it a batch of one: `conv(image.unsqueeze(0))`
};

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

using Origins = std::map<const JitValue*, std::optional<Origin>>;

std::optional<Origin> originOf(const JitValue* v, Origins& memo, int depth);

// Memoized: an if's branches are each walked once however many values pass through them.
std::optional<Origin> origin(const JitValue* v, Origins& memo, int depth = 0) {
    if (const auto it = memo.find(v); it != memo.end()) return it->second;
    auto o = originOf(v, memo, depth);
    memo[v] = o;
    return o;
}

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

bool startsWith(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

// One informative use of a graph value: what it implies about the value.
struct Use {
    const Node* node;
    std::size_t offset;      // which operand
    std::size_t element = 0; // for an RNN's state list: which state (h or c)
};

// Every node, in order, those inside if and loop blocks at their place.
void eachNode(const torch::jit::Block* block, const std::function<void(const Node*)>& visit) {
    for (const Node* n : block->nodes()) {
        visit(n);
        for (const auto* b : n->blocks())
            eachNode(b, visit);
    }
}

// A vision transformer's side: its first convolution cuts the image into patches (kernel = stride, no
// padding), and a learned position embedding [1, T, width] has a place for each patch (T a square, or one
// more for a class token, or two for a distillation token). A side of 224 would give it more patches than
// places. 0 where there is no such embedding.
int64_t patchGridSide(const Node* conv, const at::Tensor& weight, const c10::IValue& root) {
    if (weight.dim() != 4 || conv->inputs().size() < 5) return 0;
    const auto stride = constantInts(conv->input(3)), padding = constantInts(conv->input(4));
    const int64_t k = weight.size(2);
    if (!stride || stride->empty() || (*stride)[0] != k || k < 2 || weight.size(3) != k) return 0;
    for (auto s : *stride)
        if (s != k) return 0;
    if (!padding) return 0;
    for (auto pad : *padding)
        if (pad != 0) return 0;
    const auto side = [&](const at::Tensor& t) -> int64_t {
        if (t.dim() != 3 || t.size(0) != 1 || t.size(2) != weight.size(0)) return 0;
        for (int64_t extra = 0; extra <= 2; ++extra) {
            const int64_t places = t.size(1) - extra;
            const auto n = int64_t(std::lround(std::sqrt(double(std::max<int64_t>(places, 0)))));
            if (n >= 2 && n * n == places) return n * k;
        }
        return 0;
    };
    // A module's parameters and buffers, or a frozen one's constants.
    if (root.isObject()) {
        const torch::jit::Module module(root.toObject());
        for (const auto& p : module.named_parameters(true))
            if (const int64_t s = side(p.value)) return s;
        for (const auto& b : module.named_buffers(true))
            if (const int64_t s = side(b.value)) return s;
    }
    int64_t found = 0;
    eachNode(conv->owningGraph()->block(), [&](const Node* n) {
        if (found || n->kind() != c10::prim::Constant || n->outputs().size() != 1) return;
        if (const auto iv = torch::jit::toIValue(n->output()); iv && iv->isTensor())
            found = side(iv->toTensor());
    });
    return found;
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

// How a 2-d spatial size changes through one node of a CNN's trunk.
struct Spatial {
    int64_t channels = 0, h = 0, w = 0;
};
using SpatialStep = std::function<bool(Spatial&)>;

// A sliding window's output size (convolution and pooling), floor or ceiling.
int64_t windowOut(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil) {
    const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
    if (span < 0 || stride <= 0) return 0;
    int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil && (out - 1) * stride >= in + pad) --out; // the last window starts inside the input
    return out;
}

// Two of a list (kernel [3, 3], or [3] for both); empty where it is not a list the graph fixes.
std::vector<int64_t> pair(const std::optional<std::vector<int64_t>>& v) {
    if (!v || v->empty()) return {};
    return v->size() == 1 ? std::vector<int64_t>{(*v)[0], (*v)[0]} : std::vector<int64_t>{(*v)[0], (*v)[1]};
}

SpatialStep windowStep(std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> pad,
                       std::vector<int64_t> dilation, bool ceil, int64_t channels) {
    // A file's constants may be anything: sizes past these are no image's, and would overflow.
    constexpr int64_t kLimit = int64_t(1) << 20;
    for (const auto* v : {&kernel, &stride, &pad, &dilation})
        for (int64_t x : *v)
            if (x < 0 || x > kLimit) return [](Spatial&) { return false; };
    if (channels > kLimit) return [](Spatial&) { return false; };
    return [=](Spatial& s) {
        s.h = windowOut(s.h, kernel[0], stride[0], pad[0], dilation[0], ceil);
        s.w = windowOut(s.w, kernel[1], stride[1], pad[1], dilation[1], ceil);
        if (channels > 0) s.channels = channels;
        return s.h > 0 && s.w > 0;
    };
}

// The image side a CNN's trunk must be given where it ends in a Linear through flatten (LeNet, the CIFAR-10
// tutorial's net, a quantized classifier): the convolutions and poolings from `conv` on are followed, one
// node after another, and the smallest side whose flattened size is the Linear's width is the answer, with
// the Linear's description. 0 where the trunk branches, pools adaptively, or does what is not followed.
std::pair<int64_t, std::string> flattenedSide(const Node* conv, const JitValue* self,
                                              const c10::IValue& root) {
    static const std::set<std::string> kKept = {
        "aten::relu",        "aten::relu_",      "aten::batch_norm",
        "aten::dropout",     "aten::dropout_",   "aten::hardtanh",
        "aten::hardtanh_",   "aten::sigmoid",    "aten::silu",
        "aten::silu_",       "aten::gelu",       "aten::leaky_relu",
        "aten::leaky_relu_", "aten::elu",        "aten::tanh",
        "aten::contiguous",  "aten::dequantize", "aten::quantize_per_tensor",
        "aten::hardswish",   "aten::hardswish_", "aten::relu6",
        "aten::clone",       "aten::detach",     "aten::feature_dropout",
        "quantized::relu6",  "aten::mul",        "aten::add"};
    std::vector<SpatialStep> steps;
    const Node* n = conv;
    int64_t features = -1; // what the flatten or view fixes (-1: the trunk's own count)
    std::string linear;
    int64_t width = 0;
    for (int guard = 0; guard < 64 && n; ++guard) {
        const std::string kind = n->kind().toQualString();
        const bool quantized = startsWith(kind, "quantized::conv2d");
        if (kind == "aten::conv2d" || kind == "aten::_convolution" || quantized) {
            std::vector<int64_t> stride, pad, dilation;
            std::optional<at::Tensor> w;
            if (quantized) {
                const auto p = packedParamsOf(n, self, root);
                w = packedWeightOf(n, self, root);
                const auto list = [&](const char* m) {
                    const auto v = p ? callMethod(*p, m) : std::nullopt;
                    return v && v->isIntList() ? pair(v->toIntVector()) : std::vector<int64_t>{};
                };
                stride = list("stride"), pad = list("padding"), dilation = list("dilation");
            } else {
                if (n->inputs().size() < 6) return {0, ""};
                if (kind == "aten::_convolution" && torch::jit::toIValue(n->input(6)) != c10::IValue(false))
                    return {0, ""}; // transposed
                w = tensorOf(n->input(1), self, root);
                stride = pair(constantInts(n->input(3))), pad = pair(constantInts(n->input(4))),
                dilation = pair(constantInts(n->input(5)));
            }
            if (!w || w->dim() != 4 || stride.empty() || pad.empty() || dilation.empty()) return {0, ""};
            steps.push_back(windowStep({w->size(2), w->size(3)}, stride, pad, dilation, false, w->size(0)));
        } else if (kind == "aten::max_pool2d" || kind == "quantized::max_pool2d" ||
                   kind == "aten::avg_pool2d") {
            const bool avg = kind == "aten::avg_pool2d";
            if (n->inputs().size() < (avg ? 5u : 6u)) return {0, ""};
            const auto kernel = pair(constantInts(n->input(1)));
            // None given is the kernel's: an empty list, or F.max_pool2d's `if stride is None: stride = []`.
            auto given = constantInts(n->input(2));
            if (!given && n->input(2)->node()->kind() == c10::prim::If) {
                bool none = false, other = false; // a branch of the default, and one of a stride given
                for (const auto* block : n->input(2)->node()->blocks())
                    if (const auto c = constantInts(block->outputs()[n->input(2)->offset()]))
                        (c->empty() ? none : other) = true;
                if (none && !other) given = std::vector<int64_t>{};
            }
            const auto stride = given && given->empty() ? kernel : pair(given);
            const auto pad = pair(constantInts(n->input(3)));
            const auto dilation = avg ? std::vector<int64_t>{1, 1} : pair(constantInts(n->input(4)));
            const auto ceil = torch::jit::toIValue(n->input(avg ? 4 : 5));
            if (kernel.empty() || stride.empty() || pad.empty() || dilation.empty() || !ceil ||
                !ceil->isBool())
                return {0, ""};
            steps.push_back(windowStep(kernel, stride, pad, dilation, ceil->toBool(), 0));
        } else if (kind == "aten::flatten") {
            if (n->inputs().size() < 2 || constantInt(n->input(1)) != int64_t(1)) return {0, ""};
        } else if (kind == "aten::view" || kind == "aten::reshape") {
            // x.view(x.size(0), -1) or x.view(-1, 16 * 5 * 5)
            const Node* list = n->input(1)->node();
            std::vector<const JitValue*> parts;
            if (list->kind() == c10::prim::ListConstruct)
                parts.assign(list->inputs().begin(), list->inputs().end());
            const auto fixed = constantInts(n->input(1));
            if (fixed && fixed->size() == 2 && (*fixed)[0] == -1 && (*fixed)[1] > 0) {
                features = (*fixed)[1];
            } else if (parts.size() == 2 && constantInt(parts[1]) == int64_t(-1)) {
            } else if (parts.size() == 2 && constantInt(parts[0]) == int64_t(-1) && constantInt(parts[1])) {
                features = *constantInt(parts[1]);
            } else {
                return {0, ""};
            }
        } else if (kind == "aten::linear" || startsWith(kind, "quantized::linear")) {
            const auto w =
                kind == "aten::linear" ? tensorOf(n->input(1), self, root) : packedWeightOf(n, self, root);
            if (!w || w->dim() != 2 || steps.empty()) return {0, ""};
            width = w->size(1);
            linear = "Linear(" + std::to_string(width) + ", " + std::to_string(w->size(0)) + ")";
            break;
        } else if (!kKept.count(kind) && kind != "prim::If" && n != conv) {
            return {0, ""};
        }
        // The one node that takes this one's output as its data (shape queries aside), or the if whose
        // branches each do something that keeps its shape (F.relu's `if inplace: relu_ else: relu`).
        std::vector<const Node*> users;
        for (const auto& u : n->output(0)->uses()) {
            const std::string k = u.user->kind().toQualString();
            if (k == "aten::size" || k == "aten::dim" || k == "prim::shape") continue;
            if (u.offset != 0) return {0, ""};
            users.push_back(u.user);
        }
        const Node* owner = users.empty() ? nullptr : users.front()->owningBlock()->owningNode();
        const bool branches =
            users.size() > 1 && owner && owner->kind() == c10::prim::If &&
            owner->owningBlock() == n->owningBlock() &&
            std::all_of(users.begin(), users.end(), [&](const Node* u) {
                return u->owningBlock()->owningNode() == owner && kKept.count(u->kind().toQualString());
            });
        n = users.size() == 1 ? users.front() : branches ? owner : nullptr;
    }
    if (width <= 0) return {0, ""};
    for (int64_t side = 1; side <= 2048; ++side) {
        Spatial s{0, side, side};
        bool ok = true;
        for (const auto& step : steps)
            ok = ok && step(s);
        if (!ok) continue;
        const int64_t flat = s.channels * s.h * s.w;
        if (flat == width && (features < 0 || features == width)) return {side, linear};
    }
    return {0, ""};
}

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
        const int64_t in = w->size(1) * groups, out = w->size(0);
        const int64_t patches = quantizedConv ? 0 : patchGridSide(n, *w, root);
        const auto [flattened, linear] =
            spatial == 2 && !patches ? flattenedSide(n, self, root) : std::pair<int64_t, std::string>{0, ""};
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
                          : flattened ? free + " " + std::to_string(side) + " (the " + linear +
                                            " it flattens into takes that side)"
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
