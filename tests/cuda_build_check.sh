#!/bin/sh
# Compiles and links core, torchwb and the GUI against the CUDA PyTorch wheel (torch 2.14.1 in
# .venv-cuda), CUDA sources included. Needs the CUDA toolkit (nvcc), not a GPU. Makes the venv
# when it is missing (about 5.5 GB, from packaging/install-deps.sh --cuda).
set -eu
cd "$(dirname "$0")/.."
CMAKE=${CMAKE:-.venv/bin/cmake}
if [ ! -x .venv-cuda/bin/python ] || ! .venv-cuda/bin/python -c "import torch" 2> /dev/null; then
  ./packaging/install-deps.sh build --cuda
fi
"$CMAKE" --preset cuda -DTWB_BUILD_TESTS=OFF
"$CMAKE" --build --preset cuda --target torchwb torch-workbench
# The CUDA sources are in: the CLI reports CUDA compiled in (no device here, so not available).
build/cuda/bin/torchwb --version | tee build/cuda/version.txt
grep -q "CUDA compiled in: yes" build/cuda/version.txt
echo "cuda build check: core, torchwb and torch-workbench compiled and linked with CUDA"
