#!/usr/bin/env bash
# The predictions' evaluation (README, Predictions → Measured), small and fast enough for CI:
# builds the evaluation sets that registries ship (the card-statement set from PyPI's
# solyanka, the Money 95 export and the anonymised ledger from Debian), runs `finai eval-ml` on
# each (and on the Mint export when ../shared/data holds it), prints the figures README quotes,
# then measures the category suggestions again through the HTTP API of a fresh server
# (scripts/eval_api.py) on the two real sets. `--gate` fails where a figure falls below its
# floor (FLOORS below: what the current code reaches, so a change that loses accuracy is seen).
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...);
# FINAI_EVAL_DIR (default /tmp/finai-eval) for the data sets.
set -euo pipefail

gate=eval-ml
default_port=18891
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

data="${FINAI_EVAL_DIR:-/tmp/finai-eval}"
gating=false
[ "${1:-}" = "--gate" ] && gating=true
ensure_venv
[ -s "$data/solyanka.csv" ] || bash "$root/scripts/eval-data/build-solyanka.sh" "$data/solyanka.csv"
[ -s "$data/ledger-standard.csv" ] || bash "$root/scripts/eval-data/build-debian.sh" "$data"

# name | csv | eval-ml column options
sets=(
    "statement|$data/solyanka.csv|--date-col date --text-col description --category-col category --amount-col amount_usd"
    "money95|$data/gnucash-money95.csv|--date-col date --text-col description --category-col category --amount-col amount --type-col kind"
    "ledger|$data/ledger-standard.csv|--date-col date --text-col description --category-col category --amount-col amount --type-col kind"
)
mint="$root/../shared/data/personal_transactions.csv"
if [ -s "$mint" ]; then
    sets=("mint|$mint|--type-col Transaction+Type --exclude-category Credit+Card+Payment" "${sets[@]}")
else
    echo "eval-ml: $mint is not here; the Mint set is left out"
fi
# name: suggestion top-1 and top-3 floors, as eval-ml prints them (FinAI also never below the
# payee baseline). The code is deterministic: these are its figures today.
declare -A FLOORS=([mint]="0.9901 0.995" [statement]="0.8393 0.924" [money95]="0.6731 0.8846" [ledger]="0.7711 0.8072")

out="$(mktemp -d)"
failed=0
echo "| set | rows | top-1 | top-3 | payee's last category | forecast MAE: FinAI | best naive (which) | interval held | per category, weekly: FinAI / best naive | unusual: precision, recall |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for entry in "${sets[@]}"; do
    IFS='|' read -r name csv options <<<"$entry"
    read -ra opts <<<"$options"
    opts=("${opts[@]//+/ }") # spaces in column names are written as + above
    "$bin" eval-ml --csv "$csv" "${opts[@]}" --json >"$out/$name.json"
    "$venv_bin/python" - "$name" "$out/$name.json" "${FLOORS[$name]}" <<'PY' || failed=1
import json, sys
name, path, floors = sys.argv[1], sys.argv[2], sys.argv[3].split()
r = json.load(open(path))
c, f, a = r["categorization"], r["forecast"], r["anomalies"]
naive = {k: v for k, v in f["mae"].items() if k in ("last_period", "trailing_mean", "seasonal_naive")}
best = min(naive, key=naive.get)


def ratio(scores):
    m = scores["mae"]
    naive = [v for k, v in m.items() if k in ("last_period", "trailing_mean", "seasonal_naive")]
    return f"{m['finai'] / min(naive):.2f}×"



print(f"| {name} | {c['train_rows']} / {c['test_rows']} | {c['top1_accuracy']:.1%} | {c['top3_accuracy']:.1%} "
      f"| {c['last_seen_top1']:.1%} | {f['mae']['finai']:,.0f} | {naive[best]:,.0f} ({best}, "
      f"{f['mae']['finai'] / naive[best]:.2f}×) | {f['interval_coverage']:.1%} "
      f"| {ratio(f['per_category'])}, {ratio(f['weekly'])} | {a['precision']:.1%}, {a['recall']:.1%} |")
low = [f"top-1 {c['top1_accuracy']} < {floors[0]}" if c["top1_accuracy"] < float(floors[0]) else "",
       f"top-3 {c['top3_accuracy']} < {floors[1]}" if c["top3_accuracy"] < float(floors[1]) else "",
       "below the payee baseline" if c["top1_accuracy"] < c["last_seen_top1"] else ""]
if any(low):
    sys.exit(f"eval-ml: {name}: " + "; ".join(x for x in low if x))
PY
done

server_start
echo
echo "| set (through the API) | train / test | top-1 | top-3 | eval-ml top-1 | eval-ml top-3 |"
echo "|---|---|---|---|---|---|"
for name in money95 ledger; do
    FINAI_BASE_URL="$base_url" "$venv_bin/python" "$root/scripts/eval_api.py" "$name" \
        "$data/$( [ $name = money95 ] && echo gnucash-money95 || echo ledger-standard).csv" \
        --expect "$out/$name.json" || failed=1
done
rm -rf "$out"
if [ "$failed" = 1 ] && $gating; then
    die "a figure fell below its floor (above)"
fi
