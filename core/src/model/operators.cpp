#include "operators.h"

#include "zip_reader.h"

#include <torch/csrc/jit/frontend/builtin_functions.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace twb::detail {

namespace {

bool identChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The identifier starting at i, or "" (and i unchanged) when there is none.
std::string identifierAt(const std::string& s, std::size_t& i) {
    std::size_t j = i;
    while (j < s.size() && identChar(s[j]))
        ++j;
    std::string id = s.substr(i, j - i);
    if (!id.empty()) i = j;
    return id;
}

bool consume(const std::string& s, std::size_t& i, const char* word) {
    const std::size_t n = std::char_traits<char>::length(word);
    if (s.compare(i, n, word) != 0) return false;
    i += n;
    return true;
}

} // namespace

std::vector<std::string> operatorCalls(const std::string& code) {
    std::set<std::string> found;
    const std::size_t n = code.size();
    for (std::size_t i = 0; i < n;) {
        const char c = code[i];
        if (c == '"' || c == '\'') { // a string literal: skip it, escapes included
            const char quote = c;
            for (++i; i < n && code[i] != quote && code[i] != '\n'; ++i)
                if (code[i] == '\\') ++i;
            ++i;
            continue;
        }
        const bool boundary = i == 0 || !(identChar(code[i - 1]) || code[i - 1] == '.');
        if (!boundary || !(c == 't' || c == 'o')) {
            ++i;
            continue;
        }
        std::size_t j = i;
        std::string ns, name;
        if (consume(code, j, "torch.ops.") || consume(code, j, "ops.")) {
            ns = identifierAt(code, j);
            if (!ns.empty() && j < n && code[j] == '.') {
                ++j;
                name = identifierAt(code, j);
            }
        } else if (consume(code, j, "torch.")) {
            ns = "aten";
            name = identifierAt(code, j);
        }
        if (!ns.empty() && !name.empty() && j < n && code[j] == '(') {
            found.insert(ns + "::" + name);
            i = j;
        } else {
            i = std::max(j, i + 1);
        }
    }
    return {found.begin(), found.end()};
}

bool operatorRegistered(const std::string& qualified) {
    try {
        const c10::Symbol symbol = c10::Symbol::fromQualString(qualified);
        return !torch::jit::getAllOperatorsFor(symbol).empty() ||
               !torch::jit::getAllBuiltinFunctionsFor(symbol).empty();
    } catch (const std::exception&) {
        return false;
    }
}

OperatorScan scanArchiveOperators(const ZipReader& zip, const std::string& prefix) {
    std::set<std::string> called;
    const std::string codeDir = prefix + "code/";
    for (const auto& record : zip.names()) {
        if (record.rfind(codeDir, 0) != 0 || record.size() < 3 ||
            record.compare(record.size() - 3, 3, ".py") != 0)
            continue;
        for (auto& op : operatorCalls(zip.read(record, 64u << 20)))
            called.insert(std::move(op));
    }
    OperatorScan scan;
    scan.called.assign(called.begin(), called.end());
    for (const auto& op : scan.called)
        if (!operatorRegistered(op)) scan.missing.push_back(op);
    return scan;
}

std::string operatorAddedIn(const std::string& qualified) {
    // Operators modern exports commonly call, with the release that introduced them.
    static const std::pair<const char*, const char*> kAdded[] = {
        {"aten::scaled_dot_product_attention", "2.0"},
        {"aten::_scaled_dot_product_attention_math", "2.0"},
        {"aten::_scaled_dot_product_flash_attention", "2.0"},
        {"aten::_scaled_dot_product_efficient_attention", "2.0"},
        {"aten::_native_multi_head_attention", "1.12"},
        {"aten::_transformer_encoder_layer_fwd", "1.12"},
        {"aten::rms_norm", "2.4"},
    };
    for (const auto& [op, release] : kAdded)
        if (qualified == op) return release;
    return {};
}

bool isBuiltinOperatorNamespace(const std::string& ns) {
    static const char* const kBuiltin[] = {
        "aten",    "prim",     "quantized", "_quantized", "prepacked", "mkldnn", "mkldnn_prepacked",
        "_caffe2", "profiler", "cuda",      "onednn",     "xnnpack",   "sparse", "_nested",
        "_test"};
    for (const char* b : kBuiltin)
        if (ns == b) return true;
    return false;
}

} // namespace twb::detail
