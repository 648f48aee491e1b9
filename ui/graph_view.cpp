#include "graph_view.h"

#include "format_text.h"
#include "icons.h"
#include "job_tracker.h"

#include "twb/error.h"

#include <QApplication>
#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QShortcut>
#include <QSplitter>
#include <QStyleOptionGraphicsItem>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <cmath>

namespace twbui {

namespace {

constexpr int kItemKey = 0;  // QGraphicsItem::data: the layout item a box draws
constexpr int kFrameKey = 1; // the group an open module's frame draws

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

// One box of the layout: a node, a closed module, an input or an output.
class BoxItem : public QGraphicsItem {
public:
    BoxItem(const twb::LayoutItem& item, int index)
        : m_item(item) {
        setData(kItemKey, index);
        setPos(item.x, item.y);
        setToolTip(text(item.label + (item.detail.empty() ? "" : "\n" + item.detail)));
    }
    QRectF boundingRect() const override {
        return QRectF(-m_item.width / 2 - 2, -m_item.height / 2 - 2, m_item.width + 4, m_item.height + 4);
    }
    void setFill(const QColor& c) {
        m_fill = c;
        update();
    }
    void setSelectedBox(bool on) {
        m_selected = on;
        update();
    }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override {
        const QRectF r(-m_item.width / 2, -m_item.height / 2, m_item.width, m_item.height);
        const bool module = m_item.kind == twb::LayoutItem::Kind::Module;
        const bool io =
            m_item.kind == twb::LayoutItem::Kind::Input || m_item.kind == twb::LayoutItem::Kind::Output;
        p->setPen(QPen(m_selected ? QColor(30, 110, 230) : QColor(90, 90, 90), m_selected ? 2.5
                                                                               : module   ? 1.4
                                                                                          : 0.8));
        p->setBrush(m_fill);
        if (io)
            p->drawRoundedRect(r, m_item.height / 2, m_item.height / 2);
        else
            p->drawRoundedRect(r, module ? 5 : 2, module ? 5 : 2);
        // Far out, text cannot be read: boxes alone keep a large graph quick to draw.
        if (QStyleOptionGraphicsItem::levelOfDetailFromTransform(p->worldTransform()) < 0.35) return;
        p->setPen(QColor(20, 20, 20));
        QFont f = p->font();
        f.setPointSizeF(8);
        f.setBold(module);
        p->setFont(f);
        if (m_item.detail.empty()) {
            p->drawText(r, Qt::AlignCenter, text(m_item.label));
            return;
        }
        const QRectF top(r.left(), r.top() + 2, r.width(), r.height() / 2 - 1);
        const QRectF bottom(r.left(), r.center().y(), r.width(), r.height() / 2 - 2);
        p->drawText(top, Qt::AlignCenter, text(m_item.label));
        f.setBold(false);
        f.setPointSizeF(7);
        p->setFont(f);
        p->setPen(QColor(70, 70, 70));
        p->drawText(bottom, Qt::AlignCenter, text(m_item.detail));
    }

private:
    twb::LayoutItem m_item;
    QColor m_fill = Qt::white;
    bool m_selected = false;
};

// An edge: dot's B-spline as cubic segments, and the arrowhead between its end and the tip dot gives.
std::pair<QPainterPath, QPolygonF> edgeShape(const twb::LayoutEdge& e) {
    QPainterPath path;
    QPolygonF head;
    if (e.points.size() < 4) return {path, head};
    auto at = [&](std::size_t i) { return QPointF(e.points[i].first, e.points[i].second); };
    path.moveTo(at(0));
    std::size_t i = 1;
    for (; i + 2 < e.points.size(); i += 3)
        path.cubicTo(at(i), at(i + 1), at(i + 2));
    if (i < e.points.size()) {
        const QPointF end = path.currentPosition(), tip = at(e.points.size() - 1);
        const QLineF shaft(end, tip);
        if (shaft.length() > 0.5) {
            const QLineF unit = shaft.unitVector();
            const QPointF n(-unit.dy(), unit.dx());
            head << tip << end + n * 3.5 << end - n * 3.5;
        }
    }
    return {path, head};
}

} // namespace

// The whole graph small, with the main view's part outlined; clicking or dragging moves the main view.
class MinimapView : public QGraphicsView {
public:
    MinimapView(QGraphicsScene* scene, QGraphicsView* main, QWidget* parent)
        : QGraphicsView(scene, parent)
        , m_main(main) {
        setInteractive(false);
        setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        setRenderHint(QPainter::Antialiasing, false);
        setFixedSize(170, 130);
        setFrameShape(QFrame::Box);
        setBackgroundBrush(QColor(250, 250, 250, 235));
        setToolTip(QObject::tr("The whole graph; click or drag to move the view"));
        setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
    }
    void refit() {
        if (scene()) fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
        viewport()->update();
    }
    QRectF shown() const { return m_main->mapToScene(m_main->viewport()->rect()).boundingRect(); }

protected:
    void drawForeground(QPainter* p, const QRectF&) override {
        p->setPen(QPen(QColor(30, 110, 230), 0));
        p->setBrush(QColor(30, 110, 230, 40));
        p->drawRect(shown());
    }
    void mousePressEvent(QMouseEvent* e) override { steer(e->pos()); }
    void mouseMoveEvent(QMouseEvent* e) override {
        if (e->buttons() & Qt::LeftButton) steer(e->pos());
    }
    void resizeEvent(QResizeEvent* e) override {
        QGraphicsView::resizeEvent(e);
        refit();
    }

private:
    void steer(const QPoint& pos) {
        m_main->centerOn(mapToScene(pos));
        viewport()->update();
    }
    QGraphicsView* m_main;
};

GraphView::GraphView(QWidget* parent)
    : QWidget(parent)
    , m_scene(new QGraphicsScene(this))
    , m_jobs(std::make_unique<JobTracker>(QStringLiteral("graph layout"))) {
    m_view = new QGraphicsView(m_scene);
    m_view->setDragMode(QGraphicsView::ScrollHandDrag);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    m_view->viewport()->installEventFilter(this);
    m_view->installEventFilter(this); // its resizes keep the minimap in the bottom-right corner
    m_view->setObjectName(QStringLiteral("graphCanvas"));
    m_minimap = new MinimapView(m_scene, m_view, m_view);
    m_minimap->setObjectName(QStringLiteral("graphMinimap"));
    auto followView = [this] { updateMinimap(); };
    connect(m_view->horizontalScrollBar(), &QScrollBar::valueChanged, this, followView);
    connect(m_view->verticalScrollBar(), &QScrollBar::valueChanged, this, followView);

    m_search = new QLineEdit;
    m_search->setPlaceholderText(tr("Find an operator, module, line or code (Enter: next)"));
    addClearButton(m_search);
    m_search->setObjectName(QStringLiteral("graphSearch"));
    connect(m_search, &QLineEdit::returnPressed, this, [this] { search(m_search->text()); });
    connect(m_search, &QLineEdit::textChanged, this, [this] {
        m_searchFrom = 0;
        m_search->setStyleSheet({});
    });
    auto button = [this](const QString& label, const QString& tip, auto slot) {
        auto* b = new QToolButton;
        b->setText(label);
        b->setToolTip(tip);
        connect(b, &QToolButton::clicked, this, slot);
        return b;
    };
    auto* bar = new QHBoxLayout;
    bar->addWidget(m_search, 1);
    bar->addWidget(button(tr("Open all"), tr("Open every module (a large model takes a while to lay out)"),
                          [this] { openAll(); }));
    bar->addWidget(button(tr("Close all"), tr("Close every module: one box each"), [this] { closeAll(); }));
    bar->addWidget(button(tr("−"), tr("Zoom out (-, Ctrl+wheel)"), [this] { zoomBy(1 / 1.25); }));
    bar->addWidget(button(tr("+"), tr("Zoom in (+, Ctrl+wheel)"), [this] { zoomBy(1.25); }));
    bar->addWidget(button(tr("Fit"), tr("The whole graph in view (0)"), [this] { fit(); }));

    m_legend = new QLabel;
    m_legend->setWordWrap(true);
    m_legend->setObjectName(QStringLiteral("graphLegend"));
    m_message = new QLabel(tr("Open a TorchScript model to see its graph."));
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_details = new QTextBrowser;
    m_details->setObjectName(QStringLiteral("graphDetails"));
    m_details->setMinimumWidth(220);
    m_details->setPlaceholderText(
        tr("Click a node to see its code, shapes and arguments; double-click a module "
           "to open it, and its frame to close it."));

    auto* canvas = new QWidget;
    auto* canvasLayout = new QVBoxLayout(canvas);
    canvasLayout->setContentsMargins(0, 0, 0, 0);
    canvasLayout->addLayout(bar);
    canvasLayout->addWidget(m_message);
    canvasLayout->addWidget(m_view, 1);
    canvasLayout->addWidget(m_legend);
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(canvas);
    split->addWidget(m_details);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);
    m_view->hide();

    auto key = [this](const QKeySequence& k, auto slot) {
        auto* s = new QShortcut(k, this, slot);
        s->setContext(Qt::WidgetWithChildrenShortcut);
    };
    key(QKeySequence(Qt::Key_Plus), [this] { zoomBy(1.25); });
    key(QKeySequence(Qt::Key_Equal), [this] { zoomBy(1.25); });
    key(QKeySequence(Qt::Key_Minus), [this] { zoomBy(1 / 1.25); });
    key(QKeySequence(Qt::Key_0), [this] { fit(); });
    key(QKeySequence::Find, [this] {
        m_search->setFocus();
        m_search->selectAll();
    });
}

GraphView::~GraphView() {
    m_jobs->stop();
}

QGraphicsView* GraphView::minimap() const {
    return m_minimap;
}

void GraphView::setGraph(std::shared_ptr<const twb::ModelGraph> graph, const QString& message) {
    m_jobs->supersede(JobKind::Layout);
    m_layouts = graph ? std::make_shared<twb::GraphLayouts>(std::move(graph)) : nullptr;
    m_layout.reset();
    m_open.clear();
    m_overlay = {};
    m_selectedNode = m_selectedGroup = -1;
    m_centreAfterLayout = false;
    m_scene->clear();
    m_details->clear();
    m_legend->clear();
    m_pending = false;
    m_view->setVisible(m_layouts != nullptr);
    m_message->setVisible(!m_layouts);
    if (!message.isEmpty()) m_message->setText(message);
    if (m_layouts) requestLayout();
}

void GraphView::setOverlay(const twb::GraphOverlay& overlay) {
    m_overlay = overlay;
    recolour();
    showDetails();
}

void GraphView::setOpen(int group, bool open) {
    if (!m_layouts || group <= 0 || std::size_t(group) >= m_layouts->graph().groups.size()) return;
    const auto at = std::find(m_open.begin(), m_open.end(), group);
    if (open && at == m_open.end()) {
        for (int g : twb::groupsToShow(m_layouts->graph(), group))
            if (std::find(m_open.begin(), m_open.end(), g) == m_open.end()) m_open.push_back(g);
    } else if (!open && at != m_open.end()) {
        m_open.erase(at);
    } else {
        return;
    }
    requestLayout();
}

void GraphView::openAll() {
    if (!m_layouts) return;
    m_open.clear();
    for (std::size_t g = 1; g < m_layouts->graph().groups.size(); ++g)
        m_open.push_back(int(g));
    requestLayout();
}

void GraphView::closeAll() {
    m_open.clear();
    if (m_layouts) requestLayout();
}

void GraphView::requestLayout() {
    m_pending = true;
    m_message->setText(tr("Laying out the graph…"));
    auto layouts = m_layouts;
    const twb::OpenGroups open = m_open;
    m_jobs->start(JobKind::Layout, this, [layouts, open](const JobTracker::Context<GraphView>& ctx) {
        std::shared_ptr<const twb::GraphLayout> layout;
        QString error;
        try {
            layout = layouts->layout(open);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        ctx.deliver([layout, error](GraphView* v) {
            v->m_pending = false;
            if (!layout) {
                v->m_centreAfterLayout = false;
                v->m_view->hide();
                v->m_message->setText(GraphView::tr("The graph could not be laid out: %1").arg(error));
                v->m_message->show();
                emit v->laidOut();
                return;
            }
            v->draw(layout);
        });
    });
}

void GraphView::draw(std::shared_ptr<const twb::GraphLayout> layout) {
    const bool first = !m_layout;
    // Keep what was in view where it was: the centre stays on the same scene point.
    const QPointF centre = m_view->mapToScene(m_view->viewport()->rect().center());
    m_layout = std::move(layout);
    m_scene->clear();
    const QPalette pal = palette();
    for (const auto& f : m_layout->frames) {
        auto* frame =
            m_scene->addRect(f.x, f.y, f.width, f.height, QPen(pal.color(QPalette::Mid), 1, Qt::DashLine),
                             QBrush(pal.color(QPalette::AlternateBase)));
        frame->setData(kFrameKey, f.group);
        // Deeper modules' frames over their parents'.
        frame->setZValue(-1 + m_layouts->graph().groups[std::size_t(f.group)].depth * 0.01);
        frame->setToolTip(tr("%1 — double-click to close").arg(text(f.label)));
        auto* label = m_scene->addSimpleText(text(f.label));
        QFont small = label->font();
        small.setPointSizeF(7.5);
        label->setFont(small);
        label->setBrush(pal.color(QPalette::Text));
        label->setPos(f.x + 4, f.y + 2);
        label->setData(kFrameKey, f.group);
        label->setZValue(frame->zValue());
    }
    const QColor ink = pal.color(QPalette::WindowText);
    const QPen edgePen(ink, 0.9);
    for (const auto& e : m_layout->edges) {
        const auto [path, head] = edgeShape(e);
        m_scene->addPath(path, edgePen)->setZValue(0);
        if (!head.isEmpty()) m_scene->addPolygon(head, QPen(Qt::NoPen), QBrush(ink))->setZValue(0);
    }
    for (std::size_t i = 0; i < m_layout->items.size(); ++i) {
        auto* box = new BoxItem(m_layout->items[i], int(i));
        box->setZValue(1);
        m_scene->addItem(box);
    }
    m_scene->setSceneRect(QRectF(-20, -20, m_layout->width + 40, m_layout->height + 40));
    m_view->show();
    m_message->hide();
    recolour();
    if (first) fit();
    if (m_centreAfterLayout) {
        m_centreAfterLayout = false;
        centreOnSelection();
    } else if (!first) {
        m_view->centerOn(centre);
    }
    m_minimap->refit();
    updateMinimap();
    emit laidOut();
}

QColor GraphView::fillOf(double value) const {
    if (m_overlay.kind == twb::GraphOverlay::Kind::None) return {};
    if (std::isnan(value)) return QColor(225, 225, 225);
    double t = 1;
    if (std::isfinite(value) && m_overlay.kind == twb::GraphOverlay::Kind::Error) {
        // Errors span decades: amber at the tolerance, white three decades below, red three above.
        const double tolerance = m_overlay.reference > 0 ? m_overlay.reference : 1e-5;
        t = value <= 0 ? 0 : std::clamp(0.5 + std::log10(value / tolerance) / 6, 0.0, 1.0);
    } else if (std::isfinite(value) && m_overlay.max > 0) {
        t = std::clamp(value / m_overlay.max, 0.0, 1.0);
    }
    // White, through amber, to red.
    auto mix = [](QColor a, QColor b, double s) {
        return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * s),
                                float(a.greenF() + (b.greenF() - a.greenF()) * s),
                                float(a.blueF() + (b.blueF() - a.blueF()) * s));
    };
    const QColor white(255, 255, 255), amber(255, 196, 70), red(214, 39, 40);
    return t < 0.5 ? mix(white, amber, t * 2) : mix(amber, red, (t - 0.5) * 2);
}

void GraphView::recolour() {
    if (!m_layout) return;
    for (QGraphicsItem* gi : m_scene->items()) {
        auto* box = dynamic_cast<BoxItem*>(gi);
        if (!box) continue;
        const int i = gi->data(kItemKey).toInt();
        const twb::LayoutItem& item = m_layout->items[std::size_t(i)];
        QColor fill = fillOf(m_overlay.value(item));
        if (!fill.isValid())
            fill = item.kind == twb::LayoutItem::Kind::Module ? QColor(214, 228, 247)
                   : item.kind == twb::LayoutItem::Kind::Node ? QColor(250, 250, 250)
                                                              : QColor(222, 240, 222);
        box->setFill(fill);
        const bool selected = (item.kind == twb::LayoutItem::Kind::Node && item.index == m_selectedNode) ||
                              (item.kind == twb::LayoutItem::Kind::Module && item.index == m_selectedGroup);
        box->setSelectedBox(selected);
    }
    m_legend->setText(legendText());
}

QString GraphView::legendText() const {
    if (m_overlay.kind == twb::GraphOverlay::Kind::None) return text(m_overlay.note);
    QString t = tr("Coloured by %1, white to red: the largest is %2.")
                    .arg(text(m_overlay.unit), QString::fromStdString(twb::formatGeneral(m_overlay.max, 3)));
    if (m_overlay.kind == twb::GraphOverlay::Kind::Error)
        t = tr("Coloured by %1 on a log scale: amber at the tolerance (%2), white a thousand times below, "
               "red a "
               "thousand times above or where infinities or NaNs appear on one side only; grey: not "
               "compared.")
                .arg(text(m_overlay.unit),
                     QString::fromStdString(twb::formatGeneral(m_overlay.reference, 3)));
    if (!m_overlay.note.empty()) t += " " + text(m_overlay.note) + ".";
    return t;
}

void GraphView::zoomBy(double factor) {
    const double scale = m_view->transform().m11() * factor;
    if (scale < 0.02 || scale > 8) return;
    m_view->scale(factor, factor);
    updateMinimap();
}

void GraphView::fit() {
    if (!m_layout) return;
    m_view->fitInView(m_scene->sceneRect(), Qt::KeepAspectRatio);
    // A small graph is not blown up past readable; a long chain fitted whole is unreadable: no smaller
    // than a third, from the top.
    if (m_view->transform().m11() > 1.25) {
        m_view->resetTransform();
        m_view->scale(1.25, 1.25);
        m_view->centerOn(m_scene->sceneRect().center());
    } else if (m_view->transform().m11() < 0.33) {
        m_view->resetTransform();
        m_view->scale(0.33, 0.33);
        m_view->centerOn(m_scene->sceneRect().center().x(), 0);
    }
    updateMinimap();
}

void GraphView::updateMinimap() {
    // Shown while part of the graph is out of view.
    const QRectF shown = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    const QRectF whole = m_layout ? QRectF(0, 0, m_layout->width, m_layout->height) : QRectF();
    const bool show = m_layout && !shown.contains(whole);
    if (show && !m_minimap->isVisible()) {
        m_minimap->show();
        m_minimap->refit();
    }
    m_minimap->setVisible(show);
    m_minimap->viewport()->update();
}

int GraphView::itemAt(const QPoint& pos) const {
    for (QGraphicsItem* gi : m_view->items(pos))
        if (dynamic_cast<BoxItem*>(gi)) return gi->data(kItemKey).toInt();
    return -1;
}

bool GraphView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_view && event->type() == QEvent::Resize) {
        const QRect area = m_view->viewport()->geometry();
        m_minimap->move(area.right() - m_minimap->width() - 6, area.bottom() - m_minimap->height() - 6);
        m_minimap->raise();
        updateMinimap();
    }
    if (watched != m_view->viewport()) return QWidget::eventFilter(watched, event);
    if (event->type() == QEvent::Wheel) {
        auto* wheel = static_cast<QWheelEvent*>(event);
        if (wheel->modifiers() & Qt::ControlModifier) {
            zoomBy(wheel->angleDelta().y() > 0 ? 1.15 : 1 / 1.15);
            return true;
        }
    } else if (event->type() == QEvent::MouseButtonRelease || event->type() == QEvent::MouseButtonDblClick) {
        auto* mouse = static_cast<QMouseEvent*>(event);
        if (mouse->button() != Qt::LeftButton || !m_layout) return false;
        const int i = itemAt(mouse->pos());
        const bool twice = event->type() == QEvent::MouseButtonDblClick;
        if (i >= 0) {
            const twb::LayoutItem& item = m_layout->items[std::size_t(i)];
            if (item.kind == twb::LayoutItem::Kind::Module) {
                select(-1, item.index);
                if (twice) setOpen(item.index, true);
            } else if (item.kind == twb::LayoutItem::Kind::Node) {
                select(item.index, -1);
            }
        } else if (twice) { // on an open module's frame: close it
            for (QGraphicsItem* gi : m_view->items(mouse->pos()))
                if (gi->data(kFrameKey).isValid()) {
                    const int group = gi->data(kFrameKey).toInt();
                    setOpen(group, false);
                    select(-1, group);
                    break;
                }
        }
    }
    return false;
}

void GraphView::select(int node, int group) {
    m_selectedNode = node;
    m_selectedGroup = group;
    recolour();
    showDetails();
    emit selectionChanged();
}

bool GraphView::selectNode(int node) {
    if (!m_layouts || node < 0 || std::size_t(node) >= m_layouts->graph().nodes.size()) return false;
    select(node, -1);
    showAndCentre(twb::groupsToShow(m_layouts->graph(), twb::groupOfNode(m_layouts->graph(), node)));
    return true;
}

bool GraphView::selectGroup(int group) {
    if (!m_layouts || group < 0 || std::size_t(group) >= m_layouts->graph().groups.size()) return false;
    select(-1, group);
    showAndCentre(
        twb::groupsToShow(m_layouts->graph(), m_layouts->graph().groups[std::size_t(group)].parent));
    return true;
}

void GraphView::showAndCentre(const twb::OpenGroups& needed) {
    bool more = false;
    for (int g : needed)
        if (g > 0 && std::find(m_open.begin(), m_open.end(), g) == m_open.end()) {
            m_open.push_back(g);
            more = true;
        }
    if (more || !m_layout || m_pending) { // centred once the (new) layout is drawn
        m_centreAfterLayout = true;
        requestLayout();
    } else {
        centreOnSelection();
    }
}

bool GraphView::selectLocation(const QString& location) {
    if (!m_layouts) return false;
    const auto& nodes = m_layouts->graph().nodes;
    for (std::size_t n = 0; n < nodes.size(); ++n)
        if (text(nodes[n].location) == location) return selectNode(int(n));
    return false;
}

bool GraphView::selectScope(const QString& scope) {
    if (!m_layouts) return false;
    const auto& groups = m_layouts->graph().groups;
    for (std::size_t g = 0; g < groups.size(); ++g)
        if (text(groups[g].scope) == scope) return selectGroup(int(g));
    return false;
}

void GraphView::centreOnSelection() {
    if (!m_layout) return;
    int item = -1;
    if (m_selectedNode >= 0) item = m_layout->itemOfNode[std::size_t(m_selectedNode)];
    for (std::size_t i = 0; item < 0 && m_selectedGroup >= 0 && i < m_layout->items.size(); ++i)
        if (m_layout->items[i].kind == twb::LayoutItem::Kind::Module &&
            m_layout->items[i].index == m_selectedGroup)
            item = int(i);
    for (const auto& f : m_layout->frames)
        if (item < 0 && f.group == m_selectedGroup) {
            m_view->centerOn(f.x + f.width / 2, f.y + f.height / 2);
            return;
        }
    if (item >= 0)
        m_view->centerOn(m_layout->items[std::size_t(item)].x, m_layout->items[std::size_t(item)].y);
    m_minimap->viewport()->update();
}

int GraphView::search(const QString& query) {
    if (!m_layouts || query.trimmed().isEmpty()) return 0;
    const auto& nodes = m_layouts->graph().nodes;
    auto matches = [&](const twb::GraphNode& n) {
        for (const std::string* s : {&n.kind, &n.scope, &n.code, &n.location})
            if (text(*s).contains(query, Qt::CaseInsensitive)) return true;
        return false;
    };
    int count = 0, next = -1;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
        const std::size_t n = (std::size_t(m_searchFrom) + k) % nodes.size();
        if (!matches(nodes[n])) continue;
        ++count;
        if (next < 0) next = int(n);
    }
    m_search->setStyleSheet(count ? QString() : QStringLiteral("background: #f6d0d0"));
    if (next >= 0) {
        m_searchFrom = next + 1;
        selectNode(next);
    }
    return count;
}

QString GraphView::detailsText() const {
    return m_details->toPlainText();
}

void GraphView::showDetails() {
    if (!m_layouts || (m_selectedNode < 0 && m_selectedGroup < 0)) {
        m_details->clear();
        return;
    }
    const twb::ModelGraph& g = m_layouts->graph();
    auto esc = [](const std::string& s) { return text(s).toHtmlEscaped(); };
    auto figure = [&](double v) {
        if (m_overlay.kind == twb::GraphOverlay::Kind::None) return QString();
        const QString value = std::isnan(v)   ? tr("none")
                              : std::isinf(v) ? tr("infinite or NaN")
                                              : text(twb::formatGeneral(v, 3));
        return QStringLiteral("<p><b>%1:</b> %2</p>").arg(esc(m_overlay.unit), value);
    };
    auto valueLine = [&](int v) {
        const twb::GraphValue& value = g.values[std::size_t(v)];
        QString s = esc(value.name) + " : " + esc(value.type);
        if (!value.shape.empty() || !value.dtype.empty()) {
            QStringList dims;
            for (int64_t d : value.shape)
                dims << (d < 0 ? QStringLiteral("?") : QString::number(d)); // a dynamic size
            s += QStringLiteral(" [%1] %2").arg(dims.join(QStringLiteral(", ")), esc(value.dtype));
        }
        return QStringLiteral("<li>%1</li>").arg(s);
    };
    QString html;
    if (m_selectedNode >= 0) {
        const twb::GraphNode& n = g.nodes[std::size_t(m_selectedNode)];
        html += QStringLiteral("<h3>%1</h3>").arg(esc(n.kind));
        html +=
            QStringLiteral("<p><b>Module:</b> %1</p>")
                .arg(n.scope.empty() ? tr("the model itself")
                                     : esc(n.scope + (n.scopeType.empty() ? "" : " (" + n.scopeType + ")")));
        html += QStringLiteral("<p><b>Line:</b> %1</p>")
                    .arg(n.location.empty() ? tr("unknown") : esc(n.location));
        if (!n.code.empty()) html += QStringLiteral("<pre>%1</pre>").arg(esc(n.code));
        html += QStringLiteral("<p><b>Inputs</b></p><ul>");
        for (int v : n.inputs)
            html += valueLine(v);
        html += QStringLiteral("</ul><p><b>Outputs</b></p><ul>");
        for (int v : n.outputs)
            html += valueLine(v);
        html += QStringLiteral("</ul>");
        if (!n.arguments.empty()) {
            html += QStringLiteral("<p><b>Arguments</b></p><ul>");
            for (const auto& a : n.arguments)
                html += QStringLiteral("<li>%1</li>").arg(esc(a));
            html += QStringLiteral("</ul>");
        }
        if (!m_overlay.node.empty()) html += figure(m_overlay.node[std::size_t(m_selectedNode)]);
    } else {
        const twb::GraphGroup& gr = g.groups[std::size_t(m_selectedGroup)];
        html += QStringLiteral("<h3>%1</h3>").arg(gr.scope.empty() ? tr("The model") : esc(gr.scope));
        if (!gr.type.empty()) html += QStringLiteral("<p><b>Class:</b> %1</p>").arg(esc(gr.type));
        html += tr("<p>%1 nodes, %2 directly in it.</p>").arg(gr.totalNodes).arg(gr.nodes.size());
        html += tr("<p>Double-click the box to open it, or its frame to close it.</p>");
        if (!m_overlay.group.empty()) html += figure(m_overlay.group[std::size_t(m_selectedGroup)]);
    }
    m_details->setHtml(html);
}

} // namespace twbui
