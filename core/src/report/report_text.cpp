// A report's plain-text renderings: every sample as CSV, and how a run's worker failed.
#include "twb/report.h"

#include <sstream>

namespace twb {

std::string failureText(const RunRecord& r) {
    if (r.failedPhase.empty() && r.fix.empty()) return {};
    std::ostringstream out;
    out << "  " << r.label << ": failed";
    if (!r.failedPhase.empty()) out << " in " << r.failedPhase;
    if (r.signal) out << " (signal " << r.signal << ")";
    if (r.exitCode) out << " (exit status " << r.exitCode << ")";
    out << "\n";
    if (!r.fix.empty()) out << "    fix: " << r.fix << "\n";
    if (!r.stderrTail.empty()) {
        out << "    the worker's last lines:\n";
        std::istringstream lines(r.stderrTail);
        std::string line;
        while (std::getline(lines, line))
            out << "      " << line << "\n";
    }
    return out.str();
}

std::string samplesCsv(const Report& report) {
    std::ostringstream out;
    out.precision(17);
    out << "run,label,phase,index,latency_ns,device_ns\n";
    for (std::size_t r = 0; r < report.runs.size(); ++r) {
        const auto& run = report.runs[r];
        std::string label = run.label;
        for (auto& c : label)
            if (c == '"') c = '\'';
        for (std::size_t i = 0; i < run.warmupNs.size(); ++i)
            out << r << ",\"" << label << "\",warmup," << i << "," << run.warmupNs[i] << ",\n";
        for (std::size_t i = 0; i < run.samplesNs.size(); ++i) {
            out << r << ",\"" << label << "\",sample," << i << "," << run.samplesNs[i] << ",";
            if (i < run.deviceNs.size()) out << run.deviceNs[i];
            out << "\n";
        }
    }
    return out.str();
}

} // namespace twb
