// Shared helpers for the Qt Test suite: a main that forces the offscreen
// platform, fixture lookup, and comparison of values against Python's.
#pragma once

#include "twb/build_info.h"
#include "twb/compare.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/tensor_io.h"
#include "twb/value.h"

#include <QCoreApplication>
#ifdef QT_WIDGETS_LIB
#include <QApplication>
#endif
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QTest>

#include <cmath>
#include <sstream>
#include <string>

// TWB_ASAN: built with AddressSanitizer (the asan preset), where time and address space are not what
// they are in a user's build.
#if defined(__SANITIZE_ADDRESS__)
#define TWB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TWB_ASAN 1
#endif
#endif

// A fixture under tests/data (TWB_TESTS_DIR: tests/CMakeLists.txt).
#define TWB_DATA(name) (std::string(TWB_TESTS_DIR "/data/") + std::string(name))

#define TWB_TEST_MAIN(TestObject)                                                                            \
    int main(int argc, char** argv) {                                                                        \
        qputenv("QT_QPA_PLATFORM", "offscreen");                                                             \
        QCoreApplication app(argc, argv);                                                                    \
        TestObject tc;                                                                                       \
        QTEST_SET_MAIN_SOURCE_PATH                                                                           \
        return QTest::qExec(&tc, argc, argv);                                                                \
    }

// For widget tests: a QApplication on the offscreen platform with a fixed DPI.
#define TWB_GUI_TEST_MAIN(TestObject)                                                                        \
    int main(int argc, char** argv) {                                                                        \
        qputenv("QT_QPA_PLATFORM", "offscreen");                                                             \
        qputenv("QT_FONT_DPI", "96");                                                                        \
        qputenv("QT_SCALE_FACTOR", "1");                                                                     \
        QApplication app(argc, argv);                                                                        \
        QApplication::setOrganizationName(QStringLiteral("torch-workbench-tests"));                          \
        TestObject tc;                                                                                       \
        QTEST_SET_MAIN_SOURCE_PATH                                                                           \
        return QTest::qExec(&tc, argc, argv);                                                                \
    }

namespace twbtest {

// The forwards a Chrome trace file holds (its events of category "forward"); -1 when it cannot be read.
inline int traceForwards(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return -1;
    int forwards = 0;
    for (const auto& e : QJsonDocument::fromJson(f.readAll()).object().value("traceEvents").toArray())
        forwards += e.toObject().value("cat").toString() == "forward";
    return forwards;
}

// A fixture model with its input bound, as the plan runner takes them (the specs name the inputs in
// reports): `input` is a file under tests/data, or a generator spec ("normal:1x3x8x8").
struct Loaded {
    twb::Model model;
    std::vector<twb::InputSpec> specs;
    twb::InputBinding binding;
};
inline Loaded load(const std::string& model, const std::string& input) {
    Loaded l{twb::Model::load(TWB_DATA(model)), {}, {}};
    const bool file = QFileInfo::exists(QString::fromStdString(TWB_DATA(input)));
    l.specs.push_back(file ? twb::InputSpec::parse(TWB_DATA(input)) : twb::InputSpec::parseGenerated(input));
    l.binding = l.model.bindInputs(twb::readInputs(l.specs));
    return l;
}

// "" when `actual` matches the tensor in `expectedFile` to within atol + rtol*|expected|; else why not.
inline std::string compareToFile(const twb::Value& actual, const std::string& expectedFile,
                                 double atol = 1e-5, double rtol = 1e-5) {
    const twb::Value expected = twb::readTensorFile(expectedFile);
    if (!actual.isTensor()) return "actual value is " + actual.typeName() + ", not a tensor";
    if (actual.shape() != expected.shape()) return "shapes differ";
    const auto a = actual.toDoubles(), e = expected.toDoubles();
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) && std::isnan(e[i])) continue;
        if (!(std::abs(a[i] - e[i]) <= atol + rtol * std::abs(e[i]))) {
            std::ostringstream s;
            s << "element " << i << ": " << a[i] << " vs expected " << e[i];
            return s.str();
        }
    }
    return {};
}

// "" when `actual`, of any structure, matches the value saved in `expectedFile` (torch.save of a tuple,
// say) leaf by leaf; else the comparison's summary.
inline std::string compareValueToFile(const twb::Value& actual, const std::string& expectedFile,
                                      double atol = 1e-5, double rtol = 1e-5) {
    twb::CompareOptions options;
    options.atol = atol;
    options.rtol = rtol;
    const twb::OutputComparison c = twb::compareOutputs(actual, twb::readTensorFile(expectedFile), options);
    return c.allclose ? std::string() : c.summary;
}

// LibTorch's major version: scaled_dot_product_attention and friends exist from 2.0.
inline int libtorchMajor() {
    return std::stoi(twb::buildInfo().libtorchVersion);
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace twbtest
