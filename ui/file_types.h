// File dialog filters and drop decisions from core's list of readable tensor formats, so the GUI
// never keeps a list of its own.
#pragma once

#include <QString>

namespace twbui {

// "Tensors (*.npy *.npz *.safetensors …);;All files (*)"
QString tensorFileFilter();
// A file to use as an input rather than to open as a model: a tensor format by its extension, and for
// torch.save extensions (.pt, .pth, …) and .safetensors one the load doctor finds holds tensors
// rather than a model or a state_dict.
bool isTensorInput(const QString& path);

// Where file dialogs open: the folder of the file opened last (a model, a session, a report), else the
// home folder; with `name`, that file in it, for a save dialog.
QString dialogPath(const QString& name = {});
// Remembers the folder of `path` for dialogPath.
void rememberFolderOf(const QString& path);

} // namespace twbui
