#!/usr/bin/env bash
# Builds the logsift wheel (maturin, abi3), installs it into a fresh virtual
# environment, and runs the Python tests (pytest) and the notebook-style
# example. The environment lives in $LOGSIFT_PYENV (default
# ~/.cache/logsift/pyenv) and is made afresh each run; pip's cache keeps the
# downloads. LOGSIFT_BIN (the logsift binary) lets the tests compare the
# Python answers with the CLI's.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV="${LOGSIFT_PYENV:-$HOME/.cache/logsift/pyenv}"
WHEELS="$(mktemp -d)"
trap 'rm -rf "$WHEELS"' EXIT
rm -rf "$ENV"
python3 -m venv "$ENV"
"$ENV/bin/pip" install -q --upgrade pip
"$ENV/bin/pip" install -q "maturin>=1.7,<2" pytest pandas polars
(cd crates/python && "$ENV/bin/maturin" build --release --quiet -o "$WHEELS")
"$ENV/bin/pip" install -q "$WHEELS"/logsift-*.whl
echo "== pytest crates/python/tests"
(cd crates/python/tests && "$ENV/bin/python" -m pytest -q)
echo "== examples/python/quickstart.py"
"$ENV/bin/python" examples/python/quickstart.py >/dev/null
echo "python: ok"
