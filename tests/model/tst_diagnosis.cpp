// The load doctor: every kind of file a PyTorch user has on disk is named, and
// unusable ones come with the cause and the fix.
#include "test_support.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/model.h"

#include <QDirIterator>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>

class TestDiagnosis : public QObject {
    Q_OBJECT
private slots:
    void kinds_data();
    void kinds();
    void parameterCounts_data();
    void parameterCounts();
    void explanationsNameTheFix_data();
    void explanationsNameTheFix();
    void missingFile();
    void missingOperatorsListedAtOnce();
    void optimizedFilesNamedForWhatTheyAre();
    void inputTensorsToldCheaply();
    void modernOperators_data();
    void modernOperators();
    void everyFixtureIsInspectedWithoutCrashing();
    void foreignFilesSayWhatTheyHold();
};

void TestDiagnosis::kinds_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("usable");
    auto row = [](const char* file, const char* kind, bool usable) {
        QTest::newRow(file) << QString(file) << QString(kind) << usable;
    };
    row("mlp_traced.pt", "torchscript", true);
    row("cnn_scripted.pt", "torchscript", true);
    row("two_inputs.pt", "torchscript", true);
    row("cnn_state_dict.pth", "state_dict", true);
    row("cnn_checkpoint.pth", "state_dict", true);
    row("cnn_state_dict.safetensors", "state_dict", true);
    row("cnn_pickled_module.pt", "pickled_module", false);
    row("exported.pt2", "pt2", false);
    row("cnn.onnx", "onnx", false);
    row("cnn_legacy.pth", "legacy_pickle", false);
    row("too_new.pt", "too_new", false);
    row("missing_ops.pt", "too_new", false);
    row("gelu_tanh.pt", "torchscript", true);
    row("folding.pt", "torchscript", true);
    row("truncated.pt", "corrupt", false);
    row("bad_storage.pt", "corrupt", false);
    row("flipped_model.pt", "corrupt", false);
    row("flipped_state_dict.pth", "corrupt", false);
    row("bad_header.safetensors", "corrupt", false);
    row("empty.pt", "empty", false);
    row("notes.txt", "text", false);
    row("lfs_pointer.pt", "text", false);
    row("download.pt", "text", false);
    row("random.bin", "unknown", false);
    row("plain.pkl", "unknown", false);
    row("evil.pt", "unknown", false);
    row("quantized_state_dict.pth", "unknown", false);
    row("mlp_x.npy", "tensors", true);
    row("mlp_x.npz", "tensors", true);
    row("mlp_x.pt", "tensors", true);
    row("nested.pt", "tensors", true);
    row("mlp_x.csv", "tensors", true);
    row("image.png", "tensors", true);
    row("bad_truncated.npy", "corrupt", false);
    row("bad_dtype.npy", "unknown", false);
}

void TestDiagnosis::kinds() {
    QFETCH(QString, file);
    QFETCH(QString, kind);
    QFETCH(bool, usable);
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA(file.toStdString()));
    QCOMPARE(QString::fromStdString(twb::kindName(info.diagnosis.kind)), kind);
    QCOMPARE(info.diagnosis.usable, usable);
    QVERIFY(!info.diagnosis.summary.empty());
    if (!usable) {
        QVERIFY2(!info.diagnosis.error.empty(), "an unusable file says why");
        QVERIFY2(!info.diagnosis.fix.empty(), "an unusable file says what to do");
    }
}

void TestDiagnosis::parameterCounts_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<qlonglong>("count");
    QTest::addColumn<qlonglong>("tensors");
    QTest::addColumn<qlonglong>("bytes");
    // Python: sum(p.numel() for p in model.parameters()); for state_dicts, over all its tensors.
    // A state_dict's num_batches_tracked is one int64.
    QTest::newRow("mlp") << "mlp_traced.pt" << 430LL << 4LL << 1720LL;
    QTest::newRow("cnn") << "cnn_scripted.pt" << 285LL << 6LL << 1140LL;
    QTest::newRow("state_dict") << "cnn_state_dict.pth" << 302LL << 9LL << 1212LL;
    QTest::newRow("checkpoint") << "cnn_checkpoint.pth" << 302LL << 9LL << 1212LL;
    QTest::newRow("safetensors") << "cnn_state_dict.safetensors" << 302LL << 9LL << 1212LL;
    QTest::newRow("sample") << "../../resources/sample/sample_cnn.pt" << 24346LL << 11LL << 97384LL;
}

void TestDiagnosis::parameterCounts() {
    QFETCH(QString, file);
    QFETCH(qlonglong, count);
    QFETCH(qlonglong, tensors);
    QFETCH(qlonglong, bytes);
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA(file.toStdString()));
    QVERIFY2(info.diagnosis.usable, info.diagnosis.error.c_str());
    QCOMPARE(qlonglong(info.parameters.count), count);
    QCOMPARE(qlonglong(info.parameters.tensors), tensors);
    QCOMPARE(qlonglong(info.parameters.bytes), bytes);
}

void TestDiagnosis::explanationsNameTheFix_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("inError");
    QTest::addColumn<QString>("inFix");
    QTest::newRow("pickled module") << "cnn_pickled_module.pt"
                                    << "__main__.SmallCnn"
                                    << "torch.jit.script";
    // PyTorch ≥ 2.6 loads weights only by default: the fix must say how to load a whole module, and warn.
    QTest::newRow("pickled module, PyTorch 2.6") << "cnn_pickled_module.pt"
                                                 << "__main__.SmallCnn"
                                                 << "weights_only=False)\n";
    QTest::newRow("pickled module, trust") << "cnn_pickled_module.pt"
                                           << "__main__.SmallCnn"
                                           << "only for a file you trust";
    QTest::newRow("pt2") << "exported.pt2"
                         << "no compiled code"
                         << "aoti_compile_and_package";
    QTest::newRow("onnx") << "cnn.onnx"
                          << "ONNX Runtime"
                          << "torch.jit.trace";
    QTest::newRow("legacy") << "cnn_legacy.pth"
                            << "1.6"
                            << "torch.save(obj";
    QTest::newRow("too new") << "too_new.pt"
                             << "version is 99"
                             << "PyTorch";
    QTest::newRow("truncated") << "truncated.pt"
                               << "cannot be read"
                               << "again";
    QTest::newRow("lfs") << "lfs_pointer.pt"
                         << "without its large files"
                         << "git lfs pull";
    QTest::newRow("evil pickle") << "evil.pt"
                                 << "posix.system"
                                 << "state_dict";
    QTest::newRow("quantized weights") << "quantized_state_dict.pth"
                                       << "quantized"
                                       << "torch.jit.script(model)";
    QTest::newRow("short storage") << "bad_storage.pt"
                                   << "400 expected"
                                   << "again";
    QTest::newRow("flipped bit in a model") << "flipped_model.pt"
                                            << "checksums"
                                            << "again";
    QTest::newRow("flipped bit in weights") << "flipped_state_dict.pth"
                                            << "damaged"
                                            << "again";
}

void TestDiagnosis::explanationsNameTheFix() {
    QFETCH(QString, file);
    QFETCH(QString, inError);
    QFETCH(QString, inFix);
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA(file.toStdString()));
    QVERIFY2(twbtest::contains(info.diagnosis.error, inError.toStdString()), info.diagnosis.error.c_str());
    QVERIFY2(twbtest::contains(info.diagnosis.fix, inFix.toStdString()), info.diagnosis.fix.c_str());
}

void TestDiagnosis::missingFile() {
    const twb::Diagnosis d = twb::diagnose("/nonexistent/model.pt");
    QCOMPARE(d.kind, twb::FileKind::NotFound);
    QVERIFY(twbtest::contains(d.error, "/nonexistent/model.pt"));
    QVERIFY_THROWS_EXCEPTION(twb::Error, twb::Model::load("/nonexistent/model.pt"));
}

// missing_ops.pt is the traced MLP with two calls renamed to operators no LibTorch has.
void TestDiagnosis::missingOperatorsListedAtOnce() {
    const twb::Diagnosis d = twb::diagnose(TWB_DATA("missing_ops.pt"));
    QCOMPARE(d.kind, twb::FileKind::TooNew);
    QCOMPARE(d.missingOperators, (std::vector<std::string>{"aten::twb_future_relu", "twb_future::linear"}));
    QVERIFY2(twbtest::contains(d.error,
                               "uses aten::twb_future_relu and twb_future::linear, which this LibTorch (" +
                                   twb::buildInfo().libtorchVersion + ") does not have"),
             d.error.c_str());
    QVERIFY2(twbtest::contains(d.error, "file format version"), d.error.c_str());
    // twb_future:: is a library's namespace: the fix says so beside the version's.
    QVERIFY2(twbtest::contains(d.fix, "twb_future:: comes from the library that registers them"),
             d.fix.c_str());
    QVERIFY2(twbtest::contains(d.fix, "--load-library FILE"), d.fix.c_str());
    // The unmodified archive calls the real operators and loads.
    QVERIFY(twb::diagnose(TWB_DATA("mlp_traced.pt")).missingOperators.empty());
}

void TestDiagnosis::optimizedFilesNamedForWhatTheyAre() {
    // Saved after optimize_for_inference by PyTorch 1.13: the MKLDNN weight constants were written without
    // their values. Named for that on every LibTorch, with the fix that works, not as a version mismatch.
    const twb::Diagnosis mkl = twb::diagnose(TWB_DATA("mkldnn_optimized_113.pt"));
    QCOMPARE(mkl.kind, twb::FileKind::OptimizedForInference);
    QVERIFY2(twbtest::contains(mkl.error, "prim::ConstantMKLDNNTensor"), mkl.error.c_str());
    QVERIFY2(twbtest::contains(mkl.fix, "--jit optimize"), mkl.fix.c_str());
    QVERIFY(!twbtest::contains(mkl.fix, "matches LibTorch"));
    // optimize_for_mobile, saved for the lite interpreter: XNNPACK's prepacked:: operators. A LibTorch with
    // XNNPACK (Debian's) runs it as TorchScript (tst_cli checks its outputs); one without names it a mobile
    // file and says how to measure the model here.
    const twb::Diagnosis ptl = twb::diagnose(TWB_DATA("cnn_mobile.ptl"));
    if (ptl.usable) {
        QCOMPARE(ptl.kind, twb::FileKind::TorchScript);
    } else {
        QCOMPARE(ptl.kind, twb::FileKind::Mobile);
        QVERIFY2(twbtest::contains(ptl.summary, "optimized for mobile"), ptl.summary.c_str());
        QVERIFY2(twbtest::contains(ptl.summary, "lite interpreter"), ptl.summary.c_str());
        QVERIFY2(twbtest::contains(ptl.fix, "before optimize_for_mobile"), ptl.fix.c_str());
        QVERIFY(std::all_of(ptl.missingOperators.begin(), ptl.missingOperators.end(),
                            [](const std::string& op) { return op.rfind("prepacked::", 0) == 0; }));
    }
}

void TestDiagnosis::inputTensorsToldCheaply() {
    for (const char* yes : {"mlp_x.pt", "nested.pt", "mlp_x.npy", "two_inputs_xy.npz"})
        QVERIFY2(twb::holdsInputTensors(TWB_DATA(yes)), yes);
    for (const char* no : {"mlp_traced.pt", "flipped_model.pt", "cnn_state_dict.pth", "ckpt_timm.pth",
                           "evil.pt", "truncated.pt", "notes.txt"})
        QVERIFY2(!twb::holdsInputTensors(TWB_DATA(no)), no);
}

void TestDiagnosis::modernOperators_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("scripted block") << "attention_scripted.pt";
    QTest::newRow("traced block") << "attention_traced.pt";
    QTest::newRow("nn.MultiheadAttention") << "mha_scripted.pt";
}

// Saved by PyTorch 2.13, calling scaled_dot_product_attention: usable from LibTorch 2.0, explained before.
void TestDiagnosis::modernOperators() {
    QFETCH(QString, file);
    const twb::ModelInfo info = twb::inspectModelFile(TWB_DATA(file.toStdString()));
    const twb::Diagnosis& d = info.diagnosis;
    if (twbtest::libtorchMajor() >= 2) {
        QVERIFY2(d.usable && d.kind == twb::FileKind::TorchScript, d.error.c_str());
        QVERIFY(d.missingOperators.empty());
        QVERIFY(!info.inputs.empty());
        return;
    }
    QCOMPARE(d.kind, twb::FileKind::TooNew);
    QVERIFY(std::find(d.missingOperators.begin(), d.missingOperators.end(),
                      "aten::scaled_dot_product_attention") != d.missingOperators.end());
    QVERIFY2(twbtest::contains(d.error, "aten::scaled_dot_product_attention (added in PyTorch 2.0)"),
             d.error.c_str());
    QVERIFY2(twbtest::contains(d.fix, "LibTorch ≥ 2.0"), d.fix.c_str());
}

void TestDiagnosis::everyFixtureIsInspectedWithoutCrashing() {
    const QString dir = QFileInfo(QString::fromStdString(TWB_DATA("mlp_x.npy"))).absolutePath();
    int seen = 0;
    for (QDirIterator it(dir, QDir::Files); it.hasNext();) {
        const std::string file = it.next().toStdString();
        const twb::ModelInfo info = twb::inspectModelFile(file);
        QVERIFY2(!info.diagnosis.summary.empty(), file.c_str());
        QVERIFY2(info.diagnosis.usable || !info.diagnosis.error.empty(), file.c_str());
        ++seen;
    }
    QVERIFY(seen > 50);
}

// Files that are not PyTorch's, as users have them: compressed, archived (made by tar and gzip themselves),
// another framework's, a sharded checkpoint's index. Each is named with what it holds and what to do.
void TestDiagnosis::foreignFilesSayWhatTheyHold() {
    QTemporaryDir dir;
    QVERIFY(QFile::copy(QString::fromStdString(TWB_DATA("mlp_traced.pt")), dir.filePath("mlp.pt")));
    const auto write = [&](const QString& name, const QByteArray& bytes) {
        QFile f(dir.filePath(name));
        return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
    };
    QVERIFY(write("notes.txt", "how this model was trained\n"));
    const auto run = [&](const QString& program, const QStringList& arguments) {
        QProcess p;
        p.setWorkingDirectory(dir.path());
        p.start(program, arguments);
        return p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    };
    QVERIFY(run("tar", {"cf", "bundle.tar", "notes.txt", "mlp.pt"}));
    QVERIFY(run("tar", {"czf", "bundle.tar.gz", "notes.txt", "mlp.pt"}));
    QVERIFY(run("gzip", {"-k", "mlp.pt"}));
    // torch.save's format before PyTorch 1.6 was a tar of these.
    for (const char* member : {"sys_info", "pickle", "storages", "tensors"})
        QVERIFY(write(member, "\x80\x02."));
    QVERIFY(run("tar", {"cf", "old_torch_save.pt", "sys_info", "pickle", "storages", "tensors"}));
    QVERIFY(write("model.tflite", QByteArray("\x1c\0\0\0TFL3", 8) + QByteArray(64, '\0')));
    QVERIFY(write(
        "model.safetensors.index.json",
        R"({"metadata": {"total_size": 64}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                      "b.weight": "model-00002-of-00002.safetensors", "c.bias": "model-00002-of-00002.safetensors"}})"));
    const struct {
        const char *file, *summary, *fix;
    } rows[] = {
        {"bundle.tar", "A tar archive of 2 file(s): notes.txt, mlp.pt",
         "(tar xf bundle.tar) and open the model inside: mlp.pt."},
        {"bundle.tar.gz", "A gzip-compressed tar archive", "tar xf bundle.tar.gz"},
        {"mlp.pt.gz", "A gzip-compressed file (of mlp.pt)", "gunzip -k mlp.pt.gz"},
        {"model.tflite", "A TensorFlow Lite model", "TensorFlow Lite"},
        {"old_torch_save.pt", "torch.save's oldest format", "torch.save(obj, \"old_torch_save_zip.pt\")"},
        {"model.safetensors.index.json",
         "sharded into 2 file(s): model-00001-of-00002.safetensors, model-00002-of-00002.safetensors",
         "save_file(sd, \"model.safetensors\")"},
    };
    for (const auto& row : rows) {
        const twb::Diagnosis d = twb::diagnose(dir.filePath(row.file).toStdString());
        QVERIFY2(!d.usable, row.file);
        QVERIFY2(twbtest::contains(d.summary, row.summary), d.summary.c_str());
        QVERIFY2(twbtest::contains(d.fix, row.fix), d.fix.c_str());
    }
}

TWB_TEST_MAIN(TestDiagnosis)
#include "tst_diagnosis.moc"
