// Latency under load runs in a worker process: runLoad sends the options and the input specs, relays the
// worker's progress and finished points as they come, and turns a worker that dies into a run that stops
// with the points it measured and says why.
#include "twb/load.h"

#include "load_internal.h"
#include "report_json.h"
#include "sweep_internal.h"
#include "worker_client.h"

#include "twb/input_spec.h"
#include "twb/tensor_io.h"

#include <algorithm>

namespace twb {

LoadResult runLoad(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                   const LoadOptions& options, const LoadCallbacks& callbacks, const std::atomic<bool>* stop,
                   const WorkerOptions& workerOptions) {
    using detail::Frame;
    validateLoadOptions(options);
    LoadResult partial;
    partial.options = options;
    partial.label = options.config.label();
    detail::StreamedRequest streamed(stop, workerOptions.cancelGraceSeconds);
    try {
        // A frame comes while calls complete; a point may take its run and as long again to drain, after
        // the service time's measurement and a first call.
        const double longest = options.p99BoundMs > 0 ? std::max(options.seconds, 60.0) : options.seconds;
        const double limit = 2 * longest + workerOptions.firstCallTimeoutSeconds;
        nlohmann::ordered_json request = detail::sweepRequestJson(inputs, read, {});
        request["type"] = "serve";
        request["options"] = detail::loadOptionsToJson(options);
        const Frame f = streamed.inWorker(
            workerOptions, model, {request, {}}, "serving", limit, "serve",
            [&](const Frame& frame) {
                if (frame.type() == "serve_progress" && callbacks.progress) {
                    LoadProgress p;
                    p.point = frame.header.value("point", 0);
                    p.points = frame.header.value("points", 0);
                    p.offeredQps = frame.header.value("qps", 0.0);
                    p.phase = frame.header.value("phase", std::string());
                    p.elapsedSeconds = frame.header.value("elapsed", 0.0);
                    p.fraction = frame.header.value("fraction", 0.0);
                    return callbacks.progress(p);
                }
                if (frame.type() == "serve_point") {
                    const LoadResult one = detail::loadFromJson(frame.header.at("load"));
                    for (const auto& p : one.curve) {
                        partial.curve.push_back(p);
                        if (callbacks.pointFinished) callbacks.pointFinished(p);
                    }
                }
                return true;
            },
            "the load run failed");
        LoadResult result = detail::loadFromJson(f.header.at("load"));
        result.options.config.target = options.config.target; // where it ran is this side's to say
        result.cancelled = result.cancelled || streamed.cancelled();
        detail::finishLoad(result);
        return result;
    } catch (const detail::WorkerFailure& failure) {
        partial.cancelled = failure.cancelled;
        if (!failure.cancelled)
            partial.error = "The load run stopped: " + std::string(failure.what()) +
                            (failure.fix.empty() ? "" : " (" + failure.fix + ")") + ".";
    } catch (const std::exception& e) { // a model that did not load, or an answer this client cannot read
        partial.error = std::string("The load run stopped: ") + e.what();
    }
    partial.ok = false;
    detail::finishLoad(partial);
    return partial;
}

} // namespace twb
