// Every fuzz finding's input (tests/fuzz/regressions/<target>/) and every seed the fuzz targets start
// from, run through the very functions the fuzzers call, in every build: a reader regression fails here
// even where no fuzzer is built.
#include "test_support.h"

#include "targets.h"

#include <QDirIterator>
#include <QFile>

#include <filesystem>

namespace fs = std::filesystem;

class TestFuzzRegressions : public QObject {
    Q_OBJECT

    static void runOn(const twb::fuzz::Target& target, const std::string& input, const QString& name) {
        try {
            target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
        } catch (const std::exception& e) {
            QFAIL(qPrintable(QStringLiteral("%1 on %2: an exception other than twb::Error escaped: %3")
                                 .arg(QString::fromUtf8(target.name), name, QString::fromUtf8(e.what()))));
        }
    }

private slots:
    void everyTargetHasSeeds() {
        const fs::path data = fs::path(TWB_DATA("cnn_scripted.pt")).parent_path();
        const QString seeds = QStringLiteral(TWB_TESTS_DIR "/fuzz/seeds");
        QVERIFY(!seeds.isEmpty());
        for (const auto& target : twb::fuzz::targets()) {
            int count = 0;
            for (const auto& entry : fs::directory_iterator(data))
                if (twb::fuzz::seedsFrom(target, entry.path().filename().string())) ++count;
            count += int(QDir(seeds + QLatin1Char('/') + QString::fromUtf8(target.name))
                             .entryList(QDir::Files)
                             .size());
            QVERIFY2(count > 0, target.name);
        }
    }

    void findingsStayFixed_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("file");
        const QString root = QStringLiteral(TWB_TESTS_DIR "/fuzz/regressions");
        QVERIFY(!root.isEmpty());
        QDirIterator it(root, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            if (QFileInfo(file).dir() == QDir(root)) continue; // README.md
            const QString target = QFileInfo(file).dir().dirName();
            QTest::newRow(qPrintable(target + QLatin1Char('/') + QFileInfo(file).fileName()))
                << target << file;
        }
    }

    void findingsStayFixed() {
        QFETCH(QString, target);
        QFETCH(QString, file);
        const twb::fuzz::Target* t = twb::fuzz::findTarget(target.toStdString());
        QVERIFY2(t, qPrintable(QStringLiteral("no fuzz target named %1 for %2").arg(target, file)));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        runOn(*t, std::string(bytes.constData(), std::size_t(bytes.size())), file);
    }

    // The seeds themselves: each fixture, as each target reads it.
    void seedsRun() {
        const fs::path data = fs::path(TWB_DATA("cnn_scripted.pt")).parent_path();
        int ran = 0;
        for (const auto& target : twb::fuzz::targets())
            for (const auto& entry : fs::directory_iterator(data)) {
                const std::string name = entry.path().filename().string();
                if (!entry.is_regular_file() || entry.file_size() > (1 << 20) ||
                    !twb::fuzz::seedsFrom(target, name))
                    continue;
                for (const std::string& input : target.seed(entry.path().string())) {
                    runOn(target, input, QString::fromStdString(name));
                    ++ran;
                }
            }
        QVERIFY(ran > 100);
    }
};

TWB_TEST_MAIN(TestFuzzRegressions)
#include "tst_fuzz_regressions.moc"
