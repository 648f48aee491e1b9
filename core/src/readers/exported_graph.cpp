// The graph a torch.export archive keeps in models/*.json (the serialized ExportedProgram), read as data:
// nothing in the file runs. Its nodes carry their operator, the module stack and the Python stack trace
// they were traced from, and its tensor values their shapes and dtypes: the same plain graph a
// TorchScript model gives, so the graph view draws either.
#include "twb/error.h"
#include "twb/graph.h"

#include "zip_reader.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <map>

namespace twb {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxGraphJson = uint64_t(256) << 20;
constexpr int kMaxDepth = 64; // torch.export's graphs nest about ten deep

// torch._export.serde.schema.ScalarType's numbering.
std::string dtypeName(int code) {
    static const std::map<int, std::string> names{
        {1, "uint8"},       {2, "int8"},    {3, "int16"},     {4, "int32"},     {5, "int64"},
        {6, "float16"},     {7, "float32"}, {8, "float64"},   {9, "complex32"}, {10, "complex64"},
        {11, "complex128"}, {12, "bool"},   {13, "bfloat16"}, {28, "uint16"}};
    const auto it = names.find(code);
    return it == names.end() ? std::string() : it->second;
}

// "torch.ops.aten.conv2d.default" → "aten::conv2d"; other targets ("_operator.getitem") as they are.
std::string kindOf(const std::string& target) {
    const std::string ops = "torch.ops.";
    if (target.rfind(ops, 0) != 0) return target;
    std::string rest = target.substr(ops.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos) return rest;
    std::string ns = rest.substr(0, dot), name = rest.substr(dot + 1);
    const auto overload = name.find('.');
    if (overload != std::string::npos) name = name.substr(0, overload);
    return ns + "::" + name;
}

// The innermost module of "L__self__,,__main__.M;L__self__conv,conv,torch.nn.modules.conv.Conv2d": its
// dotted path and class. Paths written as Python ("L['self'].layers[0]") become "layers.0".
std::pair<std::string, std::string> scopeOf(const std::string& stack) {
    if (stack.empty()) return {};
    const auto last = stack.rfind(';');
    const std::string entry = last == std::string::npos ? stack : stack.substr(last + 1);
    const auto first = entry.find(','), second = entry.find(',', first == std::string::npos ? 0 : first + 1);
    if (first == std::string::npos || second == std::string::npos) return {};
    std::string path = entry.substr(first + 1, second - first - 1), type = entry.substr(second + 1);
    for (const std::string prefix : {"L['self'].", "L__self__."})
        if (path.rfind(prefix, 0) == 0) path = path.substr(prefix.size());
    std::string clean;
    for (char c : path) {
        if (c == '[')
            clean += '.';
        else if (c != ']' && c != '\'' && c != '"')
            clean += c;
    }
    const auto dot = type.rfind('.');
    return {clean, dot == std::string::npos ? type : type.substr(dot + 1)};
}

// The innermost frame of a Python stack trace: "conv.py:565" and its code line.
std::pair<std::string, std::string> frameOf(const std::string& trace) {
    const auto at = trace.rfind("File \"");
    if (at == std::string::npos) return {};
    const auto close = trace.find('"', at + 6);
    const auto line = trace.find(", line ", close == std::string::npos ? at : close);
    if (close == std::string::npos || line == std::string::npos) return {};
    std::string file = trace.substr(at + 6, close - at - 6);
    file = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
    std::size_t end = line + 7;
    while (end < trace.size() && std::isdigit(static_cast<unsigned char>(trace[end])))
        ++end;
    std::string code;
    const auto newline = trace.find('\n', end);
    if (newline != std::string::npos) {
        code = trace.substr(newline + 1, trace.find('\n', newline + 1) - newline - 1);
        const auto first = code.find_first_not_of(" \t");
        code = first == std::string::npos ? std::string() : code.substr(first);
    }
    return {file + ":" + trace.substr(line + 7, end - line - 7), code};
}

// The names of the tensors an argument holds: as_tensor, as_tensors, or an optional one.
std::vector<std::string> tensorNames(const json& arg) {
    std::vector<std::string> out;
    if (!arg.is_object()) return out;
    if (arg.contains("as_tensor") && arg["as_tensor"].is_object())
        out.push_back(arg["as_tensor"].value("name", std::string()));
    for (const char* list : {"as_tensors", "as_optional_tensors"})
        if (arg.contains(list) && arg[list].is_array())
            for (const auto& t : arg[list]) {
                if (t.is_object() && t.contains("as_tensor"))
                    out.push_back(t["as_tensor"].value("name", std::string()));
                else if (t.is_object())
                    out.push_back(t.value("name", std::string()));
            }
    if (arg.contains("as_optional_tensor") && arg["as_optional_tensor"].is_object() &&
        arg["as_optional_tensor"].contains("as_tensor"))
        out.push_back(arg["as_optional_tensor"]["as_tensor"].value("name", std::string()));
    return out;
}

// A constant argument as text: "[1, 1]", "True", "None".
std::string constantText(const json& arg) {
    if (!arg.is_object() || arg.empty()) return {};
    const auto it = arg.begin();
    const std::string form = it.key();
    const json& value = it.value();
    if (form == "as_none") return "None";
    if (form == "as_bool") return value.is_boolean() && value.get<bool>() ? "True" : "False";
    const std::string text = value.dump();
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

} // namespace

ModelGraph exportedProgramGraph(const std::string& path) {
    detail::ZipReader zip(path);
    std::string name;
    for (const auto& n : zip.names()) {
        const auto at = n.find("models/");
        if (at == std::string::npos || n.size() < 5 || n.compare(n.size() - 5, 5, ".json") != 0) continue;
        if (name.empty() || n.compare(at, std::string::npos, "models/model.json") == 0) name = n;
    }
    if (name.empty())
        throw Error(path +
                    ": the archive keeps no ExportedProgram graph (models/*.json); an AOTInductor package "
                    "holds compiled code alone");
    ModelGraph g;
    try {
        // Refused past a sane depth: a hostile file must not recurse the reader off its stack.
        const json j = json::parse(zip.read(name, kMaxGraphJson), [](int depth, json::parse_event_t, json&) {
            if (depth > kMaxDepth) throw Error("nested deeper than " + std::to_string(kMaxDepth) + " levels");
            return true;
        });
        const json& module = j.at("graph_module");
        const json& graph = module.at("graph");
        // Parameters, buffers and constants are attributes, named as the module names them.
        std::map<std::string, std::string> attributes;
        std::vector<std::string> userInputs;
        if (module.contains("signature") && module["signature"].contains("input_specs"))
            for (const auto& spec : module["signature"]["input_specs"]) {
                if (!spec.is_object() || spec.empty()) continue;
                const std::string kind = spec.begin().key();
                const json& body = spec.begin().value();
                if (!body.is_object()) continue;
                if (kind == "user_input") {
                    for (const auto& t : tensorNames(body.value("arg", json::object())))
                        userInputs.push_back(t);
                    continue;
                }
                const std::string arg = body.value("arg", json::object()).value("name", std::string());
                for (const char* field :
                     {"parameter_name", "buffer_name", "tensor_constant_name", "custom_obj_name"})
                    if (body.contains(field)) attributes[arg] = body.value(field, std::string());
            }
        const json meta = graph.value("tensor_values", json::object());
        std::map<std::string, int> values;
        auto valueOf = [&](const std::string& tensor, int producer) {
            GraphValue v;
            v.name = tensor;
            v.type = "Tensor";
            v.producer = producer;
            if (meta.contains(tensor)) {
                const json& t = meta[tensor];
                v.dtype = dtypeName(t.value("dtype", 0));
                for (const auto& s : t.value("sizes", json::array()))
                    v.shape.push_back(s.is_object() && s.contains("as_int") ? s["as_int"].get<int64_t>()
                                                                            : -1);
            }
            values[tensor] = int(g.values.size());
            g.values.push_back(v);
            return values[tensor];
        };
        if (userInputs.empty()) // no signature: every graph input that is not an attribute
            for (const auto& in : graph.value("inputs", json::array()))
                for (const auto& t : tensorNames(in))
                    if (!attributes.count(t)) userInputs.push_back(t);
        for (const auto& t : userInputs)
            g.inputs.push_back(valueOf(t, -1));
        for (const auto& n : graph.at("nodes")) {
            GraphNode node;
            node.kind = kindOf(n.value("target", std::string()));
            const json metadata = n.value("metadata", json::object());
            std::tie(node.scope, node.scopeType) = scopeOf(metadata.value("nn_module_stack", std::string()));
            std::tie(node.location, node.code) = frameOf(metadata.value("stack_trace", std::string()));
            for (const auto& in : n.value("inputs", json::array())) {
                const std::string argName = in.value("name", std::string());
                const json arg = in.value("arg", json::object());
                const auto tensors = tensorNames(arg);
                if (tensors.empty()) {
                    const std::string constant = constantText(arg);
                    if (!constant.empty()) node.arguments.push_back(argName + " = " + constant);
                    continue;
                }
                for (const auto& t : tensors) {
                    if (auto v = values.find(t); v != values.end())
                        node.inputs.push_back(v->second);
                    else if (auto a = attributes.find(t); a != attributes.end())
                        node.arguments.push_back(argName + " = " + a->second);
                }
            }
            const int self = int(g.nodes.size());
            for (const auto& out : n.value("outputs", json::array()))
                for (const auto& t : tensorNames(out))
                    if (!t.empty()) node.outputs.push_back(valueOf(t, self));
            g.nodes.push_back(node);
        }
        for (const auto& out : graph.value("outputs", json::array()))
            for (const auto& t : tensorNames(out))
                if (auto v = values.find(t); v != values.end()) g.outputs.push_back(v->second);
        g.groups = groupByModule(g.nodes);
    } catch (const std::exception& e) {
        throw Error(path + ": the ExportedProgram's graph (" + name + ") is damaged: " + e.what());
    }
    return g;
}

} // namespace twb
