#include "twb/session.h"

#include "readers.h"

#include "twb/error.h"

#include <nlohmann/json.hpp>

#include <array>
#include <tuple>
#include <type_traits>

namespace twb {

using nlohmann::ordered_json;

namespace {

// The session's reports by their JSON keys, in the order they are written.
template <typename S, typename Has = std::conditional_t<std::is_const_v<S>, const bool, bool>,
          typename R = std::conditional_t<std::is_const_v<S>, const Report, Report>>
std::array<std::tuple<const char*, Has&, R&>, 4> reports(S& s) {
    return {{{"report", s.hasReport, s.report},
             {"profile_report", s.hasProfileReport, s.profileReport},
             {"sweep_report", s.hasSweepReport, s.sweepReport},
             {"load_report", s.hasLoadReport, s.loadReport}}};
}

} // namespace

std::string sessionToJson(const Session& s) {
    ordered_json j{{"torch_workbench_session", Session::kSchemaVersion},
                   {"model", s.model},
                   {"state_dict", s.stateDict},
                   {"state_dict_strict", s.stateDictStrict}};
    j["inputs"] = ordered_json::array();
    for (const auto& in : s.inputs)
        j["inputs"].push_back({{"argument", in.argument}, {"source", in.source}});
    j["configs"] = ordered_json::array();
    for (const auto& c : s.configs) // a configuration with a target: {spec, target}, a target may hold commas
        j["configs"].push_back(c.target.empty() ? ordered_json(c.toSpec())
                                                : ordered_json{{"spec", c.toSpec()}, {"target", c.target}});
    for (const auto& [key, has, report] : reports(s))
        if (has) j[key] = ordered_json::parse(reportToJson(report, -1));
    return j.dump();
}

Session sessionFromJson(const std::string& text, const std::string& source) {
    ordered_json j;
    try {
        j = ordered_json::parse(text);
    } catch (const ordered_json::exception& e) { // a syntax error, or a number out of range
        throw Error(source + ": not a session, its JSON is damaged (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("torch_workbench_session") ||
        !j["torch_workbench_session"].is_number_integer())
        throw Error(source + ": not a Torch Workbench session");
    const int version = j["torch_workbench_session"].get<int>();
    if (version > Session::kSchemaVersion)
        throw Error(source + ": session schema version " + std::to_string(version) +
                    " is from a newer Torch Workbench; this one reads version " +
                    std::to_string(Session::kSchemaVersion));
    Session s;
    try {
        s.model = j.value("model", std::string());
        s.stateDict = j.value("state_dict", std::string());
        s.stateDictStrict = j.value("state_dict_strict", true);
        for (const auto& in : j.value("inputs", ordered_json::array()))
            s.inputs.push_back({in.value("argument", std::string()), in.value("source", std::string())});
        const auto configs = j.value("configs", ordered_json::array());
        if (!configs.is_array()) throw Error(source + ": the session's configs are not a list");
        for (std::size_t i = 0; i < configs.size(); ++i) {
            const bool withTarget = configs[i].is_object() && configs[i].contains("spec");
            const std::string spec = configs[i].is_string() ? configs[i].get<std::string>()
                                     : withTarget           ? configs[i].value("spec", std::string())
                                                            : configs[i].dump();
            try {
                s.configs.push_back(RunConfig::parse(spec));
                if (withTarget) s.configs.back().target = configs[i].value("target", std::string());
            } catch (const Error& e) {
                throw Error(source + ": configuration " + std::to_string(i + 1) + " '" + spec +
                            "' cannot be read: " + e.what());
            }
        }
    } catch (const ordered_json::exception& e) {
        throw Error(source + ": a field of the session has the wrong type (" + e.what() + ")");
    }
    for (auto [key, has, report] : reports(s)) {
        if (!j.contains(key) || j[key].is_null()) continue;
        report = reportFromJson(j[key].dump(), source + " (its " + key + ")");
        has = true;
    }
    return s;
}

void writeSession(const std::string& path, const Session& session) {
    detail::writeFileAtomically(path, sessionToJson(session));
}

Session readSession(const std::string& path) {
    return sessionFromJson(detail::readWholeFile(path, uint64_t(1) << 31), path);
}

} // namespace twb
