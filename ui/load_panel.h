// The Load panel: latency under load. The scenario and its parameters, a chart of latency (p50 and p99,
// queued and computing) against offered load with the p99 bound as a line and the knee and the peak
// marked, drawn point by point while the run goes, a table of the points, and the verdict. Core's load
// run measures and decides; the panel shows and asks.
#pragma once

#include "twb/load.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace twbui {

class LoadPanel : public QWidget {
    Q_OBJECT
public:
    explicit LoadPanel(QWidget* parent = nullptr);

    // What the fields say, serving `config` (the configuration editor's first entry).
    twb::LoadOptions options(const twb::RunConfig& config) const;
    void setOptions(const twb::LoadOptions& options); // the fields, from options; the rest kept as given

    void reset();
    void start(const twb::LoadOptions& options); // a run begins: its bound drawn as its points come
    void setRunning(bool running);
    void updatePoint(const twb::LoadPoint& point); // live, as points finish
    void showResult(const twb::LoadResult& result);

    const twb::LoadResult& result() const { return m_result; }
    QCustomPlot* plot() const { return m_plot; }
    QTableWidget* table() const { return m_table; }
    QString verdictText() const;
    // What the chart marks, for tests: the bound's value (ms; 0 none), the knee's and the peak's QPS (0
    // none).
    double drawnBoundMs() const { return m_drawnBound; }
    double drawnKneeQps() const { return m_drawnKnee; }
    double drawnPeakQps() const { return m_drawnPeak; }

signals:
    void loadRequested();

protected:
    void changeEvent(QEvent* event) override;

private:
    void redraw();
    void enableFields();
    double xOf(const twb::LoadPoint& p) const; // offered load, else achieved

    twb::LoadResult m_result;
    twb::LoadOptions m_kept; // what the fields do not show (seed, confidence, minimum queries), as last set
    QComboBox* m_scenario;
    QDoubleSpinBox* m_qps;
    QSpinBox* m_utilisation; // a share of the capacity, in %, instead of a QPS; 0: the QPS field
    QDoubleSpinBox* m_bound;
    QDoubleSpinBox* m_seconds;
    QSpinBox* m_concurrency;
    QSpinBox* m_samples;
    QSpinBox* m_maxBatch;
    QDoubleSpinBox* m_window;
    QCheckBox* m_findPeak;
    QSpinBox* m_searches; // peak searches made in turns
    QPushButton* m_start;
    QLabel* m_verdict;
    QCustomPlot* m_plot;
    QTableWidget* m_table;
    double m_drawnBound = 0, m_drawnKnee = 0, m_drawnPeak = 0;
};

} // namespace twbui
