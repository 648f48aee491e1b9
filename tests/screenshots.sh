#!/bin/sh
# Screenshots of the workbench's main states, taken in a real X window under
# Xvfb, for a person to look at. Usage: tests/screenshots.sh [BIN_DIR] [OUT_DIR]
set -eu
BIN=${1:-build/release/bin}
OUT=${2:-screenshots}
mkdir -p "$OUT"
# Settings of its own: no recent files, window layout or theme from the user's.
XDG_CONFIG_HOME=$(mktemp -d)
XDG_DATA_HOME=$XDG_CONFIG_HOME
export XDG_CONFIG_HOME XDG_DATA_HOME
shoot() {
    name=$1
    shift
    # An unusable file exits 1 after its screenshot: that is the point of that picture.
    xvfb-run -a -s "-screen 0 1600x1000x24" "$BIN/torch-workbench" "$@" --screenshot "$OUT/$name.png" || true
    echo "$OUT/$name.png"
}
shoot model-opened resources/sample/sample_cnn.pt --tab model
shoot inputs resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --tab inputs
shoot results-latency --sample --tab latency
shoot results-statistics --sample --tab statistics
shoot outputs-comparison --sample --tab outputs
shoot dark-latency --sample --tab latency --dark
shoot broken-file tests/data/cnn_pickled_module.pt
shoot state-dict tests/data/cnn_state_dict.pth --tab model
shoot profile-operators resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --profile --tab profile
shoot profile-diff resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --profile --tab profile-diff
shoot profile-roofline resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --profile --tab roofline
shoot graph-self-time resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --profile --tab graph
shoot graph-exported tests/data/mlp_exported.pt2 --tab graph
shoot divergence-float16 tests/data/overflow.pt --input tests/data/overflow_x.npy --diverge dtype=float16 --tab divergence
shoot load-curve resources/sample/sample_cnn.pt --input resources/sample/sample_input.npy --load 1 --tab load
