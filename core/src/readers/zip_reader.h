// Read-only access to zip archives (TorchScript, torch.save, .npz, .pt2) that
// checks every size it is told against what the archive holds.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace twb::detail {

class ZipError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ZipReader {
public:
    // Throws ZipError when the file is not a readable zip archive.
    explicit ZipReader(const std::string& path);
    ~ZipReader();
    ZipReader(const ZipReader&) = delete;
    ZipReader& operator=(const ZipReader&) = delete;

    const std::vector<std::string>& names() const { return m_names; }
    bool has(const std::string& name) const;
    // The record's stated size. Throws when it is beyond deflate's ratio of its compressed size, or when
    // the compressed bytes of the records asked for so far exceed the archive's size: records sharing
    // data (an overlapping zip bomb) would let a small file claim gigabytes, each honest on its own.
    uint64_t size(const std::string& name) const;
    // The whole record; throws when it is larger than maxBytes or cannot be read whole.
    std::string read(const std::string& name, uint64_t maxBytes = uint64_t(1) << 32) const;
    // Exactly `bytes` bytes from the start of the record into dst.
    void readInto(const std::string& name, void* dst, uint64_t bytes) const;

    // Reads every record through, checking sizes and CRCs; throws ZipError naming the first bad one.
    void verify() const;

    // The folder torch puts every record under ("archive/", "mymodel/"), or "".
    std::string torchPrefix() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::vector<std::string> m_names;
};

} // namespace twb::detail
