// The load generator's own honesty and the peak search's repeatability (tests/perf/README.md):
//   1. a model that does nearly nothing, served at 5,000 QPS for 10 s: how late the generator issued its
//      arrivals against their schedule (goal: p99 at most 50 µs);
//   2. three peak searches on a model of fixed work against a p99 bound, made in turns in one worker (a load
//      of each in rotation, each with arrivals of its own): each peak, and their spread around the middle
//      one (goal: within ±10%). In turns they see the machine in the same minutes, so the spread is the
//      search's own;
//   3. for comparison, three searches one after another, each in a worker of its own: their spread is the
//      machine's drift from one minute to the next as well.
// 2 and 3 are made for each bound given: one that the machine's stalls exceed decides the p99 by how many
// stalls a load caught; one above them, by the queue.
// Usage: bench_load TINY.pt TINY_GENERATOR WORK.pt WORK_GENERATOR BOUND_MS...
#include "twb/input_spec.h"
#include "twb/load.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s TINY.pt TINY_GENERATOR WORK.pt WORK_GENERATOR BOUND_MS...\n",
                     argv[0]);
        return 2;
    }
    {
        const twb::Model tiny = twb::Model::load(argv[1]);
        twb::LoadOptions o;
        o.scenario = twb::LoadScenario::Server;
        o.config = twb::RunConfig::parse("threads=1");
        o.qps = 5000;
        o.seconds = 10;
        const twb::LoadResult r = twb::runLoad(tiny, {twb::InputSpec::parseGenerated(argv[2])}, {}, o);
        if (!r.ok) {
            std::fprintf(stderr, "the generator's run failed: %s\n", r.error.c_str());
            return 1;
        }
        const twb::LoadPoint& p = r.curve.at(0);
        std::printf("generator at %.0f QPS for %.0f s (%lld arrivals, service %.1f µs): late by p50 %.1f µs, "
                    "p99 %.1f µs, max %.1f µs (goal p99 ≤ 50 µs: %s); achieved %.0f QPS\n",
                    o.qps, o.seconds, static_cast<long long>(p.requests), r.serviceMeanNs / 1e3,
                    p.arrivalLag.p50 / 1e3, p.arrivalLag.p99 / 1e3, p.arrivalLag.max / 1e3,
                    p.arrivalLag.p99 <= 50e3 ? "met" : "missed", p.achievedQps);
    }
    const twb::Model work = twb::Model::load(argv[3]);
    const std::vector<twb::InputSpec> inputs{twb::InputSpec::parseGenerated(argv[4])};
    const auto spreadLine = [](const char* how, const std::vector<double>& peaks) {
        const double spread = twb::spreadAroundMiddle(peaks);
        std::printf("peaks %s:", how);
        for (std::size_t i = 0; i < peaks.size(); ++i)
            std::printf("%s %.0f", i == 0 ? "" : ",", peaks[i]);
        if (std::isnan(spread))
            std::printf(" QPS: the middle one found no peak (goal ±10%%: missed)\n");
        else
            std::printf(" QPS: within ±%.1f%% of the middle one (goal ±10%%: %s)\n", spread * 100,
                        spread <= 0.10 ? "met" : "missed");
    };
    for (int bound = 5; bound < argc; ++bound) {
        twb::LoadOptions o;
        o.scenario = twb::LoadScenario::Server;
        o.config = twb::RunConfig::parse("threads=1");
        o.findPeak = true;
        o.p99BoundMs = std::atof(argv[bound]);
        o.seconds = 3;
        std::printf("p99 within %s ms:\n", argv[bound]);
        {
            twb::LoadOptions turns = o;
            turns.peakSearches = 3;
            const twb::LoadResult r = twb::runLoad(work, inputs, {}, turns);
            std::printf("three peak searches in turns: %s (%zu loads tried, service %.0f µs)\n",
                        r.ok ? r.verdict.c_str() : r.error.c_str(), r.curve.size(), r.serviceMeanNs / 1e3);
            if (r.ok && r.searchPeaksQps.size() == 3) spreadLine("in turns", r.searchPeaksQps);
        }
        std::vector<double> peaks;
        for (int i = 0; i < 3; ++i) {
            const twb::LoadResult r = twb::runLoad(work, inputs, {}, o);
            std::printf("peak search %d, a worker of its own: %s (%zu loads tried, service %.0f µs)\n", i + 1,
                        r.ok ? r.verdict.c_str() : r.error.c_str(), r.curve.size(), r.serviceMeanNs / 1e3);
            if (r.ok && r.peakQps > 0) peaks.push_back(r.peakQps);
        }
        if (peaks.size() == 3) spreadLine("one after another", peaks);
        std::fflush(stdout);
    }
    return 0;
}
