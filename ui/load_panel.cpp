#include "load_panel.h"

#include "format_text.h"
#include "plots.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace twbui {
namespace {

const twb::LoadScenario kScenarios[] = {twb::LoadScenario::Server, twb::LoadScenario::SingleStream,
                                        twb::LoadScenario::MultiStream, twb::LoadScenario::Offline};

QString qpsText(double qps) {
    return QString::number(qps, 'f', qps < 100 ? 1 : 0);
}

} // namespace

LoadPanel::LoadPanel(QWidget* parent)
    : QWidget(parent) {
    m_scenario = new QComboBox;
    m_scenario->addItem(tr("Server: Poisson arrivals, judged by p99"));
    m_scenario->addItem(tr("Single stream: one query at a time, judged by p90"));
    m_scenario->addItem(tr("Multi stream: queries of several samples"));
    m_scenario->addItem(tr("Offline: everything at once, judged by throughput"));
    m_qps = new QDoubleSpinBox;
    m_qps->setRange(0, twb::maxGeneratorQps());
    m_qps->setDecimals(1);
    m_qps->setSuffix(tr(" QPS"));
    m_qps->setSpecialValueText(tr("a curve to capacity"));
    m_qps->setToolTip(tr("The offered load; none: points from 30% to 100% of the measured capacity"));
    // Or a share of the capacity the serving process measures just before: the same load on any machine.
    m_utilisation = new QSpinBox;
    m_utilisation->setRange(0, 200);
    m_utilisation->setSuffix(tr("% capacity"));
    m_utilisation->setSpecialValueText(tr("or a share"));
    m_utilisation->setToolTip(tr("Offer this share of the capacity measured just before, where the load is "
                                 "served, instead of a QPS (from 1% to 200%)"));
    m_bound = new QDoubleSpinBox;
    m_bound->setRange(0, 1e6);
    m_bound->setDecimals(3);
    m_bound->setSuffix(tr(" ms"));
    m_bound->setSpecialValueText(tr("no bound"));
    m_bound->setToolTip(tr("The latency bound the p99 must meet, at 99% confidence"));
    m_seconds = new QDoubleSpinBox;
    m_seconds->setRange(0.5, 3600);
    m_seconds->setValue(5);
    m_seconds->setSuffix(tr(" s"));
    m_seconds->setToolTip(tr("How long each load point runs"));
    m_concurrency = new QSpinBox;
    m_concurrency->setRange(1, 256);
    m_concurrency->setToolTip(tr("Executors serving requests at once, over one prepared model"));
    m_samples = new QSpinBox;
    m_samples->setRange(1, 4096);
    m_samples->setValue(8);
    m_samples->setToolTip(tr("Multi stream: samples a query"));
    m_maxBatch = new QSpinBox;
    m_maxBatch->setRange(1, 4096);
    m_maxBatch->setSpecialValueText(tr("no batching"));
    m_maxBatch->setToolTip(tr("Dynamic batching: serve up to this many waiting requests in one call, their "
                              "inputs stacked along the first dimension"));
    m_window = new QDoubleSpinBox;
    m_window->setRange(0, 1e6);
    m_window->setDecimals(0);
    m_window->setSuffix(tr(" µs"));
    m_window->setToolTip(tr("Dynamic batching: how long after the oldest waiting request's arrival an "
                            "executor waits for the batch to fill"));
    m_findPeak = new QCheckBox(tr("Find the peak"));
    m_findPeak->setToolTip(tr("Binary-search the highest QPS whose p99 meets the bound"));
    m_searches = new QSpinBox;
    m_searches->setRange(1, 9);
    m_searches->setPrefix(tr("× "));
    m_searches->setToolTip(tr("Searches made in turns, a load of each in rotation with arrivals of its own: "
                              "the peak is their middle one, and their spread how far the search repeats"));
    m_start = new QPushButton(tr("Run &Load"));
    m_start->setToolTip(tr("Serve the first configuration under this load (Ctrl+Shift+L)"));

    // Three short rows, so that the panel fits a laptop's screen beside the model's.
    m_scenario->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_scenario->setMinimumContentsLength(18);
    auto* first = new QHBoxLayout;
    first->addWidget(new QLabel(tr("Scenario:")));
    first->addWidget(m_scenario, 1);
    first->addWidget(m_findPeak);
    first->addWidget(m_searches);
    first->addWidget(m_start);
    auto row = [](std::initializer_list<std::pair<QString, QWidget*>> fields) {
        auto* l = new QHBoxLayout;
        for (const auto& [label, field] : fields) {
            if (!label.isEmpty()) l->addWidget(new QLabel(label));
            l->addWidget(field);
        }
        l->addStretch(1);
        return l;
    };
    QHBoxLayout* second = row({{tr("Load:"), m_qps},
                               {QString(), m_utilisation},
                               {tr("p99 bound:"), m_bound},
                               {tr("Each point:"), m_seconds}});
    QHBoxLayout* third = row({{tr("Executors:"), m_concurrency},
                              {tr("Samples:"), m_samples},
                              {tr("Batch up to:"), m_maxBatch},
                              {tr("within"), m_window}});

    m_verdict = new QLabel;
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_plot = new QCustomPlot;
    m_plot->setMinimumHeight(260);
    addPlotContextMenu(m_plot, QStringLiteral("load"));

    m_table = new QTableWidget;
    m_table->setColumnCount(10);
    m_table->setHorizontalHeaderLabels({tr("offered QPS"), tr("achieved"), tr("p50"), tr("p99"),
                                        tr("p99 upper bound"), tr("queued p99"), tr("compute p99"),
                                        tr("utilisation"), tr("mean batch"), tr("status")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setWordWrap(false);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_plot);
    split->addWidget(m_table);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(first);
    layout->addLayout(second);
    layout->addLayout(third);
    layout->addWidget(m_verdict);
    layout->addWidget(split, 1);

    connect(m_start, &QPushButton::clicked, this, &LoadPanel::loadRequested);
    connect(m_scenario, &QComboBox::currentIndexChanged, this, [this] { enableFields(); });
    connect(m_findPeak, &QCheckBox::toggled, this, [this] { enableFields(); });
    connect(m_maxBatch, &QSpinBox::valueChanged, this, [this] { enableFields(); });
    connect(m_utilisation, &QSpinBox::valueChanged, this, [this] { enableFields(); });
    stylePlot(m_plot, palette());
    enableFields();
    reset();
}

twb::LoadOptions LoadPanel::options(const twb::RunConfig& config) const {
    twb::LoadOptions o = m_kept;
    o.scenario = kScenarios[std::clamp(m_scenario->currentIndex(), 0, 3)];
    o.config = config;
    const bool share = m_utilisation->isEnabled() && m_utilisation->value() > 0;
    o.utilisation = share ? m_utilisation->value() / 100.0 : 0;
    o.qps = share ? 0 : m_qps->value();
    o.p99BoundMs = m_bound->value();
    o.seconds = m_seconds->value();
    o.concurrency = m_concurrency->value();
    o.samplesPerQuery = m_samples->value();
    o.maxBatch = o.scenario == twb::LoadScenario::SingleStream ? 1 : m_maxBatch->value();
    o.batchWindowUs = o.scenario == twb::LoadScenario::Server && o.maxBatch > 1 ? m_window->value() : 0;
    o.findPeak = o.scenario == twb::LoadScenario::Server && m_findPeak->isChecked();
    o.peakSearches = o.findPeak ? m_searches->value() : 1;
    return o;
}

void LoadPanel::setOptions(const twb::LoadOptions& o) {
    m_kept = o;
    m_scenario->setCurrentIndex(
        int(std::find(std::begin(kScenarios), std::end(kScenarios), o.scenario) - std::begin(kScenarios)));
    m_qps->setValue(o.qps);
    m_utilisation->setValue(int(std::lround(o.utilisation * 100)));
    m_bound->setValue(o.p99BoundMs);
    m_seconds->setValue(o.seconds);
    m_concurrency->setValue(o.concurrency);
    m_samples->setValue(o.samplesPerQuery);
    m_maxBatch->setValue(o.maxBatch);
    m_window->setValue(o.batchWindowUs);
    m_findPeak->setChecked(o.findPeak);
    m_searches->setValue(o.peakSearches);
    enableFields();
}

void LoadPanel::enableFields() {
    const bool server = m_scenario->currentIndex() == 0;
    m_findPeak->setEnabled(server);
    m_searches->setEnabled(server && m_findPeak->isChecked());
    m_utilisation->setEnabled(server && !m_findPeak->isChecked());
    m_qps->setEnabled(m_utilisation->isEnabled() && m_utilisation->value() == 0);
    m_samples->setEnabled(m_scenario->currentIndex() == 2);
    m_concurrency->setEnabled(m_scenario->currentIndex() != 1);
    // A single stream has nothing to batch; only the server's arrivals come apart, to wait for.
    m_maxBatch->setEnabled(m_scenario->currentIndex() != 1);
    m_window->setEnabled(server && m_maxBatch->value() > 1);
}

void LoadPanel::reset() {
    m_result = {};
    m_verdict->setText(tr("Choose a scenario and Run Load: requests arrive on a schedule of their own, and "
                          "each one's latency counts from when it was due, queue and compute apart."));
    redraw();
}

void LoadPanel::start(const twb::LoadOptions& options) {
    reset();
    m_result.options = options;
    setRunning(true);
}

void LoadPanel::setRunning(bool running) {
    m_start->setEnabled(!running);
    if (running) m_verdict->setText(tr("Serving…"));
}

void LoadPanel::updatePoint(const twb::LoadPoint& point) {
    m_result.curve.push_back(point);
    redraw();
}

void LoadPanel::showResult(const twb::LoadResult& result) {
    m_result = result;
    setOptions(result.options);
    m_verdict->setText(QString::fromStdString(result.verdict));
    setRunning(false);
    redraw();
}

QString LoadPanel::verdictText() const {
    return m_verdict->text();
}

double LoadPanel::xOf(const twb::LoadPoint& p) const {
    return p.offeredQps > 0 ? p.offeredQps : p.achievedQps;
}

void LoadPanel::redraw() {
    const auto& curve = m_result.curve;
    // The table, in the order measured.
    m_table->setRowCount(int(curve.size()));
    for (std::size_t i = 0; i < curve.size(); ++i) {
        const twb::LoadPoint& p = curve[i];
        QString status = p.meetsBound ? tr("within") : tr("over the bound");
        if (m_result.options.p99BoundMs <= 0) status.clear();
        if (p.overloaded) status += (status.isEmpty() ? "" : ", ") + tr("queue grows");
        if (int(i) == m_result.knee) status += (status.isEmpty() ? "" : ", ") + tr("knee");
        if (p.again) status += (status.isEmpty() ? "" : ", ") + tr("again, with the load before");
        if (m_result.options.peakSearches > 1)
            status += (status.isEmpty() ? "" : ", ") + tr("search %1").arg(p.search + 1);
        const QStringList cells{p.offeredQps > 0 ? qpsText(p.offeredQps) : QStringLiteral("–"),
                                qpsText(p.achievedQps),
                                durationText(p.latency.p50),
                                durationText(p.latency.p99),
                                std::isfinite(p.p99UpperBound) ? durationText(p.p99UpperBound)
                                                               : tr("too few"),
                                durationText(p.queue.p99),
                                durationText(p.compute.p99),
                                QString::number(p.utilisation * 100, 'f', 0) + QLatin1Char('%'),
                                p.batches > 0 ? QString::number(double(p.calls) / double(p.batches), 'f', 1)
                                              : QStringLiteral("–"),
                                status};
        for (int c = 0; c < cells.size(); ++c)
            m_table->setItem(int(i), c, new QTableWidgetItem(cells[c]));
    }
    m_table->resizeColumnsToContents();

    // The chart: latency against load, in order of load.
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_drawnBound = m_drawnKnee = m_drawnPeak = 0;
    m_plot->xAxis->setLabel(tr("offered load (queries/s)"));
    m_plot->yAxis->setLabel(tr("latency from arrival"));
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new TimeTicker));
    m_plot->legend->setVisible(!curve.empty());
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignTop);
    std::vector<int> order(curve.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return xOf(curve[std::size_t(a)]) < xOf(curve[std::size_t(b)]); });
    struct Line {
        QString name;
        double twb::LatencySummary::* figure;
        const twb::LatencySummary twb::LoadPoint::* part;
        Qt::PenStyle style;
    };
    // The parts first, the whole p99 last: on top where the queue is nearly all of it.
    const Line lines[] = {
        {tr("compute p99"), &twb::LatencySummary::p99, &twb::LoadPoint::compute, Qt::DotLine},
        {tr("queued p99"), &twb::LatencySummary::p99, &twb::LoadPoint::queue, Qt::DashLine},
        {tr("p50"), &twb::LatencySummary::p50, &twb::LoadPoint::latency, Qt::SolidLine},
        {tr("p99"), &twb::LatencySummary::p99, &twb::LoadPoint::latency, Qt::SolidLine}};
    double xmax = 0, ymax = 0, ymin = 1e300;
    int colour = 3;
    for (const Line& line : lines) {
        QVector<double> x, y;
        for (int i : order) {
            const twb::LoadPoint& p = curve[std::size_t(i)];
            x << xOf(p);
            y << (p.*line.part).*line.figure;
            xmax = std::max(xmax, x.back());
            ymax = std::max(ymax, y.back());
            if (y.back() > 0) ymin = std::min(ymin, y.back());
        }
        QCPGraph* g = m_plot->addGraph();
        g->setName(line.name);
        QPen pen(seriesColor(colour--, palette()), line.style == Qt::SolidLine ? 2.5 : 2);
        pen.setStyle(line.style);
        g->setPen(pen);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, pen.color(), 6));
        g->setData(x, y, true);
    }
    const QColor ink = palette().color(QPalette::WindowText);
    const double bound = m_result.options.p99BoundMs * 1e6;
    if (bound > 0 && !curve.empty()) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->point1->setCoords(0, bound);
        line->point2->setCoords(1, bound);
        line->setPen(QPen(QColor(200, 40, 40), 1.5, Qt::DashLine));
        auto* label = new QCPItemText(m_plot);
        label->position->setCoords(0, bound);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setText(tr("p99 bound %1").arg(durationText(bound)));
        label->setColor(QColor(200, 40, 40));
        m_drawnBound = m_result.options.p99BoundMs;
        ymax = std::max(ymax, bound);
    }
    if (m_result.knee >= 0 && std::size_t(m_result.knee) < curve.size()) {
        const twb::LoadPoint& k = curve[std::size_t(m_result.knee)];
        auto* mark = new QCPItemTracer(m_plot);
        mark->position->setCoords(xOf(k), k.latency.p99);
        mark->setStyle(QCPItemTracer::tsCircle);
        mark->setSize(16);
        mark->setPen(QPen(ink, 2));
        auto* label = new QCPItemText(m_plot);
        label->position->setParentAnchor(mark->position);
        label->position->setCoords(0, -14);
        label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        label->setText(tr("knee"));
        label->setColor(ink);
        m_drawnKnee = xOf(k);
    }
    if (m_result.peakQps > 0) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->point1->setCoords(m_result.peakQps, 1);
        line->point2->setCoords(m_result.peakQps, 2);
        line->setPen(QPen(QColor(30, 140, 60), 1.5, Qt::DashDotLine));
        auto* label = new QCPItemText(m_plot);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio); // at the bottom, whatever the scale
        label->position->setCoords(m_result.peakQps, 0.98);
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->setRotation(-90);
        label->setText(tr("peak %1 QPS").arg(qpsText(m_result.peakQps)));
        label->setColor(QColor(30, 140, 60));
        m_drawnPeak = m_result.peakQps;
    }
    m_plot->xAxis->setRange(0, xmax > 0 ? xmax * 1.08 : 1);
    // Latency that spans decades (an overloaded queue beside the service time) on a log scale.
    const bool decades = ymax > 0 && ymin < 1e300 && ymax / ymin > 30;
    m_plot->yAxis->setScaleType(decades ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (decades) {
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new TimeLogTicker));
        m_plot->yAxis->setRange(ymin / 1.5, ymax * 2.5);
    } else {
        // Room above the highest point for the knee's mark and label.
        m_plot->yAxis->setRange(0, ymax > 0 ? ymax * 1.22 : 1e6);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void LoadPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        stylePlot(m_plot, palette());
        redraw();
    }
}

} // namespace twbui
