#!/usr/bin/env bash
# Report files read by real programs: on a freshly started server, an account with known
# figures (a Vietnamese category name among them) asks for reports as PDF and xlsx. Poppler's
# pdftotext (Debian poppler-utils) must find the figures of the report's JSON in the PDF's
# text, formatted for the asked locale, and pdftoppm must render its first page; LibreOffice,
# when installed, must open the workbook and the import template
# (scripts/report_files.py). With an argument, the rendered page is kept there as a PNG.
#
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...).
set -euo pipefail

gate=report-files
default_port=18781
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

command -v pdftotext >/dev/null || die "pdftotext is needed (Debian poppler-utils)"
command -v pdftoppm >/dev/null || die "pdftoppm is needed (Debian poppler-utils)"
server_start
FINAI_BASE_URL="$base_url" python3 "$root/scripts/report_files.py" "${1:-}"
