// .safetensors: an 8-byte header length, a JSON header, then raw little-endian data.
#include "json_values.h"
#include "readers.h"
#include "torch_bridge.h"

#include "twb/error.h"

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <fstream>

namespace twb::detail {

Value readSafetensors(const std::string& path) {
    const uint64_t size = fileSize(path);
    if (size < 8) throw Error(path + ": too short to be a .safetensors file");
    const std::string head = readHead(path, 8);
    uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i)
        headerLen = (headerLen << 8) | uint8_t(head[std::size_t(i)]);
    if (headerLen > size - 8 || headerLen > (uint64_t(100) << 20))
        throw Error(path + ": the .safetensors header claims " + std::to_string(headerLen) +
                    " bytes, more than the file holds (truncated or not safetensors)");
    std::ifstream in(path, std::ios::binary);
    in.seekg(8);
    std::string text(headerLen, '\0');
    in.read(text.data(), std::streamsize(headerLen));
    nlohmann::ordered_json header;
    try {
        header = nlohmann::ordered_json::parse(text);
    } catch (const std::exception& e) {
        throw Error(path + ": the .safetensors header is not valid JSON", e.what());
    }
    if (!header.is_object()) throw Error(path + ": the .safetensors header is not a JSON object");
    const uint64_t dataStart = 8 + headerLen;
    const uint64_t dataSize = size - dataStart;

    static const std::map<std::string, std::pair<at::ScalarType, int>> types{
        {"F64", {at::kDouble, 8}},    {"F32", {at::kFloat, 4}},        {"F16", {at::kHalf, 2}},
        {"BF16", {at::kBFloat16, 2}}, {"I64", {at::kLong, 8}},         {"I32", {at::kInt, 4}},
        {"I16", {at::kShort, 2}},     {"I8", {at::kChar, 1}},          {"U8", {at::kByte, 1}},
        {"BOOL", {at::kBool, 1}},     {"U16", {at::kShort, 2}},        {"U32", {at::kInt, 4}},
        {"U64", {at::kLong, 8}},      {"C64", {at::kComplexFloat, 8}},
    };
    std::vector<std::pair<std::string, Value>> items;
    uint64_t claimed = 0; // tensors may not share bytes: a small file would otherwise claim gigabytes
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") continue;
        const std::string label = path + " [" + name + "]";
        try {
            const std::string dtype = entry.at("dtype").get<std::string>();
            const auto it = types.find(dtype);
            if (it == types.end())
                throw UnsupportedError(label + ": dtype " + dtype + " is not supported by this LibTorch");
            const auto shape = checkedGet<std::vector<int64_t>>(entry.at("shape"), "shape");
            const auto offsets = checkedGet<std::vector<uint64_t>>(entry.at("data_offsets"), "data_offsets");
            if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > dataSize)
                throw Error(label + ": data offsets lie outside the file (truncated?)");
            const int64_t numel = checkedNumel(shape, it->second.second, label);
            if (offsets[1] - offsets[0] != uint64_t(numel) * uint64_t(it->second.second))
                throw Error(label + ": shape and data size disagree");
            claimed += offsets[1] - offsets[0];
            if (claimed > dataSize)
                throw Error(label + ": the tensors claim more data (" + std::to_string(claimed) +
                            " bytes) than the file holds (" + std::to_string(dataSize) +
                            " bytes): they overlap");
            at::Tensor t = at::empty(shape, at::TensorOptions().dtype(it->second.first));
            in.seekg(std::streamoff(dataStart + offsets[0]));
            in.read(static_cast<char*>(t.data_ptr()), std::streamsize(offsets[1] - offsets[0]));
            if (!in) throw Error(label + ": the file ends early");
            if (dtype == "BOOL")
                t = t.view(at::kByte).ne(0); // any byte but 0 and 1 would be undefined as bool
            else if (dtype == "U16")
                t = t.to(at::kInt).bitwise_and(0xFFFF);
            else if (dtype == "U32")
                t = t.to(at::kLong).bitwise_and(int64_t(0xFFFFFFFF));
            else if (dtype == "U64" && numel > 0 && t.lt(0).any().item<bool>())
                throw UnsupportedError(label + ": uint64 values above 2^63-1 do not fit in int64");
            items.emplace_back(name, wrap(t));
        } catch (const nlohmann::json::exception& e) {
            throw Error(label + ": malformed tensor entry in the header", e.what());
        }
    }
    if (items.empty()) throw Error(path + ": the .safetensors file holds no tensors");
    return makeDict(std::move(items));
}

} // namespace twb::detail
