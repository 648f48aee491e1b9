// The other tensor formats: safetensors, torch.save, CSV, images; and .pt output.
#include "test_support.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/model.h"

#include <QTemporaryDir>

class TestTensorIo : public QObject {
    Q_OBJECT
private slots:
    void safetensorsDtypes();
    void sameTensorFromEveryFormat_data();
    void sameTensorFromEveryFormat();
    void torchSaveNesting();
    void checkpointStateDict();
    void refusesUnsafeGlobalsByName();
    void brokenFiles_data();
    void brokenFiles();
    void sharedObjectsConvertOnce();
    void hostileNpyHeaderAndBoolBytes();
    void zeroStrideViews();
    void csv();
    void image();
    void imageNormalizationAndResize();
    void writePtKeepsStructure();
    void npyRefusesStructures();
};

void TestTensorIo::safetensorsDtypes() {
    const twb::Value v = twb::readTensorFile(TWB_DATA("mixed.safetensors"));
    QCOMPARE(v.kind(), twb::Value::Kind::Dict);
    const auto items = v.items();
    QCOMPARE(items.size(), std::size_t(3));
    QCOMPARE(items[0].second.dtype(), std::string("int32"));
    QCOMPARE(items[0].second.shape(), (std::vector<int64_t>{2, 3}));
    QCOMPARE(items[0].second.toDoubles(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
    QCOMPARE(items[1].second.dtype(), std::string("bfloat16"));
    QCOMPARE(items[1].second.toDoubles(), (std::vector<double>{1, 2}));
    QCOMPARE(items[2].second.dtype(), std::string("bool"));
    QCOMPARE(items[2].second.toDoubles(), (std::vector<double>{1, 0}));
}

void TestTensorIo::sameTensorFromEveryFormat_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<double>("atol");
    for (const char* f : {"mlp_x.npz", "mlp_x.pt", "mlp_x.safetensors", "mlp_x.csv"})
        QTest::newRow(f) << QString(f) << (QString(f).endsWith(".csv") ? 1e-7 : 0.0);
}

void TestTensorIo::sameTensorFromEveryFormat() {
    QFETCH(QString, file);
    QFETCH(double, atol);
    twb::Value v = twb::readTensorFile(TWB_DATA(file.toStdString()));
    if (v.kind() == twb::Value::Kind::Dict) v = v.items().at(0).second;
    QCOMPARE(v.dtype(), std::string("float32"));
    const std::string why = twbtest::compareToFile(v, TWB_DATA("mlp_x.npy"), atol, 0);
    QVERIFY2(why.empty(), why.c_str());
}

void TestTensorIo::torchSaveNesting() {
    // torch.save((torch.arange(3), {"k": torch.ones(2)}))
    const twb::Value v = twb::readTensorFile(TWB_DATA("nested.pt"));
    QCOMPARE(v.kind(), twb::Value::Kind::Tuple);
    QCOMPARE(v.describe(), std::string("(Tensor[3] int64, {\"k\": Tensor[2] float32})"));
    const auto leaves = v.leaves("in");
    QCOMPARE(leaves.size(), std::size_t(2));
    QCOMPARE(leaves[0].path, std::string("in[0]"));
    QCOMPARE(leaves[1].path, std::string("in[1][\"k\"]"));
    QCOMPARE(v.at(0).toDoubles(), (std::vector<double>{0, 1, 2}));
}

void TestTensorIo::checkpointStateDict() {
    std::string key;
    const twb::Value sd = twb::readStateDict(TWB_DATA("cnn_checkpoint.pth"), &key);
    QCOMPARE(key, std::string("model_state_dict"));
    QCOMPARE(sd.size(), std::size_t(9));
    const twb::Value direct = twb::readStateDict(TWB_DATA("cnn_state_dict.pth"));
    for (std::size_t i = 0; i < sd.size(); ++i) {
        QCOMPARE(sd.items()[i].first, direct.items()[i].first);
        QCOMPARE(sd.items()[i].second.toDoubles(), direct.items()[i].second.toDoubles());
    }
}

// A global the reader does not know is never called: it becomes an inert placeholder that names
// its class and keeps its arguments as data, and the tensors around it are read as usual.
void TestTensorIo::refusesUnsafeGlobalsByName() {
    const twb::Value evil = twb::readTensorFile(TWB_DATA("evil.pt"));
    QCOMPARE(evil.kind(), twb::Value::Kind::Dict);
    const twb::Value x = evil.items().at(0).second;
    std::string cls, repr;
    for (const auto& [k, v] : x.items()) {
        if (k == "__class__") cls = v.toStringValue();
        if (k == "__repr__") repr = v.toStringValue();
    }
    QCOMPARE(cls, std::string("posix.system"));
    QCOMPARE(repr, std::string("posix.system('echo this must never run')"));
    // A whole pickled nn.Module: its class named, its parameters still tensors inside.
    const twb::Value module = twb::readTensorFile(TWB_DATA("cnn_pickled_module.pt"));
    QVERIFY2(twbtest::contains(module.describe(), "__main__.SmallCnn"), module.describe().c_str());
    QVERIFY(!module.leaves("m").empty());
}

void TestTensorIo::brokenFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("cause");
    QTest::newRow("storage shorter than its tensor") << "bad_storage.pt"
                                                     << "400 expected";
    QTest::newRow("truncated zip") << "truncated.pt"
                                   << "not a readable";
    QTest::newRow("safetensors offsets beyond the file") << "bad_offsets.safetensors"
                                                         << "outside the file";
    QTest::newRow("safetensors shape and size disagree") << "bad_shape.safetensors"
                                                         << "disagree";
    QTest::newRow("safetensors huge header") << "bad_header.safetensors"
                                             << "more than the file holds";
    QTest::newRow("ragged csv") << "table_ragged.csv"
                                << "row 3 has 1 columns";
    QTest::newRow("TorchScript is not a tensor file") << "mlp_traced.pt"
                                                      << "TorchScript";
    QTest::newRow("random bytes as an image") << "random.bin"
                                              << "random.bin";
    QTest::newRow("100k nested tuples") << "deep_nesting.pt"
                                        << "deeper";
    QTest::newRow("a list containing itself") << "cycle.pt"
                                              << "cycle";
}

void TestTensorIo::brokenFiles() {
    QFETCH(QString, file);
    QFETCH(QString, cause);
    twb::ReadOptions options;
    if (file.endsWith(".bin")) options.format = twb::TensorFormat::Image;
    try {
        twb::readTensorFile(TWB_DATA(file.toStdString()), options);
        QFAIL("a broken file was read");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), file.toStdString()), e.what());
        QVERIFY2(twbtest::contains(e.what(), cause.toStdString()), e.what());
    }
}

void TestTensorIo::sharedObjectsConvertOnce() {
    // 64 levels of (x, x): 130 bytes of pickle that any walk of the value (describe, leaves, types) meets
    // as 2^64 objects. It is refused with the reason; the load doctor answers at once too.
    try {
        twb::readTensorFile(TWB_DATA("shared_dag.pt"));
        QFAIL("a pickle expanding to 2^64 objects was read");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "expand to more than"), e.what());
    }
    const twb::Diagnosis d = twb::diagnose(TWB_DATA("shared_dag.pt"));
    QVERIFY(!d.usable);
    QVERIFY2(twbtest::contains(d.summary, "no torch.save of tensors writes"), d.summary.c_str());
    QVERIFY2(twbtest::contains(d.error, "expand to more than"), d.error.c_str());
    QVERIFY2(twbtest::contains(d.fix, "treat it as untrusted"), d.fix.c_str());
    // Sharing within the bound still converts: 18 levels are 2^18 leaves walked.
    QTemporaryDir dir;
    const std::string twenty = dir.filePath(QStringLiteral("dag18.pt")).toStdString();
    twb::writeTensorFile(twenty, [] {
        twb::Value v = twb::makeTensor({1, 2}, {2});
        for (int i = 0; i < 18; ++i)
            v = twb::makeTuple({v, v});
        return v;
    }());
    const twb::Value v = twb::readTensorFile(twenty);
    QCOMPARE(v.kind(), twb::Value::Kind::Tuple);
    QCOMPARE(v.at(0).at(1).kind(), twb::Value::Kind::Tuple);
}

void TestTensorIo::hostileNpyHeaderAndBoolBytes() {
    try {
        twb::readTensorFile(TWB_DATA("bad_long_header.npy"));
        QFAIL("a 9000-digit dimension was read");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "out of range"), e.what());
    }
    const twb::Value b = twb::readTensorFile(TWB_DATA("bool_bytes.npy"));
    QCOMPARE(b.dtype(), std::string("bool"));
    QCOMPARE(b.toDoubles(), (std::vector<double>{0, 1, 1})); // the byte 2 reads as true
}

void TestTensorIo::zeroStrideViews() {
    // torch.save(torch.arange(3.0).expand(1000, 3)): a storage of 3 seen through stride 0.
    const twb::Value v = twb::readTensorFile(TWB_DATA("expanded.pt"));
    QCOMPARE(v.shape(), (std::vector<int64_t>{1000, 3}));
    const twb::TensorSummary s = v.summary(6);
    QCOMPARE(s.first, (std::vector<double>{0, 1, 2, 0, 1, 2}));
    QCOMPARE(s.mean, 1.0);
}

void TestTensorIo::csv() {
    const twb::Value v = twb::readTensorFile(TWB_DATA("table_noheader.csv"));
    QCOMPARE(v.shape(), (std::vector<int64_t>{2, 3}));
    QCOMPARE(v.toDoubles(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
    twb::ReadOptions header;
    header.csvHeader = true; // the first row is then a header, even if numeric
    QCOMPARE(twb::readTensorFile(TWB_DATA("table_noheader.csv"), header).shape(),
             (std::vector<int64_t>{1, 3}));
}

void TestTensorIo::image() {
    const twb::Value v = twb::readTensorFile(TWB_DATA("image.png"));
    QCOMPARE(v.shape(), (std::vector<int64_t>{1, 3, 6, 8}));
    const std::string why = twbtest::compareToFile(v, TWB_DATA("image_expected.npy"), 1e-6, 0);
    QVERIFY2(why.empty(), why.c_str());
    const twb::Value jpg = twb::readTensorFile(TWB_DATA("image.jpg"));
    QCOMPARE(jpg.shape(), (std::vector<int64_t>{1, 3, 16, 24}));
    const std::string close = twbtest::compareToFile(jpg, TWB_DATA("image_jpg_source.npy"), 0.05, 0);
    QVERIFY2(close.empty(), close.c_str()); // lossy, but the same picture
}

void TestTensorIo::imageNormalizationAndResize() {
    twb::ReadOptions o;
    o.image = twb::ImageOptions::preset("imagenet");
    o.image.resizeWidth = 4;
    o.image.resizeHeight = 3;
    const twb::Value v = twb::readTensorFile(TWB_DATA("image.png"), o);
    QCOMPARE(v.shape(), (std::vector<int64_t>{1, 3, 3, 4}));
    const auto plain = twb::readTensorFile(TWB_DATA("image.png")).toDoubles();
    twb::ReadOptions n;
    n.image = twb::ImageOptions::preset("imagenet");
    const auto norm = twb::readTensorFile(TWB_DATA("image.png"), n).toDoubles();
    // Channel 0 pixel 0: (x - 0.485) / 0.229
    QVERIFY(std::abs(norm[0] - (plain[0] - 0.485) / 0.229) < 1e-5);
    o.image.channels = 1;
    QCOMPARE(twb::readTensorFile(TWB_DATA("image.png"), o).shape(), (std::vector<int64_t>{1, 1, 3, 4}));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::ImageOptions::preset("nonsense"));
}

void TestTensorIo::writePtKeepsStructure() {
    QTemporaryDir dir;
    const std::string file = dir.filePath("out.pt").toStdString();
    const twb::Value nested = twb::readTensorFile(TWB_DATA("nested.pt"));
    const twb::Value value =
        twb::makeTuple({nested, twb::makeList({twb::makeTensor({1, 2}, {2}, "float64")})});
    twb::writeTensorFile(file, value);
    const twb::Value back = twb::readTensorFile(file);
    QCOMPARE(back.describe(), value.describe());
    QCOMPARE(back.at(1).at(0).toDoubles(), (std::vector<double>{1, 2}));
}

void TestTensorIo::npyRefusesStructures() {
    QTemporaryDir dir;
    try {
        twb::writeTensorFile(dir.filePath("out.npy").toStdString(),
                             twb::readTensorFile(TWB_DATA("nested.pt")));
        QFAIL("a tuple was written as .npy");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), ".pt"), e.what());
    }
}

TWB_TEST_MAIN(TestTensorIo)
#include "tst_tensor_io.moc"
