#!/bin/sh
# Compiles and links core and torchwb against the CUDA PyTorch wheel (torch 2.14.1 in .venv-cuda),
# CUDA sources included. Needs the CUDA toolkit (nvcc), not a GPU. Makes the venv when it is missing
# (about 5.5 GB, from packaging/install-deps.sh --cuda). The GUI's own sources (ui/, app/gui) include no
# LibTorch header, so they compile here as they do in the release build, and are left to it.
# A compile check, so at -O0 into a folder of its own (about half the time of the preset's -O3, which
# the release build already compiles at); `cmake --preset cuda` builds the optimised program.
set -eu
cd "$(dirname "$0")/.."
CMAKE=${CMAKE:-.venv/bin/cmake}
if [ ! -x .venv-cuda/bin/python ] || ! .venv-cuda/bin/python -c "import torch" 2> /dev/null; then
  ./packaging/install-deps.sh build --cuda
fi
# Torch's CUDA config derives the toolkit from nvcc's folder; a wrapper script on PATH misleads it.
CUDA_ROOT=${CUDA_HOME:-/usr/local/cuda}
B=build/cuda-compile
"$CMAKE" --preset cuda -B "$B" -DTWB_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
  -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_ROOT" -DCUDAToolkit_ROOT="$CUDA_ROOT"
if ! "$CMAKE" --build "$B" --target torchwb > "$B/build.log" 2>&1; then
  cat "$B/build.log"
  exit 1
fi
cat "$B/build.log"
# Compiles without warnings (our code; LibTorch's own headers are included as they are).
if grep -q "warning:" "$B/build.log"; then echo "cuda build check: the build has warnings" >&2; exit 1; fi
# The CUDA sources are in: the CLI reports CUDA compiled in (no device here, so not available).
"$B/bin/torchwb" --version | tee "$B/version.txt"
grep -q "CUDA compiled in: yes" "$B/version.txt"
echo "cuda build check: core and torchwb compiled and linked with CUDA"
