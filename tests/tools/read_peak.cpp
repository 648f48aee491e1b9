// read_peak WHAT PATH: does what opening PATH does in the workbench and prints how much the process's
// peak resident set grew, so that a test or a benchmark can hold the memory a file costs against its
// size. WHAT: tensors (readTensorFile), diagnose, inspect (inspectModelFile), open (Model::load) or
// state_dict (readStateDict).
//   prints: ok|refused <one line>
//           grew_kb <peak growth>  baseline_kb <peak before>  file_kb <size>  sanitized 0|1
// Under AddressSanitizer every allocation carries redzones and freed memory is held in quarantine, so
// the figures say nothing about the workbench: "sanitized 1" tells the reader so.
#include "twb/diagnosis.h"
#include "twb/error.h"
#include "twb/model.h"
#include "twb/tensor_io.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// The process's own high-water mark (VmHWM). getrusage's ru_maxrss would not do: Linux carries it over
// from the parent across fork and exec, so a child started by a big test would start at the test's peak.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSanitized = 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kSanitized = 1;
#else
constexpr int kSanitized = 0;
#endif
#else
constexpr int kSanitized = 0;
#endif

static long peakKb() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::atol(line + 6);
    std::fclose(f);
    return kb;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s tensors|diagnose|inspect|open|state_dict PATH\n", argv[0]);
        return 2;
    }
    const std::string what = argv[1], path = argv[2];
    struct stat st{};
    ::stat(path.c_str(), &st);
    // LibTorch's own start-up (allocator, operator registry) is part of the baseline, not of the file.
    (void)twb::makeTensor({1, 2, 3}, {3}).summary();
    (void)twb::diagnose(argv[0]);
    const long before = peakKb();
    std::string outcome = "ok";
    try {
        if (what == "tensors") {
            const twb::Value v = twb::readTensorFile(path);
            outcome += " " + v.typeName() + (v.isTensor() ? "" : " of " + std::to_string(v.size()));
        } else if (what == "diagnose")
            outcome += " " + twb::diagnose(path).summary;
        else if (what == "inspect")
            outcome += " " + twb::inspectModelFile(path).diagnosis.summary;
        else if (what == "open")
            outcome += " " + twb::Model::load(path).info().diagnosis.summary;
        else if (what == "state_dict")
            outcome += " " + twb::readStateDict(path).describe();
        else {
            std::fprintf(stderr, "%s: unknown WHAT '%s'\n", argv[0], what.c_str());
            return 2;
        }
    } catch (const twb::Error& e) {
        outcome = std::string("refused ") + e.what();
    }
    for (char& c : outcome)
        if (c == '\n') c = ' ';
    if (outcome.size() > 300) outcome.resize(300);
    std::printf("%s\ngrew_kb %ld baseline_kb %ld file_kb %ld sanitized %d\n", outcome.c_str(),
                peakKb() - before, before, long(st.st_size / 1024), kSanitized);
}
