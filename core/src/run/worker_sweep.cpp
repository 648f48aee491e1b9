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
    detail::StreamedRequest streamed(stop, workerOptions.cancelGraceSeconds);
    try {
        // The sweep sends a frame at least every point; a point may take its measurement, a first call
        // and a warm-up, so the deadline is the budget plus the first-call limit, from each frame.
        const double limit = options.budgetSeconds + workerOptions.firstCallTimeoutSeconds;
        const Frame f = streamed.inWorker(
            workerOptions, model, {detail::sweepRequestJson(inputs, read, options), {}}, "sweeping", limit,
            "sweep",
            [&](const Frame& frame) {
                if (frame.type() == "sweep_progress" && callbacks.progress) {
                    SweepProgress p;
                    p.point = frame.header.value("point", 0);
                    p.points = frame.header.value("points", 0);
                    p.round = frame.header.value("round", 0);
                    p.label = frame.header.value("label", std::string());
                    p.elapsedSeconds = frame.header.value("elapsed", 0.0);
                    p.remainingSeconds = frame.header.value("remaining", -1.0);
                    p.fraction = frame.header.value("fraction", 0.0);
                    return callbacks.progress(p);
                }
                if (frame.type() == "sweep_point") {
                    const SweepResult one = detail::sweepFromJson(frame.header.at("sweep"));
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
                return true;
            },
            "the sweep failed");
        SweepResult result = detail::sweepFromJson(f.header.at("sweep"));
        result.cancelled = result.cancelled || streamed.cancelled();
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
