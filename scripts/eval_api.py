#!/usr/bin/env python3
"""Category suggestions and forecasts measured through the HTTP API, on the same chronological split as
`finai eval-ml`: a new user gets the set's categories (and none of the defaults), imports the
first 75 % of the rows through `POST /transactions/import`, trains (`POST /predictions/train`),
and asks `POST /predictions/categorize` (with the row's type, as a client creating it would)
for each of the rest. Prints top-1 and top-3 beside eval-ml's figures for the set (its
`--json` output, in the file named by --expect) and fails if they differ by more than two test
rows or a point: the API must serve what eval-ml measures.

Forecasts: another new user imports every row, and `POST /predictions/predict` is asked for
the month's total spending `as_of` the first day of each month eval-ml forecasts. Prints the
API's MAE and interval coverage beside eval-ml's and fails if the MAE differs by more than 5 %
or the coverage by more than one month in ten (the API starts a series at the first whole
month: a history whose first expense falls in its month's second half starts a month later).

Usage: FINAI_BASE_URL=http://127.0.0.1:PORT eval_api.py NAME CSV --expect EVAL_JSON
       [--date-col date] [--text-col description] [--category-col category]
       [--amount-col amount] [--type-col kind]
"""
import argparse
import csv
import io
import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import finai_api  # noqa: E402



def call(method, path, token=None, body=None, csv_text=None):
    raw = csv_text.encode() if csv_text is not None else None
    return finai_api.data("eval-api", method, path, token, body, raw, "text/csv")


def register():
    return call("POST", "/auth/register", body={
        "email": f"eval-{uuid.uuid4().hex[:12]}@example.com",
        "password": "Correct-horse9", "name": "Eval"})["access_token"]


def user_with(rows, args, kind):
    """A new user whose categories are those of `rows` (none of the defaults), holding `rows`:
    (token, category ids by name)."""
    token = register()
    for category in call("GET", "/categories?per_page=200", token):
        if category.get("parent_id"):
            call("DELETE", f"/categories/{category['id']}", token)
    for category in call("GET", "/categories?per_page=200", token):
        call("DELETE", f"/categories/{category['id']}", token)
    names = {}
    for r in rows:
        names.setdefault(r[args.category_col], kind(r))
    ids = {name: call("POST", "/categories", token, {"name": name, "kind": k})["id"]
           for name, k in names.items()}
    import_rows(token, rows, args, kind)
    return token, ids


def import_rows(token, rows, args, kind):
    wallet = call("POST", "/wallets", token, {"name": "Bank", "type": "bank", "currency": "USD"})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "type", "amount", "currency", "description", "category"])
    for r in rows:
        writer.writerow([r[args.date_col], kind(r), r[args.amount_col], "USD", r[args.text_col],
                         r[args.category_col]])
    imported = call("POST", f"/transactions/import?wallet_id={wallet['id']}", token,
                    csv_text=out.getvalue())
    if imported["created"] != len(rows):
        sys.exit(f"eval-api: {args.name}: imported {imported['created']} of {len(rows)} rows")


def forecasts(args, rows, kind, expected):
    """The monthly total's one-step forecasts through the API at eval-ml's months."""
    token, _ = user_with(rows, args, kind)
    first, count = expected["first_origin"], expected["origins"]
    year, month = (int(x) for x in first.split("-"))
    spent = {}
    for r in rows:
        if kind(r) == "expense":
            key = r[args.date_col][:7]
            spent[key] = spent.get(key, 0.0) + abs(float(r[args.amount_col]))
    errors, covered = [], 0
    for _ in range(count):
        key = f"{year:04d}-{month:02d}"
        point = call("POST", "/predictions/predict", token,
                     {"period": "month", "horizon": 1, "as_of": f"{key}-01"})[0]
        actual = spent.get(key, 0.0)
        errors.append(abs(actual - float(point["amount"])))
        covered += float(point["lower"]) <= actual <= float(point["upper"])
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    mae, coverage = sum(errors) / count, covered / count
    offline_mae, offline_coverage = expected["mae"]["finai"], expected["interval_coverage"]
    print(f"  {args.name}, the monthly total forecast through the API at {count} months: MAE "
          f"{mae:,.0f}, interval held {coverage:.1%} (eval-ml: {offline_mae:,.0f}, "
          f"{offline_coverage:.1%})")
    if abs(mae - offline_mae) > 0.05 * offline_mae or abs(coverage - offline_coverage) > 0.1:
        sys.exit(f"eval-api: {args.name}: the API's forecasts differ from eval-ml's")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("csv")
    parser.add_argument("--expect", required=True)
    parser.add_argument("--date-col", default="date")
    parser.add_argument("--text-col", default="description")
    parser.add_argument("--category-col", default="category")
    parser.add_argument("--amount-col", default="amount")
    parser.add_argument("--type-col", default="kind")
    args = parser.parse_args()

    with open(args.csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r[args.category_col] and r[args.text_col]]
    rows.sort(key=lambda r: r[args.date_col])  # ISO dates; stable, as eval-ml
    split = len(rows) * 3 // 4
    train, test = rows[:split], rows[split:]
    kind = lambda r: "income" if r[args.type_col] == "credit" else "expense"  # noqa: E731

    # The categories of the training rows, as eval-ml knows them (a test row of another
    # category counts as a miss in both).
    token, ids = user_with(train, args, kind)
    call("POST", "/predictions/train", token, {})

    top1 = top3 = 0
    for r in test:
        answer = call("POST", "/predictions/categorize", token, {
            "description": r[args.text_col], "amount": float(r[args.amount_col]),
            "type": kind(r)})
        ranked = [s["category_id"] for s in answer["suggestions"]]
        truth = ids.get(r[args.category_col])
        top1 += ranked[:1] == [truth]
        top3 += truth in ranked[:3]
    api = (top1 / len(test), top3 / len(test))
    with open(args.expect) as f:
        report = json.load(f)
    expected = report["categorization"]
    offline = (expected["top1_accuracy"], expected["top3_accuracy"])
    print(f"| {args.name} | {len(train)} / {len(test)} | {api[0]:.1%} | {api[1]:.1%} "
          f"| {offline[0]:.1%} | {offline[1]:.1%} |")
    # The API trains on the same rows in the same order, but not on exactly what eval-ml
    # builds (its models also learn the lexicon of default category names, and amounts come
    # back from the database): two test rows, or a point.
    tolerance = max(0.01, 2 / len(test)) + 1e-9
    if any(abs(a - o) > tolerance for a, o in zip(api, offline)):
        sys.exit(f"eval-api: {args.name}: the API's figures differ from eval-ml's")
    forecasts(args, rows, kind, report["forecast"])


if __name__ == "__main__":
    main()
