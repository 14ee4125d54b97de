#!/usr/bin/env bash
# Installs llama.cpp's OpenAI-compatible server (PyPI llama-cpp-python[server],
# built from source; pip caches the built wheel) into a virtual environment and
# prints its python. Used by the end-to-end test of the LLM tier.
#
# usage: scripts/setup-llama-server.sh [VENV]   (default: ~/.cache/logsift/llama-venv)
set -euo pipefail
venv="${1:-$HOME/.cache/logsift/llama-venv}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "llama-cpp-python[server]" >&2
echo "$venv/bin/python"
