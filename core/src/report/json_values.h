// Internal: JSON renderings shared by the CLI's --json output and the reports.
#pragma once

#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/value.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace twb::detail {

// v as a whole number of type I. nlohmann converts 1e300 or -1 to an int64 or a uint64 with undefined
// behaviour or a silent wrap; this throws nlohmann's type_error instead, which readers report.
template <typename I> I wholeNumber(const nlohmann::ordered_json& v, const std::string& what) {
    static_assert(std::is_integral_v<I> && !std::is_same_v<I, bool>);
    bool fits = false;
    if (v.is_number_unsigned())
        fits = v.get<uint64_t>() <= uint64_t(std::numeric_limits<I>::max());
    else if (v.is_number_integer())
        fits = v.get<int64_t>() >= int64_t(std::numeric_limits<I>::min()) &&
               (std::is_unsigned_v<I> || v.get<int64_t>() <= int64_t(std::numeric_limits<I>::max()));
    if (!fits) throw nlohmann::json::type_error::create(302, what + " is not a whole number in range", &v);
    return v.get<I>();
}

// T read from v, with every integer (alone or in a list) checked by wholeNumber.
template <typename T> T checkedGet(const nlohmann::ordered_json& v, const std::string& what) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        return wholeNumber<T>(v, what);
    } else if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                         std::is_same_v<T, std::vector<uint64_t>>) {
        if (!v.is_array()) throw nlohmann::json::type_error::create(302, what + " is not a list", &v);
        T out;
        for (const auto& x : v)
            out.push_back(wholeNumber<typename T::value_type>(x, what));
        return out;
    } else {
        return v.get<T>();
    }
}

// A number, or null for NaN and infinities (JSON has neither).
nlohmann::ordered_json finiteOrNull(double v);
// {"path", "shape", "dtype", "device", "numel", "bytes", "min", "max", "mean", "nan", "inf", "first", "topk"}
nlohmann::ordered_json leafToJson(const Leaf& leaf);
// {"allclose", "same_structure", "atol", "rtol", "summary", "leaves": [per-leaf figures]}
nlohmann::ordered_json outputComparisonObject(const OutputComparison& o);
// {"source", "location", "blas", "lapack", "onednn", "openmp", "parallel_backend", "cpu_capability", …}
nlohmann::ordered_json libtorchBuildObject(const LibTorchBuild& b);

} // namespace twb::detail
