// Figures as people read them, written one way in the CLI's tables, the window's panels and the
// sentences core composes. Durations are twb/stats.h's formatDuration.
#pragma once

#include <string>

namespace twb {

// `digits` decimals: "3.14".
std::string formatFixed(double v, int digits);
// `significant` digits, in exponent form where that is shorter: "0.000326", "21.34", "3.2e-09"; "inf", "nan".
std::string formatGeneral(double v, int significant = 4);
// part / whole as a percentage with one decimal, "12.5%"; "" when whole is not positive.
std::string formatPercent(double part, double whole);
// Three significant figures with a k, M, G, T or P prefix, then the unit: "5.60 MFLOP", "45.6 kB",
// "812" for a plain count; "" for NaN or what is not positive.
std::string formatScaled(double v, const std::string& unit = "");

} // namespace twb
