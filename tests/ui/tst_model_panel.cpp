// The Model and Inputs panels: state_dicts and checkpoints loaded into a model, the fix texts, inputs
// matched to the model's arguments (tuples, typed suggestions, mismatches said before running).
#include "ui_support.h"

#include "config_panel.h"
#include "file_types.h"
#include "inputs_panel.h"
#include "item_models.h"
#include "job_runner.h"
#include "main_window.h"
#include "model_panel.h"
#include "profile_panel.h"
#include "results_panel.h"
#include "sweep_panel.h"

#include "twb/build_info.h"
#include "twb/report.h"
#include "twb/stats.h"

#include <qcustomplot.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScopeGuard>
#include <QScrollBar>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStyleOptionButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTimer>
#include <QTreeWidget>

#include <cmath>
#include <memory>

#include <sys/stat.h>

using namespace twbui;
using namespace uitest;

class TestModelPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void stateDictTableAndLoadIntoModel();
    void inputMismatchExplainedBeforeRunning();
    void modelsSuggestionsAreGivenWhenNothingIs();
    void tupleElementsAndTypedInputsInThePanel();
    void checkpointPrefixFixedWithOneClick();
    void severalStateDictsOffered();
    void fixTextWrapsAndCopiesWhole();

private:
    QTemporaryDir m_settingsDir;
};

void TestModelPanel::stateDictTableAndLoadIntoModel() {
    MainWindow w;
    QVERIFY(showFile(w, TWB_DATA("cnn_state_dict.pth")));
    QAbstractItemModelTester tester(const_cast<TensorTableModel*>(w.modelPanel()->tensorModel()),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(w.modelPanel()->tensorModel()->rowCount(), 9);
    QCOMPARE(w.modelPanel()->tensorModel()->index(0, 0).data().toString(), QString("conv.weight"));
    QAction* run = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->shortcut() == QKeySequence(QStringLiteral("Ctrl+R"))) run = a;
    QVERIFY(run);
    QVERIFY2(!run->isEnabled(), "a state_dict alone cannot run");
    // Load the weights into the TorchScript model, then run: outputs match Python's with those weights.
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    QSignalSpy loaded(w.runner(), &JobRunner::stateDictLoaded);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("cnn_x.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("cnn_scripted.pt")));
    w.runner()->loadStateDict(QString::fromStdString(TWB_DATA("cnn_state_dict.pth")), true);
    QVERIFY(loaded.wait(20000));
    QVERIFY(loaded.last().at(0).value<twb::StateDictReport>().applied);
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty(), 20000);
    w.configPanel()->setConfigs({twb::RunConfig::parse("iters=3,warmup=1")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(30000));
    const std::string why =
        twbtest::compareToFile(w.resultsPanel()->runs()[0].output, TWB_DATA("cnn_state_dict_expected.npy"));
    QVERIFY2(why.empty(), why.c_str());
}

void TestModelPanel::inputMismatchExplainedBeforeRunning() {
    MainWindow w;
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.setPendingInputs({QString::fromStdString(TWB_DATA("two_inputs_x.npy"))});
    w.openFile(QString::fromStdString(TWB_DATA("two_inputs.pt")));
    QVERIFY(ready.wait(20000));
    QVERIFY(!w.inputsPanel()->bindingOk());
    QVERIFY2(w.inputsPanel()->bindingError().contains("forward needs 'y' (Tensor)"),
             qPrintable(w.inputsPanel()->bindingError()));
}

// A model opened with no inputs is given what it suggests, as torchwb gives it, so Run works at once; a
// file dropped after takes a suggestion's place, and what the user gives is never replaced.
void TestModelPanel::modelsSuggestionsAreGivenWhenNothingIs() {
    MainWindow w;
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    w.openFile(QString::fromStdString(TWB_DATA("detector_list.pt")));
    QVERIFY(ready.wait(20000));
    auto* images = w.inputsPanel()->findChild<QLineEdit*>("input_images");
    QVERIFY(images);
    QCOMPARE(images->text(), QString("gen:normal:3x224x224:float32")); // a list of one image
    QVERIFY2(w.inputsPanel()->bindingOk(), qPrintable(w.inputsPanel()->bindingError()));
    QVERIFY2(w.inputsPanel()->bindingError().contains("suggested"),
             qPrintable(w.inputsPanel()->bindingError()));
    QVERIFY2(w.statusText().contains("given what the model suggests"), qPrintable(w.statusText()));
    w.configPanel()->setConfigs({twb::RunConfig::parse("iters=2,warmup=1")});
    QSignalSpy finished(&w, &MainWindow::runsFinished);
    w.runAll();
    QVERIFY(finished.wait(60000));
    QCOMPARE(w.resultsPanel()->runs().size(), std::size_t(1));
    QVERIFY2(w.resultsPanel()->runs()[0].record.ok, w.resultsPanel()->runs()[0].record.error.c_str());

    // A file given after takes the suggestion's place.
    w.openFile(QString::fromStdString(TWB_DATA("mlp_traced.pt")));
    QVERIFY(ready.wait(20000));
    auto* x = w.inputsPanel()->findChild<QLineEdit*>("input_x");
    QVERIFY(x);
    QVERIFY2(x->text().startsWith("gen:normal:1x"), qPrintable(x->text()));
    QVERIFY(w.inputsPanel()->assignFile(QString::fromStdString(TWB_DATA("mlp_x.npy"))));
    QCOMPARE(x->text(), QString::fromStdString(TWB_DATA("mlp_x.npy")));
    QVERIFY(ready.wait(20000));
    QVERIFY2(w.inputsPanel()->bindingError().contains("The inputs match forward"),
             qPrintable(w.inputsPanel()->bindingError()));
    QVERIFY(!w.inputsPanel()->bindingError().contains("suggested"));
}

// A tuple argument has a row for each element under its own; an input that binds but that the first
// use cannot take is said, never "the inputs match".
void TestModelPanel::tupleElementsAndTypedInputsInThePanel() {
    MainWindow w;
    w.show();
    QSignalSpy ready(&w, &MainWindow::inputsReady);
    QVERIFY(showFile(w, TWB_DATA("rnn_state.pt")));
    auto* x = w.inputsPanel()->findChild<QLineEdit*>(QStringLiteral("input_x"));
    auto* h = w.inputsPanel()->findChild<QLineEdit*>(QStringLiteral("input_hc.0"));
    auto* c = w.inputsPanel()->findChild<QLineEdit*>(QStringLiteral("input_hc.1"));
    QVERIFY(x && h && c && w.inputsPanel()->findChild<QLineEdit*>(QStringLiteral("input_hc")));
    x->setText(QString::fromStdString(TWB_DATA("rnn_x.npy")));
    h->setText(QString::fromStdString(TWB_DATA("rnn_h0.npy")));
    c->setText(QString::fromStdString(TWB_DATA("rnn_c0.npy")));
    QTRY_VERIFY2_WITH_TIMEOUT(!ready.isEmpty() && ready.last().at(0).toBool(),
                              qPrintable(w.inputsPanel()->bindingError()), 20000);
    QVERIFY2(w.inputsPanel()->bindingError().contains("match"), qPrintable(w.inputsPanel()->bindingError()));

    ready.clear();
    QVERIFY(showFile(w, TWB_DATA("masked.pt")));
    w.inputsPanel()
        ->findChild<QLineEdit*>(QStringLiteral("input_ids"))
        ->setText(QString::fromStdString(TWB_DATA("masked_ids.npy")));
    w.inputsPanel()
        ->findChild<QLineEdit*>(QStringLiteral("input_mask"))
        ->setText(QString::fromStdString(TWB_DATA("masked_mask_float.npy")));
    QTRY_VERIFY2_WITH_TIMEOUT(w.inputsPanel()->bindingError().contains("masked_fill"),
                              qPrintable(w.inputsPanel()->bindingError()), 20000);
    QVERIFY(!w.inputsPanel()->bindingError().contains("match"));
    QVERIFY2(w.inputsPanel()->bindingError().contains(
                 "is float32, but masked_fill's mask, its first use, needs bool"),
             qPrintable(w.inputsPanel()->bindingError()));
}

// A checkpoint with state_dict and state_dict_ema: the panel lets the user choose which to load.
void TestModelPanel::severalStateDictsOffered() {
    MainWindow w;
    w.show();
    QVERIFY(showFile(w, TWB_DATA("ckpt_timm.pth")));
    auto* choice = w.modelPanel()->findChild<QComboBox*>("stateDictKey");
    QVERIFY(choice);
    QCOMPARE(choice->count(), 2);
    QCOMPARE(choice->itemText(1), QString("state_dict_ema"));
    choice->setCurrentIndex(1);
    QCOMPARE(w.modelPanel()->stateDictKey(), QString("state_dict_ema"));
}

// A Lightning checkpoint's keys carry "model.": the panel offers to strip it, and one click loads it.
void TestModelPanel::checkpointPrefixFixedWithOneClick() {
    MainWindow w;
    w.show();
    QVERIFY(showFile(w, TWB_DATA("cnn_scripted.pt")));
    QSignalSpy loaded(w.runner(), &JobRunner::stateDictLoaded);
    w.runner()->loadStateDict(QString::fromStdString(TWB_DATA("ckpt_lightning.ckpt")), true);
    QVERIFY(loaded.wait(20000));
    QVERIFY(!loaded.last().at(0).value<twb::StateDictReport>().applied);
    auto* fix = w.modelPanel()->findChild<QPushButton*>("stripPrefix");
    QVERIFY(fix);
    QTRY_VERIFY(fix->isVisible());
    QVERIFY2(fix->text().contains("'model.'"), qPrintable(fix->text()));
    fix->click();
    QVERIFY(loaded.wait(20000));
    const auto report = loaded.last().at(0).value<twb::StateDictReport>();
    QVERIFY2(report.applied && report.clean(), report.describe().c_str());
    QVERIFY(!fix->isVisible());
}

void TestModelPanel::fixTextWrapsAndCopiesWhole() {
    MainWindow w;
    w.resize(900, 700);
    w.show();
    QVERIFY(showFile(w, TWB_DATA("cnn_pickled_module.pt")));
    auto* fix = w.modelPanel()->findChild<QPlainTextEdit*>("fix");
    QVERIFY(fix);
    QTRY_VERIFY(fix->isVisible());
    QCOMPARE(fix->lineWrapMode(), QPlainTextEdit::WidgetWidth);
    QCOMPARE(fix->horizontalScrollBar()->maximum(), 0); // nothing cut off on the right
    // The text copied is the fix as written: its lines of Python unbroken.
    QVERIFY(fix->toPlainText().contains("    scripted = torch.jit.script(model)"));
    QCOMPARE(fix->toPlainText(),
             QString::fromStdString(twb::inspectModelFile(TWB_DATA("cnn_pickled_module.pt")).diagnosis.fix));
}

TWB_GUI_TEST_MAIN(TestModelPanel)
#include "tst_model_panel.moc"
