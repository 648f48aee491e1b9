// Options shared by torchwb's subcommands: inputs, image reading, state_dicts
// and the run configuration flags.
#pragma once

#include <atomic>

#include "twb/bench.h"
#include "twb/config.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/plan.h"
#include "twb/report.h"
#include "twb/suggest.h"
#include "twb/tensor_io.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace twb::cli {

struct InputOptions {
    std::vector<std::string> inputs, generators;
    CLI::Option* inputOpt = nullptr;
    CLI::Option* genOpt = nullptr;
    std::string stateDict;
    bool nonStrict = false;
    std::string stripPrefix, stateDictKey;
    std::string imageSize, normalize = "none";
    int channels = 3;

    void add(CLI::App& app);
    // Files and generators in command-line order; with none, or with --generate auto, the model's
    // suggestions fill the arguments they leave unfed (each one used is printed to `out`).
    std::vector<twb::InputSpec> specs(const CLI::App& app, const twb::Model& model, std::ostream& out) const;
    twb::ReadOptions readOptions() const;
    // After a failed run: which inputs were the model's suggestions, and how to give others ("" when none
    // were).
    std::string suggestionNote() const;

    mutable std::vector<twb::SuggestedInput> suggested; // what specs() filled in
};

struct ConfigOptions {
    std::map<std::string, std::string> values; // key -> text, as given
    void add(CLI::App& app, bool measuring);
    twb::RunConfig base() const;
};

// How models run: worker processes, rounds, the time a worker may go without answering, its memory.
struct MeasureOptions {
    int processes = 3, rounds = 0;
    bool quick = false;
    double timeout = 60;
    std::string memoryLimit; // "8G", "512M", bytes
    uint64_t seed = 1;
    std::string workers;              // separate, shared; empty: the command's default
    std::vector<std::string> targets; // where workers run (twb/target.h); none: this build
    CLI::Option* processesOption = nullptr;
    bool processesGiven() const { return processesOption && processesOption->count() > 0; }
    void add(CLI::App& app, bool measuring);
    twb::Measurement measurement() const;
};

// --target's help: where the model runs. Commands that take it repeated say so after it.
extern const char* const kTargetHelp;

// Loads the model and, when asked, the state_dict; prints what it did unless quiet.
twb::Model loadModel(const std::string& path, const InputOptions& o, std::ostream& out, bool quiet);

// A progress bar on a terminal; nothing when stderr is not one.
twb::ProgressFn terminalProgress(const std::string& label);

// The model loaded, its inputs read and bound, and each bound input printed; nothing (after saying why on
// `err`) when the inputs do not fit forward.
struct BoundModel {
    twb::Model model;
    std::vector<twb::InputSpec> specs;
    twb::InputBinding binding;
};
std::optional<BoundModel> loadAndBind(const CLI::App& cmd, const std::string& path,
                                      const InputOptions& inputs, std::ostream& out, std::ostream& err);
// The configurations of a plan run on each of `targets` in turn, named "LABEL @ TARGET" (for progress).
std::vector<twb::RunConfig> targetConfigs(const std::vector<twb::RunConfig>& configs,
                                          const std::vector<std::string>& targets);

// The bound inputs, one line each on `out` (unless `inputs` is false), and a warning on `err` for each
// input whose dtype is not what the model's first use of it needs.
void printBinding(const twb::InputBinding& binding, std::ostream& out, std::ostream& err, bool inputs = true);

// The stop flag of a long command: the first Ctrl+C (SIGINT) or SIGTERM sets it, so the run stops and
// what was measured is still reported; a second ends torchwb at once. Commands that stopped this way exit
// with kInterrupted.
const std::atomic<bool>* stopOnInterrupt();
bool interrupted();
constexpr int kInterrupted = 130;

// Plan callbacks with a progress bar per configuration (none when quiet), cleared as each finishes;
// `then` runs after each step too. The configurations must outlive the callbacks.
twb::PlanCallbacks planProgress(const std::vector<twb::RunConfig>& configs, bool quiet, std::ostream& err,
                                std::function<void(const twb::PlanStep&)> then = {});

} // namespace twb::cli
