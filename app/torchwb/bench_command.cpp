#include "bench_command.h"

#include "format.h"

#include "twb/error.h"
#include "twb/json.h"
#include "twb/plan.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace twb::cli {
namespace {

std::vector<double> parsePercentiles(const std::string& text) {
    std::vector<double> out;
    std::istringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        try {
            std::size_t used = 0;
            const double p = std::stod(part, &used);
            if (used != part.size() || !(p > 0 && p <= 100)) throw 0;
            out.push_back(p);
        } catch (...) {
            throw twb::Error("--percentiles wants numbers between 0 and 100, e.g. 50,90,99; not '" + part +
                             "'");
        }
    }
    return out;
}

double parseFraction(const std::string& text) {
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        const std::string rest = text.substr(used);
        if (rest == "%")
            v /= 100;
        else if (!rest.empty())
            throw 0;
        if (v < 0) throw 0;
        return v;
    } catch (...) {
        throw twb::Error("--max-slowdown wants a percentage such as 5% (or a fraction such as 0.05), not '" +
                         text + "'");
    }
}

} // namespace

void addBenchOptions(CLI::App& cmd, BenchArgs& a) {
    cmd.add_option("MODEL", a.model, "TorchScript archive (torch.jit.save)")->required();
    a.inputs.add(cmd);
    a.config.add(cmd, true);
    cmd.add_option("-c,--config", a.configs,
                   "Another configuration, as key=value,… over the flags (e.g. jit=optimize,threads=1); "
                   "repeat to compare several; the first is the baseline");
    cmd.add_option("--json", a.json, "Write the versioned JSON report here");
    cmd.add_option("--csv", a.csv, "Write every raw sample here (one row per call)");
    cmd.add_option("--percentiles", a.percentiles, "Percentiles to report (default 90,95,99,99.9)");
    cmd.add_option("--atol", a.atol,
                   "Absolute tolerance when comparing configurations' outputs (default 1e-5)");
    cmd.add_option("--rtol", a.rtol,
                   "Relative tolerance when comparing configurations' outputs (default 1e-5)");
    cmd.add_option("--baseline", a.baseline,
                   "A report to hold this run against (exit 1 on a significant slowdown)");
    cmd.add_option("--max-slowdown", a.maxSlowdown, "Slowdown allowed against --baseline (default 5%)");
    cmd.add_option(
        "--against", a.against,
        "A baseline model (or a report whose model is found) measured in the same run, its rounds "
        "interleaved with MODEL's: the way to gate in CI; prints verdict: pass|regression|inconclusive");
    a.measure.add(cmd, true);
    cmd.add_flag("-q,--quiet", a.quiet, "No progress bar");
}

namespace {

// --against: a model file, or a report whose model file is still where the report says.
std::string baselineModel(const std::string& against) {
    if (against.size() > 5 && against.compare(against.size() - 5, 5, ".json") == 0) {
        const twb::Report r = twb::readReport(against);
        if (r.model.path.empty()) throw twb::Error("--against " + against + ": the report names no model");
        if (!std::ifstream(r.model.path))
            throw twb::Error("--against " + against + ": its model " + r.model.path +
                             " is not there any more; give "
                             "the baseline model's file instead");
        return r.model.path;
    }
    return against;
}

std::string fileName(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

} // namespace

int runBench(const CLI::App& cmd, const BenchArgs& a, std::ostream& out, std::ostream& err) {
    twb::RunConfig base = a.config.base();
    if (!a.percentiles.empty()) base.percentiles = parsePercentiles(a.percentiles);
    std::vector<twb::RunConfig> configs;
    if (a.configs.empty()) configs.push_back(base);
    for (const auto& spec : a.configs)
        configs.push_back(twb::RunConfig::parse(spec, base));
    twb::Report baseline;
    if (!a.baseline.empty()) baseline = twb::readReport(a.baseline);
    if (!a.baseline.empty() && !a.against.empty())
        throw twb::Error("--baseline and --against are two ways to gate: give one");
    const double maxSlowdown = parseFraction(a.maxSlowdown);
    const std::string against = a.against.empty() ? std::string() : baselineModel(a.against);

    const std::optional<BoundModel> bound = loadAndBind(cmd, a.model, a.inputs, out, err);
    if (!bound) return 1;

    twb::Plan plan;
    plan.measurement = a.measure.measurement();
    const std::size_t half = configs.size();
    if (!against.empty()) {
        // The gate's question is a ratio: baseline and candidate share each worker unless told otherwise.
        if (a.measure.workers.empty()) plan.measurement.shareWorkers = true;
        // Even in one process the ratio differs a little from process to process (where its memory and
        // threads landed): eight processes give the interval the degrees of freedom to resolve 10% on a
        // noisy 2-core machine (tests/perf/README.md, "Figures that repeat").
        if (!a.measure.processesGiven() && !plan.measurement.quick) plan.measurement.processes = 8;
        // The baseline's configurations first, then the candidate's, each named after its file.
        std::vector<twb::RunConfig> both;
        for (auto c : configs) {
            c.name = fileName(against) + " · " + c.label();
            both.push_back(c);
            plan.modelFiles.push_back(against);
        }
        for (auto c : configs) {
            c.name = fileName(a.model) + " · " + c.label();
            both.push_back(c);
            plan.modelFiles.push_back("");
        }
        configs = both;
    }
    plan.configs = configs;
    plan.tolerance.atol = a.atol;
    plan.tolerance.rtol = a.rtol;
    twb::Report report =
        a.measure.targets.size() > 1
            ? twb::runPlanOnTargets(bound->model, bound->specs, bound->binding, plan, a.measure.targets,
                                    planProgress(targetConfigs(configs, a.measure.targets), a.quiet, err),
                                    stopOnInterrupt())
            : twb::runPlan(bound->model, bound->specs, bound->binding, plan,
                           planProgress(configs, a.quiet, err), stopOnInterrupt());
    out << targetsText(report);
    const auto& m = plan.measurement;
    out << "\nmeasured "
        << (m.quick ? "quickly: one worker process and one round per configuration (figures may "
                      "not repeat in another run)"
                    : "in " + std::to_string(m.processCount()) +
                          (m.processCount() == 1 ? " worker process" : " worker processes") +
                          " per configuration, rounds interleaved in a shuffled "
                          "order (seed " +
                          std::to_string(m.seed) + ")")
        << "\n";
    out << "\n" << benchTable(report.runs);
    for (const auto& c : report.comparisons)
        out << "\n" << c.latency.verdict << "\n  outputs: " << outputComparisonText(c.outputs);

    std::optional<twb::GateResult> gate;
    if (!a.baseline.empty()) gate = twb::regressionGate(baseline, report, maxSlowdown);
    if (!against.empty()) gate = twb::interleavedGate(report, half, maxSlowdown);
    if (gate) report.gate = gate->summary(against.empty() ? a.baseline : against);

    if (!a.json.empty()) {
        twb::writeReport(a.json, report);
        out << "\nwrote report " << a.json << "\n";
    }
    if (!a.csv.empty()) {
        writeText(a.csv, twb::samplesCsv(report));
        out << "wrote samples " << a.csv << "\n";
    }

    int status = 0, ok = 0;
    for (const auto& r : report.runs) {
        if (!r.ok) status = 1;
        ok += r.ok;
    }
    if (ok == 0 && !report.runs.empty()) err << a.inputs.suggestionNote();
    if (gate) {
        out << "\n";
        for (const auto& line : report.gate.lines)
            out << "gate: " << line << "\n";
        // A gate's exit status says only whether it found a regression.
        status = gate->verdict() == twb::GateVerdict::Regression ? 1 : 0;
        out << "verdict: " << report.gate.verdict << "\n";
    }
    return interrupted() ? kInterrupted : status;
}

void addCompareOptions(CLI::App& cmd, CompareArgs& a) {
    cmd.add_option("A", a.a, "Output file (.npy .pt .npz .safetensors …) or a torchwb report (.json)")
        ->required();
    cmd.add_option("B", a.b, "The file to compare it with")->required();
    cmd.add_option("--atol", a.atol, "Absolute tolerance (default 1e-5)");
    cmd.add_option("--rtol", a.rtol, "Relative tolerance (default 1e-5)");
    cmd.add_flag("--json", a.json, "Print the comparison as JSON");
}

namespace {
// Two sweeps: what each recommends, and the two winners' latencies held against each other.
int compareSweeps(const twb::Report& ra, const twb::Report& rb, const CompareArgs& a, std::ostream& out) {
    auto winner = [](const twb::Report& r) -> const twb::SweepPoint* {
        return r.sweep.recommended >= 0 ? &r.sweep.points[std::size_t(r.sweep.recommended)] : nullptr;
    };
    const twb::SweepPoint* wa = winner(ra);
    const twb::SweepPoint* wb = winner(rb);
    nlohmann::ordered_json j{
        {"kind", "sweeps"},
        {"a",
         {{"report", a.a}, {"recommended", wa ? wa->id : ""}, {"recommendation", ra.sweep.recommendation}}},
        {"b",
         {{"report", a.b}, {"recommended", wb ? wb->id : ""}, {"recommendation", rb.sweep.recommendation}}}};
    if (!a.json) {
        out << "A (" << ra.environment.cpuModel << ", " << ra.environment.hostName
            << "): " << ra.sweep.recommendation << "\nB (" << rb.environment.cpuModel << ", "
            << rb.environment.hostName << "): " << rb.sweep.recommendation << "\n";
        out << (wa && wb && wa->id == wb->id ? "Both recommend the same configuration.\n"
                                             : "They recommend different configurations.\n");
    }
    if (wa && wb && !wa->samplesNs.empty() && !wb->samplesNs.empty()) {
        const auto c = twb::compareLatency(wa->samplesNs, wb->samplesNs, "A's winner", "B's winner");
        if (!a.json) out << c.verdict << "\n";
        j["winners"] = {{"speedup", c.speedup}, {"speedup_ci", {c.ciLow, c.ciHigh}}, {"verdict", c.verdict}};
    }
    if (a.json) out << j.dump(2) << "\n";
    return 0;
}
} // namespace

int runCompare(const CompareArgs& a, std::ostream& out, std::ostream& err) {
    auto isReport = [](const std::string& path) {
        return path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    };
    if (isReport(a.a) != isReport(a.b)) {
        err << "torchwb: compare takes two output files or two reports, not one of each\n";
        return 2;
    }
    if (isReport(a.a)) {
        const twb::Report ra = twb::readReport(a.a), rb = twb::readReport(a.b);
        if (ra.hasSweep && rb.hasSweep) return compareSweeps(ra, rb, a, out);
        nlohmann::ordered_json j{
            {"kind", "reports"}, {"a", a.a}, {"b", a.b}, {"runs", nlohmann::ordered_json::array()}};
        for (std::size_t i = 0; i < rb.runs.size(); ++i) {
            const twb::RunRecord* before = twb::matchingRun(ra, rb.runs[i], i);
            if (!before || !rb.runs[i].ok) continue;
            const auto c = twb::compareLatency(before->samplesNs, rb.runs[i].samplesNs, "A: " + before->label,
                                               "B: " + rb.runs[i].label);
            if (!a.json) {
                out << c.verdict << "\n  A " << twb::formatDuration(before->stats.median) << " median on "
                    << ra.environment.cpuModel << " (" << ra.environment.hostName << ")\n  B "
                    << twb::formatDuration(rb.runs[i].stats.median) << " median on "
                    << rb.environment.cpuModel << " (" << rb.environment.hostName << ")\n";
            }
            j["runs"].push_back({{"a", before->label},
                                 {"b", rb.runs[i].label},
                                 {"median_ms_a", before->stats.median / 1e6},
                                 {"median_ms_b", rb.runs[i].stats.median / 1e6},
                                 {"speedup", c.speedup},
                                 {"speedup_ci", {c.ciLow, c.ciHigh}},
                                 {"p_value", c.pValue},
                                 {"significant", c.significant},
                                 {"verdict", c.verdict}});
        }
        if (a.json) out << j.dump(2) << "\n";
        return 0;
    }
    twb::CompareOptions options;
    options.atol = a.atol;
    options.rtol = a.rtol;
    const twb::OutputComparison c =
        twb::compareOutputs(twb::readTensorFile(a.a), twb::readTensorFile(a.b), options);
    if (a.json)
        out << twb::toJson(c) << "\n";
    else
        out << outputComparisonText(c);
    return c.allclose ? 0 : 1;
}

} // namespace twb::cli
