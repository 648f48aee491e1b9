#include "commands.h"

#include "format.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/generate.h"
#include "twb/json.h"
#include "twb/model.h"
#include "twb/runtime.h"
#include "twb/tensor_io.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <fstream>
#include <sys/stat.h>

namespace torchwb {
namespace {

bool fileExists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// "x=data.npy" names forward's argument x; a plain path (even one containing '=') does not.
std::pair<std::string, std::string> splitNamed(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || fileExists(text)) return {"", text};
    const std::string name = text.substr(0, eq);
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return {"", text};
    if (std::isdigit(static_cast<unsigned char>(name[0]))) return {"", text};
    return {name, text.substr(eq + 1)};
}

struct RunOptions {
    std::string model;
    std::vector<std::string> inputs, generators;
    std::string stateDict, output;
    bool nonStrict = false, json = false;
    int threads = 0;
    std::string imageSize, normalize = "none";
    int channels = 3;
};

int runInspect(const std::string& path, bool json, bool code, std::ostream& out) {
    const twb::ModelInfo info = twb::inspectModelFile(path);
    if (json) out << twb::toJson(info) << "\n";
    else out << inspectionText(info, code);
    return info.diagnosis.usable ? 0 : 1;
}

int runModel(const RunOptions& o, const std::vector<std::pair<bool, std::string>>& sources, std::ostream& out,
             std::ostream& err) {
    twb::setThreads(o.threads);
    twb::Model model = twb::Model::load(o.model);
    const auto& info = model.info();
    if (!o.json) out << "model   " << o.model << " (" << info.className << ")\n";

    if (!o.stateDict.empty()) {
        const twb::StateDictReport report = model.loadStateDict(o.stateDict, !o.nonStrict);
        if (!o.json) out << "weights " << o.stateDict << ": " << report.describe() << "\n";
        if (!report.applied) {
            err << "torchwb: " << o.stateDict << ": " << report.describe() << "\n";
            return 1;
        }
    }

    twb::ReadOptions read;
    read.image = twb::ImageOptions::preset(o.normalize);
    read.image.channels = o.channels;
    if (!o.imageSize.empty()) {
        int w = 0, h = 0;
        char x = 0;
        std::istringstream in(o.imageSize);
        if (!(in >> w >> x >> h) || (x != 'x' && x != 'X') || w <= 0 || h <= 0)
            throw twb::Error("--image-size wants WIDTHxHEIGHT, e.g. 224x224, not '" + o.imageSize + "'");
        read.image.resizeWidth = w;
        read.image.resizeHeight = h;
    }

    std::vector<twb::ProvidedInput> provided;
    for (const auto& [generated, text] : sources) {
        const auto [name, what] = splitNamed(text);
        twb::ProvidedInput p;
        p.argument = name;
        p.source = what;
        p.value = generated ? twb::generate(twb::GeneratorSpec::parse(what)) : twb::readTensorFile(what, read);
        provided.push_back(std::move(p));
    }
    const twb::InputBinding binding = model.bindInputs(provided);
    if (!binding.ok) {
        err << "torchwb: " << o.model << ": " << binding.error << "\n";
        return 1;
    }
    if (!o.json)
        for (const auto& a : binding.arguments)
            out << "input   " << a.argument << " <- " << a.source << "  " << a.value.describe() << "\n";

    const twb::Value result = model.forward(binding);
    const auto leaves = result.leaves("out");
    if (o.json) {
        out << twb::toJson(leaves) << "\n";
    } else {
        out << "output  " << result.describe() << "\n";
        for (const auto& leaf : leaves) out << leafText(leaf) << "\n";
        if (leaves.empty()) out << "out = " << result.describe() << "\n";
    }
    if (!o.output.empty()) {
        twb::writeTensorFile(o.output, result);
        if (!o.json) out << "wrote   " << o.output << "\n";
    }
    return 0;
}

} // namespace

int run(int argc, char** argv, std::ostream& out, std::ostream& err) {
    CLI::App app{"torchwb: open, inspect and run saved PyTorch models without Python"};
    app.require_subcommand(0, 1);
    bool version = false, versionJson = false;
    app.add_flag("-V,--version", version, "Print versions, and whether CUDA is compiled in and available");

    auto* versionCmd = app.add_subcommand("version", "Print versions and CUDA availability");
    versionCmd->add_flag("--json", versionJson, "As a JSON object");

    std::string inspectPath;
    bool inspectJson = false, inspectCode = false;
    auto* inspect = app.add_subcommand("inspect", "Say what a model file is, and what is inside it");
    inspect->add_option("MODEL", inspectPath, "TorchScript archive, state_dict, tensor file, or any file to diagnose")
        ->required();
    inspect->add_flag("--json", inspectJson, "Print one JSON object");
    inspect->add_flag("--code", inspectCode, "Also print the TorchScript code of the model's class");

    RunOptions ro;
    auto* runCmd = app.add_subcommand("run", "Run a TorchScript model's forward on inputs from files or generators");
    runCmd->add_option("MODEL", ro.model, "TorchScript archive (torch.jit.save)")->required();
    auto* inputOpt = runCmd->add_option("-i,--input", ro.inputs,
                                        "[NAME=]FILE: .npy .npz .safetensors .pt .csv or an image; by position, or "
                                        "by forward's argument NAME");
    auto* genOpt = runCmd->add_option("-g,--generate", ro.generators,
                                      "[NAME=]SPEC: e.g. normal:1x3x32x32, uniform:8x4:float64:seed=3, "
                                      "randint:2x5:int64:low=0:high=100, zeros:4:bool");
    runCmd->add_option("--state-dict", ro.stateDict, "Load weights from a state_dict (.pth, .safetensors) first");
    runCmd->add_flag("--non-strict", ro.nonStrict, "Load the state_dict's matching keys and ignore the rest");
    runCmd->add_option("-o,--output", ro.output, "Write the outputs: .npy (one tensor) or .pt (any structure)");
    runCmd->add_flag("--json", ro.json, "Print the output summaries as JSON");
    runCmd->add_option("--threads", ro.threads, "Intra-op threads (default: one per hardware thread)")
        ->check(CLI::NonNegativeNumber);
    runCmd->add_option("--image-size", ro.imageSize, "Resize image inputs to WIDTHxHEIGHT");
    runCmd->add_option("--normalize", ro.normalize, "Image normalization: none, imagenet or half")
        ->check(CLI::IsMember({"none", "imagenet", "half"}));
    runCmd->add_option("--channels", ro.channels, "Image channels: 1, 3 or 4")->check(CLI::IsMember({1, 3, 4}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        out << app.help(); // NOLINT
        (void)e;
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        out << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::ParseError& e) {
        err << "torchwb: " << e.what() << "\nRun 'torchwb --help' for usage.\n";
        return 2;
    }

    try {
        if (version || versionCmd->parsed()) {
            const auto b = twb::buildInfo();
            const auto t = twb::threadSettings();
            if (versionJson) out << twb::toJson(b) << "\n";
            else out << versionText(b, t);
            return 0;
        }
        if (inspect->parsed()) return runInspect(inspectPath, inspectJson, inspectCode, out);
        if (runCmd->parsed()) {
            // Inputs and generators bind by position in the order they were given.
            std::vector<std::pair<bool, std::string>> sources;
            std::size_t nextInput = 0, nextGen = 0;
            for (const CLI::Option* opt : runCmd->parse_order()) {
                if (opt == inputOpt && nextInput < ro.inputs.size()) sources.emplace_back(false, ro.inputs[nextInput++]);
                if (opt == genOpt && nextGen < ro.generators.size()) sources.emplace_back(true, ro.generators[nextGen++]);
            }
            return runModel(ro, sources, out, err);
        }
        out << app.help();
        return 2;
    } catch (const twb::Error& e) {
        err << "torchwb: " << e.what() << "\n";
        if (!e.detail().empty()) err << "detail: " << e.detail() << "\n";
        return 1;
    } catch (const std::exception& e) {
        err << "torchwb: " << e.what() << "\n";
        return 1;
    }
}

} // namespace torchwb
