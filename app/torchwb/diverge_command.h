// torchwb diverge: where two configurations' outputs part, node by node.
#pragma once

#include "options.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace twb::cli {

struct DivergeArgs {
    std::string model;
    InputOptions inputs;
    ConfigOptions config;
    MeasureOptions measure;
    std::vector<std::string> configs; // one: B over the flags (A); two: A and B over the flags
    double atol = -1, rtol = -1;      // < 0: the defaults (looser for float16 and bfloat16)
    int top = 5;
    std::string json;
    bool inProcess = false;
};

void addDivergeOptions(CLI::App& cmd, DivergeArgs& args);
int runDiverge(const CLI::App& cmd, const DivergeArgs& args, std::ostream& out, std::ostream& err);

} // namespace twb::cli
