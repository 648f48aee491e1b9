// torch.save's zip format, read through the restricted unpickler; written with
// LibTorch's pickle_save so Python's torch.load reads it back.
#include "torch_save.h"
#include "pickle.h"
#include "readers.h"
#include "torch_bridge.h"
#include "zip_reader.h"

#include "twb/error.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/script.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace twb::detail {
namespace {

std::pair<at::ScalarType, int> storageDtype(const std::string& storageType) {
    static const std::map<std::string, std::pair<at::ScalarType, int>> types{
        {"FloatStorage", {at::kFloat, 4}},
        {"DoubleStorage", {at::kDouble, 8}},
        {"HalfStorage", {at::kHalf, 2}},
        {"BFloat16Storage", {at::kBFloat16, 2}},
        {"LongStorage", {at::kLong, 8}},
        {"IntStorage", {at::kInt, 4}},
        {"ShortStorage", {at::kShort, 2}},
        {"CharStorage", {at::kChar, 1}},
        {"ByteStorage", {at::kByte, 1}},
        {"BoolStorage", {at::kBool, 1}},
        {"ComplexFloatStorage", {at::kComplexFloat, 8}},
        {"ComplexDoubleStorage", {at::kComplexDouble, 16}},
        {"UntypedStorage", {at::kByte, 1}},
    };
    const auto it = types.find(storageType);
    if (it == types.end()) throw Error("unknown storage type " + storageType);
    return it->second;
}

class Converter {
public:
    Converter(const ZipReader& zip, std::string prefix, std::string label)
        : m_zip(zip)
        , m_prefix(std::move(prefix))
        , m_label(std::move(label)) {
        try {
            if (m_zip.has(m_prefix + "byteorder"))
                m_bigEndian = m_zip.read(m_prefix + "byteorder", 16) == "big";
        } catch (const ZipError& e) {
            throw Error(m_label + ": unreadable byteorder record (" + e.what() + ")");
        }
    }

    // Each object converts once, however often the pickle refers to it; a cycle is refused.
    c10::IValue convert(const pickle::Ref& o) {
        const auto done = m_converted.find(o.get());
        if (done != m_converted.end()) return done->second;
        if (!m_inProgress.insert(o.get()).second) throw Error(m_label + ": the pickle contains a cycle");
        c10::IValue v = convertOnce(o);
        m_inProgress.erase(o.get());
        m_converted.emplace(o.get(), v);
        return v;
    }

private:
    c10::IValue convertOnce(const pickle::Ref& o) {
        using T = pickle::Object::Type;
        switch (o->type) {
        case T::None:
            return {};
        case T::Bool:
            return o->b;
        case T::Int:
            return o->i;
        case T::Float:
            return o->f;
        case T::String:
        case T::Bytes:
            return o->s;
        case T::Device:
            return c10::Device(o->s);
        case T::Tensor:
            if (!o->tensor) throw Error(m_label + ": a bare storage is not a tensor");
            return tensor(*o->tensor);
        case T::Tuple: {
            std::vector<c10::IValue> items;
            for (const auto& i : o->items)
                items.push_back(convert(i));
            return c10::ivalue::Tuple::create(std::move(items));
        }
        case T::List:
        case T::Set: {
            std::vector<c10::IValue> items;
            for (const auto& i : o->items)
                items.push_back(convert(i));
            c10::impl::GenericList list(elementType(items));
            for (auto& i : items)
                list.push_back(std::move(i));
            return list;
        }
        case T::Dict: {
            std::vector<c10::IValue> keys, values;
            for (const auto& [k, v] : o->entries) {
                keys.push_back(convert(k));
                values.push_back(convert(v));
            }
            c10::TypePtr keyType = elementType(keys);
            if (keyType->kind() != c10::TypeKind::StringType && keyType->kind() != c10::TypeKind::IntType &&
                keyType->kind() != c10::TypeKind::FloatType && keyType->kind() != c10::TypeKind::BoolType &&
                keyType->kind() != c10::TypeKind::TensorType)
                keyType = c10::StringType::get(); // mixed keys: rendered as text
            c10::impl::GenericDict dict(keyType, elementType(values));
            for (std::size_t i = 0; i < keys.size(); ++i) {
                c10::IValue key = keys[i];
                if (keyType->kind() == c10::TypeKind::StringType && !key.isString()) {
                    std::ostringstream s;
                    s << keys[i];
                    key = s.str();
                }
                dict.insert_or_assign(key, values[i]);
            }
            return dict;
        }
        case T::Global:
            return "<class '" + o->global.qualified() + "'>";
        case T::Opaque: {
            // An object of a Python class, kept inert: its class, a readable rendering, and its
            // arguments and state as data (tensors inside stay tensors). Nothing is called.
            c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
            dict.insert("__class__", o->global.qualified());
            dict.insert("__repr__", pythonRepr(*o));
            std::vector<c10::IValue> args;
            for (const auto& i : o->items)
                args.push_back(convert(i));
            dict.insert("__args__", c10::ivalue::Tuple::create(std::move(args)));
            for (const auto& [k, v] : o->entries)
                if (k->type == T::String && k->s == "__state__") dict.insert("__state__", convert(v));
            return dict;
        }
        }
        throw Error(m_label + ": unsupported object in pickle");
    }

    // "argparse.Namespace(lr=0.1, arch='cnn')": short, for listings; never evaluated.
    static std::string pythonRepr(const pickle::Object& o) {
        using T = pickle::Object::Type;
        std::function<std::string(const pickle::Object&, int)> render = [&](const pickle::Object& x,
                                                                            int depth) {
            switch (x.type) {
            case T::None:
                return std::string("None");
            case T::Bool:
                return std::string(x.b ? "True" : "False");
            case T::Int:
                return std::to_string(x.i);
            case T::Float: {
                std::ostringstream s;
                s << x.f;
                return s.str();
            }
            case T::String:
                return "'" + (x.s.size() > 40 ? x.s.substr(0, 40) + "…" : x.s) + "'";
            case T::Bytes:
                return "b'…' (" + std::to_string(x.s.size()) + " bytes)";
            case T::Tensor:
                return std::string("Tensor");
            case T::Opaque:
            case T::Global:
                return x.global.qualified() + (x.type == T::Opaque ? "(…)" : "");
            case T::Tuple:
            case T::List:
            case T::Set:
                if (depth > 0 || x.items.size() > 4) return "[" + std::to_string(x.items.size()) + " items]";
                {
                    std::string s;
                    for (const auto& i : x.items)
                        s += (s.empty() ? "" : ", ") + render(*i, depth + 1);
                    return (x.type == T::Tuple ? "(" : "[") + s + (x.type == T::Tuple ? ")" : "]");
                }
            case T::Dict:
                return "{" + std::to_string(x.entries.size()) + " entries}";
            default:
                return std::string("…");
            }
        };
        std::string inner;
        for (const auto& a : o.items)
            inner += (inner.empty() ? "" : ", ") + render(*a, 0);
        for (const auto& [k, v] : o.entries) {
            if (v->type != T::Dict) {
                if (v->type != T::None) inner += (inner.empty() ? "" : ", ") + render(*v, 0);
                continue;
            }
            for (const auto& [name, value] : v->entries) // the usual state: a dict of attributes
                inner += (inner.empty() ? "" : ", ") +
                         (name->type == T::String ? name->s : render(*name, 1)) + "=" + render(*value, 1);
        }
        if (inner.size() > 160) inner = inner.substr(0, 160) + "…";
        return o.global.qualified() + "(" + inner + ")";
    }

    static c10::TypePtr elementType(const std::vector<c10::IValue>& items) {
        if (items.empty()) return c10::TensorType::get();
        c10::TypePtr t = items.front().type();
        for (const auto& i : items) {
            if (*i.type() == *t) continue;
            auto unified = c10::unifyTypes(t, i.type());
            if (!unified) return c10::AnyType::get();
            t = *unified;
        }
        return t;
    }

    at::Tensor storage(const pickle::StorageRef& s) {
        auto it = m_storages.find(s.key);
        if (it != m_storages.end()) return it->second;
        const auto [dtype, size] = storageDtype(s.storageType);
        const std::string record = m_prefix + "data/" + s.key;
        const std::string label = m_label + " [storage " + s.key + "]";
        const int64_t numel = checkedNumel({s.numel}, size, label);
        if (!m_zip.has(record)) throw Error(label + ": the archive has no record " + record);
        const uint64_t bytes = uint64_t(numel) * uint64_t(size);
        if (m_zip.size(record) < bytes)
            throw Error(label + ": the record holds " + std::to_string(m_zip.size(record)) + " bytes, " +
                        std::to_string(bytes) + " expected (truncated?)");
        at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
        try {
            if (bytes) m_zip.readInto(record, t.data_ptr(), bytes);
        } catch (const ZipError& e) {
            throw Error(label + ": " + e.what());
        }
        if (m_bigEndian && size > 1) {
            const int unit = t.is_complex() ? size / 2 : size;
            auto* p = static_cast<uint8_t*>(t.data_ptr());
            for (uint64_t i = 0; i < bytes / uint64_t(unit); ++i)
                std::reverse(p + i * unit, p + (i + 1) * unit);
        }
        if (dtype == at::kBool)
            t = t.view(at::kByte).ne(0); // any byte but 0 and 1 would be undefined as bool
        m_storages.emplace(s.key, t);
        return t;
    }

    at::Tensor tensor(const pickle::TensorRef& r) {
        at::Tensor s = storage(*r.storage);
        const std::string label = m_label + " [storage " + r.storage->key + "]";
        if (r.offset < 0) throw Error(label + ": negative storage offset");
        checkedNumel(r.size, 1, label);
        int64_t last = r.offset; // highest element index the view touches
        bool empty = false;
        for (std::size_t d = 0; d < r.size.size(); ++d) {
            if (r.stride[d] < 0) throw Error(label + ": negative stride");
            if (r.size[d] == 0)
                empty = true;
            else if (r.stride[d] > 0 && (r.size[d] - 1) > (INT64_MAX - last) / r.stride[d])
                throw Error(label + ": the tensor's extent overflows");
            else
                last += (r.size[d] - 1) * r.stride[d];
        }
        if (!empty && last >= s.numel())
            throw Error(label + ": the tensor reaches element " + std::to_string(last) + " of a storage of " +
                        std::to_string(s.numel()));
        if (empty) return at::empty(r.size, s.options());
        // Zero strides may repeat a small storage into an enormous view: keep views the size of real data.
        const int64_t viewNumel = checkedNumel(r.size, s.element_size(), label);
        if (viewNumel > std::max<int64_t>(s.numel(), int64_t(1) << 31))
            throw Error(label + ": a view of " + std::to_string(viewNumel) + " elements over a storage of " +
                        std::to_string(s.numel()));
        return s.as_strided(r.size, r.stride, r.offset);
    }

    const ZipReader& m_zip;
    std::string m_prefix, m_label;
    bool m_bigEndian = false;
    std::map<std::string, at::Tensor> m_storages;
    std::map<const pickle::Object*, c10::IValue> m_converted;
    std::set<const pickle::Object*> m_inProgress;
};

} // namespace

TorchSaveScan scanTorchSave(const ZipReader& zip) {
    TorchSaveScan scan;
    scan.prefix = zip.torchPrefix();
    const std::string pkl = scan.prefix + "data.pkl";
    if (!zip.has(pkl)) throw Error("no data.pkl record");
    scan.pickleBytes = zip.read(pkl, uint64_t(1) << 31);
    return scan;
}

Value readTorchSave(const std::string& path) {
    std::unique_ptr<ZipReader> zip;
    try {
        zip = std::make_unique<ZipReader>(path);
    } catch (const ZipError& e) {
        throw Error(path + ": not a readable torch.save archive (" + e.what() + ")");
    }
    const std::string prefix = zip->torchPrefix();
    if (zip->has(prefix + "constants.pkl") || zip->has(prefix + "code/__torch__.py"))
        throw Error(path + ": is a TorchScript model, not a tensor file");
    if (!zip->has(prefix + "data.pkl"))
        throw Error(path + ": the archive has no data.pkl (not written by torch.save)");
    pickle::Result result;
    try {
        pickle::Options inert;
        inert.allowOpaque = true; // unknown classes become inert placeholders; still nothing is called
        result = pickle::load(zip->read(prefix + "data.pkl", uint64_t(1) << 31), inert);
    } catch (const pickle::UnsafeGlobal& e) {
        throw UnsupportedError(path + ": " + e.what() +
                               ". Only tensors and tuples, lists and dicts of them can be read.");
    } catch (const pickle::Error& e) {
        throw Error(path + ": " + e.what());
    } catch (const ZipError& e) {
        throw Error(path + ": " + e.what());
    }
    try {
        Converter converter(*zip, prefix, path);
        return wrap(converter.convert(result.root));
    } catch (const ZipError& e) {
        throw Error(path + ": " + e.what());
    } catch (const c10::Error& e) {
        // What LibTorch refuses to build from the pickle's values (a device name, a view).
        throw Error(path + ": the archive describes a value LibTorch cannot build",
                    e.what_without_backtrace());
    }
}

void writeTorchSave(const std::string& path, const Value& value) {
    std::vector<char> bytes;
    try {
        // Outputs may be views or live on a device; torch.load wants plain CPU storages.
        const c10::IValue plain = mapTensors(
            unwrap(value),
            [](const at::Tensor& t) {
                return t.detach().to(at::kCPU).resolve_conj().resolve_neg().contiguous().clone();
            },
            ListTypes::Untyped);
        // torch::pickle_save's pickler tags typed containers (torch.jit._pickle.restore_type_tag,
        // build_tensorlist), globals torch.load(weights_only=True), the default since PyTorch 2.6,
        // refuses. The same archive without the tags holds only what torch.save itself writes.
        std::vector<char> data;
        torch::jit::Pickler pickler(
            [&](const char* buf, size_t size) { data.insert(data.end(), buf, buf + size); }, nullptr, nullptr,
            nullptr, nullptr, /*tag_aggregates=*/false);
        pickler.protocol();
        pickler.pushIValue(plain);
        pickler.stop();
        caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) {
            bytes.insert(bytes.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n);
            return n;
        });
        torch::jit::writeArchiveAndTensors("data", data.data(), data.size(), pickler.tensorData(), writer);
        writer.writeEndOfFile();
    } catch (const std::exception& e) {
        throw Error(path + ": the value cannot be saved as .pt", e.what());
    }
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

} // namespace twb::detail
