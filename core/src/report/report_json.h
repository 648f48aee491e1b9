// Internal: the JSON of a report's parts, for the worker protocol, which sends runs, profiles and the
// worker's environment as reports store them, and for the other documents that carry them (divergence).
#pragma once

#include "twb/graph.h"
#include "twb/report.h"

#include <nlohmann/json.hpp>

namespace twb::detail {

nlohmann::ordered_json modelRefToJson(const ModelRef& m);
ModelRef modelRefFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json inputRefsToJson(const std::vector<InputRef>& inputs);
std::vector<InputRef> inputRefsFromJson(const nlohmann::ordered_json& a);
// What outputComparisonObject (json_values.h) wrote.
OutputComparison outputComparisonFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json environmentToJson(const EnvironmentInfo& e);
EnvironmentInfo environmentFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json configToJson(const RunConfig& c);
RunConfig configFromJson(const nlohmann::ordered_json& j);
// Latency statistics, their times multiplied by `scale` (1: nanoseconds, 1e-6: milliseconds).
nlohmann::ordered_json statsToJson(const LatencyStats& s, double scale);
nlohmann::ordered_json runToJson(const RunRecord& r);
RunRecord runFromJson(const nlohmann::ordered_json& j);
// analysis_json.cpp: profiles, sweeps and load runs.
nlohmann::ordered_json profileToJson(const Profile& p);
Profile profileFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json sweepToJson(const SweepResult& r);
SweepResult sweepFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json loadToJson(const LoadResult& r);
LoadResult loadFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json loadOptionsToJson(const LoadOptions& o);
LoadOptions loadOptionsFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json graphToJson(const ModelGraph& g);
ModelGraph graphFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json eventsToJson(const std::vector<ProfileEvent>& events);
std::vector<ProfileEvent> eventsFromJson(const nlohmann::ordered_json& a);

} // namespace twb::detail
