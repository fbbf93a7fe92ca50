"""Receipt reading measured through the API (see receipts-eval.sh): the corpus of
scripts/receipt_corpus.py is uploaded to a running server one receipt at a time, and what
`GET /receipts/{id}` parses is compared with the truth it was made from. Prints, for the clean
and the degraded half, the share of receipts whose total, date and merchant were read right,
the line items' F1, and the reading time (upload to parsed); with --gate, fails below the
targets.

Right means: the total and the date equal; the merchant equal once case, diacritics and spacing
are set aside; an item found when its amount equals a true item's and its description shares
at least half of that item's words (diacritics set aside).
"""

import json
import os
import sys
import tempfile
import time
import unicodedata
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import receipt_corpus  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import finai_api  # noqa: E402

TARGETS = {  # field: (clean, degraded)
    "total": (0.95, 0.85), "date": (0.90, 0.80), "merchant": (0.85, 0.70), "items_f1": (0.80, 0.60),
}


def call(method, path, token=None, body=None, raw=None):
    return finai_api.data("receipts-eval", method, path, token, body, raw)


def fold(text):
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(text.lower().split())


def words(text):
    return {w for w in "".join(c if c.isalnum() else " " for c in fold(text)).split() if len(w) > 1}


def item_counts(found, truth):
    """(matched, found, true) for one receipt."""
    left = list(truth)
    matched = 0
    for item in found:
        for t in left:
            same_amount = Decimal(str(item["amount"])) == Decimal(t["amount"])
            want = words(t["description"])
            shared = len(want & words(item["description"])) >= max(1, len(want) / 2)
            if same_amount and shared:
                left.remove(t)
                matched += 1
                break
    return matched, len(found), len(truth)


def main():
    gate = "--gate" in sys.argv
    session = call("POST", "/auth/register", body={
        "email": f"receipts-{int(time.time())}@example.com", "password": "Receipts!pass1", "name": "Eval"})
    token = session["access_token"]
    with tempfile.TemporaryDirectory() as directory:
        truth = receipt_corpus.make(directory)
        results = {False: [], True: []}
        for case in truth:
            raw = (Path(directory) / case["file"]).read_bytes()
            started = time.monotonic()
            receipt = call("POST", f"/receipts?file_name={case['file']}", token, raw=raw)
            while receipt["status"] == "processing":
                time.sleep(0.02)
                receipt = call("GET", f"/receipts/{receipt['id']}", token)
            seconds = time.monotonic() - started
            parsed = receipt.get("parsed") or {}
            value = lambda name: (parsed.get(name) or {}).get("value")  # noqa: E731
            total = value("total")
            row = {
                "file": case["file"],
                "seconds": seconds,
                "status": receipt["status"],
                "total": total is not None and Decimal(str(total)) == Decimal(case["total"]),
                "date": value("date") == case["date"],
                "merchant": value("merchant") is not None and fold(value("merchant")) == fold(case["merchant"]),
                "items": item_counts(parsed.get("items") or [], case["items"]),
            }
            results[case["degraded"]].append(row)
            if os.environ.get("VERBOSE"):
                print(json.dumps({**row, "read": {k: value(k) for k in ("merchant", "date", "total")}}), file=sys.stderr)
    print("| half | receipts | total | date | merchant | items F1 | reading time, median / max |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    failed = []
    for degraded, rows in results.items():
        half = "degraded" if degraded else "clean"
        share = {f: sum(r[f] for r in rows) / len(rows) for f in ("total", "date", "merchant")}
        matched = sum(r["items"][0] for r in rows)
        found = sum(r["items"][1] for r in rows)
        true = sum(r["items"][2] for r in rows)
        precision, recall = matched / max(found, 1), matched / max(true, 1)
        share["items_f1"] = 2 * precision * recall / max(precision + recall, 1e-9)
        times = sorted(r["seconds"] for r in rows)
        print(f"| {half} | {len(rows)} | {share['total']:.0%} | {share['date']:.0%} | {share['merchant']:.0%} "
              f"| {share['items_f1']:.2f} | {times[len(times) // 2]:.2f} s / {times[-1]:.2f} s |")
        for field, targets in TARGETS.items():
            if share[field] < targets[degraded]:
                failed.append(f"{half} {field} {share[field]:.2f} < {targets[degraded]}")
    if failed and gate:
        sys.exit("receipts-eval: below target: " + "; ".join(failed))


if __name__ == "__main__":
    main()
