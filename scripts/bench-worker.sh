#!/usr/bin/env bash
# Throughput and latency of `logsift worker` on a local NATS server (loopback).
#
#   scripts/bench-worker.sh [MODEL_DIR] [LINES]      (defaults: models/lexical, 200000)
#
# For 1 and 2 workers: LINES messages are published first, then the workers
# start, and lines/s is timed from the first result to the last. Then, with
# the workers running, 2,000 lines/s for 10 s measure publish → result
# latency. Needs nats-server (apt-get install nats-server).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/lexical}"
N="${2:-200000}"
command -v nats-server >/dev/null || { echo "nats-server is missing: apt-get install nats-server" >&2; exit 1; }
cargo build --release -q -p logsift
cargo build --release -q -p logsift-worker --examples
BIN=./target/release/logsift
BENCH=./target/release/examples/nats_bench
for WORKERS in 1 2; do
  WORK=$(mktemp -d)
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s" }\n' "$PORT" "$WORK" >"$WORK/nats.conf"
  nats-server -c "$WORK/nats.conf" >/dev/null 2>&1 &
  NATS=$!
  sleep 1
  URL="nats://127.0.0.1:$PORT"
  "$BENCH" prepare "$URL" "$N"
  PIDS=()
  for _ in $(seq 1 "$WORKERS"); do
    "$BIN" worker --nats "$URL" --input logs.in --output logs.out --model "$MODEL" 2>>"$WORK/worker.log" &
    PIDS+=($!)
  done
  sleep 1
  for P in "${PIDS[@]}"; do kill -0 "$P" 2>/dev/null || { echo "a worker died:" >&2; cat "$WORK/worker.log" >&2; exit 1; }; done
  echo "== $WORKERS worker(s), $MODEL, $(nproc) cores"
  "$BENCH" collect "$URL" "$N"
  "$BENCH" latency "$URL" 2000 10
  kill -TERM "${PIDS[@]}"; wait "${PIDS[@]}" 2>/dev/null || true
  kill "$NATS"; wait "$NATS" 2>/dev/null || true
  rm -rf "$WORK"
done
