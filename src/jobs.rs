//! Background work, run every `FINAI_JOBS_INTERVAL_SECS` by the server (and directly by tests):
//! materialising recurring transactions, paying autopay bills, and bill reminders.
//!
//! Safe with several server instances: work is taken with `FOR UPDATE SKIP LOCKED`, and each
//! recurring occurrence is claimed in `recurring_occurrences` (one row per template and date)
//! before its transaction is created, so it happens exactly once.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;

use crate::db::bills::{self, PayOptions};
use crate::db::transactions::{self, NewTransaction};
use crate::db::{notifications, recurring, users};
use crate::domain::money::Money;
use crate::domain::period::{next_occurrence, Frequency};
use crate::error::ApiError;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    pub materialized: usize,
    pub autopaid: usize,
    pub reminders: usize,
}

const BATCH: i64 = 100;
/// Upper bound on batches per run, so one run always ends.
const MAX_BATCHES: usize = 1000;

pub fn run_once(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<JobReport, ApiError> {
    Ok(JobReport {
        materialized: materialize_recurring(conn, now)?,
        autopaid: pay_autopay_bills(conn, now)?,
        reminders: remind_bills(conn, now)?,
    })
}

fn today_of(
    conn: &mut PgConnection,
    user_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<NaiveDate, ApiError> {
    let zone = users::find(conn, user_id)?
        .and_then(|u| u.timezone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::UTC);
    Ok(now.with_timezone(&zone).date_naive())
}

/// Creates every due occurrence of every active template, once.
pub fn materialize_recurring(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let mut created = 0;
    for _ in 0..MAX_BATCHES {
        let (batch, made) = conn.transaction::<_, ApiError, _>(|conn| {
            let due = recurring::due_for_update(conn, now, BATCH)?;
            let mut made = 0;
            for template in &due {
                let today = today_of(conn, template.user_id, now)?;
                let frequency = Frequency::parse(&template.frequency).unwrap_or(Frequency::Monthly);
                let mut next = template.next_date;
                let mut active = true;
                while next <= today && template.end_date.is_none_or(|end| next <= end) {
                    if recurring::claim_occurrence(conn, template.id, next)? {
                        let id = transactions::insert(
                            conn,
                            &NewTransaction {
                                user_id: template.user_id,
                                transaction_type: template.transaction_type.clone(),
                                amount: template.amount,
                                currency: template.currency.clone(),
                                date: next,
                                description: template.description.clone(),
                                merchant: template.merchant.clone(),
                                notes: template.notes.clone(),
                                category_id: template.category_id,
                                wallet_id: template.wallet_id,
                                to_wallet_id: template.to_wallet_id,
                                tags: template.tags.clone(),
                                import_hash: None,
                            },
                            &[],
                        )?;
                        recurring::link_occurrence(conn, template.id, next, id)?;
                        made += 1;
                    }
                    match next_occurrence(frequency, next, template.anchor_day as u32) {
                        Some(following) => next = following,
                        None => {
                            active = false;
                            break;
                        }
                    }
                }
                if template.end_date.is_some_and(|end| next > end) {
                    active = false;
                }
                recurring::advance(conn, template.id, next, active)?;
                if made > 0 {
                    notifications::check_budgets(conn, template.user_id, today)?;
                }
            }
            Ok((due.len(), made))
        })?;
        created += made;
        if batch < BATCH as usize {
            break;
        }
    }
    Ok(created)
}

/// Pays open autopay bills that are due (each due date once).
pub fn pay_autopay_bills(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut paid = 0;
    for _ in 0..MAX_BATCHES {
        let batch = conn.transaction::<_, ApiError, _>(|conn| {
            let due = bills::due_autopay_for_update(conn, now, BATCH)?;
            for bill in &due {
                let options = PayOptions {
                    due_date: None,
                    paid_on: bill.next_due_date,
                    amount: None,
                    wallet_id: None,
                };
                bills::pay(conn, bill, &options)?;
            }
            Ok(due.len())
        })?;
        paid += batch;
        if batch == 0 {
            break;
        }
    }
    Ok(paid)
}

/// A `bill_due` notification when a bill enters its reminder window, `bill_overdue` once it
/// is past due: once per bill and due date.
pub fn remind_bills(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut created = 0;
    for (bill, today) in bills::to_remind(conn, now)? {
        let overdue = bill.next_due_date < today;
        let (kind, level, title) = if overdue {
            (
                "bill_overdue",
                "overdue",
                format!("{} is overdue", bill.name),
            )
        } else {
            (
                "bill_due",
                "due",
                format!("{} is due on {}", bill.name, bill.next_due_date),
            )
        };
        let body = format!(
            "{} {} due {}.",
            Money(bill.amount),
            bill.currency,
            bill.next_due_date
        );
        if notifications::insert_once(
            conn,
            bill.user_id,
            kind,
            &title,
            &body,
            json!({"bill_id": bill.id, "due_date": bill.next_due_date, "amount": Money(bill.amount)}),
            &format!("bill:{}:{}:{level}", bill.id, bill.next_due_date),
        )? {
            created += 1;
        }
    }
    Ok(created)
}
