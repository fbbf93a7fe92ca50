#!/usr/bin/env bash
# Builds the third and fourth evaluation sets of `finai eval-ml` (see debian.py) from files
# that Debian ships: the Microsoft Money 95 export among gnucash-common's examples and the
# anonymised ledger among ledger's tests. Downloaded from Debian's pool at pinned versions and
# checked against their SHA-256; nothing is kept in the repo.
#
#   bash scripts/eval-data/build-debian.sh [OUT_DIR]     # default /tmp/finai-eval
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-/tmp/finai-eval}"
pool="${DEBIAN_POOL:-http://deb.debian.org/debian/pool/main}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() { # url file sha256
    curl -fsS --retry 3 -o "$work/$2" "$1"
    echo "$3  $work/$2" | sha256sum --check --quiet
}
fetch "$pool/g/gnucash/gnucash-common_4.13-1_all.deb" gnucash-common.deb \
    8477b415856eb671125ee63ac6a4ee1d23efeca3de6e55e5a14c6ebb32642b31
fetch "$pool/l/ledger/ledger_3.3.0.orig.tar.gz" ledger.orig.tar.gz \
    42307121666b5195a122857ec572e554b77ecf6b12c53e716756c9dae20dc7c1

dpkg-deb -x "$work/gnucash-common.deb" "$work/gnucash"
tar -xzf "$work/ledger.orig.tar.gz" -C "$work" ledger-3.3.0/test/input/standard.dat
python3 "$here/debian.py" \
    "$work/gnucash/usr/share/doc/gnucash-common/examples/ms-money.qif" \
    "$work/ledger-3.3.0/test/input/standard.dat" "$out"
