#!/usr/bin/env bash
# Security regression gate: the attack run of issue 16, against a freshly started server.
#
# Starts the server with its own private PostgreSQL in a temporary data directory (see
# scripts/lib/server.sh), creates an admin account, and runs scripts/attack.py, which performs
# every attack listed in issue 16 (forged and stale tokens, refresh races, lockout tricks, mass
# assignment, cross-user ids, idempotency keys, huge bodies and CSV files, the six findings,
# CSV formula look-alikes, weak production secrets, personal access tokens) and asserts that
# each is refused. Prints PASS/FAIL per check and exits non-zero if any check fails.
#
# Builds nothing: it tests an existing binary.
#
#   bash scripts/attack.sh                               # every check
#   bash scripts/attack.sh --only lockout                # one check (repeat --only for more)
#   bash scripts/attack.sh --list                        # the names of the checks
#   FINAI_BIN=/tmp/attack-finai bash scripts/attack.sh   # another binary
#
# Environment (and those of scripts/lib/server.sh: FINAI_BIN, FINAI_GATE_PORT, ...):
#   ATTACK_ADMIN_EMAIL      admin account to create (default: attack-admin@finai.test)
#   ATTACK_ADMIN_PASSWORD                             (default: Att4ck!admin)
# Extra arguments go to scripts/attack.py.
set -euo pipefail

gate=attack
default_port=18581
admin_email="${ATTACK_ADMIN_EMAIL:-attack-admin@finai.test}"
admin_password="${ATTACK_ADMIN_PASSWORD:-Att4ck!admin}"
lockout_threshold=5
# Listing the checks needs no server.
for arg in "$@"; do
    if [[ "$arg" == --list ]]; then
        exec python3 "$(dirname "${BASH_SOURCE[0]}")/attack.py" --list
    fi
done
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

# shellcheck disable=SC2031 # create_admin (server.sh) adds to SERVER_ENV in a subshell only.
SERVER_ENV+=(
    LOGIN_LOCKOUT_THRESHOLD="$lockout_threshold"
    # Per-user and per-token rate limits off: the checks send bursts on purpose. A check of the
    # limits themselves starts a server of its own with them on (attack.py's ExtraServer).
    RATE_LIMIT_READS_PER_MIN=0
    RATE_LIMIT_WRITES_PER_MIN=0
    RATE_LIMIT_ANONYMOUS_PER_MIN=0
    # No background job: it would change the data the cross-user check compares.
    FINAI_JOBS_INTERVAL_SECS=0
)

# The exact environment run_finai gives the server (env -i, then the variables above), written
# NUL-separated by running `env -0` in the binary's place, so that attack.py starts extra
# servers and `finai create-admin` the way this script does.
finai_env="$data_dir/finai.env"
env_bin="$(command -v env)"
# shellcheck disable=SC2030 # `bin` is changed in this subshell only.
(bin="$env_bin" && run_finai -0) >"$finai_env"

create_admin "$admin_email" "$admin_password"
server_start

set +e
# shellcheck disable=SC2031 # `bin` as server.sh set it (only the subshell above changed it).
ATTACK_BASE_URL="$base_url" \
    ATTACK_ADMIN_EMAIL="$admin_email" \
    ATTACK_ADMIN_PASSWORD="$admin_password" \
    ATTACK_JWT_SECRET_FILE="$data_dir/jwt_secret" \
    ATTACK_FINAI_BIN="$bin" \
    ATTACK_FINAI_ENV="$finai_env" \
    ATTACK_LOCKOUT_THRESHOLD="$lockout_threshold" \
    python3 "$root/scripts/attack.py" "$@"
status=$?
set -e

if ((status != 0)); then
    show_log
fi
log "attack.py exited with $status"
exit "$status"
