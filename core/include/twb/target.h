// Where models run: a target is how a worker is started. The same protocol is spoken whichever it is.
//   local                          this build's torchwb (twb/worker.h: defaultWorkerCommand)
//   local:/path/to/torchwb         another build on this machine (the distribution's beside the wheel's)
//   ssh://[user@]host[:port][/path/to/torchwb]
//                                  through the system's OpenSSH client in batch mode, so ~/.ssh/config,
//                                  agents, ProxyJump and known_hosts work; no password is ever asked or
//                                  kept. $TWB_SSH_COMMAND replaces `ssh` as $GIT_SSH_COMMAND does for git.
//   cmd:LAUNCHER …                 any command line ending in a worker on stdin/stdout, run by /bin/sh:
//                                  cmd:srun -p gpu --gres=gpu:1 torchwb worker
// On ssh and cmd targets the model file travels over the channel (content-addressed, cached on the
// target), so the target needs nothing but torchwb.
#pragma once

#include "twb/worker.h"

#include <string>
#include <vector>

namespace twb {

struct Target {
    enum class Kind { Local, LocalBuild, Ssh, Command };
    Kind kind = Kind::Local;
    std::string text;       // as given
    std::string executable; // local:PATH, or the ssh URL's path ("" runs torchwb from the target's PATH)
    std::string user, host;
    int port = 0;         // 0: ssh's own default (or ~/.ssh/config's)
    std::string launcher; // cmd: the command line

    // Throws twb::Error with one sentence for a target that is not one of the forms above.
    static Target parse(const std::string& text);
    // "local", "local:/opt/torch-1.13/bin/torchwb", "gpu-box", "cmd:srun …": how reports name it.
    std::string name() const;
    // Files travel over the channel: the target may not share this machine's file system.
    bool remote() const { return kind == Kind::Ssh || kind == Kind::Command; }
    // The argument vector that starts a worker there (never through a shell, but for cmd: and a
    // $TWB_SSH_COMMAND, which are shell commands by definition).
    std::vector<std::string> workerCommand() const;
    // `base` with this target's command, file transfer, and a name for its messages.
    WorkerOptions workerOptions(WorkerOptions base = {}) const;
};

// What `torchwb targets check` prints: the target's protocol, build (LibTorch, CUDA and cuDNN, GPUs and
// their memory) and machine (CPU model, threads). Throws twb::Error saying why the handshake failed
// (unreachable, authentication, no torchwb there, another protocol) with a fix.
struct TargetCheck {
    Target target;
    WorkerHello hello;
    std::string text; // several lines, for people
};
TargetCheck checkTarget(const Target& target, const WorkerOptions& base = {});

} // namespace twb
