// The one exception type core throws: a message a user can act on, plus the
// underlying library's own words (kept as detail, never shown alone).
#pragma once

#include <stdexcept>
#include <string>

namespace twb {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message, std::string detail = {})
        : std::runtime_error(message)
        , m_detail(std::move(detail)) {}
    const std::string& detail() const noexcept { return m_detail; }

private:
    std::string m_detail;
};

// The file is well formed, but holds something the workbench cannot turn into
// tensors (a string array, an unsupported dtype, a Python object).
class UnsupportedError : public Error {
public:
    using Error::Error;
};

} // namespace twb
