// One way to name a model's inputs, for the CLI and the GUI alike: "[NAME=]FILE" or
// "[NAME=]gen:SPEC", read into values to bind, and described as a report records them.
#pragma once

#include "twb/model.h"
#include "twb/provenance.h"
#include "twb/tensor_io.h"

#include <string>
#include <vector>

namespace twb {

struct InputSpec {
    // forward's argument, or one element of a tuple or list argument ("hc.0"); "" binds by position
    // (or by a multi-tensor file's keys)
    std::string argument;
    std::string file;      // a tensor file, or
    std::string generator; // a generator spec ("normal:1x3x224x224:seed=0")

    bool isGenerated() const { return !generator.empty(); }
    bool empty() const { return file.empty() && generator.empty(); }
    // "[NAME=]FILE", "[NAME=]gen:SPEC", or "[NAME=]2.5" (a number or true/false: a scalar, when no
    // file has that name). NAME must be an identifier, or one followed by .INDEX for an element of a
    // tuple or list argument (hc.0=h0.npy); a path that exists is a file even when it
    // contains '='. Throws twb::Error for an empty text or a malformed generator.
    static InputSpec parse(const std::string& text);
    // "[NAME=]SPEC" where SPEC is a generator without the gen: prefix (torchwb --generate).
    static InputSpec parseGenerated(const std::string& text);
    std::string toString() const; // back to "[NAME=]FILE" or "[NAME=]gen:SPEC"
    std::string source() const;   // "FILE" or "generated SPEC", as bindings and messages name it
};

// Reads every file and runs every generator, in order. Throws twb::Error naming the file.
std::vector<ProvidedInput> readInputs(const std::vector<InputSpec>& specs, const ReadOptions& options = {});

// What a report records of the inputs: argument, file and its SHA-256 or the generator, and the shape
// and dtype each was bound with.
std::vector<InputRef> describeInputs(const std::vector<InputSpec>& specs, const InputBinding& binding);

} // namespace twb
