// Operator libraries: shared libraries that register TorchScript operators (torchvision's nms and
// roi_align, torchaudio's, a project's own TORCH_LIBRARY), loaded before a model as
// torch.ops.load_library does. A library is checked before it is loaded: one built for Python's torch
// (it needs libtorch_python) or for another LibTorch (symbols this one lacks) is refused with the reason,
// since loading it would fail obscurely or crash.
#pragma once

#include <string>
#include <vector>

namespace twb {

struct OperatorLibraryCheck {
    std::string path;
    bool ok = false;
    std::string reason;               // why it cannot be loaded here; empty when ok
    std::vector<std::string> needed;  // its DT_NEEDED sonames
    std::vector<std::string> missing; // LibTorch symbols it needs that this LibTorch lacks (the first few)
};

// Reads the library's ELF dynamic section and symbols; loads nothing.
OperatorLibraryCheck checkOperatorLibrary(const std::string& path);

// Checks, then loads the library into this process (dlopen, RTLD_NOW | RTLD_GLOBAL), so that its
// operators are registered. Loading the same file again does nothing. Throws twb::Error naming the file
// and the cause.
void loadOperatorLibrary(const std::string& path);

// The libraries loaded so far, in order.
std::vector<std::string> loadedOperatorLibraries();

// Libraries that may provide a namespace's operators ("torchvision"), each checked: the paths in
// $TWB_OPERATOR_LIBRARIES (files or folders, separated by ':'), a lib<namespace>.so beside this LibTorch,
// and Python packages' extension modules where Debian installs them (python3-torchvision's _C library,
// built for Debian's LibTorch). With `operators` (unqualified: "nms"), only libraries whose schemas name
// them all ("nms(") are kept. Those that load here come first.
std::vector<OperatorLibraryCheck> operatorLibraryCandidates(const std::string& ns,
                                                            const std::vector<std::string>& operators = {});

} // namespace twb
