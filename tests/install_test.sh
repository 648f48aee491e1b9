#!/bin/sh
# The package works: builds the .deb from the install rules, checks that its
# dependencies (from dpkg-shlibdeps) resolve, unpacks it into a temporary root,
# runs what it installed — torchwb on the installed sample, the GUI's
# self-test on the offscreen platform — checks the desktop integration files,
# then removes it. A package of the distribution's LibTorch depends on its
# package; any other carries its LibTorch, which the installed programs must
# load from the package, whatever LibTorch the system has.
# Usage: tests/install_test.sh BUILD_DIR [CPACK [distribution|bundled]]
set -eu
BUILD=$(cd "$1" && pwd)
CPACK=${2:-cpack}
LIBTORCH=${3:-distribution}
cd "$BUILD"
passed=0
check() { passed=$((passed + 1)); echo "ok: $1"; }

rm -f torch-workbench_*.deb
"$CPACK" -G DEB > cpack.log 2>&1 || { cat cpack.log; exit 1; }
DEB=$(ls torch-workbench_*.deb)
check "built $DEB"

DEPENDS=$(dpkg-deb -f "$DEB" Depends)
if [ "$LIBTORCH" = distribution ]; then
    echo "$DEPENDS" | grep -q "libtorch" || { echo "Depends lacks LibTorch: $DEPENDS"; exit 1; }
else
    ! echo "$DEPENDS" | grep -q "libtorch" || { echo "Depends names a LibTorch it carries: $DEPENDS"; exit 1; }
    dpkg-deb -c "$DEB" | grep -q "/usr/lib/torch-workbench/libtorch_cpu.so" || { dpkg-deb -c "$DEB"; exit 1; }
    check "it carries its LibTorch in /usr/lib/torch-workbench"
fi
echo "$DEPENDS" | grep -q "libqt6widgets6" || { echo "Depends lacks Qt Widgets: $DEPENDS"; exit 1; }
check "dependencies from dpkg-shlibdeps: $DEPENDS"
if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
    apt-get install -s "./$DEB" > apt.log 2>&1 || { cat apt.log; exit 1; }
    check "apt-get would install it"
fi

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
dpkg-deb -x "$DEB" "$ROOT"
BIN=$ROOT/usr/bin
SHARE=$ROOT/usr/share
if [ "$LIBTORCH" = bundled ]; then
    # Its own LibTorch, not the build's nor the system's: every LibTorch library ldd finds is the package's.
    ldd "$BIN/torchwb" "$BIN/torch-workbench" > ldd.log
    if grep -E "lib(torch|c10)[^ ]* =>" ldd.log | grep -vE "=> $ROOT/usr/(bin/\.\./)?lib/torch-workbench/"; then
        cat ldd.log; exit 1
    fi
    check "the installed programs load the LibTorch it carries"
fi
"$BIN/torchwb" --version | grep -q "LibTorch" && check "torchwb --version"
"$BIN/torchwb" inspect --json "$SHARE/torch-workbench/sample/sample_cnn.pt" | grep -q '"kind": "torchscript"' &&
    check "torchwb inspect on the installed sample"
"$BIN/torchwb" run "$SHARE/torch-workbench/sample/sample_cnn.pt" -i "$SHARE/torch-workbench/sample/sample_input.npy" \
    --reference "$SHARE/torch-workbench/sample/sample_expected.npy" > run.log && check "torchwb run matches Python's output"
HOME=$ROOT/home XDG_RUNTIME_DIR=$ROOT/run QT_QPA_PLATFORM=offscreen "$BIN/torch-workbench" --self-test > gui.log 2>&1
grep -q "self-test: ok" gui.log && ! grep -q "Cannot open file" gui.log &&
    check "the installed GUI opens and runs the sample, then exits cleanly"
if command -v desktop-file-validate > /dev/null; then
    test -z "$(desktop-file-validate "$SHARE/applications/torch-workbench.desktop")" && check "desktop entry is valid"
fi
grep -q "^Exec=torch-workbench %f" "$SHARE/applications/torch-workbench.desktop" && check "desktop entry opens files"
test -f "$SHARE/icons/hicolor/scalable/apps/torch-workbench.svg" && test -f "$SHARE/icons/hicolor/256x256/apps/torch-workbench.png" &&
    check "icons in the hicolor theme"
python3 -c "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); assert d.getElementsByTagName('mime-type')" \
    "$SHARE/mime/packages/torch-workbench.xml" && check "shared-mime-info definitions"
test -f "$SHARE/man/man1/torchwb.1" && check "man page"
rm -rf "$ROOT"
test ! -e "$ROOT" && check "removed again"
echo "$passed passed, 0 failed"
