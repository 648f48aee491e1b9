// Core's figures (twb/format.h, and durations from twb/stats.h) as the panels show them.
#pragma once

#include "twb/format.h"
#include "twb/stats.h"

#include <QString>

namespace twbui {

inline QString durationText(double ns) {
    return QString::fromStdString(twb::formatDuration(ns));
}
inline QString percentText(double part, double whole) {
    return QString::fromStdString(twb::formatPercent(part, whole));
}
inline QString scaledText(double v, const std::string& unit = {}) {
    return QString::fromStdString(twb::formatScaled(v, unit));
}

} // namespace twbui
