#!/usr/bin/env bash
# Assistant benchmark (issue 22): one user with BENCH_TRANSACTIONS transactions (default
# 1,000,000, made by `finai seed-bench`) on a release server with its own PostgreSQL. Asks
# BENCH_ROUNDS rounds of 20 questions (every intent, English and Vietnamese) one at a time and
# then the budget, afford and subscription questions each right after a write (BENCH_ROUNDS/2
# rounds), and runs BENCH_ROUNDS 12-month simulations; prints p50/p99 of the wall time per intent (the
# client's, over loopback) and of the simulations.
#
#   bash bench/assistant.sh                           # seeding 1,000,000 rows takes a few minutes
#   BENCH_TRANSACTIONS=100000 BENCH_ROUNDS=20 bash bench/assistant.sh
#
# Settings: BENCH_BIN (else the release binary is built), BENCH_TRANSACTIONS [1000000],
# BENCH_ROUNDS [50], BENCH_PORT [18084], BENCH_KEEP=1 keeps the temporary directory.
set -euo pipefail

name=assistant.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TRANSACTIONS="${BENCH_TRANSACTIONS:-1000000}"
ROUNDS="${BENCH_ROUNDS:-50}"
PORT="${BENCH_PORT:-18084}"
BASE="http://127.0.0.1:$PORT/api/v1"

say "seeding one user with $TRANSACTIONS transactions"
start=$(date +%s)
"$BIN" seed-bench --users 1 --transactions-per-user "$TRANSACTIONS" --prefix asker \
  --password 'Bench!pass1' >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log" >&2; die "seeding failed"; }
say "seeded in $(( $(date +%s) - start )) s"

start_server "$PORT"

python3 - "$BASE" "$ROUNDS" <<'PY'
import json, sys, time, urllib.request

base, rounds = sys.argv[1], int(sys.argv[2])

def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        data = json.load(response)
    return data, (time.perf_counter() - started) * 1000

token = call("POST", "/auth/login", {"email": "asker1@example.com", "password": "Bench!pass1"})[0]["data"]["access_token"]
call("POST", "/goals", {"name": "Vacation", "target_amount": 5000, "target_date": "2030-01-01"}, token)
questions = [
    "How much did I spend on groceries last month?",
    "tháng này tôi tiêu bao nhiêu cho cafe",
    "how much did I spend at FreshMart since March?",
    "Am I on track with my groceries budget?",
    "how much is left in my budgets?",
    "Which budget am I closest to exceeding?",
    "top 5 expenses this month",
    "compare this month with last month",
    "thu nhập tháng trước của tôi là bao nhiêu",
    "what's my savings rate this year?",
    "what's my balance?",
    "how much will I spend next month?",
    "what bills are due soon?",
    "any unusual spending in the last 30 days?",
    "what are my subscriptions?",
    "how is my vacation goal going?",
    "can I afford 2,000 by December?",
    "thang nay toi tieu bao nhieu",
    "how much on yachts?",
    "what's the weather tomorrow?",
]
# Warm-up: trains the forecast and loads the classifier once.
for q in questions:
    call("POST", "/assistant/ask", {"question": q}, token)
times, intents = {}, {}
for _ in range(rounds):
    for q in questions:
        data, ms = call("POST", "/assistant/ask", {"question": q}, token)
        intent = data["data"]["intent"]
        times.setdefault(intent, []).append(ms)
        times.setdefault("all", []).append(ms)
# The same questions right after a write (nothing kept from before it can be used): the
# ledger's data version moves, so budgets' spending, merchants and forecasts are read afresh.
wallet = call("GET", "/wallets", None, token)[0]["data"][0]["id"]
category = next(c["id"] for c in call("GET", "/categories?limit=100", None, token)[0]["data"]
                if c["kind"] == "expense")
after_write = ["how much is left in my budgets?", "Which budget am I closest to exceeding?",
               "can I afford 2,000 by December?", "what are my subscriptions?"]
for _ in range(max(1, rounds // 2)):
    for q in after_write:
        call("POST", "/transactions", {"type": "expense", "amount": 1, "wallet_id": wallet,
                                       "category_id": category, "date": time.strftime("%Y-%m-%d"),
                                       "description": "bench"}, token)
        data, ms = call("POST", "/assistant/ask", {"question": q}, token)
        times.setdefault(f"{data['data']['intent']}, after a write", []).append(ms)
simulation = {"months": 12, "changes": [
    {"kind": "income", "amount": 500, "every": "month"},
    {"kind": "expense", "amount": 2000, "date": time.strftime("%Y-12-31")}]}
call("POST", "/scenarios/simulate", simulation, token)
for _ in range(rounds):
    times.setdefault("simulate, 12 months", []).append(call("POST", "/scenarios/simulate", simulation, token)[1])

def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]

print()
print(f"| {rounds} rounds | requests | p50 ms | p99 ms | max ms |")
print("| --- | ---: | ---: | ---: | ---: |")
for key in sorted(times, key=lambda k: (k in ("all", "simulate, 12 months"), "after" in k, k)):
    v = times[key]
    print(f"| {key} | {len(v)} | {pct(v, 0.5):.1f} | {pct(v, 0.99):.1f} | {max(v):.1f} |")
PY
