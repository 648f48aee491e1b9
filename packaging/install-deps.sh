#!/bin/sh
# Installs what Torch Workbench needs to build, test and run on Debian 12 or 13:
# Debian's packages (Qt 6, QCustomPlot, libtorch-dev for the distribution build, …) and
# a venv in .venv with the official PyTorch wheel (LibTorch for the default build),
# NumPy (fixtures and tests), the pinned CMake and Ninja the README's commands use, and the
# clang-format whose layout tests/format_check.sh holds the sources to.
# Idempotent: what is already there is left as it is. Run as root (or with sudo).
#
#   install-deps.sh [build|test|all] [--cuda]
#     build  what building needs; test  + what the test suite needs; all  + screenshots (default)
#     --cuda also makes .venv-cuda with the CUDA wheel (torch 2.14.1, about 5.5 GB) for preset 'cuda'
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
mode=all
cuda=no
for arg in "$@"; do
  case "$arg" in
    build|test|all) mode=$arg ;;
    --cuda) cuda=yes ;;
    *) echo "usage: $0 [build|test|all] [--cuda]" >&2; exit 2 ;;
  esac
done

# The versions the project is built and tested with. CMake 4 refuses package configs that
# declare compatibility below 3.5; the presets set CMAKE_POLICY_VERSION_MINIMUM=3.5 for that.
TORCH_VERSION=${TWB_TORCH_VERSION:-2.13.0}
TORCH_CUDA_VERSION=${TWB_TORCH_CUDA_VERSION:-2.14.1}
CMAKE_VERSION=4.4.5
NINJA_VERSION=1.13.2
CLANG_FORMAT_VERSION=19.1.7

release=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo unknown)
case "$release" in
  12|13) ;;
  *) echo "install-deps.sh: this is for Debian 12 or 13; /etc/debian_version says '$release'." >&2
     echo "Install the equivalents of the packages below by hand." >&2 ;;
esac

BUILD="g++ pkg-config python3 python3-venv"
# libtorch-dev: 1.13 on Debian 12, 2.6 on Debian 13 (the 'distro' preset and the .deb).
# libopenblas0-openmp: the BLAS that Debian's LibTorch recommends (which --no-install-recommends would leave
# out), in its OpenMP build, which follows LibTorch's thread count. Without it Debian's LibTorch multiplies
# matrices with the reference BLAS, about ten times slower.
# libgraphviz-dev: Graphviz's dot lays out the graph view.
LIBS="libtorch-dev libopenblas0-openmp qt6-base-dev libqcustomplot-dev nlohmann-json3-dev libcli11-dev \
      libzip-dev libstb-dev nettle-dev libqt6svg6 libgraphviz-dev"
# Tests: the package test needs dpkg-shlibdeps and desktop-file-validate; the sanitizer suite and the
# fuzzers (preset asan) need clang and its sanitizer and libFuzzer runtimes.
# python3-torchvision: torchvision's operators built for Debian's LibTorch, which the distribution build's
# tests load (--load-library) to run a scripted torchvision::nms.
# openssh-server and -client: the targets' tests start an sshd of their own on 127.0.0.1.
TEST="dpkg-dev desktop-file-utils clang libclang-rt-dev python3-torchvision openssh-server openssh-client"
# Screenshots of the GUI as a person sees it.
SCREEN="xvfb imagemagick"

case "$mode" in
  build) PKGS="$BUILD $LIBS" ;;
  test) PKGS="$BUILD $LIBS $TEST" ;;
  all) PKGS="$BUILD $LIBS $TEST $SCREEN" ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# QCustomPlot's Qt 6 library is a package of its own beside the Qt 5 one that libqcustomplot-dev pulls.
qcp=$(apt-cache search --names-only '^libqcustomplot[0-9.]*-qt6$' | cut -d' ' -f1 | head -n 1)
if [ -z "$qcp" ]; then
  echo "install-deps.sh: no Qt 6 QCustomPlot package (libqcustomplot*-qt6) in this Debian's lists." >&2
  exit 1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS "$qcp"

# The venv: the PyTorch wheel is the LibTorch of the default build. The wheels are for CPython
# 3.11 here; prefer that interpreter where there is one.
python=$(command -v python3.11 || command -v python3)
make_venv() { # DIR PACKAGES...
  dir=$1; shift
  if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
}
make_venv "$here/.venv" "torch==$TORCH_VERSION" numpy pillow "cmake==$CMAKE_VERSION" "ninja==$NINJA_VERSION" \
  "clang-format==$CLANG_FORMAT_VERSION"
"$here/.venv/bin/python" -c "import torch; print('torch', torch.__version__, 'in', '$here/.venv')"
if [ "$cuda" = yes ]; then
  make_venv "$here/.venv-cuda" "torch==$TORCH_CUDA_VERSION" numpy
  "$here/.venv-cuda/bin/python" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'in', '$here/.venv-cuda')"
fi
