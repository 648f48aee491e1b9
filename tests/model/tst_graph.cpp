// The model as a graph of plain values: every submodule call inlined, each node with its operator,
// source line and module, grouped by the module hierarchy, shapes from a run. On models Python exported:
// a small CNN, a transformer encoder, and resnet18 traced as users trace it.
#include "test_support.h"

#include "twb/config.h"
#include "twb/error.h"
#include "twb/graph.h"
#include "twb/model.h"

#include <QProcess>
#include <QTemporaryDir>

#include <optional>
#include <set>

class TestGraph : public QObject {
    Q_OBJECT
private slots:
    void cnnNodesCarryTheirModules();
    void shapesFromARun();
    void encoderGroupsNestInPreorder();
    void groupsOrderNumbersAsNumbers();
    void resnet18ShowsItsTopLevelModules();
    void packagesHaveNoGraph();
    void exportedProgramGraphIsReadAsData();
    void damagedExportedProgramIsRefused();
};

namespace {

// Every index in range, every value made by at most one node, the groups counting every node once.
void checkConsistent(const twb::ModelGraph& g) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
        for (int v : g.nodes[i].inputs)
            QVERIFY(v >= 0 && std::size_t(v) < g.values.size());
        for (int v : g.nodes[i].outputs)
            QCOMPARE(g.values[std::size_t(v)].producer, int(i));
    }
    QVERIFY(!g.groups.empty());
    QCOMPARE(g.groups[0].scope, std::string());
    QCOMPARE(g.groups[0].totalNodes, int(g.nodes.size()));
    std::size_t direct = 0;
    for (const auto& group : g.groups)
        direct += group.nodes.size();
    QCOMPARE(direct, g.nodes.size());
}

const twb::GraphNode* findNode(const twb::ModelGraph& g, const std::string& kind) {
    for (const auto& n : g.nodes)
        if (n.kind == kind) return &n;
    return nullptr;
}

std::vector<std::string> scopes(const twb::ModelGraph& g) {
    std::vector<std::string> out;
    for (const auto& group : g.groups)
        out.push_back(group.scope);
    return out;
}

} // namespace

void TestGraph::cnnNodesCarryTheirModules() {
    const twb::ModelGraph g = twb::modelGraph(twb::Model::load(TWB_DATA("cnn_scripted.pt")));
    checkConsistent(g);
    QCOMPARE(g.inputs.size(), std::size_t(1)); // x, self left out
    const std::string input =
        g.values[std::size_t(g.inputs[0])].name; // "x", or "x.1" as TorchScript numbers it
    QVERIFY2(input == "x" || input.rfind("x.", 0) == 0, input.c_str());
    QCOMPARE(g.outputs.size(), std::size_t(1));
    QVERIFY(g.constants > 0); // weights and constants are not nodes
    const twb::GraphNode* conv = findNode(g, "aten::_convolution");
    if (!conv) conv = findNode(g, "aten::conv2d");
    QVERIFY(conv);
    QCOMPARE(conv->scope, std::string("conv"));
    QCOMPARE(conv->scopeType, std::string("Conv2d"));
    QVERIFY2(!conv->location.empty(), "a node without its source line");
    QVERIFY2(!conv->code.empty(), "a node without its code");
    // Its weight named by where it lives, its constants by the schema's argument names.
    std::string arguments;
    for (const auto& a : conv->arguments)
        arguments += a + "; ";
    QVERIFY2(twbtest::contains(arguments, "weight = conv.weight"), arguments.c_str());
    QVERIFY2(twbtest::contains(arguments, "stride = [1, 1]"), arguments.c_str());
    const twb::GraphNode* bn = findNode(g, "aten::batch_norm");
    QVERIFY(bn && bn->scope == "bn");
    QCOMPARE(scopes(g), (std::vector<std::string>{"", "bn", "conv", "head"}));
    const twb::GraphNode* relu = findNode(g, "aten::relu");
    QVERIFY(relu && relu->scope.empty()); // called in the model's own forward
    // Inlining leaves BatchNorm's `if self.training` without a call stack: it still belongs to bn.
    for (const auto& n : g.nodes)
        if (twbtest::contains(n.location, "batchnorm") || twbtest::contains(n.location, "functional"))
            QVERIFY2(!n.scope.empty(), (n.kind + " at " + n.location + " has no module").c_str());
}

void TestGraph::shapesFromARun() {
    const twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const auto b = m.bindInputs({{"x", twb::readTensorFile(TWB_DATA("cnn_x.npy")), "cnn_x.npy"}});
    QVERIFY2(b.ok, b.error.c_str());
    const twb::ModelGraph g = twb::modelGraph(m, b, twb::RunConfig());
    checkConsistent(g);
    const twb::GraphNode* relu = findNode(g, "aten::relu");
    QVERIFY(relu);
    const twb::GraphValue& out = g.values[std::size_t(relu->outputs[0])];
    QCOMPARE(out.dtype, std::string("float32"));
    QCOMPARE(out.shape.size(), std::size_t(4));
    QCOMPARE(out.shape[1], int64_t(8)); // Conv2d(3, 8, …)
    // Under float16 the same graph carries float16 tensors.
    const twb::ModelGraph half = twb::modelGraph(m, b, twb::RunConfig::parse("dtype=bfloat16"));
    QCOMPARE(half.values[std::size_t(findNode(half, "aten::relu")->outputs[0])].dtype,
             std::string("bfloat16"));
}

void TestGraph::encoderGroupsNestInPreorder() {
    std::optional<twb::Model> encoder;
    try {
        encoder = twb::Model::load(TWB_DATA("encoder_scripted.pt"));
    } catch (const twb::Error& e) { // saved by PyTorch 2.13: scaled_dot_product_attention is not in 1.13
        QSKIP(e.what());
    }
    const twb::ModelGraph g = twb::modelGraph(*encoder);
    checkConsistent(g);
    const auto s = scopes(g);
    auto at = [&](const std::string& scope) { return int(std::find(s.begin(), s.end(), scope) - s.begin()); };
    std::string all;
    for (const auto& scope : s)
        all += scope + " ";
    for (const char* scope : {"layers", "layers.0", "layers.0.self_attn", "layers.1", "layers.1.linear2"})
        QVERIFY2(at(scope) < int(s.size()), (scope + std::string(" not in ") + all).c_str());
    QVERIFY(at("layers") < at("layers.0") && at("layers.0") < at("layers.0.self_attn") &&
            at("layers.0.self_attn") < at("layers.1"));
    const twb::GraphGroup& layer1 = g.groups[std::size_t(at("layers.1"))];
    QCOMPARE(g.groups[std::size_t(layer1.parent)].scope, std::string("layers"));
    QVERIFY(layer1.totalNodes > 5);
    QCOMPARE(layer1.depth, 2);
}

void TestGraph::groupsOrderNumbersAsNumbers() {
    std::vector<twb::GraphNode> nodes(3);
    nodes[0].scope = "layers.10.fc";
    nodes[1].scope = "layers.2";
    nodes[2].scope = "layers.2.fc";
    const auto groups = twb::groupByModule(nodes);
    std::vector<std::string> order;
    for (const auto& g : groups)
        order.push_back(g.scope);
    QCOMPARE(order, (std::vector<std::string>{"", "layers", "layers.2", "layers.2.fc", "layers.10",
                                              "layers.10.fc"}));
    QCOMPARE(groups[1].totalNodes, 3);
    QCOMPARE(groups[2].totalNodes, 2);
    // Any names, as a file may carry them, in one strict order: numbers first, by value, then names.
    std::vector<twb::GraphNode> odd(6);
    const char* names[] = {"10a", "a", "10", "2", "1", "01"};
    for (std::size_t i = 0; i < odd.size(); ++i)
        odd[i].scope = names[i];
    order.clear();
    for (const auto& g : twb::groupByModule(odd))
        order.push_back(g.scope);
    QCOMPARE(order, (std::vector<std::string>{"", "01", "1", "2", "10", "10a", "a"}));
}

// resnet18 traced by Python, as users export it: about ten boxes at the top (conv1, bn1, relu, maxpool,
// layer1-4, avgpool, fc), opening into blocks and their layers.
void TestGraph::resnet18ShowsItsTopLevelModules() {
    QTemporaryDir dir;
    QProcess make;
    make.start(qEnvironmentVariable("TWB_PYTHON", QStringLiteral("python3")),
               {QStringLiteral(TWB_TESTS_DIR "/perf/make_models.py"), dir.path()});
    if (!make.waitForFinished(180000) || make.exitCode() != 0)
        QSKIP(qPrintable("Python with torch cannot export the models here: " + make.readAllStandardError()));
    const twb::ModelGraph g = twb::modelGraph(twb::Model::load(dir.filePath("resnet18.pt").toStdString()));
    checkConsistent(g);
    std::set<std::string> top;
    for (const auto& group : g.groups)
        if (group.depth == 1) top.insert(group.scope);
    for (const char* scope : {"conv1", "bn1", "layer1", "layer4", "fc"})
        QVERIFY2(top.count(scope), scope);
    QVERIFY2(top.size() >= 8 && top.size() <= 12, std::to_string(top.size()).c_str());
    const auto s = scopes(g);
    QVERIFY(std::find(s.begin(), s.end(), "layer1.0.conv1") != s.end());
    QVERIFY(g.nodes.size() > 50);
}

void TestGraph::packagesHaveNoGraph() {
    if (!twb::buildInfo().aotiPackages) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    try {
        twb::modelGraph(twb::Model::load(TWB_DATA("cnn_aoti.pt2")));
        QFAIL("a package gave a graph");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "AOTInductor package"), e.what());
    }
}

// A torch.export.save archive (the MLP with a dynamic batch): its graph read from models/model.json, with
// TorchScript's operator names, modules from the module stack, lines from the stack trace, and shapes.
void TestGraph::exportedProgramGraphIsReadAsData() {
    const twb::ModelGraph g = twb::exportedProgramGraph(TWB_DATA("mlp_exported.pt2"));
    checkConsistent(g);
    QCOMPARE(g.inputs.size(), std::size_t(1));
    const twb::GraphValue& x = g.values[std::size_t(g.inputs[0])];
    QCOMPARE(x.name, std::string("x"));
    QCOMPARE(x.dtype, std::string("float32"));
    QCOMPARE(x.shape.size(), std::size_t(2));
    QCOMPARE(x.shape[0], int64_t(-1)); // the dynamic batch
    QCOMPARE(g.nodes.size(), std::size_t(3));
    const twb::GraphNode& fc1 = g.nodes[0];
    QCOMPARE(fc1.kind, std::string("aten::linear"));
    QCOMPARE(fc1.scope, std::string("fc1"));
    QCOMPARE(fc1.scopeType, std::string("Linear"));
    QVERIFY2(twbtest::contains(fc1.location, "linear.py:"), fc1.location.c_str());
    QVERIFY2(twbtest::contains(fc1.code, "F.linear"), fc1.code.c_str());
    std::string arguments;
    for (const auto& a : fc1.arguments)
        arguments += a + "; ";
    QVERIFY2(twbtest::contains(arguments, "weight = fc1.weight"), arguments.c_str());
    QCOMPARE(fc1.inputs, std::vector<int>{g.inputs[0]});
    const twb::GraphNode& relu = g.nodes[1];
    QCOMPARE(relu.kind, std::string("aten::relu"));
    QVERIFY(relu.scope.empty());
    QVERIFY2(twbtest::contains(relu.location, "make_fixtures.py:"), relu.location.c_str());
    QCOMPARE(relu.inputs, fc1.outputs);
    QCOMPARE(scopes(g), (std::vector<std::string>{"", "fc1", "fc2"}));
    QCOMPARE(g.outputs, g.nodes[2].outputs);
    QCOMPARE(g.values[std::size_t(g.outputs[0])].shape.size(), std::size_t(2));
}

void TestGraph::damagedExportedProgramIsRefused() {
    // A model.json nested 100,000 deep is refused, not followed down the stack.
    QTemporaryDir dir;
    const QString deep = dir.filePath("deep.pt2");
    QProcess make;
    make.start(QStringLiteral("python3"),
               {QStringLiteral("-c"),
                QStringLiteral("import sys, zipfile\n"
                               "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
                               "    z.writestr('deep/models/model.json', '[' * 100000)\n"),
                deep});
    QVERIFY(make.waitForFinished(30000) && make.exitCode() == 0);
    try {
        twb::exportedProgramGraph(deep.toStdString());
        QFAIL("a graph nested 100,000 deep was read");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "deeper than"), e.what());
    }
    // exported.pt2's models/model.json is "{}"; an AOTInductor package keeps none.
    for (const char* file : {"exported.pt2", "cnn_aoti.pt2"}) {
        try {
            twb::exportedProgramGraph(TWB_DATA(file));
            QFAIL(file);
        } catch (const twb::Error& e) {
            QVERIFY2(twbtest::contains(e.what(), file), e.what());
            QVERIFY2(twbtest::contains(e.what(), "damaged") || twbtest::contains(e.what(), "keeps no"),
                     e.what());
        }
    }
}

TWB_TEST_MAIN(TestGraph)
#include "tst_graph.moc"
