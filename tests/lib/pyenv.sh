#!/usr/bin/env bash
# pyenv.sh - the Parquet oracles (pyarrow and DuckDB, pinned wheels from
# PyPI) in a virtual environment outside the tree, built once from Debian's
# own python3 (python3-venv). Test-only: tickpipe itself never runs Python.
#   bash tests/lib/pyenv.sh          create or update it; prints its python
#   source tests/lib/pyenv.sh --env  sets TP_PYENV_PY without installing
# The place: $TP_PYENV_DIR, default $HOME/.cache/tickpipe-venv.
set -euo pipefail
TP_PYENV_DIR="${TP_PYENV_DIR:-${HOME:-/root}/.cache/tickpipe-venv}"
TP_PYENV_PY="$TP_PYENV_DIR/bin/python"
# Bump together with the stamp when a pin changes.
_tp_pyenv_pins=(pyarrow==21.0.0 duckdb==1.3.2)
_tp_pyenv_stamp="$TP_PYENV_DIR/.tickpipe-pins"
if [ "${1:-}" = "--env" ]; then return 0 2>/dev/null || exit 0; fi
if [ -x "$TP_PYENV_PY" ] && [ "$(cat "$_tp_pyenv_stamp" 2>/dev/null)" = "${_tp_pyenv_pins[*]}" ]; then
  echo "$TP_PYENV_PY"
  exit 0
fi
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || {
  echo "pyenv: Debian's python3-venv is missing: run scripts/install-deps.sh --test" >&2
  exit 1
}
rm -rf "$TP_PYENV_DIR"
/usr/bin/python3 -m venv "$TP_PYENV_DIR" >&2
"$TP_PYENV_PY" -m pip install -q --disable-pip-version-check --only-binary=:all: "${_tp_pyenv_pins[@]}" >&2
echo "${_tp_pyenv_pins[*]}" >"$_tp_pyenv_stamp"
echo "$TP_PYENV_PY"
