#!/bin/sh
# open_memory.sh READ_PEAK MODELS: the peak resident set that opening each 268 MB file adds, against the
# file's size. Goal: at most about twice the size (issue: opening a 1 GB model needs at most ~2 GB).
set -eu
tool=$1; dir=$2
printf '%-22s %-10s %10s %10s %7s\n' file what "size MiB" "peak +MiB" ratio
for pair in big.pt:diagnose big.pt:inspect big.pt:open big_state_dict.pth:inspect big_state_dict.pth:state_dict \
            big.safetensors:state_dict big.safetensors:tensors; do
  file=${pair%%:*}; what=${pair#*:}
  out=$("$tool" "$what" "$dir/$file")
  set -- $(echo "$out" | sed -n 2p)
  grew=$2; size=$6
  case "$(echo "$out" | head -n 1)" in ok*) ;; *) echo "$file $what: $(echo "$out" | head -n 1)" >&2; exit 1 ;; esac
  awk -v f="$file" -v w="$what" -v g="$grew" -v s="$size" \
    'BEGIN { printf "%-22s %-10s %10.0f %10.0f %7.2f\n", f, w, s / 1024, g / 1024, g / s }'
done
