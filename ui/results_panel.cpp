#include "results_panel.h"

#include "format_text.h"

#include "twb/report.h"

#include "file_types.h"
#include "plots.h"

#include "twb/stats.h"

#include <set>

#include <QComboBox>
#include <QDoubleValidator>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace twbui {

namespace {
QCustomPlot* makePlot(const QString& title, const QString& exportName) {
    auto* plot = new QCustomPlot;
    plot->setObjectName(exportName); // "latency-summary": what tests and exports call it
    plot->setMinimumHeight(160);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(
        0, 0, new QCPTextElement(plot, title, QFont(plot->font().family(), -1, QFont::Bold)));
    addPlotContextMenu(plot, exportName);
    stylePlot(plot, plot->palette());
    return plot;
}

QTableView* makeTable(QAbstractItemModel* model) {
    auto* view = new QTableView;
    view->setModel(model);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    return view;
}

QString runName(const RunSnapshot& r) {
    return QString::fromStdString(r.record.label) + (r.origin.isEmpty() ? QString() : " [" + r.origin + "]");
}
} // namespace

ResultsPanel::ResultsPanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_tabs = new QTabWidget;
    layout->addWidget(m_tabs);

    // Latency charts
    auto* charts = new QSplitter(Qt::Vertical);
    m_timeline = makePlot(tr("Latency per call (warm-up shaded)"), QStringLiteral("latency-timeline"));
    m_distribution = makePlot(tr("Distribution (box: quartiles, whiskers: 1.5 IQR)"),
                              QStringLiteral("latency-distribution"));
    m_summary = makePlot(tr("Median with p90 and p99"), QStringLiteral("latency-summary"));
    // The whiskers' legend in a row of its own under the bars, where it hides no bar nor label; placed
    // there once there are bars (redrawCharts).
    m_summary->axisRect()->insetLayout()->take(m_summary->legend);
    m_summary->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_summary->legend->setMargins(QMargins(4, 2, 4, 2));
    for (QCustomPlot* p : {m_timeline, m_distribution, m_summary}) {
        charts->addWidget(p);
        p->setMouseTracking(true);
        connect(p, &QCustomPlot::mouseMove, this, [this, p](QMouseEvent* e) { tooltip(p, e); });
    }
    m_tabs->addTab(charts, tr("Latency"));
    connect(m_timeline->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this] { showCallsWhenZoomed(); });

    // Statistics
    auto* statsPage = new QWidget;
    auto* sl = new QVBoxLayout(statsPage);
    m_stats = new StatsTableModel(this);
    m_statsView = makeTable(m_stats);
    m_statsView->setTextElideMode(Qt::ElideMiddle);
    m_warnings = new QPlainTextEdit;
    m_warnings->setReadOnly(true);
    m_warnings->setMaximumHeight(140);
    m_warnings->setPlaceholderText(tr("Stability warnings appear here."));
    sl->addWidget(m_statsView, 1);
    sl->addWidget(m_warnings);
    m_tabs->addTab(statsPage, tr("Statistics"));

    // Outputs and comparison
    auto* outputsPage = new QSplitter(Qt::Vertical);
    auto* top = new QWidget;
    auto* tl = new QVBoxLayout(top);
    auto* pick = new QHBoxLayout;
    m_outputOf = new QComboBox;
    pick->addWidget(new QLabel(tr("Outputs of")));
    pick->addWidget(m_outputOf, 1);
    auto* save = new QPushButton(tr("Save…"));
    save->setObjectName(QStringLiteral("saveOutput"));
    save->setToolTip(tr("Save this output as .npy (one tensor), .pt (any output, as torch.load reads it), "
                        ".npz or .safetensors (named tensors)"));
    pick->addWidget(save);
    connect(save, &QPushButton::clicked, this, [this] {
        const int i = m_outputOf->currentIndex();
        if (i < 0 || std::size_t(i) >= m_runs.size() || !m_runs[std::size_t(i)].hasOutput) return;
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save output"), dialogPath(QStringLiteral("output.pt")),
            tr("PyTorch (*.pt);;NumPy (*.npy);;NumPy archive (*.npz);;safetensors (*.safetensors)"));
        if (!path.isEmpty()) emit saveOutputRequested(m_runs[std::size_t(i)].output, path);
    });
    tl->addLayout(pick);
    m_leaves = new LeafTableModel(this);
    m_leafView = makeTable(m_leaves);
    tl->addWidget(m_leafView);
    outputsPage->addWidget(top);

    auto* bottom = new QWidget;
    auto* bl = new QVBoxLayout(bottom);
    auto* controls = new QHBoxLayout;
    m_compareA = new QComboBox;
    m_compareB = new QComboBox;
    m_atol = new QLineEdit(QStringLiteral("1e-5"));
    m_rtol = new QLineEdit(QStringLiteral("1e-5"));
    m_atol->setObjectName(QStringLiteral("atol"));
    m_rtol->setObjectName(QStringLiteral("rtol"));
    for (QLineEdit* e : {m_atol, m_rtol}) {
        auto* v = new QDoubleValidator(0, 1e6, 12, e);
        v->setNotation(QDoubleValidator::ScientificNotation);
        e->setValidator(v);
        e->setMaximumWidth(80);
    }
    auto* compare = new QPushButton(tr("Compare"));
    controls->addWidget(new QLabel(tr("A")));
    controls->addWidget(m_compareA, 1);
    controls->addWidget(new QLabel(tr("B")));
    controls->addWidget(m_compareB, 1);
    controls->addWidget(new QLabel(tr("atol")));
    controls->addWidget(m_atol);
    controls->addWidget(new QLabel(tr("rtol")));
    controls->addWidget(m_rtol);
    controls->addWidget(compare);
    bl->addLayout(controls);
    m_verdict = new QLabel(tr("Run two configurations, or pick a reference file, to compare outputs."));
    m_verdict->setObjectName(QStringLiteral("verdict"));
    m_verdict->setWordWrap(true);
    bl->addWidget(m_verdict);
    auto* split = new QSplitter(Qt::Horizontal);
    m_comparison = new ComparisonTableModel(this);
    m_comparisonView = makeTable(m_comparison);
    m_errors = makePlot(tr("|A − B| histogram"), QStringLiteral("error-histogram"));
    split->addWidget(m_comparisonView);
    split->addWidget(m_errors);
    bl->addWidget(split, 1);
    outputsPage->addWidget(bottom);
    m_tabs->addTab(outputsPage, tr("Outputs"));

    connect(m_outputOf, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
        m_leaves->setRows(i >= 0 && i < int(m_runs.size()) ? m_runs[std::size_t(i)].record.outputs
                                                           : std::vector<twb::Leaf>{});
        m_leafView->resizeColumnsToContents();
    });
    connect(compare, &QPushButton::clicked, this, &ResultsPanel::requestComparison);
    connect(m_compareB, qOverload<int>(&QComboBox::activated), this, [this](int i) {
        if (m_compareB->itemData(i).toInt() != -1) return;
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Reference outputs"), dialogPath(), tensorFileFilter());
        if (f.isEmpty()) return;
        m_referenceFile = f;
        // The list may have been rebuilt while the dialog was open: find the entry again.
        const int at = m_compareB->findData(-1);
        if (at >= 0) m_compareB->setItemText(at, tr("Reference: %1").arg(QFileInfo(f).fileName()));
    });
    connect(m_comparisonView, &QTableView::clicked, this, [this](const QModelIndex& index) {
        if (index.isValid()) requestComparison();
    });
    redrawCharts(); // the empty charts say how to fill them
}

void ResultsPanel::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange) {
        // After the whole window has the new palette, so series colours and axes agree.
        QTimer::singleShot(0, this, [this] {
            for (QCustomPlot* p : {m_timeline, m_distribution, m_summary, m_errors})
                stylePlot(p, palette());
            redrawCharts();
            m_errors->replot(QCustomPlot::rpQueuedReplot);
        });
    }
    QWidget::changeEvent(event);
}

void ResultsPanel::reset() {
    m_acrossTargets.clear();
    m_runs.erase(
        std::remove_if(m_runs.begin(), m_runs.end(), [](const RunSnapshot& r) { return r.origin.isEmpty(); }),
        m_runs.end());
    m_comparison->setRows({});
    m_errors->clearPlottables();
    m_errors->replot(QCustomPlot::rpQueuedReplot);
    redrawCharts();
    refreshTables();
    refreshOutputChoices();
}

void ResultsPanel::showAcrossTargets(const twb::Report& report) {
    m_acrossTargets.clear();
    m_firstTarget.clear();
    for (const auto& c : report.comparisons) {
        const auto& a = report.runs[std::size_t(c.baseline)];
        const auto& b = report.runs[std::size_t(c.candidate)];
        if (a.target == b.target) continue;
        m_firstTarget = QString::fromStdString(a.target);
        const QString outputs = !c.hasOutputs ? tr("outputs not compared")
                                : c.outputs.allclose
                                    ? tr("outputs match")
                                    : tr("outputs differ: %1").arg(QString::fromStdString(c.outputs.summary));
        m_acrossTargets[b.label] = {c.latency, outputs};
    }
    refreshTables();
}

void ResultsPanel::addRun(const RunSnapshot& run) {
    m_runs.push_back(run);
    redrawCharts();
    refreshTables();
    refreshOutputChoices();
}

void ResultsPanel::showTab(int index) {
    m_tabs->setCurrentIndex(index);
}

QString ResultsPanel::comparisonVerdict() const {
    return m_verdict->text();
}

void ResultsPanel::refreshTables() {
    std::vector<StatsRow> rows;
    QString warnings;
    std::set<std::string> targets; // each target's first configuration is the baseline there
    for (const auto& r : m_runs) {
        const bool first = r.origin.isEmpty() && targets.insert(r.record.target).second;
        StatsRow row{r.record, std::nullopt, first, std::nullopt, {}, {}};
        if (r.hasComparison) row.vsBaseline = r.vsBaseline;
        if (r.origin.isEmpty() && !m_acrossTargets.empty()) {
            row.firstTarget = m_firstTarget;
            const auto across = m_acrossTargets.find(r.record.label);
            if (across != m_acrossTargets.end()) {
                row.vsFirstTarget = across->second.latency;
                row.outputsVsFirstTarget = across->second.outputs;
            }
        }
        rows.push_back(row);
        for (const auto& w : r.record.warnings)
            warnings += runName(r) + ": " + QString::fromStdString(w) + "\n";
        if (!r.record.ok)
            warnings += runName(r) + ": " + tr("failed: ") + QString::fromStdString(r.record.error) + "\n" +
                        QString::fromStdString(twb::failureText(r.record));
    }
    m_stats->setRows(rows);
    m_statsView->setColumnHidden(3, m_acrossTargets.empty()); // only for plans run on several targets
    m_statsView->resizeColumnsToContents();
    // Long names (a target's path) are elided in the middle, so that the figures stay in view.
    m_statsView->setColumnWidth(0, std::min(m_statsView->columnWidth(0), 340));
    m_warnings->setPlainText(warnings);
}

void ResultsPanel::refreshOutputChoices() {
    const int keep = m_outputOf->currentIndex();
    const int keepA = m_compareA->currentIndex(), keepB = m_compareB->currentIndex();
    m_outputOf->clear();
    m_compareA->clear();
    m_compareB->clear();
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
        m_outputOf->addItem(runName(m_runs[i]));
        if (m_runs[i].hasOutput) {
            m_compareA->addItem(runName(m_runs[i]), int(i));
            m_compareB->addItem(runName(m_runs[i]), int(i));
        }
    }
    m_compareB->addItem(m_referenceFile.isEmpty()
                            ? tr("Reference file…")
                            : tr("Reference: %1").arg(QFileInfo(m_referenceFile).fileName()),
                        -1);
    if (m_outputOf->count() > 0) m_outputOf->setCurrentIndex(std::clamp(keep, 0, m_outputOf->count() - 1));
    if (keepA >= 0 && keepA < m_compareA->count()) m_compareA->setCurrentIndex(keepA);
    if (keepB >= 0 && keepB < m_compareB->count())
        m_compareB->setCurrentIndex(keepB);
    else if (m_compareB->count() > 2)
        m_compareB->setCurrentIndex(1);
}

void ResultsPanel::compareDefault() {
    if (m_compareA->count() < 1) return;
    m_compareA->setCurrentIndex(0);
    if (m_compareB->count() > 2)
        m_compareB->setCurrentIndex(1);
    else if (m_referenceFile.isEmpty())
        return;
    requestComparison();
}

twb::CompareOptions ResultsPanel::tolerance() const {
    twb::CompareOptions options;
    options.atol = m_atol->text().toDouble();
    options.rtol = m_rtol->text().toDouble();
    return options;
}

void ResultsPanel::requestComparison() {
    const int a = m_compareA->currentData().isValid() ? m_compareA->currentData().toInt() : -2;
    const int b = m_compareB->currentData().isValid() ? m_compareB->currentData().toInt() : -2;
    if (a < 0 || b == -2 || (b == -1 && m_referenceFile.isEmpty())) {
        m_verdict->setText(tr("Pick two configurations with outputs, or a reference file."));
        return;
    }
    const twb::CompareOptions options = tolerance();
    QString leaf;
    const QModelIndex sel = m_comparisonView->currentIndex();
    if (sel.isValid() && sel.row() < int(m_comparison->rows().size()))
        leaf = QString::fromStdString(m_comparison->rows()[std::size_t(sel.row())].path);
    m_verdict->setText(tr("Comparing…"));
    emit compareRequested(a, b, b == -1 ? m_referenceFile : QString(), options, leaf);
}

void ResultsPanel::showComparisonError(const QString& message) {
    m_verdict->setText(tr("<span style='color:#c0392b'>%1</span>").arg(message.toHtmlEscaped()));
}

void ResultsPanel::showComparison(const ComparisonSnapshot& c) {
    const auto& o = c.comparison;
    m_verdict->setText(QStringLiteral("<b>%1 vs %2:</b> %3")
                           .arg(c.nameA.toHtmlEscaped(), c.nameB.toHtmlEscaped(),
                                QString::fromStdString(o.summary).toHtmlEscaped()));
    m_comparison->setRows(o.leaves);
    m_comparisonView->resizeColumnsToContents();
    m_errors->clearPlottables();
    const auto& h = c.errors;
    if (!h.counts.empty()) {
        auto* bars = new QCPBars(m_errors->xAxis, m_errors->yAxis);
        QVector<double> keys, values;
        for (std::size_t i = 0; i < h.counts.size(); ++i) {
            keys << (h.edges[i] + h.edges[i + 1]) / 2;
            values << double(h.counts[i]);
        }
        bars->setData(keys, values, true);
        bars->setWidth(h.edges.size() > 1 ? (h.edges[1] - h.edges[0]) : 1);
        bars->setName(c.leafPath);
        bars->setBrush(seriesColor(0, palette()));
        bars->setPen(Qt::NoPen);
        m_errors->xAxis->setLabel(tr("|A − B| of %1").arg(c.leafPath));
        m_errors->xAxis->ticker()->setTickCount(3);
        m_errors->xAxis->setNumberFormat(QStringLiteral("g"));
        m_errors->xAxis->setNumberPrecision(2);
        m_errors->yAxis->setLabel(tr("elements"));
        m_errors->yAxis->setTicker(QSharedPointer<CountTicker>(new CountTicker));
        m_errors->rescaleAxes();
    }
    m_errors->replot(QCustomPlot::rpQueuedReplot);
}

void ResultsPanel::showCallsWhenZoomed() {
    // Raw calls once the visible range holds few enough of them to be seen one by one.
    const bool near = m_timeline->xAxis->range().size() <= kRawCallsShown;
    bool changed = false;
    for (QCPGraph* g : m_rawGraphs)
        if (g->visible() != near) {
            g->setVisible(near);
            changed = true;
        }
    if (changed) m_timeline->replot(QCustomPlot::rpQueuedReplot);
}

bool ResultsPanel::timelineShowsEachCall() const {
    for (QCPGraph* g : m_rawGraphs)
        if (!g->visible()) return false;
    return true;
}

void ResultsPanel::redrawCharts() {
    const QPalette pal = palette();
    m_rawGraphs.clear();
    m_processBoundaries = 0;
    for (QCustomPlot* p : {m_timeline, m_distribution, m_summary}) {
        p->clearPlottables();
        p->clearItems();
        p->legend->setVisible(false);
    }
    QSharedPointer<QCPAxisTickerText> labels(new QCPAxisTickerText);
    QSharedPointer<TimeTicker> time(new TimeTicker);
    QSharedPointer<TimeLogTicker> logTime(new TimeLogTicker);
    double yMax = 0;
    int maxWarmup = 0;
    struct SummaryBar {
        QCPBars* bar;
        double median, top;
    };
    std::vector<SummaryBar> summaryBars;
    int shown = 0;
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
        const auto& r = m_runs[i].record;
        if (!r.ok || r.samplesNs.empty()) continue;
        const QColor color = seriesColor(int(i), pal);
        const QString name = runName(m_runs[i]);
        // Timeline: warm-up calls at negative positions, steady-state samples from 0. The raw calls
        // show when zoomed in far enough to tell them apart; a rolling median with its p5–p95 band
        // carries the run at any length.
        auto* g = m_timeline->addGraph();
        g->setName(name + tr(" (each call)"));
        g->setPen(QPen(color, 1));
        g->setLineStyle(QCPGraph::lsLine);
        g->setAdaptiveSampling(true);
        g->removeFromLegend();
        QVector<double> x, y;
        const int w = int(r.warmupNs.size());
        maxWarmup = std::max(maxWarmup, w);
        for (int k = 0; k < w; ++k)
            x << double(k - w), y << r.warmupNs[std::size_t(k)];
        for (std::size_t k = 0; k < r.samplesNs.size(); ++k)
            x << double(k), y << r.samplesNs[k];
        g->setData(x, y, true);
        m_rawGraphs.push_back(g);
        // Buckets of 50 calls at least, so that the p5–p95 band is a band and not each bucket's extremes.
        const std::size_t points = std::clamp<std::size_t>(r.samplesNs.size() / 50, 1, kBandPoints);
        const twb::RollingBand band = twb::rollingBand(r.samplesNs, points);
        const QVector<double> bx(band.x.begin(), band.x.end());
        auto* low = m_timeline->addGraph();
        low->setData(bx, QVector<double>(band.low.begin(), band.low.end()), true);
        low->setPen(Qt::NoPen);
        low->removeFromLegend();
        auto* high = m_timeline->addGraph();
        high->setData(bx, QVector<double>(band.high.begin(), band.high.end()), true);
        high->setPen(Qt::NoPen);
        QColor fill = color;
        fill.setAlpha(60);
        high->setBrush(fill);
        high->setChannelFillGraph(low);
        high->removeFromLegend();
        auto* median = m_timeline->addGraph();
        median->setName(name);
        median->setData(bx, QVector<double>(band.median.begin(), band.median.end()), true);
        median->setPen(QPen(color, 2));
        yMax = std::max(yMax, r.stats.percentile(99) > 0 ? r.stats.percentile(99) : r.stats.max);
        // Where each worker process's samples begin: the spread between processes is what the median's
        // interval carries, so the timeline shows where one process ends and the next begins.
        int lastProcess = r.rounds.empty() ? 0 : r.rounds.front().process;
        for (const auto& span : r.rounds) {
            if (span.process == lastProcess) continue;
            lastProcess = span.process;
            auto* line = new QCPItemStraightLine(m_timeline);
            line->point1->setCoords(double(span.begin) - 0.5, 0);
            line->point2->setCoords(double(span.begin) - 0.5, 1);
            line->setPen(QPen(color, 1, Qt::DashLine));
            line->setLayer(QStringLiteral("background"));
            ++m_processBoundaries;
        }

        const double key = double(shown + 1);
        // Cancelled runs hold what was measured before the stop: named so, and hatched.
        labels->addTick(key, r.cancelled ? name + tr(" (cancelled)") : name);
        const Qt::BrushStyle fillStyle = r.cancelled ? Qt::BDiagPattern : Qt::SolidPattern;
        auto* box = new QCPStatisticalBox(m_distribution->xAxis, m_distribution->yAxis);
        box->setName(name);
        box->addData(key, r.stats.whiskerLow, r.stats.q1, r.stats.median, r.stats.q3, r.stats.whiskerHigh);
        box->setBrush(QBrush(QColor(color.red(), color.green(), color.blue(), 90), fillStyle));
        box->setPen(QPen(color));
        box->setMedianPen(QPen(color, 2));
        box->setWhiskerPen(QPen(color, 1, Qt::DashLine));
        box->setWhiskerBarPen(QPen(color));

        auto* bar = new QCPBars(m_summary->xAxis, m_summary->yAxis);
        bar->setName(name);
        bar->addData(key, r.stats.median);
        bar->setBrush(QBrush(QColor(color.red(), color.green(), color.blue(), 160), fillStyle));
        bar->setPen(QPen(color));
        bar->setWidth(0.6);
        bar->removeFromLegend(); // the axis names it
        summaryBars.push_back({bar, r.stats.median, std::max(r.stats.percentile(99), r.stats.medianCiHigh)});
        auto* p90 = new QCPErrorBars(m_summary->xAxis, m_summary->yAxis);
        p90->setDataPlottable(bar);
        p90->setData(QVector<double>{0}, QVector<double>{r.stats.percentile(90) - r.stats.median});
        p90->setPen(QPen(pal.color(QPalette::WindowText), 2));
        p90->setWhiskerWidth(12);
        p90->setName(tr("p90"));
        auto* p99 = new QCPErrorBars(m_summary->xAxis, m_summary->yAxis);
        p99->setDataPlottable(bar);
        p99->setData(QVector<double>{0}, QVector<double>{r.stats.percentile(99) - r.stats.median});
        p99->setPen(QPen(pal.color(QPalette::WindowText), 1, Qt::DashLine));
        p99->setWhiskerWidth(6);
        p99->setName(tr("p99"));
        // The median's 95% interval: across worker processes when it was measured in several.
        auto* ci = new QCPErrorBars(m_summary->xAxis, m_summary->yAxis);
        ci->setDataPlottable(bar);
        ci->setData(QVector<double>{r.stats.median - r.stats.medianCiLow},
                    QVector<double>{r.stats.medianCiHigh - r.stats.median});
        ci->setPen(QPen(color.darker(160), 3));
        ci->setWhiskerWidth(18);
        ci->setName(r.processes > 1 ? tr("median 95% CI across processes") : tr("median 95% CI"));
        if (shown > 0) // the whiskers' legend, once
            for (QCPAbstractPlottable* e :
                 {static_cast<QCPAbstractPlottable*>(p90), static_cast<QCPAbstractPlottable*>(p99),
                  static_cast<QCPAbstractPlottable*>(ci)})
                e->removeFromLegend();
        ++shown;
    }
    if (shown == 0) {
        for (QCustomPlot* p : {m_timeline, m_distribution, m_summary}) {
            auto* hint = new QCPItemText(p);
            hint->position->setType(QCPItemPosition::ptAxisRectRatio);
            hint->position->setCoords(0.5, 0.5);
            hint->setText(tr("Run the configurations (Ctrl+R) to see latencies here"));
            hint->setColor(pal.color(QPalette::Disabled, QPalette::WindowText));
        }
    }
    if (maxWarmup > 0 && shown > 0) {
        auto* shade = new QCPItemRect(m_timeline);
        shade->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
        shade->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
        shade->bottomRight->setTypeX(QCPItemPosition::ptPlotCoords);
        shade->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
        shade->topLeft->setCoords(-maxWarmup - 0.5, 0);
        shade->bottomRight->setCoords(-0.5, 1);
        QColor c = pal.color(QPalette::WindowText);
        c.setAlpha(25);
        shade->setBrush(c);
        shade->setPen(Qt::NoPen);
        shade->setLayer(QStringLiteral("background"));
    }
    // Logarithmic time where configurations differ tenfold and more; bars keep a linear axis.
    for (QCustomPlot* p : {m_timeline, m_distribution}) {
        p->yAxis->setScaleType(QCPAxis::stLogarithmic);
        p->yAxis->setTicker(logTime);
    }
    m_timeline->xAxis->setLabel(
        m_processBoundaries > 0 ? tr("call number (shaded, before 0: warm-up; dashed: next worker process)")
                                : tr("call number (shaded, before 0: warm-up)"));
    for (QCustomPlot* p : {m_timeline, m_distribution, m_summary})
        p->yAxis->setLabel(shown > 0 ? tr("latency") : QString());
    // When the axis must reach ten times the smallest median or more (medians apart, or a long tail of
    // p99), it is logarithmic, so that the smallest bar stays readable; each bar carries its median.
    double lowest = 0, top = 0;
    for (const auto& b : summaryBars) {
        lowest = lowest > 0 ? std::min(lowest, b.median) : b.median;
        top = std::max(top, b.top);
    }
    const bool logSummary = lowest > 0 && top / lowest >= 10;
    const double base = logSummary ? std::pow(10, std::floor(std::log10(lowest / 2))) : 0;
    for (const auto& b : summaryBars) {
        b.bar->setBaseValue(base);
        auto* value = new QCPItemText(m_summary);
        value->position->setCoords(b.bar->data()->constBegin()->key, b.top);
        value->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
        value->setPadding(QMargins(0, 0, 0, 3));
        value->setText(durationText(b.median));
        value->setColor(pal.color(QPalette::WindowText));
        value->setClipToAxisRect(false);
    }
    m_summary->yAxis->setScaleType(logSummary ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (logSummary)
        m_summary->yAxis->setTicker(logTime);
    else
        m_summary->yAxis->setTicker(time);
    m_summary->legend->setVisible(shown > 0);
    // An empty legend in the layout would narrow the chart to the title's width (QCustomPlot bounds a
    // grid's width by its items'): it is in the layout only while it has some.
    QCPLayoutGrid* summaryLayout = m_summary->plotLayout();
    const bool placed = summaryLayout->rowCount() > 2 && summaryLayout->hasElement(2, 0);
    if (shown > 0 && !placed) {
        summaryLayout->addElement(2, 0, m_summary->legend);
        summaryLayout->setRowStretchFactor(2, 0.001);
    } else if (shown == 0 && placed) {
        summaryLayout->take(m_summary->legend);
        summaryLayout->simplify();
    }
    m_distribution->xAxis->setTicker(labels);
    m_summary->xAxis->setTicker(labels);
    m_timeline->legend->setVisible(shown > 0);
    m_timeline->rescaleAxes();
    if (yMax > 0) m_timeline->yAxis->setRangeUpper(yMax * 2);
    showCallsWhenZoomed();
    for (QCustomPlot* p : {m_distribution, m_summary}) {
        p->rescaleAxes();
        p->xAxis->setRange(0.4, shown + 0.6);
    }
    if (logSummary)
        m_summary->yAxis->setRange(base, top * 3);
    else
        m_summary->yAxis->setRange(0, std::max(top, m_summary->yAxis->range().upper) * 1.25);
    if (shown > 0) {
        const QCPRange r = m_distribution->yAxis->range();
        m_distribution->yAxis->setRange(r.lower / 1.3, r.upper * 1.3);
    }
    for (QCustomPlot* p : {m_timeline, m_distribution, m_summary}) {
        // With nothing measured there is no time to label: the hint alone, no "0 ns, 0 ns, 1 ns".
        for (QCPAxis* axis : {p->xAxis, p->yAxis}) {
            axis->setTicks(shown > 0);
            axis->setTickLabels(shown > 0);
        }
        p->replot(QCustomPlot::rpQueuedReplot);
    }
}

void ResultsPanel::tooltip(QCustomPlot* plot, QMouseEvent* event) {
    const double x = plot->xAxis->pixelToCoord(event->pos().x());
    QString text;
    if (plot == m_timeline) {
        const int call = int(std::lround(x));
        for (int g = 0; g < plot->graphCount(); ++g) {
            auto data = plot->graph(g)->data();
            auto it = data->findBegin(call, false);
            if (it != data->constEnd() && std::lround(it->key) == call)
                text += QStringLiteral("%1, call %2: %3\n")
                            .arg(plot->graph(g)->name())
                            .arg(call)
                            .arg(durationText(it->value));
        }
    } else {
        int shown = 0;
        for (const auto& r : m_runs) {
            if (!r.record.ok || r.record.samplesNs.empty()) continue;
            if (std::lround(x) == ++shown) {
                const auto& s = r.record.stats;
                text = QStringLiteral("%1\nmedian %2 (95% CI %3 – %4)\nq1 %5, q3 %6\np90 %7, p99 %8")
                           .arg(runName(r), durationText(s.median), durationText(s.medianCiLow),
                                durationText(s.medianCiHigh), durationText(s.q1), durationText(s.q3),
                                durationText(s.percentile(90)), durationText(s.percentile(99)));
            }
        }
    }
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text.trimmed(), plot);
}

} // namespace twbui
