#include "inputs_panel.h"

#include "file_types.h"
#include "icons.h"

#include <QFileDialog>
#include <QGridLayout>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPixmap>
#include <QPointer>
#include <QPushButton>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace twbui {

InputsPanel::InputsPanel(QWidget* parent)
    : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    auto* help =
        new QLabel(tr("Give each of forward's arguments a file (.npy .npz .safetensors .pt .csv or an "
                      "image) or a generator such as <code>gen:normal:1x3x224x224:seed=0</code>. A "
                      ".npz, .safetensors or saved dict whose keys are argument names fills them all."));
    help->setWordWrap(true);
    outer->addWidget(help);
    m_grid = new QGridLayout;
    m_grid->setColumnStretch(1, 1);
    outer->addLayout(m_grid);
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("bindingStatus"));
    outer->addWidget(m_status);
    outer->addStretch();
    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_debounce, &QTimer::timeout, this, &InputsPanel::sourcesChanged);
}

void InputsPanel::setArguments(const std::vector<twb::ArgumentInfo>& arguments) {
    m_debounce->stop();
    for (QWidget* w : m_widgets)
        w->deleteLater();
    m_widgets.clear();
    m_rows.clear();
    m_ok = false;
    m_status->setText(arguments.empty() ? tr("forward takes no arguments.") : QString());
    for (const auto& a : arguments) {
        addRow(a, a.elements.empty() ? tr("file or gen:SPEC")
                                     : tr("a .pt holding the tuple, or its elements below"));
        // A tuple's elements, each from its own file (hc.0, hc.1): what an LSTM's state usually is.
        if (!a.hasDefault)
            for (const auto& e : a.elements)
                addRow(e, tr("file or gen:SPEC"), true);
    }
}

void InputsPanel::addRow(const twb::ArgumentInfo& a, const QString& placeholder, bool element) {
    const int r = int(m_rows.size());
    Row row;
    row.argument = QString::fromStdString(a.name);
    row.type = QString::fromStdString(a.type);
    row.needed = !a.hasDefault && a.elements.empty();
    auto* name = new QLabel(
        QStringLiteral("%1<b>%2</b>: %3%4")
            .arg(element ? QStringLiteral("&nbsp;&nbsp;&nbsp;&nbsp;") : QString(),
                 row.argument.toHtmlEscaped(), row.type.toHtmlEscaped(),
                 a.hasDefault ? tr(" = %1").arg(QString::fromStdString(a.defaultValue).toHtmlEscaped())
                              : QString()));
    if (!a.neededDtype.empty())
        name->setToolTip(
            tr("%1 needs %2").arg(QString::fromStdString(a.neededBy), QString::fromStdString(a.neededDtype)));
    row.source = new QLineEdit;
    row.source->setPlaceholderText(a.hasDefault ? tr("(default)") : placeholder);
    addClearButton(row.source);
    row.source->setObjectName("input_" + row.argument);
    auto* browse = new QToolButton;
    browse->setText(tr("…"));
    browse->setToolTip(tr("Choose a file"));
    auto* gen = new QToolButton;
    gen->setText(tr("Generate"));
    gen->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(gen);
    if (!a.suggested.empty() && !a.hasDefault) {
        // The model's own suggestion first: what its first layers take, and why.
        const QString suggested = "gen:" + QString::fromStdString(a.suggested);
        row.suggested = suggested;
        QAction* act = menu->addAction(tr("Suggested: %1").arg(suggested), this,
                                       [this, r, suggested] { setSource(r, suggested); });
        act->setObjectName("suggest_" + row.argument);
        act->setToolTip(QString::fromStdString(a.suggestedReason));
        act->setStatusTip(QString::fromStdString(a.suggestedReason));
        menu->setToolTipsVisible(true);
        menu->setDefaultAction(act);
        menu->addSeparator();
        gen->setToolTip(tr("Suggested: %1 (%2)").arg(suggested, QString::fromStdString(a.suggestedReason)));
    }
    for (const char* spec : {"normal:1x3x224x224:seed=0", "uniform:1x10:low=0:high=1:seed=0",
                             "randint:1x16:int64:low=0:high=1000:seed=0", "zeros:1x16:bool", "ones:1",
                             "zeros:scalar:int64", "full:scalar:float64:value=0.5"})
        menu->addAction(QString::fromLatin1(spec), this,
                        [this, r, spec] { setSource(r, "gen:" + QString(spec)); });
    gen->setMenu(menu);
    row.preview = new QLabel;
    row.preview->setWordWrap(true);
    row.preview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row.thumbnail = new QLabel;
    QPointer<QLineEdit> edit = row.source; // the rows may be rebuilt while the dialog is open
    connect(browse, &QToolButton::clicked, this, [this, edit] {
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Input tensor"), dialogPath(), tensorFileFilter());
        if (!f.isEmpty() && edit) edit->setText(f);
    });
    connect(row.source, &QLineEdit::textChanged, m_debounce, qOverload<>(&QTimer::start));
    m_grid->addWidget(name, 2 * r, 0);
    m_grid->addWidget(row.source, 2 * r, 1);
    m_grid->addWidget(browse, 2 * r, 2);
    m_grid->addWidget(gen, 2 * r, 3);
    m_grid->addWidget(row.thumbnail, 2 * r + 1, 0, Qt::AlignRight);
    m_grid->addWidget(row.preview, 2 * r + 1, 1, 1, 3);
    m_widgets.insert(m_widgets.end(), {name, row.source, browse, gen, row.preview, row.thumbnail});
    m_rows.push_back(row);
}

QVector<InputSpec> InputsPanel::specs() const {
    QVector<InputSpec> out;
    for (const auto& r : m_rows)
        out.push_back({r.argument, r.source->text().trimmed()});
    return out;
}

void InputsPanel::setSource(int row, const QString& source) {
    if (row >= 0 && row < int(m_rows.size())) m_rows[std::size_t(row)].source->setText(source);
}

bool InputsPanel::setSourceOf(const QString& argument, const QString& source) {
    for (auto& r : m_rows)
        if (r.argument == argument) {
            r.source->setText(source);
            return true;
        }
    return false;
}

bool InputsPanel::assignFile(const QString& path) {
    if (m_rows.empty()) return false;
    // The user gives inputs of their own: the model's suggestions step aside (a file may hold them all).
    for (auto& r : m_rows)
        if (!r.suggested.isEmpty() && r.source->text().trimmed() == r.suggested) r.source->clear();
    for (auto& r : m_rows)
        if (r.source->text().trimmed().isEmpty()) {
            r.source->setText(path);
            return true;
        }
    m_rows.back().source->setText(path);
    return true;
}

bool InputsPanel::fillSuggestions() {
    bool all = true, any = false;
    for (auto& r : m_rows) {
        if (!r.suggested.isEmpty() && r.source->text().trimmed().isEmpty()) {
            r.source->setText(r.suggested);
            any = true;
        }
        all = all && (!r.needed || !r.source->text().trimmed().isEmpty());
    }
    return any && all;
}

void InputsPanel::showBinding(const BindingSnapshot& binding) {
    m_ok = binding.ok;
    for (auto& r : m_rows) {
        r.preview->clear();
        r.thumbnail->clear();
    }
    for (const auto& p : binding.rows)
        for (auto& r : m_rows)
            if (r.argument == p.argument && r.source->text().trimmed() == p.source) {
                r.preview->setText(
                    p.ok ? p.text : tr("<span style='color:#c0392b'>%1</span>").arg(p.text.toHtmlEscaped()));
                if (!p.imagePath.isEmpty()) {
                    QImageReader reader(p.imagePath);
                    reader.setScaledSize(QSize(48, 48));
                    r.thumbnail->setPixmap(QPixmap::fromImage(reader.read()));
                }
            }
    QStringList warnings;
    for (const auto& w : binding.warnings)
        warnings << w.toHtmlEscaped();
    // Every row given is the model's suggestion, and one is.
    bool suggested = false, onlySuggested = true;
    for (const auto& r : m_rows) {
        const QString text = r.source->text().trimmed();
        suggested = suggested || (!text.isEmpty() && text == r.suggested);
        onlySuggested = onlySuggested && (text.isEmpty() || text == r.suggested);
    }
    suggested = suggested && onlySuggested;
    m_status->setText(
        !binding.ok ? tr("<span style='color:#c0392b'>✗ %1</span>").arg(binding.error.toHtmlEscaped())
        : warnings.isEmpty()
            ? (suggested ? tr("✓ The model's suggested inputs match forward (each row's Generate menu says "
                              "why); give files of your own to measure on your data.")
                         : tr("✓ The inputs match forward."))
            : tr("<span style='color:#b9770e'>⚠ The inputs bind to forward, but %1</span>")
                  .arg(warnings.join(QStringLiteral("; "))));
}

QString InputsPanel::bindingError() const {
    return m_status->text();
}

bool InputsPanel::flush() {
    if (!m_debounce->isActive()) return false;
    m_debounce->stop();
    emit sourcesChanged();
    return true;
}

} // namespace twbui
