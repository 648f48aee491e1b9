// The Graph and Divergence tabs as a person uses them: the sample's graph drawn with its modules closed,
// a module opened by a double-click and closed from its frame, search, the minimap steering the view,
// profile colours, a Profile table row selecting its node, and a divergence run (and one cancelled).
#include "synthetic_graph.h"
#include "ui_support.h"

#include "divergence_panel.h"
#include "graph_panel.h"
#include "profile_panel.h"

#include "twb/graph_layout.h"

#include <QGraphicsView>
#include <QPushButton>
#include <QScrollBar>
#include <QTableView>
#include <QTableWidget>
#include <QTextBrowser>

#include <cmath>

class TestGraphPanel : public QObject {
    Q_OBJECT
private slots:
    void init();
    void sampleGraphOpensAndCloses();
    void searchSelectsAndShowsDetails();
    void minimapSteersTheView();
    void profileColoursAndTableSelects();
    void divergenceShowsWhereTheyPart();
    void cancelledDivergenceLeavesTheWindowWorking();
    void largeGraphOpensWhole();

private:
    QTemporaryDir m_dir;
};

namespace {

using twbui::GraphView;

// Waits for the view's layout to be drawn; false when none came within 30 s.
bool waitLaidOut(GraphView* v) {
    QElapsedTimer clock;
    clock.start();
    while (!(v->layout() && !v->isLayingOut()) && clock.elapsed() < 30000)
        QTest::qWait(20);
    return v->layout() && !v->isLayingOut();
}

// The sample open in a large window, its Graph tab in view and laid out.
bool showSampleGraph(twbui::MainWindow& w) {
    w.resize(1400, 900);
    w.show();
    if (!uitest::openSample(w)) return false;
    w.showRightTab(3);
    return waitLaidOut(w.graphPanel()->view());
}

// The view's point where a layout item is drawn.
QPoint pointOf(GraphView* v, double x, double y) {
    return v->view()->mapFromScene(QPointF(x, y));
}

int moduleItem(const twb::GraphLayout& l, int group) {
    for (std::size_t i = 0; i < l.items.size(); ++i)
        if (l.items[i].kind == twb::LayoutItem::Kind::Module && l.items[i].index == group) return int(i);
    return -1;
}

} // namespace

void TestGraphPanel::init() {
    uitest::isolateSettings(m_dir);
}

void TestGraphPanel::sampleGraphOpensAndCloses() {
    twbui::MainWindow w;
    QVERIFY(showSampleGraph(w));
    GraphView* v = w.graphPanel()->view();
    const twb::ModelGraph* g = v->graph();
    QVERIFY(g && g->groups.size() > 1);
    auto layout = v->layout();
    // Every module below the model shows closed, as one box each.
    int closed = 0;
    for (const auto& item : layout->items)
        closed += item.kind == twb::LayoutItem::Kind::Module;
    int top = 0;
    for (const auto& group : g->groups)
        top += group.depth == 1;
    QCOMPARE(closed, top);
    QVERIFY(layout->frames.empty());
    // Double-clicking the first module's box opens it: its nodes show inside a frame.
    int group = 1;
    while (group < int(g->groups.size()) && g->groups[std::size_t(group)].depth != 1)
        ++group;
    const int item = moduleItem(*layout, group);
    QVERIFY(item >= 0);
    v->view()->centerOn(layout->items[std::size_t(item)].x, layout->items[std::size_t(item)].y);
    QTest::mouseDClick(v->view()->viewport(), Qt::LeftButton, {},
                       pointOf(v, layout->items[std::size_t(item)].x, layout->items[std::size_t(item)].y));
    QTRY_VERIFY_WITH_TIMEOUT(v->layout() != layout && !v->isLayingOut(), 30000);
    layout = v->layout();
    QCOMPARE(layout->frames.size(), std::size_t(1));
    QCOMPARE(layout->frames[0].group, group);
    QCOMPARE(moduleItem(*layout, group), -1);
    QCOMPARE(v->selectedGroup(), group);
    // Double-clicking its frame (on its label, above its nodes) closes it again, from the kept layout.
    const twb::LayoutFrame f = layout->frames[0];
    v->view()->centerOn(f.x + 6, f.y + 5);
    QTest::mouseDClick(v->view()->viewport(), Qt::LeftButton, {}, pointOf(v, f.x + 6, f.y + 5));
    QTRY_VERIFY_WITH_TIMEOUT(v->layout() != layout && !v->isLayingOut(), 30000);
    QVERIFY(v->layout()->frames.empty());
    QCOMPARE(v->layouts()->cached(), std::size_t(2));
    // A single click on a node shows its details.
    bool clicked = false;
    for (std::size_t i = 0; i < v->layout()->items.size() && !clicked; ++i) {
        const auto& it = v->layout()->items[i];
        if (it.kind != twb::LayoutItem::Kind::Node) continue;
        v->view()->centerOn(it.x, it.y);
        QTest::mouseClick(v->view()->viewport(), Qt::LeftButton, {}, pointOf(v, it.x, it.y));
        QCOMPARE(v->selectedNode(), it.index);
        QVERIFY2(v->detailsText().contains(QString::fromStdString(g->nodes[std::size_t(it.index)].kind)),
                 qPrintable(v->detailsText()));
        clicked = true;
    }
    QVERIFY2(clicked, "no node shows at the top level");
}

void TestGraphPanel::searchSelectsAndShowsDetails() {
    twbui::MainWindow w;
    w.show();
    QVERIFY(uitest::openSample(w));
    GraphView* v = w.graphPanel()->view();
    QVERIFY(waitLaidOut(v));
    const twb::ModelGraph* g = v->graph();
    // The first convolution lies in a closed module: finding it opens that module.
    const int matches = v->search(QStringLiteral("conv"));
    QVERIFY(matches > 0);
    const int node = v->selectedNode();
    QVERIFY(node >= 0);
    const twb::GraphNode& n = g->nodes[std::size_t(node)];
    QVERIFY(
        QString::fromStdString(n.kind + n.scope + n.code + n.location).contains("conv", Qt::CaseInsensitive));
    QTRY_VERIFY_WITH_TIMEOUT(!v->isLayingOut(), 30000);
    const auto& item = v->layout()->items[std::size_t(v->layout()->itemOfNode[std::size_t(node)])];
    QCOMPARE(item.kind, twb::LayoutItem::Kind::Node); // shown as itself, its modules opened
    const QString details = v->detailsText();
    QVERIFY2(details.contains(QStringLiteral("Line:")) && details.contains(QStringLiteral("Outputs")),
             qPrintable(details));
    if (!n.code.empty()) QVERIFY(details.contains(QString::fromStdString(n.code)));
    // Enter again goes to the next match; nothing matching says so.
    if (matches > 1) {
        v->search(QStringLiteral("conv"));
        QVERIFY(v->selectedNode() != node);
    }
    QCOMPARE(v->search(QStringLiteral("no-such-operator")), 0);
}

void TestGraphPanel::minimapSteersTheView() {
    twbui::MainWindow w;
    QVERIFY(showSampleGraph(w));
    GraphView* v = w.graphPanel()->view();
    v->openAll();
    QTRY_VERIFY_WITH_TIMEOUT(!v->isLayingOut() && !v->layout()->frames.empty(), 30000);
    for (int i = 0; i < 6; ++i)
        v->zoomBy(1.25);
    QGraphicsView* map = v->minimap();
    QVERIFY(map->isVisible());
    // Clicking the minimap's bottom centres the view on the graph's bottom.
    const QRectF before = v->view()->mapToScene(v->view()->viewport()->rect()).boundingRect();
    const QPoint bottom = map->mapFromScene(QPointF(v->layout()->width / 2, v->layout()->height));
    QTest::mouseClick(map->viewport(), Qt::LeftButton, {}, bottom);
    const QRectF after = v->view()->mapToScene(v->view()->viewport()->rect()).boundingRect();
    QVERIFY2(after.center().y() > before.center().y(), "the view did not move down");
    QVERIFY(after.bottom() >= v->layout()->height - 5);
}

void TestGraphPanel::profileColoursAndTableSelects() {
    twbui::MainWindow w;
    w.show();
    QVERIFY(uitest::openSample(w));
    w.configPanel()->setConfigs({twb::RunConfig::parse("name=off,jit=off,iters=10,warmup=2")});
    QSignalSpy profiled(&w, &twbui::MainWindow::profilesFinished);
    w.profileAll();
    QVERIFY(profiled.wait(120000));
    QVERIFY(!w.profilePanel()->profiles().empty() && w.profilePanel()->profiles()[0].ok);
    GraphView* v = w.graphPanel()->view();
    QVERIFY(waitLaidOut(v));
    w.graphPanel()->setColour(twbui::GraphPanel::Colour::SelfTime);
    QCOMPARE(v->overlay().kind, twb::GraphOverlay::Kind::SelfTime);
    QVERIFY(v->overlay().max > 0);
    int timed = 0;
    for (double t : v->overlay().node)
        timed += std::isfinite(t) && t > 0;
    QVERIFY(timed > 0);
    QVERIFY(v->legendText().contains(QStringLiteral("µs per forward")));
    // A row of the line table selects that line's node in the graph; a double-click shows the Graph tab.
    w.showRightTab(1);
    w.profilePanel()->setView(twbui::ProfileTableModel::View::Lines);
    QTableView* table = w.profilePanel()->tableView();
    QString line;
    int row = 0;
    for (; row < table->model()->rowCount(); ++row) {
        line = table->model()->index(row, 0).data(twbui::ProfileTableModel::KeyRole).toString();
        bool inGraph = false;
        for (const auto& n : v->graph()->nodes)
            inGraph |= QString::fromStdString(n.location) == line;
        if (inGraph) break;
    }
    QVERIFY2(row < table->model()->rowCount(), "no profiled line is in the graph");
    w.profilePanel()->showTab(0);
    table->scrollTo(table->model()->index(row, 0));
    const QRect cell = table->visualRect(table->model()->index(row, 0));
    QVERIFY(cell.isValid() && table->isVisible());
    // A click (the first half of a double-click, as a person makes one) selects; the window stays.
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QVERIFY(v->selectedNode() >= 0);
    QCOMPARE(QString::fromStdString(v->graph()->nodes[std::size_t(v->selectedNode())].location), line);
    QCOMPARE(w.rightTab(), 1);
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QCOMPARE(w.rightTab(), 3);
    // And the module table selects the module.
    w.profilePanel()->setView(twbui::ProfileTableModel::View::Modules);
    bool module = false;
    for (int r = 0; r < table->model()->rowCount() && !module; ++r) {
        const QString path = table->model()->index(r, 0).data(twbui::ProfileTableModel::KeyRole).toString();
        if (path.isEmpty()) continue;
        table->scrollTo(table->model()->index(r, 0));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                          table->visualRect(table->model()->index(r, 0)).center());
        QVERIFY(v->selectedGroup() >= 0);
        QCOMPARE(QString::fromStdString(v->graph()->groups[std::size_t(v->selectedGroup())].scope), path);
        module = true;
    }
    QVERIFY2(module, "the module table has no submodule");
}

void TestGraphPanel::divergenceShowsWhereTheyPart() {
    twbui::MainWindow w;
    w.show();
    QSignalSpy ready(&w, &twbui::MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("overflow_x.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("overflow.pt")));
    QVERIFY(ready.wait(20000) && ready.last().at(0).toBool());
    w.configPanel()->setConfigs(
        {twb::RunConfig::parse("name=float32"), twb::RunConfig::parse("name=half,dtype=float16")});
    twbui::DivergencePanel* d = w.divergencePanel();
    d->choose(0, 1);
    QSignalSpy finished(&w, &twbui::MainWindow::divergenceFinished);
    QTest::mouseClick(d->findChild<QPushButton*>(), Qt::LeftButton);
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY(d->hasReport());
    const twb::DivergenceReport& r = d->report();
    if (!r.errorB.empty())
        QSKIP(qPrintable("float16 does not run here: " + QString::fromStdString(r.errorB)));
    QVERIFY2(r.firstDivergent >= 0, r.summary.c_str());
    QCOMPARE(r.nodes[std::size_t(r.firstDivergent)].kind, std::string("aten::mul"));
    QCOMPARE(d->table()->rowCount(), int(r.nodes.size()));
    // The first divergent row is selected and bold; its node is selected in the graph, coloured red.
    const auto rows = d->table()->selectionModel()->selectedRows();
    QCOMPARE(rows.size(), 1);
    QTableWidgetItem* first = d->table()->item(rows[0].row(), 0);
    QCOMPARE(first->data(Qt::UserRole).toInt(), r.firstDivergent);
    QVERIFY(first->font().bold());
    GraphView* v = d->graphView();
    QVERIFY(waitLaidOut(v));
    QCOMPARE(v->overlay().kind, twb::GraphOverlay::Kind::Error);
    QCOMPARE(v->selectedNode(), r.nodes[std::size_t(r.firstDivergent)].node);
    QVERIFY(std::isinf(v->overlay().node[std::size_t(v->selectedNode())]) ||
            v->overlay().node[std::size_t(v->selectedNode())] > 1e-2);
    QVERIFY(d->summaryText().contains(QStringLiteral("aten::mul")));
}

void TestGraphPanel::cancelledDivergenceLeavesTheWindowWorking() {
    twbui::MainWindow w;
    w.show();
    QVERIFY(uitest::openSample(w));
    w.configPanel()->setConfigs(uitest::quick());
    // B on a launcher that fails: A runs here, B fails saying why, and the panel shows it.
    QSignalSpy finished(&w, &twbui::MainWindow::divergenceFinished);
    twb::RunConfig elsewhere = uitest::quick()[1];
    elsewhere.target = "cmd:/nowhere/torchwb worker";
    w.diverge(uitest::quick()[0], elsewhere);
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    const twb::DivergenceReport& failed = w.divergencePanel()->report();
    QVERIFY2(failed.errorA.empty() && failed.errorB.find("/nowhere/torchwb") != std::string::npos,
             failed.summary.c_str());
    QVERIFY2(w.divergencePanel()->summaryText().contains(QStringLiteral("/nowhere/torchwb")),
             qPrintable(w.divergencePanel()->summaryText()));
    w.diverge(uitest::quick()[0], uitest::quick()[1]);
    QVERIFY(w.runner()->isRunning());
    w.cancel();
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.last().at(0).toBool(), true);
    QVERIFY(!w.runner()->isRunning());
    // The next run goes ahead.
    QSignalSpy runs(&w, &twbui::MainWindow::runsFinished);
    w.runAll();
    QVERIFY(runs.wait(60000));
    QCOMPARE(runs.last().at(0).toBool(), false);
}

void TestGraphPanel::largeGraphOpensWhole() {
    // 40 modules of 30 nodes: every module opened at once is laid out and drawn.
    auto g = std::make_shared<const twb::ModelGraph>(twbtest::syntheticGraph(40, 30));
    GraphView v;
    v.resize(1000, 800);
    v.show();
    v.setGraph(g);
    QVERIFY(waitLaidOut(&v));
    QCOMPARE(v.layout()->items.size(), std::size_t(3)); // x, blocks, output
    v.openAll();
    QTRY_VERIFY_WITH_TIMEOUT(!v.isLayingOut() && v.layout()->items.size() == 1202, 60000);
    QCOMPARE(v.layout()->frames.size(), g->groups.size() - 1); // every module but the model
    QVERIFY(v.scene()->items().size() >= 1202 + 1201);
}

TWB_GUI_TEST_MAIN(TestGraphPanel)
#include "tst_graph_panel.moc"
