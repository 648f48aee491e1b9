// Internal: a worker's cache of the files a client sends it (file_cache.cpp says where and how much).
#pragma once

#include <string>

namespace twb::detail {

// The cached copy of the file with this SHA-256 and name, marked as used now; "" when it is not there.
std::string cachedFile(const std::string& sha256, const std::string& name);

// Keeps `bytes` as the file with this SHA-256 (checked) and name, making room by removing the least
// recently used files, and returns its path. Throws twb::Error for a damaged file or a full disk.
std::string storeFile(const std::string& sha256, const std::string& name, const std::string& bytes);

} // namespace twb::detail
