// AOTInductor packages (.pt2): read from the archive without running it, bound to their flattened
// inputs with the compiled shapes checked first, run through the same harness as TorchScript and held
// against Python's outputs and the TorchScript twin; explained where this LibTorch has no loader, and a
// plain ExportedProgram explained with the Python that compiles it.
#include "test_support.h"

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/plan.h"

#include "twb/build_info.h"

#include <QProcess>
#include <QTemporaryDir>

class TestPt2 : public QObject {
    Q_OBJECT
private slots:
    void inspectsWithoutRunning();
    void exportedProgramIsExplained();
    void explainedWithoutTheLoader();
    void runsAndMatchesPython_data();
    void runsAndMatchesPython();
    void dynamicBatchAndShapeChecks();
    void harnessRefusesJitAndPrecision();
    void matchesItsTorchScriptTwin();
    void instructionSetsTheCpuLacksAreNamed();
    void aPackageForAnotherMachineIsRefusedBeforeItRuns();
};

namespace {
bool hasLoader() {
    return twb::buildInfo().aotiPackages;
}
} // namespace

void TestPt2::inspectsWithoutRunning() {
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA("mlp_aoti.pt2"));
    QCOMPARE(info.diagnosis.kind, twb::FileKind::Pt2);
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader: see explainedWithoutTheLoader");
    QVERIFY2(info.diagnosis.usable, info.diagnosis.error.c_str());
    QVERIFY2(info.diagnosis.summary.find("compiled by torch.export for cpu") != std::string::npos,
             info.diagnosis.summary.c_str());
    QCOMPARE(info.inputs.size(), std::size_t(1));
    QCOMPARE(info.inputs[0].type, std::string("Tensor float32 [N, 10]"));
    QCOMPARE(info.inputs[0].suggested, std::string("normal:2x10:float32")); // the smallest batch it takes
    QCOMPARE(info.tensors.size(), std::size_t(4));
    QCOMPARE(info.tensors[0].name, std::string("fc1.weight"));
    QCOMPARE(info.tensors[0].shape, (std::vector<int64_t>{20, 10}));
    QCOMPARE(info.parameters.count, int64_t(20 * 10 + 20 + 10 * 20 + 10));
    QCOMPARE(info.savedDevices, (std::vector<std::string>{"cpu"}));
    QVERIFY2(info.extraFiles.front().find("by g++") != std::string::npos, info.extraFiles.front().c_str());
}

void TestPt2::exportedProgramIsExplained() {
    const twb::Diagnosis d = twb::diagnose(TWB_DATA("mlp_exported.pt2"));
    QCOMPARE(d.kind, twb::FileKind::Pt2);
    QVERIFY(!d.usable);
    QVERIFY2(d.summary.find("ExportedProgram") != std::string::npos || !hasLoader(), d.summary.c_str());
    QVERIFY2(d.fix.find("aoti_compile_and_package(ep, package_path=\"mlp_exported_aoti.pt2\")") !=
                     std::string::npos ||
                 !hasLoader(),
             d.fix.c_str());
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::Model::load(TWB_DATA("mlp_exported.pt2")));
}

void TestPt2::explainedWithoutTheLoader() {
    if (hasLoader())
        QSKIP("this LibTorch has AOTIModelPackageLoader: the packages run (runsAndMatchesPython)");
    const twb::Diagnosis d = twb::diagnose(TWB_DATA("mlp_aoti.pt2"));
    QVERIFY(!d.usable);
    QVERIFY2(d.error.find("need LibTorch 2.6 or newer") != std::string::npos, d.error.c_str());
    QVERIFY2(d.error.find(twb::buildInfo().libtorchVersion) != std::string::npos, d.error.c_str());
    try {
        twb::Model::load(TWB_DATA("mlp_aoti.pt2"));
        QFAIL("loaded a package without the loader");
    } catch (const twb::Error& e) {
        QVERIFY2(std::string(e.what()).find("LibTorch 2.6") != std::string::npos, e.what());
    }
}

void TestPt2::runsAndMatchesPython_data() {
    QTest::addColumn<QString>("package");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("mlp") << "mlp_aoti.pt2" << "mlp_x.npy" << "mlp_expected.npy";
    QTest::newRow("mlp, another batch") << "mlp_aoti.pt2" << "mlp_x5.npy" << "mlp_x5_expected.npy";
    QTest::newRow("cnn") << "cnn_aoti.pt2" << "cnn_x.npy" << "cnn_expected.npy";
}

void TestPt2::runsAndMatchesPython() {
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    QFETCH(QString, package);
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const twb::Model model = twb::Model::load(TWB_DATA(package.toStdString().c_str()));
    const twb::InputBinding b =
        model.bindInputs(twb::readInputs({twb::InputSpec::parse(TWB_DATA(input.toStdString().c_str()))}));
    QVERIFY2(b.ok, b.error.c_str());
    const std::string why =
        twbtest::compareToFile(model.forward(b), TWB_DATA(expected.toStdString().c_str()), 1e-5, 1e-4);
    QVERIFY2(why.empty(), why.c_str());
    // The harness measures it as it measures TorchScript.
    const twb::RunResult r = twb::runConfiguration(model, b, twb::RunConfig::parse("iters=20,warmup=3"));
    QVERIFY2(r.record.ok, r.record.error.c_str());
    QCOMPARE(r.record.samplesNs.size(), std::size_t(20));
    QVERIFY(twbtest::compareToFile(r.output, TWB_DATA(expected.toStdString().c_str()), 1e-5, 1e-4).empty());
}

void TestPt2::dynamicBatchAndShapeChecks() {
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    const twb::Model mlp = twb::Model::load(TWB_DATA("mlp_aoti.pt2"));
    const auto bind = [](const twb::Model& m, const char* gen) {
        return m.bindInputs(twb::readInputs({twb::InputSpec::parseGenerated(gen)}));
    };
    QVERIFY(bind(mlp, "normal:7x10").ok); // inside the dynamic batch range torch.export recorded
    const auto big = bind(mlp, "normal:70x10");
    QVERIFY(!big.ok);
    QVERIFY2(big.error.find("must be float32 [N, 10] with 2 ≤ N ≤ 64") != std::string::npos,
             big.error.c_str());
    const auto wide = bind(mlp, "normal:2x11");
    QVERIFY2(!wide.ok && wide.error.find("not float32 [2, 11]") != std::string::npos, wide.error.c_str());
    const auto dtype = bind(mlp, "normal:2x10:float64");
    QVERIFY2(!dtype.ok && dtype.error.find("not float64") != std::string::npos, dtype.error.c_str());
    const twb::Model cnn = twb::Model::load(TWB_DATA("cnn_aoti.pt2"));
    const auto batch = bind(cnn, "normal:2x3x12x16");
    QVERIFY2(!batch.ok && batch.error.find("must be float32 [1, 3, 12, 16]") != std::string::npos,
             batch.error.c_str());
    const auto two = mlp.bindInputs(twb::readInputs(
        {twb::InputSpec::parseGenerated("normal:2x10"), twb::InputSpec::parseGenerated("normal:2x10")}));
    QVERIFY2(!two.ok && two.error.find("takes 1 tensor but 2 were given") != std::string::npos,
             two.error.c_str());
}

void TestPt2::harnessRefusesJitAndPrecision() {
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    const twb::Model model = twb::Model::load(TWB_DATA("mlp_aoti.pt2"));
    const twb::InputBinding b =
        model.bindInputs(twb::readInputs({twb::InputSpec::parse(TWB_DATA("mlp_x.npy"))}));
    const auto jit = twb::runOnce(model, b, twb::RunConfig::parse("jit=optimize"));
    QVERIFY(!jit.record.ok);
    QVERIFY2(jit.record.error.find("JIT modes do not apply to an AOTInductor package") != std::string::npos,
             jit.record.error.c_str());
    const auto half = twb::runOnce(model, b, twb::RunConfig::parse("dtype=float16"));
    QVERIFY2(!half.record.ok && half.record.error.find("fixed when it is compiled") != std::string::npos,
             half.record.error.c_str());
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::Model(model).loadStateDict(TWB_DATA("cnn_state_dict.pth")));
}

void TestPt2::matchesItsTorchScriptTwin() {
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader");
    // The question users ask when they move to torch.export: as correct, and how much faster?
    const twb::Model package = twb::Model::load(TWB_DATA("cnn_aoti.pt2"));
    const twb::Model script = twb::Model::load(TWB_DATA("cnn_scripted.pt"));
    const std::vector<twb::InputSpec> specs{twb::InputSpec::parse(TWB_DATA("cnn_x.npy"))};
    twb::Plan plan;
    plan.configs = {twb::RunConfig::parse("iters=50,warmup=3")};
    const twb::Report a = twb::runPlan(script, specs, script.bindInputs(twb::readInputs(specs)), plan);
    const twb::Report b = twb::runPlan(package, specs, package.bindInputs(twb::readInputs(specs)), plan);
    QVERIFY(a.runs.front().ok && b.runs.front().ok);
    QCOMPARE(b.model.kind, std::string("pt2"));
    const twb::LatencyComparison c =
        twb::compareLatency(a.runs.front().samplesNs, b.runs.front().samplesNs, "TorchScript", "AOTInductor");
    QVERIFY(!c.verdict.empty());
    qInfo("%s", c.verdict.c_str());
    const twb::Value out = package.forward(package.bindInputs(twb::readInputs(specs)));
    const twb::Value twin = script.forward(script.bindInputs(twb::readInputs(specs)));
    twb::CompareOptions o;
    o.atol = 1e-5;
    o.rtol = 1e-4;
    QVERIFY2(twb::compareOutputs(twin, out, o).allclose, twb::compareOutputs(twin, out, o).summary.c_str());
}

void TestPt2::instructionSetsTheCpuLacksAreNamed() {
    // This machine's kind: AVX2 and no AVX-512 (an AMD EPYC of 2020, say).
    const std::vector<std::string> avx2{"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"};
    QCOMPARE(twb::missingCpuFeatures("AVX2", avx2), std::string());
    const std::string lacks = twb::missingCpuFeatures("AVX512 AVX512_VNNI", avx2);
    QVERIFY2(twbtest::contains(lacks, "AVX512 (avx512f, avx512dq, avx512vl, avx512bw)"), lacks.c_str());
    QVERIFY2(twbtest::contains(lacks, "AVX512_VNNI (avx512_vnni)"), lacks.c_str());
    // One that has it all; inductor's lower-case names too.
    std::vector<std::string> server = avx2;
    for (const char* f : {"avx512f", "avx512dq", "avx512vl", "avx512bw", "avx512_vnni"})
        server.push_back(f);
    QCOMPARE(twb::missingCpuFeatures("AVX512 AVX512_VNNI", server), std::string());
    QVERIFY(twbtest::contains(twb::missingCpuFeatures("avx512 amx_tile", server), "AMX_TILE (amx_tile"));
    // No verdict without the CPU's flags, or for a set this check does not know.
    QCOMPARE(twb::missingCpuFeatures("AVX512", {}), std::string());
    QCOMPARE(twb::missingCpuFeatures("VSX", avx2), std::string());
    QCOMPARE(twb::missingCpuFeatures("", avx2), std::string());
}

void TestPt2::aPackageForAnotherMachineIsRefusedBeforeItRuns() {
    // The fixture, its records saying it was compiled for another architecture than this machine's: its
    // code never loads (it would die at its first instruction), and the diagnosis says why and how to fix it.
    QTemporaryDir dir;
    const QString copy = dir.filePath("mlp_elsewhere.pt2");
    const QString rewrite =
        QStringLiteral("import sys, zipfile, platform\n"
                       "other = 'aarch64' if platform.machine() != 'aarch64' else 'x86_64'\n"
                       "src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w')\n"
                       "for i in src.infolist():\n"
                       "    data = src.read(i)\n"
                       "    if i.filename.endswith('_metadata.json'):\n"
                       "        data = data.replace(b'\"x86_64\"', ('\"' + other + '\"').encode())"
                       ".replace(b'\"aarch64\"', ('\"' + other + '\"').encode())\n"
                       "    dst.writestr(i, data)\n"
                       "dst.close()\n");
    QProcess python;
    python.start(qEnvironmentVariable("TWB_PYTHON", QStringLiteral("python3")),
                 {"-c", rewrite, QString::fromStdString(TWB_DATA("mlp_aoti.pt2")), copy});
    if (!python.waitForFinished(60000) || python.exitCode() != 0)
        QSKIP(qPrintable("Python cannot rewrite the package here: " + python.readAllStandardError()));
    const twb::Diagnosis d = twb::diagnose(copy.toStdString());
    QCOMPARE(d.kind, twb::FileKind::Pt2);
    if (!hasLoader()) QSKIP("this LibTorch has no AOTIModelPackageLoader: it refuses every package");
    QVERIFY(!d.usable);
    QVERIFY2(twbtest::contains(d.error, "it was compiled for") &&
                 twbtest::contains(d.error, "this machine is"),
             d.error.c_str());
    QVERIFY2(twbtest::contains(d.fix, "cpp.simdlen = 256"), d.fix.c_str());
    QVERIFY2(twbtest::contains(d.fix, "mlp_elsewhere_avx2.pt2"), d.fix.c_str());
    // Loading it anyway is refused with the same reason, before any of its code runs.
    try {
        const twb::Model m = twb::Model::load(copy.toStdString());
        QFAIL("a package compiled for another machine loaded");
    } catch (const twb::Error& e) {
        QVERIFY2(twbtest::contains(e.what(), "this machine is"), e.what());
    }
}

TWB_TEST_MAIN(TestPt2)
#include "tst_pt2.moc"
