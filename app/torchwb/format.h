// Human-readable renderings for the terminal.
#pragma once

#include "twb/build_info.h"
#include "twb/model.h"
#include "twb/runtime.h"
#include "twb/value.h"

#include <string>
#include <vector>

namespace twb::cli {

std::string bytesText(uint64_t bytes); // 1.5 KiB
std::string countText(int64_t n);      // 11,689,512
std::string numberText(double v);      // compact, NaN-aware
// Writes a text file (CSV); throws twb::Error naming the file.
void writeText(const std::string& path, const std::string& text);
// Padded to `width` characters (UTF-8 aware), right-aligned unless `left`.
std::string cell(const std::string& text, std::size_t width, bool left = false);
std::string inspectionText(const twb::ModelInfo& info, bool withCode);
std::string leafText(const twb::Leaf& leaf);
std::string versionText(const twb::BuildInfo& build, const twb::ThreadSettings& threads);

} // namespace twb::cli

#include "twb/bench.h"
#include "twb/compare.h"

namespace twb::cli {

// One row per run: median, p90, p99, mean ± sd, median CI, throughput, first call, preparation.
std::string benchTable(const std::vector<twb::RunRecord>& runs);
std::string outputComparisonText(const twb::OutputComparison& c);

} // namespace twb::cli

#include "twb/report.h"

namespace twb::cli {

// A line per target of a plan run on several: its LibTorch, CPU and CUDA, or why it was not reached;
// "" for a plan on one.
std::string targetsText(const twb::Report& report);

} // namespace twb::cli
