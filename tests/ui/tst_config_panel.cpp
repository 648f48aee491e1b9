// The Configurations panel: the editor, CUDA offered where this build or a target has it.
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

class TestConfigPanel : public QObject {
    Q_OBJECT
private slots:
    void init() { isolateSettings(m_settingsDir); }
    void cudaOffWithReason();
    void configEditorShowsTheSelectedConfiguration();
    void cudaIsOfferedWhereTheTargetHasIt();

private:
    QTemporaryDir m_settingsDir;
};

void TestConfigPanel::cudaOffWithReason() {
    ConfigPanel panel;
    const twb::BuildInfo b = twb::buildInfo();
    QCOMPARE(panel.cudaSelectable(), b.cudaAvailable);
    QCOMPARE(panel.configs().size(), 2); // "cpu · jit off" and "cpu · jit optimize" by default
    QCOMPARE(QString::fromStdString(panel.configs()[0].label()), QString("cpu · jit off"));
    QCOMPARE(panel.configs()[1].jit, twb::JitMode::Optimize);
}

void TestConfigPanel::configEditorShowsTheSelectedConfiguration() {
    ConfigPanel panel;
    panel.setConfigs({twb::RunConfig::parse("name=first,jit=freeze,warmup=7,seconds=2.5"),
                      twb::RunConfig::parse("name=second,threads=3")});
    // Touch one field of the selected (first) configuration: the others must keep their values.
    auto* warmup = panel.findChildren<QSpinBox*>().at(1);
    QCOMPARE(warmup->value(), 7);
    auto* threads = panel.findChildren<QSpinBox*>().at(0);
    threads->setValue(2);
    const auto c = panel.configs()[0];
    QCOMPARE(c.name, std::string("first"));
    QCOMPARE(c.jit, twb::JitMode::Freeze);
    QCOMPARE(c.warmup, 7);
    QCOMPARE(c.seconds, 2.5);
    QCOMPARE(c.threads, 2);
    QCOMPARE(panel.configs()[1].threads, 3);
}

// A configuration whose target has CUDA may choose it, though this machine has none: the target is checked
// when it is chosen (here a worker that introduces itself with a GPU), and the Device field follows.
void TestConfigPanel::cudaIsOfferedWhereTheTargetHasIt() {
    if (twb::buildInfo().cudaAvailable) QSKIP("this machine has CUDA: nothing to tell apart");
    const QString gpuBox = "cmd:" + qEnvironmentVariable("TWB_FAKE_WORKER") + " hello cuda";
    QSettings().setValue("targets", QStringList{gpuBox});
    MainWindow w;
    w.configPanel()->setConfigs(quick());
    QVERIFY(!w.configPanel()->cudaSelectable());
    auto* target = w.configPanel()->findChild<QComboBox*>("configTarget");
    auto* device = w.configPanel()->findChild<QComboBox*>("configDevice");
    QVERIFY(target && device);
    target->setCurrentIndex(target->findData(gpuBox));
    QTRY_VERIFY_WITH_TIMEOUT(w.configPanel()->cudaSelectable(), 20000);
    QVERIFY2(device->toolTip().contains("NVIDIA H200"), qPrintable(device->toolTip()));
    device->setCurrentIndex(device->findText("cuda"));
    QCOMPARE(QString::fromStdString(w.configPanel()->configs()[0].device), QString("cuda"));
    // Back on this build, CUDA is not offered, and says why; the configuration keeps what it says.
    target->setCurrentIndex(target->findData(QString()));
    QVERIFY(!w.configPanel()->cudaSelectable());
    QVERIFY2(device->toolTip().contains("this build"), qPrintable(device->toolTip()));
    QSettings().remove("targets");
}

TWB_GUI_TEST_MAIN(TestConfigPanel)
#include "tst_config_panel.moc"
