#include "profile_panel.h"

#include "file_types.h"

#include "format_text.h"
#include "plots.h"

#include "twb/stats.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolTip>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace twbui {
namespace {

constexpr int kBars = 12;

QTableView* sortableTable(QAbstractItemModel* model, QSortFilterProxyModel** proxy, QWidget* parent) {
    auto* sorted = new QSortFilterProxyModel(parent);
    sorted->setSourceModel(model);
    sorted->setSortRole(Qt::UserRole);
    auto* view = new QTableView(parent);
    view->setModel(sorted);
    view->setSortingEnabled(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->setWordWrap(false);
    view->setTextElideMode(Qt::ElideRight); // names keep their beginning, cut only at the end
    view->horizontalHeader()->setStretchLastSection(true);
    if (proxy) *proxy = sorted;
    return view;
}

} // namespace

ProfilePanel::ProfilePanel(QWidget* parent)
    : QWidget(parent) {
    m_profileButton = new QPushButton(tr("&Profile"));
    m_profileButton->setToolTip(tr("Measure and profile every configuration (Ctrl+Shift+P)"));
    m_calls = new QSpinBox;
    m_calls->setRange(1, 1000);
    m_calls->setValue(10);
    m_calls->setToolTip(tr("Profiled calls per configuration, after warm-up and measurement"));
    m_show = new QComboBox;
    m_show->setMinimumContentsLength(12);
    m_diffWith = new QComboBox;
    m_diffWith->setMinimumContentsLength(12);
    m_traceButton = new QPushButton(tr("Export &Trace…"));
    m_traceButton->setToolTip(
        tr("A Chrome trace of the profiled calls, for ui.perfetto.dev or chrome://tracing"));

    auto* top = new QHBoxLayout;
    top->addWidget(m_profileButton);
    top->addWidget(new QLabel(tr("Calls:")));
    top->addWidget(m_calls);
    top->addSpacing(12);
    top->addWidget(new QLabel(tr("Show:")));
    top->addWidget(m_show, 1);
    top->addWidget(new QLabel(tr("Diff with:")));
    top->addWidget(m_diffWith, 1);
    top->addWidget(m_traceButton);

    m_summary = new QLabel(tr("Profile the configurations to see where the time goes."));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Operators: the bar chart above the table.
    m_viewBox = new QComboBox;
    m_viewBox->addItems({tr("By operator"), tr("By module"), tr("By source line")});
    m_metricBox = new QComboBox;
    m_metricBox->addItems({tr("Self time"), tr("Calls"), tr("GFLOP/s"), tr("% of peak")});
    auto* chooser = new QHBoxLayout;
    chooser->addWidget(new QLabel(tr("Table:")));
    chooser->addWidget(m_viewBox);
    chooser->addSpacing(12);
    chooser->addWidget(new QLabel(tr("Bars:")));
    chooser->addWidget(m_metricBox);
    chooser->addStretch(1);
    m_bars = new QCustomPlot;
    m_bars->setMinimumHeight(300);
    addPlotContextMenu(m_bars, QStringLiteral("profile-operators"));
    m_table = new ProfileTableModel(this);
    m_tableView = sortableTable(m_table, &m_sorted, this);
    m_tableView->setToolTip(
        tr("Click a module or a line to select it in the Graph tab; double-click to go there"));
    auto toGraph = [this](const QModelIndex& index, bool show) {
        if (!index.isValid() || m_table->view() == ProfileTableModel::View::Operators) return;
        emit graphSelectionRequested(m_table->view(), index.data(ProfileTableModel::KeyRole).toString(),
                                     show);
    };
    connect(m_tableView, &QTableView::clicked, this, [toGraph](const QModelIndex& i) { toGraph(i, false); });
    connect(m_tableView, &QTableView::doubleClicked, this,
            [toGraph](const QModelIndex& i) { toGraph(i, true); });
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_bars);
    split->addWidget(m_tableView);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* operators = new QWidget;
    auto* ol = new QVBoxLayout(operators);
    ol->addLayout(chooser);
    ol->addWidget(split, 1);

    m_tree = new QTreeWidget;
    m_tree->setHeaderLabels({tr("Module"), tr("Type"), tr("Self"), tr("Total"), tr("Total %")});
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);

    m_diffBars = new QCustomPlot;
    m_diffBars->setMinimumHeight(220);
    addPlotContextMenu(m_diffBars, QStringLiteral("profile-diff"));
    m_diff = new ProfileDiffModel(this);
    m_diffView = sortableTable(m_diff, nullptr, this);
    m_diffSummary = new QLabel(tr("Choose a second configuration under \"Diff with\"."));
    m_diffSummary->setWordWrap(true);
    m_diffSummary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* diffSplit = new QSplitter(Qt::Vertical);
    diffSplit->addWidget(m_diffBars);
    diffSplit->addWidget(m_diffView);
    auto* diff = new QWidget;
    auto* dl = new QVBoxLayout(diff);
    dl->addWidget(m_diffSummary);
    dl->addWidget(diffSplit, 1);

    m_roofline = new QCustomPlot;
    addPlotContextMenu(m_roofline, QStringLiteral("profile-roofline"));
    connect(m_roofline, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
        const QString tip = rooflineToolTipAt(event->pos());
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), tip, m_roofline);
    });

    m_tabs = new QTabWidget;
    m_tabs->addTab(operators, tr("Operators"));
    m_tabs->addTab(m_tree, tr("Modules"));
    m_tabs->addTab(diff, tr("Diff"));
    m_tabs->addTab(m_roofline, tr("Roofline"));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_summary);
    layout->addWidget(m_tabs, 1);

    connect(m_profileButton, &QPushButton::clicked, this, &ProfilePanel::profileRequested);
    connect(m_show, &QComboBox::activated, this, [this](int i) { showProfile(i); });
    connect(m_diffWith, &QComboBox::activated, this, [this](int i) { setDiffAgainst(i - 1); });
    connect(m_viewBox, &QComboBox::activated, this,
            [this](int i) { setView(static_cast<ProfileTableModel::View>(i)); });
    connect(m_metricBox, &QComboBox::activated, this, [this](int i) { setMetric(static_cast<Metric>(i)); });
    connect(m_traceButton, &QPushButton::clicked, this, &ProfilePanel::exportTrace);
    for (QCustomPlot* p : {m_bars, m_diffBars, m_roofline})
        stylePlot(p, palette());
    reset();
}

void ProfilePanel::reset() {
    m_profiles.clear();
    m_shown = m_against = -1;
    m_show->clear();
    m_diffWith->clear();
    m_diffWith->addItem(tr("(none)"));
    refresh();
}

void ProfilePanel::addProfile(const twb::Profile& profile) {
    m_profiles.push_back(profile);
    const QString label = QString::fromStdString(profile.label) + (profile.ok ? QString() : tr(" (failed)"));
    m_show->addItem(label);
    m_diffWith->addItem(label);
    if (m_shown < 0) {
        m_shown = 0;
        m_show->setCurrentIndex(0);
    } else if (m_against < 0 && profile.ok && m_profiles[std::size_t(m_shown)].ok) {
        m_against = int(m_profiles.size()) - 1; // the second profile is what the first is held against
        m_diffWith->setCurrentIndex(m_against + 1);
    }
    refresh();
}

int ProfilePanel::calls() const {
    return m_calls->value();
}

void ProfilePanel::showProfile(int index) {
    if (index < 0 || index >= int(m_profiles.size())) return;
    m_shown = index;
    m_show->setCurrentIndex(index);
    refresh();
}

void ProfilePanel::setDiffAgainst(int index) {
    m_against = index >= 0 && index < int(m_profiles.size()) ? index : -1;
    m_diffWith->setCurrentIndex(m_against + 1);
    refresh();
}

void ProfilePanel::setView(ProfileTableModel::View view) {
    m_viewBox->setCurrentIndex(int(view));
    if (const twb::Profile* p = current()) m_table->setProfile(*p, view);
    fitTable();
    drawBars(); // the bars follow the table
}

void ProfilePanel::fitTable() {
    // Every view's columns fit their contents (a source line's path is capped, and elided at its start);
    // sorted by self time.
    m_tableView->sortByColumn(m_table->columnCount() > 2 ? 2 : 0, Qt::DescendingOrder);
    m_tableView->resizeColumnsToContents();
    const bool lines = m_table->view() == ProfileTableModel::View::Lines;
    m_tableView->setTextElideMode(lines ? Qt::ElideLeft : Qt::ElideRight);
    m_tableView->setColumnWidth(0, std::min(m_tableView->columnWidth(0), lines ? 360 : 260));
    if (m_table->view() == ProfileTableModel::View::Operators)
        m_tableView->setColumnWidth(7, std::min(m_tableView->columnWidth(7), 220));
}

void ProfilePanel::setMetric(Metric metric) {
    m_metric = metric;
    m_metricBox->setCurrentIndex(int(metric));
    drawBars();
}

void ProfilePanel::showTab(int index) {
    m_tabs->setCurrentIndex(index);
}

const twb::Profile* ProfilePanel::current() const {
    return m_shown >= 0 && m_shown < int(m_profiles.size()) ? &m_profiles[std::size_t(m_shown)] : nullptr;
}

QString ProfilePanel::summaryText() const {
    return m_summary->text();
}

QString ProfilePanel::diffSummaryText() const {
    return m_diffSummary->text();
}

QStringList ProfilePanel::barLabels() const {
    return m_barLabels;
}

void ProfilePanel::refresh() {
    const twb::Profile* p = current();
    m_traceButton->setEnabled(p && !p->events.empty());
    if (!p) {
        m_summary->setText(
            tr("Profile the configurations (Ctrl+Shift+P) to see where the time goes: operators, "
               "modules and source lines, FLOPs against this machine's peak, and what a JIT mode "
               "changed."));
        m_table->setProfile(twb::Profile(), m_table->view());
        m_diff->setRows({});
    } else if (!p->ok) {
        m_summary->setText(tr("%1: not profiled: %2")
                               .arg(QString::fromStdString(p->label), QString::fromStdString(p->error)));
        m_table->setProfile(twb::Profile(), m_table->view());
    } else {
        QStringList lines;
        // One forward time, the one Results measures; the profiled one is explained as what the profiler
        // saw and what it cost.
        lines << tr("<b>%1</b>: a forward takes <b>%2</b> (the median without the profiler, as Results "
                    "measures it).")
                     .arg(QString::fromStdString(p->label).toHtmlEscaped(),
                          durationText(p->unprofiledMedianNs));
        lines << tr("Under the profiler it took %1 a forward = operators %2 + fused nodes %3 + unattributed "
                    "%4 (the interpreter); the profiler added %5%6%, over %7 calls. Tables and bars are per "
                    "forward.")
                     .arg(durationText(p->forwardNs), durationText(p->operatorSelfNs),
                          durationText(p->fusedNs), durationText(p->unattributedNs))
                     .arg(p->overhead() >= 0 ? QStringLiteral("+") : QString())
                     .arg(100 * p->overhead(), 0, 'f', 1)
                     .arg(p->calls);
        if (!p->roofline.sentence.empty())
            lines << QString::fromStdString(p->roofline.sentence).toHtmlEscaped();
        for (const auto& n : p->notes)
            lines << QString::fromStdString(n).toHtmlEscaped();
        m_summary->setText(lines.join(QStringLiteral("<br>")));
        m_table->setProfile(*p, m_table->view());
        fitTable();
    }
    fillTree();
    drawBars();
    drawDiff();
    drawRoofline();
}

void ProfilePanel::drawBars() {
    m_bars->clearPlottables();
    m_barLabels.clear();
    const twb::Profile* p = current();
    if (!p || !p->ok) {
        m_bars->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    // The bars follow the table: operators, modules or source lines, by the metric where the view has it
    // (modules and lines have no FLOPs: they show self time then).
    const double calls = std::max(1, p->calls);
    const ProfileTableModel::View view = m_table->view();
    Metric metric = m_metric;
    if (view != ProfileTableModel::View::Operators &&
        (metric == Metric::Gflops || metric == Metric::PercentOfPeak))
        metric = Metric::SelfTime;
    std::vector<std::pair<QString, double>> items;
    if (view == ProfileTableModel::View::Operators) {
        for (const auto& o : p->operators) {
            double v = 0;
            switch (metric) {
            case Metric::SelfTime:
                v = o.timed ? o.selfNs / calls : 0.0;
                break;
            case Metric::Calls:
                v = double(o.calls) / calls;
                break;
            case Metric::Gflops:
                v = o.gflops(p->calls);
                break;
            case Metric::PercentOfPeak:
                v = p->peak.measured && p->peak.gflops > 0 ? 100 * o.gflops(p->calls) / p->peak.gflops : 0.0;
                break;
            }
            items.emplace_back(QString::fromStdString(o.name), v);
        }
    } else if (view == ProfileTableModel::View::Modules) {
        for (const auto& m : p->modules)
            items.emplace_back(m.path.empty() ? tr("(model)") : QString::fromStdString(m.path),
                               metric == Metric::Calls ? double(m.operatorCalls) / calls : m.selfNs / calls);
    } else {
        for (const auto& l : p->lines)
            items.emplace_back(QString::fromStdString(l.location),
                               metric == Metric::Calls ? double(l.calls) / calls
                                                       : std::max(l.selfNs, l.scriptNs) / calls);
    }
    items.erase(std::remove_if(items.begin(), items.end(), [](const auto& i) { return !(i.second > 0); }),
                items.end());
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (items.size() > std::size_t(kBars)) items.resize(kBars);
    // Horizontal bars: the key axis is the left one, the top item at the top; long names keep their end
    // (a source line's file and number, a module's leaf).
    auto* bars = new QCPBars(m_bars->yAxis, m_bars->xAxis);
    QSharedPointer<QCPAxisTickerText> names(new QCPAxisTickerText);
    QVector<double> keys, values;
    const QFontMetrics metrics(m_bars->yAxis->tickLabelFont());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const double key = double(items.size() - i);
        keys << key;
        values << items[i].second;
        const Qt::TextElideMode elide =
            view == ProfileTableModel::View::Operators ? Qt::ElideRight : Qt::ElideLeft;
        const bool fused =
            view == ProfileTableModel::View::Operators &&
            std::any_of(p->operators.begin(), p->operators.end(), [&](const twb::OperatorStat& o) {
                return o.fused && QString::fromStdString(o.name) == items[i].first;
            });
        names->addTick(key,
                       metrics.elidedText(items[i].first, elide, 320) + (fused ? tr(" (fused)") : QString()));
        m_barLabels << items[i].first;
    }
    bars->setData(keys, values, true);
    bars->setWidth(0.7);
    const QColor c = seriesColor(0, palette());
    bars->setPen(QPen(c.darker(120)));
    bars->setBrush(c);
    m_bars->yAxis->setTicker(names);
    m_bars->yAxis->setRange(0.3, double(items.size()) + 0.7);
    if (metric == Metric::SelfTime)
        m_bars->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new TimeTicker));
    else
        m_bars->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    const QStringList titles{view == ProfileTableModel::View::Lines ? tr("time on the line per forward")
                                                                    : tr("self time per forward"),
                             view == ProfileTableModel::View::Operators ? tr("calls per forward")
                                                                        : tr("operator calls per forward"),
                             tr("GFLOP/s"), tr("% of the measured peak")};
    m_bars->xAxis->setLabel(titles[int(metric)]);
    double top = 0;
    for (double v : values)
        top = std::max(top, v);
    m_bars->xAxis->setRange(0, top > 0 ? top * 1.05 : 1);
    m_bars->replot(QCustomPlot::rpQueuedReplot);
}

void ProfilePanel::drawDiff() {
    m_diffBars->clearPlottables();
    if (m_diffBars->legend) m_diffBars->legend->setVisible(false);
    const twb::Profile* a = current();
    const twb::Profile* b =
        m_against >= 0 && m_against < int(m_profiles.size()) ? &m_profiles[std::size_t(m_against)] : nullptr;
    if (!a || !b || !a->ok || !b->ok || a == b) {
        m_diff->setRows({});
        m_diffSummary->setText(tr("Choose a second profiled configuration under \"Diff with\" to see what it "
                                  "changed: operators that got faster or slower, appeared or vanished."));
        m_diffBars->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const twb::ProfileDiff d = twb::diffProfiles(*a, *b);
    m_diff->setRows(d.entries);
    m_diffView->sortByColumn(-1, Qt::AscendingOrder); // core's order: the largest change first
    QStringList summary{tr("<b>A</b> %1 → <b>B</b> %2, per forward %3 → %4:")
                            .arg(QString::fromStdString(d.labelA).toHtmlEscaped(),
                                 QString::fromStdString(d.labelB).toHtmlEscaped(), durationText(d.forwardA),
                                 durationText(d.forwardB))};
    for (const auto& s : d.summary)
        summary << QStringLiteral("• ") + QString::fromStdString(s).toHtmlEscaped();
    m_diffSummary->setText(summary.join(QStringLiteral("<br>")));

    std::vector<twb::ProfileDiffEntry> top(
        d.entries.begin(), d.entries.begin() + std::min<std::ptrdiff_t>(12, d.entries.size()));
    QSharedPointer<QCPAxisTickerText> names(new QCPAxisTickerText);
    auto* group = new QCPBarsGroup(m_diffBars);
    QVector<double> keys, va, vb;
    for (std::size_t i = 0; i < top.size(); ++i) {
        const double key = double(top.size() - i);
        keys << key;
        va << top[i].nsA;
        vb << top[i].nsB;
        names->addTick(key, QString::fromStdString(top[i].name));
    }
    int series = 0;
    for (const auto& [values, label] : {std::pair{va, tr("A: %1").arg(QString::fromStdString(d.labelA))},
                                        std::pair{vb, tr("B: %1").arg(QString::fromStdString(d.labelB))}}) {
        auto* bars = new QCPBars(m_diffBars->yAxis, m_diffBars->xAxis);
        bars->setData(keys, values, true);
        bars->setWidth(0.35);
        bars->setBarsGroup(group);
        const QColor c = seriesColor(series++, palette());
        bars->setPen(QPen(c.darker(120)));
        bars->setBrush(c);
        bars->setName(label);
    }
    m_diffBars->yAxis->setTicker(names);
    m_diffBars->yAxis->setRange(0.3, double(top.size()) + 0.7);
    m_diffBars->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new TimeTicker));
    m_diffBars->xAxis->setLabel(tr("time per forward, called by TorchScript"));
    double most = 0;
    for (const auto& e : top)
        most = std::max({most, e.nsA, e.nsB});
    m_diffBars->xAxis->setRange(0, most > 0 ? most * 1.05 : 1);
    m_diffBars->legend->setVisible(true);
    m_diffBars->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    m_diffBars->replot(QCustomPlot::rpQueuedReplot);
}

void ProfilePanel::drawRoofline() {
    m_roofline->clearPlottables();
    m_roofline->clearItems();
    m_rooflinePoints.clear();
    m_rooflineLabels.clear();
    const twb::Profile* p = current();
    m_roofline->xAxis->setScaleType(QCPAxis::stLogarithmic);
    m_roofline->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_roofline->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_roofline->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_roofline->xAxis->setLabel(tr("arithmetic intensity (FLOP per byte of operator inputs and outputs)"));
    m_roofline->yAxis->setLabel(tr("achieved GFLOP/s"));
    if (!p || !p->ok) {
        m_roofline->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    QVector<double> xs, ys;
    double xmin = 1e30, xmax = 0, ymin = 1e30, ymax = 0;
    auto extend = [&](double x, double y) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
        ymin = std::min(ymin, y);
        ymax = std::max(ymax, y);
    };
    const double peak = p->peak.measured ? p->peak.gflops : 0;
    auto tip = [&](const QString& name, double intensity, double rate, double ns) {
        QString t =
            tr("%1\n%2 FLOP/byte, %3 GFLOP/s").arg(name).arg(intensity, 0, 'g', 3).arg(rate, 0, 'f', 1);
        if (peak > 0) t += tr(" (%1% of the peak)").arg(100 * rate / peak, 0, 'f', 0);
        if (ns > 0) t += tr("\n%1 a forward").arg(durationText(ns));
        return t;
    };
    std::vector<const twb::OperatorStat*> plotted;
    for (const auto& o : p->operators) {
        const double rate = o.gflops(p->calls);
        if (o.flops <= 0 || o.bytes <= 0 || rate <= 0) continue;
        xs << o.flops / o.bytes;
        ys << rate;
        extend(xs.back(), ys.back());
        plotted.push_back(&o);
        m_rooflinePoints.push_back({xs.back(), ys.back(),
                                    tip(QString::fromStdString(o.name), xs.back(), ys.back(),
                                        o.timed ? o.totalNs / std::max(1, p->calls) : 0)});
    }
    // The operators that take the most time are named beside their points (at most six, so the names
    // stay legible); every point has its tooltip.
    std::vector<const twb::OperatorStat*> named = plotted;
    std::stable_sort(named.begin(), named.end(), [](auto* a, auto* b) { return a->totalNs > b->totalNs; });
    if (named.size() > 6) named.resize(6);
    for (const auto* o : named) {
        auto* label = new QCPItemText(m_roofline);
        label->position->setType(QCPItemPosition::ptPlotCoords);
        label->position->setCoords(o->flops / o->bytes, o->gflops(p->calls));
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->setPadding(QMargins(8, 0, 0, 0));
        QString name = QString::fromStdString(o->name);
        if (name.startsWith(QLatin1String("aten::"))) name.remove(0, 6);
        label->setText(name);
        label->setColor(palette().color(QPalette::WindowText));
        m_rooflineLabels << name;
    }
    auto* points = new QCPGraph(m_roofline->xAxis, m_roofline->yAxis);
    points->setData(xs, ys);
    points->setLineStyle(QCPGraph::lsNone);
    points->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, seriesColor(0, palette()), 7));
    points->setName(tr("operators"));
    if (p->roofline.known && p->roofline.intensity > 0) {
        auto* forward = new QCPGraph(m_roofline->xAxis, m_roofline->yAxis);
        forward->setData({p->roofline.intensity}, {p->roofline.achievedGflops});
        forward->setLineStyle(QCPGraph::lsNone);
        forward->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, seriesColor(1, palette()), 12));
        forward->setName(tr("the whole forward"));
        extend(p->roofline.intensity, p->roofline.achievedGflops);
        m_rooflinePoints.push_back(
            {p->roofline.intensity, p->roofline.achievedGflops,
             tip(tr("the whole forward"), p->roofline.intensity, p->roofline.achievedGflops, p->forwardNs)});
    }
    if (p->peak.measured && p->peak.gflops > 0 && p->peak.bandwidthGBs > 0) {
        // The roof: bandwidth × intensity up to the balance point, then the compute peak.
        const double lo = std::min(xmin, p->peak.balance()) / 4, hi = std::max(xmax, p->peak.balance()) * 4;
        auto* roof = new QCPGraph(m_roofline->xAxis, m_roofline->yAxis);
        QVector<double> rx{lo, p->peak.balance(), hi},
            ry{p->peak.bandwidthGBs * lo, p->peak.gflops, p->peak.gflops};
        roof->setData(rx, ry);
        roof->setPen(QPen(palette().color(QPalette::WindowText), 1.5, Qt::DashLine));
        roof->setName(tr("measured roof: %1 GB/s copy, %2 GFLOP/s by %3")
                          .arg(p->peak.bandwidthGBs, 0, 'f', 1)
                          .arg(p->peak.gflops, 0, 'f', 1)
                          .arg(QString::fromStdString(p->peak.source)));
        extend(lo, ry.front());
        extend(hi, p->peak.gflops);
    }
    m_roofline->legend->setVisible(true);
    m_roofline->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    if (xmax > 0 && ymax > 0) {
        m_roofline->xAxis->setRange(xmin / 2, xmax * 2);
        m_roofline->yAxis->setRange(ymin / 2, ymax * 2);
    }
    m_roofline->replot(QCustomPlot::rpQueuedReplot);
}

QString ProfilePanel::rooflineToolTipAt(const QPoint& pos) const {
    QString best;
    double bestDistance = 10; // pixels
    for (const auto& point : m_rooflinePoints) {
        const double d = std::hypot(m_roofline->xAxis->coordToPixel(point.intensity) - pos.x(),
                                    m_roofline->yAxis->coordToPixel(point.gflops) - pos.y());
        if (d < bestDistance) {
            bestDistance = d;
            best = point.tip;
        }
    }
    return best;
}

void ProfilePanel::fillTree() {
    m_tree->clear();
    const twb::Profile* p = current();
    if (!p || !p->ok) return;
    if (!p->moduleScope) {
        auto* note =
            new QTreeWidgetItem(m_tree, {tr("This LibTorch did not report module scope: see the table by "
                                            "source line")});
        note->setFirstColumnSpanned(true);
        return;
    }
    const double whole = p->forwardNs * p->calls;
    std::vector<QTreeWidgetItem*> parents; // by depth
    for (const auto& m : p->modules) {
        const QString name =
            m.path.empty() ? tr("(model)") : QString::fromStdString(m.path.substr(m.path.rfind('.') + 1));
        const QStringList cells{
            name, QString::fromStdString(m.type), durationText(m.selfNs / std::max(1, p->calls)),
            durationText(m.totalNs / std::max(1, p->calls)),
            whole > 0 ? QStringLiteral("%1%").arg(100 * m.totalNs / whole, 0, 'f', 1) : QString()};
        QTreeWidgetItem* item = nullptr;
        const std::size_t depth = std::size_t(m.depth);
        if (depth == 0 || parents.size() < depth)
            item = new QTreeWidgetItem(m_tree, cells);
        else
            item = new QTreeWidgetItem(parents[depth - 1], cells);
        item->setToolTip(0, m.path.empty() ? tr("the model itself") : QString::fromStdString(m.path));
        for (int c = 2; c < 5; ++c)
            item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
        parents.resize(depth);
        parents.push_back(item);
    }
    m_tree->expandToDepth(1);
}

void ProfilePanel::exportTrace() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export Chrome trace"),
                                     dialogPath(QStringLiteral("profile.json")), tr("Chrome trace (*.json)"));
    if (!path.isEmpty()) emit traceExportRequested(path);
}

void ProfilePanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        for (QCustomPlot* p : {m_bars, m_diffBars, m_roofline})
            stylePlot(p, palette());
        drawBars();
        drawDiff();
        drawRoofline();
    }
}

} // namespace twbui
