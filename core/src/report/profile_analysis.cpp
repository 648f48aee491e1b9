// The profile's tables from plain events: nesting and self times, operators, modules, lines, fused
// nodes, the roofline, the diff of two profiles and the Chrome trace. No LibTorch here.
#include "twb/profile.h"

#include "json_values.h"
#include "readers.h"

#include "twb/error.h"
#include "twb/format.h"
#include "twb/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

namespace twb {

const char* const kFlopConvention = "2 FLOPs per multiply–add";

namespace {

double product(const std::vector<int64_t>& v, std::size_t from = 0) {
    double p = 1;
    for (std::size_t i = from; i < v.size(); ++i)
        p *= double(v[i]);
    return p;
}

// The profiled call each event belongs to: on a forward's thread, from that forward's start to the next
// one's (or to its end and a microsecond more: a microsecond-resolution profiler truncates the last
// operator's start onto the forward's end). Nesting cannot decide it there.
void assignCalls(std::vector<ProfileEvent>& events) {
    std::map<uint64_t, std::vector<const ProfileEvent*>> forwards;
    for (const auto& e : events)
        if (e.kind == EventKind::Forward) forwards[e.thread].push_back(&e);
    for (auto& [thread, list] : forwards)
        std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->startNs < b->startNs; });
    for (auto& e : events) {
        if (e.kind == EventKind::Forward) continue;
        e.call = -1;
        const auto it = forwards.find(e.thread);
        if (it == forwards.end()) continue;
        const auto& list = it->second;
        for (std::size_t k = 0; k < list.size(); ++k) {
            const double from = list[k]->startNs;
            const double to =
                k + 1 < list.size() ? list[k + 1]->startNs : list[k]->startNs + list[k]->durationNs + 1000;
            if (e.startNs >= from &&
                e.startNs < std::min(to, list[k]->startNs + list[k]->durationNs + 1000)) {
                e.call = list[k]->call;
                break;
            }
        }
    }
}

} // namespace

double OperatorStat::gflops(int profiledCalls) const {
    if (workFlops() <= 0 || totalNs <= 0 || profiledCalls <= 0) return 0;
    return workFlops() / (totalNs / double(profiledCalls)); // FLOP per ns is GFLOP/s
}

double operatorFlops(const std::string& name, const std::vector<std::vector<int64_t>>& in,
                     const std::vector<int64_t>& out) {
    auto arg = [&](std::size_t i) -> const std::vector<int64_t>& {
        static const std::vector<int64_t> none;
        return i < in.size() ? in[i] : none;
    };
    const std::string op = name.rfind("aten::", 0) == 0 ? name.substr(6) : name;
    if (op == "conv1d" || op == "conv2d" || op == "conv3d" || op == "convolution" || op == "_convolution") {
        // Each output element takes (C_in / groups) · kernel multiply–adds; the weight's second dimension
        // is C_in / groups, so groups need not be known. Transposed convolutions are not counted.
        const auto& w = arg(1);
        if (w.size() < 3 || out.size() < 2 || w[0] != out[1])
            return -1; // transposed: weight [C_in, C_out/g, …]
        return 2 * product(out) * product(w, 1);
    }
    if (op == "linear") { // x [..., in] · W[out, in]^T
        const auto& x = arg(0);
        const auto& w = arg(1);
        if (x.empty() || w.size() != 2) return -1;
        return 2 * product(x) * double(w[0]);
    }
    if (op == "mm" || op == "addmm" || op == "bmm" || op == "baddbmm" || op == "matmul") {
        const std::size_t a = (op == "addmm" || op == "baddbmm") ? 1 : 0;
        const auto& x = arg(a);
        if (x.empty() || out.empty()) return -1;
        // Every output element is a dot product over x's last dimension.
        return 2 * product(out) * double(x.back());
    }
    if (op == "scaled_dot_product_attention") { // q [..., L, E], k [..., S, E], v [..., S, Ev]
        const auto& q = arg(0);
        const auto& k = arg(1);
        const auto& v = arg(2);
        if (q.size() < 2 || k.size() < 2 || v.size() < 2) return -1;
        const double batch = product(q) / (double(q[q.size() - 2]) * double(q.back()));
        const double L = double(q[q.size() - 2]), E = double(q.back()), S = double(k[k.size() - 2]),
                     Ev = double(v.back());
        return 2 * batch * L * S * E + 2 * batch * L * S * Ev;
    }
    if (op == "mul" || op == "add" || op == "mul_" || op == "add_") return out.empty() ? -1 : product(out);
    return -1;
}

Profile buildProfile(std::vector<ProfileEvent> events, int calls, std::vector<FusedNode> fused,
                     const std::vector<std::pair<std::string, double>>& lineNs) {
    Profile p;
    p.calls = calls;
    // Nesting: on each thread, an event's parent is the innermost open event that encloses it.
    std::vector<std::size_t> order(events.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const auto& x = events[a];
        const auto& y = events[b];
        if (x.thread != y.thread) return x.thread < y.thread;
        if (x.startNs != y.startNs) return x.startNs < y.startNs;
        return x.durationNs > y.durationNs;
    });
    std::vector<long> parent(events.size(), -1);
    {
        // Microsecond events (LibTorch before 2.0) are truncated, and their clock conversion can shift an
        // event by a unit: an enclosed event may end a unit past its parent, and a sibling may seem to start
        // inside the previous one. Enclosed means starting inside and ending inside, within one unit.
        const bool micro = std::all_of(events.begin(), events.end(), [](const ProfileEvent& e) {
            return std::fmod(e.durationNs, 1000.0) == 0 && std::fmod(e.startNs, 1000.0) == 0;
        });
        const double unit = micro ? 1000.0 : 0.0;
        std::vector<std::size_t> open;
        uint64_t thread = 0;
        for (std::size_t i : order) {
            auto& e = events[i];
            if (open.empty() || e.thread != thread) open.clear();
            thread = e.thread;
            while (!open.empty()) {
                const auto& o = events[open.back()];
                const double end = o.startNs + o.durationNs;
                if (e.startNs >= o.startNs && e.startNs < std::max(end, o.startNs + 1) &&
                    e.startNs + e.durationNs <= end + unit)
                    break;
                open.pop_back();
            }
            if (!open.empty()) parent[i] = long(open.back());
            open.push_back(i);
        }
    }
    for (auto& e : events)
        e.selfNs = e.durationNs;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (parent[i] < 0) continue;
        events[std::size_t(parent[i])].selfNs -= events[i].durationNs;
    }
    for (std::size_t i : order) {
        auto& e = events[i];
        e.selfNs = std::max(0.0, e.selfNs);
        int depth = 0;
        for (long u = parent[i]; u >= 0; u = parent[std::size_t(u)])
            if (events[std::size_t(u)].kind == EventKind::Operator) ++depth;
        e.depth = depth;
    }
    assignCalls(events);

    double forwardTotal = 0;
    int forwards = 0;
    for (const auto& e : events)
        if (e.kind == EventKind::Forward) {
            forwardTotal += e.durationNs;
            ++forwards;
        }
    const double k = calls > 0 ? double(calls) : 1;
    p.forwardNs = forwards > 0 ? forwardTotal / forwards : 0;

    // Operators.
    struct Acc {
        OperatorStat stat;
        std::map<std::string, int64_t> shapes;
        std::set<std::string> locations;
        double flops = 0, bytes = 0;
    };
    std::map<std::string, Acc> ops;
    std::map<std::string, double> opsOnLine; // top-level operators' total time per location
    // Each counted call's busiest descendant: the operator under it with the most self time.
    std::vector<long> busiest(events.size(), -1);
    for (std::size_t j = 0; j < events.size(); ++j) {
        if (events[j].kind != EventKind::Operator) continue;
        for (long u = parent[j]; u >= 0; u = parent[std::size_t(u)]) {
            if (events[std::size_t(u)].flops <= 0) continue;
            long& b = busiest[std::size_t(u)];
            if (b < 0 || events[j].selfNs > events[std::size_t(b)].selfNs) b = long(j);
        }
    }
    std::map<std::string, std::set<std::string>> creditedFrom, timeIn;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        if (e.kind != EventKind::Operator || e.call < 0) continue;
        const long b = busiest[i];
        bool outermost = true; // a counted call inside another counted call is part of that one's count
        for (long u = parent[i]; u >= 0 && outermost; u = parent[std::size_t(u)])
            outermost = events[std::size_t(u)].flops <= 0;
        if (e.flops > 0 && outermost && b >= 0 && events[std::size_t(b)].selfNs > e.selfNs) {
            const std::string& callee = events[std::size_t(b)].name;
            ops[callee].stat.creditedFlops += e.flops;
            creditedFrom[callee].insert(e.name);
            timeIn[e.name].insert(callee);
        }
        auto& a = ops[e.name];
        a.stat.name = e.name;
        ++a.stat.calls;
        a.stat.selfNs += e.selfNs;
        a.stat.totalNs += e.durationNs;
        if (e.depth == 0) {
            ++a.stat.topCalls;
            a.stat.topNs += e.durationNs;
            if (!e.location.empty()) {
                a.locations.insert(e.location);
                opsOnLine[e.location] += e.durationNs;
            }
        }
        ++a.shapes[e.shapes];
        a.flops += e.flops;
        a.bytes += e.bytes;
        p.operatorSelfNs += e.selfNs;
    }
    p.operatorSelfNs /= k;
    for (auto& [name, a] : ops) {
        std::vector<std::pair<std::string, int64_t>> s(a.shapes.begin(), a.shapes.end());
        std::stable_sort(s.begin(), s.end(),
                         [](const auto& x, const auto& y) { return x.second > y.second; });
        for (std::size_t i = 0; i < s.size() && i < 5; ++i)
            a.stat.shapes.push_back(s[i].first);
        a.stat.shapeVariants = int64_t(s.size());
        for (const auto& l : a.locations) {
            if (a.stat.locations.size() >= 8) break;
            a.stat.locations.push_back(l);
        }
        a.stat.flops = a.flops / k;
        a.stat.bytes = a.bytes / k;
        a.stat.creditedFlops /= k;
        a.stat.creditedFrom.assign(creditedFrom[name].begin(), creditedFrom[name].end());
        if (!timeIn[name].empty()) a.stat.timeIn = *timeIn[name].begin();
        if (a.stat.name.empty()) continue; // credited, but never profiled as a call of a forward
        p.operators.push_back(a.stat);
    }

    // Fused nodes: TorchScript's per-line time of their lines, less the operators the profiler saw there,
    // shared among the fused nodes on a line by their counts.
    std::map<std::string, double> lineTime(lineNs.begin(), lineNs.end());
    std::map<std::string, int64_t> fusedOnLine;
    for (const auto& f : fused)
        for (const auto& l : f.locations)
            ++fusedOnLine[l];
    double fusedTotal = 0;
    for (auto& f : fused) {
        std::map<std::string, int64_t> mine;
        for (const auto& l : f.locations)
            ++mine[l];
        double t = 0;
        bool timed = !mine.empty();
        for (const auto& [loc, n] : mine) {
            const auto it = lineTime.find(loc);
            if (it == lineTime.end()) {
                timed = false;
                break;
            }
            const double rest = std::max(0.0, it->second - opsOnLine[loc]);
            t += rest * double(n) / double(fusedOnLine[loc]);
        }
        f.timeNs = timed ? t / k : -1;
        if (timed) fusedTotal += f.timeNs;
        std::vector<std::string> unique;
        for (const auto& [loc, n] : mine)
            unique.push_back(loc);
        f.locations = unique;
    }
    // The per-line pass ran without the operator profiler: never let it claim more than the remainder.
    const double remainder = std::max(0.0, p.forwardNs - p.operatorSelfNs);
    if (fusedTotal > remainder && fusedTotal > 0) {
        for (auto& f : fused)
            if (f.timeNs > 0) f.timeNs *= remainder / fusedTotal;
        fusedTotal = remainder;
    }
    p.fusedNs = fusedTotal;
    p.unattributedNs = std::max(0.0, p.forwardNs - p.operatorSelfNs - p.fusedNs);
    bool untimedFused = false;
    for (const auto& f : fused) {
        OperatorStat s;
        s.name = f.kind;
        s.fused = true;
        s.timed = f.timeNs >= 0;
        untimedFused = untimedFused || !s.timed;
        s.calls = s.topCalls = int64_t(std::llround(double(f.perForward) * k));
        s.selfNs = s.totalNs = s.topNs = std::max(0.0, f.timeNs) * k;
        s.locations = f.locations;
        if (s.locations.size() > 8) s.locations.resize(8);
        p.operators.push_back(s);
    }
    p.fused = fused;
    std::stable_sort(p.operators.begin(), p.operators.end(),
                     [](const OperatorStat& a, const OperatorStat& b) { return a.selfNs > b.selfNs; });
    if (!fused.empty()) {
        std::string kinds;
        for (const auto& f : fused)
            kinds += (kinds.empty() ? "" : ", ") + f.kind + " ×" + std::to_string(f.perForward);
        p.notes.push_back("the executed graph has nodes the operator profiler does not report: " + kinds +
                          (untimedFused ? "; those not timed per op are inside the unattributed remainder"
                                        : "; they are timed through TorchScript's per-line profile"));
    }

    // Lines.
    std::map<std::string, LineStat> lines;
    for (const auto& e : events) {
        if (e.kind != EventKind::Operator || e.call < 0 || e.location.empty()) continue;
        auto& l = lines[e.location];
        l.location = e.location;
        if (l.function.empty()) l.function = e.function;
        l.selfNs += e.selfNs;
        if (e.depth == 0) ++l.calls;
    }
    for (const auto& [loc, ns] : lineTime) {
        auto& l = lines[loc];
        l.location = loc;
        l.scriptNs = ns;
    }
    for (auto& [loc, l] : lines)
        p.lines.push_back(l);
    std::stable_sort(p.lines.begin(), p.lines.end(), [](const LineStat& a, const LineStat& b) {
        return std::max(a.selfNs, a.scriptNs) > std::max(b.selfNs, b.scriptNs);
    });

    // Modules: operators' self time on their innermost module, rolled up the path.
    std::map<std::string, ModuleStat> modules;
    std::map<std::string, std::string> types;
    for (const auto& e : events) {
        if (e.kind != EventKind::Operator || e.call < 0) continue;
        if (!e.moduleType.empty()) {
            p.moduleScope = true;
            types.emplace(e.module, e.moduleType);
        }
    }
    if (p.moduleScope) {
        for (const auto& e : events) {
            if (e.kind != EventKind::Operator || e.call < 0) continue;
            std::string path = e.module;
            auto& own = modules[path];
            own.selfNs += e.selfNs;
            if (e.depth == 0) ++own.operatorCalls;
            while (true) {
                modules[path].totalNs += e.selfNs;
                if (path.empty()) break;
                const auto dot = path.rfind('.');
                path = dot == std::string::npos ? std::string() : path.substr(0, dot);
            }
        }
        for (auto& [path, m] : modules) {
            m.path = path;
            m.depth = path.empty() ? 0 : int(std::count(path.begin(), path.end(), '.')) + 1;
            const auto t = types.find(path);
            if (t != types.end()) m.type = t->second;
        }
        // Preorder, children by time: a depth-first walk over the sorted paths.
        std::map<std::string, std::vector<std::string>> children;
        for (const auto& [path, m] : modules) {
            if (path.empty()) continue;
            const auto dot = path.rfind('.');
            children[dot == std::string::npos ? std::string() : path.substr(0, dot)].push_back(path);
        }
        std::vector<std::string> stack{""};
        while (!stack.empty()) {
            const std::string path = stack.back();
            stack.pop_back();
            p.modules.push_back(modules[path]);
            auto kids = children[path];
            std::stable_sort(kids.begin(), kids.end(), [&](const std::string& a, const std::string& b) {
                return modules[a].totalNs < modules[b].totalNs; // reversed: the stack pops the largest first
            });
            for (const auto& c : kids)
                stack.push_back(c);
        }
    } else if (!events.empty()) {
        p.notes.push_back("this LibTorch did not report module scope: the per-line table stands in for the "
                          "per-module one");
    }
    p.events = std::move(events);
    p.ok = true;
    return p;
}

namespace {
// Each forward's operator and frame events in start order, on the forward's own thread.
std::map<int, std::vector<std::size_t>> eventsByCall(std::vector<ProfileEvent> events) {
    assignCalls(events);
    std::map<int, std::vector<std::size_t>> calls;
    for (std::size_t i = 0; i < events.size(); ++i)
        if (events[i].kind != EventKind::Forward && events[i].call >= 0) calls[events[i].call].push_back(i);
    for (auto& [call, list] : calls)
        std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
            return events[a].startNs != events[b].startNs ? events[a].startNs < events[b].startNs
                                                          : events[a].durationNs > events[b].durationNs;
        });
    return calls;
}
} // namespace

int attachDescriptions(std::vector<ProfileEvent>& timed, const std::vector<ProfileEvent>& described) {
    const auto a = eventsByCall(timed);
    const auto b = eventsByCall(described);
    int unmatched = 0;
    for (const auto& [call, list] : a) {
        const auto other = b.find(call);
        // The n-th call of each operator in one pass is its n-th call in the other: the order of events
        // that start in the same microsecond is not to be relied on, their counts are.
        std::map<std::string, std::vector<std::size_t>> mine, theirs;
        for (std::size_t i : list)
            mine[timed[i].name].push_back(i);
        if (other != b.end())
            for (std::size_t i : other->second)
                theirs[described[i].name].push_back(i);
        bool same = other != b.end() && mine.size() == theirs.size();
        for (const auto& [name, ids] : mine) {
            if (!same) break;
            const auto it = theirs.find(name);
            same = it != theirs.end() && it->second.size() == ids.size();
        }
        if (!same) {
            ++unmatched;
            continue;
        }
        for (const auto& [name, ids] : mine)
            for (std::size_t n = 0; n < ids.size(); ++n) {
                ProfileEvent& t = timed[ids[n]];
                const ProfileEvent& d = described[theirs[name][n]];
                t.shapes = d.shapes;
                t.module = d.module;
                t.moduleType = d.moduleType;
                t.location = d.location;
                t.function = d.function;
                t.flops = d.flops;
                t.bytes = d.bytes;
            }
    }
    return unmatched;
}

void applyRoofline(Profile& p) {
    Roofline& r = p.roofline;
    r = Roofline();
    if (p.modelFlops <= 0) return;
    const double ns = p.unprofiledMedianNs > 0 ? p.unprofiledMedianNs : p.forwardNs;
    if (ns <= 0) return;
    r.known = true;
    r.flops = p.modelFlops;
    r.bytes = std::max(0.0, p.modelBytes);
    r.achievedGflops = r.flops / ns;
    r.intensity = r.bytes > 0 ? r.flops / r.bytes : 0;
    std::string s = "The forward does " + formatScaled(r.flops, "FLOP") + " (" + kFlopConvention + ")";
    if (r.bytes > 0)
        s += " on " + formatScaled(r.bytes, "B") +
             " of operator inputs and outputs: " + formatFixed(r.intensity, 1) + " FLOP/byte";
    if (p.peak.measured && p.peak.gflops > 0) {
        r.percentOfPeak = 100 * r.achievedGflops / p.peak.gflops;
        if (r.bytes > 0 && p.peak.bandwidthGBs > 0) {
            r.computeBound = r.intensity >= p.peak.balance();
            s += std::string(r.computeBound ? ", above" : ", below") + " this machine's balance point of " +
                 formatFixed(p.peak.balance(), 1) + " FLOP/byte (" + formatFixed(p.peak.gflops, 1) +
                 " GFLOP/s peak, " + formatFixed(p.peak.bandwidthGBs, 1) + " GB/s copy), so it is " +
                 (r.computeBound ? "compute-bound" : "memory-bound");
        }
        s += "; it runs at " + formatFixed(r.achievedGflops, 1) + " GFLOP/s, " +
             formatFixed(r.percentOfPeak, 0) + "% of peak.";
    } else {
        s += "; it runs at " + formatFixed(r.achievedGflops, 1) +
             " GFLOP/s (the machine's peak was not measured).";
    }
    r.sentence = s;
}

namespace {
// prim::mkldnn_convolution does the work of aten::conv2d, aten::_convolution, …; aten::matmul that of a
// frozen aten::linear.
bool replacesByKind(const std::string& fused, const std::string& op) {
    auto lower = [](std::string s) {
        for (char& c : s)
            c = char(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    const std::string f = lower(fused), o = lower(op);
    // The rewrites freeze and optimize_for_inference make of unfused operators.
    if (o == "aten::linear" && (f == "aten::matmul" || f == "aten::mm" || f == "aten::addmm")) return true;
    if (f.rfind("aten::", 0) == 0 && f.find("mkldnn") == std::string::npos) return false;
    for (const char* work : {"conv", "linear", "matmul", "batch_norm", "layer_norm", "hardswish",
                             "hardsigmoid", "hardtanh", "clamp", "mul"})
        if (f.find(work) != std::string::npos && o.find(work) != std::string::npos) return true;
    return false;
}
} // namespace

ProfileDiff diffProfiles(const Profile& a, const Profile& b) {
    ProfileDiff d;
    d.labelA = a.label;
    d.labelB = b.label;
    d.forwardA = a.unprofiledMedianNs > 0 ? a.unprofiledMedianNs : a.forwardNs;
    d.forwardB = b.unprofiledMedianNs > 0 ? b.unprofiledMedianNs : b.forwardNs;
    const double ka = std::max(1, a.calls), kb = std::max(1, b.calls);
    struct Side {
        const OperatorStat* a = nullptr;
        const OperatorStat* b = nullptr;
    };
    std::map<std::string, Side> names;
    for (const auto& o : a.operators)
        if (o.topCalls > 0) names[o.name].a = &o;
    for (const auto& o : b.operators)
        if (o.topCalls > 0) names[o.name].b = &o;
    // Allocation and view operators that appear around a fused node replace nothing.
    auto bookkeeping = [](const std::string& name) {
        static const std::set<std::string> ops{
            "aten::empty",      "aten::empty_like",  "aten::empty_strided", "aten::resize_",
            "aten::as_strided", "aten::as_strided_", "aten::view",          "aten::_reshape_alias",
            "aten::reshape",    "aten::contiguous",  "aten::detach"};
        return ops.count(name) > 0;
    };
    auto intersects = [](const std::vector<std::string>& x, const std::vector<std::string>& y) {
        for (const auto& s : x)
            if (std::find(y.begin(), y.end(), s) != y.end()) return true;
        return false;
    };
    for (const auto& [name, side] : names) {
        ProfileDiffEntry e;
        e.name = name;
        if (side.a) {
            e.callsA = double(side.a->topCalls) / ka;
            e.nsA = side.a->topNs / ka;
        }
        if (side.b) {
            e.callsB = double(side.b->topCalls) / kb;
            e.nsB = side.b->topNs / kb;
        }
        if (!side.a)
            e.change = ProfileDiffEntry::Change::Appeared;
        else if (!side.b)
            e.change = ProfileDiffEntry::Change::Vanished;
        else if (e.nsB < 0.9 * e.nsA)
            e.change = ProfileDiffEntry::Change::Faster;
        else if (e.nsB > 1.1 * e.nsA)
            e.change = ProfileDiffEntry::Change::Slower;
        d.entries.push_back(e);
    }
    // What replaced what: operators that vanished, and those that appeared on the same source lines.
    for (auto& e : d.entries) {
        if (e.change != ProfileDiffEntry::Change::Vanished) continue;
        const OperatorStat* gone = names[e.name].a;
        std::string by;
        for (const auto& f : d.entries) {
            if (f.change != ProfileDiffEntry::Change::Appeared) continue;
            const OperatorStat* came = names[f.name].b;
            if (gone && came && !bookkeeping(f.name) && intersects(gone->locations, came->locations))
                by += (by.empty() ? "" : ", ") + f.name;
        }
        if (by.empty()) {
            // Without source lines (traced models lose them under optimize_for_inference), a fused node
            // replaces the operators its kind names.
            for (const auto& f : d.entries) {
                const OperatorStat* came = names[f.name].b;
                if (f.change == ProfileDiffEntry::Change::Appeared && came && replacesByKind(f.name, e.name))
                    by += (by.empty() ? "" : ", ") + f.name;
            }
        }
        if (!by.empty())
            e.note = "→ " + by;
        else if (e.name.find("batch_norm") != std::string::npos && b.config.jit != JitMode::Off)
            e.note = "folded into the convolution by freeze";
        else if (b.config.jit != JitMode::Off)
            e.note = "not in the " + jitModeName(b.config.jit) + " graph: folded or rewritten";
    }
    for (auto& f : d.entries) {
        if (f.change != ProfileDiffEntry::Change::Appeared) continue;
        const OperatorStat* came = names[f.name].b;
        std::string of;
        for (const auto& e : d.entries) {
            const OperatorStat* gone = names[e.name].a;
            if (e.change == ProfileDiffEntry::Change::Vanished && gone && came && !bookkeeping(f.name) &&
                e.note.find(f.name) != std::string::npos)
                of += (of.empty() ? "" : ", ") + e.name;
        }
        if (!of.empty()) f.note = "replaces " + of;
        if (came && came->fused) f.note += std::string(f.note.empty() ? "" : "; ") + "fused node";
    }
    std::stable_sort(d.entries.begin(), d.entries.end(),
                     [](const ProfileDiffEntry& x, const ProfileDiffEntry& y) {
                         return std::abs(x.nsB - x.nsA) > std::abs(y.nsB - y.nsA);
                     });

    auto count = [](double c) {
        const double r = std::round(c);
        return "×" + (std::abs(c - r) < 0.05 ? std::to_string(int64_t(r)) : formatFixed(c, 1));
    };
    auto side = [&](const std::string& name, double calls, double ns, bool fusedUntimed) {
        return name + " " + count(calls) + " (" + (fusedUntimed ? "not timed" : formatDuration(ns)) + ")";
    };
    std::set<std::string> told;
    // An operator that appeared in place of vanished ones is told with them, on their line.
    for (const auto& e : d.entries)
        if (e.change == ProfileDiffEntry::Change::Appeared && e.note.rfind("replaces ", 0) == 0)
            told.insert(e.name);
    for (const auto& e : d.entries) {
        if (d.summary.size() >= 12) break;
        if (told.count(e.name)) continue;
        if (e.change == ProfileDiffEntry::Change::Vanished) {
            std::string line = side(e.name, e.callsA, e.nsA, false);
            if (e.note.rfind("→ ", 0) == 0) {
                // "a ×20 (8.1 ms), b ×20 (1.2 ms) → c ×20 (2.3 ms)": all that one replacement swapped.
                const std::string by = e.note.substr(std::string("→ ").size());
                std::vector<std::string> gone{e.name}, came;
                std::size_t pos = 0;
                while (pos <= by.size()) {
                    const auto comma = by.find(", ", pos);
                    came.push_back(
                        by.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
                    if (comma == std::string::npos) break;
                    pos = comma + 2;
                }
                for (const auto& o : d.entries)
                    if (o.change == ProfileDiffEntry::Change::Vanished && o.name != e.name &&
                        !told.count(o.name) && o.note == e.note)
                        gone.push_back(o.name);
                std::string left, right;
                for (const auto& g : gone)
                    for (const auto& o : d.entries)
                        if (o.name == g) {
                            left += (left.empty() ? "" : ", ") + side(o.name, o.callsA, o.nsA, false);
                            told.insert(o.name);
                        }
                for (const auto& c : came)
                    for (const auto& o : d.entries)
                        if (o.name == c) {
                            const OperatorStat* s = names[o.name].b;
                            right +=
                                (right.empty() ? "" : ", ") + side(o.name, o.callsB, o.nsB, s && !s->timed);
                            told.insert(o.name);
                        }
                d.summary.push_back(left + " → " + right);
                continue;
            }
            d.summary.push_back(line + " vanished" + (e.note.empty() ? "" : " (" + e.note + ")"));
        } else if (e.change == ProfileDiffEntry::Change::Appeared) {
            const OperatorStat* s = names[e.name].b;
            d.summary.push_back(side(e.name, e.callsB, e.nsB, s && !s->timed) + " appeared" +
                                (e.note.empty() ? "" : " (" + e.note + ")"));
        } else if (e.change != ProfileDiffEntry::Change::Same) {
            d.summary.push_back(e.name + " " + count(e.callsA) + ": " + formatDuration(e.nsA) + " → " +
                                formatDuration(e.nsB) +
                                (e.change == ProfileDiffEntry::Change::Faster ? " (faster)" : " (slower)"));
        }
        told.insert(e.name);
    }
    return d;
}

std::string chromeTrace(const std::vector<Profile>& profiles) {
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < profiles.size(); ++i) {
        const Profile& p = profiles[i];
        const int pid = int(i) + 1;
        events.push_back(
            {{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", p.label}}}});
        for (const auto& e : p.events) {
            nlohmann::ordered_json args = nlohmann::ordered_json::object();
            if (e.call >= 0) args["call"] = e.call;
            if (!e.shapes.empty()) args["input_shapes"] = e.shapes;
            if (!e.moduleType.empty()) args["module"] = e.module.empty() ? "(model)" : e.module;
            if (!e.location.empty()) args["source"] = e.location;
            if (e.flops > 0) args["flops"] = e.flops;
            events.push_back({{"name", e.name},
                              {"cat", e.kind == EventKind::Forward    ? "forward"
                                      : e.kind == EventKind::Function ? "torchscript"
                                                                      : "operator"},
                              {"ph", "X"},
                              {"ts", e.startNs / 1000.0},
                              {"dur", e.durationNs / 1000.0},
                              {"pid", pid},
                              {"tid", e.thread},
                              {"args", args}});
        }
    }
    nlohmann::ordered_json configs = nlohmann::ordered_json::array();
    for (const auto& p : profiles)
        configs.push_back({{"configuration", p.label}, {"profiler", p.profiler}, {"calls", p.calls}});
    nlohmann::ordered_json j{
        {"traceEvents", events}, {"displayTimeUnit", "ms"}, {"otherData", {{"profiles", configs}}}};
    return j.dump();
}

void writeChromeTrace(const std::string& path, const std::vector<Profile>& profiles) {
    bool any = false;
    for (const auto& p : profiles)
        any = any || !p.events.empty();
    if (!any) throw Error(path + ": the profile kept no events to write (profile again with events kept)");
    detail::writeFileAtomically(path, chromeTrace(profiles) + "\n");
}

} // namespace twb
