#include "twb/model.h"

#include "error_text.h"
#include "model_access.h"
#include "pickle.h"
#include "readers.h"
#include "suggest_internal.h"
#include "torch_bridge.h"
#include "zip_reader.h"

#include "twb/error.h"

#include <torch/script.h>
#include <torch/version.h>

#include <map>
#include <set>
#include <sstream>

namespace twb {

using detail::unwrap;
using detail::wrap;

struct Model::Impl {
    torch::jit::Module module;
    ModelInfo info;
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
    } catch (const std::exception&) {
        // Already loaded by LibTorch; the archive listing is a bonus.
    }
}

// A failed torch::jit::load, explained.
Diagnosis explainLoadFailure(const std::string& path, const Diagnosis& before, const std::string& what) {
    Diagnosis d = before;
    d.usable = false;
    d.detail = what;
    auto has = [&](const char* s) { return what.find(s) != std::string::npos; };
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

torch::jit::Module loadModule(ModelInfo& info) {
    try {
        torch::jit::Module m = torch::jit::load(info.path, torch::kCPU);
        return m;
    } catch (const c10::Error& e) {
        info.diagnosis = explainLoadFailure(info.path, info.diagnosis, e.what_without_backtrace());
    } catch (const std::exception& e) {
        info.diagnosis = explainLoadFailure(info.path, info.diagnosis, e.what());
    }
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

// Pick the state_dict inside a torch.save pickle: the root, or a checkpoint entry.
c10::IValue findStateDict(const c10::IValue& root, std::string* key) {
    auto tensorDict = [](const c10::IValue& v) {
        if (!v.isGenericDict() || v.toGenericDict().empty()) return false;
        for (const auto& e : v.toGenericDict())
            if (!e.key().isString() || !e.value().isTensor()) return false;
        return true;
    };
    if (tensorDict(root)) return root;
    if (root.isGenericDict()) {
        // Conventional names first, then any entry that is a state_dict.
        const auto dict = root.toGenericDict();
        for (const char* name :
             {"state_dict", "model_state_dict", "model", "net", "module", "ema", "weights"}) {
            for (const auto& e : dict)
                if (e.key().isString() && e.key().toStringRef() == name && tensorDict(e.value())) {
                    if (key) *key = name;
                    return e.value();
                }
        }
        for (const auto& e : dict)
            if (e.key().isString() && tensorDict(e.value())) {
                if (key) *key = e.key().toStringRef();
                return e.value();
            }
    }
    return {};
}

} // namespace

Value readStateDict(const std::string& path, std::string* foundUnderKey) {
    const Diagnosis d = diagnose(path);
    if (d.kind != FileKind::StateDict && d.kind != FileKind::Tensors)
        throw Error(path + ": not a state_dict (" + d.summary + ")" +
                    (d.error.empty() ? "" : ": " + d.error));
    const Value v = readTensorFile(path, {});
    const c10::IValue sd = findStateDict(unwrap(v), foundUnderKey);
    if (sd.isNone())
        throw Error(path + ": holds no dict of named tensors (" + v.describe().substr(0, 120) + ")");
    return wrap(sd);
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
        case FileKind::StateDict:
            fillTensors(readStateDict(path, &info.stateDictKey), info);
            break;
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

StateDictReport Model::loadStateDict(const std::string& path, bool strict) {
    return loadStateDict(readStateDict(path), strict);
}

StateDictReport Model::loadStateDict(const Value& stateDict, bool strict) {
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
    std::map<std::string, at::Tensor> given;
    for (const auto& [name, v] : stateDict.items()) {
        if (!v.isTensor()) {
            report.unexpected.push_back(name);
            continue;
        }
        given.emplace(name, unwrap(v).toTensor());
        if (!targets.count(name)) report.unexpected.push_back(name);
    }
    std::vector<std::pair<at::Tensor, at::Tensor>> copies;
    for (const auto& name : order) {
        const auto it = given.find(name);
        if (it == given.end()) {
            report.missing.push_back(name);
            continue;
        }
        const at::Tensor& target = targets[name];
        if (target.sizes() != it->second.sizes()) {
            report.mismatched.push_back({name, target.sizes().vec(), it->second.sizes().vec()});
            continue;
        }
        if (target.scalar_type() != it->second.scalar_type()) report.dtypeConverted.push_back(name);
        copies.emplace_back(target, it->second);
    }
    report.loaded = int64_t(copies.size());
    if (strict && !report.clean()) return report; // load nothing, like a failed strict load should
    torch::NoGradGuard noGrad;
    for (auto& [target, source] : copies)
        target.copy_(source);
    report.applied = true;
    return report;
}

// Feeding NumPy's default float64 to a float32 model is the commonest dtype slip: name it.
std::string detail::ModelAccess::dtypeHint(const Model& model, const InputBinding& binding) {
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

std::vector<c10::IValue> ModelAccess::forwardStack(const Model& model, const InputBinding& binding) {
    if (!binding.ok) throw Error("inputs do not match forward: " + binding.error);
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
