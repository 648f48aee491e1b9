// Does the sweep find what it should, inside its budget? Sweeps each model over the default space (JIT
// modes × 1 and all threads × 1 and 2 streams) with a 60 s budget and prints the recommendation's
// speedup against LibTorch's default (goals: ≥ 2.5× on resnet18, ≥ 5× on mobilenet_v2); then a 60 s sweep
// of 3 JIT modes × 2 thread counts × 3 batch sizes × 2 stream counts on the first model, and how long it
// took against its budget (goal: within +10%). Usage:
//   bench_sweep MODEL.pt GENERATOR GOAL [MODEL.pt GENERATOR GOAL …]
#include "twb/input_spec.h"
#include "twb/runtime.h"
#include "twb/stats.h"
#include "twb/sweep.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 4 || (argc - 1) % 3 != 0) {
        std::fprintf(stderr, "usage: %s MODEL.pt GENERATOR GOAL [MODEL.pt GENERATOR GOAL …]\n", argv[0]);
        return 2;
    }
    const twb::ThreadSettings t = twb::threadSettings();
    std::printf("hardware threads %d, LibTorch's default %d\n", t.hardware, t.libtorchDefault);
    for (int a = 1; a + 2 < argc; a += 3) {
        const std::string path = argv[a];
        const double goal = std::atof(argv[a + 2]);
        const twb::Model model = twb::Model::load(path);
        const std::vector<twb::InputSpec> specs{twb::InputSpec::parseGenerated(argv[a + 1])};
        twb::SweepOptions o;
        o.budgetSeconds = 60;
        const auto start = std::chrono::steady_clock::now();
        const twb::SweepResult r = twb::runSweep(model, specs, {}, o);
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "%s, default space, 60 s budget, took %.1f s:\n  %s\n  speedup against LibTorch's default "
            "%.2f× (goal ≥ %.1f×: %s)\n",
            path.c_str(), took, r.recommendation.c_str(), r.vsLibtorchDefault.speedup, goal,
            r.vsLibtorchDefault.speedup >= goal ? "met" : "missed");
        if (a != 1) continue;
        twb::SweepOptions grid;
        grid.budgetSeconds = 60;
        grid.objective = twb::SweepObjective::Throughput;
        for (const char* axis : {"jit=off,freeze,optimize", "threads=1,2", "batch=1,4,8", "streams=1,2"})
            grid.axes.push_back(twb::SweepAxis::parse(axis));
        const auto s2 = std::chrono::steady_clock::now();
        const twb::SweepResult g = twb::runSweep(model, specs, {}, grid);
        const double took2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - s2).count();
        int measured = 0, eliminated = 0, skipped = 0;
        for (const auto& p : g.points) {
            measured += p.status == twb::PointStatus::Measured;
            eliminated += p.status == twb::PointStatus::Eliminated;
            skipped += p.status == twb::PointStatus::Skipped;
        }
        std::printf(
            "%s, 3 JIT × 2 threads × 3 batches × 2 streams for throughput, 60 s budget: took %.1f s "
            "(%+.1f%%; goal within +10%%: %s); %d measured to the end, %d eliminated, %d skipped\n  %s\n",
            path.c_str(), took2, 100 * (took2 / 60 - 1), took2 <= 66 ? "met" : "missed", measured, eliminated,
            skipped, g.recommendation.c_str());
    }
    return 0;
}
