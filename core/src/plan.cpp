#include "twb/plan.h"

#include "profiler.h"

#include "twb/error.h"
#include "twb/stats.h"
#include "twb/tensor_io.h"

namespace twb {

Report runPlan(const Model& model, const std::vector<InputSpec>& inputs, const InputBinding& binding,
               const Plan& plan, const PlanCallbacks& callbacks, const std::atomic<bool>* stop) {
    Report report;
    report.environment = currentEnvironment();
    const ModelInfo& info = model.info();
    report.model.path = info.path;
    report.model.size = info.fileSize;
    report.model.sha256 = fileSha256(info.path);
    report.model.kind = kindName(info.diagnosis.kind);
    report.model.className = info.className;
    report.inputs = describeInputs(inputs, binding);

    Value reference;
    const bool withReference = !plan.referenceFile.empty();
    if (withReference) reference = readTensorFile(plan.referenceFile);

    bool cancelled = false;
    Value baselineOutput;
    detail::FlopTable flops; // counted once, with the JIT off, so that no JIT mode changes the model's FLOPs
    bool flopsCounted = false;
    const int count = int(plan.configs.size());
    for (int i = 0; i < count && !cancelled; ++i) {
        if (stop && stop->load()) break;
        ProgressFn progress;
        if (callbacks.progress)
            progress = [&](const Progress& p) {
                const bool go = callbacks.progress(i, p);
                cancelled = cancelled || !go;
                return go;
            };
        const RunConfig& config = plan.configs[std::size_t(i)];
        PlanStep step;
        RunResult result;
        if (plan.profile) {
            if (!flopsCounted) {
                flops = detail::countFlops(model, binding, config);
                flopsCounted = true;
            }
            result = detail::profileConfiguration(model, binding, config, plan.profileOptions, flops, step.profile,
                                                  progress, stop);
            step.profile.run = i;
            step.hasProfile = true;
        } else {
            result = runConfiguration(model, binding, config, progress, stop);
        }
        step.index = i;
        step.count = count;
        step.record = std::move(result.record);
        step.output = result.output;
        const RunRecord* base = report.runs.empty() ? nullptr : &report.runs.front();
        if (i == 0) baselineOutput = step.output;
        if (step.record.ok && (withReference || (i > 0 && base && base->ok))) {
            RunComparison& c = step.comparison;
            c.baseline = 0;
            c.candidate = i;
            if (i > 0 && base && base->ok && !base->samplesNs.empty() && !step.record.samplesNs.empty())
                c.latency = compareLatency(base->samplesNs, step.record.samplesNs, base->label, step.record.label);
            c.outputs = compareOutputs(withReference ? reference : baselineOutput, step.output, plan.tolerance);
            c.hasOutputs = true;
            step.hasComparison = true;
        }
        report.runs.push_back(step.record);
        if (step.hasComparison) report.comparisons.push_back(step.comparison);
        if (step.hasProfile) {
            report.profiles.push_back(step.profile);
            report.profiles.back().events.clear(); // reports keep the tables; traces are written apart
        }
        if (callbacks.stepFinished) callbacks.stepFinished(step);
    }
    return report;
}

const RunRecord* matchingRun(const Report& baseline, const RunRecord& run, std::size_t index) {
    for (const auto& b : baseline.runs)
        if (b.label == run.label && b.ok) return &b;
    if (index < baseline.runs.size() && baseline.runs[index].ok) return &baseline.runs[index];
    return nullptr;
}

bool GateResult::passed() const {
    for (const auto& e : entries)
        if (!e.matched || e.regression) return false;
    return true;
}

GateResult regressionGate(const Report& baseline, const Report& current, double maxSlowdown) {
    if (!(maxSlowdown >= 0)) throw Error("the allowed slowdown must be zero or more");
    GateResult gate;
    gate.maxSlowdown = maxSlowdown;
    for (std::size_t i = 0; i < current.runs.size(); ++i) {
        const RunRecord& run = current.runs[i];
        GateEntry e;
        e.label = run.label;
        const RunRecord* before = run.ok ? matchingRun(baseline, run, i) : nullptr;
        if (before && !before->samplesNs.empty() && !run.samplesNs.empty()) {
            e.matched = true;
            e.latency = compareLatency(before->samplesNs, run.samplesNs, "the baseline", run.label);
            e.regression = e.latency.pValue < 0.05 && e.latency.ciHigh < 1 / (1 + maxSlowdown);
        }
        gate.entries.push_back(e);
    }
    return gate;
}

} // namespace twb
