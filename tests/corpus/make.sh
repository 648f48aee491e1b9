#!/bin/sh
# Makes the model corpus (make_corpus.py) with each Python given that has torch, into OUT/<PyTorch
# version>/, and again only when make_corpus.py has changed:
#   sh tests/corpus/make.sh OUT PYTHON...
set -eu
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
sum=$(sha256sum "$here/make_corpus.py" | cut -d' ' -f1)
for py in "$@"; do
  if ! version=$("$py" -c "import torch; print(torch.__version__.split('+')[0])" 2>/dev/null); then
    echo "corpus: $py has no torch; skipped"
    continue
  fi
  dir=$out/$version
  if grep -q "$sum" "$dir/manifest.json" 2>/dev/null; then
    echo "corpus: PyTorch $version: up to date in $dir"
    continue
  fi
  rm -rf "$dir"
  echo "corpus: PyTorch $version ($py) into $dir"
  "$py" "$here/make_corpus.py" "$dir"
done
