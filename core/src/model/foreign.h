// Internal: files that are not PyTorch's, named for what they are (another framework's model, an archive
// or a compressed file that holds one, a sharded checkpoint's index), each with what to do instead.
#pragma once

#include "twb/diagnosis.h"

#include <optional>
#include <string>

namespace twb::detail {

Diagnosis unusable(FileKind kind, std::string format, std::string summary, std::string error, std::string fix,
                   std::string detail = {});

// `head` is the file's first bytes (4 KiB), `ext` its extension in lower case. Empty where the file is none
// of these.
std::optional<Diagnosis> diagnoseForeign(const std::string& path, const std::string& head,
                                         const std::string& ext);

} // namespace twb::detail
