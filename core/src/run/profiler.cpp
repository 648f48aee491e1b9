// Profiling with LibTorch's profiler. The Kineto-state API (enableProfiler / disableProfiler) collects
// CPU operator events in every LibTorch 1.13+ build, with or without the Kineto library; its event
// accessors differ (durationNs() from 2.0, durationUs() before), so both are reached through overloads
// that compile where they exist. TorchScript's per-line profile times the fused nodes the operator
// profiler cannot see, and a RecordFunction observer counts FLOPs from real input and output shapes.
#include "profiler.h"

#include "graph_internal.h"
#include "harness.h"
#include "model_access.h"
#include "readers.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/report.h"
#include "twb/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/csrc/jit/runtime/script_profile.h>
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace twb::detail {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- event accessors across releases
// Integers: Unix-epoch nanoseconds (about 1.8e18) are past what a double holds to the nanosecond.
template <typename E> auto startNs(const E& e, int) -> decltype(uint64_t(e.startNs())) {
    return uint64_t(e.startNs());
}
template <typename E> uint64_t startNs(const E& e, long) {
    return uint64_t(e.startUs()) * 1000;
}
template <typename E> auto durationNs(const E& e, int) -> decltype(double(e.durationNs())) {
    return double(e.durationNs());
}
template <typename E> double durationNs(const E& e, long) {
    return double(e.durationUs()) * 1000.0;
}
template <typename E> constexpr auto nanosecondEvents(int) -> decltype(std::declval<E>().durationNs(), true) {
    return true;
}
template <typename E> constexpr bool nanosecondEvents(long) {
    return false;
}

std::string formatShapes(const std::vector<std::vector<int64_t>>& shapes) {
    std::string s = "[";
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        if (i) s += ", ";
        s += "[";
        for (std::size_t d = 0; d < shapes[i].size(); ++d) {
            if (d) s += ", ";
            s += std::to_string(shapes[i][d]);
        }
        s += "]";
    }
    return s + "]";
}

// "conv(Conv2d)::forward" -> name "conv", type "Conv2d"; TOP is the model, SELF a method of the same
// module, and entries without a name are functions.
void moduleOf(const std::vector<std::string>& hierarchy, std::string& path, std::string& type) {
    path.clear();
    type.clear();
    for (const auto& entry : hierarchy) {
        const auto open = entry.find('(');
        const auto close = entry.find(')', open == std::string::npos ? 0 : open);
        if (open == std::string::npos || close == std::string::npos) continue;
        const std::string name = entry.substr(0, open);
        const std::string cls = entry.substr(open + 1, close - open - 1);
        if (name.empty() || name == "SELF") continue;
        if (name == "TOP") {
            type = cls;
            continue;
        }
        path += (path.empty() ? "" : ".") + name;
        type = cls;
    }
}

// "code/__torch__/torch/nn/modules/conv.py(29): _conv_forward" -> "code/…/conv.py:29", "_conv_forward"
void locationOf(const std::string& frame, std::string& location, std::string& function) {
    const auto open = frame.rfind('(');
    const auto close = frame.find("): ", open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) {
        location = frame;
        function.clear();
        return;
    }
    location = frame.substr(0, open) + ":" + frame.substr(open + 1, close - open - 1);
    function = frame.substr(close + 3);
}

// Fused nodes that optimize_for_inference made without a source range (as in traced models) get a
// one-line source of their own, so that TorchScript's per-line profile times them; its file name is the
// location shown.
const char* const kFusedLabel = "fused node #";

bool isFusedLabel(const std::string& file) {
    return file.rfind(kFusedLabel, 0) == 0;
}

std::string locationOf(const torch::jit::SourceRange& range) {
    const auto flc = range.file_line_col();
    if (flc && isFusedLabel(std::get<0>(*flc))) return std::get<0>(*flc);
    return detail::sourceLocation(range);
}

// Nodes that do an operator's work without the operator profiler seeing them: MKLDNN nodes from
// optimize_for_inference, fusion groups from the fusers.
bool looksFused(const std::string& kind) {
    std::string k;
    for (char c : kind)
        k += char(std::tolower(static_cast<unsigned char>(c)));
    if (k.rfind("aten::", 0) == 0 || k == "prim::constantmkldnntensor") return false;
    for (const char* mark : {"mkldnn", "fusion", "tensorexpr", "fused", "subgraph", "group"})
        if (k.find(mark) != std::string::npos) return true;
    return false;
}

void collectFused(const torch::jit::Block* block, std::map<std::string, FusedNode>& out,
                  const std::set<std::string>& reported) {
    for (const torch::jit::Node* n : block->nodes()) {
        const std::string kind = n->kind().toQualString();
        if (looksFused(kind) && !reported.count(kind)) {
            auto& f = out[kind];
            f.kind = kind;
            ++f.perForward;
            f.locations.push_back(locationOf(n->sourceRange()));
            continue; // a fusion group's subgraph is its own business
        }
        for (const torch::jit::Block* b : n->blocks())
            collectFused(b, out, reported);
    }
}

void unlabeledFused(torch::jit::Block* block, std::vector<torch::jit::Node*>& out) {
    for (torch::jit::Node* n : block->nodes()) {
        if (looksFused(n->kind().toQualString()) && !n->sourceRange().file_line_col()) out.push_back(n);
        for (torch::jit::Block* b : n->blocks())
            unlabeledFused(b, out);
    }
}

void labelFusedNodes(torch::jit::Module& module) {
    std::vector<torch::jit::Node*> nodes;
    unlabeledFused(module.get_method("forward").graph()->block(), nodes);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        torch::jit::Node* n = nodes[i];
        std::string name = std::string(kFusedLabel) + std::to_string(i + 1) + " (" + n->kind().toQualString();
        if (n->outputs().size() == 1 && n->output()->hasDebugName())
            name += " → %" + n->output()->debugName();
        name += ")";
        const std::string text = name + "\n";
        auto source = std::make_shared<torch::jit::Source>(text, name, 0);
        n->setSourceRange(torch::jit::SourceRange(source, 0, text.size() - 1));
    }
}

double tensorBytes(const at::Tensor& t) {
    return t.defined() ? double(t.numel()) * double(t.element_size()) : 0;
}

// ---------------------------------------------------------------- the FLOPs observer
// Inputs are only valid in the start callback and outputs only in the end one: each open call keeps
// its input shapes between the two.
struct FlopObserver {
    FlopTable* table = nullptr;
    struct Open {
        bool counting = false;
        std::vector<std::vector<int64_t>> inputs;
        double bytes = 0;
    };
    std::vector<Open> open;
};
thread_local FlopObserver* tlsObserver = nullptr;

bool hasFormula(const std::string& name) {
    return operatorFlops(name, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}, {1, 1, 1}) >= 0;
}

std::unique_ptr<at::ObserverContext> flopStart(const at::RecordFunction& fn) {
    FlopObserver* o = tlsObserver;
    if (!o) return nullptr;
    bool nested = false;
    for (const auto& f : o->open)
        nested = nested || f.counting;
    FlopObserver::Open call;
    call.counting = !nested && hasFormula(fn.name());
    for (const auto& v : fn.inputs()) {
        if (v.isTensor()) {
            call.inputs.push_back(v.toTensor().sizes().vec());
            call.bytes += tensorBytes(v.toTensor());
        } else {
            call.inputs.emplace_back();
        }
    }
    o->open.push_back(std::move(call));
    return nullptr;
}

void flopEnd(const at::RecordFunction& fn, at::ObserverContext*) {
    FlopObserver* o = tlsObserver;
    if (!o || o->open.empty()) return;
    FlopObserver::Open call = std::move(o->open.back());
    o->open.pop_back();
    const bool top = o->open.empty();
    const std::string name = fn.name();
    std::vector<int64_t> output;
    for (const auto& v : fn.outputs()) {
        if (!v.isTensor()) continue;
        if (output.empty()) output = v.toTensor().sizes().vec();
        call.bytes += tensorBytes(v.toTensor());
    }
    const double flops = std::max(0.0, operatorFlops(name, call.inputs, output));
    o->table->perCall[flopKey(name, formatShapes(call.inputs))] = {flops, call.bytes};
    if (call.counting) o->table->modelFlops += flops;
    if (top) o->table->modelBytes += call.bytes;
}

// libkineto writes "USDT: … profiler_start" / "profiler_stop" to stderr on every start and stop, whatever
// KINETO_LOG_LEVEL says; a workbench profiles often. Standard error is parked on /dev/null for just
// those calls (milliseconds).
class QuietStderr {
public:
    QuietStderr() {
        std::fflush(stderr);
        m_saved = dup(2);
        const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (m_saved >= 0 && null >= 0) dup2(null, 2);
        if (null >= 0) close(null);
    }
    ~QuietStderr() {
        std::fflush(stderr);
        if (m_saved >= 0) {
            dup2(m_saved, 2);
            close(m_saved);
        }
    }
    QuietStderr(const QuietStderr&) = delete;
    QuietStderr& operator=(const QuietStderr&) = delete;

private:
    int m_saved = -1;
};

// ---------------------------------------------------------------- the profiled pass
struct Collected {
    std::vector<ProfileEvent> events;
    std::vector<double> wallNs;
    std::set<std::string> names;
    std::shared_ptr<torch::jit::Graph> graph;
};

EventKind kindOf(uint8_t scope, const std::string& name) {
    const auto s = static_cast<at::RecordScope>(scope);
    if (s == at::RecordScope::USER_SCOPE && name.rfind("torchwb::forward#", 0) == 0)
        return EventKind::Forward;
    if (s == at::RecordScope::TORCHSCRIPT_FUNCTION || s == at::RecordScope::USER_SCOPE)
        return EventKind::Function;
    return EventKind::Operator;
}

// One profiled pass of `calls` calls. `describe`: record input shapes, TorchScript stacks and module scope,
// which costs far more than the operators' times (the stack alone tripled the small CNN's forward).
// `stacks`: TorchScript stacks and module scope in the described pass (the capture has crashed LibTorch
// on some models; the plan runner then profiles again without them).
Collected profiledPass(PreparedForward& f, int calls, bool describe, bool stacks, const FlopTable& flops,
                       int passes, int pass) {
    namespace prof = torch::autograd::profiler;
    using torch::profiler::impl::ActivityType;
    using torch::profiler::impl::ProfilerConfig;
    using torch::profiler::impl::ProfilerState;
    Collected c;
    const ProfilerConfig config(ProfilerState::KINETO, /*report_input_shapes=*/describe,
                                /*profile_memory=*/false,
                                /*with_stack=*/describe && stacks, /*with_flops=*/describe,
                                /*with_modules=*/describe && stacks);
    const std::set<ActivityType> activities{ActivityType::CPU};
    std::unique_ptr<prof::ProfilerResult> result;
    f.inMode([&] {
        {
            QuietStderr quiet;
            prof::prepareProfiler(config, activities);
            prof::enableProfiler(config, activities);
        }
        try {
            for (int k = 0; k < calls; ++k) {
                if (f.stopRequested()) break;
                {
                    const std::string name = "torchwb::forward#" + std::to_string(k); // outlives the guard
                    at::RecordFunction guard(at::RecordScope::USER_SCOPE);
                    if (guard.isActive()) guard.before(name, c10::ArrayRef<const c10::IValue>{});
                    c.wallNs.push_back(f.call());
                }
                const double done = double(pass * calls + k + 1) / double(passes * calls);
                if (!f.progress({"profiling", done, k + 1, 0, -1})) break;
            }
        } catch (...) {
            QuietStderr quiet;
            prof::disableProfiler();
            throw;
        }
        QuietStderr quiet;
        result = prof::disableProfiler();
        c.graph = torch::jit::lastExecutedOptimizedGraph();
    });
    if (!result) return c;
    uint64_t origin = UINT64_MAX;
    for (const auto& e : result->events())
        if (e.deviceType() == c10::DeviceType::CPU) origin = std::min(origin, startNs(e, 0));
    for (const auto& e : result->events()) {
        if (e.deviceType() != c10::DeviceType::CPU) continue;
        ProfileEvent p;
        p.name = e.name();
        p.kind = kindOf(e.scope(), p.name);
        p.thread = e.startThreadId();
        p.startNs = double(startNs(e, 0) - origin);
        p.durationNs = durationNs(e, 0);
        if (p.kind == EventKind::Forward) {
            p.call = std::atoi(p.name.c_str() + std::string("torchwb::forward#").size());
            p.name = "forward #" + std::to_string(p.call + 1);
        }
        if (e.hasShapes()) {
            std::vector<std::vector<int64_t>> shapes(e.shapes().begin(), e.shapes().end());
            p.shapes = formatShapes(shapes);
        }
        if (e.hasModuleHierarchy()) {
            std::vector<std::string> h(e.moduleHierarchy().begin(), e.moduleHierarchy().end());
            moduleOf(h, p.module, p.moduleType);
        }
        if (e.hasStack() && !e.stack().empty()) locationOf(e.stack()[0], p.location, p.function);
        if (describe) {
            const auto counted = flops.perCall.find(flopKey(p.name, p.shapes));
            if (counted != flops.perCall.end()) {
                p.flops = counted->second.first;
                p.bytes = counted->second.second;
            } else {
                p.flops = double(e.flops());
            }
        }
        if (p.kind == EventKind::Operator) c.names.insert(p.name);
        c.events.push_back(std::move(p));
    }
    return c;
}

// TorchScript's per-line profile over `calls` more calls: location -> total ns.
std::vector<std::pair<std::string, double>> scriptLines(PreparedForward& f, int calls) {
    auto profile = c10::make_intrusive<torch::jit::ScriptProfile>();
    profile->enable();
    try {
        f.inMode([&] {
            for (int k = 0; k < calls && !f.stopRequested(); ++k)
                f.call();
        });
    } catch (...) {
        profile->disable();
        throw;
    }
    profile->disable();
    std::map<std::string, double> lines;
    for (const auto& [source, lineMap] : profile->dumpStats()) {
        auto& src = const_cast<torch::jit::Source&>(*source.operator->());
        const std::string file = src.filename() ? *src.filename() : std::string();
        if (file.empty()) continue;
        // The keys read as the profiler's stack and file_line_col() print lines (measured on 1.13 and 2.13).
        for (const auto& [line, stats] : lineMap)
            lines[isFusedLabel(file) ? file : file + ":" + std::to_string(line)] +=
                double(std::chrono::duration_cast<std::chrono::nanoseconds>(stats.duration).count());
    }
    return {lines.begin(), lines.end()};
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

std::string flopKey(const std::string& name, const std::string& shapes) {
    return name + "|" + shapes;
}

FlopTable countFlops(const Model& model, const InputBinding& binding, const RunConfig& config) {
    FlopTable table;
    RunConfig c = config;
    c.jit = JitMode::Off;
    c.name = "FLOPs count";
    FlopObserver observer;
    observer.table = &table;
    const AfterMeasure count = [&](PreparedForward& f, RunRecord&) {
        table.modelFlops = 0;
        table.modelBytes = 0;
        table.perCall.clear();
        auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(flopStart, flopEnd)
                                                     .needsInputs(true)
                                                     .needsOutputs(true)
                                                     .scopes({at::RecordScope::FUNCTION}));
        tlsObserver = &observer;
        try {
            f.inMode([&] { f.call(); });
        } catch (...) {
            tlsObserver = nullptr;
            at::removeCallback(handle);
            throw;
        }
        tlsObserver = nullptr;
        at::removeCallback(handle);
        table.ok = true;
    };
    const RunResult r = runConfiguration(model, binding, c, {}, nullptr, false, count);
    if (!r.record.ok) {
        table.ok = false;
        table.error = r.record.error;
        table.modelFlops = table.modelBytes = -1;
    }
    return table;
}

RunResult profileConfiguration(const Model& model, const InputBinding& binding, const RunConfig& config,
                               const ProfileOptions& options, const FlopTable& flops, Profile& profile,
                               const ProgressFn& progress, const std::atomic<bool>* stop) {
    profile = Profile();
    profile.config = config;
    profile.label = config.label();
    profile.error = "not profiled: the run did not finish";
    const int calls = std::max(1, options.calls);
    const AfterMeasure pass = [&](PreparedForward& f, RunRecord& record) {
        // Times from a lean pass; shapes, lines and modules from a second, described one, matched call by
        // call.
        Collected c = profiledPass(f, calls, false, false, flops, 2, 0);
        Collected described;
        if (!f.stopRequested() && int(c.wallNs.size()) == calls)
            described = profiledPass(f, calls, true, options.stacks, flops, 2, 1);
        if (f.stopRequested() || int(c.wallNs.size()) < calls || int(described.wallNs.size()) < calls) {
            profile.error = "the profile was cancelled";
            return;
        }
        const int unmatched = attachDescriptions(c.events, described.events);
        std::map<std::string, FusedNode> fusedByKind;
        if (c.graph) collectFused(c.graph->block(), fusedByKind, c.names);
        std::vector<FusedNode> fused;
        for (auto& [kind, node] : fusedByKind)
            fused.push_back(node);
        std::vector<std::pair<std::string, double>> lines;
        if (options.scriptProfile && !fused.empty()) lines = scriptLines(f, calls);

        Profile p = buildProfile(std::move(c.events), calls, std::move(fused), lines);
        p.config = record.config;
        p.label = record.label;
        p.profiler = std::string("LibTorch's profiler, CPU operator events with ") +
                     (nanosecondEvents<torch::autograd::profiler::KinetoEvent>(0)
                          ? "nanosecond timestamps"
                          : "microsecond timestamps (operators under 1 µs read as 0)") +
                     (buildInfo().libtorch.kineto ? ""
                                                  : "; this LibTorch has no Kineto, so its own collector "
                                                    "records them");
        if (unmatched > 0)
            p.notes.push_back(
                std::to_string(unmatched) + " of " + std::to_string(calls) +
                " calls ran other operators in the described pass: their shapes, lines and modules "
                "are taken from it, their times from the lean one where they match");
        p.unprofiledMedianNs = record.stats.median;
        p.profiledMedianNs = median(c.wallNs);
        p.modelFlops = flops.ok ? flops.modelFlops : -1;
        p.modelBytes = flops.ok ? flops.modelBytes : -1;
        if (!flops.ok && !flops.error.empty()) p.notes.push_back("FLOPs were not counted: " + flops.error);
        if (!options.keepEvents) p.events.clear();
        if (options.measurePeak) {
            try {
                p.peak = machinePeak(record.threadsUsed, options.peakCacheDir);
            } catch (const std::exception& e) {
                p.notes.push_back(std::string("the machine's peak was not measured: ") + e.what());
            }
        }
        if (ModelAccess::package(model)) {
            // No TorchScript frames and no module scope: the rest is the package's own generated code.
            p.notes.erase(std::remove_if(p.notes.begin(), p.notes.end(),
                                         [](const std::string& n) {
                                             return n.find("module scope") != std::string::npos;
                                         }),
                          p.notes.end());
            p.notes.push_back(
                "an AOTInductor package: the C++ kernels it generated (cpp_fused_…) do not report to "
                "the profiler, so their time is the unattributed remainder; the ATen operators it "
                "calls are listed");
        }
        if (record.config.device != "cpu")
            p.notes.push_back("operator times are CPU-side: on CUDA they include launches, not kernel time");
        applyRoofline(p);
        profile = std::move(p);
    };
    // Only optimized copies are labelled: a JIT-off run may share the model's own module.
    AfterPrepare label;
    if (config.jit != JitMode::Off && options.scriptProfile) label = labelFusedNodes;
    RunResult result = runConfiguration(model, binding, config, progress, stop, true, pass, label);
    if (!result.record.ok) {
        profile.ok = false;
        profile.error = result.record.error;
    }
    return result;
}

} // namespace twb::detail

namespace twb {
namespace {

using Clock = std::chrono::steady_clock;

std::string cacheFolder(const std::string& dir) {
    if (!dir.empty()) return dir;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/torch-workbench";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/torch-workbench";
    return {};
}

double bestSeconds(const std::function<void()>& fn, int minReps, double budgetSeconds) {
    double best = 1e30;
    const auto start = Clock::now();
    for (int i = 0; i < 200; ++i) {
        const auto t0 = Clock::now();
        fn();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::min(best, s);
        if (i + 1 >= minReps && std::chrono::duration<double>(Clock::now() - start).count() > budgetSeconds)
            break;
    }
    return best;
}

// An operator by name through the dispatcher, its trailing arguments defaulted from its schema: the
// signatures of these internal operators differ between releases.
c10::IValue callOperator(const char* name, std::vector<c10::IValue> args) {
    const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
    const auto& arguments = op.schema().arguments();
    for (std::size_t i = args.size(); i < arguments.size(); ++i) {
        if (!arguments[i].default_value()) throw Error(std::string(name) + ": an argument without a default");
        args.push_back(*arguments[i].default_value());
    }
    op.callBoxed(&args);
    return args.empty() ? c10::IValue() : args.front();
}

} // namespace

MachinePeak machinePeak(int threads, const std::string& cacheDir, bool useCache) {
    const int previous = at::get_num_threads();
    if (threads > 0 && threads != previous) at::set_num_threads(threads);
    MachinePeak peak;
    peak.threads = at::get_num_threads();
    const EnvironmentInfo env = currentEnvironment();
    peak.fingerprint = "v4 · " + env.cpuModel + " · " + std::to_string(env.hardwareThreads) +
                       " hardware threads · " + std::to_string(peak.threads) + " threads · LibTorch " +
                       env.libtorchVersion + " · " + env.libtorchBuild.blas + " · " +
                       env.libtorchBuild.cpuCapability;
    const std::string folder = cacheFolder(cacheDir);
    const std::string file = folder.empty() ? std::string() : folder + "/machine_peak.json";
    nlohmann::json cache = nlohmann::json::object();
    if (!file.empty()) {
        std::ifstream in(file);
        if (in) {
            try {
                cache = nlohmann::json::parse(in);
            } catch (const std::exception&) {
                cache = nlohmann::json::object(); // a damaged cache is measured again
            }
        }
    }
    if (useCache && cache.is_object() && cache.contains(peak.fingerprint)) {
        const auto& e = cache.at(peak.fingerprint);
        if (e.is_object() && e.value("gflops", 0.0) > 0 && e.value("bandwidth_gbs", 0.0) > 0) {
            peak.gflops = e.value("gflops", 0.0);
            peak.mmGflops = e.value("mm_gflops", 0.0);
            peak.convGflops = e.value("conv_gflops", 0.0);
            peak.source = e.value("source", std::string());
            peak.bandwidthGBs = e.value("bandwidth_gbs", 0.0);
            peak.gemmSize = e.value("gemm_size", 0);
            peak.measured = peak.fromCache = true;
            if (threads > 0 && threads != previous) at::set_num_threads(previous);
            return peak;
        }
    }
    try {
        c10::InferenceMode guard;
        int n = 1024;
        auto gemm = [&](int size) {
            const at::Tensor a = at::randn({size, size}), b = at::randn({size, size});
            at::Tensor out = at::empty({size, size});
            at::mm_out(out, a, b); // warm: the BLAS's own threads and buffers
            return 2.0 * double(size) * size * size / bestSeconds([&] { at::mm_out(out, a, b); }, 3, 0.3);
        };
        double flops = gemm(n);
        if (2.0 * n * n * n / flops < 0.02) { // under 20 ms: a larger matrix reaches the steady rate
            n = 2048;
            flops = std::max(flops, gemm(n));
        }
        peak.mmGflops = flops / 1e9;
        peak.gemmSize = n;
        // Convolutions go through oneDNN where it is built in, whatever the BLAS: a 1×1 one (a matrix
        // product of [3136 × 512] · [512 × 512]) and a 3×3 one, as in resnets.
        for (const int k : {1, 3}) {
            const int c = k == 1 ? 512 : 256;
            const at::Tensor x = at::randn({1, c, 56, 56}), w = at::randn({c, c, k, k});
            (void)at::conv2d(x, w, {}, 1, k / 2);
            const double conv = 2.0 * 56 * 56 * c * c * k * k /
                                bestSeconds([&] { (void)at::conv2d(x, w, {}, 1, k / 2); }, 3, 0.3);
            peak.convGflops = std::max(peak.convGflops, conv / 1e9);
            // In oneDNN's own blocked layout, as optimize_for_inference runs convolutions: no reorders.
            try {
                const c10::IValue pad = std::vector<int64_t>{k / 2, k / 2}, one = std::vector<int64_t>{1, 1};
                const c10::IValue wm =
                    callOperator("aten::mkldnn_reorder_conv2d_weight", {w, pad, one, one, int64_t(1)});
                const at::Tensor xm = x.to_mkldnn();
                auto blocked = [&] {
                    (void)callOperator("aten::mkldnn_convolution",
                                       {xm, wm, c10::IValue(), pad, one, one, int64_t(1)});
                };
                blocked();
                const double rate = 2.0 * 56 * 56 * c * c * k * k / bestSeconds(blocked, 3, 0.3);
                peak.convGflops = std::max(peak.convGflops, rate / 1e9);
            } catch (const std::exception&) {
                // No oneDNN in this LibTorch, or operators of other signatures: the plain convolution stands.
            }
        }
        peak.gflops = std::max(peak.mmGflops, peak.convGflops);
        peak.source = peak.convGflops > peak.mmGflops ? "convolution" : "matrix multiply";
        const int64_t elements = int64_t(32) << 20; // 128 MB each way: well past the caches
        const at::Tensor src = at::rand({elements});
        at::Tensor dst = at::empty({elements});
        dst.copy_(src);
        const double copy = bestSeconds([&] { dst.copy_(src); }, 5, 0.3);
        peak.bandwidthGBs = 2.0 * double(elements) * sizeof(float) / copy / 1e9;
        peak.measured = true;
    } catch (const c10::Error& e) {
        if (threads > 0 && threads != previous) at::set_num_threads(previous);
        throw Error("the GEMM and copy benchmark failed", e.what_without_backtrace());
    }
    if (threads > 0 && threads != previous) at::set_num_threads(previous);
    if (!file.empty()) {
        cache[peak.fingerprint] = {
            {"gflops", peak.gflops}, {"mm_gflops", peak.mmGflops},         {"conv_gflops", peak.convGflops},
            {"source", peak.source}, {"bandwidth_gbs", peak.bandwidthGBs}, {"gemm_size", peak.gemmSize},
            {"time", env.time}};
        try {
            std::error_code ec;
            std::filesystem::create_directories(folder, ec);
            detail::writeFileAtomically(file, cache.dump(1) + "\n");
        } catch (const std::exception&) {
            // An unwritable cache only means measuring again next time.
        }
    }
    return peak;
}

} // namespace twb
