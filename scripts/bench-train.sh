#!/usr/bin/env bash
# Training speed (BENCHMARKS.md, "Training with many labels"):
#
#   scripts/bench-train.sh [LOGSIFT_BINARY] [PEER_BINARY]
#
# Builds a many-label file, 11,343 lines with 380 labels: the corpus, the
# real-log benchmark and 4,000 lines of its replayed stream, each line
# labelled by its masked template (logsift's `template_id`, as a user who
# names each kind of line would), the 380 most frequent templates kept and
# 11,343 of their lines drawn with a fixed seed. Then times, in turn:
#   * `logsift train FILE --encoder lexical` (the peer binary too, if given:
#     another build, measured in the same run);
#   * the default recipe (scripts/build-default-model.sh's command);
#   * scikit-learn's TF-IDF of character 2-4-grams + LogisticRegression on
#     the same lines, when $SKLEARN_PYTHON names a Python that has it.
# Wall time and peak RSS from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-${CARGO_TARGET_DIR:-target}/release/logsift}"
PEER="${2:-}"
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT
python3 bench/reallogs/stream.py 4000 "$W/stream.csv" 2>/dev/null
python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
rows = []
for f in ["corpus/train.csv", "bench/reallogs/reallogs.csv", f"{w}/stream.csv"]:
    rows += [(r["source"], r["log_message"]) for r in csv.DictReader(open(f, newline=""))]
out = csv.writer(open(f"{w}/all.csv", "w", newline=""))
out.writerow(["source", "log_message"])
out.writerows(rows)
PY
"$B" classify "$W/all.csv" --model models/lexical --with-template -q -o "$W/templates.csv"
python3 - "$W" <<'PY'
import csv, random, sys
from collections import Counter
w = sys.argv[1]
rows = list(csv.DictReader(open(f"{w}/templates.csv", newline="")))
top = {t for t, _ in Counter(r["template_id"] for r in rows).most_common(380)}
rows = [(r["source"], r["log_message"], "T" + r["template_id"]) for r in rows if r["template_id"] in top]
rng = random.Random(1)
rows = [rows[i] for i in sorted(rng.sample(range(len(rows)), 11343))]
out = csv.writer(open(f"{w}/many.csv", "w", newline=""))
out.writerow(["source", "log_message", "target_label"])
out.writerows(rows)
print(f"many.csv: {len(rows)} lines, {len({r[2] for r in rows})} labels", file=sys.stderr)
PY
t() { /usr/bin/time -f "$1: %e s, peak RSS %M KB" "${@:2}" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }; tail -1 "$W/err"; }
t "logsift train many.csv --encoder lexical" "$B" train "$W/many.csv" -o "$W/m" --encoder lexical
[ -n "$PEER" ] && t "peer: logsift train many.csv --encoder lexical" "$PEER" train "$W/many.csv" -o "$W/m-peer" --encoder lexical
common=(--rules corpus/rules.toml --descriptions corpus/labels.toml --seed 42 --cv-group source)
t "default recipe (both)" "$B" train corpus/train.csv bench/reallogs/reallogs.csv -o "$W/d" --encoder both "${common[@]}"
[ -n "$PEER" ] && t "peer: default recipe (both)" "$PEER" train corpus/train.csv bench/reallogs/reallogs.csv -o "$W/d-peer" --encoder both "${common[@]}"
if [ -n "${SKLEARN_PYTHON:-}" ]; then
  t "scikit-learn TF-IDF char 2-4 + LogisticRegression" "$SKLEARN_PYTHON" - "$W/many.csv" <<'PY'
import csv, sys
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform([r["log_message"] for r in rows])
LogisticRegression(max_iter=1000).fit(x, [r["target_label"] for r in rows])
PY
fi
