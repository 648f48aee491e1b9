#include "config_panel.h"

#include "twb/build_info.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QThread>
#include <QVBoxLayout>

namespace twbui {

QVector<twb::RunConfig> ConfigPanel::defaults() {
    // Unnamed, so that they read as every configuration does ("cpu · jit off"), in the window, the CLI,
    // reports and sweeps alike.
    return {twb::RunConfig::parse("jit=off"), twb::RunConfig::parse("jit=optimize")};
}

ConfigPanel::ConfigPanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    auto* left = new QVBoxLayout;
    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("configList"));
    left->addWidget(m_list);
    auto* buttons = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add"));
    auto* dup = new QPushButton(tr("Duplicate"));
    auto* remove = new QPushButton(tr("Remove"));
    buttons->addWidget(add);
    buttons->addWidget(dup);
    buttons->addWidget(remove);
    left->addLayout(buttons);
    layout->addLayout(left, 1);

    auto* form = new QFormLayout;
    m_name = new QLineEdit;
    m_name->setPlaceholderText(tr("a label (optional)"));
    m_device = new QComboBox;
    m_device->setObjectName(QStringLiteral("configDevice"));
    m_device->addItem(QStringLiteral("cpu"));
    m_jit = new QComboBox;
    m_jit->addItem(tr("off"), "off");
    m_jit->addItem(tr("freeze"), "freeze");
    m_jit->addItem(tr("optimize_for_inference"), "optimize");
    m_threads = new QSpinBox;
    m_threads->setRange(0, 1024);
    m_threads->setSpecialValueText(tr("all (%1)").arg(QThread::idealThreadCount()));
    m_dtype = new QComboBox;
    for (const char* d : {"as_saved", "float32", "float16", "bfloat16", "float64"})
        m_dtype->addItem(d, d);
    m_grad = new QComboBox;
    m_grad->addItem(tr("inference mode"), "inference");
    m_grad->addItem(tr("no_grad"), "no_grad");
    m_grad->addItem(tr("grad enabled"), "grad");
    m_graphOptimize = new QCheckBox(tr("graph executor optimization"));
    m_warmup = new QSpinBox;
    m_warmup->setRange(-1, 1000000);
    m_warmup->setSpecialValueText(tr("auto (until stable)"));
    m_measure = new QComboBox;
    m_measure->addItem(tr("for a time"), "seconds");
    m_measure->addItem(tr("for a number of calls"), "iters");
    m_iterations = new QSpinBox;
    m_iterations->setRange(1, 10000000);
    m_seconds = new QDoubleSpinBox;
    m_seconds->setRange(0.001, 86400);
    m_seconds->setDecimals(3);
    m_seconds->setSuffix(tr(" s"));
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("JIT"), m_jit);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("Precision"), m_dtype);
    form->addRow(tr("Autograd"), m_grad);
    form->addRow(QString(), m_graphOptimize);
    form->addRow(tr("Warm-up calls"), m_warmup);
    form->addRow(tr("Measure"), m_measure);
    form->addRow(tr("Calls"), m_iterations);
    form->addRow(tr("Time"), m_seconds);
    // Where this configuration runs: the File → Targets list, so that builds and machines are rows of one
    // plan, measured interleaved.
    m_target = new QComboBox;
    m_target->setObjectName(QStringLiteral("configTarget"));
    m_target->setToolTip(tr("Where this configuration runs; File → Targets lists the targets"));
    form->addRow(tr("Target"), m_target);
    layout->addLayout(form, 1);

    connect(m_list, &QListWidget::currentRowChanged, this, &ConfigPanel::select);
    for (QComboBox* c : {m_device, m_jit, m_dtype, m_grad, m_measure, m_target})
        connect(c, qOverload<int>(&QComboBox::currentIndexChanged), this, &ConfigPanel::editorChanged);
    for (QSpinBox* s : {m_threads, m_warmup, m_iterations})
        connect(s, qOverload<int>(&QSpinBox::valueChanged), this, &ConfigPanel::editorChanged);
    connect(m_seconds, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &ConfigPanel::editorChanged);
    connect(m_graphOptimize, &QCheckBox::toggled, this, &ConfigPanel::editorChanged);
    connect(m_name, &QLineEdit::textEdited, this, &ConfigPanel::editorChanged);
    connect(add, &QPushButton::clicked, this, [this] {
        m_configs.push_back(twb::RunConfig());
        refreshList();
        m_list->setCurrentRow(int(m_configs.size()) - 1);
        emit changed();
    });
    connect(dup, &QPushButton::clicked, this, [this] {
        const int row = m_list->currentRow();
        if (row < 0) return;
        twb::RunConfig copy = m_configs[row];
        if (!copy.name.empty()) copy.name += " (copy)";
        m_configs.push_back(copy);
        refreshList();
        m_list->setCurrentRow(int(m_configs.size()) - 1);
        emit changed();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_list->currentRow();
        if (row < 0 || m_configs.size() <= 1) return;
        m_configs.remove(row);
        refreshList();
        m_list->setCurrentRow(std::min(row, int(m_configs.size()) - 1));
        emit changed();
    });
    setConfigs(defaults());
}

void ConfigPanel::setPackage(bool package) {
    m_package = package;
    const QString why =
        package ? tr("Fixed when torch.export compiled the package: it runs as compiled") : QString();
    for (QWidget* w : {static_cast<QWidget*>(m_jit), static_cast<QWidget*>(m_dtype),
                       static_cast<QWidget*>(m_graphOptimize)}) {
        w->setEnabled(!package);
        w->setToolTip(why);
    }
    if (package) {
        QVector<twb::RunConfig> configs = m_configs;
        for (auto& c : configs) {
            if (c.jit != twb::JitMode::Off || c.dtype != "as_saved")
                c.name.clear(); // its name said otherwise
            c.jit = twb::JitMode::Off;
            c.dtype = "as_saved";
        }
        // Configurations that differed only there are now the same: keep one of each.
        QVector<twb::RunConfig> unique;
        auto unnamed = [](twb::RunConfig c) {
            c.name.clear();
            return c.toSpec() + "|" + c.target;
        };
        for (const auto& c : configs) {
            bool seen = false;
            for (const auto& u : unique)
                seen = seen || unnamed(u) == unnamed(c);
            if (!seen) unique.push_back(c);
        }
        setConfigs(unique);
    }
}

void ConfigPanel::setRunTargets(const QStringList& targets) {
    m_runTargets = targets;
    updateDevices();
}

void ConfigPanel::setTargetDevices(const QString& target, bool reached, const QStringList& cudaDevices,
                                   const QString& why) {
    m_targetDevices[target] = {true, reached, cudaDevices, why};
    updateDevices();
}

void ConfigPanel::updateDevices() {
    const int row = m_list->currentRow();
    QStringList where;
    // A target chosen for this configuration is checked at once; the ticked ones are not checked
    // unasked (a launcher's check may queue a cluster job), only shown as File → Targets found them.
    const bool chosen = row >= 0 && row < m_configs.size() && !m_configs[row].target.empty();
    if (chosen)
        where << QString::fromStdString(m_configs[row].target);
    else
        where = m_runTargets;
    if (where.isEmpty()) where << QStringLiteral("local");
    // Which of them have CUDA, and how many devices the most has; why not, for those without.
    const twb::BuildInfo& build = m_build;
    int devices = 0;
    QStringList with, without, checking;
    for (const QString& t : where) {
        if (t == "local") {
            if (build.cudaAvailable) {
                devices = std::max(devices, build.cudaDevices);
                with << tr("this build: %1 CUDA device(s)").arg(build.cudaDevices);
            } else {
                without << tr("this build: %1").arg(QString::fromStdString(build.cudaStatus));
            }
            continue;
        }
        const auto known = m_targetDevices.constFind(t);
        if (known == m_targetDevices.constEnd() && !chosen) {
            without << tr("%1: not checked yet (File → Targets, Check)").arg(t);
        } else if (known == m_targetDevices.constEnd()) {
            m_targetDevices[t] = {}; // asked once
            checking << t;
            emit targetDevicesNeeded(t);
        } else if (!known->known) {
            checking << t;
        } else if (!known->cuda.isEmpty()) {
            devices = std::max(devices, int(known->cuda.size()));
            with << tr("%1: %2").arg(t, known->cuda.join(", "));
        } else {
            without << (known->reached ? tr("%1: no usable CUDA").arg(t)
                                       : tr("%1 cannot be reached: %2").arg(t, known->why));
        }
    }
    QStringList lines = with;
    lines << without;
    for (const QString& t : checking)
        lines << tr("%1: checking its devices…").arg(t);
    const QString why = lines.join('\n');

    const bool wasLoading = m_loading;
    m_loading = true;
    const QString current = m_device->currentText();
    while (m_device->count() > 1)
        m_device->removeItem(1);
    auto* items = qobject_cast<QStandardItemModel*>(m_device->model());
    for (int i = 0; i < std::max(devices, 1); ++i) {
        m_device->addItem(i == 0 ? QStringLiteral("cuda") : QStringLiteral("cuda:%1").arg(i));
        QStandardItem* item = items->item(m_device->count() - 1);
        if (devices == 0) item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
        item->setToolTip(why);
    }
    if (m_device->findText(current) < 0) m_device->addItem(current); // keep what the configuration says
    m_device->setCurrentIndex(m_device->findText(current));
    m_device->setToolTip(why);
    m_loading = wasLoading;
}

bool ConfigPanel::cudaSelectable() const {
    auto* items = qobject_cast<QStandardItemModel*>(m_device->model());
    return m_device->count() > 1 && (items->item(1)->flags() & Qt::ItemIsEnabled);
}

void ConfigPanel::setConfigs(const QVector<twb::RunConfig>& configs) {
    m_configs = configs.isEmpty() ? defaults() : configs;
    refreshList();
    m_list->setCurrentRow(0);
    emit changed();
}

void ConfigPanel::refreshList() {
    const int row = m_list->currentRow();
    m_loading = true;
    m_list->clear();
    for (int i = 0; i < m_configs.size(); ++i)
        m_list->addItem((i == 0 ? tr("baseline: ") : QString()) +
                        QString::fromStdString(m_configs[i].label()));
    m_list->setCurrentRow(std::clamp(row, 0, int(m_configs.size()) - 1));
    m_loading = false;
    select(m_list->currentRow()); // the editor always shows the selected configuration
}

void ConfigPanel::select(int row) {
    if (row < 0 || row >= m_configs.size() || m_loading) return;
    const twb::RunConfig& c = m_configs[row];
    m_loading = true;
    m_name->setText(QString::fromStdString(c.name));
    QString device = QString::fromStdString(c.device);
    if (device == "cuda:0") device = "cuda";
    if (m_device->findText(device) < 0) m_device->addItem(device); // keep what the configuration says
    m_device->setCurrentIndex(m_device->findText(device));
    m_jit->setCurrentIndex(m_jit->findData(QString::fromStdString(twb::jitModeName(c.jit))));
    m_threads->setValue(c.threads);
    m_dtype->setCurrentIndex(m_dtype->findData(QString::fromStdString(c.dtype)));
    m_grad->setCurrentIndex(m_grad->findData(QString::fromStdString(twb::gradModeName(c.grad))));
    m_graphOptimize->setChecked(c.graphOptimize);
    m_warmup->setValue(c.warmup);
    m_measure->setCurrentIndex(c.iterations > 0 ? 1 : 0);
    m_iterations->setValue(c.iterations > 0 ? int(c.iterations) : 100);
    m_seconds->setValue(c.seconds);
    m_iterations->setEnabled(c.iterations > 0);
    m_seconds->setEnabled(c.iterations == 0);
    m_target->clear();
    m_target->addItem(tr("where Run measures"), QString());
    for (const QString& t : QSettings().value(QStringLiteral("targets")).toStringList())
        if (t != "local") m_target->addItem(t, t);
    const QString target = QString::fromStdString(c.target);
    if (!target.isEmpty() && m_target->findData(target) < 0) m_target->addItem(target, target);
    m_target->setCurrentIndex(m_target->findData(target));
    m_loading = false;
    updateDevices();
}

void ConfigPanel::editorChanged() {
    const int row = m_list->currentRow();
    if (m_loading || row < 0 || row >= m_configs.size()) return;
    twb::RunConfig& c = m_configs[row];
    c.name = m_name->text().toStdString();
    c.device = m_device->currentText().toStdString();
    c.set("jit", m_jit->currentData().toString().toStdString());
    c.threads = m_threads->value();
    c.dtype = m_dtype->currentData().toString().toStdString();
    c.set("grad", m_grad->currentData().toString().toStdString());
    c.graphOptimize = m_graphOptimize->isChecked();
    c.warmup = m_warmup->value();
    const bool byCount = m_measure->currentData().toString() == "iters";
    c.iterations = byCount ? m_iterations->value() : 0;
    c.seconds = m_seconds->value();
    const std::string target = m_target->currentData().toString().toStdString();
    const bool moved = target != c.target;
    c.target = target;
    if (moved) updateDevices();
    m_iterations->setEnabled(byCount);
    m_seconds->setEnabled(!byCount);
    m_list->item(row)->setText((row == 0 ? tr("baseline: ") : QString()) + QString::fromStdString(c.label()));
    emit changed();
}

} // namespace twbui
