// Internal: what a .pt2 holds, read from the archive's own records without loading or running any of it:
// AOTInductor models (the target, the CPU ISA, the inputs with their dtypes and static and dynamic
// dimensions, the constants) as the generated wrapper source states them, or a plain ExportedProgram.
#pragma once

#include "twb/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb::detail {

struct Pt2Input {
    std::string name; // the package's own name for it ("arg4_1")
    std::string dtype;
    std::vector<int64_t> shape;    // -1 for a dynamic dimension
    std::vector<int64_t> min, max; // per dimension; -1 where not bounded
};

struct Pt2Model {
    std::string name;   // "model"
    std::string device; // "cpu", "cuda"
    std::string platform, isa;
    std::string machine;  // "x86_64", "aarch64": the architecture it was compiled for
    std::string compiler; // the C++ compiler the wrapper records it was built with ("g++"), where it does
    std::vector<Pt2Input> inputs;
    int outputs = 0;
    std::vector<TensorInfo> constants; // name = the original FQN ("fc1.weight")
    uint64_t libraryBytes = 0;         // the compiled shared object
};

struct Pt2Package {
    std::string archive;          // the top folder ("mlp_aoti")
    std::vector<Pt2Model> models; // AOTInductor models
    bool exportedProgram = false; // holds models/*.json: a torch.export.save ExportedProgram
};

// Throws ZipError when the file is not a readable zip.
Pt2Package readPt2(const std::string& path);

// "input 'x' must be float32 [N, 10] with 2 ≤ N ≤ 64, not float64 [2, 10]", or "" when it fits.
std::string pt2Mismatch(const Pt2Input& input, const std::string& argument, const std::string& dtype,
                        const std::vector<int64_t>& shape);
std::string pt2ShapeText(const Pt2Input& input); // "[N, 10]"

// This machine's CPU feature flags (/proc/cpuinfo's "flags" or "Features"); empty where they cannot be read.
// Held against a package's by twb::missingCpuFeatures (twb/diagnosis.h).
const std::vector<std::string>& cpuFeatureFlags();
// Why this CPU package cannot run on this machine (another architecture, instructions this CPU lacks,
// which would end the process with SIGILL at the first one); "" when it can, or when it cannot tell.
std::string pt2CpuProblem(const Pt2Model& model);
// How to compile a package that runs here, in Python.
std::string pt2PortableFix(const std::string& path);

// Whether this LibTorch has AOTIModelPackageLoader (aoti.cpp).
bool aotiAvailable();

} // namespace twb::detail
