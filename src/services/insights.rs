//! Insights several resources read: the payments that recur (for `GET /insights` and the
//! assistant's "what are my subscriptions?").

use std::sync::{Arc, LazyLock};

use chrono::{Days, NaiveDate};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::cache::LedgerCache;
use crate::db;
use crate::error::ApiError;
use crate::ml::insights::{self, Cadence, Payment, Recurrence};

/// A payee paid at a regular interval with similar amounts.
#[derive(Debug, Clone)]
pub struct RecurringPayee {
    pub payee: String,
    pub category_id: Option<Uuid>,
    pub recurrence: Recurrence,
    pub payments: Vec<Payment>,
}

/// Reading 400 days of payees is the costly part (1.6 s for a ledger with 1,000,000
/// transactions): kept until a write moves the ledger's data version.
static RECURRING: LazyLock<LedgerCache<Vec<RecurringPayee>>> = LazyLock::new(LedgerCache::default);

/// The payees of the last 400 days that recur, soonest expected first.
pub fn recurring_payments(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    today: NaiveDate,
) -> Result<Arc<Vec<RecurringPayee>>, ApiError> {
    let version = db::ml::data_version(conn, ledger_id)?;
    RECURRING.get_or_read(ledger_id, format!("{version}:{currency}:{today}"), || {
        read_recurring(conn, ledger_id, currency, today)
    })
}

fn read_recurring(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    today: NaiveDate,
) -> Result<Vec<RecurringPayee>, ApiError> {
    let since = today.checked_sub_days(Days::new(400)).unwrap_or(today);
    let mut found = Vec::new();
    for payee in db::ml::payee_histories(conn, ledger_id, currency, since, today)? {
        let payments: Vec<Payment> = payee
            .dates
            .iter()
            .zip(&payee.amounts)
            .map(|(date, amount)| Payment {
                date: *date,
                amount: *amount,
            })
            .collect();
        if let Some(recurrence) = insights::recurrence(&payments) {
            found.push(RecurringPayee {
                payee: payee.payee,
                category_id: payee.category_id,
                recurrence,
                payments,
            });
        }
    }
    found.sort_by(|a, b| {
        a.recurrence
            .next_expected
            .cmp(&b.recurrence.next_expected)
            .then(a.payee.cmp(&b.payee))
    });
    Ok(found)
}

/// A recurring amount per month (a weekly 10 is about 43.45 a month).
pub fn monthly_equivalent(cadence: Cadence, amount: Decimal) -> Decimal {
    let per_year = match cadence {
        Cadence::Weekly => 52,
        Cadence::Biweekly => 26,
        Cadence::Monthly => 12,
        Cadence::Quarterly => 4,
        Cadence::Yearly => 1,
    };
    (amount * Decimal::from(per_year) / Decimal::from(12)).round_dp(2)
}
