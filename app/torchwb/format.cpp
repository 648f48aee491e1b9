#include "format.h"

#include "twb/error.h"
#include "twb/report.h"

#include <fstream>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace twb::cli {

using twb::shapeText;

std::string bytesText(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::string countText(int64_t n) {
    std::string s = std::to_string(n < 0 ? -n : n);
    for (int i = int(s.size()) - 3; i > 0; i -= 3)
        s.insert(std::size_t(i), ",");
    return (n < 0 ? "-" : "") + s;
}

std::string numberText(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

namespace {

std::string indentLines(const std::string& text, const std::string& pad) {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line))
        out += pad + line + "\n";
    return out;
}

std::string dtypesText(const twb::TensorTotals& t) {
    std::string s;
    for (const auto& [name, n] : t.dtypes)
        s += (s.empty() ? "" : ", ") + name;
    return s;
}

// Two levels and a dozen children each read well on a terminal; --json has the whole tree.
void printTree(std::ostringstream& out, const twb::ModuleNode& node, const std::string& pad, int depth) {
    constexpr std::size_t kMaxChildren = 12;
    for (std::size_t i = 0; i < node.children.size() && i < kMaxChildren; ++i) {
        const auto& c = node.children[i];
        out << pad << c.name << ": " << c.type;
        if (c.parameters) out << "  (" << countText(c.parameters) << " parameters)";
        if (depth >= 1 && !c.children.empty()) out << "  [" << c.children.size() << " submodules]";
        out << "\n";
        if (depth < 1) printTree(out, c, pad + "  ", depth + 1);
    }
    if (node.children.size() > kMaxChildren)
        out << pad << "… " << node.children.size() - kMaxChildren
            << " more (torchwb inspect --json lists all)\n";
}

std::string signature(const std::vector<twb::ArgumentInfo>& args, const std::string& returns) {
    std::string s = "(";
    for (std::size_t i = 0; i < args.size(); ++i) {
        s += (i ? ", " : "") + args[i].name + ": " + args[i].type;
        if (args[i].hasDefault) s += " = " + args[i].defaultValue;
    }
    return s + ") -> " + returns;
}

} // namespace

std::string inspectionText(const twb::ModelInfo& info, bool withCode) {
    std::ostringstream out;
    const auto& d = info.diagnosis;
    out << info.path << "\n";
    out << "  kind         " << twb::kindName(d.kind) << (d.usable ? "" : " (cannot be used)") << "\n";
    out << "  what         " << d.summary << "\n";
    if (!d.format.empty()) out << "  format       " << d.format;
    if (d.formatVersion >= 0) out << ", version " << d.formatVersion;
    if (!d.format.empty()) out << "\n";
    if (info.fileSize) out << "  size         " << bytesText(info.fileSize) << "\n";
    if (!d.usable) {
        if (!d.error.empty()) out << "  problem      " << d.error << "\n";
        if (!d.fix.empty()) out << "  fix\n" << indentLines(d.fix, "    ");
        if (!d.detail.empty()) out << "  detail\n" << indentLines(d.detail, "    ");
        return out.str();
    }
    if (d.kind == twb::FileKind::Pt2) {
        out << "  package      " << info.className << "\n";
        for (const auto& m : info.extraFiles)
            out << "  model        " << m << "\n";
        out << "  forward      " << signature(info.inputs, info.returnType) << "\n";
        for (const auto& a : info.inputs)
            out << "  suggested    " << a.name << " = gen:" << a.suggested << "  (" << a.suggestedReason
                << ")\n";
        out << "  constants    " << countText(info.parameters.count) << " in " << info.parameters.tensors
            << " tensors, " << bytesText(info.parameters.bytes) << "\n";
        for (const auto& t : info.tensors) {
            std::string shape;
            for (std::size_t i = 0; i < t.shape.size(); ++i)
                shape += (i ? ", " : "") + std::to_string(t.shape[i]);
            out << "    " << t.name << "  " << t.dtype << " [" << shape << "]  " << bytesText(t.bytes)
                << "\n";
        }
        out << "  note         JIT modes and precision are fixed when the package is compiled; device and "
               "threads apply\n";
        return out.str();
    }
    if (d.kind == twb::FileKind::TorchScript) {
        out << "  class        " << info.className << "\n";
        if (info.savedTraining) out << "  mode         saved in training mode; loaded in eval mode\n";
        out << "  forward      " << signature(info.inputs, info.returnType) << "\n";
        for (const auto& a : info.inputs) {
            if (a.hasDefault) continue;
            if (!a.suggested.empty())
                out << "  suggested    " << a.name << " = gen:" << a.suggested << "  (" << a.suggestedReason
                    << ")\n";
            for (const auto& e : a.elements)
                if (!e.suggested.empty())
                    out << "  suggested    " << e.name << " = gen:" << e.suggested << "  ("
                        << e.suggestedReason << ")\n";
        }
        out << "  parameters   " << countText(info.parameters.count) << " in " << info.parameters.tensors
            << " tensors, " << bytesText(info.parameters.bytes)
            << (info.parameters.dtypes.empty() ? "" : " (" + dtypesText(info.parameters) + ")") << "\n";
        out << "  buffers      " << countText(info.buffers.count) << " in " << info.buffers.tensors
            << " tensors, " << bytesText(info.buffers.bytes) << "\n";
        if (!info.savedDevices.empty()) {
            out << "  saved on     ";
            for (std::size_t i = 0; i < info.savedDevices.size(); ++i)
                out << (i ? ", " : "") << info.savedDevices[i];
            out << (info.savedOnCuda ? " (mapped to the CPU on load)" : "") << "\n";
        }
        if (!info.quantizedEngine.empty()) {
            std::string engines;
            for (const auto& e : twb::buildInfo().quantizedEngines)
                engines += (engines.empty() ? "" : ", ") + e;
            out << "  quantized    weights packed for the " << info.quantizedEngine << " engine"
                << (info.quantizedEngineNote.empty() ? "" : " (" + info.quantizedEngineNote + ")")
                << "; this LibTorch has " << engines << "\n";
        }
        if (!info.extraFiles.empty()) {
            out << "  extra files  ";
            for (std::size_t i = 0; i < info.extraFiles.size(); ++i)
                out << (i ? ", " : "") << info.extraFiles[i];
            out << "\n";
        }
        out << "  methods\n";
        for (const auto& m : info.methods)
            out << "    " << m.schema << "\n";
        if (!info.tree.children.empty()) {
            out << "  submodules\n";
            printTree(out, info.tree, "    ", 0);
        }
        if (withCode && !info.code.empty()) out << "  code\n" << indentLines(info.code, "    ");
        return out.str();
    }
    if (!info.stateDictKey.empty()) {
        out << "  state_dict   under the checkpoint key '" << info.stateDictKey << "'";
        if (info.stateDictCandidates.size() > 1) {
            out << " (others: ";
            for (std::size_t i = 1; i < info.stateDictCandidates.size(); ++i)
                out << (i > 1 ? ", " : "") << "'" << info.stateDictCandidates[i] << "'";
            out << "; choose with --state-dict-key)";
        }
        out << "\n";
    }
    for (const auto& e : info.checkpointEntries)
        out << "  also         " << e << "\n";
    for (const auto& p : info.pythonObjects)
        out << "  python       " << p << "\n";
    out << "  tensors      " << countText(int64_t(info.tensors.size())) << ", "
        << countText(info.parameters.count) << " elements, " << bytesText(info.parameters.bytes) << "\n";
    std::size_t width = 0;
    for (const auto& t : info.tensors)
        width = std::max(width, t.name.size());
    for (const auto& t : info.tensors) {
        out << "    " << t.name << std::string(width - t.name.size() + 2, ' ') << t.dtype << " "
            << shapeText(t.shape) << "  " << bytesText(t.bytes) << "\n";
    }
    return out.str();
}

std::string leafText(const twb::Leaf& leaf) {
    const auto& s = leaf.summary;
    std::ostringstream out;
    out << leaf.path << "  " << s.dtype << " " << shapeText(s.shape);
    if (s.numel > 0)
        out << "  min " << numberText(s.min) << "  max " << numberText(s.max) << "  mean "
            << numberText(s.mean);
    if (s.nanCount) out << "  NaN " << s.nanCount;
    if (s.infCount) out << "  Inf " << s.infCount;
    if (!s.first.empty()) {
        out << "\n    [";
        for (std::size_t i = 0; i < s.first.size(); ++i)
            out << (i ? ", " : "") << numberText(s.first[i]);
        out << (int64_t(s.first.size()) < s.numel ? ", …]" : "]");
    }
    if (!s.topk.empty()) {
        out << "\n    top-" << s.topk.size() << " of row 0:";
        for (const auto& [index, value] : s.topk)
            out << " " << index << " (" << numberText(value) << ")";
    }
    return out.str();
}

static std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items)
        s += (s.empty() ? "" : ", ") + i;
    return s;
}

std::string versionText(const twb::BuildInfo& b, const twb::ThreadSettings& t) {
    std::ostringstream out;
    const auto& l = b.libtorch;
    auto orNone = [](const std::string& s) { return s.empty() ? std::string("none") : s; };
    out << "torchwb " << b.version << "\n"
        << "LibTorch " << b.libtorchVersion << " from the " << l.source
        << (l.location.empty() ? "" : " (" + l.location + ")") << "\n"
        << "  built with " << orNone(l.compiler) << ", CPU capability " << orNone(l.cpuCapability) << "\n"
        << "  BLAS " << orNone(l.blas) << ", LAPACK " << orNone(l.lapack) << ", oneDNN " << orNone(l.onednn)
        << "\n"
        << "  " << (l.openmp.empty() ? "no OpenMP" : l.openmp) << ", parallel backend "
        << orNone(l.parallelBackend) << ", " << t.current << " intra-op threads\n"
        << "  CUDA runtime " << orNone(l.cudaRuntime) << ", cuDNN " << orNone(l.cudnn) << "\n"
        << "  Kineto profiler: " << (l.kineto ? "yes" : "no") << "\n"
        << "  quantized engines: " << orNone(joined(b.quantizedEngines))
        << " (in use: " << twb::quantizedEngine() << ")\n"
        << "CUDA compiled in: " << (b.cudaCompiled ? "yes" : "no")
        << ", available: " << (b.cudaAvailable ? "yes" : "no") << "\n  " << b.cudaStatus << "\n"
        << "CPU threads: " << t.hardware << " hardware, LibTorch default " << t.libtorchDefault << "\n";
    return out.str();
}

} // namespace twb::cli

#include "twb/stats.h"

namespace twb::cli {

void writeText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw twb::Error(path + ": cannot be opened for writing");
    out << text;
    if (!out) throw twb::Error(path + ": writing failed (disk full?)");
}

// Pads to a width in characters, not bytes ("µs" is two bytes in UTF-8).
std::string cell(const std::string& text, std::size_t width, bool left) {
    std::size_t chars = 0;
    for (unsigned char c : text)
        chars += (c & 0xC0) != 0x80;
    const std::string pad(width > chars ? width - chars : 0, ' ');
    return left ? text + pad : pad + text;
}

std::string benchTable(const std::vector<twb::RunRecord>& runs) {
    std::ostringstream out;
    std::size_t width = 13;
    for (const auto& r : runs)
        width = std::max(width, r.label.size());
    out << cell("configuration", width, true) << cell("median", 11) << cell("p90", 11) << cell("p99", 11)
        << cell("mean ± sd", 22) << cell("median 95% CI", 24) << cell("items/s", 12) << cell("1st call", 11)
        << cell("prepare", 11) << "\n";
    for (const auto& r : runs) {
        if (!r.ok) {
            out << cell(r.label, width, true) << "  failed: " << r.error << "\n";
            continue;
        }
        const auto& s = r.stats;
        char tput[32];
        std::snprintf(tput, sizeof tput, "%.1f", r.throughput);
        out << cell(r.label, width, true) << cell(twb::formatDuration(s.median), 11)
            << cell(twb::formatDuration(s.percentile(90)), 11)
            << cell(twb::formatDuration(s.percentile(99)), 11)
            << cell(twb::formatDuration(s.mean) + " ± " + twb::formatDuration(s.stddev), 22)
            << cell(twb::formatDuration(s.medianCiLow) + " – " + twb::formatDuration(s.medianCiHigh), 24)
            << cell(tput, 12) << cell(twb::formatDuration(r.firstCallNs), 11)
            << cell(twb::formatDuration(r.prepareSeconds * 1e9), 11) << (r.cancelled ? "  (cancelled)" : "")
            << "\n";
    }
    for (const auto& r : runs) {
        if (r.ok) continue;
        const std::string text = twb::failureText(r);
        if (!text.empty()) out << text;
    }
    for (const auto& r : runs) {
        if (!r.ok) continue;
        const int64_t outliers = r.stats.outliersLow + r.stats.outliersHigh;
        out << "  " << r.label << ": " << r.stats.count << " samples";
        if (r.processes > 0)
            out << " in " << r.rounds.size() << (r.rounds.size() == 1 ? " round" : " rounds") << " over "
                << r.processes << (r.processes == 1 ? " worker process" : " worker processes")
                << (r.measurement == "quick" ? " (quick)" : "");
        out << " after " << r.warmupNs.size() << " warm-up calls, " << outliers
            << " outside the quartile fences, " << r.threadsUsed
            << (r.threadsUsed == 1 ? " thread" : " threads") << " (LibTorch default "
            << r.libtorchDefaultThreads << ")";
        if (r.peakRssBytes > 0) out << ", peak RSS " << bytesText(uint64_t(r.peakRssBytes));
        if (r.cudaPeakBytes > 0) out << ", CUDA peak " << bytesText(uint64_t(r.cudaPeakBytes));
        if (!r.deviceNs.empty()) {
            // CUDA events time the GPU's work alone; the wall clock adds launch and synchronisation.
            std::vector<double> device = r.deviceNs;
            std::sort(device.begin(), device.end());
            out << ", CUDA event median " << twb::formatDuration(twb::percentileOfSorted(device, 50))
                << " beside wall clock " << twb::formatDuration(r.stats.median);
        }
        out << "\n";
        for (const auto& w : r.warnings)
            out << "    warning: " << w << "\n";
    }
    return out.str();
}

std::string outputComparisonText(const twb::OutputComparison& c) {
    std::ostringstream out;
    out << c.summary << "\n";
    char buf[512];
    for (const auto& l : c.leaves) {
        if (l.status != twb::LeafStatus::Compared) {
            out << "  " << l.path << ": " << twb::leafVerdictText(l) << "\n";
            continue;
        }
        std::snprintf(
            buf, sizeof buf, "  %s: %s  max abs %.3g  mean abs %.3g  max rel %.3g  rmse %.3g  cosine %.6f",
            l.path.c_str(), twb::leafVerdictText(l).c_str(), l.maxAbs, l.meanAbs, l.maxRel, l.rmse, l.cosine);
        out << buf;
        if (l.mismatches) out << "  " << l.mismatches << " of " << l.numel << " elements differ";
        if (l.hasTopk)
            out << "  argmax agree " << numberText(100 * l.argmaxAgreement) << "%  top-" << l.k << " overlap "
                << numberText(100 * l.topkAgreement) << "%";
        out << "\n";
        if (!l.firstMismatches.empty()) {
            out << "    first differing indices:";
            for (const auto& idx : l.firstMismatches)
                out << " " << shapeText(idx);
            out << "\n";
        }
        if (l.nanA || l.nanB || l.infA || l.infB)
            out << "    NaN " << l.nanA << " vs " << l.nanB << ", Inf " << l.infA << " vs " << l.infB << "\n";
        if (!l.note.empty()) out << "    " << l.note << "\n";
    }
    return out.str();
}

} // namespace twb::cli

namespace twb::cli {

std::string targetsText(const twb::Report& report) {
    std::ostringstream out;
    for (const auto& t : report.targets) {
        const auto& e = t.environment;
        out << "target  " << t.name << ": ";
        if (!t.reached) {
            out << "not reached: " << t.error << "\n";
            continue;
        }
        out << "LibTorch " << e.libtorchVersion << ", " << (e.cpuModel.empty() ? "CPU" : e.cpuModel) << " ("
            << e.hardwareThreads << " threads), "
            << (e.cudaAvailable
                    ? "CUDA " + e.cudaVersion + " with " + std::to_string(e.cudaDevices.size()) + " GPU(s)"
                    : std::string("no CUDA"))
            << " on " << (e.hostName.empty() ? "?" : e.hostName) << "\n";
    }
    return out.str();
}

} // namespace twb::cli
