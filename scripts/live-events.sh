#!/usr/bin/env bash
# A page in headless Chromium shows an event arriving: starts a fresh server, registers a
# user, opens scripts/live-events.html (a browser WebSocket client, authenticated by a
# single-use ticket), records an expense through the API, checks that the page lists it, and
# saves a screenshot (default: docs/live-events.png, the one README shows).
#
# Usage: scripts/live-events.sh [OUTPUT.png]
# Environment: those of scripts/lib/server.sh (FINAI_BIN, FINAI_GATE_PORT, ...), and
#   CHROMIUM   the browser (default: chromium, else chromium-browser or google-chrome on PATH)
set -euo pipefail

gate=live-events
default_port=18681
SERVER_ENV=(RUST_LOG=warn)
# shellcheck source=lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server.sh"

output="$(realpath -m "${1:-$root/docs/live-events.png}")"
browser="${CHROMIUM:-}"
if [[ -z "$browser" ]]; then
    for candidate in chromium chromium-browser google-chrome; do
        command -v "$candidate" >/dev/null && { browser="$(command -v "$candidate")"; break; }
    done
fi
[[ -n "$browser" ]] || die "no Chromium found (Debian: apt-get install chromium; or set CHROMIUM)"

# playwright-core drives the browser (no browser download: it uses the one above).
driver="$root/scripts/.playwright"
if [[ ! -d "$driver/node_modules/playwright-core" ]]; then
    command -v npm >/dev/null || die "npm is missing to install playwright-core"
    log "installing playwright-core into scripts/.playwright"
    npm install --prefix "$driver" --no-audit --no-fund --loglevel=error playwright-core@1 >&2
fi

server_start
token="$(register live-events@finai.test 'Live!events1')"
wallet="$(curl -fsS -X POST "$base_url/api/v1/wallets" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"Cash","type":"cash","currency":"USD"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["id"])')"
category="$(curl -fsS "$base_url/api/v1/categories?per_page=200" -H "authorization: Bearer $token" |
    python3 -c 'import json, sys
print(next(c["id"] for c in json.load(sys.stdin)["data"] if c["name"] == "Cafe"))')"

mkdir -p "$(dirname "$output")"
PLAYWRIGHT_DIR="$driver" node "$root/scripts/live_events.mjs" \
    "$base_url" "$token" "$wallet" "$category" "$output" "$root/scripts/live-events.html" "$browser" >&2 ||
    { show_log; die "the page did not show the event"; }
log "screenshot: $output ($(wc -c <"$output") bytes)"
