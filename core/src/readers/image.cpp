// Images (PNG, JPEG, BMP) to float NCHW tensors, with optional resize and normalization.
#include "readers.h"
#include "torch_bridge.h"

#include "twb/error.h"

#include <stb_image.h>
#include <stb_image_resize.h>
#include <torch/script.h>

#include <algorithm>
#include <memory>

namespace twb::detail {

namespace {

uint32_t bigEndian32(const std::string& b, std::size_t at) {
    return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 |
           uint32_t(uint8_t(b[at + 2])) << 8 | uint32_t(uint8_t(b[at + 3]));
}

// The decoder trusts a PNG chunk's stated length and allocates it before reading: a 200-byte file
// claiming a 1 GB chunk would cost 1 GB. Every chunk must lie within the file.
void checkPngChunks(const std::string& bytes, const std::string& path) {
    for (std::size_t at = 8; at + 8 <= bytes.size();) {
        const uint64_t length = bigEndian32(bytes, at);
        const std::string type = bytes.substr(at + 4, 4);
        if (length + 12 > bytes.size() - at)
            throw Error(path + ": the PNG's " + type + " chunk claims " + std::to_string(length) +
                        " bytes, more than the file holds (truncated or damaged)");
        if (type == "IEND") return;
        at += std::size_t(length) + 12;
    }
}

} // namespace

Value readImage(const std::string& path, const ImageOptions& options) {
    const uint64_t size = fileSize(path); // names the file when it is missing
    const int channels = options.channels;
    if (channels != 1 && channels != 3 && channels != 4)
        throw Error(path + ": images load with 1, 3 or 4 channels, not " + std::to_string(channels));
    if (size > (uint64_t(1) << 30)) throw Error(path + ": the image file is over 1 GiB");
    const std::string bytes = readWholeFile(path, size);
    // Known formats by their magic only: the decoder's others are rarely model inputs, and each is more
    // code a hostile file could reach.
    const bool png = bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
    const bool known = png || bytes.compare(0, 3, "\xff\xd8\xff") == 0 || bytes.compare(0, 2, "BM") == 0;
    if (!known) throw Error(path + ": not a PNG, JPEG or BMP image (the formats images are read in)");
    if (png) checkPngChunks(bytes, path);
    const auto* data0 = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int length = int(bytes.size());
    int w = 0, h = 0, n = 0;
    if (!stbi_info_from_memory(data0, length, &w, &h, &n))
        throw Error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
    if (int64_t(w) * h > (int64_t(1) << 28))
        throw Error(path + ": the image is too large (" + std::to_string(w) + "x" + std::to_string(h) + ")");
    // The decoder allocates every pixel before it reads one. No image format compresses beyond about
    // 1000:1 (deflate's limit, and a flat JPEG's), so a header claiming far more pixels than the file
    // could encode is a damaged or hostile file, not a picture.
    const uint64_t decoded = uint64_t(w) * uint64_t(h) * uint64_t(std::max(n, channels));
    if (decoded > std::max<uint64_t>(size * 2048, uint64_t(64) << 20))
        throw Error(path + ": the image header claims " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels, more than a file of " + std::to_string(size) + " bytes can hold");
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load_from_memory(data0, length, &w, &h, &n, channels), stbi_image_free);
    if (!pixels) throw Error(path + ": cannot decode the image (" + std::string(stbi_failure_reason()) + ")");
    if (w <= 0 || h <= 0)
        throw Error(path + ": the image has no pixels (" + std::to_string(w) + "x" + std::to_string(h) + ")");
    std::vector<unsigned char> resized;
    const unsigned char* data = pixels.get();
    int outW = w, outH = h;
    if (options.resizeWidth > 0 && options.resizeHeight > 0 &&
        (options.resizeWidth != w || options.resizeHeight != h)) {
        outW = options.resizeWidth;
        outH = options.resizeHeight;
        if (int64_t(outW) * outH > (int64_t(1) << 28))
            throw Error(path + ": resizing to " + std::to_string(outW) + "x" + std::to_string(outH) +
                        " is too large");
        resized.resize(std::size_t(outW) * outH * channels);
        if (!stbir_resize_uint8(data, w, h, 0, resized.data(), outW, outH, 0, channels))
            throw Error(path + ": resizing to " + std::to_string(outW) + "x" + std::to_string(outH) +
                        " failed");
        data = resized.data();
    }
    at::Tensor hwc = torch::from_blob(const_cast<unsigned char*>(data), {outH, outW, channels}, at::kByte);
    at::Tensor t = hwc.permute({2, 0, 1}).to(at::kFloat).div(255.0f).unsqueeze(0).contiguous();
    for (int c = 0; c < channels; ++c) {
        const float sd = options.std[std::size_t(c)] == 0 ? 1.0f : options.std[std::size_t(c)];
        t.select(1, c).sub_(options.mean[std::size_t(c)]).div_(sd);
    }
    return wrap(t);
}

} // namespace twb::detail
