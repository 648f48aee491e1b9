#!/bin/sh
# resnet18 and mobilenet_v2 on two LibTorch builds of torchwb, in one run, with the same settings:
# the official wheel's (build/release) and the distribution's (build/distro). Prints the medians
# side by side with each ratio's 95% confidence interval (torchwb compare on the two reports).
# Usage: tests/perf/compare_builds.sh [THREADS] [ITERS]   after building both presets.
set -eu
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
ITERS=${2:-60}
PY=.venv/bin/python
A=build/release/bin/torchwb
B=build/distro/bin/torchwb
OUT=build/perf-builds
mkdir -p "$OUT"
"$PY" tests/perf/make_models.py "$OUT/models"
"$A" --version | head -2
"$B" --version | head -2
for model in resnet18 mobilenet_v2; do
  for jit in off optimize; do
    for side in A B; do
      eval exe=\$$side
      "$exe" bench "$OUT/models/$model.pt" -g normal:1x3x224x224:seed=0 --threads "$THREADS" --jit "$jit" \
        --iters "$ITERS" --json "$OUT/${model}_${jit}_$side.json" > /dev/null
    done
  done
done
"$PY" - "$OUT" <<'PY'
import json, subprocess, sys
out = sys.argv[1]
def load(name):
    with open(f"{out}/{name}.json") as f:
        return json.load(f)
print(f"{'model':<14}{'jit':<10}{'wheel median':>14}{'distro median':>15}   wheel speedup (95% CI)")
for model in ("resnet18", "mobilenet_v2"):
    for jit in ("off", "optimize"):
        a, b = load(f"{model}_{jit}_A"), load(f"{model}_{jit}_B")
        ma, mb = a["latency_ms"]["median"], b["latency_ms"]["median"]
        # torchwb compare A B: speedup = A's median / B's, with a bootstrap interval; A = distro here.
        cmp = subprocess.run(["build/release/bin/torchwb", "compare", f"{out}/{model}_{jit}_B.json",
                              f"{out}/{model}_{jit}_A.json", "--json"], capture_output=True, text=True, check=True)
        run = json.loads(cmp.stdout)["runs"][0]
        lo, hi = run["speedup_ci"]
        print(f"{model:<14}{jit:<10}{ma:>11.2f} ms{mb:>12.2f} ms   {run['speedup']:.2f}× ({lo:.2f}–{hi:.2f})")
print(f"({a['environment']['libtorch']} from the wheel vs {b['environment']['libtorch']} from the distribution, "
      f"batch 1, 224×224, {a['runs'][0]['config'].get('threads')} threads)")
PY
