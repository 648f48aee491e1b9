#include "twb/diagnosis.h"
#include "twb/operator_library.h"

#include "foreign.h"
#include "operators.h"
#include "pickle.h"
#include "pt2.h"
#include "readers.h"
#include "torch_save.h"
#include "zip_reader.h"

#include "twb/build_info.h"
#include "twb/error.h"

#include <caffe2/serialize/versions.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

namespace twb {

std::string kindName(FileKind kind) {
    switch (kind) {
    case FileKind::TorchScript:
        return "torchscript";
    case FileKind::StateDict:
        return "state_dict";
    case FileKind::Tensors:
        return "tensors";
    case FileKind::PickledModule:
        return "pickled_module";
    case FileKind::Pt2:
        return "pt2";
    case FileKind::Onnx:
        return "onnx";
    case FileKind::LegacyPickle:
        return "legacy_pickle";
    case FileKind::TooNew:
        return "too_new";
    case FileKind::NeedsOperatorLibrary:
        return "needs_operator_library";
    case FileKind::OptimizedForInference:
        return "optimized_for_inference";
    case FileKind::Mobile:
        return "mobile";
    case FileKind::NeedsQuantizedEngine:
        return "needs_quantized_engine";
    case FileKind::Corrupt:
        return "corrupt";
    case FileKind::Empty:
        return "empty";
    case FileKind::Text:
        return "text";
    case FileKind::NotFound:
        return "not_found";
    case FileKind::Unknown:
        return "unknown";
    }
    return "unknown";
}

namespace {

namespace pickle = detail::pickle;
using detail::baseName;
using detail::stem;

using detail::unusable;

Diagnosis usable(FileKind kind, std::string format, std::string summary) {
    Diagnosis d;
    d.kind = kind;
    d.usable = true;
    d.format = std::move(format);
    d.summary = std::move(summary);
    return d;
}

bool startsWith(const std::string& s, const char* prefix, std::size_t n) {
    return s.size() >= n && std::memcmp(s.data(), prefix, n) == 0;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string pickledModuleFix(const std::string& path, const std::string& cls) {
    const std::string s = stem(path);
    return "Load it in Python, where the class " +
           (cls.empty() ? std::string("definition") : "'" + cls + "'") +
           " can be imported, and save it as TorchScript. PyTorch 2.6 and newer load only weights by "
           "default, so "
           "a whole module needs weights_only=False, which runs code from the file: do it only for a file "
           "you "
           "trust.\n"
           "    model = torch.load(\"" +
           baseName(path) +
           "\", weights_only=False)\n"
           "    model.eval()\n"
           "    scripted = torch.jit.script(model)   # or: torch.jit.trace(model, example_inputs)\n"
           "    scripted.save(\"" +
           s +
           "_scripted.pt\")\n"
           "Better still, save only the weights (torch.save(model.state_dict(), \"" +
           s +
           "_weights.pth\")): the "
           "workbench can load them into a TorchScript export of the same architecture.";
}

std::string scriptFix(const std::string& path) {
    return "Export TorchScript from the original PyTorch model:\n"
           "    model.eval()\n"
           "    torch.jit.trace(model, example_inputs).save(\"" +
           stem(path) + ".pt\")   # or torch.jit.script(model)";
}

// A .pt2: an AOTInductor package runs where this LibTorch has the loader and the target; a plain
// ExportedProgram is explained with the Python that compiles it.
Diagnosis pt2Diagnosis(const std::string& path) {
    using detail::aotiAvailable;
    using detail::Pt2Model;
    using detail::Pt2Package;
    using detail::readPt2;
    Pt2Package package;
    try {
        package = readPt2(path);
    } catch (const std::exception& e) {
        return unusable(FileKind::Pt2, "zip (.pt2)", "A torch.export package (.pt2) that cannot be read",
                        e.what(), "Export and save it again.");
    }
    const std::string compile =
        "Compile it into a package the workbench runs, in Python:\n"
        "    ep = torch.export.load(\"" +
        path.substr(path.rfind('/') + 1) +
        "\")\n"
        "    torch._inductor.aoti_compile_and_package(ep, package_path=\"" +
        stem(path) + "_aoti.pt2\")" +
        std::string(aotiAvailable() ? ""
                                    : "\nand run it with a LibTorch ≥ 2.6 build of the "
                                      "workbench (this one uses " TORCH_VERSION ")");
    if (package.models.empty()) {
        if (package.exportedProgram)
            return unusable(FileKind::Pt2, "zip (.pt2)", "A torch.export ExportedProgram (torch.export.save)",
                            "it holds the exported graph and weights but no compiled code, which only Python "
                            "runs (torch.export.load)",
                            compile);
        return unusable(FileKind::Pt2, "zip (.pt2)", "A torch.export / AOTInductor package (.pt2)",
                        "it holds no AOTInductor model and no ExportedProgram", compile);
    }
    const Pt2Model& m = package.models.front();
    const std::string what = "An AOTInductor package (.pt2), compiled by torch.export for " + m.device +
                             (m.isa.empty() ? "" : " (" + m.isa + ")");
    if (!aotiAvailable())
        return unusable(
            FileKind::Pt2, "zip (.pt2)", what,
            "AOTInductor packages need LibTorch 2.6 or newer (AOTIModelPackageLoader); this build "
            "uses LibTorch " TORCH_VERSION,
            "Run it with a LibTorch ≥ 2.6 build of the workbench (the official wheel's), or export "
            "TorchScript for this one:\n" +
                scriptFix(path).substr(scriptFix(path).find('\n') + 1));
    if (m.device.rfind("cuda", 0) == 0 && !buildInfo().cudaAvailable)
        return unusable(FileKind::Pt2, "zip (.pt2)", what,
                        "it was compiled for CUDA, and CUDA is not available here",
                        "Run it on a machine with CUDA, or compile it for the CPU in Python:\n"
                        "    ep = torch.export.export(model.cpu().eval(), example_inputs)\n"
                        "    torch._inductor.aoti_compile_and_package(ep, package_path=\"" +
                            stem(path) + "_cpu.pt2\")");
    if (const std::string problem = detail::pt2CpuProblem(m); !problem.empty())
        return unusable(FileKind::Pt2, "zip (.pt2)", what, problem, detail::pt2PortableFix(path));
    return usable(FileKind::Pt2, "zip (.pt2)", what);
}

const char kLegacyMagic[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

bool looksLikeOnnx(const std::string& head, const std::string& ext) {
    // ModelProto: field 1 ir_version (varint, tag 0x08), then producer_name (0x12), graph (0x3a), …
    if (head.size() < 4 || uint8_t(head[0]) != 0x08 || uint8_t(head[1]) == 0 || uint8_t(head[1]) > 30)
        return false;
    const uint8_t next = uint8_t(head[2]);
    const bool protoField = next == 0x12 || next == 0x1a || next == 0x22 || next == 0x2a || next == 0x3a ||
                            next == 0x40 || next == 0x42 || next == 0x52;
    return protoField &&
           (ext == "onnx" || head.find("onnx") != std::string::npos ||
            head.find("pytorch") != std::string::npos || head.find("tf2onnx") != std::string::npos);
}

bool isTextual(const std::string& head) {
    if (head.empty()) return false;
    std::size_t printable = 0;
    for (unsigned char c : head) {
        if (c == 0) return false;
        if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t' || c >= 0x80) ++printable;
    }
    return printable == head.size();
}

// What a torch.save pickle holds, looked at with unknown classes kept inert.
Diagnosis classifyTorchSave(const std::string& path, const std::string& pickleBytes) {
    pickle::Options opts;
    opts.allowOpaque = true;
    pickle::Result r;
    const std::string quantizedFix =
        "Quantized weights only make sense inside their quantized model. In Python, load them into the "
        "quantized "
        "model and export it as TorchScript, which carries its quantized weights:\n"
        "    model.load_state_dict(torch.load(\"" +
        baseName(path) +
        "\"))\n"
        "    torch.jit.script(model).save(\"" +
        stem(path) + "_scripted.pt\")";
    try {
        r = pickle::load(pickleBytes, opts);
    } catch (const pickle::Refused& e) {
        return unusable(
            FileKind::Corrupt, "zip (torch.save)",
            "A torch.save archive whose data.pkl no torch.save of tensors writes",
            std::string("its pickle is refused: ") + e.what(),
            "No torch.save of a model's tensors has this shape: the file was made by hand or "
            "altered, so treat it as untrusted. Ask its author for the model as a TorchScript archive "
            "(torch.jit.script(model).save(...)) or its weights as a state_dict or a .safetensors "
            "file.");
    } catch (const pickle::Error& e) {
        if (std::string(e.what()).find("_rebuild_qtensor") != std::string::npos)
            return unusable(FileKind::Unknown, "zip (torch.save)",
                            "A torch.save archive of quantized tensors",
                            "quantized tensors cannot be read outside the quantized model they belong to",
                            quantizedFix, e.what());
        return unusable(
            FileKind::Corrupt, "zip (torch.save)", "A torch.save archive whose data.pkl is damaged",
            std::string("its pickle cannot be read: ") + e.what(),
            "Save or download the file again; if it was copied, compare its size with the original.");
    }
    using T = pickle::Object::Type;
    const auto& root = r.root;
    bool nnModule = false;
    for (const auto& g : r.globals)
        if (g.module.rfind("torch.nn.modules", 0) == 0) nnModule = true;
    if (root->type == T::Opaque) {
        const std::string cls = root->global.qualified();
        if (nnModule || cls.find("Module") != std::string::npos || cls.rfind("__main__.", 0) == 0)
            return unusable(FileKind::PickledModule, "zip (torch.save)",
                            "A whole pickled nn.Module ('" + cls + "') saved with torch.save(model)",
                            "it needs its Python class '" + cls +
                                "' to be rebuilt, and C++ has no Python classes",
                            pickledModuleFix(path, cls));
        return unusable(FileKind::Unknown, "zip (torch.save)",
                        "A torch.save archive holding a '" + cls + "' object",
                        "a '" + cls + "' is neither a model nor tensors",
                        "Save the tensors it holds (a dict of tensors) or a TorchScript model instead.");
    }
    auto isTensor = [](const pickle::Ref& o) { return o->type == T::Tensor && o->tensor; };
    auto tensorDict = [&](const pickle::Ref& o) {
        if (o->type != T::Dict || o->entries.empty()) return false;
        for (const auto& [k, v] : o->entries)
            if (k->type != T::String || !isTensor(v)) return false;
        return true;
    };
    // Walks each object once: pickles may share (or, hostile ones, cycle through) objects.
    auto walk = [](const pickle::Ref& root, const std::function<void(const pickle::Object&)>& visit) {
        std::set<const pickle::Object*> seen;
        std::vector<const pickle::Object*> todo{root.get()};
        while (!todo.empty()) {
            const pickle::Object* o = todo.back();
            todo.pop_back();
            if (!seen.insert(o).second) continue;
            visit(*o);
            for (const auto& i : o->items)
                todo.push_back(i.get());
            for (const auto& e : o->entries)
                todo.push_back(e.second.get());
        }
    };
    std::size_t tensors = 0;
    walk(root, [&](const pickle::Object& o) { tensors += o.type == T::Tensor && o.tensor; });
    if (isTensor(root))
        return usable(FileKind::Tensors, "zip (torch.save)", "A tensor saved with torch.save");
    if (tensorDict(root))
        return usable(FileKind::StateDict, "zip (torch.save)",
                      "A state_dict of " + std::to_string(root->entries.size()) +
                          " tensors saved with torch.save");
    if (root->type == T::Dict) {
        for (const auto& [k, v] : root->entries)
            if (k->type == T::String && tensorDict(v)) {
                Diagnosis d = usable(FileKind::StateDict, "zip (torch.save)",
                                     "A checkpoint whose '" + k->s + "' entry is a state_dict of " +
                                         std::to_string(v->entries.size()) + " tensors");
                return d;
            }
    }
    if (tensors > 0 && (root->type == T::Dict || root->type == T::List || root->type == T::Tuple)) {
        bool opaque = false;
        walk(root,
             [&](const pickle::Object& o) { opaque = opaque || o.type == T::Opaque || o.type == T::Global; });
        if (!opaque)
            return usable(FileKind::Tensors, "zip (torch.save)",
                          "A " +
                              std::string(root->type == T::Dict   ? "dict"
                                          : root->type == T::List ? "list"
                                                                  : "tuple") +
                              " of " + std::to_string(tensors) + " tensors saved with torch.save");
    }
    for (const auto& g : r.globals)
        if (!g.module.empty() && g.module.rfind("torch", 0) != 0 && g.module != "collections" &&
            g.module != "builtins" && g.module != "__builtin__")
            return unusable(
                FileKind::Unknown, "zip (torch.save)",
                "A torch.save archive holding Python objects such as '" + g.qualified() + "'",
                "objects of class '" + g.qualified() + "' cannot be read without Python",
                "Save plain tensors (a dict of tensors, or model.state_dict()) or a TorchScript model.");
    return unusable(FileKind::Unknown, "zip (torch.save)", "A torch.save archive with no tensors in it",
                    "it holds neither a model nor tensors", "Check that the right object was saved.");
}

// Who provides a namespace's operators, in words.
std::string providerOf(const std::string& ns) {
    if (ns == "torchvision" || ns == "torchaudio" || ns == "torchtext") return ns + "'s C++ library";
    return "the library that registers them (a TORCH_LIBRARY(" + ns + ", …) block)";
}

// What to do about one namespace: load a library found here, or where to get one.
std::string libraryFix(const std::string& ns, const std::vector<std::string>& missing,
                       std::vector<std::string>& loadable) {
    std::vector<std::string> operators; // this namespace's, unqualified
    for (const auto& op : missing)
        if (op.rfind(ns + "::", 0) == 0) operators.push_back(op.substr(ns.size() + 2));
    const std::vector<OperatorLibraryCheck> found = operatorLibraryCandidates(ns, operators);
    std::string fix;
    for (const auto& c : found) {
        if (c.ok) {
            if (fix.empty())
                fix = "Load " + ns + "'s operators before the model: torchwb … --load-library " + c.path +
                      " (in the window: Load Operator Library).";
            loadable.push_back(c.path);
        }
    }
    if (fix.empty()) {
        fix = "Give " + providerOf(ns) +
              ", built for this LibTorch (" TORCH_VERSION "), with --load-library FILE "
              "(in the window: Load Operator Library), or list its folder in TWB_OPERATOR_LIBRARIES.";
        if (ns == "torchvision")
            fix += " torchvision's is libtorchvision.so from its CMake build; Debian's python3-torchvision "
                   "installs one built for Debian's LibTorch (1.13).";
    }
    for (const auto& c : found)
        if (!c.ok) fix += "\nNot usable here: " + c.path + ": " + c.reason + ".";
    return fix;
}

// "uses aten::a and aten::b, which this LibTorch (1.13.0) does not have (added in PyTorch 2.0)"; or,
// for operators of libraries (torchvision::nms), which library provides them and where one is.
Diagnosis missingOperators(const std::vector<std::string>& missing, int64_t formatVersion) {
    std::string names, newest;
    std::vector<std::string> namespaces;
    bool builtin = false;
    for (std::size_t i = 0; i < missing.size(); ++i) {
        const std::string& op = missing[i];
        names += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + op;
        const std::string added = detail::operatorAddedIn(op);
        if (!added.empty()) {
            names += " (added in PyTorch " + added + ")";
            if (newest.empty() || std::stod(added) > std::stod(newest)) newest = added;
        }
        const std::string ns = op.substr(0, op.find("::"));
        if (detail::isBuiltinOperatorNamespace(ns))
            builtin = true;
        else if (std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end())
            namespaces.push_back(ns);
    }
    const bool one = missing.size() == 1;
    std::string error = "uses " + names + ", which this LibTorch (" TORCH_VERSION ") does not have";
    std::vector<std::string> loadable;
    if (!builtin) {
        // Only operators of libraries: no version to blame, a library to load.
        std::string from, fix;
        for (const auto& ns : namespaces) {
            from += (from.empty() ? "" : "; ") + ns + ":: comes from " + providerOf(ns);
            fix += (fix.empty() ? "" : "\n") + libraryFix(ns, missing, loadable);
        }
        Diagnosis d = unusable(FileKind::NeedsOperatorLibrary, "zip (TorchScript)",
                               std::string("A TorchScript archive whose code calls ") +
                                   (one ? "an operator" : "operators") + " of a library that is not loaded",
                               error + ": " + from, fix);
        d.missingOperators = missing;
        d.operatorNamespaces = namespaces;
        d.operatorLibraries = loadable;
        return d;
    }
    if (formatVersion >= 0)
        error += "; the archive records file format version " + std::to_string(formatVersion) +
                 " and no PyTorch release";
    std::string fix;
    if (!newest.empty())
        fix = "Build the workbench on LibTorch ≥ " + newest +
              " (the default 'release' preset uses the PyTorch wheel in the project's venv), or export the "
              "model again with a PyTorch matching this LibTorch (" TORCH_VERSION ").";
    else
        fix = "Build the workbench on the LibTorch of the PyTorch that saved the model (the default "
              "'release' preset uses the PyTorch wheel in the project's venv), or export the model again "
              "with a PyTorch matching this LibTorch (" TORCH_VERSION ").";
    for (const auto& ns : namespaces)
        fix += "\n" + ns + ":: comes from " + providerOf(ns) + ". " + libraryFix(ns, missing, loadable);
    Diagnosis d = unusable(FileKind::TooNew, "zip (TorchScript)",
                           std::string("A TorchScript archive whose code calls ") +
                               (one ? "an operator" : "operators") + " this LibTorch does not have",
                           error, fix);
    d.missingOperators = missing;
    d.operatorNamespaces = namespaces;
    d.operatorLibraries = loadable;
    return d;
}

Diagnosis diagnoseZip(const std::string& path) {
    std::unique_ptr<detail::ZipReader> zip;
    try {
        zip = std::make_unique<detail::ZipReader>(path);
    } catch (const detail::ZipError& e) {
        return unusable(
            FileKind::Corrupt, "zip", "A damaged or truncated zip archive",
            std::string("the archive cannot be read: ") + e.what(),
            "The file was probably cut short while saving, copying or downloading. Save or download it "
            "again and compare its size with the original.",
            e.what());
    }
    const auto& names = zip->names();
    auto any = [&](auto pred) { return std::any_of(names.begin(), names.end(), pred); };
    if (any([](const std::string& n) {
            return n == "archive_format" || endsWith(n, "/archive_format") ||
                   n.find("serialized_exported_program") != std::string::npos ||
                   n.find("/data/aotinductor/") != std::string::npos ||
                   (n.find('/') != std::string::npos && n.compare(n.find('/') + 1, 7, "models/") == 0 &&
                    endsWith(n, ".json"));
        }))
        return pt2Diagnosis(path);
    const std::string prefix = zip->torchPrefix();
    const bool script = zip->has(prefix + "constants.pkl") ||
                        any([&](const std::string& n) { return n.rfind(prefix + "code/", 0) == 0; });
    int64_t version = -1;
    for (const std::string& rec : {prefix + "version", prefix + ".data/version"})
        if (version < 0 && zip->has(rec)) {
            try {
                version = std::stoll(zip->read(rec, 64));
            } catch (...) {
            }
        }
    if (script) {
        // LibTorch does not check record checksums; a flipped bit would load silently.
        try {
            zip->verify();
        } catch (const detail::ZipError& e) {
            return unusable(
                FileKind::Corrupt, "zip (TorchScript)", "A damaged TorchScript archive",
                std::string("its data does not match its checksums: ") + e.what(),
                "The file was changed or damaged after saving. Save or download it again and compare "
                "its size and checksum with the original.",
                e.what());
        }
        const int64_t maxVersion = int64_t(caffe2::serialize::kMaxSupportedFileFormatVersion);
        if (version > maxVersion) {
            Diagnosis d =
                unusable(FileKind::TooNew, "zip (TorchScript)",
                         "A TorchScript archive written by a newer PyTorch than this LibTorch reads",
                         "its archive format version is " + std::to_string(version) +
                             "; LibTorch " TORCH_VERSION " reads versions " +
                             std::to_string(caffe2::serialize::kMinSupportedFileFormatVersion) + " to " +
                             std::to_string(maxVersion),
                         "Export it with a PyTorch whose version matches this LibTorch (" TORCH_VERSION
                         "), or use a workbench built against a newer LibTorch.");
            d.formatVersion = version;
            return d;
        }
        const detail::OperatorScan ops = detail::scanArchiveOperators(*zip, prefix);
        auto calls = [&](const char* op) {
            return std::binary_search(ops.called.begin(), ops.called.end(), op);
        };
        if (calls("prim::ConstantMKLDNNTensor")) {
            // torch.jit.save writes optimize_for_inference's MKLDNN weight constants without their values.
            Diagnosis d = unusable(
                FileKind::OptimizedForInference, "zip (TorchScript)",
                "A TorchScript archive saved after torch.jit.optimize_for_inference",
                "its weights were MKLDNN constants (prim::ConstantMKLDNNTensor), which torch.jit.save writes "
                "without their values: the file holds the graph but not the weights",
                "Save the model before optimize_for_inference, frozen or not:\n"
                "    torch.jit.save(torch.jit.freeze(torch.jit.script(model.eval())), \"model.pt\")\n"
                "and let the workbench optimize it: --jit optimize (in the window: JIT mode optimize).");
            d.formatVersion = version;
            return d;
        }
        bool mobile = false;
        for (const auto& op : ops.missing)
            mobile = mobile || op.rfind("prepacked::", 0) == 0;
        if (mobile) {
            Diagnosis d = unusable(
                FileKind::Mobile, "zip (TorchScript)",
                std::string("A TorchScript file optimized for mobile (optimize_for_mobile: XNNPACK prepacked "
                            "operators)") +
                    (zip->has(prefix + "bytecode.pkl") ? ", saved for the lite interpreter" : ""),
                "it calls XNNPACK's prepacked:: operators, which this LibTorch (" TORCH_VERSION
                ") is built without",
                "Save the model before optimize_for_mobile to measure it here:\n"
                "    torch.jit.save(torch.jit.script(model.eval()), \"model.pt\")\n"
                "or run the file on a LibTorch built with XNNPACK (USE_XNNPACK=1: Debian's libtorch, the "
                "'distro' "
                "preset, has it), or with PyTorch Mobile's lite interpreter on the device.");
            d.missingOperators = ops.missing;
            d.formatVersion = version;
            return d;
        }
        if (!ops.missing.empty()) {
            Diagnosis d = missingOperators(ops.missing, version);
            d.formatVersion = version;
            return d;
        }
        Diagnosis d =
            usable(FileKind::TorchScript, "zip (TorchScript)", "A TorchScript archive (torch.jit.save)");
        d.formatVersion = version;
        return d;
    }
    if (zip->has(prefix + "data.pkl")) {
        try {
            Diagnosis d = classifyTorchSave(path, detail::scanTorchSave(*zip).pickleBytes);
            d.formatVersion = version;
            return d;
        } catch (const std::exception& e) {
            return unusable(FileKind::Corrupt, "zip (torch.save)", "A damaged torch.save archive",
                            std::string("its data.pkl cannot be read: ") + e.what(),
                            "Save or download the file again.", e.what());
        }
    }
    if (any([](const std::string& n) { return endsWith(n, ".npy"); }))
        return usable(FileKind::Tensors, "npz", "A NumPy .npz archive of arrays");
    std::string some;
    for (std::size_t i = 0; i < names.size() && i < 4; ++i)
        some += (i ? ", " : "") + names[i];
    return unusable(FileKind::Unknown, "zip", "A zip archive not written by PyTorch (it holds " + some + ")",
                    "it is neither a TorchScript archive nor a torch.save file",
                    "Open the model file itself rather than an archive that contains it.");
}

} // namespace

namespace {
Diagnosis diagnoseUnguarded(const std::string& path);
}

bool holdsInputTensors(const std::string& path) {
    try {
        detail::fileSize(path); // refuses folders, pipes and devices before anything opens them
        if (detail::readHead(path, 4) == "PK\x03\x04") {
            const detail::ZipReader zip(path);
            const std::string prefix = zip.torchPrefix();
            for (const auto& n : zip.names())
                if (n == prefix + "constants.pkl" || n.rfind(prefix + "code/", 0) == 0) return false;
        }
    } catch (const std::exception&) {
        return false;
    }
    return diagnose(path).kind == FileKind::Tensors;
}

Diagnosis diagnose(const std::string& path) {
    try {
        return diagnoseUnguarded(path);
    } catch (const std::exception& e) {
        // Whatever a hostile file provokes (allocation failure, a library error) is a diagnosis, not a crash.
        return unusable(FileKind::Corrupt, "", "A file that could not be examined", e.what(),
                        "Save or download the file again.", e.what());
    }
}

namespace {
Diagnosis diagnoseUnguarded(const std::string& path) {
    uint64_t size = 0;
    try {
        size = detail::fileSize(path);
    } catch (const Error& e) {
        const std::string why = e.what();
        if (why.find("not a file") != std::string::npos)
            return unusable(FileKind::NotFound, "", "Not a regular file", why,
                            "Open a model or tensor file saved on disk.");
        return unusable(FileKind::NotFound, "", "No file at this path", why,
                        "Check the path and the file name.");
    }
    if (size == 0)
        return unusable(FileKind::Empty, "", "An empty file (0 bytes)",
                        "the file holds no data: saving or downloading it did not finish",
                        "Save or download the file again.");
    std::string head;
    try {
        head = detail::readHead(path, 4096);
    } catch (const Error& e) {
        return unusable(FileKind::NotFound, "", "A file that cannot be read", e.what(),
                        "Check the file's permissions.");
    }
    const std::string ext = detail::lowerExtension(path);

    if (startsWith(head, "PK\x03\x04", 4) || startsWith(head, "PK\x05\x06", 4)) return diagnoseZip(path);
    if (startsWith(head, kLegacyMagic, sizeof(kLegacyMagic) - 1))
        return unusable(
            FileKind::LegacyPickle, "legacy torch.save",
            "A file in torch.save's legacy format (PyTorch < 1.6, or _use_new_zipfile_serialization=False)",
            "LibTorch reads only the zip format torch.save has written since PyTorch 1.6",
            "Re-save it in Python (PyTorch 1.6 or newer):\n"
            "    obj = torch.load(\"" +
                baseName(path) +
                "\")\n"
                "    torch.save(obj, \"" +
                stem(path) +
                "_zip.pt\")\n"
                "If it holds a whole model rather than tensors, export TorchScript instead "
                "(torch.jit.script(obj).save(...)).");
    if (startsWith(head, "\x93NUMPY", 6)) return usable(FileKind::Tensors, "npy", "A NumPy .npy array");
    if (head.size() >= 10 && head[8] == '{' && (head[9] == '"' || head[9] == ' ' || head[9] == '\n')) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | uint8_t(head[std::size_t(i)]);
        if (n <= size - 8)
            return usable(FileKind::StateDict, "safetensors", "A .safetensors file of named tensors");
        return unusable(FileKind::Corrupt, "safetensors", "A truncated .safetensors file",
                        "its header claims " + std::to_string(n) + " bytes but the file has only " +
                            std::to_string(size - 8) + " after the length field",
                        "Download or save the file again.");
    }
    if (uint8_t(head[0]) == 0x80 && head.size() > 1 && uint8_t(head[1]) <= 5)
        return unusable(FileKind::Unknown, "pickle", "A plain Python pickle (not written by torch.save)",
                        "a raw pickle can hold any Python object and is not a PyTorch model format",
                        "Save tensors with torch.save or numpy.save, and models with torch.jit.save.");
    if (auto foreign = detail::diagnoseForeign(path, head, ext)) return *foreign;
    if (looksLikeOnnx(head, ext))
        return unusable(FileKind::Onnx, "onnx protobuf", "An ONNX model",
                        "ONNX models run in ONNX Runtime, not in LibTorch",
                        "Run it with ONNX Runtime, or go back to the PyTorch model and " +
                            std::string("export TorchScript:\n") +
                            scriptFix(path).substr(scriptFix(path).find('\n') + 1));
    if (isTextual(head)) {
        if (head.rfind("version https://git-lfs", 0) == 0)
            return unusable(FileKind::Text, "text", "A Git LFS pointer, not the model itself",
                            "the repository was cloned without its large files",
                            "Run 'git lfs pull' in the repository (or download the file directly).");
        std::string lower = head.substr(0, 512);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return char(std::tolower(c)); });
        if (lower.find("<!doctype html") != std::string::npos || lower.find("<html") != std::string::npos)
            return unusable(FileKind::Text, "html", "A web page, not a model",
                            "the download saved an HTML page (a login or redirect page) instead of the file",
                            "Download the file itself (a direct link), then open it again.");
        if (ext == "csv" || ext == "tsv") return usable(FileKind::Tensors, "csv", "A CSV table of numbers");
        return unusable(
            FileKind::Text, "text", "A text file, not a model", "a model file is binary; this one holds text",
            "Open the model file (.pt TorchScript archive) rather than a script or a note about it.");
    }
    if (startsWith(head, "\x89PNG", 4) || startsWith(head, "\xFF\xD8\xFF", 3) || startsWith(head, "BM", 2))
        return usable(FileKind::Tensors, "image", "An image (usable as an input tensor)");
    return unusable(
        FileKind::Unknown, "binary", "A binary file of unknown format",
        "it is none of the formats PyTorch writes (TorchScript, torch.save, .safetensors, .npy, ONNX, .pt2)",
        "Check that this is the file you meant; models are usually saved with torch.jit.save.");
}
} // namespace

} // namespace twb
