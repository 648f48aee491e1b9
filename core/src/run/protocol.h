// Internal: the worker protocol's framing over a pair of byte streams (a pipe here; ssh or a launcher's
// stdin/stdout later). A frame is "TWBF", a 32-bit header length and a 64-bit payload length (little
// endian), a JSON header, then the payload's bytes (tensors as .pt, samples as doubles). The first frame
// a worker sends is its hello, with the protocol version.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace twb {
class Value;
}

namespace twb::detail {

constexpr char kFrameMagic[4] = {'T', 'W', 'B', 'F'};
constexpr uint32_t kMaxHeaderBytes = 16u << 20;
constexpr uint64_t kMaxPayloadBytes = uint64_t(16) << 30;

struct Frame {
    nlohmann::ordered_json header;
    std::string payload;
    std::string type() const; // header["type"], "" when absent
};

// Why a stream stopped being the protocol: what came instead of a frame, the end of the stream, a
// header over the limit. The message says which.
struct ProtocolError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Writes the whole frame; false when the other end is gone (EPIPE), never SIGPIPE.
bool writeFrame(int fd, const Frame& frame);

// Reads frames from a file descriptor. read() waits until a whole frame is there; `tick` is called
// about every 100 ms while it waits and may throw to give up (a timeout, a cancel). Throws
// ProtocolError on end of stream ("eof" as its what()) and on anything that is not a frame.
class FrameReader {
public:
    explicit FrameReader(int fd);
    Frame read(const std::function<void()>& tick = {});
    // Bytes received that were not a frame, for the message that names them.
    const std::string& pending() const { return m_buffer; }

private:
    bool frameReady(Frame& out);
    int m_fd;
    std::string m_buffer;
};

// Values (inputs, state_dicts, outputs) travel as the bytes of a .pt file, read back through the
// restricted unpickler.
std::string valueToBytes(const Value& value);
Value valueFromBytes(const std::string& bytes, const std::string& label);

// Samples travel as little-endian doubles.
std::string packDoubles(const std::vector<double>& values);
std::vector<double> unpackDoubles(const std::string& bytes);

} // namespace twb::detail
