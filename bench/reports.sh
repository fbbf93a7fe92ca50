#!/usr/bin/env bash
# Report files benchmark (issue 20): one user with BENCH_TRANSACTIONS transactions (default
# 1,000,000, made by `finai seed-bench`), on a release server with its own PostgreSQL. For each
# report (summary, spending by category, trend, cash flow, budget progress) over the last year,
# the median wall time of BENCH_RUNS requests (curl's time_total) as JSON, PDF and xlsx; then the
# transactions exported whole as CSV and as xlsx (time, size, the server's peak RSS).
#
#   bash bench/reports.sh                           # seeding 1,000,000 rows takes a few minutes
#   BENCH_TRANSACTIONS=100000 bash bench/reports.sh
#
# Settings: BENCH_BIN (else the release binary is built), BENCH_TRANSACTIONS [1000000],
# BENCH_RUNS [5], BENCH_PORT [18083], BENCH_KEEP=1 keeps the temporary directory.
set -euo pipefail

name=reports.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TRANSACTIONS="${BENCH_TRANSACTIONS:-1000000}"
RUNS="${BENCH_RUNS:-5}"
PORT="${BENCH_PORT:-18083}"
BASE="http://127.0.0.1:$PORT/api/v1"

say "seeding one user with $TRANSACTIONS transactions"
start=$(date +%s)
"$BIN" seed-bench --users 1 --transactions-per-user "$TRANSACTIONS" --prefix reports \
  --password 'Bench!pass1' >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log" >&2; die "seeding failed"; }
say "seeded in $(( $(date +%s) - start )) s"

start_server "$PORT"

TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"email":"reports1@example.com","password":"Bench!pass1"}' "$BASE/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')"

# The median time_total of RUNS requests of one URL (after one warm-up request).
median() {
  local url="$1" times=() out
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$url" || die "$url failed"
  for _ in $(seq 1 "$RUNS"); do
    out="$(curl -fsS -o "$WORK/answer" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "$url")"
    times+=("$out")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.0f ms", a[int((NR + 1) / 2)] * 1000 }'
}

echo
echo "| report, last 365 days, $TRANSACTIONS transactions | JSON | PDF | xlsx | PDF size |"
echo "| --- | ---: | ---: | ---: | ---: |"
for report in summary spending-by-category trend cash-flow budget-progress; do
  url="$BASE/reports/$report?days=365"
  json="$(median "$url")"
  pdf="$(median "$url&format=pdf")"
  size="$(stat -c %s "$WORK/answer")"
  xlsx="$(median "$url&format=xlsx")"
  echo "| $report | $json | $pdf | $xlsx | $(( size / 1024 )) KiB |"
done

echo
echo "| export of every transaction | time | size | server peak RSS before → after |"
echo "| --- | ---: | ---: | --- |"
for format in csv xlsx; do
  before="$(hwm_kib)"
  out="$(curl -fsS -o "$WORK/export" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
    "$BASE/transactions/export?format=$format")"
  after="$(hwm_kib)"
  echo "| $format | $(printf '%.1f' "$out") s | $(( $(stat -c %s "$WORK/export") / 1048576 )) MiB | $(( before / 1024 )) → $(( after / 1024 )) MiB |"
done
