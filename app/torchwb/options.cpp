#include "options.h"

#include "twb/target.h"

#include <memory>

#include "twb/error.h"
#include "twb/generate.h"

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace twb::cli {

const char* const kTargetHelp =
    "Where the model runs: local, local:/path/to/torchwb (another build here), "
    "ssh://[user@]host[:port][/path/to/torchwb], or cmd:LAUNCHER … torchwb worker (srun, kubectl exec -i, "
    "docker exec -i); the model file travels to ssh and cmd targets";
namespace {

// (generated?, text) in the order given on the command line.
std::vector<std::pair<bool, std::string>> ordered(const CLI::App& app, const InputOptions& o) {
    std::vector<std::pair<bool, std::string>> sources;
    std::size_t nextInput = 0, nextGen = 0;
    for (const CLI::Option* opt : app.parse_order()) {
        if (opt == o.inputOpt && nextInput < o.inputs.size())
            sources.emplace_back(false, o.inputs[nextInput++]);
        if (opt == o.genOpt && nextGen < o.generators.size())
            sources.emplace_back(true, o.generators[nextGen++]);
    }
    return sources;
}

} // namespace

void InputOptions::add(CLI::App& app) {
    inputOpt = app.add_option("-i,--input", inputs,
                              "[NAME=]FILE: .npy .npz .safetensors .pt .csv or an image, or a number for a "
                              "float, int or bool argument; by position, or by forward's argument NAME");
    genOpt = app.add_option("-g,--generate", generators,
                            "[NAME=]SPEC: e.g. normal:1x3x32x32, uniform:8x4:float64:seed=3, "
                            "randint:2x5:int64:low=0:high=100, zeros:4:bool, full:2x3:value=0.5, or a bare "
                            "number for a scalar argument (scale=2.5); or auto: what the model's "
                            "first layers suggest (also used when no input is given)");
    app.add_option("--state-dict", stateDict,
                   "Load weights from a state_dict (.pth, .safetensors, checkpoint) first");
    app.add_flag("--non-strict", nonStrict, "Load the state_dict's matching keys and ignore the rest");
    app.add_option(
        "--state-dict-key", stateDictKey,
        "The checkpoint entry to take the weights from (e.g. state_dict_ema); by default the first of "
        "state_dict, model, model_state_dict, module, net, …");
    app.add_option("--strip-prefix", stripPrefix,
                   "Remove this prefix from the state_dict's keys (e.g. model. for Lightning); module. and "
                   "_orig_mod. are removed on their own");
    app.add_option("--image-size", imageSize, "Resize image inputs to WIDTHxHEIGHT");
    app.add_option("--normalize", normalize, "Image normalization: none, imagenet or half")
        ->check(CLI::IsMember({"none", "imagenet", "half"}));
    app.add_option("--channels", channels, "Image channels: 1, 3 or 4")->check(CLI::IsMember({1, 3, 4}));
}

twb::ReadOptions InputOptions::readOptions() const {
    twb::ReadOptions readOptions;
    readOptions.image = twb::ImageOptions::preset(normalize);
    readOptions.image.channels = channels;
    if (!imageSize.empty()) {
        int w = 0, h = 0;
        char x = 0;
        std::istringstream in(imageSize);
        if (!(in >> w >> x >> h) || (x != 'x' && x != 'X') || w <= 0 || h <= 0)
            throw twb::Error("--image-size wants WIDTHxHEIGHT, e.g. 224x224, not '" + imageSize + "'");
        readOptions.image.resizeWidth = w;
        readOptions.image.resizeHeight = h;
    }
    return readOptions;
}

std::vector<twb::InputSpec> InputOptions::specs(const CLI::App& app, const twb::Model& model,
                                                std::ostream& out) const {
    std::vector<twb::InputSpec> given;
    bool any = false, autoAsked = false;
    for (const auto& [generated, text] : ordered(app, *this)) {
        any = true;
        if (generated && text == "auto") {
            autoAsked = true;
            continue;
        }
        given.push_back(generated ? twb::InputSpec::parseGenerated(text) : twb::InputSpec::parse(text));
    }
    if (any && !autoAsked) return given;
    suggested.clear();
    const auto specs = twb::completeWithSuggestions(model, given, &suggested);
    for (const auto& s : suggested)
        out << "input   " << s.argument << ": generated " << s.spec.generator << " (suggested: " << s.reason
            << ")\n";
    return specs;
}

std::string InputOptions::suggestionNote() const {
    if (suggested.empty()) return {};
    std::string names, example;
    for (const auto& s : suggested) {
        names += (names.empty() ? "" : ", ") + s.argument;
        if (example.empty()) example = " -g " + s.argument + "=SPEC";
    }
    return "note: " + names + (suggested.size() == 1 ? " was" : " were") +
           " not given, and the model's suggestion" + (suggested.size() == 1 ? " is" : "s are") +
           " read from its first layers, which may not fix every dimension: give the inputs it was exported "
           "with (-i " +
           suggested.front().argument + "=FILE, or" + example + ")\n";
}

void ConfigOptions::add(CLI::App& app, bool measuring) {
    auto opt = [&](const char* flags, const std::string& key, const char* help) {
        app.add_option_function<std::string>(
            flags,
            [this, key](const std::string& v) {
                try {
                    twb::RunConfig().set(key,
                                         v); // a bad value is a usage error (exit 2), found while parsing
                } catch (const twb::Error& e) {
                    throw CLI::ValidationError(e.what());
                }
                values[key] = v;
            },
            help);
    };
    opt("--device", "device", "cpu, cuda or cuda:N (default cpu)");
    opt("--jit", "jit", "JIT optimization: off, freeze or optimize (optimize_for_inference); default off");
    opt("--threads", "threads", "Intra-op threads; 0 (default): one per hardware thread");
    opt("--dtype", "dtype", "Precision: as_saved (default), float32, float16, bfloat16 or float64");
    opt("--grad", "grad", "inference (default), no_grad or grad");
    opt("--graph-optimize", "graph_optimize", "The graph executor's optimization: on (default) or off");
    if (measuring) {
        opt("--warmup", "warmup", "Calls before measuring (the first included): a count, or auto (default)");
        opt("--iters", "iters", "Measure exactly this many calls");
        opt("--seconds", "seconds", "Measure for this long (default 1)");
    }
}

twb::RunConfig ConfigOptions::base() const {
    twb::RunConfig c;
    for (const auto& [key, value] : values)
        c.set(key, value);
    return c;
}

twb::Model loadModel(const std::string& path, const InputOptions& o, std::ostream& out, bool quiet) {
    twb::Model model = twb::Model::load(path);
    if (!quiet) out << "model   " << path << " (" << model.info().className << ")\n";
    if (!o.stateDict.empty()) {
        const twb::StateDictReport report =
            model.loadStateDict(o.stateDict, !o.nonStrict, o.stripPrefix, o.stateDictKey);
        if (!report.applied) throw twb::Error(o.stateDict + ": " + report.describe());
        if (!quiet) out << "weights " << o.stateDict << ": " << report.describe() << "\n";
    }
    return model;
}

void MeasureOptions::add(CLI::App& app, bool measuring) {
    if (measuring) {
        processesOption = app.add_option("--processes", processes,
                                         "Worker processes each configuration is measured in, its rounds "
                                         "interleaved with the other "
                                         "configurations' (default 3; 8 with --against)")
                              ->check(CLI::Range(1, 64));
        app.add_option("--rounds", rounds, "Rounds per process (default: rounds of at least 0.2 s, 1 to 5)")
            ->check(CLI::Range(0, 1000));
        app.add_flag("--quick", quick,
                     "One worker process and one round per configuration: faster, and figures "
                     "that may not repeat in the next run (the report says so)");
        app.add_option("--seed", seed, "Seed of the rounds' shuffled order (default 1)");
        app.add_option(
               "--workers", workers,
               "separate: each configuration in worker processes of its own (the default); shared: the "
               "configurations of each process in one worker, measured in turns, so that their ratios "
               "share its state and small differences resolve (the default with --against)")
            ->check(CLI::IsMember({"separate", "shared"}));
    }
    app.add_option("--timeout", timeout,
                   "Seconds a worker may take to load, prepare and make its first call before it is stopped "
                   "(default 60); later rounds get a limit from the measured call time")
        ->check(CLI::PositiveNumber);
    app.add_option("--target", targets,
                   std::string(kTargetHelp) +
                       "; bench and profile take it repeated, and run the same plan on each into one report");
    app.add_option("--memory-limit", memoryLimit,
                   "Cap each worker's address space (e.g. 8G, 512M): an allocation beyond it fails that "
                   "configuration with an error instead of exhausting the machine");
}

twb::Measurement MeasureOptions::measurement() const {
    twb::Measurement m;
    m.quick = quick;
    m.processes = processes;
    m.rounds = rounds;
    m.seed = seed;
    m.shareWorkers = workers == "shared";
    m.worker.firstCallTimeoutSeconds = timeout;
    if (!memoryLimit.empty()) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(memoryLimit, &used);
        } catch (...) {
            used = 0;
        }
        const std::string unit = memoryLimit.substr(used);
        const double scale = unit.empty() || unit == "B"    ? 1
                             : unit == "K" || unit == "KiB" ? 1024.0
                             : unit == "M" || unit == "MiB" ? 1024.0 * 1024
                             : unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
                                                            : -1;
        if (used == 0 || scale < 0 || !(v > 0))
            throw twb::Error("--memory-limit wants a size such as 8G, 512M or a number of bytes, not '" +
                             memoryLimit + "'");
        m.worker.memoryLimitBytes = int64_t(v * scale);
    }
    if (targets.size() == 1) m.worker = twb::Target::parse(targets.front()).workerOptions(m.worker);
    return m;
}

namespace {
std::atomic<bool> g_interrupted{false};

void onInterrupt(int sig) {
    if (g_interrupted.exchange(true)) { // the second: at once
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return;
    }
    static const char line[] = "\ntorchwb: stopping; what was measured is reported (again to quit at once)\n";
    (void)!::write(2, line, sizeof line - 1);
}
} // namespace

const std::atomic<bool>* stopOnInterrupt() {
    static const bool installed = [] {
        struct sigaction sa{};
        sa.sa_handler = onInterrupt;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        return true;
    }();
    (void)installed;
    return &g_interrupted;
}

bool interrupted() {
    return g_interrupted.load();
}

twb::ProgressFn terminalProgress(const std::string& label) {
    if (!isatty(fileno(stderr))) return {};
    return [label](const twb::Progress& p) {
        constexpr int kWidth = 28;
        const int filled = int(p.fraction * kWidth + 0.5);
        std::string bar(std::size_t(filled), '#');
        bar.append(std::size_t(kWidth - filled), '-');
        char eta[32] = "";
        if (p.remainingSeconds >= 0) std::snprintf(eta, sizeof eta, "  %.1fs left", p.remainingSeconds);
        std::fprintf(stderr, "\r\033[K%-28.28s [%s] %3.0f%%  %-9s %lld calls%s", label.c_str(), bar.c_str(),
                     p.fraction * 100, p.phase.c_str(), static_cast<long long>(p.iterations), eta);
        std::fflush(stderr);
        return true;
    };
}

std::optional<BoundModel> loadAndBind(const CLI::App& cmd, const std::string& path,
                                      const InputOptions& inputs, std::ostream& out, std::ostream& err) {
    twb::Model model = loadModel(path, inputs, out, false);
    std::vector<twb::InputSpec> specs = inputs.specs(cmd, model, out);
    twb::InputBinding binding = model.bindInputs(twb::readInputs(specs, inputs.readOptions()));
    if (!binding.ok) {
        err << "torchwb: " << path << ": " << binding.error << "\n";
        return std::nullopt;
    }
    printBinding(binding, out, err);
    return BoundModel{model, std::move(specs), std::move(binding)};
}

std::vector<twb::RunConfig> targetConfigs(const std::vector<twb::RunConfig>& configs,
                                          const std::vector<std::string>& targets) {
    std::vector<twb::RunConfig> out;
    for (const auto& t : targets)
        for (auto c : configs) {
            c.target = t; // labelled as the runs on that target are
            out.push_back(c);
        }
    return out;
}

void printBinding(const twb::InputBinding& binding, std::ostream& out, std::ostream& err, bool inputs) {
    if (inputs)
        for (const auto& arg : binding.arguments)
            out << "input   " << arg.argument << " <- " << arg.source << "  " << arg.value.describe() << "\n";
    for (const auto& w : binding.warnings)
        err << "torchwb: warning: " << w << "\n";
}

twb::PlanCallbacks planProgress(const std::vector<twb::RunConfig>& configs, bool quiet, std::ostream& err,
                                std::function<void(const twb::PlanStep&)> then) {
    struct Bar {
        twb::ProgressFn fn;
        int index = -1;
    };
    auto bar = std::make_shared<Bar>();
    twb::PlanCallbacks callbacks;
    if (!quiet)
        callbacks.progress = [bar, &configs](int index, const twb::Progress& p) {
            if (index != bar->index) {
                bar->fn = terminalProgress(configs[std::size_t(index)].label());
                bar->index = index;
            }
            return bar->fn ? bar->fn(p) : true;
        };
    callbacks.stepFinished = [bar, &err, then](const twb::PlanStep& step) {
        if (bar->fn) err << "\r\033[K" << std::flush;
        if (then) then(step);
    };
    return callbacks;
}

} // namespace twb::cli
