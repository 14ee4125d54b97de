#!/usr/bin/env bash
# Peak RSS of `logsift serve` per kind of request body, one and several at
# once (BENCHMARKS.md, "Memory per request"). Writes its inputs to a temporary
# directory; needs curl and a release build.
#   scripts/bench-serve-memory.sh [LOGSIFT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${1:-${CARGO_TARGET_DIR:-target}/release/logsift}"
D="$(mktemp -d)"; trap 'rm -rf "$D"' EXIT
python3 - "$D" <<'PY'
import json, random, sys
d = sys.argv[1]
rng = random.Random(1)
msgs = ["User User%d logged in.", "Backup completed for volume %d.", "Disk usage at %d%% on /dev/sda1", "GET /api/v1/orders/%d HTTP/1.1 200"]
with open(f"{d}/wide.csv", "w") as f:  # 63 MB, 32,001 columns
    f.write(",".join(f"c{i}" for i in range(32000)) + ",log_message\n")
    row = ",".join("x" for _ in range(32000)) + ",User User1 logged in.\n"
    while f.tell() < 63_000_000:
        f.write(row)
with open(f"{d}/unknown.json", "w") as f:  # 62 MB, one log and an unknown field
    f.write('{"logs":[{"log_message":"User User1 logged in."}],"x":[' + "0," * 31_000_000 + '0]}')
with open(f"{d}/tall.csv", "w") as f:  # 38 MB, 990,000 short rows
    f.write("source,log_message\n")
    for _ in range(990_000):
        f.write("app,%s\n" % (rng.choice(msgs) % rng.randint(1, 10**6)))
logs = [{"source": "app", "log_message": rng.choice(msgs) % rng.randint(1, 10**6)} for _ in range(600_000)]
json.dump({"logs": logs}, open(f"{d}/tall.json", "w"))  # 43 MB, 600,000 logs
PY
one() { # description file content-type n path
  "$B" serve --model models/lexical --addr 127.0.0.1:8791 2>/dev/null & P=$!
  for _ in $(seq 100); do curl -s 127.0.0.1:8791/health >/dev/null && break; sleep 0.1; done
  base=$(awk '/VmRSS/ {print $2}' /proc/$P/status)
  start=$(date +%s.%N); codes=""
  for i in $(seq "$4"); do curl -s -o /dev/null -w "%{http_code} " -H "content-type: $3" --data-binary @"$D/$2" "127.0.0.1:8791$5" > "$D/code$i" & done
  wait $(jobs -p | grep -vx "$P") 2>/dev/null || true
  end=$(date +%s.%N); sleep 0.5
  for i in $(seq "$4"); do codes="$codes$(cat "$D/code$i")"; done
  peak=$(awk '/VmHWM/ {print $2}' /proc/$P/status); after=$(awk '/VmRSS/ {print $2}' /proc/$P/status)
  printf '| %s | %s | %s| %d MB | %d MB | %d MB | %.1f s |\n' "$1" "$4" "$codes" $((base / 1024)) $((peak / 1024)) $((after / 1024)) "$(echo "$end - $start" | bc)"
  kill $P; wait $P 2>/dev/null || true
}
echo "| body | at once | answers | RSS before | peak RSS | RSS after | wall |"
echo "|---|---|---|---|---|---|---|"
one "63 MB CSV, 32,001 columns" wide.csv text/csv 1 /classify
one "63 MB CSV, 32,001 columns" wide.csv text/csv 3 /classify
one "62 MB JSON, an unknown field of 31M numbers" unknown.json application/json 1 /v1/classify
one "62 MB JSON, an unknown field of 31M numbers" unknown.json application/json 4 /v1/classify
one "38 MB CSV, 990,000 short rows" tall.csv text/csv 1 /classify
one "38 MB CSV, 990,000 short rows" tall.csv text/csv 4 /classify
one "43 MB JSON, 600,000 logs" tall.json application/json 1 /v1/classify
one "43 MB JSON, 600,000 logs" tall.json application/json 4 /v1/classify
