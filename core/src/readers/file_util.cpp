#include "readers.h"

#include "twb/error.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace twb::detail {

uint64_t fileSize(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) throw Error(path + ": no such file");
    if (S_ISDIR(st.st_mode)) throw Error(path + ": is a folder, not a file");
    // Reading a named pipe or a device would wait for a writer, or never end.
    if (S_ISFIFO(st.st_mode))
        throw Error(path + ": is a named pipe (FIFO), not a file: save the data to a file");
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
        throw Error(path + ": is a device or a socket, not a file");
    return uint64_t(st.st_size);
}

std::string readHead(const std::string& path, std::size_t n) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot be opened for reading");
    std::string data(n, '\0');
    in.read(data.data(), std::streamsize(n));
    data.resize(std::size_t(in.gcount()));
    return data;
}

std::string readWholeFile(const std::string& path, uint64_t maxBytes) {
    const uint64_t size = fileSize(path);
    if (size > maxBytes)
        throw Error(path + ": file is larger than expected (" + std::to_string(size) + " bytes)");
    return readHead(path, std::size_t(size));
}

void writeFileAtomically(const std::string& path, const std::string& text) {
    // A temporary file of its own in the same folder (so the rename cannot cross file systems), written
    // whole and flushed to the disk, then renamed over the target: a reader, a crash or a kill at any
    // moment sees the old file or the new one, never part of either.
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path + ": cannot be written (" + std::strerror(errno) + "); the old file is unchanged");
    auto fail = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(path + ": " + what + " (" + std::strerror(err) + "); the old file is unchanged");
    };
    const char* data = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("writing failed");
        }
        data += n;
        left -= std::size_t(n);
    }
    if (::fsync(fd) != 0) fail("flushing to disk failed");
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw Error(path + ": writing failed; the old file is unchanged");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw Error(path + ": cannot be replaced (" + std::strerror(err) + "); the old file is unchanged");
    }
}

std::string baseName(const std::string& path) {
    const auto slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stem(const std::string& path) {
    const std::string b = baseName(path);
    const auto dot = b.find_last_of('.');
    return dot == std::string::npos || dot == 0 ? b : b.substr(0, dot);
}

std::string lowerExtension(const std::string& path) {
    const std::string b = baseName(path);
    const auto dot = b.find_last_of('.');
    if (dot == std::string::npos) return {};
    std::string ext = b.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

int64_t checkedNumel(const std::vector<int64_t>& shape, int64_t elementSize, const std::string& label) {
    const int64_t limit = std::numeric_limits<int64_t>::max() / std::max<int64_t>(elementSize, 1);
    int64_t n = 1, extent = 1; // extent: the product of the non-zero dimensions, which strides reach
    for (const int64_t d : shape) {
        if (d < 0) throw Error(label + ": negative dimension " + std::to_string(d) + " in the shape");
        if (d != 0 && extent > limit / d) throw Error(label + ": the shape's element count overflows");
        if (d != 0) extent *= d;
        n = d == 0 ? 0 : n * d;
    }
    return n;
}

} // namespace twb::detail
