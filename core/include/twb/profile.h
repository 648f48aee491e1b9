// Profiles: where one configuration's forward spends its time, per operator, per module and per
// TorchScript source line, with the nodes a JIT mode fused out of the operator profiler's sight, FLOPs
// against this machine's measured peak (a roofline), the diff of two configurations, and a Chrome trace.
// The plan runner makes them (Plan::profile); everything here is plain values.
#pragma once

#include "twb/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

struct ProfileOptions {
    int calls = 10;            // profiled forward calls, after the configuration's warm-up and measurement
    bool scriptProfile = true; // time fused nodes through TorchScript's per-line profile
    bool keepEvents = true;    // keep every event, for a trace (reports do not store them)
    bool measurePeak = true;   // measure (or read from the cache) this machine's GEMM peak and bandwidth
    std::string peakCacheDir;  // empty: $XDG_CACHE_HOME/torch-workbench (~/.cache/torch-workbench)
    // TorchScript stacks and module scope (source lines, modules). Capturing them has crashed LibTorch on
    // some models; a profile that crashed is retried without them.
    bool stacks = true;
};

enum class EventKind { Forward, Function, Operator };

// One recorded event. Forward: one profiled call, as the workbench timed it; Function: a TorchScript
// method frame (its self time is the interpreter's); Operator: an ATen or prim operator.
struct ProfileEvent {
    std::string name;
    EventKind kind = EventKind::Operator;
    uint64_t thread = 0;
    double startNs = 0, durationNs = 0; // start relative to the first profiled call's
    double selfNs = 0;                  // duration minus its children's, on the same thread
    int call = -1;                      // the profiled call it belongs to, 0-based
    int depth = 0;                      // 0: called by TorchScript (or the forward) directly
    std::string shapes;                 // input shapes as the profiler prints them: [[1, 3, 8, 8], [], …]
    double flops = 0;                   // the workbench's count where it has a formula, else the profiler's
    double bytes = 0;                   // its tensor inputs and outputs, where counted
    std::string module, moduleType;     // dotted submodule path ("layer1.0.conv1"; "" is the model) and class
    std::string location, function; // innermost TorchScript source line "code/__torch__/….py:29" and function
};

// One row of the operator table; times are totals over the profiled calls, as in torch.profiler's tables.
struct OperatorStat {
    std::string name;
    bool fused = false; // a graph node the operator profiler does not report (prim::mkldnn_convolution, …)
    bool timed = true;  // false: a fused node whose time could not be measured apart
    int64_t calls = 0;  // over all profiled calls
    double selfNs = 0, totalNs = 0;
    int64_t topCalls = 0;            // calls made by TorchScript directly, not from inside another operator
    double topNs = 0;                // their total time
    std::vector<std::string> shapes; // the commonest input shapes first (at most 5)
    int64_t shapeVariants = 0;
    std::vector<std::string> locations; // source lines it was called from (at most 8)
    double flops = 0, bytes = 0;        // per forward: all its calls in one forward, not nested counts
    // FLOPs are counted on the operator that has a formula (aten::conv2d), but its time may sit in a
    // callee (aten::_slow_conv2d_forward). Such a callee is credited with its callers' FLOPs, and the
    // caller names where its time went, so the rate shows where the time is.
    double creditedFlops = 0;              // per forward: the FLOPs of callers whose time sits here
    std::vector<std::string> creditedFrom; // those callers
    std::string timeIn;                    // for a counted operator: the callee its time sits in
    double meanNs() const { return calls > 0 ? totalNs / double(calls) : 0; } // per call
    double workFlops() const { return flops > 0 ? flops : creditedFlops; }    // its own, else credited
    double gflops(int profiledCalls) const; // work FLOPs per forward over the time per forward; 0: unknown
};

struct ModuleStat {
    std::string path, type; // path "" is the model itself
    int depth = 0;
    double selfNs = 0, totalNs = 0; // totals over the profiled calls; total rolls up the submodules
    int64_t operatorCalls = 0;
};

struct LineStat {
    std::string location, function;
    double selfNs = 0; // operators' self time on the line, totals over the profiled calls
    int64_t calls = 0;
    double scriptNs = -1; // the line's time in TorchScript's own per-line profile, when measured
};

struct FusedNode {
    std::string kind; // prim::mkldnn_convolution, prim::FusionGroup, …
    int64_t perForward = 0;
    std::vector<std::string> locations;
    double timeNs = -1; // per forward, from the per-line profile; -1: not timed per op
};

struct MachinePeak {
    bool measured = false;
    // FP32, at `threads` intra-op threads: the fastest of a large at::mm (the BLAS) and 1×1 and 3×3
    // convolutions (oneDNN): Debian's LibTorch multiplies matrices with the reference BLAS but convolves
    // with oneDNN.
    double gflops = 0;
    double mmGflops = 0, convGflops = 0;
    std::string source;      // "matrix multiply" or "convolution"
    double bandwidthGBs = 0; // a large tensor copy, read + write bytes
    int threads = 0;
    int gemmSize = 0;
    std::string fingerprint;
    bool fromCache = false;
    double balance() const { return bandwidthGBs > 0 ? gflops / bandwidthGBs : 0; } // FLOP per byte
};

struct Roofline {
    bool known = false;
    double flops = 0, bytes = 0; // per forward
    double intensity = 0;        // FLOP per byte
    double achievedGflops = 0, percentOfPeak = 0;
    bool computeBound = false;
    std::string sentence;
};

struct Profile {
    bool ok = false;
    std::string error;
    std::string label;
    RunConfig config;
    int run = -1; // the run in its report that measured this configuration unprofiled
    int calls = 0;
    std::string profiler; // which profiler, and its resolution
    double forwardNs = 0; // mean profiled forward (wall clock), per call
    double unprofiledMedianNs = 0, profiledMedianNs = 0;
    double operatorSelfNs = 0;           // per forward: the operators' self times
    double fusedNs = 0;                  // per forward: fused nodes timed through their lines
    double unattributedNs = 0;           // per forward: the rest (the interpreter, and fused nodes not timed)
    std::vector<OperatorStat> operators; // by self time, fused nodes among them
    bool moduleScope = false;            // the runtime reported module scope
    std::vector<ModuleStat> modules;     // the tree in preorder
    std::vector<LineStat> lines;         // by self time
    std::vector<FusedNode> fused;
    double modelFlops = -1, modelBytes = -1; // per forward, counted once with the JIT off; -1: unknown
    MachinePeak peak;
    Roofline roofline;
    std::vector<std::string> notes;
    std::vector<ProfileEvent> events; // when kept: every call's events, in start order

    double overhead() const { return unprofiledMedianNs > 0 ? profiledMedianNs / unprofiledMedianNs - 1 : 0; }
};

// "2 FLOPs per multiply–add", for tables and reports.
extern const char* const kFlopConvention;

// FLOPs of the operators the workbench counts itself, from input and output shapes (2 per multiply–add):
// conv1d/2d/3d, convolution, linear, matmul, mm, addmm, bmm, baddbmm, scaled_dot_product_attention, and
// one per output element for mul and add. -1 when the operator has no formula.
double operatorFlops(const std::string& name, const std::vector<std::vector<int64_t>>& inputs,
                     const std::vector<int64_t>& output);

// Operators, modules and lines from recorded events. `fused` come from the executed graph; `lineNs` is
// TorchScript's per-line time (location -> total ns over the calls), empty when not measured.
Profile buildProfile(std::vector<ProfileEvent> events, int calls, std::vector<FusedNode> fused,
                     const std::vector<std::pair<std::string, double>>& lineNs);
// Copies shapes, lines, modules and FLOPs from a described pass onto the same calls of a lean (timed)
// pass: call by call, operator by operator, where both ran the same operators in the same order. Returns
// the number of calls that could not be matched (their operators keep only their times).
int attachDescriptions(std::vector<ProfileEvent>& timed, const std::vector<ProfileEvent>& described);
// Fills modelFlops/modelBytes-derived figures: achieved rate, % of peak and the roofline sentence.
void applyRoofline(Profile& profile);

struct ProfileDiffEntry {
    enum class Change { Faster, Slower, Same, Appeared, Vanished };
    std::string name;
    Change change = Change::Same;
    double callsA = 0, callsB = 0; // per forward, called by TorchScript directly
    double nsA = 0, nsB = 0;       // per forward, their total time
    std::string note;              // "folded by freeze", "→ prim::mkldnn_convolution", …
};

struct ProfileDiff {
    std::string labelA, labelB;
    double forwardA = 0, forwardB = 0;
    std::vector<ProfileDiffEntry> entries; // by the size of the change
    std::vector<std::string> summary; // "aten::conv2d ×20 (8.1 ms) → prim::mkldnn_convolution ×20 (2.3 ms)"
};

// Operators matched by name (shapes differ under JIT modes: MKLDNN layouts, folded weights); fused nodes
// matched to the operators they replaced by source line.
ProfileDiff diffProfiles(const Profile& a, const Profile& b);

// Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev): every kept event as a complete ("X") event,
// in microseconds, on its thread; forward calls enclose their operators. Each profile is a process of its
// own, named by its configuration.
std::string chromeTrace(const std::vector<Profile>& profiles);
// Atomically; throws twb::Error when no profile kept events, or the file cannot be written.
void writeChromeTrace(const std::string& path, const std::vector<Profile>& profiles);

// This machine's FP32 GEMM peak and copy bandwidth at `threads` (0: LibTorch's current count), from the
// cache when this machine, thread count and LibTorch were measured before. Takes about a second.
MachinePeak machinePeak(int threads, const std::string& cacheDir = {}, bool useCache = true);

} // namespace twb
