// A workbench session as plain data: the model, its weights, the inputs, the configurations and
// the last run's, profile's, sweep's and load run's reports. Read and written as versioned JSON, atomically;
// whatever cannot be read is an error that names the file and the cause, never a silent default.
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
    // 2: the profile's and the sweep's reports beside the run's. 3: the load run's too. Older sessions read
    // as before.
    static constexpr int kSchemaVersion = 3;
    std::string model;
    std::string stateDict;
    bool stateDictStrict = true;
    std::vector<SessionInput> inputs;
    std::vector<RunConfig> configs;
    bool hasReport = false;
    Report report; // the runs' (Results)
    bool hasProfileReport = false;
    Report profileReport; // the profiles' (Profile), runs and profiles
    bool hasSweepReport = false;
    Report sweepReport; // the sweep's (Sweep)
    bool hasLoadReport = false;
    Report loadReport; // the load run's (Load)
};

std::string sessionToJson(const Session& session);
// Throws twb::Error naming `source` and what is wrong: not JSON, not a session, a newer schema, a
// configuration that cannot be read ("configuration 2 'jit=fast': …"), a damaged report (which one).
Session sessionFromJson(const std::string& json, const std::string& source = "session");
void writeSession(const std::string& path, const Session& session); // a temporary file, then renamed
Session readSession(const std::string& path);

} // namespace twb
