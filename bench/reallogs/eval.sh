#!/usr/bin/env bash
# The real-log benchmark's figures, LLM off (README "Real logs", BENCHMARKS.md).
#
#   bench/reallogs/eval.sh [LOGSIFT_BINARY]
#
# Split A: the bundled models were trained on A's training programs (plus the
# synthetic corpus), so A's test programs are programs they never saw.
# Split B is the reverse; for it a bundle is trained here the same way
# (scripts/build-default-model.sh's recipe with b-train.csv). "benchmark only"
# bundles learn from the benchmark's training side alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
B="${1:-${CARGO_TARGET_DIR:-target}/release/logsift}"
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
python3 bench/reallogs/split.py bench/reallogs/reallogs.csv "$W" 2>/dev/null
common=(--rules corpus/rules.toml --descriptions corpus/labels.toml --seed 42)
"$B" train corpus/train.csv "$W/b-train.csv" -o "$W/default-b" --encoder both --cv-group source "${common[@]}" >/dev/null
"$B" train "$W/a-train.csv" -o "$W/real-a" --encoder both "${common[@]}" >/dev/null
"$B" train "$W/b-train.csv" -o "$W/real-b" --encoder both "${common[@]}" >/dev/null
row() { # name model test
  "$B" eval "$3" --model "$2" --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); n = d["rows"]; c = d["confident"]; g = d["guessed"]
f1, acc, unc = d["macro_f1"], d["accuracy"], d["tiers"]["unclassified"] / n
gs, cp = g["lines"] / n, c["accuracy"]
print(f"| {sys.argv[1]} | {n} | {f1:.3f} | {acc:.3f} | {unc:.1%} | {gs:.1%} | {cp:.3f} |")' "$1"
}
echo "| bundle, split | test lines | macro-F1 | accuracy | Unclassified | guessed (Unclassified with --strict) | precision of confident labels |"
echo "|---|---|---|---|---|---|---|"
row "models/default, A" models/default "$W/a-test.csv"
row "models/lexical, A" models/lexical "$W/a-test.csv"
row "default recipe, B" "$W/default-b" "$W/b-test.csv"
row "benchmark only, A" "$W/real-a" "$W/a-test.csv"
row "benchmark only, B" "$W/real-b" "$W/b-test.csv"
for m in default lexical; do
  start=$(date +%s.%N); "$B" classify "$W/a-test.csv" --model "models/$m" -q -o /dev/null; end=$(date +%s.%N)
  python3 -c "import sys; print(f'models/$m: {int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):,.0f} lines/s on a-test.csv (whole process, load included)')" "$(python3 -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))' "$W/a-test.csv")" "$start" "$end"
done
