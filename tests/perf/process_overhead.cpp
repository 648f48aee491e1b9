// torchwb bench as a process against a plain LibTorch loop program, the way a user would compare
// them: alternating pairs of runs, each pair's ratio of medians, and the median ratio over the pairs
// with a bootstrap 95% confidence interval.
//   process_overhead TORCHWB PLAIN_LOOP PAIRS MODEL.pt SHAPE ITERATIONS [MODEL.pt SHAPE ITERATIONS …]
// With TWB_PLAIN_LOOP_METHOD=1 the plain loop looks forward up once, as the harness does.
#include "twb/report.h"
#include "twb/runtime.h"
#include "twb/stats.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

std::string capture(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p))
            out += buf;
        if (pclose(p) != 0) out.clear();
    }
    return out;
}

double medianOf(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return twb::percentileOfSorted(v, 50);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 7 || (argc - 4) % 3 != 0) {
        std::fprintf(stderr, "usage: %s TORCHWB PLAIN_LOOP PAIRS MODEL SHAPE ITERATIONS [...]\n", argv[0]);
        return 2;
    }
    const std::string torchwb = argv[1], plain = argv[2];
    const int pairs = std::max(10, std::atoi(argv[3]));
    const int threads = twb::threadSettings().hardware;
    constexpr int kWarmup = 20;
    const std::string report =
        (std::filesystem::temp_directory_path() / "twb_process_overhead.json").string();
    for (int a = 4; a + 2 < argc; a += 3) {
        const std::string model = argv[a], shape = argv[a + 1], iters = argv[a + 2];
        std::printf("%s (%s, %s calls, %d threads): %d alternating pairs\n", model.c_str(), shape.c_str(),
                    iters.c_str(), threads, pairs);
        std::vector<double> ratios;
        for (int i = 0; i < pairs; ++i) {
            // Alternate which one goes first, so that a drifting machine does not favour either.
            double wb = 0, loop = 0;
            for (int side = 0; side < 2; ++side) {
                if ((side == 0) == (i % 2 == 0)) {
                    const std::string cmd = "'" + torchwb + "' bench '" + model + "' -q -g normal:" + shape +
                                            " --iters " + iters + " --warmup " + std::to_string(kWarmup) +
                                            " --threads " + std::to_string(threads) + " --json " + report +
                                            " > /dev/null";
                    if (std::system(cmd.c_str()) != 0) {
                        std::fprintf(stderr, "torchwb bench failed\n");
                        return 1;
                    }
                    wb = twb::readReport(report).runs.at(0).stats.median;
                } else {
                    const std::string out =
                        capture("'" + plain + "' '" + model + "' " + shape + " " + iters + " " +
                                std::to_string(kWarmup) + " " + std::to_string(threads) +
                                (std::getenv("TWB_PLAIN_LOOP_METHOD") ? " method" : ""));
                    if (out.rfind("median_ns ", 0) != 0) {
                        std::fprintf(stderr, "the plain loop failed\n");
                        return 1;
                    }
                    loop = std::stod(out.substr(10));
                }
            }
            ratios.push_back(wb / loop);
            std::printf("  pair %2d: torchwb %s, plain loop %s, ratio %.4f\n", i + 1,
                        twb::formatDuration(wb).c_str(), twb::formatDuration(loop).c_str(), wb / loop);
        }
        std::mt19937_64 rng(20240229);
        std::uniform_int_distribution<std::size_t> pick(0, ratios.size() - 1);
        std::vector<double> boot;
        for (int b = 0; b < 5000; ++b) {
            std::vector<double> resample;
            for (std::size_t k = 0; k < ratios.size(); ++k)
                resample.push_back(ratios[pick(rng)]);
            boot.push_back(medianOf(resample));
        }
        std::sort(boot.begin(), boot.end());
        std::printf("  torchwb / plain loop: median ratio %.4f (95%% CI %.4f–%.4f) over %d pairs\n\n",
                    medianOf(ratios), twb::percentileOfSorted(boot, 2.5), twb::percentileOfSorted(boot, 97.5),
                    pairs);
    }
    return 0;
}
