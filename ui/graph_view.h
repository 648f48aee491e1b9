// A model's graph drawn as core laid it out (twb/graph_layout.h): modules closed as one box open on a
// double-click and close again from their frame; zoom (Ctrl+wheel, +/-), pan (drag), fit (0), search,
// a minimap that follows and steers the view, and the selected node's code, shapes and arguments. Nodes
// are coloured by an overlay core computed. Layouts are made off the GUI thread through a job tracker
// and kept per view, so reopening a module is immediate.
#pragma once

#include "twb/graph_layout.h"

#include <QWidget>

#include <memory>

class QGraphicsScene;
class QGraphicsView;
class QLabel;
class QLineEdit;
class QTextBrowser;

namespace twbui {

class JobTracker;
class MinimapView;

class GraphView : public QWidget {
    Q_OBJECT
public:
    explicit GraphView(QWidget* parent = nullptr);
    ~GraphView() override;

    // Shows the graph with its modules closed; null clears. `message` is shown where there is no graph.
    void setGraph(std::shared_ptr<const twb::ModelGraph> graph, const QString& message = {});
    const twb::ModelGraph* graph() const { return m_layouts ? &m_layouts->graph() : nullptr; }
    void setOverlay(const twb::GraphOverlay& overlay);
    const twb::GraphOverlay& overlay() const { return m_overlay; }

    void setOpen(int group, bool open);
    void openAll();
    void closeAll();
    twb::OpenGroups openGroups() const { return m_open; }
    // Selects the node (opening the modules it lies in) or the module (opening those above it), and
    // centres it; false when there is no such node or module.
    bool selectNode(int node);
    bool selectGroup(int group);
    // The first node of a source line ("model.py:12"), or the module by its dotted path; what the
    // Profile panel's line and module tables ask for.
    bool selectLocation(const QString& location);
    bool selectScope(const QString& scope);
    int selectedNode() const { return m_selectedNode; }
    int selectedGroup() const { return m_selectedGroup; }
    // Selects the next node whose operator, module, code or line contains `text`, opening the modules it
    // lies in; returns how many nodes match (0: the search field turns red).
    int search(const QString& text);
    QString detailsText() const;
    QString legendText() const;

    bool isLayingOut() const { return m_pending; }
    std::shared_ptr<const twb::GraphLayout> layout() const { return m_layout; }
    twb::GraphLayouts* layouts() const { return m_layouts.get(); }
    QGraphicsView* view() const { return m_view; }
    QGraphicsView* minimap() const;
    QGraphicsScene* scene() const { return m_scene; }
    void zoomBy(double factor);
    void fit();
    // The item under a point of the view (viewport coordinates): -1 where none.
    int itemAt(const QPoint& pos) const;

signals:
    void laidOut(); // a layout has been drawn
    void selectionChanged();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void requestLayout();
    void draw(std::shared_ptr<const twb::GraphLayout> layout);
    void recolour();
    void select(int node, int group);
    void centreOnSelection();
    // Opens the groups the selection needs (a new layout) and centres on it.
    void showAndCentre(const twb::OpenGroups& needed);
    void updateMinimap();
    void showDetails();
    QColor fillOf(double value) const;

    std::shared_ptr<twb::GraphLayouts> m_layouts;
    std::shared_ptr<const twb::GraphLayout> m_layout;
    twb::OpenGroups m_open;
    twb::GraphOverlay m_overlay;
    int m_selectedNode = -1, m_selectedGroup = -1;
    int m_searchFrom = 0;
    bool m_pending = false;
    bool m_centreAfterLayout = false;
    QGraphicsScene* m_scene;
    QGraphicsView* m_view;
    MinimapView* m_minimap;
    QLineEdit* m_search;
    QLabel* m_legend;
    QLabel* m_message;
    QTextBrowser* m_details;
    std::unique_ptr<JobTracker> m_jobs;
};

} // namespace twbui
