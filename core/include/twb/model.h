// Models: inspect any model file, load TorchScript archives, load state_dicts
// into them, bind inputs to forward's schema and run. `Model` is an opaque
// handle; everything it reports is a plain value.
#pragma once

#include "twb/diagnosis.h"
#include "twb/value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace twb {

namespace detail {
struct ModelAccess; // core's run engine reaches the module through this
} // namespace detail

struct ArgumentInfo {
    std::string name;
    std::string type; // TorchScript annotation: "Tensor", "int", "List[Tensor]", "Optional[Tensor]"
    bool hasDefault = false;
    std::string defaultValue;
    // What the model suggests feeding it (see twb/suggest.h): a generator spec and why.
    std::string suggested, suggestedReason;
    bool suggestionFound = false; // false: nothing in the model fixes it; `suggested` is a guess
    // The dtype the model's first use of it needs ("bool" for masked_fill's mask, "int64" for an
    // Embedding's ids, the weights' "float32" for a Conv2d's input) and that use; "" when nothing says.
    std::string neededDtype, neededBy;
    // A tuple argument's elements, named "hc.0", "hc.1", each with its own type and suggestion: what
    // feeds them one by one (-i hc.0=h0.npy). Empty for any other type.
    std::vector<ArgumentInfo> elements;
};

struct MethodInfo {
    std::string name;
    std::string schema;                  // full signature: forward(__torch__.Net self, Tensor x) -> Tensor
    std::vector<ArgumentInfo> arguments; // without self
    std::string returnType;
};

struct TensorInfo {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    int64_t numel = 0;
    uint64_t bytes = 0;
    std::string device;
};

struct TensorTotals {
    int64_t tensors = 0;
    int64_t count = 0; // elements
    uint64_t bytes = 0;
    std::vector<std::pair<std::string, int64_t>> dtypes; // dtype -> elements
};

struct ModuleNode {
    std::string name;       // attribute name; empty for the root
    std::string type;       // qualified class name
    int64_t parameters = 0; // elements, recursively
    std::vector<ModuleNode> children;
};

struct ModelInfo {
    std::string path;
    uint64_t fileSize = 0;
    Diagnosis diagnosis;

    // TorchScript archives
    std::string className;
    bool savedTraining = false; // the training flag it was saved with (loading calls eval())
    std::vector<MethodInfo> methods;
    std::vector<ArgumentInfo> inputs; // forward's arguments
    std::string returnType;
    TensorTotals parameters; // for a state_dict: totals over its tensors
    TensorTotals buffers;
    ModuleNode tree;
    std::string code; // the archive's TorchScript source of the model's own class
    std::vector<std::string> extraFiles;
    std::vector<std::string> savedDevices; // devices the tensors were saved on
    bool savedOnCuda = false;
    // Quantized models: the engine their weights were packed for as they loaded here, which runs them
    // ("x86", "qnnpack"); "" for others. The note says why, when the first engine tried could not.
    std::string quantizedEngine, quantizedEngineNote;

    // state_dicts
    std::vector<TensorInfo> tensors;
    std::string stateDictKey; // where in a checkpoint dict the state_dict was found
    // A checkpoint's other entries ("epoch: 12", "optimizer: optimizer state, not a model") and the Python
    // objects kept inert ("args: argparse.Namespace(lr=0.1, arch='cnn'): kept as text, not run").
    std::vector<std::string> checkpointEntries, pythonObjects;
    std::vector<std::string>
        stateDictCandidates; // every entry holding a state_dict; the first is the default
};

// Everything we can tell about a file; a bad file yields a diagnosis, not an exception.
ModelInfo inspectModelFile(const std::string& path);

struct StateDictReport {
    struct Mismatch {
        std::string name;
        std::vector<int64_t> expected, got;
    };
    bool strict = true;
    bool applied = false; // false when strict loading refused
    int64_t loaded = 0;
    std::vector<std::string> missing, unexpected, dtypeConverted;
    std::vector<Mismatch> mismatched;
    // Integer in one, floating point in the other: converted as PyTorch's copy_ does (a float16
    // num_batches_tracked into the model's int64), and each named, since a value may change.
    std::vector<std::string> kindConverted;
    std::string convertedFrom, convertedTo; // the commonest conversion: "float16" -> "float32"
    int64_t convertedMostly = 0;            // how many tensors it converted
    std::string strippedPrefix;             // "module." when the keys were saved from DataParallel/DDP
    int64_t stripped = 0;                   // keys it was stripped from
    std::string suggestedPrefix; // another prefix every unexpected key carries: strip it with stripPrefix
    std::vector<std::string> harmlessMissing; // BatchNorm's num_batches_tracked, absent from old checkpoints
    std::string foundUnderKey;                // the checkpoint entry the weights came from, if any
    bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
    // In the words of load_state_dict: "Missing key(s) in state_dict: …"
    std::string describe() const;
};

// The state_dict inside a file: a state_dict, a checkpoint dict holding one, or safetensors.
// Returns a Dict value of name -> tensor; throws twb::Error when the file holds none.
// `key` picks a checkpoint entry by name; a key that holds no state_dict is an error naming the ones that do.
Value readStateDict(const std::string& path, std::string* foundUnderKey = nullptr,
                    const std::string& key = {});

// What the caller has for forward: a value, optionally aimed at a named argument.
struct ProvidedInput {
    std::string argument; // empty: by position, or by key for a multi-tensor value
    Value value;
    std::string source; // file name or generator spec, for messages
};

struct InputBinding {
    bool ok = false;
    std::string error; // one sentence when !ok
    struct Bound {
        std::string argument, type, source;
        Value value;
        std::vector<std::string> parts; // a tuple gathered from its elements' inputs: each one's source
    };
    std::vector<Bound> arguments; // in forward's order; defaults left out
    // Inputs that bind but differ from what the model's first use of them needs (a float mask where
    // masked_fill takes bool): one sentence each. A binding with warnings does not "match".
    std::vector<std::string> warnings;
};

// A loaded TorchScript model: an opaque handle. Copies are cheap and share one module, so
// loadStateDict through any copy changes the weights every copy runs with (as copies of a
// torch::jit::Module do). The harness never changes the shared module: freeze and
// optimize_for_inference work on a deep copy of their own.
class Model {
public:
    // Loads a TorchScript archive on the CPU and puts it in eval mode.
    // Throws twb::Error carrying the diagnosis for anything else.
    static Model load(const std::string& path);

    const ModelInfo& info() const;

    // Keys saved with "module." (DataParallel, DDP) or "_orig_mod." (torch.compile) are matched without
    // it, and the report says so; `stripPrefix` removes another prefix from every key that has it.
    StateDictReport loadStateDict(const Value& stateDict, bool strict = true,
                                  const std::string& stripPrefix = {});
    StateDictReport loadStateDict(const std::string& path, bool strict = true,
                                  const std::string& stripPrefix = {}, const std::string& key = {});

    // Matches provided values to forward's arguments, converting where the schema
    // says (a one-element tensor to int/float/bool, a list to a tuple, …).
    InputBinding bindInputs(const std::vector<ProvidedInput>& provided) const;

    // Runs forward on the CPU under inference mode.
    Value forward(const InputBinding& binding) const;

    struct Impl;

private:
    explicit Model(std::shared_ptr<Impl> impl);
    friend struct detail::ModelAccess;
    std::shared_ptr<Impl> m_impl;
};

} // namespace twb
