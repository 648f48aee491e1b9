// The torchwb subcommands: argument parsing and printing over twb_core.
#pragma once

#include <ostream>

namespace twb::cli {

// Exit codes: 0 success, 1 the file or run cannot be used, 2 usage error.
int run(int argc, char** argv, std::ostream& out, std::ostream& err);

} // namespace twb::cli
