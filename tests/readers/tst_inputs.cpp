// Matching inputs to forward's schema: by position, by name, by a
// multi-tensor file's keys; conversions the schema asks for; one-sentence errors.
#include "test_support.h"

#include "twb/error.h"
#include "twb/generate.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/suggest.h"

class TestInputs : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void positional();
    void byName();
    void multiTensorFileByKeys_data();
    void multiTensorFileByKeys();
    void scalarFromTensor();
    void listArgument();
    void dictAndOptionalArguments();
    void mismatches_data();
    void mismatches();
    void tupleArgumentFromItsElements_data();
    void tupleArgumentFromItsElements();
    void tupleElementMistakes_data();
    void tupleElementMistakes();
    void suggestionsAreTypedByFirstUse();
    void shapesAreSuggestedFromWhatTheModelHolds_data();
    void shapesAreSuggestedFromWhatTheModelHolds();
    void quantizedLayersAreSuggestedFromTheirPackedWeights_data();
    void quantizedLayersAreSuggestedFromTheirPackedWeights();
    void dtypeFirstUseDoesNotNeedIsSaid();
    void overloadedForwardIsExplained();

private:
    std::unique_ptr<twb::Model> m_two;
};

namespace {
twb::ProvidedInput in(const char* file, const char* arg = "") {
    return {arg, twb::readTensorFile(TWB_DATA(file)), file};
}
twb::ProvidedInput gen(const char* spec, const char* arg = "") {
    return {arg, twb::generate(twb::GeneratorSpec::parse(spec)), spec};
}
} // namespace

void TestInputs::initTestCase() {
    m_two = std::make_unique<twb::Model>(twb::Model::load(TWB_DATA("two_inputs.pt")));
}

void TestInputs::positional() {
    const auto b = m_two->bindInputs({in("two_inputs_x.npy"), in("two_inputs_y.npy")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments.size(), std::size_t(2)); // scale keeps its default
    QCOMPARE(b.arguments[0].argument, std::string("x"));
    QCOMPARE(b.arguments[1].argument, std::string("y"));
    const std::string why =
        twbtest::compareToFile(m_two->forward(b).at(0), TWB_DATA("two_inputs_expected0.npy"), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());
}

void TestInputs::byName() {
    // Named out of order, with the defaulted scale given as a 0-d tensor.
    const auto b = m_two->bindInputs(
        {in("two_inputs_y.npy", "y"), gen("ones:scalar:float64", "scale"), in("two_inputs_x.npy", "x")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments.size(), std::size_t(3));
    QCOMPARE(b.arguments[0].source, std::string("two_inputs_x.npy"));
    QCOMPARE(b.arguments[2].value.toDouble(), 1.0);
}

void TestInputs::multiTensorFileByKeys_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("npz") << "two_inputs_xy.npz";
    QTest::newRow("safetensors, keys in another order") << "two_inputs_xy.safetensors";
    QTest::newRow("torch.save dict") << "two_inputs_xy.pt";
}

void TestInputs::multiTensorFileByKeys() {
    QFETCH(QString, file);
    const auto b = m_two->bindInputs({in(file.toUtf8().constData()), gen("ones:scalar:float64:", "scale")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments[0].argument, std::string("x"));
    const twb::Value out = m_two->forward(b);
    const std::string why =
        twbtest::compareToFile(out.at(0), TWB_DATA("two_inputs_expected0.npy"), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());
    // Aimed at one of its keys' arguments (as the GUI's rows do), the file still feeds them all.
    const auto aimed = m_two->bindInputs({in(file.toUtf8().constData(), "x")});
    QVERIFY2(aimed.ok, aimed.error.c_str());
    QCOMPARE(aimed.arguments.size(), std::size_t(2));
    // scale = 2.5 given as a float tensor reproduces Python's second output.
    const auto b25 =
        m_two->bindInputs({in(file.toUtf8().constData()), {"scale", twb::makeTensor({2.5}, {}), "2.5"}});
    QVERIFY2(b25.ok, b25.error.c_str());
    const std::string why2 = twbtest::compareToFile(
        m_two->forward(b25).at(1), TWB_DATA("two_inputs_expected1_scale2.5.npy"), 1e-5, 1e-5);
    QVERIFY2(why2.empty(), why2.c_str());
}

void TestInputs::scalarFromTensor() {
    const twb::Model tokens = twb::Model::load(TWB_DATA("tokens.pt"));
    const auto b = tokens.bindInputs({in("tokens_ids.npy"), in("tokens_count.npy")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments[1].value.kind(), twb::Value::Kind::Int);
    QCOMPARE(b.arguments[1].value.toInt(), int64_t(4));
    const std::string why =
        twbtest::compareToFile(tokens.forward(b), TWB_DATA("tokens_expected.npy"), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());
    // A fractional value is no int.
    const auto bad = tokens.bindInputs({in("tokens_ids.npy"), {"", twb::makeTensor({2.5}, {}), "2.5"}});
    QVERIFY(!bad.ok);
    QVERIFY2(twbtest::contains(bad.error, "whole number"), bad.error.c_str());
}

void TestInputs::listArgument() {
    const twb::Model m = twb::Model::load(TWB_DATA("list_in.pt"));
    const auto b = m.bindInputs({in("list_in_xs.pt")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(m.forward(b).toDoubles(), (std::vector<double>{4, 4, 4, 4}));
    // A tuple converts to the List[Tensor] forward declares.
    const twb::Value tuple = twb::makeTuple({twb::makeTensor({1, 2}, {2}), twb::makeTensor({3, 4}, {2})});
    const auto t = m.bindInputs({{"", tuple, "tuple"}});
    QVERIFY2(t.ok, t.error.c_str());
    QCOMPARE(m.forward(t).toDoubles(), (std::vector<double>{4, 6}));
    // Its elements one by one, by name: xs.0, xs.1.
    const auto elements = m.bindInputs({gen("full:2:value=1", "xs.0"), gen("full:2:value=3", "xs.1")});
    QVERIFY2(elements.ok, elements.error.c_str());
    QCOMPARE(elements.arguments[0].type, std::string("List[Tensor]"));
    QCOMPARE(m.forward(elements).toDoubles(), (std::vector<double>{4, 4}));
    const auto gap = m.bindInputs({gen("full:2:value=1", "xs.0"), gen("full:2:value=3", "xs.2")});
    QVERIFY(!gap.ok);
    QVERIFY2(twbtest::contains(gap.error, "needs element xs.1 too"), gap.error.c_str());
}

void TestInputs::dictAndOptionalArguments() {
    // forward(x: Tensor, extra: Dict[str, Tensor], mask: Optional[Tensor] = None)
    const twb::Model m = twb::Model::load(TWB_DATA("dict_optional.pt"));
    // An npz whose keys are not argument names feeds the Dict argument whole.
    const auto b = m.bindInputs({in("dict_optional_x.npy"), in("dict_optional_extra.npz")});
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments.size(), std::size_t(2));
    QCOMPARE(b.arguments[1].type, std::string("Dict[str, Tensor]"));
    QCOMPARE(m.forward(b).toDoubles(), (std::vector<double>{0.5, 1.5, 2.5, 3.5, 4.5, 5.5}));
    const auto masked = m.bindInputs({in("dict_optional_x.npy"), in("dict_optional_extra.npz"),
                                      gen("arange:2x3:float32:start=0", "mask")});
    QVERIFY2(masked.ok, masked.error.c_str());
    QCOMPARE(m.forward(masked).toDoubles(), (std::vector<double>{0, 1.5, 5, 10.5, 18, 27.5}));
}

void TestInputs::mismatches_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("argName");
    QTest::addColumn<QString>("says");
    QTest::newRow("too few") << 1 << ""
                             << "forward needs 'y' (Tensor)";
    QTest::newRow("too many")
        << 4 << ""
        << "forward takes 3 inputs (x: Tensor, y: Tensor, scale: float) but 4 were given";
    QTest::newRow("unknown name") << 2 << "z"
                                  << "no argument named 'z' (it takes x: Tensor, y: Tensor, scale: float)";
    QTest::newRow("given twice") << 2 << "x*"
                                 << "argument 'x' is given twice";
}

void TestInputs::mismatches() {
    QFETCH(int, count);
    QFETCH(QString, argName);
    QFETCH(QString, says);
    std::vector<twb::ProvidedInput> inputs;
    for (int i = 0; i < count; ++i)
        inputs.push_back(in("two_inputs_x.npy"));
    // "x*" names every input x; "x" names the last one.
    if (argName.endsWith('*'))
        for (auto& i : inputs)
            i.argument = argName.chopped(1).toStdString();
    else if (!argName.isEmpty())
        inputs.back().argument = argName.toStdString();
    const auto b = m_two->bindInputs(inputs);
    QVERIFY(!b.ok);
    QVERIFY2(twbtest::contains(b.error, says.toStdString()), b.error.c_str());

    const auto wrongType = m_two->bindInputs({in("list_in_xs.pt"), in("two_inputs_y.npy")});
    QVERIFY(!wrongType.ok);
    QVERIFY2(twbtest::contains(wrongType.error, "forward wants Tensor"), wrongType.error.c_str());
}

namespace {
// forward(x, hc: Tuple[Tensor, Tensor]) of a scripted two-layer LSTM, and what Python gave for it.
void expectRnnOutputs(const twb::Model& m, const twb::InputBinding& b) {
    QVERIFY2(b.ok, b.error.c_str());
    QCOMPARE(b.arguments.size(), std::size_t(2));
    QCOMPARE(b.arguments[1].argument, std::string("hc"));
    QCOMPARE(b.arguments[1].value.kind(), twb::Value::Kind::Tuple);
    const twb::Value out = m.forward(b);
    const std::string why = twbtest::compareValueToFile(out, TWB_DATA("rnn_expected.pt"), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());
}
} // namespace

void TestInputs::tupleArgumentFromItsElements_data() {
    QTest::addColumn<QStringList>("inputs"); // [NAME=]FILE, as -i takes them
    QTest::newRow("elements by name") << QStringList{"x=rnn_x.npy", "hc.0=rnn_h0.npy", "hc.1=rnn_c0.npy"};
    QTest::newRow("elements by name, out of order")
        << QStringList{"hc.1=rnn_c0.npy", "x=rnn_x.npy", "hc.0=rnn_h0.npy"};
    QTest::newRow("by position") << QStringList{"rnn_x.npy", "rnn_h0.npy", "rnn_c0.npy"};
    QTest::newRow("a .pt holding the tuple") << QStringList{"rnn_x.npy", "rnn_hc.pt"};
    QTest::newRow("x by position, elements by name")
        << QStringList{"hc.0=rnn_h0.npy", "rnn_x.npy", "hc.1=rnn_c0.npy"};
}

void TestInputs::tupleArgumentFromItsElements() {
    QFETCH(QStringList, inputs);
    const twb::Model m = twb::Model::load(TWB_DATA("rnn_state.pt"));
    std::vector<twb::InputSpec> specs;
    for (const QString& text : inputs) {
        const auto eq = text.indexOf('=');
        specs.push_back(twb::InputSpec::parse(
            (eq < 0 ? QString::fromStdString(TWB_DATA("")) + text
                    : text.left(eq + 1) + QString::fromStdString(TWB_DATA("")) + text.mid(eq + 1))
                .toStdString()));
    }
    const auto b = m.bindInputs(twb::readInputs(specs));
    expectRnnOutputs(m, b);
    // The report records each element with the shape it was bound with.
    for (const auto& ref : twb::describeInputs(specs, b))
        if (ref.argument.rfind("hc.", 0) == 0) QCOMPARE(ref.shape, (std::vector<int64_t>{2, 1, 12}));
}

void TestInputs::tupleElementMistakes_data() {
    QTest::addColumn<QStringList>("inputs");
    QTest::addColumn<QString>("says");
    QTest::newRow("an element missing")
        << QStringList{"x=rnn_x.npy", "hc.0=rnn_h0.npy"}
        << "'hc' (Tuple[Tensor, Tensor]) needs element hc.1 too: give it as hc.1=FILE";
    QTest::newRow("one element too many")
        << QStringList{"x=rnn_x.npy", "hc.0=rnn_h0.npy", "hc.1=rnn_c0.npy", "hc.2=rnn_c0.npy"}
        << "'hc' is Tuple[Tensor, Tensor], with 2 elements, but hc.2 was given";
    QTest::newRow("an element twice")
        << QStringList{"x=rnn_x.npy", "hc.0=rnn_h0.npy", "hc.0=rnn_c0.npy"} << "'hc.0' is given twice";
    QTest::newRow("an element of a tensor")
        << QStringList{"x.0=rnn_x.npy"} << "'x' is Tensor, not a tuple or list: give it as x=FILE";
    QTest::newRow("the whole and its elements")
        << QStringList{"x=rnn_x.npy", "hc=rnn_hc.pt", "hc.0=rnn_h0.npy", "hc.1=rnn_c0.npy"}
        << "argument 'hc' is given twice";
    QTest::newRow("a tensor for the tuple") << QStringList{"rnn_x.npy", "rnn_h0.npy"}
                                            << "forward wants Tuple[Tensor, Tensor]: give its elements as "
                                               "hc.0=FILE hc.1=FILE, or a .pt file holding the tuple";
}

void TestInputs::tupleElementMistakes() {
    QFETCH(QStringList, inputs);
    QFETCH(QString, says);
    const twb::Model m = twb::Model::load(TWB_DATA("rnn_state.pt"));
    std::vector<twb::ProvidedInput> provided;
    for (const QString& text : inputs) {
        const auto eq = text.indexOf('=');
        const QString file = eq < 0 ? text : text.mid(eq + 1);
        provided.push_back(in(qPrintable(file)));
        provided.back().argument = eq < 0 ? std::string() : text.left(eq).toStdString();
        provided.back().source = file.toStdString();
    }
    const auto b = m.bindInputs(provided);
    QVERIFY(!b.ok);
    QVERIFY2(twbtest::contains(b.error, says.toStdString()), b.error.c_str());
}

// What the first use of each argument says: an LSTM's input and the state tuple's elements from its
// weights, int64 ids from an Embedding, a bool mask from masked_fill. Each suggestion binds and runs.
void TestInputs::suggestionsAreTypedByFirstUse() {
    const twb::Model rnn = twb::Model::load(TWB_DATA("rnn_state.pt"));
    const auto& hc = rnn.info().inputs.at(1);
    QCOMPARE(hc.elements.size(), std::size_t(2));
    QCOMPARE(hc.elements[0].name, std::string("hc.0"));
    QCOMPARE(hc.elements[0].suggested, std::string("zeros:2x1x12:float32"));
    QCOMPARE(hc.elements[1].suggested, std::string("zeros:2x1x12:float32"));
    QVERIFY(hc.suggestionFound);
    QCOMPARE(rnn.info().inputs.at(0).suggested, std::string("normal:8x1x6:float32"));
    QCOMPARE(rnn.info().inputs.at(0).neededDtype, std::string("float32"));
    const auto rnnSpecs = twb::completeWithSuggestions(rnn, {});
    QCOMPARE(rnnSpecs.size(), std::size_t(3));
    const auto rb = rnn.bindInputs(twb::readInputs(rnnSpecs));
    QVERIFY2(rb.ok, rb.error.c_str());
    QVERIFY(rb.warnings.empty());
    QCOMPARE(rnn.forward(rb).at(1).shape(), (std::vector<int64_t>{2, 1, 12}));
    // An element given by name leaves the other element suggested, and x.
    const auto partial = twb::completeWithSuggestions(
        rnn, {twb::InputSpec::parse(std::string("hc.0=") + TWB_DATA("rnn_h0.npy"))});
    QCOMPARE(partial.size(), std::size_t(3));
    QCOMPARE(partial[2].argument, std::string("hc.1"));
    QVERIFY(rnn.bindInputs(twb::readInputs(partial)).ok);

    const twb::Model masked = twb::Model::load(TWB_DATA("masked.pt"));
    const auto& ids = masked.info().inputs.at(0);
    const auto& mask = masked.info().inputs.at(1);
    QCOMPARE(ids.suggested, std::string("randint:1x16:int64:low=0:high=50"));
    QCOMPARE(ids.neededDtype, std::string("int64"));
    QCOMPARE(mask.suggested, std::string("zeros:1x16:bool"));
    QCOMPARE(mask.neededDtype, std::string("bool"));
    QCOMPARE(mask.neededBy, std::string("masked_fill's mask"));
    const auto mb = masked.bindInputs(twb::readInputs(twb::completeWithSuggestions(masked, {})));
    QVERIFY2(mb.ok && mb.warnings.empty(), mb.error.c_str());
    QCOMPARE(masked.forward(mb).shape(), (std::vector<int64_t>{1, 2}));
}

// A pre-norm block's LayerNorm (its shape a list the graph builds of constants), nn.MultiheadAttention's
// fast path (batch first, and its padding mask as long as the sequence), and a product with a weight inside
// a loop (the value the loop carries is the one given it). Each binds and runs.
void TestInputs::shapesAreSuggestedFromWhatTheModelHolds_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("fallback"); // the same model as LibTorch 1.13 can load it
    QTest::addColumn<QStringList>("suggested");
    QTest::newRow("pre-norm block, scripted")
        << "attention_scripted.pt" << "" << QStringList{"normal:1x8x16"};
    QTest::newRow("pre-norm block, traced") << "attention_traced.pt" << "" << QStringList{"normal:1x8x16"};
    QTest::newRow("nn.MultiheadAttention") << "mha_scripted.pt" << "mha_scripted_113.pt"
                                           << QStringList{"normal:1x16x12:float32", "zeros:1x16:bool"};
    QTest::newRow("nn.MultiheadAttention, sequence first")
        << "mha_seq_first.pt" << "" << QStringList{"normal:16x1x12:float32", "zeros:1x16:bool"};
    QTest::newRow("y = tanh(y @ w), n times") << "fixed_work.pt" << "" << QStringList{"normal:1x160:float32"};
    // Its side from its position embedding's 17 places (16 patches of 8 and a class token), not 224.
    QTest::newRow("vision transformer, traced")
        << "vit_traced.pt" << "" << QStringList{"normal:1x3x32x32:float32"};
    QTest::newRow("vision transformer, frozen")
        << "vit_frozen.pt" << "" << QStringList{"normal:1x3x32x32:float32"};
    // The side the Linear after flatten takes, through convolutions and poolings (no adaptive pooling).
    QTest::newRow("CIFAR-10 tutorial net, scripted")
        << "cifar_net_scripted.pt" << "" << QStringList{"normal:1x3x32x32:float32"};
    QTest::newRow("CIFAR-10 tutorial net, view(-1, 400), traced")
        << "cifar_net_view.pt" << "" << QStringList{"normal:1x3x32x32:float32"};
    QTest::newRow("MNIST example net, frozen")
        << "mnist_net_frozen.pt" << "" << QStringList{"normal:1x1x28x28:float32"};
    QTest::newRow("uneven poolings, as functions")
        << "uneven_pools.pt" << "" << QStringList{"normal:1x3x48x48:float32"};
    // A trunk that branches: residual sums (summed in place, the shortcut a strided convolution where the
    // side halves) and channels joined. Of the sides that fit, the one images are made in.
    QTest::newRow("CIFAR ResNet, scripted")
        << "cifar_resnet_scripted.pt" << "" << QStringList{"normal:1x3x16x16:float32"};
    QTest::newRow("CIFAR ResNet, frozen")
        << "cifar_resnet_frozen.pt" << "" << QStringList{"normal:1x3x16x16:float32"};
    QTest::newRow("CIFAR ResNet, traced")
        << "cifar_resnet_traced.pt" << "" << QStringList{"normal:1x3x16x16:float32"};
    QTest::newRow("channels joined, traced")
        << "dense_join.pt" << "" << QStringList{"normal:1x1x12x12:float32"};
    // A signal's length, as an image's side: conv1d and max_pool1d (a module's and F's) to the Linear.
    QTest::newRow("signal classifier, 1-d") << "signal_net.pt" << "" << QStringList{"normal:1x1x128:float32"};
    QTest::newRow("a branch a module attribute picks")
        << "flag_pooled.pt" << "" << QStringList{"normal:1x3x28x28:float32"};
    QTest::newRow("quantized convolution and Linear, traced")
        << "quantized_conv_fc.pt" << "" << QStringList{"normal:1x3x16x16:float32"};
    // A list of images, each batched by the model: one image, without its batch dimension.
    QTest::newRow("detector, a list of images")
        << "detector_list.pt" << "" << QStringList{"normal:3x224x224:float32"};
}

void TestInputs::shapesAreSuggestedFromWhatTheModelHolds() {
    QFETCH(QString, file);
    QFETCH(QString, fallback);
    QFETCH(QStringList, suggested);
    std::string path = TWB_DATA(file.toStdString());
    if (!twb::inspectModelFile(path).diagnosis.usable) {
        if (fallback.isEmpty()) QSKIP("calls operators this LibTorch lacks (tst_diagnosis says which)");
        path = TWB_DATA(fallback.toStdString());
    }
    const twb::Model m = twb::Model::load(path);
    QCOMPARE(m.info().inputs.size(), std::size_t(suggested.size()));
    for (int i = 0; i < suggested.size(); ++i) {
        const auto& a = m.info().inputs[std::size_t(i)];
        QVERIFY2(a.suggestionFound, a.suggestedReason.c_str());
        QCOMPARE(QString::fromStdString(a.suggested), suggested[i]);
    }
    const auto b = m.bindInputs(twb::readInputs(twb::completeWithSuggestions(m, {})));
    QVERIFY2(b.ok && b.warnings.empty(), b.error.c_str());
    QVERIFY(!m.forward(b).isNone());
}

// A quantized layer's weights are packed, and its input is quantized inside forward: the shape comes from
// the unpacked weights (a grouped convolution's groups too), and the input is float. Each binds and runs.
void TestInputs::quantizedLayersAreSuggestedFromTheirPackedWeights_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("suggested");
    QTest::addColumn<QString>("layer");
    QTest::addColumn<QVector<qint64>>("output");
    QTest::newRow("static conv, traced") << "conv_quantized.pt" << "normal:1x4x224x224:float32"
                                         << "Conv2d(4, 8)" << QVector<qint64>{1, 8, 222, 222};
    QTest::newRow("static conv1d, traced")
        << "conv1d_quantized.pt" << "normal:1x5x256:float32" << "Conv1d(5, 8)" << QVector<qint64>{1, 8, 254};
    QTest::newRow("dynamic LSTM, scripted")
        << "lstm_quantized.pt" << "normal:1x8x6:float32" << "LSTM(6, 12)" << QVector<qint64>{1, 3};
    QTest::newRow("dynamic Linear, scripted")
        << "mlp_quantized.pt" << "normal:1x10:float32" << "Linear(10, 20)" << QVector<qint64>{1, 10};
}

void TestInputs::quantizedLayersAreSuggestedFromTheirPackedWeights() {
    QFETCH(QString, file);
    QFETCH(QString, suggested);
    QFETCH(QString, layer);
    QFETCH(QVector<qint64>, output);
    const twb::Model m = twb::Model::load(TWB_DATA(file.toStdString()));
    const auto& x = m.info().inputs.at(0);
    QVERIFY2(x.suggestionFound, x.suggestedReason.c_str());
    QCOMPARE(QString::fromStdString(x.suggested), suggested);
    QVERIFY2(twbtest::contains(x.suggestedReason, layer.toStdString()), x.suggestedReason.c_str());
    QCOMPARE(x.neededDtype, std::string("float32"));
    const auto b = m.bindInputs(twb::readInputs(twb::completeWithSuggestions(m, {})));
    QVERIFY2(b.ok && b.warnings.empty(), b.error.c_str());
    const auto shape = m.forward(b).shape();
    QCOMPARE(QVector<qint64>(shape.begin(), shape.end()), output);
}

// Inputs that bind but that the first use cannot take as they are are said, one sentence each.
void TestInputs::dtypeFirstUseDoesNotNeedIsSaid() {
    const twb::Model masked = twb::Model::load(TWB_DATA("masked.pt"));
    const auto right = masked.bindInputs({in("masked_ids.npy"), in("masked_mask.npy")});
    QVERIFY2(right.ok, right.error.c_str());
    QVERIFY(right.warnings.empty());
    const std::string why =
        twbtest::compareToFile(masked.forward(right), TWB_DATA("masked_expected.npy"), 1e-5, 1e-5);
    QVERIFY2(why.empty(), why.c_str());

    const auto floatMask = masked.bindInputs({in("masked_ids.npy"), in("masked_mask_float.npy")});
    QVERIFY(floatMask.ok);
    QCOMPARE(floatMask.warnings.size(), std::size_t(1));
    QCOMPARE(floatMask.warnings[0],
             std::string("input 'mask' from masked_mask_float.npy is float32, but masked_fill's "
                         "mask, its first use, needs bool"));
    // int32 ids index as int64 ones do; float ids do not.
    const auto int32Ids = masked.bindInputs({gen("zeros:1x7:int32"), in("masked_mask.npy")});
    QVERIFY(int32Ids.ok && int32Ids.warnings.empty());
    const auto floatIds = masked.bindInputs({gen("zeros:1x7:float32"), in("masked_mask.npy")});
    QCOMPARE(floatIds.warnings.size(), std::size_t(1));
    QVERIFY2(twbtest::contains(floatIds.warnings[0],
                               "is float32, but Embedding(50, 8)'s ids, its first use, needs int64"),
             floatIds.warnings[0].c_str());
    // A float64 state for a float32 LSTM, element by element.
    const twb::Model rnn = twb::Model::load(TWB_DATA("rnn_state.pt"));
    const auto wide =
        rnn.bindInputs({in("rnn_x.npy"), gen("zeros:2x1x12:float64", "hc.0"), in("rnn_c0.npy", "hc.1")});
    QVERIFY(wide.ok);
    QCOMPARE(wide.warnings.size(), std::size_t(1));
    QVERIFY2(twbtest::contains(wide.warnings[0], "input 'hc.0' from zeros:2x1x12:float64 is float64, but "
                                                 "LSTM(6, 12)'s h0, its first use, needs float32"),
             wide.warnings[0].c_str());
}

// A bare nn.LSTM scripted as it is saves its overloaded forward as forward__0 and forward__1: it opens, and
// binding inputs to it says so, with the file, its methods and the fix, not LibTorch's backtrace.
void TestInputs::overloadedForwardIsExplained() {
    const twb::Model model = twb::Model::load(TWB_DATA("lstm_overloaded.pt"));
    std::string message;
    try {
        model.bindInputs({});
    } catch (const twb::Error& e) {
        message = e.what();
    }
    QVERIFY2(twbtest::contains(message, "lstm_overloaded.pt: the model has no forward method"),
             message.c_str());
    QVERIFY2(twbtest::contains(message, "forward__0, forward__1"), message.c_str());
    QVERIFY2(twbtest::contains(message, "trace it"), message.c_str());
    QVERIFY2(!twbtest::contains(message, "Exception raised from"), message.c_str());
}

TWB_TEST_MAIN(TestInputs)
#include "tst_inputs.moc"
