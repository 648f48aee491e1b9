// Loading a state_dict into a TorchScript module the way
// net.load_state_dict(torch.load('model.pth')) does, strict and not.
#include "test_support.h"

#include "twb/error.h"
#include "twb/model.h"
#include "twb/tensor_io.h"

#include <QDir>
#include <QTemporaryDir>

class TestStateDict : public QObject {
    Q_OBJECT
private slots:
    void everyTensorHalvedLoadsAsPyTorchLoadsIt();
    void strictLoadReproducesPython_data();
    void strictLoadReproducesPython();
    void strictRefusesAndChangesNothing();
    void nonStrictLoadsWhatMatches();
    void notAStateDict();
    void prefixesAndConversionsAreReported();
    void lowPrecisionWeightsMatchPython_data();
    void lowPrecisionWeightsMatchPython();
    void checkpointsAreDescribed();
    void nothingInAPickleRuns();
    void theUserChoosesAmongSeveralStateDicts();

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
    // Saved the way training code saves them: numpy scalars and argparse.Namespace beside the weights.
    QTest::newRow("torchvision reference checkpoint") << "ckpt_torchvision.pth";
    QTest::newRow("timm checkpoint") << "ckpt_timm.pth";
    QTest::newRow("a class of the script's own") << "ckpt_main_class.pth";
    QTest::newRow("DataParallel module. keys") << "sd_dataparallel.pth";
    QTest::newRow("torch.compile _orig_mod. keys") << "sd_compiled.pth";
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

void TestStateDict::prefixesAndConversionsAreReported() {
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport dp = m.loadStateDict(TWB_DATA("sd_dataparallel.pth"), true);
    QCOMPARE(dp.strippedPrefix, std::string("module."));
    QCOMPARE(dp.stripped, int64_t(9));
    QVERIFY2(twbtest::contains(dp.describe(),
                               "Stripped the prefix 'module.' from 9 keys (saved from DataParallel/DDP)"),
             dp.describe().c_str());
    // Lightning keeps the weights under the LightningModule's attribute: the prefix is offered, then used.
    const twb::StateDictReport offered = m.loadStateDict(TWB_DATA("ckpt_lightning.ckpt"), true);
    QVERIFY(!offered.applied);
    QCOMPARE(offered.suggestedPrefix, std::string("model."));
    QVERIFY2(twbtest::contains(offered.describe(), "--strip-prefix model."), offered.describe().c_str());
    const twb::StateDictReport lightning = m.loadStateDict(TWB_DATA("ckpt_lightning.ckpt"), true, "model.");
    QVERIFY2(lightning.applied && lightning.clean(), lightning.describe().c_str());
    const std::string why = twbtest::compareToFile(run(m), TWB_DATA("cnn_state_dict_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
    const twb::StateDictReport half = m.loadStateDict(TWB_DATA("sd_float16.pth"), true);
    QVERIFY2(half.applied, half.describe().c_str());
    QVERIFY2(twbtest::contains(half.describe(), "tensors converted from float16 to float32"),
             half.describe().c_str());
    QCOMPARE(half.dtypeConverted.size(), std::size_t(8)); // num_batches_tracked stays int64
}

void TestStateDict::everyTensorHalvedLoadsAsPyTorchLoadsIt() {
    // {k: v.half() for k, v in sd.items()}: the BatchNorm counter is float16 too. PyTorch's
    // load_state_dict copies it into the model's int64 (copy_ converts), strict as it is; so does this,
    // counting every conversion and naming the one between integer and floating point.
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport r = m.loadStateDict(TWB_DATA("sd_all_half.pth"), true);
    QVERIFY2(r.applied && r.clean(), r.describe().c_str());
    QCOMPARE(r.dtypeConverted.size(), std::size_t(9));
    QCOMPARE(r.kindConverted.size(), std::size_t(1));
    QVERIFY2(twbtest::contains(r.kindConverted[0],
                               "bn.num_batches_tracked (float16 in the file, int64 in the model)"),
             r.kindConverted[0].c_str());
    QVERIFY2(twbtest::contains(r.describe(), "9 tensors converted, 8 from float16 to float32"),
             r.describe().c_str());
    QVERIFY2(twbtest::contains(r.describe(), "converted between integer and floating point"),
             r.describe().c_str());
    const std::string why = twbtest::compareToFile(run(m), TWB_DATA("sd_all_half_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
}

void TestStateDict::lowPrecisionWeightsMatchPython_data() {
    QTest::addColumn<QString>("weights");
    QTest::addColumn<QString>("expected");
    QTest::newRow("float16") << "sd_float16.pth"
                             << "sd_float16_expected.npy";
    QTest::newRow("bfloat16") << "sd_bfloat16.pth"
                              << "sd_bfloat16_expected.npy";
}

void TestStateDict::lowPrecisionWeightsMatchPython() {
    QFETCH(QString, weights);
    QFETCH(QString, expected);
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    QVERIFY(m.loadStateDict(TWB_DATA(weights.toStdString()), true).applied);
    const std::string why = twbtest::compareToFile(run(m), TWB_DATA(expected.toStdString()));
    QVERIFY2(why.empty(), why.c_str());
}

void TestStateDict::checkpointsAreDescribed() {
    const twb::ModelInfo tv = twb::inspectModelFile(TWB_DATA("ckpt_torchvision.pth"));
    QVERIFY2(tv.diagnosis.usable, tv.diagnosis.error.c_str());
    QCOMPARE(tv.stateDictKey, std::string("model"));
    QCOMPARE(tv.tensors.size(), std::size_t(9));
    auto has = [](const std::vector<std::string>& lines, const std::string& part) {
        for (const auto& l : lines)
            if (twbtest::contains(l, part)) return true;
        return false;
    };
    QVERIFY(has(tv.pythonObjects,
                "args: argparse.Namespace(lr=0.1, arch='cnn', epochs=90): kept as text, not run"));
    QVERIFY(has(tv.checkpointEntries, "optimizer: optimizer state, not a model"));
    QVERIFY(has(tv.checkpointEntries, "epoch: 12"));
    QVERIFY(has(tv.checkpointEntries, "best_acc1: 0.81"));
    const twb::ModelInfo timm = twb::inspectModelFile(TWB_DATA("ckpt_timm.pth"));
    QCOMPARE(timm.stateDictKey, std::string("state_dict"));
    QVERIFY(has(timm.checkpointEntries, "state_dict_ema: another state_dict of 9 tensors"));
    QVERIFY(has(timm.checkpointEntries, "metric: 0.5")); // numpy.float32, decoded from its bytes
    const twb::ModelInfo own = twb::inspectModelFile(TWB_DATA("ckpt_main_class.pth"));
    QVERIFY(has(own.pythonObjects, "config: __main__.RunConfig(lr=0.1, epochs=90)"));
    const twb::ModelInfo lightning = twb::inspectModelFile(TWB_DATA("ckpt_lightning.ckpt"));
    QVERIFY2(lightning.diagnosis.usable, lightning.diagnosis.error.c_str());
    QVERIFY(has(lightning.checkpointEntries, "hyper_parameters: {lr=0.1, hidden=8}"));
}

// A pickle whose REDUCE would create a file if anything ran it: inspected, read and loaded, and no file.
void TestStateDict::nothingInAPickleRuns() {
    QTemporaryDir dir;
    const QString before = QDir::currentPath();
    QVERIFY(QDir::setCurrent(dir.path()));
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA("ckpt_canary.pth"));
    const twb::Value whole = twb::readTensorFile(TWB_DATA("ckpt_canary.pth"));
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport r = m.loadStateDict(TWB_DATA("ckpt_canary.pth"), true);
    const twb::Value evil = twb::readTensorFile(TWB_DATA("evil.pt"));
    QVERIFY(QDir::setCurrent(before));
    QVERIFY2(!QFileInfo::exists(dir.filePath("twb_canary")), "a pickled os.system call ran");
    QVERIFY2(r.applied, r.describe().c_str()); // the weights beside the payload still load
    bool named = false;
    for (const auto& p : info.pythonObjects)
        named = named || twbtest::contains(p, "payload: posix.system('touch twb_canary')");
    QVERIFY(named);
    QVERIFY(twbtest::contains(evil.describe(), "posix.system") || evil.kind() == twb::Value::Kind::Dict);
}

// timm writes state_dict and state_dict_ema: the first is the default, the other can be chosen.
void TestStateDict::theUserChoosesAmongSeveralStateDicts() {
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA("ckpt_timm.pth"));
    QCOMPARE(info.stateDictCandidates, (std::vector<std::string>{"state_dict", "state_dict_ema"}));
    twb::Model m = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const twb::StateDictReport plain = m.loadStateDict(TWB_DATA("ckpt_timm.pth"), true);
    QCOMPARE(plain.foundUnderKey, std::string("state_dict"));
    QVERIFY2(twbtest::contains(plain.describe(), "state_dict found under 'state_dict'"),
             plain.describe().c_str());
    const std::string same = twbtest::compareToFile(run(m), TWB_DATA("cnn_state_dict_expected.npy"));
    QVERIFY2(same.empty(), same.c_str());
    const twb::StateDictReport ema = m.loadStateDict(TWB_DATA("ckpt_timm.pth"), true, {}, "state_dict_ema");
    QVERIFY2(ema.applied && ema.foundUnderKey == "state_dict_ema", ema.describe().c_str());
    // The EMA weights are other weights.
    QVERIFY(!twbtest::compareToFile(run(m), TWB_DATA("cnn_state_dict_expected.npy")).empty());
    try {
        m.loadStateDict(TWB_DATA("ckpt_timm.pth"), true, {}, "teacher");
        QFAIL("a key without a state_dict was accepted");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "no state_dict under the key 'teacher'") &&
                     twbtest::contains(e.what(), "'state_dict', 'state_dict_ema'"),
                 e.what());
    }
}

TWB_TEST_MAIN(TestStateDict)
#include "tst_state_dict.moc"
