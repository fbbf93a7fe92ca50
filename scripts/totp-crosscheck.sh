#!/usr/bin/env bash
# Two-factor login against an independent TOTP implementation: enrols an account on a freshly
# started server, reads the key URI with pyotp (PyPI) as an authenticator app would, and logs
# in with the codes pyotp computes, one 30-second step either side of now; codes two steps off
# and codes already used must be refused (scripts/totp_crosscheck.py).
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...).
set -euo pipefail

gate=totp-crosscheck
default_port=18681
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

ensure_venv
server_start
FINAI_BASE_URL="$base_url" "$venv_bin/python" "$root/scripts/totp_crosscheck.py"
