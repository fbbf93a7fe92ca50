#!/usr/bin/env bash
# Generates a Python client from openapi/openapi.json with openapi-python-client and drives a
# freshly started server with it (scripts/generated_client_check.py): register, log in,
# create a wallet and an expense, list it back, read a 404 envelope.
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...).
set -euo pipefail

gate=generated-client
default_port=18381
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

ensure_venv
generator="$venv_bin/openapi-python-client"
python="$venv_bin/python"

out="$data_dir/client"
mkdir -p "$out"
log "generating the client from openapi/openapi.json"
"$generator" generate --path "$root/openapi/openapi.json" --meta none \
    --output-path "$out/finai_client" --overwrite >"$out/generate.log" 2>&1 ||
    { cat "$out/generate.log" >&2; die "openapi-python-client failed"; }
# Operations the generator could not express are listed as warnings; show them.
grep -A2 '^WARNING' "$out/generate.log" >&2 || true

server_start
FINAI_BASE_URL="$base_url" PYTHONPATH="$out" "$python" "$root/scripts/generated_client_check.py"
