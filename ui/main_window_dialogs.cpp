// The main window's dialogs: File → Operator Libraries and File → Targets, Help → Keyboard Shortcuts,
// Help → Manual and About. They show and ask; what they decide is the window's (main_window.cpp).
#include "main_window.h"

#include "job_runner.h"
#include "model_panel.h"

#include "twb/build_info.h"
#include "twb/operator_library.h"
#include "twb/runtime.h"
#include "twb/target.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <functional>

namespace twbui {

QDialog* MainWindow::showShortcuts() {
    // Read off the menus, so that the list is always what the window does.
    QStringList rows;
    std::function<void(QMenu*, const QString&)> collect = [&](QMenu* menu, const QString& path) {
        for (QAction* a : menu->actions()) {
            const QString name = path + a->text().remove('&');
            if (a->menu())
                collect(a->menu(), name + " → ");
            else if (!a->shortcut().isEmpty())
                rows << name + '\t' + a->shortcut().toString(QKeySequence::NativeText);
        }
    };
    for (QAction* a : menuBar()->actions())
        if (a->menu()) collect(a->menu(), a->text().remove('&') + " → ");
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Keyboard Shortcuts"));
    auto* table = new QTableWidget(int(rows.size()), 2, dialog);
    table->setObjectName(QStringLiteral("shortcutsTable"));
    table->setHorizontalHeaderLabels({tr("Action"), tr("Shortcut")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    for (int i = 0; i < rows.size(); ++i) {
        table->setItem(i, 0, new QTableWidgetItem(rows[i].section('\t', 0, 0)));
        table->setItem(i, 1, new QTableWidgetItem(rows[i].section('\t', 1)));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(table);
    dialog->resize(560, 520);
    dialog->show();
    return dialog;
}

QDialog* MainWindow::showManual() {
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Torch Workbench Manual"));
    auto* text = new QTextBrowser(dialog);
    text->setObjectName(QStringLiteral("manual"));
    text->setOpenExternalLinks(true);
    QFile manual(QStringLiteral(":/doc/manual.md")); // the README, bundled
    if (manual.open(QIODevice::ReadOnly)) text->setMarkdown(QString::fromUtf8(manual.readAll()));
    auto* layout = new QVBoxLayout(dialog);
    layout->addWidget(text);
    dialog->resize(860, 720);
    dialog->show();
    return dialog;
}

void MainWindow::about() {
    const twb::BuildInfo b = twb::buildInfo();
    const twb::LibTorchBuild& l = b.libtorch;
    auto text = [](const std::string& s) {
        return s.empty() ? tr("none") : QString::fromStdString(s).toHtmlEscaped();
    };
    const QString build =
        tr("LibTorch %1 from the %2<br>BLAS %3, LAPACK %4, oneDNN %5<br>%6, %7 intra-op threads<br>"
           "CUDA runtime %8, cuDNN %9<br>")
            .arg(text(b.libtorchVersion), text(l.source), text(l.blas), text(l.lapack), text(l.onednn),
                 l.openmp.empty() ? tr("no OpenMP") : text(l.openmp),
                 QString::number(twb::threadSettings().current), text(l.cudaRuntime), text(l.cudnn)) +
        tr("Kineto profiler: %1; CPU capability %2")
            .arg(l.kineto ? tr("yes") : tr("no"), text(l.cpuCapability));
    QMessageBox::about(
        this, tr("About Torch Workbench"),
        tr("<h3>Torch Workbench %1</h3><p>Open, run, time and compare saved PyTorch models.</p>"
           "<p>%2</p><p>CUDA compiled in: %3; available: %4<br>%5</p><p>Qt %6</p>")
            .arg(QString::fromStdString(b.version), build, b.cudaCompiled ? tr("yes") : tr("no"),
                 b.cudaAvailable ? tr("yes") : tr("no"), QString::fromStdString(b.cudaStatus).toHtmlEscaped(),
                 QString::fromLatin1(qVersion())));
}

void MainWindow::editOperatorLibraries() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Operator Libraries"));
    auto* layout = new QVBoxLayout(&dialog);
    auto* about = new QLabel(
        m_modelPath.isEmpty()
            ? tr("Open a model first: its operator libraries are remembered with it.")
            : tr("Loaded before %1 each time it is opened, and in its workers. A library stays loaded until "
                 "the program ends.")
                  .arg(QFileInfo(m_modelPath).fileName()));
    about->setWordWrap(true);
    auto* list = new QListWidget;
    list->addItems(operatorLibrariesFor(m_modelPath));
    auto* add = new QPushButton(tr("Add…"));
    auto* remove = new QPushButton(tr("Remove"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    add->setEnabled(!m_modelPath.isEmpty());
    connect(add, &QPushButton::clicked, &dialog, [this, list] {
        if (loadOperatorLibrary({})) {
            list->clear();
            list->addItems(operatorLibrariesFor(m_modelPath));
        }
    });
    connect(remove, &QPushButton::clicked, &dialog, [this, list] {
        delete list->currentItem();
        QStringList kept;
        for (int i = 0; i < list->count(); ++i)
            kept << list->item(i)->text();
        setOperatorLibrariesFor(m_modelPath, kept);
    });
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    auto* row = new QHBoxLayout;
    row->addWidget(add);
    row->addWidget(remove);
    row->addStretch();
    layout->addWidget(about);
    layout->addWidget(list);
    layout->addLayout(row);
    layout->addWidget(buttons);
    dialog.resize(560, 260);
    dialog.exec();
}

void MainWindow::editTargets() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Targets"));
    auto* layout = new QVBoxLayout(&dialog);
    auto* about = new QLabel(
        tr("Where Run measures: ticked targets each run every configuration, into one report. "
           "<code>local</code> is this build; <code>local:/path/to/torchwb</code> another build here; "
           "<code>ssh://[user@]host[:port][/path/to/torchwb]</code> through OpenSSH with your keys and "
           "~/.ssh/config (never a password); <code>cmd:srun … torchwb worker</code> any launcher."));
    about->setWordWrap(true);
    auto* list = new QListWidget;
    list->setObjectName(QStringLiteral("targetsList"));
    QSettings settings;
    QStringList known = settings.value(QStringLiteral("targets")).toStringList();
    const QStringList used = m_runner->targets();
    if (!known.contains(QStringLiteral("local"))) known.prepend(QStringLiteral("local"));
    for (const QString& t : used)
        if (!known.contains(t)) known << t;
    for (const QString& t : known) {
        auto* item = new QListWidgetItem(t, list);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable | Qt::ItemIsEditable);
        item->setCheckState(used.contains(t) || (used.isEmpty() && t == "local") ? Qt::Checked
                                                                                 : Qt::Unchecked);
    }
    auto* add = new QPushButton(tr("Add…"));
    auto* remove = new QPushButton(tr("Remove"));
    auto* check = new QPushButton(tr("Check"));
    check->setObjectName(QStringLiteral("checkTarget"));
    auto* result = new QPlainTextEdit;
    result->setObjectName(QStringLiteral("targetCheck"));
    result->setReadOnly(true);
    result->setPlaceholderText(tr("Check a target to see its protocol, LibTorch, CPU, CUDA and GPUs."));
    result->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(add, &QPushButton::clicked, &dialog, [&dialog, list] {
        bool ok = false;
        const QString t =
            QInputDialog::getText(&dialog, tr("Add a target"),
                                  tr("local:/path/to/torchwb, ssh://[user@]host[:port][/path], or "
                                     "cmd:LAUNCHER … torchwb worker"),
                                  QLineEdit::Normal, QStringLiteral("ssh://"), &ok)
                .trimmed();
        if (!ok || t.isEmpty()) return;
        auto* item = new QListWidgetItem(t, list);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable | Qt::ItemIsEditable);
        item->setCheckState(Qt::Checked);
        list->setCurrentItem(item);
    });
    connect(remove, &QPushButton::clicked, &dialog, [list] { delete list->currentItem(); });
    connect(check, &QPushButton::clicked, &dialog, [this, list, result] {
        if (!list->currentItem()) return;
        const QString t = list->currentItem()->text();
        result->setPlainText(tr("Reaching %1…").arg(t));
        m_runner->checkTarget(t);
    });
    // The answer comes from the job thread; the dialog shows it while it is open.
    auto connection =
        connect(m_runner, &JobRunner::targetChecked, &dialog,
                [this, list, result](const QString& t, bool ok, const QString& text) {
                    if (!list->currentItem() || list->currentItem()->text() != t) return;
                    result->setPlainText((ok ? QString() : tr("%1 cannot be used:\n").arg(t)) + text);
                    emit targetChecked(t, ok, text);
                });
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    auto* row = new QHBoxLayout;
    row->addWidget(add);
    row->addWidget(remove);
    row->addWidget(check);
    row->addStretch();
    layout->addWidget(about);
    layout->addWidget(list);
    layout->addLayout(row);
    layout->addWidget(result);
    layout->addWidget(buttons);
    dialog.resize(640, 460);
    if (dialog.exec() != QDialog::Accepted) return;
    disconnect(connection);
    QStringList all, ticked;
    for (int i = 0; i < list->count(); ++i) {
        all << list->item(i)->text().trimmed();
        if (list->item(i)->checkState() == Qt::Checked) ticked << list->item(i)->text().trimmed();
    }
    settings.setValue(QStringLiteral("targets"), all);
    setTargets(ticked);
    m_status->setText(m_runner->targets().isEmpty()
                          ? tr("Run measures on this build.")
                          : tr("Run measures on %1.").arg(m_runner->targets().join(", ")));
}

} // namespace twbui
