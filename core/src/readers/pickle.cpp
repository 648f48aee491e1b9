#include "pickle.h"
#include "pickle_decode.h"

#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace twb::detail::pickle {
namespace {

constexpr std::size_t kMaxDepth = 100000; // stack entries; a real state_dict needs a few dozen

// The containers the running machine made, so that those a hostile pickle made refer to one another in
// a cycle can be taken apart when it ends: shared pointers alone would never free them.
thread_local std::vector<std::weak_ptr<Object>>* t_made = nullptr;

Ref make(Object::Type t) {
    using T = Object::Type;
    // Only what the pickle can change after making it (lists, dicts, sets, objects given state) can
    // come to hold itself. Those are allocated apart from their count, so that the weak pointer kept
    // here holds a few bytes, not the object, once the object is gone.
    if (t_made && (t == T::List || t == T::Dict || t == T::Set || t == T::Opaque)) {
        Ref o(new Object);
        o->type = t;
        t_made->push_back(o);
        return o;
    }
    auto o = std::make_shared<Object>();
    o->type = t;
    return o;
}
Ref makeInt(int64_t v) {
    auto o = make(Object::Type::Int);
    o->i = v;
    return o;
}
Ref makeString(std::string s, Object::Type t = Object::Type::String) {
    auto o = make(t);
    o->s = std::move(s);
    return o;
}

const std::set<std::string>& storageTypes() {
    static const std::set<std::string> names{
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
        "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage",
        "ComplexDoubleStorage", "UntypedStorage",
        // Quantized storages are recognised so that their tensors can be refused by name.
        "QInt8Storage", "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage"};
    return names;
}

bool isAllowedGlobal(const Global& g) {
    static const std::set<std::pair<std::string, std::string>> allowed{
        {"collections", "OrderedDict"},
        {"torch._utils", "_rebuild_tensor"},
        {"torch._utils", "_rebuild_tensor_v2"},
        {"torch._utils", "_rebuild_parameter"},
        {"torch._utils", "_rebuild_parameter_with_state"},
        {"torch._utils", "_rebuild_qtensor"},
        {"torch", "per_tensor_affine"},
        {"torch", "per_channel_affine"},
        {"torch", "qint8"},
        {"torch", "quint8"},
        {"torch", "qint32"},
        {"torch._tensor", "_rebuild_from_type_v2"},
        {"torch._tensor", "Tensor"},
        {"torch", "Tensor"},
        {"torch.nn.parameter", "Parameter"},
        {"torch", "device"},
        {"torch", "Size"},
        // Decoded as data, never called: NumPy scalars and dtypes (numpy.float64(0.81) in a checkpoint),
        // and the protocol-2 spelling of bytes.
        {"numpy.core.multiarray", "scalar"},
        {"numpy._core.multiarray", "scalar"},
        {"numpy", "dtype"},
        {"_codecs", "encode"},
        {"builtins", "set"},
        {"__builtin__", "set"},
        {"builtins", "frozenset"},
        // LibTorch's own pickler (torch::pickle_save, TorchScript archives) tags typed containers.
        {"torch.jit._pickle", "restore_type_tag"},
        {"torch.jit._pickle", "build_tensorlist"},
        {"torch.jit._pickle", "build_intlist"},
        {"torch.jit._pickle", "build_doublelist"},
        {"torch.jit._pickle", "build_boollist"},
    };
    if (allowed.count({g.module, g.name})) return true;
    if ((g.module == "torch" || g.module == "torch.storage") && storageTypes().count(g.name)) return true;
    return false;
}

class Machine {
public:
    Machine(const std::string& data, const Options& options)
        : m_data(data)
        , m_options(options) {
        m_outer = t_made;
        t_made = &m_made;
    }
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    // What the result does not hold is garbage: its containers are emptied, which frees any cycle.
    ~Machine() {
        t_made = m_outer;
        m_stack.clear();
        m_memo.clear();
        for (const auto& w : m_made)
            if (const Ref o = w.lock(); o && !m_kept.count(o.get())) {
                o->items.clear();
                o->entries.clear();
            }
    }

    Result run() {
        while (true) {
            const uint8_t op = byte();
            if (op == '.') break;
            step(op);
        }
        if (m_stack.empty()) throw Error("pickle ended with an empty stack");
        m_result.root = m_stack.back();
        m_kept = reachableWithoutCycle(m_result.root);
        return std::move(m_result);
    }

private:
    // --- reading
    void need(std::size_t n) const {
        if (n > m_data.size() - m_pos) throw Error("pickle data ends early (truncated file?)");
    }
    uint8_t byte() {
        need(1);
        return uint8_t(m_data[m_pos++]);
    }
    template <typename T> T little() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, m_data.data() + m_pos,
                    sizeof(T)); // pickle is little-endian; so is every host we build for
        m_pos += sizeof(T);
        return v;
    }
    std::string bytes(uint64_t n) {
        if (n > m_data.size() - m_pos) throw Error("pickle string runs past the end of the data");
        std::string s = m_data.substr(m_pos, std::size_t(n));
        m_pos += std::size_t(n);
        return s;
    }
    std::string line() {
        const auto end = m_data.find('\n', m_pos);
        if (end == std::string::npos) throw Error("pickle text line has no end");
        std::string s = m_data.substr(m_pos, end - m_pos);
        m_pos = end + 1;
        return s;
    }

    // --- stack
    void push(Ref r) {
        if (m_stack.size() >= kMaxDepth) throw Refused("pickle stack grows beyond any tensor archive's");
        m_stack.push_back(std::move(r));
    }
    Ref pop() {
        if (m_stack.size() <= base()) throw Error("pickle stack underflow");
        Ref r = m_stack.back();
        m_stack.pop_back();
        return r;
    }
    Ref& top() {
        if (m_stack.size() <= base()) throw Error("pickle stack underflow");
        return m_stack.back();
    }
    std::size_t base() const { return m_marks.empty() ? 0 : m_marks.back(); }
    std::vector<Ref> popMark() {
        if (m_marks.empty()) throw Error("pickle has no mark to pop to");
        const std::size_t b = m_marks.back();
        m_marks.pop_back();
        std::vector<Ref> items(m_stack.begin() + long(b), m_stack.end());
        m_stack.resize(b);
        return items;
    }
    void memoPut(uint64_t key) { m_memo[key] = top(); }
    void memoGet(uint64_t key) {
        auto it = m_memo.find(key);
        if (it == m_memo.end()) throw Error("pickle refers to a memo entry it never stored");
        push(it->second);
    }

    // Everything reachable from root; throws when a container holds itself, directly or deeper.
    static std::unordered_set<const Object*> reachableWithoutCycle(const Ref& root) {
        std::unordered_set<const Object*> done, open;
        std::vector<std::pair<const Object*, std::size_t>> path{{root.get(), 0}};
        open.insert(root.get());
        auto child = [](const Object* o, std::size_t i) -> const Object* {
            if (i < o->items.size()) return o->items[i].get();
            i -= o->items.size();
            if (i < 2 * o->entries.size())
                return i % 2 == 0 ? o->entries[i / 2].first.get() : o->entries[i / 2].second.get();
            return nullptr;
        };
        while (!path.empty()) {
            auto& [o, next] = path.back();
            const Object* c = child(o, next);
            if (!c) {
                open.erase(o);
                done.insert(o);
                path.pop_back();
                continue;
            }
            ++next;
            if (done.count(c)) continue;
            if (open.count(c)) throw Refused("the pickle contains a cycle (a container that holds itself)");
            open.insert(c);
            path.emplace_back(c, 0);
        }
        return done;
    }

    // --- objects
    static void deepen(Object& container, const Ref& child) {
        container.depth = std::max(container.depth, child->depth + 1);
        if (container.depth > kMaxNesting)
            throw Refused("pickle nests containers deeper than any tensor archive does");
        container.weight += std::min(child->weight, kMaxWeight);
        if (container.weight > kMaxWeight)
            throw Refused("the pickle's shared containers expand to more than " + std::to_string(kMaxWeight) +
                          " objects, as no tensor archive does");
    }
    Ref tuple(std::vector<Ref> items) {
        auto t = make(Object::Type::Tuple);
        for (const auto& i : items)
            deepen(*t, i);
        t->items = std::move(items);
        return t;
    }
    Ref global(Global g) {
        m_result.globals.push_back(g);
        if (!isAllowedGlobal(g) && !m_options.allowOpaque) throw UnsafeGlobal(g);
        auto o = make(Object::Type::Global);
        o->global = std::move(g);
        return o;
    }
    static int64_t asInt(const Ref& r, const char* what) {
        if (r->type == Object::Type::Int) return r->i;
        if (r->type == Object::Type::Bool) return r->b;
        throw Error(std::string("expected an integer for ") + what);
    }
    static std::vector<int64_t> asInts(const Ref& r, const char* what) {
        if (r->type != Object::Type::Tuple && r->type != Object::Type::List)
            throw Error(std::string("expected a tuple for ") + what);
        std::vector<int64_t> v;
        for (const auto& x : r->items)
            v.push_back(asInt(x, what));
        return v;
    }
    // An instance of a class this reader does not know: kept inert, its constructor arguments (and, by
    // BUILD, its state) recorded as plain data. Nothing is called.
    Ref opaque(const Global& cls, const std::vector<Ref>& args = {}) {
        auto o = make(Object::Type::Opaque);
        o->global = cls;
        for (const auto& a : args)
            deepen(*o, a);
        o->items = args;
        return o;
    }

    // numpy.core.multiarray.scalar(dtype, bytes): the number, read from its bytes (pickle_decode.cpp).
    Ref numpyScalar(const std::vector<Ref>& a) {
        if (a.size() < 2 || a[0]->type != Object::Type::Opaque || a[0]->global.qualified() != "numpy.dtype" ||
            a[0]->items.empty() || a[0]->items[0]->type != Object::Type::String ||
            (a[1]->type != Object::Type::Bytes && a[1]->type != Object::Type::String))
            throw Error("malformed NumPy scalar in pickle");
        char order = '<';
        for (const auto& [k, v] : a[0]->entries) // BUILD state: (3, '<', None, …)
            if (v->type == Object::Type::Tuple && v->items.size() > 1 &&
                v->items[1]->type == Object::Type::String && !v->items[1]->s.empty())
                order = v->items[1]->s[0];
        const NumpyScalar n = decodeNumpyScalar(a[0]->items[0]->s, order, a[1]->s);
        auto o = make(n.kind == NumpyScalar::Kind::Float  ? Object::Type::Float
                      : n.kind == NumpyScalar::Kind::Bool ? Object::Type::Bool
                                                          : Object::Type::Int);
        o->f = n.f;
        o->i = n.i;
        o->b = n.b;
        return o;
    }

    Ref rebuildTensor(const std::vector<Ref>& a, bool v2) {
        if (a.size() < 4 || a[0]->type != Object::Type::Tensor || a[0]->tensor || !a[0]->storage)
            throw Error("malformed tensor in pickle");
        auto t = std::make_shared<TensorRef>();
        t->storage = a[0]->storage;
        t->offset = asInt(a[1], "storage offset");
        t->size = asInts(a[2], "tensor size");
        t->stride = asInts(a[3], "tensor stride");
        if (v2 && a.size() > 4) t->requiresGrad = a[4]->type == Object::Type::Bool && a[4]->b;
        if (t->size.size() != t->stride.size()) throw Error("tensor size and stride disagree in rank");
        auto o = make(Object::Type::Tensor);
        o->tensor = t;
        return o;
    }

    Ref call(const Ref& callable, const Ref& argsRef) {
        if (callable->type != Object::Type::Global) throw Error("pickle calls something that is not a class");
        const Global& g = callable->global;
        const std::vector<Ref> empty;
        const std::vector<Ref>& a = argsRef->type == Object::Type::Tuple ? argsRef->items : empty;
        const std::string q = g.qualified();
        if (!isAllowedGlobal(g)) {
            if (m_options.allowOpaque) return opaque(g, a);
            throw UnsafeGlobal(g);
        }
        if (q == "numpy.dtype") return opaque(g, a); // decoded where a scalar uses it
        if (q == "numpy.core.multiarray.scalar" || q == "numpy._core.multiarray.scalar") {
            try {
                return numpyScalar(a);
            } catch (const std::exception&) {
                if (m_options.allowOpaque) return opaque(g, a); // an exotic dtype: kept inert
                throw;
            }
        }
        if (q == "_codecs.encode") {
            // protocol 2's bytes: _codecs.encode(text, 'latin1'); each code point below 256 is one byte.
            if (a.empty() || a[0]->type != Object::Type::String) throw Error("malformed bytes in pickle");
            return makeString(latin1Bytes(a[0]->s), Object::Type::Bytes);
        }
        if (q == "collections.OrderedDict") {
            auto d = make(Object::Type::Dict);
            if (!a.empty() && (a[0]->type == Object::Type::List || a[0]->type == Object::Type::Tuple))
                for (const auto& pair : a[0]->items)
                    if (pair->type == Object::Type::Tuple && pair->items.size() == 2) {
                        deepen(*d, pair);
                        d->entries.emplace_back(pair->items[0], pair->items[1]);
                    }
            return d;
        }
        if (q == "torch._utils._rebuild_tensor_v2") return rebuildTensor(a, true);
        if (q == "torch._utils._rebuild_qtensor")
            throw Error(
                "quantized tensors (torch._utils._rebuild_qtensor) cannot be read outside their model");
        if (q == "torch._utils._rebuild_tensor") return rebuildTensor(a, false);
        if (q == "torch._utils._rebuild_parameter" || q == "torch._utils._rebuild_parameter_with_state") {
            if (a.empty() || a[0]->type != Object::Type::Tensor) throw Error("malformed parameter in pickle");
            return a[0];
        }
        if (q == "torch._tensor._rebuild_from_type_v2") {
            // (func, new_type, args, state): plain tensors and Parameters only.
            if (a.size() < 3) throw Error("malformed tensor subclass in pickle");
            const Ref& type = a[1];
            if (type->type != Object::Type::Global ||
                !(type->global.name == "Tensor" || type->global.name == "Parameter"))
                throw UnsafeGlobal(type->type == Object::Type::Global ? type->global : Global{"?", "?"});
            return call(a[0], a[2]);
        }
        if (q == "torch.device") {
            if (a.empty() || a[0]->type != Object::Type::String)
                throw Error("malformed torch.device in pickle");
            std::string s = a[0]->s;
            if (a.size() > 1 && a[1]->type == Object::Type::Int) s += ":" + std::to_string(a[1]->i);
            return makeString(s, Object::Type::Device);
        }
        if (q == "torch.Size") return a.empty() ? tuple({}) : tuple(a[0]->items);
        if (g.module == "torch.jit._pickle") {
            // restore_type_tag(value, type) and build_*list(list) return their first argument.
            if (a.empty()) throw Error("malformed " + q + " in pickle");
            return a[0];
        }
        if (g.name == "set" || g.name == "frozenset") {
            auto s = make(Object::Type::Set);
            if (!a.empty()) append(s, a[0]->items);
            return s;
        }
        throw UnsafeGlobal(g); // a storage type or Tensor class called directly
    }

    void persistentId(const Ref& pid) {
        // ('storage', storage_type, key, location, numel)
        if (pid->type != Object::Type::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage")
            throw Error("unsupported persistent id in pickle (not a tensor storage)");
        const auto& it = pid->items;
        auto st = std::make_shared<StorageRef>();
        if (it[1]->type == Object::Type::Global)
            st->storageType = it[1]->global.name;
        else if (it[1]->type == Object::Type::Opaque)
            st->storageType = it[1]->global.name;
        if (!storageTypes().count(st->storageType))
            throw Error("unknown storage type '" + st->storageType + "' in pickle");
        st->key =
            it[2]->type == Object::Type::String ? it[2]->s : std::to_string(asInt(it[2], "storage key"));
        st->location = it[3]->s;
        st->numel = asInt(it[4], "storage size");
        if (st->numel < 0) throw Error("negative storage size in pickle");
        auto& shared = m_storages[st->key];
        if (!shared) {
            shared = st;
            m_result.storages.push_back(st);
        }
        auto o = make(Object::Type::Tensor); // a storage: Tensor with no TensorRef yet
        o->storage = shared;
        push(o);
    }

    void setItems(const Ref& dict, const std::vector<Ref>& kv) {
        if (kv.size() % 2) throw Error("odd number of dict items in pickle");
        if (dict->type == Object::Type::Opaque) return;
        if (dict->type != Object::Type::Dict)
            throw Error("pickle sets items on something that is not a dict");
        for (const auto& x : kv)
            deepen(*dict, x);
        for (std::size_t i = 0; i < kv.size(); i += 2) {
            bool replaced = false;
            if (kv[i]->type == Object::Type::String || kv[i]->type == Object::Type::Int)
                for (auto& e : dict->entries)
                    if (e.first->type == kv[i]->type && e.first->s == kv[i]->s && e.first->i == kv[i]->i) {
                        e.second = kv[i + 1];
                        replaced = true;
                    }
            if (!replaced) dict->entries.emplace_back(kv[i], kv[i + 1]);
        }
    }
    void append(const Ref& list, const std::vector<Ref>& items) {
        if (list->type == Object::Type::Opaque) return;
        if (list->type != Object::Type::List && list->type != Object::Type::Set)
            throw Error("pickle appends to something that is not a list");
        for (const auto& x : items)
            deepen(*list, x);
        list->items.insert(list->items.end(), items.begin(), items.end());
    }

    void step(uint8_t op) {
        using T = Object::Type;
        switch (op) {
        case 0x80:
            byte();
            break; // PROTO
        case 0x95:
            little<uint64_t>();
            break; // FRAME
        case '(':
            m_marks.push_back(m_stack.size());
            break;
        case '0':
            pop();
            break;
        case '1':
            popMark();
            break;
        case '2':
            push(top());
            break;
        case 'N':
            push(make(T::None));
            break;
        case 0x88:
        case 0x89: {
            auto b = make(T::Bool);
            b->b = op == 0x88;
            push(b);
            break;
        }
        case 'K':
            push(makeInt(byte()));
            break;
        case 'M':
            push(makeInt(little<uint16_t>()));
            break;
        case 'J':
            push(makeInt(little<int32_t>()));
            break;
        case 0x8a:
        case 0x8b: { // LONG1, LONG4
            const uint64_t n = op == 0x8a ? byte() : little<uint32_t>();
            if (n > 8) throw Error("integer in pickle is wider than 64 bits");
            const std::string b = bytes(n);
            uint64_t v = 0;
            for (std::size_t i = 0; i < n; ++i)
                v |= uint64_t(uint8_t(b[i])) << (8 * i);
            if (n > 0 && n < 8 && (uint8_t(b[n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);
            push(makeInt(int64_t(v)));
            break;
        }
        case 'I':
        case 'L': {
            std::string s = line();
            if (!s.empty() && s.back() == 'L') s.pop_back();
            if (s == "01" || s == "00") {
                auto b = make(T::Bool);
                b->b = s == "01";
                push(b);
                break;
            }
            try {
                push(makeInt(std::stoll(s)));
            } catch (...) {
                throw Error("bad integer in pickle");
            }
            break;
        }
        case 'G': {
            uint64_t bits = 0;
            const std::string b = bytes(8);
            for (int i = 0; i < 8; ++i)
                bits = (bits << 8) | uint8_t(b[std::size_t(i)]); // big-endian
            auto f = make(T::Float);
            std::memcpy(&f->f, &bits, 8);
            push(f);
            break;
        }
        case 'F': {
            auto f = make(T::Float);
            try {
                f->f = std::stod(line());
            } catch (...) {
                throw Error("bad float in pickle");
            }
            push(f);
            break;
        }
        case 'X':
            push(makeString(bytes(little<uint32_t>())));
            break;
        case 0x8c:
            push(makeString(bytes(byte())));
            break;
        case 0x8d:
            push(makeString(bytes(little<uint64_t>())));
            break;
        case 'V':
            push(makeString(line()));
            break;
        case 'T':
            push(makeString(bytes(little<uint32_t>())));
            break;
        case 'U':
            push(makeString(bytes(byte())));
            break;
        case 'S': {
            std::string s = line();
            if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"')) s = s.substr(1, s.size() - 2);
            push(makeString(s));
            break;
        }
        case 'B':
            push(makeString(bytes(little<uint32_t>()), T::Bytes));
            break;
        case 'C':
            push(makeString(bytes(byte()), T::Bytes));
            break;
        case 0x8e:
        case 0x96:
            push(makeString(bytes(little<uint64_t>()), T::Bytes));
            break;
        case ')':
            push(tuple({}));
            break;
        case 't':
            push(tuple(popMark()));
            break;
        case 0x85: {
            auto a = pop();
            push(tuple({a}));
            break;
        }
        case 0x86: {
            auto b = pop();
            auto a = pop();
            push(tuple({a, b}));
            break;
        }
        case 0x87: {
            auto c = pop();
            auto b = pop();
            auto a = pop();
            push(tuple({a, b, c}));
            break;
        }
        case ']':
            push(make(T::List));
            break;
        case 'l': {
            auto l = make(T::List);
            append(l, popMark());
            push(l);
            break;
        }
        case 'a': {
            auto v = pop();
            append(top(), {v});
            break;
        }
        case 'e': {
            auto items = popMark();
            append(top(), items);
            break;
        }
        case '}':
            push(make(T::Dict));
            break;
        case 'd': {
            auto d = make(T::Dict);
            setItems(d, popMark());
            push(d);
            break;
        }
        case 's': {
            auto v = pop();
            auto k = pop();
            setItems(top(), {k, v});
            break;
        }
        case 'u': {
            auto kv = popMark();
            setItems(top(), kv);
            break;
        }
        case 0x8f:
            push(make(T::Set));
            break;
        case 0x90: {
            auto items = popMark();
            append(top(), items);
            break;
        }
        case 0x91: {
            auto s = make(T::Set);
            append(s, popMark());
            push(s);
            break;
        }
        case 'p': {
            const std::string s = line();
            try {
                memoPut(std::stoull(s));
            } catch (const Error&) {
                throw;
            } catch (...) {
                throw Error("bad memo key in pickle");
            }
            break;
        }
        case 'q':
            memoPut(byte());
            break;
        case 'r':
            memoPut(little<uint32_t>());
            break;
        case 0x94:
            memoPut(m_memo.size());
            break;
        case 'g': {
            const std::string s = line();
            try {
                memoGet(std::stoull(s));
            } catch (const Error&) {
                throw;
            } catch (...) {
                throw Error("bad memo key in pickle");
            }
            break;
        }
        case 'h':
            memoGet(byte());
            break;
        case 'j':
            memoGet(little<uint32_t>());
            break;
        case 'c': {
            Global g;
            g.module = line();
            g.name = line();
            push(global(std::move(g)));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            auto name = pop();
            auto module = pop();
            if (name->type != T::String || module->type != T::String)
                throw Error("malformed global in pickle");
            push(global({module->s, name->s}));
            break;
        }
        case 'R': {
            auto args = pop();
            auto fn = pop();
            push(call(fn, args));
            break;
        }
        case 0x81: { // NEWOBJ
            auto args = pop();
            auto cls = pop();
            if (cls->type != T::Global) throw Error("pickle instantiates something that is not a class");
            if (cls->global.qualified() == "collections.OrderedDict") {
                push(make(T::Dict));
                break;
            }
            if (!m_options.allowOpaque) throw UnsafeGlobal(cls->global);
            push(opaque(cls->global, args->type == T::Tuple ? args->items : std::vector<Ref>{}));
            break;
        }
        case 0x92: { // NEWOBJ_EX
            pop();
            pop();
            auto cls = pop();
            if (cls->type != T::Global) throw Error("pickle instantiates something that is not a class");
            if (!m_options.allowOpaque) throw UnsafeGlobal(cls->global);
            push(opaque(cls->global));
            break;
        }
        case 'b': { // BUILD: sets state on the object below; only placeholders and dicts' attributes
            auto state = pop();
            auto& obj = top();
            if (obj->type == T::Opaque) {
                deepen(*obj, state);
                obj->entries.emplace_back(makeString("__state__"), state);
            }
            break;
        }
        case 'Q':
            persistentId(pop());
            break;
        case 'P':
            throw Error("text persistent ids are not used by torch.save");
        case 'i':
        case 'o': {
            auto items = op == 'o' ? popMark() : std::vector<Ref>{};
            Global g;
            if (op == 'i') {
                g.module = line();
                g.name = line();
                popMark();
            } else if (!items.empty() && items[0]->type == T::Global)
                g = items[0]->global;
            m_result.globals.push_back(g);
            if (!m_options.allowOpaque) throw UnsafeGlobal(g);
            push(opaque(g));
            break;
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            throw Error(std::string("unsupported pickle opcode ") + hex);
        }
        }
    }

    const std::string& m_data;
    Options m_options;
    std::size_t m_pos = 0;
    std::vector<Ref> m_stack;
    std::vector<std::size_t> m_marks;
    std::unordered_map<uint64_t, Ref> m_memo;
    std::map<std::string, std::shared_ptr<StorageRef>> m_storages;
    Result m_result;
    std::vector<std::weak_ptr<Object>> m_made;
    std::unordered_set<const Object*> m_kept;
    std::vector<std::weak_ptr<Object>>* m_outer = nullptr;
};

} // namespace

Result load(const std::string& bytes, const Options& options) {
    return Machine(bytes, options).run();
}

} // namespace twb::detail::pickle
