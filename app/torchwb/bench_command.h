// torchwb bench and torchwb compare.
#pragma once

#include "options.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace twb::cli {

struct BenchArgs {
    std::string model;
    InputOptions inputs;
    ConfigOptions config;
    MeasureOptions measure;
    std::vector<std::string> configs; // --config specs, each applied over the flags
    std::string against;              // a model, or a report whose model is found, measured beside MODEL
    std::string json, csv, baseline, maxSlowdown = "5%", percentiles;
    double atol = 1e-5, rtol = 1e-5;
    bool quiet = false;
};

void addBenchOptions(CLI::App& cmd, BenchArgs& args);
int runBench(const CLI::App& cmd, const BenchArgs& args, std::ostream& out, std::ostream& err);

struct CompareArgs {
    std::string a, b;
    double atol = 1e-5, rtol = 1e-5;
    bool json = false;
};

void addCompareOptions(CLI::App& cmd, CompareArgs& args);
int runCompare(const CompareArgs& args, std::ostream& out, std::ostream& err);

} // namespace twb::cli
