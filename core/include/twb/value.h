// Values that flow in and out of models: tensors and the tuples, lists and
// dicts that nest them. An opaque, immutable, cheaply copied handle; the
// summaries it produces are plain structs any layer may keep.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace twb {

struct TensorSummary {
    std::vector<int64_t> shape;
    std::string dtype;  // "float32", "int64", …
    std::string device; // "cpu", "cuda:0"
    int64_t numel = 0;
    uint64_t bytes = 0;
    // Over finite values; NaN when there are none.
    double min = 0, max = 0, mean = 0;
    int64_t nanCount = 0, infCount = 0;
    std::vector<double> first; // the first few values in row-major order
    // For 2-D outputs such as logits [batch, classes]: the top classes of row 0 as (index, value).
    std::vector<std::pair<int64_t, double>> topk;
};

// One tensor inside a (possibly nested) value, with its path: out, out[1][0], out["sum"].
struct Leaf {
    std::string path;
    TensorSummary summary;
};

class Value {
public:
    enum class Kind { None, Tensor, Bool, Int, Double, String, List, Tuple, Dict, Other };

    Value(); // None
    Kind kind() const;
    bool isNone() const { return kind() == Kind::None; }
    bool isTensor() const { return kind() == Kind::Tensor; }
    // "Tensor", "int", "Tuple[Tensor, Tensor]", "Dict[str, Tensor]" …
    std::string typeName() const;

    // Containers (List, Tuple, Dict). Dict keys are rendered as text.
    std::size_t size() const;
    Value at(std::size_t i) const;
    std::vector<std::pair<std::string, Value>> items() const;

    // Scalars; throw twb::Error on the wrong kind.
    bool toBool() const;
    int64_t toInt() const;
    double toDouble() const;
    std::string toStringValue() const;

    // Tensors.
    TensorSummary summary(std::size_t firstCount = 8) const;
    // Every tensor inside, depth first, with its path below `root`.
    std::vector<Leaf> leaves(const std::string& root = "out", std::size_t firstCount = 8) const;
    // A tensor's values converted to double, row-major (for tests and previews).
    std::vector<double> toDoubles() const;
    std::vector<int64_t> shape() const;
    std::string dtype() const;

    // A short human rendering of scalars and structure (tensors shown by shape).
    std::string describe() const;

    struct Impl;
    explicit Value(std::shared_ptr<const Impl> impl);
    const Impl& impl() const { return *m_impl; }

private:
    std::shared_ptr<const Impl> m_impl;
};

// Builders for values made outside a model.
Value makeTuple(std::vector<Value> items);
Value makeList(std::vector<Value> items);
Value makeDict(std::vector<std::pair<std::string, Value>> items);
Value makeInt(int64_t v);
Value makeDouble(double v);
Value makeBool(bool v);
Value makeString(const std::string& v);
// A tensor from values (row-major) converted to `dtype`.
Value makeTensor(const std::vector<double>& values, const std::vector<int64_t>& shape,
                 const std::string& dtype = "float32");

// "[2, 3, 224, 224]"
std::string shapeText(const std::vector<int64_t>& shape);

// Dtype names accepted everywhere: float32/float, float64/double, float16/half,
// bfloat16, int8, uint8, int16, int32/int, int64/long, bool, complex64, complex128.
std::string canonicalDtype(const std::string& name); // throws twb::Error on unknown names
std::vector<std::string> knownDtypes();

} // namespace twb
