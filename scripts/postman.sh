#!/usr/bin/env bash
# Runs the Postman collection with newman against a freshly started FinAI server.
#
# Builds nothing: it uses an existing binary. It starts the server with its own private
# PostgreSQL in a temporary data directory (so the database starts empty), creates the admin
# account the collection logs in with, runs newman, stops the server with SIGINT (which also
# stops its PostgreSQL), removes the directory and exits with newman's status.
#
# Environment (and those of scripts/lib/server.sh: FINAI_BIN, FINAI_GATE_PORT, ...):
#   POSTMAN_ADMIN_EMAIL   admin account to create (default: admin@finai.local)
#   POSTMAN_ADMIN_PASSWORD                          (default: Adm1n!pass)
#   NEWMAN                newman command (default: `newman` on PATH, else installed into postman/.newman)
# Extra arguments are passed to `newman run`, e.g. `scripts/postman.sh --reporters cli,junit`.
set -euo pipefail

gate=postman
default_port=18181
admin_email="${POSTMAN_ADMIN_EMAIL:-admin@finai.local}"
admin_password="${POSTMAN_ADMIN_PASSWORD:-Adm1n!pass}"
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

collection="$root/postman/FinAI.postman_collection.json"
environment="$root/postman/local.postman_environment.json"

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

create_admin "$admin_email" "$admin_password"
server_start

set +e
# A request that never ends (an event stream opened by mistake) fails after 30 s instead of
# holding the run.
"${newman[@]}" run "$collection" \
    --timeout-request 30000 \
    --working-dir "$root" \
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
