"""Drives a FinAI server through a client generated from its OpenAPI spec by openapi-python-client.

Run by scripts/check-generated-client.sh with the generated package `finai_client` on the path
and FINAI_BASE_URL set. What an integrator does first: register, log in, create a wallet, pick
a category, record an expense, list it back, and read a documented error. Every response is
parsed into the generated models (raise_on_unexpected_status: an undocumented status fails).
"""

import datetime
import importlib
import os
import pkgutil
import sys
import uuid

import finai_client
from finai_client import AuthenticatedClient, Client
from finai_client.api.auth import login, register
from finai_client.api.categories import list_categories
from finai_client.api.transactions import create_transaction, get_transaction, list_transactions
from finai_client.api.wallets import create_wallet, get_wallet
from finai_client.models import (
    CategoryKind,
    CreateTransactionRequest,
    CreateWalletRequest,
    ErrorBody,
    LoginRequest,
    RegisterRequest,
    TransactionType,
    WalletType,
)

BASE_URL = os.environ["FINAI_BASE_URL"]


def check(condition, what):
    if not condition:
        sys.exit(f"generated client: FAILED: {what}")
    print(f"generated client: ok: {what}")


def import_everything():
    """Every generated module imports (one broken operation would otherwise hide)."""
    names = [m.name for m in pkgutil.walk_packages(finai_client.__path__, "finai_client.")]
    for name in names:
        importlib.import_module(name)
    operations = [n for n in names if n.startswith("finai_client.api.") and n.count(".") == 3]
    check(len(operations) >= 80, f"all {len(names)} generated modules import ({len(operations)} operations)")


def main():
    import_everything()
    email = f"client-{uuid.uuid4().hex[:8]}@finai.test"
    password = "Client!pass1"
    anonymous = Client(base_url=BASE_URL, raise_on_unexpected_status=True)

    registered = register.sync_detailed(
        client=anonymous, body=RegisterRequest(email=email, password=password, name="Generated Client")
    )
    check(registered.status_code == 201, "register answers 201")

    session = login.sync(client=anonymous, body=LoginRequest(email=email, password=password))
    check(session is not None and session.data.token_type == "Bearer", "login returns a bearer token")
    client = AuthenticatedClient(
        base_url=BASE_URL, token=session.data.access_token, raise_on_unexpected_status=True
    )

    wallet = create_wallet.sync(
        client=client,
        body=CreateWalletRequest(name="Everyday", type_=WalletType.CASH, currency="VND", opening_balance=1_000_000),
    ).data
    check(wallet.name == "Everyday", "create a wallet")

    categories = list_categories.sync(client=client, kind=CategoryKind.EXPENSE).data
    check(len(categories) > 0, f"list the default expense categories ({len(categories)})")
    groceries = next((c for c in categories if c.name == "Groceries"), categories[0])

    created = create_transaction.sync_detailed(
        client=client,
        body=CreateTransactionRequest(
            type_=TransactionType.EXPENSE,
            amount=125_000.5,
            wallet_id=wallet.id,
            category_id=groceries.id,
            date=datetime.date(2026, 11, 2),
            description="Weekly groceries",
        ),
    )
    check(created.status_code == 201, "create an expense")
    expense = created.parsed.data
    check(expense.category_name == groceries.name, "the expense carries its category's name")

    listed = list_transactions.sync(client=client, wallet_id=wallet.id)
    check(
        [t.id for t in listed.data] == [expense.id] and listed.meta.total_items == 1,
        "list the wallet's transactions",
    )
    balance = get_wallet.sync(client=client, id=wallet.id).data.balance
    check(balance == 874_999.5, f"the wallet's balance follows (874999.5 == {balance})")

    missing = get_transaction.sync(client=client, id=uuid.uuid4())
    check(isinstance(missing, ErrorBody) and missing.code == "not_found", "an unknown id is a 404 error envelope")


if __name__ == "__main__":
    main()
