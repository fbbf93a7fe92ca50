//! What-if simulations: the ledger's wallets (in its currency) carried forward month by month
//! from today's balances, with income at the pace of the last whole months, expense from the
//! spending forecast (`services::predictions`), and the scenario's changes on top. Nothing is
//! written; saved scenarios keep the request and re-run it against fresh figures.

use std::collections::HashMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::PgConnection;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::caller::Caller;
use super::predictions::{self, Period as ForecastPeriod};
use crate::db::budgets::{self, SpanRequest};
use crate::db::scenarios::{self as store, Repeating, Scenario};
use crate::db::{bills, recurring, wallets};
use crate::domain::money::{max_amount, Money};
use crate::domain::period::{
    next_occurrence, period_containing, previous_period, BudgetPeriod, Frequency, Span,
};
use crate::dto::scenarios::{
    BudgetOutcome, Every, MonthProjection, ScenarioChange, SimulateRequest, SimulatedFlow,
    SimulationResponse, WalletProjection,
};
use crate::error::ApiError;

/// Most whole months of history the baseline reads.
const HISTORY_MONTHS: u32 = 6;
/// The 80 % interval's half-width in standard deviations (a normal's 90th percentile).
const Z80: f64 = 1.2816;
/// Most scenarios a ledger keeps.
pub const MAX_SCENARIOS: i64 = 100;
/// Most occurrences one change may put into a simulation.
const MAX_OCCURRENCES: usize = 10_000;

fn month_start(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months)).unwrap_or(date)
}

fn money(value: f64) -> Decimal {
    Decimal::from_f64(value).unwrap_or_default().round_dp(2)
}

/// The months simulated: this month to the last one shown.
struct Horizon {
    today: NaiveDate,
    /// First day of this month.
    first: NaiveDate,
    /// Index of the first month shown.
    shown_from: usize,
    count: usize,
}

impl Horizon {
    fn end(&self) -> NaiveDate {
        add_months(self.first, self.count as u32)
            .pred_opt()
            .unwrap_or(self.first)
    }

    /// The simulated month a date falls in (`None` outside the horizon or before today).
    fn index(&self, date: NaiveDate) -> Option<usize> {
        if date < self.today || date > self.end() {
            return None;
        }
        let months = (date.year() - self.first.year()) * 12 + date.month() as i32
            - self.first.month() as i32;
        usize::try_from(months).ok()
    }
}

/// Dates of a repeating flow from `first` until `last` (inclusive).
fn repeat(
    first: NaiveDate,
    last: NaiveDate,
    next: impl Fn(NaiveDate) -> Option<NaiveDate>,
) -> Vec<NaiveDate> {
    let mut dates = Vec::new();
    let mut date = Some(first);
    while let Some(d) = date {
        if d > last || dates.len() >= MAX_OCCURRENCES {
            break;
        }
        dates.push(d);
        date = next(d);
    }
    dates
}

fn frequency_of(value: &str) -> Result<Frequency, ApiError> {
    super::caller::stored("frequency", value, Frequency::parse)
}

/// Each wallet's move rounded to cents, the cents left over given to the wallets that moved
/// most, so that they add up to `total` (itself in cents).
fn in_cents(moves: &[Decimal], total: Decimal) -> Vec<Decimal> {
    let mut rounded: Vec<Decimal> = moves.iter().map(|m| m.round_dp(2)).collect();
    let cent = Decimal::new(1, 2);
    let mut left = total - rounded.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..moves.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(moves[*i].abs()));
    // A few cents at most; bounded all the same.
    for i in order.iter().cycle().take(moves.len() * 100) {
        if left.is_zero() {
            break;
        }
        let step = if left > Decimal::ZERO { cent } else { -cent };
        rounded[*i] += step;
        left -= step;
    }
    rounded
}

/// What a change cancels or changes that a second change may not: the bill, recurring payment
/// or budget it names (a copy would take the same payments out twice).
fn target(change: &ScenarioChange) -> Option<(&'static str, &'static str, Uuid)> {
    match change {
        ScenarioChange::CancelBill { bill_id } => Some(("bill", "bill_id", *bill_id)),
        ScenarioChange::CancelRecurring { recurring_id } => {
            Some(("recurring payment", "recurring_id", *recurring_id))
        }
        ScenarioChange::ChangeBudget { budget_id, .. } => Some(("budget", "budget_id", *budget_id)),
        ScenarioChange::Income(_) | ScenarioChange::Expense(_) => None,
    }
}

/// A change naming the same bill, recurring payment or budget as an earlier one, refused with
/// both named.
fn refuse_repeats(changes: &[ScenarioChange]) -> Result<(), ApiError> {
    let mut seen: HashMap<(&'static str, Uuid), usize> = HashMap::new();
    for (index, change) in changes.iter().enumerate() {
        if let Some((what, name, id)) = target(change) {
            if let Some(earlier) = seen.insert((what, id), index) {
                return Err(ApiError::invalid_field(
                    &format!("changes[{index}].{name}"),
                    format!(
                        "names the same {what} as changes[{earlier}]: a scenario changes each \
                         once"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a figure the simulation shows is an amount (`NUMERIC(19, 4)`, 15 integer digits).
fn fits(value: Decimal) -> bool {
    value.abs() <= max_amount()
}

/// Runs a simulation.
pub fn simulate(
    conn: &mut PgConnection,
    caller: &Caller,
    request: &SimulateRequest,
) -> Result<SimulationResponse, ApiError> {
    let ledger = caller.ledger.id;
    let today = caller.today();
    let currency = caller.currency.to_string();
    let first = month_start(today);
    let start = month_start(request.start.unwrap_or(today));
    if start < first {
        return Err(ApiError::invalid_field(
            "start",
            "must not be before this month",
        ));
    }
    let shown_from =
        ((start.year() - first.year()) * 12 + start.month() as i32 - first.month() as i32) as usize;
    if !(1..=120).contains(&request.months) || shown_from + request.months as usize > 240 {
        return Err(ApiError::invalid_field(
            "months",
            "must be 1 to 120, ending within 20 years",
        ));
    }
    let horizon = Horizon {
        today,
        first,
        shown_from,
        count: shown_from + request.months as usize,
    };
    let months = horizon.count;
    let mut assumptions = Vec::new();
    refuse_repeats(&request.changes)?;

    // Today's wallets in the ledger's currency.
    let all = wallets::list(conn, ledger, Some(false), 1000, 0)?;
    let (own, other): (Vec<_>, Vec<_>) = all.into_iter().partition(|w| w.currency == currency);
    if !other.is_empty() {
        assumptions.push(format!(
            "{} wallet(s) in other currencies are left out: a simulation adds one currency only.",
            other.len()
        ));
    }
    if own.is_empty() {
        assumptions.push(format!(
            "No wallet holds {currency}: there is no balance to carry forward, and the changes \
             have no wallet to land in."
        ));
    }
    let slot: HashMap<Uuid, usize> = own.iter().enumerate().map(|(i, w)| (w.id, i)).collect();
    let default_wallet = own
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.balance.cmp(&b.1.balance).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i);

    // The baseline: whole months of history, and this month so far.
    let earliest = store::first_day(conn, ledger, &currency)?;
    let history_start = add_months(first, 0)
        .checked_sub_months(Months::new(HISTORY_MONTHS))
        .unwrap_or(first);
    let history_months = match earliest {
        None => 0,
        Some(day) if day >= first => 0,
        Some(day) => {
            let from = month_start(day).max(history_start);
            ((first.year() - from.year()) * 12 + first.month() as i32 - from.month() as i32).max(0)
                as u32
        }
    };
    let rows = store::wallet_months(conn, ledger, &currency, history_start, today)?;
    let w = own.len();
    let (mut income, mut expense, mut transfers) = (
        vec![Decimal::ZERO; w],
        vec![Decimal::ZERO; w],
        vec![Decimal::ZERO; w],
    );
    let (mut income_now, mut expense_now) = (vec![Decimal::ZERO; w], Decimal::ZERO);
    let mut monthly_expense_totals: HashMap<NaiveDate, Decimal> = HashMap::new();
    for row in &rows {
        let Some(&i) = slot.get(&row.wallet_id) else {
            continue;
        };
        if row.month >= first {
            income_now[i] += row.income;
            expense_now += row.expense;
        } else {
            income[i] += row.income;
            expense[i] += row.expense;
            transfers[i] += row.transfers;
            *monthly_expense_totals.entry(row.month).or_default() += row.expense;
        }
    }
    let divisor = Decimal::from(history_months.max(1));
    let income: Vec<Decimal> = income.iter().map(|v| v / divisor).collect();
    let transfers: Vec<Decimal> = transfers.iter().map(|v| v / divisor).collect();
    let expense_total: Decimal = expense.iter().sum();
    let share: Vec<Decimal> = expense
        .iter()
        .map(|e| {
            if expense_total.is_zero() {
                Decimal::ONE / Decimal::from(w.max(1))
            } else {
                e / expense_total
            }
        })
        .collect();

    // Expense per month from the spending forecast, with its interval.
    let mut forecast: Vec<(Decimal, Decimal)> = Vec::with_capacity(months);
    let series = predictions::forecasts_recent(conn, ledger, today)?
        .series
        .into_iter()
        .find(|s| s.period == ForecastPeriod::Month && s.category_id.is_none());
    match series.filter(|_| {
        predictions::ledger_currency(conn, ledger).ok().as_deref() == Some(currency.as_str())
    }) {
        Some(series) => {
            assumptions.push(format!(
                "Expense follows the monthly spending forecast ({}).",
                series.model.method.as_str()
            ));
            for row in predictions::forecast_rows(&series, today, months) {
                forecast.push((row.amount, (row.upper - row.lower) / Decimal::TWO));
            }
        }
        None => {
            let values: Vec<f64> = monthly_expense_totals
                .values()
                .filter_map(|v| v.to_f64())
                .collect();
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let spread = if values.len() > 1 {
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64)
                    .sqrt()
            } else {
                mean * 0.25
            };
            assumptions
                .push("Expense is the average of the months behind (no forecast yet).".into());
            forecast = vec![(money(mean), money(spread * Z80)); months];
        }
    }
    forecast.resize(months, (Decimal::ZERO, Decimal::ZERO));
    if history_months == 0 {
        assumptions
            .push("No whole month of history yet: income and transfers are not projected.".into());
    }

    // Each month's movements per wallet: the baseline first.
    let mut moves = vec![vec![Decimal::ZERO; w]; months];
    let mut month_income = vec![Decimal::ZERO; months];
    let mut month_expense = vec![Decimal::ZERO; months];
    let mut month_changes = vec![Decimal::ZERO; months];
    let mut month_transfers = vec![Decimal::ZERO; months];
    let days_in_this_month = Decimal::from((add_months(first, 1) - first).num_days());
    let days_left = Decimal::from((add_months(first, 1) - today).num_days());
    for k in 0..months {
        let (expected, _) = forecast[k];
        let expense_k = if k == 0 {
            (expected - expense_now).max(Decimal::ZERO)
        } else {
            expected
        };
        month_expense[k] = expense_k;
        for i in 0..w {
            let income_k = if k == 0 {
                (income[i] - income_now[i]).max(Decimal::ZERO)
            } else {
                income[i]
            };
            let transfers_k = if k == 0 {
                transfers[i] * days_left / days_in_this_month
            } else {
                transfers[i]
            };
            month_income[k] += income_k;
            month_transfers[k] += transfers_k;
            moves[k][i] += income_k + transfers_k - expense_k * share[i];
        }
    }

    // The scenario's changes. Cancelling a bill or a recurring flow takes out of the baseline
    // what it put in: nothing, when the months the baseline reads never saw it. What they and
    // lowered budgets save (`cuts`) is added once all are known: a month cannot save more than
    // the baseline expects it to spend.
    let mut cuts = vec![vec![Decimal::ZERO; w]; months];
    let mut month_cuts = vec![Decimal::ZERO; months];
    let counted = |conn: &mut PgConnection, source, id| {
        store::ran_between(conn, ledger, source, id, (history_start, first))
    };
    let mut changed_budgets: HashMap<Uuid, Decimal> = HashMap::new();
    for (index, change) in request.changes.iter().enumerate() {
        let field = |name: &str| format!("changes[{index}].{name}");
        let mut apply = |date: NaiveDate, wallet: Option<usize>, amount: Decimal| {
            if let (Some(k), Some(i)) = (horizon.index(date), wallet) {
                moves[k][i] += amount;
                month_changes[k] += amount;
            }
        };
        let mut cut = |date: NaiveDate, wallet: Option<usize>, amount: Decimal| {
            if let (Some(k), Some(i)) = (horizon.index(date), wallet) {
                cuts[k][i] += amount;
                month_cuts[k] += amount;
            }
        };
        match change {
            ScenarioChange::Income(flow) | ScenarioChange::Expense(flow) => {
                let sign = if matches!(change, ScenarioChange::Income(_)) {
                    Decimal::ONE
                } else {
                    Decimal::NEGATIVE_ONE
                };
                let (dates, wallet) = flow_dates(flow, &horizon, start, &field)?;
                let wallet =
                    match wallet {
                        Some(id) => match slot.get(&id) {
                            Some(i) => Some(*i),
                            None => match other.iter().find(|w| w.id == id) {
                                Some(w) => {
                                    return Err(ApiError::invalid_field(
                                        &field("wallet_id"),
                                        format!(
                                            "is a {} wallet; the simulation adds up {currency}",
                                            w.currency
                                        ),
                                    ))
                                }
                                None => return Err(match wallets::find(conn, ledger, id)? {
                                    Some(w) if w.archived => ApiError::invalid_field(
                                        &field("wallet_id"),
                                        "is an archived wallet: it takes no new money (unarchive \
                                         it to simulate with it)",
                                    ),
                                    _ => ApiError::not_found("Wallet"),
                                }),
                            },
                        },
                        None => default_wallet,
                    };
                for date in dates {
                    apply(date, wallet, sign * flow.amount.0);
                }
            }
            ScenarioChange::CancelRecurring { recurring_id } => {
                let row = recurring::find(conn, ledger, *recurring_id)?
                    .ok_or_else(|| ApiError::not_found("Recurring transaction"))?;
                if !row.active || row.currency != currency {
                    continue;
                }
                if !counted(conn, Repeating::Recurring, row.id)? {
                    assumptions.push(format!(
                        "Cancelling the recurring \u{201c}{}\u{201d} changes nothing: it made no \
                         transaction in the months the baseline reads, so the baseline does not \
                         count it.",
                        row.description
                    ));
                    continue;
                }
                let frequency = frequency_of(&row.frequency)?;
                let last = row.end_date.map_or(horizon.end(), |e| e.min(horizon.end()));
                let anchor = row.anchor_day.max(1) as u32;
                for date in repeat(row.next_date, last, |d| {
                    next_occurrence(frequency, d, anchor)
                }) {
                    match row.transaction_type.as_str() {
                        "expense" => cut(date, slot.get(&row.wallet_id).copied(), row.amount),
                        "income" => apply(date, slot.get(&row.wallet_id).copied(), -row.amount),
                        _ => {
                            apply(date, slot.get(&row.wallet_id).copied(), row.amount);
                            if let Some(to) = row.to_wallet_id {
                                apply(date, slot.get(&to).copied(), -row.amount);
                            }
                        }
                    }
                }
            }
            ScenarioChange::CancelBill { bill_id } => {
                let bill = bills::find(conn, ledger, *bill_id)?
                    .ok_or_else(|| ApiError::not_found("Bill"))?;
                if bill.cancelled_at.is_some() || bill.currency != currency {
                    continue;
                }
                if !counted(conn, Repeating::Bill, bill.id)? {
                    assumptions.push(format!(
                        "Cancelling the bill \u{201c}{}\u{201d} changes nothing: it was not paid in \
                         the months the baseline reads, so the baseline does not count it.",
                        bill.name
                    ));
                    continue;
                }
                let frequency = frequency_of(&bill.frequency)?;
                let anchor = bill.due_day.max(1) as u32;
                for date in repeat(bill.next_due_date, horizon.end(), |d| {
                    next_occurrence(frequency, d, anchor)
                }) {
                    cut(date, slot.get(&bill.wallet_id).copied(), bill.amount);
                }
            }
            ScenarioChange::ChangeBudget { budget_id, amount } => {
                if amount.0 <= Decimal::ZERO {
                    return Err(ApiError::invalid_field(
                        &field("amount"),
                        "must be greater than 0",
                    ));
                }
                budgets::find(conn, ledger, *budget_id)?
                    .ok_or_else(|| ApiError::not_found("Budget"))?;
                changed_budgets.insert(*budget_id, amount.0);
            }
        }
    }

    // Budgets: each one's pace over its last three periods against its (new) limit, all their
    // spending read in one query.
    let running: Vec<(budgets::BudgetRow, Span, Vec<Span>)> = budgets::all(conn, ledger)?
        .into_iter()
        .filter_map(|budget| {
            let current =
                period_containing(budget.period(), budget.start_date, budget.end_date, today)?;
            let mut spans: Vec<Span> = Vec::new();
            let mut span = current;
            while spans.len() < 3 {
                match previous_period(budget.period(), budget.start_date, budget.end_date, span) {
                    Some(previous) => {
                        spans.push(previous);
                        span = previous;
                    }
                    None => break,
                }
            }
            // A budget in its first period: this period so far, at its pace.
            if spans.is_empty() {
                spans.push(current);
            }
            Some((budget, current, spans))
        })
        .collect();
    let requests: Vec<SpanRequest> = running
        .iter()
        .flat_map(|(budget, _, spans)| {
            spans.iter().map(|s| SpanRequest {
                budget_id: budget.id,
                span: *s,
                currency: budget.currency.clone(),
            })
        })
        .collect();
    let rows: Vec<budgets::BudgetRow> = running.iter().map(|(b, _, _)| b.clone()).collect();
    let spent = super::budgets::spending_kept(conn, ledger, &rows, &requests)?;
    let mut next = 0;
    let mut outcomes = Vec::new();
    for (budget, current, spans) in &running {
        let own = &spent[next..next + spans.len()];
        next += spans.len();
        let pace = if spans[0] == *current {
            let elapsed = Decimal::from((today - current.start).num_days() + 1);
            own[0] * Decimal::from(current.days()) / elapsed
        } else {
            own.iter().sum::<Decimal>() / Decimal::from(own.len())
        };
        let new_limit = changed_budgets.get(&budget.id).copied();
        let limit = new_limit.unwrap_or(budget.amount);
        let mut projected = pace;
        if let Some(new_limit) = new_limit.filter(|l| *l < pace) {
            // Kept to the lower limit: the difference is saved each month (per period).
            let saved = pace - new_limit;
            projected = new_limit;
            // What a month saves: a monthly budget's saving once, a yearly one's a twelfth, a
            // week's (or a custom period's) for each of the month's days.
            let per_month = |k: usize| match budget.period() {
                BudgetPeriod::Monthly => saved,
                BudgetPeriod::Yearly => saved / Decimal::from(12),
                _ => {
                    let start = add_months(first, k as u32);
                    let days = (add_months(start, 1) - start).num_days();
                    saved * Decimal::from(days) / Decimal::from(current.days().max(1))
                }
            };
            if budget.currency == currency {
                for (k, row) in cuts.iter_mut().enumerate() {
                    let fraction = if k == 0 {
                        days_left / days_in_this_month
                    } else {
                        Decimal::ONE
                    };
                    let per_month = per_month(k);
                    for (i, cell) in row.iter_mut().enumerate() {
                        *cell += per_month * fraction * share[i];
                    }
                    month_cuts[k] += per_month * fraction;
                }
            }
        }
        outcomes.push(BudgetOutcome {
            budget_id: budget.id,
            name: budget.name.clone(),
            limit: Money(limit),
            projected_spent: Money(projected.round_dp(2)),
            outcome: if projected > limit { "over" } else { "within" }.to_owned(),
            changed: new_limit.is_some(),
        });
    }

    // A month saves at most what the baseline expects it to spend (this month: what is left of
    // it): after a large expense earlier in the month it expects nothing more, and a cancelled
    // bill or a lower limit saves nothing then. Each saving is held back in the same proportion.
    let mut held = Vec::new();
    for k in 0..months {
        let room = month_expense[k].max(Decimal::ZERO);
        if month_cuts[k] > room {
            let factor = room / month_cuts[k];
            for cell in cuts[k].iter_mut() {
                *cell *= factor;
            }
            if k >= horizon.shown_from && month_cuts[k].round_dp(2) > room.round_dp(2) {
                held.push(add_months(first, k as u32).format("%B %Y").to_string());
            }
            month_cuts[k] = room;
        }
        for (cell, saved) in moves[k].iter_mut().zip(&cuts[k]) {
            *cell += *saved;
        }
        month_changes[k] += month_cuts[k];
    }
    if !held.is_empty() {
        assumptions.push(format!(
            "A change saves no more than the baseline expects to spend in a month: in {} the \
             cancelled payments and lower limits are held to that.",
            held.join(", ")
        ));
    }

    // Carry the balances forward, in the cents each month shows: the month's figures are
    // rounded first, and the wallets move by exactly what they add up to, so a month's total
    // is the last one's plus income, transfers and changes less expense, as printed.
    let mut balances: Vec<Decimal> = own.iter().map(|w| w.balance).collect();
    let opening_total: Decimal = balances.iter().sum();
    let mut variance = 0f64;
    let mut out = Vec::with_capacity(request.months as usize);
    for k in 0..months {
        for figure in [
            &mut month_income[k],
            &mut month_expense[k],
            &mut month_changes[k],
            &mut month_transfers[k],
        ] {
            *figure = figure.round_dp(2);
        }
        let moved = month_income[k] + month_transfers[k] + month_changes[k] - month_expense[k];
        for (balance, delta) in balances.iter_mut().zip(in_cents(&moves[k], moved)) {
            *balance += delta;
        }
        let half = forecast[k].1.to_f64().unwrap_or(0.0);
        let half = if k == 0 {
            half * (days_left / days_in_this_month).to_f64().unwrap_or(1.0)
        } else {
            half
        };
        variance += half * half;
        if k < horizon.shown_from {
            continue;
        }
        let total: Decimal = balances.iter().sum();
        let spread = money(variance.sqrt());
        let figures = [
            month_income[k],
            month_expense[k],
            month_changes[k],
            month_transfers[k],
            total.round_dp(2),
            (total - spread).round_dp(2),
            (total + spread).round_dp(2),
        ];
        if !figures
            .into_iter()
            .chain(balances.iter().map(|b| b.round_dp(2)))
            .all(fits)
        {
            return Err(beyond_amounts(request));
        }
        out.push(MonthProjection {
            month: add_months(first, k as u32),
            income: Money(month_income[k].round_dp(2)),
            expense: Money(month_expense[k].round_dp(2)),
            changes: Money(month_changes[k].round_dp(2)),
            transfers: Money(month_transfers[k].round_dp(2)),
            wallets: own
                .iter()
                .zip(&balances)
                .map(|(wallet, balance)| WalletProjection {
                    wallet_id: wallet.id,
                    name: wallet.name.clone(),
                    balance: Money(balance.round_dp(2)),
                })
                .collect(),
            total: Money(total.round_dp(2)),
            low: Money((total - spread).round_dp(2)),
            high: Money((total + spread).round_dp(2)),
        });
    }
    if !fits(opening_total) {
        return Err(beyond_amounts(request));
    }
    Ok(SimulationResponse {
        currency,
        as_of: today,
        opening_total: Money(opening_total),
        months: out,
        budgets: outcomes,
        baseline_income: Money(income.iter().sum::<Decimal>().round_dp(2)),
        history_months,
        assumptions,
    })
}

/// A simulation whose figures leave the range of an amount: refused, never shown beyond it.
fn beyond_amounts(request: &SimulateRequest) -> ApiError {
    let (field, what) = if request.changes.is_empty() {
        ("months", "the balances")
    } else {
        ("changes", "the changes")
    };
    ApiError::invalid_field(
        field,
        format!(
            "{what} take a month's figures beyond the largest amount, {} (15 digits before \
             the point)",
            max_amount()
        ),
    )
}

/// The dates a simulated flow falls on within the horizon, and the wallet it names.
fn flow_dates(
    flow: &SimulatedFlow,
    horizon: &Horizon,
    start: NaiveDate,
    field: &dyn Fn(&str) -> String,
) -> Result<(Vec<NaiveDate>, Option<Uuid>), ApiError> {
    if flow.amount.0 <= Decimal::ZERO {
        return Err(ApiError::invalid_field(
            &field("amount"),
            "must be greater than 0",
        ));
    }
    let first = flow.date.unwrap_or(start.max(horizon.today));
    if first < horizon.today {
        return Err(ApiError::invalid_field(
            &field("date"),
            "must not be before today",
        ));
    }
    if let Some(until) = flow.until {
        if flow.every.is_none() {
            return Err(ApiError::invalid_field(&field("until"), "needs `every`"));
        }
        if until < first {
            return Err(ApiError::invalid_field(
                &field("until"),
                "must not be before `date`",
            ));
        }
    }
    let last = flow.until.map_or(horizon.end(), |u| u.min(horizon.end()));
    let anchor = first.day();
    let dates = match flow.every {
        None => vec![first],
        Some(Every::Week) => repeat(first, last, |d| d.checked_add_days(Days::new(7))),
        Some(Every::Month) => repeat(first, last, |d| {
            next_occurrence(Frequency::Monthly, d, anchor)
        }),
        Some(Every::Year) => repeat(first, last, |d| {
            next_occurrence(Frequency::Yearly, d, anchor)
        }),
    };
    Ok((dates, flow.wallet_id))
}

pub fn save(
    conn: &mut PgConnection,
    caller: &Caller,
    name: &str,
    request: &SimulateRequest,
) -> Result<(Scenario, SimulationResponse), ApiError> {
    let result = simulate(conn, caller, request)?;
    let value = serde_json::to_value(request).map_err(|e| ApiError::internal(e.to_string()))?;
    // Counted and inserted under the ledger's lock: saves at once cannot pass the limit.
    let saved = crate::db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
        if store::count(conn, caller.ledger.id)? >= MAX_SCENARIOS {
            return Err(ApiError::Conflict {
                code: "scenario_limit",
                message: format!("A ledger keeps at most {MAX_SCENARIOS} scenarios."),
            });
        }
        Ok(store::insert(
            conn,
            caller.ledger.id,
            name.trim(),
            value,
            caller.id,
        )?)
    })?;
    Ok((saved, result))
}

/// A saved scenario's request (as stored, which was valid when saved).
pub fn request_of(scenario: &Scenario) -> Result<SimulateRequest, ApiError> {
    serde_json::from_value(scenario.request.clone())
        .map_err(|e| ApiError::internal(format!("stored scenario {}: {e}", scenario.id)))
}

pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<
    (
        Scenario,
        SimulateRequest,
        Result<SimulationResponse, ApiError>,
    ),
    ApiError,
> {
    let scenario =
        store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Scenario"))?;
    let request = request_of(&scenario)?;
    // A saved scenario can outlive what it names (a deleted bill) or its start month.
    let mut rerun = request.clone();
    let moved = rerun
        .start
        .filter(|s| month_start(*s) < month_start(caller.today()));
    if moved.is_some() {
        rerun.start = None;
    }
    // A change naming a bill, recurring payment, budget or wallet deleted since, or a wallet
    // archived since (it takes no new money), is left out, and said so; so is a copy of an
    // earlier change (saved before copies were refused).
    let mut gone = Vec::new();
    let mut kept: Vec<ScenarioChange> = Vec::with_capacity(rerun.changes.len());
    for change in rerun.changes {
        let repeated = target(&change).is_some()
            && kept
                .iter()
                .any(|earlier| target(earlier) == target(&change));
        let reason = if repeated {
            Some("repeats an earlier change".to_owned())
        } else {
            left_out(conn, caller.ledger.id, &change)?
        };
        match reason {
            Some(reason) => gone.push(reason),
            None => kept.push(change),
        }
    }
    rerun.changes = kept;
    let result = simulate(conn, caller, &rerun).map(|mut result| {
        for reason in gone {
            result.assumptions.insert(
                0,
                format!("A change of the saved scenario {reason}: it is left out."),
            );
        }
        if let Some(start) = moved {
            result.assumptions.insert(
                0,
                format!(
                    "The scenario was saved to start in {}, which has passed: it is run from this month.",
                    month_start(start).format("%B %Y")
                ),
            );
        }
        result
    });
    Ok((scenario, request, result))
}

/// Why a saved change no longer runs: what it names was deleted since, or its wallet archived.
fn left_out(
    conn: &mut PgConnection,
    ledger: Uuid,
    change: &ScenarioChange,
) -> Result<Option<String>, ApiError> {
    let deleted = |what: &str| Some(format!("names a {what} that has been deleted since"));
    Ok(match change {
        ScenarioChange::CancelBill { bill_id } => match bills::find(conn, ledger, *bill_id)? {
            None => deleted("bill"),
            Some(_) => None,
        },
        ScenarioChange::CancelRecurring { recurring_id } => {
            match recurring::find(conn, ledger, *recurring_id)? {
                None => deleted("recurring payment"),
                Some(_) => None,
            }
        }
        ScenarioChange::ChangeBudget { budget_id, .. } => {
            match budgets::find(conn, ledger, *budget_id)? {
                None => deleted("budget"),
                Some(_) => None,
            }
        }
        ScenarioChange::Income(flow) | ScenarioChange::Expense(flow) => match flow.wallet_id {
            None => None,
            Some(id) => match wallets::find(conn, ledger, id)? {
                None => deleted("wallet"),
                Some(wallet) if wallet.archived => Some(format!(
                    "moves money in the wallet \u{201c}{}\u{201d}, archived since (an archived \
                     wallet takes no new money)",
                    wallet.name
                )),
                Some(_) => None,
            },
        },
    })
}

pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    limit: i64,
    offset: i64,
) -> Result<(Vec<(Scenario, SimulateRequest)>, i64), ApiError> {
    let total = store::count(conn, caller.ledger.id)?;
    let rows = store::list(conn, caller.ledger.id, limit, offset)?
        .into_iter()
        .map(|s| {
            let request = request_of(&s)?;
            Ok((s, request))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok((rows, total))
}

pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    match store::delete(conn, caller.ledger.id, id)? {
        0 => Err(ApiError::not_found("Scenario")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn wallets_move_in_cents_that_add_up_to_the_month() {
        let moves = [d("45.333333"), d("22.666667"), d("0.004")];
        let cents = in_cents(&moves, d("68.01"));
        assert_eq!(cents.iter().copied().sum::<Decimal>(), d("68.01"));
        assert!(cents.iter().all(|c| c.scale() <= 2), "{cents:?}");
        assert_eq!(
            cents[0],
            d("45.34"),
            "the cent left over goes to the largest move"
        );
        assert_eq!(in_cents(&[], Decimal::ZERO), Vec::<Decimal>::new());
        let back = in_cents(&[d("-10.005"), d("-0.005")], d("-10.02"));
        assert_eq!(back.iter().copied().sum::<Decimal>(), d("-10.02"));
    }
}
