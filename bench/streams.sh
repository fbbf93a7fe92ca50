#!/usr/bin/env bash
# Event-stream benchmark (issue 19): seeds a private PostgreSQL with many users, serves the
# release binary, and measures, with the client in bench/streams.py:
#   1. delivery latency: one user writes expenses at BENCH_RATE/s (POST /api/v1/transactions,
#      open loop) while holding a WebSocket; for each write, the time from its 201 arriving at
#      the client to its `transaction_update` frame (matched by `data.id`) arriving on that
#      socket; with 0, 1,000 and 10,000 other users' idle sockets open. The frame usually
#      comes before the 201 (the handler still evaluates budgets after the commit), so that
#      figure is mostly negative; the time from sending the POST to the frame is given too;
#   2. memory per idle socket: the server's VmRSS before and after opening BENCH_SOCKETS idle
#      WebSockets of as many distinct users (one socket each);
#   3. the list's throughput (wrk on GET /transactions?per_page=50 of a user with BENCH_MID
#      transactions) with 0 and with BENCH_SOCKETS idle sockets open, interleaved rounds.
# It prints one markdown table.
#
#   bash bench/streams.sh                                  # about 12 minutes on 2 cores
#   BENCH_LATENCY_SECS=30 BENCH_ROUNDS=1 bash bench/streams.sh     # a quicker look
#
# Settings (environment), defaults in brackets: BENCH_BIN (measure this binary; else build the
# release binary with cargo, CARGO_TARGET_DIR honoured), BENCH_SOCKETS idle sockets for the
# memory and throughput rounds [10000], BENCH_LATENCY_IDLE idle sockets to time delivery with,
# one run each [0 1000 10000], BENCH_RATE writes/s [50], BENCH_LATENCY_SECS per latency run [60],
# BENCH_ROUNDS interleaved throughput rounds [3], BENCH_DURATION wrk seconds per run [10],
# BENCH_CONNECTIONS wrk connections [16], BENCH_MID transactions of the listed user [10000],
# BENCH_WRITER_TX transactions of the writing user before the run [1000] (5 budgets),
# BENCH_HEARTBEAT_SECS the server's FINAI_STREAM_HEARTBEAT_SECS [30], BENCH_PORT [18081],
# BENCH_BCRYPT_COST for the seeded accounts' password hash [4: 10,000 logins take seconds, not
# an hour], BENCH_VENV the Python environment with `websockets` and `aiohttp` [bench/.venv-streams,
# created with pip when missing], BENCH_KEEP=1 keeps the temporary data directory.
#
# Every socket is a distinct user (seeded with `finai seed-bench`, logged in through the API,
# access tokens valid for a day), authenticated with `Authorization: Bearer`. The client holding
# idle sockets sends nothing and does not ping; it answers the server's pings (a WebSocket
# library does that by itself). The server gets its own PostgreSQL (the binary's embedded
# launcher, DATABASE_URL unset) in a temporary directory removed on exit. The soft limit of open
# files is raised to the most sockets + 1024 (the hard limit must allow it). Memory is measured
# first, so the first opening lands on a server that has never held sockets (glibc keeps what
# they freed: see the "VmRSS closed" column).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
SOCKETS="${BENCH_SOCKETS:-10000}"
LATENCY_IDLE="${BENCH_LATENCY_IDLE:-0 1000 10000}"
RATE="${BENCH_RATE:-50}"
LATENCY_SECS="${BENCH_LATENCY_SECS:-60}"
ROUNDS="${BENCH_ROUNDS:-3}"
DURATION="${BENCH_DURATION:-10}"
CONNS="${BENCH_CONNECTIONS:-16}"
MID="${BENCH_MID:-10000}"
WRITER_TX="${BENCH_WRITER_TX:-1000}"
HEARTBEAT="${BENCH_HEARTBEAT_SECS:-30}"
PORT="${BENCH_PORT:-18081}"
VENV="${BENCH_VENV:-$BENCH/.venv-streams}"
THREADS=2
BASE="http://127.0.0.1:$PORT/api/v1"
WS="ws://127.0.0.1:$PORT/api/v1/events/ws"
PASSWORD='Bench!pass1'

say() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench/streams.sh: $*" >&2; exit 1; }

# The most idle sockets any step opens: users to seed, and file descriptors the server and the
# holding client each need (plus PostgreSQL connections, wrk, the listener...).
MOST="$SOCKETS"
for n in $LATENCY_IDLE; do [ "$n" -gt "$MOST" ] && MOST="$n"; done
NEED_FDS=$((MOST + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED_FDS" ]; then
  hard="$(ulimit -Hn)"
  if [ "$hard" = unlimited ] || [ "$hard" -ge "$NEED_FDS" ]; then
    ulimit -n "$NEED_FDS"
  else
    ulimit -n "$hard" 2>/dev/null || true
    die "needs $NEED_FDS open files per process; the hard limit is $hard (raise it, or lower BENCH_SOCKETS / BENCH_LATENCY_IDLE)"
  fi
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  say "building the release binary"
  (cd "$ROOT" && cargo build --release --quiet)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/finai"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

for tool in wrk psql curl python3; do
  if ! command -v "$tool" >/dev/null; then
    if [ "$tool" = wrk ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing wrk (Debian package)"
      apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
      die "needs $tool (Debian: apt-get install wrk postgresql-client curl python3)"
    fi
  fi
done

if ! "$VENV/bin/python" -c 'import websockets, aiohttp' 2>/dev/null; then
  say "creating $VENV (websockets, aiohttp from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'websockets>=14' 'aiohttp>=3.9'
fi
PY="$VENV/bin/python"
CLIENT="$BENCH/streams.py"

WORK="$(mktemp -d /tmp/finai-streams-bench.XXXXXX)"
# Running as root, the private cluster runs as `postgres`, which must reach its data directory.
chmod 755 "$WORK"
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
SERVER_PID=""
HOLDER_PID=""
stop() {
  local pid="$1"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop "$HOLDER_PID"
  stop "$SERVER_PID"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "data kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

unset DATABASE_URL
export FINAI_DATA_DIR="$WORK/data" FINAI_ENV=development RUST_LOG=warn
export BCRYPT_COST="${BENCH_BCRYPT_COST:-4}"

say "seeding: one user with $MID transactions (listed), one with $WRITER_TX (writing), $MOST idle users"
"$BIN" seed-bench --users 1 --transactions-per-user "$MID" --budgets-per-user 5 --prefix mid --password "$PASSWORD" >&2
"$BIN" seed-bench --users 1 --transactions-per-user "$WRITER_TX" --budgets-per-user 5 --prefix writer --password "$PASSWORD" >&2
"$BIN" seed-bench --users "$MOST" --transactions-per-user 0 --budgets-per-user 0 --prefix idle --password "$PASSWORD" >&2

say "starting the server on port $PORT (open files: $(ulimit -n))"
FINAI_BIND="127.0.0.1:$PORT" AUTH_RATE_LIMIT_PER_MIN=0 FINAI_JOBS_INTERVAL_SECS=0 \
  ACCESS_TOKEN_TTL_SECS=86400 FINAI_STREAM_HEARTBEAT_SECS="$HEARTBEAT" \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null || die "the server did not become ready"

SOCKET_DIR="$FINAI_DATA_DIR/run"
sql() { psql -h "$SOCKET_DIR" -U finai -d finai -Atq -c "$1"; }
login_body() { printf '{"email":"%s","password":"%s"}' "$1" "$PASSWORD"; }
token_of() {
  curl -fsS -H 'Content-Type: application/json' -d "$(login_body "$1")" "$BASE/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
MID_TOKEN="$(token_of mid1@example.com)"
WRITER_TOKEN="$(token_of writer1@example.com)"
WRITER_ID="$(sql "SELECT id FROM users WHERE email = 'writer1@example.com'")"
WRITER_WALLET="$(sql "SELECT id FROM wallets WHERE ledger_id = '$WRITER_ID' AND name = 'Cash'")"
WRITER_CATEGORY="$(sql "SELECT id FROM categories WHERE ledger_id = '$WRITER_ID' AND name = 'Cafe'")"
say "logging in $MOST idle users"
"$PY" "$CLIENT" login "$BASE" idle "$MOST" "$PASSWORD" "$WORK/idle.tokens"

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status"; }
server_fds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS="$(getconf CLK_TCK)"
status_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# hold_open N: N idle sockets of idle1..idleN, held by a background client (HOLDER_PID).
hold_open() {
  local n="$1" status="$WORK/holder.status"
  rm -f "$status"
  "$PY" "$CLIENT" hold "$WS" "$WORK/idle.tokens" "$n" "$status" 2>>"$WORK/holder.log" &
  HOLDER_PID=$!
  for _ in $(seq 1 3000); do
    [ -s "$status" ] && break
    kill -0 "$HOLDER_PID" 2>/dev/null || { cat "$WORK/holder.log" >&2; die "the holding client died"; }
    sleep 0.1
  done
  [ -s "$status" ] || die "$n sockets did not open in 300 s"
  local opened
  opened="$(status_field "$status" opened)"
  echo "opened $opened of $n sockets in $(status_field "$status" open_seconds) s; server fds $(server_fds)" >&2
  [ "$opened" = "$n" ] || { cat "$status" >&2; die "only $opened of $n sockets opened"; }
}
# hold_close: closes the held sockets and waits until the server has let them go.
hold_close() {
  local before="$1" status="$WORK/holder.status"
  kill -0 "$HOLDER_PID" 2>/dev/null || die "the holding client died: $(cat "$status")"
  local open
  open="$(status_field "$status" open)"
  [ "$open" = "$(status_field "$status" opened)" ] ||
    echo "warning: the server closed sockets while held: $(cat "$status")" >&2
  stop "$HOLDER_PID"
  HOLDER_PID=""
  for _ in $(seq 1 600); do
    [ "$(server_fds)" -le $((before + 8)) ] && break
    sleep 0.1
  done
}

# wrk_list OUT: the list benchmark, as bench/run.sh runs it.
wrk_list() {
  wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 30s --latency \
    -H "Authorization: Bearer $MID_TOKEN" "$BASE/transactions?per_page=50" >"$1" 2>&1
}
rate_of() { awk '/^Requests\/sec/ { printf "%.2f", $2 }' "$1"; }
pct_of() { awk -v p="$2" '$1 == p { print $2 }' "$1"; }
errors_of() {
  awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}

cat >"$RESULTS/meta.json" <<EOF
{"bin": "$BIN", "cores": $(nproc), "workers": "${FINAI_WORKERS:-$(nproc)}", "heartbeat": $HEARTBEAT,
 "rate": $RATE, "latency_seconds": $LATENCY_SECS, "sockets": $SOCKETS,
 "mid": $MID,
 "wrk_conns": $CONNS, "wrk_seconds": $DURATION}
EOF

# The machine's load when measuring starts and ends (the benchmark itself included): on a shared
# machine, other work shows here.
cut -d' ' -f1-3 /proc/loadavg >"$RESULTS/loadavg.start"

# --- memory and throughput, first, so the first opening lands on a server that has never held
# sockets (after a warm-up of the list, so its buffers are already counted in "before").
say "warm-up: the list, ${DURATION} s"
wrk_list "$WORK/wrk.warmup"
BASE_FDS="$(server_fds)"
for round in $(seq 1 "$ROUNDS"); do
  say "round $round: list with 0 idle sockets"
  wrk_list "$WORK/wrk.idle.$round"
  sleep 2
  rss_before="$(rss_kib)"
  say "round $round: opening $SOCKETS idle sockets"
  hold_open "$SOCKETS"
  sleep 3
  rss_open="$(rss_kib)"
  say "round $round: list with $SOCKETS idle sockets open"
  cpu0="$(cpu_ticks "$HOLDER_PID")"
  wrk_list "$WORK/wrk.open.$round"
  cpu1="$(cpu_ticks "$HOLDER_PID")"
  open_now="$(status_field "$WORK/holder.status" open)"
  hold_close "$BASE_FDS"
  sleep 2
  rss_closed="$(rss_kib)"
  "$PY" - "$round" "$open_now" "$rss_before" "$rss_open" "$rss_closed" "$(hwm_kib)" \
    "$(rate_of "$WORK/wrk.idle.$round")" "$(rate_of "$WORK/wrk.open.$round")" \
    "$(pct_of "$WORK/wrk.idle.$round" 99%)" "$(pct_of "$WORK/wrk.open.$round" 99%)" \
    "$(errors_of "$WORK/wrk.idle.$round")" "$(errors_of "$WORK/wrk.open.$round")" \
    "$((cpu1 - cpu0))" "$TICKS" "$SOCKETS" >>"$RESULTS/rounds.jsonl" <<'EOF'
import json, sys
(r, open_now, before, opened, closed, hwm, rate_idle, rate_open, p99_idle, p99_open,
 err_idle, err_open, cpu, ticks, n) = sys.argv[1:]
print(json.dumps({
    "round": int(r), "open": int(open_now), "rss_before": int(before), "rss_open": int(opened),
    "rss_closed": int(closed), "hwm": int(hwm),
    "kib_per_socket": (int(opened) - int(before)) / int(n),
    "rate_idle": float(rate_idle), "rate_open": float(rate_open),
    "p99_idle": p99_idle, "p99_open": p99_open,
    "errors_idle": int(err_idle), "errors_open": int(err_open),
    "holder_cpu": int(cpu) / int(ticks),
}))
EOF
  tail -n 1 "$RESULTS/rounds.jsonl" >&2
done

# --- delivery latency.
for idle in $LATENCY_IDLE; do
  if [ "$idle" -gt 0 ]; then
    say "latency: opening $idle idle sockets"
    hold_open "$idle"
    sleep 3
  fi
  say "latency: $RATE expenses/s for $LATENCY_SECS s with $idle idle sockets"
  "$PY" "$CLIENT" latency "$BASE" "$WS" "$WRITER_TOKEN" "$WRITER_WALLET" "$WRITER_CATEGORY" \
    "$RATE" "$LATENCY_SECS" "$RESULTS/latency_$idle.json"
  if [ "$idle" -gt 0 ]; then
    hold_close "$BASE_FDS"
  fi
done

cut -d' ' -f1-3 /proc/loadavg >"$RESULTS/loadavg.end"
say "server log: $(wc -l <"$WORK/server.log") lines, $(grep -c -E 'WARN|ERROR' "$WORK/server.log" || true) warnings or errors"
grep -E 'WARN|ERROR' "$WORK/server.log" | sort | uniq -c | sort -rn | head -20 >&2 || true

say "results"
"$PY" "$CLIENT" table "$RESULTS"
if [ "${BENCH_KEEP:-0}" = 1 ]; then
  echo >&2
  echo "raw results (wrk output, latency timelines) in $WORK" >&2
fi
