#include "sweep_command.h"

#include "twb/format.h"
#include "twb/plan.h"

#include "twb/target.h"

#include "format.h"

#include "twb/report.h"
#include "twb/stats.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace twb::cli {
namespace {

std::string pointsCsv(const twb::SweepResult& r) {
    std::ostringstream out;
    out << "id,status,reason,median_ns,p99_ns,items_per_s,batch,streams,outputs_ok,on_front\n";
    for (const auto& p : r.points) {
        std::string reason = p.reason;
        std::replace(reason.begin(), reason.end(), '"', '\'');
        out << '"' << p.id << "\"," << twb::pointStatusName(p.status) << ",\"" << reason << "\","
            << (p.stats.count ? formatFixed(p.stats.median, 0) : "") << ","
            << (p.stats.count ? formatFixed(p.stats.percentile(99), 0) : "") << ","
            << formatFixed(p.throughput, 2) << "," << p.batch << "," << p.streams << ","
            << (p.outputsChecked ? (p.outputsOk ? "yes" : "no") : "") << "," << (p.onFront ? "yes" : "no")
            << "\n";
    }
    return out.str();
}

} // namespace

std::string sweepText(const twb::SweepResult& r) {
    std::ostringstream out;
    std::size_t width = 16;
    for (const auto& p : r.points)
        width = std::max(width, std::min<std::size_t>(p.id.size() + 2, 60));
    const twb::SweepPoint* libtorch = nullptr;
    for (const auto& p : r.points)
        if (p.referenceKind == twb::SweepReference::LibTorchDefault && p.stats.count) libtorch = &p;
    out << cell("configuration", width, true) << cell("status", 12, true) << cell("median", 11)
        << cell("p99", 11) << cell("items/s", 11) << cell("vs LibTorch", 12) << cell("outputs", 10)
        << "  front\n";
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        const auto& p = r.points[i];
        std::string status = twb::pointStatusName(p.status);
        if (int(i) == r.recommended) status = "BEST";
        out << cell(p.id, width, true) << cell(status, 12, true);
        if (p.stats.count == 0) {
            out << "  " << p.reason << "\n";
            continue;
        }
        std::string vs;
        if (libtorch && libtorch != &p) {
            const double s = libtorch->stats.median / p.stats.median;
            vs = formatFixed(s, 2) + "×";
        }
        out << cell(twb::formatDuration(p.stats.median), 11)
            << cell(twb::formatDuration(p.stats.percentile(99)), 11) << cell(formatFixed(p.throughput, 1), 11)
            << cell(vs, 12) << cell(p.outputsChecked ? (p.outputsOk ? "ok" : "DIFFER") : "?", 10)
            << (p.onFront ? "  *" : "") << "\n";
        if (p.outputsChecked && !p.outputsOk)
            out << "    outputs differ from the model as saved (atol " << numberText(p.atol) << ", rtol "
                << numberText(p.rtol) << "): " << p.outputs.summary << "; never recommended\n";
        else if (p.status == twb::PointStatus::Eliminated)
            out << "    " << p.reason << "\n";
    }
    out << "\nPareto front (lowest median, highest items/s"
        << (r.frontWithMemory ? ", least peak memory" : "") << "):";
    bool any = false;
    for (const auto& p : r.points)
        if (p.onFront) {
            out << (any ? "; " : " ") << p.id << " (" << twb::formatDuration(p.stats.median) << ", "
                << formatFixed(p.throughput, 1) << " items/s"
                << (r.frontWithMemory && p.peakRssBytes > 0 ? ", " + bytesText(uint64_t(p.peakRssBytes)) : "")
                << ")";
            any = true;
        }
    out << (any ? "\n" : " none\n");
    out << "Measured for " << formatFixed(r.elapsedSeconds, 1) << " s of a "
        << formatFixed(r.budgetSeconds, 0) << " s budget" << (r.cancelled ? ", cancelled" : "") << ".\n\n"
        << r.recommendation << "\n";
    return out.str();
}

void addSweepOptions(CLI::App& cmd, SweepArgs& a) {
    cmd.add_option("MODEL", a.model, "TorchScript archive (torch.jit.save)")->required();
    a.inputs.add(cmd);
    a.config.add(cmd, true);
    cmd.add_option(
        "--axis", a.axes,
        "KEY=V1,V2,…: jit, threads (per stream), dtype, grad, device, batch, streams; repeat for a "
        "grid (none: JIT modes × 1 and all threads × 1 and 2 streams)");
    cmd.add_option("--objective", a.objective, "latency, throughput or balanced (default latency)")
        ->check(CLI::IsMember({"latency", "throughput", "balanced"}));
    cmd.add_option("--max-latency", a.maxLatencyMs,
                   "Throughput objective: only points whose p99 is below MS");
    cmd.add_option("--budget", a.budget, "Seconds the whole sweep may take (default 60)")
        ->check(CLI::Range(1.0, 86400.0));
    cmd.add_option("--atol", a.atol,
                   "Absolute tolerance against the model as saved (default 1e-5; 1e-2 for "
                   "float16 and bfloat16 points)");
    cmd.add_option("--rtol", a.rtol,
                   "Relative tolerance (default 1e-5; 1e-2 for float16 and bfloat16 points)");
    cmd.add_option("--json", a.json, "Write the versioned JSON report with the sweep");
    cmd.add_option("--csv", a.csv, "Write one row per point");
    cmd.add_flag("--apply", a.apply, "Print the winner as torchwb bench flags");
    cmd.add_flag("--memory", a.memory, "Draw the Pareto front over peak resident memory too");
    cmd.add_flag("-q,--quiet", a.quiet, "No progress line");
    cmd.add_option("--target", a.target, kTargetHelp);
}

int runSweepCommand(const CLI::App& cmd, const SweepArgs& a, std::ostream& out, std::ostream& err) {
    twb::SweepOptions options;
    options.base = a.config.base();
    for (const auto& text : a.axes)
        options.axes.push_back(twb::SweepAxis::parse(text));
    options.objective = twb::parseObjective(a.objective);
    options.maxLatencyMs = a.maxLatencyMs;
    options.budgetSeconds = a.budget;
    options.frontWithMemory = a.memory;
    if (a.atol >= 0 || a.rtol >= 0) {
        options.tolerancesGiven = true;
        options.tolerance.atol = a.atol >= 0 ? a.atol : 1e-5;
        options.tolerance.rtol = a.rtol >= 0 ? a.rtol : 1e-5;
    }
    twb::Model model = loadModel(a.model, a.inputs, out, false);
    const std::vector<twb::InputSpec> specs = a.inputs.specs(cmd, model, out);
    twb::SweepCallbacks callbacks;
    if (!a.quiet)
        callbacks.progress = [&](const twb::SweepProgress& p) {
            err << "\r\033[Kround " << p.round + 1 << ", " << p.point + 1 << "/" << p.points << " " << p.label
                << "  " << formatFixed(p.elapsedSeconds, 0) << " s, " << formatFixed(p.remainingSeconds, 0)
                << " s left" << std::flush;
            return true;
        };
    const twb::WorkerOptions worker =
        a.target.empty() ? twb::WorkerOptions{} : twb::Target::parse(a.target).workerOptions();
    const twb::SweepResult result =
        twb::runSweep(model, specs, a.inputs.readOptions(), options, callbacks, stopOnInterrupt(), worker);
    if (!a.quiet) err << "\r\033[K" << std::flush;
    out << "\n" << sweepText(result);
    if (a.apply && result.recommended >= 0)
        out << "\ntorchwb bench " << a.model << " " << result.applyFlags << "\n";
    if (!a.json.empty()) {
        twb::Report report = twb::reportFor(model, specs, {}); // the sweep reads and binds its inputs itself
        report.hasSweep = true;
        report.sweep = result;
        twb::writeReport(a.json, report);
        out << "wrote report " << a.json << "\n";
    }
    if (!a.csv.empty()) {
        writeText(a.csv, pointsCsv(result));
        out << "wrote points " << a.csv << "\n";
    }
    if (interrupted()) return kInterrupted;
    return result.recommended >= 0 ? 0 : 1;
}

} // namespace twb::cli
