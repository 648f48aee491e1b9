// The same plan on several targets, into one report (twb/plan.h: runPlanOnTargets).
#include "twb/plan.h"

#include "twb/environment.h"
#include "twb/error.h"
#include "twb/stats.h"
#include "twb/target.h"

#include <map>
#include <mutex>
#include <thread>

namespace twb {

namespace {

// Whether a target runs on this machine (this build, another build, or a launcher, which may well start
// its worker here): such targets take turns, so that they do not share its cores.
bool onThisMachine(const std::string& text) {
    try {
        return Target::parse(text).kind != Target::Kind::Ssh;
    } catch (const Error&) {
        return true; // refused in turn, with the reason
    }
}

struct TargetRun {
    Target target;
    TargetSection section;
    Report report;
    std::map<int, Value> outputs; // by configuration
};

} // namespace

Report runPlanOnTargets(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding,
                        const Plan& plan, const std::vector<std::string>& targets,
                        const PlanCallbacks& callbacks, const std::atomic<bool>* stop) {
    const int count = int(plan.configs.size());
    std::vector<TargetRun> runs(targets.size());
    std::mutex callbackMutex; // callbacks come from one target's thread at a time
    std::atomic<bool> cancelled{false};

    const auto runOne = [&](std::size_t t) {
        TargetRun& r = runs[t];
        r.section.name = targets[t];
        try {
            r.target = Target::parse(targets[t]);
            r.section.name = r.target.name();
            // Handshake first: the target's build and machine are known before anything runs there.
            r.section.environment = checkTarget(r.target, plan.measurement.worker).hello.environment;
            r.section.reached = true;
        } catch (const std::exception& e) {
            r.section.error = e.what();
            return;
        }
        Plan there = plan;
        there.measurement.worker = r.target.workerOptions(plan.measurement.worker);
        PlanCallbacks cb;
        const int offset = int(t) * count;
        cb.progress = [&, offset](int index, const Progress& p) {
            if (cancelled || (stop && stop->load())) return false;
            std::lock_guard<std::mutex> lock(callbackMutex);
            if (callbacks.progress && !callbacks.progress(offset + index, p)) cancelled = true;
            return !cancelled.load();
        };
        cb.stepFinished = [&, offset, t](const PlanStep& step) {
            std::lock_guard<std::mutex> lock(callbackMutex);
            runs[t].outputs[step.index] = step.output;
            if (!callbacks.stepFinished) return;
            PlanStep shifted = step;
            shifted.index = offset + step.index;
            shifted.count = count * int(targets.size());
            shifted.record.label += " @ " + runs[t].section.name;
            shifted.record.target = runs[t].section.name;
            callbacks.stepFinished(shifted);
        };
        r.report = runPlan(model, inputs, binding, there, cb, &cancelled);
    };

    // Other machines at once; this machine's targets one after another, after them.
    std::vector<std::thread> remote;
    for (std::size_t t = 0; t < targets.size(); ++t)
        if (!onThisMachine(targets[t])) remote.emplace_back(runOne, t);
    for (std::size_t t = 0; t < targets.size(); ++t) {
        if (stop && stop->load()) cancelled = true;
        if (onThisMachine(targets[t])) runOne(t);
    }
    for (auto& th : remote)
        th.join();

    // One report: the local environment and model, a section per target, every run labelled by its target.
    Report report;
    report.environment = currentEnvironment();
    std::vector<int> offsets(targets.size(), -1); // where each target's runs begin in report.runs
    for (std::size_t t = 0; t < runs.size(); ++t) {
        TargetRun& r = runs[t];
        report.targets.push_back(r.section);
        if (!r.section.reached) continue;
        if (report.model.path.empty()) {
            report.model = r.report.model;
            report.inputs = r.report.inputs;
            report.probe = r.report.probe;
        }
        offsets[t] = int(report.runs.size());
        for (auto run : r.report.runs) {
            run.label += " @ " + r.section.name;
            run.target = r.section.name;
            report.runs.push_back(std::move(run));
        }
        for (auto c : r.report.comparisons) {
            c.baseline += offsets[t];
            c.candidate += offsets[t];
            report.comparisons.push_back(c);
        }
        for (const auto& p : r.report.profiles)
            report.profiles.push_back(p);
    }
    // Each configuration elsewhere against the first reached target's: outputs, and latency as separate runs.
    int first = -1;
    for (std::size_t t = 0; t < runs.size() && first < 0; ++t)
        if (offsets[t] >= 0) first = int(t);
    if (first >= 0)
        for (std::size_t t = std::size_t(first) + 1; t < runs.size(); ++t) {
            if (offsets[t] < 0) continue;
            for (int i = 0; i < count; ++i) {
                const int a = offsets[std::size_t(first)] + i, b = offsets[t] + i;
                if (a >= offsets[std::size_t(first)] + int(runs[std::size_t(first)].report.runs.size()) ||
                    b >= offsets[t] + int(runs[t].report.runs.size()))
                    continue;
                const RunRecord& ra = report.runs[std::size_t(a)];
                const RunRecord& rb = report.runs[std::size_t(b)];
                if (!ra.ok || !rb.ok) continue;
                RunComparison c;
                c.baseline = a;
                c.candidate = b;
                if (!ra.samplesNs.empty() && !rb.samplesNs.empty())
                    c.latency = compareRunsAcrossProcesses(ra.samplesNs, ra.rounds, rb.samplesNs, rb.rounds,
                                                           ra.label, rb.label);
                const auto oa = runs[std::size_t(first)].outputs.find(i), ob = runs[t].outputs.find(i);
                if (oa != runs[std::size_t(first)].outputs.end() && ob != runs[t].outputs.end()) {
                    c.outputs = compareOutputs(oa->second, ob->second, plan.tolerance);
                    c.hasOutputs = true;
                }
                report.comparisons.push_back(c);
            }
        }
    return report;
}

} // namespace twb
