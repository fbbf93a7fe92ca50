//! `/api/v1/insights`: what the caller's history says: changes by category, recurring
//! payments, seasonality, and budget recommendations. Figures come from SQL aggregates; the
//! analysis is in `crate::ml::insights`.

use std::collections::{HashMap, HashSet};

use actix_web::{get, web, HttpResponse};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db::{self, budgets, categories};
use crate::domain::currency::plain_amount;
use crate::domain::money::Money;
use crate::domain::period::{previous_period, BudgetPeriod, Span};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::ml::insights;
use crate::services::predictions::{first_whole_period, Period};
use crate::services::reports::report_currency;
use crate::state::AppState;

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
/// seasonality when a year of history exists.
#[utoipa::path(
    tag = "insights",
    operation_id = "spending_insights",
    summary = "Spending insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Insights over the caller's history", body = Envelope<SpendingInsights>),
        (status = 422, description = "`validation_failed`: `at` is in the future", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/insights/spending")]
pub async fn spending_insights(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InsightsQuery>,
) -> ApiResult<HttpResponse> {
    let InsightsQuery {
        currency: requested,
        at,
    } = query.into_inner();
    let insights = db::run(&state.pool, move |conn| {
        let currency = report_currency(&caller, requested.as_deref())?;
        let today = as_of(&caller, at)?;
        let this_month = month_start(today);
        let month = months_back(this_month, 1);
        let previous_month = months_back(this_month, 2);
        let sums =
            db::ml::spending_by_period(conn, caller.ledger.id, &currency, "month", this_month)?;
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
        let payees = crate::services::insights::recurring_payments(
            conn,
            caller.ledger.id,
            &currency,
            today,
        )?;
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
            let fixed_pct =
                (fixed.min(window_total) * Decimal::ONE_HUNDRED / window_total).round_dp(2);
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

        Ok::<_, ApiError>(SpendingInsights {
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
    })
    .await?;
    Ok(Envelope::new(insights).ok())
}

/// Budget suggestions per category from the last six complete months, budgets that are always
/// exceeded or never half used (last three periods), and budgets whose current pace crosses
/// their limit before the period ends ("at this pace you exceed X on DATE").
#[utoipa::path(
    tag = "insights",
    operation_id = "recommendations",
    summary = "Budget recommendations",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Suggestions, reviews and warnings", body = Envelope<Recommendations>),
        (status = 422, description = "`validation_failed`: `at` is in the future", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/insights/recommendations")]
pub async fn recommendations(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InsightsQuery>,
) -> ApiResult<HttpResponse> {
    let InsightsQuery {
        currency: requested,
        at,
    } = query.into_inner();
    let answer = db::run(&state.pool, move |conn| {
        let currency = report_currency(&caller, requested.as_deref())?;
        let today = as_of(&caller, at)?;
        let this_month = month_start(today);
        let first = months_back(this_month, 6);
        let sums = db::ml::spending_by_period(conn, caller.ledger.id, &currency, "month", this_month)?;
        let all_categories = categories::all(conn, caller.ledger.id)?;
        let names: HashMap<Uuid, String> = all_categories
            .iter()
            .map(|c| (c.id, c.name.clone()))
            .collect();
        let rows = budgets::list(conn, caller.ledger.id, 10_000, 0)?;
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
        for budget in rows.iter().filter(|b| {
            b.currency == currency && b.period() != BudgetPeriod::Custom
        }) {
            let Some(mut span) = crate::domain::period::period_containing(
                budget.period(),
                budget.start_date,
                budget.end_date,
                today,
            ) else {
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
            let Some(span) = evaluation.span else { continue };
            let Some(spent) = spent_to_date.next() else {
                continue;
            };
            let elapsed = (today - span.start).num_days() + 1;
            let (Ok(elapsed), Ok(total)) = (u32::try_from(elapsed), u32::try_from(span.days()))
            else {
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

        Ok::<_, ApiError>(Recommendations {
            currency,
            budget_suggestions,
            budget_reviews,
            pace_warnings,
        })
    })
    .await?;
    Ok(Envelope::new(answer).ok())
}
