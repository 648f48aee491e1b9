#include "pt2.h"

#include "twb/diagnosis.h"

#include "zip_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <sys/utsname.h>

namespace twb::detail {
namespace {

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

int64_t elementBytes(const std::string& dtype) {
    if (dtype == "float64" || dtype == "int64" || dtype == "complex64") return 8;
    if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
    if (dtype == "int8" || dtype == "uint8" || dtype == "bool") return 1;
    return 4;
}

std::vector<int64_t> dims(const std::string& list, bool* dynamic = nullptr) {
    std::vector<int64_t> out;
    std::smatch m;
    static const std::regex item(R"(\s*([A-Za-z_]\w*|-?\d+)L?\s*(,|$))");
    auto begin = list.cbegin();
    while (begin != list.cend() && std::regex_search(begin, list.cend(), m, item)) {
        const std::string v = m[1];
        if (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '-')
            out.push_back(std::stoll(v));
        else {
            out.push_back(-1);
            if (dynamic) *dynamic = true;
        }
        begin = m[0].second;
        if (m[0].length() == 0) break;
    }
    return out;
}

// The generated wrapper names its inputs, constants and checks in a fixed form.
void readWrapper(const std::string& cpp, Pt2Model& model) {
    // Inductor leaves its compile command as a comment: "// g++ /tmp/…/wrapper.cpp -D … -o …".
    static const std::regex compile(R"re(\n// ((?:[\w.+-]*/)?(?:g\+\+|c\+\+|clang\+\+|icpx)[\w.-]*) )re");
    std::smatch cm;
    if (std::regex_search(cpp, cm, compile)) {
        const std::string path = cm[1];
        model.compiler = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    }
    std::map<int, Pt2Input> inputs;
    static const std::regex inputName(R"re(inputs_info_\[(\d+)\]\.name = "([^"]+)")re");
    for (auto it = std::sregex_iterator(cpp.begin(), cpp.end(), inputName); it != std::sregex_iterator();
         ++it)
        inputs[std::stoi((*it)[1])].name = (*it)[2];
    static const std::regex outputName(R"(outputs_info_\[(\d+)\]\.name)");
    model.outputs =
        int(std::distance(std::sregex_iterator(cpp.begin(), cpp.end(), outputName), std::sregex_iterator()));
    for (auto& [i, in] : inputs) {
        const std::regex dtype(in.name + R"(_expected_dtype = aoti_torch_dtype_(\w+)\(\))");
        std::smatch m;
        if (std::regex_search(cpp, m, dtype)) in.dtype = m[1];
        const std::regex shape("assert_size_stride\\(" + in.name + R"(, \{([^}]*)\})");
        if (std::regex_search(cpp, m, shape)) in.shape = dims(m[1]);
        in.min.assign(in.shape.size(), -1);
        in.max.assign(in.shape.size(), -1);
        const std::regex low("if \\(" + in.name + R"(_size\[(\d+)\] < (\d+)\))");
        for (auto it = std::sregex_iterator(cpp.begin(), cpp.end(), low); it != std::sregex_iterator();
             ++it) {
            const std::size_t d = std::stoul((*it)[1]);
            if (d < in.min.size()) in.min[d] = std::stoll((*it)[2]);
        }
        const std::regex high("if \\(" + in.name + R"(_size\[(\d+)\] > (\d+)\))");
        for (auto it = std::sregex_iterator(cpp.begin(), cpp.end(), high); it != std::sregex_iterator();
             ++it) {
            const std::size_t d = std::stoul((*it)[1]);
            if (d < in.max.size()) in.max[d] = std::stoll((*it)[2]);
        }
        model.inputs.push_back(in);
    }
    // constants_info_[i].{original_fqn, dtype, shape}
    std::map<int, TensorInfo> constants;
    static const std::regex field(R"(constants_info_\[(\d+)\]\.(original_fqn|name|dtype|shape) = ([^;]*);)");
    for (auto it = std::sregex_iterator(cpp.begin(), cpp.end(), field); it != std::sregex_iterator(); ++it) {
        TensorInfo& t = constants[std::stoi((*it)[1])];
        const std::string key = (*it)[2], value = (*it)[3];
        if (key == "original_fqn" || (key == "name" && t.name.empty())) {
            const auto q1 = value.find('"'), q2 = value.rfind('"');
            if (q1 != std::string::npos && q2 > q1) t.name = value.substr(q1 + 1, q2 - q1 - 1);
        } else if (key == "dtype") {
            const auto at = value.find("cached_torch_dtype_");
            if (at != std::string::npos)
                t.dtype = value.substr(at + std::string("cached_torch_dtype_").size());
        } else if (key == "shape") {
            const auto open = value.find('{'), close = value.rfind('}');
            if (open != std::string::npos && close > open)
                t.shape = dims(value.substr(open + 1, close - open - 1));
        }
    }
    for (auto& [i, t] : constants) {
        t.numel = 1;
        for (int64_t d : t.shape)
            t.numel *= std::max<int64_t>(d, 0);
        t.bytes = uint64_t(t.numel * elementBytes(t.dtype));
        t.device = model.device;
        model.constants.push_back(t);
    }
}

} // namespace

std::string pt2ShapeText(const Pt2Input& in) {
    std::string s = "[";
    const char* names[] = {"N", "M", "K", "L", "P", "Q"};
    int dynamic = 0;
    for (std::size_t d = 0; d < in.shape.size(); ++d) {
        s += d ? ", " : "";
        s += in.shape[d] >= 0 ? std::to_string(in.shape[d]) : std::string(names[std::min(dynamic++, 5)]);
    }
    return s + "]";
}

std::string pt2Mismatch(const Pt2Input& in, const std::string& argument, const std::string& dtype,
                        const std::vector<int64_t>& shape) {
    bool fits = (in.dtype.empty() || dtype == in.dtype) && shape.size() == in.shape.size();
    for (std::size_t d = 0; fits && d < shape.size(); ++d) {
        if (in.shape[d] >= 0 && shape[d] != in.shape[d]) fits = false;
        if (d < in.min.size() && in.min[d] >= 0 && shape[d] < in.min[d]) fits = false;
        if (d < in.max.size() && in.max[d] >= 0 && shape[d] > in.max[d]) fits = false;
    }
    if (fits) return {};
    std::string bounds;
    const char* names[] = {"N", "M", "K", "L", "P", "Q"};
    int dynamic = 0;
    for (std::size_t d = 0; d < in.shape.size(); ++d) {
        if (in.shape[d] >= 0) continue;
        const std::string n = names[std::min(dynamic++, 5)];
        const int64_t lo = d < in.min.size() ? in.min[d] : -1, hi = d < in.max.size() ? in.max[d] : -1;
        if (lo >= 0 || hi >= 0)
            bounds += (bounds.empty() ? " with " : " and ") + (lo >= 0 ? std::to_string(lo) + " ≤ " : "") +
                      n + (hi >= 0 ? " ≤ " + std::to_string(hi) : "");
    }
    std::string got = "[";
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (d) got += ", ";
        got += std::to_string(shape[d]);
    }
    got += "]";
    return "input '" + argument + "' must be " + in.dtype + " " + pt2ShapeText(in) + bounds +
           " (the shapes torch.export compiled the package for), not " + dtype + " " + got;
}

const std::vector<std::string>& cpuFeatureFlags() {
    static const std::vector<std::string> flags = [] {
        std::vector<std::string> out;
        std::ifstream in("/proc/cpuinfo");
        for (std::string line; std::getline(in, line);) {
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string key = line.substr(0, colon);
            key.erase(key.find_last_not_of(" \t") + 1);
            if (key != "flags" && key != "Features") continue;
            std::istringstream words(line.substr(colon + 1));
            for (std::string w; words >> w;)
                out.push_back(w);
            break; // the first processor's: they are alike
        }
        return out;
    }();
    return flags;
}

std::string pt2CpuProblem(const Pt2Model& m) {
    if (m.device != "cpu") return {};
    utsname u{};
    const std::string here = ::uname(&u) == 0 ? u.machine : "";
    auto same = [](std::string a, std::string b) {
        for (std::string* s : {&a, &b})
            if (*s == "AMD64") *s = "x86_64";
        return a == b;
    };
    if (!m.machine.empty() && !here.empty() && !same(m.machine, here))
        return "it was compiled for " + m.machine + " and this machine is " + here;
    const std::string missing = twb::missingCpuFeatures(m.isa, cpuFeatureFlags());
    if (!missing.empty())
        return "it was compiled for " + m.isa + ", and this CPU lacks " + missing +
               ": its code would stop at the first such instruction (SIGILL)";
    return {};
}

std::string pt2PortableFix(const std::string& path) {
    const std::string file = path.substr(path.rfind('/') + 1);
    const std::string stem = file.substr(0, file.rfind('.'));
    return "Compile it on a machine like this one, or for instructions every x86-64 CPU of the last decade "
           "has, in Python:\n"
           "    torch._inductor.config.cpp.simdlen = 256   # AVX2; None takes the compiling CPU's widest\n"
           "    torch._inductor.aoti_compile_and_package(torch.export.export(model.eval(), example_inputs),\n"
           "                                             package_path=\"" +
           stem + "_avx2.pt2\")";
}

Pt2Package readPt2(const std::string& path) {
    ZipReader zip(path);
    Pt2Package p;
    std::map<std::string, Pt2Model> models;
    for (const auto& n : zip.names()) {
        const auto slash = n.find('/');
        if (slash == std::string::npos) continue;
        if (p.archive.empty()) p.archive = n.substr(0, slash);
        const std::string rest = n.substr(slash + 1);
        if (rest.rfind("models/", 0) == 0 && endsWith(rest, ".json")) p.exportedProgram = true;
        const std::string marker = "data/aotinductor/";
        if (rest.rfind(marker, 0) != 0) continue;
        const std::string inner = rest.substr(marker.size());
        const auto s2 = inner.find('/');
        if (s2 == std::string::npos) continue;
        Pt2Model& m = models[inner.substr(0, s2)];
        m.name = inner.substr(0, s2);
        if (endsWith(n, ".wrapper_metadata.json") || (endsWith(n, "_metadata.json") && m.device.empty())) {
            try {
                const auto j = nlohmann::json::parse(zip.read(n, 1 << 20));
                m.device = j.value("AOTI_DEVICE_KEY", std::string());
                m.platform = j.value("AOTI_PLATFORM", std::string());
                m.isa = j.value("AOTI_CPU_ISA", std::string());
                m.machine = j.value("AOTI_MACHINE", std::string());
            } catch (const std::exception&) {
                // an unreadable metadata file leaves the target unknown
            }
        } else if (endsWith(n, ".wrapper.cpp")) {
            readWrapper(zip.read(n, 64 << 20), m);
        } else if (endsWith(n, ".so")) {
            m.libraryBytes += zip.size(n);
        }
    }
    for (auto& [name, m] : models) {
        if (m.device.empty()) m.device = "cpu";
        for (auto& c : m.constants)
            c.device = m.device;
        p.models.push_back(m);
    }
    return p;
}

} // namespace twb::detail

namespace twb {

std::string missingCpuFeatures(const std::string& isa, const std::vector<std::string>& cpuFlags) {
    // What inductor's ISA classes compile with (torch/_inductor/cpu_vec_isa.py: -mavx2 -mfma -mf16c;
    // -mavx512f -mavx512dq -mavx512vl -mavx512bw; -mavx512vnni; -mamx-tile -mamx-bf16 -mamx-int8), as Linux
    // names them.
    static const std::map<std::string, std::vector<std::string>> needs{
        {"AVX2", {"avx2", "fma", "f16c"}},
        {"AVX512", {"avx512f", "avx512dq", "avx512vl", "avx512bw", "fma"}},
        {"AVX512_VNNI", {"avx512_vnni"}},
        {"AMX_TILE", {"amx_tile", "amx_bf16", "amx_int8"}},
        {"ASIMD", {"asimd"}},
        {"NEON", {"asimd"}}};
    if (cpuFlags.empty()) return {};
    std::string missing;
    std::istringstream words(isa);
    for (std::string word; words >> word;) {
        std::transform(word.begin(), word.end(), word.begin(),
                       [](unsigned char c) { return char(std::toupper(c)); });
        const auto need = needs.find(word);
        if (need == needs.end()) return {}; // a set this check does not know: no verdict
        std::string lacks;
        for (const auto& flag : need->second)
            if (std::find(cpuFlags.begin(), cpuFlags.end(), flag) == cpuFlags.end())
                lacks += (lacks.empty() ? "" : ", ") + flag;
        if (!lacks.empty()) missing += (missing.empty() ? "" : "; ") + word + " (" + lacks + ")";
    }
    return missing;
}

} // namespace twb
