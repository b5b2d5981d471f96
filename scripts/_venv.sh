# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: create .venv and install the project into it (editable).
# The install is redone only when pyproject.toml, hatch_build.py or the request change.
#   ensure_venv EXTRAS [PYPROJECT]
# EXTRAS is what pip installs editable (".[dev]"); PYPROJECT, when given, is another project's pyproject.toml
# whose dependencies are installed too, except the one on this project (which EXTRAS provides): the demo runs
# the shop (examples/flask_shop/pyproject.toml) from the repository with what its wheel would bring.
ensure_venv() {
  local extras=$1 also=${2:-} python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "tradein-sdk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.tradein-installed" want
  local inputs=(pyproject.toml hatch_build.py)
  [ -z "$also" ] || inputs+=("$also")
  want="$extras${also:+ + $also} $(sha256sum "${inputs[@]}" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    local requirements=() listed=""
    if [ -n "$also" ]; then
      listed=$(.venv/bin/python - "$also" <<'PY'
import re, sys, tomllib
with open(sys.argv[1], "rb") as file:
    dependencies = tomllib.load(file)["project"]["dependencies"]
for requirement in dependencies:
    if re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0].lower().replace("_", "-") != "tradein-sdk":
        print(requirement)
PY
      )
    fi
    [ -z "$listed" ] || mapfile -t requirements <<<"$listed"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$extras" "${requirements[@]}"
    echo "$want" >> "$stamp"
  fi
}
