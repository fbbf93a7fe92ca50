//! What a ledger's history says (`GET /insights/spending`, `GET /insights/recommendations`),
//! and the payments that recur, which the assistant's "what are my subscriptions?" reads too.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::PgConnection;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::cache::LedgerCache;
use crate::auth::Caller;
use crate::db::{self, budgets, categories};
use crate::domain::currency::plain_amount;
use crate::domain::money::Money;
use crate::domain::period::{period_containing, previous_period, BudgetPeriod, Span};
use crate::dto::insights::*;
use crate::error::ApiError;
use crate::ml::insights::{self, Cadence, Payment, Recurrence};
use crate::services::predictions::{first_whole_period, Period};
use crate::services::reports::report_currency;

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

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn months_back(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months)).unwrap_or(date)
}

/// The day insights are computed for: `at` (never in the future: what is recorded after it
/// stays out of the answer), else the caller's today.
fn as_of(caller: &Caller, at: Option<NaiveDate>) -> Result<NaiveDate, ApiError> {
    let today = caller.today();
    match at {
        Some(at) if at > today => Err(ApiError::invalid_field("at", "must not be in the future")),
        Some(at) => Ok(at),
        None => Ok(today),
    }
}

/// Spending changes by category from the month before last to last month, recurring payments
/// detected over the last 400 days, the fixed and variable shares of spending, and
/// seasonality when a year of history exists (`GET /insights/spending`).
pub fn spending(
    conn: &mut PgConnection,
    caller: &Caller,
    requested: Option<&str>,
    at: Option<NaiveDate>,
) -> Result<SpendingInsights, ApiError> {
    let currency = report_currency(caller, requested)?;
    let today = as_of(caller, at)?;
    let this_month = month_start(today);
    let month = months_back(this_month, 1);
    let previous_month = months_back(this_month, 2);
    let sums = db::ml::spending_by_period(conn, caller.ledger.id, &currency, "month", this_month)?;
    let names: HashMap<Uuid, String> = categories::all(conn, caller.ledger.id)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();

    let mut pairs: HashMap<Uuid, (Decimal, Decimal)> = HashMap::new();
    for row in &sums {
        if row.period_start == previous_month {
            pairs.entry(row.category_id).or_default().0 += row.amount;
        } else if row.period_start == month {
            pairs.entry(row.category_id).or_default().1 += row.amount;
        }
    }
    let mut changes: Vec<CategoryChange> = pairs
        .into_iter()
        .map(|(id, (before, now))| CategoryChange {
            category_id: id,
            name: names.get(&id).cloned().unwrap_or_default(),
            previous: Money(before),
            current: Money(now),
            change: Money(now - before),
            change_pct: insights::change_pct(before, now).map(Money),
        })
        .collect();
    changes.sort_by(|a, b| {
        b.change
            .0
            .abs()
            .cmp(&a.change.0.abs())
            .then(a.name.cmp(&b.name))
    });
    let biggest_movers: Vec<CategoryChange> = changes
        .iter()
        .filter(|c| !c.change.0.is_zero())
        .take(3)
        .cloned()
        .collect();
    let total_previous: Decimal = changes.iter().map(|c| c.previous.0).sum();
    let total_current: Decimal = changes.iter().map(|c| c.current.0).sum();

    // Recurring payments, and their share of the last three complete months.
    let window_start = months_back(this_month, 3);
    let mut recurring = Vec::new();
    let mut fixed = Decimal::ZERO;
    let payees = recurring_payments(conn, caller.ledger.id, &currency, today)?;
    for found in payees.iter() {
        fixed += found
            .payments
            .iter()
            .filter(|p| p.date >= window_start && p.date < this_month)
            .map(|p| p.amount)
            .sum::<Decimal>();
        recurring.push(RecurringPayment {
            payee: found.payee.clone(),
            category_id: found.category_id,
            cadence: found.recurrence.cadence,
            typical_amount: Money(found.recurrence.typical_amount),
            occurrences: found.recurrence.occurrences,
            last_date: found.recurrence.last_date,
            next_expected: found.recurrence.next_expected,
        });
    }
    recurring.sort_by_key(|a| a.next_expected);
    let window_total: Decimal = sums
        .iter()
        .filter(|r| r.period_start >= window_start)
        .map(|r| r.amount)
        .sum();
    let (fixed_share_pct, variable_share_pct) = if window_total.is_zero() {
        (None, None)
    } else {
        let fixed_pct = (fixed.min(window_total) * Decimal::ONE_HUNDRED / window_total).round_dp(2);
        (
            Some(Money(fixed_pct)),
            Some(Money(Decimal::ONE_HUNDRED - fixed_pct)),
        )
    };

    // Seasonality over complete months from the first whole month of history.
    let mut totals: HashMap<NaiveDate, f64> = HashMap::new();
    for row in &sums {
        *totals.entry(row.period_start).or_default() += row.amount.to_f64().unwrap_or(0.0);
    }
    let seasonality = first_whole_period(&sums, Period::Month).and_then(|first| {
        let mut monthly = Vec::new();
        let mut start = first;
        while start < this_month {
            monthly.push((start.month(), totals.get(&start).copied().unwrap_or(0.0)));
            start = months_back(start, 0)
                .checked_add_months(Months::new(1))
                .unwrap_or(this_month);
        }
        insights::seasonality(&monthly).map(|indexes| {
            indexes
                .into_iter()
                .map(|(month, index)| SeasonalIndex { month, index })
                .collect()
        })
    });

    Ok(SpendingInsights {
        currency,
        month,
        previous_month,
        total_current: Money(total_current),
        total_previous: Money(total_previous),
        month_over_month: changes,
        biggest_movers,
        recurring,
        fixed_share_pct,
        variable_share_pct,
        seasonality,
    })
}

/// Budget suggestions per category from the last six complete months, budgets that are always
/// exceeded or never half used (last three periods), and budgets whose current pace crosses
/// their limit before the period ends (`GET /insights/recommendations`).
pub fn recommendations(
    conn: &mut PgConnection,
    caller: &Caller,
    requested: Option<&str>,
    at: Option<NaiveDate>,
) -> Result<Recommendations, ApiError> {
    let currency = report_currency(caller, requested)?;
    let today = as_of(caller, at)?;
    let this_month = month_start(today);
    let first = months_back(this_month, 6);
    let sums = db::ml::spending_by_period(conn, caller.ledger.id, &currency, "month", this_month)?;
    let all_categories = categories::all(conn, caller.ledger.id)?;
    let names: HashMap<Uuid, String> = all_categories
        .iter()
        .map(|c| (c.id, c.name.clone()))
        .collect();
    let rows = budgets::all(conn, caller.ledger.id)?;
    // A budget tracks its categories' descendants too, and only one in the answer's
    // currency counts: a VND budget does not cover USD spending.
    let tracked: HashSet<Uuid> = rows
        .iter()
        .filter(|b| b.currency == currency)
        .flat_map(|b| b.category_ids())
        .collect();
    let parents: HashMap<Uuid, Option<Uuid>> =
        all_categories.iter().map(|c| (c.id, c.parent_id)).collect();
    let budgeted = insights::tracked_with_descendants(&tracked, &parents);

    let mut by_category: HashMap<Uuid, [Decimal; 6]> = HashMap::new();
    for row in sums.iter().filter(|r| r.period_start >= first) {
        let slot = (row.period_start.year() * 12 + row.period_start.month0() as i32)
            - (first.year() * 12 + first.month0() as i32);
        if let Ok(slot) = usize::try_from(slot) {
            if slot < 6 {
                by_category.entry(row.category_id).or_default()[slot] += row.amount;
            }
        }
    }
    let mut budget_suggestions: Vec<BudgetSuggestion> = by_category
        .into_iter()
        .filter_map(|(id, months)| {
            let suggested = insights::suggested_budget(&months)?;
            Some(BudgetSuggestion {
                category_id: id,
                name: names.get(&id).cloned().unwrap_or_default(),
                suggested_amount: Money(suggested),
                average_monthly: Money(
                    (months.iter().sum::<Decimal>() / Decimal::from(6))
                        .round_dp(2)
                        .normalize(),
                ),
                months: 6,
                has_budget: budgeted.contains(&id),
            })
        })
        .collect();
    budget_suggestions.sort_by(|a, b| {
        b.suggested_amount
            .0
            .cmp(&a.suggested_amount.0)
            .then(a.name.cmp(&b.name))
    });

    // Reviews: the last three complete periods of each recurring-period budget.
    let mut requests = Vec::new();
    let mut reviewed = Vec::new();
    for budget in rows
        .iter()
        .filter(|b| b.currency == currency && b.period() != BudgetPeriod::Custom)
    {
        let Some(mut span) =
            period_containing(budget.period(), budget.start_date, budget.end_date, today)
        else {
            continue;
        };
        let mut spans = Vec::new();
        for _ in 0..3 {
            match previous_period(budget.period(), budget.start_date, budget.end_date, span) {
                Some(previous) => {
                    spans.push(previous);
                    span = previous;
                }
                None => break,
            }
        }
        if spans.len() == 3 {
            spans.reverse();
            reviewed.push((budget, requests.len()));
            requests.extend(spans.into_iter().map(|span| budgets::SpanRequest {
                budget_id: budget.id,
                span,
                currency: budget.currency.clone(),
            }));
        }
    }
    let spent = budgets::spending(conn, caller.ledger.id, &requests)?;
    let mut budget_reviews = Vec::new();
    for (budget, at) in reviewed {
        let recent = &spent[at..at + 3];
        let half = budget.amount / Decimal::TWO;
        let finding = if recent.iter().all(|s| *s > budget.amount) {
            ReviewFinding::AlwaysExceeded
        } else if recent.iter().all(|s| *s < half) {
            ReviewFinding::RarelyHalfUsed
        } else {
            continue;
        };
        // A review proposes a different limit: none when the spending gives no positive
        // one (nothing spent in three periods) or it would be the current limit.
        let Some(suggested) = insights::suggested_budget(recent)
            .filter(|s| s.normalize() != budget.amount.normalize())
        else {
            continue;
        };
        let shown = plain_amount(suggested, &budget.currency);
        let message = match finding {
            ReviewFinding::AlwaysExceeded => format!(
                "{} was exceeded in each of its last 3 periods; a limit of {shown} {} fits your spending.",
                budget.name, budget.currency
            ),
            ReviewFinding::RarelyHalfUsed => format!(
                "{} stayed under half used in each of its last 3 periods; {shown} {} would be enough.",
                budget.name, budget.currency
            ),
        };
        budget_reviews.push(BudgetReview {
            budget_id: budget.id,
            name: budget.name.clone(),
            finding,
            amount: Money(budget.amount),
            recent_spent: recent.iter().map(|s| Money(*s)).collect(),
            suggested_amount: Money(suggested),
            message,
        });
    }

    // Pace: where this period's spending rate crosses the limit before the period ends.
    let mut pace_warnings = Vec::new();
    let running: Vec<_> = rows
        .into_iter()
        .filter(|b| b.currency == currency)
        .collect();
    let evaluations = budgets::evaluate(conn, caller.ledger.id, running, today)?;
    // The pace is this period's spending up to `today`, not the whole period's.
    let to_date: Vec<budgets::SpanRequest> = evaluations
        .iter()
        .filter_map(|e| {
            let span = e.span?;
            Some(budgets::SpanRequest {
                budget_id: e.budget.id,
                span: Span {
                    start: span.start,
                    end: today.min(span.end),
                },
                currency: e.budget.currency.clone(),
            })
        })
        .collect();
    let mut spent_to_date = budgets::spending(conn, caller.ledger.id, &to_date)?.into_iter();
    for evaluation in evaluations {
        let Some(span) = evaluation.span else {
            continue;
        };
        let Some(spent) = spent_to_date.next() else {
            continue;
        };
        let elapsed = (today - span.start).num_days() + 1;
        let (Ok(elapsed), Ok(total)) = (u32::try_from(elapsed), u32::try_from(span.days())) else {
            continue;
        };
        if spent > evaluation.limit {
            continue;
        }
        if let Some(date) =
            insights::exceed_date(span.start, elapsed, total, spent, evaluation.limit)
                .filter(|d| *d <= span.end)
        {
            pace_warnings.push(PaceWarning {
                budget_id: evaluation.budget.id,
                message: format!(
                    "At this pace you exceed {} ({} {}) on {date}.",
                    evaluation.budget.name,
                    plain_amount(evaluation.limit, &evaluation.budget.currency),
                    evaluation.budget.currency
                ),
                name: evaluation.budget.name,
                limit: Money(evaluation.limit),
                spent: Money(spent),
                period_end: span.end,
                exceed_on: date,
            });
        }
    }
    pace_warnings.sort_by_key(|w| w.exceed_on);

    Ok(Recommendations {
        currency,
        budget_suggestions,
        budget_reviews,
        pace_warnings,
    })
}
