// No file makes the process crash: every fixture, cut short at many lengths
// and with bytes overwritten at many places, is diagnosed and read without a
// crash, an abort or an allocation the file cannot justify.
#include "test_support.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/model.h"

#include <QFile>
#include <QTemporaryDir>

class TestRobustness : public QObject {
    Q_OBJECT
private slots:
    void damagedFiles_data();
    void damagedFiles();
};

void TestRobustness::damagedFiles_data() {
    QTest::addColumn<QString>("file");
    for (const char* f :
         {"mlp_traced.pt", "two_inputs.pt", "cnn_state_dict.pth", "cnn_checkpoint.pth", "nested.pt",
          "mlp_x.npy", "dtype_complex64.npy", "mlp_x_compressed.npz", "mixed.safetensors", "mlp_x.csv",
          "image.png", "image.jpg", "cnn.onnx", "cnn_legacy.pth", "cnn_pickled_module.pt", "mlp_aoti.pt2"})
        QTest::newRow(f) << QString(f);
}

void TestRobustness::damagedFiles() {
    QFETCH(QString, file);
    QFile in(QString::fromStdString(TWB_DATA(file.toStdString())));
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QByteArray good = in.readAll();
    QTemporaryDir dir;
    const QString ext = file.mid(file.lastIndexOf('.'));
    constexpr int kCuts = 24, kFlips = 24;
    int variants = 0, readable = 0;
    for (int i = 0; i < kCuts + kFlips; ++i) {
        QByteArray bad = good;
        if (i < kCuts) {
            bad.truncate(qsizetype(qint64(good.size()) * i / kCuts));
        } else {
            const qsizetype at = qsizetype(qint64(good.size() - 1) * (i - kCuts) / (kFlips - 1));
            for (qsizetype k = at; k < std::min(at + 4, bad.size()); ++k)
                bad[k] = char(bad[k] ^ 0x5A);
        }
        const QString path = dir.filePath(QString("v%1%2").arg(i).arg(ext));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bad);
        out.close();
        const std::string p = path.toStdString();
        const twb::ModelInfo info = twb::inspectModelFile(p);
        QVERIFY2(info.diagnosis.usable || !info.diagnosis.error.empty(), p.c_str());
        try {
            const twb::Value v = twb::readTensorFile(p);
            for (const auto& leaf : v.leaves())
                QVERIFY(leaf.summary.numel >= 0);
            ++readable;
        } catch (const twb::Error&) {
        }
        ++variants;
    }
    QCOMPARE(variants, kCuts + kFlips);
    qInfo("%s: %d damaged variants, %d still readable as tensors", qPrintable(file), variants, readable);
}

TWB_TEST_MAIN(TestRobustness)
#include "tst_robustness.moc"
