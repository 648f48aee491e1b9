#include "twb/format.h"

#include <cmath>
#include <cstdio>

namespace twb {

std::string formatFixed(double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

std::string formatGeneral(double v, int significant) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*g", significant, v);
    return b;
}

std::string formatPercent(double part, double whole) {
    if (!(whole > 0)) return "";
    return formatFixed(100 * part / whole, 1) + "%";
}

std::string formatScaled(double v, const std::string& unit) {
    if (!(v > 0)) return "";
    static const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    while (v >= 999.5 && i < 5) {
        v /= 1000;
        ++i;
    }
    const std::string number = i == 0 && v == std::floor(v) ? formatFixed(v, 0)
                                                            : formatFixed(v, v < 10    ? 2
                                                                             : v < 100 ? 1
                                                                                       : 0);
    const std::string suffix = std::string(prefixes[i]) + unit;
    return suffix.empty() ? number : number + " " + suffix;
}

} // namespace twb
