#include "pickle_decode.h"

#include "pickle.h"

#include <cstring>

namespace twb::detail::pickle {
namespace {

float halfToFloat(uint16_t h) {
    const uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    uint32_t bits;
    if (exp == 0 && man == 0) {
        bits = sign;
    } else if (exp == 0) { // subnormal: normalise
        uint32_t e = 113, m = man;
        while (!(m & 0x400)) {
            m <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((m & 0x3ff) << 13);
    } else if (exp == 31) {
        bits = sign | 0x7f800000 | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

} // namespace

NumpyScalar decodeNumpyScalar(std::string code, char order, const std::string& raw) {
    if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
        order = code[0];
        code = code.substr(1);
    }
    if (code.size() < 2 || code.size() > 2 || code[1] < '1' || code[1] > '8')
        throw Error("unknown NumPy dtype '" + code + "' in pickle");
    const std::size_t n = std::size_t(code[1] - '0');
    if (raw.size() != n)
        throw Error("NumPy scalar of " + code + " with " + std::to_string(raw.size()) + " bytes in pickle");
    uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i)
        bits = (bits << 8) | uint8_t(raw[order == '>' ? i : n - 1 - i]);
    NumpyScalar s;
    const char kind = code[0];
    if (kind == 'f' && (n == 8 || n == 4 || n == 2)) {
        s.kind = NumpyScalar::Kind::Float;
        if (n == 8) {
            std::memcpy(&s.f, &bits, 8);
        } else if (n == 4) {
            const uint32_t b32 = uint32_t(bits);
            float f;
            std::memcpy(&f, &b32, 4);
            s.f = f;
        } else {
            s.f = halfToFloat(uint16_t(bits));
        }
        return s;
    }
    if (kind == 'b' && n == 1) {
        s.kind = NumpyScalar::Kind::Bool;
        s.b = bits != 0;
        return s;
    }
    if (kind == 'i' || kind == 'u') {
        s.kind = NumpyScalar::Kind::Int;
        if (kind == 'i' && n < 8 && ((bits >> (8 * n - 1)) & 1))
            bits |= ~uint64_t(0) << (8 * n); // sign-extend
        s.i = int64_t(bits);
        return s;
    }
    throw Error("unknown NumPy dtype '" + code + "' in pickle");
}

std::string latin1Bytes(const std::string& u) {
    std::string bytes;
    for (std::size_t i = 0; i < u.size(); ++i) {
        const uint8_t c = uint8_t(u[i]);
        if (c < 0x80)
            bytes += char(c);
        else if ((c & 0xe0) == 0xc0 && i + 1 < u.size())
            bytes += char(((c & 0x1f) << 6) | (uint8_t(u[++i]) & 0x3f));
        else
            throw Error("bytes in pickle hold a character beyond latin-1");
    }
    return bytes;
}

} // namespace twb::detail::pickle
