// Worker processes: models run in a helper process (`torchwb worker`) that speaks a versioned, framed
// protocol over its stdin and stdout, so a crash, an abort, an endless loop or an allocation beyond
// memory in a user's model ends one configuration, never the program that asked.
#pragma once

#include "twb/environment.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

// Raised when the protocol changes in a way an older peer cannot follow. 2: requests name a slot, so one
// worker holds several models and configurations (measured in turns in one process). 3: files travel to
// a target over the channel ("file" requests) into its cache. 4: files travel in pieces (size, offset).
// 5: "diverge" (two configurations' intermediate tensors compared in the worker). 6: "record" (one
// configuration's graph and intermediate tensors streamed to the client, each answered "record_next").
// 7: "serve" (latency under load; progress and load points streamed as a sweep's are). 8: "serve" batches
// requests (max_batch, batch_window_us) and offers a share of the measured capacity (utilisation), which a
// worker of 7 would ignore.
constexpr int kWorkerProtocolVersion = 8;

struct WorkerOptions {
    // The command that starts a worker speaking the protocol on stdin/stdout; empty: defaultWorkerCommand().
    std::vector<std::string> command;
    double firstCallTimeoutSeconds = 60; // load, prepare, first call and warm-up must answer within this
    // Later requests must answer within max(minimum, factor × what they were expected to take).
    double roundTimeoutFactor = 20, roundTimeoutMinimumSeconds = 30;
    int64_t memoryLimitBytes = 0;  // the worker's address-space limit (RLIMIT_AS); 0: none
    double cancelGraceSeconds = 1; // a cancelled worker that has not stopped by then is killed
    // Operator libraries the worker loads before any model (--load-library); empty: those loaded in
    // this process (twb/operator_library.h), so a worker runs what the caller could open.
    std::vector<std::string> operatorLibraries;
    // The target's files are not this machine's (ssh, a launcher): the model file travels over the
    // channel, content-addressed, into the target's cache, and is sent only when not already there.
    bool sendFiles = false;
    std::string targetName; // how messages name where the worker runs ("gpu-box"); "" for this build
    std::string targetKind; // "ssh", "cmd", "local": what a failure to start means there
};

// {TORCHWB, "worker"}: $TWB_WORKER when set, else the torchwb beside this executable, else torchwb on
// the PATH. Throws twb::Error when none can be found, saying where it looked.
std::vector<std::string> defaultWorkerCommand();

// Serves the protocol on these descriptors until told to stop or the input ends; what `torchwb worker`
// runs. Writes by the model to stdout (TorchScript's print) are sent to stderr, so they cannot break the
// stream. memoryLimitBytes > 0 caps its address space (RLIMIT_AS), so a model's allocation beyond it fails
// as an error instead of taking the machine's memory. Returns the process's exit status.
int serveWorker(int inFd = 0, int outFd = 1, int64_t memoryLimitBytes = 0);

// What a worker says first: its protocol version and the machine and LibTorch it runs on.
struct WorkerHello {
    int protocol = 0;
    EnvironmentInfo environment;
};

// Starts a worker, reads its hello and stops it; throws twb::Error saying why when that fails.
WorkerHello checkWorker(const WorkerOptions& options = {});

} // namespace twb
