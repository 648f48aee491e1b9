#include "twb/report.h"

#include "cuda_support.h"
#include "json_fields.h"
#include "json_values.h"
#include "readers.h"
#include "report_json.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/json.h"
#include "twb/runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/utsname.h>
#include <unistd.h>

namespace twb {

using nlohmann::ordered_json;

EnvironmentInfo currentEnvironment() {
    EnvironmentInfo e;
    const BuildInfo b = buildInfo();
    e.torchwbVersion = b.version;
    e.libtorchVersion = b.libtorchVersion;
    e.libtorchBuild = b.libtorch;
    e.cudaCompiled = b.cudaCompiled;
    e.cudaAvailable = b.cudaAvailable;
    if (b.cudaAvailable) {
        const auto cuda = detail::cudaEnvironment();
        e.cudaVersion = cuda.cudaVersion;
        e.cudnnVersion = cuda.cudnnVersion;
        e.cudaDevices = cuda.devices;
    }
    const ThreadSettings t = threadSettings();
    e.hardwareThreads = t.hardware;
    e.libtorchDefaultThreads = t.libtorchDefault;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    std::set<std::pair<std::string, std::string>> cores;
    std::string physical;
    while (std::getline(cpuinfo, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
        std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
        if (key == "model name" && e.cpuModel.empty()) e.cpuModel = value;
        if (key == "physical id") physical = value;
        if (key == "core id") cores.emplace(physical, value);
    }
    e.physicalCores = int(cores.size());
    struct utsname u{};
    if (uname(&u) == 0) e.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) e.hostName = host;
    const std::time_t now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    e.time = when;
    return e;
}

namespace {

using namespace detail::fields;

LibTorchBuild libtorchBuildFrom(const ordered_json& j) {
    LibTorchBuild b;
    b.source = get<std::string>(j, "source");
    b.location = get<std::string>(j, "location");
    b.blas = get<std::string>(j, "blas");
    b.lapack = get<std::string>(j, "lapack");
    b.onednn = get<std::string>(j, "onednn");
    b.openmp = get<std::string>(j, "openmp");
    b.parallelBackend = get<std::string>(j, "parallel_backend");
    b.cpuCapability = get<std::string>(j, "cpu_capability");
    b.cudaRuntime = get<std::string>(j, "cuda_runtime");
    b.cudnn = get<std::string>(j, "cudnn");
    b.kineto = get<bool>(j, "kineto");
    b.compiler = get<std::string>(j, "compiler");
    return b;
}

std::string percentileKey(double p) {
    std::ostringstream s;
    s << "p" << p;
    return s.str();
}

} // namespace

namespace detail {

ordered_json statsToJson(const LatencyStats& s, double scale) {
    ordered_json j{{"count", s.count},
                   {"min", num(s.min * scale)},
                   {"max", num(s.max * scale)},
                   {"mean", num(s.mean * scale)},
                   {"std", num(s.stddev * scale)},
                   {"median", num(s.median * scale)},
                   {"q1", num(s.q1 * scale)},
                   {"q3", num(s.q3 * scale)},
                   {"iqr", num(s.iqr * scale)},
                   {"cv", num(s.cv)},
                   {"whisker_low", num(s.whiskerLow * scale)},
                   {"whisker_high", num(s.whiskerHigh * scale)}};
    j["median_ci"] = {num(s.medianCiLow * scale), num(s.medianCiHigh * scale)};
    for (const auto& [p, v] : s.percentiles)
        j[percentileKey(p)] = num(v * scale);
    return j;
}

ordered_json configToJson(const RunConfig& c) {
    return {{"name", c.name},
            {"device", c.device},
            {"jit", jitModeName(c.jit)},
            {"graph_optimize", c.graphOptimize},
            {"threads", c.threads},
            {"dtype", c.dtype},
            {"grad", gradModeName(c.grad)},
            {"warmup", c.warmup < 0 ? ordered_json("auto") : ordered_json(c.warmup)},
            {"iterations", c.iterations},
            {"seconds", c.seconds},
            {"percentiles", c.percentiles},
            {"target", c.target}};
}

RunConfig configFromJson(const ordered_json& j) {
    RunConfig c;
    c.name = get<std::string>(j, "name");
    c.device = get<std::string>(j, "device", "cpu");
    c.set("jit", get<std::string>(j, "jit", "off"));
    c.graphOptimize = get<bool>(j, "graph_optimize", true);
    c.threads = get<int>(j, "threads", 0);
    c.dtype = get<std::string>(j, "dtype", "as_saved");
    c.set("grad", get<std::string>(j, "grad", "inference"));
    c.warmup = j.contains("warmup") && j.at("warmup").is_number()
                   ? detail::wholeNumber<int>(j.at("warmup"), "warmup")
                   : -1;
    c.iterations = get<int64_t>(j, "iterations", 0);
    c.target = get<std::string>(j, "target");
    c.seconds = get<double>(j, "seconds", 1.0);
    if (j.contains("percentiles")) c.percentiles = j.at("percentiles").get<std::vector<double>>();
    return c;
}

} // namespace detail

namespace {

Leaf leafFrom(const ordered_json& j) {
    Leaf l;
    l.path = get<std::string>(j, "path");
    l.summary.shape = get<std::vector<int64_t>>(j, "shape");
    l.summary.dtype = get<std::string>(j, "dtype");
    l.summary.device = get<std::string>(j, "device");
    l.summary.numel = get<int64_t>(j, "numel");
    l.summary.bytes = get<uint64_t>(j, "bytes");
    l.summary.min = getNum(j, "min");
    l.summary.max = getNum(j, "max");
    l.summary.mean = getNum(j, "mean");
    l.summary.nanCount = get<int64_t>(j, "nan");
    l.summary.infCount = get<int64_t>(j, "inf");
    l.summary.first = getDoubles(j, "first");
    if (j.contains("topk") && !j.at("topk").is_null())
        for (const auto& pair : j.at("topk")) {
            if (!pair.is_array() || pair.size() != 2)
                throw nlohmann::json::type_error::create(302, "topk holds [index, value] pairs", &pair);
            l.summary.topk.emplace_back(detail::wholeNumber<int64_t>(pair[0], "a topk index"),
                                        pair[1].is_null() ? std::nan("") : pair[1].get<double>());
        }
    return l;
}

ordered_json runJson(const RunRecord& r) {
    ordered_json j{{"label", r.label},
                   {"target", r.target},
                   {"config", detail::configToJson(r.config)},
                   {"ok", r.ok},
                   {"cancelled", r.cancelled},
                   {"error", r.error},
                   {"error_detail", r.errorDetail},
                   {"threads", {{"used", r.threadsUsed}, {"libtorch_default", r.libtorchDefaultThreads}}},
                   {"prepare_seconds", num(r.prepareSeconds)},
                   {"first_call_ns", num(r.firstCallNs)}};
    j["latency_ns"] = detail::statsToJson(r.stats, 1.0);
    j["latency_ms"] = detail::statsToJson(r.stats, 1e-6);
    j["ci_method"] = r.stats.ciMethod;
    j["outliers"] = {
        {"low", r.stats.outliersLow}, {"high", r.stats.outliersHigh}, {"slow", r.stats.slowOutliers}};
    j["drift"] = {{"relative", num(r.stats.drift)}, {"p_value", num(r.stats.driftPValue)}};
    j["warnings"] = r.warnings;
    j["batch_size"] = r.batchSize;
    j["throughput_per_s"] = num(r.throughput);
    j["peak_rss_bytes"] = r.peakRssBytes;
    j["cuda_peak_bytes"] = r.cudaPeakBytes;
    j["outputs"] = ordered_json::array();
    for (const auto& l : r.outputs)
        j["outputs"].push_back(detail::leafToJson(l));
    j["warmup_ns"] = doubles(r.warmupNs);
    j["samples_ns"] = doubles(r.samplesNs);
    j["device_ns"] = doubles(r.deviceNs);
    j["measurement"] = {{"mode", r.measurement},
                        {"processes", r.processes},
                        {"process_medians_ns", doubles(r.stats.processMedians)},
                        {"process_spread", num(r.stats.processSpread)}};
    // [process, round, first sample, samples] per round, in the order of samples_ns.
    j["rounds"] = ordered_json::array();
    for (const auto& s : r.rounds)
        j["rounds"].push_back({s.process, s.round, s.begin, s.count});
    if (!r.failedPhase.empty())
        j["failure"] = {{"phase", r.failedPhase},
                        {"signal", r.signal},
                        {"exit_code", r.exitCode},
                        {"stderr_tail", r.stderrTail},
                        {"fix", r.fix}};
    return j;
}

LatencyStats statsFrom(const ordered_json& j, const std::vector<double>& percentiles) {
    LatencyStats s;
    s.count = get<int64_t>(j, "count");
    s.min = getNum(j, "min");
    s.max = getNum(j, "max");
    s.mean = getNum(j, "mean");
    s.stddev = getNum(j, "std");
    s.median = getNum(j, "median");
    s.q1 = getNum(j, "q1");
    s.q3 = getNum(j, "q3");
    s.iqr = getNum(j, "iqr");
    s.cv = getNum(j, "cv");
    s.whiskerLow = getNum(j, "whisker_low");
    s.whiskerHigh = getNum(j, "whisker_high");
    if (j.contains("median_ci") && j.at("median_ci").size() == 2) {
        s.medianCiLow = j.at("median_ci")[0].is_null() ? std::nan("") : j.at("median_ci")[0].get<double>();
        s.medianCiHigh = j.at("median_ci")[1].is_null() ? std::nan("") : j.at("median_ci")[1].get<double>();
    }
    for (double p : percentiles) {
        const std::string key = percentileKey(p);
        if (j.contains(key)) s.percentiles.emplace_back(p, getNum(j, key.c_str()));
    }
    return s;
}

RunRecord runFrom(const ordered_json& j) {
    RunRecord r;
    r.label = get<std::string>(j, "label");
    r.target = get<std::string>(j, "target");
    if (j.contains("config")) r.config = detail::configFromJson(j.at("config"));
    r.ok = get<bool>(j, "ok");
    r.cancelled = get<bool>(j, "cancelled");
    r.error = get<std::string>(j, "error");
    r.errorDetail = get<std::string>(j, "error_detail");
    if (j.contains("threads")) {
        r.threadsUsed = get<int>(j.at("threads"), "used");
        r.libtorchDefaultThreads = get<int>(j.at("threads"), "libtorch_default");
    }
    r.prepareSeconds = getNum(j, "prepare_seconds");
    r.firstCallNs = getNum(j, "first_call_ns");
    if (j.contains("latency_ns")) r.stats = statsFrom(j.at("latency_ns"), r.config.percentiles);
    r.stats.ciMethod = get<std::string>(j, "ci_method");
    if (j.contains("outliers")) {
        r.stats.outliersLow = get<int64_t>(j.at("outliers"), "low");
        r.stats.outliersHigh = get<int64_t>(j.at("outliers"), "high");
        r.stats.slowOutliers = get<int64_t>(j.at("outliers"), "slow");
    }
    if (j.contains("drift")) {
        r.stats.drift = getNum(j.at("drift"), "relative");
        r.stats.driftPValue = getNum(j.at("drift"), "p_value", 1);
    }
    r.warnings = get<std::vector<std::string>>(j, "warnings");
    r.batchSize = get<int64_t>(j, "batch_size", 1);
    r.throughput = getNum(j, "throughput_per_s");
    r.peakRssBytes = get<int64_t>(j, "peak_rss_bytes", -1);
    r.cudaPeakBytes = get<int64_t>(j, "cuda_peak_bytes", -1);
    if (j.contains("outputs"))
        for (const auto& l : j.at("outputs"))
            r.outputs.push_back(leafFrom(l));
    r.warmupNs = getDoubles(j, "warmup_ns");
    r.samplesNs = getDoubles(j, "samples_ns");
    r.deviceNs = getDoubles(j, "device_ns");
    if (j.contains("measurement")) {
        const auto& m = j.at("measurement");
        r.measurement = get<std::string>(m, "mode", "in-process");
        r.processes = get<int>(m, "processes");
        r.stats.processMedians = getDoubles(m, "process_medians_ns");
        r.stats.processSpread = getNum(m, "process_spread", 1);
    }
    if (j.contains("rounds"))
        for (const auto& s : j.at("rounds")) {
            if (!s.is_array() || s.size() != 4)
                throw nlohmann::json::type_error::create(302, "rounds hold [process, round, begin, count]",
                                                         &s);
            RoundSpan span{detail::wholeNumber<int>(s[0], "a round's process"),
                           detail::wholeNumber<int>(s[1], "a round"),
                           detail::wholeNumber<int64_t>(s[2], "a round's first sample"),
                           detail::wholeNumber<int64_t>(s[3], "a round's sample count")};
            if (span.begin < 0 || span.count < 0 || span.begin + span.count > int64_t(r.samplesNs.size()))
                throw nlohmann::json::out_of_range::create(401, "a round lies outside samples_ns", &s);
            r.rounds.push_back(span);
        }
    if (j.contains("failure")) {
        const auto& f = j.at("failure");
        r.failedPhase = get<std::string>(f, "phase");
        r.signal = get<int>(f, "signal");
        r.exitCode = get<int>(f, "exit_code");
        r.stderrTail = get<std::string>(f, "stderr_tail");
        r.fix = get<std::string>(f, "fix");
    }
    return r;
}

LeafComparison leafComparisonFrom(const ordered_json& j) {
    LeafComparison c;
    c.path = get<std::string>(j, "path");
    c.status = leafStatusFromName(get<std::string>(j, "status", "ok"));
    c.note = get<std::string>(j, "note");
    c.shapeA = get<std::vector<int64_t>>(j, "shape_a");
    c.shapeB = get<std::vector<int64_t>>(j, "shape_b");
    c.dtypeA = get<std::string>(j, "dtype_a");
    c.dtypeB = get<std::string>(j, "dtype_b");
    c.numel = get<int64_t>(j, "numel");
    c.maxAbs = getNum(j, "max_abs");
    c.meanAbs = getNum(j, "mean_abs");
    c.maxRel = getNum(j, "max_rel");
    c.rmse = getNum(j, "rmse");
    c.cosine = getNum(j, "cosine", 1);
    c.allclose = get<bool>(j, "allclose");
    c.mismatches = get<int64_t>(j, "mismatches");
    c.firstMismatches = get<std::vector<std::vector<int64_t>>>(j, "first_mismatches");
    if (j.contains("nan")) c.nanA = get<int64_t>(j.at("nan"), "a"), c.nanB = get<int64_t>(j.at("nan"), "b");
    if (j.contains("inf")) c.infA = get<int64_t>(j.at("inf"), "a"), c.infB = get<int64_t>(j.at("inf"), "b");
    if (j.contains("topk")) {
        c.hasTopk = true;
        c.k = get<int>(j.at("topk"), "k");
        c.argmaxAgreement = getNum(j.at("topk"), "argmax_agreement");
        c.topkAgreement = getNum(j.at("topk"), "topk_agreement");
    }
    return c;
}

} // namespace

namespace {
OutputComparison outputComparisonFrom(const ordered_json& j) {
    OutputComparison o;
    o.allclose = get<bool>(j, "allclose");
    o.sameStructure = get<bool>(j, "same_structure", true);
    o.options.atol = get<double>(j, "atol", 1e-5);
    o.options.rtol = get<double>(j, "rtol", 1e-5);
    o.summary = get<std::string>(j, "summary");
    if (j.contains("leaves"))
        for (const auto& l : j.at("leaves"))
            o.leaves.push_back(leafComparisonFrom(l));
    return o;
}

ordered_json environmentJson(const EnvironmentInfo& e) {
    using detail::libtorchBuildObject;
    return {{"torchwb", e.torchwbVersion},
            {"libtorch", e.libtorchVersion},
            {"libtorch_build", libtorchBuildObject(e.libtorchBuild)},
            {"cuda_compiled", e.cudaCompiled},
            {"cuda_available", e.cudaAvailable},
            {"cuda_version", e.cudaVersion},
            {"cudnn_version", e.cudnnVersion},
            {"cuda_devices", e.cudaDevices},
            {"cpu_model", e.cpuModel},
            {"physical_cores", e.physicalCores},
            {"hardware_threads", e.hardwareThreads},
            {"libtorch_default_threads", e.libtorchDefaultThreads},
            {"os", e.os},
            {"host", e.hostName},
            {"time", e.time}};
}

EnvironmentInfo environmentFrom(const ordered_json& e) {
    EnvironmentInfo out;
    out.torchwbVersion = get<std::string>(e, "torchwb");
    out.libtorchVersion = get<std::string>(e, "libtorch");
    if (e.contains("libtorch_build")) out.libtorchBuild = libtorchBuildFrom(e.at("libtorch_build"));
    out.cudaCompiled = get<bool>(e, "cuda_compiled");
    out.cudaAvailable = get<bool>(e, "cuda_available");
    out.cudaVersion = get<std::string>(e, "cuda_version");
    out.cudnnVersion = get<std::string>(e, "cudnn_version");
    out.cudaDevices = get<std::vector<std::string>>(e, "cuda_devices");
    out.cpuModel = get<std::string>(e, "cpu_model");
    out.physicalCores = get<int>(e, "physical_cores");
    out.hardwareThreads = get<int>(e, "hardware_threads");
    out.libtorchDefaultThreads = get<int>(e, "libtorch_default_threads");
    out.os = get<std::string>(e, "os");
    out.hostName = get<std::string>(e, "host");
    out.time = get<std::string>(e, "time");
    return out;
}

} // namespace

std::string reportToJson(const Report& r, int indent) {
    ordered_json j{{"schema", "torch-workbench-report"}, {"schema_version", r.schemaVersion}};
    j["environment"] = environmentJson(r.environment);
    j["model"] = detail::modelRefToJson(r.model);
    j["inputs"] = detail::inputRefsToJson(r.inputs);
    // The first run's figures at the top level, for single-configuration reports and quick scripts.
    if (!r.runs.empty()) {
        j["config"] = detail::configToJson(r.runs[0].config);
        j["latency_ms"] = detail::statsToJson(r.runs[0].stats, 1e-6);
    }
    j["runs"] = ordered_json::array();
    for (const auto& run : r.runs)
        j["runs"].push_back(runJson(run));
    j["comparisons"] = ordered_json::array();
    for (const auto& c : r.comparisons) {
        ordered_json cj{{"baseline", c.baseline},
                        {"candidate", c.candidate},
                        {"speedup", num(c.latency.speedup)},
                        {"speedup_ci", {num(c.latency.ciLow), num(c.latency.ciHigh)}},
                        {"p_value", num(c.latency.pValue)},
                        {"significant", c.latency.significant},
                        {"verdict", c.latency.verdict}};
        if (c.hasOutputs) cj["outputs"] = detail::outputComparisonObject(c.outputs);
        j["comparisons"].push_back(cj);
    }
    if (!r.profiles.empty()) {
        j["profiles"] = ordered_json::array();
        for (const auto& p : r.profiles)
            j["profiles"].push_back(detail::profileToJson(p));
    }
    if (r.hasSweep) j["sweep"] = detail::sweepToJson(r.sweep);
    if (r.hasLoad) j["load"] = detail::loadToJson(r.load);
    if (!r.probe.empty())
        j["probe"] = {{"gemm_ns", doubles(r.probe.gemmNs)}, {"copy_ns", doubles(r.probe.copyNs)}};
    if (!r.gate.verdict.empty())
        j["gate"] = {{"verdict", r.gate.verdict}, {"against", r.gate.against}, {"lines", r.gate.lines}};
    if (!r.targets.empty()) {
        j["targets"] = ordered_json::array();
        for (const auto& t : r.targets)
            j["targets"].push_back({{"name", t.name},
                                    {"reached", t.reached},
                                    {"error", t.error},
                                    {"environment", environmentJson(t.environment)}});
    }
    if (!r.runs.empty()) j["samples_ns"] = doubles(r.runs[0].samplesNs);
    return j.dump(indent);
}

Report reportFromJson(const std::string& text, const std::string& source) {
    ordered_json j;
    try {
        j = ordered_json::parse(text);
    } catch (const std::exception& e) {
        throw Error(source + ": not a JSON report", e.what());
    }
    Report r;
    try {
        if (!j.is_object() || !j.contains("schema") || !j.at("schema").is_string() ||
            j.at("schema").get<std::string>() != "torch-workbench-report")
            throw Error(source +
                        ": not a Torch Workbench report (no \"schema\": \"torch-workbench-report\")");
        r.schemaVersion = get<int>(j, "schema_version", 0);
        if (r.schemaVersion > Report::kSchemaVersion || r.schemaVersion < 1)
            throw Error(
                source + ": report schema version " + std::to_string(r.schemaVersion) +
                " is not supported; this torchwb reads version " + std::to_string(Report::kSchemaVersion) +
                (r.schemaVersion > Report::kSchemaVersion ? " (the report is from a newer torchwb)" : ""));
        if (j.contains("environment")) r.environment = environmentFrom(j.at("environment"));
        if (j.contains("targets"))
            for (const auto& t : j.at("targets")) {
                TargetSection s;
                s.name = get<std::string>(t, "name");
                s.reached = get<bool>(t, "reached");
                s.error = get<std::string>(t, "error");
                if (t.contains("environment")) s.environment = environmentFrom(t.at("environment"));
                r.targets.push_back(s);
            }
        if (j.contains("model")) r.model = detail::modelRefFromJson(j.at("model"));
        if (j.contains("inputs")) r.inputs = detail::inputRefsFromJson(j.at("inputs"));
        if (j.contains("runs"))
            for (const auto& run : j.at("runs"))
                r.runs.push_back(runFrom(run));
        if (j.contains("comparisons"))
            for (const auto& c : j.at("comparisons")) {
                RunComparison rc;
                rc.baseline = get<int>(c, "baseline");
                rc.candidate = get<int>(c, "candidate");
                rc.latency.speedup = getNum(c, "speedup", 1);
                if (c.contains("speedup_ci") && c.at("speedup_ci").size() == 2) {
                    rc.latency.ciLow =
                        c.at("speedup_ci")[0].is_null() ? std::nan("") : c.at("speedup_ci")[0].get<double>();
                    rc.latency.ciHigh =
                        c.at("speedup_ci")[1].is_null() ? std::nan("") : c.at("speedup_ci")[1].get<double>();
                }
                rc.latency.pValue = getNum(c, "p_value", 1);
                rc.latency.significant = get<bool>(c, "significant");
                rc.latency.verdict = get<std::string>(c, "verdict");
                if (c.contains("outputs")) {
                    rc.hasOutputs = true;
                    rc.outputs = outputComparisonFrom(c.at("outputs"));
                }
                r.comparisons.push_back(rc);
            }
        if (j.contains("profiles"))
            for (const auto& p : j.at("profiles"))
                r.profiles.push_back(detail::profileFromJson(p));
        if (j.contains("probe")) {
            r.probe.gemmNs = getDoubles(j.at("probe"), "gemm_ns");
            r.probe.copyNs = getDoubles(j.at("probe"), "copy_ns");
        }
        if (j.contains("gate")) {
            r.gate.verdict = get<std::string>(j.at("gate"), "verdict");
            r.gate.against = get<std::string>(j.at("gate"), "against");
            r.gate.lines = get<std::vector<std::string>>(j.at("gate"), "lines");
        }
        if (j.contains("sweep")) {
            r.hasSweep = true;
            r.sweep = detail::sweepFromJson(j.at("sweep"));
        }
        if (j.contains("load")) {
            r.hasLoad = true;
            r.load = detail::loadFromJson(j.at("load"));
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(source + ": malformed report", e.what());
    }
    return r;
}

void writeReport(const std::string& path, const Report& report) {
    detail::writeFileAtomically(path, reportToJson(report) + "\n");
}

Report readReport(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": no such file");
    std::stringstream s;
    s << in.rdbuf();
    return reportFromJson(s.str(), path);
}

namespace detail {
ordered_json modelRefToJson(const ModelRef& m) {
    ordered_json j{
        {"path", m.path}, {"size", m.size}, {"sha256", m.sha256}, {"kind", m.kind}, {"class", m.className}};
    j["operator_libraries"] = m.operatorLibraries;
    return j;
}
ModelRef modelRefFromJson(const ordered_json& m) {
    return {get<std::string>(m, "path"), get<std::string>(m, "sha256"),
            get<std::string>(m, "kind"), get<std::string>(m, "class"),
            get<uint64_t>(m, "size"),    get<std::vector<std::string>>(m, "operator_libraries")};
}
ordered_json inputRefsToJson(const std::vector<InputRef>& inputs) {
    ordered_json a = ordered_json::array();
    for (const auto& i : inputs)
        a.push_back({{"argument", i.argument},
                     {"source", i.source},
                     {"sha256", i.sha256},
                     {"generator", i.generator},
                     {"shape", i.shape},
                     {"dtype", i.dtype}});
    return a;
}
std::vector<InputRef> inputRefsFromJson(const ordered_json& a) {
    std::vector<InputRef> out;
    for (const auto& i : a)
        out.push_back({get<std::string>(i, "argument"), get<std::string>(i, "source"),
                       get<std::string>(i, "sha256"), get<std::string>(i, "generator"),
                       get<std::vector<int64_t>>(i, "shape"), get<std::string>(i, "dtype")});
    return out;
}
OutputComparison outputComparisonFromJson(const ordered_json& j) {
    return outputComparisonFrom(j);
}
ordered_json environmentToJson(const EnvironmentInfo& e) {
    return environmentJson(e);
}
EnvironmentInfo environmentFromJson(const ordered_json& j) {
    return environmentFrom(j);
}
ordered_json runToJson(const RunRecord& r) {
    return runJson(r);
}
RunRecord runFromJson(const ordered_json& j) {
    return runFrom(j);
}

} // namespace detail

} // namespace twb
