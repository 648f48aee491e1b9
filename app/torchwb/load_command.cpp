#include "load_command.h"

#include "format.h"

#include "twb/format.h"
#include "twb/plan.h"
#include "twb/report.h"
#include "twb/stats.h"
#include "twb/target.h"

#include <cmath>
#include <sstream>

namespace twb::cli {
namespace {

std::string us(double ns) {
    return twb::formatDuration(ns);
}

double meanBatch(const twb::LoadPoint& p) {
    return p.batches > 0 ? double(p.calls) / double(p.batches) : 1.0;
}

std::string curveCsv(const twb::LoadResult& r) {
    std::ostringstream out;
    out << "offered_qps,achieved_qps,items_per_s,queries,p50_us,p90_us,p99_us,p99_upper_bound_us,queue_p99_"
           "us,"
           "compute_p99_us,utilisation,meets_bound,overloaded,mean_batch,search\n";
    for (const auto& p : r.curve)
        out << formatFixed(p.offeredQps, 2) << "," << formatFixed(p.achievedQps, 2) << ","
            << formatFixed(p.itemsPerSecond, 2) << "," << p.queries << ","
            << formatFixed(p.latency.p50 / 1e3, 1) << "," << formatFixed(p.latency.p90 / 1e3, 1) << ","
            << formatFixed(p.latency.p99 / 1e3, 1) << ","
            << (std::isfinite(p.p99UpperBound) ? formatFixed(p.p99UpperBound / 1e3, 1) : "") << ","
            << formatFixed(p.queue.p99 / 1e3, 1) << "," << formatFixed(p.compute.p99 / 1e3, 1) << ","
            << formatFixed(p.utilisation, 3) << "," << (p.meetsBound ? "yes" : "no") << ","
            << (p.overloaded ? "yes" : "no") << "," << formatFixed(meanBatch(p), 2) << "," << p.search + 1
            << "\n";
    return out.str();
}

} // namespace

std::string loadText(const twb::LoadResult& r) {
    std::ostringstream out;
    if (r.serviceMeanNs > 0)
        out << "service time " << us(r.serviceMeanNs) << " on its own; capacity about "
            << formatFixed(r.capacityQps, 0) << " QPS with " << r.options.concurrency << " executor"
            << (r.options.concurrency == 1 ? "" : "s")
            << (r.batchServiceMeanNs > 0 ? " in batches of " + std::to_string(r.options.maxBatch) +
                                               " (a batch takes " + us(r.batchServiceMeanNs) + ")"
                                         : "")
            << (r.options.config.target.empty() ? "" : ", on " + r.options.config.target) << "\n\n";
    const bool batching = r.options.maxBatch > 1;
    if (!r.curve.empty()) {
        out << cell("offered QPS", 12) << cell("achieved", 10) << cell("p50", 11) << cell("p99", 11)
            << cell("p99 ≤ (conf)", 13) << cell("queued p99", 12) << cell("compute p99", 12)
            << cell("util", 7) << (batching ? cell("batch", 7) : "") << "\n";
        for (std::size_t i = 0; i < r.curve.size(); ++i) {
            const auto& p = r.curve[i];
            out << cell(p.offeredQps > 0 ? formatFixed(p.offeredQps, 1) : "-", 12)
                << cell(formatFixed(p.achievedQps, 1), 10) << cell(us(p.latency.p50), 11)
                << cell(us(p.latency.p99), 11)
                << cell(std::isfinite(p.p99UpperBound) ? us(p.p99UpperBound) : "too few", 13)
                << cell(us(p.queue.p99), 12) << cell(us(p.compute.p99), 12)
                << cell(formatFixed(p.utilisation * 100, 0) + "%", 7)
                << (batching ? cell(formatFixed(meanBatch(p), 1), 7) : "");
            if (int(i) == r.knee) out << "  knee";
            if (r.options.p99BoundMs > 0) out << (p.meetsBound ? "  within" : "  OVER");
            if (p.overloaded) out << "  queue grows";
            if (p.again) out << "  again, judged with the load before";
            if (r.options.peakSearches > 1) out << "  search " << p.search + 1;
            out << "\n";
        }
        out << "\n";
    }
    out << r.verdict << "\n";
    return out.str();
}

void addLoadOptions(CLI::App& cmd, LoadArgs& a) {
    cmd.add_option("MODEL", a.model, "TorchScript archive or .pt2 package")->required();
    a.inputs.add(cmd);
    a.config.add(cmd, false);
    cmd.add_option("--scenario", a.scenario,
                   "single (one query at a time, judged by p90), multi (queries of --samples), server "
                   "(Poisson arrivals at --qps, judged by p99) or offline (everything at once, judged by "
                   "throughput); default server")
        ->check(CLI::IsMember({"single", "multi", "server", "offline"}));
    cmd.add_option("--qps", a.qps,
                   "Server: the offered load in queries a second (none: a curve from 30% to 100% of the "
                   "measured capacity)");
    cmd.add_option("--utilisation", a.utilisation,
                   "Server, instead of --qps: the offered load as a share of the capacity measured just "
                   "before, where it is served (0.8: 80%)");
    cmd.add_option("--p99", a.p99, "The latency bound in milliseconds that the p99 must meet");
    cmd.add_option("--seconds", a.seconds, "Seconds per load point (default 10)");
    cmd.add_option("--concurrency", a.concurrency, "Executors serving requests at once (default 1)");
    cmd.add_option("--samples", a.samplesPerQuery, "Multi: samples a query (default 8)");
    cmd.add_option("--max-batch", a.maxBatch,
                   "Dynamic batching: serve up to this many waiting requests in one call, their inputs "
                   "stacked along the first dimension (default 1: no batching)");
    cmd.add_option("--batch-window", a.batchWindowUs,
                   "Dynamic batching: how long in microseconds after the oldest waiting request's arrival "
                   "an executor waits for the batch to fill (default 0: it takes what is waiting)");
    cmd.add_flag("--find-peak", a.findPeak,
                 "Server: binary-search the highest QPS whose p99 meets --p99 at 99% confidence");
    cmd.add_option("--searches", a.searches,
                   "With --find-peak: make this many searches in turns, a load of each in rotation with "
                   "arrivals of its own (default 1); the peak is their middle one, their spread how far "
                   "the search repeats");
    cmd.add_option(
        "--min-queries", a.minQueries,
        "With --p99: each load runs until this many queries arrived (default 4000), a minute at most");
    cmd.add_option("--seed", a.seed, "The arrivals' random seed (recorded in the report)");
    cmd.add_option("--json", a.json, "Write the versioned JSON report with the load run");
    cmd.add_option("--csv", a.csv, "Write one row per load point");
    cmd.add_flag("-q,--quiet", a.quiet, "No progress line");
    cmd.add_option("--target", a.target, kTargetHelp);
}

int runLoadCommand(const CLI::App& cmd, const LoadArgs& a, std::ostream& out, std::ostream& err) {
    twb::LoadOptions options;
    options.scenario = twb::parseScenario(a.scenario);
    options.config = a.config.base();
    options.qps = a.qps;
    options.utilisation = a.utilisation;
    options.p99BoundMs = a.p99;
    options.seconds = a.seconds;
    options.concurrency = a.concurrency;
    options.samplesPerQuery = a.samplesPerQuery;
    options.maxBatch = a.maxBatch;
    options.batchWindowUs = a.batchWindowUs;
    options.findPeak = a.findPeak;
    options.peakSearches = a.searches;
    options.seed = a.seed;
    options.minQueries = a.minQueries;
    options.config.target = a.target;  // recorded in the report: where the load was served
    twb::validateLoadOptions(options); // before the model loads: a bad parameter costs nothing
    twb::Model model = loadModel(a.model, a.inputs, out, false);
    const std::vector<twb::InputSpec> specs = a.inputs.specs(cmd, model, out);
    twb::LoadCallbacks callbacks;
    if (!a.quiet)
        callbacks.progress = [&](const twb::LoadProgress& p) {
            err << "\r\033[K" << p.phase << "  " << formatFixed(p.fraction * 100, 0) << "%, "
                << formatFixed(p.elapsedSeconds, 0) << " s" << std::flush;
            return true;
        };
    const twb::WorkerOptions worker =
        a.target.empty() ? twb::WorkerOptions{} : twb::Target::parse(a.target).workerOptions();
    const twb::LoadResult result =
        twb::runLoad(model, specs, a.inputs.readOptions(), options, callbacks, stopOnInterrupt(), worker);
    if (!a.quiet) err << "\r\033[K" << std::flush;
    out << "\n" << loadText(result);
    if (!a.json.empty()) {
        twb::Report report = twb::reportFor(model, specs, {}); // the worker reads and binds the inputs
        report.hasLoad = true;
        report.load = result;
        twb::writeReport(a.json, report);
        out << "wrote report " << a.json << "\n";
    }
    if (!a.csv.empty()) {
        writeText(a.csv, curveCsv(result));
        out << "wrote points " << a.csv << "\n";
    }
    if (interrupted()) return kInterrupted;
    if (!result.ok) return 1;
    if (options.findPeak) return result.peakQps > 0 ? 0 : 1;
    return options.p99BoundMs > 0 && !result.curve.back().meetsBound ? 1 : 0;
}

} // namespace twb::cli
