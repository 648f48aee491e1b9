// A worker that misbehaves on purpose, written apart from core's own protocol code so that the client is
// held to the protocol as documented (worker.h, protocol.h): "TWBF", a 32-bit header length, a 64-bit
// payload length, little endian, a JSON header, the payload. It answers like a worker until the request
// named by its first argument, then does what the second says.
//
//   fake_worker REQUEST segv|abort|exit3|hang|garbage|oversize|silent
//   fake_worker hello version         (says hello with protocol 999)
//   fake_worker hello garbage         (writes text instead of its hello)
//   fake_worker hello cuda            (introduces itself as a worker on a machine with a CUDA device)
//   fake_worker worker                (as TWB_WORKER: "REQUEST HOW [MARK]" from $TWB_FAKE_FAULT; with MARK,
//                                      only a request whose header contains it misbehaves)
#include "twb/worker.h"

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

void writeAll(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = ::write(1, s.data() + done, s.size() - done);
        if (n <= 0) std::exit(1);
        done += std::size_t(n);
    }
}

void frame(const std::string& header, uint64_t payloadLength = 0) {
    std::string f = "TWBF";
    for (int i = 0; i < 4; ++i)
        f.push_back(char((header.size() >> (8 * i)) & 0xff));
    for (int i = 0; i < 8; ++i)
        f.push_back(char((payloadLength >> (8 * i)) & 0xff));
    writeAll(f + header);
}

bool readExact(char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::read(0, out + done, n - done);
        if (r <= 0) return false;
        done += std::size_t(r);
    }
    return true;
}

std::string lastHeader;

// The next request's type, read crudely from its header ("type":"NAME").
std::string nextRequest() {
    char prefix[16];
    if (!readExact(prefix, 16)) std::exit(0);
    uint64_t headerLength = 0, payloadLength = 0;
    for (int i = 0; i < 4; ++i)
        headerLength |= uint64_t(uint8_t(prefix[4 + i])) << (8 * i);
    for (int i = 0; i < 8; ++i)
        payloadLength |= uint64_t(uint8_t(prefix[8 + i])) << (8 * i);
    std::string header(headerLength, '\0'), payload(payloadLength, '\0');
    if (!readExact(header.data(), headerLength) || !readExact(payload.data(), payloadLength)) std::exit(0);
    lastHeader = header;
    // TWB_FAKE_LOG: every request is appended there as "PID HEADER", so a test can tell which process
    // served what.
    if (const char* log = std::getenv("TWB_FAKE_LOG")) {
        if (FILE* f = std::fopen(log, "a")) {
            std::fprintf(f, "%d %s\n", int(::getpid()), header.c_str());
            std::fclose(f);
        }
    }
    const std::size_t at = header.find("\"type\":\"");
    if (at == std::string::npos) return {};
    const std::size_t start = at + 8;
    return header.substr(start, header.find('"', start) - start);
}

void misbehave(const std::string& how) {
    std::fprintf(stderr, "fake_worker: about to %s\n", how.c_str());
    std::fflush(stderr);
    // Die of the signal itself, whatever handler a sanitizer runtime installed.
    if (how == "segv") std::signal(SIGSEGV, SIG_DFL), std::raise(SIGSEGV);
    if (how == "abort") std::signal(SIGABRT, SIG_DFL), std::abort();
    if (how == "ill") std::signal(SIGILL, SIG_DFL), std::raise(SIGILL); // code built for another CPU
    if (how == "exit3") std::exit(3);
    if (how == "hang")
        while (true)
            ::pause();
    if (how == "garbage") {
        writeAll("Traceback (most recent call last): this is not a frame\n");
        ::pause();
    }
    if (how == "oversize") {
        frame("{\"type\":\"loaded\"}", uint64_t(1) << 40);
        ::pause();
    }
    if (how == "silent") std::exit(0);
    std::fprintf(stderr, "fake_worker: unknown misbehaviour %s\n", how.c_str());
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || (argc < 3 && std::string(argv[1]) != "worker")) {
        std::fprintf(stderr, "usage: fake_worker REQUEST|hello HOW\n");
        return 2;
    }
    std::string when = argv[1], how = argc > 2 ? argv[2] : "", mark;
    if (when == "worker") { // started as `TWB_WORKER worker`
        const char* fault = std::getenv("TWB_FAKE_FAULT");
        std::istringstream words(fault ? fault : "");
        words >> when >> how >> mark;
    }
    if (when == "hello" && how == "version") {
        frame("{\"type\":\"hello\",\"protocol\":999}");
        while (true) // until its client goes
            nextRequest();
    }
    const std::string protocol = "\"protocol\":" + std::to_string(twb::kWorkerProtocolVersion);
    if (when == "hello" && how == "cuda") // a target with a GPU, for a client on a machine without one
        frame("{\"type\":\"hello\"," + protocol +
              ",\"environment\":{\"libtorch\":\"2.14.1\",\"cuda_compiled\":true,\"cuda_available\":true,"
              "\"cuda_version\":\"13.0\",\"cuda_devices\":[\"NVIDIA H200 (139 GiB)\"]}}");
    else if (when == "hello")
        misbehave(how);
    else
        frame("{\"type\":\"hello\"," + protocol + "}");
    while (true) {
        const std::string type = nextRequest();
        if (type == when && lastHeader.find(mark) != std::string::npos) misbehave(how);
        if (type == "bye") return 0;
        if (type == "load")
            frame("{\"type\":\"loaded\"}");
        else if (type == "libraries")
            frame("{\"type\":\"libraries_loaded\"}");
        else if (type == "prepare")
            frame("{\"type\":\"prepared\",\"ok\":true,\"record\":{\"label\":\"fake\",\"ok\":true,\"warmup_"
                  "ns\":[1000,1000]}}");
        else if (type == "round") {
            // Five samples of 1 µs as little-endian doubles.
            std::string payload;
            const double v = 1000;
            for (int i = 0; i < 5; ++i) {
                uint64_t bits;
                std::memcpy(&bits, &v, 8);
                for (int b = 0; b < 8; ++b)
                    payload.push_back(char((bits >> (8 * b)) & 0xff));
            }
            frame("{\"type\":\"samples\",\"ok\":true,\"count\":5}", payload.size());
            writeAll(payload);
        } else if (type == "finish")
            frame("{\"type\":\"finished\",\"record\":{\"label\":\"fake\",\"ok\":true}}");
        else if (type == "probe")
            frame("{\"type\":\"probe\",\"gemm_ns\":1000,\"copy_ns\":1000}");
        else
            frame("{\"type\":\"error\",\"message\":\"fake_worker does not do " + type + "\"}");
    }
}
