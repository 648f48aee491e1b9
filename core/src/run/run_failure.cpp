#include "run_failure.h"

namespace twb::detail {
namespace {

// An operator with no kernel for a dtype on a device ("addmm_impl_cpu_" not implemented for 'Half', as
// LibTorch before 2.1 says of a .half() model on the CPU): say which precision runs.
bool explainKernel(RunRecord& r) {
    const auto at = r.error.find("not implemented for '");
    if (at == std::string::npos) return false;
    const auto end = r.error.find('\'', at + 21);
    const std::string type =
        r.error.substr(at + 21, end == std::string::npos ? std::string::npos : end - at - 21);
    const bool reduced = type == "Half" || type == "BFloat16";
    r.fix =
        "this LibTorch has no " + type + " kernel for an operator the model calls on this device" +
        (reduced ? ": run it in float32 (--dtype float32; Precision in the window), on CUDA, or on a newer "
                   "LibTorch (the CPU gained float16 matrix kernels in 2.1)"
                 : ": give that input in a dtype the operator takes (--dtype, or convert the input file)");
    return true;
}

} // namespace

void recordFailure(RunRecord& r, const WorkerFailure& f) {
    if (f.cancelled) { // not a failure: the plan keeps what was measured
        r.cancelled = true;
        return;
    }
    r.ok = false;
    r.error = f.what();
    r.failedPhase = f.phase;
    r.signal = f.signal;
    r.exitCode = f.exitCode;
    r.stderrTail = f.stderrTail;
    r.fix = f.fix;
    r.errorDetail = f.stderrTail;
}

void recordMalformed(RunRecord& r, const std::string& phase, const std::exception& e) {
    r.ok = false;
    r.error = "the worker's answer during " + phase + " could not be read: " + e.what();
    r.failedPhase = phase;
    r.fix = "check that the worker is the same torchwb version as this one";
}

bool answeredError(const Frame& f, RunRecord& r) {
    if (f.type() != "error") return false;
    r.ok = false;
    r.error = f.header.value("message", std::string("the worker reported an error"));
    r.errorDetail = f.header.value("detail", std::string());
    return true;
}

void explainFailure(RunRecord& r, const WorkerOptions& o) {
    if (r.ok || !r.fix.empty() || explainKernel(r)) return;
    const bool memory = r.error.find("allocate memory") != std::string::npos ||
                        r.error.find("out of memory") != std::string::npos ||
                        r.error.find("bad_alloc") != std::string::npos;
    if (!memory) return;
    if (o.memoryLimitBytes > 0)
        r.fix = "the worker's memory limit is " + std::to_string(o.memoryLimitBytes >> 20) +
                " MiB: raise it with --memory-limit, or lower the batch size";
    else
        r.fix = "the machine ran out of memory for this model: lower the batch size; a memory limit "
                "(--memory-limit) "
                "keeps one configuration from taking the machine's memory";
}

} // namespace twb::detail
