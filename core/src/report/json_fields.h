// Internal: reading and writing the fields of a report's JSON (report.cpp, analysis_json.cpp). Numbers that
// are NaN or infinite are written as null and read back as NaN; absent fields read as their fallback.
#pragma once

#include "json_values.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace twb::detail::fields {

using nlohmann::ordered_json;

inline ordered_json num(double v) {
    return finiteOrNull(v);
}
inline double getNum(const ordered_json& j, const char* key, double fallback = 0) {
    if (!j.contains(key) || j.at(key).is_null()) return j.contains(key) ? std::nan("") : fallback;
    return j.at(key).get<double>();
}
// A field, or the fallback when it is absent or null; integers are checked (checkedGet).
template <typename T> T get(const ordered_json& j, const char* key, T fallback = T()) {
    return j.contains(key) && !j.at(key).is_null() ? checkedGet<T>(j.at(key), key) : fallback;
}
inline std::vector<double> getDoubles(const ordered_json& j, const char* key) {
    std::vector<double> out;
    if (!j.contains(key)) return out;
    for (const auto& v : j.at(key))
        out.push_back(v.is_null() ? std::nan("") : v.get<double>());
    return out;
}
inline ordered_json doubles(const std::vector<double>& v) {
    ordered_json a = ordered_json::array();
    for (double x : v)
        a.push_back(num(x));
    return a;
}

} // namespace twb::detail::fields
