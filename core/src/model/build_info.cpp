#include "twb/build_info.h"

#include "pt2.h"
#include "torch_bridge.h"
#include "twb/error.h"
#include "twb/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#ifndef TWB_VERSION
#define TWB_VERSION "0.0.0"
#endif
#ifndef TWB_LIBTORCH_SOURCE
#define TWB_LIBTORCH_SOURCE "custom"
#endif
#ifndef TWB_LIBTORCH_LOCATION
#define TWB_LIBTORCH_LOCATION ""
#endif

namespace twb {

namespace {

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t\r\n,");
    const auto b = s.find_last_not_of(" \t\r\n,");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// "KEY=value" out of the comma-separated "Build settings:" line.
std::string setting(const std::string& settings, const std::string& key) {
    const std::string needle = key + "=";
    std::size_t at = 0;
    while ((at = settings.find(needle, at)) != std::string::npos) {
        if (at == 0 || settings[at - 1] == ' ' || settings[at - 1] == ',') break;
        at += needle.size();
    }
    if (at == std::string::npos) return {};
    const std::size_t start = at + needle.size();
    return trim(settings.substr(start, settings.find(", ", start) - start));
}

// The BLAS library the process has mapped, with its folder: Debian's alternatives put the reference
// BLAS in blas/ and OpenBLAS in openblas-pthread/, both as libblas.so.3.
std::string mappedBlas(const std::string& maps) {
    std::istringstream in(maps);
    std::string line;
    for (const char* name : {"libopenblas", "libblis", "libmkl_rt", "libmkl_core", "libblas"}) {
        in.clear();
        in.seekg(0);
        while (std::getline(in, line)) {
            const auto slash = line.find_last_of('/');
            const std::string file = slash == std::string::npos ? line : line.substr(slash + 1);
            if (file.rfind(name, 0) != 0) continue;
            const auto folder =
                slash == std::string::npos ? std::string::npos : line.find_last_of('/', slash - 1);
            return folder == std::string::npos ? file : line.substr(folder + 1);
        }
    }
    return {};
}

} // namespace

LibTorchBuild parseLibTorchConfig(const std::string& config, const std::string& loadedLibraries) {
    LibTorchBuild b;
    std::istringstream in(config);
    std::string line, settings, mkl;
    while (std::getline(in, line)) {
        std::string item = trim(line);
        if (item.rfind("- ", 0) == 0) item = item.substr(2);
        auto after = [&](const std::string& prefix) { return trim(item.substr(prefix.size())); };
        if (item.rfind("Build settings:", 0) == 0)
            settings = after("Build settings:");
        else if (item.rfind("GCC ", 0) == 0 || item.rfind("clang ", 0) == 0 || item.rfind("MSVC ", 0) == 0)
            b.compiler = item;
        else if (item.find("MKL-DNN") != std::string::npos || item.find("oneDNN") != std::string::npos) {
            const auto v = item.find(" v");
            b.onednn =
                v == std::string::npos ? item : trim(item.substr(v + 1, item.find(' ', v + 1) - v - 1));
        } else if (item.find("Math Kernel Library") != std::string::npos) {
            const auto v = item.find("Version ");
            mkl = "Intel MKL" + (v == std::string::npos
                                     ? std::string()
                                     : " " + trim(item.substr(v + 8, item.find('-', v) - v - 8)));
        } else if (item.rfind("OpenMP ", 0) == 0)
            b.openmp = item;
        else if (item.rfind("CPU capability usage:", 0) == 0)
            b.cpuCapability = after("CPU capability usage:");
        else if (item.rfind("CUDA Runtime ", 0) == 0)
            b.cudaRuntime = after("CUDA Runtime ");
        else if (item.rfind("CuDNN ", 0) == 0)
            b.cudnn = after("CuDNN ");
    }
    if (b.cudaRuntime.empty()) b.cudaRuntime = setting(settings, "CUDA_VERSION");
    if (b.cudnn.empty()) b.cudnn = setting(settings, "CUDNN_VERSION");
    b.blas = setting(settings, "BLAS_INFO");
    b.lapack = setting(settings, "LAPACK_INFO");
    if (b.blas == "mkl" && !mkl.empty()) b.blas += " (" + mkl + ")";
    if (b.blas == "generic" || b.blas == "open" || b.blas.empty()) {
        const std::string lib = mappedBlas(loadedLibraries);
        if (!lib.empty()) b.blas = (b.blas.empty() ? std::string("unknown") : b.blas) + " (" + lib + ")";
    }
    // CXX_FLAGS carries -DUSE_KINETO where the Kineto profiler is built in.
    const std::string flags = " " + setting(settings, "CXX_FLAGS") + " ";
    b.kineto = flags.find(" -DUSE_KINETO ") != std::string::npos;
    return b;
}

BuildInfo buildInfo() {
    BuildInfo b;
    b.version = TWB_VERSION;
    b.libtorchVersion = TORCH_VERSION;
    static const LibTorchBuild libtorch = [] {
        std::ifstream maps("/proc/self/maps");
        std::ostringstream mapped;
        mapped << maps.rdbuf();
        LibTorchBuild l = parseLibTorchConfig(at::show_config(), mapped.str());
        l.source = TWB_LIBTORCH_SOURCE;
        l.location = TWB_LIBTORCH_LOCATION;
        const std::string parallel = at::get_parallel_info();
        const auto backend = parallel.find("ATen parallel backend: ");
        if (backend != std::string::npos)
            l.parallelBackend =
                trim(parallel.substr(backend + 23, parallel.find('\n', backend) - backend - 23));
        return l;
    }();
    b.libtorch = libtorch;
    for (const auto e : at::globalContext().supportedQEngines())
        if (e != at::QEngine::NoQEngine) b.quantizedEngines.push_back(detail::quantizedEngineName(e));
#ifdef TWB_WITH_CUDA
    b.cudaCompiled = true;
#endif
    try {
        b.cudaAvailable = torch::cuda::is_available();
        b.aotiPackages = detail::aotiAvailable();
        b.cudaDevices = b.cudaAvailable ? int(torch::cuda::device_count()) : 0;
    } catch (const std::exception&) {
        b.cudaAvailable = false;
    }
    if (!b.cudaCompiled)
        b.cudaStatus =
            "CUDA is not compiled in: this LibTorch is a CPU-only build (as Debian's libtorch-dev and the "
            "torch 2.13.0+cpu wheel are); build with preset 'cuda' (the CUDA PyTorch wheel) or against an "
            "official CUDA LibTorch to use a GPU";
    else if (!b.cudaAvailable)
        b.cudaStatus = "CUDA is compiled in, but no CUDA device or driver was found on this machine";
    else
        b.cudaStatus = "CUDA is available with " + std::to_string(b.cudaDevices) + " device" +
                       (b.cudaDevices == 1 ? "" : "s");
    return b;
}

namespace {
int libtorchDefaultThreads() {
    // Read before anything changes it; LibTorch's choice is only knowable at first use.
    static const int n = at::get_num_threads();
    return n;
}
} // namespace

ThreadSettings threadSettings() {
    ThreadSettings s;
    s.libtorchDefault = libtorchDefaultThreads();
    s.hardware = int(std::max(1u, std::thread::hardware_concurrency()));
    s.current = at::get_num_threads();
    return s;
}

ThreadSettings setThreads(int n) {
    libtorchDefaultThreads();
    const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n <= 0 ? hw : n);
    return threadSettings();
}

} // namespace twb

namespace twb {

namespace detail {

std::string quantizedEngineName(at::QEngine engine) {
    if (engine == at::QEngine::NoQEngine) return "none";
    std::string name = c10::toString(engine); // "FBGEMM", "QNNPACK", "ONEDNN", "X86"
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return name;
}

void ensureQuantizedEngine() {
    if (at::globalContext().qEngine() != at::QEngine::NoQEngine) return;
    const auto& supported = at::globalContext().supportedQEngines();
    for (const char* preferred : {"x86", "fbgemm", "onednn", "qnnpack"})
        for (const auto e : supported)
            if (quantizedEngineName(e) == preferred) {
                at::globalContext().setQEngine(e);
                return;
            }
}

} // namespace detail

std::string quantizedEngine() {
    return detail::quantizedEngineName(at::globalContext().qEngine());
}

void setQuantizedEngine(const std::string& name) {
    std::string there;
    for (const auto e : at::globalContext().supportedQEngines()) {
        if (detail::quantizedEngineName(e) == name) {
            at::globalContext().setQEngine(e);
            return;
        }
        there += (there.empty() ? "" : ", ") + detail::quantizedEngineName(e);
    }
    throw Error("this LibTorch (" TORCH_VERSION ") has no quantized engine '" + name + "'; it has " + there);
}

} // namespace twb
