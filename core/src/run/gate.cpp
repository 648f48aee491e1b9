// Regression gates with three answers: a run held against a stored report (each report's spread between
// processes in the interval, the machine probe compared), or the baseline measured beside the candidate
// in one plan (paired rounds).
#include "twb/plan.h"

#include "twb/error.h"
#include "twb/stats.h"

#include <cmath>
#include <cstdio>

namespace twb {

std::string gateVerdictName(GateVerdict v) {
    switch (v) {
    case GateVerdict::Pass:
        return "pass";
    case GateVerdict::Regression:
        return "regression";
    case GateVerdict::Inconclusive:
        break;
    }
    return "inconclusive";
}

GateVerdict GateResult::verdict() const {
    bool inconclusive = entries.empty();
    for (const auto& e : entries) {
        if (e.matched && e.verdict == GateVerdict::Regression) return GateVerdict::Regression;
        if (!e.matched || e.verdict != GateVerdict::Pass) inconclusive = true;
    }
    return inconclusive ? GateVerdict::Inconclusive : GateVerdict::Pass;
}

GateSummary GateResult::summary(const std::string& against) const {
    GateSummary s;
    s.verdict = gateVerdictName(verdict());
    s.against = against;
    for (const auto& e : entries)
        s.lines.push_back(e.line);
    if (!machine.empty()) s.lines.push_back(machine);
    return s;
}

namespace {

// `widen` (≥ 1): how far the machine itself moved between the runs; the interval is stretched by it on
// both sides before it is held against the limit, so a change of the machine cannot pass for one of the
// model.
void judge(GateEntry& e, double maxSlowdown, double widen = 1) {
    char buf[400];
    const double limit = 1 / (1 + maxSlowdown); // a speedup below this is a slowdown beyond the limit
    const double low = e.latency.ciLow / widen, high = e.latency.ciHigh * widen;
    if (high < limit && e.latency.pValue < 0.05)
        e.verdict = GateVerdict::Regression;
    else if (low >= limit)
        e.verdict = GateVerdict::Pass;
    else
        e.verdict = GateVerdict::Inconclusive;
    e.regression = e.verdict == GateVerdict::Regression;
    std::snprintf(buf, sizeof buf, "%s; allowed slowdown %.1f%%%s: %s", e.latency.verdict.c_str(),
                  maxSlowdown * 100, widen > 1 ? ", held to the machine's own change" : "",
                  gateVerdictName(e.verdict).c_str());
    e.line = buf;
    if (e.verdict == GateVerdict::Inconclusive)
        e.line += widen > 1 ? " (the machine changed too much between the runs to tell)"
                            : " (the interval straddles the limit: measure longer, with more --processes, or "
                              "on a quieter machine)";
}

// How far the machine moved between two runs, from the probe: the larger of the matrix-multiply and
// copy ratios when it moved beyond its own noise (significant and over 15%), else 1; 0 when a run has
// no probe to tell.
double probeChange(const MachineProbe& before, const MachineProbe& now, std::string& why) {
    if (before.gemmNs.size() < 2 || now.gemmNs.size() < 2) return 0;
    double factor = 1;
    auto moved = [&](const std::vector<double>& a, const std::vector<double>& b, const char* what) {
        if (a.size() < 2 || b.size() < 2) return;
        const LatencyComparison c = compareLatency(a, b, "the baseline", "now");
        const double f = c.speedup > 1 ? c.speedup : 1 / c.speedup;
        if (c.significant && f > 1.15 && f > factor) {
            factor = f;
            char buf[200];
            std::snprintf(buf, sizeof buf, "the machine's %s probe ran %.2f× %s than at the baseline", what,
                          f, c.speedup > 1 ? "faster" : "slower");
            why = buf;
        }
    };
    moved(before.gemmNs, now.gemmNs, "matrix-multiply");
    moved(before.copyNs, now.copyNs, "memory-copy");
    return factor;
}

} // namespace

GateResult regressionGate(const Report& baseline, const Report& current, double maxSlowdown) {
    if (!(maxSlowdown >= 0)) throw Error("the allowed slowdown must be zero or more");
    GateResult gate;
    gate.maxSlowdown = maxSlowdown;
    std::string why;
    double widen = probeChange(baseline.probe, current.probe, why);
    const EnvironmentInfo &a = baseline.environment, &b = current.environment;
    const bool elsewhere = !a.cpuModel.empty() && (a.cpuModel != b.cpuModel || a.hostName != b.hostName ||
                                                   a.libtorchVersion != b.libtorchVersion);
    auto where = [](const EnvironmentInfo& e) {
        return e.cpuModel + " (" + e.hostName + "), LibTorch " + e.libtorchVersion;
    };
    if (widen > 1) gate.machine = why + ": each interval is widened by that much";
    if (elsewhere) {
        gate.machine =
            "the baseline ran on " + where(a) + ", this run on " + where(b) +
            (widen >= 1 ? (widen > 1 ? "; " + why + ": each interval is widened by that much" : "")
                        : ": with no machine probe in the baseline to tell the machines apart, no verdict");
        if (widen == 0) widen = INFINITY;
    }
    if (widen == 0) widen = 1; // an older baseline without a probe, on the same machine
    for (std::size_t i = 0; i < current.runs.size(); ++i) {
        const RunRecord& run = current.runs[i];
        GateEntry e;
        e.label = run.label;
        const RunRecord* before = run.ok ? matchingRun(baseline, run, i) : nullptr;
        if (before && !before->samplesNs.empty() && !run.samplesNs.empty()) {
            e.matched = true;
            e.latency = compareRunsAcrossProcesses(before->samplesNs, before->rounds, run.samplesNs,
                                                   run.rounds, "the baseline", run.label);
            judge(e, maxSlowdown, widen);
        } else {
            e.line = e.label + ": no run in the baseline to hold it against: inconclusive";
        }
        gate.entries.push_back(e);
    }
    return gate;
}

GateResult interleavedGate(const Report& report, std::size_t half, double maxSlowdown) {
    if (!(maxSlowdown >= 0)) throw Error("the allowed slowdown must be zero or more");
    GateResult gate;
    gate.maxSlowdown = maxSlowdown;
    for (std::size_t i = 0; i < half && half + i < report.runs.size(); ++i) {
        const RunRecord& before = report.runs[i];
        const RunRecord& now = report.runs[half + i];
        GateEntry e;
        e.label = now.label;
        if (before.ok && now.ok && !before.samplesNs.empty() && !now.samplesNs.empty()) {
            e.matched = true;
            e.latency = comparePairedRounds(before.samplesNs, before.rounds, now.samplesNs, now.rounds,
                                            before.label, now.label);
            judge(e, maxSlowdown);
        } else {
            e.line = e.label + ": " +
                     (!before.ok ? "the baseline failed: " + before.error : "it failed: " + now.error) +
                     ": inconclusive";
        }
        gate.entries.push_back(e);
    }
    return gate;
}

} // namespace twb
