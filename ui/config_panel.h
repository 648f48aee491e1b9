// The configurations to run, edited by the user: device (CUDA entries off,
// with the reason, where CUDA is absent), JIT mode, threads, precision, grad
// mode, warm-up and measurement. The first is the baseline.
#pragma once

#include "twb/build_info.h"
#include "twb/config.h"

#include <QMap>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QListWidget;
class QSpinBox;

namespace twbui {

class ConfigPanel : public QWidget {
    Q_OBJECT
public:
    explicit ConfigPanel(QWidget* parent = nullptr);
    QVector<twb::RunConfig> configs() const { return m_configs; }
    void setConfigs(const QVector<twb::RunConfig>& configs);
    // An AOTInductor package is open: JIT mode and precision were fixed when it was compiled, so their
    // fields are disabled with that reason, and every configuration runs with jit off, as saved.
    void setPackage(bool package);
    bool packageMode() const { return m_package; }
    static QVector<twb::RunConfig> defaults();
    bool cudaSelectable() const;
    // Where the configurations run when they name no target (the File → Targets ticks; empty: this build),
    // and what a target's check found: its CUDA devices by name (empty: none usable), or why it failed.
    // The Device field offers CUDA when a configuration's target has it.
    void setRunTargets(const QStringList& targets);
    void setTargetDevices(const QString& target, bool reached, const QStringList& cudaDevices,
                          const QString& why);

signals:
    void changed();
    // A target's devices are not known yet: check it (MainWindow answers with setTargetDevices).
    void targetDevicesNeeded(const QString& target);

private:
    // The CUDA entries of the Device field, for the selected configuration's targets.
    void updateDevices();
    void select(int row);
    void editorChanged();
    void refreshList();
    QVector<twb::RunConfig> m_configs;
    QListWidget* m_list;
    QLineEdit* m_name;
    QComboBox* m_device;
    QComboBox* m_jit;
    QSpinBox* m_threads;
    QComboBox* m_dtype;
    QComboBox* m_grad;
    QCheckBox* m_graphOptimize;
    QSpinBox* m_warmup;
    QComboBox* m_measure;
    QComboBox* m_target;
    QSpinBox* m_iterations;
    QDoubleSpinBox* m_seconds;
    const twb::BuildInfo m_build = twb::buildInfo(); // this build's CUDA, asked once
    bool m_loading = false;
    bool m_package = false;
    QStringList m_runTargets;
    struct TargetDevices {
        bool known = false, reached = false;
        QStringList cuda;
        QString why;
    };
    QMap<QString, TargetDevices> m_targetDevices; // by target, as checked (or being checked)
};

} // namespace twbui
