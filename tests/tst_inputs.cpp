// Matching inputs to forward's schema: by position, by name, by a
// multi-tensor file's keys; conversions the schema asks for; one-sentence errors.
#include "test_support.h"

#include "twb/error.h"
#include "twb/generate.h"
#include "twb/model.h"

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

TWB_TEST_MAIN(TestInputs)
#include "tst_inputs.moc"
