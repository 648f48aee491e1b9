// Where two configurations' outputs part: both run the model once with every intermediate tensor
// recorded (an observer after each node, as Polygraphy marks every tensor an output), the nodes are
// matched between the two graphs by module, source line and operator (rewritten nodes by line and
// shape), and each pair is compared with the tolerance. The first node in execution order whose output
// leaves the tolerance is where they part. The first configuration's values are kept while the second
// runs; the second's are compared as they are computed and dropped.
#pragma once

#include "twb/bench.h"
#include "twb/compare.h"
#include "twb/config.h"
#include "twb/environment.h"
#include "twb/graph.h"
#include "twb/provenance.h"
#include "twb/worker.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace twb {

class Model;
struct InputBinding;
struct InputSpec;

struct DivergeOptions {
    CompareOptions tolerance;
    // Not given: 1e-5 for both, or 1e-2 when either configuration runs in float16 or bfloat16, whose
    // rounding alone leaves 1e-5.
    bool toleranceGiven = false;
    int top = 5; // the nodes with the largest errors to name
};

// One recorded tensor of the first configuration and what became of it in the second.
struct NodeDivergence {
    int node = -1;        // its node in the first configuration's graph (DivergenceReport::graphA)
    int output = 0;       // which output of that node
    std::string kind;     // "aten::mul"
    std::string location; // "model.py:14"
    std::string scope;    // "encoder.layers.0.self_attn"
    std::string
        matchedAs;        // the second configuration's operator where it differs ("prim::mkldnn_convolution")
    bool matched = false; // a node of the second configuration computed it
    std::string match;    // "same node", "rewritten: same line and shape, the closest", or why not matched
    std::vector<int64_t> shape;
    std::string dtypeA, dtypeB;
    // The error figures of compareOutputs over the tensor: max |a−b|, max relative, cosine, and the share
    // of elements outside atol + rtol·|a|.
    double maxAbs = 0, maxRel = 0, cosine = 1, mismatchedShare = 0;
    int64_t nanA = 0, nanB = 0, infA = 0, infB = 0;
    bool within = true; // allclose
};

struct DivergenceReport {
    static constexpr int kSchemaVersion = 1;
    EnvironmentInfo environment;
    ModelRef model;
    std::vector<InputRef> inputs;
    RunConfig a, b;
    std::string labelA, labelB;
    CompareOptions tolerance;
    std::vector<NodeDivergence> nodes;   // the first configuration's tensors, in execution order
    int firstDivergent = -1;             // into nodes; -1: every matched tensor is within the tolerance
    std::vector<int> largest;            // into nodes: the largest errors (relative), at most options.top
    std::vector<std::string> unmatchedB; // the second configuration's nodes that matched nothing
    int matched = 0, recordedA = 0, recordedB = 0;
    OutputComparison outputs;   // the final outputs
    std::string errorA, errorB; // a configuration that failed (then nothing is compared)
    std::string summary;        // where they part, in one sentence
    ModelGraph graphA;          // the first configuration's graph as it ran, with its tensors' shapes
};

// Both configurations in this process, one after the other; `inputs` name the inputs in the report.
// `progress` hears the phases, "A: first call", "B: first call", …
DivergenceReport diverge(const Model& model, const std::vector<InputSpec>& inputs,
                         const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                         const DivergeOptions& options = {}, const ProgressFn& progress = {},
                         const std::atomic<bool>* stop = nullptr);

// The same in a worker process (started as `worker` says: this build, another, over SSH or a launcher),
// so that a configuration that crashes, hangs or runs out of memory fails with the phase and the cause
// (errorA or errorB) and this process goes on. The tensors stay in the worker; the report comes back.
// `stop` set cancels: the worker is stopped, and the side it was in says "cancelled".
DivergenceReport divergeInWorker(const Model& model, const std::vector<InputSpec>& inputs,
                                 const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                 const DivergeOptions& options, const WorkerOptions& worker,
                                 const std::atomic<bool>* stop = nullptr);

// A on one worker and B on another (two targets: machines, LibTorch builds, launchers). Each side's
// graph and tensors stream here as they are computed, one at a time: A's are kept here while B runs, and
// B's are compared as they arrive and dropped. A side that fails says why in errorA or errorB.
DivergenceReport divergeAcrossWorkers(const Model& model, const std::vector<InputSpec>& inputs,
                                      const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                      const DivergeOptions& options, const WorkerOptions& workerA,
                                      const WorkerOptions& workerB, const std::atomic<bool>* stop = nullptr);

// Where each side runs, by target (twb/target.h; "" is `base`, this build's worker): on one target both
// run in one worker there (divergeInWorker), on two each in its own (divergeAcrossWorkers). Throws
// twb::Error for a target that does not parse.
DivergenceReport divergeOnTargets(const Model& model, const std::vector<InputSpec>& inputs,
                                  const InputBinding& binding, const RunConfig& a, const RunConfig& b,
                                  const DivergeOptions& options, const std::string& targetA,
                                  const std::string& targetB, const WorkerOptions& base = {},
                                  const std::atomic<bool>* stop = nullptr);

// The report as text for a terminal: the table of the largest errors, then, last, where they part.
std::string divergenceText(const DivergenceReport& report);
std::string divergenceToJson(const DivergenceReport& report, int indent = 2);
DivergenceReport divergenceFromJson(const std::string& json, const std::string& source = "divergence report");

} // namespace twb
