// A run configuration: device, JIT mode, threads, precision, grad mode and
// how to warm up and measure. Parsed from and printed as "key=value,…".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

enum class JitMode { Off, Freeze, Optimize };
enum class GradMode { Inference, NoGrad, Grad };

std::string jitModeName(JitMode mode);   // "off", "freeze", "optimize"
std::string gradModeName(GradMode mode); // "inference", "no_grad", "grad"

struct RunConfig {
    std::string name;           // a label of the user's; label() makes one when empty
    std::string device = "cpu"; // "cpu", "cuda", "cuda:1"
    JitMode jit = JitMode::Off;
    bool graphOptimize = true;      // the graph executor's optimization switch, set on the running thread
    int threads = 0;                // intra-op threads; 0: one per hardware thread
    std::string dtype = "as_saved"; // or float32, float16, bfloat16: module and floating inputs cast together
    GradMode grad = GradMode::Inference;
    int warmup = -1;        // calls before measuring, the first call included; -1: until stable
    int64_t iterations = 0; // > 0: measure exactly this many calls
    double seconds = 1.0;   // otherwise measure for this long (and at least 5 calls)
    std::vector<double> percentiles{90, 95, 99, 99.9};
    // Where it runs (twb/target.h: local:PATH, ssh://…, cmd:…); "": where the plan's workers run. A plan
    // whose configurations name different targets measures them interleaved, each in workers there.
    // Not part of toSpec(), which is what a worker is sent.
    std::string target;

    // "cpu · jit optimize · 2 threads", or the name; then " @ TARGET" if it has one.
    std::string label() const;
    // float16 or bfloat16, whose rounding alone exceeds the 1e-5 tolerance of outputs.
    bool reducedPrecision() const { return dtype == "float16" || dtype == "bfloat16"; }
    std::string toSpec() const;       // every field as key=value,…
    std::string detailsLabel() const; // " · 2 threads · float16": what label() adds after device and JIT

    // Sets one field from text; throws twb::Error naming the key and the accepted values.
    void set(const std::string& key, const std::string& value);
    // "jit=optimize,threads=2" applied on top of `base`.
    static RunConfig parse(const std::string& spec, const RunConfig& base);
    static RunConfig parse(const std::string& spec) { return parse(spec, RunConfig()); }
};

// Throws twb::Error when the configuration cannot run here (e.g. CUDA absent), saying why.
void validateConfig(const RunConfig& config);

} // namespace twb
