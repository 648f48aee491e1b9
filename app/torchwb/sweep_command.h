// torchwb sweep: which configuration is fastest, raced within a time budget, never one whose outputs drift.
#pragma once

#include "options.h"

#include "twb/sweep.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace twb::cli {

struct SweepArgs {
    std::string model;
    InputOptions inputs;
    ConfigOptions config;
    std::vector<std::string> axes;
    std::string objective = "latency", json, csv;
    double maxLatencyMs = 0, budget = 60;
    double atol = -1, rtol = -1; // < 0: the defaults (looser for float16 and bfloat16)
    bool apply = false, quiet = false, memory = false;
    std::string target; // where the worker runs (twb/target.h); empty: this build
};

void addSweepOptions(CLI::App& cmd, SweepArgs& args);
int runSweepCommand(const CLI::App& cmd, const SweepArgs& args, std::ostream& out, std::ostream& err);

// The points' table, the front and the recommendation, as the terminal shows them.
std::string sweepText(const twb::SweepResult& r);

} // namespace twb::cli
