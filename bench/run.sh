#!/usr/bin/env bash
# Load benchmark: builds the release binary, seeds a private PostgreSQL with one user of a
# million transactions and one of a thousand (50 budgets each), serves it, drives the server
# with wrk and the same SQL with pgbench, and prints one markdown table.
#
#   bash bench/run.sh                       # about 5 minutes on 2 cores
#   BENCH_DURATION=5 BENCH_BIG=100000 bash bench/run.sh   # a quick look
#
# Settings (environment): BENCH_DURATION seconds per run (10), BENCH_CONNECTIONS (16),
# BENCH_BIG / BENCH_SMALL transactions of the two users (1000000 / 1000), BENCH_BUDGETS (50),
# BENCH_MID (10000: one user's list and burst of creates), BENCH_WRITERS (64 users creating in
# turn) with BENCH_WRITER_BUDGETS (5) budgets each, BENCH_BIN (measure this binary, no build),
# BENCH_HEAVY_CONNECTIONS for the year's report (16), BENCH_PORT (18080), BENCH_BCRYPT_COST (12, the
# server's default), BENCH_RATE_LIMIT requests a minute per bucket (1000000000: every request
# is counted, none refused, so the limiter's cost is in the figures; 0 turns the limits off),
# BENCH_KEEP=1 keeps the temporary data directory. CARGO_TARGET_DIR is
# honoured. pgbench runs with the server's session settings (JIT off), so both
# sides run the same plans.
set -euo pipefail

name=run.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH="$ROOT/bench"
DURATION="${BENCH_DURATION:-10}"
CONNS="${BENCH_CONNECTIONS:-16}"
# The year's summary reads the daily rollups (tens of milliseconds): the same concurrency as
# the rest; lower it to look at a report over the raw rows.
HEAVY_CONNS="${BENCH_HEAVY_CONNECTIONS:-$CONNS}"
BIG="${BENCH_BIG:-1000000}"
SMALL="${BENCH_SMALL:-1000}"
BUDGETS="${BENCH_BUDGETS:-50}"
# The side-by-side shape of issue 15: one user of 10,000 expenses, and many users writing, each
# with a handful of budgets (as real users have).
MID="${BENCH_MID:-10000}"
WRITERS="${BENCH_WRITERS:-64}"
WRITER_BUDGETS="${BENCH_WRITER_BUDGETS:-5}"
PORT="${BENCH_PORT:-18080}"
THREADS=2
BASE="http://127.0.0.1:$PORT/api/v1"
PASSWORD='Bench!pass1'

for tool in wrk pgbench psql curl python3; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$tool" = wrk ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing wrk (Debian package)"
      apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
      echo "bench/run.sh needs $tool (Debian: apt-get install wrk postgresql-client curl python3)" >&2
      exit 1
    fi
  fi
done

export BCRYPT_COST="${BENCH_BCRYPT_COST:-12}"

say "seeding: one user with $BIG transactions, one with $SMALL ($BUDGETS budgets each)"
"$BIN" seed-bench --users 1 --transactions-per-user "$BIG" --budgets-per-user "$BUDGETS" --prefix big --password "$PASSWORD"
"$BIN" seed-bench --users 1 --transactions-per-user "$SMALL" --budgets-per-user "$BUDGETS" --prefix small --password "$PASSWORD"
say "seeding: one user with $MID transactions, $WRITERS with 100 ($WRITER_BUDGETS budgets each)"
"$BIN" seed-bench --users 1 --transactions-per-user "$MID" --budgets-per-user "$WRITER_BUDGETS" --prefix mid --password "$PASSWORD"
"$BIN" seed-bench --users "$WRITERS" --transactions-per-user 100 --budgets-per-user "$WRITER_BUDGETS" --prefix writer --password "$PASSWORD"

LIMIT="${BENCH_RATE_LIMIT:-1000000000}"
start_server "$PORT" RATE_LIMIT_READS_PER_MIN="$LIMIT" RATE_LIMIT_WRITES_PER_MIN="$LIMIT" \
  RATE_LIMIT_ANONYMOUS_PER_MIN="$LIMIT" ACCESS_TOKEN_TTL_SECS=7200

SOCKET="$FINAI_DATA_DIR/run"
sql() { psql -h "$SOCKET" -U finai -d finai -Atq -c "$1"; }
# The owner column: `ledger_id` (a user's personal ledger has the user's id); `user_id` in a
# binary from before shared ledgers (BENCH_BIN), so both can be measured in one run.
OWNER="$(sql "SELECT COALESCE((SELECT column_name FROM information_schema.columns
                               WHERE table_name = 'wallets' AND column_name = 'ledger_id'),
                              'user_id')")"

login_body() { printf '{"email":"%s","password":"%s"}' "$1" "$PASSWORD"; }
token_of() {
  curl -fsS -H 'Content-Type: application/json' -d "$(login_body "$1")" "$BASE/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
BIG_TOKEN="$(token_of big1@example.com)"
SMALL_TOKEN="$(token_of small1@example.com)"
MID_TOKEN="$(token_of mid1@example.com)"
BIG_ID="$(sql "SELECT id FROM users WHERE email = 'big1@example.com'")"
MID_ID="$(sql "SELECT id FROM users WHERE email = 'mid1@example.com'")"
MID_WALLET="$(sql "SELECT id FROM wallets WHERE $OWNER = '$MID_ID' AND name = 'Cash'")"
MID_CATEGORY="$(sql "SELECT id FROM categories WHERE $OWNER = '$MID_ID' AND name = 'Cafe'")"
MID_TX="$(sql "SELECT id FROM transactions WHERE $OWNER = '$MID_ID' LIMIT 1")"
SMALL_ID="$(sql "SELECT id FROM users WHERE email = 'small1@example.com'")"
WALLET="$(sql "SELECT id FROM wallets WHERE $OWNER = '$SMALL_ID' AND name = 'Cash'")"
CATEGORY="$(sql "SELECT id FROM categories WHERE $OWNER = '$SMALL_ID' AND name = 'Cafe'")"
BIG_WALLET="$(sql "SELECT id FROM wallets WHERE $OWNER = '$BIG_ID' AND name = 'Cash'")"
BIG_CATEGORY="$(sql "SELECT id FROM categories WHERE $OWNER = '$BIG_ID' AND name = 'Cafe'")"
TO="$(date -u +%F)"
FROM="$(date -u -d "$TO - 1 year + 1 day" +%F)"
PTO="$(date -u -d "$FROM - 1 day" +%F)"
PFROM="$(date -u -d "$FROM - 365 days" +%F)"

# Results, one line per row: name|req/s|p50|p99|pgbench|rss
RESULTS="$WORK/results"
: >"$RESULTS"

reset_peak() { echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; }
peak_rss() { awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

# wrk_run OUT CONNECTIONS [wrk args...] -> writes wrk's output to OUT
wrk_run() {
  local out="$1" conns="$2"
  shift 2
  wrk -t "$THREADS" -c "$conns" -d "${DURATION}s" --timeout 30s --latency "$@" >"$out" 2>&1
}
# Failed answers (non-2xx) and socket errors, so a fast error never passes for a fast answer.
errors_of() {
  awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}
rate_of() { awk '/^Requests\/sec/ { printf "%.2f", $2 }' "$1"; }
pct_of() { awk -v p="$2" '$1 == p { print $2 }' "$1"; }

# pgbench_rate CONNECTIONS SCRIPT [-D var=value...] -> transactions per second
pgbench_rate() {
  local conns="$1" script="$2"
  shift 2
  sed "s/ledger_id/$OWNER/g" "$BENCH/$script" >"$FINAI_DATA_DIR/$script"
  PGOPTIONS="-c jit=off" \
  pgbench -h "$SOCKET" -U finai -n -M prepared -c "$conns" -j "$THREADS" -T "$DURATION" \
    -f "$FINAI_DATA_DIR/$script" "$@" finai 2>&1 | awk '/^tps/ { printf "%.2f", $3 }'
}

# measure NAME CONNECTIONS PGBENCH_SCRIPT|- PGBENCH_VARS -- WRK_ARGS...
measure() {
  local name="$1" conns="$2" script="$3" vars="$4"
  shift 5
  say "$name"
  local out="$WORK/wrk.$(echo "$name" | tr -c 'a-z0-9' '_')"
  reset_peak
  wrk_run "$out" "$conns" "$@"
  local rss
  rss="$(peak_rss)"
  local pg="-"
  if [ "$script" != - ]; then
    # shellcheck disable=SC2086
    pg="$(pgbench_rate "$conns" "$script" $vars)"
  fi
  echo "$name|$(rate_of "$out")|$(pct_of "$out" 50%)|$(pct_of "$out" 99%)|$pg|$rss|$conns|$(errors_of "$out")" >>"$RESULTS"
}

AUTH_BIG=(-H "Authorization: Bearer $BIG_TOKEN")
AUTH_MID=(-H "Authorization: Bearer $MID_TOKEN")
AUTH_SMALL=(-H "Authorization: Bearer $SMALL_TOKEN")

# A build from before migration 000037 joins the names into the page.
LIST_SQL="$(sql "SELECT CASE WHEN to_regclass('ledger_name_versions') IS NULL
                        THEN 'list_joined.sql' ELSE 'list.sql' END")"
measure "list 50, user with $BIG tx" "$CONNS" "$LIST_SQL" "-D uid=$BIG_ID" -- \
  "${AUTH_BIG[@]}" "$BASE/transactions?per_page=50"
measure "list 50, user with $SMALL tx" "$CONNS" "$LIST_SQL" "-D uid=$SMALL_ID" -- \
  "${AUTH_SMALL[@]}" "$BASE/transactions?per_page=50"
measure "list 50, user with $MID tx" "$CONNS" "$LIST_SQL" "-D uid=$MID_ID" -- \
  "${AUTH_MID[@]}" "$BASE/transactions?per_page=50"
measure "get one transaction by id, user with $MID tx" "$CONNS" - "" -- \
  "${AUTH_MID[@]}" "$BASE/transactions/$MID_TX"
measure "list 50, user with $BIG tx, 64 connections" 64 - "" -- \
  "${AUTH_BIG[@]}" "$BASE/transactions?per_page=50"
# A build from before migration 000038 sums the balances from the rollups.
WALLETS_SQL="$(sql "SELECT CASE WHEN EXISTS (SELECT 1 FROM information_schema.columns
                                             WHERE table_name = 'wallets' AND column_name = 'moved')
                        THEN 'wallets.sql' ELSE 'wallets_rollups.sql' END")"
measure "GET /wallets (balances, $BIG tx)" "$CONNS" "$WALLETS_SQL" "-D uid=$BIG_ID" -- \
  "${AUTH_BIG[@]}" "$BASE/wallets"
measure "GET /budgets ($BUDGETS budgets, $BIG tx)" "$CONNS" budgets.sql "-D uid=$BIG_ID" -- \
  "${AUTH_BIG[@]}" "$BASE/budgets?per_page=50"
measure "GET /reports/summary (1 year, $BIG tx)" "$HEAVY_CONNS" summary.sql \
  "-D uid=$BIG_ID -D from=$FROM -D to=$TO -D pfrom=$PFROM -D pto=$PTO" -- \
  "${AUTH_BIG[@]}" "$BASE/reports/summary?from=$FROM&to=$TO"
export BENCH_TOKEN="$SMALL_TOKEN"
export BENCH_BODY="{\"type\":\"expense\",\"amount\":12.34,\"date\":\"$TO\",\"description\":\"Coffee\",\"merchant\":\"Bean There\",\"category_id\":\"$CATEGORY\",\"wallet_id\":\"$WALLET\"}"
measure "create an expense, user with $SMALL tx" "$CONNS" create.sql "-D uid=$SMALL_ID -D wallet=$WALLET -D category=$CATEGORY" -- \
  -s "$BENCH/post.lua" "$BASE/transactions"
export BENCH_TOKEN="$BIG_TOKEN"
export BENCH_BODY="{\"type\":\"expense\",\"amount\":12.34,\"date\":\"$TO\",\"description\":\"Coffee\",\"merchant\":\"Bean There\",\"category_id\":\"$BIG_CATEGORY\",\"wallet_id\":\"$BIG_WALLET\"}"
measure "create an expense, user with $BIG tx" "$CONNS" create.sql "-D uid=$BIG_ID -D wallet=$BIG_WALLET -D category=$BIG_CATEGORY" -- \
  -s "$BENCH/post.lua" "$BASE/transactions"
export BENCH_TOKEN="$MID_TOKEN"
export BENCH_BODY="{\"type\":\"expense\",\"amount\":12.34,\"date\":\"$TO\",\"description\":\"Coffee\",\"merchant\":\"Bean There\",\"category_id\":\"$MID_CATEGORY\",\"wallet_id\":\"$MID_WALLET\"}"
measure "create an expense, one user with $MID tx ($WRITER_BUDGETS budgets)" "$CONNS" create.sql "-D uid=$MID_ID -D wallet=$MID_WALLET -D category=$MID_CATEGORY" -- \
  -s "$BENCH/post.lua" "$BASE/transactions"
say "logging in $WRITERS writers"
WRITERS_FILE="$WORK/writers"
: >"$WRITERS_FILE"
for i in $(seq 1 "$WRITERS"); do
  uid="$(sql "SELECT id FROM users WHERE email = 'writer$i@example.com'")"
  echo "$(token_of "writer$i@example.com") \
$(sql "SELECT id FROM wallets WHERE $OWNER = '$uid' AND name = 'Cash'") \
$(sql "SELECT id FROM categories WHERE $OWNER = '$uid' AND name = 'Cafe'")" >>"$WRITERS_FILE"
done
export BENCH_USERS="$WRITERS_FILE" BENCH_DATE="$TO"
measure "create an expense, $WRITERS users in turn ($WRITER_BUDGETS budgets each)" 64 - "" -- \
  -s "$BENCH/post_many.lua" "http://127.0.0.1:$PORT"
export BENCH_TOKEN=""
export BENCH_BODY="$(login_body small1@example.com)"
measure "login (bcrypt cost $BCRYPT_COST)" 4 - "" -- -s "$BENCH/post.lua" "$BASE/auth/login"

say "login storm: list 50 (user with $BIG tx) while 4 connections log in"
reset_peak
wrk -t 1 -c 4 -d "$((DURATION + 2))s" -s "$BENCH/post.lua" "$BASE/auth/login" >"$WORK/wrk.storm_login" 2>&1 &
STORM=$!
sleep 1
wrk_run "$WORK/wrk.storm_list" "$CONNS" "${AUTH_BIG[@]}" "$BASE/transactions?per_page=50"
wait "$STORM"
echo "list 50, user with $BIG tx, during a login storm|$(rate_of "$WORK/wrk.storm_list")|$(pct_of "$WORK/wrk.storm_list" 50%)|$(pct_of "$WORK/wrk.storm_list" 99%)|-|$(peak_rss)|$CONNS|$(errors_of "$WORK/wrk.storm_list")" >>"$RESULTS"

say "results"
python3 - "$RESULTS" "$CONNS" "$DURATION" <<'EOF'
import re, sys

rows = [line.rstrip("\n").split("|") for line in open(sys.argv[1]) if line.strip()]
conns, duration = sys.argv[2], sys.argv[3]

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text or "")
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

print(f"\nwrk and pgbench at the same concurrency, {duration} s each, 2 threads; "
      "ratio = API req/s / pgbench transactions/s of the same SQL.\n")
print("| endpoint | conns | req/s | p50 | p99 | errors | pgbench req/s | ratio | peak RSS |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
def rate_text(value):
    """Whole requests per second, but two decimals below 10/s (a year's report runs at ~1/s)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.2f}" if number < 10 else f"{number:.0f}"

for name, rate, p50, p99, pg, rss, c, errors in rows:
    usable = pg not in ("-", "") and rate and float(pg) > 0
    ratio = f"{float(rate) / float(pg):.2f}" if usable else "-"
    print(f"| {name} | {c} | {rate_text(rate)} | {p50} | {p99} | {errors} | {rate_text(pg)} | {ratio} | {rss} |")

big, small, storm = rows[0], rows[1], rows[-1]
p50_big, p50_small = ms(big[2]), ms(small[2])
if p50_big and p50_small:
    print(f"\nfirst page, big user vs small user: p50 {p50_big / p50_small:.2f}x, "
          f"throughput {float(small[1]) / float(big[1]):.2f}x")
p99_base, p99_storm = ms(big[3]), ms(storm[3])
if p99_base and p99_storm:
    print(f"login storm: list p99 {big[3]} -> {storm[3]} ({p99_storm / p99_base:.2f}x)")
EOF
