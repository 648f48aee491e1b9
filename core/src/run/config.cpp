#include "twb/config.h"
#include "twb/target.h"

#include "twb/build_info.h"
#include "twb/error.h"
#include "twb/value.h"

#include <cmath>
#include <sstream>

namespace twb {

std::string jitModeName(JitMode mode) {
    switch (mode) {
    case JitMode::Off:
        return "off";
    case JitMode::Freeze:
        return "freeze";
    case JitMode::Optimize:
        return "optimize";
    }
    return "off";
}

std::string gradModeName(GradMode mode) {
    switch (mode) {
    case GradMode::Inference:
        return "inference";
    case GradMode::NoGrad:
        return "no_grad";
    case GradMode::Grad:
        return "grad";
    }
    return "inference";
}

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

int64_t toInteger(const std::string& key, const std::string& value) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used == value.size()) return v;
    } catch (...) {
    }
    throw Error("configuration: " + key + " wants a whole number, not '" + value + "'");
}

double toNumber(const std::string& key, const std::string& value) {
    try {
        std::size_t used = 0;
        const double v = std::stod(value, &used);
        if (used == value.size() || value.substr(used) == "s") return v;
    } catch (...) {
    }
    throw Error("configuration: " + key + " wants a number, not '" + value + "'");
}

std::string formatNumber(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

} // namespace

void RunConfig::set(const std::string& rawKey, const std::string& rawValue) {
    const std::string key = trim(rawKey), value = trim(rawValue);
    if (key == "name" || key == "label")
        name = value;
    else if (key == "device")
        device = value;
    else if (key == "jit") {
        if (value == "off" || value == "none")
            jit = JitMode::Off;
        else if (value == "freeze")
            jit = JitMode::Freeze;
        else if (value == "optimize" || value == "optimize_for_inference")
            jit = JitMode::Optimize;
        else
            throw Error("configuration: jit is off, freeze or optimize, not '" + value + "'");
    } else if (key == "graph_optimize" || key == "graph-optimize") {
        if (value == "on" || value == "true" || value == "1")
            graphOptimize = true;
        else if (value == "off" || value == "false" || value == "0")
            graphOptimize = false;
        else
            throw Error("configuration: graph_optimize is on or off, not '" + value + "'");
    } else if (key == "threads") {
        const int64_t t = toInteger(key, value);
        if (t < 0 || t > 1024) throw Error("configuration: threads must be between 0 (all) and 1024");
        threads = int(t);
    } else if (key == "dtype" || key == "precision") {
        if (value == "as_saved" || value == "as-saved" || value == "model")
            dtype = "as_saved";
        else {
            const std::string d = canonicalDtype(value);
            if (d != "float32" && d != "float16" && d != "bfloat16" && d != "float64")
                throw Error("configuration: dtype is as_saved, float32, float16, bfloat16 or float64, not '" +
                            value + "'");
            dtype = d;
        }
    } else if (key == "grad") {
        if (value == "inference" || value == "inference_mode")
            grad = GradMode::Inference;
        else if (value == "no_grad" || value == "no-grad")
            grad = GradMode::NoGrad;
        else if (value == "grad" || value == "enabled")
            grad = GradMode::Grad;
        else
            throw Error("configuration: grad is inference, no_grad or grad, not '" + value + "'");
    } else if (key == "warmup") {
        if (value == "auto")
            warmup = -1;
        else {
            const int64_t w = toInteger(key, value);
            if (w < 0 || w > 1000000) throw Error("configuration: warmup is auto or a count of calls ≥ 0");
            warmup = int(w);
        }
    } else if (key == "target") {
        target = value == "local" ? std::string() : value;
        if (!target.empty()) Target::parse(target); // refused here, in its own words
    } else if (key == "iters" || key == "iterations") {
        const int64_t n = toInteger(key, value);
        if (n <= 0) throw Error("configuration: iterations must be at least 1");
        iterations = n;
    } else if (key == "seconds") {
        const double s = toNumber(key, value);
        if (!(s > 0) || s > 86400) throw Error("configuration: seconds must be above 0");
        seconds = s;
        iterations = 0;
    } else {
        throw Error("configuration: unknown key '" + key +
                    "' (known: name, device, jit, graph_optimize, threads, dtype, grad, warmup, iters, "
                    "seconds, target)");
    }
}

RunConfig RunConfig::parse(const std::string& spec, const RunConfig& base) {
    RunConfig c = base;
    c.name.clear();
    std::istringstream in(spec);
    std::string part;
    while (std::getline(in, part, ',')) {
        if (trim(part).empty()) continue;
        const auto eq = part.find('=');
        if (eq == std::string::npos) throw Error("configuration: '" + part + "' is not key=value");
        c.set(part.substr(0, eq), part.substr(eq + 1));
    }
    return c;
}

std::string RunConfig::label() const {
    std::string s = name.empty() ? device + " · jit " + jitModeName(jit) : name;
    if (name.empty()) s += detailsLabel();
    if (!target.empty()) {
        std::string where = target;
        try {
            where = Target::parse(target).name();
        } catch (const Error&) { // a build that is not here (a report from elsewhere): as written
        }
        s += " @ " + where;
    }
    return s;
}

std::string RunConfig::detailsLabel() const {
    std::string s;
    if (threads > 0) s += " · " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    if (dtype != "as_saved") s += " · " + dtype;
    if (grad != GradMode::Inference) s += " · " + gradModeName(grad);
    if (!graphOptimize) s += " · graph optimize off";
    return s;
}

std::string RunConfig::toSpec() const {
    std::string s = "device=" + device + ",jit=" + jitModeName(jit) +
                    ",graph_optimize=" + (graphOptimize ? "on" : "off") +
                    ",threads=" + std::to_string(threads) + ",dtype=" + dtype +
                    ",grad=" + gradModeName(grad) +
                    ",warmup=" + (warmup < 0 ? "auto" : std::to_string(warmup));
    if (iterations > 0)
        s += ",iters=" + std::to_string(iterations);
    else
        s += ",seconds=" + formatNumber(seconds);
    if (!name.empty()) s = "name=" + name + "," + s;
    return s;
}

void validateConfig(const RunConfig& c) {
    if (c.device == "cpu") return;
    if (c.device.rfind("cuda", 0) != 0)
        throw Error("device '" + c.device + "' is not known: use cpu, cuda or cuda:N");
    int index = 0;
    if (c.device.size() > 4) {
        if (c.device[4] != ':')
            throw Error("device '" + c.device + "' is not known: use cpu, cuda or cuda:N");
        try {
            std::size_t used = 0;
            index = std::stoi(c.device.substr(5), &used);
            if (used != c.device.size() - 5 || index < 0) throw 0;
        } catch (...) {
            throw Error("device '" + c.device + "': the CUDA device index must be a whole number ≥ 0");
        }
    }
    const BuildInfo b = buildInfo();
    if (!b.cudaCompiled || !b.cudaAvailable)
        throw Error("device '" + c.device + "' cannot be used: " + b.cudaStatus);
    if (index >= b.cudaDevices)
        throw Error("device '" + c.device + "' does not exist: this machine has " +
                    std::to_string(b.cudaDevices) + " CUDA device" + (b.cudaDevices == 1 ? "" : "s"));
}

} // namespace twb
