#include "twb/target.h"

#include "worker_client.h"

#include "twb/error.h"

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace twb {

namespace {

// For a POSIX shell: 'it'\''s'.
std::string shellQuoted(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

bool hostCharacters(const std::string& host) {
    if (host.empty() || host[0] == '-') return false; // never an option to ssh
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':'))
            return false;
    return true;
}

Target parseSsh(const std::string& text) {
    const auto usage = [&](const std::string& why) {
        return Error("target '" + text + "': " + why + "; write ssh://[user@]host[:port][/path/to/torchwb]");
    };
    Target t;
    t.kind = Target::Kind::Ssh;
    t.text = text;
    std::string rest = text.substr(6);
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        t.executable = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        t.user = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (t.user.empty() || t.user[0] == '-') throw usage("the user name is empty or starts with '-'");
    }
    std::string port;
    if (!rest.empty() && rest[0] == '[') { // [::1]:2222
        const auto close = rest.find(']');
        if (close == std::string::npos) throw usage("an IPv6 address needs its closing ']'");
        t.host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty() && rest[0] != ':') throw usage("after ']' comes ':PORT' or nothing");
        if (!rest.empty()) port = rest.substr(1);
        if (!rest.empty() && port.empty()) throw usage("the port is empty");
    } else {
        const auto colon = rest.find(':');
        t.host = rest.substr(0, colon);
        if (colon != std::string::npos) {
            port = rest.substr(colon + 1);
            if (port.empty()) throw usage("the port is empty");
        }
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
            throw usage("the port '" + port + "' is not a number");
        t.port = std::atoi(port.c_str());
    }
    if (!hostCharacters(t.host)) throw usage("'" + t.host + "' is not a host name");
    if (t.port < 0 || t.port > 65535) throw usage("the port is beyond 65535");
    return t;
}

} // namespace

Target Target::parse(const std::string& text) {
    Target t;
    t.text = text;
    if (text.empty() || text == "local") return t;
    if (text.rfind("local:", 0) == 0) {
        t.kind = Kind::LocalBuild;
        t.executable = text.substr(6);
        struct stat st{};
        if (t.executable.empty() || ::stat(t.executable.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
            ::access(t.executable.c_str(), X_OK) != 0)
            throw Error(
                "target '" + text + "': " +
                (t.executable.empty() ? "no path given" : t.executable + " is not an executable file") +
                "; write local:/path/to/torchwb");
        return t;
    }
    if (text.rfind("ssh://", 0) == 0) return parseSsh(text);
    if (text.rfind("cmd:", 0) == 0) {
        t.kind = Kind::Command;
        t.launcher = text.substr(4);
        if (t.launcher.find_first_not_of(" \t") == std::string::npos)
            throw Error("target '" + text + "': no command given; write cmd:LAUNCHER … torchwb worker");
        return t;
    }
    throw Error("target '" + text +
                "' is none of local, local:/path/to/torchwb, ssh://[user@]host[:port][/path] "
                "or cmd:COMMAND");
}

std::string Target::name() const {
    switch (kind) {
    case Kind::Local:
        return "local";
    case Kind::LocalBuild:
        return "local:" + executable;
    case Kind::Ssh: {
        std::string s = user.empty() ? host : user + '@' + host;
        if (port) {
            s += ':';
            s += std::to_string(port);
        }
        return s;
    }
    case Kind::Command:
        return "cmd:" + launcher;
    }
    return text;
}

std::vector<std::string> Target::workerCommand() const {
    switch (kind) {
    case Kind::Local:
        return defaultWorkerCommand();
    case Kind::LocalBuild:
        return {executable, "worker"};
    case Kind::Command:
        return {"/bin/sh", "-c", "exec " + launcher + " \"$@\"", "sh"}; // the worker's own options follow
    case Kind::Ssh: {
        // Batch mode: a key, an agent or a ProxyJump from ~/.ssh/config, never a password prompt.
        std::vector<std::string> args{"-o", "BatchMode=yes"};
        if (port) args.insert(args.end(), {"-p", std::to_string(port)});
        if (!user.empty()) args.insert(args.end(), {"-l", user});
        args.push_back("--");
        args.push_back(host);
        // The remote side is a shell command line: the path is quoted for it.
        args.push_back((executable.empty() ? std::string("torchwb") : shellQuoted(executable)) + " worker");
        const char* custom = std::getenv("TWB_SSH_COMMAND");
        if (custom && *custom) { // a shell command, as GIT_SSH_COMMAND is
            std::vector<std::string> argv{"/bin/sh", "-c", std::string(custom) + " \"$@\"", "ssh"};
            argv.insert(argv.end(), args.begin(), args.end());
            return argv;
        }
        args.insert(args.begin(), "ssh");
        return args;
    }
    }
    return defaultWorkerCommand();
}

WorkerOptions Target::workerOptions(WorkerOptions base) const {
    base.command = workerCommand();
    base.sendFiles = remote();
    base.targetName = name();
    base.targetKind = kind == Kind::Ssh ? "ssh" : kind == Kind::Command ? "cmd" : "local";
    return base;
}

TargetCheck checkTarget(const Target& target, const WorkerOptions& base) {
    TargetCheck c;
    c.target = target;
    try {
        c.hello = checkWorker(target.workerOptions(base));
    } catch (const detail::WorkerFailure& f) { // the cause, the fix, and what the far side said
        throw Error(std::string(f.what()) + (f.fix.empty() ? "" : "\nfix: " + f.fix), f.stderrTail);
    }
    const EnvironmentInfo& e = c.hello.environment;
    std::ostringstream s;
    s << "target    " << target.name() << "\n"
      << "protocol  " << c.hello.protocol << " (this torchwb speaks " << kWorkerProtocolVersion << ")\n"
      << "torchwb   " << e.torchwbVersion << " on LibTorch " << e.libtorchVersion
      << (e.libtorchBuild.source.empty() ? "" : " from the " + e.libtorchBuild.source) << "\n"
      << "machine   " << (e.hostName.empty() ? "?" : e.hostName) << ", " << e.os << "\n"
      << "CPU       " << (e.cpuModel.empty() ? "?" : e.cpuModel) << ", " << e.physicalCores << " cores, "
      << e.hardwareThreads << " threads (LibTorch default " << e.libtorchDefaultThreads << ")\n"
      << "CUDA      ";
    if (!e.cudaCompiled)
        s << "not compiled in: CUDA configurations cannot run there\n";
    else if (!e.cudaAvailable)
        s << "compiled in (" << e.cudaVersion << "), but no device is available\n";
    else {
        s << e.cudaVersion << ", cuDNN " << (e.cudnnVersion.empty() ? "none" : e.cudnnVersion) << "\n";
        for (const auto& d : e.cudaDevices)
            s << "GPU       " << d << "\n";
    }
    c.text = s.str();
    return c;
}

} // namespace twb
