// Does memory grow with use? Runs the same small bench through the plan runner many times in one process
// and prints the resident set size after every tenth run and the slope fitted after the first ten (goal:
// under 1 MB per 100 runs). With --reopen, every run opens the model afresh (inspects and loads it), as
// the window does for each file it is given. Usage:
//   soak [--reopen] MODEL.pt GENERATOR RUNS [MODEL.pt GENERATOR RUNS …]
#include "twb/input_spec.h"
#include "twb/model.h"
#include "twb/plan.h"
#include "twb/runtime.h"

#include "rss.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    const bool reopen = argc > 1 && std::string(argv[1]) == "--reopen";
    const int first = reopen ? 2 : 1;
    if (argc - first < 3 || (argc - first) % 3 != 0) {
        std::fprintf(stderr, "usage: %s [--reopen] MODEL.pt GENERATOR RUNS [MODEL.pt GENERATOR RUNS …]\n",
                     argv[0]);
        return 2;
    }
    twb::setThreads(0);
    for (int a = first; a + 2 < argc; a += 3) {
        const std::string path = argv[a];
        const int runs = std::atoi(argv[a + 2]);
        twb::Model model = twb::Model::load(path);
        const std::vector<twb::InputSpec> specs{twb::InputSpec::parseGenerated(argv[a + 1])};
        twb::InputBinding binding = model.bindInputs(twb::readInputs(specs));
        twb::Plan plan;
        plan.configs = {twb::RunConfig::parse("iters=20,warmup=3")};
        std::vector<double> xs, ys, heap;
        std::printf("%s, %d runs of 20 calls through the plan runner%s:\n", path.c_str(), runs,
                    reopen ? ", opening the model afresh for each" : "");
        for (int i = 1; i <= runs; ++i) {
            if (reopen) {
                const twb::ModelInfo info = twb::inspectModelFile(path);
                if (!info.diagnosis.usable) {
                    std::fprintf(stderr, "%s: %s\n", path.c_str(), info.diagnosis.error.c_str());
                    return 1;
                }
                model = twb::Model::load(path);
                binding = model.bindInputs(twb::readInputs(specs));
            }
            const twb::Report r = twb::runPlan(model, specs, binding, plan);
            if (!r.runs.front().ok) {
                std::fprintf(stderr, "%s: %s\n", path.c_str(), r.runs.front().error.c_str());
                return 1;
            }
            if (i % 10 == 0) {
                const double rss = rssMiB(), inUse = heapInUseMiB();
                std::printf("  after %5d runs: RSS %.1f MiB, heap in use %.2f MiB\n", i, rss, inUse);
                if (i > 10) {
                    xs.push_back(i);
                    ys.push_back(rss);
                    heap.push_back(inUse);
                }
            }
        }
        const double perHundred = xs.size() >= 2 ? slope(xs, ys) * 100 : 0;
        std::printf("  fitted after the first ten: %+.3f MiB per 100 runs (goal under 1 MB: %s); heap in use "
                    "%+.3f MiB per 100 runs\n",
                    perHundred, perHundred * 1.048576 < 1 ? "met" : "missed",
                    xs.size() >= 2 ? slope(xs, heap) * 100 : 0);
    }
    return 0;
}
