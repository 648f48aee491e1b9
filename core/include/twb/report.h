// Versioned run reports: what ran (model, inputs, configuration), where
// (an environment fingerprint), and everything measured, as JSON another
// machine's workbench reads back; raw samples also as CSV.
#pragma once

#include "twb/bench.h"
#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/environment.h"
#include "twb/hashing.h" // reports carry SHA-256 fingerprints
#include "twb/load.h"
#include "twb/profile.h"
#include "twb/provenance.h"
#include "twb/stats.h"
#include "twb/sweep.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

struct RunComparison {
    int baseline = 0, candidate = 0; // indices into Report::runs
    LatencyComparison latency;
    bool hasOutputs = false;
    OutputComparison outputs;
};

// A small fixed probe of the machine's speed (a matrix multiply and a memory copy on one thread),
// measured in the worker processes between rounds. When it moved between a baseline and now, the
// machine changed, whatever the model did.
struct MachineProbe {
    std::vector<double> gemmNs, copyNs; // one figure per measurement
    bool empty() const { return gemmNs.empty() && copyNs.empty(); }
};

// A regression gate's answer: "pass", "regression", or "inconclusive" when the noise (or a machine that
// changed) does not allow a verdict.
struct GateSummary {
    std::string verdict;            // empty: no gate in this run
    std::string against;            // the baseline report, or the model measured beside the candidate
    std::vector<std::string> lines; // one per configuration, then the machine's
};

// One target of a plan run on several (runPlanOnTargets): where, and the machine and build its worker
// introduced itself with; or why it could not be reached.
struct TargetSection {
    std::string name;
    bool reached = false;
    std::string error;
    EnvironmentInfo environment;
};

struct Report {
    // 2: profiles and sweeps. 3: runs measured in worker processes (rounds, measurement, failure), the
    // machine probe and the gate. Older reports read as reports without them.
    static constexpr int kSchemaVersion = 3;
    int schemaVersion = kSchemaVersion;
    EnvironmentInfo environment;
    ModelRef model;
    std::vector<InputRef> inputs;
    std::vector<RunRecord> runs;
    std::vector<RunComparison> comparisons;
    std::vector<Profile> profiles; // for plans that profile; their events are not stored
    bool hasSweep = false;
    SweepResult sweep;
    bool hasLoad = false;
    LoadResult load; // torchwb load: the scenario's curve, knee and peak
    MachineProbe probe;
    GateSummary gate;
    std::vector<TargetSection> targets; // a plan run on several targets: a section each
};

std::string reportToJson(const Report& report, int indent = 1);
// Tolerates fields it does not know; refuses a newer schema version, naming it.
Report reportFromJson(const std::string& json, const std::string& source = "report");
void writeReport(const std::string& path, const Report& report); // written to a temporary file, then renamed
Report readReport(const std::string& path);

// How a run's worker failed, for a terminal or a tooltip: the phase, the signal or status, the fix and
// the worker's last stderr lines, indented; "" when the run failed inside its model (its error says why).
std::string failureText(const RunRecord& r);

// run,label,phase,index,latency_ns,device_ns — one row per call, warm-up included.
std::string samplesCsv(const Report& report);

} // namespace twb
