#include "divergence_panel.h"

#include "twb/format.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace twbui {

namespace {

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

// A number that sorts as a number, shown as core formats it.
QTableWidgetItem* figure(double v, int significant = 3) {
    auto* item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, std::isfinite(v) ? text(twb::formatGeneral(v, significant))
                                   : std::isnan(v)  ? QStringLiteral("NaN")
                                                    : QStringLiteral("inf"));
    item->setData(Qt::UserRole, v);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

} // namespace

DivergencePanel::DivergencePanel(QWidget* parent)
    : QWidget(parent) {
    m_a = new QComboBox;
    m_b = new QComboBox;
    m_a->setObjectName(QStringLiteral("divergeA"));
    m_b->setObjectName(QStringLiteral("divergeB"));
    m_a->setToolTip(tr("A: the configuration whose tensors are the reference"));
    m_b->setToolTip(tr("B: the configuration compared against A, node by node"));
    m_run = new QPushButton(tr("Find Where They Part"));
    m_run->setToolTip(tr("Runs A and B once each in a worker, recording every intermediate tensor, and "
                         "compares them node by node"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setEnabled(false);
    connect(m_run, &QPushButton::clicked, this, &DivergencePanel::request);
    connect(m_cancel, &QPushButton::clicked, this, &DivergencePanel::cancelRequested);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("A:")));
    bar->addWidget(m_a, 1);
    bar->addWidget(new QLabel(tr("B:")));
    bar->addWidget(m_b, 1);
    bar->addWidget(m_run);
    bar->addWidget(m_cancel);

    m_summary = new QLabel(tr("Choose two configurations: where their outputs part is found node by node."));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setObjectName(QStringLiteral("divergenceSummary"));

    m_table = new QTableWidget(0, 10);
    m_table->setHorizontalHeaderLabels({tr("#"), tr("Operator"), tr("Line"), tr("Module"), tr("Max abs"),
                                        tr("Max rel"), tr("Cosine"), tr("Mismatched %"), tr("Inf/NaN A → B"),
                                        tr("Match")});
    m_table->horizontalHeaderItem(4)->setToolTip(tr("Over the elements finite on both sides"));
    m_table->horizontalHeaderItem(7)->setToolTip(tr("The share of elements outside atol + rtol·|a|"));
    m_table->horizontalHeaderItem(8)->setToolTip(tr("Infinities and NaNs in A's tensor, then in B's"));
    m_table->horizontalHeaderItem(9)->setToolTip(tr("How B's tensor was matched to A's node"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSortingEnabled(true);
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto rows = m_table->selectionModel()->selectedRows();
        if (rows.isEmpty()) return;
        const int i = m_table->item(rows.first().row(), 0)->data(Qt::UserRole).toInt();
        if (i >= 0 && i < int(m_report.nodes.size())) m_view->selectNode(m_report.nodes[std::size_t(i)].node);
    });

    m_view = new GraphView;
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(m_view);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);
}

void DivergencePanel::setConfigs(const QVector<twb::RunConfig>& configs) {
    const int a = m_a->currentIndex(), b = m_b->currentIndex();
    m_configs = configs;
    for (QComboBox* box : {m_a, m_b}) {
        const QSignalBlocker block(box);
        box->clear();
        for (const auto& c : configs)
            box->addItem(text(c.label()));
    }
    const int n = int(configs.size());
    choose(a >= 0 && a < n ? a : 0, b >= 0 && b < n ? b : std::min(1, n - 1));
    m_run->setEnabled(n > 0);
}

void DivergencePanel::choose(int a, int b) {
    m_a->setCurrentIndex(a);
    m_b->setCurrentIndex(b);
}

void DivergencePanel::setRunning(bool running) {
    m_run->setEnabled(!running && !m_configs.isEmpty());
    m_cancel->setEnabled(running);
    if (running) m_summary->setText(tr("Running A and B with every intermediate tensor recorded…"));
}

void DivergencePanel::request() {
    const int a = m_a->currentIndex(), b = m_b->currentIndex();
    if (a < 0 || b < 0 || a >= m_configs.size() || b >= m_configs.size()) return;
    emit divergeRequested(m_configs[a], m_configs[b]);
}

void DivergencePanel::clear() {
    m_report = {};
    m_has = false;
    m_table->setRowCount(0);
    m_view->setGraph(nullptr, tr("Run a divergence to see A's graph coloured by B's error."));
}

void DivergencePanel::showReport(const twb::DivergenceReport& report) {
    m_report = report;
    m_has = true;
    m_summary->setText(text(report.summary));
    m_table->setSortingEnabled(false);
    m_table->setRowCount(int(report.nodes.size()));
    for (std::size_t i = 0; i < report.nodes.size(); ++i) {
        const twb::NodeDivergence& n = report.nodes[i];
        const int row = int(i);
        auto* index = new QTableWidgetItem;
        index->setData(Qt::DisplayRole, row + 1);
        index->setData(Qt::UserRole, row);
        m_table->setItem(row, 0, index);
        m_table->setItem(
            row, 1, new QTableWidgetItem(text(n.kind + (n.matchedAs.empty() ? "" : " → " + n.matchedAs))));
        m_table->setItem(row, 2, new QTableWidgetItem(text(n.location)));
        m_table->setItem(row, 3, new QTableWidgetItem(text(n.scope)));
        if (n.matched) {
            m_table->setItem(row, 4, figure(n.maxAbs));
            m_table->setItem(row, 5, figure(n.maxRel));
            m_table->setItem(row, 6, figure(n.cosine, 6));
            m_table->setItem(row, 7, figure(n.mismatchedShare * 100));
        } else {
            for (int c = 4; c < 9; ++c)
                m_table->setItem(row, c, new QTableWidgetItem(QStringLiteral("—")));
        }
        const int64_t badA = n.infA + n.nanA, badB = n.infB + n.nanB;
        m_table->setItem(
            row, 8,
            new QTableWidgetItem(badA || badB ? QStringLiteral("%1 → %2").arg(badA).arg(badB) : QString()));
        m_table->setItem(row, 9, new QTableWidgetItem(text(n.match)));
        const bool first = row == report.firstDivergent;
        if (first || !n.within) {
            for (int c = 0; c < m_table->columnCount(); ++c) {
                QTableWidgetItem* item = m_table->item(row, c);
                item->setForeground(QColor(190, 30, 30));
                QFont f = item->font();
                f.setBold(first);
                item->setFont(f);
                if (first) item->setToolTip(tr("The first tensor outside the tolerance: where A and B part"));
            }
        }
    }
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);
    m_table->resizeColumnsToContents();
    if (report.graphA.nodes.empty()) {
        m_view->setGraph(nullptr, report.errorA.empty() && report.errorB.empty()
                                      ? tr("The report holds no graph.")
                                      : tr("A configuration failed, so nothing was compared."));
        return;
    }
    m_view->setGraph(std::make_shared<const twb::ModelGraph>(report.graphA));
    m_view->setOverlay(twb::errorOverlay(report));
    if (report.firstDivergent >= 0) {
        m_table->selectRow(report.firstDivergent);
        m_view->selectNode(report.nodes[std::size_t(report.firstDivergent)].node);
    }
}

QString DivergencePanel::summaryText() const {
    return m_summary->text();
}

} // namespace twbui
