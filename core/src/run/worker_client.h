// Internal: the client's side of a worker process. Starts it from an argument vector (posix_spawn,
// never a shell), sends requests, and turns every way a worker can fail (a signal, an exit, a hang past
// its deadline, bytes that are not the protocol, another protocol version) into a WorkerFailure that
// says which phase, which signal or status, and the last lines the worker wrote on stderr.
#pragma once

#include "protocol.h"

#include "twb/error.h"
#include "twb/model.h"
#include "twb/worker.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace twb::detail {

struct WorkerFailure : Error {
    WorkerFailure(const std::string& message, std::string phase_, int signal_, int exitCode_,
                  std::string stderrTail_, std::string fix_, bool cancelled_ = false)
        : Error(message)
        , phase(std::move(phase_))
        , signal(signal_)
        , exitCode(exitCode_)
        , stderrTail(std::move(stderrTail_))
        , fix(std::move(fix_))
        , cancelled(cancelled_) {}
    std::string phase;
    int signal = 0, exitCode = 0;
    std::string stderrTail, fix;
    bool cancelled = false;
};

class WorkerProcess {
public:
    // Starts the worker; throws WorkerFailure (phase "start") when it cannot be started.
    explicit WorkerProcess(const WorkerOptions& options);
    ~WorkerProcess(); // a worker still running is killed
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    // Reads and checks the hello (once: later calls return it). `keepGoing` is asked about every 100 ms;
    // false cancels.
    WorkerHello hello(const std::function<bool()>& keepGoing = {});

    // Sends a request and returns its answer (which may be an "error" frame: the worker is still fine).
    // Phase frames the worker sends meanwhile update phase(). Throws WorkerFailure when the worker
    // dies, hangs past `timeoutSeconds`, breaks the protocol, or `keepGoing` returns false.
    Frame request(const Frame& request, const std::string& phase, double timeoutSeconds,
                  const std::function<bool()>& keepGoing = {});

    // Says goodbye and waits for it to exit (killing it after the grace period).
    void close();
    const std::string& phase() const { return m_phase; }
    // While a file is being sent to the target: "sending model.pt to HOST: 12 of 80 MB"; else "".
    std::string transfer() const;
    pid_t pid() const { return m_pid; }

private:
    Frame read(double timeoutSeconds, const std::function<bool()>& keepGoing);
    // One request and its answer, as it is.
    Frame exchange(const Frame& request, const std::string& phase, double timeoutSeconds,
                   const std::function<bool()>& keepGoing);
    // The path the target knows a file of ours by, sent first when it does not hold it (by SHA-256).
    std::string sendFile(const std::string& path, double timeoutSeconds,
                         const std::function<bool()>& keepGoing);
    std::string where() const; // "the worker " or "the target HOST ", to begin messages
    [[noreturn]] void fail(const std::string& why, const std::string& fix = {});
    [[noreturn]] void failExited();
    [[noreturn]] void cancelled(); // stops the worker (killed after the grace period) and says so
    void drainStderr();
    std::string stderrTail() const;
    void kill();
    bool reap(double seconds); // true when the process has been waited for

    WorkerOptions m_options;
    std::string m_program;
    pid_t m_pid = -1;
    int m_in = -1, m_out = -1, m_err = -1;
    bool m_reaped = false;
    int m_status = 0;
    std::string m_stderr;
    std::string m_phase = "start";
    std::unique_ptr<FrameReader> m_reader;
    std::optional<WorkerHello> m_hello;
    std::map<std::string, std::string> m_sent; // our file → the target's copy
    struct Sending {
        std::string name;
        uint64_t sent = 0, size = 0;
    };
    Sending m_sending; // the file being sent, if any
};

// The request that loads a model into a worker: its file, the bound inputs (when given) and, for a Model,
// the state_dicts loaded into it, so that the worker runs what the caller bound, whatever produced it.
Frame loadFrame(const Model& model, const InputBinding* binding);
Frame loadFrame(const std::string& modelFile, const InputBinding* binding);

// A request whose answer streams (a sweep, a load run): the worker sends frames named "NAME_…" as it goes,
// each answered "NAME_next" while the caller goes on, or "NAME_stop" once it cancels; the first frame of
// another type is the answer. A worker that has not answered a stop within the grace period (and a
// second) is ended: WorkerFailure, cancelled.
class StreamedRequest {
public:
    StreamedRequest(const std::atomic<bool>* stop, double graceSeconds);
    // For the requests before it (hello, load): false once cancelled.
    std::function<bool()> keepGoing();
    bool cancelled() const { return m_cancelled; }
    // onFrame sees every streamed frame; false from it cancels.
    Frame run(WorkerProcess& worker, const Frame& request, const std::string& phase, double timeoutSeconds,
              const std::string& name, const std::function<bool(const Frame&)>& onFrame);
    // The whole job: starts a worker, loads the model into it, runs the request and says goodbye. Returns
    // the answer; throws Error with the worker's message where it answered "error" (`failed` when it gave
    // none), and WorkerFailure where the worker died, hung or was cancelled.
    Frame inWorker(const WorkerOptions& options, const Model& model, const Frame& request,
                   const std::string& phase, double timeoutSeconds, const std::string& name,
                   const std::function<bool(const Frame&)>& onFrame, const std::string& failed);

private:
    bool going() const;
    bool patient();

    const std::atomic<bool>* m_stop;
    double m_grace;
    bool m_cancelled = false;
    std::optional<std::chrono::steady_clock::time_point> m_stopSince;
};

// "Segmentation fault" for SIGSEGV, as strsignal says it.
std::string signalName(int signal);

} // namespace twb::detail
