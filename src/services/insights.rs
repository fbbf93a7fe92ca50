//! Insights several resources read: the payments that recur (for `GET /insights` and the
//! assistant's "what are my subscriptions?").

use std::sync::{Arc, LazyLock, Mutex};

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

/// The recurring payees of a ledger as read at a data version.
struct KeptRecurring {
    version: i64,
    payees: Arc<Vec<RecurringPayee>>,
}

/// Reading 400 days of payees is the costly part (1.6 s for a ledger with 1,000,000
/// transactions): read in full once a day (and in a currency), then kept up to date by reading
/// again only the payees of the transactions added since; an edit or a deletion reads all
/// again.
static RECURRING: LazyLock<LedgerCache<Mutex<KeptRecurring>>> = LazyLock::new(LedgerCache::default);

/// The payees of the last 400 days that recur, soonest expected first.
pub fn recurring_payments(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    today: NaiveDate,
) -> Result<Arc<Vec<RecurringPayee>>, ApiError> {
    let version = db::ml::data_version(conn, ledger_id)?;
    let since = today.checked_sub_days(Days::new(400)).unwrap_or(today);
    let kept = RECURRING.get_or_read(ledger_id, format!("{currency}:{today}"), || {
        Ok(Mutex::new(KeptRecurring {
            version,
            payees: Arc::new(read_recurring(
                conn, ledger_id, currency, since, today, None,
            )?),
        }))
    })?;
    let mut kept = kept
        .lock()
        .map_err(|_| ApiError::internal("recurring payees poisoned"))?;
    if kept.version < version {
        let payees = match db::ml::payees_added_since(
            conn,
            ledger_id,
            currency,
            since,
            today,
            kept.version,
        )? {
            Some(added) if added.is_empty() => kept.payees.as_ref().clone(),
            Some(added) => {
                let fresh = read_recurring(conn, ledger_id, currency, since, today, Some(&added))?;
                let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
                let mut payees: Vec<RecurringPayee> = kept
                    .payees
                    .iter()
                    .filter(|p| {
                        !added.iter().any(|a| same(a, &p.payee))
                            && !fresh.iter().any(|f| same(&f.payee, &p.payee))
                    })
                    .cloned()
                    .collect();
                payees.extend(fresh);
                sort_by_next(&mut payees);
                payees
            }
            None => read_recurring(conn, ledger_id, currency, since, today, None)?,
        };
        *kept = KeptRecurring {
            version,
            payees: Arc::new(payees),
        };
    }
    Ok(kept.payees.clone())
}

fn sort_by_next(payees: &mut [RecurringPayee]) {
    payees.sort_by(|a, b| {
        a.recurrence
            .next_expected
            .cmp(&b.recurrence.next_expected)
            .then(a.payee.cmp(&b.payee))
    });
}

fn read_recurring(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    since: NaiveDate,
    today: NaiveDate,
    only: Option<&[String]>,
) -> Result<Vec<RecurringPayee>, ApiError> {
    let mut found = Vec::new();
    for payee in db::ml::payee_histories(conn, ledger_id, currency, since, today, only)? {
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
    sort_by_next(&mut found);
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
