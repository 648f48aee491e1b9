// What does profiling cost? Profiles each model under JIT off and optimize_for_inference through the plan
// runner and prints, per configuration, the profiled median against the unprofiled one (target: within
// 15% on resnet18), the decomposition of the forward, and this machine's GEMM peak and copy bandwidth,
// measured afresh. Usage:
//   bench_profile_overhead MODEL.pt GENERATOR [MODEL.pt GENERATOR …]
#include "twb/input_spec.h"
#include "twb/plan.h"
#include "twb/profile.h"
#include "twb/runtime.h"
#include "twb/stats.h"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3 || argc % 2 == 0) {
        std::fprintf(stderr, "usage: %s MODEL.pt GENERATOR [MODEL.pt GENERATOR …]\n", argv[0]);
        return 2;
    }
    const int threads = twb::setThreads(0).current;
    const twb::MachinePeak peak = twb::machinePeak(threads, {}, false);
    std::printf(
        "machine peak at %d threads: %.1f GFLOP/s FP32 (matrix multiply %d×%d: %.1f, convolution: %.1f), "
        "%.1f GB/s copy, balance %.1f FLOP/byte\n",
        threads, peak.gflops, peak.gemmSize, peak.gemmSize, peak.mmGflops, peak.convGflops, peak.bandwidthGBs,
        peak.balance());
    for (int a = 1; a + 1 < argc; a += 2) {
        const std::string path = argv[a];
        const twb::Model model = twb::Model::load(path);
        const std::vector<twb::InputSpec> specs{twb::InputSpec::parseGenerated(argv[a + 1])};
        const twb::InputBinding binding = model.bindInputs(twb::readInputs(specs));
        if (!binding.ok) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), binding.error.c_str());
            return 1;
        }
        twb::Plan plan;
        for (const char* jit : {"off", "optimize"})
            plan.configs.push_back(twb::RunConfig::parse(std::string("jit=") + jit + ",seconds=3"));
        plan.profile = true;
        plan.profileOptions.calls = 30;
        plan.profileOptions.keepEvents = false;
        const twb::Report report = twb::runPlan(model, specs, binding, plan);
        for (const auto& p : report.profiles) {
            if (!p.ok) {
                std::printf("%s · %s: %s\n", path.c_str(), p.label.c_str(), p.error.c_str());
                continue;
            }
            std::printf(
                "%s · %s: profiled median %s against %s unprofiled: %+.1f%% (target within 15%%: %s)\n",
                path.c_str(), p.label.c_str(), twb::formatDuration(p.profiledMedianNs).c_str(),
                twb::formatDuration(p.unprofiledMedianNs).c_str(), 100 * p.overhead(),
                std::abs(p.overhead()) <= 0.15 ? "met" : "missed");
            std::printf("    per forward %s = operators %s + fused nodes %s + unattributed %s; %.2f GFLOP a "
                        "forward at %.1f GFLOP/s (%.0f%% of peak)\n",
                        twb::formatDuration(p.forwardNs).c_str(),
                        twb::formatDuration(p.operatorSelfNs).c_str(), twb::formatDuration(p.fusedNs).c_str(),
                        twb::formatDuration(p.unattributedNs).c_str(), p.modelFlops / 1e9,
                        p.roofline.achievedGflops, p.roofline.percentOfPeak);
        }
    }
    return 0;
}
