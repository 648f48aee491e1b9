#!/bin/sh
# Installs the Debian 12 packages Torch Workbench needs to build, test and run.
# Idempotent: packages already present are left as they are. Run as root.
set -eu

BUILD="cmake ninja-build g++ pkg-config"
LIBS="libtorch-dev qt6-base-dev libqcustomplot-dev libqcustomplot2.1-qt6 \
      nlohmann-json3-dev libcli11-dev libzip-dev libstb-dev libqt6svg6"
# Tests: the Qt offscreen platform needs no display; the fixtures script uses Debian's PyTorch.
TEST="python3 python3-torch python3-numpy dpkg-dev desktop-file-utils"
# Screenshots of the GUI as a person sees it.
SCREEN="xvfb imagemagick"

case "${1:-all}" in
  build) PKGS="$BUILD $LIBS" ;;
  test) PKGS="$BUILD $LIBS $TEST" ;;
  all) PKGS="$BUILD $LIBS $TEST $SCREEN" ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PKGS
