// No file makes the process crash: every fixture, cut short at many lengths
// and with bytes overwritten at many places, is diagnosed and read without a
// crash, an abort or an allocation the file cannot justify.
#include "test_support.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/model.h"
#include "twb/operator_library.h"

#include <QFile>
#include <QTemporaryDir>

#include <algorithm>
#include <cstring>
#include <vector>

class TestRobustness : public QObject {
    Q_OBJECT
private slots:
    void damagedOperatorLibraries();
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
void TestRobustness::damagedOperatorLibraries() {
    // The library check reads an ELF file's headers, sections and symbols from bytes a user gave: cut
    // short anywhere, or with any header byte changed, it answers with a reason and reads nothing outside
    // the file (AddressSanitizer would say so). It never loads what it checks.
    QFile whole(qEnvironmentVariable("TWB_TEST_OPS"));
    QVERIFY(whole.open(QIODevice::ReadOnly));
    const QByteArray bytes = whole.readAll();
    QVERIFY(bytes.size() > 4096);
    QVERIFY2(twb::checkOperatorLibrary(whole.fileName().toStdString()).ok,
             twb::checkOperatorLibrary(whole.fileName().toStdString()).reason.c_str());
    QTemporaryDir dir;
    const QString file = dir.filePath("libdamaged.so");
    auto check = [&](const QByteArray& content) {
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
        f.write(content);
        f.close();
        const twb::OperatorLibraryCheck c = twb::checkOperatorLibrary(file.toStdString());
        return c.ok || !c.reason.empty();
    };
    for (int cut : {0, 3, 16, 63, 64, 65, 200, 1000, 4096})
        QVERIFY2(check(bytes.left(cut)), qPrintable(QString::number(cut)));
    for (qsizetype cut = bytes.size() - 1; cut > 4096; cut -= bytes.size() / 23)
        QVERIFY2(check(bytes.left(cut)), qPrintable(QString::number(cut)));
    // Every byte of the ELF header, and bytes of the section header table, set to values that mislead.
    qsizetype shoff = 0;
    std::memcpy(&shoff, bytes.constData() + 0x28, sizeof shoff);
    std::vector<qsizetype> positions;
    for (qsizetype i = 0; i < 64; ++i)
        positions.push_back(i);
    for (qsizetype i = shoff; i < std::min<qsizetype>(bytes.size(), shoff + 64 * 40); i += 7)
        positions.push_back(i);
    for (qsizetype at : positions) {
        for (char v : {char(0), char(0x7f), char(0xff)}) {
            QByteArray damaged = bytes;
            damaged[at] = v;
            QVERIFY2(check(damaged), qPrintable(QString::number(at)));
        }
    }
}

#include "tst_robustness.moc"
