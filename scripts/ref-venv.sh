#!/usr/bin/env bash
# The reference implementation every interop check runs against: a venv with PyPI
# model-signing 1.1.1 and pyOpenSSL (1.1.1 imports it without declaring it).
# Usage: bash scripts/ref-venv.sh [DIR]  — creates DIR (default $OMS_REF_VENV, else
# ~/.cache/hallmark-oms-ref) unless it already imports both; messages go to stderr.
set -euo pipefail
VENV=${1:-${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}}
if ! "$VENV/bin/python" -c "import model_signing, OpenSSL" 2>/dev/null; then
  echo "creating the reference venv (model-signing 1.1.1) in $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check model-signing==1.1.1 pyOpenSSL >&2
fi
