// The plan runner: the one place that runs configurations of a model, compares each one's
// latency and outputs with the first one's (or its outputs with a reference file), and builds
// the report. torchwb bench, the GUI's Run, and the profile and sweep features call it.
#pragma once

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/profile.h"
#include "twb/report.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace twb {

struct Plan {
    std::vector<RunConfig> configs; // the first is the baseline
    CompareOptions tolerance;       // for the outputs' comparisons
    std::string referenceFile;      // when set, outputs are compared with this file instead of the first run's
    bool profile = false;           // profile every configuration after measuring it (Report::profiles)
    ProfileOptions profileOptions;
};

// One configuration's result, as soon as it is measured (results arrive in stages).
struct PlanStep {
    int index = 0;
    int count = 0; // configurations in the plan
    RunRecord record;
    Value output;
    bool hasComparison = false; // every run but the baseline, or each run against a reference file
    RunComparison comparison;
    bool hasProfile = false;
    Profile profile; // with its events, when the plan keeps them
};

struct PlanCallbacks {
    std::function<bool(int index, const Progress&)> progress; // false cancels the plan
    std::function<void(const PlanStep&)> stepFinished;
};

// Never throws for a failing configuration (its record says why); throws twb::Error when the
// reference file cannot be read. A stop (flag or callback) ends the plan within one iteration: the
// report then holds what was measured.
Report runPlan(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding,
               const Plan& plan, const PlanCallbacks& callbacks = {}, const std::atomic<bool>* stop = nullptr);

// The run of `baseline` to hold `run` against: the same label, else the same position.
const RunRecord* matchingRun(const Report& baseline, const RunRecord& run, std::size_t index);

// Holding a report against a baseline report: a run regresses when it is slower with 95% confidence by
// more than maxSlowdown (0.05 = 5%), the whole interval beyond the limit.
struct GateEntry {
    std::string label;
    bool matched = false; // the baseline had a run to hold it against
    LatencyComparison latency;
    bool regression = false;
};
struct GateResult {
    double maxSlowdown = 0.05;
    std::vector<GateEntry> entries;
    bool passed() const;
};
GateResult regressionGate(const Report& baseline, const Report& current, double maxSlowdown);

} // namespace twb
