#!/usr/bin/env bash
# The throughput figures of BENCHMARKS.md, on this machine.
#
#   scripts/bench.sh            (needs ../shared/data/codebasics for inputs (a) and (b))
#
# 1. criterion: masking, the rules tier and the decision-cache hit path, lines/s;
# 2. end to end `classify` with the lexical and the default (MiniLM) bundle on
#    (a) the 2,410 codebasics lines and (b) those lines resampled to 1,000,000:
#    lines/s (logsift's summary), wall time and peak RSS (/usr/bin/time -v);
# 3. start-up: one line in, time until the process has written its result.
set -euo pipefail
cd "$(dirname "$0")/.."
A=../shared/data/codebasics/synthetic_logs.csv
[ -f "$A" ] || { echo "$A is missing" >&2; exit 1; }
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
cargo build --release -q -p logsift
BIN="${CARGO_TARGET_DIR:-target}/release/logsift"
B=/tmp/cb1m.csv
scripts/resample.sh "$A" "$B"
if [ "${SKIP_CRITERION:-}" != 1 ]; then
  echo "== criterion: cargo bench -p logsift-core --bench tiers"
  cargo bench -q -p logsift-core --bench tiers 2>/dev/null | grep -E "^(corpus|codebasics)/|thrpt" || true
fi
echo "== end to end (best of 3)"
for model in models/lexical models/default; do
  for input in "$A" "$B"; do
    best=""
    for _ in 1 2 3; do
      /usr/bin/time -v "$BIN" classify "$input" --model "$model" -o /tmp/bench-out.csv 2>/tmp/bench-err.txt
      rate=$(awk '/rows in/ {gsub(/\(/, "", $7); print $7}' /tmp/bench-err.txt)
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' /tmp/bench-err.txt)
      rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' /tmp/bench-err.txt)
      line="$model $(basename "$input"): $rate rows/s, wall $wall, peak RSS ${rss} MB"
      if [ -z "$best" ] || [ "${rate%.*}" -gt "${best_rate%.*}" ]; then best="$line"; best_rate="$rate"; fi
    done
    echo "$best"
  done
done
echo "== start-up: one line in, its result out"
for model in models/lexical models/default; do
  s=$(date +%s.%N)
  printf 'source,log_message\nModernHR,User User1 logged in.\n' | "$BIN" classify - --model "$model" -q >/dev/null
  e=$(date +%s.%N)
  python3 -c "print(f'$model: {($e-$s)*1000:.0f} ms from start to the first (and only) result')"
done
