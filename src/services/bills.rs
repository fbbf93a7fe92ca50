//! Bills: the rules of a bill's category and wallet, and paying one, which records its expense
//! through the ledger's write path.

use chrono::{Days, NaiveDate};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use serde_json::json;

use super::alerts::NewSpending;
use super::events::{self, Kind};
use super::ledger::{self, CategorySource, Entry};
use crate::db::bills::{self, Bill};
use crate::db::wallets;
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::domain::period::next_occurrence;
use crate::domain::transaction::Draft;
use crate::error::ApiError;

/// How a payment was made.
pub struct PayOptions {
    /// The due date being paid; the bill's next due date when `None`.
    pub due_date: Option<NaiveDate>,
    pub paid_on: NaiveDate,
    pub amount: Option<Decimal>,
    pub wallet_id: Option<Uuid>,
    /// The member paying; `None` when autopay does.
    pub paid_by: Option<Uuid>,
}

/// The bill's category must be one of the owner's expense categories and its wallet one of
/// the owner's open wallets (an archived one only if the bill is already on it: `kept`), in
/// `currency` when one is named: the ledger's rules for the expenses the bill will record.
/// Returns the wallet's currency.
pub fn check(
    conn: &mut PgConnection,
    owner: Uuid,
    category_id: Uuid,
    wallet_id: Uuid,
    currency: Option<&str>,
    kept: &[Uuid],
) -> Result<String, ApiError> {
    let payment = Draft {
        transaction_type: TransactionType::Expense,
        // Any amount: the bill's own is validated with its fields.
        amount: Decimal::ONE,
        category_id: Some(category_id),
        wallet_id,
        to_wallet_id: None,
        splits: Vec::new(),
    };
    ledger::check_draft(conn, owner, &payment, currency, kept)
}

/// Dates far in the past would make the background job catch up on years of occurrences.
pub fn not_long_ago(today: NaiveDate, date: NaiveDate, field: &str) -> Result<(), ApiError> {
    if today
        .checked_sub_days(Days::new(366))
        .is_some_and(|limit| date < limit)
    {
        return Err(ApiError::invalid_field(
            field,
            "must be within the last year or later",
        ));
    }
    Ok(())
}

/// Most due dates paid ahead that a payment steps over to the next open one.
const MAX_PAID_AHEAD: usize = 1_000;

/// Pays the bill's current due date: records the payment, records the expense through the
/// ledger (in the bill's wallet unless another is named; a bill already on an archived wallet
/// keeps paying from it), and moves a recurring bill to its next due date (a one-off bill
/// becomes paid). The caller runs it in a database transaction with the bill locked, and
/// evaluates the returned spending's budgets after commit. Paying the same due date twice is
/// 409.
pub fn pay(
    conn: &mut PgConnection,
    bill: &Bill,
    options: &PayOptions,
) -> Result<(Bill, Uuid, NewSpending), ApiError> {
    if let Some(wallet_id) = options.wallet_id {
        let wallet = wallets::find(conn, bill.ledger_id, wallet_id)?
            .ok_or_else(|| ApiError::not_found("Wallet"))?;
        if wallet.currency != bill.currency {
            return Err(ApiError::invalid_field(
                "wallet_id",
                "must hold the bill's currency",
            ));
        }
    }
    if bill.cancelled_at.is_some() {
        return Err(ApiError::Conflict {
            code: "bill_cancelled",
            message: "This bill is cancelled.".into(),
        });
    }
    let already = || ApiError::Conflict {
        code: "bill_already_paid",
        message: "This due date of the bill is already paid.".into(),
    };
    if bill.paid_at.is_some() {
        return Err(already());
    }
    if let Some(due) = options.due_date.filter(|due| *due != bill.next_due_date) {
        return Err(if bills::is_paid(conn, bill.ledger_id, bill.id, due)? {
            already()
        } else {
            ApiError::invalid_field(
                "due_date",
                format!(
                    "only the next due date ({}) can be paid",
                    bill.next_due_date
                ),
            )
        });
    }
    let amount = options.amount.unwrap_or(bill.amount);
    let payment_id =
        bills::insert_payment(conn, bill, options.paid_on, amount)?.ok_or_else(already)?;
    let entry = Entry {
        draft: Draft {
            transaction_type: TransactionType::Expense,
            amount,
            category_id: Some(bill.category_id),
            wallet_id: options.wallet_id.unwrap_or(bill.wallet_id),
            to_wallet_id: None,
            splits: Vec::new(),
        },
        currency: Some(bill.currency.clone()),
        date: options.paid_on,
        description: bill.name.clone(),
        merchant: None,
        notes: Some(format!("Bill due {}", bill.next_due_date)),
        tags: vec!["bill".into()],
        import: ledger::Provenance::default(),
        category_source: CategorySource::User,
        category_confidence: None,
        tax: ledger::Tax::default(),
    };
    // A bill already on an archived wallet keeps paying from it; naming a wallet is new money.
    let kept: &[Uuid] = if options.wallet_id.is_some() {
        &[]
    } else {
        std::slice::from_ref(&bill.wallet_id)
    };
    let checked = ledger::check_one(conn, bill.ledger_id, entry, kept)?;
    let transaction_id = ledger::record(
        conn,
        ledger::Author {
            ledger: bill.ledger_id,
            user: options.paid_by,
        },
        &checked,
    )?
    .id;
    bills::link_payment(conn, bill.ledger_id, payment_id, transaction_id)?;
    // The next due date not paid yet: an earlier due date paid again (its first payment's
    // expense was deleted, which reopened it) moves past the ones paid since.
    let anchor = bill.due_day as u32;
    let mut next = next_occurrence(bill.frequency(), bill.next_due_date, anchor);
    for _ in 0..MAX_PAID_AHEAD {
        match next {
            Some(due) if bills::is_paid(conn, bill.ledger_id, bill.id, due)? => {
                next = next_occurrence(bill.frequency(), due, anchor);
            }
            _ => break,
        }
    }
    let updated = bills::advance(conn, bill.ledger_id, bill.id, next)?;
    events::append(
        conn,
        bill.ledger_id,
        Kind::BillPaid,
        Some(bill.id),
        json!({"bill_id": bill.id, "due_date": bill.next_due_date, "paid_on": options.paid_on,
               "amount": Money(amount), "currency": bill.currency,
               "transaction_id": transaction_id, "next_due_date": next}),
    )?;
    Ok((updated, transaction_id, checked.spending()))
}
