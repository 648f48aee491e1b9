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
#include "twb/worker.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace twb {

// How a plan measures. Models run only in worker processes. Interleaved (the default): each
// configuration is measured in `processes` workers of its own, one after another; within each, its
// rounds alternate with the other configurations' rounds in a shuffled order, and each worker warms up
// afresh. So drift over time falls on every configuration alike, and the figures carry the spread
// between processes that one process cannot show. Quick: one worker per configuration, one round.
struct Measurement {
    bool quick = false;
    int processes = 3;
    int rounds = 0;    // per process; 0: as many rounds of at least 0.2 s as fit, from 1 to 5
    uint64_t seed = 1; // the shuffled order of rounds, recorded so a run can be repeated
    // Every configuration of a process slot in one worker, measured in turns: the configurations then
    // share each process's state (where memory landed, how its threads were placed), which cancels in
    // their paired ratios; the way to resolve small differences (bench --against). A worker that dies
    // ends the configuration it was running; the others go on in a fresh one. Peak memory is then the
    // configurations' together.
    bool shareWorkers = false;
    WorkerOptions worker;
    int processCount() const { return quick ? 1 : std::max(1, processes); }
};

struct Plan {
    std::vector<RunConfig> configs; // the first is the baseline
    // Per configuration, another model file measured in the plan model's place with the same inputs
    // (torchwb bench NEW --against OLD); empty or "": the plan's model.
    std::vector<std::string> modelFiles;
    Measurement measurement;
    CompareOptions tolerance;  // for the outputs' comparisons
    std::string referenceFile; // when set, outputs are compared with this file instead of the first run's
    bool profile = false;      // profile every configuration after measuring it (Report::profiles)
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
               const Plan& plan, const PlanCallbacks& callbacks = {},
               const std::atomic<bool>* stop = nullptr);

// A report's header, the same for every job (plan, profile, sweep): this machine's environment, the model
// (path, size, SHA-256, kind, class, the operator libraries loaded before it) and the inputs as bound.
Report reportFor(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding);

// The same plan on each target (twb/target.h: "local", "local:PATH", "ssh://…", "cmd:…"), into one report:
// a section per target (Report::targets, with the machine and build its worker introduced), each run
// labelled "LABEL @ TARGET" (RunRecord::target), the comparisons each target's plan makes among its
// configurations, and each configuration on every other target compared with the first target's
// (outputs leaf by leaf; latency as separate runs: the machines differ, nothing pairs their rounds).
// Targets on other machines run at once; those on this machine one after another, so that they do not
// share its cores. A target that cannot be reached is a section saying why, and the others go on.
// Callbacks' indices count the configurations of every target in turn: target t's i is t × configs + i.
Report runPlanOnTargets(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding,
                        const Plan& plan, const std::vector<std::string>& targets,
                        const PlanCallbacks& callbacks = {}, const std::atomic<bool>* stop = nullptr);

// One call of forward under the configuration, in a worker process (torchwb run): no warm-up, no
// statistics. A worker that dies or hangs is a record that says why, as in a plan.
RunResult runOnceInWorker(const Model& model, const InputBinding& binding, const RunConfig& config,
                          const WorkerOptions& worker = {});

// The run of `baseline` to hold `run` against: the same label, else the same position.
const RunRecord* matchingRun(const Report& baseline, const RunRecord& run, std::size_t index);

// Holding a run against a baseline, with three answers. Regression: slower with 95% confidence by more
// than maxSlowdown (0.05 = 5%), the whole interval beyond the limit. Pass: the whole interval within the
// limit. Inconclusive: the interval straddles the limit, so the noise allows no verdict. Where the machine
// probe moved between the baseline and now, the interval is first widened by the machine's own change;
// another machine without a probe to compare gives no verdict.
enum class GateVerdict { Pass, Regression, Inconclusive };
std::string gateVerdictName(GateVerdict v); // "pass", "regression", "inconclusive"

struct GateEntry {
    std::string label;
    bool matched = false; // the baseline had a run to hold it against
    LatencyComparison latency;
    bool regression = false;
    GateVerdict verdict = GateVerdict::Inconclusive;
    std::string line; // "cpu · jit off: 1.02× slower (95% CI 0.97–1.08), within 5%: pass"
};
struct GateResult {
    double maxSlowdown = 0.05;
    std::vector<GateEntry> entries;
    std::string machine; // how the machine changed between the runs, and what that did; "" when it held
    GateVerdict verdict() const; // a regression anywhere, else inconclusive anywhere, else pass
    bool passed() const { return verdict() == GateVerdict::Pass; }
    GateSummary summary(const std::string& against) const;
};
// A later, separate run against a stored report: both reports' between-process spread widens the
// interval, and their machine probes are compared.
GateResult regressionGate(const Report& baseline, const Report& current, double maxSlowdown);
// A plan that measured the baseline beside the candidate (interleaved, paired rounds): runs[i] for i <
// half are the baseline's, runs[half + i] the candidate's.
GateResult interleavedGate(const Report& report, std::size_t half, double maxSlowdown);

} // namespace twb
