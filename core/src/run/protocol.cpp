#include "protocol.h"

#include "readers.h"

#include "twb/error.h"
#include "twb/tensor_io.h"
#include "twb/value.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

namespace twb::detail {
namespace {

void putLE(std::string& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
        out.push_back(char((v >> (8 * i)) & 0xff));
}

uint64_t getLE(const std::string& in, std::size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= uint64_t(uint8_t(in[at + std::size_t(i)])) << (8 * i);
    return v;
}

// What arrived instead of a frame, as text a message can quote.
std::string quotedBytes(const std::string& bytes) {
    std::string out;
    for (char c : bytes.substr(0, 80)) {
        if (c == '\n')
            out += "\\n";
        else if (uint8_t(c) < 32 || uint8_t(c) >= 127)
            out += '?';
        else
            out += c;
    }
    return "'" + out + (bytes.size() > 80 ? "…'" : "'");
}

constexpr std::size_t kPrefix = 16; // magic, header length, payload length

} // namespace

std::string Frame::type() const {
    const auto it = header.find("type");
    return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool writeFrame(int fd, const Frame& frame) {
    const std::string header = frame.header.dump();
    std::string prefix(kFrameMagic, 4);
    putLE(prefix, header.size(), 4);
    putLE(prefix, frame.payload.size(), 8);
    // A reader that has gone away must be an error here, not a SIGPIPE that ends this process.
    struct sigaction ignore{}, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    bool ok = true;
    for (const std::string* part :
         std::initializer_list<const std::string*>{&prefix, &header, &frame.payload}) {
        std::size_t done = 0;
        while (ok && done < part->size()) {
            const ssize_t n = ::write(fd, part->data() + done, part->size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                ok = false;
            else
                done += std::size_t(n);
        }
    }
    sigaction(SIGPIPE, &previous, nullptr);
    return ok;
}

FrameReader::FrameReader(int fd)
    : m_fd(fd) {}

bool FrameReader::frameReady(Frame& out) {
    const std::size_t have = std::min(m_buffer.size(), std::size_t(4));
    if (std::memcmp(m_buffer.data(), kFrameMagic, have) != 0)
        throw ProtocolError("it wrote " + quotedBytes(m_buffer) + " where a protocol frame belongs");
    if (m_buffer.size() < kPrefix) return false;
    const uint64_t headerBytes = getLE(m_buffer, 4, 4), payloadBytes = getLE(m_buffer, 8, 8);
    if (headerBytes > kMaxHeaderBytes)
        throw ProtocolError("it sent a frame header of " + std::to_string(headerBytes) +
                            " bytes; the limit is " + std::to_string(kMaxHeaderBytes));
    if (payloadBytes > kMaxPayloadBytes)
        throw ProtocolError("it sent a frame payload of " + std::to_string(payloadBytes) +
                            " bytes; the limit is " + std::to_string(kMaxPayloadBytes));
    // Memory follows the bytes that arrive, never what a frame claims: a peer announcing a large payload
    // and sending nothing costs nothing.
    if (m_buffer.size() < kPrefix + headerBytes + payloadBytes) return false;
    try {
        out.header = nlohmann::ordered_json::parse(m_buffer.begin() + kPrefix,
                                                   m_buffer.begin() + std::ptrdiff_t(kPrefix + headerBytes));
    } catch (const std::exception& e) {
        throw ProtocolError(std::string("it sent a frame whose header is not JSON: ") + e.what());
    }
    if (!out.header.is_object()) throw ProtocolError("it sent a frame whose header is not a JSON object");
    out.payload = m_buffer.substr(std::size_t(kPrefix + headerBytes), std::size_t(payloadBytes));
    m_buffer.erase(0, std::size_t(kPrefix + headerBytes + payloadBytes));
    return true;
}

Frame FrameReader::read(const std::function<void()>& tick) {
    Frame frame;
    char chunk[1 << 16];
    while (true) {
        if (!m_buffer.empty() && frameReady(frame)) return frame;
        pollfd p{m_fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ready < 0 && errno != EINTR)
            throw ProtocolError(std::string("poll failed: ") + std::strerror(errno));
        if (ready <= 0) {
            if (tick) tick();
            continue;
        }
        const ssize_t n = ::read(m_fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) throw ProtocolError("eof");
        m_buffer.append(chunk, std::size_t(n));
    }
}

namespace {
// A private temporary .pt path, removed when it goes out of scope.
struct TempPt {
    TempPt() {
        const char* dir = std::getenv("TMPDIR");
        std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/torchwb-XXXXXX.pt";
        const int fd = ::mkstemps(pattern.data(), 3);
        if (fd < 0)
            throw Error("cannot make a temporary file in " + pattern.substr(0, pattern.rfind('/')),
                        std::strerror(errno));
        ::close(fd);
        path = pattern;
    }
    ~TempPt() { ::unlink(path.c_str()); }
    std::string path;
};
} // namespace

std::string valueToBytes(const Value& value) {
    TempPt file;
    writeTensorFile(file.path, value);
    return readWholeFile(file.path, kMaxPayloadBytes);
}

Value valueFromBytes(const std::string& bytes, const std::string& label) {
    TempPt file;
    {
        std::ofstream out(file.path, std::ios::binary);
        out.write(bytes.data(), std::streamsize(bytes.size()));
        if (!out) throw Error("cannot write " + label + " to a temporary file " + file.path);
    }
    try {
        return readTensorFile(file.path);
    } catch (const Error& e) {
        throw Error(label + ": " + e.what(), e.detail());
    }
}

std::string packDoubles(const std::vector<double>& values) {
    std::string out;
    out.reserve(values.size() * 8);
    for (double v : values) {
        uint64_t bits;
        std::memcpy(&bits, &v, 8);
        putLE(out, bits, 8);
    }
    return out;
}

std::vector<double> unpackDoubles(const std::string& bytes) {
    if (bytes.size() % 8 != 0)
        throw ProtocolError("a samples payload of " + std::to_string(bytes.size()) + " bytes");
    std::vector<double> out(bytes.size() / 8);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const uint64_t bits = getLE(bytes, i * 8, 8);
        std::memcpy(&out[i], &bits, 8);
    }
    return out;
}

} // namespace twb::detail
