// The Sweep panel: which configuration is fastest. Axes chosen with check boxes, a latency-against-
// throughput scatter with the Pareto front drawn as a line (points coloured by an axis of the user's
// choice, eliminated ones faded, those whose outputs differ crossed), a sortable table, the
// recommendation, and "Use this configuration". Core's sweep decides; the panel shows and asks.
#pragma once

#include "item_models.h"

#include "twb/sweep.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace twbui {

class SweepPanel : public QWidget {
    Q_OBJECT
public:
    explicit SweepPanel(QWidget* parent = nullptr);

    // The options the check boxes and fields say, over `base` (the configuration editor's first entry).
    twb::SweepOptions options(const twb::RunConfig& base) const;
    void setHardwareThreads(int threads); // offers 1, half and all of them
    void setAxisChecked(const QString& key, const QString& value, bool on);
    void setBudget(double seconds);
    void setObjective(twb::SweepObjective objective);

    void reset();
    void updatePoint(const twb::SweepPoint& point); // live, as points finish
    void showResult(const twb::SweepResult& result);
    void setColourBy(const QString& key);
    void selectPoint(int index); // selects its table row

    const twb::SweepResult& result() const { return m_result; }
    const SweepTableModel* tableModel() const { return m_table; }
    QCustomPlot* scatterPlot() const { return m_plot; }
    QStringList plotLabels() const { return m_plotLabels; } // the names drawn beside the references
    QString recommendationText() const;
    int selectedPoint() const; // -1: none

signals:
    void sweepRequested();
    void useConfiguration(const twb::RunConfig& config);

protected:
    void changeEvent(QEvent* event) override;

private:
    void redraw(); // the table and the chart
    void drawPlot();
    void scheduleRedraw();
    void onPlotClick(QMouseEvent* event);
    void onPlotMove(QMouseEvent* event);
    int pointNear(const QPoint& pos) const;
    QString valueOf(const twb::SweepPoint& p, const QString& key) const;

    twb::SweepResult m_result;
    QStringList m_plotLabels;
    struct AxisBox {
        QString key, value;
        QCheckBox* box;
    };
    std::vector<AxisBox> m_boxes;
    QLineEdit* m_batches;
    QComboBox* m_objective;
    QDoubleSpinBox* m_budget;
    QDoubleSpinBox* m_maxLatency;
    QComboBox* m_colourBy;
    QPushButton* m_start;
    QPushButton* m_use;
    QLabel* m_verdict;
    QCustomPlot* m_plot;
    QTableView* m_view;
    SweepTableModel* m_table;
    QSortFilterProxyModel* m_sorted;
    QTimer* m_redraw;
    QWidget* m_threadsRow;
};

} // namespace twbui
