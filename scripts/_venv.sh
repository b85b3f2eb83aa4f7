# Shared by scripts/demo and scripts/test: make .venv and install caseload into it.
# Sourced, not run. Sets PY to the venv's python.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CASELOAD_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# Reinstall only when pyproject.toml changed since the last install.
stamp="$VENV/.caseload-installed-$1"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$1]"
  touch "$stamp"
fi
