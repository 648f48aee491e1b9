// The worker's side of the protocol: load models into slots, bind the inputs it is sent, and serve
// prepare, round, finish, profile, run and probe requests until the stream ends. Everything that can fail in
// a model answers as an error frame; what kills the process (a signal, an abort) leaves a backtrace on
// stderr for the client to quote.
#include "twb/worker.h"

#include "divergence_internal.h"
#include "harness.h"
#include "load_internal.h"
#include "model_access.h"
#include "profiler.h"
#include "protocol.h"
#include "report_json.h"
#include "sweep_internal.h"
#include "torch_bridge.h"

#include "file_cache.h"
#include "twb/divergence.h"
#include "twb/error.h"
#include "twb/input_spec.h"
#include "twb/operator_library.h"
#include "twb/plan.h"
#include "twb/runtime.h"
#include "twb/sweep.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <execinfo.h>
#include <map>
#include <memory>
#include <optional>

#include <poll.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace twb {
namespace {

using detail::Frame;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// A fatal signal: say which, print the worker's frames, then die of it, so the client sees the signal.
void onFatalSignal(int sig) {
    char line[128];
    const int n = std::snprintf(line, sizeof line, "torchwb worker: caught signal %d (%s); backtrace:\n", sig,
                                strsignal(sig));
    if (n > 0) (void)!::write(2, line, std::size_t(n));
    void* frames[64];
    const int count = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, count, 2);
    std::signal(sig, SIG_DFL);
    ::raise(sig);
}

void installCrashHandlers() {
    // Its own stack, so a stack overflow can still be reported.
    static std::vector<char> altStack(1 << 16);
    stack_t ss{};
    ss.ss_sp = altStack.data();
    ss.ss_size = altStack.size();
    ::sigaltstack(&ss, nullptr);
    void* warm[1];
    ::backtrace(warm, 1); // loads libgcc's unwinder now, not inside the handler
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
        struct sigaction sa{};
        sa.sa_handler = onFatalSignal;
        sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
        ::sigaction(sig, &sa, nullptr);
    }
}

Frame errorFrame(const std::string& message, const std::string& detail = {}) {
    return {{{"type", "error"}, {"message", message}, {"detail", detail}}, {}};
}

ProfileOptions profileOptionsFrom(const ordered_json& j) {
    ProfileOptions o;
    o.calls = j.value("calls", o.calls);
    o.scriptProfile = j.value("script_profile", o.scriptProfile);
    o.keepEvents = j.value("keep_events", o.keepEvents);
    o.measurePeak = j.value("measure_peak", o.measurePeak);
    o.peakCacheDir = j.value("peak_cache_dir", o.peakCacheDir);
    o.stacks = j.value("stacks", o.stacks);
    return o;
}

// One fixed probe of this machine: a 256×256 matrix multiply and a 16 MiB copy on one thread, the
// best of five each, so a baseline and a later run can tell whether the machine itself changed.
ordered_json probe() {
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    c10::InferenceMode guard;
    const at::Tensor a = at::ones({256, 256}), b = at::ones({256, 256});
    const at::Tensor src = at::ones({4 << 20}), dst = at::empty({4 << 20});
    auto best = [](auto&& fn) {
        double out = 1e300;
        for (int i = 0; i < 5; ++i) {
            const auto t0 = Clock::now();
            fn();
            out = std::min(
                out, double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
        }
        return out;
    };
    const double gemm = best([&] { (void)at::mm(a, b); });
    const double copy = best([&] { dst.copy_(src); });
    at::set_num_threads(threads);
    return {{"type", "probe"}, {"gemm_ns", gemm}, {"copy_ns", copy}};
}

// Whether the server is waiting for a request. A client never closes the stream while a request of its
// is being served, unless it is gone (cancelled, killed, or its link dropped), so that is when a worker
// busy with a model stops of itself: over SSH or a launcher nothing else would end it until it next wrote.
std::atomic<bool> g_awaitingRequest{true};

void watchForAGoneClient(int in) {
    std::thread([in] {
        while (true) {
            pollfd p{in, POLLRDHUP, 0};
            const int ready = ::poll(&p, 1, 250);
            if (ready < 0 && errno != EINTR) return;
            if (ready <= 0 || !(p.revents & (POLLHUP | POLLRDHUP | POLLERR))) continue;
            if (g_awaitingRequest) { // its last requests are read first; the end of the stream ends it then
                ::usleep(250000);
                continue;
            }
            static const char line[] = "torchwb worker: the client went away mid-request; stopping\n";
            (void)!::write(2, line, sizeof line - 1);
            ::_exit(4);
        }
    }).detach();
}

class Server {
public:
    Server(int in, int out)
        : m_reader(in)
        , m_out(out) {}

    int serve() {
        ordered_json hello{{"type", "hello"},
                           {"protocol", kWorkerProtocolVersion},
                           {"pid", int(::getpid())},
                           {"environment", detail::environmentToJson(currentEnvironment())}};
        if (!send({hello, {}})) return 1;
        while (true) {
            Frame request;
            try {
                request = receive();
            } catch (const detail::ProtocolError& e) {
                if (std::string(e.what()) == "eof") return 0;
                std::fprintf(stderr, "torchwb worker: %s\n", e.what());
                return 2;
            }
            if (request.type() == "bye") {
                g_awaitingRequest = true; // leaving as asked: the stream's end is expected now
                return 0;
            }
            Frame reply;
            try {
                reply = handle(request);
            } catch (const Error& e) {
                reply = errorFrame(e.what(), e.detail());
            } catch (const c10::Error& e) {
                reply = errorFrame(e.what_without_backtrace());
            } catch (const std::bad_alloc&) {
                reply = errorFrame("out of memory in the worker");
            } catch (const std::exception& e) {
                reply = errorFrame(e.what());
            }
            if (!send(reply)) return 1;
        }
    }

private:
    // A model with its inputs, and the configuration measured on it in rounds.
    struct Slot {
        std::optional<Model> model;
        InputBinding binding;
        std::unique_ptr<detail::RoundRun> run;
    };
    static constexpr int kMaxSlots = 4096;

    bool send(const Frame& f) { return detail::writeFrame(m_out, f); }
    Frame receive() {
        g_awaitingRequest = true;
        Frame f = m_reader.read();
        g_awaitingRequest = false;
        return f;
    }

    // Phase changes as the harness reports them, so a client that loses the worker knows where.
    ProgressFn phases() {
        return [this, last = std::string()](const Progress& p) mutable {
            if (p.phase != last) {
                last = p.phase;
                send({{{"type", "phase"}, {"phase", p.phase}}, {}});
            }
            return true;
        };
    }

    Frame handle(const Frame& request) {
        const std::string type = request.type();
        const ordered_json& h = request.header;
        if (type == "probe") return {probe(), {}};
        if (type == "file") { // a file sent to a target: looked up by its SHA-256, or kept as its pieces come
            const std::string sha = h.value("sha256", std::string()), name = h.value("name", std::string());
            if (!h.contains("size")) {
                const std::string path = detail::cachedFile(sha, name);
                return {{{"type", "file"}, {"present", !path.empty()}, {"path", path}}, {}};
            }
            const uint64_t size = h.value("size", uint64_t(0)), offset = h.value("offset", uint64_t(0));
            if (offset == 0 || !m_upload || m_upload->sha256() != sha)
                m_upload = std::make_unique<detail::Upload>(sha, name, size);
            try {
                m_upload->append(offset, request.payload);
            } catch (...) {
                m_upload.reset();
                throw;
            }
            if (m_upload->received() < size)
                return {{{"type", "file"}, {"present", false}, {"received", m_upload->received()}}, {}};
            const auto upload = std::move(m_upload);
            return {{{"type", "file"}, {"present", true}, {"path", upload->finish()}}, {}};
        }
        if (type == "libraries") { // operator libraries, loaded before any model as the client loaded them
            for (const auto& path : h.value("paths", std::vector<std::string>()))
                loadOperatorLibrary(path);
            return {{{"type", "libraries_loaded"}}, {}};
        }
        // Requests name the slot they are for (0 when they do not): one worker may hold several models
        // and configurations, measured in turns, so that their rounds share the process's state.
        const int slotId = h.value("slot", 0);
        if (slotId < 0 || slotId > kMaxSlots)
            throw Error("the worker was asked for slot " + std::to_string(slotId));
        if (type == "load") return load(m_slots[slotId], h, request.payload);
        auto found = m_slots.find(slotId);
        if (found == m_slots.end() || !found->second.model)
            throw Error("the worker was asked to '" + type + "' before a model was loaded");
        Slot& slot = found->second;
        if (type == "prepare") {
            slot.run.reset();
            slot.run = std::make_unique<detail::RoundRun>(
                *slot.model, slot.binding, RunConfig::parse(h.at("config").get<std::string>()), phases());
            const bool ok = slot.run->begin();
            return {{{"type", "prepared"}, {"ok", ok}, {"record", detail::runToJson(slot.run->record())}},
                    {}};
        }
        if (type == "round") {
            if (!slot.run) throw Error("the worker was asked for a round before 'prepare'");
            const std::size_t before = slot.run->record().samplesNs.size();
            const std::size_t beforeDevice = slot.run->record().deviceNs.size();
            const bool ok = slot.run->round(h.value("seconds", 0.2), h.value("iterations", int64_t(0)));
            const RunRecord& r = slot.run->record();
            ordered_json reply{{"type", "samples"}, {"ok", ok}, {"count", r.samplesNs.size() - before}};
            if (!ok) reply["error"] = r.error, reply["detail"] = r.errorDetail;
            reply["device_ns"] =
                std::vector<double>(r.deviceNs.begin() + long(beforeDevice), r.deviceNs.end());
            return {reply, detail::packDoubles({r.samplesNs.begin() + long(before), r.samplesNs.end()})};
        }
        if (type == "finish") {
            if (!slot.run) throw Error("the worker was asked to finish before 'prepare'");
            RunResult result = slot.run->end();
            slot.run.reset();
            result.record.samplesNs.clear(); // the client has them, round by round
            result.record.deviceNs.clear();
            return finished("finished", result, h.value("output", true));
        }
        if (type == "run") {
            const RunResult result =
                runOnce(*slot.model, slot.binding, RunConfig::parse(h.at("config").get<std::string>()));
            return finished("ran", result, true);
        }
        if (type == "profile") return profile(slot, h);
        if (type == "diverge") return diverge(slot, h);
        if (type == "record") return record(slot, h);
        if (type == "sweep") return sweep(slot, h);
        if (type == "serve") return serve(slot, h);
        throw Error("the worker does not know the request '" + type + "'");
    }

    Frame finished(const char* type, const RunResult& result, bool withOutput) {
        Frame f{{{"type", type}, {"record", detail::runToJson(result.record)}}, {}};
        if (withOutput && result.record.ok && !result.output.isNone()) {
            try {
                f.payload = detail::valueToBytes(result.output);
            } catch (const Error& e) {
                f.header["output_error"] = e.what(); // the leaves' summaries still travel in the record
            }
        }
        return f;
    }

    Frame load(Slot& slot, const ordered_json& h, const std::string& payload) {
        slot.run.reset();
        slot.model.reset();
        Model model = Model::load(h.at("model").get<std::string>());
        const auto arguments = h.value("arguments", std::vector<std::string>());
        const auto stateDicts = h.value("state_dicts", ordered_json::array());
        std::vector<ProvidedInput> provided;
        if (!payload.empty()) {
            const Value values = detail::valueFromBytes(payload, "the inputs sent to the worker");
            if (values.size() != arguments.size() + stateDicts.size())
                throw Error("the worker was sent " + std::to_string(values.size()) + " values for " +
                            std::to_string(arguments.size()) + " inputs and " +
                            std::to_string(stateDicts.size()) + " state_dicts");
            for (std::size_t i = 0; i < stateDicts.size(); ++i) {
                const auto& sd = stateDicts[i];
                const StateDictReport r =
                    model.loadStateDict(values.at(arguments.size() + i), sd.value("strict", true),
                                        sd.value("strip_prefix", std::string()));
                if (!r.applied)
                    throw Error("the worker could not load the state_dict again: " + r.describe());
            }
            for (std::size_t i = 0; i < arguments.size(); ++i)
                provided.push_back(
                    {arguments[i], values.at(i),
                     arguments[i].empty() ? "input " + std::to_string(i + 1) : "input " + arguments[i]});
        }
        slot.model = model;
        slot.binding = slot.model->bindInputs(provided);
        // A sweep binds its own inputs (it resizes them): a load without arguments binds nothing here.
        if (!slot.binding.ok && !arguments.empty())
            throw Error("the worker could not bind the inputs it was sent: " + slot.binding.error);
        return {{{"type", "loaded"}}, {}};
    }

    Frame profile(Slot& slot, const ordered_json& h) {
        slot.run.reset();
        const RunConfig config = RunConfig::parse(h.at("config").get<std::string>());
        const ProfileOptions options = profileOptionsFrom(h.value("options", ordered_json::object()));
        send({{{"type", "phase"}, {"phase", "counting FLOPs"}}, {}});
        // FLOPs are counted under the plan's first configuration, so that no JIT mode changes them.
        const std::string flopsSpec = h.value("flops_config", std::string());
        const detail::FlopTable flops = detail::countFlops(
            *slot.model, slot.binding, flopsSpec.empty() ? config : RunConfig::parse(flopsSpec));
        Profile profile;
        const RunResult result = detail::profileConfiguration(*slot.model, slot.binding, config, options,
                                                              flops, profile, phases(), nullptr);
        Frame f = finished("profiled", result, true);
        f.header["profile"] = detail::profileToJson(profile);
        if (options.keepEvents) f.header["events"] = detail::eventsToJson(profile.events);
        return f;
    }

    // Two configurations with every intermediate tensor recorded and compared here; the report goes back.
    Frame diverge(Slot& slot, const ordered_json& h) {
        slot.run.reset();
        DivergeOptions options;
        options.tolerance.atol = h.value("atol", 1e-5);
        options.tolerance.rtol = h.value("rtol", 1e-5);
        options.toleranceGiven = h.value("tolerance_given", false);
        options.top = h.value("top", 5);
        const DivergenceReport r =
            twb::diverge(*slot.model, {}, slot.binding, RunConfig::parse(h.at("a").get<std::string>()),
                         RunConfig::parse(h.at("b").get<std::string>()), options, phases());
        return {{{"type", "diverged"}, {"report", ordered_json::parse(divergenceToJson(r, -1))}}, {}};
    }

    // One side of a divergence across workers: the graph, then each tensor as it is computed, each
    // answered by the client before the model goes on, so that one tensor at a time is on its way.
    Frame record(Slot& slot, const ordered_json& h) {
        slot.run.reset();
        std::atomic<bool> unused{false}; // the client reads a record to its end
        const auto exchange = streamTo("record", unused);
        const RunResult result = detail::recordConfiguration(
            *slot.model, slot.binding, RunConfig::parse(h.at("config").get<std::string>()), phases(), nullptr,
            [&](const ModelGraph& graph, const std::vector<int>& values) {
                exchange(
                    {{{"type", "record_graph"}, {"graph", detail::graphToJson(graph)}, {"values", values}},
                     {}});
            },
            [&](int value, const at::Tensor& tensor, const std::string& dtype) {
                exchange({{{"type", "record_tensor"}, {"value", value}, {"dtype", dtype}},
                          detail::valueToBytes(detail::wrap(tensor))});
            });
        return finished("recorded", result, true);
    }

    // A streamed answer's frames ("NAME_…") go out as they come, each answered by the client before the
    // worker goes on: "NAME_next", or "NAME_stop", which sets `stop`.
    std::function<void(const Frame&)> streamTo(const std::string& name, std::atomic<bool>& stop) {
        return [this, name, &stop](const Frame& f) {
            if (!send(f)) throw Error("the client went away");
            const Frame reply = receive();
            if (reply.type() == name + "_stop")
                stop = true;
            else if (reply.type() != name + "_next")
                throw Error("a " + name + " was answered with '" + reply.type() + "'");
        };
    }

    Frame sweep(Slot& slot, const ordered_json& h) {
        slot.run.reset();
        std::vector<InputSpec> inputs;
        ReadOptions read;
        SweepOptions options;
        detail::sweepRequestFrom(h, inputs, read, options);
        std::atomic<bool> stop{false};
        const auto exchange = streamTo("sweep", stop);
        auto lastProgress = Clock::now() - std::chrono::seconds(1);
        SweepCallbacks callbacks;
        callbacks.progress = [&](const SweepProgress& p) {
            if (Clock::now() - lastProgress < std::chrono::milliseconds(100)) return !stop.load();
            lastProgress = Clock::now();
            exchange({{{"type", "sweep_progress"},
                       {"point", p.point},
                       {"points", p.points},
                       {"round", p.round},
                       {"label", p.label},
                       {"elapsed", p.elapsedSeconds},
                       {"remaining", p.remainingSeconds},
                       {"fraction", p.fraction}},
                      {}});
            return !stop.load();
        };
        callbacks.pointFinished = [&](const SweepPoint& p) {
            SweepResult one;
            one.points = {p};
            exchange({{{"type", "sweep_point"}, {"sweep", detail::sweepToJson(one)}}, {}});
        };
        const SweepResult result =
            detail::sweepInProcess(*slot.model, inputs, read, options, callbacks, &stop);
        return {{{"type", "swept"}, {"sweep", detail::sweepToJson(result)}}, {}};
    }

    // Latency under load: the request carries the sweep's input specs and reading options, and the load
    // options; progress and each finished point stream as a sweep's do.
    Frame serve(Slot& slot, const ordered_json& h) {
        slot.run.reset();
        std::vector<InputSpec> inputs;
        ReadOptions read;
        SweepOptions unused;
        detail::sweepRequestFrom(h, inputs, read, unused);
        const LoadOptions options = detail::loadOptionsFromJson(h.at("options"));
        std::atomic<bool> stop{false};
        const auto exchange = streamTo("serve", stop);
        LoadCallbacks callbacks;
        callbacks.progress = [&](const LoadProgress& p) {
            exchange({{{"type", "serve_progress"},
                       {"point", p.point},
                       {"points", p.points},
                       {"qps", p.offeredQps},
                       {"phase", p.phase},
                       {"elapsed", p.elapsedSeconds},
                       {"fraction", p.fraction}},
                      {}});
            return !stop.load();
        };
        callbacks.pointFinished = [&](const LoadPoint& p) {
            LoadResult one;
            one.curve = {p};
            exchange({{{"type", "serve_point"}, {"load", detail::loadToJson(one)}}, {}});
        };
        const LoadResult result = detail::loadInProcess(*slot.model, inputs, read, options, callbacks, &stop);
        return {{{"type", "served"}, {"load", detail::loadToJson(result)}}, {}};
    }

    detail::FrameReader m_reader;
    int m_out;
    std::map<int, Slot> m_slots;
    std::unique_ptr<detail::Upload> m_upload; // a file arriving in pieces
};

} // namespace

int serveWorker(int inFd, int outFd, int64_t memoryLimitBytes) {
    if (memoryLimitBytes > 0) {
        const rlimit limit{rlim_t(memoryLimitBytes), rlim_t(memoryLimitBytes)};
        if (::setrlimit(RLIMIT_AS, &limit) != 0)
            std::fprintf(stderr, "torchwb worker: cannot limit memory to %lld bytes: %s\n",
                         static_cast<long long>(memoryLimitBytes), std::strerror(errno));
    }
    // TorchScript's print() and libraries write to stdout: send them to stderr, and keep the protocol
    // on a descriptor of its own.
    if (outFd == 1) {
        outFd = ::dup(1);
        ::dup2(2, 1);
    }
    installCrashHandlers();
    watchForAGoneClient(inFd);
    return Server(inFd, outFd).serve();
}

} // namespace twb
