// The fuzz targets (targets.h). Readers that take a path read the input from a memory-backed file
// (memfd), so that the very code a user's file goes through, size checks and all, is what is fuzzed.
#include "targets.h"

#include "pickle.h"
#include "readers.h"
#include "zip_reader.h"

#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/generate.h"
#include "twb/input_spec.h"
#include "twb/report.h"
#include "twb/session.h"

#include "protocol.h"
#include "report_json.h"

#include <fcntl.h>

#include <caffe2/serialize/inline_container.h>

#include <fnmatch.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace twb::fuzz {
namespace {

// A finding that is not a crash: a promise a parser broke.
[[noreturn]] void broken(const std::string& what) {
    std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
    std::abort();
}

// One memory-backed file per process, rewritten for every input.
class MemoryFile {
public:
    MemoryFile()
        : m_fd(memfd_create("twb-fuzz", 0)) {
        if (m_fd < 0) broken("memfd_create failed");
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
    }
    const std::string& write(const void* data, size_t size) {
        if (ftruncate(m_fd, 0) != 0) broken("ftruncate failed");
        const char* p = static_cast<const char*>(data);
        for (size_t done = 0; done < size;) {
            const ssize_t n = pwrite(m_fd, p + done, size - done, off_t(done));
            if (n <= 0) broken("pwrite failed");
            done += size_t(n);
        }
        return m_path;
    }

private:
    int m_fd;
    std::string m_path;
};

const std::string& asFile(const void* data, size_t size) {
    static MemoryFile file;
    return file.write(data, size);
}

std::string text(const uint8_t* data, size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Reads what a reader returned the way callers do (structure, shapes, summaries), so that a tensor
// pointing outside its storage is caught by AddressSanitizer. Views a hostile file may make huge
// (a stride-0 tensor of 10^12 elements is legal) are described but not summarised, nor, to keep the
// fuzzer fast, any of more than 65536 elements; and the walk stops after 10,000 parts (a value that
// shares its parts can be far larger walked than stored: the readers bound that at 2^21).
void touch(const Value& v, int depth = 0) {
    static int budget = 0;
    if (depth == 0) {
        budget = 10000;
        (void)v.describe();
    }
    if (--budget < 0) return;
    switch (v.kind()) {
    case Value::Kind::Tensor: {
        int64_t numel = 1;
        for (int64_t d : v.shape()) {
            if (d < 0) broken("a tensor with a negative dimension");
            numel = d != 0 && numel > (int64_t(1) << 40) / d ? (int64_t(1) << 40) : numel * d;
        }
        if (numel <= (int64_t(1) << 16)) (void)v.summary();
        break;
    }
    case Value::Kind::List:
    case Value::Kind::Tuple:
        for (std::size_t i = 0; i < v.size(); ++i)
            touch(v.at(i), depth + 1);
        break;
    case Value::Kind::Dict:
        for (const auto& [key, item] : v.items())
            touch(item, depth + 1);
        break;
    default:
        break;
    }
}

template <class F> void refusedOrRead(F&& read) {
    try {
        touch(read());
    } catch (const Error&) {
        // A clear refusal is what a hostile file should get.
    }
}

void npy(const uint8_t* data, size_t size) {
    refusedOrRead([&] { return detail::readNpyBytes(text(data, size), "fuzz.npy"); });
}

void npz(const uint8_t* data, size_t size) {
    refusedOrRead([&] { return detail::readNpz(asFile(data, size)); });
}

void safetensors(const uint8_t* data, size_t size) {
    refusedOrRead([&] { return detail::readSafetensors(asFile(data, size)); });
}

// Raw bytes starting "PK" are a whole archive. Anything else is split at "\n@@\n" into records of a
// well-formed torch.save archive (data.pkl, then data/0, data/1, …), so that the fuzzer reaches the
// unpickler and the storages behind a valid zip layer and its CRCs.
void torchSave(const uint8_t* data, size_t size) {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        refusedOrRead([&] { return detail::readTorchSave(asFile(data, size)); });
        return;
    }
    const std::string input = text(data, size);
    std::vector<std::string> records;
    for (std::size_t start = 0;;) {
        const std::size_t at = input.find("\n@@\n", start);
        records.push_back(input.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) break;
        start = at + 4;
    }
    std::string archive;
    {
        caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) {
            archive.append(static_cast<const char*>(p), n);
            return n;
        });
        writer.writeRecord("data.pkl", records[0].data(), records[0].size());
        for (std::size_t i = 1; i < records.size(); ++i)
            writer.writeRecord("data/" + std::to_string(i - 1), records[i].data(), records[i].size());
        writer.writeEndOfFile();
    }
    refusedOrRead([&] { return detail::readTorchSave(asFile(archive.data(), archive.size())); });
}

// The restricted unpickler on its own, both as torch.load uses it (refusing unknown globals) and as
// the load doctor does (keeping them as inert placeholders).
void pickle(const uint8_t* data, size_t size) {
    if (size == 0) return;
    detail::pickle::Options options;
    options.allowOpaque = (data[0] & 1) != 0;
    try {
        const auto result = detail::pickle::load(text(data + 1, size - 1), options);
        if (!result.root) broken("the unpickler returned no root");
    } catch (const detail::pickle::Error&) {
    }
}

void diagnose(const uint8_t* data, size_t size) {
    const std::string& path = asFile(data, size);
    const Diagnosis d = twb::diagnose(path); // never throws: every failure is a diagnosis
    if (d.summary.empty()) broken("a diagnosis without a summary");
    (void)holdsInputTensors(path);
}

void csv(const uint8_t* data, size_t size) {
    if (size == 0) return;
    const bool header = (data[0] & 1) != 0;
    refusedOrRead([&] { return detail::readCsv(asFile(data + 1, size - 1), header); });
}

// The first two bytes choose the channels and a resize, the rest is the image.
void image(const uint8_t* data, size_t size) {
    if (size < 2) return;
    ImageOptions options = ImageOptions::preset((data[0] & 4) ? "imagenet" : "none");
    options.channels = (data[0] & 3) == 0 ? 1 : (data[0] & 3) == 1 ? 3 : 4;
    if (data[1] != 0) options.resizeWidth = options.resizeHeight = 1 + data[1] % 64;
    refusedOrRead([&] { return detail::readImage(asFile(data + 2, size - 2), options); });
}

// A spec that parses prints as one that parses back to the same spec; small ones generate.
void generatorSpec(const uint8_t* data, size_t size) {
    GeneratorSpec spec;
    try {
        spec = GeneratorSpec::parse(text(data, size));
    } catch (const Error&) {
        return;
    }
    GeneratorSpec again;
    try {
        again = GeneratorSpec::parse(spec.toString());
    } catch (const Error& e) {
        broken("'" + spec.toString() + "' does not parse back: " + e.what());
    }
    if (again.toString() != spec.toString())
        broken("'" + spec.toString() + "' parses back as '" + again.toString() + "'");
    int64_t numel = 1;
    for (int64_t d : spec.shape)
        numel = d > 0 && numel <= (int64_t(1) << 12) / d ? numel * d : (int64_t(1) << 13);
    if (numel > (int64_t(1) << 12)) return;
    // What the printed spec generates is what the original generates.
    std::vector<double> first, second;
    try {
        first = generate(spec).toDoubles();
        second = generate(again).toDoubles();
    } catch (const Error&) {
        return;
    }
    for (std::size_t i = 0; i < first.size(); ++i)
        if (!(first[i] == second[i] || (std::isnan(first[i]) && std::isnan(second[i]))))
            broken("'" + spec.toString() + "' regenerates differently at element " + std::to_string(i));
}

void inputSpec(const uint8_t* data, size_t size) {
    const std::string t = text(data, size);
    for (const bool generated : {false, true}) {
        InputSpec spec;
        try {
            spec = generated ? InputSpec::parseGenerated(t) : InputSpec::parse(t);
        } catch (const Error&) {
            continue;
        }
        try {
            const InputSpec again = InputSpec::parse(spec.toString());
            if (again.toString() != spec.toString())
                broken("'" + spec.toString() + "' parses back as '" + again.toString() + "'");
        } catch (const Error& e) {
            broken("'" + spec.toString() + "' does not parse back: " + e.what());
        }
        (void)spec.source();
    }
}

// What reads, written back, reads back the same: a report or a session copied between machines loses
// nothing. `read(text, source)` and `write(value)` are the reader and the writer.
template <class Read, class Write>
void roundTrip(const uint8_t* data, size_t size, const char* what, Read read, Write write) {
    std::optional<decltype(read(std::string(), ""))> value;
    try {
        value = read(text(data, size), "fuzz.json");
    } catch (const Error&) {
        return;
    }
    const std::string once = write(*value);
    try {
        const std::string twice = write(read(once, "rewritten.json"));
        if (twice != once)
            broken(std::string("a ") + what + " reads back different from what it wrote:\n" + once + "\n" +
                   twice);
    } catch (const Error& e) {
        broken(std::string("a ") + what + " it wrote does not read back: " + e.what() + "\n" + once);
    }
}

void report(const uint8_t* data, size_t size) {
    roundTrip(data, size, "report", reportFromJson, [](const Report& r) { return reportToJson(r); });
}

void session(const uint8_t* data, size_t size) {
    roundTrip(data, size, "session", sessionFromJson, sessionToJson);
}

// What a worker writes on its stdout, read as the client reads it: frames, then each answer's record,
// profile, events, sweep, samples and output. A malformed answer is refused (the client turns a
// ProtocolError, twb::Error or a JSON error into a failed configuration); nothing else may escape.
void workerStream(const uint8_t* data, size_t size) {
    static MemoryFile file;
    const std::string& path = file.write(data, size);
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) broken("cannot open the memory file");
    detail::FrameReader reader(fd);
    try {
        for (int frames = 0; frames < 64; ++frames) {
            const detail::Frame f = reader.read();
            const auto& h = f.header;
            if (h.contains("environment")) (void)detail::environmentFromJson(h.at("environment"));
            if (h.contains("record")) (void)detail::runFromJson(h.at("record"));
            if (h.contains("profile")) (void)detail::profileFromJson(h.at("profile"));
            if (h.contains("events")) (void)detail::eventsFromJson(h.at("events"));
            if (h.contains("sweep")) (void)detail::sweepFromJson(h.at("sweep"));
            if (f.type() == "samples")
                (void)detail::unpackDoubles(f.payload);
            else if (!f.payload.empty() && f.payload.size() < (1 << 16))
                touch(detail::valueFromBytes(f.payload, "a payload"));
        }
    } catch (const detail::ProtocolError&) {
    } catch (const Error&) {
    } catch (const nlohmann::json::exception&) {
    }
    ::close(fd);
}

// Seeds: what a file in tests/data gives each target.
std::vector<std::string> whole(const std::string& path) {
    return {detail::readWholeFile(path, 1 << 24)};
}

std::vector<std::string> prefixed(const std::string& path, const std::string& prefix) {
    return {prefix + detail::readWholeFile(path, 1 << 24)};
}
std::vector<std::string> csvSeed(const std::string& path) {
    return prefixed(path, std::string(1, '\0'));
} // no forced header
std::vector<std::string> imageSeed(const std::string& path) {
    return {prefixed(path, std::string("\x01\x00", 2))[0], prefixed(path, "\x05\x10")[0]};
}

// A torch.save archive's records, or nothing for a file that is not one.
std::vector<std::string> archiveRecords(const std::string& path) {
    try {
        const detail::ZipReader zip(path);
        const std::string prefix = zip.torchPrefix();
        if (!zip.has(prefix + "data.pkl")) return {};
        std::vector<std::string> records = {zip.read(prefix + "data.pkl", 1 << 24)};
        for (int i = 0; zip.has(prefix + "data/" + std::to_string(i)); ++i)
            records.push_back(zip.read(prefix + "data/" + std::to_string(i), 1 << 24));
        return records;
    } catch (const std::exception&) {
        return {};
    }
}

std::vector<std::string> torchSaveSeed(const std::string& path) {
    std::vector<std::string> seeds = whole(path);
    const std::vector<std::string> records = archiveRecords(path);
    if (!records.empty()) {
        std::string split = records[0];
        for (std::size_t i = 1; i < records.size(); ++i)
            split += "\n@@\n" + records[i];
        seeds.push_back(split);
    }
    return seeds;
}

std::vector<std::string> pickleSeed(const std::string& path) {
    if (detail::lowerExtension(path) == "pkl") return prefixed(path, "\x01");
    const std::vector<std::string> records = archiveRecords(path);
    if (records.empty()) return {};
    return {std::string(1, '\0') + records[0], "\x01" + records[0]};
}

} // namespace

bool seedsFrom(const Target& target, const std::string& fileName) {
    const std::string patterns = target.seedFiles;
    for (std::size_t start = 0; start < patterns.size();) {
        std::size_t end = patterns.find(' ', start);
        if (end == std::string::npos) end = patterns.size();
        if (fnmatch(patterns.substr(start, end - start).c_str(), fileName.c_str(), 0) == 0) return true;
        start = end + 1;
    }
    return false;
}

const std::vector<Target>& targets() {
    static const std::vector<Target> all = {
        {"npy", npy, ".npy header and data", "*.npy", whole},
        {"npz", npz, ".npz: zip and the arrays in it", "*.npz", whole},
        {"safetensors", safetensors, ".safetensors header and offsets", "*.safetensors", whole},
        {"torch_save", torchSave, "torch.save archives: zip, pickle, storages", "*.pt *.pth *.ckpt",
         torchSaveSeed},
        {"pickle", pickle, "the restricted unpickler", "*.pt *.pth *.ckpt *.pkl", pickleSeed},
        {"diagnose", diagnose, "the load doctor on any bytes", "*", whole},
        {"csv", csv, "CSV tables", "*.csv", csvSeed},
        {"image", image, "images through stb, resized", "*.png *.jpg", imageSeed},
        {"generator_spec", generatorSpec, "generator specs, round trip", "", whole},
        {"input_spec", inputSpec, "input specs, round trip", "", whole},
        {"report", report, "report JSON, round trip", "*.json", whole},
        {"session", session, "session JSON, round trip", "*.twb", whole},
        {"worker_stream", workerStream, "a worker's frames as the client reads them", "", whole},
    };
    return all;
}

const Target* findTarget(const std::string& name) {
    for (const Target& t : targets())
        if (name == t.name) return &t;
    return nullptr;
}

} // namespace twb::fuzz
