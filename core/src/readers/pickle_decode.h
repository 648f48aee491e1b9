// Internal: values the restricted unpickler decodes from what a pickle would have called, without
// running anything: NumPy scalars (numpy.core.multiarray.scalar(dtype, bytes)) and protocol 2's
// bytes (_codecs.encode(text, 'latin1')).
#pragma once

#include <cstdint>
#include <string>

namespace twb::detail::pickle {

struct NumpyScalar {
    enum class Kind { Float, Int, Bool };
    Kind kind = Kind::Float;
    double f = 0;
    int64_t i = 0;
    bool b = false;
};

// `code` as numpy.dtype got it ("f8", "<f4", "i8", "u1", "b1"); `order` '<', '>', '|' or '='.
// Throws pickle::Error for codes it does not know or bytes of the wrong length.
NumpyScalar decodeNumpyScalar(std::string code, char order, const std::string& raw);

// The bytes _codecs.encode(text, 'latin1') makes of UTF-8 text: one byte per code point below 256.
std::string latin1Bytes(const std::string& utf8);

} // namespace twb::detail::pickle
