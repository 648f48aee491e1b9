// The Divergence tab: where two configurations' outputs part. Pick A and B from the configurations, run
// (in a worker, through the job runner), and see core's report: the summary, a table of every recorded
// tensor in execution order with its error figures (the first one outside the tolerance marked), and
// the first configuration's graph coloured by each node's error. A row selects its node in the graph.
#pragma once

#include "graph_view.h"

#include "twb/config.h"
#include "twb/divergence.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace twbui {

class DivergencePanel : public QWidget {
    Q_OBJECT
public:
    explicit DivergencePanel(QWidget* parent = nullptr);
    // The configurations A and B are chosen among (the Configurations panel's).
    void setConfigs(const QVector<twb::RunConfig>& configs);
    void choose(int a, int b);
    void setRunning(bool running);
    void showReport(const twb::DivergenceReport& report);
    void clear();
    const twb::DivergenceReport& report() const { return m_report; }
    bool hasReport() const { return m_has; }
    GraphView* graphView() const { return m_view; }
    const QTableWidget* table() const { return m_table; }
    QString summaryText() const;

signals:
    void divergeRequested(const twb::RunConfig& a, const twb::RunConfig& b);
    void cancelRequested();

private:
    void request();
    QVector<twb::RunConfig> m_configs;
    twb::DivergenceReport m_report;
    bool m_has = false;
    QComboBox* m_a;
    QComboBox* m_b;
    QPushButton* m_run;
    QPushButton* m_cancel;
    QLabel* m_summary;
    QTableWidget* m_table;
    GraphView* m_view;
};

} // namespace twbui
