#include "twb/model.h"

#include "aoti.h"
#include "checkpoint.h"
#include "error_text.h"
#include "model_access.h"
#include "operators.h"
#include "pickle.h"
#include "pt2.h"
#include "readers.h"
#include "suggest_internal.h"
#include "torch_bridge.h"
#include "zip_reader.h"

#include "twb/error.h"

#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

namespace twb {

using detail::unwrap;
using detail::wrap;

struct Model::Impl {
    torch::jit::Module module;
    ModelInfo info;
    // AOTInductor packages
    std::optional<detail::Pt2Model> package;
    std::once_flag loaded;
    detail::PackageRun run;
    std::string loadError;
    std::vector<detail::ModelAccess::StateDictLoad> stateDictLoads;
};

namespace {

// "__torch__.torchvision.models.resnet.___torch_mangle_3.ResNet" -> "torchvision.models.resnet.ResNet"
std::string prettyClass(std::string name) {
    if (name.rfind("__torch__.", 0) == 0) name = name.substr(10);
    std::string out;
    std::istringstream in(name);
    std::string part;
    while (std::getline(in, part, '.'))
        if (part.rfind("___torch_mangle_", 0) != 0) out += (out.empty() ? "" : ".") + part;
    return out;
}

void addTensor(TensorTotals& totals, const at::Tensor& t) {
    totals.tensors += 1;
    totals.count += t.numel();
    totals.bytes += uint64_t(t.numel()) * t.element_size();
    const std::string dtype = detail::dtypeName(t.scalar_type());
    for (auto& [name, n] : totals.dtypes)
        if (name == dtype) {
            n += t.numel();
            return;
        }
    totals.dtypes.emplace_back(dtype, t.numel());
}

ArgumentInfo argumentInfo(const c10::Argument& a) {
    ArgumentInfo info;
    info.name = a.name();
    info.type = a.type()->annotation_str();
    if (a.default_value()) {
        info.hasDefault = true;
        std::ostringstream s;
        s << *a.default_value();
        info.defaultValue = s.str();
    }
    return info;
}

ModuleNode moduleTree(const torch::jit::Module& m, const std::string& name) {
    ModuleNode node;
    node.name = name;
    node.type = prettyClass(m.type()->name() ? m.type()->name()->qualifiedName() : "Module");
    for (const auto& p : m.parameters(true))
        node.parameters += p.numel();
    for (const auto& child : m.named_children())
        node.children.push_back(moduleTree(child.value, child.name));
    return node;
}

void scanSavedDevices(const detail::ZipReader& zip, const std::string& prefix, ModelInfo& info) {
    std::set<std::string> devices;
    for (const std::string& rec : {prefix + "data.pkl", prefix + "constants.pkl"}) {
        if (!zip.has(rec)) continue;
        try {
            detail::pickle::Options opts;
            opts.allowOpaque = true;
            for (const auto& s : detail::pickle::load(zip.read(rec, uint64_t(1) << 31), opts).storages)
                devices.insert(s->location);
        } catch (const std::exception&) {
            // The device list is informative only; the load itself reports real problems.
        }
    }
    info.savedDevices.assign(devices.begin(), devices.end());
    for (const auto& d : devices)
        if (d.rfind("cuda", 0) == 0) info.savedOnCuda = true;
}

std::string archiveCode(const detail::ZipReader& zip, const std::string& prefix,
                        const std::string& qualified) {
    // __torch__.a.b.Net lives in code/__torch__/a/b.py; __torch__.Net in code/__torch__.py.
    std::string path = qualified;
    const auto lastDot = path.find_last_of('.');
    std::string file = lastDot == std::string::npos ? path : path.substr(0, lastDot);
    for (auto& c : file)
        if (c == '.') c = '/';
    const std::string rec = prefix + "code/" + file + ".py";
    std::string code;
    if (zip.has(rec)) code = zip.read(rec, 16u << 20);
    return code;
}

void fillTorchScript(const torch::jit::Module& module, bool savedTraining, ModelInfo& info) {
    const auto qualified =
        module.type()->name() ? module.type()->name()->qualifiedName() : std::string("Module");
    info.className = prettyClass(qualified);
    info.savedTraining = savedTraining;
    for (const auto& method : module.get_methods()) {
        const auto& schema = method.function().getSchema();
        MethodInfo m;
        m.name = method.name();
        std::ostringstream s;
        s << schema;
        m.schema = s.str();
        for (std::size_t i = 1; i < schema.arguments().size(); ++i)
            m.arguments.push_back(argumentInfo(schema.arguments()[i]));
        if (!schema.returns().empty()) m.returnType = schema.returns()[0].type()->annotation_str();
        if (m.name == "forward") {
            info.inputs = m.arguments;
            info.returnType = m.returnType;
        }
        info.methods.push_back(std::move(m));
    }
    for (const auto& p : module.parameters(true))
        addTensor(info.parameters, p);
    for (const auto& b : module.buffers(true))
        addTensor(info.buffers, b);
    info.tree = moduleTree(module, "");
    try {
        detail::fillSuggestions(module, info.inputs);
        for (auto& m : info.methods)
            if (m.name == "forward") m.arguments = info.inputs;
    } catch (const std::exception&) {
        // Suggestions are a convenience: a graph they cannot read leaves them empty.
    }
    try {
        detail::ZipReader zip(info.path);
        const std::string prefix = zip.torchPrefix();
        scanSavedDevices(zip, prefix, info);
        for (const auto& n : zip.names())
            if (n.rfind(prefix + "extra/", 0) == 0 && n.size() > prefix.size() + 6)
                info.extraFiles.push_back(n.substr(prefix.size() + 6));
        info.code = archiveCode(zip, prefix, qualified);
        for (const auto& op : detail::scanArchiveOperators(zip, prefix).called)
            if (op.rfind("quantized::", 0) == 0 || op.rfind("_quantized::", 0) == 0) {
                info.quantizedEngine = detail::quantizedEngineName(at::globalContext().qEngine());
                break;
            }
    } catch (const std::exception&) {
        // Already loaded by LibTorch; the archive listing is a bonus.
    }
}

bool quantizedEngineFailure(const std::string& what) {
    return what.find("engine for operation") != std::string::npos ||
           what.find("QEngine") != std::string::npos;
}

// A failed torch::jit::load, explained.
Diagnosis explainLoadFailure(const std::string& path, const Diagnosis& before, const std::string& what) {
    Diagnosis d = before;
    d.usable = false;
    d.detail = what;
    auto has = [&](const char* s) { return what.find(s) != std::string::npos; };
    if (quantizedEngineFailure(what)) {
        std::string engines;
        for (const auto e : at::globalContext().supportedQEngines())
            if (e != at::QEngine::NoQEngine)
                engines += (engines.empty() ? "" : ", ") + detail::quantizedEngineName(e);
        d.kind = FileKind::NeedsQuantizedEngine;
        d.summary =
            "A quantized TorchScript archive whose weights no quantized engine of this LibTorch can pack";
        d.error = "LibTorch " TORCH_VERSION " has " +
                  (engines.empty() ? std::string("no quantized engine")
                                   : "the quantized engines " + engines + " only") +
                  ", and none of them takes this model's quantized operators";
        d.fix =
            "Run it on a LibTorch built with the engine it was quantized for: fbgemm or x86 for x86 "
            "servers, qnnpack for ARM and mobile (the PyTorch wheel's LibTorch has x86, fbgemm, onednn and "
            "qnnpack); or measure the float model, saved before quantization.";
        return d;
    }
    if (has("Unknown builtin op") || has("Unknown type name") || has("Unknown type constructor") ||
        has("is not supported in version") || has("Schema not found") ||
        has("Arguments for call are not valid") || has("version") || has("Unknown attribute")) {
        d.kind = FileKind::TooNew;
        d.summary = "A TorchScript archive that uses operators or types this LibTorch does not have";
        d.error = "LibTorch " TORCH_VERSION
                  " cannot compile its code; it was most likely written by a newer PyTorch";
        d.fix = "Export it with a PyTorch whose version matches this LibTorch (" TORCH_VERSION
                "), or use a workbench built against the LibTorch version that wrote it.";
    } else if (has("PytorchStreamReader") || has("zip") || has("archive") || has("record")) {
        d.kind = FileKind::Corrupt;
        d.summary = "A damaged TorchScript archive";
        d.error = "LibTorch cannot read the archive's records";
        d.fix = "Save or download the file again and compare its size with the original.";
    } else {
        d.summary = "A TorchScript archive that LibTorch cannot load";
        d.error = "torch::jit::load failed";
        d.fix =
            "Check that the PyTorch that saved it matches LibTorch " TORCH_VERSION "; the detail below is "
            "LibTorch's own message.";
    }
    return d;
}

std::string loadError(const std::function<void()>& load) {
    try {
        load();
        return {};
    } catch (const c10::Error& e) {
        return e.what_without_backtrace();
    } catch (const std::exception& e) {
        return e.what();
    }
}

torch::jit::Module loadModule(ModelInfo& info) {
    detail::ensureQuantizedEngine();
    torch::jit::Module m;
    const auto load = [&] { m = torch::jit::load(info.path, torch::kCPU); };
    std::string what = loadError(load);
    if (what.empty()) return m;
    // A quantized model packs its weights for the process's engine as it loads: another engine this
    // LibTorch has may take them where this one cannot.
    if (quantizedEngineFailure(what)) {
        const at::QEngine before = at::globalContext().qEngine();
        for (const auto e : at::globalContext().supportedQEngines()) {
            if (e == before || e == at::QEngine::NoQEngine) continue;
            at::globalContext().setQEngine(e);
            if (loadError(load).empty()) {
                info.quantizedEngineNote = "the " + detail::quantizedEngineName(before) +
                                           " engine could not pack its weights; " +
                                           detail::quantizedEngineName(e) + " did";
                return m;
            }
        }
        at::globalContext().setQEngine(before);
    }
    info.diagnosis = explainLoadFailure(info.path, info.diagnosis, what);
    throw Error(info.path + ": " + info.diagnosis.error, info.diagnosis.detail);
}

void fillTensors(const Value& dict, ModelInfo& info) {
    for (const auto& [name, v] : dict.items()) {
        if (!v.isTensor()) continue;
        const at::Tensor& t = unwrap(v).toTensor();
        TensorInfo ti;
        ti.name = name;
        ti.dtype = detail::dtypeName(t.scalar_type());
        ti.shape = t.sizes().vec();
        ti.numel = t.numel();
        ti.bytes = uint64_t(t.numel()) * t.element_size();
        ti.device = t.device().str();
        info.tensors.push_back(ti);
        addTensor(info.parameters, t);
    }
}

} // namespace

// What the package says of its first model, as ModelInfo: forward's inputs (flattened tensors, with the
// input each is suggested), the constants as the model's tensors.
static void fillPackage(const detail::Pt2Package& package, ModelInfo& info) {
    if (package.models.empty()) return;
    const detail::Pt2Model& m = package.models.front();
    info.className = package.archive + " (AOTInductor model '" + m.name + "')";
    for (const auto& p : package.models)
        info.methods.push_back({p.name,
                                p.name + "(" + std::to_string(p.inputs.size()) + " tensors) -> " +
                                    std::to_string(p.outputs) + " tensors",
                                {},
                                ""});
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        const auto& in = m.inputs[i];
        ArgumentInfo a;
        a.name = m.inputs.size() == 1 ? "x" : "x" + std::to_string(i);
        a.type = "Tensor " + in.dtype + " " + detail::pt2ShapeText(in);
        std::string shape;
        for (std::size_t d = 0; d < in.shape.size(); ++d) {
            int64_t v = in.shape[d];
            if (v < 0) v = d < in.min.size() && in.min[d] > 0 ? in.min[d] : 1;
            if (d) shape += 'x'; // appended apart: GCC 12 misreads (d ? "x" : "") + string as an overflow
            shape += std::to_string(v);
        }
        const bool integral = in.dtype.find("int") != std::string::npos || in.dtype == "bool";
        a.suggested =
            (integral ? "zeros:" : "normal:") + shape + ":" + (in.dtype.empty() ? "float32" : in.dtype);
        a.suggestedReason = "the shape and dtype the package was compiled for" +
                            std::string(shape.empty() ? "" : ", dynamic dimensions at their smallest");
        a.suggestionFound = true;
        info.inputs.push_back(a);
    }
    info.returnType = m.outputs == 1 ? "Tensor" : "Tuple[" + std::to_string(m.outputs) + " Tensors]";
    info.tensors = m.constants;
    for (const auto& c : m.constants) {
        info.parameters.tensors += 1;
        info.parameters.count += c.numel;
        info.parameters.bytes += c.bytes;
    }
    info.savedDevices = {m.device};
    info.savedOnCuda = m.device.rfind("cuda", 0) == 0;
    for (const auto& p : package.models)
        info.extraFiles.push_back(p.name + ": compiled for " + p.device + " (" + p.platform +
                                  (p.isa.empty() ? "" : ", " + p.isa) + ")" +
                                  (p.compiler.empty() ? "" : " by " + p.compiler) + ", " +
                                  std::to_string(p.constants.size()) + " constants, a " +
                                  std::to_string(p.libraryBytes / 1024) + " KiB shared object");
}

ModelInfo inspectModelFile(const std::string& path) {
    ModelInfo info;
    info.path = path;
    info.diagnosis = diagnose(path);
    try {
        info.fileSize = detail::fileSize(path);
    } catch (const Error&) {
    }
    if (!info.diagnosis.usable) return info;
    try {
        switch (info.diagnosis.kind) {
        case FileKind::TorchScript: {
            torch::jit::Module m = loadModule(info);
            fillTorchScript(m, m.is_training(), info);
            break;
        }
        case FileKind::Pt2:
            fillPackage(detail::readPt2(path), info);
            break;
        case FileKind::StateDict: {
            const Value whole = detail::readCheckpoint(path);
            fillTensors(detail::stateDictIn(path, whole, &info.stateDictKey, {}, &info.stateDictCandidates),
                        info);
            detail::describeCheckpoint(whole, info.stateDictKey, info);
        } break;
        case FileKind::Tensors: {
            const Value v = readTensorFile(path, {});
            if (v.kind() == Value::Kind::Dict)
                fillTensors(v, info);
            else {
                for (const auto& leaf : v.leaves(detail::baseName(path), 0)) {
                    TensorInfo ti;
                    ti.name = leaf.path;
                    ti.dtype = leaf.summary.dtype;
                    ti.shape = leaf.summary.shape;
                    ti.numel = leaf.summary.numel;
                    ti.bytes = leaf.summary.bytes;
                    ti.device = leaf.summary.device;
                    info.tensors.push_back(ti);
                    info.parameters.tensors += 1;
                    info.parameters.count += ti.numel;
                    info.parameters.bytes += ti.bytes;
                }
            }
            break;
        }
        default:
            break;
        }
    } catch (const std::exception& caught) {
        // Anything thrown while looking inside becomes the diagnosis.
        const auto* twbError = dynamic_cast<const Error*>(&caught);
        const Error e = twbError ? *twbError : Error(info.path + ": " + caught.what());
        if (info.diagnosis.usable) {
            info.diagnosis.usable = false;
            if (dynamic_cast<const UnsupportedError*>(&caught)) {
                info.diagnosis.kind = FileKind::Unknown;
                info.diagnosis.fix = "Save the data as numeric tensors (float, int or bool).";
            } else if (info.diagnosis.kind != FileKind::TooNew && info.diagnosis.kind != FileKind::Corrupt) {
                info.diagnosis.kind = FileKind::Corrupt;
            }
            info.diagnosis.error = e.what();
            if (info.diagnosis.fix.empty()) info.diagnosis.fix = "Save or download the file again.";
            if (info.diagnosis.detail.empty()) info.diagnosis.detail = e.detail();
        }
    }
    return info;
}

std::string StateDictReport::describe() const {
    std::ostringstream s;
    if (!foundUnderKey.empty()) s << "state_dict found under '" << foundUnderKey << "'. ";
    if (stripped > 0) {
        s << "Stripped the prefix '" << strippedPrefix << "' from " << stripped << " keys";
        if (strippedPrefix == "module.") s << " (saved from DataParallel/DDP)";
        if (strippedPrefix == "_orig_mod.") s << " (saved from a torch.compile'd model)";
        s << ". ";
    }
    if (!dtypeConverted.empty()) {
        s << dtypeConverted.size() << (dtypeConverted.size() == 1 ? " tensor" : " tensors") << " converted";
        if (!convertedFrom.empty())
            s << (convertedMostly == int64_t(dtypeConverted.size())
                      ? " from "
                      : ", " + std::to_string(convertedMostly) + " from ")
              << convertedFrom << " to " << convertedTo;
        s << ". ";
    }
    if (!suggestedPrefix.empty())
        s << "Every key starts with '" << suggestedPrefix
          << "' and matches without it: strip that prefix (--strip-prefix " << suggestedPrefix << "). ";
    auto list = [&](const char* title, const std::vector<std::string>& names) {
        if (names.empty()) return;
        s << title;
        for (std::size_t i = 0; i < names.size(); ++i)
            s << (i ? ", " : " ") << '"' << names[i] << '"';
        s << ". ";
    };
    list("Missing key(s) in state_dict:", missing);
    list("Unexpected key(s) in state_dict:", unexpected);
    for (const auto& m : mismatched) {
        s << "size mismatch for " << m.name << ": copying a param with shape " << shapeText(m.got)
          << " from checkpoint, the shape in current model is " << shapeText(m.expected) << ". ";
    }
    for (const auto& k : kindConverted)
        s << "converted between integer and floating point, as load_state_dict's copy_ does: " << k << ". ";
    if (!harmlessMissing.empty())
        s << harmlessMissing.size() << " BatchNorm num_batches_tracked counter"
          << (harmlessMissing.size() == 1 ? " is" : "s are")
          << " missing (older checkpoints lack them): harmless. ";
    if (clean())
        s << "All keys matched successfully (" << loaded << " tensors loaded).";
    else if (!applied)
        s << "Nothing was loaded (strict); load non-strictly to take the " << loaded << " matching tensors.";
    else
        s << "Loaded the " << loaded << " matching tensors (non-strict).";
    return s.str();
}

Model::Model(std::shared_ptr<Impl> impl)
    : m_impl(std::move(impl)) {}

Model Model::load(const std::string& path) {
    auto impl = std::make_shared<Impl>();
    impl->info.path = path;
    impl->info.diagnosis = diagnose(path);
    impl->info.fileSize = impl->info.diagnosis.kind == FileKind::NotFound ? 0 : detail::fileSize(path);
    const Diagnosis& d = impl->info.diagnosis;
    if (d.kind == FileKind::Pt2 && d.usable) {
        const detail::Pt2Package package = detail::readPt2(path);
        fillPackage(package, impl->info);
        impl->package = package.models.front();
        return Model(std::move(impl));
    }
    if (d.kind != FileKind::TorchScript) {
        std::string msg = path + ": " + d.summary;
        if (d.kind == FileKind::StateDict)
            msg +=
                ". A state_dict holds weights only; open the TorchScript model and load this file into it.";
        else if (!d.error.empty())
            msg += ": " + d.error + ".";
        if (!d.fix.empty()) msg += "\n" + d.fix;
        throw Error(msg, d.detail);
    }
    impl->module = loadModule(impl->info);
    const bool training = impl->module.is_training();
    impl->module.eval(); // a loaded module keeps the training flag it was saved with
    fillTorchScript(impl->module, training, impl->info);
    return Model(std::move(impl));
}

const ModelInfo& Model::info() const {
    return m_impl->info;
}

StateDictReport Model::loadStateDict(const std::string& path, bool strict, const std::string& stripPrefix,
                                     const std::string& key) {
    std::string found;
    StateDictReport report = loadStateDict(readStateDict(path, &found, key), strict, stripPrefix);
    report.foundUnderKey = found;
    return report;
}

StateDictReport Model::loadStateDict(const Value& stateDict, bool strict, const std::string& stripPrefix) {
    if (m_impl->package)
        throw Error(m_impl->info.path + ": an AOTInductor package's weights are compiled into it: export and "
                                        "compile the model again with the new weights");
    StateDictReport report;
    report.strict = strict;
    std::map<std::string, at::Tensor> targets;
    std::vector<std::string> order;
    for (const auto& p : m_impl->module.named_parameters(true)) {
        targets.emplace(p.name, p.value);
        order.push_back(p.name);
    }
    for (const auto& b : m_impl->module.named_buffers(true)) {
        if (targets.emplace(b.name, b.value).second) order.push_back(b.name);
    }
    // A prefix to drop: the one asked for, or the one DataParallel/DDP or torch.compile adds, when
    // dropping it is what makes the keys match.
    auto items = stateDict.items();
    auto matchesWithout = [&](const std::string& prefix) {
        int64_t with = 0, hits = 0;
        for (const auto& kv : items)
            if (kv.first.rfind(prefix, 0) == 0) {
                ++with;
                hits += targets.count(kv.first.substr(prefix.size())) > 0;
            }
        return std::make_pair(with, hits);
    };
    std::string strip = stripPrefix;
    if (strip.empty())
        for (const char* known : {"module.", "_orig_mod."}) {
            const auto [with, hits] = matchesWithout(known);
            if (with > 0 && hits * 2 > with) {
                strip = known;
                break;
            }
        }
    std::map<std::string, at::Tensor> given;
    for (const auto& [raw, v] : items) {
        std::string name = raw;
        if (!strip.empty() && name.rfind(strip, 0) == 0) {
            name = name.substr(strip.size());
            ++report.stripped;
        }
        if (!v.isTensor()) {
            report.unexpected.push_back(name);
            continue;
        }
        given.emplace(name, unwrap(v).toTensor());
        if (!targets.count(name)) report.unexpected.push_back(name);
    }
    if (report.stripped > 0) report.strippedPrefix = strip;
    // Another prefix every unexpected key carries, and without which they match: offered, not applied.
    if (!report.unexpected.empty() && report.unexpected.size() == given.size()) {
        const std::string& first = report.unexpected.front();
        const auto dot = first.find('.');
        if (dot != std::string::npos) {
            const std::string prefix = first.substr(0, dot + 1);
            const auto [with, hits] = matchesWithout(prefix);
            if (with == int64_t(items.size()) && hits * 2 > with) report.suggestedPrefix = prefix;
        }
    }
    std::map<std::pair<std::string, std::string>, int> conversions;
    std::vector<std::pair<at::Tensor, at::Tensor>> copies;
    for (const auto& name : order) {
        const auto it = given.find(name);
        if (it == given.end()) {
            const bool counter =
                name.size() >= 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0;
            (counter ? report.harmlessMissing : report.missing).push_back(name);
            continue;
        }
        const at::Tensor& target = targets[name];
        if (target.sizes() != it->second.sizes()) {
            report.mismatched.push_back({name, target.sizes().vec(), it->second.sizes().vec()});
            continue;
        }
        if (target.scalar_type() != it->second.scalar_type()) {
            // load_state_dict copies with copy_, which converts any dtype into the model's: so does this.
            // Between integers and floating point a value may change; those are named.
            if (target.is_floating_point() != it->second.is_floating_point())
                report.kindConverted.push_back(name + " (" + detail::dtypeName(it->second.scalar_type()) +
                                               " in the file, " + detail::dtypeName(target.scalar_type()) +
                                               " in the model)");
            report.dtypeConverted.push_back(name);
            ++conversions[{detail::dtypeName(it->second.scalar_type()),
                           detail::dtypeName(target.scalar_type())}];
        }
        copies.emplace_back(target, it->second);
    }
    report.loaded = int64_t(copies.size());
    int most = 0;
    for (const auto& [fromTo, n] : conversions)
        if (n > most) {
            most = n;
            report.convertedMostly = n;
            report.convertedFrom = fromTo.first;
            report.convertedTo = fromTo.second;
        }
    if (strict && !report.clean()) return report; // load nothing, like a failed strict load should
    torch::NoGradGuard noGrad;
    for (auto& [target, source] : copies)
        target.copy_(source);
    report.applied = true;
    m_impl->stateDictLoads.push_back({stateDict, strict, stripPrefix});
    return report;
}

std::vector<detail::ModelAccess::StateDictLoad> detail::ModelAccess::stateDictLoads(const Model& model) {
    return model.m_impl->stateDictLoads;
}

// Feeding NumPy's default float64 to a float32 model is the commonest dtype slip: name it.
std::string detail::ModelAccess::dtypeHint(const Model& model, const InputBinding& binding) {
    if (model.m_impl->package) return {};
    std::set<at::ScalarType> weights;
    for (const auto& p : model.m_impl->module.parameters(true))
        if (p.is_floating_point()) weights.insert(p.scalar_type());
    if (weights.size() != 1) return {};
    const at::ScalarType w = *weights.begin();
    for (const auto& a : binding.arguments) {
        const auto& v = unwrap(a.value);
        if (v.isTensor() && v.toTensor().is_floating_point() && v.toTensor().scalar_type() != w)
            return " (input '" + a.argument + "' is " + detail::dtypeName(v.toTensor().scalar_type()) +
                   " but the model's weights are " + detail::dtypeName(w) + ": convert the input to " +
                   detail::dtypeName(w) + ")";
    }
    return {};
}

namespace detail {

const torch::jit::Module& ModelAccess::module(const Model& model) {
    return model.m_impl->module;
}

const Pt2Model* ModelAccess::package(const Model& model) {
    return model.m_impl->package ? &*model.m_impl->package : nullptr;
}

c10::IValue ModelAccess::runPackage(const Model& model, const std::vector<c10::IValue>& inputs) {
    Model::Impl& impl = *model.m_impl;
    std::call_once(impl.loaded, [&] {
        try {
            impl.run = loadPackage(impl.info.path, impl.package->name);
        } catch (const std::exception& e) {
            impl.loadError = e.what();
        }
    });
    if (!impl.run) throw Error(impl.loadError);
    return impl.run(inputs);
}

std::vector<c10::IValue> ModelAccess::forwardStack(const Model& model, const InputBinding& binding) {
    if (!binding.ok) throw Error("inputs do not match forward: " + binding.error);
    if (model.m_impl->package) {
        std::vector<c10::IValue> stack;
        for (const auto& a : binding.arguments)
            stack.push_back(unwrap(a.value));
        return stack;
    }
    const auto& schema = model.m_impl->module.get_method("forward").function().getSchema();
    std::vector<c10::IValue> stack;
    std::size_t next = 0;
    for (std::size_t i = 1; i < schema.arguments().size(); ++i) {
        const auto& a = schema.arguments()[i];
        if (next < binding.arguments.size() && binding.arguments[next].argument == a.name())
            stack.push_back(unwrap(binding.arguments[next++].value));
        else if (a.default_value())
            stack.push_back(*a.default_value());
        else
            throw Error("no value for forward's argument '" + a.name() + "'");
    }
    return stack;
}

} // namespace detail

Value Model::forward(const InputBinding& binding) const {
    std::vector<c10::IValue> stack = detail::ModelAccess::forwardStack(*this, binding);
    try {
        c10::InferenceMode guard;
        if (m_impl->package) return wrap(detail::ModelAccess::runPackage(*this, stack));
        return wrap(m_impl->module.get_method("forward")(std::move(stack)));
    } catch (const c10::Error& e) {
        throw Error("forward failed: " + detail::errorEssence(e.what_without_backtrace()) +
                        detail::ModelAccess::dtypeHint(*this, binding),
                    e.what_without_backtrace());
    } catch (const std::exception& e) {
        throw Error("forward failed: " + detail::errorEssence(e.what()) +
                        detail::ModelAccess::dtypeHint(*this, binding),
                    e.what());
    }
}

} // namespace twb
