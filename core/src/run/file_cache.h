// Internal: a worker's cache of the files a client sends it (file_cache.cpp says where and how much).
#pragma once

#include <cstdint>
#include <string>

namespace twb::detail {

// The cached copy of the file with this SHA-256 and name, marked as used now; "" when it is not there.
std::string cachedFile(const std::string& sha256, const std::string& name);

// A file arriving in pieces: room is made for its announced size when it begins; pieces are appended in
// order; finish() checks its SHA-256 and keeps it, returning its path. One not finished leaves nothing.
// Throws twb::Error for pieces out of order or too long, a damaged file, or a full disk.
class Upload {
public:
    Upload(const std::string& sha256, const std::string& name, uint64_t size);
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;

    void append(uint64_t offset, const std::string& bytes);
    std::string finish();
    const std::string& sha256() const { return m_sha; }
    uint64_t received() const { return m_received; }

private:
    [[noreturn]] void diskFull();

    std::string m_sha, m_name, m_root, m_path, m_partial;
    uint64_t m_size = 0, m_received = 0;
    int m_fd = -1;
    bool m_done = false;
};

// Keeps `bytes` as the file with this SHA-256 (checked) and name, making room by removing the least
// recently used files, and returns its path. Throws twb::Error for a damaged file or a full disk.
std::string storeFile(const std::string& sha256, const std::string& name, const std::string& bytes);

} // namespace twb::detail
