// Internal: the JSON of a report's parts, for the worker protocol, which sends runs, profiles and the
// worker's environment as reports store them, and for the other documents that carry them (divergence).
#pragma once

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
nlohmann::ordered_json runToJson(const RunRecord& r);
RunRecord runFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json profileToJson(const Profile& p);
Profile profileFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json sweepToJson(const SweepResult& r);
SweepResult sweepFromJson(const nlohmann::ordered_json& j);
nlohmann::ordered_json eventsToJson(const std::vector<ProfileEvent>& events);
std::vector<ProfileEvent> eventsFromJson(const nlohmann::ordered_json& a);

} // namespace twb::detail
