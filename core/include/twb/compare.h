// Output comparison, leaf by leaf through tuples, lists and dicts: error
// figures, allclose with the first mismatching indices, NaN/Inf counts, and
// argmax/top-k agreement for 2-D outputs. Different structures, shapes and
// dtypes are reported, never crashed on.
#pragma once

#include "twb/value.h"

#include <cstdint>
#include <string>
#include <vector>

namespace twb {

struct CompareOptions {
    double atol = 1e-5;
    double rtol = 1e-5;
    int topk = 5;
    int maxMismatchIndices = 10;
};

// What became of one leaf: compared as numbers, or why not.
enum class LeafStatus {
    Compared,      // numbers of one shape: see allclose and the error figures
    ShapeMismatch, // numbers of different shapes
    OnlyInA,       // the leaf is missing from the second value
    OnlyInB,       // … from the first
    TypeMismatch,  // not numbers, or of different kinds (a tensor and a string)
    ValueMismatch, // non-numbers of one kind that differ (two strings)
};
// Stable lower-case names, as reports store them: "ok", "shape_mismatch", "only_in_a", "only_in_b",
// "type_mismatch", "value_mismatch".
std::string leafStatusName(LeafStatus status);
LeafStatus leafStatusFromName(const std::string& name); // unknown names read as TypeMismatch

struct LeafComparison {
    std::string path;
    LeafStatus status = LeafStatus::Compared;
    std::string note; // e.g. "dtypes differ: float32 vs float16"
    std::vector<int64_t> shapeA, shapeB;
    std::string dtypeA, dtypeB;
    int64_t numel = 0;
    double maxAbs = 0, meanAbs = 0, maxRel = 0, rmse = 0, cosine = 1;
    bool allclose = false;
    int64_t mismatches = 0;
    std::vector<std::vector<int64_t>> firstMismatches; // multi-indices
    int64_t nanA = 0, nanB = 0, infA = 0, infB = 0;
    // 2-D outputs [rows, classes]: share of rows with the same argmax, and mean top-k overlap.
    bool hasTopk = false;
    int k = 0;
    double argmaxAgreement = 0, topkAgreement = 0;
};

struct OutputComparison {
    CompareOptions options;
    bool allclose = false; // every leaf compared and allclose
    bool sameStructure = true;
    std::vector<LeafComparison> leaves;
    std::string summary; // one sentence
};

OutputComparison compareOutputs(const Value& a, const Value& b, const CompareOptions& options = {});

// What a reference is compared with. A reference saved as one tensor (torch.save(out.logits, ...)) for
// an output that holds several is compared with one leaf of it: `leaf` when given ("out[0]", or "[0]"),
// else the only leaf of the reference's shape. Otherwise the whole output. Throws twb::Error when no
// leaf is named and none or several have that shape, or the named one is not there; the message lists
// the leaves.
struct ReferenceTarget {
    std::string path = "out"; // the leaf chosen, or "out" for the whole output
    std::string reason;       // why that leaf, in words; empty for the whole output
    Value value;              // what to compare with the reference
};
ReferenceTarget referenceTarget(const Value& output, const Value& reference, const std::string& leaf = {});

// An output against a reference (a file's contents): the leaf it meets chosen as referenceTarget chooses,
// then compared. What the CLI's --reference, a plan's reference file and the window's reference file all
// do. `described`: "" for the whole output, else " against out[0] (the only leaf of shape [1, 10])".
struct ReferenceComparison {
    ReferenceTarget target;
    OutputComparison outputs;
    std::string described;
};
ReferenceComparison compareWithReference(const Value& output, const Value& reference,
                                         const CompareOptions& options = {}, const std::string& leaf = {});

// One leaf's verdict in words, for tables and terminals: "allclose", "NOT allclose", "only in the
// first", "only in the second", "shapes differ: [2, 3] vs [3]", or the note on what is not a number.
std::string leafVerdictText(const LeafComparison& leaf);

// |a - b| element by element for the leaf at `path` ("out", "out[1]["k"]"), finite pairs only,
// evenly subsampled to at most maxValues; empty when the leaf is missing or shapes differ.
std::vector<double> absoluteErrors(const Value& a, const Value& b, const std::string& path,
                                   std::size_t maxValues = 200000);

} // namespace twb
