// The fuzz targets: one per reader or parser of what strangers hand the workbench.
//
// Each takes arbitrary bytes. A reader may refuse them with twb::Error, the clear error naming the file
// that every caller shows; anything else is a finding: another exception escaping, a crash, a sanitizer
// report, an allocation the input cannot justify (libFuzzer's -malloc_limit_mb), or a broken round trip
// where a parser promises one. The same functions run the regression inputs in an ordinary test
// (tst_fuzz_regressions), so every finding stays fixed in every build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twb::fuzz {

struct Target {
    const char* name; // fuzz_<name>, tests/fuzz/corpus/<name>, regressions/<name>
    void (*run)(const uint8_t* data, size_t size);
    const char* what;      // one line for run.sh's table
    const char* seedFiles; // tests/data files whose inputs seed it: "*.npy *.npz"
    // The inputs one such file gives (the file itself, a part of it, a prefix of options).
    std::vector<std::string> (*seed)(const std::string& path);
};

const std::vector<Target>& targets();
// nullptr when there is no such target.
const Target* findTarget(const std::string& name);
// Whether a file name matches a target's seedFiles patterns.
bool seedsFrom(const Target& target, const std::string& fileName);

} // namespace twb::fuzz
