// TorchScript models exported by Python: what inspection shows, and that
// running them reproduces Python's outputs.
#include "test_support.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/model.h"

class TestModel : public QObject {
    Q_OBJECT
private slots:
    void quantizedModelPacksForAnEngineThisLibTorchHas();
    void inspectScripted();
    void inspectTraced();
    void submoduleTree();
    void loadRefusesNonTorchScript_data();
    void loadRefusesNonTorchScript();
    void reproducesPython_data();
    void reproducesPython();
    void nestedAndDictOutputs();
    void savedOnCudaRunsOnCpu();
};

namespace {
twb::Value runWith(const twb::Model& model, std::vector<twb::ProvidedInput> inputs) {
    const twb::InputBinding b = model.bindInputs(inputs);
    if (!b.ok) throw twb::Error(b.error);
    return model.forward(b);
}
twb::ProvidedInput file(const char* name, const char* argument = "") {
    return {argument, twb::readTensorFile(TWB_DATA(name)), name};
}
} // namespace

void TestModel::inspectScripted() {
    const twb::Model m = twb::Model::load(TWB_DATA("two_inputs.pt"));
    const auto& info = m.info();
    QCOMPARE(info.className, std::string("TwoInputs"));
    QCOMPARE(info.inputs.size(), std::size_t(3));
    QCOMPARE(info.inputs[0].name, std::string("x"));
    QCOMPARE(info.inputs[0].type, std::string("Tensor"));
    QCOMPARE(info.inputs[2].name, std::string("scale"));
    QCOMPARE(info.inputs[2].type, std::string("float"));
    QVERIFY(info.inputs[2].hasDefault);
    QCOMPARE(std::stod(info.inputs[2].defaultValue), 1.0);
    QCOMPARE(info.returnType, std::string("Tuple[Tensor, Tensor]"));
    QVERIFY2(twbtest::contains(info.methods.at(0).schema, "forward("), info.methods.at(0).schema.c_str());
    QVERIFY2(twbtest::contains(info.code, "def forward"), info.code.c_str());
    QCOMPARE(info.savedDevices, std::vector<std::string>{"cpu"});
    QVERIFY(!info.savedOnCuda);
    QCOMPARE(info.diagnosis.formatVersion, int64_t(3));

    const auto tokens = twb::Model::load(TWB_DATA("tokens.pt")).info();
    QCOMPARE(tokens.inputs.at(1).type, std::string("int"));
}

void TestModel::inspectTraced() {
    const auto info = twb::Model::load(TWB_DATA("mlp_traced.pt")).info();
    QCOMPARE(info.className, std::string("Mlp"));
    QCOMPARE(info.extraFiles, std::vector<std::string>{"producer.txt"});
    QCOMPARE(info.parameters.count, int64_t(430));
    QCOMPARE(info.parameters.dtypes.size(), std::size_t(1));
    QCOMPARE(info.parameters.dtypes[0].first, std::string("float32"));
}

void TestModel::submoduleTree() {
    const auto info = twb::Model::load(TWB_DATA("cnn_scripted.pt")).info();
    QCOMPARE(info.tree.children.size(), std::size_t(3));
    QCOMPARE(info.tree.children[0].name, std::string("conv"));
    QCOMPARE(info.tree.children[0].type, std::string("torch.nn.modules.conv.Conv2d"));
    QCOMPARE(info.tree.children[0].parameters, int64_t(224));
    QCOMPARE(info.tree.parameters, int64_t(285));
    QCOMPARE(info.buffers.tensors, int64_t(3)); // running_mean, running_var, num_batches_tracked
}

void TestModel::loadRefusesNonTorchScript_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("says");
    QTest::newRow("state_dict") << "cnn_state_dict.pth"
                                << "load this file into it";
    QTest::newRow("pickled module") << "cnn_pickled_module.pt"
                                    << "torch.jit.script";
    QTest::newRow("too new") << "too_new.pt"
                             << "99";
    QTest::newRow("truncated") << "truncated.pt"
                               << "truncated.pt";
}

void TestModel::loadRefusesNonTorchScript() {
    QFETCH(QString, file);
    QFETCH(QString, says);
    try {
        twb::Model::load(TWB_DATA(file.toStdString()));
        QFAIL("loaded");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), says.toStdString()), e.what());
    }
}

void TestModel::reproducesPython_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("traced mlp, npy") << "mlp_traced.pt"
                                     << "mlp_x.npy"
                                     << "mlp_expected.npy";
    QTest::newRow("traced mlp, npz") << "mlp_traced.pt"
                                     << "mlp_x_compressed.npz"
                                     << "mlp_expected.npy";
    QTest::newRow("traced mlp, safetensors") << "mlp_traced.pt"
                                             << "mlp_x.safetensors"
                                             << "mlp_expected.npy";
    QTest::newRow("traced mlp, torch.save") << "mlp_traced.pt"
                                            << "mlp_x.pt"
                                            << "mlp_expected.npy";
    QTest::newRow("traced mlp, csv") << "mlp_traced.pt"
                                     << "mlp_x.csv"
                                     << "mlp_expected.npy";
    QTest::newRow("scripted cnn with batch-norm") << "cnn_scripted.pt"
                                                  << "cnn_x.npy"
                                                  << "cnn_expected.npy";
    QTest::newRow("bundled sample") << "../../resources/sample/sample_cnn.pt"
                                    << "../../resources/sample/sample_input.npy"
                                    << "../../resources/sample/sample_expected.npy";
}

void TestModel::reproducesPython() {
    QFETCH(QString, model);
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const twb::Model m = twb::Model::load(TWB_DATA(model.toStdString()));
    const twb::Value out = runWith(m, {file(input.toUtf8().constData())});
    const std::string why = twbtest::compareToFile(out, TWB_DATA(expected.toStdString()), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());
    // Logits [batch, classes]: the summary names row 0's top classes, highest first.
    const auto s = out.summary();
    const auto row0 = twb::readTensorFile(TWB_DATA(expected.toStdString())).toDoubles();
    QCOMPARE(s.topk.size(), std::size_t(std::min<int64_t>(5, s.shape.at(1))));
    const auto best = std::max_element(row0.begin(), row0.begin() + s.shape.at(1));
    QCOMPARE(s.topk[0].first, int64_t(best - row0.begin()));
    for (std::size_t i = 1; i < s.topk.size(); ++i)
        QVERIFY(s.topk[i - 1].second >= s.topk[i].second);
}

void TestModel::nestedAndDictOutputs() {
    const twb::Model nested = twb::Model::load(TWB_DATA("nested_out.pt"));
    const twb::Value out = runWith(nested, {file("mlp_x.npy")});
    const auto leaves = out.leaves();
    QCOMPARE(leaves.size(), std::size_t(4));
    QCOMPARE(leaves[0].path, std::string("out[0]"));
    QCOMPARE(leaves[3].path, std::string("out[1][1][1]"));
    const auto x = twb::readTensorFile(TWB_DATA("mlp_x.npy")).toDoubles();
    const auto doubled = out.at(1).at(1).at(0).toDoubles();
    for (std::size_t i = 0; i < x.size(); ++i)
        QCOMPARE(doubled[i], x[i] * 2.0);

    const twb::Model dict = twb::Model::load(TWB_DATA("dict_out.pt"));
    const twb::Value d = runWith(dict, {file("two_inputs_x.npy"), file("two_inputs_y.npy")});
    QCOMPARE(d.kind(), twb::Value::Kind::Dict);
    QCOMPARE(d.leaves()[0].path, std::string("out[\"sum\"]"));
    QCOMPARE(d.leaves()[1].path, std::string("out[\"prod\"]"));

    // A NamedTuple keeps its field names in the description; its leaves are indexed as a tuple's.
    const twb::Model named = twb::Model::load(TWB_DATA("namedtuple_out.pt"));
    const twb::Value p = runWith(named, {file("mlp_x.npy")});
    QVERIFY2(
        twbtest::contains(p.describe(), "Prediction(score=Tensor[2] float32, parts=[Tensor[2, 10] float32"),
        p.describe().c_str());
    QCOMPARE(p.leaves()[2].path, std::string("out[1][1]"));
    QCOMPARE(float(p.at(1).at(1).toDoubles()[0]),
             float(twb::readTensorFile(TWB_DATA("mlp_x.npy")).toDoubles()[0]) - 1.0f);
}

void TestModel::savedOnCudaRunsOnCpu() {
    const twb::Model m = twb::Model::load(TWB_DATA("cuda_saved.pt"));
    QVERIFY(m.info().savedOnCuda);
    QCOMPARE(m.info().savedDevices, std::vector<std::string>{"cuda:0"});
    const std::string why =
        twbtest::compareToFile(runWith(m, {file("mlp_x.npy")}), TWB_DATA("mlp_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
}

// A dynamically quantized MLP saved by PyTorch 2.13: its int8 weights are packed for this process's
// engine as it loads, which is named; with no engine set, loading sets one this LibTorch has.
void TestModel::quantizedModelPacksForAnEngineThisLibTorchHas() {
    const auto engines = twb::buildInfo().quantizedEngines;
    QVERIFY(!engines.empty());
    QVERIFY(std::find(engines.begin(), engines.end(), "none") == engines.end());
    const auto check = [&] {
        const twb::Model m = twb::Model::load(TWB_DATA("mlp_quantized.pt"));
        QVERIFY(std::find(engines.begin(), engines.end(), m.info().quantizedEngine) != engines.end());
        QCOMPARE(m.info().quantizedEngine, twb::quantizedEngine());
        const auto b = m.bindInputs({{"", twb::readTensorFile(TWB_DATA("mlp_quantized_x.npy")), "x"}});
        QVERIFY2(b.ok, b.error.c_str());
        // Engines round differently (fbgemm's reduced range): close, not equal.
        const std::string why =
            twbtest::compareToFile(m.forward(b), TWB_DATA("mlp_quantized_expected.npy"), 0.05, 0.05);
        QVERIFY2(why.empty(), why.c_str());
    };
    check();
    QVERIFY(twb::Model::load(TWB_DATA("mlp_traced.pt")).info().quantizedEngine.empty());
    try {
        twb::setQuantizedEngine("tpu");
        QFAIL("an engine this LibTorch lacks was set");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "has no quantized engine 'tpu'; it has "), e.what());
    }
    // Every engine this LibTorch has packs and runs it.
    const std::string before = twb::quantizedEngine();
    for (const auto& e : engines) {
        twb::setQuantizedEngine(e);
        check();
        QCOMPARE(twb::quantizedEngine(), e);
    }
    // LibTorch 1.13 lets "none" be set, where a quantized model cannot load: loading picks one.
    try {
        twb::setQuantizedEngine("none");
        check();
        QVERIFY(twb::quantizedEngine() != "none");
    } catch (const twb::Error&) {
        // 2.x has no "none" to set.
    }
    twb::setQuantizedEngine(before);
}

TWB_TEST_MAIN(TestModel)
#include "tst_model.moc"
