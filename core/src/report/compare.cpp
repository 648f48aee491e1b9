#include "twb/compare.h"

#include "torch_bridge.h"

#include "twb/error.h"

#include <torch/script.h>

#include <cmath>
#include <cstdio>
#include <map>

namespace twb {
namespace {

std::string keyText(const c10::IValue& k) {
    if (k.isString()) return "\"" + k.toStringRef() + "\"";
    std::ostringstream s;
    s << k;
    return s.str();
}

// Flattens a value into (path, leaf) pairs, keeping non-tensor scalars as leaves too.
void flatten(const c10::IValue& v, const std::string& path,
             std::vector<std::pair<std::string, c10::IValue>>& out) {
    if (v.isTuple()) {
        const auto& e = v.toTupleRef().elements();
        for (std::size_t i = 0; i < e.size(); ++i)
            flatten(e[i], path + "[" + std::to_string(i) + "]", out);
    } else if (v.isList()) {
        const auto l = v.toListRef();
        for (std::size_t i = 0; i < l.size(); ++i)
            flatten(l[i], path + "[" + std::to_string(i) + "]", out);
    } else if (v.isGenericDict()) {
        for (const auto& e : v.toGenericDict())
            flatten(e.value(), path + "[" + keyText(e.key()) + "]", out);
    } else {
        out.emplace_back(path, v);
    }
}

at::Tensor asTensor(const c10::IValue& v) {
    if (v.isTensor()) return v.toTensor().detach().to(at::kCPU);
    if (v.isInt()) return at::scalar_tensor(v.toInt(), at::kLong);
    if (v.isDouble()) return at::scalar_tensor(v.toDouble(), at::kDouble);
    if (v.isBool()) return at::scalar_tensor(v.toBool(), at::kBool);
    return {};
}

std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape) {
    std::vector<int64_t> idx(shape.size());
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
        const int64_t n = shape[std::size_t(d)];
        idx[std::size_t(d)] = n ? flat % n : 0;
        flat = n ? flat / n : 0;
    }
    return idx;
}

void compareTensors(const at::Tensor& ta, const at::Tensor& tb, const CompareOptions& o, LeafComparison& c) {
    c.shapeA = ta.sizes().vec();
    c.shapeB = tb.sizes().vec();
    c.dtypeA = detail::dtypeName(ta.scalar_type());
    c.dtypeB = detail::dtypeName(tb.scalar_type());
    if (c.dtypeA != c.dtypeB) c.note = "dtypes differ: " + c.dtypeA + " vs " + c.dtypeB;
    if (c.shapeA != c.shapeB) {
        c.status = LeafStatus::ShapeMismatch;
        c.allclose = false;
        return;
    }
    if (ta.is_complex() != tb.is_complex()) {
        c.status = LeafStatus::TypeMismatch;
        c.note = "one side is complex: " + c.dtypeA + " vs " + c.dtypeB;
        return;
    }
    // Complex values compare as (real, imaginary) pairs; an element differs when either part does.
    const int64_t parts = ta.is_complex() ? 2 : 1;
    auto flat = [parts](at::Tensor t) {
        t = t.resolve_conj().resolve_neg();
        if (t.is_complex()) t = at::view_as_real(t);
        return t.to(at::kDouble).contiguous().reshape({-1, parts});
    };
    const at::Tensor a = flat(ta), b = flat(tb);
    c.numel = ta.numel();
    c.nanA = at::isnan(a).sum().item<int64_t>();
    c.nanB = at::isnan(b).sum().item<int64_t>();
    c.infA = at::isinf(a).sum().item<int64_t>();
    c.infB = at::isinf(b).sum().item<int64_t>();
    if (a.numel() == 0) {
        c.allclose = true;
        return;
    }
    // torch.isclose(a, b, rtol, atol, equal_nan=False): equal values (infinities included), or a finite
    // difference within tolerance.
    const at::Tensor diff = (a - b).abs();
    const at::Tensor close = (a == b) | (at::isfinite(diff) & (diff <= (o.atol + o.rtol * b.abs())));
    const at::Tensor bad = close.logical_not().any(1);
    c.mismatches = bad.sum().item<int64_t>();
    c.allclose = c.mismatches == 0;
    if (c.mismatches > 0) {
        const at::Tensor where = bad.nonzero().reshape({-1});
        const int64_t n = std::min<int64_t>(o.maxMismatchIndices, where.numel());
        for (int64_t i = 0; i < n; ++i)
            c.firstMismatches.push_back(unravel(where[i].item<int64_t>(), c.shapeA));
    }
    const at::Tensor finite = at::isfinite(a) & at::isfinite(b);
    const at::Tensor fa = a.masked_select(finite), fb = b.masked_select(finite); // flattened
    if (fa.numel() > 0) {
        const at::Tensor d = (fa - fb).abs();
        c.maxAbs = d.max().item<double>();
        c.meanAbs = d.mean().item<double>();
        c.rmse = std::sqrt((d * d).mean().item<double>());
        const at::Tensor denom = fb.abs();
        const at::Tensor rel = d.masked_select(denom > 0) / denom.masked_select(denom > 0);
        c.maxRel = rel.numel() ? rel.max().item<double>() : 0;
        const double na = fa.norm().item<double>(), nb = fb.norm().item<double>();
        c.cosine = (na > 0 && nb > 0) ? (fa * fb).sum().item<double>() / (na * nb) : (na == nb ? 1 : 0);
    }
    if (ta.dim() == 2 && ta.size(0) > 0 && ta.size(1) > 1 && !ta.is_complex()) {
        c.hasTopk = true;
        c.k = int(std::min<int64_t>(o.topk, ta.size(1)));
        const at::Tensor ra = ta.to(at::kDouble), rb = tb.to(at::kDouble);
        c.argmaxAgreement = (ra.argmax(1) == rb.argmax(1)).to(at::kDouble).mean().item<double>();
        const at::Tensor ka = std::get<1>(ra.topk(c.k, 1)), kb = std::get<1>(rb.topk(c.k, 1));
        // Per row, how many of A's top-k indices are in B's top-k.
        const at::Tensor overlap =
            (ka.unsqueeze(2) == kb.unsqueeze(1)).any(2).to(at::kDouble).sum(1) / double(c.k);
        c.topkAgreement = overlap.mean().item<double>();
    }
}

} // namespace

namespace {
constexpr std::pair<LeafStatus, const char*> kLeafStatusNames[] = {
    {LeafStatus::Compared, "ok"},
    {LeafStatus::ShapeMismatch, "shape_mismatch"},
    {LeafStatus::OnlyInA, "only_in_a"},
    {LeafStatus::OnlyInB, "only_in_b"},
    {LeafStatus::TypeMismatch, "type_mismatch"},
    {LeafStatus::ValueMismatch, "value_mismatch"},
};
} // namespace

std::string leafStatusName(LeafStatus status) {
    for (const auto& [s, name] : kLeafStatusNames)
        if (s == status) return name;
    return "type_mismatch";
}

LeafStatus leafStatusFromName(const std::string& name) {
    for (const auto& [s, known] : kLeafStatusNames)
        if (name == known) return s;
    return LeafStatus::TypeMismatch;
}

std::string leafVerdictText(const LeafComparison& l) {
    switch (l.status) {
    case LeafStatus::OnlyInA:
        return "only in the first";
    case LeafStatus::OnlyInB:
        return "only in the second";
    case LeafStatus::ShapeMismatch:
        return "shapes differ: " + shapeText(l.shapeA) + " vs " + shapeText(l.shapeB);
    case LeafStatus::TypeMismatch:
    case LeafStatus::ValueMismatch:
        return l.note;
    case LeafStatus::Compared:
        break;
    }
    return l.allclose ? "allclose" : "NOT allclose";
}

ReferenceComparison compareWithReference(const Value& output, const Value& reference,
                                         const CompareOptions& options, const std::string& leaf) {
    ReferenceComparison c;
    c.target = referenceTarget(output, reference, leaf);
    c.outputs = compareOutputs(c.target.value, reference, options);
    if (!c.target.reason.empty()) c.described = " against " + c.target.path + " (" + c.target.reason + ")";
    return c;
}

ReferenceTarget referenceTarget(const Value& output, const Value& reference, const std::string& leaf) {
    ReferenceTarget target;
    target.value = output;
    std::vector<std::pair<std::string, c10::IValue>> lo, lr;
    flatten(detail::unwrap(output), "out", lo);
    flatten(detail::unwrap(reference), "out", lr);
    std::string leaves;
    for (std::size_t i = 0; i < lo.size() && i < 12; ++i)
        leaves += (i ? ", " : "") + lo[i].first;
    if (lo.size() > 12) leaves += ", …";
    if (!leaf.empty()) {
        const std::string want = leaf.rfind("out", 0) == 0 ? leaf : "out" + leaf;
        if (want == "out") return target;
        for (const auto& [path, v] : lo)
            if (path == want) {
                target.path = path;
                target.reason = "as asked";
                target.value = detail::wrap(v);
                return target;
            }
        throw Error("the output has no leaf " + want + "; its leaves are " + leaves);
    }
    const bool oneTensor = lr.size() == 1 && lr[0].first == "out" && lr[0].second.isTensor();
    if (!oneTensor || lo.size() <= 1) return target;
    const auto shape = lr[0].second.toTensor().sizes().vec();
    std::vector<std::size_t> same;
    for (std::size_t i = 0; i < lo.size(); ++i)
        if (lo[i].second.isTensor() && lo[i].second.toTensor().sizes().vec() == shape) same.push_back(i);
    if (same.size() == 1) {
        target.path = lo[same[0]].first;
        target.reason = "the only leaf of its shape " + shapeText(shape);
        target.value = detail::wrap(lo[same[0]].second);
        return target;
    }
    std::string candidates;
    for (std::size_t i = 0; i < same.size() && i < 12; ++i)
        candidates += (i ? ", " : "") + lo[same[i]].first;
    throw Error("the reference is one tensor of shape " + shapeText(shape) + " and the output has " +
                std::to_string(lo.size()) + " leaves (" + leaves + "), " +
                (same.empty() ? std::string("none of that shape") : candidates + " of that shape") +
                ": name the leaf to compare it with");
}

OutputComparison compareOutputs(const Value& av, const Value& bv, const CompareOptions& options) {
    OutputComparison result;
    result.options = options;
    std::vector<std::pair<std::string, c10::IValue>> la, lb;
    flatten(detail::unwrap(av), "out", la);
    flatten(detail::unwrap(bv), "out", lb);
    std::map<std::string, std::size_t> inB;
    for (std::size_t i = 0; i < lb.size(); ++i)
        inB[lb[i].first] = i;
    std::vector<bool> used(lb.size(), false);
    for (const auto& [path, a] : la) {
        LeafComparison c;
        c.path = path;
        const auto it = inB.find(path);
        if (it == inB.end()) {
            c.status = LeafStatus::OnlyInA;
            result.sameStructure = false;
            result.leaves.push_back(c);
            continue;
        }
        used[it->second] = true;
        const at::Tensor ta = asTensor(a), tb = asTensor(lb[it->second].second);
        if (!ta.defined() || !tb.defined()) {
            const c10::IValue& b = lb[it->second].second;
            // Equal strings or Nones are equal outputs; different values of one kind differ in value, not
            // structure.
            c.allclose = (a.isNone() && b.isNone()) ||
                         (a.isString() && b.isString() && a.toStringRef() == b.toStringRef());
            c.status = c.allclose                   ? LeafStatus::Compared
                       : a.tagKind() == b.tagKind() ? LeafStatus::ValueMismatch
                                                    : LeafStatus::TypeMismatch;
            c.note = "not numbers: " + a.tagKind() + " vs " + b.tagKind();
            result.leaves.push_back(c);
            continue;
        }
        try {
            compareTensors(ta, tb, options, c);
        } catch (const std::exception& e) {
            c.status = LeafStatus::TypeMismatch;
            c.allclose = false;
            c.note = std::string("cannot be compared: ") + e.what();
        }
        if (c.status != LeafStatus::Compared)
            result.sameStructure = result.sameStructure && c.status != LeafStatus::TypeMismatch;
        result.leaves.push_back(c);
    }
    for (std::size_t i = 0; i < lb.size(); ++i)
        if (!used[i]) {
            LeafComparison c;
            c.path = lb[i].first;
            c.status = LeafStatus::OnlyInB;
            result.sameStructure = false;
            result.leaves.push_back(c);
        }
    result.allclose = !result.leaves.empty();
    int64_t mismatched = 0;
    for (const auto& c : result.leaves) {
        if (!(c.status == LeafStatus::Compared && c.allclose)) {
            result.allclose = false;
            ++mismatched;
        }
    }
    char buf[256];
    if (!result.sameStructure)
        std::snprintf(buf, sizeof buf, "the outputs differ in structure (%zu vs %zu leaves)", la.size(),
                      lb.size());
    else if (result.allclose && result.leaves.size() == 1)
        std::snprintf(buf, sizeof buf, "the output is allclose (atol %g, rtol %g)", options.atol,
                      options.rtol);
    else if (result.allclose)
        std::snprintf(buf, sizeof buf, "all %zu outputs are allclose (atol %g, rtol %g)",
                      result.leaves.size(), options.atol, options.rtol);
    else
        std::snprintf(buf, sizeof buf, "%lld of %zu outputs are not allclose (atol %g, rtol %g)",
                      static_cast<long long>(mismatched), result.leaves.size(), options.atol, options.rtol);
    result.summary = buf;
    return result;
}

std::vector<double> absoluteErrors(const Value& av, const Value& bv, const std::string& path,
                                   std::size_t maxValues) {
    if (maxValues == 0) return {};
    std::vector<std::pair<std::string, c10::IValue>> la, lb;
    flatten(detail::unwrap(av), "out", la);
    flatten(detail::unwrap(bv), "out", lb);
    at::Tensor ta, tb;
    for (const auto& [p, v] : la)
        if (p == path) ta = asTensor(v);
    for (const auto& [p, v] : lb)
        if (p == path) tb = asTensor(v);
    if (!ta.defined() || !tb.defined() || ta.sizes() != tb.sizes() || ta.is_complex() != tb.is_complex())
        return {};
    if (ta.is_complex()) ta = at::view_as_real(ta.resolve_conj());
    if (tb.is_complex()) tb = at::view_as_real(tb.resolve_conj());
    at::Tensor a = ta.to(at::kDouble).reshape({-1}), b = tb.to(at::kDouble).reshape({-1});
    const at::Tensor finite = at::isfinite(a) & at::isfinite(b);
    at::Tensor d = (a.masked_select(finite) - b.masked_select(finite)).abs().contiguous();
    if (std::size_t(d.numel()) > maxValues) {
        const int64_t step = (d.numel() + int64_t(maxValues) - 1) / int64_t(maxValues);
        d = d.slice(0, 0, d.numel(), step).contiguous();
    }
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

} // namespace twb
