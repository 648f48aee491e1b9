#include "twb/value.h"

#include "readers.h"
#include "torch_bridge.h"
#include "twb/error.h"

#include <torch/script.h>

#include <cmath>
#include <map>
#include <sstream>

namespace twb {

struct Value::Impl {
    c10::IValue v;
};

namespace detail {

Value wrap(c10::IValue v) {
    auto impl = std::make_shared<Value::Impl>();
    impl->v = std::move(v);
    return Value(std::move(impl));
}

const c10::IValue& unwrap(const Value& v) {
    return v.impl().v;
}

namespace {
struct DtypeEntry {
    const char* name;
    c10::ScalarType type;
};
const std::vector<DtypeEntry>& dtypeTable() {
    static const std::vector<DtypeEntry> table{
        {"float32", at::kFloat},
        {"float64", at::kDouble},
        {"float16", at::kHalf},
        {"bfloat16", at::kBFloat16},
        {"int8", at::kChar},
        {"uint8", at::kByte},
        {"int16", at::kShort},
        {"int32", at::kInt},
        {"int64", at::kLong},
        {"bool", at::kBool},
        {"complex64", at::kComplexFloat},
        {"complex128", at::kComplexDouble},
    };
    return table;
}
} // namespace

c10::IValue mapTensors(const c10::IValue& v, const std::function<at::Tensor(const at::Tensor&)>& fn,
                       ListTypes lists) {
    if (v.isTensor()) return fn(v.toTensor());
    if (v.isTuple()) {
        std::vector<c10::IValue> items;
        for (const auto& e : v.toTupleRef().elements())
            items.push_back(mapTensors(e, fn, lists));
        // A NamedTuple keeps its type, and its field names with it, unless the value is bound for a
        // pickle that Python must read without the class.
        if (lists == ListTypes::Keep)
            if (auto type = v.toTupleRef().type(); type && type->schema())
                return c10::ivalue::Tuple::createNamed(std::move(items), std::move(type));
        return c10::ivalue::Tuple::create(std::move(items));
    }
    if (v.isList()) {
        c10::impl::GenericList list(lists == ListTypes::Keep ? v.toList().elementType()
                                                             : c10::AnyType::get());
        for (const auto& e : v.toListRef())
            list.push_back(mapTensors(e, fn, lists));
        return list;
    }
    if (v.isGenericDict()) {
        const auto in = v.toGenericDict();
        c10::impl::GenericDict dict(in.keyType(),
                                    lists == ListTypes::Keep ? in.valueType() : c10::AnyType::get());
        for (const auto& e : in)
            dict.insert_or_assign(e.key(), mapTensors(e.value(), fn, lists));
        return dict;
    }
    return v;
}

int64_t sharedFirstDimension(const std::vector<c10::IValue>& values, std::string& why,
                             const std::vector<std::string>& names) {
    int64_t first = -1;
    for (std::size_t i = 0; i < values.size() && why.empty(); ++i)
        mapTensors(values[i], [&](const at::Tensor& t) {
            if (!why.empty()) return t;
            if (t.dim() == 0)
                why = (i < names.size() ? "'" + names[i] + "' holds" : std::string("an input is")) +
                      " a 0-d tensor, with no first dimension";
            else if (first >= 0 && t.size(0) != first)
                why = "the inputs disagree on their first dimension (" + std::to_string(first) + " and " +
                      std::to_string(t.size(0)) + ")";
            else
                first = t.size(0);
            return t;
        });
    return why.empty() ? first : -2;
}

c10::IValue resizedAlongFirst(const c10::IValue& v, int64_t batch) {
    return mapTensors(v, [&](const at::Tensor& t) {
        const int64_t n = t.size(0);
        if (batch <= n) return t.narrow(0, 0, batch).clone();
        return t.index_select(0, at::arange(batch, t.options().dtype(at::kLong)).remainder(n));
    });
}

c10::ScalarType scalarType(const std::string& dtype) {
    const std::string name = canonicalDtype(dtype);
    for (const auto& e : dtypeTable())
        if (name == e.name) return e.type;
    throw Error("unknown dtype '" + dtype + "'");
}

std::string dtypeName(c10::ScalarType type) {
    for (const auto& e : dtypeTable())
        if (type == e.type) return e.name;
    return c10::toString(type);
}

} // namespace detail

using detail::unwrap;
using detail::wrap;

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string canonicalDtype(const std::string& name) {
    static const std::map<std::string, std::string> aliases{
        {"float", "float32"},
        {"float32", "float32"},
        {"f32", "float32"},
        {"double", "float64"},
        {"float64", "float64"},
        {"f64", "float64"},
        {"half", "float16"},
        {"float16", "float16"},
        {"f16", "float16"},
        {"bfloat16", "bfloat16"},
        {"bf16", "bfloat16"},
        {"int8", "int8"},
        {"uint8", "uint8"},
        {"int16", "int16"},
        {"short", "int16"},
        {"int32", "int32"},
        {"int", "int32"},
        {"int64", "int64"},
        {"long", "int64"},
        {"bool", "bool"},
        {"complex64", "complex64"},
        {"cfloat", "complex64"},
        {"complex128", "complex128"},
        {"cdouble", "complex128"},
    };
    std::string key = name;
    if (key.rfind("torch.", 0) == 0) key = key.substr(6);
    const auto it = aliases.find(key);
    if (it == aliases.end())
        throw Error("unknown dtype '" + name +
                    "' (known: float32, float64, float16, bfloat16, "
                    "int8, uint8, int16, int32, int64, bool, complex64, complex128)");
    return it->second;
}

std::vector<std::string> knownDtypes() {
    std::vector<std::string> names;
    for (const auto& e : detail::dtypeTable())
        names.emplace_back(e.name);
    return names;
}

Value::Value()
    : m_impl(std::make_shared<Impl>()) {}
Value::Value(std::shared_ptr<const Impl> impl)
    : m_impl(std::move(impl)) {}

Value::Kind Value::kind() const {
    const auto& v = m_impl->v;
    if (v.isNone()) return Kind::None;
    if (v.isTensor()) return Kind::Tensor;
    if (v.isBool()) return Kind::Bool;
    if (v.isInt()) return Kind::Int;
    if (v.isDouble()) return Kind::Double;
    if (v.isString()) return Kind::String;
    if (v.isList()) return Kind::List;
    if (v.isTuple()) return Kind::Tuple;
    if (v.isGenericDict()) return Kind::Dict;
    return Kind::Other;
}

std::string Value::typeName() const {
    return m_impl->v.type()->annotation_str();
}

std::size_t Value::size() const {
    const auto& v = m_impl->v;
    if (v.isList()) return v.toListRef().size();
    if (v.isTuple()) return v.toTupleRef().elements().size();
    if (v.isGenericDict()) return v.toGenericDict().size();
    return 0;
}

Value Value::at(std::size_t i) const {
    const auto& v = m_impl->v;
    if (i >= size()) throw Error("index " + std::to_string(i) + " is out of range");
    if (v.isList()) return wrap(v.toListRef()[i]);
    if (v.isTuple()) return wrap(v.toTupleRef().elements()[i]);
    return items()[i].second;
}

namespace {
std::string keyText(const c10::IValue& key) {
    if (key.isString()) return key.toStringRef();
    if (key.isInt()) return std::to_string(key.toInt());
    if (key.isDouble()) {
        std::ostringstream s;
        s << key.toDouble();
        return s.str();
    }
    if (key.isBool()) return key.toBool() ? "True" : "False";
    return key.tagKind();
}
} // namespace

std::vector<std::pair<std::string, Value>> Value::items() const {
    std::vector<std::pair<std::string, Value>> out;
    const auto& v = m_impl->v;
    if (!v.isGenericDict()) return out;
    for (const auto& e : v.toGenericDict())
        out.emplace_back(keyText(e.key()), wrap(e.value()));
    return out;
}

bool Value::toBool() const {
    if (!m_impl->v.isBool()) throw Error("expected a bool, got " + typeName());
    return m_impl->v.toBool();
}
int64_t Value::toInt() const {
    if (!m_impl->v.isInt()) throw Error("expected an int, got " + typeName());
    return m_impl->v.toInt();
}
double Value::toDouble() const {
    if (m_impl->v.isInt()) return double(m_impl->v.toInt());
    if (!m_impl->v.isDouble()) throw Error("expected a float, got " + typeName());
    return m_impl->v.toDouble();
}
std::string Value::toStringValue() const {
    if (!m_impl->v.isString()) throw Error("expected a string, got " + typeName());
    return m_impl->v.toStringRef();
}

namespace {
const at::Tensor& tensorOf(const c10::IValue& v) {
    if (!v.isTensor()) throw Error("expected a tensor, got " + v.type()->annotation_str());
    return v.toTensor();
}

TensorSummary summarize(const at::Tensor& t0, std::size_t firstCount) {
    TensorSummary s;
    s.shape = t0.sizes().vec();
    s.dtype = detail::dtypeName(t0.scalar_type());
    s.device = t0.device().str();
    s.numel = t0.numel();
    s.bytes = uint64_t(t0.numel()) * t0.element_size();
    s.min = s.max = s.mean = std::nan("");
    if (s.numel == 0) return s;
    c10::InferenceMode guard;
    at::Tensor t = t0.detach().to(at::kCPU).resolve_conj().resolve_neg();
    if (t.is_complex()) t = at::view_as_real(t);
    t = t.to(at::kDouble).contiguous().reshape({-1}); // data_ptr below needs packed values
    const at::Tensor finite = at::isfinite(t);
    s.nanCount = at::isnan(t).sum().item<int64_t>();
    s.infCount = at::isinf(t).sum().item<int64_t>();
    const at::Tensor good = t.masked_select(finite);
    if (good.numel() > 0) {
        s.min = good.min().item<double>();
        s.max = good.max().item<double>();
        s.mean = good.mean().item<double>();
    }
    const int64_t n = std::min<int64_t>(int64_t(firstCount), t.numel());
    const double* p = t.data_ptr<double>();
    s.first.assign(p, p + n);
    if (t0.dim() == 2 && t0.size(1) > 1 && !t0.is_complex() && t0.scalar_type() != at::kBool) {
        const at::Tensor row = t0.detach().to(at::kCPU).select(0, 0).to(at::kDouble);
        const auto [values, indices] = row.topk(std::min<int64_t>(5, row.numel()));
        for (int64_t i = 0; i < values.numel(); ++i)
            s.topk.emplace_back(indices[i].item<int64_t>(), values[i].item<double>());
    }
    return s;
}

void collectLeaves(const c10::IValue& v, const std::string& path, std::size_t firstCount,
                   std::vector<Leaf>& out) {
    if (v.isTensor()) {
        out.push_back({path, summarize(v.toTensor(), firstCount)});
    } else if (v.isList()) {
        const auto list = v.toListRef();
        for (std::size_t i = 0; i < list.size(); ++i)
            collectLeaves(list[i], path + "[" + std::to_string(i) + "]", firstCount, out);
    } else if (v.isTuple()) {
        const auto& elems = v.toTupleRef().elements();
        for (std::size_t i = 0; i < elems.size(); ++i)
            collectLeaves(elems[i], path + "[" + std::to_string(i) + "]", firstCount, out);
    } else if (v.isGenericDict()) {
        for (const auto& e : v.toGenericDict()) {
            const std::string key =
                e.key().isString() ? "\"" + e.key().toStringRef() + "\"" : keyText(e.key());
            collectLeaves(e.value(), path + "[" + key + "]", firstCount, out);
        }
    }
}
} // namespace

TensorSummary Value::summary(std::size_t firstCount) const {
    return summarize(tensorOf(m_impl->v), firstCount);
}

std::vector<Leaf> Value::leaves(const std::string& root, std::size_t firstCount) const {
    std::vector<Leaf> out;
    collectLeaves(m_impl->v, root, firstCount, out);
    return out;
}

std::vector<double> Value::toDoubles() const {
    c10::InferenceMode guard;
    at::Tensor t = tensorOf(m_impl->v).detach().to(at::kCPU).resolve_conj().resolve_neg();
    if (t.is_complex()) t = at::view_as_real(t);
    t = t.to(at::kDouble).contiguous().reshape({-1});
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

std::vector<int64_t> Value::shape() const {
    return tensorOf(m_impl->v).sizes().vec();
}
std::string Value::dtype() const {
    return detail::dtypeName(tensorOf(m_impl->v).scalar_type());
}

namespace {
// Stops at kDescribeLimit characters: a value that shares its parts can be far larger walked than stored.
constexpr std::streamoff kDescribeLimit = 4096;

void describeInto(const c10::IValue& v, std::ostringstream& out) {
    if (out.tellp() > kDescribeLimit) return;
    if (v.isTensor()) {
        const auto& t = v.toTensor();
        out << "Tensor" << shapeText(t.sizes().vec()) << " " << detail::dtypeName(t.scalar_type());
    } else if (v.isTuple() || v.isList()) {
        const bool tuple = v.isTuple();
        const auto elems = tuple ? v.toTupleRef().elements().vec() : v.toListRef().vec();
        // A NamedTuple's fields are named as Python names them: Out(score=Tensor[5] float32, …).
        std::vector<std::string> fields;
        if (tuple) {
            const auto type = v.toTupleRef().type();
            if (type && type->schema() && type->schema()->arguments().size() == elems.size()) {
                out << (type->name() ? type->name()->name() : std::string());
                for (const auto& a : type->schema()->arguments())
                    fields.push_back(a.name());
            }
        }
        out << (tuple ? "(" : "[");
        for (std::size_t i = 0; i < elems.size(); ++i) {
            if (i) out << ", ";
            if (!fields.empty()) out << fields[i] << "=";
            describeInto(elems[i], out);
        }
        out << (tuple ? (elems.size() == 1 && fields.empty() ? ",)" : ")") : "]");
    } else if (v.isGenericDict()) {
        out << "{";
        bool first = true;
        for (const auto& e : v.toGenericDict()) {
            out << (first ? "" : ", ")
                << (e.key().isString() ? "\"" + e.key().toStringRef() + "\"" : keyText(e.key())) << ": ";
            describeInto(e.value(), out);
            first = false;
        }
        out << "}";
    } else if (v.isString()) {
        out << "\"" << v.toStringRef() << "\"";
    } else {
        out << v;
    }
}
} // namespace

std::string Value::describe() const {
    std::ostringstream out;
    describeInto(m_impl->v, out);
    std::string text = out.str();
    if (out.tellp() > kDescribeLimit) text = text.substr(0, std::size_t(kDescribeLimit)) + "…";
    return text;
}

namespace {
c10::TypePtr commonType(const std::vector<c10::IValue>& items) {
    if (items.empty()) return c10::TensorType::get();
    c10::TypePtr t = items.front().type();
    for (const auto& i : items)
        if (*i.type() != *t) {
            auto unified = c10::unifyTypes(t, i.type());
            if (!unified) return c10::AnyType::get();
            t = *unified;
        }
    return t;
}
} // namespace

Value makeTuple(std::vector<Value> items) {
    std::vector<c10::IValue> v;
    for (auto& i : items)
        v.push_back(unwrap(i));
    return wrap(c10::ivalue::Tuple::create(std::move(v)));
}

Value makeList(std::vector<Value> items) {
    std::vector<c10::IValue> v;
    for (auto& i : items)
        v.push_back(unwrap(i));
    c10::impl::GenericList list(commonType(v));
    for (auto& i : v)
        list.push_back(i);
    return wrap(list);
}

Value makeDict(std::vector<std::pair<std::string, Value>> items) {
    std::vector<c10::IValue> values;
    for (auto& i : items)
        values.push_back(unwrap(i.second));
    c10::impl::GenericDict dict(c10::StringType::get(), commonType(values));
    for (std::size_t i = 0; i < items.size(); ++i)
        dict.insert_or_assign(items[i].first, values[i]);
    return wrap(dict);
}

Value makeInt(int64_t v) {
    return wrap(c10::IValue(v));
}
Value makeDouble(double v) {
    return wrap(c10::IValue(v));
}
Value makeBool(bool v) {
    return wrap(c10::IValue(v));
}
Value makeString(const std::string& v) {
    return wrap(c10::IValue(v));
}

Value makeTensor(const std::vector<double>& values, const std::vector<int64_t>& shape,
                 const std::string& dtype) {
    const int64_t n = detail::checkedNumel(shape, 8, "shape " + shapeText(shape));
    if (n != int64_t(values.size()))
        throw Error("shape " + shapeText(shape) + " needs " + std::to_string(n) + " values, got " +
                    std::to_string(values.size()));
    at::Tensor t = torch::tensor(at::ArrayRef<double>(values), at::kDouble).reshape(shape);
    return wrap(t.to(detail::scalarType(dtype)));
}

} // namespace twb
