// Reading tensors from the files people have (.npy, .npz, .safetensors,
// torch.save's .pt, CSV, images) and writing outputs Python can read back.
// Every reader checks declared sizes against the file before allocating.
#pragma once

#include "twb/value.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace twb {

enum class TensorFormat { Auto, Npy, Npz, Safetensors, TorchSave, Csv, Image };

struct ImageOptions {
    int resizeWidth = 0, resizeHeight = 0; // 0: keep the image's size
    int channels = 3;                      // 1 (grey), 3 (RGB) or 4 (RGBA)
    std::array<float, 4> mean{0, 0, 0, 0}; // subtracted after scaling to [0, 1]
    std::array<float, 4> std{1, 1, 1, 1};
    // Named presets: "none" (plain [0,1]), "imagenet" (torchvision's mean/std).
    static ImageOptions preset(const std::string& name);
};

struct ReadOptions {
    TensorFormat format = TensorFormat::Auto;
    ImageOptions image;
    bool csvHeader = false; // otherwise a non-numeric first row is taken as a header
};

// The format from the extension, falling back to the file's first bytes.
TensorFormat detectTensorFormat(const std::string& path);
// The extensions readTensorFile knows by name, lower case without the dot ("npy", "safetensors", …),
// each with its format: for file dialogs' filters.
std::vector<std::pair<std::string, TensorFormat>> readableTensorExtensions();
std::string formatName(TensorFormat format);

// A tensor, or for multi-tensor files (npz, safetensors, a saved dict/list/tuple)
// the dict/list/tuple of them. Throws twb::Error naming the file and the cause.
Value readTensorFile(const std::string& path, const ReadOptions& options = {});

// .npy needs a single tensor; .pt keeps any nesting of tuples, lists and dicts
// (read back by Python's torch.load). The format follows the extension.
void writeTensorFile(const std::string& path, const Value& value);

} // namespace twb
