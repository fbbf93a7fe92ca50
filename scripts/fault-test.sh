#!/usr/bin/env bash
# Fault test: PostgreSQL dies under a steady write load and comes back.
#
# Runs its own PostgreSQL cluster (so it can kill it) and a FinAI server pointed at it with
# DATABASE_URL. Two writers create expenses without pause (scripts/fault_load.py); after a few
# seconds the cluster is stopped with `pg_ctl stop -m immediate` (a crash, no clean shutdown),
# left down for a few seconds, and started again. Then it checks:
#   - while PostgreSQL is down the API answers 503 `database_unavailable`, each answer within
#     the pool timeout plus 1 s (no hang), and /ready answers 503;
#   - nothing but 201 and 503 is ever answered (no 500, no dropped connection);
#   - within 5 s of PostgreSQL being back, writes succeed again, without restarting the server,
#     and every write after that succeeds;
#   - every transaction the API answered 201 for is in the database.
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...), and
#   FAULT_DOWN_SECS      how long PostgreSQL stays down (default: 4)
#   FAULT_WORKERS        concurrent writers (default: 2)
set -euo pipefail

gate=fault-test
default_port=18481
down_secs="${FAULT_DOWN_SECS:-4}"
workers="${FAULT_WORKERS:-2}"
pool_timeout_ms=3000
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

# --- our own PostgreSQL -------------------------------------------------------------------
pg_bin="$(postgres_bin_dir)"
for tool in initdb pg_ctl psql; do
    [[ -x "$pg_bin/$tool" ]] || die "PostgreSQL's $tool not found (looked in '${pg_bin}'; set POSTGRES_BIN_DIR)"
done
pg_dir="$data_dir/fault-pg"
pg_port=55432
while port_in_use "$pg_port"; do pg_port=$((pg_port + 1)); done
# PostgreSQL refuses to run as root: then its commands run as an unprivileged account.
pg_user=""
[[ "$(id -u)" == 0 ]] && pg_user="$(postgres_run_as)"
as_pg() {
    if [[ -n "$pg_user" ]]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}
mkdir -p "$pg_dir"
if [[ -n "$pg_user" ]]; then chown "$pg_user:" "$pg_dir"; fi
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U finai --auth=trust -E UTF8 >"$data_dir/initdb.log" 2>&1 ||
    { cat "$data_dir/initdb.log" >&2; die "initdb failed"; }
pg_ctl() { as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" "$@"; }
pg_start() {
    pg_ctl start -w -t 120 -l "$pg_dir/postgres.log" \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c shared_buffers=16MB -c max_connections=40" >/dev/null ||
        { log "PostgreSQL did not start; its log:"; tail -n 30 "$pg_dir/postgres.log" >&2; return 1; }
}
load_pid=""
stop_all() { # on any exit: the load, then our PostgreSQL
    [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null
    pg_ctl stop -m fast >/dev/null 2>&1 || true
}
on_exit=stop_all
# The first start may lose a race for the port to another program: then the next free one.
for attempt in 1 2 3; do
    pg_start && break
    [[ "$attempt" == 3 ]] && die "PostgreSQL would not start (three tries)"
    pg_port=$((pg_port + 1))
    while port_in_use "$pg_port"; do pg_port=$((pg_port + 1)); done
done
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U finai -d postgres -qc 'CREATE DATABASE finai' >/dev/null
psql_finai() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U finai -d finai -Atqc "$1"; }

SERVER_ENV=(
    DATABASE_URL="postgres://finai@127.0.0.1:$pg_port/finai"
    DATABASE_POOL_TIMEOUT_MS="$pool_timeout_ms"
    RUST_LOG=warn
)
server_start

token="$(register fault@finai.test 'Fault!pass1')"
auth=(-H "Authorization: Bearer $token" -H 'content-type: application/json')
wallet="$(curl -sf "${auth[@]}" -X POST "$base_url/api/v1/wallets" -d '{"name":"Cash","type":"cash","currency":"USD"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["id"])')"
category="$(curl -sf "${auth[@]}" "$base_url/api/v1/categories?kind=expense&per_page=1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')"

# --- the load, the crash, the recovery ---------------------------------------------------
results="$data_dir/results.jsonl"
stop_file="$data_dir/stop-load"
python3 "$root/scripts/fault_load.py" "$base_url" "$token" "$wallet" "$category" \
    "$stop_file" "$results" "$workers" &
load_pid=$!

sleep 3
log "stopping PostgreSQL (immediate) under load"
t_down="$(date +%s.%N)"
pg_ctl stop -m immediate >/dev/null
sleep 1
ready_down="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$base_url/ready" || true)"
sleep "$((down_secs - 1))"
log "starting PostgreSQL again"
# The outage ends when the restart begins; recovery is timed from when it accepts connections.
t_restart="$(date +%s.%N)"
pg_start
t_up="$(date +%s.%N)"
sleep 8
touch "$stop_file"
wait "$load_pid"
ready_up="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base_url/ready" || true)"

created_ids="$(python3 -c '
import json, sys
ids = [r["id"] for r in map(json.loads, open(sys.argv[1])) if r["status"] == 201]
print(",".join(ids))' "$results")"
stored="$(psql_finai "SELECT count(*) FROM transactions WHERE id = ANY('{$created_ids}'::uuid[])")"

python3 - "$results" "$t_down" "$t_restart" "$t_up" "$pool_timeout_ms" "$stored" "$ready_down" "$ready_up" <<'PY'
import json, sys
results, t_down, t_restart, t_up, pool_ms, stored, ready_down, ready_up = sys.argv[1:9]
t_down, t_restart, t_up, pool_s = float(t_down), float(t_restart), float(t_up), int(pool_ms) / 1000
rows = sorted(map(json.loads, open(results)), key=lambda r: r["start"])
problems = []
def check(ok, what):
    print(f"fault-test: {'ok' if ok else 'FAILED'}: {what}")
    if not ok:
        problems.append(what)

created = [r for r in rows if r["status"] == 201]
other = sorted({(r["status"], r["code"]) for r in rows if r["status"] not in (201, 503)})
check(not other, f"only 201 and 503 answers ({len(rows)} requests, others: {other})")
down = [r for r in rows if r["start"] > t_down + 0.2 and r["end"] < t_restart]
unavailable = [r for r in down if r["status"] == 503 and r["code"] == "database_unavailable"]
check(len(down) > 0 and len(unavailable) == len(down),
      f"while down: {len(unavailable)} of {len(down)} answers were 503 database_unavailable")
slowest = max((r["end"] - r["start"] for r in rows if r["status"] == 503), default=0)
check(slowest <= pool_s + 1, f"slowest 503 took {slowest:.2f} s (pool timeout {pool_s:.1f} s)")
check(ready_down.split()[0] == "503", f"/ready while down: {ready_down}")
recovered = [r for r in rows if r["status"] == 201 and r["start"] >= t_up]
first = recovered[0]["end"] - t_up if recovered else float("inf")
check(first <= 5, f"first write succeeded {first:.2f} s after PostgreSQL was back")
late = [r for r in rows if r["start"] > t_up + 5]
check(late and all(r["status"] == 201 for r in late),
      f"every write from 5 s after recovery succeeded ({sum(r['status'] == 201 for r in late)} of {len(late)})")
check(ready_up == "200", f"/ready after recovery: {ready_up}")
check(int(stored) == len(created), f"{stored} of {len(created)} answered-201 transactions are in the database")
sys.exit(1 if problems else 0)
PY
