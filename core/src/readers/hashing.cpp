// SHA-256 by nettle, the well-kept implementation Debian ships (nettle-dev).
#include "twb/hashing.h"

#include "twb/error.h"

#include <nettle/sha2.h>

#include <fstream>
#include <vector>

namespace twb {
namespace {

std::string hexDigest(sha256_ctx& ctx) {
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

} // namespace

std::string sha256Hex(const std::string& bytes) {
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()));
    return hexDigest(ctx);
}

std::string fileSha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot be opened for reading");
    sha256_ctx ctx;
    sha256_init(&ctx);
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), std::streamsize(buffer.size()));
        sha256_update(&ctx, std::size_t(in.gcount()), reinterpret_cast<const uint8_t*>(buffer.data()));
    }
    if (in.bad()) throw Error(path + ": reading failed");
    return hexDigest(ctx);
}

} // namespace twb
