// Results: latency charts (per-call timeline with warm-up shaded, distribution
// boxes, median bars with p90/p99 whiskers), the statistics table with
// warnings and ratios to the baseline, and the outputs with a comparison view.
#pragma once

#include "item_models.h"
#include "snapshots.h"

#include <QWidget>

#include <map>
#include <string>
#include <vector>

namespace twb {
struct Report;
}

class QComboBox;
class QCustomPlot;
class QCPGraph;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTabWidget;
class QTableView;

namespace twbui {

class ResultsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ResultsPanel(QWidget* parent = nullptr);
    void reset();
    void addRun(const RunSnapshot& run);
    // A plan run on several targets has finished: each configuration's row says how it compares with the
    // same configuration on the first target (latency, measured in separate processes, and outputs).
    void showAcrossTargets(const twb::Report& report);
    // The atol and rtol the Outputs tab compares with, which runs compare their outputs with too.
    twb::CompareOptions tolerance() const;
    void showComparison(const ComparisonSnapshot& comparison);
    void showComparisonError(const QString& message);
    const std::vector<RunSnapshot>& runs() const { return m_runs; }
    const StatsTableModel* statsModel() const { return m_stats; }
    // Dashed lines on the timeline where a configuration's next worker process begins.
    int processBoundaries() const { return m_processBoundaries; }
    const LeafTableModel* leafModel() const { return m_leaves; }
    const ComparisonTableModel* comparisonModel() const { return m_comparison; }
    QCustomPlot* timelinePlot() const { return m_timeline; }
    // Whether the timeline draws every call now (zoomed in) or only the rolling median and its band.
    bool timelineShowsEachCall() const;
    QString comparisonVerdict() const;
    void showTab(int index);
    // Compares the first two configurations that produced outputs, if any.
    void compareDefault();

signals:
    void compareRequested(int a, int b, const QString& referenceFile, const twb::CompareOptions& options,
                          const QString& leafPath);
    void saveOutputRequested(const twb::Value& output, const QString& path);

protected:
    void changeEvent(QEvent* event) override;

private:
    void redrawCharts();
    void showCallsWhenZoomed();
    static constexpr std::size_t kBandPoints = 200; // rolling-median buckets per run, at most
    static constexpr double kRawCallsShown = 2000;  // calls in view at most to draw each one
    void refreshTables();
    void refreshOutputChoices();
    void requestComparison();
    void tooltip(QCustomPlot* plot, QMouseEvent* event);

    std::vector<RunSnapshot> m_runs;
    struct AcrossTargets {
        twb::LatencyComparison latency;
        QString outputs;
    };
    std::map<std::string, AcrossTargets> m_acrossTargets; // by run label, for plans run on several targets
    QString m_firstTarget;
    QTabWidget* m_tabs;
    QCustomPlot* m_timeline;
    QCustomPlot* m_distribution;
    QCustomPlot* m_summary;
    QTableView* m_statsView;
    StatsTableModel* m_stats;
    QPlainTextEdit* m_warnings;
    QComboBox* m_outputOf;
    QTableView* m_leafView;
    LeafTableModel* m_leaves;
    QComboBox* m_compareA;
    QComboBox* m_compareB;
    QLineEdit* m_atol;
    QLineEdit* m_rtol;
    QLabel* m_verdict;
    QTableView* m_comparisonView;
    ComparisonTableModel* m_comparison;
    QCustomPlot* m_errors;
    QString m_referenceFile;
    std::vector<QCPGraph*> m_rawGraphs; // each run's calls, one by one
    int m_processBoundaries = 0;
};

} // namespace twbui
