#include "item_models.h"

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
static QString duration(double ns) {
    return QString::fromStdString(twb::formatDuration(ns));
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

const std::vector<QString>& StatsTableModel::headers() const {
    static const std::vector<QString> h{
        tr("Configuration"), tr("Median"),  tr("vs baseline"), tr("p90"),     tr("p99"),     tr("Mean ± SD"),
        tr("Median 95% CI"), tr("Items/s"), tr("First call"),  tr("Prepare"), tr("Samples"), tr("Warnings")};
    return h;
}

QVariant StatsTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const auto& row = m_rows[std::size_t(index.row())];
    const auto& r = row.record;
    const auto& s = r.stats;
    if (role == Qt::ToolTipRole) {
        if (!r.ok) return QString::fromStdString(r.error);
        if (index.column() == 2 && row.vsBaseline) return QString::fromStdString(row.vsBaseline->verdict);
        if (index.column() == 11) {
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
        return duration(s.median);
    case 2:
        if (row.baseline) return tr("baseline");
        if (!row.vsBaseline) return QStringLiteral("–");
        if (!row.vsBaseline->significant)
            return tr("no significant difference (%1×)").arg(row.vsBaseline->speedup, 0, 'f', 2);
        return tr("%1× %2 (CI %3–%4)")
            .arg(row.vsBaseline->speedup >= 1 ? row.vsBaseline->speedup : 1 / row.vsBaseline->speedup, 0, 'f',
                 2)
            .arg(row.vsBaseline->speedup >= 1 ? tr("faster") : tr("slower"))
            .arg(row.vsBaseline->speedup >= 1 ? row.vsBaseline->ciLow : 1 / row.vsBaseline->ciHigh, 0, 'f', 2)
            .arg(row.vsBaseline->speedup >= 1 ? row.vsBaseline->ciHigh : 1 / row.vsBaseline->ciLow, 0, 'f',
                 2);
    case 3:
        return duration(s.percentile(90));
    case 4:
        return duration(s.percentile(99));
    case 5:
        return duration(s.mean) + " ± " + duration(s.stddev);
    case 6:
        return duration(s.medianCiLow) + " – " + duration(s.medianCiHigh);
    case 7:
        return QString::number(r.throughput, 'f', 1);
    case 8:
        return duration(r.firstCallNs);
    case 9:
        return duration(r.prepareSeconds * 1e9);
    case 10:
        return QString::number(s.count);
    case 11:
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

} // namespace twbui
