// Internal to the input suggestions: what forward's graph says of its inputs and what the module holds.
// The graph walk (where a value comes from, what an attribute holds) is suggest_graph.cpp; the image sides a
// trunk fixes (a vision transformer's patch grid, a CNN's flattened Linear) are suggest_sides.cpp; the rules
// of first use, and the suggestions made of them, are suggest.cpp.
#pragma once

#include <torch/script.h>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace twb::suggestion {

using torch::jit::Node;
using JitValue = torch::jit::Value;

inline bool startsWith(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

// The module attribute a value of forward's graph stands for (self.fc1.weight), or a constant; `self` is
// forward's first input and `root` the module it stands for.
std::optional<c10::IValue> attribute(const JitValue* v, const JitValue* self, const c10::IValue& root);
std::optional<at::Tensor> tensorOf(const JitValue* v, const JitValue* self, const c10::IValue& root);

// An int, or a list of ints, the graph fixes.
std::optional<int64_t> constantInt(const JitValue* v);
std::optional<std::vector<int64_t>> constantInts(const JitValue* v);

// Where a value of the graph comes from: forward's input `input`, or an element of it (`path`, for a
// tuple argument), through ops that keep its shape (slicing, activations, casts) or its dtype (views).
struct Origin {
    std::size_t input = 0;
    std::vector<std::size_t> path;
    bool shapeKept = true, dtypeKept = true;
    bool batchAdded = false; // unsqueeze(0) made it a batch of one: `conv(image.unsqueeze(0))`
};

using Origins = std::map<const JitValue*, std::optional<Origin>>;

// Where v comes from, if from forward's inputs; memoized in `memo` across the values of one graph.
std::optional<Origin> origin(const JitValue* v, Origins& memo, int depth = 0);

// The tensors, or the objects, a list operand holds: a module's list attribute, or a list built of
// attributes.
std::vector<at::Tensor> tensorsOf(const JitValue* v, const JitValue* self, const c10::IValue& root);
std::vector<c10::IValue> objectsOf(const JitValue* v, const JitValue* self, const c10::IValue& root);

// A method LibTorch defines in C++ on a custom class the model holds (never the file's own code).
std::optional<c10::IValue> callMethod(const c10::IValue& object, const std::string& name);

// A quantized node's packed params, and the weight they hold as a float tensor of its shape (no memory).
std::optional<c10::IValue> packedParamsOf(const Node* n, const JitValue* self, const c10::IValue& root);
std::optional<at::Tensor> packedWeightOf(const Node* n, const JitValue* self, const c10::IValue& root);

// A quantized RNN's input and hidden weights (their shapes), from its cell parameters.
std::vector<at::Tensor> quantizedRnnWeights(const std::vector<c10::IValue>& cells);

// Every node, in order, those inside if and loop blocks at their place.
void eachNode(const torch::jit::Block* block, const std::function<void(const Node*)>& visit);

// A vision transformer's image side from its patch convolution and position embedding; 0 where none.
int64_t patchGridSide(const Node* conv, const at::Tensor& weight, const c10::IValue& root);

// The image side (dims 2) or sequence length (dims 1) a CNN trunk from `conv` on (taking `channels`) needs
// for the Linear it flattens into, and that Linear's description; {0, ""} where it cannot be followed.
std::pair<int64_t, std::string> flattenedSide(const Node* conv, int dims, int64_t channels,
                                              const JitValue* self, const c10::IValue& root);

} // namespace twb::suggestion
