// File dialog filters and drop decisions from core's list of readable tensor formats, so the GUI
// never keeps a list of its own.
#pragma once

#include <QString>

namespace twbui {

// "Tensors (*.npy *.npz *.safetensors …);;All files (*)"
QString tensorFileFilter();
// Whether a file is an input rather than a model, by its name alone: Yes for tensor formats (.npy,
// .npz, images, …), No for what is not one, Maybe for torch.save extensions (.pt, .pth, …) and
// .safetensors, which hold models and state_dicts as often as inputs: for those,
// holdsInputTensors reads the file, off the GUI thread (JobRunner::classifyFile).
enum class TensorInput { Yes, No, Maybe };
TensorInput tensorInputByName(const QString& path);
bool holdsInputTensors(const QString& path);

// Where file dialogs open: the folder of the file opened last (a model, a session, a report), else the
// home folder; with `name`, that file in it, for a save dialog.
QString dialogPath(const QString& name = {});
// Remembers the folder of `path` for dialogPath.
void rememberFolderOf(const QString& path);

} // namespace twbui
