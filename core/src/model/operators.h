// Which operators a TorchScript archive's code calls, and which of them the running
// LibTorch lacks: read from the archive's code records before anything is loaded, so
// every missing operator is named at once rather than only the first the compiler meets.
#pragma once

#include <string>
#include <vector>

namespace twb::detail {

class ZipReader;

struct OperatorScan {
    std::vector<std::string> called;  // qualified names ("aten::linear", "prim::dtype"), sorted, unique
    std::vector<std::string> missing; // those this LibTorch has neither as an operator nor a builtin
};

// The operator calls in TorchScript source as torch.jit.save prints it: `torch.NAME(` is aten::NAME,
// `ops.NS.NAME(` is NS::NAME; string literals are skipped.
std::vector<std::string> operatorCalls(const std::string& code);

OperatorScan scanArchiveOperators(const ZipReader& zip, const std::string& prefix);

bool operatorRegistered(const std::string& qualified);

// Whether a namespace's operators are LibTorch's own (aten, prim, quantized, prepacked, mkldnn, …) rather
// than a library's (torchvision, torchaudio, a project's TORCH_LIBRARY).
bool isBuiltinOperatorNamespace(const std::string& ns);

// The PyTorch release that added a well-known operator ("2.0"), or "" when not known.
std::string operatorAddedIn(const std::string& qualified);

} // namespace twb::detail
