#include "suggest_graph.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace twb::suggestion {
namespace {

// What a value of a CNN's trunk is, for one image side: an image of `channels` planes h×w, or the features
// it was flattened to (flat). `windowed`: a convolution or pooling made it, so its size follows the side.
struct Spatial {
    int64_t channels = 0, h = 0, w = 0;
    bool flat = false, windowed = false;
};

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

// One node of the trunk as a step from the values it takes to the one it makes (indices into the values
// the trunk follows). Window: a convolution or pooling. Same: what keeps its input's size (an activation, a
// batch norm, an if whose branches each give it), and, with several inputs, what needs them of one size
// (a residual sum). Concat: channels joined. Flatten: to `features` (-1: whatever the trunk gives).
struct Step {
    enum Kind { Window, Same, Concat, Flatten } kind = Same;
    std::vector<std::size_t> in;
    std::size_t out = 0;
    int64_t kernel[2]{}, stride[2]{}, pad[2]{}, dilation[2]{};
    bool ceil = false;
    int64_t channels = 0; // a convolution's out channels (0: a pooling's, which keeps them)
    int64_t features = -1;
    bool broadcast = false; // Same: operands may broadcast (arithmetic), or must agree (an if's branches)
};

// Sizes past this are no image's (and a product of three of them would overflow).
constexpr int64_t kLargest = int64_t(1) << 20;

bool apply(const Step& step, std::vector<Spatial>& values) {
    const Spatial& first = values[step.in.front()];
    Spatial out = first;
    switch (step.kind) {
    case Step::Window:
        if (first.flat) return false;
        out.h = windowOut(first.h, step.kernel[0], step.stride[0], step.pad[0], step.dilation[0], step.ceil);
        out.w = windowOut(first.w, step.kernel[1], step.stride[1], step.pad[1], step.dilation[1], step.ceil);
        if (step.channels > 0) out.channels = step.channels;
        out.windowed = true;
        if (out.h <= 0 || out.w <= 0 || out.h > kLargest || out.w > kLargest) return false;
        break;
    case Step::Same:
    case Step::Concat:
        for (std::size_t i = 1; i < step.in.size(); ++i) {
            const Spatial& other = values[step.in[i]];
            if (other.flat != first.flat) return false;
            // An if's branches of one shape; a product's or sum's operands too, or broadcast where one is 1
            // (a spatial attention map of one channel); joined channels of one side, their count added.
            const auto meet = [&](int64_t a, int64_t b, int64_t& to) {
                if (a != b && !(step.broadcast && (a == 1 || b == 1))) return false;
                to = std::max(a, b);
                return true;
            };
            if (!meet(first.h, other.h, out.h) || !meet(first.w, other.w, out.w)) return false;
            if (step.kind == Step::Concat) {
                out.channels += other.channels;
            } else if (!meet(out.channels, other.channels, out.channels)) {
                return false;
            }
            if (out.channels > kLargest) return false;
            out.windowed = out.windowed || other.windowed;
        }
        break;
    case Step::Flatten:
        if (first.flat) { // flattened already: a view of it keeps it
            if (step.features > 0 && step.features != first.channels) return false;
            break;
        }
        out.flat = true;
        if (first.channels > kLargest / first.h / first.w) return false; // each at most kLargest: no overflow
        out.channels = first.channels * first.h * first.w;
        out.h = out.w = 1;
        if (step.features > 0 && step.features != out.channels) return false;
        break;
    }
    values[step.out] = out;
    return true;
}

// The trunk from a convolution's input: its nodes as steps, in the graph's order, up to the first Linear
// that takes a flattened value of it.
class Trunk {
public:
    // dims: 2 for an image's trunk (conv2d), 1 for a sequence's (conv1d, its length held as h, w 1).
    Trunk(const JitValue* image, int dims, const JitValue* self, const c10::IValue& root)
        : m_dims(dims)
        , m_self(self)
        , m_root(root) {
        m_index[image] = 0;
        follow(image->owningGraph()->block());
    }

    // The Linear's in features and description; 0 where no Linear takes the trunk flattened.
    int64_t width() const { return m_width; }
    const std::string& linear() const { return m_linear; }

    // Whether an image of this side and `channels` goes through every step to the Linear's width.
    bool fits(int64_t channels, int64_t side) const {
        std::vector<Spatial> values(m_index.size());
        values[0] = Spatial{channels, side, m_dims == 2 ? side : 1};
        for (const Step& step : m_steps)
            if (!apply(step, values)) return false;
        const Spatial& in = values[m_linearIn];
        return in.flat && in.windowed && in.channels == m_width;
    }

private:
    static constexpr std::size_t kMostSteps = 4096;

    std::optional<std::size_t> indexOf(const JitValue* v) const {
        const auto it = m_index.find(v);
        return it == m_index.end() ? std::nullopt : std::optional<std::size_t>(it->second);
    }

    void add(Step step, const JitValue* out) {
        if (m_steps.size() >= kMostSteps) return;
        step.out = m_index.size();
        m_index[out] = step.out;
        m_steps.push_back(std::move(step));
    }

    // Blocks first, so an if's outputs follow what its branches made; of an if a module attribute decides
    // (`if self.pool_first:`), the branch it takes alone.
    void follow(const torch::jit::Block* block) {
        for (const Node* n : block->nodes()) {
            if (m_width > 0) return;
            for (const auto* b : taken(n))
                follow(b);
            visit(n);
        }
    }

    std::vector<const torch::jit::Block*> taken(const Node* n) const {
        std::vector<const torch::jit::Block*> blocks(n->blocks().begin(), n->blocks().end());
        if (n->kind() == c10::prim::If && blocks.size() == 2 && !n->inputs().empty())
            if (const auto flag = attribute(n->input(0), m_self, m_root); flag && flag->isBool())
                return {blocks[flag->toBool() ? 0 : 1]};
        return blocks;
    }

    // A window's sizes as two: an image's [h, w] (one for both), a sequence's [l] with `fill` for w.
    std::vector<int64_t> sizes(const std::optional<std::vector<int64_t>>& v, int64_t fill) const {
        if (m_dims == 2) return pair(v);
        if (!v || v->size() != 1) return {};
        return {(*v)[0], fill};
    }

    bool window(Step& s, std::vector<int64_t> kernel, std::vector<int64_t> stride, std::vector<int64_t> pad,
                std::vector<int64_t> dilation) const {
        // A file's constants may be anything: what PyTorch refuses, or no image has, is not followed.
        for (const auto* v : {&kernel, &stride, &pad, &dilation}) {
            if (v->size() != 2) return false;
            for (int64_t x : *v)
                if (x < (v == &pad ? 0 : 1) || x > kLargest) return false;
        }
        if (s.channels > kLargest) return false;
        s.kind = Step::Window;
        for (int i = 0; i < 2; ++i)
            s.kernel[i] = kernel[std::size_t(i)], s.stride[i] = stride[std::size_t(i)],
            s.pad[i] = pad[std::size_t(i)], s.dilation[i] = dilation[std::size_t(i)];
        return true;
    }

    bool convolution(const Node* n, const std::string& kind, Step& s) const {
        std::vector<int64_t> stride, pad, dilation;
        std::optional<at::Tensor> w;
        if (startsWith(kind, "quantized::conv")) { // a 1-d one packs as 2-d: not followed
            if (m_dims != 2) return false;
            const auto p = packedParamsOf(n, m_self, m_root);
            w = packedWeightOf(n, m_self, m_root);
            const auto list = [&](const char* m) {
                const auto v = p ? callMethod(*p, m) : std::nullopt;
                return v && v->isIntList() ? pair(v->toIntVector()) : std::vector<int64_t>{};
            };
            stride = list("stride"), pad = list("padding"), dilation = list("dilation");
        } else {
            if (n->inputs().size() < (kind == "aten::_convolution" ? 7u : 6u)) return false;
            if (kind == "aten::_convolution" && torch::jit::toIValue(n->input(6)) != c10::IValue(false))
                return false; // transposed
            w = tensorOf(n->input(1), m_self, m_root);
            stride = sizes(constantInts(n->input(3)), 1), pad = sizes(constantInts(n->input(4)), 0),
            dilation = sizes(constantInts(n->input(5)), 1);
            // padding="valid" is none; padding="same" keeps the side (PyTorch allows it at stride 1 only).
            if (const auto named = torch::jit::toIValue(n->input(4)); named && named->isString()) {
                const std::string how = named->toStringRef();
                if (how == "valid") pad = {0, 0};
                if (how == "same" && stride == std::vector<int64_t>{1, 1} && w && w->dim() == m_dims + 2) {
                    s.channels = w->size(0); // as a window of one
                    return window(s, {1, 1}, {1, 1}, {0, 0}, {1, 1});
                }
            }
        }
        if (!w || w->dim() != m_dims + 2) return false;
        s.channels = w->size(0);
        return window(s, {w->size(2), m_dims == 2 ? w->size(3) : 1}, stride, pad, dilation);
    }

    bool pooling(const Node* n, const std::string& kind, Step& s) const {
        const bool avg = kind == "aten::avg_pool2d" || kind == "aten::avg_pool1d";
        if (n->inputs().size() < (avg ? 5u : 6u)) return false;
        const auto kernel = sizes(constantInts(n->input(1)), 1);
        // None given is the kernel's: an empty list, or F.max_pool2d's `if stride is None: stride = []`.
        auto given = constantInts(n->input(2));
        // A stride given is the other branch's, cast from the optional the caller gave (a constant).
        // A branch of anything else (a stride the module holds) is not followed.
        if (!given && n->input(2)->node()->kind() == c10::prim::If) {
            bool none = false;
            for (const auto* block : n->input(2)->node()->blocks()) {
                if (n->input(2)->offset() >= block->outputs().size()) return false;
                const JitValue* out = block->outputs()[n->input(2)->offset()];
                if (out->node()->kind() == c10::prim::unchecked_cast) out = out->node()->input(0);
                const auto c = constantInts(out);
                if (c && c->empty())
                    none = true;
                else if (c)
                    given = c;
                else if (out->type()->kind() != c10::TypeKind::NoneType)
                    return false;
            }
            if (!given && none) given = std::vector<int64_t>{};
        }
        const auto ceil = torch::jit::toIValue(n->input(avg ? 4 : 5));
        if (!ceil || !ceil->isBool()) return false;
        s.ceil = ceil->toBool();
        return window(s, kernel, given && given->empty() ? kernel : sizes(given, 1),
                      sizes(constantInts(n->input(3)), 0),
                      avg ? std::vector<int64_t>{1, 1} : sizes(constantInts(n->input(4)), 1));
    }

    // x.flatten(1), x.view(x.size(0), -1), x.view(-1, 16 * 5 * 5)
    bool flatten(const Node* n, const std::string& kind, Step& s) const {
        s.kind = Step::Flatten;
        if (kind == "aten::flatten")
            return n->inputs().size() >= 2 && constantInt(n->input(1)) == int64_t(1) &&
                   (n->inputs().size() < 3 || constantInt(n->input(2)) == int64_t(-1) ||
                    constantInt(n->input(2)) == int64_t(m_dims + 1));
        if (n->inputs().size() < 2) return false;
        const Node* list = n->input(1)->node();
        std::vector<const JitValue*> parts;
        if (list->kind() == c10::prim::ListConstruct)
            parts.assign(list->inputs().begin(), list->inputs().end());
        const auto fixed = constantInts(n->input(1));
        if (fixed && fixed->size() == 2 && (*fixed)[0] == -1 && (*fixed)[1] > 0) {
            s.features = (*fixed)[1];
            return true;
        }
        // x.view(x.size(0), -1) (traced: the size through NumToTensor and Int), or of one; not x.view(16, -1)
        if (parts.size() == 2 && constantInt(parts[1]) == int64_t(-1)) {
            const JitValue* batch = parts[0];
            while (batch->node()->kind() == c10::aten::Int || batch->node()->kind() == c10::prim::NumToTensor)
                batch = batch->node()->input(0);
            const Node* size = batch->node();
            return constantInt(batch) == int64_t(1) ||
                   (size->kind() == c10::aten::size && size->inputs().size() == 2 &&
                    constantInt(size->input(1)) == int64_t(0));
        }
        if (parts.size() == 2 && constantInt(parts[0]) == int64_t(-1) &&
            constantInt(parts[1]).value_or(0) > 0) {
            s.features = *constantInt(parts[1]);
            return true;
        }
        return false;
    }

    void visit(const Node* n) {
        static const std::set<std::string> kSame = {"aten::relu",
                                                    "aten::relu_",
                                                    "aten::batch_norm",
                                                    "aten::dropout",
                                                    "aten::dropout_",
                                                    "aten::hardtanh",
                                                    "aten::hardtanh_",
                                                    "aten::sigmoid",
                                                    "aten::silu",
                                                    "aten::silu_",
                                                    "aten::gelu",
                                                    "aten::leaky_relu",
                                                    "aten::leaky_relu_",
                                                    "aten::elu",
                                                    "aten::tanh",
                                                    "aten::contiguous",
                                                    "aten::dequantize",
                                                    "aten::quantize_per_tensor",
                                                    "aten::hardswish",
                                                    "aten::hardswish_",
                                                    "aten::relu6",
                                                    "aten::clone",
                                                    "aten::detach",
                                                    "aten::feature_dropout",
                                                    "quantized::relu6",
                                                    "aten::mul",
                                                    "aten::mul_",
                                                    "aten::add",
                                                    "aten::add_",
                                                    "quantized::add",
                                                    "quantized::add_relu",
                                                    "quantized::mul",
                                                    "quantized::batch_norm2d",
                                                    "quantized::batch_norm2d_relu",
                                                    "aten::sub",
                                                    "aten::div"};
        const std::string kind = n->kind().toQualString();
        if (kind == "prim::If") {
            // Each output its branches all give from the trunk, of one size (the branch taken alone,
            // where a module attribute decides).
            const auto branches = taken(n);
            for (std::size_t i = 0; i < n->outputs().size(); ++i) {
                Step s;
                bool all = !branches.empty();
                for (const auto* b : branches) {
                    const auto k = i < b->outputs().size() ? indexOf(b->outputs()[i]) : std::nullopt;
                    all = all && k;
                    if (k) s.in.push_back(*k);
                }
                if (all) add(s, n->output(i));
            }
            return;
        }
        if (n->inputs().empty() || n->outputs().empty()) return;
        const auto first = indexOf(n->input(0));
        if (kind == "aten::linear" ||
            (startsWith(kind, "quantized::linear") && kind.find("pack") == std::string::npos)) {
            if (!first) return;
            const auto w = kind == "aten::linear" ? tensorOf(n->input(1), m_self, m_root)
                                                  : packedWeightOf(n, m_self, m_root);
            if (!w || w->dim() != 2) return;
            m_width = w->size(1);
            m_linearIn = *first;
            m_linear = "Linear(" + std::to_string(m_width) + ", " + std::to_string(w->size(0)) + ")";
            return;
        }
        if (kind == "aten::cat" && n->input(0)->node()->kind() == c10::prim::ListConstruct &&
            n->inputs().size() == 2 && constantInt(n->input(1)) == int64_t(1)) {
            Step s;
            s.kind = Step::Concat;
            for (const auto* in : n->input(0)->node()->inputs()) {
                const auto k = indexOf(in);
                if (!k) return; // a part not of the trunk: its channels are not known
                s.in.push_back(*k);
            }
            if (!s.in.empty()) add(s, n->output(0));
            return;
        }
        if (!first) {
            // A residual sum whose trunk operand comes second: `shortcut + out`
            if (kSame.count(kind) && n->inputs().size() >= 2 && indexOf(n->input(1)))
                add(Step{Step::Same, {*indexOf(n->input(1))}}, n->output(0));
            return;
        }
        Step s;
        s.in.push_back(*first);
        bool known = false;
        const bool image = m_dims == 2;
        if (kind == (image ? "aten::conv2d" : "aten::conv1d") || kind == "aten::_convolution" ||
            startsWith(kind, image ? "quantized::conv2d" : "quantized::conv1d"))
            known = convolution(n, kind, s);
        else if (kind == (image ? "aten::max_pool2d" : "aten::max_pool1d") ||
                 (image && kind == "quantized::max_pool2d") ||
                 kind == (image ? "aten::avg_pool2d" : "aten::avg_pool1d"))
            known = pooling(n, kind, s);
        else if (kind == "aten::flatten" || kind == "aten::view" || kind == "aten::reshape")
            known = flatten(n, kind, s);
        else if (kSame.count(kind)) {
            known = true;
            // Another operand of the trunk must be of the same size (a residual sum); one that is not of
            // the trunk (a scalar, a bias, a squeeze-excitation's weights) is broadcast.
            for (std::size_t i = 1; i < n->inputs().size() && i < 2; ++i)
                if (const auto k = indexOf(n->input(i))) s.in.push_back(*k);
            s.broadcast = true;
        }
        if (known) add(s, n->output(0));
    }

    int m_dims;
    const JitValue* m_self;
    const c10::IValue& m_root;
    std::map<const JitValue*, std::size_t> m_index;
    std::vector<Step> m_steps;
    int64_t m_width = 0;
    std::size_t m_linearIn = 0;
    std::string m_linear;
};

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
// tutorial's net, a CIFAR ResNet pooling by a fixed window, a quantized classifier), or the length a 1-d
// one's must (a signal classifier, up to 65,536 samples): the trunk is followed
// from the convolution's input, through residual sums and joined channels, to the first Linear that takes it
// flattened. Of the sides that fit, the one images are made in is suggested: the one divisible by the
// highest power of two (a CIFAR ResNet's 32 of 25 to 56), the smallest where two are. {0, ""} where no Linear
// takes it, or the trunk pools adaptively (any side fits).
std::pair<int64_t, std::string> flattenedSide(const Node* conv, int dims, int64_t channels,
                                              const JitValue* self, const c10::IValue& root) {
    if (dims != 1 && dims != 2) return {0, ""};
    const Trunk trunk(conv->input(0), dims, self, root);
    if (trunk.width() <= 0 || channels <= 0 || channels > kLargest) return {0, ""};
    // Every side: where branches round differently (a strided convolution beside a pooling), the sides that
    // fit need not be one range.
    int64_t best = 0;
    const auto twos = [](int64_t x) { return x & -x; };
    for (int64_t side = 1, most = dims == 2 ? 2048 : 65536; side <= most; ++side)
        if (trunk.fits(channels, side) && (!best || twos(side) > twos(best))) best = side;
    return best ? std::pair<int64_t, std::string>{best, trunk.linear()}
                : std::pair<int64_t, std::string>{0, ""};
}

} // namespace twb::suggestion
