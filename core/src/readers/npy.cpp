// NumPy .npy and .npz (format versions 1-3, every numeric dtype, both byte
// orders, C and Fortran order).
#include "readers.h"
#include "torch_bridge.h"
#include "zip_reader.h"

#include "twb/error.h"

#include <torch/script.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

namespace twb::detail {
namespace {

const char kMagic[] = "\x93NUMPY";

struct NpyHeader {
    char byteOrder = '<';
    char kind = 'f';
    int itemSize = 4;
    bool fortran = false;
    std::vector<int64_t> shape;
    uint64_t dataOffset = 0;
};

// Where the bytes come from: the file itself, or a record already in memory (npz).
struct Source {
    virtual ~Source() = default;
    virtual uint64_t size() const = 0;
    virtual void read(uint64_t offset, void* dst, uint64_t n) const = 0;
};
struct FileSource : Source {
    explicit FileSource(const std::string& path)
        : path(path)
        , bytes(fileSize(path)) {}
    uint64_t size() const override { return bytes; }
    void read(uint64_t offset, void* dst, uint64_t n) const override {
        std::ifstream in(path, std::ios::binary);
        in.seekg(std::streamoff(offset));
        in.read(static_cast<char*>(dst), std::streamsize(n));
        if (uint64_t(in.gcount()) != n) throw Error(path + ": the file ends early (truncated?)");
    }
    std::string path;
    uint64_t bytes;
};
struct MemorySource : Source {
    explicit MemorySource(const std::string& data)
        : data(data) {}
    uint64_t size() const override { return data.size(); }
    void read(uint64_t offset, void* dst, uint64_t n) const override {
        if (offset + n > data.size()) throw Error("npy data ends early");
        std::memcpy(dst, data.data() + offset, n);
    }
    const std::string& data;
};

NpyHeader parseHeader(const Source& src, const std::string& label) {
    if (src.size() < 10) throw Error(label + ": too short to be a .npy file");
    char pre[12] = {};
    src.read(0, pre, std::min<uint64_t>(12, src.size()));
    if (std::memcmp(pre, kMagic, 6) != 0) throw Error(label + ": not a .npy file (no \\x93NUMPY magic)");
    const int major = uint8_t(pre[6]);
    uint64_t headerLen = 0, start = 0;
    if (major == 1) {
        headerLen = uint8_t(pre[8]) | (uint64_t(uint8_t(pre[9])) << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (src.size() < 12) throw Error(label + ": truncated .npy header");
        headerLen = uint8_t(pre[8]) | (uint64_t(uint8_t(pre[9])) << 8) | (uint64_t(uint8_t(pre[10])) << 16) |
                    (uint64_t(uint8_t(pre[11])) << 24);
        start = 12;
    } else {
        throw Error(label + ": unsupported .npy format version " + std::to_string(major));
    }
    // NumPy itself refuses headers over 10000 bytes (max_header_size); so do we, before any parsing.
    if (headerLen > 10000 || start + headerLen > src.size())
        throw Error(label + ": the .npy header claims " + std::to_string(headerLen) +
                    " bytes the file does not hold");
    std::string header(headerLen, '\0');
    src.read(start, header.data(), headerLen);

    NpyHeader h;
    h.dataOffset = start + headerLen;
    // The header is a Python dict literal; read its three keys by hand (no regex: it recurses per character).
    auto valueOf = [&](const char* key) -> std::size_t {
        const std::string quoted = std::string("'") + key + "'";
        auto at = header.find(quoted);
        if (at == std::string::npos) throw Error(label + ": the .npy header has no " + quoted);
        at = header.find(':', at + quoted.size());
        if (at != std::string::npos) at = header.find_first_not_of(" \t", at + 1);
        if (at == std::string::npos) throw Error(label + ": the .npy header's " + quoted + " has no value");
        return at;
    };
    std::size_t at = valueOf("descr");
    if (header[at] == '[')
        throw UnsupportedError(
            label + ": structured (record) arrays are not tensors; save each field as its own array");
    if (header[at] != '\'' && header[at] != '"')
        throw Error(label + ": the .npy header's descr is malformed");
    const auto close = header.find(header[at], at + 1);
    if (close == std::string::npos) throw Error(label + ": the .npy header's descr is malformed");
    const std::string descr = header.substr(at + 1, close - at - 1);
    std::size_t digits = 2;
    while (digits < descr.size() && std::isdigit(static_cast<unsigned char>(descr[digits])))
        ++digits;
    if (descr.size() < 3 || std::string("<>|=").find(descr[0]) == std::string::npos ||
        !std::isalpha(static_cast<unsigned char>(descr[1])) || digits != descr.size() || descr.size() > 5)
        throw UnsupportedError(label + ": the .npy header has no numeric 'descr' ('" + descr +
                               "'; object or string arrays cannot become tensors)");
    h.byteOrder = descr[0];
    h.kind = descr[1];
    h.itemSize = std::stoi(descr.substr(2));
    at = valueOf("fortran_order");
    if (header.compare(at, 4, "True") == 0)
        h.fortran = true;
    else if (header.compare(at, 5, "False") == 0)
        h.fortran = false;
    else
        throw Error(label + ": the .npy header's fortran_order is neither True nor False");
    at = valueOf("shape");
    if (header[at] != '(') throw Error(label + ": the .npy header's shape is not a tuple");
    const auto end = header.find(')', at);
    if (end == std::string::npos) throw Error(label + ": the .npy header's shape is not closed");
    std::string dim;
    for (std::size_t i = at + 1; i <= end; ++i) {
        const char c = header[i];
        if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && dim.empty())) {
            dim += c;
        } else if (c == ',' || c == ')' || c == ' ' || c == 'L') {
            if (c == ' ' || c == 'L' || dim.empty()) continue;
            if (dim == "-") throw Error(label + ": a '-' without digits in the .npy shape");
            if (dim.size() > 18)
                throw Error(label + ": dimension " + dim.substr(0, 24) +
                            "… in the .npy shape is out of range");
            h.shape.push_back(std::stoll(dim));
            dim.clear();
        } else {
            throw Error(label + ": unexpected '" + std::string(1, c) + "' in the .npy shape");
        }
    }
    return h;
}

// The dtype the bytes are in, and the dtype the tensor gets (unsigned types LibTorch lacks are widened).
std::pair<at::ScalarType, at::ScalarType> npyTypes(const NpyHeader& h, const std::string& label) {
    const std::string code = std::string(1, h.kind) + std::to_string(h.itemSize);
    static const std::map<std::string, std::pair<at::ScalarType, at::ScalarType>> types{
        // bool is read as bytes, then compared with 0: only 0 and 1 are valid bools.
        {"b1", {at::kByte, at::kBool}},
        {"i1", {at::kChar, at::kChar}},
        {"u1", {at::kByte, at::kByte}},
        {"i2", {at::kShort, at::kShort}},
        {"u2", {at::kShort, at::kInt}},
        {"i4", {at::kInt, at::kInt}},
        {"u4", {at::kInt, at::kLong}},
        {"i8", {at::kLong, at::kLong}},
        {"u8", {at::kLong, at::kLong}},
        {"f2", {at::kHalf, at::kHalf}},
        {"f4", {at::kFloat, at::kFloat}},
        {"f8", {at::kDouble, at::kDouble}},
        {"c8", {at::kComplexFloat, at::kComplexFloat}},
        {"c16", {at::kComplexDouble, at::kComplexDouble}},
    };
    const auto it = types.find(code);
    if (it == types.end())
        throw UnsupportedError(label + ": NumPy dtype '" + code +
                               "' has no tensor equivalent (supported: bool, int8-64, "
                               "uint8-64, float16/32/64, complex64/128)");
    return it->second;
}

void swapBytes(void* data, int64_t count, int unit) {
    auto* p = static_cast<uint8_t*>(data);
    for (int64_t i = 0; i < count; ++i)
        std::reverse(p + i * unit, p + (i + 1) * unit);
}

Value readNpySource(const Source& src, const std::string& label) {
    const NpyHeader h = parseHeader(src, label);
    const auto [raw, target] = npyTypes(h, label);
    const int64_t numel = checkedNumel(h.shape, h.itemSize, label);
    const uint64_t bytes = uint64_t(numel) * uint64_t(h.itemSize);
    if (bytes > src.size() - h.dataOffset)
        throw Error(label + ": the header promises " + std::to_string(bytes) +
                    " bytes of data but the file holds " + std::to_string(src.size() - h.dataOffset) +
                    " (truncated file?)");
    std::vector<int64_t> shape = h.shape;
    if (h.fortran) std::reverse(shape.begin(), shape.end());
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(raw));
    if (bytes) src.read(h.dataOffset, t.data_ptr(), bytes);
    const bool bigEndianData = h.byteOrder == '>';
    if (bigEndianData && h.itemSize > 1) {
        const int unit = h.kind == 'c' ? h.itemSize / 2 : h.itemSize; // complex: swap each half
        swapBytes(t.data_ptr(), numel * (h.itemSize / unit), unit);
    }
    if (h.kind == 'u' && h.itemSize > 1) {
        // Reinterpret the signed storage as unsigned while widening.
        if (h.itemSize == 2)
            t = t.to(at::kInt).bitwise_and(0xFFFF);
        else if (h.itemSize == 4)
            t = t.to(at::kLong).bitwise_and(int64_t(0xFFFFFFFF));
        else if (numel > 0 && t.lt(0).any().item<bool>())
            throw UnsupportedError(label + ": uint64 values above 2^63-1 do not fit in int64");
    }
    if (t.scalar_type() != target) t = t.to(target);
    if (h.fortran) {
        std::vector<int64_t> perm(shape.size());
        for (std::size_t i = 0; i < perm.size(); ++i)
            perm[i] = int64_t(perm.size() - 1 - i);
        t = t.permute(perm).contiguous();
    }
    return wrap(t);
}

} // namespace

Value readNpy(const std::string& path) {
    return readNpySource(FileSource(path), path);
}

Value readNpyBytes(const std::string& bytes, const std::string& label) {
    return readNpySource(MemorySource(bytes), label);
}

Value readNpz(const std::string& path) {
    std::unique_ptr<ZipReader> zip;
    try {
        zip = std::make_unique<ZipReader>(path);
    } catch (const ZipError& e) {
        throw Error(path + ": not a readable .npz archive (" + e.what() + ")");
    }
    std::vector<std::pair<std::string, Value>> items;
    for (const auto& name : zip->names()) {
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
        const std::string label = path + " [" + name + "]";
        std::string data;
        try {
            data = zip->read(name, fileSize(path) * 1100 + (1 << 20)); // deflate rarely beats 1000:1
        } catch (const ZipError& e) {
            throw Error(label + ": " + e.what());
        }
        items.emplace_back(name.substr(0, name.size() - 4), readNpyBytes(data, label));
    }
    if (items.empty()) throw Error(path + ": the .npz archive holds no .npy arrays");
    return makeDict(std::move(items));
}

void writeNpy(const std::string& path, const Value& value) {
    if (!value.isTensor())
        throw Error(path + ": .npy holds a single tensor, but the value is " + value.typeName() +
                    "; write .pt instead");
    at::Tensor t = unwrap(value).toTensor().detach().to(at::kCPU).resolve_conj().resolve_neg().contiguous();
    std::string descr;
    switch (t.scalar_type()) {
    case at::kBool:
        descr = "|b1";
        break;
    case at::kByte:
        descr = "|u1";
        break;
    case at::kChar:
        descr = "|i1";
        break;
    case at::kShort:
        descr = "<i2";
        break;
    case at::kInt:
        descr = "<i4";
        break;
    case at::kLong:
        descr = "<i8";
        break;
    case at::kHalf:
        descr = "<f2";
        break;
    case at::kFloat:
        descr = "<f4";
        break;
    case at::kDouble:
        descr = "<f8";
        break;
    case at::kComplexFloat:
        descr = "<c8";
        break;
    case at::kComplexDouble:
        descr = "<c16";
        break;
    case at::kBFloat16:
        t = t.to(at::kFloat);
        descr = "<f4";
        break; // NumPy has no bfloat16
    default:
        throw Error(path + ": dtype " + dtypeName(t.scalar_type()) + " cannot be written as .npy");
    }
    std::string shape = "(";
    for (int64_t i = 0; i < t.dim(); ++i)
        shape += (i ? ", " : "") + std::to_string(t.size(i));
    if (t.dim() == 1) shape += ",";
    shape += ")";
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string bytes(kMagic, 6);
    bytes += std::string{char(1), char(0)};
    const uint16_t len = uint16_t(header.size());
    bytes += std::string{char(len & 0xFF), char(len >> 8)};
    bytes += header;
    bytes.append(static_cast<const char*>(t.data_ptr()), std::size_t(t.numel() * t.element_size()));
    writeFileAtomically(path, bytes);
}

} // namespace twb::detail
