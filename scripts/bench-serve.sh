#!/usr/bin/env bash
# Load benchmark of `logsift serve`, on loopback only, bounded in time.
#
#   scripts/bench-serve.sh [MODEL_DIR] [SECONDS]     (defaults: models/lexical, 10)
#
# Reports, for one-line JSON requests on a cached template at 1, 16 and 64
# connections: requests/s and p50/p99 latency (wrk, from Debian); then
# lines/s for a 10,000-line CSV upload (first upload: templates new to the
# server; then warm); then the server's RSS sampled over a 60-second run at 16
# connections. Needs wrk (apt-get install wrk) and curl; builds the release
# binary. The client runs on the same machine as the server and takes CPU
# from it: on 2 cores the figures are a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/lexical}"
SECS="${2:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p logsift
BIN=./target/release/logsift
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" serve --model "$MODEL" --addr "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
URL="http://127.0.0.1:$PORT"
BODY='{"logs":[{"source":"ModernHR","log_message":"User User123 logged in."}]}'
curl -sf -H 'content-type: application/json' -d "$BODY" "$URL/v1/classify" >/dev/null   # the template is now cached
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "model: $MODEL ($(nproc) cores, $(uname -m)); wrk -t2 -d${SECS}s"
echo "| connections | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
for C in 1 16 64; do
  T=2; [ "$C" -lt 2 ] && T=1
  OUT=$(wrk -t"$T" -c"$C" -d"${SECS}s" --latency -s "$WORK/post.lua" "$URL/v1/classify")
  RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$OUT")
  P50=$(awk '/^ +50%/ {print $2}' <<<"$OUT")
  P99=$(awk '/^ +99%/ {print $2}' <<<"$OUT")
  ERR=$(grep -E "Non-2xx|Socket errors" <<<"$OUT" | tr '\n' ' ' || true)
  echo "| $C | $RPS | $P50 | $P99 | ${ERR:-0} |"
done

# A 10,000-line CSV (our own corpus, resampled), uploaded as multipart.
python3 - "$WORK/10k.csv" <<'PY'
import csv, random, sys
rows = list(csv.DictReader(open('corpus/train.csv')))
rng = random.Random(7)
with open(sys.argv[1], 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['source', 'log_message'])
    for _ in range(10_000):
        r = rng.choice(rows); w.writerow([r['source'], r['log_message']])
PY
for run in first warm; do
  T0=$(date +%s.%N)
  LINES=$(curl -sf -F "file=@$WORK/10k.csv" "$URL/classify" | wc -l)
  T1=$(date +%s.%N)
  python3 -c "print(f'10,000-line CSV upload ($run): {($LINES-1)} rows back in {$T1-$T0:.3f} s = {($LINES-1)/($T1-$T0):,.0f} lines/s')"
done

# Memory over a 60-second run at 16 connections.
wrk -t2 -c16 -d60s -s "$WORK/post.lua" "$URL/v1/classify" >"$WORK/long.txt" &
WRK=$!
RSS=()
for _ in $(seq 1 12); do sleep 5; RSS+=("$(awk '/VmRSS/ {print $2}' /proc/$PID/status)"); done
wait $WRK
echo "60 s at 16 connections: $(awk '/Requests\/sec/ {print $2}' "$WORK/long.txt") requests/s; server RSS every 5 s (KiB): ${RSS[*]}"
# Micro-batching: requests answered vs batches the pipeline ran.
REQS=$(curl -s "$URL/metrics" | awk -F' ' '/^logsift_http_requests_total\{endpoint="\/v1\/classify",status="200"\}/ {print $2}')
BATCHES=$(curl -s "$URL/metrics" | awk '/^logsift_batches_total/ {print $2}')
echo "micro-batching: $REQS one-line requests answered in $BATCHES pipeline batches"
