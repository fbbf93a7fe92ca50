#!/usr/bin/env bash
# Fuzzes a freshly started FinAI server from its own OpenAPI spec with schemathesis.
#
# Every operation, in the examples, coverage, fuzzing and stateful phases, with the checks
# not_a_server_error, status_code_conformance, content_type_conformance and
# response_schema_conformance. Two passes: the user-facing operations as an ordinary user, and
# the admin-only ones (/admin/*, /users and /users/{id}) as the admin account. scripts/schemathesis_hooks.py seeds a small ledger and
# puts real ids into the generated requests. Exits non-zero on any failure.
#
# Environment (and those of scripts/lib/server.sh: FINAI_BIN, FINAI_GATE_PORT, ...):
#   ST_MAX_EXAMPLES   examples per operation and phase (default: 12)
#   ST_WORKERS        concurrent workers (default: 2)
#   ST_SEED           hypothesis seed, to replay a run (default: random, printed)
# Extra arguments go to both `schemathesis run` calls.
set -euo pipefail

gate=schemathesis
default_port=18281
admin_email=admin@finai.local
admin_password='Adm1n!pass'
# Tokens must outlive the run.
SERVER_ENV=(ACCESS_TOKEN_TTL_SECS=7200 RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

ensure_venv
st="$venv_bin/schemathesis"
max_examples="${ST_MAX_EXAMPLES:-12}"
workers="${ST_WORKERS:-2}"
seed_args=()
[[ -n "${ST_SEED:-}" ]] && seed_args=(--seed "$ST_SEED")

create_admin "$admin_email" "$admin_password"
server_start

user_token="$(register gate-user@finai.test 'Gate!user1')"
admin_token="$(login "$admin_email" "$admin_password")"

run_st() { # token, filter arguments...
    local token="$1"
    shift
    FINAI_ST_BASE_URL="$base_url" FINAI_ST_TOKEN="$token" FINAI_ST_SEED="${ST_SEED:-}" \
        SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/scripts" \
        "$st" run "$base_url/api/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth,use_after_free \
        --phases examples,coverage,fuzzing,stateful \
        --max-examples "$max_examples" \
        --workers "$workers" \
        --request-timeout 30 \
        --no-color \
        "${seed_args[@]}" "$@" "${extra[@]}"
}
extra=("$@")

status=0
admin_only='^/api/v1/(admin/.*|users|users/\{id\})$'
# The event streams answer with a body that never ends (that is their point): a
# request-response fuzzer would wait on each for its timeout. Real WebSocket and SSE clients
# drive them in tests/api/streams.rs, including their refusals.
streams='^/api/v1/(ledgers/\{ledger_id\}/)?events/(ws|stream)$'
log "pass 1: every operation but the admin-only ones and the streams, as an ordinary user"
run_st "$user_token" --exclude-path-regex "$admin_only|$streams" || status=1
log "pass 2: the admin-only operations, as the admin"
run_st "$admin_token" --include-path-regex "$admin_only" || status=1
((status == 0)) || show_log
log "schemathesis: $([[ $status == 0 ]] && echo passed || echo FAILED)"
exit "$status"
