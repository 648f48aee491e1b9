// CSV: a 2-D table of numbers; a non-numeric first row is a header.
#include "readers.h"
#include "torch_bridge.h"

#include "twb/error.h"

#include <torch/script.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace twb::detail {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(line);
    if (sep == ' ') {
        while (in >> cell)
            cells.push_back(cell);
        return cells;
    }
    while (std::getline(in, cell, sep))
        cells.push_back(cell);
    if (!line.empty() && line.back() == sep) cells.emplace_back();
    return cells;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\"'");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\"'");
    return s.substr(b, e - b + 1);
}

bool parseNumber(const std::string& text, double& out) {
    const std::string t = trim(text);
    if (t.empty()) return false;
    const std::string lower = [&] {
        std::string l;
        for (char c : t)
            l += char(std::tolower(static_cast<unsigned char>(c)));
        return l;
    }();
    if (lower == "nan") {
        out = std::nan("");
        return true;
    }
    if (lower == "inf" || lower == "+inf" || lower == "infinity") {
        out = INFINITY;
        return true;
    }
    if (lower == "-inf" || lower == "-infinity") {
        out = -INFINITY;
        return true;
    }
    errno = 0;
    char* end = nullptr;
    out = std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size();
}

} // namespace

Value readCsv(const std::string& path, bool forceHeader) {
    const std::string text = readWholeFile(path, uint64_t(4) << 30);
    if (text.find('\0') != std::string::npos) throw Error(path + ": binary data, not a CSV text file");
    std::vector<std::string> lines;
    {
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (trim(line).empty() || line[0] == '#') continue;
            lines.push_back(line);
        }
    }
    if (lines.empty()) throw Error(path + ": the CSV file has no rows");
    char sep = ',';
    for (char c : {',', ';', '\t'})
        if (lines[0].find(c) != std::string::npos) {
            sep = c;
            break;
        }
    if (lines[0].find(sep) == std::string::npos) sep = ' ';

    std::size_t first = 0;
    const auto head = split(lines[0], sep);
    bool numericHead = true;
    for (const auto& c : head) {
        double v;
        numericHead = numericHead && parseNumber(c, v);
    }
    if (forceHeader || !numericHead) first = 1;
    if (first >= lines.size()) throw Error(path + ": the CSV file has a header but no data rows");

    const std::size_t cols = split(lines[first], sep).size();
    std::vector<float> values;
    values.reserve((lines.size() - first) * cols);
    for (std::size_t r = first; r < lines.size(); ++r) {
        const auto cells = split(lines[r], sep);
        if (cells.size() != cols)
            throw Error(path + ": row " + std::to_string(r + 1) + " has " + std::to_string(cells.size()) +
                        " columns, the first data row has " + std::to_string(cols));
        for (std::size_t c = 0; c < cells.size(); ++c) {
            double v;
            if (!parseNumber(cells[c], v))
                throw Error(path + ": row " + std::to_string(r + 1) + ", column " + std::to_string(c + 1) +
                            ": '" + trim(cells[c]) + "' is not a number");
            values.push_back(float(v));
        }
    }
    const int64_t rows = int64_t(lines.size() - first);
    return wrap(torch::from_blob(values.data(), {rows, int64_t(cols)}, at::kFloat).clone());
}

} // namespace twb::detail
