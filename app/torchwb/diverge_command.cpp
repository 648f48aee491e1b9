#include "diverge_command.h"

#include "format.h"

#include "twb/divergence.h"
#include "twb/error.h"
#include "twb/plan.h"

#include <fstream>

namespace twb::cli {

void addDivergeOptions(CLI::App& cmd, DivergeArgs& a) {
    cmd.add_option("MODEL", a.model, "TorchScript archive (torch.jit.save)")->required();
    a.inputs.add(cmd);
    a.config.add(cmd, false);
    a.measure.add(cmd, false);
    cmd.add_option("-c,--config", a.configs,
                   "A configuration as key=value,… over the flags (e.g. jit=optimize or dtype=float16): once "
                   "for B (A is the flags), or twice for A and B")
        ->required()
        ->expected(1, 2);
    cmd.add_option("--atol", a.atol, "Absolute tolerance (default 1e-5; 1e-2 with float16 or bfloat16)");
    cmd.add_option("--rtol", a.rtol, "Relative tolerance (default 1e-5; 1e-2 with float16 or bfloat16)");
    cmd.add_option("--top", a.top, "The largest errors to list (default 5)")->check(CLI::Range(0, 1000));
    cmd.add_option("--json", a.json, "Write the divergence report (JSON) to this file");
    cmd.add_flag("--in-process", a.inProcess,
                 "Run both configurations in this process instead of a worker (a crash then ends torchwb)");
}

int runDiverge(const CLI::App& cmd, const DivergeArgs& a, std::ostream& out, std::ostream& err) {
    const twb::RunConfig base = a.config.base();
    const twb::RunConfig first = a.configs.size() == 2 ? twb::RunConfig::parse(a.configs[0], base) : base;
    const twb::RunConfig second = twb::RunConfig::parse(a.configs.back(), base);
    if (a.measure.targets.size() > 1 || !first.target.empty() || !second.target.empty())
        throw twb::Error(
            "diverge runs both configurations on one machine (--target once for both); comparing "
            "two targets' tensors is not supported yet: compare their outputs with torchwb bench "
            "--target A --target B");
    if (a.measure.targets.empty()) {
        twb::validateConfig(first);
        twb::validateConfig(second);
    }
    if ((a.atol >= 0) != (a.rtol >= 0)) throw twb::Error("--atol and --rtol are given together");
    const std::optional<BoundModel> bound = loadAndBind(cmd, a.model, a.inputs, out, err);
    if (!bound) return 1;
    twb::DivergeOptions options;
    options.top = a.top;
    if (a.atol >= 0) {
        options.tolerance.atol = a.atol;
        options.tolerance.rtol = a.rtol;
        options.toleranceGiven = true;
    }
    const twb::DivergenceReport r =
        a.inProcess ? twb::diverge(bound->model, bound->specs, bound->binding, first, second, options)
                    : twb::divergeInWorker(bound->model, bound->specs, bound->binding, first, second, options,
                                           a.measure.measurement().worker);
    out << twb::divergenceText(r);
    if (!a.json.empty()) {
        writeText(a.json, twb::divergenceToJson(r) + "\n");
        out << "wrote " << a.json << "\n";
    }
    if (!r.errorA.empty() || !r.errorB.empty()) return 1;
    return r.firstDivergent >= 0 ? 3 : 0; // 3: they part, as a script may want to know
}

} // namespace twb::cli
