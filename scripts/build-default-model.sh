#!/usr/bin/env bash
# Regenerates logsift's own training corpus and the two bundled models from it:
#   models/default  lexical + all-MiniLM-L6-v2 features (needs the MiniLM weights)
#   models/lexical  lexical features only (the weight-free fallback)
# Deterministic: running it again gives the same files, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p logsift -p logsift-corpus
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
./target/release/logsift-corpus --seed 2025 --rows 6000 -o corpus/train.csv
common=(--rules corpus/rules.toml --descriptions corpus/labels.toml --seed 42)
./target/release/logsift train corpus/train.csv -o models/default --encoder both --name default "${common[@]}"
./target/release/logsift train corpus/train.csv -o models/lexical --encoder lexical --name lexical "${common[@]}"
