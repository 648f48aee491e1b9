// Item models over core's value snapshots: the submodule tree, state_dict
// tensors, output leaves, run statistics and output comparisons.
#pragma once

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/model.h"
#include "twb/profile.h"
#include "twb/sweep.h"

#include <QAbstractItemModel>
#include <QAbstractTableModel>

#include <optional>
#include <vector>

namespace twbui {

class ModuleTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    using QAbstractItemModel::QAbstractItemModel;
    void setTree(const twb::ModuleNode& root);
    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    struct Node {
        const twb::ModuleNode* module = nullptr;
        Node* parent = nullptr;
        int row = 0;
        std::vector<std::unique_ptr<Node>> children;
    };
    void build(Node& node);
    const Node* nodeOf(const QModelIndex& index) const;
    twb::ModuleNode m_root;
    Node m_rootNode;
};

// Shared plumbing for the flat tables below: rows of a value type, fixed column titles.
template <typename Row> class SnapshotTableModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;
    void setRows(std::vector<Row> rows) {
        beginResetModel();
        m_rows = std::move(rows);
        endResetModel();
    }
    const std::vector<Row>& rows() const { return m_rows; }
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    int columnCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : int(headers().size());
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
        if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 &&
            section < int(headers().size()))
            return headers()[std::size_t(section)];
        return {};
    }

protected:
    virtual const std::vector<QString>& headers() const = 0;
    std::vector<Row> m_rows;
};

class TensorTableModel : public SnapshotTableModel<twb::TensorInfo> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;

protected:
    const std::vector<QString>& headers() const override;
};

class LeafTableModel : public SnapshotTableModel<twb::Leaf> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;

protected:
    const std::vector<QString>& headers() const override;
};

struct StatsRow {
    twb::RunRecord record;
    std::optional<twb::LatencyComparison> vsBaseline;
    bool baseline = false; // the configuration the others are compared with
    // A plan run on several targets: this configuration against the same one on the first target, and
    // whether their outputs agree.
    std::optional<twb::LatencyComparison> vsFirstTarget;
    QString firstTarget, outputsVsFirstTarget;
};

class StatsTableModel : public SnapshotTableModel<StatsRow> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;

protected:
    const std::vector<QString>& headers() const override;
};

class ComparisonTableModel : public SnapshotTableModel<twb::LeafComparison> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;

protected:
    const std::vector<QString>& headers() const override;
};

// One profile as a table: its operators (torch.profiler's columns, then FLOPs, GFLOP/s and % of peak),
// its modules, or its source lines. Qt::UserRole gives each cell's number, for sorting.
class ProfileTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum class View { Operators, Modules, Lines };
    // A row's key: the operator's name, the module's dotted path ("" the model), the line's location.
    static constexpr int KeyRole = Qt::UserRole + 1;
    using QAbstractTableModel::QAbstractTableModel;
    void setProfile(const twb::Profile& profile, View view);
    View view() const { return m_view; }
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    twb::Profile m_profile;
    View m_view = View::Operators;
};

class ProfileDiffModel : public SnapshotTableModel<twb::ProfileDiffEntry> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;

protected:
    const std::vector<QString>& headers() const override;
};

// A sweep's points: configuration, status, median, p99, items/s, against LibTorch's default, outputs,
// on the front. Qt::UserRole gives numbers for sorting.
class SweepTableModel : public SnapshotTableModel<twb::SweepPoint> {
    Q_OBJECT
public:
    using SnapshotTableModel::SnapshotTableModel;
    QVariant data(const QModelIndex& index, int role) const override;
    void setRecommended(int row) { m_recommended = row; }

protected:
    const std::vector<QString>& headers() const override;

private:
    int m_recommended = -1;
};

QString shapeText(const std::vector<int64_t>& shape);
QString bytesText(uint64_t bytes);

} // namespace twbui
