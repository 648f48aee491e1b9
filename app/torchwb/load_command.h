// torchwb load: latency under load, in LoadGen's scenarios, and the highest QPS that meets a p99 bound.
#pragma once

#include "options.h"

#include "twb/load.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>

namespace twb::cli {

struct LoadArgs {
    std::string model;
    InputOptions inputs;
    ConfigOptions config;
    std::string scenario = "server", json, csv, target;
    double qps = 0, utilisation = 0, p99 = 0, seconds = 10;
    int concurrency = 1, samplesPerQuery = 8, maxBatch = 1, searches = 1;
    double batchWindowUs = 0;
    int64_t minQueries = twb::LoadOptions().minQueries;
    bool findPeak = false, quiet = false;
    uint64_t seed = twb::LoadOptions().seed;
};

void addLoadOptions(CLI::App& cmd, LoadArgs& args);
int runLoadCommand(const CLI::App& cmd, const LoadArgs& args, std::ostream& out, std::ostream& err);

// The curve as a table (offered load, achieved, p50/p99 split into queued and computing), then the verdict.
std::string loadText(const twb::LoadResult& r);

} // namespace twb::cli
