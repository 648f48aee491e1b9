// Loading a state_dict into a TorchScript module the way
// net.load_state_dict(torch.load('model.pth')) does, strict and not.
#include "test_support.h"

#include "twb/error.h"
#include "twb/model.h"

class TestStateDict : public QObject {
    Q_OBJECT
private slots:
    void strictLoadReproducesPython_data();
    void strictLoadReproducesPython();
    void strictRefusesAndChangesNothing();
    void nonStrictLoadsWhatMatches();
    void notAStateDict();

private:
    static twb::Value run(const twb::Model& m) {
        const auto b = m.bindInputs({{"", twb::readTensorFile(TWB_DATA("cnn_x.npy")), "cnn_x.npy"}});
        return m.forward(b);
    }
};

void TestStateDict::strictLoadReproducesPython_data() {
    QTest::addColumn<QString>("weights");
    QTest::newRow("torch.save(model.state_dict())") << "cnn_state_dict.pth";
    QTest::newRow("checkpoint dict") << "cnn_checkpoint.pth";
    QTest::newRow("safetensors") << "cnn_state_dict.safetensors";
}

void TestStateDict::strictLoadReproducesPython() {
    QFETCH(QString, weights);
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const std::string before = twbtest::compareToFile(run(m), TWB_DATA("cnn_state_dict_expected.npy"));
    QVERIFY2(!before.empty(), "the fixture's weights must differ from the model's");
    const twb::StateDictReport r = m.loadStateDict(TWB_DATA(weights.toStdString()), true);
    QVERIFY2(r.applied && r.clean(), r.describe().c_str());
    QCOMPARE(r.loaded, int64_t(9));
    const std::string after =
        twbtest::compareToFile(run(m), TWB_DATA("cnn_state_dict_expected.npy"), 1e-5, 1e-5);
    QVERIFY2(after.empty(), after.c_str());
}

void TestStateDict::strictRefusesAndChangesNothing() {
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport r = m.loadStateDict(TWB_DATA("cnn_state_dict_bad.pth"), true);
    QVERIFY(!r.applied);
    QCOMPARE(r.missing, std::vector<std::string>{"head.bias"});
    QCOMPARE(r.unexpected, std::vector<std::string>{"extra.weight"});
    QCOMPARE(r.mismatched.size(), std::size_t(1));
    QCOMPARE(r.mismatched[0].name, std::string("head.weight"));
    QCOMPARE(r.mismatched[0].expected, (std::vector<int64_t>{5, 8}));
    QCOMPARE(r.mismatched[0].got, (std::vector<int64_t>{5, 4}));
    const std::string text = r.describe();
    QVERIFY2(twbtest::contains(text, "Missing key(s) in state_dict: \"head.bias\""), text.c_str());
    QVERIFY2(twbtest::contains(text, "Unexpected key(s) in state_dict: \"extra.weight\""), text.c_str());
    QVERIFY2(twbtest::contains(text, "size mismatch for head.weight"), text.c_str());
    const std::string unchanged = twbtest::compareToFile(run(m), TWB_DATA("cnn_expected.npy"), 1e-5, 1e-5);
    QVERIFY2(unchanged.empty(), unchanged.c_str());
}

void TestStateDict::nonStrictLoadsWhatMatches() {
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport r = m.loadStateDict(TWB_DATA("cnn_state_dict_bad.pth"), false);
    QVERIFY(r.applied);
    QCOMPARE(r.loaded, int64_t(7)); // 9 minus head.bias (missing) and head.weight (mismatched)
    QVERIFY(!twbtest::compareToFile(run(m), TWB_DATA("cnn_expected.npy")).empty());
}

void TestStateDict::notAStateDict() {
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, m.loadStateDict(TWB_DATA("cnn_pickled_module.pt"), true));
    QVERIFY_THROWS_EXCEPTION(twb::Error, m.loadStateDict(TWB_DATA("cnn_scripted.pt"), true));
}

TWB_TEST_MAIN(TestStateDict)
#include "tst_state_dict.moc"
