#include "sweep_panel.h"

#include "format_text.h"
#include "plots.h"

#include "twb/stats.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace twbui {
namespace {

bool measuredPoint(const twb::SweepPoint& p) {
    return p.stats.count > 0 && p.throughput > 0;
}

} // namespace

SweepPanel::SweepPanel(QWidget* parent)
    : QWidget(parent) {
    auto* axes = new QFormLayout;
    auto row = [&](const QString& key, const QStringList& values, const QStringList& checked) {
        auto* w = new QWidget;
        auto* l = new QHBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        for (const auto& v : values) {
            auto* box = new QCheckBox(v);
            box->setChecked(checked.contains(v));
            l->addWidget(box);
            m_boxes.push_back({key, v, box});
        }
        l->addStretch(1);
        axes->addRow(key + QLatin1Char(':'), w);
        return w;
    };
    row(QStringLiteral("jit"), {"off", "freeze", "optimize"}, {"off", "freeze", "optimize"});
    m_threadsRow = row(QStringLiteral("threads"), {"1"}, {"1"});
    row(QStringLiteral("dtype"), {"float32", "bfloat16", "float16"}, {});
    row(QStringLiteral("streams"), {"1", "2", "4"}, {"1"});
    m_batches = new QLineEdit;
    m_batches->setPlaceholderText(tr("as given; or e.g. 1,8,32"));
    m_batches->setToolTip(
        tr("Batch sizes: generated inputs are regenerated, file inputs repeated or sliced"));
    axes->addRow(tr("batch:"), m_batches);

    m_objective = new QComboBox;
    m_objective->addItems({tr("latency"), tr("throughput"), tr("balanced")});
    m_budget = new QDoubleSpinBox;
    m_budget->setRange(2, 3600);
    m_budget->setValue(60);
    m_budget->setSuffix(tr(" s"));
    m_maxLatency = new QDoubleSpinBox;
    m_maxLatency->setRange(0, 1e6);
    m_maxLatency->setSuffix(tr(" ms"));
    m_maxLatency->setSpecialValueText(tr("no limit"));
    m_maxLatency->setToolTip(tr("Throughput objective: only points whose p99 is below this"));
    auto* goal = new QHBoxLayout;
    goal->addWidget(new QLabel(tr("Objective:")));
    goal->addWidget(m_objective);
    goal->addWidget(new QLabel(tr("Budget:")));
    goal->addWidget(m_budget);
    goal->addWidget(new QLabel(tr("p99 limit:")));
    goal->addWidget(m_maxLatency);
    goal->addStretch(1);
    m_start = new QPushButton(tr("&Sweep"));
    m_start->setToolTip(tr("Race the grid within the budget (Ctrl+Shift+S)"));
    goal->addWidget(m_start);

    m_verdict =
        new QLabel(tr("Choose the axes and Sweep: every point's outputs are held against the model as "
                      "saved, and a point whose outputs drift is never recommended."));
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_plot = new QCustomPlot;
    m_plot->setMinimumHeight(260);
    m_plot->setMouseTracking(true);
    addPlotContextMenu(m_plot, QStringLiteral("sweep"));
    m_colourBy = new QComboBox;
    m_colourBy->addItems({"jit", "threads", "dtype", "batch", "streams"});
    m_use = new QPushButton(tr("&Use This Configuration"));
    m_use->setEnabled(false);
    m_use->setToolTip(tr("Add the selected point to the configurations list"));
    auto* chart = new QHBoxLayout;
    chart->addWidget(new QLabel(tr("Colour by:")));
    chart->addWidget(m_colourBy);
    chart->addStretch(1);
    chart->addWidget(m_use);

    m_table = new SweepTableModel(this);
    m_sorted = new QSortFilterProxyModel(this);
    m_sorted->setSourceModel(m_table);
    m_sorted->setSortRole(Qt::UserRole);
    m_view = new QTableView;
    m_view->setModel(m_sorted);
    m_view->setSortingEnabled(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->setWordWrap(false);
    m_view->horizontalHeader()->setStretchLastSection(true);

    auto* split = new QSplitter(Qt::Vertical);
    auto* top = new QWidget;
    auto* tl = new QVBoxLayout(top);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addLayout(chart);
    tl->addWidget(m_plot, 1);
    split->addWidget(top);
    split->addWidget(m_view);
    // The table as tall as the chart: it holds every point and its status.
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(axes);
    layout->addLayout(goal);
    layout->addWidget(m_verdict);
    layout->addWidget(split, 1);

    m_redraw = new QTimer(this);
    m_redraw->setSingleShot(true);
    m_redraw->setInterval(150); // live updates, at most a few redraws a second
    connect(m_redraw, &QTimer::timeout, this, &SweepPanel::redraw);
    connect(m_start, &QPushButton::clicked, this, &SweepPanel::sweepRequested);
    connect(m_colourBy, &QComboBox::currentTextChanged, this, [this] { redraw(); });
    connect(m_plot, &QCustomPlot::mousePress, this, &SweepPanel::onPlotClick);
    connect(m_plot, &QCustomPlot::mouseMove, this, &SweepPanel::onPlotMove);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const int i = selectedPoint();
        m_use->setEnabled(i >= 0 && m_result.points[std::size_t(i)].status != twb::PointStatus::Skipped);
        drawPlot(); // the table stays: resetting it here would pull the selection from under the view
    });
    connect(m_use, &QPushButton::clicked, this, [this] {
        const int i = selectedPoint();
        if (i < 0) return;
        twb::RunConfig c = m_result.points[std::size_t(i)].config;
        c.name.clear();
        c.seconds = 1.0;
        emit useConfiguration(c);
    });
    stylePlot(m_plot, palette());
    setHardwareThreads(2);
    reset();
}

void SweepPanel::setHardwareThreads(int threads) {
    // Replace the threads row's boxes: 1, half and all of the hardware threads.
    for (auto it = m_boxes.begin(); it != m_boxes.end();) {
        if (it->key == "threads") {
            delete it->box;
            it = m_boxes.erase(it);
        } else {
            ++it;
        }
    }
    QStringList values{"1"};
    if (threads >= 4) values << QString::number(threads / 2);
    if (threads >= 2) values << QString::number(threads);
    auto* l = static_cast<QHBoxLayout*>(m_threadsRow->layout());
    int at = 0;
    for (const auto& v : values) {
        auto* box = new QCheckBox(v);
        box->setChecked(true);
        l->insertWidget(at++, box);
        m_boxes.push_back({QStringLiteral("threads"), v, box});
    }
}

void SweepPanel::setAxisChecked(const QString& key, const QString& value, bool on) {
    if (key == "batch") {
        QStringList b = m_batches->text().split(',', Qt::SkipEmptyParts);
        b.removeAll(value);
        if (on) b << value;
        m_batches->setText(b.join(','));
        return;
    }
    for (auto& b : m_boxes)
        if (b.key == key && b.value == value) b.box->setChecked(on);
}

void SweepPanel::setBudget(double seconds) {
    m_budget->setValue(seconds);
}

void SweepPanel::setObjective(twb::SweepObjective objective) {
    m_objective->setCurrentIndex(int(objective));
}

twb::SweepOptions SweepPanel::options(const twb::RunConfig& base) const {
    twb::SweepOptions o;
    o.base = base;
    o.base.name.clear();
    std::map<QString, QStringList> chosen;
    for (const auto& b : m_boxes)
        if (b.box->isChecked()) chosen[b.key] << b.value;
    for (const char* key : {"jit", "threads", "dtype", "streams"}) {
        const QStringList values = chosen[QString::fromLatin1(key)];
        if (values.isEmpty()) continue;
        twb::SweepAxis axis;
        axis.key = key;
        for (const auto& v : values)
            axis.values.push_back(v.toStdString());
        o.axes.push_back(axis);
    }
    if (!m_batches->text().trimmed().isEmpty())
        o.axes.push_back(twb::SweepAxis::parse("batch=" + m_batches->text().trimmed().toStdString()));
    o.objective = static_cast<twb::SweepObjective>(m_objective->currentIndex());
    o.budgetSeconds = m_budget->value();
    o.maxLatencyMs = m_maxLatency->value();
    return o;
}

void SweepPanel::reset() {
    m_result = twb::SweepResult();
    m_table->setRecommended(-1);
    m_table->setRows({});
    redraw();
}

void SweepPanel::updatePoint(const twb::SweepPoint& point) {
    auto it = std::find_if(m_result.points.begin(), m_result.points.end(),
                           [&](const twb::SweepPoint& p) { return p.id == point.id; });
    if (it == m_result.points.end())
        m_result.points.push_back(point);
    else
        *it = point;
    m_verdict->setText(tr("Sweeping: %1 points so far…").arg(m_result.points.size()));
    scheduleRedraw();
}

void SweepPanel::showResult(const twb::SweepResult& result) {
    m_result = result;
    m_verdict->setText(
        QString::fromStdString(result.recommendation) +
        (result.cancelled ? tr(" (The sweep was cancelled: these are the points it measured.)") : QString()));
    redraw();
    if (result.recommended >= 0) selectPoint(result.recommended);
}

void SweepPanel::setColourBy(const QString& key) {
    m_colourBy->setCurrentText(key);
}

QString SweepPanel::recommendationText() const {
    return m_verdict->text();
}

int SweepPanel::selectedPoint() const {
    const auto rows = m_view->selectionModel() ? m_view->selectionModel()->selectedRows() : QModelIndexList();
    if (rows.isEmpty()) return -1;
    const int row = m_sorted->mapToSource(rows.front()).row();
    return row >= 0 && row < int(m_result.points.size()) ? row : -1;
}

void SweepPanel::selectPoint(int index) {
    if (index < 0 || index >= int(m_result.points.size())) return;
    const QModelIndex i = m_sorted->mapFromSource(m_table->index(index, 0));
    m_view->selectionModel()->select(i, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_view->scrollTo(m_sorted->mapFromSource(m_table->index(index, 0)));
}

void SweepPanel::scheduleRedraw() {
    if (!m_redraw->isActive()) m_redraw->start();
}

QString SweepPanel::valueOf(const twb::SweepPoint& p, const QString& key) const {
    if (p.reference) return QString::fromStdString(p.referenceName);
    if (key == "jit") return QString::fromStdString(twb::jitModeName(p.config.jit));
    if (key == "threads") return QString::number(p.config.threads);
    if (key == "dtype") return QString::fromStdString(p.config.dtype);
    if (key == "batch") return p.batch > 0 ? QString::number(p.batch) : tr("as given");
    if (key == "streams") return QString::number(p.streams);
    return {};
}

void SweepPanel::redraw() {
    const int selected = selectedPoint();
    m_table->setRecommended(m_result.recommended);
    {
        const QSignalBlocker quiet(m_view->selectionModel()); // the selection is put back, not changed
        m_table->setRows(m_result.points);
        m_view->resizeColumnsToContents(); // Status ("recommended", "eliminated") whole
        m_view->setColumnWidth(0, std::min(m_view->columnWidth(0), 320));
        if (selected >= 0) {
            const QModelIndex i = m_sorted->mapFromSource(m_table->index(selected, 0));
            m_view->selectionModel()->select(i,
                                             QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        }
    }
    drawPlot();
}

void SweepPanel::drawPlot() {
    const int selected = selectedPoint();
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_plotLabels.clear();
    m_plot->xAxis->setLabel(tr("median latency per request"));
    m_plot->yAxis->setLabel(tr("throughput (items/s)"));
    m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new TimeLogTicker));
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    const QString key = m_colourBy->currentText();
    std::map<QString, std::vector<int>> groups;
    for (std::size_t i = 0; i < m_result.points.size(); ++i)
        if (measuredPoint(m_result.points[i])) groups[valueOf(m_result.points[i], key)].push_back(int(i));
    double xmin = 1e30, xmax = 0, ymin = 1e30, ymax = 0;
    int colour = 0;
    // The grid's groups first, the two references last: drawn on top, as outlined diamonds with their
    // names beside them, so that a reference measured where a grid point lies is not hidden under it.
    std::vector<std::pair<QString, std::vector<int>>> ordered;
    for (bool references : {false, true})
        for (const auto& [value, members] : groups)
            if (m_result.points[std::size_t(members.front())].reference == references)
                ordered.emplace_back(value, members);
    for (const auto& [value, members] : ordered) {
        const QColor c = seriesColor(colour++, palette());
        const bool reference =
            m_result.points[std::size_t(members.front())].reference; // named, not KEY = VALUE
        // Three looks per group: measured, eliminated (faded), outputs differ (crossed).
        for (int look = 0; look < 3; ++look) {
            QVector<double> xs, ys;
            for (int i : members) {
                const auto& p = m_result.points[std::size_t(i)];
                const bool differ = p.outputsChecked && !p.outputsOk;
                const int mine = differ ? 2 : p.status == twb::PointStatus::Eliminated ? 1 : 0;
                if (mine != look) continue;
                xs << p.stats.median;
                ys << p.throughput;
                xmin = std::min(xmin, p.stats.median);
                xmax = std::max(xmax, p.stats.median);
                ymin = std::min(ymin, p.throughput);
                ymax = std::max(ymax, p.throughput);
            }
            if (xs.isEmpty()) continue;
            auto* g = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
            g->setData(xs, ys);
            g->setLineStyle(QCPGraph::lsNone);
            QColor shade = c;
            if (look == 1) shade.setAlpha(80);
            if (reference && look != 2)
                g->setScatterStyle(
                    QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(shade, 2.5), Qt::NoBrush, 15));
            else
                g->setScatterStyle(
                    QCPScatterStyle(look == 2 ? QCPScatterStyle::ssCross : QCPScatterStyle::ssDisc, shade,
                                    look == 2 ? 11 : 9));
            const QString name = reference ? value : QStringLiteral("%1 = %2").arg(key, value);
            g->setName(look == 0   ? name
                       : look == 1 ? tr("%1, eliminated").arg(name)
                                   : tr("%1, outputs differ").arg(name));
        }
    }
    // The Pareto front as a line, by latency.
    std::vector<const twb::SweepPoint*> front;
    for (const auto& p : m_result.points)
        if (p.onFront && measuredPoint(p)) front.push_back(&p);
    std::sort(front.begin(), front.end(), [](auto* a, auto* b) { return a->stats.median < b->stats.median; });
    if (front.size() > 1) {
        auto* line = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
        QVector<double> xs, ys;
        for (const auto* p : front) {
            xs << p->stats.median;
            ys << p->throughput;
        }
        line->setData(xs, ys, true);
        line->setPen(QPen(palette().color(QPalette::WindowText), 1.2, Qt::DashLine));
        line->setName(tr("Pareto front"));
    }
    auto ring = [&](int index, const QColor& colour, double size) {
        if (index < 0 || index >= int(m_result.points.size())) return;
        const auto& p = m_result.points[std::size_t(index)];
        if (!measuredPoint(p)) return;
        auto* g = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
        g->setData({p.stats.median}, {p.throughput});
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(colour, 2), Qt::NoBrush, size));
        g->removeFromLegend();
    };
    // The references' names beside them: the higher point's above it, the lower one's below, so that the
    // two do not run into each other where the points are close.
    std::vector<const twb::SweepPoint*> references;
    for (const auto& p : m_result.points)
        if (p.reference && measuredPoint(p)) references.push_back(&p);
    std::sort(references.begin(), references.end(),
              [](auto* a, auto* b) { return a->throughput > b->throughput; });
    for (std::size_t i = 0; i < references.size(); ++i) {
        const twb::SweepPoint& p = *references[i];
        auto* label = new QCPItemText(m_plot);
        label->position->setType(QCPItemPosition::ptPlotCoords);
        label->position->setCoords(p.stats.median, p.throughput);
        label->setPositionAlignment(Qt::AlignLeft | (i == 0 ? Qt::AlignBottom : Qt::AlignTop));
        label->setPadding(QMargins(10, 2, 2, 2));
        label->setText(QString::fromStdString(p.referenceName));
        label->setColor(palette().color(QPalette::WindowText));
        m_plotLabels << label->text();
    }
    ring(m_result.recommended, palette().color(QPalette::WindowText), 18);
    ring(selected, palette().color(QPalette::Highlight), 24);
    m_plot->legend->setVisible(!groups.empty());
    if (xmax > 0) {
        m_plot->xAxis->setRange(xmin / 1.6, xmax * 1.6);
        m_plot->yAxis->setRange(ymin / 1.6, ymax * 1.6);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

int SweepPanel::pointNear(const QPoint& pos) const {
    int best = -1;
    double bestDistance = 12; // pixels
    for (std::size_t i = 0; i < m_result.points.size(); ++i) {
        const auto& p = m_result.points[i];
        if (!measuredPoint(p)) continue;
        const double x = m_plot->xAxis->coordToPixel(p.stats.median);
        const double y = m_plot->yAxis->coordToPixel(p.throughput);
        const double d = std::hypot(x - pos.x(), y - pos.y());
        if (d < bestDistance) {
            bestDistance = d;
            best = int(i);
        }
    }
    return best;
}

void SweepPanel::onPlotClick(QMouseEvent* event) {
    const int i = pointNear(event->pos());
    if (i >= 0) selectPoint(i);
}

void SweepPanel::onPlotMove(QMouseEvent* event) {
    const int i = pointNear(event->pos());
    if (i < 0) {
        QToolTip::hideText();
        return;
    }
    const auto& p = m_result.points[std::size_t(i)];
    QToolTip::showText(
        event->globalPosition().toPoint(),
        tr("%1\n%2 median, %3 p99, %4 items/s%5")
            .arg(QString::fromStdString(p.id), durationText(p.stats.median),
                 durationText(p.stats.percentile(99)))
            .arg(p.throughput, 0, 'f', 1)
            .arg(p.outputsChecked && !p.outputsOk ? tr("\noutputs differ: never recommended") : QString()),
        m_plot);
}

void SweepPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        stylePlot(m_plot, palette());
        redraw();
    }
}

} // namespace twbui
