// The Results panel's charts and comparisons, checked on what is drawn: medians at a glance, time
// axes, bands of long runs, empty charts, the dark theme's contrast.
#include "ui_support.h"

#include "config_panel.h"
#include "file_types.h"
#include "inputs_panel.h"
#include "item_models.h"
#include "job_runner.h"
#include "main_window.h"
#include "model_panel.h"
#include "profile_panel.h"
#include "results_panel.h"
#include "sweep_panel.h"

#include "twb/build_info.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <qcustomplot.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyleOptionButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTimer>
#include <QTreeWidget>

#include <cmath>
#include <memory>

#include <sys/stat.h>

using namespace twbui;
using namespace uitest;

class TestResultsPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void compareWithReferenceFile();
    void darkThemeRecoloursCharts();
    void emptyChartsShowNoTicks();
    void darkThemeKeepsEveryWidgetLegible();
    void chartsShowEveryMedianAtAGlance();
    void longRunsDrawABandUntilZoomedIn();

private:
    QTemporaryDir m_settingsDir;
};

namespace {
// WCAG's relative luminance and contrast ratio (1 to 21).
double luminance(const QColor& c) {
    const auto channel = [](double v) {
        return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}
double contrast(const QColor& a, const QColor& b) {
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}
// The mean colour of an image's opaque pixels: what an icon draws with.
QColor inkOf(const QImage& image) {
    double r = 0, g = 0, b = 0, n = 0;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.alpha() < 200) continue;
            r += c.redF(), g += c.greenF(), b += c.blueF(), n += 1;
        }
    return n > 0 ? QColor::fromRgbF(float(r / n), float(g / n), float(b / n)) : QColor();
}
} // namespace

namespace {
// A run measured elsewhere, as the panel receives it: samples around a median, its statistics.
RunSnapshot syntheticRun(int index, const std::string& label, double medianNs, bool cancelled = false) {
    RunSnapshot r;
    r.index = index;
    r.record.label = label;
    r.record.ok = true;
    r.record.cancelled = cancelled;
    for (int i = 0; i < 200; ++i) // the median, with a tail of calls half as long again
        r.record.samplesNs.push_back(i % 10 == 0 ? medianNs * 1.5 : medianNs);
    r.record.stats = twb::computeStats(r.record.samplesNs);
    return r;
}
} // namespace

void TestResultsPanel::compareWithReferenceFile() {
    MainWindow w;
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("iters=3,warmup=1")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(30000));
    QSignalSpy compared(&w, &MainWindow::comparisonShown);
    twb::CompareOptions options;
    emit w.resultsPanel()->compareRequested(
        0, -1, QString::fromStdString(TWB_DATA("../../resources/sample/sample_expected.npy")), options,
        QString());
    QVERIFY(compared.wait(20000));
    QVERIFY2(w.resultsPanel()->comparisonVerdict().contains("sample_expected.npy"),
             qPrintable(w.resultsPanel()->comparisonVerdict()));
    QVERIFY2(w.resultsPanel()->comparisonVerdict().contains("allclose"),
             qPrintable(w.resultsPanel()->comparisonVerdict()));
}

void TestResultsPanel::darkThemeRecoloursCharts() {
    MainWindow w;
    w.show();
    QCustomPlot* plot = w.resultsPanel()->timelinePlot();
    const QColor before = plot->xAxis->tickLabelColor();
    w.setDarkTheme(true);
    QTRY_VERIFY(plot->xAxis->tickLabelColor().lightness() > 150); // light labels…
    QVERIFY(plot->legend->brush().color().lightness() < 80);      // …on a dark chart
    w.setDarkTheme(false);
    QTRY_COMPARE(plot->xAxis->tickLabelColor(), before);
}

// In the dark theme every key widget stays legible, measured as WCAG contrast on what is drawn: text on
// fields and windows, placeholders, tooltips, the toolbar's Run icon (enabled and not), and an unchecked
// box against the window around it.
void TestResultsPanel::darkThemeKeepsEveryWidgetLegible() {
    MainWindow w;
    w.show();
    w.setDarkTheme(true);
    const auto restore = qScopeGuard([&] { w.setDarkTheme(false); });
    const QPalette pal = QApplication::palette();
    QVERIFY(pal.color(QPalette::Window).lightness() < 80);
    QVERIFY(contrast(pal.color(QPalette::Text), pal.color(QPalette::Base)) >= 4.5);
    QVERIFY(contrast(pal.color(QPalette::WindowText), pal.color(QPalette::Window)) >= 4.5);
    QVERIFY(contrast(pal.color(QPalette::ButtonText), pal.color(QPalette::Button)) >= 4.5);
    QVERIFY(contrast(pal.color(QPalette::ToolTipText), pal.color(QPalette::ToolTipBase)) >= 4.5);
    QVERIFY2(contrast(pal.color(QPalette::PlaceholderText), pal.color(QPalette::Base)) >= 3,
             qPrintable(
                 QString::number(contrast(pal.color(QPalette::PlaceholderText), pal.color(QPalette::Base)))));
    QVERIFY(contrast(pal.color(QPalette::Disabled, QPalette::Text), pal.color(QPalette::Base)) >= 1.5);

    QAction* run = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->text() == "&Run All Configurations") run = a;
    QVERIFY(run);
    const QColor ink = inkOf(run->icon().pixmap(32, QIcon::Normal).toImage());
    QVERIFY2(contrast(ink, pal.color(QPalette::Window)) >= 3,
             qPrintable(ink.name() + " on " + pal.color(QPalette::Window).name()));
    const QColor off = inkOf(run->icon().pixmap(32, QIcon::Disabled).toImage());
    QVERIFY2(contrast(off, pal.color(QPalette::Window)) >= 2,
             qPrintable(off.name() + " on " + pal.color(QPalette::Window).name()));

    QCheckBox box(QStringLiteral("an unchecked box"));
    box.resize(box.sizeHint());
    const QImage drawn = box.grab().toImage();
    QStyleOptionButton option;
    option.initFrom(&box);
    const QRect indicator = box.style()->subElementRect(QStyle::SE_CheckBoxIndicator, &option, &box);
    const QColor inside = drawn.pixelColor(indicator.center());
    QVERIFY2(contrast(inside, pal.color(QPalette::Window)) >= 1.3,
             qPrintable(inside.name() + " on " + pal.color(QPalette::Window).name()));
}

void TestResultsPanel::emptyChartsShowNoTicks() {
    MainWindow w;
    QCustomPlot* plot = w.resultsPanel()->timelinePlot();
    QVERIFY(!plot->yAxis->tickLabels() && !plot->xAxis->tickLabels());
    QVERIFY(openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("iters=5,warmup=1")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(30000));
    QVERIFY(plot->yAxis->tickLabels() && plot->xAxis->tickLabels());
}

// Every chart reads at a glance, checked on the rendered plots: a 176 µs median beside an 80 ms one is a
// bar many pixels tall, each bar is labelled with its median, the whiskers have a legend, time axes carry
// several labels in time units, a cancelled run is marked, and a histogram counts in whole numbers.
void TestResultsPanel::chartsShowEveryMedianAtAGlance() {
    ResultsPanel panel;
    panel.resize(900, 900);
    panel.show();
    auto* summary = panel.findChild<QCustomPlot*>("latency-summary");
    QVERIFY(summary);
    // Empty, the bars' chart spans the panel as the others do (its legend, empty, narrows nothing).
    const auto spansThePlot = [summary] {
        summary->replot();
        return summary->axisRect()->width() >= summary->width() * 3 / 4;
    };
    QVERIFY2(spansThePlot(), qPrintable(QString::number(summary->axisRect()->width())));
    panel.addRun(syntheticRun(0, "small", 176e3));
    panel.addRun(syntheticRun(1, "large", 80e6));
    panel.addRun(syntheticRun(2, "stopped", 5e6, true));
    QVERIFY(spansThePlot());
    QCOMPARE(summary->yAxis->scaleType(), QCPAxis::stLogarithmic);
    int bars = 0;
    for (int i = 0; i < summary->plottableCount(); ++i) {
        auto* bar = qobject_cast<QCPBars*>(summary->plottable(i));
        if (!bar) continue;
        ++bars;
        const double median = bar->data()->constBegin()->value;
        const double height =
            summary->yAxis->coordToPixel(bar->baseValue()) - summary->yAxis->coordToPixel(median);
        QVERIFY2(height >= 20,
                 qPrintable(QStringLiteral("a %1 ns median is %2 px tall").arg(median).arg(height)));
    }
    QCOMPARE(bars, 3);
    QStringList values;
    for (int i = 0; i < summary->itemCount(); ++i)
        if (auto* text = qobject_cast<QCPItemText*>(summary->item(i))) values << text->text();
    QVERIFY2(values.contains("176 µs") && values.contains("80.0 ms"), qPrintable(values.join(", ")));
    QVERIFY(summary->legend->visible());
    QStringList legend;
    for (int i = 0; i < summary->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(summary->legend->item(i)))
            legend << item->plottable()->name();
    QVERIFY2(legend.contains("p90") && legend.contains("p99") && legend.size() == 3,
             qPrintable(legend.join(", ")));
    const QVector<QString> ticks = summary->yAxis->tickVectorLabels();
    QVERIFY2(ticks.size() >= 3, qPrintable(QStringList(ticks.begin(), ticks.end()).join(", ")));
    for (const QString& t : ticks)
        QVERIFY2(t.endsWith("s"), qPrintable(t)); // ns, µs, ms or s
    QVERIFY(summary->xAxis->tickVectorLabels().contains("stopped (cancelled)"));
    QCOMPARE(summary->yAxis->label(), QString("latency"));

    // Medians close together keep a linear axis from zero.
    ResultsPanel close;
    close.resize(900, 900);
    close.show();
    close.addRun(syntheticRun(0, "a", 200e3));
    close.addRun(syntheticRun(1, "b", 260e3));
    auto* linear = close.findChild<QCustomPlot*>("latency-summary");
    linear->replot();
    QCOMPARE(linear->yAxis->scaleType(), QCPAxis::stLinear);
    QCOMPARE(linear->yAxis->range().lower, 0.0);
    // Its box plot spans less than a decade, and its logarithmic axis still carries several labels.
    auto* boxes = close.findChild<QCustomPlot*>("latency-distribution");
    QVERIFY(boxes);
    boxes->replot();
    QCOMPARE(boxes->yAxis->scaleType(), QCPAxis::stLogarithmic);
    const QVector<QString> boxTicks = boxes->yAxis->tickVectorLabels();
    QVERIFY2(boxTicks.size() >= 3, qPrintable(QStringList(boxTicks.begin(), boxTicks.end()).join(", ")));

    // The |A − B| histogram counts elements: whole numbers, however few.
    ComparisonSnapshot c;
    c.nameA = "a";
    c.nameB = "b";
    c.leafPath = "out";
    c.errors.edges = {0, 1e-6, 2e-6, 3e-6};
    c.errors.counts = {1, 3, 2};
    panel.showComparison(c);
    auto* errors = panel.findChild<QCustomPlot*>("error-histogram");
    QVERIFY(errors);
    errors->replot();
    const QVector<double> counts = errors->yAxis->tickVector();
    QVERIFY(!counts.isEmpty());
    for (double t : counts)
        QVERIFY2(t == std::round(t), qPrintable(QString::number(t)));

    // Emptied again (another model), the bars' chart still spans the panel.
    panel.reset();
    QVERIFY2(spansThePlot(), qPrintable(QString::number(summary->axisRect()->width())));
}

// 20 000 calls of a 6 µs model: a rolling median with its band, each call only when zoomed in.
void TestResultsPanel::longRunsDrawABandUntilZoomedIn() {
    MainWindow w;
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("mlp_x.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("mlp_traced.pt")));
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=long,iters=20000,warmup=10,threads=1")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(120000));
    QCustomPlot* plot = w.resultsPanel()->timelinePlot();
    QVERIFY(!w.resultsPanel()->timelineShowsEachCall());
    int bandPoints = 0;
    for (int g = 0; g < plot->graphCount(); ++g)
        if (plot->graph(g)->visible() && plot->graph(g)->name() == "long")
            bandPoints = plot->graph(g)->dataCount();
    QVERIFY2(bandPoints > 100 && bandPoints <= 400, qPrintable(QString::number(bandPoints)));
    plot->xAxis->setRange(1000, 1500);
    QVERIFY(w.resultsPanel()->timelineShowsEachCall());
    plot->xAxis->setRange(-10, 20000);
    QVERIFY(!w.resultsPanel()->timelineShowsEachCall());
}

TWB_GUI_TEST_MAIN(TestResultsPanel)
#include "tst_results_panel.moc"
