#!/bin/sh
# Runs the fuzz targets and prints, for each, executions, executions per second, coverage (libFuzzer's
# features) and findings. Built by the asan preset: cmake --preset asan && cmake --build --preset fuzz
#
#   tests/fuzz/run.sh SECONDS [TARGET…]     every target (or those named) for up to SECONDS each
#
# TWB_FUZZ_RUNS=N stops a target after N executions if that comes first (README: 10^6 or 30 minutes).
# TWB_FUZZ_JOBS=N runs N targets at a time (2, one a core).
# The working corpus grows in build/asan/fuzz/corpus/TARGET across runs; a finding's input is left in
# build/asan/fuzz/findings/TARGET/ and the script exits 1. Each finding, once fixed, becomes a file in
# tests/fuzz/regressions/TARGET/, which tst_fuzz_regressions runs in every build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TWB_FUZZ_BUILD:-$root/build/asan}
[ $# -ge 1 ] || { echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2; }
seconds=$1; shift
targets=${*:-npy npz safetensors torch_save pickle diagnose csv image generator_spec input_spec report session worker_stream}
runs=${TWB_FUZZ_RUNS:--1}
[ -x "$build/fuzz/fuzz_npy" ] || { echo "$0: no fuzz targets in $build/fuzz: cmake --preset asan && cmake --build --preset fuzz" >&2; exit 2; }

# Seeds from tests/data and tests/fuzz/seeds, remade each time; the working corpus is kept.
rm -rf "$build/fuzz/seeds"
"$build/tests/fuzz/make_corpus" "$root/tests/data" "$here/seeds" "$build/fuzz/seeds" > /dev/null
# LibTorch keeps some allocations for the life of the process (thread pools, operator registries):
# leaks.supp names them. Leaks of the workbench's own are findings.
export LSAN_OPTIONS="suppressions=$here/leaks.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# fuzz_one TARGET: runs it and leaves its row of the table in $build/fuzz/TARGET.row; fails on a finding.
fuzz_one() {
  t=$1
  exe="$build/fuzz/fuzz_$t"
  corpus="$build/fuzz/corpus/$t"; findings="$build/fuzz/findings/$t"
  mkdir -p "$corpus" "$findings"
  dict=""
  [ -f "$here/dicts/$t.dict" ] && dict="-dict=$here/dicts/$t.dict"
  log="$build/fuzz/$t.log"
  before=$(ls "$findings" | wc -l)
  result=0
  # -malloc_limit_mb: no input of at most 128 KiB justifies a single allocation of 1 GiB.
  # shellcheck disable=SC2086
  if ! "$exe" "$corpus" "$build/fuzz/seeds/$t" $dict -max_total_time="$seconds" -runs="$runs" \
       -max_len=131072 -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=1024 -close_fd_mask=1 \
       -print_final_stats=1 -artifact_prefix="$findings/" > "$log" 2>&1; then
    result=1
    echo "== $t: a finding (the whole report is in $log):" >&2
    grep -E "^==[0-9]+==ERROR|^SUMMARY|fuzz finding|what\(\)|Test unit written" "$log" | cut -c1-300 >&2
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  found=$(( $(ls "$findings" | wc -l) - before ))
  printf '%-16s %12s %10s %8s %8s %9s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$found" \
    > "$build/fuzz/$t.row"
  return $result
}

for t in $targets; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "$0: no fuzz target $t" >&2; exit 2; }
  rm -f "$build/fuzz/$t.row"
done
# TWB_FUZZ_JOBS targets at a time (2): each is one process that keeps one core busy.
jobs=${TWB_FUZZ_JOBS:-2}
status=0
set -- $targets
while [ $# -gt 0 ]; do
  pids=""
  n=0
  while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
    fuzz_one "$1" &
    pids="$pids $!"
    n=$((n + 1))
    shift
  done
  for pid in $pids; do
    wait "$pid" || status=1
  done
done
printf '%-16s %12s %10s %8s %8s %9s\n' target executions "execs/s" edges features findings
for t in $targets; do cat "$build/fuzz/$t.row" 2> /dev/null || printf '%-16s (no result)\n' "$t"; done
exit $status
