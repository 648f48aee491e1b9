// Generated inputs: the spec language, reproducibility from a seed, and the
// distributions' properties.
#include "test_support.h"

#include "twb/error.h"
#include "twb/generate.h"

#include <algorithm>
#include <numeric>

class TestGenerate : public QObject {
    Q_OBJECT
private slots:
    void parse_data();
    void parse();
    void badSpecs_data();
    void badSpecs();
    void sameSeedSameTensor();
    void distributions();
    void arangeAndConstants();
};

void TestGenerate::parse_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("normal") << "normal:1x3x8x8"
                            << "normal:1x3x8x8:float32:mean=0:std=1:seed=0";
    QTest::newRow("uniform float64") << "uniform:4x2:float64:low=-1:high=1:seed=3"
                                     << "uniform:4x2:float64:low=-1:high=1:seed=3";
    QTest::newRow("randint defaults to int64") << "randint:5:high=100"
                                               << "randint:5:int64:low=0:high=100:seed=0";
    QTest::newRow("scalar") << "ones:scalar:bool"
                            << "ones:scalar:bool";
    QTest::newRow("dtype alias") << "zeros:2x2:half"
                                 << "zeros:2x2:float16";
    QTest::newRow("full") << "full:2x3:value=0.1"
                          << "full:2x3:float32:value=0.1";
    QTest::newRow("a bare float") << "2.5"
                                  << "full:scalar:float64:value=2.5";
    QTest::newRow("a bare integer") << "-3"
                                    << "full:scalar:int64:value=-3";
    QTest::newRow("a bare truth") << "true"
                                  << "full:scalar:bool:value=1";
}

void TestGenerate::parse() {
    QFETCH(QString, spec);
    QFETCH(QString, canonical);
    const auto g = twb::GeneratorSpec::parse(spec.toStdString());
    QCOMPARE(QString::fromStdString(g.toString()), canonical);
    QCOMPARE(twb::GeneratorSpec::parse(g.toString()).toString(), g.toString());
}

void TestGenerate::badSpecs_data() {
    QTest::addColumn<QString>("spec");
    QTest::newRow("no shape") << "normal";
    QTest::newRow("unknown kind") << "gaussian:3";
    QTest::newRow("negative dim") << "zeros:-3";
    QTest::newRow("bad dim") << "zeros:3xq";
    QTest::newRow("unknown dtype") << "zeros:3:float8";
    QTest::newRow("empty randint range") << "randint:3:low=5:high=5";
    QTest::newRow("negative std") << "normal:3:std=-1";
    QTest::newRow("unknown option") << "normal:3:sigma=2";
    QTest::newRow("overflowing shape") << "zeros:1000000000000x1000000000000";
    QTest::newRow("full without a value") << "full:3";
    QTest::newRow("value on another kind") << "ones:3:value=2";
    QTest::newRow("a fraction as int64") << "full:3:int64:value=2.5";
    QTest::newRow("300 as int8") << "full:3:int8:value=300";
    QTest::newRow("-1 as uint8") << "full:3:uint8:value=-1";
    QTest::newRow("2 as bool") << "full:3:bool:value=2";
    QTest::newRow("an integer beyond 2^53") << "9007199254740993";
    QTest::newRow("a word") << "three";
}

void TestGenerate::badSpecs() {
    QFETCH(QString, spec);
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::GeneratorSpec::parse(spec.toStdString()));
}

void TestGenerate::sameSeedSameTensor() {
    const auto a = twb::generate(twb::GeneratorSpec::parse("normal:64:float64:seed=7")).toDoubles();
    const auto b = twb::generate(twb::GeneratorSpec::parse("normal:64:float64:seed=7")).toDoubles();
    const auto c = twb::generate(twb::GeneratorSpec::parse("normal:64:float64:seed=8")).toDoubles();
    QCOMPARE(a, b);
    QVERIFY(a != c);
}

void TestGenerate::distributions() {
    const auto n =
        twb::generate(twb::GeneratorSpec::parse("normal:200000:float64:mean=2:std=3:seed=1")).toDoubles();
    const double mean = std::accumulate(n.begin(), n.end(), 0.0) / double(n.size());
    double var = 0;
    for (double v : n)
        var += (v - mean) * (v - mean);
    const double sd = std::sqrt(var / double(n.size()));
    QVERIFY2(std::abs(mean - 2) < 0.03, std::to_string(mean).c_str());
    QVERIFY2(std::abs(sd - 3) < 0.03, std::to_string(sd).c_str());

    const auto u =
        twb::generate(twb::GeneratorSpec::parse("uniform:10000:float64:low=-1:high=3:seed=2")).toDoubles();
    QVERIFY(*std::min_element(u.begin(), u.end()) >= -1);
    QVERIFY(*std::max_element(u.begin(), u.end()) < 3);

    const twb::Value r = twb::generate(twb::GeneratorSpec::parse("randint:4x2500:low=5:high=9:seed=3"));
    QCOMPARE(r.dtype(), std::string("int64"));
    const auto rv = r.toDoubles();
    for (double v : rv)
        QVERIFY(v == 5 || v == 6 || v == 7 || v == 8);
    QVERIFY(std::count(rv.begin(), rv.end(), 8.0) > 2000); // every value reached, evenly
}

void TestGenerate::arangeAndConstants() {
    const twb::Value a = twb::generate(twb::GeneratorSpec::parse("arange:2x3:int32:start=5"));
    QCOMPARE(a.dtype(), std::string("int32"));
    QCOMPARE(a.shape(), (std::vector<int64_t>{2, 3}));
    QCOMPARE(a.toDoubles(), (std::vector<double>{5, 6, 7, 8, 9, 10}));
    QCOMPARE(twb::generate(twb::GeneratorSpec::parse("ones:3:bool")).toDoubles(),
             (std::vector<double>{1, 1, 1}));
    QCOMPARE(twb::generate(twb::GeneratorSpec::parse("zeros:2")).toDoubles(), (std::vector<double>{0, 0}));
    const twb::Value f = twb::generate(twb::GeneratorSpec::parse("full:2x2:float64:value=-0.75"));
    QCOMPARE(f.shape(), (std::vector<int64_t>{2, 2}));
    QCOMPARE(f.toDoubles(), (std::vector<double>{-0.75, -0.75, -0.75, -0.75}));
    const twb::Value n = twb::generate(twb::GeneratorSpec::parse("7"));
    QCOMPARE(n.dtype(), std::string("int64"));
    QVERIFY(n.shape().empty());
    QCOMPARE(n.toDoubles(), (std::vector<double>{7}));
    QCOMPARE(twb::generate(twb::GeneratorSpec::parse("false")).dtype(), std::string("bool"));
    QCOMPARE(twb::generate(twb::GeneratorSpec::parse("full:1:int8:value=-128")).toDoubles(),
             (std::vector<double>{-128}));
}

TWB_TEST_MAIN(TestGenerate)
#include "tst_generate.moc"
