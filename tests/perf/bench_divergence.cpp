// What a divergence run costs in memory: the peak resident set (VmHWM) that twb::diverge adds over the
// model loaded and run once, against one run's intermediate tensors (what the first configuration keeps
// while the second is compared as it runs). Goal: a resnet50-size model at batch 1 costs at most 2 GB
// more. Usage:
//   bench_divergence MODEL.pt GENERATOR [CONFIG_B (jit=optimize)]
#include "twb/bench.h"
#include "twb/divergence.h"
#include "twb/input_spec.h"
#include "twb/model.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

namespace {

double statusMiB(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::string(field).size())) / 1024.0;
    return -1;
}

double elementBytes(const std::string& dtype) {
    static const std::map<std::string, double> sizes{{"float32", 4}, {"float16", 2}, {"bfloat16", 2},
                                                     {"float64", 8}, {"int64", 8},   {"int32", 4},
                                                     {"bool", 1},    {"uint8", 1},   {"int8", 1}};
    const auto it = sizes.find(dtype);
    return it == sizes.end() ? 4 : it->second;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODEL.pt GENERATOR [CONFIG_B]\n", argv[0]);
        return 2;
    }
    const twb::Model model = twb::Model::load(argv[1]);
    const std::vector<twb::InputSpec> specs{twb::InputSpec::parseGenerated(argv[2])};
    const twb::InputBinding binding = model.bindInputs(twb::readInputs(specs));
    const twb::RunConfig b = twb::RunConfig::parse(argc > 3 ? argv[3] : "jit=optimize");
    twb::runOnce(model, binding, twb::RunConfig()); // the model's own first call: its buffers, its pools
    const double before = statusMiB("VmHWM:");
    const auto start = std::chrono::steady_clock::now();
    const twb::DivergenceReport r = twb::diverge(model, specs, binding, twb::RunConfig(), b);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double after = statusMiB("VmHWM:");
    double recorded = 0;
    for (const auto& n : r.nodes) {
        double numel = 1;
        for (int64_t d : n.shape)
            numel *= double(d);
        recorded += numel * elementBytes(n.dtypeA);
    }
    std::printf("%s, %s against %s: %d tensors recorded (%.0f MiB, one run's), %s\n", argv[1],
                r.labelA.c_str(), r.labelB.c_str(), r.recordedA, recorded / (1024 * 1024), r.summary.c_str());
    std::printf(
        "peak resident set %.0f MiB before, %.0f MiB after: +%.0f MiB in %.1f s (goal ≤ 2048 MiB: %s)\n",
        before, after, after - before, took, after - before <= 2048 ? "met" : "missed");
    return r.errorA.empty() && r.errorB.empty() ? 0 : 1;
}
