// torchwb profile: where a configuration's time goes, per operator, module or source line, against the
// machine's measured peak, and what a second configuration changed.
#pragma once

#include "options.h"

#include "twb/profile.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>

namespace twb::cli {

struct ProfileArgs {
    std::string model;
    InputOptions inputs;
    ConfigOptions config;
    MeasureOptions measure;
    int calls = 10, top = 15;
    std::string by = "op", diff, trace, json;
    bool quiet = false;
};

void addProfileOptions(CLI::App& cmd, ProfileArgs& args);
int runProfile(const CLI::App& cmd, const ProfileArgs& args, std::ostream& out, std::ostream& err);

// The tables as the terminal shows them.
std::string operatorTable(const twb::Profile& p, int top);
std::string moduleTable(const twb::Profile& p, int top);
std::string lineTable(const twb::Profile& p, int top);
std::string profileTotals(const twb::Profile& p);
std::string diffTable(const twb::ProfileDiff& d, int top);

} // namespace twb::cli
