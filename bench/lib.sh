# Shared by bench/run.sh, bench/imports.sh and bench/reports.sh: the release binary, a temporary directory
# removed on exit (BENCH_KEEP=1 keeps it), and a release server with its own PostgreSQL in it.
#
# Source it after setting `name` (the script's, for messages); then `$BIN` and `$WORK` are set,
# `start_server PORT` starts the server (rate limits and background jobs off) and waits for
# /ready, and `hwm_kib` reads the server's peak RSS.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\n== %s\n' "$*" >&2; }
die() { echo "bench/$name: $*" >&2; exit 1; }

if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  say "building the release binary"
  (cd "$ROOT" && cargo build --release --quiet)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/finai"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

WORK="$(mktemp -d "/tmp/finai-$name.XXXXXX")"
# Running as root, the private cluster runs as `postgres`, which must reach its data directory.
chmod 755 "$WORK"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "data kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

unset DATABASE_URL
export FINAI_DATA_DIR="$WORK/data" FINAI_ENV=development RUST_LOG=warn

start_server() { # port [VAR=value ...: more of the server's environment, or other limits]
  local port="$1"
  shift
  say "starting the server on port $port"
  env FINAI_BIND="127.0.0.1:$port" AUTH_RATE_LIMIT_PER_MIN=0 RATE_LIMIT_WRITES_PER_MIN=0 \
    RATE_LIMIT_READS_PER_MIN=0 RATE_LIMIT_ANONYMOUS_PER_MIN=0 FINAI_JOBS_INTERVAL_SECS=0 \
    "$@" "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
  done
  die "the server did not become ready"
}

hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status"; }
