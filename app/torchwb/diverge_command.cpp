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
    // Where each side runs: its configuration's target=; else, with --target twice, the first for A and
    // the second for B; else the one --target, or this build, for both.
    if (a.measure.targets.size() > 2)
        throw twb::Error("diverge compares two configurations: --target at most twice (A's, then B's)");
    const std::string nowhere;
    const std::string& firstTarget = a.measure.targets.empty() ? nowhere : a.measure.targets.front();
    const std::string& secondTarget = a.measure.targets.empty() ? nowhere : a.measure.targets.back();
    const std::string whereA = first.target.empty() ? firstTarget : first.target;
    const std::string whereB = second.target.empty() ? secondTarget : second.target;
    if (a.inProcess && !(whereA.empty() && whereB.empty()))
        throw twb::Error("--in-process runs both configurations in this process, not on a target");
    if (whereA.empty()) twb::validateConfig(first);
    if (whereB.empty()) twb::validateConfig(second);
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
                    : twb::divergeOnTargets(bound->model, bound->specs, bound->binding, first, second,
                                            options, whereA, whereB, a.measure.measurement().worker);
    out << twb::divergenceText(r);
    if (!a.json.empty()) {
        writeText(a.json, twb::divergenceToJson(r) + "\n");
        out << "wrote " << a.json << "\n";
    }
    if (!r.errorA.empty() || !r.errorB.empty()) return 1;
    return r.firstDivergent >= 0 ? 3 : 0; // 3: they part, as a script may want to know
}

} // namespace twb::cli
