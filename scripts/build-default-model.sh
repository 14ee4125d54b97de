#!/usr/bin/env bash
# Regenerates logsift's own training corpus and the two bundled models from it:
#   models/default  lexical + all-MiniLM-L6-v2 features (needs the MiniLM weights)
#   models/lexical  lexical features only (the weight-free fallback)
# Training data: the synthetic corpus (corpus/train.csv, with lines of the log
# families of real machines written in our own words) and every program of
# the real-log benchmark captured from Debian's daemons
# (bench/reallogs/reallogs.csv). Its held-out figures come from the same
# recipe with one program (and the corpus lines in its formats) left out at a
# time: bench/reallogs/lopo.py.
# Folds hold out whole sources (--cv-group source), so the threshold is
# calibrated for programs the model has never seen: other people's logs.
# Deterministic: running it again gives the same files, byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p logsift -p logsift-corpus
T="${CARGO_TARGET_DIR:-target}/release"
export LOGSIFT_MINILM_DIR="${LOGSIFT_MINILM_DIR:-$(scripts/fetch-minilm.sh)}"
"$T/logsift-corpus" --seed 2025 --rows 6000 -o corpus/train.csv
common=(--rules corpus/rules.toml --descriptions corpus/labels.toml --seed 42 --cv-group source)
"$T/logsift" train corpus/train.csv bench/reallogs/reallogs.csv -o models/default --encoder both --name default "${common[@]}"
"$T/logsift" train corpus/train.csv bench/reallogs/reallogs.csv -o models/lexical --encoder lexical --name lexical "${common[@]}"
