// Internal: the sweep as it runs inside a worker process. runSweep (worker_sweep.cpp) starts a worker and
// asks it for this, so a model that crashes during a sweep ends the sweep, never the program.
#pragma once

#include "twb/sweep.h"

#include <nlohmann/json.hpp>

namespace twb::detail {

SweepResult sweepInProcess(const Model& model, const std::vector<InputSpec>& inputs, const ReadOptions& read,
                           const SweepOptions& options, const SweepCallbacks& callbacks,
                           const std::atomic<bool>* stop);

// sweep_rules.cpp: how well a point meets the objective, higher better (balanced: the sum of its
// latency's and its throughput's ratios to the best of each).
double objectiveScore(const SweepPoint& p, SweepObjective objective, double bestMedian,
                      double bestThroughput);

// What a sweep request carries: the options, the input specs and how to read them.
nlohmann::ordered_json sweepRequestJson(const std::vector<InputSpec>& inputs, const ReadOptions& read,
                                        const SweepOptions& options);
void sweepRequestFrom(const nlohmann::ordered_json& j, std::vector<InputSpec>& inputs, ReadOptions& read,
                      SweepOptions& options);

} // namespace twb::detail
