#include "bench_command.h"

#include "format.h"

#include "twb/error.h"
#include "twb/json.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace torchwb {
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

void writeText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw twb::Error(path + ": cannot be opened for writing");
    out << text;
    if (!out) throw twb::Error(path + ": writing failed (disk full?)");
}

// The baseline run to hold a run against: same label, else the same position.
const twb::RunRecord* matchingRun(const twb::Report& baseline, const twb::RunRecord& run, std::size_t index) {
    for (const auto& b : baseline.runs)
        if (b.label == run.label && b.ok) return &b;
    if (index < baseline.runs.size() && baseline.runs[index].ok) return &baseline.runs[index];
    return nullptr;
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
    cmd.add_flag("-q,--quiet", a.quiet, "No progress bar");
}

int runBench(const CLI::App& cmd, const BenchArgs& a, std::ostream& out, std::ostream& err) {
    twb::RunConfig base = a.config.base();
    if (!a.percentiles.empty()) base.percentiles = parsePercentiles(a.percentiles);
    std::vector<twb::RunConfig> configs;
    if (a.configs.empty()) configs.push_back(base);
    for (const auto& spec : a.configs)
        configs.push_back(twb::RunConfig::parse(spec, base));
    twb::Report baseline;
    if (!a.baseline.empty()) baseline = twb::readReport(a.baseline);
    const double maxSlowdown = parseFraction(a.maxSlowdown);

    twb::Model model = loadModel(a.model, a.inputs, out, false);
    const twb::InputBinding binding = model.bindInputs(a.inputs.read(cmd));
    if (!binding.ok) {
        err << "torchwb: " << a.model << ": " << binding.error << "\n";
        return 1;
    }
    for (const auto& arg : binding.arguments)
        out << "input   " << arg.argument << " <- " << arg.source << "  " << arg.value.describe() << "\n";

    twb::Report report;
    report.environment = twb::currentEnvironment();
    report.model.path = a.model;
    report.model.size = model.info().fileSize;
    report.model.sha256 = twb::fileSha256(a.model);
    report.model.kind = twb::kindName(model.info().diagnosis.kind);
    report.model.className = model.info().className;
    report.inputs = a.inputs.describe(cmd, binding);

    std::vector<twb::Value> outputs;
    for (const auto& config : configs) {
        const twb::ProgressFn progress = a.quiet ? twb::ProgressFn() : terminalProgress(config.label());
        twb::RunResult result = twb::runConfiguration(model, binding, config, progress);
        if (progress) err << "\r\033[K" << std::flush;
        report.runs.push_back(std::move(result.record));
        outputs.push_back(result.output);
    }
    out << "\n" << benchTable(report.runs);

    for (std::size_t i = 1; i < report.runs.size(); ++i) {
        const auto& b = report.runs[0];
        const auto& c = report.runs[i];
        if (!b.ok || !c.ok) continue;
        twb::RunComparison rc;
        rc.baseline = 0;
        rc.candidate = int(i);
        rc.latency = twb::compareLatency(b.samplesNs, c.samplesNs, b.label, c.label);
        twb::CompareOptions options;
        options.atol = a.atol;
        options.rtol = a.rtol;
        rc.outputs = twb::compareOutputs(outputs[0], outputs[i], options);
        rc.hasOutputs = true;
        out << "\n" << rc.latency.verdict << "\n  outputs: " << outputComparisonText(rc.outputs);
        report.comparisons.push_back(std::move(rc));
    }

    if (!a.json.empty()) {
        twb::writeReport(a.json, report);
        out << "\nwrote report " << a.json << "\n";
    }
    if (!a.csv.empty()) {
        writeText(a.csv, twb::samplesCsv(report));
        out << "wrote samples " << a.csv << "\n";
    }

    int status = 0;
    for (const auto& r : report.runs)
        if (!r.ok) status = 1;
    if (!a.baseline.empty()) {
        for (std::size_t i = 0; i < report.runs.size(); ++i) {
            const auto& run = report.runs[i];
            const twb::RunRecord* before = run.ok ? matchingRun(baseline, run, i) : nullptr;
            if (!before) {
                out << "baseline: no run in " << a.baseline << " to hold '" << run.label << "' against\n";
                status = 1;
                continue;
            }
            const auto cmp = twb::compareLatency(before->samplesNs, run.samplesNs, "the baseline", run.label);
            // A regression: confidently slower by more than allowed (the whole interval beyond the limit).
            const bool regression = cmp.pValue < 0.05 && cmp.ciHigh < 1 / (1 + maxSlowdown);
            char buf[128];
            std::snprintf(buf, sizeof buf, " (allowed slowdown %.1f%%)", maxSlowdown * 100);
            out << "baseline: " << cmp.verdict << buf << (regression ? ": REGRESSION" : ": ok") << "\n";
            if (regression) status = 1;
        }
    }
    return status;
}

void addCompareOptions(CLI::App& cmd, CompareArgs& a) {
    cmd.add_option("A", a.a, "Output file (.npy .pt .npz .safetensors …) or a torchwb report (.json)")
        ->required();
    cmd.add_option("B", a.b, "The file to compare it with")->required();
    cmd.add_option("--atol", a.atol, "Absolute tolerance (default 1e-5)");
    cmd.add_option("--rtol", a.rtol, "Relative tolerance (default 1e-5)");
    cmd.add_flag("--json", a.json, "Print the comparison as JSON");
}

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
        nlohmann::ordered_json j{
            {"kind", "reports"}, {"a", a.a}, {"b", a.b}, {"runs", nlohmann::ordered_json::array()}};
        for (std::size_t i = 0; i < rb.runs.size(); ++i) {
            const twb::RunRecord* before = matchingRun(ra, rb.runs[i], i);
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

} // namespace torchwb
