# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: create .venv and install the project into it (editable).
# The install is redone only when pyproject.toml or the requested extras change.
ensure_venv() {
  local extras=$1 python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "tradein-sdk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.tradein-installed" want
  want="$extras $(sha256sum pyproject.toml hatch_build.py | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$extras"
    echo "$want" >> "$stamp"
  fi
}
