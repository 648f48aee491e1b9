// A workbench session as plain data: the model, its weights, the inputs, the configurations and
// the last run's report. Read and written as versioned JSON, atomically; whatever cannot be read
// is an error that names the file and the cause, never a silent default.
#pragma once

#include "twb/config.h"
#include "twb/report.h"

#include <string>
#include <vector>

namespace twb {

struct SessionInput {
    std::string argument;
    std::string source; // a file, or "gen:SPEC"; as the user typed it
};

struct Session {
    static constexpr int kSchemaVersion = 1;
    std::string model;
    std::string stateDict;
    bool stateDictStrict = true;
    std::vector<SessionInput> inputs;
    std::vector<RunConfig> configs;
    bool hasReport = false;
    Report report;
};

std::string sessionToJson(const Session& session);
// Throws twb::Error naming `source` and what is wrong: not JSON, not a session, a newer schema, a
// configuration that cannot be read ("configuration 2 'jit=fast': …"), a damaged report.
Session sessionFromJson(const std::string& json, const std::string& source = "session");
void writeSession(const std::string& path, const Session& session); // a temporary file, then renamed
Session readSession(const std::string& path);

} // namespace twb
