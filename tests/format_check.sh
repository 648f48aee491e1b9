#!/bin/sh
# Every C++ source of the project in clang-format's layout (.clang-format), with the clang-format that
# packaging/install-deps.sh pins in .venv; CLANG_FORMAT names another.
#   tests/format_check.sh          lists the files out of layout and fails if there are any
#   tests/format_check.sh --fix    rewrites them in place
set -eu
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-.venv/bin/clang-format}
if [ ! -x "$CLANG_FORMAT" ] && ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
  echo "format_check.sh: no clang-format at $CLANG_FORMAT (packaging/install-deps.sh puts one in .venv)" >&2
  exit 2
fi
files=$(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = --fix ]; then
  # shellcheck disable=SC2086
  "$CLANG_FORMAT" -i $files
  exit 0
fi
bad=0
count=0
for f in $files; do
  count=$((count + 1))
  if ! "$CLANG_FORMAT" "$f" | cmp -s - "$f"; then
    echo "out of layout: $f (tests/format_check.sh --fix)"
    bad=$((bad + 1))
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "format_check.sh: $bad of $count files out of clang-format's layout" >&2
  exit 1
fi
echo "format_check.sh: $count files in layout"
