// NumPy files: every dtype, byte order and memory order; hostile headers are
// refused before anything is allocated; what we write, NumPy's format reads.
#include "test_support.h"

#include "twb/error.h"
#include "twb/generate.h"

#include <QTemporaryDir>

#include <fstream>

class TestNpy : public QObject {
    Q_OBJECT
private slots:
    void dtypes_data();
    void dtypes();
    void orderAndEndianness_data();
    void orderAndEndianness();
    void scalarsAndEmpty();
    void npz();
    void hostile_data();
    void hostile();
    void roundTrip_data();
    void roundTrip();
};

void TestNpy::dtypes_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<QList<qlonglong>>("shape");
    QTest::addColumn<QList<double>>("values");
    QTest::newRow("int16") << "dtype_int16.npy"
                           << "int16" << QList<qlonglong>{2, 3} << QList<double>{-3, -2, -1, 0, 1, 2};
    QTest::newRow("uint16 widens") << "dtype_uint16.npy"
                                   << "int32" << QList<qlonglong>{3} << QList<double>{0, 1, 65535};
    QTest::newRow("uint32 widens") << "dtype_uint32.npy"
                                   << "int64" << QList<qlonglong>{2} << QList<double>{0, 4294967295.0};
    QTest::newRow("uint64") << "dtype_uint64.npy"
                            << "int64" << QList<qlonglong>{2} << QList<double>{0, 1099511627776.0};
    QTest::newRow("bool") << "dtype_bool.npy"
                          << "bool" << QList<qlonglong>{2, 2} << QList<double>{1, 0, 0, 1};
    QTest::newRow("float16") << "dtype_float16.npy"
                             << "float16" << QList<qlonglong>{3} << QList<double>{0.5, -1.25, 65504};
    QTest::newRow("int8") << "dtype_int8.npy"
                          << "int8" << QList<qlonglong>{3} << QList<double>{-128, 0, 127};
    QTest::newRow("complex64") << "dtype_complex64.npy"
                               << "complex64" << QList<qlonglong>{2} << QList<double>{1, 2, 0, -3.5};
    QTest::newRow("float64 big-endian")
        << "dtype_float64_be.npy"
        << "float64" << QList<qlonglong>{3} << QList<double>{1.5, -2.25, 1e300};
}

void TestNpy::dtypes() {
    QFETCH(QString, file);
    QFETCH(QString, dtype);
    QFETCH(QList<qlonglong>, shape);
    QFETCH(QList<double>, values);
    const twb::Value v = twb::readTensorFile(TWB_DATA(file.toStdString()));
    QCOMPARE(QString::fromStdString(v.dtype()), dtype);
    const auto s = v.shape();
    QCOMPARE(QList<qlonglong>(s.begin(), s.end()), shape);
    const auto d = v.toDoubles();
    QCOMPARE(QList<double>(d.begin(), d.end()), values);
}

void TestNpy::orderAndEndianness_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("fortran order float64") << "mlp_x_fortran.npy";
    QTest::newRow("big-endian float32") << "mlp_x_bigendian.npy";
}

void TestNpy::orderAndEndianness() {
    QFETCH(QString, file);
    const twb::Value v = twb::readTensorFile(TWB_DATA(file.toStdString()));
    const std::string why = twbtest::compareToFile(v, TWB_DATA("mlp_x.npy"), 0, 1e-7);
    QVERIFY2(why.empty(), why.c_str());
}

void TestNpy::scalarsAndEmpty() {
    const twb::Value s = twb::readTensorFile(TWB_DATA("scalar.npy"));
    QVERIFY(s.shape().empty());
    QCOMPARE(s.toDoubles().at(0), 7.5);
    const twb::Value e = twb::readTensorFile(TWB_DATA("empty.npy"));
    QCOMPARE(e.shape(), (std::vector<int64_t>{0, 3}));
    QCOMPARE(e.summary().numel, 0);
}

void TestNpy::npz() {
    for (const char* file : {"mlp_x.npz", "mlp_x_compressed.npz"}) {
        const twb::Value v = twb::readTensorFile(TWB_DATA(file));
        QCOMPARE(v.kind(), twb::Value::Kind::Dict);
        QCOMPARE(v.size(), std::size_t(1));
        QCOMPARE(v.items()[0].first, std::string("x"));
        const std::string why = twbtest::compareToFile(v.items()[0].second, TWB_DATA("mlp_x.npy"), 0, 0);
        QVERIFY2(why.empty(), why.c_str());
    }
}

void TestNpy::hostile_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("cause");
    QTest::newRow("shape beyond the file") << "bad_huge_shape.npy"
                                           << "promises 400000000000 bytes";
    QTest::newRow("overflowing shape") << "bad_overflow_shape.npy"
                                       << "overflows";
    QTest::newRow("negative shape") << "bad_negative_shape.npy"
                                    << "negative dimension -5";
    QTest::newRow("string dtype") << "bad_dtype.npy"
                                  << "'U10'";
    QTest::newRow("object dtype") << "bad_object.npy"
                                  << "object";
    QTest::newRow("truncated data") << "bad_truncated.npy"
                                    << "truncated";
    QTest::newRow("header longer than the file") << "bad_header_len.npy"
                                                 << "60000";
}

void TestNpy::hostile() {
    QFETCH(QString, file);
    QFETCH(QString, cause);
    try {
        twb::readTensorFile(TWB_DATA(file.toStdString()));
        QFAIL("a hostile file was read");
    } catch (const twb::Error& e) {
        const std::string what = e.what();
        QVERIFY2(twbtest::contains(what, file.toStdString()), what.c_str());  // names the file
        QVERIFY2(twbtest::contains(what, cause.toStdString()), what.c_str()); // and the cause
    }
}

void TestNpy::roundTrip_data() {
    QTest::addColumn<QString>("dtype");
    for (const auto& d : twb::knownDtypes())
        if (d != "bfloat16") QTest::newRow(d.c_str()) << QString::fromStdString(d);
}

void TestNpy::roundTrip() {
    QFETCH(QString, dtype);
    QTemporaryDir dir;
    const std::string file = dir.filePath("t.npy").toStdString();
    const twb::Value v = twb::generate(
        twb::GeneratorSpec::parse("randint:3x4x2:" + dtype.toStdString() + ":low=0:high=2:seed=5"));
    twb::writeTensorFile(file, v);
    const twb::Value back = twb::readTensorFile(file);
    QCOMPARE(back.dtype(), v.dtype());
    QCOMPARE(back.shape(), v.shape());
    QCOMPARE(back.toDoubles(), v.toDoubles());
    // The header is padded so the data starts on a 64-byte boundary, as NumPy writes it.
    std::ifstream in(file, std::ios::binary);
    char pre[10];
    in.read(pre, 10);
    const int headerLen = uint8_t(pre[8]) | (uint8_t(pre[9]) << 8);
    QCOMPARE((10 + headerLen) % 64, 0);
}

TWB_TEST_MAIN(TestNpy)
#include "tst_npy.moc"
