#include "twb/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

namespace twb {
namespace {

constexpr int kBootstrapResamples = 1000;
constexpr std::size_t kBootstrapMaxSamples =
    50000; // beyond this, exact order statistics are cheaper and as good

double medianOf(std::vector<double>& v) {
    // Matches percentileOfSorted(v, 50) without sorting everything.
    const std::size_t n = v.size();
    const std::size_t mid = (n - 1) / 2;
    std::nth_element(v.begin(), v.begin() + long(mid), v.end());
    const double lo = v[mid];
    if (n % 2) return lo;
    const double hi = *std::min_element(v.begin() + long(mid) + 1, v.end());
    return (lo + hi) / 2;
}

double bootstrapMedian(const std::vector<double>& data, std::mt19937_64& rng, std::vector<double>& scratch) {
    std::uniform_int_distribution<std::size_t> pick(0, data.size() - 1);
    scratch.resize(data.size());
    for (auto& x : scratch)
        x = data[pick(rng)];
    return medianOf(scratch);
}

std::vector<double> thinned(const std::vector<double>& data, std::mt19937_64& rng) {
    if (data.size() <= kBootstrapMaxSamples) return data;
    std::vector<double> out(kBootstrapMaxSamples);
    std::uniform_int_distribution<std::size_t> pick(0, data.size() - 1);
    for (auto& x : out)
        x = data[pick(rng)];
    return out;
}

std::string verdictText(const LatencyComparison& c, const std::string& baseName,
                        const std::string& candName) {
    char buf[256];
    if (!c.significant) {
        std::snprintf(buf, sizeof buf,
                      "no significant difference between %s and %s (speedup %.2f×, 95%% CI %.2f–%.2f)",
                      candName.c_str(), baseName.c_str(), c.speedup, c.ciLow, c.ciHigh);
    } else if (c.speedup > 1) {
        std::snprintf(buf, sizeof buf, "%s is %.2f× faster than %s (95%% CI %.2f–%.2f)", candName.c_str(),
                      c.speedup, baseName.c_str(), c.ciLow, c.ciHigh);
    } else {
        std::snprintf(buf, sizeof buf, "%s is %.2f× slower than %s (95%% CI %.2f–%.2f)", candName.c_str(),
                      1 / c.speedup, baseName.c_str(), 1 / c.ciHigh, 1 / c.ciLow);
    }
    return buf;
}

// Samples grouped as measured: processes, their rounds, each round's samples.
using Rounds = std::vector<std::vector<double>>;
std::vector<Rounds> byProcess(const std::vector<double>& samples, const std::vector<RoundSpan>& spans) {
    std::vector<std::pair<int, Rounds>> groups;
    for (const auto& s : spans) {
        if (s.count <= 0 || s.begin < 0 || s.begin + s.count > int64_t(samples.size())) continue;
        auto it =
            std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == s.process; });
        if (it == groups.end()) it = groups.insert(groups.end(), {s.process, {}});
        it->second.emplace_back(samples.begin() + s.begin, samples.begin() + s.begin + s.count);
    }
    std::vector<Rounds> out;
    for (auto& g : groups)
        out.push_back(std::move(g.second));
    return out;
}

// One hierarchical bootstrap replicate of the median: processes drawn with replacement, then rounds
// within each, then up to kPerRound calls within each round (so every round weighs alike).
constexpr std::size_t kPerRound = 64;
double hierarchicalMedian(const std::vector<Rounds>& processes, std::mt19937_64& rng,
                          std::vector<double>& pool) {
    pool.clear();
    std::uniform_int_distribution<std::size_t> pickProcess(0, processes.size() - 1);
    for (std::size_t i = 0; i < processes.size(); ++i) {
        const Rounds& rounds = processes[pickProcess(rng)];
        std::uniform_int_distribution<std::size_t> pickRound(0, rounds.size() - 1);
        for (std::size_t j = 0; j < rounds.size(); ++j) {
            const auto& round = rounds[pickRound(rng)];
            std::uniform_int_distribution<std::size_t> pickCall(0, round.size() - 1);
            const std::size_t n = std::min(round.size(), kPerRound);
            for (std::size_t k = 0; k < n; ++k)
                pool.push_back(round[pickCall(rng)]);
        }
    }
    return medianOf(pool);
}

// The 97.5% quantile of Student's t with `df` degrees of freedom.
double t975(int df) {
    static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                   2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
    if (df < 1) return INFINITY;
    if (df <= 20) return table[df - 1];
    return df <= 30 ? 2.042 : df <= 60 ? 2.000 : 1.960;
}

// Mean and standard error of a few values (the processes' figures on a log scale).
std::pair<double, double> meanAndSe(const std::vector<double>& v) {
    const double n = double(v.size());
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double ss = 0;
    for (double x : v)
        ss += (x - mean) * (x - mean);
    return {mean, v.size() > 1 ? std::sqrt(ss / (n - 1) / n) : 0.0};
}

// A two-sided bootstrap p-value for "the ratio is 1": twice the share of replicates on the far side.
double bootstrapP(const std::vector<double>& sortedRatios) {
    if (sortedRatios.empty()) return 1;
    const double below =
        double(std::lower_bound(sortedRatios.begin(), sortedRatios.end(), 1.0) - sortedRatios.begin());
    const double share = below / double(sortedRatios.size());
    return std::min(1.0, 2 * std::min(share, 1 - share) + 1.0 / double(sortedRatios.size()));
}

} // namespace

double percentileOfSorted(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return std::nan("");
    const double h = (double(sorted.size()) - 1) * std::clamp(p, 0.0, 100.0) / 100.0;
    const std::size_t lo = std::size_t(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - double(lo)) * (sorted[hi] - sorted[lo]);
}

RollingBand rollingBand(const std::vector<double>& samples, std::size_t maxPoints, double lowP,
                        double highP) {
    RollingBand band;
    if (samples.empty() || maxPoints == 0) return band;
    const std::size_t n = samples.size();
    const std::size_t bucket = (n + maxPoints - 1) / maxPoints;
    std::vector<double> part;
    for (std::size_t start = 0; start < n; start += bucket) {
        const std::size_t end = std::min(n, start + bucket);
        part.assign(samples.begin() + long(start), samples.begin() + long(end));
        std::sort(part.begin(), part.end());
        band.x.push_back(0.5 * double(start + end - 1));
        band.median.push_back(percentileOfSorted(part, 50));
        band.low.push_back(percentileOfSorted(part, lowP));
        band.high.push_back(percentileOfSorted(part, highP));
    }
    return band;
}

double LatencyStats::percentile(double p) const {
    for (const auto& [q, v] : percentiles)
        if (std::abs(q - p) < 1e-9) return v;
    return std::nan("");
}

double mannWhitneyP(const std::vector<double>& a, const std::vector<double>& b) {
    const double n1 = double(a.size()), n2 = double(b.size());
    if (a.empty() || b.empty()) return 1;
    std::vector<std::pair<double, int>> all;
    all.reserve(a.size() + b.size());
    for (double x : a)
        all.emplace_back(x, 0);
    for (double x : b)
        all.emplace_back(x, 1);
    std::sort(all.begin(), all.end());
    double rankSumA = 0, tieTerm = 0;
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i;
        while (j < all.size() && all[j].first == all[i].first)
            ++j;
        const double rank = (double(i) + double(j) + 1) / 2; // average of ranks i+1 … j
        const double t = double(j - i);
        tieTerm += t * t * t - t;
        for (std::size_t k = i; k < j; ++k)
            if (all[k].second == 0) rankSumA += rank;
        i = j;
    }
    const double n = n1 + n2;
    const double u = rankSumA - n1 * (n1 + 1) / 2;
    const double mean = n1 * n2 / 2;
    const double var = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)));
    if (var <= 0) return 1;
    const double z = (std::abs(u - mean) - 0.5) / std::sqrt(var); // continuity correction
    return std::min(1.0, std::erfc(std::max(z, 0.0) / std::sqrt(2.0)));
}

LatencyStats computeStats(const std::vector<double>& samples, const std::vector<double>& percentiles,
                          uint64_t seed) {
    LatencyStats s;
    s.count = int64_t(samples.size());
    if (samples.empty()) return s;
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const double n = double(sorted.size());
    s.min = sorted.front();
    s.max = sorted.back();
    s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / n;
    double ss = 0;
    for (double x : sorted)
        ss += (x - s.mean) * (x - s.mean);
    s.stddev = sorted.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
    s.cv = s.mean > 0 ? s.stddev / s.mean : 0;
    s.median = percentileOfSorted(sorted, 50);
    s.q1 = percentileOfSorted(sorted, 25);
    s.q3 = percentileOfSorted(sorted, 75);
    s.iqr = s.q3 - s.q1;
    for (double p : percentiles)
        s.percentiles.emplace_back(p, percentileOfSorted(sorted, p));
    const double lowFence = s.q1 - 1.5 * s.iqr, highFence = s.q3 + 1.5 * s.iqr;
    s.whiskerLow = *std::lower_bound(sorted.begin(), sorted.end(), lowFence);
    s.whiskerHigh = *(std::upper_bound(sorted.begin(), sorted.end(), highFence) - 1);
    for (double x : sorted) {
        if (x < lowFence) ++s.outliersLow;
        if (x > highFence) ++s.outliersHigh;
        if (x > 1.5 * s.median) ++s.slowOutliers;
    }

    // 95% interval of the median.
    if (sorted.size() < 2) {
        s.medianCiLow = s.medianCiHigh = s.median;
    } else if (sorted.size() <= kBootstrapMaxSamples) {
        std::mt19937_64 rng(seed);
        std::vector<double> medians(kBootstrapResamples), scratch;
        for (auto& m : medians)
            m = bootstrapMedian(samples, rng, scratch);
        std::sort(medians.begin(), medians.end());
        s.medianCiLow = percentileOfSorted(medians, 2.5);
        s.medianCiHigh = percentileOfSorted(medians, 97.5);
        s.ciMethod = "bootstrap";
    } else {
        // Distribution-free: the median lies between these order statistics with 95% probability.
        const double half = 1.959964 * std::sqrt(n) / 2;
        const std::size_t lo = std::size_t(std::max(0.0, std::floor(n / 2 - half)));
        const std::size_t hi = std::min(sorted.size() - 1, std::size_t(std::ceil(n / 2 + half)));
        s.medianCiLow = sorted[lo];
        s.medianCiHigh = sorted[hi];
        s.ciMethod = "order statistics";
    }

    // Drift: the first third against the last third, in run order.
    if (samples.size() >= 15) {
        const std::size_t third = samples.size() / 3;
        std::vector<double> first(samples.begin(), samples.begin() + long(third));
        std::vector<double> last(samples.end() - long(third), samples.end());
        const double mFirst = medianOf(first), mLast = medianOf(last);
        s.drift = mFirst > 0 ? (mLast - mFirst) / mFirst : 0;
        s.driftPValue = mannWhitneyP(first, last);
    }
    return s;
}

std::vector<std::string> stabilityWarnings(const LatencyStats& s) {
    std::vector<std::string> w;
    char buf[256];
    if (s.count == 0) return w;
    if (s.count < 10) {
        std::snprintf(buf, sizeof buf, "only %lld samples: the statistics are rough; measure longer",
                      static_cast<long long>(s.count));
        w.emplace_back(buf);
    }
    if (s.median > 0 && s.iqr / s.median > 0.10) {
        std::snprintf(
            buf, sizeof buf,
            "noisy machine: the interquartile range is %.0f%% of the median, so results may not repeat",
            100 * s.iqr / s.median);
        w.emplace_back(buf);
    }
    if (std::abs(s.drift) > 0.05 && s.driftPValue < 0.01) {
        std::snprintf(buf, sizeof buf,
                      "latency %s %.0f%% from the first to the last third of the run: thermal throttling or "
                      "background load",
                      s.drift > 0 ? "rose" : "fell", 100 * std::abs(s.drift));
        w.emplace_back(buf);
    }
    if (s.processMedians.size() > 1 && s.processSpread > 1.25) {
        std::snprintf(
            buf, sizeof buf,
            "medians differed %.2f× between the %zu worker processes: the machine is busy or throttling; "
            "these figures will not repeat closely",
            s.processSpread, s.processMedians.size());
        w.emplace_back(buf);
    }
    // Tukey's fences flag many samples of a tight distribution; calls 50% slower than the median are
    // interruptions.
    if (s.slowOutliers > 0 && double(s.slowOutliers) / double(s.count) > 0.01) {
        std::snprintf(buf, sizeof buf,
                      "%lld calls (%.1f%%) took more than 1.5× the median: other work interrupted the run",
                      static_cast<long long>(s.slowOutliers),
                      100.0 * double(s.slowOutliers) / double(s.count));
        w.emplace_back(buf);
    }
    return w;
}

LatencyComparison compareLatency(const std::vector<double>& base, const std::vector<double>& cand,
                                 const std::string& baseName, const std::string& candName, uint64_t seed) {
    LatencyComparison c;
    if (base.empty() || cand.empty()) {
        c.verdict = "no comparison: a run has no samples";
        return c;
    }
    std::vector<double> a = base, b = cand;
    c.speedup = medianOf(a) / medianOf(b);
    std::mt19937_64 rng(seed);
    const std::vector<double> ta = thinned(base, rng), tb = thinned(cand, rng);
    std::vector<double> ratios(kBootstrapResamples), scratch;
    for (auto& r : ratios) {
        const double ma = bootstrapMedian(ta, rng, scratch);
        const double mb = bootstrapMedian(tb, rng, scratch);
        r = ma / mb;
    }
    std::sort(ratios.begin(), ratios.end());
    c.ciLow = percentileOfSorted(ratios, 2.5);
    c.ciHigh = percentileOfSorted(ratios, 97.5);
    c.pValue = mannWhitneyP(base, cand);
    c.significant = (c.ciLow > 1 || c.ciHigh < 1) && c.pValue < 0.05;
    c.verdict = verdictText(c, baseName, candName);
    return c;
}

LatencyStats computeRoundStats(const std::vector<double>& samples, const std::vector<RoundSpan>& spans,
                               const std::vector<double>& percentiles, uint64_t seed) {
    LatencyStats s = computeStats(samples, percentiles, seed);
    const std::vector<Rounds> processes = byProcess(samples, spans);
    std::size_t roundCount = 0;
    for (const auto& p : processes)
        roundCount += p.size();
    if (roundCount < 2) return s;
    for (const auto& p : processes) {
        std::vector<double> all;
        for (const auto& r : p)
            all.insert(all.end(), r.begin(), r.end());
        s.processMedians.push_back(medianOf(all));
    }
    const auto [lo, hi] = std::minmax_element(s.processMedians.begin(), s.processMedians.end());
    s.processSpread = *lo > 0 ? *hi / *lo : 1;
    // In run order the samples go process by process, so a first-to-last-third drift would only restate
    // the spread between processes, which has a warning of its own.
    if (processes.size() > 1) s.drift = 0, s.driftPValue = 1;
    std::mt19937_64 rng(seed);
    std::vector<double> medians(kBootstrapResamples), pool;
    for (auto& m : medians)
        m = hierarchicalMedian(processes, rng, pool);
    std::sort(medians.begin(), medians.end());
    s.medianCiLow = std::min(s.median, percentileOfSorted(medians, 2.5));
    s.medianCiHigh = std::max(s.median, percentileOfSorted(medians, 97.5));
    // With a handful of processes the percentile bootstrap is too narrow (three processes resample
    // into ten distinct sets); a t interval over the processes' log medians is the honest width there.
    if (s.processMedians.size() > 1 && *lo > 0) {
        std::vector<double> logs;
        for (double m : s.processMedians)
            logs.push_back(std::log(m));
        const double half = t975(int(logs.size()) - 1) * meanAndSe(logs).second;
        s.medianCiLow = std::min(s.medianCiLow, s.median * std::exp(-half));
        s.medianCiHigh = std::max(s.medianCiHigh, s.median * std::exp(half));
    }
    s.ciMethod = "hierarchical bootstrap and t over " + std::to_string(processes.size()) + " processes (" +
                 std::to_string(roundCount) + " rounds)";
    return s;
}

LatencyComparison comparePairedRounds(const std::vector<double>& base,
                                      const std::vector<RoundSpan>& baseRounds,
                                      const std::vector<double>& cand,
                                      const std::vector<RoundSpan>& candRounds, const std::string& baseName,
                                      const std::string& candName, uint64_t seed) {
    // Per process, the log ratio of each round's medians where both have that round.
    std::vector<std::pair<int, std::vector<double>>> pairs;
    std::size_t pairCount = 0;
    for (const auto& a : baseRounds) {
        for (const auto& b : candRounds) {
            if (a.process != b.process || a.round != b.round || a.count <= 0 || b.count <= 0) continue;
            if (a.begin + a.count > int64_t(base.size()) || b.begin + b.count > int64_t(cand.size()))
                continue;
            std::vector<double> ra(base.begin() + a.begin, base.begin() + a.begin + a.count);
            std::vector<double> rb(cand.begin() + b.begin, cand.begin() + b.begin + b.count);
            const double ma = medianOf(ra), mb = medianOf(rb);
            if (!(ma > 0 && mb > 0)) continue;
            auto it =
                std::find_if(pairs.begin(), pairs.end(), [&](const auto& g) { return g.first == a.process; });
            if (it == pairs.end()) it = pairs.insert(pairs.end(), {a.process, {}});
            it->second.push_back(std::log(ma / mb));
            ++pairCount;
        }
    }
    if (pairCount < 2) return compareLatency(base, cand, baseName, candName, seed);
    auto mean = [](const std::vector<double>& v) {
        return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    };
    std::vector<double> perProcess; // each process's median log ratio
    for (const auto& p : pairs) {
        std::vector<double> logs = p.second;
        perProcess.push_back(medianOf(logs));
    }
    LatencyComparison c;
    c.speedup = std::exp(mean(perProcess));
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pickProcess(0, pairs.size() - 1);
    std::vector<double> ratios(kBootstrapResamples), centers(pairs.size()), drawn;
    for (auto& r : ratios) {
        for (auto& center : centers) {
            const auto& p = pairs[pickProcess(rng)].second;
            std::uniform_int_distribution<std::size_t> pickPair(0, p.size() - 1);
            drawn.clear();
            for (std::size_t j = 0; j < p.size(); ++j)
                drawn.push_back(p[pickPair(rng)]);
            center = medianOf(drawn);
        }
        r = std::exp(mean(centers));
    }
    std::sort(ratios.begin(), ratios.end());
    c.ciLow = std::min(c.speedup, percentileOfSorted(ratios, 2.5));
    c.ciHigh = std::max(c.speedup, percentileOfSorted(ratios, 97.5));
    if (perProcess.size() > 1) { // each process's ratio is one observation
        const auto [m, se] = meanAndSe(perProcess);
        const double half = t975(int(perProcess.size()) - 1) * se;
        c.ciLow = std::min(c.ciLow, std::exp(m - half));
        c.ciHigh = std::max(c.ciHigh, std::exp(m + half));
    }
    c.pValue = bootstrapP(ratios);
    c.significant = (c.ciLow > 1 || c.ciHigh < 1) && c.pValue < 0.05;
    c.verdict = verdictText(c, baseName, candName);
    return c;
}

LatencyComparison
compareRunsAcrossProcesses(const std::vector<double>& base, const std::vector<RoundSpan>& baseRounds,
                           const std::vector<double>& cand, const std::vector<RoundSpan>& candRounds,
                           const std::string& baseName, const std::string& candName, uint64_t seed) {
    const auto pa = byProcess(base, baseRounds), pb = byProcess(cand, candRounds);
    // Runs from one process each (older reports, quick mode): nothing to widen the interval with.
    if (pa.size() < 2 && pb.size() < 2) return compareLatency(base, cand, baseName, candName, seed);
    auto groups = [](const std::vector<double>& samples, std::vector<Rounds> p) {
        if (p.empty()) p.push_back({samples});
        return p;
    };
    const std::vector<Rounds> ga = groups(base, pa), gb = groups(cand, pb);
    LatencyComparison c;
    std::vector<double> a = base, b = cand;
    c.speedup = medianOf(a) / medianOf(b);
    std::mt19937_64 rng(seed);
    std::vector<double> ratios(kBootstrapResamples), pool;
    for (auto& r : ratios) {
        const double ma = hierarchicalMedian(ga, rng, pool);
        r = ma / hierarchicalMedian(gb, rng, pool);
    }
    std::sort(ratios.begin(), ratios.end());
    c.ciLow = std::min(c.speedup, percentileOfSorted(ratios, 2.5));
    c.ciHigh = std::max(c.speedup, percentileOfSorted(ratios, 97.5));
    // Welch's t on the processes' log medians of both runs, where each has two processes or more.
    auto logMedians = [](const std::vector<Rounds>& processes) {
        std::vector<double> out;
        for (const auto& p : processes) {
            std::vector<double> all;
            for (const auto& r : p)
                all.insert(all.end(), r.begin(), r.end());
            if (!all.empty()) out.push_back(std::log(std::max(medianOf(all), 1e-300)));
        }
        return out;
    };
    const std::vector<double> la = logMedians(ga), lb = logMedians(gb);
    if (la.size() > 1 && lb.size() > 1) {
        const auto [ma, sa] = meanAndSe(la);
        const auto [mb, sb] = meanAndSe(lb);
        const double se = std::sqrt(sa * sa + sb * sb);
        const double half = t975(int(std::min(la.size(), lb.size())) - 1) * se;
        c.ciLow = std::min(c.ciLow, std::exp(ma - mb - half));
        c.ciHigh = std::max(c.ciHigh, std::exp(ma - mb + half));
    }
    c.pValue = bootstrapP(ratios);
    c.significant = (c.ciLow > 1 || c.ciHigh < 1) && c.pValue < 0.05;
    c.verdict = verdictText(c, baseName, candName);
    return c;
}

Histogram histogram(const std::vector<double>& values, int bins, bool logScale) {
    Histogram h;
    bins = std::max(bins, 1);
    double lo = INFINITY, hi = -INFINITY;
    for (double v : values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!(lo <= hi)) return h;
    const bool useLog = logScale && lo > 0;
    const double a = useLog ? std::log10(lo) : lo, b = useLog ? std::log10(hi) : hi;
    const double width = b > a ? (b - a) / bins : 1;
    for (int i = 0; i <= bins; ++i) {
        const double e = a + width * i;
        h.edges.push_back(useLog ? std::pow(10.0, e) : e);
    }
    h.counts.assign(std::size_t(bins), 0);
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        const double x = useLog ? std::log10(v) : v;
        const int bin = std::clamp(int((x - a) / width), 0, bins - 1);
        ++h.counts[std::size_t(bin)];
    }
    return h;
}

std::string formatDuration(double ns) {
    char buf[32];
    const double a = std::abs(ns);
    if (std::isnan(ns)) return "n/a";
    if (a < 1e3)
        std::snprintf(buf, sizeof buf, "%.0f ns", ns);
    else if (a < 1e6)
        std::snprintf(buf, sizeof buf, a < 1e4 ? "%.2f µs" : a < 1e5 ? "%.1f µs" : "%.0f µs", ns / 1e3);
    else if (a < 1e9)
        std::snprintf(buf, sizeof buf, a < 1e7 ? "%.2f ms" : a < 1e8 ? "%.1f ms" : "%.0f ms", ns / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
    return buf;
}

} // namespace twb
