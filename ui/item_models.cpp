#include "item_models.h"

#include "format_text.h"

#include "twb/report.h"

#include "twb/stats.h"

#include <QBrush>
#include <QLocale>
#include <QPalette>

#include <cmath>

namespace twbui {

QString shapeText(const std::vector<int64_t>& shape) {
    return QString::fromStdString(twb::shapeText(shape));
}

QString bytesText(uint64_t bytes) {
    return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeTraditionalFormat);
}

static QString num(double v) {
    if (std::isnan(v)) return QStringLiteral("–");
    return QString::number(v, 'g', 5);
}

// ---------------------------------------------------------------- module tree

void ModuleTreeModel::setTree(const twb::ModuleNode& root) {
    beginResetModel();
    m_root = root;
    m_rootNode = Node{};
    m_rootNode.module = &m_root;
    build(m_rootNode);
    endResetModel();
}

void ModuleTreeModel::build(Node& node) {
    node.children.clear();
    for (std::size_t i = 0; i < node.module->children.size(); ++i) {
        auto child = std::make_unique<Node>();
        child->module = &node.module->children[i];
        child->parent = &node;
        child->row = int(i);
        build(*child);
        node.children.push_back(std::move(child));
    }
}

const ModuleTreeModel::Node* ModuleTreeModel::nodeOf(const QModelIndex& index) const {
    return index.isValid() ? static_cast<const Node*>(index.internalPointer()) : &m_rootNode;
}

QModelIndex ModuleTreeModel::index(int row, int column, const QModelIndex& parent) const {
    if (!hasIndex(row, column, parent)) return {};
    const Node* p = nodeOf(parent);
    return createIndex(row, column, const_cast<Node*>(p->children[std::size_t(row)].get()));
}

QModelIndex ModuleTreeModel::parent(const QModelIndex& child) const {
    if (!child.isValid()) return {};
    const Node* n = nodeOf(child);
    if (!n->parent || n->parent == &m_rootNode) return {};
    return createIndex(n->parent->row, 0, n->parent);
}

int ModuleTreeModel::rowCount(const QModelIndex& parent) const {
    if (parent.column() > 0) return 0;
    return m_rootNode.module ? int(nodeOf(parent)->children.size()) : 0;
}

int ModuleTreeModel::columnCount(const QModelIndex&) const {
    return 3;
}

QVariant ModuleTreeModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || role != Qt::DisplayRole) return {};
    const auto* m = nodeOf(index)->module;
    switch (index.column()) {
    case 0:
        return QString::fromStdString(m->name);
    case 1:
        return QString::fromStdString(m->type);
    case 2:
        return QLocale().toString(qlonglong(m->parameters));
    }
    return {};
}

QVariant ModuleTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const QStringList titles{tr("Name"), tr("Type"), tr("Parameters")};
    return section >= 0 && section < titles.size() ? titles[section] : QVariant();
}

// ---------------------------------------------------------------- tensors

const std::vector<QString>& TensorTableModel::headers() const {
    static const std::vector<QString> h{tr("Name"), tr("Dtype"), tr("Shape"), tr("Elements"), tr("Bytes")};
    return h;
}

QVariant TensorTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || role != Qt::DisplayRole) return {};
    const auto& t = m_rows[std::size_t(index.row())];
    switch (index.column()) {
    case 0:
        return QString::fromStdString(t.name);
    case 1:
        return QString::fromStdString(t.dtype);
    case 2:
        return shapeText(t.shape);
    case 3:
        return QLocale().toString(qlonglong(t.numel));
    case 4:
        return bytesText(t.bytes);
    }
    return {};
}

// ---------------------------------------------------------------- output leaves

const std::vector<QString>& LeafTableModel::headers() const {
    static const std::vector<QString> h{tr("Output"),      tr("Shape"), tr("Dtype"),     tr("Min"),
                                        tr("Max"),         tr("Mean"),  tr("NaN / Inf"), tr("Top-5 of row 0"),
                                        tr("First values")};
    return h;
}

QVariant LeafTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || role != Qt::DisplayRole) return {};
    const auto& l = m_rows[std::size_t(index.row())];
    const auto& s = l.summary;
    switch (index.column()) {
    case 0:
        return QString::fromStdString(l.path);
    case 1:
        return shapeText(s.shape);
    case 2:
        return QString::fromStdString(s.dtype);
    case 3:
        return num(s.min);
    case 4:
        return num(s.max);
    case 5:
        return num(s.mean);
    case 6:
        return QStringLiteral("%1 / %2").arg(s.nanCount).arg(s.infCount);
    case 7: {
        QStringList k;
        for (const auto& [index, value] : s.topk)
            k << QStringLiteral("%1: %2").arg(index).arg(num(value));
        return k.join(QStringLiteral("  "));
    }
    case 8: {
        QStringList v;
        for (double x : s.first)
            v << num(x);
        return v.join(QStringLiteral(", ")) +
               (s.numel > int64_t(s.first.size()) ? QStringLiteral(", …") : QString());
    }
    }
    return {};
}

// ---------------------------------------------------------------- statistics

namespace {
// "1.31× faster (CI 1.27–1.35)", or "no significant difference (1.02×)".
QString speedupText(const twb::LatencyComparison& c) {
    if (!c.significant)
        return StatsTableModel::tr("no significant difference (%1×)").arg(c.speedup, 0, 'f', 2);
    const bool faster = c.speedup >= 1;
    return StatsTableModel::tr("%1× %2 (CI %3–%4)")
        .arg(faster ? c.speedup : 1 / c.speedup, 0, 'f', 2)
        .arg(faster ? StatsTableModel::tr("faster") : StatsTableModel::tr("slower"))
        .arg(faster ? c.ciLow : 1 / c.ciHigh, 0, 'f', 2)
        .arg(faster ? c.ciHigh : 1 / c.ciLow, 0, 'f', 2);
}
} // namespace

const std::vector<QString>& StatsTableModel::headers() const {
    static const std::vector<QString> h{
        tr("Configuration"), tr("Median"),    tr("vs baseline"),   tr("vs first target"), tr("p90"),
        tr("p99"),           tr("Mean ± SD"), tr("Median 95% CI"), tr("Items/s"),         tr("First call"),
        tr("Prepare"),       tr("Samples"),   tr("Warnings")};
    return h;
}

QVariant StatsTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const auto& row = m_rows[std::size_t(index.row())];
    const auto& r = row.record;
    const auto& s = r.stats;
    if (role == Qt::ToolTipRole) {
        if (!r.ok) return QString::fromStdString(r.error + "\n" + twb::failureText(r)).trimmed();
        if (index.column() == 0) return QString::fromStdString(r.label);
        if (index.column() == 2 && row.vsBaseline) return QString::fromStdString(row.vsBaseline->verdict);
        if (index.column() == 3 && row.vsFirstTarget)
            return QString::fromStdString(row.vsFirstTarget->verdict) + "\n" + row.outputsVsFirstTarget;
        if (index.column() == 12) {
            QStringList w;
            for (const auto& x : r.warnings)
                w << QString::fromStdString(x);
            return w.join('\n');
        }
        return {};
    }
    if (role == Qt::ForegroundRole && !r.ok)
        return QBrush(QPalette().color(QPalette::Disabled, QPalette::Text));
    if (role != Qt::DisplayRole) return {};
    if (!r.ok && index.column() > 0)
        return index.column() == 1 ? tr("failed: %1").arg(QString::fromStdString(r.error)) : QVariant();
    switch (index.column()) {
    case 0:
        return QString::fromStdString(r.label) + (r.cancelled ? tr(" (cancelled)") : QString());
    case 1:
        return durationText(s.median);
    case 2:
        if (row.baseline) return tr("baseline");
        return row.vsBaseline ? speedupText(*row.vsBaseline) : QStringLiteral("–");
    case 3:
        if (!row.vsFirstTarget) return row.firstTarget.isEmpty() ? QStringLiteral("–") : tr("first target");
        return speedupText(*row.vsFirstTarget) + " · " + row.outputsVsFirstTarget;
    case 4:
        return durationText(s.percentile(90));
    case 5:
        return durationText(s.percentile(99));
    case 6:
        return durationText(s.mean) + " ± " + durationText(s.stddev);
    case 7:
        return durationText(s.medianCiLow) + " – " + durationText(s.medianCiHigh);
    case 8:
        return QString::number(r.throughput, 'f', 1);
    case 9:
        return durationText(r.firstCallNs);
    case 10:
        return durationText(r.prepareSeconds * 1e9);
    case 11:
        return QString::number(s.count);
    case 12:
        return r.warnings.empty() ? QString() : QString::fromStdString(r.warnings.front());
    }
    return {};
}

// ---------------------------------------------------------------- comparisons

const std::vector<QString>& ComparisonTableModel::headers() const {
    static const std::vector<QString> h{
        tr("Output"), tr("Verdict"),    tr("Max abs"),      tr("Mean abs"),      tr("Max rel"), tr("RMSE"),
        tr("Cosine"), tr("Mismatches"), tr("Argmax agree"), tr("Top-k overlap"), tr("Note")};
    return h;
}

QVariant ComparisonTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid) || role != Qt::DisplayRole) return {};
    const auto& c = m_rows[std::size_t(index.row())];
    const bool compared = c.status == twb::LeafStatus::Compared;
    switch (index.column()) {
    case 0:
        return QString::fromStdString(c.path);
    case 1:
        return QString::fromStdString(twb::leafVerdictText(c));
    case 2:
        return compared ? num(c.maxAbs) : QVariant();
    case 3:
        return compared ? num(c.meanAbs) : QVariant();
    case 4:
        return compared ? num(c.maxRel) : QVariant();
    case 5:
        return compared ? num(c.rmse) : QVariant();
    case 6:
        return compared ? QString::number(c.cosine, 'f', 6) : QVariant();
    case 7:
        return compared ? QStringLiteral("%1 of %2").arg(c.mismatches).arg(c.numel) : QVariant();
    case 8:
        return c.hasTopk ? QStringLiteral("%1%").arg(100 * c.argmaxAgreement, 0, 'f', 1) : QVariant();
    case 9:
        return c.hasTopk ? QStringLiteral("%1% (k=%2)").arg(100 * c.topkAgreement, 0, 'f', 1).arg(c.k)
                         : QVariant();
    case 10:
        return QString::fromStdString(c.note);
    }
    return {};
}

// ---------------------------------------------------------------- profiles

void ProfileTableModel::setProfile(const twb::Profile& profile, View view) {
    beginResetModel();
    m_profile = profile;
    m_profile.events.clear(); // the table needs the aggregates only
    m_view = view;
    endResetModel();
}

int ProfileTableModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid()) return 0;
    switch (m_view) {
    case View::Operators:
        return int(m_profile.operators.size());
    case View::Modules:
        return int(m_profile.modules.size());
    case View::Lines:
        return int(m_profile.lines.size());
    }
    return 0;
}

int ProfileTableModel::columnCount(const QModelIndex& parent) const {
    if (parent.isValid()) return 0;
    return m_view == View::Operators ? 11 : m_view == View::Modules ? 6 : 5;
}

QVariant ProfileTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole) {
        const QString h = headerData(section, orientation, Qt::DisplayRole).toString();
        if (h == tr("Avg")) return tr("Mean time of one call of the operator");
        if (h.contains('%')) return tr("Share of the profiled forward");
        if (h != tr("Name") && h != tr("Module") && h != tr("Type") && h != tr("Source line") &&
            h != tr("Function") && h != tr("Input shapes"))
            return tr("Per forward: the total over the %1 profiled calls, divided by %1")
                .arg(m_profile.calls);
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    // Times and counts are per forward, as the bars and the summary are.
    static const QStringList ops{tr("Name"),          tr("Self %"),  tr("Self"),          tr("Total %"),
                                 tr("Total"),         tr("Avg"),     tr("Calls/forward"), tr("Input shapes"),
                                 tr("FLOPs/forward"), tr("GFLOP/s"), tr("% of peak")};
    static const QStringList modules{tr("Module"), tr("Type"),    tr("Self"),
                                     tr("Total"),  tr("Total %"), tr("Operators/forward")};
    static const QStringList lines{tr("Source line"), tr("Function"), tr("Operators' self"), tr("Line time"),
                                   tr("Calls/forward")};
    const QStringList& h = m_view == View::Operators ? ops : m_view == View::Modules ? modules : lines;
    return section >= 0 && section < h.size() ? QVariant(h[section]) : QVariant();
}

QVariant ProfileTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    if (role == KeyRole) {
        const std::size_t row = std::size_t(index.row());
        return QString::fromStdString(m_view == View::Operators ? m_profile.operators[row].name
                                      : m_view == View::Modules ? m_profile.modules[row].path
                                                                : m_profile.lines[row].location);
    }
    if (role != Qt::DisplayRole && role != Qt::UserRole && role != Qt::ToolTipRole &&
        role != Qt::TextAlignmentRole)
        return {};
    const bool text = role == Qt::DisplayRole;
    const double whole = m_profile.forwardNs * m_profile.calls;
    auto percent = [&](double ns) -> QVariant {
        if (!text) return ns;
        return percentText(ns, whole);
    };
    // Totals over the profiled calls, shown per forward.
    const double calls = std::max(1, m_profile.calls);
    auto time = [&](double ns) -> QVariant {
        return text ? QVariant(durationText(ns / calls)) : QVariant(ns / calls);
    };
    auto perForward = [&](double n) -> QVariant {
        return text ? QVariant(QString::number(n / calls, 'g', 3)) : QVariant(n / calls);
    };
    const int c = index.column();
    if (role == Qt::TextAlignmentRole)
        return (c == 0 || (m_view != View::Operators && c == 1) || (m_view == View::Operators && c == 7))
                   ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                   : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    const std::size_t r = std::size_t(index.row());
    if (m_view == View::Operators) {
        const auto& o = m_profile.operators[r];
        if (role == Qt::ToolTipRole) {
            QStringList tip;
            if (o.fused)
                tip << (o.timed
                            ? tr("A fused node the operator profiler does not see, timed through "
                                 "TorchScript's per-line profile of its source line")
                            : tr("A fused node the operator profiler does not see; its time is inside the "
                                 "unattributed remainder"));
            if (!o.timeIn.empty())
                tip << tr("Its time sits in %1, which is credited with its FLOPs")
                           .arg(QString::fromStdString(o.timeIn));
            if (o.creditedFlops > 0) {
                QStringList from;
                for (const auto& f : o.creditedFrom)
                    from << QString::fromStdString(f);
                tip << tr("Credited with the FLOPs of %1, whose time sits here").arg(from.join(", "));
            }
            for (const auto& shape : o.shapes)
                tip << QString::fromStdString(shape);
            for (const auto& l : o.locations)
                tip << QString::fromStdString(l);
            return tip.join('\n');
        }
        const double rate = o.gflops(m_profile.calls);
        const double peak = m_profile.peak.measured ? m_profile.peak.gflops : 0;
        switch (c) {
        case 0:
            return QString::fromStdString(o.name);
        case 1:
            return o.timed ? percent(o.selfNs) : QVariant(text ? QStringLiteral("?") : QVariant(-1.0));
        case 2:
            return o.timed ? time(o.selfNs) : QVariant(text ? QStringLiteral("?") : QVariant(-1.0));
        case 3:
            return o.timed ? percent(o.totalNs) : QVariant(text ? QStringLiteral("?") : QVariant(-1.0));
        case 4:
            return o.timed ? time(o.totalNs) : QVariant(text ? QStringLiteral("?") : QVariant(-1.0));
        case 5:
            return text ? QVariant(durationText(o.meanNs())) : QVariant(o.meanNs());
        case 6:
            return perForward(double(o.calls));
        case 7: {
            if (o.fused) return tr("(fused node)");
            QString shapes = o.shapes.empty() ? QString() : QString::fromStdString(o.shapes.front());
            if (o.shapeVariants > 1) shapes += tr(" +%1 more").arg(o.shapeVariants - 1);
            return shapes;
        }
        case 8: // its own count, or in brackets what its callers' count credits it with
            if (!text) return o.workFlops();
            return o.flops > 0           ? scaledText(o.flops)
                   : o.creditedFlops > 0 ? QStringLiteral("(%1)").arg(scaledText(o.creditedFlops))
                                         : QString();
        case 9:
            return text ? (rate > 0 ? QVariant(QString::number(rate, 'f', 1)) : QVariant(QString()))
                        : QVariant(rate);
        case 10:
            if (!text) return peak > 0 ? 100 * rate / peak : 0.0;
            return rate > 0 && peak > 0 ? QVariant(QStringLiteral("%1%").arg(100 * rate / peak, 0, 'f', 0))
                                        : QVariant(QString());
        }
        return {};
    }
    if (m_view == View::Modules) {
        const auto& m = m_profile.modules[r];
        if (role == Qt::ToolTipRole) return QString::fromStdString(m.path.empty() ? "(model)" : m.path);
        switch (c) {
        case 0:
            return QString(m.depth * 2, QLatin1Char(' ')) +
                   (m.path.empty() ? tr("(model)") : QString::fromStdString(m.path));
        case 1:
            return QString::fromStdString(m.type);
        case 2:
            return time(m.selfNs);
        case 3:
            return time(m.totalNs);
        case 4:
            return percent(m.totalNs);
        case 5:
            return perForward(double(m.operatorCalls));
        }
        return {};
    }
    const auto& l = m_profile.lines[r];
    if (role == Qt::ToolTipRole) return QString::fromStdString(l.location);
    switch (c) {
    case 0:
        return QString::fromStdString(l.location);
    case 1:
        return QString::fromStdString(l.function);
    case 2:
        return time(l.selfNs);
    case 3:
        return l.scriptNs >= 0 ? time(l.scriptNs) : QVariant(text ? QVariant(QString()) : QVariant(-1.0));
    case 4:
        return perForward(double(l.calls));
    }
    return {};
}

const std::vector<QString>& ProfileDiffModel::headers() const {
    static const std::vector<QString> h{tr("Operator"), tr("A calls"), tr("A time"), tr("B calls"),
                                        tr("B time"),   tr("Change"),  tr("Note")};
    return h;
}

QVariant ProfileDiffModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const auto& e = m_rows[std::size_t(index.row())];
    if (role == Qt::UserRole) {
        switch (index.column()) {
        case 1:
            return e.callsA;
        case 2:
            return e.nsA;
        case 3:
            return e.callsB;
        case 4:
            return e.nsB;
        default:
            break;
        }
    }
    if (role != Qt::DisplayRole && role != Qt::UserRole) return {};
    using C = twb::ProfileDiffEntry::Change;
    switch (index.column()) {
    case 0:
        return QString::fromStdString(e.name);
    case 1:
        return e.callsA > 0 ? QString::number(e.callsA, 'g', 4) : QString();
    case 2:
        return e.callsA > 0 ? durationText(e.nsA) : QString();
    case 3:
        return e.callsB > 0 ? QString::number(e.callsB, 'g', 4) : QString();
    case 4:
        return e.callsB > 0 ? durationText(e.nsB) : QString();
    case 5:
        return e.change == C::Faster     ? tr("faster")
               : e.change == C::Slower   ? tr("slower")
               : e.change == C::Appeared ? tr("appeared")
               : e.change == C::Vanished ? tr("vanished")
                                         : tr("same");
    case 6:
        return QString::fromStdString(e.note);
    }
    return {};
}

// ---------------------------------------------------------------- sweeps

const std::vector<QString>& SweepTableModel::headers() const {
    static const std::vector<QString> h{tr("Configuration"), tr("Status"),      tr("Median"),  tr("p99"),
                                        tr("Items/s"),       tr("vs LibTorch"), tr("Outputs"), tr("Front")};
    return h;
}

QVariant SweepTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const auto& p = m_rows[std::size_t(index.row())];
    const twb::SweepPoint* lib = nullptr;
    for (const auto& r : m_rows)
        if (r.referenceKind == twb::SweepReference::LibTorchDefault && r.stats.count) lib = &r;
    const bool has = p.stats.count > 0;
    const double vs = lib && has && p.stats.median > 0 ? lib->stats.median / p.stats.median : 0;
    if (role == Qt::ToolTipRole)
        return QString::fromStdString(p.reason.empty() ? p.id : p.id + ": " + p.reason);
    if (role == Qt::FontRole && index.row() == m_recommended) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::ForegroundRole &&
        (p.status == twb::PointStatus::Eliminated || p.status == twb::PointStatus::Skipped ||
         p.status == twb::PointStatus::NotReached))
        return QBrush(QPalette().color(QPalette::Disabled, QPalette::Text));
    if (role == Qt::UserRole) {
        switch (index.column()) {
        case 2:
            return has ? p.stats.median : 1e30;
        case 3:
            return has ? p.stats.percentile(99) : 1e30;
        case 4:
            return p.throughput;
        case 5:
            return vs;
        default:
            break;
        }
    }
    if (role != Qt::DisplayRole && role != Qt::UserRole) return {};
    switch (index.column()) {
    case 0:
        return QString::fromStdString(p.id);
    case 1:
        return index.row() == m_recommended ? tr("recommended")
                                            : QString::fromStdString(twb::pointStatusName(p.status));
    case 2:
        return has ? durationText(p.stats.median) : QString();
    case 3:
        return has ? durationText(p.stats.percentile(99)) : QString();
    case 4:
        return has ? QString::number(p.throughput, 'f', 1) : QString();
    case 5:
        return vs > 0 && lib != &p ? QStringLiteral("%1×").arg(vs, 0, 'f', 2) : QString();
    case 6:
        return p.outputsChecked ? (p.outputsOk ? tr("ok") : tr("differ")) : QString();
    case 7:
        return p.onFront ? tr("yes") : QString();
    }
    return {};
}

} // namespace twbui
