//! `/api/v1/reports`, and seed 002's `/expenses/summary` and `/expenses/stats` from the same
//! code. One screen, one call; every figure exact and aggregated in SQL.

use actix_web::{get, web, HttpResponse};
use chrono::Days;
use rust_decimal::{Decimal, RoundingStrategy};

use super::dto::*;
use crate::auth::Caller;
use crate::db::reports::{self, CategoryAmount, Scope};
use crate::db::{self, budgets};
use crate::domain::money::Money;
use crate::dto::budgets::BudgetStatusLine;
use crate::dto::reports::documents;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, FileBody};
use crate::services::exports::{self, File};
use crate::services::reports::{scope_of, Window};
use crate::state::AppState;

/// The period, wallet and currency a report query asks for.
fn window_of(query: &ReportQuery) -> Window {
    Window {
        days: query.days,
        from: query.from,
        to: query.to,
        wallet_id: query.wallet_id,
        currency: query.currency.clone(),
    }
}

fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn round4(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// Shares in percent (two decimals) that add up to exactly 100: each rounded down, then the
/// hundredths left over go to the largest remainders.
fn shares(rows: Vec<CategoryAmount>) -> Vec<CategoryShare> {
    let total: Decimal = rows.iter().map(|r| r.amount).sum();
    if total <= Decimal::ZERO {
        return Vec::new();
    }
    let exact: Vec<Decimal> = rows
        .iter()
        .map(|r| r.amount * Decimal::new(10_000, 0) / total)
        .collect();
    let mut floors: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let mut left = Decimal::new(10_000, 0) - floors.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| {
        (exact[*b] - floors[*b])
            .cmp(&(exact[*a] - floors[*a]))
            .then(a.cmp(b))
    });
    for index in order {
        if left <= Decimal::ZERO {
            break;
        }
        floors[index] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    rows.into_iter()
        .zip(floors)
        .map(|(row, hundredths)| CategoryShare {
            category_id: row.category_id,
            name: row.name,
            amount: Money(row.amount),
            share_pct: Money((hundredths / Decimal::ONE_HUNDRED).normalize()),
            transaction_count: row.transaction_count,
        })
        .collect()
}

fn change_pct(now: Decimal, before: Decimal) -> Option<Money> {
    (before != Decimal::ZERO).then(|| Money(round2((now - before) * Decimal::ONE_HUNDRED / before)))
}

/// A report as asked: its JSON in the envelope, or the file `services::exports` rendered.
fn answer<T: serde::Serialize>(name: &str, data: T, file: Option<File>) -> HttpResponse {
    match file {
        None => Envelope::new(data).ok(),
        Some(file) => HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{name}.{}\"", file.extension),
            ))
            .body(file.bytes),
    }
}

/// Income, expense, net, transfers, count, daily average, largest expense, top categories,
/// and the change against the period just before.
#[utoipa::path(
    tag = "reports",
    operation_id = "report_summary",
    summary = "Summary report",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "The summary (JSON); with `format=pdf` a PDF (chart, table, page numbers), with `format=xlsx` a workbook (typed cells, a native chart)", content(
            (Envelope<SummaryReport> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = format.into_inner();
    let report = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let days = (scope.to - scope.from).num_days() + 1;
        let previous = Scope {
            from: scope
                .from
                .checked_sub_days(Days::new(days as u64))
                .unwrap_or(scope.from),
            to: scope.from.pred_opt().unwrap_or(scope.from),
            ..scope.clone()
        };
        let (now, before) = reports::totals(conn, &scope, previous.from)?;
        let largest = reports::largest_expense(conn, &scope)?;
        let mut top = shares(reports::spending_by_category(conn, &scope, false)?);
        top.truncate(5);
        let report = SummaryReport {
            from: scope.from,
            to: scope.to,
            currency: scope.currency.clone(),
            income: Money(now.income),
            expense: Money(now.expense),
            net: Money(now.income - now.expense),
            transfer_volume: Money(now.transfer_volume),
            transaction_count: now.transaction_count,
            average_daily_expense: Money(round4(now.expense / Decimal::from(days))),
            largest_expense: largest.map(|e| LargestExpense {
                id: e.id,
                amount: Money(e.amount),
                description: e.description,
                date: e.date,
            }),
            top_categories: top,
            compared_to_previous_period: Comparison {
                from: previous.from,
                to: previous.to,
                income: Money(before.income),
                expense: Money(before.expense),
                income_change_pct: change_pct(now.income, before.income),
                expense_change_pct: change_pct(now.expense, before.expense),
            },
        };
        let file = exports::report_file(conn, &caller, &format, || documents::summary(&report))?;
        Ok::<_, ApiError>((report, file))
    })
    .await?;
    Ok(answer("summary", report.0, report.1))
}

/// Spending by category with shares that add up to 100 (split shares counted apart).
#[utoipa::path(
    tag = "reports",
    operation_id = "report_spending_by_category",
    summary = "Spending by category",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "Categories, largest first (JSON); with `format=pdf` a PDF (chart, table, page numbers), with `format=xlsx` a workbook (typed cells, a native chart)", content(
            (Envelope<Vec<CategoryShare>> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/spending-by-category")]
pub async fn spending_by_category(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = format.into_inner();
    let top = query.level.unwrap_or(Level::Top) == Level::Top;
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let data = shares(reports::spending_by_category(conn, &scope, top)?);
        let file = exports::report_file(conn, &caller, &format, || {
            documents::spending_by_category(&data, (scope.from, scope.to, &scope.currency))
        })?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("spending-by-category", data.0, data.1))
}

/// Income, expense and net per day, week or month; every bucket present (zeros included).
#[utoipa::path(
    tag = "reports",
    operation_id = "report_trend",
    summary = "Trend by day, week or month",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "One point per bucket (JSON); with `format=pdf` a PDF (chart, table, page numbers), with `format=xlsx` a workbook (typed cells, a native chart)", content(
            (Envelope<Vec<TrendPoint>> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/trend")]
pub async fn trend(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = format.into_inner();
    let granularity = query.granularity.unwrap_or(Granularity::Month);
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let data = reports::trend(conn, &scope, granularity.sql())?
            .into_iter()
            .map(|b| TrendPoint {
                period_start: b.period_start,
                income: Money(b.income),
                expense: Money(b.expense),
                net: Money(b.income - b.expense),
            })
            .collect::<Vec<_>>();
        let file = exports::report_file(conn, &caller, &format, || {
            documents::trend(&data, (scope.from, scope.to, &scope.currency))
        })?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("trend", data.0, data.1))
}

/// The budgets running on `to` (default today), with their figures, for charts.
#[utoipa::path(
    tag = "reports",
    operation_id = "report_budget_progress",
    summary = "Budget progress",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "One line per active budget (JSON); with `format=pdf` a PDF (chart, table, page numbers), with `format=xlsx` a workbook (typed cells, a native chart)", content(
            (Envelope<Vec<BudgetStatusLine>> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/budget-progress")]
pub async fn budget_progress(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = format.into_inner();
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let rows = budgets::all(conn, caller.ledger.id)?;
        let data = budgets::evaluate(conn, caller.ledger.id, rows, scope.to)?
            .into_iter()
            .filter_map(BudgetStatusLine::from_evaluation)
            .collect::<Vec<_>>();
        let file = exports::report_file(conn, &caller, &format, || {
            documents::budget_progress(&data, (scope.from, scope.to, &scope.currency))
        })?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("budget-progress", data.0, data.1))
}

/// Per wallet (in the report's currency) and period: opening balance, money in, money out,
/// closing balance.
#[utoipa::path(
    tag = "reports",
    operation_id = "report_cash_flow",
    summary = "Cash flow per wallet",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "Wallets with their periods (JSON); with `format=pdf` a PDF (chart, table, page numbers), with `format=xlsx` a workbook (typed cells, a native chart)", content(
            (Envelope<Vec<WalletCashFlow>> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/cash-flow")]
pub async fn cash_flow(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = format.into_inner();
    let granularity = query.granularity.unwrap_or(Granularity::Month);
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let mut wallets: Vec<WalletCashFlow> = Vec::new();
        for row in reports::cash_flow(conn, &scope, granularity.sql())? {
            let period = CashFlowPeriod {
                period_start: row.period_start,
                period_end: row.period_end,
                opening: Money(row.opening),
                inflow: Money(row.inflow),
                outflow: Money(row.outflow),
                closing: Money(row.opening + row.inflow - row.outflow),
            };
            match wallets.last_mut() {
                Some(last) if last.wallet_id == row.wallet_id => last.periods.push(period),
                _ => wallets.push(WalletCashFlow {
                    wallet_id: row.wallet_id,
                    wallet_name: row.wallet_name,
                    periods: vec![period],
                }),
            }
        }
        let file = exports::report_file(conn, &caller, &format, || {
            documents::cash_flow(&wallets, (scope.from, scope.to, &scope.currency))
        })?;
        Ok::<_, ApiError>((wallets, file))
    })
    .await?;
    Ok(answer("cash-flow", data.0, data.1))
}

/// Total, count, daily average, by category (leaf) and by day.
#[utoipa::path(
    tag = "expenses",
    operation_id = "expense_summary",
    summary = "Expense summary",
    params(ReportQuery),
    responses((status = 200, description = "The summary", body = Envelope<ExpenseSummary>)),
    security(("bearer_auth" = []))
)]
#[get("/expenses/summary")]
pub async fn expense_summary(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let days = (scope.to - scope.from).num_days() + 1;
        let (totals, _) = reports::totals(conn, &scope, scope.from)?;
        let daily = reports::daily_expense(conn, &scope)?;
        let total = totals.expense;
        Ok::<_, ApiError>(ExpenseSummary {
            from: scope.from,
            to: scope.to,
            currency: scope.currency.clone(),
            total: Money(total),
            count: totals.expense_count,
            average_daily: Money(round4(total / Decimal::from(days))),
            by_category: shares(reports::spending_by_category(conn, &scope, false)?),
            by_day: daily
                .into_iter()
                .map(|d| DailyAmount {
                    date: d.period_start,
                    amount: Money(d.expense),
                })
                .collect(),
        })
    })
    .await?;
    Ok(Envelope::new(data).ok())
}

/// Count, total, mean, median, max, min and standard deviation of the expense amounts.
#[utoipa::path(
    tag = "expenses",
    operation_id = "expense_stats",
    summary = "Expense statistics",
    params(ReportQuery),
    responses((status = 200, description = "The statistics", body = Envelope<ExpenseStats>)),
    security(("bearer_auth" = []))
)]
#[get("/expenses/stats")]
pub async fn expense_stats(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let data = db::run(&state.pool, move |conn| {
        let scope = scope_of(conn, &caller, &window_of(&query))?;
        let stats = reports::expense_stats(conn, &scope)?;
        let total = stats.total;
        let money = |value: Option<Decimal>| value.map(|v| Money(round4(v).normalize()));
        Ok::<_, ApiError>(ExpenseStats {
            from: scope.from,
            to: scope.to,
            currency: scope.currency.clone(),
            count: stats.count,
            total: Money(total),
            mean: money(stats.mean),
            median: money(stats.median),
            max: money(stats.max),
            min: money(stats.min),
            std_dev: money(stats.std_dev),
        })
    })
    .await?;
    Ok(Envelope::new(data).ok())
}

/// Who spent and earned what: income, expense and count per member who recorded them
/// (transfers apart), largest spender first. Any ledger; in a personal one, its owner alone.
#[utoipa::path(
    tag = "reports",
    operation_id = "report_by_member",
    summary = "Spending and income by member",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "One line per member (JSON); with `format=pdf` a PDF, with `format=xlsx` a workbook", content(
            (Envelope<Vec<MemberShare>> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/by-member")]
pub async fn by_member(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let window = window_of(&query.into_inner());
    let format = format.into_inner();
    let (data, file) = db::run(&state.pool, move |conn| {
        let data = crate::services::reports::by_member(conn, &caller, &window)?;
        let scope = scope_of(conn, &caller, &window)?;
        let file = exports::report_file(conn, &caller, &format, || {
            documents::by_member(&data, (scope.from, scope.to, &scope.currency))
        })?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("by-member", data, file))
}

/// A profit-and-loss statement: income and expense by category and month, with monthly and
/// total net results. Business ledgers only (`/api/v1/ledgers/{ledger_id}/reports/...`).
#[utoipa::path(
    tag = "reports",
    operation_id = "report_profit_and_loss",
    summary = "Profit and loss (business ledgers)",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "The statement (JSON); with `format=pdf` a PDF, with `format=xlsx` a workbook", content(
            (Envelope<ProfitAndLoss> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
        (status = 403, description = "`business_ledger_required`: the ledger is not a business ledger", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/profit-and-loss")]
pub async fn profit_and_loss(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let window = window_of(&query.into_inner());
    let format = format.into_inner();
    let (data, file) = db::run(&state.pool, move |conn| {
        let data = crate::services::reports::profit_and_loss(conn, &caller, &window)?;
        let file =
            exports::report_file(conn, &caller, &format, || documents::profit_and_loss(&data))?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("profit-and-loss", data, file))
}

/// A tax summary: tax collected (in income) and paid (in expenses) per rate, the balance due,
/// and the deductible expenses by category. Amounts with a `tax_rate` include the tax. Business
/// ledgers only.
#[utoipa::path(
    tag = "reports",
    operation_id = "report_tax_summary",
    summary = "Tax summary (business ledgers)",
    params(ReportQuery, ReportFormatQuery),
    responses(
        (status = 200, description = "The summary (JSON); with `format=pdf` a PDF, with `format=xlsx` a workbook", content(
            (Envelope<TaxSummary> = "application/json"),
            (FileBody = "application/pdf"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad period or currency", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
        (status = 403, description = "`business_ledger_required`: the ledger is not a business ledger", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/reports/tax-summary")]
pub async fn tax_summary(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
    format: web::Query<ReportFormatQuery>,
) -> ApiResult<HttpResponse> {
    let window = window_of(&query.into_inner());
    let format = format.into_inner();
    let (data, file) = db::run(&state.pool, move |conn| {
        let data = crate::services::reports::tax_summary(conn, &caller, &window)?;
        let file = exports::report_file(conn, &caller, &format, || documents::tax_summary(&data))?;
        Ok::<_, ApiError>((data, file))
    })
    .await?;
    Ok(answer("tax-summary", data, file))
}
