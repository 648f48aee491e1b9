// Latency statistics that can be defended: order statistics, a bootstrap
// confidence interval of the median, stability warnings in words, and a
// significance-tested comparison of two runs. Plain C++, no LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace twb {

inline const std::vector<double>& defaultPercentiles() {
    static const std::vector<double> p{90, 95, 99, 99.9};
    return p;
}

// A run of consecutive samples measured in one round of one worker process.
struct RoundSpan {
    int process = 0, round = 0;
    int64_t begin = 0, count = 0; // into the run's samples
};

struct LatencyStats {
    int64_t count = 0;
    // Nanoseconds.
    double min = 0, max = 0, mean = 0, stddev = 0, median = 0, q1 = 0, q3 = 0, iqr = 0;
    double cv = 0;                                      // stddev / mean
    double medianCiLow = 0, medianCiHigh = 0;           // 95%
    std::string ciMethod;                               // "bootstrap" or "order statistics" (very long runs)
    std::vector<std::pair<double, double>> percentiles; // (p, value)
    int64_t outliersLow = 0, outliersHigh = 0;          // beyond Tukey's fences (1.5 IQR)
    int64_t slowOutliers = 0;                           // more than 1.5 × the median: the run was interrupted
    double whiskerLow = 0, whiskerHigh = 0; // box-plot whiskers: the extreme samples within Tukey's fences
    double drift = 0;                       // relative change of the median from the first to the last third
    double driftPValue = 1;
    // Measured over several processes: each process's median, and the largest over the smallest.
    std::vector<double> processMedians;
    double processSpread = 1;

    // The requested percentile, or NaN when it was not computed.
    double percentile(double p) const;
};

// Linear interpolation between order statistics, as numpy.percentile's default.
double percentileOfSorted(const std::vector<double>& sorted, double p);

LatencyStats computeStats(const std::vector<double>& samplesNs,
                          const std::vector<double>& percentiles = defaultPercentiles(),
                          uint64_t seed = 20240229);

// Statistics of samples measured in rounds over several processes: the median's interval comes from a
// hierarchical bootstrap (processes, then rounds within them, then calls within those), so it carries
// the spread between processes that one process's interval cannot see.
LatencyStats computeRoundStats(const std::vector<double>& samplesNs, const std::vector<RoundSpan>& rounds,
                               const std::vector<double>& percentiles = defaultPercentiles(),
                               uint64_t seed = 20240229);

// A long series summarised for drawing: consecutive samples in at most maxPoints buckets, each
// with its centre index, median and low/high percentiles (5th and 95th by default). 10⁵ calls
// become a line with a band instead of a solid block of colour.
struct RollingBand {
    std::vector<double> x, median, low, high;
};
RollingBand rollingBand(const std::vector<double>& samples, std::size_t maxPoints = 600, double lowP = 5,
                        double highP = 95);

// Sentences on why the numbers may not repeat; empty when the run looks clean.
std::vector<std::string> stabilityWarnings(const LatencyStats& stats);

// Two-sided Mann–Whitney U test p-value (normal approximation, tie-corrected).
double mannWhitneyP(const std::vector<double>& a, const std::vector<double>& b);

struct LatencyComparison {
    double speedup = 1;           // baseline median / candidate median: > 1 means the candidate is faster
    double ciLow = 1, ciHigh = 1; // 95% bootstrap interval of the speedup
    double pValue = 1;            // Mann–Whitney
    bool significant = false;     // the interval excludes 1 and p < 0.05
    std::string verdict; // "B is 1.31× faster than A (95% CI 1.27–1.35)" or "no significant difference …"
};

LatencyComparison compareLatency(const std::vector<double>& baselineNs,
                                 const std::vector<double>& candidateNs,
                                 const std::string& baselineName = "A",
                                 const std::string& candidateName = "B", uint64_t seed = 20240229);

// Two configurations measured in the same processes' time windows (round r of process p of each, run
// one after the other): each process's ratio is the median of its rounds' ratios of medians (a round
// the machine stalled in does not move it), the speedup is the geometric mean of the processes' ratios,
// and its interval the wider of a hierarchical bootstrap over processes and rounds and a t interval over
// the processes. Rounds without a partner are left out; with fewer than two pairs it falls back to
// compareLatency.
LatencyComparison comparePairedRounds(const std::vector<double>& baselineNs,
                                      const std::vector<RoundSpan>& baselineRounds,
                                      const std::vector<double>& candidateNs,
                                      const std::vector<RoundSpan>& candidateRounds,
                                      const std::string& baselineName = "A",
                                      const std::string& candidateName = "B", uint64_t seed = 20240229);

// Two separate runs (a stored baseline and now): the ratio of medians with an interval from
// independent hierarchical bootstraps of each, so both runs' between-process spread widens it.
LatencyComparison compareRunsAcrossProcesses(
    const std::vector<double>& baselineNs, const std::vector<RoundSpan>& baselineRounds,
    const std::vector<double>& candidateNs, const std::vector<RoundSpan>& candidateRounds,
    const std::string& baselineName = "A", const std::string& candidateName = "B", uint64_t seed = 20240229);

struct Histogram {
    std::vector<double> edges;   // bins + 1 edges, ascending
    std::vector<int64_t> counts; // per bin
};

// Equal-width bins over [min, max] of the finite values (log-spaced when logScale and all values > 0).
Histogram histogram(const std::vector<double>& values, int bins, bool logScale = false);

// "812 ns", "5.31 µs", "12.4 ms", "1.20 s"
std::string formatDuration(double ns);

} // namespace twb
