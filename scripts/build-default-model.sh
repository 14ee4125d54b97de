#!/usr/bin/env bash
# Regenerates logsift's own training corpus and the default model bundle from it.
# Deterministic: running it again gives the same files, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p logsift -p logsift-corpus
./target/release/logsift-corpus --seed 2025 --rows 6000 -o corpus/train.csv
./target/release/logsift train corpus/train.csv -o models/default \
  --rules corpus/rules.toml --descriptions corpus/labels.toml \
  --name default --seed 42
