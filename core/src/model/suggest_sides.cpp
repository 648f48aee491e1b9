#include "suggest_graph.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace twb::suggestion {
namespace {

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

} // namespace

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

} // namespace twb::suggestion
