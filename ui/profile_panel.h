// The Profile panel: where one configuration's forward spends its time. A sortable table by operator,
// module or source line; the top operators as bars by a chosen metric; the submodule tree; the diff of
// two configurations as paired bars; the roofline of operators against the machine's measured peak;
// and a Chrome trace export. It shows profiles core made; it decides nothing.
#pragma once

#include "item_models.h"

#include "twb/profile.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTreeWidget;

namespace twbui {

class ProfilePanel : public QWidget {
    Q_OBJECT
public:
    enum class Metric { SelfTime, Calls, Gflops, PercentOfPeak };

    explicit ProfilePanel(QWidget* parent = nullptr);
    void reset();
    void addProfile(const twb::Profile& profile); // the first one added is shown
    const std::vector<twb::Profile>& profiles() const { return m_profiles; }
    int calls() const; // profiled calls per configuration, as the user set them

    void showProfile(int index);
    void setDiffAgainst(int index); // -1: no diff
    void setView(ProfileTableModel::View view);
    void setMetric(Metric metric);
    void showTab(int index); // 0 operators, 1 modules, 2 diff, 3 roofline

    const ProfileTableModel* tableModel() const { return m_table; }
    QTableView* tableView() const { return m_tableView; }
    const ProfileDiffModel* diffModel() const { return m_diff; }
    const QTreeWidget* moduleTree() const { return m_tree; }
    QCustomPlot* barPlot() const { return m_bars; }
    QCustomPlot* diffPlot() const { return m_diffBars; }
    QCustomPlot* rooflinePlot() const { return m_roofline; }
    QString summaryText() const;
    QString diffSummaryText() const;
    QStringList barLabels() const;                                  // the bar chart's operators, top first
    QStringList rooflineLabels() const { return m_rooflineLabels; } // the names drawn beside its points
    // The tooltip of the roofline point within a few pixels of `pos`: the operator, its intensity, rate,
    // share of the peak and time; "" where there is none.
    QString rooflineToolTipAt(const QPoint& pos) const;

signals:
    void profileRequested();
    // A row of the module or line table was clicked (twice: `show`, to see it in the graph): its module's
    // dotted path or its source line.
    void graphSelectionRequested(ProfileTableModel::View view, const QString& key, bool show);
    void traceExportRequested(const QString& path);

protected:
    void changeEvent(QEvent* event) override;

private:
    void fitTable(); // sorts the table and fits its columns to the view
    void refresh();
    void drawBars();
    void drawDiff();
    void drawRoofline();
    void fillTree();
    void exportTrace();
    const twb::Profile* current() const;

    std::vector<twb::Profile> m_profiles;
    int m_shown = -1, m_against = -1;
    Metric m_metric = Metric::SelfTime;
    QPushButton* m_profileButton;
    QSpinBox* m_calls;
    QComboBox* m_show;
    QComboBox* m_diffWith;
    QComboBox* m_viewBox;
    QComboBox* m_metricBox;
    QPushButton* m_traceButton;
    QLabel* m_summary;
    QTabWidget* m_tabs;
    QCustomPlot* m_bars;
    QTableView* m_tableView;
    ProfileTableModel* m_table;
    QSortFilterProxyModel* m_sorted;
    QTreeWidget* m_tree;
    QCustomPlot* m_diffBars;
    QTableView* m_diffView;
    ProfileDiffModel* m_diff;
    QLabel* m_diffSummary;
    QCustomPlot* m_roofline;
    QStringList m_barLabels;
    struct RooflinePoint {
        double intensity, gflops;
        QString tip;
    };
    std::vector<RooflinePoint> m_rooflinePoints;
    QStringList m_rooflineLabels;
};

} // namespace twbui
