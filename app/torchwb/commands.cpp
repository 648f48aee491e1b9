#include "commands.h"

#include "twb/target.h"

#include "bench_command.h"
#include "diverge_command.h"
#include "format.h"
#include "load_command.h"
#include "options.h"
#include "profile_command.h"
#include "sweep_command.h"

#include "twb/bench.h"
#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/error.h"
#include "twb/json.h"
#include "twb/model.h"
#include "twb/operator_library.h"
#include "twb/plan.h"
#include "twb/report.h"
#include "twb/runtime.h"
#include "twb/tensor_io.h"
#include "twb/worker.h"

#include <CLI/CLI.hpp>

namespace twb::cli {
namespace {

int runInspect(const std::string& path, bool json, bool code, std::ostream& out) {
    const twb::ModelInfo info = twb::inspectModelFile(path);
    if (json)
        out << twb::toJson(info) << "\n";
    else
        out << inspectionText(info, code);
    return info.diagnosis.usable ? 0 : 1;
}

struct RunOptions {
    std::string model, output, reference, referenceLeaf;
    bool json = false, verbose = false;
    double atol = 1e-5, rtol = 1e-5;
};

int runModel(const CLI::App& cmd, const RunOptions& o, const InputOptions& in, const ConfigOptions& cfg,
             const MeasureOptions& measure, std::ostream& out, std::ostream& err) {
    const twb::RunConfig config = cfg.base();
    // Here, or where the target's worker runs it: a GPU server checks its own CUDA.
    if (measure.targets.empty()) twb::validateConfig(config);
    if (measure.targets.size() > 1)
        throw twb::Error(
            "run takes one --target; torchwb bench runs the same plan on several and compares them");
    twb::Model model = loadModel(o.model, in, out, o.json);
    const twb::InputBinding binding =
        model.bindInputs(twb::readInputs(in.specs(cmd, model, o.json ? err : out), in.readOptions()));
    if (!binding.ok) {
        err << "torchwb: " << o.model << ": " << binding.error << "\n";
        return 1;
    }
    printBinding(binding, out, err, !o.json);

    const twb::RunResult result = twb::runOnceInWorker(model, binding, config, measure.measurement().worker);
    if (!result.record.ok) {
        err << "torchwb: " << result.record.error << "\n"
            << twb::failureText(result.record) << in.suggestionNote();
        if (o.verbose && !result.record.errorDetail.empty())
            err << "detail: " << result.record.errorDetail << "\n";
        return 1;
    }
    const auto& leaves = result.record.outputs;
    if (o.json) {
        out << twb::toJson(leaves) << "\n";
    } else {
        out << "config  " << config.label() << ", " << result.record.threadsUsed << " threads, "
            << twb::formatDuration(result.record.firstCallNs) << "\n";
        out << "output  " << result.output.describe() << "\n";
        for (const auto& leaf : leaves)
            out << leafText(leaf) << "\n";
    }
    if (!o.output.empty()) {
        twb::writeTensorFile(o.output, result.output);
        if (!o.json) out << "wrote   " << o.output << "\n";
    }
    if (!o.reference.empty()) {
        twb::CompareOptions options;
        options.atol = o.atol;
        options.rtol = o.rtol;
        const twb::Value reference = twb::readTensorFile(o.reference);
        twb::ReferenceComparison c;
        try {
            c = twb::compareWithReference(result.output, reference, options, o.referenceLeaf);
        } catch (const twb::Error& e) {
            throw twb::Error("--reference " + o.reference + ": " + e.what() + " (--reference-leaf PATH)");
        }
        (o.json ? err : out) << "reference " << o.reference << c.described << ": "
                             << outputComparisonText(c.outputs);
        return c.outputs.allclose ? 0 : 1;
    }
    return 0;
}

} // namespace

int run(int argc, char** argv, std::ostream& out, std::ostream& err) {
    CLI::App app{"torchwb: open, inspect, run, time and compare saved PyTorch models without Python"};
    app.require_subcommand(0, 1);
    bool version = false, versionJson = false;
    app.add_flag("-V,--version", version, "Print versions, and whether CUDA is compiled in and available");

    auto* versionCmd = app.add_subcommand("version", "Print versions and CUDA availability");
    versionCmd->add_flag("--json", versionJson, "As a JSON object");

    std::string inspectPath;
    bool inspectJson = false, inspectCode = false;
    auto* inspect = app.add_subcommand("inspect", "Say what a model file is, and what is inside it");
    inspect
        ->add_option("MODEL", inspectPath,
                     "TorchScript archive, state_dict, tensor file, or any file to diagnose")
        ->required();
    inspect->add_flag("--json", inspectJson, "Print one JSON object");
    inspect->add_flag("--code", inspectCode, "Also print the TorchScript code of the model's class");

    RunOptions ro;
    InputOptions runInputs;
    ConfigOptions runConfig;
    auto* runCmd =
        app.add_subcommand("run", "Run a TorchScript model's forward on inputs from files or generators");
    runCmd->add_option("MODEL", ro.model, "TorchScript archive (torch.jit.save)")->required();
    runInputs.add(*runCmd);
    runConfig.add(*runCmd, false);
    MeasureOptions runMeasure;
    runMeasure.add(*runCmd, false);
    runCmd->add_option("-o,--output", ro.output,
                       "Write the outputs: .npy (one tensor) or .pt (any structure)");
    runCmd->add_option("--reference", ro.reference,
                       "Compare the outputs with this file (e.g. what Python saved)");
    runCmd->add_option("--reference-leaf", ro.referenceLeaf,
                       "The output's leaf to compare --reference with, as printed: out[0], out[\"logits\"] "
                       "(default: the whole output, or the only leaf of a one-tensor reference's shape)");
    runCmd->add_option("--atol", ro.atol, "Absolute tolerance for --reference (default 1e-5)");
    runCmd->add_option("--rtol", ro.rtol, "Relative tolerance for --reference (default 1e-5)");
    runCmd->add_flag("--json", ro.json, "Print the output summaries as JSON");
    runCmd->add_flag("-v,--verbose", ro.verbose, "Print LibTorch's full message when forward fails");

    BenchArgs bo;
    auto* benchCmd = app.add_subcommand("bench", "Time a model under one or more configurations");
    addBenchOptions(*benchCmd, bo);

    ProfileArgs po;
    auto* profileCmd = app.add_subcommand(
        "profile",
        "Say where the time goes: operators, modules, source lines, FLOPs against the machine's peak");
    addProfileOptions(*profileCmd, po);

    SweepArgs so;
    auto* sweepCmd = app.add_subcommand(
        "sweep",
        "Find the fastest configuration: a raced grid, outputs checked, a Pareto front and a verdict");
    addSweepOptions(*sweepCmd, so);

    LoadArgs lo;
    auto* loadCmd = app.add_subcommand(
        "load", "Latency under load: single, multi, server (Poisson arrivals) or offline, and the peak QPS "
                "whose p99 meets a bound");
    addLoadOptions(*loadCmd, lo);

    DivergeArgs dvo;
    auto* divergeCmd = app.add_subcommand(
        "diverge",
        "Find where two configurations' outputs part: every intermediate tensor compared, node by node");
    addDivergeOptions(*divergeCmd, dvo);

    std::string workerMemory;
    auto* workerCmd = app.add_subcommand(
        "worker",
        "Serve the worker protocol on stdin/stdout (started by torchwb and the window, locally or remotely)");
    workerCmd->add_option("--memory-limit", workerMemory, "Cap this worker's address space, in bytes");
    workerCmd->group(""); // not for people to type

    std::vector<std::string> checkTargets;
    auto* targetsCmd = app.add_subcommand("targets", "Where models can run: check a target's handshake");
    auto* targetsCheck = targetsCmd->add_subcommand(
        "check", "Start a worker on each target, and print its protocol, LibTorch, CUDA and machine");
    targetsCheck
        ->add_option("TARGET", checkTargets,
                     "local, local:/path/to/torchwb, ssh://[user@]host[:port][/path] or cmd:LAUNCHER …")
        ->required();
    targetsCmd->require_subcommand(1);

    CompareArgs co;
    auto* compareCmd = app.add_subcommand("compare", "Compare two output files, or the runs of two reports");
    addCompareOptions(*compareCmd, co);

    // Operator libraries (torchvision's, a project's TORCH_LIBRARY) for every command that opens a model;
    // workers started by this process load the same ones.
    std::vector<std::string> libraries;
    for (CLI::App* sub : {inspect, runCmd, benchCmd, profileCmd, sweepCmd, loadCmd, divergeCmd})
        sub->add_option(
            "--load-library", libraries,
            "A library of TorchScript operators to load before the model, as torch.ops.load_library "
            "does (torchvision's for torchvision::nms); repeatable");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        out << app.help();
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
            if (versionJson)
                out << twb::toJson(b) << "\n";
            else
                out << versionText(b, twb::threadSettings());
            return 0;
        }
        if (workerCmd->parsed()) {
            int64_t limit = 0;
            if (!workerMemory.empty()) {
                try {
                    limit = std::stoll(workerMemory);
                } catch (...) {
                    throw twb::Error("--memory-limit wants a number of bytes, not '" + workerMemory + "'");
                }
            }
            return twb::serveWorker(0, 1, limit);
        }
        for (const auto& library : libraries)
            twb::loadOperatorLibrary(library);
        if (inspect->parsed()) return runInspect(inspectPath, inspectJson, inspectCode, out);
        if (runCmd->parsed()) return runModel(*runCmd, ro, runInputs, runConfig, runMeasure, out, err);
        if (benchCmd->parsed()) return runBench(*benchCmd, bo, out, err);
        if (compareCmd->parsed()) return runCompare(co, out, err);
        if (targetsCheck->parsed()) {
            int failed = 0;
            for (const auto& text : checkTargets) {
                try {
                    out << twb::checkTarget(twb::Target::parse(text)).text;
                } catch (const twb::Error& e) {
                    ++failed;
                    err << "torchwb: " << text << ": " << e.what() << "\n";
                    if (!e.detail().empty()) err << "what it said:\n" << e.detail() << "\n";
                }
                if (&text != &checkTargets.back()) out << "\n";
            }
            return failed ? 1 : 0;
        }
        if (profileCmd->parsed()) return runProfile(*profileCmd, po, out, err);
        if (sweepCmd->parsed()) return runSweepCommand(*sweepCmd, so, out, err);
        if (loadCmd->parsed()) return runLoadCommand(*loadCmd, lo, out, err);
        if (divergeCmd->parsed()) return runDiverge(*divergeCmd, dvo, out, err);
        out << app.help();
        return 2;
    } catch (const twb::Error& e) {
        err << "torchwb: " << e.what() << "\n";
        if (!e.detail().empty() && ro.verbose) err << "detail: " << e.detail() << "\n";
        return 1;
    } catch (const std::exception& e) {
        err << "torchwb: " << e.what() << "\n";
        return 1;
    }
}

} // namespace twb::cli
