// Sweeps run in a worker process: runSweep sends the options and the input specs, relays the worker's
// progress and finished points as they come, and turns a worker that dies into a sweep that stops with
// what it measured and says why.
#include "twb/sweep.h"

#include "report_json.h"
#include "sweep_internal.h"
#include "worker_client.h"

#include "twb/input_spec.h"
#include "twb/tensor_io.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace twb {
namespace detail {

using nlohmann::ordered_json;

ordered_json sweepRequestJson(const std::vector<InputSpec>& inputs, const ReadOptions& read,
                              const SweepOptions& o) {
    ordered_json axes = ordered_json::array();
    for (const auto& a : o.axes)
        axes.push_back({{"key", a.key}, {"values", a.values}});
    std::vector<std::string> specs;
    for (const auto& i : inputs)
        specs.push_back(i.toString());
    const ImageOptions& im = read.image;
    return {{"type", "sweep"},
            {"inputs", specs},
            {"read",
             {{"format", int(read.format)},
              {"csv_header", read.csvHeader},
              {"resize", {im.resizeWidth, im.resizeHeight}},
              {"channels", im.channels},
              {"mean", im.mean},
              {"std", im.std}}},
            {"axes", axes},
            {"base", o.base.toSpec()},
            {"objective", objectiveName(o.objective)},
            {"max_latency_ms", o.maxLatencyMs},
            {"budget_seconds", o.budgetSeconds},
            {"front_with_memory", o.frontWithMemory},
            {"tolerances_given", o.tolerancesGiven},
            {"atol", o.tolerance.atol},
            {"rtol", o.tolerance.rtol}};
}

void sweepRequestFrom(const ordered_json& j, std::vector<InputSpec>& inputs, ReadOptions& read,
                      SweepOptions& o) {
    for (const auto& s : j.at("inputs"))
        inputs.push_back(InputSpec::parse(s.get<std::string>()));
    const auto& r = j.at("read");
    read.format = TensorFormat(r.at("format").get<int>());
    read.csvHeader = r.at("csv_header").get<bool>();
    read.image.resizeWidth = r.at("resize").at(0).get<int>();
    read.image.resizeHeight = r.at("resize").at(1).get<int>();
    read.image.channels = r.at("channels").get<int>();
    read.image.mean = r.at("mean").get<std::array<float, 4>>();
    read.image.std = r.at("std").get<std::array<float, 4>>();
    for (const auto& a : j.at("axes"))
        o.axes.push_back({a.at("key").get<std::string>(), a.at("values").get<std::vector<std::string>>()});
    o.base = RunConfig::parse(j.at("base").get<std::string>());
    o.objective = parseObjective(j.at("objective").get<std::string>());
    o.maxLatencyMs = j.at("max_latency_ms").get<double>();
    o.budgetSeconds = j.at("budget_seconds").get<double>();
    o.frontWithMemory = j.at("front_with_memory").get<bool>();
    o.tolerancesGiven = j.at("tolerances_given").get<bool>();
    o.tolerance.atol = j.at("atol").get<double>();
    o.tolerance.rtol = j.at("rtol").get<double>();
}

} // namespace detail

SweepResult runSweep(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                     const SweepOptions& options, const SweepCallbacks& callbacks,
                     const std::atomic<bool>* stop, const WorkerOptions& workerOptions) {
    using detail::Frame;
    SweepResult partial;
    partial.objective = options.objective;
    partial.maxLatencyMs = options.maxLatencyMs;
    partial.budgetSeconds = options.budgetSeconds;
    partial.axes = options.axes;
    bool cancelled = false;
    auto keepGoing = [&] { return !cancelled && !(stop && stop->load()); };
    std::optional<std::chrono::steady_clock::time_point> stopSince;
    auto patient = [&] {
        if (keepGoing()) return true;
        if (!stopSince) stopSince = std::chrono::steady_clock::now();
        return std::chrono::steady_clock::now() - *stopSince <
               std::chrono::duration<double>(workerOptions.cancelGraceSeconds + 1);
    };
    try {
        detail::WorkerProcess worker(workerOptions);
        worker.hello(keepGoing);
        const Frame loaded = worker.request(detail::loadFrame(model, nullptr), "load",
                                            workerOptions.firstCallTimeoutSeconds, keepGoing);
        if (loaded.type() == "error")
            throw Error(loaded.header.value("message", std::string("the model did not load")));
        // The sweep sends a frame at least every point; a point may take its measurement, a first call
        // and a warm-up, so the deadline is the budget plus the first-call limit, from each frame.
        const double limit = options.budgetSeconds + workerOptions.firstCallTimeoutSeconds;
        Frame f =
            worker.request({detail::sweepRequestJson(inputs, read, options), {}}, "sweeping", limit, patient);
        while (f.type() == "sweep_progress" || f.type() == "sweep_point") {
            if (f.type() == "sweep_progress" && callbacks.progress) {
                SweepProgress p;
                p.point = f.header.value("point", 0);
                p.points = f.header.value("points", 0);
                p.round = f.header.value("round", 0);
                p.label = f.header.value("label", std::string());
                p.elapsedSeconds = f.header.value("elapsed", 0.0);
                p.remainingSeconds = f.header.value("remaining", -1.0);
                p.fraction = f.header.value("fraction", 0.0);
                if (!callbacks.progress(p)) cancelled = true;
            }
            if (f.type() == "sweep_point") {
                const SweepResult one = detail::sweepFromJson(f.header.at("sweep"));
                for (const auto& point : one.points) {
                    auto same = std::find_if(partial.points.begin(), partial.points.end(),
                                             [&](const SweepPoint& p) { return p.id == point.id; });
                    if (same == partial.points.end())
                        partial.points.push_back(point);
                    else
                        *same = point;
                    if (callbacks.pointFinished) callbacks.pointFinished(point);
                }
            }
            // A cancel asks the worker to stop between calls; it answers with the whole sweep, the points
            // not reached marked so. One that does not answer within the grace period is ended, and the
            // points it sent are kept.
            const bool going = keepGoing();
            if (!going && !stopSince) stopSince = std::chrono::steady_clock::now();
            f = worker.request({{{"type", going ? "sweep_next" : "sweep_stop"}}, {}}, "sweeping", limit,
                               patient);
        }
        worker.close();
        if (f.type() == "error") throw Error(f.header.value("message", std::string("the sweep failed")));
        SweepResult result = detail::sweepFromJson(f.header.at("sweep"));
        result.cancelled = result.cancelled || cancelled;
        return result;
    } catch (const detail::WorkerFailure& failure) {
        partial.cancelled = failure.cancelled;
        recommend(partial);
        if (!failure.cancelled)
            partial.recommendation = "The sweep stopped: " + std::string(failure.what()) +
                                     (failure.fix.empty() ? "" : " (" + failure.fix + ")") + ". " +
                                     partial.recommendation;
        return partial;
    } catch (const std::exception& e) { // a model that did not load, or an answer this client cannot read
        recommend(partial);
        partial.recommendation = std::string("The sweep stopped: ") + e.what();
        return partial;
    }
}

} // namespace twb
