#include "graph_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace twbui {

GraphPanel::GraphPanel(QWidget* parent)
    : QWidget(parent)
    , m_view(new GraphView) {
    m_colour = new QComboBox;
    m_colour->addItems({tr("No colour"), tr("Self time (profile)"), tr("% of peak (profile)")});
    m_colour->setToolTip(tr("What the nodes are coloured by: a profile's time per node, or how near the "
                            "machine's peak each node computes. Profile the model first."));
    m_profile = new QComboBox;
    m_profile->setToolTip(tr("The profile the colours come from"));
    m_profile->setEnabled(false);
    connect(m_colour, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { refreshOverlay(); });
    connect(m_profile, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { refreshOverlay(); });
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Colour by:")));
    bar->addWidget(m_colour);
    bar->addWidget(m_profile, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
}

void GraphPanel::setGraph(std::shared_ptr<const twb::ModelGraph> graph, const QString& message) {
    m_view->setGraph(std::move(graph), message);
    refreshOverlay();
}

void GraphPanel::setProfiles(const std::vector<twb::Profile>& profiles) {
    m_profiles.clear();
    for (const auto& p : profiles)
        if (p.ok) m_profiles.push_back(p);
    const int keep = m_profile->currentIndex();
    {
        const QSignalBlocker block(m_profile);
        m_profile->clear();
        for (const auto& p : m_profiles)
            m_profile->addItem(QString::fromStdString(p.label));
        m_profile->setCurrentIndex(keep >= 0 && keep < int(m_profiles.size()) ? keep : 0);
    }
    m_profile->setEnabled(!m_profiles.empty());
    refreshOverlay();
}

void GraphPanel::setColour(Colour colour) {
    m_colour->setCurrentIndex(int(colour));
}

void GraphPanel::showProfile(int index) {
    if (index >= 0 && index < m_profile->count()) m_profile->setCurrentIndex(index);
}

void GraphPanel::refreshOverlay() {
    const twb::ModelGraph* graph = m_view->graph();
    const int p = m_profile->currentIndex();
    const auto colour = Colour(m_colour->currentIndex());
    if (!graph || colour == Colour::None || p < 0 || p >= int(m_profiles.size())) {
        twb::GraphOverlay none;
        if (colour != Colour::None && m_profiles.empty()) none.note = "Profile the model to colour its graph";
        m_view->setOverlay(none);
        return;
    }
    m_view->setOverlay(colour == Colour::SelfTime
                           ? twb::selfTimeOverlay(*graph, m_profiles[std::size_t(p)])
                           : twb::percentOfPeakOverlay(*graph, m_profiles[std::size_t(p)]));
}

} // namespace twbui
