// What this build can do: versions, where its LibTorch came from and what that LibTorch
// was built with (BLAS, oneDNN, OpenMP, CUDA, Kineto), and whether CUDA is usable.
#pragma once

#include <string>
#include <vector>

namespace twb {

// Read from LibTorch's own build information (at::show_config()), not from our headers.
struct LibTorchBuild {
    std::string source;          // "wheel", "distribution" or "custom": how CMake found it
    std::string location;        // the folder it was found in
    std::string blas;            // "mkl (Intel oneAPI MKL 2024.2)", "generic (libopenblas.so.0)", …
    std::string lapack;          // "mkl", "generic", …
    std::string onednn;          // "v3.12.0", or "" when not built in
    std::string openmp;          // "OpenMP 201511 (a.k.a. OpenMP 4.5)", or ""
    std::string parallelBackend; // "OpenMP", "native thread pool", …
    std::string cpuCapability;   // the vector ISA ATen dispatches to: "AVX2", "AVX512"
    std::string cudaRuntime;     // CUDA the library was built against, "" for CPU builds
    std::string cudnn;           // cuDNN it was built against, ""
    bool kineto = false;         // the Kineto profiler (torch.profiler's backend) is built in
    std::string compiler;        // "GCC 13.3"
};

struct BuildInfo {
    std::string version;         // Torch Workbench
    std::string libtorchVersion; // compiled against
    LibTorchBuild libtorch;
    bool cudaCompiled = false;
    bool cudaAvailable = false;
    bool aotiPackages = false; // AOTInductor .pt2 packages run (LibTorch 2.6+: AOTIModelPackageLoader)
    int cudaDevices = 0;
    std::string cudaStatus; // a sentence: why CUDA is or is not usable
    // The quantized engines this LibTorch has, as PyTorch names them: "x86", "fbgemm", "onednn", "qnnpack"
    // ("none" is left out).
    std::vector<std::string> quantizedEngines;
};

BuildInfo buildInfo();

// The quantized engine this process packs quantized models' weights for and runs them with ("x86";
// "none" when none is set), and setting it by that name; throws twb::Error naming the engines there
// are when this LibTorch lacks it. Loading a model sets one when none is.
std::string quantizedEngine();
void setQuantizedEngine(const std::string& name);

// Parses at::show_config()'s text; `loadedLibraries` (the process's mapped files, one a line) names
// the BLAS behind a "generic" BLAS_INFO. Public for testing against real configs.
LibTorchBuild parseLibTorchConfig(const std::string& showConfig, const std::string& loadedLibraries = {});

} // namespace twb
