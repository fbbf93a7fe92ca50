#!/usr/bin/env python3
"""The third and fourth evaluation sets of `finai eval-ml`: real personal books shipped as test
or example data in Debian packages, converted to one CSV each (date, description, category,
amount, kind), expenses and income only.

- ms-money.qif, from `gnucash-common` 1:4.13-1 (GPL-2+; /usr/share/doc/gnucash-common/examples):
  a Microsoft Money 95 export of one US household's bank account, 1995-12 to 1997-12, payees
  partly disguised ("Boss1", "W Bank"), 347 entries with their user-assigned categories.
  Transfers between own accounts (`[Account]`) and card payments (`Credit Card`) are left out,
  as are entries without a category; amounts below zero are expenses.
- standard.dat, from the source of `ledger` 3.3.0 (BSD-3-Clause; test/input/standard.dat): a
  real ledger anonymised by ledger's own filter (every payee and account is a SHA-1 hash, the
  amounts are real), 1,347 transactions from 2002-01 to 2004-10 (the rows kept run from 2002-12
  to 2004-09). An account that only ever receives
  money (never pays into another) is an expense category; one that only ever gives is income;
  a transaction between an expense (or income) account and any other is one row, labelled
  with that account. Transfers between accounts of both kinds, and postings in a commodity
  other than dollars, are left out.

Usage: debian.py QIF_FILE LEDGER_FILE OUT_DIR
"""
import csv, datetime as dt, os, re, sys
from collections import defaultdict


def qif_rows(path):
    rows, entry = [], {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("!"):
                continue
            if line == "^":
                rows.append(entry)
                entry = {}
            else:
                entry[line[0]] = line[1:]
    out = []
    for e in rows:
        category = e.get("L", "").strip()
        if not category or category.startswith("[") or category == "Credit Card":
            continue
        month, day, year = (int(x) for x in e["D"].replace("'", "/").split("/"))
        year += 1900 if year < 100 else 0
        amount = float(e["T"].replace(",", ""))
        out.append({
            "date": dt.date(year, month, day).isoformat(),
            "description": e.get("P", "").strip(),
            "category": category,
            "amount": f"{abs(amount):.2f}",
            "kind": "debit" if amount < 0 else "credit",
        })
    return out


MONEY = re.compile(r"^\s+(\S+)\s{2,}(-?)\$(-?[\d,]+(?:\.\d+)?)\s*$")


def ledger_rows(path):
    transactions, current = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            head = re.match(r"^(\d{4})/(\d{2})/(\d{2})\s+(?:[*!]\s+)?(.*)$", line)
            if head:
                current = {"date": dt.date(*(int(x) for x in head.groups()[:3])),
                           "payee": head.group(4).strip(), "postings": [], "other": False}
                transactions.append(current)
                continue
            if current is None or not line.strip() or line.lstrip().startswith(";"):
                continue
            money = MONEY.match(line)
            parts = line.split()
            if money:
                sign = -1 if money.group(2) == "-" else 1
                current["postings"].append([money.group(1), sign * float(money.group(3).replace(",", ""))])
            elif len(parts) == 1:
                current["postings"].append([parts[0], None])
            else:
                current["other"] = True  # another commodity, a price or a cost
    kept = []
    for t in transactions:
        postings = t["postings"]
        if t["other"] or len(postings) != 2:
            continue
        known = [p for p in postings if p[1] is not None]
        if len(known) == 1:
            missing = next(p for p in postings if p[1] is None)
            missing[1] = -known[0][1]
        if any(p[1] is None for p in postings):
            continue
        kept.append(t)
    received, gave = defaultdict(int), defaultdict(int)
    for t in kept:
        for account, amount in t["postings"]:
            (received if amount > 0 else gave)[account] += 1
    out = []
    for t in kept:
        (a, x), (b, y) = t["postings"]
        for account, amount, other in ((a, x, b), (b, y, a)):
            expense = amount > 0 and gave[account] == 0 and gave[other] > 0
            income = amount < 0 and received[account] == 0 and received[other] > 0
            if expense or income:
                out.append({
                    "date": t["date"].isoformat(),
                    "description": t["payee"],
                    "category": account[:12],
                    "amount": f"{abs(amount):.2f}",
                    "kind": "debit" if expense else "credit",
                })
                break
    return out


def write(path, rows):
    rows = [r for r in rows if r["description"]]  # eval-ml and eval_api.py need a text
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["date", "description", "category", "amount", "kind"])
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["date"]))
    print(f"{len(rows)} rows, {len({r['category'] for r in rows})} categories -> {path}")


if __name__ == "__main__":
    qif, ledger, out_dir = sys.argv[1:4]
    os.makedirs(out_dir, exist_ok=True)
    write(os.path.join(out_dir, "gnucash-money95.csv"), qif_rows(qif))
    write(os.path.join(out_dir, "ledger-standard.csv"), ledger_rows(ledger))
