#!/usr/bin/env bash
# Runs the Postman collection with newman against a freshly started FinAI server.
#
# Builds nothing: it uses an existing binary. It starts the server with its own private
# PostgreSQL in a temporary data directory (so the database starts empty), creates the admin
# account the collection logs in with, runs newman, stops the server with SIGINT (which also
# stops its PostgreSQL), removes the directory and exits with newman's status.
#
# Environment:
#   FINAI_BIN             server binary (default: target/release/finai if present, else
#                         target/debug/finai; the debug one also when it is the newer build)
#   FINAI_POSTMAN_PORT    port to listen on (default: 18181, or the next free one above it)
#   FINAI_READY_TIMEOUT   seconds to wait for /ready (default: 60)
#   POSTMAN_ADMIN_EMAIL   admin account to create (default: admin@finai.local)
#   POSTMAN_ADMIN_PASSWORD                          (default: Adm1n!pass)
#   NEWMAN                newman command (default: `newman` on PATH, else installed into postman/.newman)
# Extra arguments are passed to `newman run`, e.g. `scripts/postman.sh --reporters cli,junit`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
collection="$root/postman/FinAI.postman_collection.json"
environment="$root/postman/local.postman_environment.json"
admin_email="${POSTMAN_ADMIN_EMAIL:-admin@finai.local}"
admin_password="${POSTMAN_ADMIN_PASSWORD:-Adm1n!pass}"
ready_timeout="${FINAI_READY_TIMEOUT:-60}"

log() { printf 'postman.sh: %s\n' "$*" >&2; }
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

# --- newman -----------------------------------------------------------------------------
if [[ -n "${NEWMAN:-}" ]]; then
    newman=("$NEWMAN")
elif command -v newman >/dev/null; then
    newman=(newman)
else
    local_newman="$root/postman/.newman/node_modules/.bin/newman"
    if [[ ! -x "$local_newman" ]]; then
        command -v npm >/dev/null || die "newman is not on PATH and npm is missing to install it"
        log "installing newman into postman/.newman"
        npm install --prefix "$root/postman/.newman" --no-audit --no-fund --loglevel=error newman@6 >&2
    fi
    newman=("$local_newman")
fi

# --- a free port ------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ -n "${FINAI_POSTMAN_PORT:-}" ]]; then
    port="$FINAI_POSTMAN_PORT"
    ! port_in_use "$port" || die "port $port is in use (FINAI_POSTMAN_PORT)"
else
    port=18181
    while port_in_use "$port"; do
        port=$((port + 1))
        ((port < 18281)) || die "no free port in 18181..18280; set FINAI_POSTMAN_PORT"
    done
fi
base_url="http://127.0.0.1:$port"

# --- clean-up, whatever happens -----------------------------------------------------------
data_dir=""
server_pid=""
cleanup() {
    local status=$?
    set +e
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -INT "$server_pid"
        for _ in $(seq 1 300); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            log "the server did not stop within 30 s of SIGINT; sending SIGTERM"
            kill -TERM "$server_pid"
            for _ in $(seq 1 100); do
                kill -0 "$server_pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid"
        fi
        wait "$server_pid" 2>/dev/null
        log "server stopped"
    fi
    if [[ -n "$data_dir" && -d "$data_dir" ]]; then
        # The server stops its PostgreSQL on SIGINT; if it could not, stop that one cluster.
        local pg_pid
        pg_pid="$(head -n 1 "$data_dir/postgres/postmaster.pid" 2>/dev/null)"
        if [[ "$pg_pid" =~ ^[0-9]+$ ]] && kill -0 "$pg_pid" 2>/dev/null; then
            log "PostgreSQL ($pg_pid) still running; stopping it"
            kill -INT "$pg_pid"
            for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -rf "$data_dir"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/finai-postman.XXXXXX")"
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
        FINAI_ADMIN_PASSWORD="$admin_password" \
        BCRYPT_COST=4 \
        AUTH_RATE_LIMIT_PER_MIN=0 \
        REQUIRE_EMAIL_VERIFICATION=false \
        "$bin" "$@"
}

show_log() {
    log "last lines of the server log:"
    tail -n 40 "$server_log" >&2 || true
}

log "binary: $bin"
log "data:   $data_dir"
log "creating admin $admin_email"
if ! (run_finai create-admin --email "$admin_email") >>"$server_log" 2>&1; then
    show_log
    die "create-admin failed"
fi

log "starting the server on $base_url"
run_finai serve >>"$server_log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + ready_timeout))
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

set +e
"${newman[@]}" run "$collection" \
    -e "$environment" \
    --env-var "baseUrl=$base_url" \
    --env-var "adminEmail=$admin_email" \
    --env-var "adminPassword=$admin_password" \
    "$@"
newman_status=$?
set -e

if ((newman_status != 0)); then
    show_log
fi
log "newman exited with $newman_status"
exit "$newman_status"
