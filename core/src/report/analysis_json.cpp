// The JSON of a report's analyses: profiles (with their events), sweeps and load runs, as reports store
// them and the worker protocol sends them (report_json.h).
#include "json_fields.h"
#include "report_json.h"

#include "twb/error.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace twb::detail {

using namespace fields;

namespace {

ordered_json strings(const std::vector<std::string>& v) {
    return ordered_json(v);
}

ordered_json summaryJson(const LatencySummary& s) {
    return {{"count", s.count},  {"mean", num(s.mean)}, {"p50", num(s.p50)},    {"p90", num(s.p90)},
            {"p95", num(s.p95)}, {"p99", num(s.p99)},   {"p99.9", num(s.p999)}, {"max", num(s.max)}};
}

LatencySummary summaryFrom(const ordered_json& j) {
    LatencySummary s;
    s.count = get<int64_t>(j, "count");
    s.mean = getNum(j, "mean");
    s.p50 = getNum(j, "p50");
    s.p90 = getNum(j, "p90");
    s.p95 = getNum(j, "p95");
    s.p99 = getNum(j, "p99");
    s.p999 = getNum(j, "p99.9");
    s.max = getNum(j, "max");
    return s;
}

} // namespace

ordered_json profileToJson(const Profile& p) {
    ordered_json j{{"run", p.run},
                   {"label", p.label},
                   {"ok", p.ok},
                   {"error", p.error},
                   {"config", configToJson(p.config)},
                   {"calls", p.calls},
                   {"profiler", p.profiler},
                   {"forward_ns", num(p.forwardNs)},
                   {"unprofiled_median_ns", num(p.unprofiledMedianNs)},
                   {"profiled_median_ns", num(p.profiledMedianNs)},
                   {"operator_self_ns", num(p.operatorSelfNs)},
                   {"fused_ns", num(p.fusedNs)},
                   {"unattributed_ns", num(p.unattributedNs)},
                   {"module_scope", p.moduleScope},
                   {"model_flops", num(p.modelFlops)},
                   {"model_bytes", num(p.modelBytes)},
                   {"flop_convention", kFlopConvention},
                   {"notes", strings(p.notes)}};
    ordered_json ops = ordered_json::array();
    for (const auto& o : p.operators)
        ops.push_back({{"name", o.name},
                       {"fused", o.fused},
                       {"timed", o.timed},
                       {"calls", o.calls},
                       {"self_ns", num(o.selfNs)},
                       {"total_ns", num(o.totalNs)},
                       {"top_calls", o.topCalls},
                       {"top_ns", num(o.topNs)},
                       {"shapes", strings(o.shapes)},
                       {"shape_variants", o.shapeVariants},
                       {"locations", strings(o.locations)},
                       {"flops", num(o.flops)},
                       {"bytes", num(o.bytes)},
                       {"credited_flops", num(o.creditedFlops)},
                       {"credited_from", strings(o.creditedFrom)},
                       {"time_in", o.timeIn}});
    j["operators"] = ops;
    ordered_json mods = ordered_json::array();
    for (const auto& m : p.modules)
        mods.push_back({{"path", m.path},
                        {"type", m.type},
                        {"depth", m.depth},
                        {"self_ns", num(m.selfNs)},
                        {"total_ns", num(m.totalNs)},
                        {"operator_calls", m.operatorCalls}});
    j["modules"] = mods;
    ordered_json lines = ordered_json::array();
    for (const auto& l : p.lines)
        lines.push_back({{"location", l.location},
                         {"function", l.function},
                         {"self_ns", num(l.selfNs)},
                         {"calls", l.calls},
                         {"script_ns", num(l.scriptNs)}});
    j["lines"] = lines;
    ordered_json fused = ordered_json::array();
    for (const auto& f : p.fused)
        fused.push_back({{"kind", f.kind},
                         {"per_forward", f.perForward},
                         {"locations", strings(f.locations)},
                         {"time_ns", num(f.timeNs)}});
    j["fused"] = fused;
    j["peak"] = {{"measured", p.peak.measured},       {"gflops", num(p.peak.gflops)},
                 {"mm_gflops", num(p.peak.mmGflops)}, {"conv_gflops", num(p.peak.convGflops)},
                 {"source", p.peak.source},           {"bandwidth_gbs", num(p.peak.bandwidthGBs)},
                 {"threads", p.peak.threads},         {"gemm_size", p.peak.gemmSize},
                 {"fingerprint", p.peak.fingerprint}};
    j["roofline"] = {{"known", p.roofline.known},
                     {"flops", num(p.roofline.flops)},
                     {"bytes", num(p.roofline.bytes)},
                     {"intensity", num(p.roofline.intensity)},
                     {"achieved_gflops", num(p.roofline.achievedGflops)},
                     {"percent_of_peak", num(p.roofline.percentOfPeak)},
                     {"compute_bound", p.roofline.computeBound},
                     {"sentence", p.roofline.sentence}};
    return j;
}

Profile profileFromJson(const ordered_json& j) {
    Profile p;
    p.run = get<int>(j, "run", -1);
    p.label = get<std::string>(j, "label");
    p.ok = get<bool>(j, "ok");
    p.error = get<std::string>(j, "error");
    if (j.contains("config")) p.config = configFromJson(j.at("config"));
    p.calls = get<int>(j, "calls");
    p.profiler = get<std::string>(j, "profiler");
    p.forwardNs = getNum(j, "forward_ns");
    p.unprofiledMedianNs = getNum(j, "unprofiled_median_ns");
    p.profiledMedianNs = getNum(j, "profiled_median_ns");
    p.operatorSelfNs = getNum(j, "operator_self_ns");
    p.fusedNs = getNum(j, "fused_ns");
    p.unattributedNs = getNum(j, "unattributed_ns");
    p.moduleScope = get<bool>(j, "module_scope");
    p.modelFlops = getNum(j, "model_flops", -1);
    p.modelBytes = getNum(j, "model_bytes", -1);
    p.notes = get<std::vector<std::string>>(j, "notes");
    if (j.contains("operators"))
        for (const auto& o : j.at("operators")) {
            OperatorStat s;
            s.name = get<std::string>(o, "name");
            s.fused = get<bool>(o, "fused");
            s.timed = get<bool>(o, "timed", true);
            s.calls = get<int64_t>(o, "calls");
            s.selfNs = getNum(o, "self_ns");
            s.totalNs = getNum(o, "total_ns");
            s.topCalls = get<int64_t>(o, "top_calls");
            s.topNs = getNum(o, "top_ns");
            s.shapes = get<std::vector<std::string>>(o, "shapes");
            s.shapeVariants = get<int64_t>(o, "shape_variants");
            s.locations = get<std::vector<std::string>>(o, "locations");
            s.flops = getNum(o, "flops");
            s.bytes = getNum(o, "bytes");
            s.creditedFlops = getNum(o, "credited_flops");
            s.creditedFrom = get<std::vector<std::string>>(o, "credited_from");
            s.timeIn = get<std::string>(o, "time_in");
            p.operators.push_back(s);
        }
    if (j.contains("modules"))
        for (const auto& m : j.at("modules"))
            p.modules.push_back({get<std::string>(m, "path"), get<std::string>(m, "type"),
                                 get<int>(m, "depth"), getNum(m, "self_ns"), getNum(m, "total_ns"),
                                 get<int64_t>(m, "operator_calls")});
    if (j.contains("lines"))
        for (const auto& l : j.at("lines"))
            p.lines.push_back({get<std::string>(l, "location"), get<std::string>(l, "function"),
                               getNum(l, "self_ns"), get<int64_t>(l, "calls"), getNum(l, "script_ns", -1)});
    if (j.contains("fused"))
        for (const auto& f : j.at("fused"))
            p.fused.push_back({get<std::string>(f, "kind"), get<int64_t>(f, "per_forward"),
                               get<std::vector<std::string>>(f, "locations"), getNum(f, "time_ns", -1)});
    if (j.contains("peak")) {
        const auto& k = j.at("peak");
        p.peak.measured = get<bool>(k, "measured");
        p.peak.gflops = getNum(k, "gflops");
        p.peak.mmGflops = getNum(k, "mm_gflops");
        p.peak.convGflops = getNum(k, "conv_gflops");
        p.peak.source = get<std::string>(k, "source");
        p.peak.bandwidthGBs = getNum(k, "bandwidth_gbs");
        p.peak.threads = get<int>(k, "threads");
        p.peak.gemmSize = get<int>(k, "gemm_size");
        p.peak.fingerprint = get<std::string>(k, "fingerprint");
    }
    if (j.contains("roofline")) {
        const auto& r = j.at("roofline");
        p.roofline.known = get<bool>(r, "known");
        p.roofline.flops = getNum(r, "flops");
        p.roofline.bytes = getNum(r, "bytes");
        p.roofline.intensity = getNum(r, "intensity");
        p.roofline.achievedGflops = getNum(r, "achieved_gflops");
        p.roofline.percentOfPeak = getNum(r, "percent_of_peak");
        p.roofline.computeBound = get<bool>(r, "compute_bound");
        p.roofline.sentence = get<std::string>(r, "sentence");
    }
    return p;
}

ordered_json sweepToJson(const SweepResult& r) {
    ordered_json axes = ordered_json::array();
    for (const auto& a : r.axes)
        axes.push_back({{"key", a.key}, {"values", a.values}});
    ordered_json points = ordered_json::array();
    for (const auto& p : r.points) {
        ordered_json j{
            {"id", p.id},
            {"config", configToJson(p.config)},
            {"batch", p.batch},
            {"streams", p.streams},
            {"reference", p.reference},
            {"reference_name", p.referenceName},
            {"reference_kind", p.referenceKind == SweepReference::LibTorchDefault    ? "libtorch_default"
                               : p.referenceKind == SweepReference::WorkbenchDefault ? "workbench_default"
                                                                                     : "none"},
            {"status", pointStatusName(p.status)},
            {"reason", p.reason},
            {"rounds", p.rounds},
            {"items", p.items},
            {"throughput", num(p.throughput)},
            {"peak_rss_bytes", p.peakRssBytes},
            {"outputs_checked", p.outputsChecked},
            {"outputs_ok", p.outputsOk},
            {"atol", num(p.atol)},
            {"rtol", num(p.rtol)},
            {"on_front", p.onFront}};
        if (p.stats.count > 0) j["latency_ms"] = statsToJson(p.stats, 1e-6);
        if (p.outputsChecked) j["outputs"] = detail::outputComparisonObject(p.outputs);
        j["samples_ns"] = doubles(p.samplesNs);
        points.push_back(j);
    }
    auto cmp = [](const LatencyComparison& c) {
        return ordered_json{{"speedup", num(c.speedup)},
                            {"ci", {num(c.ciLow), num(c.ciHigh)}},
                            {"significant", c.significant},
                            {"verdict", c.verdict}};
    };
    return {{"axes", axes},
            {"objective", objectiveName(r.objective)},
            {"max_latency_ms", num(r.maxLatencyMs)},
            {"budget_s", num(r.budgetSeconds)},
            {"elapsed_s", num(r.elapsedSeconds)},
            {"cancelled", r.cancelled},
            {"front_with_memory", r.frontWithMemory},
            {"points", points},
            {"recommended", r.recommended},
            {"runner_up", r.runnerUp},
            {"vs_libtorch_default", cmp(r.vsLibtorchDefault)},
            {"vs_workbench_default", cmp(r.vsWorkbenchDefault)},
            {"vs_runner_up", cmp(r.vsRunnerUp)},
            {"recommendation", r.recommendation},
            {"apply", r.applyFlags}};
}

SweepResult sweepFromJson(const ordered_json& j) {
    SweepResult r;
    if (j.contains("axes"))
        for (const auto& a : j.at("axes"))
            r.axes.push_back({get<std::string>(a, "key"), get<std::vector<std::string>>(a, "values")});
    r.objective = parseObjective(get<std::string>(j, "objective", "latency"));
    r.maxLatencyMs = getNum(j, "max_latency_ms");
    r.budgetSeconds = getNum(j, "budget_s");
    r.elapsedSeconds = getNum(j, "elapsed_s");
    r.cancelled = get<bool>(j, "cancelled");
    r.frontWithMemory = get<bool>(j, "front_with_memory");
    static const std::map<std::string, PointStatus> statuses{{"measured", PointStatus::Measured},
                                                             {"skipped", PointStatus::Skipped},
                                                             {"eliminated", PointStatus::Eliminated},
                                                             {"failed", PointStatus::Failed},
                                                             {"not reached", PointStatus::NotReached}};
    if (j.contains("points"))
        for (const auto& pj : j.at("points")) {
            SweepPoint p;
            p.id = get<std::string>(pj, "id");
            if (pj.contains("config")) p.config = configFromJson(pj.at("config"));
            p.batch = get<int64_t>(pj, "batch");
            p.streams = get<int>(pj, "streams", 1);
            p.reference = get<bool>(pj, "reference");
            p.referenceName = get<std::string>(pj, "reference_name");
            // Reports before reference_kind named the references only; any other kind is none.
            const std::string kind = get<std::string>(pj, "reference_kind");
            if (kind == "libtorch_default" || (kind.empty() && p.referenceName == "LibTorch's default"))
                p.referenceKind = SweepReference::LibTorchDefault;
            else if (kind == "workbench_default" ||
                     (kind.empty() && p.referenceName == "the workbench's default"))
                p.referenceKind = SweepReference::WorkbenchDefault;
            const auto st = statuses.find(get<std::string>(pj, "status"));
            p.status = st == statuses.end() ? PointStatus::NotReached : st->second;
            p.reason = get<std::string>(pj, "reason");
            p.rounds = get<int>(pj, "rounds");
            p.items = get<int64_t>(pj, "items");
            p.throughput = getNum(pj, "throughput");
            p.peakRssBytes = get<int64_t>(pj, "peak_rss_bytes", -1);
            p.outputsChecked = get<bool>(pj, "outputs_checked");
            p.outputsOk = get<bool>(pj, "outputs_ok");
            p.atol = getNum(pj, "atol");
            p.rtol = getNum(pj, "rtol");
            p.onFront = get<bool>(pj, "on_front");
            p.samplesNs = getDoubles(pj, "samples_ns");
            if (!p.samplesNs.empty()) p.stats = computeStats(p.samplesNs, p.config.percentiles);
            if (pj.contains("outputs")) p.outputs = outputComparisonFromJson(pj.at("outputs"));
            r.points.push_back(p);
        }
    r.recommended = get<int>(j, "recommended", -1);
    r.runnerUp = get<int>(j, "runner_up", -1);
    auto cmpFrom = [&](const char* key, LatencyComparison& c) {
        if (!j.contains(key)) return;
        const auto& x = j.at(key);
        c.speedup = getNum(x, "speedup", 1);
        if (x.contains("ci") && x.at("ci").size() == 2 && !x.at("ci")[0].is_null() &&
            !x.at("ci")[1].is_null()) {
            c.ciLow = x.at("ci")[0].get<double>();
            c.ciHigh = x.at("ci")[1].get<double>();
        }
        c.significant = get<bool>(x, "significant");
        c.verdict = get<std::string>(x, "verdict");
    };
    cmpFrom("vs_libtorch_default", r.vsLibtorchDefault);
    cmpFrom("vs_workbench_default", r.vsWorkbenchDefault);
    cmpFrom("vs_runner_up", r.vsRunnerUp);
    r.recommendation = get<std::string>(j, "recommendation");
    r.applyFlags = get<std::string>(j, "apply");
    if (r.recommended >= int(r.points.size())) r.recommended = -1;
    if (r.runnerUp >= int(r.points.size())) r.runnerUp = -1;
    return r;
}

ordered_json loadOptionsToJson(const LoadOptions& o) {
    return {{"scenario", scenarioName(o.scenario)},
            {"config", o.config.toSpec()},
            {"target", o.config.target},
            {"qps", num(o.qps)},
            {"utilisation", num(o.utilisation)},
            {"p99_bound_ms", num(o.p99BoundMs)},
            {"seconds", num(o.seconds)},
            {"concurrency", o.concurrency},
            {"samples_per_query", o.samplesPerQuery},
            {"max_batch", o.maxBatch},
            {"batch_window_us", num(o.batchWindowUs)},
            {"find_peak", o.findPeak},
            {"peak_searches", o.peakSearches},
            {"seed", o.seed},
            {"confidence", num(o.confidence)},
            {"min_queries", o.minQueries}};
}

LoadOptions loadOptionsFromJson(const ordered_json& j) {
    LoadOptions o;
    o.scenario = parseScenario(get<std::string>(j, "scenario", "server"));
    o.config = RunConfig::parse(get<std::string>(j, "config"));
    o.config.target = get<std::string>(j, "target");
    o.qps = getNum(j, "qps");
    o.utilisation = getNum(j, "utilisation");
    o.p99BoundMs = getNum(j, "p99_bound_ms");
    o.seconds = getNum(j, "seconds", 10);
    o.concurrency = get<int>(j, "concurrency", 1);
    o.samplesPerQuery = get<int>(j, "samples_per_query", 8);
    o.maxBatch = get<int>(j, "max_batch", 1);
    o.batchWindowUs = getNum(j, "batch_window_us");
    o.findPeak = get<bool>(j, "find_peak");
    o.peakSearches = get<int>(j, "peak_searches", 1);
    o.seed = get<uint64_t>(j, "seed", o.seed);
    o.confidence = getNum(j, "confidence", 0.99);
    o.minQueries = get<int64_t>(j, "min_queries", o.minQueries);
    return o;
}

// Durations in nanoseconds, as the rest of the report holds them.
ordered_json loadToJson(const LoadResult& r) {
    ordered_json curve = ordered_json::array();
    for (const auto& p : r.curve)
        curve.push_back({{"offered_qps", num(p.offeredQps)},
                         {"achieved_qps", num(p.achievedQps)},
                         {"items_per_s", num(p.itemsPerSecond)},
                         {"seconds", num(p.seconds)},
                         {"queries", p.queries},
                         {"requests", p.requests},
                         {"calls", p.calls},
                         {"batches", p.batches},
                         {"largest_batch", p.largestBatch},
                         {"latency_ns", summaryJson(p.latency)},
                         {"queue_ns", summaryJson(p.queue)},
                         {"compute_ns", summaryJson(p.compute)},
                         {"arrival_lag_ns", summaryJson(p.arrivalLag)},
                         {"p99_upper_bound_ns", num(p.p99UpperBound)},
                         {"utilisation", num(p.utilisation)},
                         {"predicted_queue_ns", num(p.predictedQueueNs)},
                         {"ideal_queue_ns", num(p.idealQueueNs)},
                         {"meets_bound", p.meetsBound},
                         {"search", p.search},
                         {"again", p.again},
                         {"overloaded", p.overloaded}});
    return {{"options", loadOptionsToJson(r.options)},
            {"label", r.label},
            {"ok", r.ok},
            {"cancelled", r.cancelled},
            {"error", r.error},
            {"service_mean_ns", num(r.serviceMeanNs)},
            {"service_second_moment_ns2", num(r.serviceSecondMomentNs2)},
            {"capacity_qps", num(r.capacityQps)},
            {"batch_service_mean_ns", num(r.batchServiceMeanNs)},
            {"curve", curve},
            {"knee", r.knee},
            {"peak_qps", num(r.peakQps)},
            {"peak_failed_qps", num(r.peakFailedQps)},
            {"search_peaks_qps", doubles(r.searchPeaksQps)},
            {"verdict", r.verdict}};
}

LoadResult loadFromJson(const ordered_json& j) {
    LoadResult r;
    if (j.contains("options")) r.options = loadOptionsFromJson(j.at("options"));
    r.label = get<std::string>(j, "label");
    r.ok = get<bool>(j, "ok");
    r.cancelled = get<bool>(j, "cancelled");
    r.error = get<std::string>(j, "error");
    r.serviceMeanNs = getNum(j, "service_mean_ns");
    r.serviceSecondMomentNs2 = getNum(j, "service_second_moment_ns2");
    r.capacityQps = getNum(j, "capacity_qps");
    r.batchServiceMeanNs = getNum(j, "batch_service_mean_ns");
    if (j.contains("curve"))
        for (const auto& pj : j.at("curve")) {
            LoadPoint p;
            p.offeredQps = getNum(pj, "offered_qps");
            p.achievedQps = getNum(pj, "achieved_qps");
            p.itemsPerSecond = getNum(pj, "items_per_s");
            p.seconds = getNum(pj, "seconds");
            p.queries = get<int64_t>(pj, "queries");
            p.requests = get<int64_t>(pj, "requests");
            p.calls = get<int64_t>(pj, "calls");
            p.batches = get<int64_t>(pj, "batches", p.calls);
            p.largestBatch = get<int64_t>(pj, "largest_batch", p.calls > 0 ? 1 : 0);
            auto part = [&](const char* key) {
                return pj.contains(key) ? summaryFrom(pj.at(key)) : LatencySummary{};
            };
            p.latency = part("latency_ns");
            p.queue = part("queue_ns");
            p.compute = part("compute_ns");
            p.arrivalLag = part("arrival_lag_ns");
            p.p99UpperBound = getNum(pj, "p99_upper_bound_ns", std::nan(""));
            p.utilisation = getNum(pj, "utilisation");
            p.predictedQueueNs = getNum(pj, "predicted_queue_ns", std::nan(""));
            p.idealQueueNs = getNum(pj, "ideal_queue_ns", std::nan(""));
            p.meetsBound = get<bool>(pj, "meets_bound", true);
            p.search = get<int>(pj, "search");
            p.again = get<bool>(pj, "again");
            p.overloaded = get<bool>(pj, "overloaded");
            r.curve.push_back(p);
        }
    r.knee = get<int>(j, "knee", -1);
    if (r.knee >= int(r.curve.size())) r.knee = -1;
    r.peakQps = getNum(j, "peak_qps");
    r.peakFailedQps = getNum(j, "peak_failed_qps");
    r.searchPeaksQps = getDoubles(j, "search_peaks_qps");
    r.verdict = get<std::string>(j, "verdict");
    return r;
}

ordered_json eventsToJson(const std::vector<ProfileEvent>& events) {
    ordered_json a = ordered_json::array();
    for (const auto& e : events)
        a.push_back({e.name, int(e.kind), e.thread, e.startNs, e.durationNs, e.selfNs, e.call, e.depth,
                     e.shapes, e.flops, e.bytes, e.module, e.moduleType, e.location, e.function});
    return a;
}

std::vector<ProfileEvent> eventsFromJson(const ordered_json& a) {
    std::vector<ProfileEvent> out;
    for (const auto& j : a) {
        if (!j.is_array() || j.size() != 15) throw Error("a profile event that is not an array of 15 fields");
        ProfileEvent e;
        e.name = j[0].get<std::string>();
        e.kind = EventKind(std::clamp(j[1].get<int>(), 0, 2));
        e.thread = j[2].get<uint64_t>();
        e.startNs = j[3].get<double>();
        e.durationNs = j[4].get<double>();
        e.selfNs = j[5].get<double>();
        e.call = j[6].get<int>();
        e.depth = j[7].get<int>();
        e.shapes = j[8].get<std::string>();
        e.flops = j[9].get<double>();
        e.bytes = j[10].get<double>();
        e.module = j[11].get<std::string>();
        e.moduleType = j[12].get<std::string>();
        e.location = j[13].get<std::string>();
        e.function = j[14].get<std::string>();
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace twb::detail
