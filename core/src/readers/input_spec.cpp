#include "twb/input_spec.h"

#include "readers.h"

#include "twb/error.h"
#include "twb/generate.h"
#include "twb/hashing.h"

#include <cctype>
#include <sys/stat.h>

namespace twb {

namespace {

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

bool identifier(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

// An argument, or one element of a tuple or list argument: "x", "hc.0".
bool argumentName(const std::string& s) {
    const auto dot = s.find('.');
    if (dot == std::string::npos) return identifier(s);
    const std::string index = s.substr(dot + 1);
    if (index.empty() || index.size() > 6) return false;
    for (char c : index)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return identifier(s.substr(0, dot));
}

// ("x", "data.npy") for "x=data.npy"; ("", text) when text has no NAME= or is itself a path.
std::pair<std::string, std::string> splitNamed(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || exists(text)) return {"", text};
    const std::string name = text.substr(0, eq);
    if (!argumentName(name)) return {"", text};
    return {name, text.substr(eq + 1)};
}

const char kGen[] = "gen:";

// "2.5", "3", "true": a scalar for forward's float, int or bool argument, unless a file has that name.
std::string bareScalar(const std::string& text) {
    if (text.empty() || text.find(':') != std::string::npos || exists(text)) return {};
    try {
        const GeneratorSpec g = GeneratorSpec::parse(text);
        return g.kind == GeneratorSpec::Kind::Full ? g.toString() : std::string();
    } catch (const Error&) {
        return {};
    }
}

} // namespace

InputSpec InputSpec::parse(const std::string& text) {
    if (text.empty()) throw Error("an input is empty: give a file or gen:SPEC");
    auto [name, what] = splitNamed(text);
    InputSpec s;
    s.argument = name;
    if (what.rfind(kGen, 0) == 0 && !exists(what)) {
        s.generator = GeneratorSpec::parse(what.substr(sizeof kGen - 1)).toString();
    } else if (const std::string scalar = bareScalar(what); !scalar.empty()) {
        s.generator = scalar;
    } else {
        if (what.empty()) throw Error("input '" + name + "' names no file");
        s.file = what;
    }
    return s;
}

InputSpec InputSpec::parseGenerated(const std::string& text) {
    auto [name, what] = splitNamed(text);
    if (what.rfind(kGen, 0) == 0) what = what.substr(sizeof kGen - 1);
    InputSpec s;
    s.argument = name;
    s.generator = GeneratorSpec::parse(what).toString();
    return s;
}

std::string InputSpec::toString() const {
    return (argument.empty() ? "" : argument + "=") + (isGenerated() ? kGen + generator : file);
}

std::string InputSpec::source() const {
    return isGenerated() ? "generated " + generator : file;
}

std::vector<ProvidedInput> readInputs(const std::vector<InputSpec>& specs, const ReadOptions& options) {
    std::vector<ProvidedInput> provided;
    for (const auto& s : specs) {
        if (s.empty()) continue;
        ProvidedInput p;
        p.argument = s.argument;
        p.source = s.source();
        p.value =
            s.isGenerated() ? generate(GeneratorSpec::parse(s.generator)) : readTensorFile(s.file, options);
        provided.push_back(std::move(p));
    }
    return provided;
}

std::vector<InputRef> describeInputs(const std::vector<InputSpec>& specs, const InputBinding& binding) {
    std::vector<InputRef> refs;
    for (const auto& s : specs) {
        if (s.empty()) continue;
        InputRef r;
        r.argument = s.argument;
        if (s.isGenerated()) {
            r.source = s.generator;
            r.generator = s.generator;
        } else {
            r.source = s.file;
            r.sha256 = fileSha256(s.file);
        }
        // As bound: a multi-tensor file may feed several arguments; the first one it fed is recorded.
        // An element (hc.0) is described by that element of its argument's tuple.
        const std::string source = s.source();
        if (const auto dot = s.argument.find('.'); dot != std::string::npos) {
            const std::string base = s.argument.substr(0, dot);
            const std::size_t k = std::stoul(s.argument.substr(dot + 1));
            for (const auto& a : binding.arguments)
                if (a.argument == base &&
                    (a.value.kind() == Value::Kind::Tuple || a.value.kind() == Value::Kind::List) &&
                    k < a.value.size() && a.value.at(k).isTensor()) {
                    r.shape = a.value.at(k).shape();
                    r.dtype = a.value.at(k).dtype();
                }
            refs.push_back(r);
            continue;
        }
        for (const auto& a : binding.arguments) {
            const bool fromThis = (!s.argument.empty() && a.argument == s.argument) || a.source == source ||
                                  a.source.rfind(source + "[", 0) == 0;
            if (!fromThis) continue;
            if (r.argument.empty()) r.argument = a.argument;
            if (a.value.isTensor()) {
                r.shape = a.value.shape();
                r.dtype = a.value.dtype();
            }
            break;
        }
        refs.push_back(r);
    }
    return refs;
}

} // namespace twb
