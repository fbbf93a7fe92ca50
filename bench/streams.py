#!/usr/bin/env python3
"""The client side of bench/streams.sh (issue 19's event streams under load).

    streams.py login   BASE PREFIX COUNT PASSWORD OUT     tokens of {PREFIX}1..{PREFIX}COUNT, one a line
    streams.py hold    WS TOKENS COUNT STATUS             open COUNT idle sockets (one per token line)
                                                          and keep them until SIGTERM/SIGINT
    streams.py latency BASE WS TOKEN WALLET CATEGORY RATE SECONDS OUT
                                                          write expenses at RATE/s, time 201 -> frame
    streams.py table   RESULTS_DIR                        the markdown table of a run

`hold` is meant to be cheap: no per-socket task, no client pings (the server pings every
FINAI_STREAM_HEARTBEAT_SECS and the library answers), one status line (JSON) rewritten to STATUS
every few seconds: sockets open, closed by the server (by close code), failed to open.

`latency` holds its own socket and writes open-loop (a request is sent at its scheduled time
whether or not the earlier ones have been answered). For each 201 it notes when the answer
arrived (after reading its body) and when the `transaction_update` frame whose `data.id` is the
answer's `data.id` arrived; latency = frame - answer, both taken with `time.perf_counter` in
the one event loop. A frame can come before the answer (the server commits, PostgreSQL
announces, the stream reads the log while the handler still evaluates budgets): that latency is
negative and counted as such. So that a negative number still says something, the time from
sending the POST to the frame (the write and its delivery together) is reported too.
"""

import asyncio
import json
import math
import os
import signal
import sys
import time
from datetime import date

import aiohttp
from websockets.asyncio.client import connect
from websockets.protocol import State

WS_OPTIONS = dict(
    compression=None,  # the server does not offer permessage-deflate
    ping_interval=None,  # the server pings; the library answers without our help
    ping_timeout=None,
    close_timeout=5,
    open_timeout=60,
    max_queue=4,
    proxy=None,  # never through an HTTP(S)_PROXY of the environment: this is loopback
)


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values):
    values = sorted(values)
    if not values:
        return {}
    return {
        "n": len(values),
        "min": values[0],
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1],
        "mean": sum(values) / len(values),
    }


# ---------------------------------------------------------------------------------------- login


async def login(base, prefix, count, password, out, concurrency=8):
    tokens = [None] * count
    failures = {}
    queue = asyncio.Queue()
    for n in range(1, count + 1):
        queue.put_nowait(n)

    async def worker(session):
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body = {"email": f"{prefix}{n}@example.com", "password": password}
            for attempt in range(5):
                try:
                    async with session.post(f"{base}/auth/login", json=body) as r:
                        payload = await r.json(content_type=None)
                        if r.status == 200:
                            tokens[n - 1] = payload["data"]["access_token"]
                            break
                        failures[r.status] = failures.get(r.status, 0) + 1
                except aiohttp.ClientError as e:
                    failures[type(e).__name__] = failures.get(type(e).__name__, 0) + 1
                await asyncio.sleep(0.2 * (attempt + 1))

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    missing = sum(1 for t in tokens if t is None)
    if missing:
        print(f"login: {missing} of {count} {prefix} users got no token ({failures})", file=sys.stderr)
        sys.exit(1)
    with open(out, "w") as f:
        f.write("\n".join(tokens) + "\n")
    print(f"login: {count} {prefix} users in {time.perf_counter() - started:.1f} s", file=sys.stderr)


# ----------------------------------------------------------------------------------------- hold


async def hold(ws_url, tokens_file, count, status_file, concurrency=64):
    with open(tokens_file) as f:
        tokens = [line.strip() for line in f if line.strip()][:count]
    if len(tokens) < count:
        sys.exit(f"hold: {tokens_file} has {len(tokens)} tokens, {count} wanted")
    sockets = []
    failed = {}
    queue = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)

    async def opener():
        while True:
            try:
                token = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                ws = await connect(
                    ws_url, additional_headers={"Authorization": f"Bearer {token}"}, **WS_OPTIONS
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if first.get("type") != "connected":
                    raise RuntimeError(f"first frame {first.get('type')}")
                sockets.append(ws)
            except Exception as e:  # noqa: BLE001 - counted and reported, not hidden
                key = f"{type(e).__name__}: {str(e)[:80]}"
                failed[key] = failed.get(key, 0) + 1

    def status(phase):
        closed = {}
        open_now = 0
        for ws in sockets:
            if ws.state is State.OPEN:
                open_now += 1
            else:
                code = ws.close_code if ws.close_code is not None else "none"
                closed[str(code)] = closed.get(str(code), 0) + 1
        record = {
            "phase": phase,
            "wanted": count,
            "opened": len(sockets),
            "open": open_now,
            "closed_by_server": closed,
            "failed": failed,
            "open_seconds": round(opened_in, 2),
            "pid": os.getpid(),
            "time": time.time(),
        }
        tmp = status_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.replace(tmp, status_file)

    opened_in = 0.0
    started = time.perf_counter()
    await asyncio.gather(*(opener() for _ in range(concurrency)))
    opened_in = time.perf_counter() - started
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    status("open")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except asyncio.TimeoutError:
            status("open")
    status("closing")
    # Close in batches so 10,000 closing handshakes do not all wait on one another.
    for i in range(0, len(sockets), 500):
        await asyncio.gather(*(ws.close() for ws in sockets[i : i + 500]), return_exceptions=True)
    status("closed")


# -------------------------------------------------------------------------------------- latency


async def latency(base, ws_url, token, wallet, category, rate, seconds, out):
    headers = {"Authorization": f"Bearer {token}"}
    answered = {}  # transaction id -> perf_counter when its 201 arrived
    requested = {}  # transaction id -> perf_counter when its POST was sent
    framed = {}  # transaction id -> perf_counter when its transaction_update frame arrived
    http_ms = []
    sent_at = []  # (offset from start s, http ms, id) per successful write
    errors = {}
    frames = {"total": 0}
    closed = {}

    ws = await connect(ws_url, additional_headers=headers, **WS_OPTIONS)
    first = json.loads(await ws.recv())
    assert first["type"] == "connected", first

    async def reader():
        try:
            async for message in ws:
                now = time.perf_counter()
                frame = json.loads(message)
                frames["total"] += 1
                kind = frame.get("type")
                frames[kind] = frames.get(kind, 0) + 1
                if kind == "transaction_update":
                    tid = (frame.get("data") or {}).get("id")
                    if tid and tid not in framed:
                        framed[tid] = now
        except Exception as e:  # noqa: BLE001
            closed["error"] = f"{type(e).__name__}: {e}"
        closed["code"] = ws.close_code
        closed["reason"] = ws.close_reason

    reading = asyncio.create_task(reader())
    body = {
        "type": "expense",
        "amount": 12.34,
        "date": date.today().isoformat(),
        "description": "Coffee",
        "merchant": "Bean There",
        "category_id": category,
        "wallet_id": wallet,
    }
    connector = aiohttp.TCPConnector(limit=32)
    pending = set()
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def write(scheduled):
            t0 = time.perf_counter()
            try:
                async with session.post(f"{base}/transactions", json=body) as r:
                    payload = await r.json(content_type=None)
                    now = time.perf_counter()
                    if r.status != 201:
                        errors[str(r.status)] = errors.get(str(r.status), 0) + 1
                        return
                    tid = payload["data"]["id"]
                    answered[tid] = now
                    requested[tid] = t0
                    http_ms.append((now - t0) * 1000)
                    sent_at.append((scheduled, (now - t0) * 1000, tid))
            except Exception as e:  # noqa: BLE001
                key = type(e).__name__
                errors[key] = errors.get(key, 0) + 1

        # A second of warm-up (connections, prepared statements), not measured.
        for _ in range(int(rate)):
            await write(0.0)
        answered.clear()
        requested.clear()
        http_ms.clear()
        sent_at.clear()
        await asyncio.sleep(1)

        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            scheduled = i / rate
            delay = start + scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(write(scheduled))
            pending.add(task)
            task.add_done_callback(pending.discard)
        elapsed = time.perf_counter() - start
        if pending:
            await asyncio.wait(pending, timeout=30)
        # Frames still on their way.
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(t not in framed for t in answered):
            await asyncio.sleep(0.05)
    await ws.close()
    reading.cancel()

    lat = []
    end_to_end = []
    timeline = []
    missing = 0
    for scheduled, h, tid in sent_at:
        if tid in framed:
            ms = (framed[tid] - answered[tid]) * 1000
            lat.append(ms)
            end_to_end.append((framed[tid] - requested[tid]) * 1000)
            timeline.append((round(scheduled, 3), round(h, 3), round(ms, 3)))
        else:
            missing += 1
            timeline.append((round(scheduled, 3), round(h, 3), None))
    result = {
        "rate": rate,
        "seconds": seconds,
        "scheduled": total,
        "send_seconds": round(elapsed, 2),
        "ok": len(sent_at),
        "errors": errors,
        "matched": len(lat),
        "missing_frames": missing,
        "frame_before_answer": sum(1 for v in lat if v < 0),
        "frame_after_10ms": sum(1 for v in lat if v > 10),
        "latency_ms": summary(lat),
        "http_ms": summary(http_ms),
        "send_to_frame_ms": summary(end_to_end),
        "frames": frames,
        "socket_closed": closed if closed.get("code") not in (None, 1000) else {},
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    with open(out + ".timeline", "w") as f:
        f.write("# scheduled_s http_ms frame_after_answer_ms\n")
        for row in timeline:
            f.write(" ".join("-" if v is None else str(v) for v in row) + "\n")
    lm = result["latency_ms"]
    print(
        f"latency: {len(lat)} matched of {len(sent_at)} writes, p50 {lm.get('p50', 0):.2f} ms "
        f"p99 {lm.get('p99', 0):.2f} ms max {lm.get('max', 0):.2f} ms, errors {errors}, "
        f"missing {missing}",
        file=sys.stderr,
    )


# ---------------------------------------------------------------------------------------- table


def table(results_dir):
    def load(name):
        path = os.path.join(results_dir, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    meta = load("meta.json") or {}
    rows = []

    def fmt(v, digits=1):
        return "–" if v is None else f"{v:,.{digits}f}"

    print()
    print(
        f"Server: `{meta.get('bin', '?')}`, {meta.get('cores', '?')} cores, "
        f"FINAI_WORKERS={meta.get('workers', 'default')}, heartbeat "
        f"{meta.get('heartbeat', 30)} s; client and server on the same machine."
    )
    loads = []
    for name in ("loadavg.start", "loadavg.end"):
        path = os.path.join(results_dir, name)
        if os.path.exists(path):
            with open(path) as f:
                loads.append(f.read().strip())
    if len(loads) == 2:
        print(f"Load average (1, 5, 15 min) when measuring began: {loads[0]}; at the end: {loads[1]}.")
    print()
    print("**Delivery latency** (201 answer at the client → its `transaction_update` frame on the "
          f"writer's own socket; one writer at {meta.get('rate', '?')} expenses/s, open loop, "
          f"{meta.get('latency_seconds', '?')} s after 1 s of warm-up):\n")
    print("| idle sockets (distinct users) | writes | errors | missing frames | frame before 201 "
          "| over 10 ms | p50 | p95 | p99 | max | POST sent → frame p50 / p99 / max | POST p50 / p99 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in sorted(os.listdir(results_dir)):
        if not (name.startswith("latency_") and name.endswith(".json")):
            continue
        r = load(name)
        idle = int(name[len("latency_"):-len(".json")])
        lm, hm, em = r["latency_ms"], r["http_ms"], r.get("send_to_frame_ms", {})
        errors = sum(r["errors"].values())
        print(
            f"| {idle:,} | {r['ok']:,} | {errors} | {r['missing_frames']} | "
            f"{r['frame_before_answer']:,} | {r.get('frame_after_10ms', '–')} | "
            f"{fmt(lm.get('p50'), 2)} ms | {fmt(lm.get('p95'), 2)} ms | "
            f"{fmt(lm.get('p99'), 2)} ms | {fmt(lm.get('max'), 2)} ms | "
            f"{fmt(em.get('p50'), 1)} / {fmt(em.get('p99'), 1)} / {fmt(em.get('max'), 1)} ms | "
            f"{fmt(hm.get('p50'), 1)} / {fmt(hm.get('p99'), 1)} ms |"
        )
        rows.append(("latency", idle, lm.get("p99")))

    rounds = []
    if os.path.exists(os.path.join(results_dir, "rounds.jsonl")):
        with open(os.path.join(results_dir, "rounds.jsonl")) as f:
            rounds = [json.loads(line) for line in f if line.strip()]
    if rounds:
        n = meta.get("sockets", "?")
        print(f"\n**{n:,} idle sockets** (one socket per user, {n:,} distinct users): server memory and "
              f"`wrk -t2 -c{meta.get('wrk_conns', 16)} -d{meta.get('wrk_seconds', 10)}s` on "
              f"`GET /transactions?per_page=50` of a user with {meta.get('mid', '?'):,} "
              "transactions, rounds interleaved (0 sockets, then the sockets open):\n")
        print("| round | open | VmRSS before | VmRSS open | KiB / socket | VmRSS closed | "
              "VmHWM | list req/s, 0 sockets | list req/s, sockets open | change | "
              "p99 0 / open | wrk errors | holder CPU during wrk |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| ---: | ---: |")
        for r in rounds:
            change = (r["rate_open"] / r["rate_idle"] - 1) * 100 if r["rate_idle"] else None
            print(
                f"| {r['round']} | {r['open']:,} | {r['rss_before'] / 1024:.1f} MiB | "
                f"{r['rss_open'] / 1024:.1f} MiB | {r['kib_per_socket']:.1f} | "
                f"{r['rss_closed'] / 1024:.1f} MiB | {r['hwm'] / 1024:.1f} MiB | "
                f"{r['rate_idle']:,.0f} | {r['rate_open']:,.0f} | {change:+.1f} % | "
                f"{r['p99_idle']} / {r['p99_open']} | {r['errors_idle']} / {r['errors_open']} | "
                f"{r['holder_cpu']:.2f} s |"
            )
        idle_total = sum(r["rate_idle"] for r in rounds)
        open_total = sum(r["rate_open"] for r in rounds)
        drop = (1 - open_total / idle_total) * 100 if idle_total else None
        kib = [r["kib_per_socket"] for r in rounds]
        print()
        print("| target (issue 19) | result |")
        print("| --- | --- |")
        lat = [r for r in rows if r[0] == "latency"]
        if lat:
            worst = max(lat, key=lambda r: r[1])
            p99 = worst[2]
            verdict = "met" if p99 is not None and p99 <= 50 else "**missed**"
            e2e = (load(f"latency_{worst[1]}.json").get("send_to_frame_ms") or {}).get("p99")
            print(f"| delivery p99 ≤ 50 ms with {worst[1]:,} idle sockets | {verdict}: "
                  f"201 → frame p99 {fmt(p99, 2)} ms (POST sent → frame p99 {fmt(e2e, 1)} ms) |")
        verdict = "met" if kib[0] <= 30 else "**missed**"
        again = f" ({', '.join(f'{k:.1f}' for k in kib[1:])} when reopened)" if kib[1:] else ""
        print(f"| ≤ 30 KiB per idle socket | {verdict}: {kib[0]:.1f} KiB on first opening{again} |")
        verdict = "met" if drop is not None and drop <= 10 else "**missed**"
        print(f"| list throughput drop ≤ 10 % with {n:,} sockets open | {verdict}: "
              f"{'a drop of ' if drop >= 0 else 'a gain of '}{abs(drop):.1f} % over "
              f"{len(rounds)} round(s), mean {idle_total / len(rounds):,.0f} → "
              f"{open_total / len(rounds):,.0f} req/s |")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    command, args = argv[1], argv[2:]
    if command == "login":
        base, prefix, count, password, out = args
        asyncio.run(login(base, prefix, int(count), password, out))
    elif command == "hold":
        ws_url, tokens, count, status = args
        asyncio.run(hold(ws_url, tokens, int(count), status))
    elif command == "latency":
        base, ws_url, token, wallet, category, rate, seconds, out = args
        asyncio.run(latency(base, ws_url, token, wallet, category, float(rate), float(seconds), out))
    elif command == "table":
        table(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
