#!/usr/bin/env bash
# The Python wheel against the CLI on the same 1,000,000-line file
# (BENCHMARKS.md, "From Python"): the CLI's own lines/s (read, classify,
# write), and Python's lines/s classifying the same lines in batches of
# 100,000 (Model.classify_columns, the call classify_df makes), model loaded
# first, best of 3 each. Needs the wheel installed in $LOGSIFT_PYENV (see
# scripts/python-test.sh) and ../shared/data/codebasics for the input.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV="${LOGSIFT_PYENV:-$HOME/.cache/logsift/pyenv}"
A=../shared/data/codebasics/synthetic_logs.csv
B=/tmp/cb1m.csv
[ -f "$A" ] || { echo "$A is missing" >&2; exit 1; }
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/logsift/target}"
cargo build --release -q --bin logsift
scripts/resample.sh "$A" "$B"
echo "== CLI: logsift classify $B (best of 3)"
for _ in 1 2 3; do
  "$CARGO_TARGET_DIR/release/logsift" classify "$B" -o /tmp/bench-py-cli.csv 2>&1 | grep -o "[0-9]* rows in [0-9.]* s ([0-9]* rows/s)" || true
done
echo "== Python: classify_columns in batches of 100,000 (best of 3)"
"$ENV/bin/python" - "$B" <<'PY'
import csv, sys, time
import logsift
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
messages = [r["log_message"] for r in rows]
sources = [r["source"] for r in rows]
for run in range(3):
    model = logsift.Model.load()
    t = time.perf_counter()
    n = 0
    for i in range(0, len(messages), 100_000):
        cols = model.classify_columns(messages[i:i + 100_000], sources[i:i + 100_000])
        n += len(cols["target_label"])
    s = time.perf_counter() - t
    print(f"run {run + 1}: {n} lines in {s:.2f} s ({n / s:,.0f} lines/s), model {model.encoder}")
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
out = logsift.Model.load().classify_df(df)
out.to_csv("/tmp/bench-py-out.csv", index=False)
s = time.perf_counter() - t
print(f"pandas read_csv + classify_df + to_csv: {len(out)} lines in {s:.2f} s ({len(out) / s:,.0f} lines/s)")
PY
