// One parser for input specifications, used by the CLI and the GUI alike.
#include "test_support.h"

#include "twb/error.h"
#include "twb/hashing.h"
#include "twb/input_spec.h"

#include <QDir>
#include <QFile>
#include <QScopeGuard>
#include <QTemporaryDir>

class TestInputSpec : public QObject {
    Q_OBJECT
private slots:
    void parses_data();
    void parses();
    void aFileNamedLikeANumberIsAFile();
    void refusesBadSpecs();
    void readsAndDescribes();
    void dialogExtensionsComeFromTheReaders();
};

void TestInputSpec::parses_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("argument");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("generator");
    QTest::newRow("file") << "data/x.npy"
                          << ""
                          << "data/x.npy"
                          << "";
    QTest::newRow("named file") << "x=data/x.npy"
                                << "x"
                                << "data/x.npy"
                                << "";
    QTest::newRow("generator") << "gen:normal:2x3:seed=4"
                               << ""
                               << ""
                               << "normal:2x3:float32:mean=0:std=1:seed=4";
    QTest::newRow("named generator") << "tokens=gen:randint:1x8:int64:low=0:high=9"
                                     << "tokens"
                                     << ""
                                     << "randint:1x8:int64:low=0:high=9:seed=0";
    QTest::newRow("'=' in a path, no name") << "runs/a=b/x.npy"
                                            << ""
                                            << "runs/a=b/x.npy"
                                            << "";
    QTest::newRow("a named number") << "scale=2.5"
                                    << "scale"
                                    << ""
                                    << "full:scalar:float64:value=2.5";
    QTest::newRow("a number") << "-4"
                              << ""
                              << ""
                              << "full:scalar:int64:value=-4";
    QTest::newRow("a truth value") << "flag=false"
                                   << "flag"
                                   << ""
                                   << "full:scalar:bool:value=0";
    QTest::newRow("not quite a number: a file") << "2.5x"
                                                << ""
                                                << "2.5x"
                                                << "";
}

void TestInputSpec::parses() {
    QFETCH(QString, text);
    QFETCH(QString, argument);
    QFETCH(QString, file);
    QFETCH(QString, generator);
    const twb::InputSpec s = twb::InputSpec::parse(text.toStdString());
    QCOMPARE(QString::fromStdString(s.argument), argument);
    QCOMPARE(QString::fromStdString(s.file), file);
    QCOMPARE(QString::fromStdString(s.generator), generator);
    // The printed form parses back to the same spec.
    const twb::InputSpec back = twb::InputSpec::parse(s.toString());
    QCOMPARE(back.argument, s.argument);
    QCOMPARE(back.file, s.file);
    QCOMPARE(back.generator, s.generator);
}

void TestInputSpec::aFileNamedLikeANumberIsAFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("3"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    const QString before = QDir::currentPath();
    const auto restore = qScopeGuard([&] { QDir::setCurrent(before); });
    QVERIFY(QDir::setCurrent(dir.path()));
    const twb::InputSpec s = twb::InputSpec::parse("3");
    QCOMPARE(s.file, std::string("3"));
    QVERIFY(!s.isGenerated());
}

void TestInputSpec::refusesBadSpecs() {
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::InputSpec::parse(""));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::InputSpec::parse("gen:wobbly:2x2"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::InputSpec::parse("x="));
    QCOMPARE(twb::InputSpec::parseGenerated("y=ones:3").generator, std::string("ones:3:float32"));
    QCOMPARE(twb::InputSpec::parseGenerated("y=ones:3").argument, std::string("y"));
}

void TestInputSpec::readsAndDescribes() {
    const twb::Model model = twb::Model::load(TWB_DATA("two_inputs.pt"));
    // A multi-tensor file feeds both arguments by its keys; a generator is recorded as its spec.
    const std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("two_inputs_xy.npz"))};
    const twb::InputBinding b = model.bindInputs(twb::readInputs(specs));
    QVERIFY2(b.ok, b.error.c_str());
    const auto refs = twb::describeInputs(specs, b);
    QCOMPARE(refs.size(), std::size_t(1));
    QCOMPARE(refs[0].sha256, twb::fileSha256(TWB_DATA("two_inputs_xy.npz")));
    QCOMPARE(refs[0].shape, (std::vector<int64_t>{3, 4}));
    const std::vector<twb::InputSpec> gen{twb::InputSpec::parse("y=gen:ones:3x4"),
                                          twb::InputSpec::parse("x=gen:zeros:3x4")};
    const twb::InputBinding g = model.bindInputs(twb::readInputs(gen));
    QVERIFY2(g.ok, g.error.c_str());
    const auto grefs = twb::describeInputs(gen, g);
    QCOMPARE(grefs[0].argument, std::string("y"));
    QCOMPARE(grefs[0].generator, std::string("ones:3x4:float32"));
    QVERIFY(grefs[0].sha256.empty());
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::readInputs({twb::InputSpec::parse("/nonexistent/in.npy")}));
}

void TestInputSpec::dialogExtensionsComeFromTheReaders() {
    QStringList exts;
    for (const auto& [ext, format] : twb::readableTensorExtensions()) {
        exts << QString::fromStdString(ext);
        QCOMPARE(twb::detectTensorFormat("file." + ext), format);
    }
    for (const char* e : {"npy", "npz", "safetensors", "pt", "pth", "csv", "png", "jpg"})
        QVERIFY2(exts.contains(e), e);
}

TWB_TEST_MAIN(TestInputSpec)
#include "tst_input_spec.moc"
