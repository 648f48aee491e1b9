// The load doctor: says what a file on disk is before anything tries to run
// it, and for files that cannot be used, why and what to do about it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

enum class FileKind {
    TorchScript,   // torch.jit.save archive: runs
    StateDict,     // torch.save(model.state_dict()), a checkpoint holding one, or .safetensors
    Tensors,       // a tensor file: .npy, .npz, torch.save(tensor or list/dict of tensors)
    PickledModule, // torch.save(model): needs its Python class
    Pt2,           // torch.export / AOTInductor package
    Onnx,
    LegacyPickle,          // torch.save(..., _use_new_zipfile_serialization=False) or PyTorch < 1.6
    TooNew,                // an archive written by a newer PyTorch than this LibTorch reads
    NeedsOperatorLibrary,  // TorchScript calling operators of a library not loaded (torchvision::nms)
    OptimizedForInference, // saved after optimize_for_inference: MKLDNN constants without their values
    Mobile,                // optimize_for_mobile's XNNPACK operators, on a LibTorch without XNNPACK
    NeedsQuantizedEngine,  // quantized weights none of this LibTorch's quantized engines can pack
    Corrupt,               // truncated or damaged archive
    Empty,
    Text,
    NotFound,
    Unknown,
};

// Stable lower-case names used in JSON: "torchscript", "state_dict", …
std::string kindName(FileKind kind);

struct Diagnosis {
    FileKind kind = FileKind::Unknown;
    bool usable = false;        // the workbench can open it (run it, load it, or read its tensors)
    std::string format;         // container: "zip", "safetensors", "npy", "onnx protobuf", …
    std::string summary;        // one line: what the file is
    std::string error;          // why it cannot be used; empty when usable
    std::string fix;            // what to do; may hold several lines of Python
    std::string detail;         // the underlying library's own message, if any
    int64_t formatVersion = -1; // archive format version, where there is one
    // TorchScript: operators the archive's code calls that this LibTorch does not have ("aten::…").
    std::vector<std::string> missingOperators;
    // Where operators come from a library: the namespaces, and the libraries found that provide them
    // and can be loaded here (--load-library).
    std::vector<std::string> operatorNamespaces;
    std::vector<std::string> operatorLibraries;
};

// Never throws for a bad file; only reads what it must.
Diagnosis diagnose(const std::string& path);

// A model the workbench runs: a TorchScript archive, or an AOTInductor package this LibTorch loads.
inline bool runnable(const Diagnosis& d) {
    return d.usable && (d.kind == FileKind::TorchScript || d.kind == FileKind::Pt2);
}

// Inductor's names for the vector instruction sets a CPU package (.pt2) was compiled for ("AVX512
// AVX512_VNNI") against a CPU's feature flags, as Linux's /proc/cpuinfo names them: the sets it lacks, each
// with the flags it needs ("AVX512 (avx512f, avx512bw)"); "" when it has them all, or when a set is one
// this check does not know (no verdict rather than a guess). A package whose sets the CPU lacks would end
// its process with SIGILL: diagnose() says so instead, with the fix.
std::string missingCpuFeatures(const std::string& isa, const std::vector<std::string>& cpuFlags);

// Whether the file holds tensors to feed a model rather than a model or a state_dict, decided cheaply
// (a TorchScript archive is told by its record names, without checking its data): for drops.
bool holdsInputTensors(const std::string& path);

} // namespace twb
