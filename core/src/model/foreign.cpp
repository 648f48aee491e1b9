#include "foreign.h"

#include "readers.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <vector>

namespace twb::detail {

Diagnosis unusable(FileKind kind, std::string format, std::string summary, std::string error, std::string fix,
                   std::string detail) {
    Diagnosis d;
    d.kind = kind;
    d.usable = false;
    d.format = std::move(format);
    d.summary = std::move(summary);
    d.error = std::move(error);
    d.fix = std::move(fix);
    d.detail = std::move(detail);
    return d;
}

namespace {

bool at(const std::string& head, std::size_t offset, const char* magic, std::size_t n) {
    return head.size() >= offset + n && std::memcmp(head.data() + offset, magic, n) == 0;
}

bool modelLike(const std::string& name) {
    static const char* kExtensions[] = {".pt",   ".pth", ".pt2",         ".ptl",
                                        ".ckpt", ".bin", ".safetensors", ".onnx"};
    for (const char* e : kExtensions) {
        const std::size_t n = std::strlen(e);
        if (name.size() > n && name.compare(name.size() - n, n, e) == 0) return true;
    }
    return false;
}

std::string listed(const std::vector<std::string>& names, std::size_t total) {
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "" : ", ") + n;
    if (total > names.size()) s += ", …";
    return s;
}

// A number of a tar header's field: octal text, or base-256 where its first byte's top bit is set.
uint64_t tarNumber(const char* field, std::size_t n) {
    uint64_t v = 0;
    if (uint8_t(field[0]) & 0x80) {
        for (std::size_t i = 1; i < n; ++i)
            v = (v << 8) | uint8_t(field[i]);
        return v;
    }
    for (std::size_t i = 0; i < n && field[i]; ++i)
        if (field[i] >= '0' && field[i] <= '7') v = (v << 3) | uint64_t(field[i] - '0');
    return v;
}

// What a tar archive holds, read from its headers (the first 256): nothing extracted.
struct TarListing {
    std::vector<std::string> names; // the first 8 regular files
    std::size_t files = 0;
    bool complete = true;      // every header was read
    std::set<std::string> all; // every regular file's name
};

TarListing tarMembers(const std::string& path) {
    TarListing t;
    std::ifstream in(path, std::ios::binary);
    const uint64_t size = fileSize(path);
    uint64_t offset = 0;
    std::string longName;
    int i = 0;
    for (; i < 256 && offset + 512 <= size; ++i) {
        char h[512];
        in.seekg(std::streamoff(offset));
        if (!in.read(h, sizeof h)) break;
        if (std::all_of(h, h + sizeof h, [](char c) { return c == 0; })) break;
        const uint64_t bytes = tarNumber(h + 124, 12);
        if (bytes > size) break;
        const char type = h[156];
        std::string name(h, strnlen(h, 100));
        // POSIX ustar's prefix field; GNU tar's "ustar  " header keeps times there instead.
        if (std::memcmp(h + 257, "ustar\0", 6) == 0 && h[345])
            name = std::string(h + 345, strnlen(h + 345, 155)) + "/" + name;
        if (type == 'L' && bytes < 4096) { // a GNU long name: the next member's
            longName.resize(bytes);
            in.read(longName.data(), std::streamsize(bytes));
            longName.resize(strnlen(longName.c_str(), longName.size()));
        } else {
            if (!longName.empty()) name = std::exchange(longName, {});
            if (type == '0' || type == '\0') {
                ++t.files;
                if (t.names.size() < 8) t.names.push_back(name);
                t.all.insert(name);
            }
        }
        offset += 512 + (bytes + 511) / 512 * 512;
    }
    t.complete = i < 256;
    return t;
}

// The name gzip recorded of what it compressed, if it did.
std::string gzipName(const std::string& head) {
    if (head.size() < 10 || !(uint8_t(head[3]) & 0x08)) return {};
    std::size_t p = 10;
    if (uint8_t(head[3]) & 0x04) {
        if (head.size() < 12) return {};
        p += 2 + (uint8_t(head[10]) | (std::size_t(uint8_t(head[11])) << 8));
    }
    if (p >= head.size()) return {};
    const std::size_t end = head.find('\0', p);
    return end == std::string::npos ? std::string() : head.substr(p, std::min<std::size_t>(end - p, 200));
}

// A sharded checkpoint's index (model.safetensors.index.json, pytorch_model.bin.index.json): the files its
// weight_map names.
std::set<std::string> shardsOf(const std::string& head) {
    std::set<std::string> shards;
    const auto map = head.find("\"weight_map\"");
    if (map == std::string::npos) return shards;
    for (std::size_t p = head.find(':', map); p != std::string::npos; p = head.find(':', p + 1)) {
        const auto open = head.find('"', p);
        if (open == std::string::npos) break;
        const auto close = head.find('"', open + 1);
        if (close == std::string::npos) break;
        const std::string value = head.substr(open + 1, close - open - 1);
        if (modelLike(value)) shards.insert(value);
        p = close;
    }
    return shards;
}

} // namespace

std::optional<Diagnosis> diagnoseForeign(const std::string& path, const std::string& head,
                                         const std::string& ext) {
    const std::string file = baseName(path);
    if (at(head, 0, "\x89HDF\r\n\x1a\n", 8))
        return unusable(FileKind::Unknown, "hdf5", "An HDF5 file (Keras/TensorFlow or h5py data)",
                        "HDF5 files are not PyTorch files",
                        "Convert the weights to PyTorch (a state_dict or .safetensors) or use the framework "
                        "that wrote it.");
    if (at(head, 0, "GGUF", 4))
        return unusable(FileKind::Unknown, "gguf", "A GGUF model (llama.cpp)",
                        "GGUF models are not PyTorch files",
                        "Run it with llama.cpp, or use the original PyTorch/safetensors weights.");
    if (at(head, 4, "TFL3", 4))
        return unusable(FileKind::Unknown, "tflite", "A TensorFlow Lite model",
                        "TensorFlow Lite models are not PyTorch files",
                        "Run it with TensorFlow Lite, or open the PyTorch model it was converted from "
                        "(torch.jit.save, or an AOTInductor .pt2).");
    if (at(head, 257, "ustar", 5)) {
        const TarListing t = tarMembers(path);
        // torch.save's format before PyTorch 1.6 was itself a tar of these.
        if (t.all.count("sys_info") && t.all.count("pickle") && t.all.count("storages"))
            return unusable(
                FileKind::LegacyPickle, "legacy torch.save (tar)",
                "A file in torch.save's oldest format, a tar (PyTorch before 1.6)",
                "LibTorch reads only the zip format torch.save has written since PyTorch 1.6",
                "Re-save it in Python (PyTorch 1.6 or newer):\n    obj = torch.load(\"" + file +
                    "\", weights_only=False)  # only for a file you trust\n    torch.save(obj, \"" +
                    stem(path) + "_zip.pt\")");
        std::string model;
        for (const auto& n : t.names)
            if (model.empty() && modelLike(n)) model = n;
        const std::string count = (t.complete ? "" : "at least ") + std::to_string(t.files);
        return unusable(FileKind::Unknown, "tar",
                        "A tar archive" + (t.files ? " of " + count + " file(s): " + listed(t.names, t.files)
                                                   : std::string(" (no files)")),
                        "an archive holds files; it is not a model itself",
                        "Extract it (tar xf " + file + ") and open the model inside" +
                            (model.empty() ? std::string(".") : ": " + model + "."));
    }
    struct Compressed {
        const char* magic;
        std::size_t n;
        const char *format, *name, *command;
    };
    static const Compressed kCompressed[] = {{"\x1f\x8b", 2, "gzip", "gzip", "gunzip -k"},
                                             {"BZh", 3, "bzip2", "bzip2", "bunzip2 -k"},
                                             {"\xfd"
                                              "7zXZ\0",
                                              6, "xz", "xz", "unxz -k"},
                                             {"\x28\xb5\x2f\xfd", 4, "zstd", "Zstandard", "unzstd"},
                                             {"7z\xbc\xaf\x27\x1c", 6, "7z", "7-Zip", "7z x"}};
    for (const auto& c : kCompressed)
        if (at(head, 0, c.magic, c.n)) {
            const std::string inner = c.format == std::string("gzip") ? gzipName(head) : std::string();
            const bool tarball = ext == "tgz" || file.find(".tar.") != std::string::npos ||
                                 (inner.size() > 4 && inner.compare(inner.size() - 4, 4, ".tar") == 0);
            return unusable(FileKind::Unknown, c.format,
                            std::string(std::strchr("aeiouxAEIOU", c.name[0]) ? "An " : "A ") + c.name +
                                "-compressed " + (tarball ? "tar archive" : "file") +
                                (inner.empty() ? std::string() : " (of " + inner + ")"),
                            "a compressed file must be decompressed before it can be opened",
                            tarball ? "Extract it (tar xf " + file + ") and open the model inside."
                                    : std::string("Decompress it (") + c.command + " " + file +
                                          ") and open the file it holds.");
        }
    if (head.size() > 1 && head[0] == '{' && ext == "json") {
        const auto shards = shardsOf(readHead(path, std::size_t(4) << 20)); // a large model's index is long
        if (!shards.empty()) {
            const std::vector<std::string> names(shards.begin(), shards.end());
            const bool safetensors = names.front().find(".safetensors") != std::string::npos;
            return unusable(
                FileKind::Unknown, "index",
                "The index of a checkpoint sharded into " + std::to_string(shards.size()) + " file(s): " +
                    listed({names.begin(),
                            names.begin() + std::min<std::ptrdiff_t>(4, std::ptrdiff_t(names.size()))},
                           names.size()),
                "an index names where each weight is; it holds no weights",
                "Merge the shards into one state_dict and load it into the TorchScript model (--state-dict), "
                "in "
                "Python:\n" +
                    std::string(safetensors ? "    import json\n"
                                              "    from safetensors.torch import load_file, save_file\n"
                                              "    sd = {}\n"
                                              "    for f in set(json.load(open(\"" +
                                                  file +
                                                  "\"))[\"weight_map\"].values()):\n"
                                                  "        sd.update(load_file(f))\n"
                                                  "    save_file(sd, \"model.safetensors\")"
                                            : "    import json, torch\n"
                                              "    sd = {}\n"
                                              "    for f in set(json.load(open(\"" +
                                                  file +
                                                  "\"))[\"weight_map\"].values()):\n"
                                                  "        sd.update(torch.load(f, weights_only=True))\n"
                                                  "    torch.save(sd, \"model.pth\")"));
        }
    }
    return std::nullopt;
}

} // namespace twb::detail
