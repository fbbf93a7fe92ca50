"""A steady write load for scripts/fault-test.sh: creates expenses until told to stop.

Usage: fault_load.py BASE_URL TOKEN WALLET_ID CATEGORY_ID STOP_FILE OUT_FILE [WORKERS]
Each worker POSTs /api/v1/transactions in a loop (timeout 15 s) until STOP_FILE exists. Every
answer is one JSON line in OUT_FILE: {start, end, status, code, id} with epoch-second floats,
`status` 0 when no HTTP answer came at all.
"""

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

base, token, wallet, category, stop_file, out_file = sys.argv[1:7]
workers = int(sys.argv[7]) if len(sys.argv) > 7 else 2
lock = threading.Lock()
out = open(out_file, "w", buffering=1)


def one(n):
    body = json.dumps(
        {"type": "expense", "amount": 12.5, "category_id": category, "wallet_id": wallet,
         "date": "2026-11-20", "description": f"fault load {n}"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/transactions", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    start = time.time()
    status, payload = 0, {}
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, payload = response.status, json.load(response)
    except urllib.error.HTTPError as error:
        status = error.code
        try:
            payload = json.load(error)
        except ValueError:
            payload = {}
    except (urllib.error.URLError, OSError, ValueError):
        pass
    record = {
        "start": start, "end": time.time(), "status": status, "code": payload.get("code"),
        "id": (payload.get("data") or {}).get("id") if status == 201 else None,
    }
    with lock:
        out.write(json.dumps(record) + "\n")


def worker(k):
    n = k
    while not os.path.exists(stop_file):
        one(n)
        n += workers
        time.sleep(0.02)


threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
