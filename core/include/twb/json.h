// JSON renderings of core's values, for the CLI's --json and for reports.
#pragma once

#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/diagnosis.h"
#include "twb/model.h"
#include "twb/value.h"

#include <string>
#include <vector>

namespace twb {

std::string toJson(const ModelInfo& info, int indent = 2);
std::string toJson(const std::vector<Leaf>& leaves, int indent = 2);
std::string toJson(const StateDictReport& report, int indent = 2);
std::string toJson(const BuildInfo& info, int indent = 2);
std::string toJson(const OutputComparison& comparison, int indent = 2);

} // namespace twb
