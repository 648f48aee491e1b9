// Does the harness cost anything measurable? Times the same model with
// twb::runConfiguration and with a plain hand-written forward loop, in one
// process, alternating rounds, and prints the ratio of medians with its
// confidence interval. Usage:
//   bench_harness_overhead MODEL.pt GENERATOR [MODEL.pt GENERATOR …]
//   e.g. bench_harness_overhead mlp.pt normal:1x10 resnet18.pt normal:1x3x224x224
#include "twb/bench.h"
#include "twb/generate.h"
#include "twb/model.h"
#include "twb/runtime.h"
#include "twb/stats.h"

#include <torch/script.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

std::vector<double> handLoop(torch::jit::Module& module, const std::vector<c10::IValue>& inputs, int warmup,
                             int iterations) {
    c10::InferenceMode guard;
    for (int i = 0; i < warmup; ++i)
        module.forward(inputs);
    std::vector<double> samples;
    samples.reserve(std::size_t(iterations));
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        module.forward(inputs);
        const auto t1 = std::chrono::steady_clock::now();
        samples.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    return samples;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc % 2 == 0) {
        std::fprintf(stderr, "usage: %s MODEL.pt GENERATOR [MODEL.pt GENERATOR …]\n", argv[0]);
        return 2;
    }
    const int threads = twb::setThreads(0).current;
    std::printf("threads: %d\n", threads);
    for (int a = 1; a + 1 < argc; a += 2) {
        const std::string path = argv[a];
        const twb::Value input = twb::generate(twb::GeneratorSpec::parse(argv[a + 1]));
        const twb::Model model = twb::Model::load(path);
        const twb::InputBinding binding = model.bindInputs({{"", input, argv[a + 1]}});
        if (!binding.ok) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), binding.error.c_str());
            return 1;
        }
        torch::jit::Module hand = torch::jit::load(path);
        hand.eval();
        // The same input tensor, handed to LibTorch directly.
        const auto values = input.toDoubles();
        std::vector<int64_t> shape = input.shape();
        const std::vector<c10::IValue> inputs{
            torch::tensor(values, torch::kDouble).reshape(shape).to(torch::kFloat)};

        // Size the rounds to about 1.5 s each for this model.
        const twb::RunResult probe =
            twb::runConfiguration(model, binding, twb::RunConfig::parse("warmup=5,iters=20"));
        const double median = probe.record.stats.median;
        const int iterations = int(std::clamp(1.5e9 / std::max(median, 1.0), 30.0, 300000.0));
        constexpr int kRounds = 6, kWarmup = 10;
        std::vector<double> harnessAll, handAll;
        std::printf("\n%s (%s): %d rounds of %d calls each, alternating\n", path.c_str(), argv[a + 1],
                    kRounds, iterations);
        for (int round = 0; round < kRounds; ++round) {
            const auto cfg = twb::RunConfig::parse("warmup=" + std::to_string(kWarmup) +
                                                   ",iters=" + std::to_string(iterations));
            const twb::RunResult h = twb::runConfiguration(model, binding, cfg);
            const std::vector<double> p = handLoop(hand, inputs, kWarmup, iterations);
            harnessAll.insert(harnessAll.end(), h.record.samplesNs.begin(), h.record.samplesNs.end());
            handAll.insert(handAll.end(), p.begin(), p.end());
            std::printf("  round %d: harness median %s, hand loop median %s\n", round + 1,
                        twb::formatDuration(h.record.stats.median).c_str(),
                        twb::formatDuration(twb::computeStats(p).median).c_str());
        }
        const auto hs = twb::computeStats(harnessAll), ps = twb::computeStats(handAll);
        const auto cmp = twb::compareLatency(handAll, harnessAll, "hand loop", "harness");
        std::printf("  harness %s vs hand loop %s: harness/hand median ratio %.4f (95%% CI %.4f–%.4f)\n",
                    twb::formatDuration(hs.median).c_str(), twb::formatDuration(ps.median).c_str(),
                    hs.median / ps.median, 1 / cmp.ciHigh, 1 / cmp.ciLow);
        std::printf("  %s\n", cmp.verdict.c_str());
    }
    return 0;
}
