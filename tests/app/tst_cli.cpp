// torchwb end to end, as a user runs it: on models Python exported, with
// inputs from every format, compared with the outputs Python computed.
#include "test_support.h"
#include "twb/build_info.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void divergeNamesWhereTheyPart();
    void initTestCase();
    void version();
    void usageErrors();
    void inspectJson_data();
    void inspectJson();
    void inspectText();
    void runEveryFormat_data();
    void runEveryFormat();
    void runWithStateDict();
    void runNamedAndGenerated();
    void runNestedWritesPt();
    void runExplainsMismatch();
    void scalarArgumentsFromTheCommandLine();
    void runRefusesUnusableModel();
    void runModernModels_data();
    void runModernModels();
    void suggestedInputs_data();
    void suggestedInputs();
    void suggestedInputsForResnet18();
    void failureOnSuggestedInputsSaysSo();
    void pythonReadsWhatWeWrite();
    void runWithConfigurationAndReference();
    void benchWritesReportAndCsv();
    void benchComparesConfigurations();
    void benchRefusesCuda();
    void runAndBenchOnCuda();
    void baselineGate();
    void compareOutputFiles();
    void profileTablesDiffAndTrace();
    void profileByModuleAndLine();
    void sweepRecommendsAndCompares();
    void aotiPackages();
    void operatorLibraries();
    void torchvisionOperatorsFromDebian();
    void mobileFileRunsWhereXnnpackIs();

private:
    struct Result {
        int code = -1;
        QString out, err;
    };
    Result torchwb(const QStringList& args);
    QString m_exe;
    QTemporaryDir m_tmp;
};

TestCli::Result TestCli::torchwb(const QStringList& args) {
    QProcess p;
    p.start(m_exe, args);
    if (!p.waitForFinished(120000)) return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

static QString data(const char* name) {
    return QString::fromStdString(TWB_DATA(name));
}

void TestCli::initTestCase() {
    m_exe = qEnvironmentVariable("TORCHWB");
    if (m_exe.isEmpty()) QSKIP("TORCHWB is not set: run through ctest");
    // The machine-peak cache of torchwb profile goes to a folder of the test's own.
    qputenv("XDG_CACHE_HOME", m_tmp.filePath("cache").toUtf8());
    QVERIFY(QFileInfo(m_exe).isExecutable());
}

void TestCli::version() {
    const Result r = torchwb({"--version"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("LibTorch ") && r.out.contains("CUDA compiled in:"), qPrintable(r.out));
    const Result j = torchwb({"version", "--json"});
    QCOMPARE(j.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(j.out.toUtf8()).object();
    QVERIFY(o.contains("libtorch") && o.contains("cuda_compiled") && o.contains("cuda_available"));
    QVERIFY(!o.value("cuda_status").toString().isEmpty());
}

void TestCli::usageErrors() {
    QCOMPARE(torchwb({"inspect"}).code, 2);
    QCOMPARE(torchwb({"frobnicate"}).code, 2);
    QCOMPARE(torchwb({"run", data("mlp_traced.pt"), "--threads", "-3"}).code, 2);
    const Result help = torchwb({"--help"});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("inspect") && help.out.contains("run"));
}

void TestCli::inspectJson_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<qlonglong>("count");
    QTest::newRow("traced") << "mlp_traced.pt"
                            << "torchscript" << 0 << 430LL;
    QTest::newRow("scripted") << "cnn_scripted.pt"
                              << "torchscript" << 0 << 285LL;
    QTest::newRow("state_dict") << "cnn_state_dict.pth"
                                << "state_dict" << 0 << 302LL;
    QTest::newRow("pickled module") << "cnn_pickled_module.pt"
                                    << "pickled_module" << 1 << 0LL;
    QTest::newRow("pt2") << "exported.pt2"
                         << "pt2" << 1 << 0LL;
    QTest::newRow("onnx") << "cnn.onnx"
                          << "onnx" << 1 << 0LL;
    QTest::newRow("legacy") << "cnn_legacy.pth"
                            << "legacy_pickle" << 1 << 0LL;
    QTest::newRow("corrupt") << "truncated.pt"
                             << "corrupt" << 1 << 0LL;
    QTest::newRow("empty") << "empty.pt"
                           << "empty" << 1 << 0LL;
}

void TestCli::inspectJson() {
    QFETCH(QString, file);
    QFETCH(QString, kind);
    QFETCH(int, exitCode);
    QFETCH(qlonglong, count);
    const Result r = torchwb({"inspect", "--json", data(file.toUtf8().constData())});
    QCOMPARE(r.code, exitCode);
    QJsonParseError error;
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(r.out));
    QCOMPARE(o.value("kind").toString(), kind);
    QCOMPARE(o.value("parameters").toObject().value("count").toInteger(), count);
    QVERIFY(o.value("methods").isArray() && o.value("inputs").isArray());
    if (exitCode == 0 && kind == "torchscript") {
        QCOMPARE(o.value("inputs").toArray().at(0).toObject().value("name").toString(), QString("x"));
        QCOMPARE(o.value("inputs").toArray().at(0).toObject().value("type").toString(), QString("Tensor"));
        QVERIFY(
            o.value("methods").toArray().at(0).toObject().value("schema").toString().startsWith("forward("));
    }
    if (kind == "state_dict") QCOMPARE(o.value("tensors").toArray().size(), 9);
    if (exitCode == 1) {
        QVERIFY(!o.value("error").toString().isEmpty());
        QVERIFY(!o.value("fix").toString().isEmpty());
    }
}

void TestCli::inspectText() {
    const Result r = torchwb({"inspect", data("cnn_pickled_module.pt")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.out.contains("torch.jit.script(model)"), qPrintable(r.out));
    const Result ok = torchwb({"inspect", "--code", data("two_inputs.pt")});
    QCOMPARE(ok.code, 0);
    QVERIFY2(ok.out.contains("(x: Tensor, y: Tensor, scale: float = 1.) -> Tuple[Tensor, Tensor]"),
             qPrintable(ok.out));
    QVERIFY(ok.out.contains("def forward"));
}

void TestCli::runEveryFormat_data() {
    QTest::addColumn<QString>("input");
    for (const char* f : {"mlp_x.npy", "mlp_x.npz", "mlp_x_compressed.npz", "mlp_x.pt", "mlp_x.safetensors",
                          "mlp_x.csv", "mlp_x_bigendian.npy"})
        QTest::newRow(f) << QString(f);
}

void TestCli::runEveryFormat() {
    QFETCH(QString, input);
    const QString out = m_tmp.filePath("mlp_" + input + ".npy");
    const Result r =
        torchwb({"run", data("mlp_traced.pt"), "--input", data(input.toUtf8().constData()), "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const std::string why =
        twbtest::compareToFile(twb::readTensorFile(out.toStdString()), TWB_DATA("mlp_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
}

void TestCli::runWithStateDict() {
    const QString out = m_tmp.filePath("cnn_sd.npy");
    const Result r = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--state-dict",
                              data("cnn_state_dict.pth"), "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("All keys matched successfully"), qPrintable(r.out));
    const std::string why = twbtest::compareToFile(twb::readTensorFile(out.toStdString()),
                                                   TWB_DATA("cnn_state_dict_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
    const Result bad = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--state-dict",
                                data("cnn_state_dict_bad.pth")});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("Missing key(s) in state_dict: \"head.bias\""), qPrintable(bad.err));
    const Result loose = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--state-dict",
                                  data("cnn_state_dict_bad.pth"), "--non-strict"});
    QVERIFY2(loose.code == 0, qPrintable(loose.err));
    // Checkpoints as training code writes them, with Python objects and prefixes, against Python's output.
    for (const QStringList& extra :
         {QStringList{data("ckpt_torchvision.pth")}, QStringList{data("sd_dataparallel.pth")},
          QStringList{data("ckpt_lightning.ckpt"), "--strip-prefix", "model."}}) {
        const Result r =
            torchwb(QStringList{"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--reference",
                                data("cnn_state_dict_expected.npy"), "--state-dict"} +
                    extra);
        QVERIFY2(r.code == 0 && r.out.contains("the output is allclose"),
                 qPrintable(extra.join(' ') + r.err + r.out));
    }
    const Result ema = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--state-dict",
                                data("ckpt_timm.pth"), "--state-dict-key", "state_dict_ema"});
    QVERIFY2(ema.code == 0 && ema.out.contains("state_dict found under 'state_dict_ema'"),
             qPrintable(ema.err + ema.out));
    const Result noKey = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--state-dict",
                                  data("ckpt_timm.pth"), "--state-dict-key", "teacher"});
    QCOMPARE(noKey.code, 1);
    QVERIFY2(noKey.err.contains("'state_dict', 'state_dict_ema'"), qPrintable(noKey.err));
    const Result timm = torchwb({"inspect", data("ckpt_timm.pth")});
    QVERIFY2(timm.out.contains("(others: 'state_dict_ema'; choose with --state-dict-key)"),
             qPrintable(timm.out));
    const Result described = torchwb({"inspect", data("ckpt_torchvision.pth")});
    QCOMPARE(described.code, 0);
    QVERIFY2(
        described.out.contains("argparse.Namespace(lr=0.1, arch='cnn', epochs=90): kept as text, not run") &&
            described.out.contains("optimizer: optimizer state, not a model"),
        qPrintable(described.out));
}

void TestCli::runNamedAndGenerated() {
    const QString out = m_tmp.filePath("tokens.npy");
    const Result r = torchwb({"run", data("tokens.pt"), "-i", "count=" + data("tokens_count.npy"), "-i",
                              "tokens=" + data("tokens_ids.npy"), "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const std::string why =
        twbtest::compareToFile(twb::readTensorFile(out.toStdString()), TWB_DATA("tokens_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
    // Generated inputs interleave with files in command-line order.
    const Result g = torchwb(
        {"run", data("two_inputs.pt"), "-g", "normal:3x4:seed=1", "-i", data("two_inputs_y.npy"), "--json"});
    QVERIFY2(g.code == 0, qPrintable(g.err));
    const QJsonArray leaves = QJsonDocument::fromJson(g.out.toUtf8()).array();
    QCOMPARE(leaves.size(), 2);
    QCOMPARE(leaves.at(1).toObject().value("path").toString(), QString("out[1]"));
}

void TestCli::runNestedWritesPt() {
    const QString out = m_tmp.filePath("nested.pt");
    const Result r = torchwb({"run", data("nested_out.pt"), "-i", data("mlp_x.npy"), "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("out[1][1][0]  float32 [2, 10]"), qPrintable(r.out));
    const twb::Value back = twb::readTensorFile(out.toStdString());
    QCOMPARE(back.describe(),
             std::string(
                 "(Tensor[2] float32, (Tensor[2] float32, [Tensor[2, 10] float32, Tensor[2, 10] float32]))"));
    const Result npy =
        torchwb({"run", data("nested_out.pt"), "-i", data("mlp_x.npy"), "-o", m_tmp.filePath("n.npy")});
    QCOMPARE(npy.code, 1);
    QVERIFY2(npy.err.contains("write .pt instead"), qPrintable(npy.err));
}

void TestCli::scalarArgumentsFromTheCommandLine() {
    // forward(x, y, scale: float): a bare number is the float, and Python's output at scale 2.5 comes back.
    const QString out = m_tmp.filePath("scaled.pt");
    const Result r = torchwb(
        {"run", data("two_inputs.pt"), "-i", data("two_inputs_xy.npz"), "-g", "scale=2.5", "-o", out});
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("scale <- generated full:scalar:float64:value=2.5"), qPrintable(r.out));
    const twb::Value back = twb::readTensorFile(out.toStdString());
    QCOMPARE(back.size(), std::size_t(2));
    const std::string why = twbtest::compareToFile(back.at(1), TWB_DATA("two_inputs_expected1_scale2.5.npy"));
    QVERIFY2(why.empty(), why.c_str());
    // Python saved only the second output. Both outputs are [3, 4], so which one must be named.
    const Result ambiguous = torchwb({"run", data("two_inputs.pt"), "-i", data("two_inputs_xy.npz"), "-i",
                                      "scale=2.5", "--reference", data("two_inputs_expected1_scale2.5.npy")});
    QCOMPARE(ambiguous.code, 1);
    QVERIFY2(ambiguous.err.contains("out[0], out[1] of that shape") &&
                 ambiguous.err.contains("--reference-leaf"),
             qPrintable(ambiguous.err));
    const Result named =
        torchwb({"run", data("two_inputs.pt"), "-i", data("two_inputs_xy.npz"), "-i", "scale=2.5",
                 "--reference", data("two_inputs_expected1_scale2.5.npy"), "--reference-leaf", "[1]"});
    QVERIFY2(named.code == 0 && named.out.contains("against out[1] (as asked): the output is allclose"),
             qPrintable(named.out + named.err));
    const Result bad =
        torchwb({"run", data("two_inputs.pt"), "-i", data("two_inputs_xy.npz"), "-g", "scale=2.5x"});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("2.5x"), qPrintable(bad.err));
}

void TestCli::runExplainsMismatch() {
    const Result r = torchwb({"run", data("two_inputs.pt"), "-i", data("two_inputs_x.npy")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("forward needs 'y' (Tensor)"), qPrintable(r.err));
    const Result dtype = torchwb({"run", data("mlp_traced.pt"), "-i", data("mlp_x_fortran.npy")});
    QCOMPARE(dtype.code, 1);
    QVERIFY2(dtype.err.contains("input 'x' is float64 but the model's weights are float32"),
             qPrintable(dtype.err));
    const Result missing = torchwb({"run", data("mlp_traced.pt"), "-i", "/nonexistent/x.npy"});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains("/nonexistent/x.npy: no such file"), qPrintable(missing.err));
}

void TestCli::runRefusesUnusableModel() {
    const Result r = torchwb({"run", data("cnn_pickled_module.pt"), "-i", data("cnn_x.npy")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("torch.jit.script"), qPrintable(r.err));
}

void TestCli::runModernModels_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("reference");
    QTest::addColumn<bool>("needsSdpa"); // calls aten::scaled_dot_product_attention (PyTorch 2.0)
    QTest::newRow("attention scripted") << "attention_scripted.pt"
                                        << "attention_x.npy"
                                        << "attention_expected.npy" << true;
    QTest::newRow("attention traced") << "attention_traced.pt"
                                      << "attention_x.npy"
                                      << "attention_expected.npy" << true;
    QTest::newRow("nn.MultiheadAttention") << "mha_scripted.pt"
                                           << "mha_inputs.pt"
                                           << "mha_expected.pt" << true;
    QTest::newRow("gelu tanh") << "gelu_tanh.pt"
                               << "gelu_tanh_x.npy"
                               << "gelu_tanh_expected.npy" << false;
}

// Models saved by PyTorch 2.13 reproduce Python's outputs on a 2.x LibTorch; where the LibTorch
// lacks an operator they call, the failure names it and the release that added it.
void TestCli::runModernModels() {
    QFETCH(QString, model);
    QFETCH(QString, input);
    QFETCH(QString, reference);
    QFETCH(bool, needsSdpa);
    const Result r = torchwb({"run", data(model.toUtf8().constData()), "-i", data(input.toUtf8().constData()),
                              "--reference", data(reference.toUtf8().constData())});
    if (needsSdpa && twbtest::libtorchMajor() < 2) {
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("uses aten::scaled_dot_product_attention (added in PyTorch 2.0)") &&
                     r.err.contains("does not have"),
                 qPrintable(r.err));
        const Result why = torchwb({"inspect", data(model.toUtf8().constData())});
        QVERIFY2(why.out.contains("LibTorch ≥ 2.0"), qPrintable(why.out));
        return;
    }
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("allclose") && !r.out.contains("NOT allclose"), qPrintable(r.out));
}

void TestCli::suggestedInputs_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("argument");
    QTest::addColumn<QString>("generator");
    QTest::addColumn<QString>("reason");
    QTest::newRow("traced MLP") << "mlp_traced.pt"
                                << "x"
                                << "normal:1x10:float32"
                                << "first layer Linear(10, 20)";
    QTest::newRow("scripted CNN") << "cnn_scripted.pt"
                                  << "x"
                                  << "normal:1x3x224x224:float32"
                                  << "first layer Conv2d(3, 8): Float[N, 3, H, W], H and W free";
    QTest::newRow("embedding ids") << "tokens.pt"
                                   << "tokens"
                                   << "randint:1x16:int64:low=0:high=50"
                                   << "Embedding(50, 6): Long ids in [0, 50)";
    QTest::newRow("an int argument") << "tokens.pt"
                                     << "count"
                                     << "ones:1:int64"
                                     << "an int";
}

// With no inputs (or --generate auto) the model's first layers say what to feed it, and that runs.
void TestCli::suggestedInputs() {
    QFETCH(QString, model);
    QFETCH(QString, argument);
    QFETCH(QString, generator);
    QFETCH(QString, reason);
    const QString file = data(model.toUtf8().constData());
    const Result inspect = torchwb({"inspect", "--json", file});
    QCOMPARE(inspect.code, 0);
    QJsonObject suggested;
    for (const auto& in : QJsonDocument::fromJson(inspect.out.toUtf8()).object().value("inputs").toArray())
        if (in.toObject().value("name").toString() == argument)
            suggested = in.toObject().value("suggested").toObject();
    QCOMPARE(suggested.value("generator").toString(), generator);
    QVERIFY2(suggested.value("reason").toString().startsWith(reason),
             qPrintable(suggested.value("reason").toString()));
    const Result run = torchwb({"run", file});
    QVERIFY2(run.code == 0, qPrintable(run.err + run.out));
    QVERIFY2(run.out.contains("input   " + argument + ": generated " + generator + " (suggested: " + reason),
             qPrintable(run.out));
    const Result bench = torchwb({"bench", file, "--generate", "auto", "--iters", "5", "-q"});
    QVERIFY2(bench.code == 0, qPrintable(bench.err + bench.out));
    QVERIFY2(!run.err.contains("note:") && !bench.err.contains("note:"), qPrintable(run.err + bench.err));
}

// A run that fails on what the model suggested says which inputs were suggestions, and how to give others;
// one on inputs given says nothing of the kind.
void TestCli::failureOnSuggestedInputsSaysSo() {
    const Result both = torchwb({"run", data("two_inputs.pt")});
    QCOMPARE(both.code, 1);
    QVERIFY2(both.err.contains("note: x, y were not given") && both.err.contains("-i x=FILE"),
             qPrintable(both.err));
    const Result one = torchwb({"run", data("two_inputs.pt"), "-g", "x=normal:1x3", "-g", "auto"});
    QCOMPARE(one.code, 1);
    QVERIFY2(one.err.contains("note: y was not given"), qPrintable(one.err));
    const Result bench = torchwb({"bench", data("two_inputs.pt"), "--iters", "3", "-q"});
    QCOMPARE(bench.code, 1);
    QVERIFY2(bench.err.contains("note: x, y were not given"), qPrintable(bench.err + bench.out));
    const Result given = torchwb({"run", data("two_inputs.pt"), "-g", "normal:1x3", "-g", "normal:1x4"});
    QCOMPARE(given.code, 1);
    QVERIFY2(!given.err.contains("note:"), qPrintable(given.err));
}

// A torchvision-style resnet18, traced at 1x3x224x224 by Python: the suggestion is that shape.
void TestCli::suggestedInputsForResnet18() {
    const QString python = qEnvironmentVariable("TWB_PYTHON", QStringLiteral("python3"));
    QProcess make;
    make.start(python, {QFileInfo(QString::fromStdString(TWB_DATA("make_fixtures.py"))).absolutePath() +
                            "/../perf/make_models.py",
                        m_tmp.filePath("models")});
    if (!make.waitForFinished(180000) || make.exitCode() != 0)
        QSKIP(qPrintable("Python with torch cannot export the models here: " + make.readAllStandardError()));
    const QString resnet = m_tmp.filePath("models/resnet18.pt");
    const Result r = torchwb({"run", resnet, "--threads", "2"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("generated normal:1x3x224x224:float32 (suggested: first layer Conv2d(3, 64)"),
             qPrintable(r.out));
    QVERIFY2(r.out.contains("[1, 1000]"), qPrintable(r.out));
}

void TestCli::pythonReadsWhatWeWrite() {
    // The project's venv Python (the build passes it in), whose torch is the one users export with.
    const QString python = qEnvironmentVariable("TWB_PYTHON", QStringLiteral("python3"));
    QProcess probe;
    probe.start(python, {"-c", "import torch, numpy"});
    if (!probe.waitForFinished(60000) || probe.exitCode() != 0)
        QSKIP("Python with torch and numpy is not installed");
    const QString pt = m_tmp.filePath("py_nested.pt"), npy = m_tmp.filePath("py_mlp.npy");
    QCOMPARE(torchwb({"run", data("nested_out.pt"), "-i", data("mlp_x.npy"), "-o", pt}).code, 0);
    QCOMPARE(torchwb({"run", data("mlp_traced.pt"), "-i", data("mlp_x.npy"), "-o", npy}).code, 0);
    const QString script = QStringLiteral(
        "import sys, torch, numpy as np\n"
        "out = torch.load(sys.argv[1])\n"
        "x = torch.from_numpy(np.load(sys.argv[3]))\n"
        "assert isinstance(out, tuple) and isinstance(out[1], tuple) and isinstance(out[1][1], list), out\n"
        "assert torch.allclose(out[1][1][0], x * 2)\n"
        "assert np.allclose(np.load(sys.argv[2]), np.load(sys.argv[4]), atol=1e-5)\n"
        "print('ok')\n");
    QProcess py;
    py.start(python, {"-c", script, pt, npy, data("mlp_x.npy"), data("mlp_expected.npy")});
    QVERIFY(py.waitForFinished(60000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()).trimmed(), QString("ok"));
}

static QJsonObject readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

void TestCli::runWithConfigurationAndReference() {
    const Result r = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--jit", "optimize",
                              "--threads", "1", "--reference", data("cnn_expected.npy")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("cpu · jit optimize · 1 thread"), qPrintable(r.out));
    QVERIFY2(r.out.contains("the output is allclose"), qPrintable(r.out));
    const Result wrong = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--reference",
                                  data("cnn_state_dict_expected.npy")});
    QCOMPARE(wrong.code, 1);
    QVERIFY2(wrong.out.contains("NOT allclose"), qPrintable(wrong.out));
    const Result bad = torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--jit", "fast"});
    QCOMPARE(bad.code, 2); // a usage error
    QVERIFY2(bad.err.contains("jit is off, freeze or optimize"), qPrintable(bad.err));
}

void TestCli::benchWritesReportAndCsv() {
    const QString json = m_tmp.filePath("bench.json"), csv = m_tmp.filePath("bench.csv");
    const Result r = torchwb({"bench", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "--iters", "20",
                              "--warmup", "3", "--threads", "1", "--json", json, "--csv", csv});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("median") && r.out.contains("cpu · jit off · 1 thread"), qPrintable(r.out));
    const QJsonObject o = readJson(json);
    QVERIFY(o.value("latency_ms").toObject().value("median").toDouble() > 0);
    QVERIFY(o.value("latency_ms").toObject().contains("mean") &&
            o.value("latency_ms").toObject().contains("p99"));
    QCOMPARE(o.value("config").toObject().value("threads").toInt(), 1);
    QCOMPARE(o.value("samples_ns").toArray().size(), 20);
    QCOMPARE(o.value("runs").toArray().at(0).toObject().value("samples_ns").toArray().size(), 20);
    QCOMPARE(o.value("model").toObject().value("sha256").toString().size(), 64);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), 1 + 3 + 20);
}

void TestCli::benchComparesConfigurations() {
    const QString json = m_tmp.filePath("two.json");
    // folding.pt recomputes a weight-only product chain on every call unless the JIT folds it, so
    // optimize_for_inference is far faster on every LibTorch and BLAS.
    const Result r = torchwb({"bench", data("folding.pt"), "--generate", "normal:2x10:seed=1", "-c",
                              "jit=off", "-c", "jit=optimize", "--iters", "40", "--json", json});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("cpu · jit optimize is ") && r.out.contains("faster than cpu · jit off (95% CI"),
             qPrintable(r.out));
    QVERIFY2(r.out.contains("the output is allclose"), qPrintable(r.out));
    const QJsonObject c = readJson(json).value("comparisons").toArray().at(0).toObject();
    QVERIFY(c.value("significant").toBool());
    QVERIFY(c.value("speedup").toDouble() > 1.5);
    QVERIFY(c.value("outputs").toObject().value("allclose").toBool());
}

void TestCli::benchRefusesCuda() {
    if (twb::buildInfo().cudaAvailable)
        QSKIP("CUDA is available here: its refusal is tested where it is absent");
    const Result r = torchwb(
        {"bench", data("mlp_traced.pt"), "-i", data("mlp_x.npy"), "--device", "cuda", "--iters", "3"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.out.contains("failed: device 'cuda' cannot be used") || r.out.contains("does not exist"),
             qPrintable(r.out));
}

void TestCli::runAndBenchOnCuda() {
    const twb::BuildInfo b = twb::buildInfo();
    if (!b.cudaAvailable)
        QSKIP(qPrintable("CUDA is not usable here: " + QString::fromStdString(b.cudaStatus)));
    const Result run = torchwb({"run", data("mlp_traced.pt"), "-i", data("mlp_x.npy"), "--device", "cuda",
                                "--reference", data("mlp_expected.npy"), "--atol", "1e-4"});
    QVERIFY2(run.code == 0, qPrintable(run.err + run.out));
    QVERIFY2(run.out.contains("allclose") && !run.out.contains("NOT allclose"), qPrintable(run.out));
    const Result bench = torchwb({"bench", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "-c",
                                  "device=cpu", "-c", "device=cuda", "--iters", "30", "--atol", "1e-4"});
    QVERIFY2(bench.code == 0, qPrintable(bench.err + bench.out));
    QVERIFY2(bench.out.contains("CUDA peak") && bench.out.contains("CUDA event median"),
             qPrintable(bench.out));
    QVERIFY2(bench.out.contains("the output is allclose"), qPrintable(bench.out));
}

void TestCli::baselineGate() {
    const QString fast = m_tmp.filePath("fast.json"), slow = m_tmp.filePath("slow.json");
    const QStringList common{"--generate", "normal:2x10:seed=1", "--iters", "60", "--warmup", "5"};
    const QString model = data("folding.pt");
    QCOMPARE(torchwb(QStringList{"bench", model, "--jit", "optimize", "--json", fast} + common).code, 0);
    QCOMPARE(torchwb(QStringList{"bench", model, "--jit", "off", "--json", slow} + common).code, 0);
    const QString gated = m_tmp.filePath("gated.json");
    const Result regression = torchwb(
        QStringList{"bench", model, "--baseline", fast, "--max-slowdown", "5%", "--json", gated} + common);
    QCOMPARE(regression.code, 1);
    // The verdict comes last, and the report keeps it.
    QVERIFY2(regression.out.trimmed().endsWith("verdict: regression"), qPrintable(regression.out));
    QCOMPARE(readJson(gated).value("gate").toObject().value("verdict").toString(), QString("regression"));
    const Result fine =
        torchwb(QStringList{"bench", model, "--jit", "optimize", "--baseline", slow} + common);
    QVERIFY2(fine.code == 0, qPrintable(fine.out));
    QVERIFY2(fine.out.trimmed().endsWith("verdict: pass"), qPrintable(fine.out));
    // --against measures the baseline model beside the candidate, rounds interleaved: the folding model
    // unoptimized is far slower than the plain MLP on the same [2, 10] input.
    const Result against = torchwb(QStringList{"bench", model, "--against", data("mlp_traced.pt")} + common);
    QCOMPARE(against.code, 1);
    QVERIFY2(against.out.contains("folding.pt · cpu · jit off is ") &&
                 against.out.contains("slower than mlp_traced.pt"),
             qPrintable(against.out));
    QVERIFY2(against.out.trimmed().endsWith("verdict: regression"), qPrintable(against.out));
    const Result better = torchwb(QStringList{"bench", data("mlp_traced.pt"), "--against", model} + common);
    QCOMPARE(better.code, 0);
    QVERIFY2(better.out.trimmed().endsWith("verdict: pass"), qPrintable(better.out));
    const Result reports = torchwb({"compare", slow, fast, "--json"});
    QCOMPARE(reports.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(reports.out.toUtf8()).object();
    QVERIFY(j.value("runs").toArray().at(0).toObject().value("speedup").toDouble() > 1.5);
}

void TestCli::compareOutputFiles() {
    const QString out = m_tmp.filePath("cmp.npy");
    QCOMPARE(torchwb({"run", data("mlp_traced.pt"), "-i", data("mlp_x.npy"), "-o", out}).code, 0);
    const Result same = torchwb({"compare", data("mlp_expected.npy"), out, "--json"});
    QCOMPARE(same.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(same.out.toUtf8()).object();
    QVERIFY(j.value("allclose").toBool());
    QCOMPARE(j.value("leaves").toArray().at(0).toObject().value("path").toString(), QString("out"));
    QVERIFY(j.value("leaves").toArray().at(0).toObject().contains("max_abs"));
    const Result differ = torchwb({"compare", data("mlp_expected.npy"), data("mlp_x.npy")});
    QCOMPARE(differ.code, 1);
    QVERIFY2(differ.out.contains("NOT allclose") && differ.out.contains("first differing indices"),
             qPrintable(differ.out));
    const Result shapes = torchwb({"compare", data("mlp_expected.npy"), data("cnn_expected.npy"), "--json"});
    QCOMPARE(shapes.code, 1);
    QCOMPARE(QJsonDocument::fromJson(shapes.out.toUtf8()).object().value("allclose").toBool(), false);
    QCOMPARE(torchwb({"compare", data("mlp_expected.npy"), m_tmp.filePath("fast.json")}).code, 2);
}

// torchwb diverge as a user runs it: float16 against the model as saved, in a worker; the last line says
// where they part, the exit status that they do, and the JSON report holds every tensor's figures.
void TestCli::divergeNamesWhereTheyPart() {
    const QString json = m_tmp.filePath("divergence.json");
    const Result r = torchwb({"diverge", data("overflow.pt"), "-i", data("overflow_x.npy"), "-c",
                              "dtype=float16", "--json", json});
    if (r.out.contains("not implemented for"))
        QSKIP("this LibTorch has no float16 kernels for these on the CPU");
    QCOMPARE(r.code, 3);
    QVERIFY2(r.out.contains("First divergence: aten::mul at "), qPrintable(r.out));
    const QStringList lines = r.out.trimmed().split('\n');
    QVERIFY2(lines.size() >= 2 && lines[lines.size() - 2].contains("part at aten::mul"), qPrintable(r.out));
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(report.value("schema").toString(), QString("torch-workbench-divergence"));
    QCOMPARE(report.value("nodes").toArray().size(), 4);
    QCOMPARE(report.value("b").toObject().value("config").toString().contains("dtype=float16"), true);
    // Agreeing configurations: status 0; a configuration that cannot run here: status 1, and why.
    const Result same =
        torchwb({"diverge", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "-c", "jit=freeze"});
    QCOMPARE(same.code, 0);
    QVERIFY2(same.out.trimmed().endsWith("and so are the outputs."), qPrintable(same.out));
    const Result bad = torchwb({"diverge", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "-c", "jit=off",
                                "-c", "jit=freeze", "-c", "jit=optimize"});
    QVERIFY(bad.code != 0 && bad.code != 3);
}

TWB_TEST_MAIN(TestCli)

void TestCli::profileTablesDiffAndTrace() {
    const QString trace = m_tmp.filePath("profile_trace.json"), json = m_tmp.filePath("profile.json");
    const Result r =
        torchwb({"profile", QString::fromStdString(TWB_DATA("../../resources/sample/sample_cnn.pt")), "-i",
                 QString::fromStdString(TWB_DATA("../../resources/sample/sample_input.npy")), "--threads",
                 "2", "--seconds", "0.2", "--calls", "3", "--diff", "jit=optimize", "--trace", trace,
                 "--json", json, "-q"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    // torch.profiler's columns, then ours; the totals line, the roofline sentence, the diff.
    QVERIFY2(r.out.contains("Self %") && r.out.contains("GFLOP/s"), qPrintable(r.out));
    QVERIFY2(r.out.contains("aten::conv2d"), qPrintable(r.out));
    // One forward time leads (the unprofiled median, as bench measures it); the profiled one is explained.
    QVERIFY2(r.out.contains("Forward: ") && r.out.contains("Under the profiler: ") &&
                 r.out.contains("unattributed") && r.out.contains("tables are per forward"),
             qPrintable(r.out));
    QVERIFY2(r.out.contains("Machine peak: ") && r.out.contains("GFLOP/s FP32 by "), qPrintable(r.out));
    QVERIFY2(r.out.contains("bound; it runs at "), qPrintable(r.out));
    QVERIFY2(r.out.contains("What changed, per forward"), qPrintable(r.out));
    QVERIFY2(r.out.contains("prim::mkldnn_convolution"), qPrintable(r.out));
    QVERIFY2(!r.err.contains("profiler_start"), qPrintable(r.err)); // libkineto's chatter is kept off stderr
    const QJsonObject report = readJson(json);
    QCOMPARE(report.value("schema_version").toInt(), 3);
    QCOMPARE(report.value("profiles").toArray().size(), 2);
    QCOMPARE(twbtest::traceForwards(trace), 2 * 3);
}

void TestCli::profileByModuleAndLine() {
    const QString model = data("cnn_scripted.pt");
    const Result byModule = torchwb({"profile", model, "-g", "normal:1x3x16x16", "--seconds", "0.1",
                                     "--calls", "2", "--by", "module", "-q"});
    QVERIFY2(byModule.code == 0, qPrintable(byModule.err + byModule.out));
    QVERIFY2((byModule.out.contains("Module") && byModule.out.contains("Conv2d")) ||
                 byModule.out.contains("did not report module scope"),
             qPrintable(byModule.out));
    const Result byLine = torchwb({"profile", model, "-g", "normal:1x3x16x16", "--seconds", "0.1", "--calls",
                                   "2", "--by", "line", "-q"});
    QVERIFY2(byLine.code == 0, qPrintable(byLine.err + byLine.out));
    QVERIFY2(byLine.out.contains("Source line") && byLine.out.contains("code/__torch__"),
             qPrintable(byLine.out));
    const Result bad = torchwb({"profile", model, "--by", "layer"});
    QCOMPARE(bad.code, 2);
}

void TestCli::sweepRecommendsAndCompares() {
    const QString json = m_tmp.filePath("sweep.json"), csv = m_tmp.filePath("sweep.csv");
    const Result r =
        torchwb({"sweep", data("folding.pt"), "-g", "normal:2x10:seed=1", "--axis", "jit=off,optimize",
                 "--axis", "threads=1", "--budget", "4", "--json", json, "--csv", csv, "--apply", "-q"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("jit=off,threads=1") && r.out.contains("eliminated"), qPrintable(r.out));
    QVERIFY2(r.out.contains("Fastest for latency: cpu · jit optimize · 1 thread"), qPrintable(r.out));
    QVERIFY2(r.out.contains("faster than LibTorch's default, 95% CI"), qPrintable(r.out));
    QVERIFY2(r.out.contains("torchwb bench ") && r.out.contains("--jit optimize --threads 1"),
             qPrintable(r.out));
    const QJsonObject sweep = readJson(json).value("sweep").toObject();
    QVERIFY(sweep.value("recommended").toInt() >= 0);
    QCOMPARE(sweep.value("points").toArray().size(), 2 + 2); // the grid and the two references
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(f.readAll()).count('\n'), 1 + 4);
    const Result c = torchwb({"compare", json, json});
    QVERIFY2(c.code == 0, qPrintable(c.err + c.out));
    QVERIFY2(c.out.contains("Both recommend the same configuration."), qPrintable(c.out));
    const Result bad = torchwb({"sweep", data("folding.pt"), "--axis", "jit=fast"});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("jit is off, freeze or optimize"), qPrintable(bad.err));
}

void TestCli::aotiPackages() {
    if (!twb::buildInfo().aotiPackages) {
        const Result r = torchwb({"inspect", data("mlp_aoti.pt2")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.out.contains("need LibTorch 2.6 or newer"), qPrintable(r.out));
        QSKIP("this LibTorch has no AOTIModelPackageLoader: the explanation is what there is");
    }
    // Under the asan preset, LeakSanitizer's stop-the-world tracer at exit has crashed ("Tracer caught
    // signal 11") in a torchwb that ran a package, whose compiled code keeps OpenMP threads of its own.
    // The package runs are checked here without it; every other slot checks torchwb's leaks.
    const QByteArray asanOptions = qgetenv("ASAN_OPTIONS");
    qputenv("ASAN_OPTIONS", asanOptions + (asanOptions.isEmpty() ? "" : ":") + "detect_leaks=0");
    const auto restore = qScopeGuard([&] { qputenv("ASAN_OPTIONS", asanOptions); });
    const Result inspect = torchwb({"inspect", data("mlp_aoti.pt2")});
    QVERIFY2(inspect.code == 0, qPrintable(inspect.out + inspect.err));
    QVERIFY2(inspect.out.contains("forward      (x: Tensor float32 [N, 10]) -> Tensor"),
             qPrintable(inspect.out));
    QVERIFY2(inspect.out.contains("fc1.weight  float32 [20, 10]"), qPrintable(inspect.out));
    const Result json = torchwb({"inspect", data("mlp_aoti.pt2"), "--json"});
    const QJsonObject j = QJsonDocument::fromJson(json.out.toUtf8()).object();
    QCOMPARE(j.value("kind").toString(), QString("pt2"));
    QCOMPARE(j.value("inputs").toArray().size(), 1);
    // run, against what Python computed, and into a file compare holds against the TorchScript twin's.
    const QString a = m_tmp.filePath("aoti_out.npy"), b = m_tmp.filePath("script_out.npy");
    const Result run = torchwb({"run", data("cnn_aoti.pt2"), "-i", data("cnn_x.npy"), "--reference",
                                data("cnn_expected.npy"), "--rtol", "1e-4", "-o", a});
    QVERIFY2(run.code == 0, qPrintable(run.out + run.err));
    QVERIFY2(run.out.contains("the output is allclose"), qPrintable(run.out));
    QCOMPARE(torchwb({"run", data("cnn_scripted.pt"), "-i", data("cnn_x.npy"), "-o", b}).code, 0);
    const Result cmp = torchwb({"compare", a, b, "--rtol", "1e-4"});
    QVERIFY2(cmp.code == 0, qPrintable(cmp.out));
    const Result bench = torchwb({"bench", data("mlp_aoti.pt2"), "-i", data("mlp_x5.npy"), "--iters", "30",
                                  "-c", "jit=off", "-c", "jit=optimize"});
    QCOMPARE(bench.code, 1); // the second configuration is refused, with the reason
    QVERIFY2(bench.out.contains("JIT modes do not apply to an AOTInductor package"), qPrintable(bench.out));
    QVERIFY2(bench.out.contains("cpu · jit off") && bench.out.contains("30 samples"), qPrintable(bench.out));
    const Result shape = torchwb({"run", data("mlp_aoti.pt2"), "-g", "normal:70x10"});
    QCOMPARE(shape.code, 1);
    QVERIFY2(shape.err.contains("with 2 ≤ N ≤ 64"), qPrintable(shape.err));
    const Result ep = torchwb({"inspect", data("mlp_exported.pt2")});
    QCOMPARE(ep.code, 1);
    QVERIFY2(ep.out.contains("aoti_compile_and_package"), qPrintable(ep.out));
}

void TestCli::operatorLibraries() {
    // custom_op.pt calls twbtest::scale, which the tests' own TORCH_LIBRARY registers.
    const QString library = qEnvironmentVariable("TWB_TEST_OPS");
    QVERIFY2(QFileInfo(library).isFile(), qPrintable(library));
    // Without the library: named for what it needs, not as a file too new, with the way to give it.
    Result r = torchwb({"inspect", data("custom_op.pt"), "--json"});
    QVERIFY2(r.out.contains("\"kind\": \"needs_operator_library\""), qPrintable(r.out));
    QVERIFY2(r.out.contains("twbtest::scale"), qPrintable(r.out));
    QVERIFY2(r.out.contains("--load-library FILE"), qPrintable(r.out));
    QVERIFY2(!r.out.contains("export the model again"), qPrintable(r.out));
    r = torchwb({"run", data("custom_op.pt"), "-i", data("custom_op_x.npy")});
    QCOMPARE(r.code, 1);
    QVERIFY2((r.out + r.err).contains("--load-library"), qPrintable(r.out + r.err));

    // Where TWB_OPERATOR_LIBRARIES lists it, the doctor offers that very file.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("TWB_OPERATOR_LIBRARIES", QFileInfo(library).absolutePath());
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(m_exe, {"inspect", data("custom_op.pt"), "--json"});
    QVERIFY(p.waitForFinished(60000));
    const QString offered = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(offered.contains("--load-library " + QFileInfo(library).canonicalFilePath()),
             qPrintable(offered));

    // With it, the model runs in a worker (which loads the same library) and matches Python.
    r = torchwb({"run", data("custom_op.pt"), "-i", data("custom_op_x.npy"), "--load-library", library,
                 "--reference", data("custom_op_expected.npy")});
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("allclose"), qPrintable(r.out));
    const QString report = m_tmp.filePath("custom_op.json");
    r = torchwb({"bench", data("custom_op.pt"), "-i", data("custom_op_x.npy"), "--load-library", library,
                 "--iters", "20", "-q", "-c", "jit=off", "-c", "jit=freeze", "--workers", "shared", "--json",
                 report});
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    // The report says what was loaded before the model, so the run can be repeated.
    const QJsonArray loaded =
        readJson(report).value("model").toObject().value("operator_libraries").toArray();
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(loaded.at(0).toString(), QFileInfo(library).canonicalFilePath());
    r = torchwb({"inspect", data("custom_op.pt"), "--load-library", library, "--json"});
    QVERIFY2(r.out.contains("\"kind\": \"torchscript\""), qPrintable(r.out));

    // What is not a library built for this LibTorch is refused with the reason, before it is loaded.
    r = torchwb({"run", data("custom_op.pt"), "-i", data("custom_op_x.npy"), "--load-library",
                 data("custom_op_x.npy")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("custom_op_x.npy cannot be loaded: it is not an ELF file"), qPrintable(r.err));
    const QString cut = m_tmp.filePath("libcut.so");
    QFile whole(library), part(cut);
    QVERIFY(whole.open(QIODevice::ReadOnly) && part.open(QIODevice::WriteOnly));
    part.write(whole.read(300));
    part.close();
    r = torchwb({"inspect", data("custom_op.pt"), "--load-library", cut});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("cannot be loaded: its section table"), qPrintable(r.err));
}

void TestCli::torchvisionOperatorsFromDebian() {
    // Debian's python3-torchvision ships torchvision's operators built for Debian's LibTorch (1.13): the
    // distribution build runs a scripted torchvision::nms with it and matches Python; a build on another
    // LibTorch refuses it, saying why, before loading it.
    const QStringList found =
        QDir("/usr/lib/python3/dist-packages/torchvision").entryList({"_C*.so"}, QDir::Files);
    if (found.isEmpty()) QSKIP("Debian's python3-torchvision is not installed");
    const QString library = "/usr/lib/python3/dist-packages/torchvision/" + found.first();
    Result r = torchwb({"inspect", data("vision_nms.pt"), "--json"});
    QVERIFY2(r.out.contains("\"kind\": \"needs_operator_library\""), qPrintable(r.out));
    QVERIFY2(r.out.contains("torchvision's C++ library"), qPrintable(r.out));
    const bool debianLibTorch = twb::buildInfo().libtorchVersion.rfind("1.13", 0) == 0;
    if (debianLibTorch) {
        QVERIFY2(r.out.contains("--load-library " + QFileInfo(library).canonicalFilePath()),
                 qPrintable(r.out));
        r = torchwb({"run", data("vision_nms.pt"), "-i", data("vision_nms_boxes.npy"), "-i",
                     data("vision_nms_scores.npy"), "--load-library", library, "--reference",
                     data("vision_nms_expected.npy")});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("allclose"), qPrintable(r.out));
    } else {
        QVERIFY2(r.out.contains("Not usable here: " + QFileInfo(library).canonicalFilePath()),
                 qPrintable(r.out));
        r = torchwb({"run", data("vision_nms.pt"), "-i", data("vision_nms_boxes.npy"), "-i",
                     data("vision_nms_scores.npy"), "--load-library", library});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("cannot be loaded: it"), qPrintable(r.err));
    }
}

void TestCli::mobileFileRunsWhereXnnpackIs() {
    // optimize_for_mobile's .ptl: where this LibTorch has XNNPACK it runs and matches Python; where it
    // has not, inspect names it a mobile file, and run refuses it with the same words.
    Result r = torchwb({"inspect", data("cnn_mobile.ptl"), "--json"});
    if (r.code == 0) {
        r = torchwb({"run", data("cnn_mobile.ptl"), "-i", data("cnn_mobile_x.npy"), "--reference",
                     data("cnn_mobile_expected.npy"), "--atol", "1e-4"});
        QVERIFY2(r.code == 0 && r.out.contains("allclose"), qPrintable(r.out + r.err));
    } else {
        QVERIFY2(r.out.contains("\"kind\": \"mobile\""), qPrintable(r.out));
        r = torchwb({"run", data("cnn_mobile.ptl"), "-i", data("cnn_mobile_x.npy")});
        QCOMPARE(r.code, 1);
        QVERIFY2((r.out + r.err).contains("optimize_for_mobile"), qPrintable(r.out + r.err));
    }
}

#include "tst_cli.moc"
