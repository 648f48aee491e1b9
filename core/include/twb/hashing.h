// SHA-256 fingerprints of models and inputs, as reports record them (lower-case hex).
#pragma once

#include <string>

namespace twb {

std::string sha256Hex(const std::string& bytes);
// Throws twb::Error naming the file when it cannot be read.
std::string fileSha256(const std::string& path);

} // namespace twb
