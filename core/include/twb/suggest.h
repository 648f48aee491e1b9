// Inputs a newcomer does not have to invent: for each of forward's arguments, a generator the
// model's own first layers imply, with the reason ("first layer Conv2d(3, 16): Float[1, 3, H, W],
// H and W free (224 suggested)"; "Embedding(1000, 48): Long ids in [0, 1000)").
#pragma once

#include "twb/input_spec.h"
#include "twb/model.h"

#include <string>
#include <vector>

namespace twb {

struct SuggestedInput {
    std::string argument, type; // forward's argument and its TorchScript type
    bool found = false;         // false: nothing in the model says what it takes (spec is a guess)
    InputSpec spec;             // a generator, named by argument
    std::string reason;         // one line, for the GUI's Generate button and the CLI
};

// One entry per argument of forward that has no default.
std::vector<SuggestedInput> suggestInputs(const Model& model);

// `given` with a suggestion appended for every argument it leaves unfed: those it neither names
// (NAME=…) nor reaches by position. The suggestions used are added to `used`.
std::vector<InputSpec> completeWithSuggestions(const Model& model, const std::vector<InputSpec>& given,
                                               std::vector<SuggestedInput>* used = nullptr);

} // namespace twb
