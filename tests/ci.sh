#!/bin/sh
# The sources' layout (tests/format_check.sh), then the whole suite on both LibTorch builds, the sanitizer suite and the fuzzers, then the CUDA build's
# compile check:
#   release  LibTorch from the official PyTorch wheel in .venv (what users compare with)
#   distro   the distribution's libtorch-dev (1.13 on Debian 12, 2.6 on 13); the .deb is built from it
#   asan     clang, AddressSanitizer and UndefinedBehaviorSanitizer (leaks too): the core and CLI tests,
#            then every fuzz target for TWB_FUZZ_SECONDS (10) seconds from its seeds, two at a time
#            (tests/fuzz/run.sh)
#   cuda     core and torchwb compiled and linked against the CUDA wheel (tests/cuda_build_check.sh)
# Run after packaging/install-deps.sh test. TWB_SKIP_CUDA_BUILD=1 leaves out the CUDA compile check,
# TWB_SKIP_ASAN=1 the sanitizer suite and the fuzzers.
# Two tests at a time (TWB_TEST_JOBS): most of them wait on the processes they start as much as they
# compute. The few that need the machine to themselves are RUN_SERIAL (tests/CMakeLists.txt).
set -eu
cd "$(dirname "$0")/.."
CMAKE=${CMAKE:-.venv/bin/cmake}
CTEST=${CTEST:-.venv/bin/ctest}
start=$(date +%s)
sh tests/format_check.sh
for preset in release distro; do
  t0=$(date +%s)
  "$CMAKE" --preset "$preset"
  "$CMAKE" --build --preset "$preset"
  "$CTEST" --preset "$preset" --parallel "${TWB_TEST_JOBS:-2}"
  echo "== $preset: built and tested in $(( $(date +%s) - t0 )) s"
done
if [ "${TWB_SKIP_ASAN:-0}" != 1 ]; then
  t0=$(date +%s)
  "$CMAKE" --preset asan
  "$CMAKE" --build --preset asan
  # The kill test is left to the two builds above: under the sanitizers it would exercise nothing
  # tst_report does not. So is the model corpus: fifty models through LibTorch,
  # whose code is not instrumented, and through readers the fuzzers and the other suites cover.
  "$CTEST" --preset asan --parallel "${TWB_TEST_JOBS:-2}" -E "tst_crash_safe|corpus"
  sh tests/fuzz/run.sh "${TWB_FUZZ_SECONDS:-10}"
  echo "== asan: sanitizer suite and fuzzers in $(( $(date +%s) - t0 )) s"
fi
if [ "${TWB_SKIP_CUDA_BUILD:-0}" != 1 ]; then
  t0=$(date +%s)
  sh tests/cuda_build_check.sh
  echo "== cuda: compile check in $(( $(date +%s) - t0 )) s"
fi
echo "== all of it in $(( $(date +%s) - start )) s"
