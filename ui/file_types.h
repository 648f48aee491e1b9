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

} // namespace twbui
