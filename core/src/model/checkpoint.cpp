// State_dicts and training checkpoints: the state_dict inside a torch.save file (the root, or an entry
// under a conventional or a given name), and what a checkpoint holds beside it (epochs, optimizer state,
// hyperparameters), read without running anything from the file.
#include "twb/model.h"

#include "checkpoint.h"
#include "torch_bridge.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/tensor_io.h"

#include <torch/script.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace twb {

using detail::unwrap;
using detail::wrap;

namespace {

// The state_dict inside a torch.save pickle: the root, a checkpoint entry under a conventional name,
// or any entry that is one; `wanted` picks an entry by name. `candidates` gets every entry that is one.
c10::IValue findStateDict(const c10::IValue& root, std::string* key, const std::string& wanted = {},
                          std::vector<std::string>* candidates = nullptr) {
    auto tensorDict = [](const c10::IValue& v) {
        if (!v.isGenericDict() || v.toGenericDict().empty()) return false;
        for (const auto& e : v.toGenericDict())
            if (!e.key().isString() || !e.value().isTensor()) return false;
        return true;
    };
    if (tensorDict(root) && wanted.empty()) return root;
    if (!root.isGenericDict()) return {};
    const auto dict = root.toGenericDict();
    std::vector<std::string> found; // conventional names first, in this order, then the rest
    for (const char* name : {"state_dict", "model", "model_state_dict", "module", "net", "network", "ema",
                             "model_ema", "state_dict_ema", "teacher", "student", "weights"})
        for (const auto& e : dict)
            if (e.key().isString() && e.key().toStringRef() == name && tensorDict(e.value()))
                found.push_back(name);
    for (const auto& e : dict)
        if (e.key().isString() && tensorDict(e.value()) &&
            std::find(found.begin(), found.end(), e.key().toStringRef()) == found.end())
            found.push_back(e.key().toStringRef());
    if (candidates) *candidates = found;
    const std::string pick = wanted.empty() ? (found.empty() ? std::string() : found.front()) : wanted;
    if (pick.empty()) return {};
    if (std::find(found.begin(), found.end(), pick) == found.end()) {
        std::string list;
        for (const auto& f : found)
            list += (list.empty() ? "'" : ", '") + f + "'";
        throw Error("no state_dict under the key '" + wanted + "'" +
                    (list.empty() ? std::string(": the file holds none")
                                  : "; the state_dicts in it are under " + list));
    }
    if (key) *key = pick;
    return dict.at(pick);
}

// 12, 0.81, True, 'cnn': a scalar as Python would print it, short.
std::string scalarText(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::Int:
        return std::to_string(v.toInt());
    case Value::Kind::Double: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", v.toDouble());
        return buf;
    }
    case Value::Kind::Bool:
        return v.toBool() ? "True" : "False";
    case Value::Kind::String: {
        // Appended rather than "'" + std::string&&, which GCC 12 misreads as an overflow under the CUDA
        // wheel's headers.
        std::string quoted = "'";
        quoted.append(v.toStringValue()).append("'");
        return quoted;
    }
    case Value::Kind::None:
        return "None";
    default:
        return v.describe();
    }
}

bool isPlaceholder(const Value& v) {
    if (v.kind() != Value::Kind::Dict) return false;
    for (const auto& [k, x] : v.items())
        if (k == "__class__") return true;
    return false;
}

} // namespace

namespace detail {

Value stateDictIn(const std::string& path, const Value& whole, std::string* foundUnderKey,
                  const std::string& wanted, std::vector<std::string>* candidates) {
    c10::IValue sd;
    try {
        sd = findStateDict(unwrap(whole), foundUnderKey, wanted, candidates);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    if (sd.isNone())
        throw Error(path + ": holds no dict of named tensors (" + whole.describe().substr(0, 120) + ")");
    return wrap(sd);
}

Value readCheckpoint(const std::string& path) {
    const Diagnosis d = diagnose(path);
    if (d.kind != FileKind::StateDict && d.kind != FileKind::Tensors)
        throw Error(path + ": not a state_dict (" + d.summary + ")" +
                    (d.error.empty() ? "" : ": " + d.error));
    return readTensorFile(path, {});
}

// Every inert Python object by key path, and what a checkpoint holds beside its state_dict.
void describeCheckpoint(const Value& whole, const std::string& stateDictKey, ModelInfo& info) {
    std::function<void(const Value&, const std::string&, int)> walk = [&](const Value& v,
                                                                          const std::string& at, int depth) {
        if (depth > 32) return;
        if (isPlaceholder(v)) {
            std::string repr;
            for (const auto& [k, x] : v.items())
                if (k == "__repr__" && x.kind() == Value::Kind::String) repr = x.toStringValue();
            info.pythonObjects.push_back((at.empty() ? "(root)" : at) + ": " + repr +
                                         ": kept as text, not run");
            return;
        }
        if (v.kind() == Value::Kind::Dict)
            for (const auto& [k, x] : v.items())
                walk(x, at.empty() ? k : at + "." + k, depth + 1);
        else if (v.kind() == Value::Kind::List || v.kind() == Value::Kind::Tuple)
            for (std::size_t i = 0; i < v.size() && i < 1000; ++i)
                walk(v.at(i), at + "[" + std::to_string(i) + "]", depth + 1);
    };
    walk(whole, "", 0);
    if (stateDictKey.empty() || whole.kind() != Value::Kind::Dict) return;
    for (const auto& [k, x] : whole.items()) {
        if (k == stateDictKey) continue;
        std::string what;
        switch (x.kind()) {
        case Value::Kind::Int:
        case Value::Kind::Double:
        case Value::Kind::Bool:
        case Value::Kind::String:
            what = scalarText(x);
            break;
        default: {
            bool optimizer = false, tensors = x.kind() == Value::Kind::Dict && x.size() > 0;
            bool scalars = x.kind() == Value::Kind::Dict && x.size() > 0 && x.size() <= 32;
            std::string values; // hyper-parameters and such: shown as text
            if (x.kind() == Value::Kind::Dict)
                for (const auto& [kk, xx] : x.items()) {
                    optimizer = optimizer || kk == "param_groups";
                    tensors = tensors && xx.isTensor();
                    const auto kind = xx.kind();
                    scalars = scalars && (kind == Value::Kind::Int || kind == Value::Kind::Double ||
                                          kind == Value::Kind::Bool || kind == Value::Kind::String ||
                                          kind == Value::Kind::None);
                    if (scalars) values += (values.empty() ? "" : ", ") + kk + "=" + scalarText(xx);
                }
            what = optimizer          ? "optimizer state, not a model"
                   : tensors          ? "another state_dict of " + std::to_string(x.size()) + " tensors"
                   : isPlaceholder(x) ? "a Python object, kept as text"
                   : scalars          ? "{" + values + "}"
                                      : x.typeName();
        }
        }
        info.checkpointEntries.push_back(k + ": " + what);
    }
}

} // namespace detail

Value readStateDict(const std::string& path, std::string* foundUnderKey, const std::string& key) {
    return detail::stateDictIn(path, detail::readCheckpoint(path), foundUnderKey, key);
}

} // namespace twb
