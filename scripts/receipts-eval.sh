#!/usr/bin/env bash
# Receipt reading, measured through the API: a fresh server reads the 48 receipts of
# scripts/receipt_corpus.py (24 clean, 24 degraded; Pillow and fpdf2 render them) with the real
# Tesseract, and scripts/receipts_eval.py compares what it parsed with the truth. Prints the
# accuracy table of README's "Receipts"; `--gate` fails below the targets.
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...).
set -euo pipefail

gate=receipts-eval
default_port=18881
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

command -v tesseract >/dev/null || die "tesseract is needed (Debian tesseract-ocr tesseract-ocr-vie)"
ensure_venv
server_start
FINAI_BASE_URL="$base_url" "$venv_bin/python" "$root/scripts/receipts_eval.py" "$@"
