// A restricted unpickler for torch.save archives: it builds plain data (dicts,
// lists, tuples, numbers, strings) and tensor references, and accepts only the
// globals a tensor archive needs. Anything else is refused by name — or, for
// diagnosis only, kept as an inert placeholder that records its class.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace twb::detail::pickle {

struct Global {
    std::string module, name;
    std::string qualified() const { return module + "." + name; }
};

struct StorageRef {
    std::string key;         // record name under data/
    std::string storageType; // "FloatStorage", …
    std::string location;    // "cpu", "cuda:0"
    int64_t numel = 0;
};

struct Object;
using Ref = std::shared_ptr<Object>;

struct TensorRef {
    std::shared_ptr<StorageRef> storage;
    int64_t offset = 0;
    std::vector<int64_t> size, stride;
    bool requiresGrad = false;
};

struct Object {
    enum class Type {
        None,
        Bool,
        Int,
        Float,
        String,
        Bytes,
        Tuple,
        List,
        Dict,
        Set,
        Global,
        Tensor,
        Device,
        Opaque
    };
    Type type = Type::None;
    int depth = 0; // nesting below this object; bounded so walkers and destructors cannot overflow the stack
    // This object and all below it, counted as a walk sees them (a shared object once per reference);
    // bounded so that walkers finish: 64 levels of (x, x) are 130 bytes of pickle and 2^64 objects walked.
    uint64_t weight = 1;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;                            // String, Bytes, Device
    std::vector<Ref> items;                   // Tuple, List, Set
    std::vector<std::pair<Ref, Ref>> entries; // Dict (insertion order)
    Global global;                            // Global; for Opaque the class it is an instance of
    std::shared_ptr<StorageRef> storage;      // a persistent id
    std::shared_ptr<TensorRef> tensor;
};

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A pickle whose structure no torch.save of tensors produces: a container that holds itself, nesting
// or sharing that expands beyond the bounds. Such a file was built by hand or to exhaust memory.
class Refused : public Error {
public:
    using Error::Error;
};

// A global outside the allowed set.
class UnsafeGlobal : public Error {
public:
    explicit UnsafeGlobal(Global g)
        : Error("refuses to load '" + g.qualified() + "': not a tensor, container or number")
        , global(std::move(g)) {}
    Global global;
};

struct Options {
    bool allowOpaque = false; // keep unknown globals as placeholders instead of refusing them
};

struct Result {
    Ref root;
    std::vector<Global> globals; // every global the pickle names, in order
    std::vector<std::shared_ptr<StorageRef>> storages;
};

Result load(const std::string& bytes, const Options& options = {});

// Deepest nesting the unpickler builds; deeper pickles are refused.
constexpr int kMaxNesting = 1000;
// Most objects a walk of the result may meet (Object::weight); a pickle that expands further is refused.
constexpr uint64_t kMaxWeight = uint64_t(1) << 21;

} // namespace twb::detail::pickle
