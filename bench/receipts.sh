#!/usr/bin/env bash
# Receipts: how long one receipt takes to read, and what reading ten at once does to other
# requests. A release server with its own PostgreSQL; one user with 2,000 expenses. wrk reads
# the 50 newest (`GET /transactions`) for BENCH_DURATION seconds (default 10) with nothing else
# running, then again while ten receipts of the corpus (scripts/receipt_corpus.py: the
# supermarket ones, 20+ lines each, clean and degraded) are read with FINAI_OCR_WORKERS
# (default 1) readers, then idle again. Prints each phase's req/s and p50/p99, and the
# receipts' reading time. Needs Pillow and fpdf2 (pip) and wrk.
#
#   BENCH_BIN=target/release/finai bench/receipts.sh
set -euo pipefail
name=receipts
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${BENCH_PORT:-18950}"
DURATION="${BENCH_DURATION:-10}"
WORKERS="${FINAI_OCR_WORKERS:-1}"
BASE="http://127.0.0.1:$PORT/api/v1"
start_server "$PORT" FINAI_OCR_WORKERS="$WORKERS"

say "one user with 2,000 expenses"
python3 - "$BASE" "$WORK" <<'PY'
import json, sys, urllib.request
base, work = sys.argv[1], sys.argv[2]
def call(method, path, token=None, body=None):
    r = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    r.add_header("Content-Type", "application/json")
    if token: r.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(r) as resp: return json.loads(resp.read())["data"]
token = call("POST", "/auth/register", body={"email": "bench-receipts@example.com", "password": "Bench!pass12", "name": "Bench"})["access_token"]
wallet = call("POST", "/wallets", token, {"name": "Card", "type": "bank", "currency": "USD"})["id"]
food = [c for c in call("GET", "/categories?per_page=100", token) if c["kind"] == "expense"][0]["id"]
rows = "\n".join(f"2026-{1 + i % 12:02d}-{1 + i % 28:02d},expense,{5 + i % 90}.50,USD,Lunch {i},Cafe,,,Food & Dining,Card" for i in range(2000))
req = urllib.request.Request(base + f"/imports?wallet_id={wallet}&auto_approve=true&format=csv", method="POST",
    data=("date,type,amount,currency,description,merchant,notes,tags,category,wallet\n" + rows).encode())
req.add_header("Authorization", f"Bearer {token}")
urllib.request.urlopen(req).read()
open(f"{work}/token", "w").write(token)
PY
TOKEN="$(cat "$WORK/token")"

run_wrk() { # out
  wrk -t 2 -c 16 -d "${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" \
    "$BASE/transactions?per_page=50" >"$1" 2>&1
}
summary() { # label wrk-output
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$2")
  p50=$(awk '$1 == "50%" {print $2}' "$2")
  p99=$(awk '$1 == "99%" {print $2}' "$2")
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99"
}

say "idle: GET /transactions for ${DURATION}s"
run_wrk "$WORK/idle.txt"

say "while ten receipts are read"
python3 - "$BASE" "$TOKEN" "$WORK" "$ROOT" "$DURATION" <<'PY' &
import json, sys, time, urllib.request
from pathlib import Path
base, token, work, root, duration = sys.argv[1:6]
sys.path.insert(0, f"{root}/scripts")
import receipt_corpus
truth = receipt_corpus.make(f"{work}/corpus")
files = [t["file"] for t in truth if t["kind"] == "supermarket"][:5] + [t["file"] for t in truth if t["kind"] == "supermarket"][-5:]
def call(method, path, raw=None):
    r = urllib.request.Request(base + path, method=method, data=raw)
    r.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(r) as resp: return json.loads(resp.read())["data"]
started = time.monotonic()
ids = [call("POST", "/receipts", (Path(work) / "corpus" / f).read_bytes())["id"] for f in files]
Path(f"{work}/uploaded").write_text("1")
# One light request a quarter second (not one per receipt), so the poll adds little load.
while True:
    request = urllib.request.Request(base + "/receipts?status=processing&per_page=1")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as resp:
        if json.loads(resp.read())["meta"]["total_items"] == 0:
            break
    time.sleep(0.25)
took = time.monotonic() - started
statuses = sorted({call("GET", f"/receipts/{i}")["status"] for i in ids})
Path(f"{work}/receipts.txt").write_text(f"ten receipts read in {took:.1f} s ({took / len(ids):.2f} s each), statuses {statuses}\n")
PY
READER=$!
while [ ! -e "$WORK/uploaded" ]; do sleep 0.05; done
run_wrk "$WORK/busy.txt"
wait "$READER"

say "idle again: GET /transactions for ${DURATION}s"
run_wrk "$WORK/after.txt"

echo
echo "| GET /transactions (50 newest), wrk -t2 -c16 -d${DURATION}s | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
summary "idle" "$WORK/idle.txt"
summary "while 10 receipts are read ($WORKERS reader)" "$WORK/busy.txt"
summary "idle again, after" "$WORK/after.txt"
cat "$WORK/receipts.txt"
