#include "error_text.h"

#include <sstream>

namespace twb::detail {

std::string errorEssence(const std::string& message) {
    std::istringstream in(message);
    std::string line, found;
    while (std::getline(in, line)) {
        const auto colon = line.find("Error: ");
        if (colon != std::string::npos && colon > 0 && line.find(' ') > colon) found = line;
    }
    if (!found.empty()) return found;
    return message.substr(0, message.find('\n'));
}

} // namespace twb::detail
