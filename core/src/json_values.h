// Internal: JSON renderings shared by the CLI's --json output and the reports.
#pragma once

#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/value.h"

#include <nlohmann/json.hpp>

namespace twb::detail {

// A number, or null for NaN and infinities (JSON has neither).
nlohmann::ordered_json finiteOrNull(double v);
// {"path", "shape", "dtype", "device", "numel", "bytes", "min", "max", "mean", "nan", "inf", "first", "topk"}
nlohmann::ordered_json leafToJson(const Leaf& leaf);
// {"allclose", "same_structure", "atol", "rtol", "summary", "leaves": [per-leaf figures]}
nlohmann::ordered_json outputComparisonObject(const OutputComparison& o);
// {"source", "location", "blas", "lapack", "onednn", "openmp", "parallel_backend", "cpu_capability", …}
nlohmann::ordered_json libtorchBuildObject(const LibTorchBuild& b);

} // namespace twb::detail
