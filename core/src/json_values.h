// Internal: JSON renderings shared by the CLI's --json output and the reports.
#pragma once

#include "twb/build_info.h"
#include "twb/value.h"

#include <nlohmann/json.hpp>

namespace twb::detail {

// A number, or null for NaN and infinities (JSON has neither).
nlohmann::ordered_json finiteOrNull(double v);
// {"path", "shape", "dtype", "device", "numel", "bytes", "min", "max", "mean", "nan", "inf", "first", "topk"}
nlohmann::ordered_json leafToJson(const Leaf& leaf);
// {"source", "location", "blas", "lapack", "onednn", "openmp", "parallel_backend", "cpu_capability", …}
nlohmann::ordered_json libtorchBuildObject(const LibTorchBuild& b);

} // namespace twb::detail
