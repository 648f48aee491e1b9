// A worker's cache of the files sent to it (a target's copy of the model): content-addressed by SHA-256
// under $TWB_FILE_CACHE (default $XDG_CACHE_HOME/torchwb/files, else ~/.cache/torchwb/files), bounded
// by $TWB_FILE_CACHE_BYTES (default 8 GiB), the least recently used files leaving first.
#include "file_cache.h"

#include "twb/error.h"
#include "twb/hashing.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace twb::detail {

namespace {

std::string cacheRoot() {
    if (const char* d = std::getenv("TWB_FILE_CACHE"); d && *d) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/torchwb/files";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/torchwb/files";
    return "/tmp/torchwb-files";
}

uint64_t cacheBound() {
    if (const char* b = std::getenv("TWB_FILE_CACHE_BYTES"); b && *b) return std::strtoull(b, nullptr, 10);
    return uint64_t(8) << 30;
}

void makeDirs(const std::string& path) {
    std::size_t at = 1;
    while (at != std::string::npos) {
        at = path.find('/', at + 1);
        const std::string part = path.substr(0, at);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
            throw Error("the cache folder " + part + " cannot be made: " + std::strerror(errno));
    }
}

bool validSha(const std::string& sha) {
    return sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The file's own name, made safe to keep: never a path, never hidden.
std::string safeName(const std::string& name) {
    std::string out;
    for (char c : name.substr(name.find_last_of('/') == std::string::npos ? 0 : name.find_last_of('/') + 1))
        out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
    while (!out.empty() && out[0] == '.')
        out.erase(0, 1);
    return out.empty() ? std::string("file") : out.substr(0, 120);
}

struct Entry {
    std::string dir;
    uint64_t bytes = 0;
    time_t used = 0;
};

// Every cached file's folder, its size and when it was last used.
std::vector<Entry> entries(const std::string& root) {
    std::vector<Entry> out;
    DIR* d = ::opendir(root.c_str());
    if (!d) return out;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (!validSha(name)) continue;
        Entry entry{root + "/" + name, 0, 0};
        if (DIR* inner = ::opendir(entry.dir.c_str())) {
            while (const dirent* f = ::readdir(inner)) {
                struct stat st{};
                if (f->d_name[0] != '.' && ::stat((entry.dir + "/" + f->d_name).c_str(), &st) == 0) {
                    entry.bytes += uint64_t(st.st_size);
                    entry.used = std::max(entry.used, st.st_mtime);
                }
            }
            ::closedir(inner);
        }
        out.push_back(entry);
    }
    ::closedir(d);
    return out;
}

void removeEntry(const std::string& dir) {
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* f = ::readdir(d))
            if (std::strcmp(f->d_name, ".") != 0 && std::strcmp(f->d_name, "..") != 0)
                ::unlink((dir + "/" + f->d_name).c_str());
        ::closedir(d);
    }
    ::rmdir(dir.c_str());
}

} // namespace

std::string cachedFile(const std::string& sha256, const std::string& name) {
    if (!validSha(sha256)) throw Error("a file was named by '" + sha256.substr(0, 80) + "', not a SHA-256");
    const std::string path = cacheRoot() + "/" + sha256 + "/" + safeName(name);
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    ::utimes(path.c_str(), nullptr); // used now: the last to leave
    return path;
}

Upload::Upload(const std::string& sha256, const std::string& name, uint64_t size)
    : m_sha(sha256)
    , m_name(safeName(name))
    , m_size(size) {
    if (!validSha(sha256)) throw Error("a file was named by '" + sha256.substr(0, 80) + "', not a SHA-256");
    m_root = cacheRoot();
    makeDirs(m_root);
    // Room first: the least recently used files leave until this one fits the bound.
    const uint64_t bound = cacheBound();
    auto all = entries(m_root);
    std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
    uint64_t total = 0;
    for (const auto& e : all)
        total += e.bytes;
    for (const auto& e : all) {
        if (total + size <= bound) break;
        if (e.dir == m_root + "/" + sha256) continue; // a piece of this file from an upload cut short
        removeEntry(e.dir);
        total -= e.bytes;
    }
    const std::string dir = m_root + "/" + sha256;
    makeDirs(dir);
    m_path = dir + "/" + m_name;
    m_partial = m_path + ".part";
    m_fd = ::open(m_partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_fd < 0) throw Error("the target cannot write " + m_partial + ": " + std::strerror(errno));
}

Upload::~Upload() {
    if (m_fd >= 0) ::close(m_fd);
    if (!m_done) ::unlink(m_partial.c_str());
}

void Upload::diskFull() {
    ::close(m_fd);
    m_fd = -1;
    ::unlink(m_partial.c_str());
    throw Error("the target's disk is full: " + std::to_string(m_size) + " bytes of " + m_name +
                    " do not fit in " + m_root,
                "free space there, or point TWB_FILE_CACHE at a larger disk on the target");
}

void Upload::append(uint64_t offset, const std::string& bytes) {
    if (m_fd < 0) throw Error("the file " + m_name + " is no longer being received");
    if (offset != m_received)
        throw Error("a piece of " + m_name + " arrived at byte " + std::to_string(offset) + ", where " +
                    std::to_string(m_received) + " was next");
    if (bytes.size() > m_size - m_received)
        throw Error("the file " + m_name + " arrived longer than the " + std::to_string(m_size) +
                    " bytes announced");
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(m_fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            if (err == ENOSPC || err == EDQUOT) diskFull();
            throw Error("the target cannot write " + m_partial + ": " + std::strerror(err));
        }
        written += std::size_t(n);
    }
    m_received += bytes.size();
}

std::string Upload::finish() {
    if (m_received != m_size)
        throw Error("the file " + m_name + " arrived cut short: " + std::to_string(m_received) + " of " +
                    std::to_string(m_size) + " bytes");
    if (::fsync(m_fd) != 0 && (errno == ENOSPC || errno == EDQUOT)) diskFull();
    ::close(m_fd);
    m_fd = -1;
    if (fileSha256(m_partial) != m_sha)
        throw Error("the file " + m_name + " arrived damaged: its SHA-256 is not the one sent with it");
    if (::rename(m_partial.c_str(), m_path.c_str()) != 0)
        throw Error("the target cannot keep " + m_path + ": " + std::strerror(errno));
    m_done = true;
    return m_path;
}

std::string storeFile(const std::string& sha256, const std::string& name, const std::string& bytes) {
    Upload upload(sha256, name, bytes.size());
    upload.append(0, bytes);
    return upload.finish();
}

} // namespace twb::detail
