"""Schemathesis hooks for scripts/schemathesis.sh: real ids in generated requests.

Random UUIDs only ever reach the "not found" branch of an operation. These hooks keep a pool of
ids the caller really owns, per resource, and put one into a generated request in place of a
well-formed UUID most of the time, so that creates, updates and sub-actions get past the
ownership check and into their validation and SQL.

The pools start from a few resources created here at import time (FINAI_ST_BASE_URL and
FINAI_ST_TOKEN name the server and the caller) and grow with every id a 201 answer returns.
Malformed values (not UUIDs) are left alone: they are the negative cases schemathesis means to
send. The checks are untouched; only the inputs get more realistic.
"""

import json
import os
import random
import re
import urllib.request
import uuid

import schemathesis
from hypothesis.internal import lambda_sources

# Hypothesis describes each filter lambda by parsing its source file with `ast`, only to print
# it; on this machine's CPython 3.11.7 that parse can fail with "SystemError: AST constructor
# recursion depth mismatch" (a CPython bug), which schemathesis reports as a runtime error of
# the operation being generated (it hit the audit log's `action` enum). A description that
# cannot be made is replaced by a plain one; what is generated and checked stays the same.
_describe_lambda = lambda_sources.lambda_description


def _lambda_description_or_plain(f):
    try:
        return _describe_lambda(f)
    except SystemError:
        return "lambda"


lambda_sources.lambda_description = _lambda_description_or_plain

BASE = os.environ.get("FINAI_ST_BASE_URL", "").rstrip("/")
TOKEN = os.environ.get("FINAI_ST_TOKEN", "")
# How often a well-formed UUID is replaced by a real one.
REAL_ID_RATE = float(os.environ.get("FINAI_ST_REAL_ID_RATE", "0.75"))

# Path segment under /api/v1 -> the pool its `{id}` comes from.
RESOURCE_OF_SEGMENT = {
    "wallets": "wallets",
    "categories": "categories",
    "transactions": "transactions",
    "expenses": "transactions",
    "budgets": "budgets",
    "bills": "bills",
    "recurring": "recurring",
    "notifications": "notifications",
    "users": "users",
}
# Field or parameter name -> pool.
RESOURCE_OF_FIELD = {
    "wallet_id": "wallets",
    "to_wallet_id": "wallets",
    "category_id": "categories",
    "category_ids": "categories",
    "parent_id": "categories",
    "reassign_to": "categories",
}

pools: dict[str, list[str]] = {name: [] for name in set(RESOURCE_OF_SEGMENT.values())}
# "category_id/description_id": a description's id means something only with its category's.
pools["descriptions"] = []
# ST_SEED replays schemathesis; the same seed replays these choices (with one worker).
rng = random.Random(os.environ.get("FINAI_ST_SEED") or None)


def api(method, path, body=None):
    request = urllib.request.Request(
        f"{BASE}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def seed():
    """What the caller's requests can refer to: for an admin, the accounts; for a user, a small
    ledger of two wallets, the default categories and one of each other resource."""
    if api("GET", "/users/me")["role"] == "admin":
        pools["users"] += [user["id"] for user in api("GET", "/users?per_page=100")]
        return
    cash = api("POST", "/wallets", {"name": "Cash", "type": "cash", "currency": "VND"})["id"]
    bank = api("POST", "/wallets", {"name": "Bank", "type": "bank", "currency": "VND"})["id"]
    pools["wallets"] += [cash, bank]
    categories = api("GET", "/categories?per_page=100")
    pools["categories"] += [c["id"] for c in categories]
    expense = next(c["id"] for c in categories if c["kind"] == "expense")
    description = api("POST", f"/categories/{expense}/descriptions", {"text": "Lunch"})["id"]
    pools["descriptions"].append(f"{expense}/{description}")
    pools["transactions"].append(
        api(
            "POST",
            "/transactions",
            {"type": "expense", "amount": 120000, "date": "2026-11-02", "category_id": expense, "wallet_id": cash},
        )["id"]
    )
    pools["budgets"].append(
        api(
            "POST",
            "/budgets",
            {"name": "Food", "amount": 3000000, "period": "monthly", "start_date": "2026-11-01", "category_ids": [expense]},
        )["id"]
    )
    pools["bills"].append(
        api(
            "POST",
            "/bills",
            {"name": "Rent", "amount": 5000000, "frequency": "monthly", "next_due_date": "2026-12-05", "category_id": expense, "wallet_id": bank},
        )["id"]
    )
    pools["recurring"].append(
        api(
            "POST",
            "/recurring",
            {"type": "expense", "amount": 250000, "frequency": "monthly", "next_date": "2026-12-01", "category_id": expense, "wallet_id": cash},
        )["id"]
    )


if BASE and TOKEN:
    seed()


def is_uuid(value):
    try:
        uuid.UUID(str(value))
        return isinstance(value, str)
    except ValueError:
        return False


def real(pool, value):
    """A real id from `pool` in place of a well-formed `value`, most of the time."""
    if not is_uuid(value):
        return value
    ids = pools.get(pool)
    if ids and rng.random() < REAL_ID_RATE:
        return rng.choice(ids)
    return value


def resource_of_path(path):
    match = re.match(r"^/api/v1/([a-z-]+)/\{id\}", path)
    return RESOURCE_OF_SEGMENT.get(match.group(1)) if match else None


@schemathesis.hook
def before_call(ctx, case, kwargs):
    path_pool = resource_of_path(case.operation.path)
    params = case.path_parameters
    if params and "desc_id" in params:
        if is_uuid(params["desc_id"]):
            pair = real("descriptions", params["desc_id"])
            if pair != params["desc_id"]:
                params["id"], params["desc_id"] = pair.split("/")
    elif params and path_pool and "id" in params:
        params["id"] = real(path_pool, params["id"])
    if isinstance(case.query, dict):
        for name, value in list(case.query.items()):
            if name in RESOURCE_OF_FIELD:
                case.query[name] = real(RESOURCE_OF_FIELD[name], value)
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            pool = RESOURCE_OF_FIELD.get(name)
            if pool is None:
                continue
            if isinstance(value, list):
                case.body[name] = [real(pool, item) for item in value]
            else:
                case.body[name] = real(pool, value)
        splits = case.body.get("splits")
        if isinstance(splits, list):
            for split in splits:
                if isinstance(split, dict) and "category_id" in split:
                    split["category_id"] = real("categories", split["category_id"])


@schemathesis.hook
def after_call(ctx, case, response):
    """Every id a create answers with joins its pool; a deleted one leaves it."""
    path = case.operation.path
    if case.method.upper() == "DELETE" and response.status_code == 200:
        params = case.path_parameters or {}
        if "desc_id" in params:
            gone, pool = f"{params['id']}/{params['desc_id']}", "descriptions"
        else:
            gone, pool = params.get("id"), resource_of_path(path)
        if pool and gone in pools.get(pool, []):
            pools[pool].remove(gone)
        return
    if response.status_code != 201:
        return
    match = re.match(r"^/api/v1/([a-z-]+)$", path)
    pool = RESOURCE_OF_SEGMENT.get(match.group(1)) if match else None
    try:
        new_id = response.json()["data"]["id"]
    except (ValueError, KeyError, TypeError):
        return
    if not is_uuid(new_id):
        return
    if path == "/api/v1/categories/{id}/descriptions":
        pools["descriptions"].append(f"{case.path_parameters['id']}/{new_id}")
    elif pool is not None:
        pools[pool].append(new_id)
