#include "file_types.h"

#include "twb/diagnosis.h"
#include "twb/tensor_io.h"

#include <QDir>
#include <QFileInfo>
#include <QObject>
#include <QSettings>
#include <QStringList>

namespace twbui {

QString tensorFileFilter() {
    QStringList patterns;
    for (const auto& [ext, format] : twb::readableTensorExtensions())
        patterns << "*." + QString::fromStdString(ext);
    return QObject::tr("Tensors (%1);;All files (*)").arg(patterns.join(' '));
}

TensorInput tensorInputByName(const QString& path) {
    const std::string suffix = QFileInfo(path).suffix().toLower().toStdString();
    for (const auto& [ext, format] : twb::readableTensorExtensions())
        if (suffix == ext)
            // Weights files (state_dicts, .safetensors) open as themselves, to be loaded into a model.
            return format != twb::TensorFormat::TorchSave && format != twb::TensorFormat::Safetensors
                       ? TensorInput::Yes
                       : TensorInput::Maybe;
    return TensorInput::No;
}

bool holdsInputTensors(const QString& path) {
    return twb::holdsInputTensors(path.toStdString());
}

QString dialogPath(const QString& name) {
    QString folder = QSettings().value(QStringLiteral("dialogs/folder")).toString();
    if (folder.isEmpty() || !QFileInfo(folder).isDir()) folder = QDir::homePath();
    return name.isEmpty() ? folder : QDir(folder).filePath(name);
}

void rememberFolderOf(const QString& path) {
    QSettings().setValue(QStringLiteral("dialogs/folder"), QFileInfo(path).absolutePath());
}

} // namespace twbui
