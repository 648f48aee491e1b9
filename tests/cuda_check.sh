#!/bin/sh
# For a machine with a GPU and a CUDA PyTorch: builds core and torchwb against that PyTorch's
# LibTorch, runs the MLP and resnet18 on cuda, compares their outputs with the CPU's, and prints
# the bench table with the CUDA event time beside the wall clock and the peak CUDA memory.
# Usage: tests/cuda_check.sh [PYTHON]   (default: .venv-cuda/bin/python, else python3)
# Needs cmake >= 3.25, ninja, g++, the CUDA toolkit, nlohmann-json3-dev, libcli11-dev, libzip-dev,
# libstb-dev; takes a few minutes.
set -eu
cd "$(dirname "$0")/.."
PY=${1:-}
[ -n "$PY" ] || { [ -x .venv-cuda/bin/python ] && PY=.venv-cuda/bin/python; } || PY=python3
CMAKE=$(command -v cmake || echo .venv/bin/cmake)
B=build/cuda-check
OUT=${OUT:-$B/out}
mkdir -p "$OUT"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
"$CMAKE" -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  -DTWB_LIBTORCH=wheel -DTWB_PYTHON="$(command -v "$PY" || echo "$PY")" -DTWB_BUILD_GUI=OFF -DTWB_BUILD_TESTS=OFF > "$OUT/configure.log"
"$CMAKE" --build "$B" --target torchwb > "$OUT/build.log"
W="$B/bin/torchwb"
"$W" --version
"$PY" tests/perf/make_models.py "$B/models"
D=tests/data
echo "== MLP on cuda against Python's CPU output"
"$W" run "$D/mlp_traced.pt" -i "$D/mlp_x.npy" --device cuda --reference "$D/mlp_expected.npy" --atol 1e-4
echo "== resnet18: cuda against cpu"
"$W" run "$B/models/resnet18.pt" -g normal:1x3x224x224:seed=0 --device cpu -o "$OUT/resnet18_cpu.pt" > /dev/null
"$W" run "$B/models/resnet18.pt" -g normal:1x3x224x224:seed=0 --device cuda --reference "$OUT/resnet18_cpu.pt" \
  --atol 1e-3 --rtol 1e-3
echo "== bench"
"$W" bench "$D/mlp_traced.pt" -i "$D/mlp_x.npy" -c device=cpu -c device=cuda --iters 200 --atol 1e-4 --json "$OUT/mlp.json"
"$W" bench "$B/models/resnet18.pt" -g normal:8x3x224x224:seed=0 -c device=cpu -c device=cuda \
  --iters 50 --atol 1e-3 --rtol 1e-3 --json "$OUT/resnet18.json"
echo "cuda check: done"
