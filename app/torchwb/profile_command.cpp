#include "profile_command.h"

#include "twb/error.h"
#include "twb/format.h"

#include "format.h"

#include "twb/plan.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace twb::cli {
namespace {

std::string shorten(const std::string& s, std::size_t max) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++chars > max - 1)
            return s.substr(0, i) + "…";
    }
    return s;
}

// A total over the profiled calls as the mean per forward.
std::string perForward(double totalNs, const twb::Profile& p) {
    return twb::formatDuration(totalNs / std::max(1, p.calls));
}
std::string countPerForward(int64_t total, const twb::Profile& p) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", double(total) / std::max(1, p.calls));
    return b;
}

} // namespace

std::string operatorTable(const twb::Profile& p, int top) {
    std::ostringstream out;
    const double whole = p.forwardNs * p.calls; // all profiled forwards
    std::size_t width = 24;
    int shown = 0;
    for (const auto& o : p.operators)
        if (shown++ < top) width = std::max(width, std::min<std::size_t>(o.name.size() + 2, 40));
    out << cell("Name", width, true) << cell("Self %", 8) << cell("Self", 11) << cell("Total %", 9)
        << cell("Total", 11) << cell("Avg", 11) << cell("Calls/fwd", 10) << "  "
        << cell("Input shapes", 34, true) << cell("FLOPs/fwd", 11) << cell("GFLOP/s", 9) << cell("% peak", 8)
        << "\n";
    shown = 0;
    for (const auto& o : p.operators) {
        if (shown++ >= top) break;
        std::string shapes = o.shapes.empty() ? "" : o.shapes.front();
        if (o.shapeVariants > 1) shapes += " +" + std::to_string(o.shapeVariants - 1);
        if (o.fused) shapes = o.timed ? "(fused node, timed by its line)" : "(fused node, not timed per op)";
        const double rate = o.gflops(p.calls);
        out << cell(shorten(o.name, 40), width, true)
            << cell(o.timed ? formatPercent(o.selfNs, whole) : "?", 8)
            << cell(o.timed ? perForward(o.selfNs, p) : "?", 11)
            << cell(o.timed ? formatPercent(o.totalNs, whole) : "?", 9)
            << cell(o.timed ? perForward(o.totalNs, p) : "?", 11)
            << cell(o.timed && o.calls ? twb::formatDuration(o.meanNs()) : "", 11)
            << cell(countPerForward(o.calls, p), 10) << "  " << cell(shorten(shapes, 33), 34, true)
            << cell(o.flops > 0           ? formatScaled(o.flops)
                    : o.creditedFlops > 0 ? "(" + formatScaled(o.creditedFlops) + ")"
                                          : "",
                    11)
            << cell(rate > 0 ? formatFixed(rate, 1) : "", 9)
            << cell(rate > 0 && p.peak.measured && p.peak.gflops > 0
                        ? formatFixed(100 * rate / p.peak.gflops, 0) + "%"
                        : "",
                    8)
            << "\n";
    }
    if (int(p.operators.size()) > top)
        out << "… " << p.operators.size() - std::size_t(top) << " more operators (--top)\n";
    if (std::any_of(p.operators.begin(), p.operators.end(),
                    [](const auto& o) { return o.creditedFlops > 0; }))
        out << "(FLOPs in brackets: those of the operator that called it, whose time sits in it)\n";
    return out.str();
}

std::string moduleTable(const twb::Profile& p, int top) {
    std::ostringstream out;
    if (!p.moduleScope || p.modules.empty()) {
        out << "This LibTorch did not report module scope; by source line instead:\n" << lineTable(p, top);
        return out.str();
    }
    const double whole = p.forwardNs * p.calls;
    out << cell("Module", 40, true) << cell("Type", 22, true) << cell("Self", 11) << cell("Total", 11)
        << cell("Total %", 9) << cell("Ops/fwd", 9) << "\n";
    int shown = 0;
    for (const auto& m : p.modules) {
        if (shown++ >= top) break;
        const std::string name = std::string(std::size_t(m.depth) * 2, ' ') +
                                 (m.path.empty() ? "(model)" : m.path.substr(m.path.rfind('.') + 1));
        out << cell(shorten(name, 39), 40, true) << cell(shorten(m.type, 21), 22, true)
            << cell(perForward(m.selfNs, p), 11) << cell(perForward(m.totalNs, p), 11)
            << cell(formatPercent(m.totalNs, whole), 9) << cell(countPerForward(m.operatorCalls, p), 9)
            << "\n";
    }
    if (int(p.modules.size()) > top)
        out << "… " << p.modules.size() - std::size_t(top) << " more modules (--top)\n";
    if (p.fusedNs > 0)
        out << "(fused nodes, " << twb::formatDuration(p.fusedNs) << " a forward, carry no module scope)\n";
    return out.str();
}

std::string lineTable(const twb::Profile& p, int top) {
    std::ostringstream out;
    out << cell("Source line", 56, true) << cell("Function", 20, true) << cell("Ops self", 11)
        << cell("Line time", 11) << cell("Calls/fwd", 10) << "\n";
    int shown = 0;
    for (const auto& l : p.lines) {
        if (shown++ >= top) break;
        out << cell(shorten(l.location, 55), 56, true) << cell(shorten(l.function, 19), 20, true)
            << cell(perForward(l.selfNs, p), 11) << cell(l.scriptNs >= 0 ? perForward(l.scriptNs, p) : "", 11)
            << cell(countPerForward(l.calls, p), 10) << "\n";
    }
    if (p.lines.empty()) out << "(no operator carried a TorchScript source line)\n";
    return out.str();
}

std::string profileTotals(const twb::Profile& p) {
    std::ostringstream out;
    out << "Forward: " << twb::formatDuration(p.unprofiledMedianNs)
        << " (the median without the profiler, as torchwb bench measures it)\n";
    out << "Under the profiler: " << twb::formatDuration(p.forwardNs) << " a forward = operators' self "
        << twb::formatDuration(p.operatorSelfNs) << " + fused nodes " << twb::formatDuration(p.fusedNs)
        << " + unattributed " << twb::formatDuration(p.unattributedNs) << " ("
        << formatPercent(p.unattributedNs, p.forwardNs)
        << (p.operators.empty() || p.lines.size() || p.moduleScope ? ": the interpreter"
                                                                   : ": code the profiler does not see")
        << (std::any_of(p.fused.begin(), p.fused.end(), [](const twb::FusedNode& f) { return f.timeNs < 0; })
                ? ", and fused nodes not timed per op"
                : "")
        << ")\n";
    out << "Profiling overhead: " << (p.overhead() >= 0 ? "+" : "") << formatFixed(100 * p.overhead(), 1)
        << "% (median " << twb::formatDuration(p.profiledMedianNs) << " profiled against "
        << twb::formatDuration(p.unprofiledMedianNs) << "); tables are per forward, the mean of " << p.calls
        << " profiled calls; " << p.profiler << "\n";
    if (p.peak.measured)
        out << "Machine peak: " << formatFixed(p.peak.gflops, 1) << " GFLOP/s FP32 by " << p.peak.source
            << " (matrix "
            << "multiply " << p.peak.gemmSize << "×" << p.peak.gemmSize << " "
            << formatFixed(p.peak.mmGflops, 1) << ", convolution " << formatFixed(p.peak.convGflops, 1)
            << "; " << p.peak.threads << (p.peak.threads == 1 ? " thread" : " threads") << "), "
            << formatFixed(p.peak.bandwidthGBs, 1) << " GB/s copy" << (p.peak.fromCache ? " (cached)" : "")
            << "\n";
    for (const auto& n : p.notes)
        out << "Note: " << n << "\n";
    if (p.modelFlops >= 0) out << "FLOPs counted once with the JIT off, " << twb::kFlopConvention << ".\n";
    if (!p.roofline.sentence.empty()) out << p.roofline.sentence << "\n";
    return out.str();
}

std::string diffTable(const twb::ProfileDiff& d, int top) {
    std::ostringstream out;
    out << "A: " << d.labelA << "   B: " << d.labelB << "\n";
    out << cell("Operator", 34, true) << cell("A calls", 9) << cell("A time", 11) << cell("B calls", 9)
        << cell("B time", 11) << "  " << cell("Change", 10, true) << "Note\n";
    int shown = 0;
    for (const auto& e : d.entries) {
        if (shown++ >= top) break;
        using C = twb::ProfileDiffEntry::Change;
        const char* change = e.change == C::Faster     ? "faster"
                             : e.change == C::Slower   ? "slower"
                             : e.change == C::Appeared ? "appeared"
                             : e.change == C::Vanished ? "vanished"
                                                       : "same";
        auto calls = [](double c) {
            return c > 0 ? formatFixed(c, std::abs(c - double(int64_t(c))) < 0.05 ? 0 : 1) : "";
        };
        out << cell(shorten(e.name, 33), 34, true) << cell(calls(e.callsA), 9)
            << cell(e.callsA > 0 ? twb::formatDuration(e.nsA) : "", 11) << cell(calls(e.callsB), 9)
            << cell(e.callsB > 0 ? twb::formatDuration(e.nsB) : "", 11) << "  " << cell(change, 10, true)
            << e.note << "\n";
    }
    out << "\nWhat changed, per forward (" << twb::formatDuration(d.forwardA) << " → "
        << twb::formatDuration(d.forwardB) << "):\n";
    for (const auto& s : d.summary)
        out << "  " << s << "\n";
    return out.str();
}

void addProfileOptions(CLI::App& cmd, ProfileArgs& a) {
    cmd.add_option("MODEL", a.model, "TorchScript archive (torch.jit.save)")->required();
    a.inputs.add(cmd);
    a.config.add(cmd, true);
    a.measure.add(cmd, false);
    cmd.add_option("--calls", a.calls, "Profiled calls after warm-up and measurement (default 10)")
        ->check(CLI::Range(1, 100000));
    cmd.add_option("--top", a.top, "Rows to print (default 15)")->check(CLI::Range(1, 100000));
    cmd.add_option("--by", a.by, "Table: op, module or line (default op)")
        ->check(CLI::IsMember({"op", "module", "line"}));
    cmd.add_option(
        "--diff", a.diff,
        "Profile a second configuration, key=value,… over the flags (e.g. jit=optimize), and print "
        "what changed");
    cmd.add_option("--trace", a.trace,
                   "Write a Chrome trace (chrome://tracing, ui.perfetto.dev) of the calls");
    cmd.add_option("--json", a.json, "Write the versioned JSON report, profiles included");
    cmd.add_flag("-q,--quiet", a.quiet, "No progress bar");
}

int runProfile(const CLI::App& cmd, const ProfileArgs& a, std::ostream& out, std::ostream& err) {
    twb::RunConfig base = a.config.base();
    std::vector<twb::RunConfig> configs{base};
    if (!a.diff.empty()) configs.push_back(twb::RunConfig::parse(a.diff, base));
    if (a.measure.targets.empty()) // a target's worker checks its own devices
        for (const auto& c : configs)
            if (c.target.empty()) twb::validateConfig(c);

    const std::optional<BoundModel> bound = loadAndBind(cmd, a.model, a.inputs, out, err);
    if (!bound) return 1;

    twb::Plan plan;
    plan.configs = configs;
    plan.profile = true;
    if (a.measure.targets.size() > 1)
        throw twb::Error(
            "profile takes one --target; torchwb bench runs the same plan on several and compares them");
    plan.measurement = a.measure.measurement();
    plan.profileOptions.calls = a.calls;
    plan.profileOptions.keepEvents = !a.trace.empty();
    std::vector<twb::Profile> profiles;
    const twb::Report report = twb::runPlan(bound->model, bound->specs, bound->binding, plan,
                                            planProgress(configs, a.quiet, err,
                                                         [&](const twb::PlanStep& step) {
                                                             if (step.hasProfile)
                                                                 profiles.push_back(step.profile);
                                                         }),
                                            stopOnInterrupt());

    int status = 0;
    for (const auto& p : profiles) {
        out << "\nProfile of " << p.label << "\n";
        if (!p.ok) {
            out << "  failed: " << p.error << "\n";
            if (p.run >= 0 && std::size_t(p.run) < report.runs.size())
                out << twb::failureText(report.runs[std::size_t(p.run)]);
            status = 1;
            continue;
        }
        out << (a.by == "module" ? moduleTable(p, a.top)
                : a.by == "line" ? lineTable(p, a.top)
                                 : operatorTable(p, a.top));
        out << profileTotals(p);
    }
    if (profiles.size() == 2 && profiles[0].ok && profiles[1].ok)
        out << "\n" << diffTable(twb::diffProfiles(profiles[0], profiles[1]), a.top);
    if (!a.trace.empty() && status == 0) {
        twb::writeChromeTrace(a.trace, profiles);
        out << "\nwrote trace " << a.trace << " (open it in ui.perfetto.dev or chrome://tracing)\n";
    }
    if (!a.json.empty()) {
        twb::writeReport(a.json, report);
        out << "wrote report " << a.json << "\n";
    }
    return interrupted() ? kInterrupted : status;
}

} // namespace twb::cli
