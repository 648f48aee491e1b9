#include "twb/tensor_io.h"

#include "readers.h"

#include "twb/error.h"

#include <torch/script.h>

#include <algorithm>
#include <cstring>

namespace twb {

ImageOptions ImageOptions::preset(const std::string& name) {
    ImageOptions o;
    if (name == "none" || name.empty()) return o;
    if (name == "imagenet") {
        o.mean = {0.485f, 0.456f, 0.406f, 0};
        o.std = {0.229f, 0.224f, 0.225f, 1};
        return o;
    }
    if (name == "half") { // [-1, 1], as many GANs and CLIP-like models expect
        o.mean = {0.5f, 0.5f, 0.5f, 0.5f};
        o.std = {0.5f, 0.5f, 0.5f, 0.5f};
        return o;
    }
    throw Error("unknown image normalization preset '" + name + "' (known: none, imagenet, half)");
}

std::vector<std::pair<std::string, TensorFormat>> readableTensorExtensions() {
    using F = TensorFormat;
    return {{"npy", F::Npy},        {"npz", F::Npz},       {"safetensors", F::Safetensors},
            {"pt", F::TorchSave},   {"pth", F::TorchSave}, {"bin", F::TorchSave},
            {"ckpt", F::TorchSave}, {"csv", F::Csv},       {"tsv", F::Csv},
            {"txt", F::Csv},        {"png", F::Image},     {"jpg", F::Image},
            {"jpeg", F::Image},     {"bmp", F::Image}};
}

TensorFormat detectTensorFormat(const std::string& path) {
    const std::string ext = detail::lowerExtension(path);
    for (const auto& [known, format] : readableTensorExtensions())
        if (ext == known) return format;
    // Unknown extension: look at the first bytes.
    const std::string head = detail::readHead(path, 16);
    if (head.rfind("\x93NUMPY", 0) == 0) return TensorFormat::Npy;
    if (head.rfind("PK\x03\x04", 0) == 0)
        return TensorFormat::TorchSave; // npz is tried when torch.save fails
    if (head.rfind("\x89PNG", 0) == 0 || head.rfind("\xFF\xD8\xFF", 0) == 0 || head.rfind("BM", 0) == 0)
        return TensorFormat::Image;
    if (head.size() >= 9 && head[8] == '{') return TensorFormat::Safetensors;
    return TensorFormat::Csv;
}

std::string formatName(TensorFormat format) {
    switch (format) {
    case TensorFormat::Auto:
        return "auto";
    case TensorFormat::Npy:
        return "npy";
    case TensorFormat::Npz:
        return "npz";
    case TensorFormat::Safetensors:
        return "safetensors";
    case TensorFormat::TorchSave:
        return "torch.save";
    case TensorFormat::Csv:
        return "csv";
    case TensorFormat::Image:
        return "image";
    }
    return "?";
}

namespace {
Value readUnguarded(const std::string& path, const ReadOptions& options);
}

Value readTensorFile(const std::string& path, const ReadOptions& options) {
    try {
        return readUnguarded(path, options);
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) {
        throw Error(path + ": " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        throw Error(path + ": the data it describes does not fit in memory");
    } catch (const std::exception& e) {
        throw Error(path + ": " + e.what());
    }
}

namespace {
Value readUnguarded(const std::string& path, const ReadOptions& options) {
    detail::fileSize(path); // a clear message for missing files and folders
    const TensorFormat format =
        options.format == TensorFormat::Auto ? detectTensorFormat(path) : options.format;
    switch (format) {
    case TensorFormat::Npy:
        return detail::readNpy(path);
    case TensorFormat::Npz:
        return detail::readNpz(path);
    case TensorFormat::Safetensors:
        return detail::readSafetensors(path);
    case TensorFormat::TorchSave: {
        // A zip of .npy arrays under a .pt name is an npz.
        const std::string head = detail::readHead(path, 64);
        if (head.rfind("PK\x03\x04", 0) == 0 && head.find(".npy") != std::string::npos)
            return detail::readNpz(path);
        if (head.size() >= 9 && head[8] == '{' && head.rfind("PK", 0) != 0)
            return detail::readSafetensors(path);
        return detail::readTorchSave(path);
    }
    case TensorFormat::Csv:
        return detail::readCsv(path, options.csvHeader);
    case TensorFormat::Image:
        return detail::readImage(path, options.image);
    case TensorFormat::Auto:
        break;
    }
    throw Error(path + ": unknown tensor file format");
}
} // namespace

void writeTensorFile(const std::string& path, const Value& value) {
    const std::string ext = detail::lowerExtension(path);
    if (ext == "npy") return detail::writeNpy(path, value);
    if (ext == "pt" || ext == "pth") return detail::writeTorchSave(path, value);
    throw Error(path + ": outputs are written as .npy (one tensor) or .pt (any structure)");
}

} // namespace twb
