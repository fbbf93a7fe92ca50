#!/usr/bin/env bash
# Builds the second evaluation set of `finai eval-ml` (see solyanka.py) from the PyPI package
# solyanka 0.4.1, into OUT (default /tmp/finai-eval/solyanka.csv). Nothing is kept in the repo.
#
#   bash scripts/eval-data/build-solyanka.sh [OUT.csv]
#   cargo run --release -- eval-ml --csv OUT.csv --date-col date --text-col description \
#       --category-col category --amount-col amount_usd
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/tools.sh
source "$here/../lib/tools.sh"
ensure_venv # its Python has PyYAML (a schemathesis dependency)
out="${1:-/tmp/finai-eval/solyanka.csv}"
mkdir -p "$(dirname "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv_bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$work" solyanka==0.4.1
"$venv_bin/python" -m zipfile -e "$work"/solyanka-0.4.1-*.whl "$work/wheel"
"$venv_bin/python" "$here/solyanka.py" "$work/wheel/solyanka/transaction_patterns/data" "$out" 6000 42
