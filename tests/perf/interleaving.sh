#!/bin/sh
# Do the figures repeat, and do the verdicts hold? Trials of torchwb bench as a user runs it, on a small
# MLP exported by Python (tests/perf/README.md, "Figures that repeat"):
#   A/A --against   the same model as baseline and candidate, interleaved in one run: "regression" at most once in 20
#   A/A --baseline  a stored report gated by later, separate runs: "regression" at most once in 20
#   A/B --against   a candidate about 10% slower (batch 11 against batch 10): found slower in at least 18 of 20
#   coverage        over 10 separate runs, the share of the other runs' medians inside each run's 95% CI
#   cost            wall time of one bench, default against --quick
#
#   tests/perf/interleaving.sh [TORCHWB] [TRIALS]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
torchwb=${1:-$here/build/release/bin/torchwb}
trials=${2:-20}
python=${TWB_PYTHON:-$here/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$work" <<'EOF'
import sys, torch, torch.nn as nn
out = sys.argv[1]
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).eval()

class Batch11(nn.Module):
    """The same MLP on one more row: about 10% more work for the same [10, 64] input."""
    def __init__(self, m):
        super().__init__()
        self.m = m
    def forward(self, x):
        return self.m(torch.cat([x, x[:1]]))[:10]

x = torch.randn(10, 64)
torch.jit.trace(mlp, x).save(f"{out}/b10.pt")
torch.jit.trace(Batch11(mlp), x).save(f"{out}/b11.pt")
EOF

gen="-g normal:10x64:seed=1 -q --seconds 1"
count() { grep -c "^$1" "$2" || true; }

echo "== A/A, interleaved (--against), $trials trials"
: > "$work/aa.txt"
i=0; while [ $i -lt "$trials" ]; do
  "$torchwb" bench "$work/b10.pt" --against "$work/b10.pt" $gen | tail -n 1 >> "$work/aa.txt" || true
  i=$((i + 1)); done
echo "pass $(count 'verdict: pass' "$work/aa.txt"), inconclusive $(count 'verdict: inconclusive' "$work/aa.txt"), regression $(count 'verdict: regression' "$work/aa.txt")"

echo "== A/A, a stored baseline (--baseline), $trials trials"
"$torchwb" bench "$work/b10.pt" $gen --json "$work/base.json" > /dev/null
: > "$work/stored.txt"
i=0; while [ $i -lt "$trials" ]; do
  "$torchwb" bench "$work/b10.pt" $gen --baseline "$work/base.json" | tail -n 1 >> "$work/stored.txt" || true
  i=$((i + 1)); done
echo "pass $(count 'verdict: pass' "$work/stored.txt"), inconclusive $(count 'verdict: inconclusive' "$work/stored.txt"), regression $(count 'verdict: regression' "$work/stored.txt")"

for flags in "" "--processes 10" "--workers separate --processes 3"; do
  echo "== A/B, batch 11 against batch 10 (--against ${flags:-, the defaults}), $trials trials"
  : > "$work/ab.txt"
  i=0; while [ $i -lt "$trials" ]; do
    "$torchwb" bench "$work/b11.pt" --against "$work/b10.pt" $gen $flags > "$work/one.txt" || true
    grep "^gate: " "$work/one.txt" >> "$work/ab.txt"
    tail -n 1 "$work/one.txt" >> "$work/ab.txt"
    i=$((i + 1)); done
  echo "found slower $(grep -c ' slower than ' "$work/ab.txt" || true) of $trials;" \
       "verdicts: regression $(count 'verdict: regression' "$work/ab.txt"), inconclusive $(count 'verdict: inconclusive' "$work/ab.txt"), pass $(count 'verdict: pass' "$work/ab.txt")"
  grep -o "speedup [0-9.]*×, 95% CI [0-9.–]*\|[0-9.]*× slower than b10.pt[^(]*(95% CI [0-9.–]*)" "$work/ab.txt" | sed 's/^/  /' | head -n 6
done

echo "== coverage of the median's 95% CI over 10 separate runs (default, then --quick)"
for mode in default quick; do
  flag=""; [ $mode = quick ] && flag="--quick"
  i=0; while [ $i -lt 10 ]; do
    "$torchwb" bench "$work/b10.pt" $gen $flag --json "$work/cov_${mode}_$i.json" > /dev/null
    i=$((i + 1)); done
  "$python" - "$work" "$mode" <<'EOF'
import json, sys, glob
runs = [json.load(open(f))["runs"][0]["latency_ns"] for f in sorted(glob.glob(f"{sys.argv[1]}/cov_{sys.argv[2]}_*.json"))]
inside = total = 0
for i, r in enumerate(runs):
    lo, hi = r["median_ci"]
    for j, o in enumerate(runs):
        if i != j:
            total += 1
            inside += lo <= o["median"] <= hi
meds = sorted(r["median"] / 1e3 for r in runs)
print(f"  {sys.argv[2]}: {inside} of {total} ({100 * inside / total:.0f}%) other medians inside each CI; medians {meds[0]:.1f}–{meds[-1]:.1f} µs")
EOF
done

echo "== cost: wall time of one bench of the sample (1 s budget)"
for flag in "" "--quick"; do
  start=$(date +%s.%N)
  "$torchwb" bench "$here/resources/sample/sample_cnn.pt" -i "$here/resources/sample/sample_input.npy" -q $flag > /dev/null
  end=$(date +%s.%N)
  echo "  bench ${flag:-(default)}: $(echo "$end - $start" | bc) s"
done
