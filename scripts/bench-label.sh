#!/usr/bin/env bash
# The simulated labeller on a labelled file: logsift's order against random
# template order and random lines (means of 3 seeds), at K decisions; one
# Markdown table row per order: line accuracy / macro-F1 at each K.
#
#   scripts/bench-label.sh FILE [LOGSIFT [LABEL FLAGS...]]
#
# FILE needs a target_label column. LOGSIFT defaults to target/release/logsift;
# flags such as --no-model or --encoder lexical go to every run.
set -euo pipefail
file=$1
bin=${2:-target/release/logsift}
shift $(( $# < 2 ? $# : 2 ))
flags=("$@")
ks="5 10 20 50 100"
run() { "$bin" label "$file" --oracle target_label --decisions 100 --json "${flags[@]}" "$@" 2>/dev/null; }
table() {
  python3 -c '
import json, sys
ks = [int(k) for k in sys.argv[2].split()]
runs = [[json.loads(l) for l in chunk.splitlines() if l.strip()] for chunk in sys.stdin.read().split("\n\n") if chunk.strip()]
cells = []
for k in ks:
    pts = [next(p for p in r if p["decisions"] == k) for r in runs]
    acc = sum(p["accuracy"] for p in pts) / len(pts)
    f1 = sum(p["macro_f1"] for p in pts) / len(pts)
    cells.append(f"{acc:.3f} / {f1:.3f}")
print("| " + sys.argv[1] + " | " + " | ".join(cells) + " |")
' "$1" "$ks"
}
"$bin" label "$file" --oracle target_label --decisions 1 "${flags[@]}" 2>&1 >/dev/null | grep -E "templates|start" || true
echo "| order | $(for k in $ks; do printf 'K=%s | ' "$k"; done)"
echo "|---|---|---|---|---|---|"
run --order session | table "logsift (session)"
for s in 1 2 3; do run --order random-templates --seed $s; echo; done | table "random templates (3 seeds)"
for s in 1 2 3; do run --order random-lines --seed $s; echo; done | table "random lines (3 seeds)"
