// Internal: the raw pieces of a torch.save archive, for the load doctor.
#pragma once

#include "zip_reader.h"

#include <string>

namespace twb::detail {

struct TorchSaveScan {
    std::string prefix;      // record folder inside the zip
    std::string pickleBytes; // data.pkl
};

// Throws twb::Error when the archive has no data.pkl.
TorchSaveScan scanTorchSave(const ZipReader& zip);

} // namespace twb::detail
