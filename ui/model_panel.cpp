#include "model_panel.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>

namespace twbui {

namespace {
QPlainTextEdit* readOnlyText(bool monospace) {
    auto* t = new QPlainTextEdit;
    t->setReadOnly(true);
    if (monospace) t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    t->setLineWrapMode(QPlainTextEdit::NoWrap);
    return t;
}

QString totalsText(const twb::TensorTotals& t) {
    QStringList dtypes;
    for (const auto& [name, n] : t.dtypes)
        dtypes << QString::fromStdString(name);
    return QObject::tr("%1 in %2 tensors, %3%4")
        .arg(QLocale().toString(qlonglong(t.count)))
        .arg(t.tensors)
        .arg(bytesText(t.bytes))
        .arg(dtypes.isEmpty() ? QString() : " (" + dtypes.join(", ") + ")");
}
} // namespace

ModelPanel::ModelPanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    m_kind = new QLabel(tr("No model open. Open a file (Ctrl+O) or drop one here."));
    QFont big = m_kind->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_kind->setFont(big);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_kind);
    layout->addWidget(m_summary);

    m_problemBox = new QWidget;
    auto* pl = new QVBoxLayout(m_problemBox);
    pl->setContentsMargins(0, 0, 0, 0);
    m_problem = new QLabel;
    m_problem->setWordWrap(true);
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fix = readOnlyText(true);
    m_fix->setObjectName(QStringLiteral("fix"));
    // Wrapped to the panel, not cut off; soft wraps add no line breaks, so copied code stays runnable.
    m_fix->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_fix->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    m_detail = readOnlyText(true);
    m_detail->setMaximumHeight(120);
    auto* copy = new QPushButton(tr("Copy the fix"));
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_fix->toPlainText()); });
    // A model that calls a library's operators (torchvision::nms): load the library found for it, or
    // choose one; the model is then opened again.
    m_loadLibrary = new QPushButton;
    m_loadLibrary->setObjectName(QStringLiteral("loadLibrary"));
    m_loadLibrary->hide();
    connect(m_loadLibrary, &QPushButton::clicked, this,
            [this] { emit loadLibraryRequested(m_offeredLibrary); });
    pl->addWidget(m_problem);
    pl->addWidget(new QLabel(tr("How to fix it:")));
    pl->addWidget(m_fix, 1);
    auto* fixRow = new QHBoxLayout;
    fixRow->addWidget(m_loadLibrary);
    fixRow->addWidget(copy);
    fixRow->addStretch();
    pl->addLayout(fixRow);
    auto* detailTitle = new QLabel(tr("LibTorch's own words:"));
    detailTitle->setObjectName(QStringLiteral("detailTitle"));
    pl->addWidget(detailTitle);
    pl->addWidget(m_detail);
    layout->addWidget(m_problemBox, 1);
    m_problemBox->hide();

    m_tabs = new QTabWidget;
    auto* overviewPage = new QWidget;
    auto* ol = new QVBoxLayout(overviewPage);
    m_overview = new QLabel;
    m_overview->setTextFormat(Qt::RichText);
    m_overview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_overview->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_overview->setWordWrap(true);
    m_loadWeights = new QPushButton(tr("Load weights from a state_dict…"));
    connect(m_loadWeights, &QPushButton::clicked, this, &ModelPanel::loadWeightsRequested);
    m_weightsReport = new QLabel;
    m_weightsReport->setWordWrap(true);
    m_weightsReport->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stripPrefix = new QPushButton;
    m_stripPrefix->setObjectName(QStringLiteral("stripPrefix"));
    m_stripPrefix->hide();
    connect(m_stripPrefix, &QPushButton::clicked, this,
            [this] { emit stripPrefixRequested(m_weightsPath, m_offeredPrefix); });
    m_strict = new QCheckBox(tr("Strict: refuse missing, unexpected or mis-shaped keys"));
    m_strict->setChecked(true);
    m_strict->setToolTip(tr(
        "Unchecked, the matching tensors load and the rest is reported, as load_state_dict(strict=False)."));
    ol->addWidget(m_overview);
    ol->addWidget(m_loadWeights, 0, Qt::AlignLeft);
    ol->addWidget(m_strict);
    ol->addWidget(m_weightsReport);
    ol->addWidget(m_stripPrefix, 0, Qt::AlignLeft);
    ol->addStretch();
    m_tabs->addTab(overviewPage, tr("Overview"));

    m_methods = readOnlyText(true);
    m_tabs->addTab(m_methods, tr("Methods"));

    m_tree = new ModuleTreeModel(this);
    m_treeView = new QTreeView;
    m_treeView->setModel(m_tree);
    m_treeView->setUniformRowHeights(true);
    m_tabs->addTab(m_treeView, tr("Submodules"));

    m_code = readOnlyText(true);
    m_tabs->addTab(m_code, tr("Code"));

    auto* tensorsPage = new QWidget;
    auto* tl = new QVBoxLayout(tensorsPage);
    m_tensors = new TensorTableModel(this);
    m_tensorView = new QTableView;
    m_tensorView->setModel(m_tensors);
    m_tensorView->horizontalHeader()->setStretchLastSection(true);
    m_tensorView->verticalHeader()->hide();
    m_loadInto = new QPushButton(tr("Load into a TorchScript model…"));
    // A checkpoint with several state_dicts (timm's state_dict and state_dict_ema): the user chooses.
    m_keyChoice = new QComboBox;
    m_keyChoice->setObjectName(QStringLiteral("stateDictKey"));
    m_keyChoice->setToolTip(tr("The checkpoint entry whose weights are loaded"));
    connect(m_loadInto, &QPushButton::clicked, this, &ModelPanel::loadIntoModelRequested);
    tl->addWidget(m_tensorView);
    auto* loadRow = new QHBoxLayout;
    loadRow->addWidget(m_keyChoice);
    loadRow->addWidget(m_loadInto);
    loadRow->addStretch();
    tl->addLayout(loadRow);
    m_tabs->addTab(tensorsPage, tr("Tensors"));
    layout->addWidget(m_tabs, 1);
    m_tabs->hide();
}

QString ModelPanel::headline() const {
    return m_kind->text();
}

QString ModelPanel::problemText() const {
    return m_problemBox->isVisible() ? m_problem->text() : QString();
}

bool ModelPanel::strictLoading() const {
    return m_strict->isChecked();
}

void ModelPanel::showInfo(const twb::ModelInfo& info) {
    const auto& d = info.diagnosis;
    const QString file = QFileInfo(QString::fromStdString(info.path)).fileName();
    m_kind->setText(d.usable ? tr("%1 — %2").arg(file, QString::fromStdString(twb::kindName(d.kind)))
                             : tr("%1 cannot be used").arg(file));
    QString summary = QString::fromStdString(d.summary);
    if (!d.format.empty()) summary += tr(" · format %1").arg(QString::fromStdString(d.format));
    if (d.formatVersion >= 0) summary += tr(", version %1").arg(d.formatVersion);
    if (info.fileSize) summary += " · " + bytesText(info.fileSize);
    m_summary->setText(summary);
    m_weightsReport->clear();
    m_stripPrefix->hide();

    if (!d.usable) {
        m_problem->setText(tr("<b>Why:</b> %1").arg(QString::fromStdString(d.error).toHtmlEscaped()));
        m_fix->setPlainText(QString::fromStdString(d.fix));
        m_detail->setPlainText(QString::fromStdString(d.detail));
        m_detail->setVisible(!d.detail.empty());
        m_problemBox->findChild<QLabel*>(QStringLiteral("detailTitle"))->setVisible(!d.detail.empty());
        const bool needsLibrary =
            d.kind == twb::FileKind::NeedsOperatorLibrary || !d.operatorLibraries.empty();
        m_offeredLibrary =
            d.operatorLibraries.empty() ? QString() : QString::fromStdString(d.operatorLibraries.front());
        m_loadLibrary->setText(
            m_offeredLibrary.isEmpty()
                ? tr("Load Operator Library…")
                : tr("Load Operator Library %1").arg(QFileInfo(m_offeredLibrary).fileName()));
        m_loadLibrary->setToolTip(m_offeredLibrary.isEmpty()
                                      ? tr("Choose the library that registers the operators the model calls")
                                      : m_offeredLibrary);
        m_loadLibrary->setVisible(needsLibrary);
        m_problemBox->show();
        m_tabs->hide();
        return;
    }
    m_problemBox->hide();
    m_tabs->show();
    const bool script = d.kind == twb::FileKind::TorchScript;
    m_tabs->setTabVisible(1, script);
    m_tabs->setTabVisible(2, script);
    m_tabs->setTabVisible(3, script && !info.code.empty());
    m_tabs->setTabVisible(4, !info.tensors.empty());
    m_loadWeights->setVisible(script);
    m_strict->setVisible(script);
    m_loadInto->setVisible(d.kind == twb::FileKind::StateDict);
    m_keyChoice->clear();
    for (const auto& k : info.stateDictCandidates)
        m_keyChoice->addItem(QString::fromStdString(k));
    m_keyChoice->setVisible(d.kind == twb::FileKind::StateDict && info.stateDictCandidates.size() > 1);

    QString html;
    auto row = [&html](const QString& k, const QString& v) {
        html += "<tr><td style='padding-right:12px'><b>" + k + "</b></td><td>" + v + "</td></tr>";
    };
    html += "<table>";
    const bool package = d.kind == twb::FileKind::Pt2;
    if (script || package) {
        QStringList args;
        for (const auto& a : info.inputs)
            args << QString::fromStdString(a.name + ": " + a.type +
                                           (a.hasDefault ? " = " + a.defaultValue : ""));
        row(package ? tr("Package") : tr("Class"), QString::fromStdString(info.className).toHtmlEscaped());
        row(tr("forward"),
            ("(" + args.join(", ") + ") → " + QString::fromStdString(info.returnType)).toHtmlEscaped());
        row(package ? tr("Constants") : tr("Parameters"), totalsText(info.parameters));
        if (package)
            row(tr("Configurations"),
                tr("JIT modes and precision are fixed when a package is compiled; device "
                   "and threads apply"));
        else
            row(tr("Buffers"), totalsText(info.buffers));
        if (info.savedTraining) row(tr("Mode"), tr("saved in training mode; loaded in eval mode"));
        QStringList devices;
        for (const auto& dev : info.savedDevices)
            devices << QString::fromStdString(dev);
        if (!devices.isEmpty())
            row(tr("Saved on"),
                devices.join(", ") + (info.savedOnCuda ? tr(" (mapped to the CPU on load)") : QString()));
        QStringList extra;
        for (const auto& e : info.extraFiles)
            extra << QString::fromStdString(e);
        if (!extra.isEmpty())
            row(package ? tr("Models") : tr("Extra files"), extra.join(", ").toHtmlEscaped());
    } else {
        row(tr("Tensors"), totalsText(info.parameters));
        if (!info.stateDictKey.empty())
            row(tr("state_dict"),
                tr("under the checkpoint key '%1'").arg(QString::fromStdString(info.stateDictKey)));
        QStringList entries, objects;
        for (const auto& e : info.checkpointEntries)
            entries << QString::fromStdString(e).toHtmlEscaped();
        for (const auto& p : info.pythonObjects)
            objects << QString::fromStdString(p).toHtmlEscaped();
        if (!entries.isEmpty()) row(tr("Also in it"), entries.join("<br>"));
        if (!objects.isEmpty()) row(tr("Python objects"), objects.join("<br>"));
    }
    html += "</table>";
    m_overview->setText(html);

    QString methods;
    for (const auto& m : info.methods)
        methods += QString::fromStdString(m.schema) + "\n";
    m_methods->setPlainText(methods);
    m_tree->setTree(info.tree);
    m_treeView->expandToDepth(1);
    m_treeView->header()->resizeSections(QHeaderView::ResizeToContents);
    m_code->setPlainText(QString::fromStdString(info.code));
    m_tensors->setRows(info.tensors);
    m_tensorView->resizeColumnsToContents();
    m_tabs->setCurrentIndex(script ? 0 : 4);
}

QString ModelPanel::stateDictKey() const {
    return m_keyChoice->count() > 1 ? m_keyChoice->currentText() : QString();
}

void ModelPanel::showStateDictReport(const twb::StateDictReport& report, const QString& path) {
    m_weightsReport->setText(tr("<b>%1:</b> %2")
                                 .arg(QFileInfo(path).fileName().toHtmlEscaped(),
                                      QString::fromStdString(report.describe()).toHtmlEscaped()));
    // A prefix every key carries and without which they match: one click strips it and loads again.
    m_weightsPath = path;
    m_offeredPrefix = QString::fromStdString(report.suggestedPrefix);
    m_stripPrefix->setText(tr("Strip '%1' from the keys and load again").arg(m_offeredPrefix));
    m_stripPrefix->setVisible(!m_offeredPrefix.isEmpty());
}

} // namespace twbui
