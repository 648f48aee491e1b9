// The sweep's plan and judgement, without LibTorch: its axes and their grid, the names of objectives and
// statuses, the Pareto front, when a point is clearly worse than the best, and the recommendation with its
// comparisons against the two references. Measuring the points is sweep.cpp's.
#include "twb/sweep.h"

#include "sweep_internal.h"

#include "twb/error.h"
#include "twb/format.h"
#include "twb/stats.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

namespace twb {
namespace {

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const std::string item =
            text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

int64_t positive(const std::string& key, const std::string& value) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used == value.size() && v > 0 && v <= 1 << 20) return v;
    } catch (const std::exception&) {
    }
    throw Error("sweep: " + key + " takes positive whole numbers, not '" + value + "'");
}

// Every k-th sample in time order, at most `most`: the bootstrap behind a comparison costs its samples'
// count per resample, and a 5 µs model measured for seconds has hundreds of thousands.
std::vector<double> thinned(const std::vector<double>& v, std::size_t most = 4000) {
    if (v.size() <= most) return v;
    std::vector<double> out;
    const double step = double(v.size()) / double(most);
    for (std::size_t i = 0; i < most; ++i)
        out.push_back(v[std::size_t(double(i) * step)]);
    return out;
}

// Per-item time of each request: what throughput comparisons rank.
std::vector<double> perItem(const SweepPoint& p) {
    std::vector<double> v;
    const double div = double(std::max<int64_t>(1, p.items)) * std::max(1, p.streams);
    for (double s : thinned(p.samplesNs))
        v.push_back(s / div);
    return v;
}

} // namespace

namespace detail {

double objectiveScore(const SweepPoint& p, SweepObjective objective, double bestMedian,
                      double bestThroughput) {
    switch (objective) {
    case SweepObjective::Latency:
        return -p.stats.median;
    case SweepObjective::Throughput:
        return p.throughput;
    case SweepObjective::Balanced:
        return (bestMedian > 0 ? bestMedian / p.stats.median : 0) +
               (bestThroughput > 0 ? p.throughput / bestThroughput : 0);
    }
    return 0;
}

} // namespace detail

SweepAxis SweepAxis::parse(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size())
        throw Error("sweep: an axis is KEY=V1,V2,… (e.g. threads=1,2), not '" + text + "'");
    SweepAxis a;
    a.key = text.substr(0, eq);
    a.values = splitList(text.substr(eq + 1));
    if (a.values.empty()) throw Error("sweep: the axis '" + a.key + "' has no values");
    for (const auto& v : a.values) {
        if (a.key == "batch" || a.key == "streams")
            positive(a.key, v);
        else {
            RunConfig probe;
            probe.set(a.key, v); // names the key or value it refuses
        }
    }
    return a;
}

std::string objectiveName(SweepObjective objective) {
    switch (objective) {
    case SweepObjective::Latency:
        return "latency";
    case SweepObjective::Throughput:
        return "throughput";
    case SweepObjective::Balanced:
        return "balanced";
    }
    return "latency";
}

SweepObjective parseObjective(const std::string& text) {
    if (text == "latency") return SweepObjective::Latency;
    if (text == "throughput") return SweepObjective::Throughput;
    if (text == "balanced") return SweepObjective::Balanced;
    throw Error("sweep: the objective is latency, throughput or balanced, not '" + text + "'");
}

std::string pointStatusName(PointStatus status) {
    switch (status) {
    case PointStatus::Measured:
        return "measured";
    case PointStatus::Skipped:
        return "skipped";
    case PointStatus::Eliminated:
        return "eliminated";
    case PointStatus::Failed:
        return "failed";
    case PointStatus::NotReached:
        return "not reached";
    }
    return "";
}

std::vector<SweepAxis> defaultAxes(int hardwareThreads) {
    std::vector<SweepAxis> axes{{"jit", {"off", "freeze", "optimize"}}};
    std::vector<std::string> threads{"1"};
    if (hardwareThreads > 1) threads.push_back(std::to_string(hardwareThreads));
    axes.push_back({"threads", threads});
    if (hardwareThreads > 1) axes.push_back({"streams", {"1", "2"}});
    return axes;
}

std::vector<SweepPoint> expandGrid(const std::vector<SweepAxis>& axes, const RunConfig& base,
                                   int hardwareThreads, bool cudaAvailable) {
    std::vector<SweepPoint> points;
    std::vector<std::size_t> at(axes.size(), 0);
    for (const auto& a : axes)
        if (a.values.empty()) return points;
    while (true) {
        SweepPoint p;
        p.config = base;
        std::string reason;
        for (std::size_t i = 0; i < axes.size(); ++i) {
            const std::string& key = axes[i].key;
            const std::string& value = axes[i].values[at[i]];
            p.id += (p.id.empty() ? "" : ",") + key + "=" + value;
            try {
                if (key == "batch")
                    p.batch = positive(key, value);
                else if (key == "streams")
                    p.streams = int(positive(key, value));
                else
                    p.config.set(key, value);
            } catch (const Error& e) {
                if (reason.empty()) reason = e.what();
            }
        }
        const int threads = p.config.threads > 0 ? p.config.threads : hardwareThreads;
        const bool cuda = p.config.device.rfind("cuda", 0) == 0;
        if (reason.empty() && cuda && !cudaAvailable) reason = "CUDA is not available here";
        if (reason.empty() && cuda && p.streams > 1) reason = "streams are measured on the CPU only";
        if (reason.empty() && threads * p.streams > hardwareThreads)
            reason = std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " × " +
                     std::to_string(p.streams) + " streams is above this machine's " +
                     std::to_string(hardwareThreads) + " hardware threads";
        if (reason.empty()) {
            try {
                validateConfig(p.config);
            } catch (const Error& e) {
                reason = e.what();
            }
        }
        p.config.name = p.id;
        if (!reason.empty()) {
            p.status = PointStatus::Skipped;
            p.reason = reason;
        }
        points.push_back(p);
        std::size_t i = axes.size();
        while (i > 0) {
            --i;
            if (++at[i] < axes[i].values.size()) break;
            at[i] = 0;
            if (i == 0) return points;
        }
        if (axes.empty()) return points;
    }
}

std::vector<int> paretoFront(const std::vector<SweepPoint>& points, bool withMemory) {
    std::vector<int> front;
    auto counts = [](const SweepPoint& p) { return p.status == PointStatus::Measured && p.stats.count > 0; };
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto& a = points[i];
        if (!counts(a)) continue;
        bool dominated = false;
        for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
            const auto& b = points[j];
            if (i == j || !counts(b)) continue;
            // Unknown memory (concurrent streams are not measured for it) beats nothing and loses to
            // everything.
            auto memory = [](const SweepPoint& p) {
                return p.peakRssBytes < 0 ? std::numeric_limits<int64_t>::max() : p.peakRssBytes;
            };
            const bool noWorse = b.stats.median <= a.stats.median && b.throughput >= a.throughput &&
                                 (!withMemory || memory(b) <= memory(a));
            const bool better = b.stats.median < a.stats.median || b.throughput > a.throughput ||
                                (withMemory && memory(b) < memory(a));
            dominated = noWorse && better;
        }
        if (!dominated) front.push_back(int(i));
    }
    return front;
}

bool clearlyWorse(const SweepPoint& c, const SweepPoint& best, SweepObjective objective) {
    if (c.stats.count == 0 || best.stats.count == 0) return false;
    // A short first round drifts more than its interval says (a point measured while the machine was
    // busier): besides the intervals apart, a loser must be 25% worse to go.
    constexpr double kMargin = 1.25;
    const bool slower =
        c.stats.medianCiLow > best.stats.medianCiHigh && c.stats.median > kMargin * best.stats.median;
    // Throughput's interval follows from the median's: items per second scale with 1 / median.
    auto tpLow = [](const SweepPoint& p) {
        return p.stats.medianCiHigh > 0 ? p.throughput * p.stats.median / p.stats.medianCiHigh : 0;
    };
    auto tpHigh = [](const SweepPoint& p) {
        return p.stats.medianCiLow > 0 ? p.throughput * p.stats.median / p.stats.medianCiLow : 0;
    };
    const bool lessThroughput = tpHigh(c) < tpLow(best) && c.throughput * kMargin < best.throughput;
    switch (objective) {
    case SweepObjective::Latency:
        return slower;
    case SweepObjective::Throughput:
        return lessThroughput;
    case SweepObjective::Balanced:
        return slower && lessThroughput;
    }
    return false;
}

namespace {
// "cpu · jit optimize · 1 thread · batch 8 · 2 streams"
std::string describe(const SweepPoint& p) {
    RunConfig c = p.config;
    c.name.clear();
    std::string label = p.reference ? p.referenceName + " (" + c.label() + ")" : c.label();
    if (p.batch > 0) label += " · batch " + std::to_string(p.batch);
    if (p.streams > 1) label += " · " + std::to_string(p.streams) + " streams";
    return label;
}
} // namespace

void recommend(SweepResult& r) {
    r.recommended = r.runnerUp = -1;
    r.recommendation.clear();
    r.applyFlags.clear();
    std::vector<int> eligible;
    double bestMedian = 0, bestThroughput = 0;
    for (std::size_t i = 0; i < r.points.size(); ++i) {
        const auto& p = r.points[i];
        if (p.status != PointStatus::Measured || p.stats.count == 0 || !p.outputsChecked || !p.outputsOk)
            continue;
        if (r.objective == SweepObjective::Throughput && r.maxLatencyMs > 0 &&
            p.stats.percentile(99) > r.maxLatencyMs * 1e6)
            continue;
        eligible.push_back(int(i));
        bestMedian = bestMedian == 0 ? p.stats.median : std::min(bestMedian, p.stats.median);
        bestThroughput = std::max(bestThroughput, p.throughput);
    }
    if (eligible.empty()) {
        r.recommendation =
            "No configuration can be recommended: none was measured with outputs that match the "
            "model as saved" +
            std::string(r.maxLatencyMs > 0 ? " and a p99 under the latency limit" : "") + ".";
        return;
    }
    std::stable_sort(eligible.begin(), eligible.end(), [&](int a, int b) {
        return detail::objectiveScore(r.points[std::size_t(a)], r.objective, bestMedian, bestThroughput) >
               detail::objectiveScore(r.points[std::size_t(b)], r.objective, bestMedian, bestThroughput);
    });
    r.recommended = eligible[0];
    if (eligible.size() > 1) r.runnerUp = eligible[1];
    const SweepPoint& w = r.points[std::size_t(r.recommended)];
    const bool latency = r.objective == SweepObjective::Latency;
    auto samplesOf = [&](const SweepPoint& p) { return latency ? thinned(p.samplesNs) : perItem(p); };
    auto against = [&](SweepReference kind, const char* name, LatencyComparison& into) -> std::string {
        for (const auto& p : r.points)
            if (p.referenceKind == kind && p.stats.count > 0) {
                into = compareLatency(samplesOf(p), samplesOf(w), p.id, w.id);
                if (&p == &w) return std::string(); // its label already names it
                const double s = into.speedup;
                return formatFixed(s >= 1 ? s : 1 / s, 1) + "× " +
                       (s >= 1 ? "faster than " : "slower than ") + name + ", 95% CI " +
                       formatFixed(s >= 1 ? into.ciLow : 1 / into.ciHigh, 2) + "–" +
                       formatFixed(s >= 1 ? into.ciHigh : 1 / into.ciLow, 2);
            }
        return std::string("no measurement of ") + name;
    };
    const std::string label = describe(w);
    std::string s;
    if (r.objective == SweepObjective::Latency)
        s = "Fastest for latency: " + label + ", " + formatDuration(w.stats.median);
    else if (r.objective == SweepObjective::Throughput)
        s = "Highest throughput: " + label + ", " + formatFixed(w.throughput, 1) + " items/s (p99 " +
            formatDuration(w.stats.percentile(99)) + ")";
    else
        s = "Best balance of latency and throughput: " + label + ", " + formatDuration(w.stats.median) +
            " and " + formatFixed(w.throughput, 1) + " items/s";
    std::string vs;
    for (const std::string& part :
         {against(SweepReference::LibTorchDefault, "LibTorch's default", r.vsLibtorchDefault),
          against(SweepReference::WorkbenchDefault, "the workbench's default", r.vsWorkbenchDefault)})
        if (!part.empty()) vs += (vs.empty() ? "" : "; ") + part;
    s += " (" + vs + "); outputs allclose";
    if (w.config.reducedPrecision())
        s += " at atol " + formatFixed(w.atol, 4) + ", rtol " + formatFixed(w.rtol, 4);
    s += ".";
    if (r.runnerUp >= 0) {
        const SweepPoint& u = r.points[std::size_t(r.runnerUp)];
        r.vsRunnerUp = compareLatency(samplesOf(u), samplesOf(w), u.id, w.id);
        if (!r.vsRunnerUp.significant)
            s += " It is not significantly better than the runner-up, " + describe(u) + " (" +
                 formatFixed(r.vsRunnerUp.speedup, 2) + "×, 95% CI " + formatFixed(r.vsRunnerUp.ciLow, 2) +
                 "–" + formatFixed(r.vsRunnerUp.ciHigh, 2) + ").";
    }
    r.recommendation = s;
    const RunConfig& c = w.config;
    r.applyFlags = "--device " + c.device + " --jit " + jitModeName(c.jit) + " --threads " +
                   std::to_string(c.threads) + " --dtype " + c.dtype + " --grad " + gradModeName(c.grad);
    if (w.batch > 0) r.applyFlags += "   (inputs at batch " + std::to_string(w.batch) + ")";
    if (w.streams > 1) r.applyFlags += "   (" + std::to_string(w.streams) + " concurrent streams)";
}

} // namespace twb
