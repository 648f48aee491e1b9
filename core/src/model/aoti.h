// Internal: running an AOTInductor package's model, where this LibTorch has AOTIModelPackageLoader
// (2.6 and newer). Torch types are only declared here.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace c10 {
struct IValue;
}

namespace twb::detail {

// Flattened tensors in, the outputs back (one tensor, or a tuple of them).
using PackageRun = std::function<c10::IValue(const std::vector<c10::IValue>&)>;

// Loads model `name` of the package: its compiled shared object runs in this process from then on.
// Throws twb::Error when this LibTorch has no loader or the package does not load.
PackageRun loadPackage(const std::string& path, const std::string& name);

} // namespace twb::detail
