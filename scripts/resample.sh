#!/usr/bin/env bash
# Input (b) of BENCHMARKS.md: the codebasics lines ($1) sampled with
# replacement (random.Random(1)) to 1,000,000 lines in $2 (source,log_message);
# kept when $2 exists already.
set -euo pipefail
[ -f "$2" ] && exit 0
python3 - "$1" "$2" <<'PY'
import csv, random, sys
rows = list(csv.DictReader(open(sys.argv[1])))
rng = random.Random(1)
with open(sys.argv[2], 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['source', 'log_message'])
    for _ in range(1_000_000):
        r = rng.choice(rows); w.writerow([r['source'], r['log_message']])
PY
