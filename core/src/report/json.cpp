#include "twb/json.h"

#include "json_values.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace twb {
namespace {

using nlohmann::ordered_json;

using detail::finiteOrNull;

ordered_json totals(const TensorTotals& t) {
    ordered_json dtypes = ordered_json::object();
    for (const auto& [name, n] : t.dtypes)
        dtypes[name] = n;
    return {{"tensors", t.tensors}, {"count", t.count}, {"bytes", t.bytes}, {"dtypes", dtypes}};
}

ordered_json argument(const ArgumentInfo& a) {
    ordered_json j{{"name", a.name}, {"type", a.type}};
    if (a.hasDefault) j["default"] = a.defaultValue;
    if (!a.suggested.empty() && !a.hasDefault)
        j["suggested"] = {
            {"generator", a.suggested}, {"reason", a.suggestedReason}, {"found", a.suggestionFound}};
    if (!a.neededDtype.empty()) j["needs"] = {{"dtype", a.neededDtype}, {"by", a.neededBy}};
    if (!a.elements.empty()) {
        j["elements"] = ordered_json::array();
        for (const auto& e : a.elements)
            j["elements"].push_back(argument(e));
    }
    return j;
}

ordered_json tree(const ModuleNode& n) {
    ordered_json j{{"name", n.name}, {"type", n.type}, {"parameters", n.parameters}};
    if (!n.children.empty()) {
        j["children"] = ordered_json::array();
        for (const auto& c : n.children)
            j["children"].push_back(tree(c));
    }
    return j;
}

ordered_json diagnosis(const Diagnosis& d) {
    ordered_json j{
        {"kind", kindName(d.kind)}, {"usable", d.usable}, {"format", d.format}, {"summary", d.summary}};
    if (d.formatVersion >= 0) j["format_version"] = d.formatVersion;
    if (!d.error.empty()) j["error"] = d.error;
    if (!d.fix.empty()) j["fix"] = d.fix;
    if (!d.missingOperators.empty()) j["missing_operators"] = d.missingOperators;
    if (!d.operatorLibraries.empty()) j["operator_libraries"] = d.operatorLibraries;
    if (!d.detail.empty()) j["detail"] = d.detail;
    return j;
}

} // namespace

namespace detail {

ordered_json finiteOrNull(double v) {
    return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
}

ordered_json leafToJson(const Leaf& l) {
    const auto& s = l.summary;
    ordered_json first = ordered_json::array();
    for (double v : s.first)
        first.push_back(finiteOrNull(v));
    ordered_json topk = ordered_json::array(); // [index, value]; a NaN logit is null, as JSON has no NaN
    for (const auto& [index, value] : s.topk)
        topk.push_back({index, finiteOrNull(value)});
    return {{"path", l.path},
            {"shape", s.shape},
            {"dtype", s.dtype},
            {"device", s.device},
            {"numel", s.numel},
            {"bytes", s.bytes},
            {"min", finiteOrNull(s.min)},
            {"max", finiteOrNull(s.max)},
            {"mean", finiteOrNull(s.mean)},
            {"nan", s.nanCount},
            {"inf", s.infCount},
            {"first", first},
            {"topk", topk}};
}

} // namespace detail

std::string toJson(const ModelInfo& info, int indent) {
    ordered_json j{{"file", info.path}, {"size", info.fileSize}};
    j.update(diagnosis(info.diagnosis));
    if (info.diagnosis.kind == FileKind::TorchScript && info.diagnosis.usable) {
        j["class"] = info.className;
        j["saved_training"] = info.savedTraining;
        j["inputs"] = ordered_json::array();
        for (const auto& a : info.inputs)
            j["inputs"].push_back(argument(a));
        j["returns"] = info.returnType;
        j["methods"] = ordered_json::array();
        for (const auto& m : info.methods) {
            ordered_json args = ordered_json::array();
            for (const auto& a : m.arguments)
                args.push_back(argument(a));
            j["methods"].push_back(
                {{"name", m.name}, {"schema", m.schema}, {"arguments", args}, {"returns", m.returnType}});
        }
        j["parameters"] = totals(info.parameters);
        j["buffers"] = totals(info.buffers);
        j["submodules"] = tree(info.tree);
        j["extra_files"] = info.extraFiles;
        j["saved_devices"] = info.savedDevices;
        j["saved_on_cuda"] = info.savedOnCuda;
        if (!info.quantizedEngine.empty())
            j["quantized"] = {{"engine", info.quantizedEngine}, {"note", info.quantizedEngineNote}};
        j["code"] = info.code;
    } else if (info.diagnosis.kind == FileKind::Pt2 && info.diagnosis.usable) {
        // An AOTInductor package: its flattened tensor inputs, its models and the constants (as "tensors").
        j["class"] = info.className;
        j["inputs"] = ordered_json::array();
        for (const auto& a : info.inputs)
            j["inputs"].push_back(argument(a));
        j["returns"] = info.returnType;
        j["methods"] = ordered_json::array();
        for (const auto& m : info.methods)
            j["methods"].push_back({{"name", m.name},
                                    {"schema", m.schema},
                                    {"arguments", ordered_json::array()},
                                    {"returns", m.returnType}});
        j["parameters"] = totals(info.parameters);
        j["models"] = info.extraFiles;
        j["saved_devices"] = info.savedDevices;
    } else {
        j["inputs"] = ordered_json::array();
        j["methods"] = ordered_json::array();
        j["parameters"] = totals(info.parameters);
    }
    if (!info.tensors.empty() || info.diagnosis.kind == FileKind::StateDict) {
        j["tensors"] = ordered_json::array();
        for (const auto& t : info.tensors)
            j["tensors"].push_back({{"name", t.name},
                                    {"dtype", t.dtype},
                                    {"shape", t.shape},
                                    {"numel", t.numel},
                                    {"bytes", t.bytes}});
        if (!info.stateDictKey.empty()) j["state_dict_key"] = info.stateDictKey;
        if (info.stateDictCandidates.size() > 1) j["state_dict_keys"] = info.stateDictCandidates;
        if (!info.checkpointEntries.empty()) j["checkpoint_entries"] = info.checkpointEntries;
        if (!info.pythonObjects.empty()) j["python_objects"] = info.pythonObjects;
    }
    return j.dump(indent);
}

std::string toJson(const std::vector<Leaf>& leaves, int indent) {
    ordered_json j = ordered_json::array();
    for (const auto& l : leaves)
        j.push_back(detail::leafToJson(l));
    return j.dump(indent);
}

std::string toJson(const StateDictReport& r, int indent) {
    ordered_json mismatched = ordered_json::array();
    for (const auto& m : r.mismatched)
        mismatched.push_back({{"name", m.name}, {"expected", m.expected}, {"got", m.got}});
    return ordered_json{{"strict", r.strict},
                        {"applied", r.applied},
                        {"loaded", r.loaded},
                        {"missing", r.missing},
                        {"unexpected", r.unexpected},
                        {"mismatched", mismatched},
                        {"dtype_converted", r.dtypeConverted},
                        {"message", r.describe()}}
        .dump(indent);
}

namespace {
ordered_json leafComparisonJson(const LeafComparison& c) {
    ordered_json j{{"path", c.path},
                   {"status", leafStatusName(c.status)},
                   {"note", c.note},
                   {"shape_a", c.shapeA},
                   {"shape_b", c.shapeB},
                   {"dtype_a", c.dtypeA},
                   {"dtype_b", c.dtypeB},
                   {"numel", c.numel},
                   {"max_abs", finiteOrNull(c.maxAbs)},
                   {"mean_abs", finiteOrNull(c.meanAbs)},
                   {"max_rel", finiteOrNull(c.maxRel)},
                   {"rmse", finiteOrNull(c.rmse)},
                   {"cosine", finiteOrNull(c.cosine)},
                   {"allclose", c.allclose},
                   {"mismatches", c.mismatches},
                   {"first_mismatches", c.firstMismatches},
                   {"nan", {{"a", c.nanA}, {"b", c.nanB}}},
                   {"inf", {{"a", c.infA}, {"b", c.infB}}}};
    if (c.hasTopk)
        j["topk"] = {{"k", c.k},
                     {"argmax_agreement", finiteOrNull(c.argmaxAgreement)},
                     {"topk_agreement", finiteOrNull(c.topkAgreement)}};
    return j;
}

} // namespace

namespace detail {
nlohmann::ordered_json outputComparisonObject(const OutputComparison& o) {
    ordered_json j{{"allclose", o.allclose}, {"same_structure", o.sameStructure},
                   {"atol", o.options.atol}, {"rtol", o.options.rtol},
                   {"summary", o.summary},   {"leaves", ordered_json::array()}};
    for (const auto& l : o.leaves)
        j["leaves"].push_back(leafComparisonJson(l));
    return j;
}

nlohmann::ordered_json libtorchBuildObject(const LibTorchBuild& b) {
    return ordered_json{{"source", b.source},
                        {"location", b.location},
                        {"blas", b.blas},
                        {"lapack", b.lapack},
                        {"onednn", b.onednn},
                        {"openmp", b.openmp},
                        {"parallel_backend", b.parallelBackend},
                        {"cpu_capability", b.cpuCapability},
                        {"cuda_runtime", b.cudaRuntime},
                        {"cudnn", b.cudnn},
                        {"kineto", b.kineto},
                        {"compiler", b.compiler}};
}
} // namespace detail

std::string toJson(const OutputComparison& o, int indent) {
    return detail::outputComparisonObject(o).dump(indent);
}

std::string toJson(const BuildInfo& b, int indent) {
    return ordered_json{{"version", b.version},
                        {"libtorch", b.libtorchVersion},
                        {"libtorch_build", detail::libtorchBuildObject(b.libtorch)},
                        {"cuda_compiled", b.cudaCompiled},
                        {"cuda_available", b.cudaAvailable},
                        {"quantized_engines", b.quantizedEngines},
                        {"cuda_devices", b.cudaDevices},
                        {"cuda_status", b.cudaStatus}}
        .dump(indent);
}

} // namespace twb
