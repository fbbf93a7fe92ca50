//! Background work, run every `FINAI_JOBS_INTERVAL_SECS` by the server (and directly by tests):
//! materialising recurring transactions, paying autopay bills, bill reminders, retraining stale
//! forecasts, and deleting rows past their keeping time.
//!
//! Safe with several server instances: work is taken with `FOR UPDATE SKIP LOCKED` in user
//! order, and each recurring occurrence is claimed in `recurring_occurrences` (one row per
//! template and date) before its transaction is created, so it happens exactly once. Each item
//! runs in its own savepoint: one that fails is logged and skipped, never stopping the others.
//! "Today" is each owner's, in their time zone (computed here, in one place).

pub mod files;

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::db::bills::{self, Bill};
use crate::db::ledgers;
use crate::db::notifications;
use crate::db::recurring::{self, Recurring};
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::domain::period::{next_occurrence, Frequency};
use crate::domain::transaction::Draft;
use crate::error::ApiError;
use crate::services::alerts::{self, BudgetsToCheck, NewSpending};
use crate::services::bills::PayOptions;
use crate::services::caller::{stored, timezone_of};
use crate::services::ledger::{self, CategorySource, Entry};

/// Mails the notifications members asked for by email (a step of its own: it needs the
/// mailer, and tests drive it apart from the rest). Returns the mails sent.
pub fn send_notification_mails(
    conn: &mut PgConnection,
    mailer: &dyn crate::auth::mailer::Mailer,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    crate::services::notification_mail::send_waiting(conn, mailer, now)
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    pub materialized: usize,
    pub autopaid: usize,
    pub reminders: usize,
    /// Users whose stale forecast models were retrained.
    pub retrained: usize,
    /// Rows past their keeping time that were deleted (idempotent answers, ended sessions,
    /// dead mailed tokens, idle login failures, emptied rollup rows).
    pub purged: usize,
    /// Savings goals whose reaching or falling behind was announced.
    pub goals: usize,
    pub failed: usize,
}

const BATCH: i64 = 100;
/// Most occurrences one template or autopay bill catches up on in one run (the rest follow
/// next run).
const MAX_CATCH_UP: usize = 366;

/// Runs every step; a step that fails is logged and the others still run.
pub fn run_once(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<JobReport, ApiError> {
    let mut report = JobReport::default();
    let mut days = Today::new(now);
    match materialize_recurring(conn, &mut days) {
        Ok((made, failed)) => {
            report.materialized = made;
            report.failed += failed;
        }
        Err(error) => log::error!("recurring transactions: {error}"),
    }
    match pay_autopay_bills(conn, &mut days) {
        Ok((paid, failed)) => {
            report.autopaid = paid;
            report.failed += failed;
        }
        Err(error) => log::error!("autopay bills: {error}"),
    }
    match remind_bills(conn, &mut days) {
        Ok(sent) => report.reminders = sent,
        Err(error) => log::error!("bill reminders: {error}"),
    }
    match retrain_stale_forecasts(conn, &mut days) {
        Ok((retrained, failed)) => {
            report.retrained = retrained;
            report.failed += failed;
        }
        Err(error) => log::error!("forecast retraining: {error}"),
    }
    match check_goals(conn, &mut days) {
        Ok(announced) => report.goals = announced,
        Err(error) => log::error!("savings goals: {error}"),
    }
    match purge_expired(conn) {
        Ok(purged) => report.purged = purged,
        Err(error) => log::error!("purging expired rows: {error}"),
    }
    Ok(report)
}

/// Announces savings goals that were reached (a wallet goal, by the wallet's balance) or fell
/// behind (time passing with too little saved) since they were last looked at.
fn check_goals(conn: &mut PgConnection, days: &mut Today) -> Result<usize, ApiError> {
    use crate::db::goals as store;
    let mut announced = 0;
    let mut after = None;
    loop {
        let batch = store::open_batch(conn, after, BATCH)?;
        let Some(last) = batch.last() else {
            break;
        };
        after = Some(last.id);
        for goal in &batch {
            let today = days.of(conn, goal.ledger_id)?;
            let progress = crate::services::goals::progress_on(conn, goal, today)?;
            if crate::services::goals::announce(conn, today, goal, &progress)? {
                announced += 1;
            }
        }
    }
    Ok(announced)
}

/// How long the event log keeps an event: a reader further behind syncs afresh (`GET /sync`).
pub const EVENT_LOG_DAYS: i64 = 30;

/// Deletes what is kept only for a while, so these tables stay the size of their live rows.
fn purge_expired(conn: &mut PgConnection) -> Result<usize, ApiError> {
    use crate::db::{idempotency, login_throttle, refresh_tokens, rollups, user_tokens};
    Ok(idempotency::purge_expired(conn)?
        + refresh_tokens::purge_ended(conn)?
        + user_tokens::purge_dead(conn)?
        + login_throttle::purge_idle(conn)?
        + rollups::purge_empty(conn)?
        + crate::db::events::prune(conn, Utc::now() - chrono::Duration::days(EVENT_LOG_DAYS))?
        + crate::db::events::prune_tickets(conn)?
        + crate::db::events::prune_listeners(conn)?
        + crate::db::rate_limits::prune(conn)?
        + crate::db::two_factor::purge_challenges(conn)?)
}

/// Users retrained per run, and how long a model stays before new data may retrain it: the
/// background work stays bounded however often users write.
const RETRAIN_BATCH: i64 = 5;
const RETRAIN_MIN_AGE_MINUTES: i64 = 60;

/// Retrains the forecast models (and the category suggester) of users whose data changed since
/// their forecasts were trained (and those are at least an hour old), a few users per run.
fn retrain_stale_forecasts(
    conn: &mut PgConnection,
    days: &mut Today,
) -> Result<(usize, usize), ApiError> {
    let before = days.now - chrono::Duration::minutes(RETRAIN_MIN_AGE_MINUTES);
    let users = crate::db::ml::ledgers_needing_forecasts(conn, before, RETRAIN_BATCH)?;
    let (mut done, mut failed) = (0, 0);
    for ledger_id in users {
        let today = days.of(conn, ledger_id)?;
        let trained = crate::services::predictions::train_forecasts(conn, ledger_id, today)
            .and_then(|_| crate::services::predictions::refresh_categorizer(conn, ledger_id));
        match trained {
            Ok(_) => done += 1,
            Err(error) => {
                failed += 1;
                log::error!("retraining forecasts of user {ledger_id}: {error}");
            }
        }
    }
    Ok((done, failed))
}

/// Each user's today, looked up once per run.
struct Today {
    now: DateTime<Utc>,
    cache: HashMap<Uuid, NaiveDate>,
}

impl Today {
    fn new(now: DateTime<Utc>) -> Self {
        Today {
            now,
            cache: HashMap::new(),
        }
    }

    /// A date no user's today is later than.
    fn latest(&self) -> NaiveDate {
        let utc = self.now.date_naive();
        utc.checked_add_days(Days::new(1)).unwrap_or(utc)
    }

    fn of(&mut self, conn: &mut PgConnection, ledger_id: Uuid) -> Result<NaiveDate, ApiError> {
        if let Some(day) = self.cache.get(&ledger_id) {
            return Ok(*day);
        }
        let timezone = ledgers::timezone(conn, ledger_id)?
            .ok_or_else(|| ApiError::internal(format!("no owner of ledger {ledger_id}")))?;
        let zone = timezone_of(&timezone)?;
        let day = self.now.with_timezone(&zone).date_naive();
        self.cache.insert(ledger_id, day);
        Ok(day)
    }
}

/// Creates each due occurrence of one template; returns how many.
fn materialize_one(
    conn: &mut PgConnection,
    template: &Recurring,
    today: NaiveDate,
) -> Result<usize, ApiError> {
    let frequency = stored("frequency", &template.frequency, Frequency::parse)?;
    let transaction_type = stored(
        "transaction type",
        &template.transaction_type,
        TransactionType::parse,
    )?;
    // A template already on an archived wallet keeps recording into it, as a bill does.
    let kept: Vec<Uuid> = std::iter::once(template.wallet_id)
        .chain(template.to_wallet_id)
        .collect();
    let mut next = template.next_date;
    let mut active = true;
    let mut made = 0;
    let mut spending = NewSpending::default();
    for _ in 0..MAX_CATCH_UP {
        if next > today || template.end_date.is_some_and(|end| next > end) {
            break;
        }
        if recurring::claim_occurrence(conn, template.ledger_id, template.id, next)? {
            let entry = Entry {
                draft: Draft {
                    transaction_type,
                    amount: template.amount,
                    category_id: template.category_id,
                    wallet_id: template.wallet_id,
                    to_wallet_id: template.to_wallet_id,
                    splits: Vec::new(),
                },
                currency: Some(template.currency.clone()),
                date: next,
                description: template.description.clone(),
                merchant: template.merchant.clone(),
                notes: template.notes.clone(),
                tags: template.tags.iter().flatten().cloned().collect(),
                import: ledger::Provenance::default(),
                category_source: CategorySource::User,
                category_confidence: None,
                tax: ledger::Tax::default(),
            };
            let checked = ledger::check_one(conn, template.ledger_id, entry, &kept)?;
            let id = ledger::record(conn, ledger::Author::system(template.ledger_id), &checked)?.id;
            spending.merge(&checked.spending());
            recurring::link_occurrence(conn, template.ledger_id, template.id, next, id)?;
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
    recurring::advance(conn, template.ledger_id, template.id, next, active)?;
    alerts::check_budgets(
        conn,
        template.ledger_id,
        today,
        BudgetsToCheck::MovedBy(&spending),
    )?;
    Ok(made)
}

/// Creates every due occurrence of every active template, once. Returns (made, failed).
fn materialize_recurring(
    conn: &mut PgConnection,
    days: &mut Today,
) -> Result<(usize, usize), ApiError> {
    let (mut made, mut failed) = (0, 0);
    let mut seen: Vec<Uuid> = Vec::new();
    loop {
        let batch = conn.transaction::<_, ApiError, _>(|conn| {
            let candidates = recurring::candidates_for_update(conn, days.latest(), &seen, BATCH)?;
            for template in &candidates {
                seen.push(template.id);
                let today = days.of(conn, template.ledger_id)?;
                if template.next_date > today {
                    continue;
                }
                // Holding this batch's rows, the job never waits for a user's write lock (the
                // user's request may be waiting for one of these rows): a busy user's template
                // waits for the next run.
                if !crate::db::try_lock_ledger(conn, template.ledger_id)? {
                    continue;
                }
                match conn
                    .transaction::<_, ApiError, _>(|conn| materialize_one(conn, template, today))
                {
                    Ok(n) => made += n,
                    Err(error) => {
                        failed += 1;
                        log::error!("recurring transaction {} failed: {error}", template.id);
                    }
                }
            }
            Ok(candidates.len())
        })?;
        if batch == 0 {
            return Ok((made, failed));
        }
    }
}

/// Pays open autopay bills that are due, every due date up to the user's today. Returns (paid
/// due dates, failed bills).
fn pay_autopay_bills(
    conn: &mut PgConnection,
    days: &mut Today,
) -> Result<(usize, usize), ApiError> {
    let (mut paid, mut failed) = (0, 0);
    let mut seen: Vec<Uuid> = Vec::new();
    loop {
        let batch = conn.transaction::<_, ApiError, _>(|conn| {
            let candidates: Vec<Bill> =
                bills::autopay_candidates_for_update(conn, days.latest(), &seen, BATCH)?;
            for bill in &candidates {
                seen.push(bill.id);
                let today = days.of(conn, bill.ledger_id)?;
                if bill.next_due_date > today {
                    continue;
                }
                // As for recurring transactions: never wait for a user while holding rows.
                if !crate::db::try_lock_ledger(conn, bill.ledger_id)? {
                    continue;
                }
                // Every due date up to today, so that a bill behind its schedule is current
                // (and never reported overdue) after one run.
                let result = conn.transaction::<_, ApiError, _>(|conn| {
                    let mut current = bill.clone();
                    let mut spending = NewSpending::default();
                    let mut times = 0;
                    while current.paid_at.is_none()
                        && current.next_due_date <= today
                        && times < MAX_CATCH_UP
                    {
                        let options = PayOptions {
                            due_date: Some(current.next_due_date),
                            paid_on: current.next_due_date,
                            amount: None,
                            wallet_id: None,
                            paid_by: None,
                        };
                        let (paid, _, moved) =
                            crate::services::bills::pay(conn, &current, &options)?;
                        spending.merge(&moved);
                        current = paid;
                        times += 1;
                    }
                    let which = BudgetsToCheck::MovedBy(&spending);
                    alerts::check_budgets(conn, bill.ledger_id, today, which)?;
                    Ok(times)
                });
                match result {
                    Ok(times) => paid += times,
                    Err(error) => {
                        failed += 1;
                        log::error!("autopay of bill {} failed: {error}", bill.id);
                    }
                }
            }
            Ok(candidates.len())
        })?;
        if batch == 0 {
            return Ok((paid, failed));
        }
    }
}

/// A `bill_due` notification when a bill enters its reminder window, `bill_overdue` once it
/// is past due: once per bill and due date. An autopay bill is never reported overdue: the
/// autopay step pays it (in the next run, if a busy account made it wait).
fn remind_bills(conn: &mut PgConnection, days: &mut Today) -> Result<usize, ApiError> {
    let mut created = 0;
    for bill in bills::reminder_candidates(conn, days.latest())? {
        let today = days.of(conn, bill.ledger_id)?;
        let window_start = bill
            .next_due_date
            .checked_sub_days(Days::new(bill.reminder_days_before.max(0) as u64))
            .unwrap_or(bill.next_due_date);
        if window_start > today {
            continue;
        }
        let overdue = bill.next_due_date < today;
        if overdue && bill.autopay {
            continue;
        }
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
            bill.ledger_id,
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
