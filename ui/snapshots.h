// The immutable values that cross from the worker thread to the GUI, registered
// as metatypes so queued signals can carry them.
#pragma once

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/load.h"
#include "twb/model.h"
#include "twb/profile.h"
#include "twb/report.h"
#include "twb/session.h"
#include "twb/stats.h"
#include "twb/sweep.h"
#include "twb/value.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace twbui {

// One forward argument's input, as the user gave it.
struct InputSpec {
    QString argument;
    QString source; // a file path, or "gen:SPEC"
};

struct InputPreview {
    QString argument, type, source;
    bool ok = false;
    QString text;      // shape, dtype and statistics, or why it cannot be read
    QString imagePath; // set for image files, for a thumbnail
};

struct BindingSnapshot {
    bool ok = false;
    QString error; // one sentence
    QVector<InputPreview> rows;
    QStringList warnings; // inputs that bind but differ from what their first use needs
};

struct RunSnapshot {
    int index = -1; // position in the run's configuration list
    twb::RunRecord record;
    twb::Value output;
    bool hasOutput = false;
    bool hasComparison = false; // against the first configuration
    twb::LatencyComparison vsBaseline;
    QString origin; // "" for local runs; "host · file" for runs read from a report
};

struct ComparisonSnapshot {
    QString nameA, nameB, leafPath;
    twb::OutputComparison comparison;
    twb::Histogram errors; // of |a - b| for leafPath
};

} // namespace twbui

Q_DECLARE_METATYPE(twb::ModelInfo)
Q_DECLARE_METATYPE(twb::StateDictReport)
Q_DECLARE_METATYPE(twb::Progress)
Q_DECLARE_METATYPE(twb::Value)
Q_DECLARE_METATYPE(twbui::BindingSnapshot)
Q_DECLARE_METATYPE(twbui::RunSnapshot)
Q_DECLARE_METATYPE(twbui::ComparisonSnapshot)
Q_DECLARE_METATYPE(twb::Report)
Q_DECLARE_METATYPE(twb::Session)
Q_DECLARE_METATYPE(twb::Profile)
Q_DECLARE_METATYPE(twb::SweepProgress)
Q_DECLARE_METATYPE(twb::SweepPoint)
Q_DECLARE_METATYPE(twb::SweepResult)
Q_DECLARE_METATYPE(twb::LoadProgress)
Q_DECLARE_METATYPE(twb::LoadPoint)
