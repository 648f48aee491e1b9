// Generated tensors from a portable generator (mt19937_64 and our own
// Box-Muller), so a seed gives the same tensor with any LibTorch and compiler.
#include "twb/generate.h"

#include "readers.h"
#include "torch_bridge.h"

#include "twb/error.h"

#include <torch/script.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <random>
#include <sstream>

namespace twb {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep))
        out.push_back(part);
    return out;
}

double number(const std::string& text, const std::string& what, const std::string& spec) {
    try {
        std::size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (...) {
    }
    throw Error("generator '" + spec + "': " + what + " '" + text + "' is not a number");
}

// The shortest text that reads back as exactly v: a spec in a report regenerates the same tensor.
std::string shortest(double v) {
    for (int digits = 6; digits <= 17; ++digits) {
        std::ostringstream s;
        s.precision(digits);
        s << v;
        if (digits == 17 || std::isnan(v) || std::strtod(s.str().c_str(), nullptr) == v) return s.str();
    }
    return {};
}

// What a full tensor's dtype can hold exactly: a whole number for an integer dtype (within 2^53, as the
// value is kept as a double), 0 or 1 for bool.
void checkFullValue(const GeneratorSpec& g, const std::string& spec) {
    const at::ScalarType t = detail::scalarType(g.dtype);
    if (t == at::kBool && g.a != 0 && g.a != 1)
        throw Error("generator '" + spec + "': a bool value is 0 or 1 (or true, false)");
    if (at::isIntegralType(t, false)) {
        if (g.a != std::floor(g.a))
            throw Error("generator '" + spec + "': " + g.dtype + " needs a whole number");
        const int bits = int(c10::elementSize(t)) * 8;
        const bool isUnsigned = t == at::kByte;
        const double limit = std::ldexp(1.0, std::min(bits - (isUnsigned ? 0 : 1), 53));
        if (g.a >= limit || g.a < (isUnsigned ? 0 : -limit))
            throw Error("generator '" + spec + "': " + shortest(g.a) + " does not fit " + g.dtype +
                        (bits == 64 ? " exactly (a value is given within ±2^53)" : ""));
    }
}

} // namespace

GeneratorSpec GeneratorSpec::parse(const std::string& text) {
    if (text.find(':') == std::string::npos) { // a bare number or truth value: a scalar of it
        GeneratorSpec g;
        g.kind = Kind::Full;
        if (text == "true" || text == "True" || text == "false" || text == "False") {
            g.dtype = "bool";
            g.a = text[0] == 't' || text[0] == 'T' ? 1 : 0;
            return g;
        }
        char* end = nullptr;
        const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) {
            const bool whole = text.find_first_not_of("+-0123456789") == std::string::npos;
            g.dtype = whole ? "int64" : "float64";
            g.a = v;
            checkFullValue(g, text);
            return g;
        }
    }
    const auto parts = split(text, ':');
    if (parts.size() < 2)
        throw Error("generator '" + text +
                    "': expected KIND:SHAPE[:DTYPE][:key=value…], e.g. normal:1x3x224x224, or a number");
    GeneratorSpec g;
    bool hasValue = false;
    const std::string& kind = parts[0];
    if (kind == "zeros")
        g.kind = Kind::Zeros;
    else if (kind == "ones")
        g.kind = Kind::Ones;
    else if (kind == "normal" || kind == "randn")
        g.kind = Kind::Normal;
    else if (kind == "uniform" || kind == "rand")
        g.kind = Kind::Uniform, g.a = 0, g.b = 1;
    else if (kind == "randint")
        g.kind = Kind::RandInt, g.dtype = "int64", g.a = 0, g.b = 10;
    else if (kind == "arange")
        g.kind = Kind::Arange, g.dtype = "int64", g.a = 0;
    else if (kind == "full")
        g.kind = Kind::Full;
    else
        throw Error("generator '" + text + "': unknown kind '" + kind +
                    "' (zeros, ones, normal, uniform, randint, arange, full)");

    if (parts[1] != "scalar" && !parts[1].empty())
        for (const auto& d : split(parts[1], 'x')) {
            const double v = number(d, "dimension", text);
            if (v < 0 || v != std::floor(v) || v > 1e12)
                throw Error("generator '" + text + "': bad dimension '" + d + "'");
            g.shape.push_back(int64_t(v));
        }
    for (std::size_t i = 2; i < parts.size(); ++i) {
        const auto eq = parts[i].find('=');
        if (eq == std::string::npos) {
            g.dtype = canonicalDtype(parts[i]);
            continue;
        }
        const std::string key = parts[i].substr(0, eq), value = parts[i].substr(eq + 1);
        if (key == "seed") {
            // Digits, read exactly: a double would round seeds above 2^53 and overflow past 2^64.
            errno = 0;
            char* end = nullptr;
            const unsigned long long s = std::strtoull(value.c_str(), &end, 10);
            if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
                errno == ERANGE || end != value.c_str() + value.size())
                throw Error("generator '" + text + "': the seed must be a whole number from 0 to 2^64-1");
            g.seed = uint64_t(s);
        } else if (key == "mean" || key == "low" || key == "start")
            g.a = number(value, key, text);
        else if (key == "std" || key == "high")
            g.b = number(value, key, text);
        else if (key == "dtype")
            g.dtype = canonicalDtype(value);
        else if (key == "value" && g.kind == Kind::Full)
            g.a = number(value, key, text), hasValue = true;
        else
            throw Error("generator '" + text + "': unknown option '" + key + "'" +
                        (key == "value" ? " (value= is for full)" : ""));
    }
    if (g.kind == Kind::Full) {
        if (!hasValue)
            throw Error("generator '" + text + "': full needs value=, e.g. full:2x3:float32:value=0.5");
        checkFullValue(g, text);
    }
    if (g.kind == Kind::RandInt && !(g.b > g.a))
        throw Error("generator '" + text + "': randint needs high > low");
    if (g.kind == Kind::Uniform && !(g.b >= g.a))
        throw Error("generator '" + text + "': uniform needs high ≥ low");
    if (g.kind == Kind::Normal && g.b < 0) throw Error("generator '" + text + "': std must be ≥ 0");
    detail::checkedNumel(g.shape, 16, "generator '" + text + "'");
    return g;
}

std::string GeneratorSpec::toString() const {
    static const char* names[] = {"zeros", "ones", "normal", "uniform", "randint", "arange", "full"};
    std::ostringstream s;
    s << names[int(kind)] << ':';
    if (shape.empty()) s << "scalar";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s << (i ? "x" : "") << shape[i];
    s << ':' << dtype;
    switch (kind) {
    case Kind::Normal:
        s << ":mean=" << shortest(a) << ":std=" << shortest(b) << ":seed=" << seed;
        break;
    case Kind::Uniform:
    case Kind::RandInt:
        s << ":low=" << shortest(a) << ":high=" << shortest(b) << ":seed=" << seed;
        break;
    case Kind::Arange:
        s << ":start=" << shortest(a);
        break;
    case Kind::Full:
        s << ":value=" << shortest(a);
        break;
    default:
        break;
    }
    return s.str();
}

Value generate(const GeneratorSpec& spec) {
    const int64_t n = detail::checkedNumel(spec.shape, 16, "generator '" + spec.toString() + "'");
    const auto dtype = detail::scalarType(spec.dtype);
    if (n > (int64_t(1) << 31)) throw Error("generator '" + spec.toString() + "': more than 2^31 elements");
    at::Tensor t = at::empty({n}, at::kDouble);
    double* p = t.data_ptr<double>();
    std::mt19937_64 rng(spec.seed);
    // 53 random bits to a double in [0, 1).
    auto unit = [&rng] { return double(rng() >> 11) * (1.0 / 9007199254740992.0); };
    switch (spec.kind) {
    case GeneratorSpec::Kind::Zeros:
        std::fill(p, p + n, 0.0);
        break;
    case GeneratorSpec::Kind::Ones:
        std::fill(p, p + n, 1.0);
        break;
    case GeneratorSpec::Kind::Full:
        std::fill(p, p + n, spec.a);
        break;
    case GeneratorSpec::Kind::Uniform:
        for (int64_t i = 0; i < n; ++i)
            p[i] = spec.a + (spec.b - spec.a) * unit();
        break;
    case GeneratorSpec::Kind::RandInt: {
        const double lo = std::ceil(spec.a), span = std::ceil(spec.b) - lo;
        for (int64_t i = 0; i < n; ++i)
            p[i] = lo + std::floor(unit() * span);
        break;
    }
    case GeneratorSpec::Kind::Arange:
        for (int64_t i = 0; i < n; ++i)
            p[i] = spec.a + double(i);
        break;
    case GeneratorSpec::Kind::Normal:
        for (int64_t i = 0; i < n; i += 2) {
            const double u1 = 1.0 - unit(), u2 = unit(); // u1 in (0, 1]
            const double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
            p[i] = spec.a + spec.b * r * std::cos(th);
            if (i + 1 < n) p[i + 1] = spec.a + spec.b * r * std::sin(th);
        }
        break;
    }
    return detail::wrap(t.to(dtype).reshape(spec.shape));
}

} // namespace twb
