#!/usr/bin/env bash
# Opens Swagger UI of a freshly started server in headless Chromium, checks that it lists the
# spec's operations, and saves a screenshot (default: docs/swagger-ui.png, the one README shows).
#
# Usage: scripts/swagger-screenshot.sh [OUTPUT.png]
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...), and
#   CHROMIUM   the browser (default: chromium, else chromium-browser or google-chrome on PATH)
set -euo pipefail

gate=swagger-ui
default_port=18581
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

output="${1:-$root/docs/swagger-ui.png}"
browser="${CHROMIUM:-}"
if [[ -z "$browser" ]]; then
    for candidate in chromium chromium-browser google-chrome; do
        command -v "$candidate" >/dev/null && { browser="$candidate"; break; }
    done
fi
[[ -n "$browser" ]] || die "no Chromium found (Debian: apt-get install chromium; or set CHROMIUM)"

server_start

# Flags: no sandbox (CI runs as root), no GPU, and no background traffic to Google's hosts,
# which this machine's closed network refuses. Virtual time lets the page's scripts finish.
chrome() {
    "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-quic \
        --user-data-dir="$data_dir/chromium" --hide-scrollbars \
        --virtual-time-budget=15000 "$@" 2>>"$data_dir/chromium.log"
}

operations="$(python3 -c 'import json, sys
spec = json.load(open(sys.argv[1]))
print(sum(len(item) for item in spec["paths"].values()))' "$root/openapi/openapi.json")"
show_chromium_log() { tail -n 20 "$data_dir/chromium.log" >&2 2>/dev/null || true; }
dom="$(chrome --dump-dom "$base_url/swagger-ui/" || true)"
rendered="$(grep -o 'opblock-summary-method' <<<"$dom" | wc -l || true)"
log "Swagger UI rendered $rendered of the spec's $operations operations"
if ((rendered != operations)); then
    show_chromium_log
    die "Swagger UI did not list every operation"
fi

mkdir -p "$(dirname "$output")"
chrome --window-size=1280,1800 --screenshot="$output" "$base_url/swagger-ui/" >/dev/null || true
[[ -s "$output" ]] || { show_chromium_log; die "no screenshot written"; }
log "screenshot: $output ($(wc -c <"$output") bytes)"
