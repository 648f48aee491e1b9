// Matching what the user provides to forward's schema: by position, by name, by
// a multi-tensor value's keys, with the conversions the schema asks for.
#include "twb/error.h"
#include "twb/model.h"

#include "model_access.h"
#include "pt2.h"
#include "torch_bridge.h"

#include <torch/script.h>

#include <cmath>
#include <deque>
#include <map>

namespace twb {

using detail::unwrap;
using detail::wrap;

namespace {

std::string argList(const std::vector<c10::Argument>& args) {
    std::string s;
    for (const auto& a : args)
        s += (s.empty() ? "" : ", ") + a.name() + ": " + a.type()->annotation_str();
    return s;
}

bool fits(const c10::IValue& v, const c10::TypePtr& t) {
    return v.type()->isSubtypeOf(*t);
}

// Converts a value to the type forward declares, or returns None with `why` set.
c10::IValue convertTo(const c10::IValue& v, const c10::TypePtr& t, std::string& why) {
    using K = c10::TypeKind;
    if (t->kind() == K::OptionalType) {
        if (v.isNone()) return v;
        return convertTo(v, t->expectRef<c10::OptionalType>().getElementType(), why);
    }
    if (fits(v, t)) return v;
    switch (t->kind()) {
    case K::TensorType:
        if (v.isGenericDict() && v.toGenericDict().size() == 1)
            return convertTo(v.toGenericDict().begin()->value(), t, why);
        if ((v.isList() && v.toListRef().size() == 1)) return convertTo(v.toListRef()[0], t, why);
        if (v.isTuple() && v.toTupleRef().elements().size() == 1)
            return convertTo(v.toTupleRef().elements()[0], t, why);
        if (v.isInt()) return at::scalar_tensor(v.toInt(), at::kLong);
        if (v.isDouble()) return at::scalar_tensor(v.toDouble(), at::kDouble);
        if (v.isBool()) return at::scalar_tensor(v.toBool(), at::kBool);
        break;
    case K::IntType:
    case K::FloatType:
    case K::BoolType:
    case K::NumberType:
        if (v.isTensor() && v.toTensor().numel() == 1) {
            const at::Tensor x = v.toTensor();
            if (x.is_complex()) {
                why = "holds a complex number";
                return {};
            }
            if (t->kind() == K::IntType && x.is_floating_point() && std::abs(x.item<double>()) > 9.2e18) {
                why = "holds a number too large for int";
                return {};
            }
            if (t->kind() == K::BoolType) return x.item<bool>();
            if (t->kind() == K::IntType) {
                if (x.is_floating_point() && x.item<double>() != std::floor(x.item<double>())) {
                    why = "holds " + std::to_string(x.item<double>()) + ", not a whole number";
                    return {};
                }
                return x.item<int64_t>();
            }
            if (t->kind() == K::NumberType && !x.is_floating_point()) return x.item<int64_t>();
            return x.item<double>();
        }
        if (t->kind() == K::FloatType && v.isInt()) return double(v.toInt());
        break;
    case K::ListType: {
        const auto elem = t->expectRef<c10::ListType>().getElementType();
        std::vector<c10::IValue> items;
        if (v.isTuple())
            items = v.toTupleRef().elements().vec();
        else if (v.isList())
            items = v.toListRef().vec();
        else if (v.isTensor() && elem->kind() != K::TensorType && v.toTensor().dim() == 1)
            for (const auto& x : v.toTensor().unbind(0))
                items.emplace_back(x);
        else if (v.isTensor() && elem->kind() == K::TensorType)
            items.push_back(v);
        else
            break;
        c10::impl::GenericList list(elem);
        for (const auto& i : items) {
            c10::IValue c = convertTo(i, elem, why);
            if (c.isNone() && !i.isNone()) return {};
            list.push_back(c);
        }
        return list;
    }
    case K::TupleType: {
        const auto& elems = t->expectRef<c10::TupleType>().elements();
        std::vector<c10::IValue> items;
        if (v.isTuple())
            items = v.toTupleRef().elements().vec();
        else if (v.isList())
            items = v.toListRef().vec();
        else
            break;
        if (items.size() != elems.size()) {
            why = "has " + std::to_string(items.size()) + " elements, " + std::to_string(elems.size()) +
                  " expected";
            return {};
        }
        std::vector<c10::IValue> out;
        for (std::size_t i = 0; i < items.size(); ++i) {
            c10::IValue c = convertTo(items[i], elems[i], why);
            if (c.isNone() && !items[i].isNone()) return {};
            out.push_back(c);
        }
        return c10::ivalue::Tuple::create(std::move(out));
    }
    case K::DictType: {
        if (!v.isGenericDict()) break;
        const auto& dt = t->expectRef<c10::DictType>();
        c10::impl::GenericDict dict(dt.getKeyType(), dt.getValueType());
        for (const auto& e : v.toGenericDict()) {
            c10::IValue k = convertTo(e.key(), dt.getKeyType(), why);
            c10::IValue val = convertTo(e.value(), dt.getValueType(), why);
            if (k.isNone() || (val.isNone() && !e.value().isNone())) return {};
            dict.insert_or_assign(k, val);
        }
        return dict;
    }
    default:
        break;
    }
    if (why.empty()) why = "is " + v.type()->annotation_str();
    return {};
}

// The element count of a Tuple argument (Optional looked through); 0 for any other type.
std::size_t tupleArity(const c10::TypePtr& type) {
    c10::TypePtr t = type;
    if (t->kind() == c10::TypeKind::OptionalType) t = t->expectRef<c10::OptionalType>().getElementType();
    return t->kind() == c10::TypeKind::TupleType ? t->expectRef<c10::TupleType>().elements().size() : 0;
}

bool isContainer(const Value& v) {
    return v.kind() == Value::Kind::Tuple || v.kind() == Value::Kind::List || v.kind() == Value::Kind::Dict;
}

// The sources of the inputs each gathered tuple argument was made of, by argument.
using PartSources = std::map<std::string, std::vector<std::string>>;

// Several inputs made into one tuple argument's value; the source names each part.
ProvidedInput gathered(const std::string& argument, const std::vector<const ProvidedInput*>& parts,
                       PartSources& sources) {
    std::vector<Value> values;
    std::string source;
    sources[argument].clear();
    for (const auto* p : parts) {
        values.push_back(p->value);
        sources[argument].push_back(p->source);
        source += (source.empty() ? "(" : ", ") + p->source;
    }
    return {argument, makeTuple(std::move(values)), source + ")"};
}

// Elements of tuple and list arguments given one by one (hc.0=h0.npy hc.1=c0.npy) become one input
// each argument; the other inputs pass as they are. Sets `error` and returns nothing on a bad element.
std::vector<ProvidedInput> gatherElements(const std::vector<ProvidedInput>& items,
                                          const std::vector<c10::Argument>& args,
                                          const std::map<std::string, std::size_t>& index,
                                          PartSources& sources, std::string& error) {
    std::vector<ProvidedInput> out;
    std::vector<std::string> order;
    std::map<std::string, std::map<std::size_t, const ProvidedInput*>> groups;
    for (const auto& p : items) {
        const auto dot = p.argument.find('.');
        if (dot == std::string::npos) {
            out.push_back(p);
            continue;
        }
        const std::string base = p.argument.substr(0, dot), element = p.argument.substr(dot + 1);
        const auto at = index.find(base);
        if (at == index.end()) {
            error = "forward has no argument named '" + base + "' (it takes " + argList(args) + ")";
            return {};
        }
        if (element.empty() || element.size() > 6 ||
            element.find_first_not_of("0123456789") != std::string::npos) {
            error = "'" + p.argument + "' names no input: an element of a tuple or list is NAME.INDEX (" +
                    base + ".0)";
            return {};
        }
        c10::TypePtr t = args[at->second].type();
        if (t->kind() == c10::TypeKind::OptionalType) t = t->expectRef<c10::OptionalType>().getElementType();
        if (t->kind() != c10::TypeKind::TupleType && t->kind() != c10::TypeKind::ListType) {
            error = "'" + p.argument + "' names an element, but '" + base + "' is " + t->annotation_str() +
                    ", not a tuple or list: give it as " + base + "=FILE";
            return {};
        }
        const std::size_t k = std::stoul(element);
        auto& group = groups[base];
        if (group.empty()) order.push_back(base);
        if (group.count(k)) {
            error = "'" + p.argument + "' is given twice (" + group[k]->source + " and " + p.source + ")";
            return {};
        }
        group[k] = &p;
    }
    for (const auto& base : order) {
        const auto& group = groups[base];
        const auto& arg = args[index.at(base)];
        const std::size_t arity = tupleArity(arg.type());
        const std::size_t count = arity ? arity : group.rbegin()->first + 1;
        std::vector<const ProvidedInput*> parts;
        for (std::size_t k = 0; k < count; ++k) {
            const auto it = group.find(k);
            if (it == group.end()) {
                error = "'" + base + "' (" + arg.type()->annotation_str() + ") needs element " + base + "." +
                        std::to_string(k) + " too: give it as " + base + "." + std::to_string(k) + "=FILE";
                return {};
            }
            parts.push_back(it->second);
        }
        if (group.size() > count) {
            error = "'" + base + "' is " + arg.type()->annotation_str() + ", with " + std::to_string(count) +
                    " elements, but " + base + "." + std::to_string(group.rbegin()->first) + " was given";
            return {};
        }
        out.push_back(gathered(base, parts, sources));
    }
    return out;
}

// Whether a tensor of `given` dtype does what a use needing `needed` expects: masks are bool, ids and
// indices an integer type LibTorch indexes with, floating inputs the dtype of the weights they meet.
bool dtypeServes(const std::string& given, const std::string& needed) {
    if (needed == "bool") return given == "bool";
    if (needed == "int64" || needed == "int32") return given == "int64" || given == "int32";
    return given == needed;
}

// One warning per bound tensor (or tuple element) whose dtype is not what its first use needs.
void dtypeWarnings(const ArgumentInfo& a, const std::string& name, const Value& v, const std::string& source,
                   const std::vector<std::string>& parts, std::vector<std::string>& out) {
    if (!a.elements.empty() && (v.kind() == Value::Kind::Tuple || v.kind() == Value::Kind::List)) {
        for (std::size_t k = 0; k < a.elements.size() && k < v.size(); ++k)
            dtypeWarnings(a.elements[k], a.elements[k].name, v.at(k),
                          k < parts.size() ? parts[k] : source + "[" + std::to_string(k) + "]", {}, out);
        return;
    }
    if (a.neededDtype.empty() || !v.isTensor() || dtypeServes(v.dtype(), a.neededDtype)) return;
    out.push_back("input '" + name + "' from " + source + " is " + v.dtype() + ", but " + a.neededBy +
                  ", its first use, needs " + a.neededDtype);
}

} // namespace

namespace {
// A package takes flattened tensors, by position or by the names its inputs are shown under (x, x0, x1, …);
// each is checked against the dtype and the static and dynamic dimensions it was compiled for.
InputBinding bindPackage(const detail::Pt2Model& spec, const ModelInfo& info,
                         const std::vector<ProvidedInput>& provided) {
    InputBinding b;
    std::vector<ProvidedInput> items;
    for (const auto& p : provided) {
        if (p.value.kind() == Value::Kind::Dict || p.value.kind() == Value::Kind::List ||
            p.value.kind() == Value::Kind::Tuple) {
            for (std::size_t i = 0; i < p.value.size(); ++i) {
                const Value v =
                    p.value.kind() == Value::Kind::Dict ? p.value.items()[i].second : p.value.at(i);
                const std::string key = p.value.kind() == Value::Kind::Dict ? p.value.items()[i].first : "";
                items.push_back(
                    {key, v, p.source + "[" + (key.empty() ? std::to_string(i) : "\"" + key + "\"") + "]"});
            }
        } else {
            items.push_back(p);
        }
    }
    std::vector<const ProvidedInput*> slots(spec.inputs.size(), nullptr);
    std::size_t next = 0;
    for (const auto& p : items) {
        std::size_t at = spec.inputs.size();
        for (std::size_t i = 0; i < info.inputs.size() && !p.argument.empty(); ++i)
            if (info.inputs[i].name == p.argument) at = i;
        if (!p.argument.empty() && at == spec.inputs.size() && items.size() != 1) {
            b.error = "the package has no input named '" + p.argument + "'";
            return b;
        }
        if (at == spec.inputs.size()) {
            while (next < slots.size() && slots[next])
                ++next;
            at = next;
        }
        if (at >= slots.size()) {
            b.error = "the package takes " + std::to_string(spec.inputs.size()) + " tensor" +
                      (spec.inputs.size() == 1 ? "" : "s") + " but " + std::to_string(items.size()) +
                      " were given";
            return b;
        }
        slots[at] = &p;
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const std::string name = info.inputs[i].name;
        if (!slots[i]) {
            b.error = "the package needs input '" + name + "' (" + info.inputs[i].type + "), input " +
                      std::to_string(i + 1) + " of " + std::to_string(slots.size());
            return b;
        }
        const Value& v = slots[i]->value;
        if (!v.isTensor()) {
            b.error = "input '" + name + "' from " + slots[i]->source + " is " + v.typeName() +
                      ", but the package takes tensors";
            return b;
        }
        const auto leaves = v.leaves(name);
        const std::string why =
            detail::pt2Mismatch(spec.inputs[i], name, leaves.front().summary.dtype, v.shape());
        if (!why.empty()) {
            b.error = why;
            return b;
        }
        b.arguments.push_back({name, info.inputs[i].type, slots[i]->source, v, {}});
    }
    b.ok = true;
    return b;
}
} // namespace

InputBinding Model::bindInputs(const std::vector<ProvidedInput>& provided) const {
    if (const detail::Pt2Model* spec = detail::ModelAccess::package(*this))
        return bindPackage(*spec, info(), provided);
    const torch::jit::Module& module = detail::ModelAccess::module(*this);
    if (!module.find_method("forward")) {
        // A scripted nn.LSTM or nn.GRU: its forward is overloaded, saved as forward__0, forward__1, ….
        std::string methods;
        for (const auto& m : info().methods)
            methods += (methods.empty() ? "" : ", ") + m.name;
        throw twb::Error(
            info().path + ": the model has no forward method to run" +
            (methods.empty() ? "" : " (its methods: " + methods + ")") +
            "; a scripted nn.LSTM or nn.GRU saves its overloads as forward__0, forward__1: trace it, "
            "or script a module whose forward calls it");
    }
    InputBinding b;
    const auto& schema = module.get_method("forward").function().getSchema();
    std::vector<c10::Argument> args(schema.arguments().begin() + 1, schema.arguments().end());
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < args.size(); ++i)
        index[args[i].name()] = i;

    // A multi-tensor file whose keys are argument names feeds those arguments by name, whether it was
    // given by position or aimed at one of them — unless the argument it is aimed at takes a Dict itself.
    std::vector<ProvidedInput> items;
    for (const auto& p : provided) {
        if (p.value.kind() == Value::Kind::Dict && p.value.size() > 0) {
            bool allNamed = true;
            for (const auto& [k, v] : p.value.items())
                allNamed = allNamed && index.count(k);
            const auto named = index.find(p.argument);
            const std::size_t target =
                named != index.end() ? named->second : std::min(items.size(), args.size() - 1);
            const bool dictArg = !args.empty() && args[target].type()->kind() == c10::TypeKind::DictType;
            if (allNamed && !dictArg) {
                for (const auto& [k, v] : p.value.items())
                    items.push_back({k, v, p.source + "[\"" + k + "\"]"});
                continue;
            }
        }
        items.push_back(p);
    }

    PartSources partSources;
    {
        std::string error;
        items = gatherElements(items, args, index, partSources, error);
        if (!error.empty()) {
            b.error = error;
            return b;
        }
    }

    std::vector<const ProvidedInput*> slots(args.size(), nullptr);
    std::vector<const ProvidedInput*> positional;
    std::deque<ProvidedInput> tuples; // positional inputs gathered into a tuple argument (stable addresses)
    for (const auto& p : items) {
        if (p.argument.empty()) {
            positional.push_back(&p);
            continue;
        }
        const auto it = index.find(p.argument);
        if (it == index.end()) {
            b.error = "forward has no argument named '" + p.argument + "' (it takes " + argList(args) + ")";
            return b;
        }
        if (slots[it->second]) {
            b.error = "argument '" + p.argument + "' is given twice (" + slots[it->second]->source + " and " +
                      p.source + ")";
            return b;
        }
        slots[it->second] = &p;
    }
    std::size_t next = 0;
    for (std::size_t i = 0; i < positional.size(); ++i) {
        const ProvidedInput* p = positional[i];
        while (next < slots.size() && slots[next])
            ++next;
        if (next >= slots.size()) {
            b.error = "forward takes " + std::to_string(args.size()) + " input" +
                      (args.size() == 1 ? "" : "s") + (args.empty() ? "" : " (" + argList(args) + ")") +
                      " but " + std::to_string(items.size()) + " were given";
            return b;
        }
        // A tuple argument reached by position takes as many inputs as it has elements, when they are
        // not a tuple already: forward(x, hc) from x.npy h0.npy c0.npy.
        const std::size_t arity = tupleArity(args[next].type());
        if (arity > 1 && !isContainer(p->value) && i + arity <= positional.size()) {
            tuples.push_back(gathered(args[next].name(),
                                      {positional.begin() + long(i), positional.begin() + long(i + arity)},
                                      partSources));
            slots[next++] = &tuples.back();
            i += arity - 1;
            continue;
        }
        slots[next++] = p;
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (!slots[i]) {
            if (a.default_value()) continue;
            b.error = "forward needs '" + a.name() + "' (" + a.type()->annotation_str() + "), argument " +
                      std::to_string(i + 1) + " of " + std::to_string(args.size()) +
                      ": give another input, or name it as " + a.name() + "=FILE";
            return b;
        }
        std::string why;
        c10::IValue v = convertTo(unwrap(slots[i]->value), a.type(), why);
        if (v.isNone() &&
            !(unwrap(slots[i]->value).isNone() && a.type()->kind() == c10::TypeKind::OptionalType)) {
            b.error = "input '" + a.name() + "' from " + slots[i]->source + " " + why +
                      ", but forward wants " + a.type()->annotation_str();
            if (const std::size_t arity = tupleArity(a.type()); arity > 0 && !isContainer(slots[i]->value)) {
                b.error += ": give its elements as";
                for (std::size_t k = 0; k < arity; ++k)
                    b.error += " " + a.name() + "." + std::to_string(k) + "=FILE";
                b.error += ", or a .pt file holding the tuple";
            }
            return b;
        }
        InputBinding::Bound bound{a.name(), a.type()->annotation_str(), slots[i]->source, wrap(v), {}};
        if (const auto it = partSources.find(a.name());
            it != partSources.end() && slots[i]->source.rfind('(', 0) == 0)
            bound.parts = it->second;
        b.arguments.push_back(std::move(bound));
    }
    for (const auto& bound : b.arguments)
        for (const auto& a : info().inputs)
            if (a.name == bound.argument)
                dtypeWarnings(a, a.name, bound.value, bound.source, bound.parts, b.warnings);
    b.ok = true;
    return b;
}

} // namespace twb
