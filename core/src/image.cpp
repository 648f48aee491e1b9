// Images (PNG, JPEG, BMP, …) to float NCHW tensors, with optional resize and normalization.
#include "readers.h"
#include "torch_bridge.h"

#include "twb/error.h"

#include <stb_image.h>
#include <stb_image_resize.h>
#include <torch/script.h>

#include <memory>

namespace twb::detail {

Value readImage(const std::string& path, const ImageOptions& options) {
    fileSize(path); // names the file when it is missing
    const int channels = options.channels;
    if (channels != 1 && channels != 3 && channels != 4)
        throw Error(path + ": images load with 1, 3 or 4 channels, not " + std::to_string(channels));
    int w = 0, h = 0, n = 0;
    if (!stbi_info(path.c_str(), &w, &h, &n))
        throw Error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
    if (int64_t(w) * h > (int64_t(1) << 28))
        throw Error(path + ": the image is too large (" + std::to_string(w) + "x" + std::to_string(h) + ")");
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(stbi_load(path.c_str(), &w, &h, &n, channels),
                                                           stbi_image_free);
    if (!pixels) throw Error(path + ": cannot decode the image (" + std::string(stbi_failure_reason()) + ")");
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
