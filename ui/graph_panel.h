// The Graph tab: the open model's forward as a graph (GraphView), coloured by nothing, by a profile's self
// time per node, or by each node's share of the machine's peak. The figures are core's overlays.
#pragma once

#include "graph_view.h"

#include "twb/profile.h"

#include <QWidget>

#include <vector>

class QComboBox;

namespace twbui {

class GraphPanel : public QWidget {
    Q_OBJECT
public:
    enum class Colour { None, SelfTime, PercentOfPeak };
    explicit GraphPanel(QWidget* parent = nullptr);
    // The model's graph as it was saved; null with why there is none (an AOTInductor package, …).
    void setGraph(std::shared_ptr<const twb::ModelGraph> graph, const QString& message = {});
    // The profiles its colours can come from; the last chosen colouring stays.
    void setProfiles(const std::vector<twb::Profile>& profiles);
    void setColour(Colour colour);
    void showProfile(int index);
    GraphView* view() const { return m_view; }

private:
    void refreshOverlay();
    GraphView* m_view;
    QComboBox* m_colour;
    QComboBox* m_profile;
    std::vector<twb::Profile> m_profiles;
};

} // namespace twbui
