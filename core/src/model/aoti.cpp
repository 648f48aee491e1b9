#include "aoti.h"

#include "pt2.h"
#include "zip_reader.h"

#include "twb/error.h"

#include <torch/script.h>
#include <torch/version.h>

#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#define TWB_AOTI 1
#else
#define TWB_AOTI 0
#endif

#include <memory>

namespace twb::detail {

bool aotiAvailable() {
    return TWB_AOTI != 0;
}

PackageRun loadPackage(const std::string& path, const std::string& name) {
#if TWB_AOTI
    // Loading runs the package's compiled code: never code built for instructions this CPU lacks.
    try {
        for (const Pt2Model& m : readPt2(path).models)
            if (m.name == name || name.empty())
                if (const std::string problem = pt2CpuProblem(m); !problem.empty())
                    throw Error(path + ": the AOTInductor package cannot run here: " + problem,
                                pt2PortableFix(path));
    } catch (const ZipError&) {
        // the loader says what is wrong with the archive
    }
    std::shared_ptr<torch::inductor::AOTIModelPackageLoader> loader;
    try {
        loader = std::make_shared<torch::inductor::AOTIModelPackageLoader>(path, name);
    } catch (const c10::Error& e) {
        throw Error(path + ": the AOTInductor package did not load: " + e.what_without_backtrace(),
                    e.what_without_backtrace());
    } catch (const std::exception& e) {
        throw Error(path + ": the AOTInductor package did not load: " + std::string(e.what()), e.what());
    }
    return [loader](const std::vector<c10::IValue>& in) {
        std::vector<at::Tensor> tensors;
        tensors.reserve(in.size());
        for (const auto& v : in)
            tensors.push_back(v.toTensor());
        std::vector<at::Tensor> out = loader->run(tensors);
        if (out.size() == 1) return c10::IValue(out.front());
        std::vector<c10::IValue> items(out.begin(), out.end());
        return c10::IValue(c10::ivalue::Tuple::create(std::move(items)));
    };
#else
    (void)name;
    throw Error(path +
                ": AOTInductor packages need LibTorch 2.6 or newer (AOTIModelPackageLoader); this build "
                "uses LibTorch " TORCH_VERSION);
#endif
}

} // namespace twb::detail
