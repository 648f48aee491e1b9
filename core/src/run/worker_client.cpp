#include "worker_client.h"

#include "twb/hashing.h"
#include "twb/input_spec.h"
#include "twb/operator_library.h"

#include "model_access.h"
#include "readers.h"
#include "report_json.h"

#include "twb/value.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace twb {
namespace detail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kStderrKeep = 64 * 1024;
constexpr int kStderrTailLines = 25;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string secondsText(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", s);
    return buf;
}

} // namespace

namespace {
// byName: bound to the same forward, by its argument names; else (another model) by position.
Frame loadFrameOf(const std::string& path, const InputBinding* binding,
                  const std::vector<ModelAccess::StateDictLoad>& loads, bool byName) {
    std::vector<Value> values;
    std::vector<std::string> arguments;
    if (binding)
        for (const auto& a : binding->arguments) {
            arguments.push_back(byName ? a.argument : std::string());
            values.push_back(a.value);
        }
    nlohmann::ordered_json stateDicts = nlohmann::ordered_json::array();
    for (const auto& load : loads) {
        values.push_back(load.stateDict);
        stateDicts.push_back({{"strict", load.strict}, {"strip_prefix", load.stripPrefix}});
    }
    Frame f{{{"type", "load"}, {"model", path}, {"arguments", arguments}, {"state_dicts", stateDicts}}, {}};
    if (!values.empty()) f.payload = valueToBytes(makeList(values));
    return f;
}
} // namespace

Frame loadFrame(const Model& model, const InputBinding* binding) {
    return loadFrameOf(model.info().path, binding, ModelAccess::stateDictLoads(model), true);
}

Frame loadFrame(const std::string& modelFile, const InputBinding* binding) {
    return loadFrameOf(modelFile, binding, {}, false);
}

std::string signalName(int signal) {
    const char* name = strsignal(signal);
    return name ? name : "signal " + std::to_string(signal);
}

WorkerProcess::WorkerProcess(const WorkerOptions& options)
    : m_options(options) {
    std::vector<std::string> argv = options.command.empty() ? defaultWorkerCommand() : options.command;
    if (argv.empty()) throw WorkerFailure("no worker command", "start", 0, 0, {}, {});
    if (options.memoryLimitBytes > 0) {
        argv.push_back("--memory-limit");
        argv.push_back(std::to_string(options.memoryLimitBytes));
    }
    m_program = argv[0];
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw WorkerFailure(std::string("cannot make pipes for a worker: ") + std::strerror(errno), "start",
                            0, 0, {}, {});
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a cancel can end whatever it started; default signal handling.
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = m_program.find('/') == std::string::npos
                       ? ::posix_spawnp(&m_pid, m_program.c_str(), &actions, &attr, args.data(), environ)
                       : ::posix_spawn(&m_pid, m_program.c_str(), &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    m_in = in[1];
    m_out = out[0];
    m_err = err[0];
    if (rc != 0) {
        m_pid = -1;
        ::close(m_in), ::close(m_out), ::close(m_err);
        m_in = m_out = m_err = -1;
        throw WorkerFailure("cannot start the worker " + m_program + ": " + std::strerror(rc), "start", 0, 0,
                            {}, "install torchwb, or point TWB_WORKER at its executable");
    }
    ::fcntl(m_err, F_SETFL, ::fcntl(m_err, F_GETFL) | O_NONBLOCK);
    m_reader = std::make_unique<FrameReader>(m_out);
}

WorkerProcess::~WorkerProcess() {
    if (m_pid > 0 && !m_reaped) {
        kill();
        reap(5);
    }
    for (int fd : {m_in, m_out, m_err})
        if (fd >= 0) ::close(fd);
}

void WorkerProcess::drainStderr() {
    if (m_err < 0) return;
    char chunk[8192];
    while (true) {
        const ssize_t n = ::read(m_err, chunk, sizeof chunk);
        if (n <= 0) break;
        m_stderr.append(chunk, std::size_t(n));
    }
    if (m_stderr.size() > 2 * kStderrKeep) m_stderr.erase(0, m_stderr.size() - kStderrKeep);
}

std::string WorkerProcess::stderrTail() const {
    std::string text =
        m_stderr.size() > kStderrKeep ? m_stderr.substr(m_stderr.size() - kStderrKeep) : m_stderr;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::size_t at = text.size();
    for (int lines = 0; lines < kStderrTailLines && at != std::string::npos && at > 0; ++lines)
        at = text.rfind('\n', at - 1);
    return at == std::string::npos || at == 0 ? text : text.substr(at + 1);
}

void WorkerProcess::kill() {
    if (m_pid > 0 && !m_reaped) {
        ::kill(-m_pid, SIGKILL); // its process group: what it started goes too
        ::kill(m_pid, SIGKILL);
    }
}

bool WorkerProcess::reap(double seconds) {
    if (m_pid <= 0 || m_reaped) return true;
    const auto start = Clock::now();
    while (true) {
        const pid_t r = ::waitpid(m_pid, &m_status, WNOHANG);
        if (r == m_pid || (r < 0 && errno == ECHILD)) {
            m_reaped = true;
            drainStderr();
            return true;
        }
        if (since(start) >= seconds) return false;
        drainStderr();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void WorkerProcess::fail(const std::string& why, const std::string& fix) {
    kill();
    reap(5);
    throw WorkerFailure(why, m_phase, 0, 0, stderrTail(), fix);
}

void WorkerProcess::failExited() {
    // The stream ended: the worker is exiting or has exited. Wait for it briefly, then make sure.
    if (!reap(5)) {
        kill();
        reap(5);
    }
    const std::string during = " during " + m_phase;
    if (WIFSIGNALED(m_status)) {
        const int sig = WTERMSIG(m_status);
        std::string fix;
        std::string message =
            "the worker was killed by signal " + std::to_string(sig) + " (" + signalName(sig) + ")" + during;
        if (sig == SIGKILL) {
            message += ": most often the kernel's out-of-memory killer, or a limit of the launcher's";
            fix = "lower the batch size or free memory; with a memory limit (--memory-limit) an allocation "
                  "beyond it "
                  "is an error instead";
        } else if (sig == SIGILL) {
            fix = "code built for instructions this CPU lacks (a package or operator library compiled for "
                  "AVX-512 or AMX, run on a CPU without them): compile it for this machine, or for AVX2; the "
                  "backtrace below names the library";
        } else if (sig == SIGSEGV || sig == SIGBUS) {
            fix = "a crash inside LibTorch or the model's operators: try another JIT mode or LibTorch build; "
                  "the backtrace below names the frames";
        } else if (sig == SIGABRT) {
            fix = "LibTorch or a library aborted: its message is in the worker's output below";
        }
        throw WorkerFailure(message, m_phase, sig, 0, stderrTail(), fix);
    }
    const int code = WIFEXITED(m_status) ? WEXITSTATUS(m_status) : -1;
    const std::string tail = stderrTail();
    const auto said = [&](const char* s) { return tail.find(s) != std::string::npos; };
    std::string message = "the worker exited with status " + std::to_string(code) + during;
    std::string fix = code == 127 ? "the worker command was not found: install torchwb" : "";
    const std::string target = m_options.targetName;
    if (m_options.targetKind == "ssh" && code == 255 && m_phase == "handshake") {
        // ssh's own failures: it exits 255 and says why on stderr.
        if (said("Permission denied") || said("Too many authentication failures") || said("no matching")) {
            message = "authentication to " + target + " failed";
            fix = "ssh -o BatchMode=yes " + target +
                  " true must work without a password: load a key into your "
                  "agent (ssh-add) or name one in ~/.ssh/config; no password is ever asked";
        } else if (said("Host key verification failed") || said("REMOTE HOST IDENTIFICATION HAS CHANGED")) {
            message = target + "'s host key is not known, or has changed";
            fix = "connect once with ssh " + target + " to check and accept its key (known_hosts)";
        } else {
            message = target + " is unreachable";
            fix = "check the host name, the port and the network (ssh -v " + target + " says where it stops)";
        }
    } else if (m_options.targetKind == "ssh" && code == 255) {
        message = "the connection to " + target + " was lost during " + m_phase;
        fix = "what was measured before is kept; check the link, and run again";
    } else if (!target.empty() && m_phase == "handshake" &&
               (code == 127 || said("command not found") || said("not found"))) {
        message = "torchwb is not on " + target + "'s PATH, or not where the target says";
        fix = "install torchwb on " + target +
              " (packaging/install-deps.sh build, then cmake --install), or give "
              "its path: ssh://HOST/path/to/torchwb";
    }
    throw WorkerFailure(message, m_phase, 0, code, tail, fix);
}

void WorkerProcess::cancelled() {
    // A worker that has not stopped within the grace period is killed.
    ::kill(m_pid, SIGTERM);
    if (!reap(m_options.cancelGraceSeconds)) kill();
    reap(5);
    throw WorkerFailure("cancelled during " + m_phase, m_phase, 0, 0, stderrTail(), {}, true);
}

Frame WorkerProcess::read(double timeoutSeconds, const std::function<bool()>& keepGoing) {
    const auto start = Clock::now();
    try {
        return m_reader->read([&] {
            drainStderr();
            if (keepGoing && !keepGoing()) cancelled();
            if (timeoutSeconds > 0 && since(start) > timeoutSeconds)
                fail("the worker gave no answer within " + secondsText(timeoutSeconds) + " during " +
                         m_phase + " and was stopped",
                     "a model that needs longer: raise the limit (--timeout SECONDS); code that loops "
                     "forever will "
                     "never answer");
        });
    } catch (const ProtocolError& e) {
        if (std::string(e.what()) == "eof") failExited();
        fail(std::string("the worker broke the protocol during ") + m_phase + ": " + e.what(),
             m_program + " is not a torchwb worker, or something in it wrote to the protocol's stream");
    }
}

WorkerHello WorkerProcess::hello(const std::function<bool()>& keepGoing) {
    if (m_hello) return *m_hello;
    m_phase = "handshake";
    const Frame f = read(m_options.firstCallTimeoutSeconds, keepGoing);
    if (f.type() != "hello") fail("the worker did not introduce itself: it sent '" + f.type() + "' first");
    WorkerHello h;
    h.protocol = f.header.value("protocol", 0);
    if (h.protocol != kWorkerProtocolVersion)
        fail((m_options.targetName.empty() ? "the worker " + m_program
                                           : "the target " + m_options.targetName + "'s torchwb") +
                 " speaks protocol " + std::to_string(h.protocol) + "; this torchwb needs " +
                 std::to_string(kWorkerProtocolVersion),
             std::string("install torchwb " TWB_VERSION " on ") +
                 (m_options.targetName.empty() ? std::string("both sides") : m_options.targetName) +
                 " (packaging/install-deps.sh build, then cmake --install), or point the target at it "
                 "(ssh://HOST/path/to/torchwb, local:/path/to/torchwb)");
    try {
        if (f.header.contains("environment")) h.environment = environmentFromJson(f.header.at("environment"));
    } catch (const std::exception& e) {
        fail(std::string("the worker's hello could not be read: ") + e.what());
    }
    std::vector<std::string> libraries = m_options.operatorLibraries;
    if (libraries.empty()) libraries = loadedOperatorLibraries();
    if (!libraries.empty()) {
        const Frame answer = request({{{"type", "libraries"}, {"paths", libraries}}, {}}, "load",
                                     m_options.firstCallTimeoutSeconds, keepGoing);
        if (answer.type() == "error")
            fail(answer.header.value("message",
                                     std::string("the worker could not load the operator libraries")),
                 "give --load-library a library built for the worker's LibTorch");
    }
    m_hello = h;
    return h;
}

std::string WorkerProcess::sendFile(const std::string& path, double timeoutSeconds,
                                    const std::function<bool()>& keepGoing) {
    if (const auto it = m_sent.find(path); it != m_sent.end()) return it->second;
    const std::string sha = fileSha256(path);
    const std::string name =
        path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    // Asked first, so that a file the target already holds is not sent again.
    Frame answer = exchange({{{"type", "file"}, {"sha256", sha}, {"name", name}}, {}}, "sending " + name,
                            timeoutSeconds, keepGoing);
    if (answer.type() == "file" && !answer.header.value("present", false)) {
        // In pieces, so that a large file shows its progress, can be cancelled, and is never held whole
        // on either side.
        constexpr uint64_t kPiece = uint64_t(8) << 20;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail("cannot read " + path + ": " + std::strerror(errno));
        struct stat st{};
        ::fstat(fd, &st);
        const uint64_t size = uint64_t(st.st_size);
        uint64_t offset = 0;
        std::string piece;
        try {
            do {
                piece.resize(std::size_t(std::min(kPiece, size - offset)));
                std::size_t got = 0;
                while (got < piece.size()) {
                    const ssize_t n =
                        ::pread(fd, piece.data() + got, piece.size() - got, off_t(offset + got));
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0)
                        fail("cannot read " + path + ": " +
                             (n < 0 ? std::strerror(errno) : "it got shorter"));
                    got += std::size_t(n);
                }
                m_sending = {name, offset, size};
                if (keepGoing && !keepGoing()) cancelled(); // each piece shows, and may be the last
                answer = exchange(
                    {{{"type", "file"}, {"sha256", sha}, {"name", name}, {"size", size}, {"offset", offset}},
                     piece},
                    "sending " + name, timeoutSeconds, keepGoing);
                offset += piece.size();
            } while (answer.type() == "file" && !answer.header.value("present", false) && offset < size);
        } catch (...) {
            ::close(fd);
            m_sending = {};
            throw;
        }
        ::close(fd);
        m_sending = {};
    }
    if (answer.type() == "error")
        fail(where() + "could not take " + path + ": " + answer.header.value("message", std::string()),
             answer.header.value("detail", std::string()));
    const std::string there = answer.header.value("path", std::string());
    if (there.empty()) fail(where() + "did not keep " + path);
    m_sent[path] = there;
    return there;
}

std::string WorkerProcess::transfer() const {
    if (m_sending.name.empty()) return {};
    const auto mb = [](uint64_t b) { return std::to_string((b + (1u << 19)) >> 20); };
    return "sending " + m_sending.name + " to " +
           (m_options.targetName.empty() ? std::string("the worker") : m_options.targetName) + ": " +
           mb(m_sending.sent) + " of " + mb(m_sending.size) + " MB";
}

std::string WorkerProcess::where() const {
    return m_options.targetName.empty() ? "the worker " : "the target " + m_options.targetName + " ";
}

Frame WorkerProcess::request(const Frame& request, const std::string& phase, double timeoutSeconds,
                             const std::function<bool()>& keepGoing) {
    if (!m_options.sendFiles) return exchange(request, phase, timeoutSeconds, keepGoing);
    // The target's files are not ours: the model (and operator libraries) go over the channel first.
    Frame sent = request;
    if (sent.type() == "load" && sent.header.contains("model"))
        sent.header["model"] = sendFile(sent.header["model"].get<std::string>(), timeoutSeconds, keepGoing);
    if (sent.type() == "libraries")
        for (auto& p : sent.header["paths"])
            p = sendFile(p.get<std::string>(), timeoutSeconds, keepGoing);
    if (sent.type() == "sweep" || sent.type() == "serve") // these read their input files themselves
        for (auto& text : sent.header["inputs"]) {
            InputSpec spec = InputSpec::parse(text.get<std::string>());
            if (spec.isGenerated()) continue;
            spec.file = sendFile(spec.file, timeoutSeconds, keepGoing);
            text = spec.toString();
        }
    return exchange(sent, phase, timeoutSeconds, keepGoing);
}

Frame WorkerProcess::exchange(const Frame& request, const std::string& phase, double timeoutSeconds,
                              const std::function<bool()>& keepGoing) {
    m_phase = phase;
    if (!writeFrame(m_in, request)) failExited();
    while (true) {
        Frame f = read(timeoutSeconds, keepGoing);
        if (f.type() == "phase") {
            m_phase = f.header.value("phase", m_phase);
            continue;
        }
        return f;
    }
}

void WorkerProcess::close() {
    if (m_pid <= 0 || m_reaped) return;
    writeFrame(m_in, {{{"type", "bye"}}, {}});
    ::close(m_in);
    m_in = -1;
    if (!reap(m_options.cancelGraceSeconds + 1)) {
        kill();
        reap(5);
    }
}

StreamedRequest::StreamedRequest(const std::atomic<bool>* stop, double graceSeconds)
    : m_stop(stop)
    , m_grace(graceSeconds) {}

bool StreamedRequest::going() const {
    return !m_cancelled && !(m_stop && m_stop->load());
}

std::function<bool()> StreamedRequest::keepGoing() {
    return [this] { return going(); };
}

bool StreamedRequest::patient() {
    if (going()) return true;
    if (!m_stopSince) m_stopSince = std::chrono::steady_clock::now();
    return std::chrono::steady_clock::now() - *m_stopSince < std::chrono::duration<double>(m_grace + 1);
}

Frame StreamedRequest::inWorker(const WorkerOptions& options, const Model& model, const Frame& request,
                                const std::string& phase, double timeoutSeconds, const std::string& name,
                                const std::function<bool(const Frame&)>& onFrame, const std::string& failed) {
    WorkerProcess worker(options);
    worker.hello(keepGoing());
    const Frame loaded =
        worker.request(loadFrame(model, nullptr), "load", options.firstCallTimeoutSeconds, keepGoing());
    if (loaded.type() == "error")
        throw Error(loaded.header.value("message", std::string("the model did not load")));
    const Frame f = run(worker, request, phase, timeoutSeconds, name, onFrame);
    worker.close();
    if (f.type() == "error") throw Error(f.header.value("message", failed));
    return f;
}

Frame StreamedRequest::run(WorkerProcess& worker, const Frame& request, const std::string& phase,
                           double timeoutSeconds, const std::string& name,
                           const std::function<bool(const Frame&)>& onFrame) {
    auto patiently = [this] { return patient(); };
    Frame f = worker.request(request, phase, timeoutSeconds, patiently);
    const std::string streamed = name + "_";
    while (f.type().rfind(streamed, 0) == 0) {
        if (!onFrame(f)) m_cancelled = true;
        // A cancel asks the worker to stop between calls; it answers with what it has. One that does not
        // answer within the grace period is ended, and the frames it sent are kept by the caller.
        const bool go = going();
        if (!go && !m_stopSince) m_stopSince = std::chrono::steady_clock::now();
        f = worker.request({{{"type", streamed + (go ? "next" : "stop")}}, {}}, phase, timeoutSeconds,
                           patiently);
    }
    return f;
}

} // namespace detail

std::vector<std::string> defaultWorkerCommand() {
    if (const char* env = std::getenv("TWB_WORKER"); env && *env) return {env, "worker"};
    char self[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string looked;
    if (n > 0) {
        std::string dir(self, std::size_t(n));
        dir = dir.substr(0, dir.rfind('/'));
        const std::string beside = dir + "/torchwb";
        if (::access(beside.c_str(), X_OK) == 0) return {beside, "worker"};
        looked = beside + ", ";
    }
    if (const char* path = std::getenv("PATH")) {
        std::string p = path;
        std::size_t start = 0;
        while (start <= p.size()) {
            const std::size_t end = std::min(p.find(':', start), p.size());
            const std::string candidate = (end > start ? p.substr(start, end - start) : ".") + "/torchwb";
            struct stat st{};
            if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                ::access(candidate.c_str(), X_OK) == 0)
                return {candidate, "worker"};
            start = end + 1;
        }
    }
    throw Error("no torchwb to run models in: looked at $TWB_WORKER, " + looked + "and the PATH",
                "install torchwb beside this program, or set TWB_WORKER to its path");
}

WorkerHello checkWorker(const WorkerOptions& options) {
    detail::WorkerProcess worker(options);
    const WorkerHello hello = worker.hello();
    worker.close();
    return hello;
}

} // namespace twb
