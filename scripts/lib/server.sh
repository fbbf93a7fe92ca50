# Shared by the client-gate scripts (postman.sh, schemathesis.sh, check-generated-client.sh,
# fault-test.sh): find the server binary, start it on a free port with its own private
# PostgreSQL in a temporary data directory (so the database starts empty), wait for /ready,
# and stop everything on exit, whatever happens.
#
# Source it, set `gate` (the script's name, for log lines) and optionally `default_port`, then
# call `server_start`. Afterwards `$base_url`, `$data_dir`, `$server_log` and `$server_pid` are set.
#
# Environment:
#   FINAI_BIN             server binary (default: target/release/finai if present, else
#                         target/debug/finai; the debug one also when it is the newer build)
#   FINAI_GATE_PORT       port to listen on (default: $default_port, or the next free one above it;
#                         FINAI_POSTMAN_PORT, its former name, is still read)
#   FINAI_READY_TIMEOUT   seconds to wait for /ready (default: 60)
#   SERVER_ENV            extra VAR=value words for the server's environment (an array)

# shellcheck source=tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
root="$tools_root"
gate="${gate:-gate}"
default_port="${default_port:-18181}"
ready_timeout="${FINAI_READY_TIMEOUT:-60}"
SERVER_ENV=("${SERVER_ENV[@]+"${SERVER_ENV[@]}"}")

log() { printf '%s: %s\n' "$gate" "$*" >&2; }
die() { log "$*"; exit 2; }

# --- the binary -------------------------------------------------------------------------
if [[ -n "${FINAI_BIN:-}" ]]; then
    bin="$FINAI_BIN"
elif [[ -x "$root/target/release/finai" ]]; then
    bin="$root/target/release/finai"
    # A release binary older than the debug one is stale: use the newer build.
    if [[ -x "$root/target/debug/finai" && "$root/target/debug/finai" -nt "$bin" ]]; then
        log "target/debug/finai is newer than target/release/finai; using it"
        bin="$root/target/debug/finai"
    fi
else
    bin="$root/target/debug/finai"
fi
[[ -x "$bin" ]] || die "no executable server binary at $bin (build it first, or set FINAI_BIN)"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
if [[ -n "$(find "$root/src" "$root/migrations" -newer "$bin" -print -quit 2>/dev/null)" ]]; then
    log "warning: sources are newer than $bin; testing the binary as it is"
fi
command -v curl >/dev/null || die "curl is needed"

# --- a free port ------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
FINAI_GATE_PORT="${FINAI_GATE_PORT:-${FINAI_POSTMAN_PORT:-}}"
if [[ -n "$FINAI_GATE_PORT" ]]; then
    port="$FINAI_GATE_PORT"
    ! port_in_use "$port" || die "port $port is in use (FINAI_GATE_PORT)"
else
    port="$default_port"
    while port_in_use "$port"; do
        port=$((port + 1))
        ((port < default_port + 100)) || die "no free port above $default_port; set FINAI_GATE_PORT"
    done
fi
base_url="http://127.0.0.1:$port"

# --- clean-up, whatever happens -----------------------------------------------------------
data_dir=""
server_pid=""
# Scripts may add their own clean-up here (a function name), run before the server stops.
on_exit=""

wait_gone() { # pid, tenths of a second
    local _
    for _ in $(seq 1 "$2"); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

server_stop() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -INT "$server_pid"
        if ! wait_gone "$server_pid" 300; then
            log "the server did not stop within 30 s of SIGINT; sending SIGTERM"
            kill -TERM "$server_pid"
            wait_gone "$server_pid" 100 || kill -KILL "$server_pid"
        fi
        wait "$server_pid" 2>/dev/null
        log "server stopped"
    fi
    server_pid=""
}

cleanup() {
    local status=$?
    set +e
    [[ -n "$on_exit" ]] && "$on_exit"
    server_stop
    if [[ -n "$data_dir" && -d "$data_dir" ]]; then
        # The server stops its PostgreSQL on SIGINT; if it could not, stop that one cluster.
        local pg_pid
        pg_pid="$(head -n 1 "$data_dir/postgres/postmaster.pid" 2>/dev/null)"
        if [[ "$pg_pid" =~ ^[0-9]+$ ]] && kill -0 "$pg_pid" 2>/dev/null; then
            log "PostgreSQL ($pg_pid) still running; stopping it"
            kill -INT "$pg_pid"
            wait_gone "$pg_pid" 100
        fi
        rm -rf "$data_dir"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/finai-$gate.XXXXXX")"
# Run as root, PostgreSQL runs as the `postgres` user and must be able to enter the directory.
chmod 755 "$data_dir"
server_log="$data_dir/server.log"

# A hermetic environment: no DATABASE_URL, SMTP_URL, FINAI_ENV=production etc. leaking in from
# the caller, and no .env file (the commands run inside the temporary directory).
# It ends in `exec`: call it in a subshell, `( run_finai ... )`, or in the background, where the
# job's pid then is the server's own, so that SIGINT reaches the server.
run_finai() {
    cd "$data_dir"
    exec env -i \
        PATH="$PATH" HOME="${HOME:-/tmp}" LANG=C.UTF-8 \
        ${POSTGRES_BIN_DIR:+POSTGRES_BIN_DIR="$POSTGRES_BIN_DIR"} \
        RUST_LOG="${RUST_LOG:-info}" \
        FINAI_ENV=development \
        FINAI_DATA_DIR="$data_dir" \
        FINAI_BIND="127.0.0.1:$port" \
        FINAI_PUBLIC_URL="$base_url" \
        FINAI_SHUTDOWN_TIMEOUT_SECS=5 \
        BCRYPT_COST=4 \
        AUTH_RATE_LIMIT_PER_MIN=0 \
        RATE_LIMIT_READS_PER_MIN=0 \
        RATE_LIMIT_WRITES_PER_MIN=0 \
        RATE_LIMIT_ANONYMOUS_PER_MIN=0 \
        REQUIRE_EMAIL_VERIFICATION=false \
        "${SERVER_ENV[@]}" \
        "$bin" "$@"
}

show_log() {
    log "last lines of the server log:"
    tail -n 40 "$server_log" >&2 || true
}

# Starts `finai serve` in the background and waits until /ready answers 200.
server_start() {
    log "binary: $bin"
    log "data:   $data_dir"
    log "starting the server on $base_url"
    run_finai serve >>"$server_log" 2>&1 &
    server_pid=$!
    local deadline=$((SECONDS + ready_timeout))
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/ready" || true)" == 200 ]]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" || true
            server_pid=""
            show_log
            die "the server exited before it was ready"
        fi
        if ((SECONDS >= deadline)); then
            show_log
            die "the server was not ready within ${ready_timeout} s"
        fi
        sleep 0.5
    done
    log "server ready"
}

# The access token in a session answer on stdin.
access_token() { python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])'; }

# `register EMAIL PASSWORD` creates an account and prints its access token.
register() {
    curl -sf -X POST "$base_url/api/v1/auth/register" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\",\"name\":\"Gate user\"}" | access_token
}

# `login EMAIL PASSWORD` prints a new access token.
login() {
    curl -sf -X POST "$base_url/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}" | access_token
}

# `create_admin EMAIL PASSWORD`, before `server_start`: `finai create-admin` on the gate's
# database.
create_admin() {
    log "creating admin $1"
    if ! (SERVER_ENV+=(FINAI_ADMIN_PASSWORD="$2") && run_finai create-admin --email "$1") >>"$server_log" 2>&1; then
        show_log
        die "create-admin failed"
    fi
}
