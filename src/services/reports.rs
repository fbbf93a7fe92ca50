//! What a report covers: its dates in the caller's time zone, its wallet and its currency.

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::PgConnection;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::reports::{self, Scope};
use crate::db::wallets;
use crate::domain::money::Money;
use crate::domain::sharing::LedgerKind;
use crate::dto::reports::{
    DeductibleCategory, MemberShare, ProfitAndLoss, ProfitAndLossLine, TaxRateLine, TaxSummary,
};
use crate::error::ApiError;

const MAX_DAYS: i64 = 3660;

fn invalid(message: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        message: message.into(),
    }
}

/// The period, wallet and currency a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub days: Option<u32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub wallet_id: Option<Uuid>,
    pub currency: Option<String>,
}

/// Checks the query and turns it into a scope (dates, currency, wallet).
pub fn scope_of(
    conn: &mut PgConnection,
    caller: &Caller,
    query: &Window,
) -> Result<Scope, ApiError> {
    let ledger_id = caller.ledger.id;
    let today = caller.today();
    let (from, to) = match (query.days, query.from, query.to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(invalid("Use either `days` or `from`/`to`, not both."))
        }
        (Some(days), None, None) => {
            if !(1..=MAX_DAYS as u32).contains(&days) {
                return Err(invalid("`days` must be between 1 and 3660."));
            }
            (
                today
                    .checked_sub_days(Days::new(u64::from(days) - 1))
                    .unwrap_or(today),
                today,
            )
        }
        (None, None, None) => (
            today.checked_sub_days(Days::new(29)).unwrap_or(today),
            today,
        ),
        (None, from, to) => {
            let to = to.unwrap_or(today);
            let from = from.unwrap_or_else(|| to.checked_sub_days(Days::new(29)).unwrap_or(to));
            (from, to)
        }
    };
    if from > to {
        return Err(invalid("`from` must not be after `to`."));
    }
    if (to - from).num_days() >= MAX_DAYS
        || !(1..=9999).contains(&from.year())
        || !(1..=9999).contains(&to.year())
    {
        return Err(invalid(
            "A report covers at most 3660 days between the years 1 and 9999.",
        ));
    }
    // One wallet's report is in its currency; otherwise the one asked for, else the user's.
    let wallet = match query.wallet_id {
        Some(id) => {
            Some(wallets::find(conn, ledger_id, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?)
        }
        None => None,
    };
    let currency = match (query.currency.as_deref(), wallet) {
        (None, Some(wallet)) => wallet.currency,
        (None, None) => caller.currency.to_string(),
        (requested, wallet) => {
            let currency = report_currency(caller, requested)?;
            if let Some(wallet) = wallet.filter(|w| w.currency != currency) {
                return Err(invalid(&format!(
                    "`wallet_id` names a {} wallet: leave `currency` out or ask for {}.",
                    wallet.currency, wallet.currency
                )));
            }
            currency
        }
    };
    Ok(Scope {
        ledger_id,
        currency,
        from,
        to,
        wallet_id: query.wallet_id,
    })
}

/// The currency a report (or insight) covers: the one asked for, else the user's.
pub fn report_currency(caller: &Caller, requested: Option<&str>) -> Result<String, ApiError> {
    match requested {
        Some(code) if crate::domain::currency::is_iso4217(code) => Ok(code.to_owned()),
        Some(_) => Err(invalid("`currency` must be an ISO 4217 code such as USD.")),
        None => Ok(caller.currency.to_string()),
    }
}

/// The business reports need a business ledger: anything else is told so.
pub fn require_business(caller: &Caller, report: &str) -> Result<(), ApiError> {
    if caller.ledger.kind == LedgerKind::Business {
        return Ok(());
    }
    Err(ApiError::Forbidden {
        code: "business_ledger_required",
        message: format!(
            "The {report} is kept for business ledgers; this one is {}. Create one with \
             POST /api/v1/ledgers {{\"kind\": \"business\"}} (or switch a household ledger's \
             kind) and use /api/v1/ledgers/{{ledger_id}}/reports/....",
            caller.ledger.kind.as_str()
        ),
    })
}

/// Income and expense by category and month, and the net result, of a business ledger.
pub fn profit_and_loss(
    conn: &mut PgConnection,
    caller: &Caller,
    window: &Window,
) -> Result<ProfitAndLoss, ApiError> {
    // The query's ids first: another ledger's wallet is 404 whatever this ledger's kind.
    let scope = scope_of(conn, caller, window)?;
    require_business(caller, "profit-and-loss report")?;
    let lines = reports::monthly_by_category(conn, &scope)?;
    let months = months_between(scope.from, scope.to);
    let column = |month: NaiveDate| months.iter().position(|m| *m == month);
    let mut income: Vec<ProfitAndLossLine> = Vec::new();
    let mut expense: Vec<ProfitAndLossLine> = Vec::new();
    for line in lines {
        let Some(at) = column(line.month) else {
            continue;
        };
        let side = if line.kind == "income" {
            &mut income
        } else {
            &mut expense
        };
        let row = match side.iter().position(|r| r.category_id == line.category_id) {
            Some(index) => &mut side[index],
            None => {
                side.push(ProfitAndLossLine {
                    category_id: line.category_id,
                    name: line.name,
                    by_month: vec![Money(Decimal::ZERO); months.len()],
                    total: Money(Decimal::ZERO),
                });
                side.last_mut()
                    .ok_or_else(|| ApiError::internal("a line just pushed"))?
            }
        };
        row.by_month[at].0 += line.amount;
        row.total.0 += line.amount;
    }
    for side in [&mut income, &mut expense] {
        side.sort_by(|a, b| b.total.0.cmp(&a.total.0).then_with(|| a.name.cmp(&b.name)));
    }
    let by_month = |side: &[ProfitAndLossLine]| -> Vec<Money> {
        (0..months.len())
            .map(|i| Money(side.iter().map(|r| r.by_month[i].0).sum()))
            .collect()
    };
    let income_by_month = by_month(&income);
    let expense_by_month = by_month(&expense);
    let net_by_month = income_by_month
        .iter()
        .zip(&expense_by_month)
        .map(|(i, e)| Money(i.0 - e.0))
        .collect();
    let total_income: Decimal = income.iter().map(|r| r.total.0).sum();
    let total_expense: Decimal = expense.iter().map(|r| r.total.0).sum();
    Ok(ProfitAndLoss {
        currency: scope.currency,
        from: scope.from,
        to: scope.to,
        months,
        income,
        expense,
        income_by_month,
        expense_by_month,
        net_by_month,
        total_income: Money(total_income),
        total_expense: Money(total_expense),
        net: Money(total_income - total_expense),
    })
}

/// Tax collected and paid per rate, what is due, and the deductible expenses of a business
/// ledger.
pub fn tax_summary(
    conn: &mut PgConnection,
    caller: &Caller,
    window: &Window,
) -> Result<TaxSummary, ApiError> {
    let scope = scope_of(conn, caller, window)?;
    require_business(caller, "tax summary")?;
    let by_rate: Vec<TaxRateLine> = reports::by_tax_rate(conn, &scope)?
        .into_iter()
        .map(|line| {
            let tax = included_tax(line.gross, line.rate);
            TaxRateLine {
                kind: line.kind,
                rate: Money(line.rate.normalize()),
                gross: Money(line.gross),
                net: Money(line.gross - tax),
                tax: Money(tax),
                transaction_count: line.transaction_count,
            }
        })
        .collect();
    let tax_of = |kind: &str| -> Decimal {
        by_rate
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.tax.0)
            .sum()
    };
    let (output_tax, input_tax) = (tax_of("income"), tax_of("expense"));
    let deductible_by_category: Vec<DeductibleCategory> =
        reports::deductible_by_category(conn, &scope)?
            .into_iter()
            .map(|row| DeductibleCategory {
                category_id: row.category_id,
                name: row.name,
                amount: Money(row.amount),
                transaction_count: row.transaction_count,
            })
            .collect();
    Ok(TaxSummary {
        currency: scope.currency,
        from: scope.from,
        to: scope.to,
        by_rate,
        output_tax: Money(output_tax),
        input_tax: Money(input_tax),
        net_tax_due: Money(output_tax - input_tax),
        deductible_expenses: Money(deductible_by_category.iter().map(|c| c.amount.0).sum()),
        deductible_by_category,
    })
}

/// The tax a tax-inclusive amount holds at `rate` percent, to 4 decimals.
fn included_tax(gross: Decimal, rate: Decimal) -> Decimal {
    let base = Decimal::ONE_HUNDRED + rate;
    if base.is_zero() {
        return Decimal::ZERO;
    }
    (gross * rate / base)
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The first day of every month from `from`'s to `to`'s.
fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut months = Vec::new();
    let mut month = from.with_day(1);
    while let Some(current) = month.filter(|m| *m <= to) {
        months.push(current);
        month = current.checked_add_months(Months::new(1));
    }
    months
}

/// Who spent and earned what in the ledger (any kind: "who spent what" in a household).
pub fn by_member(
    conn: &mut PgConnection,
    caller: &Caller,
    window: &Window,
) -> Result<Vec<MemberShare>, ApiError> {
    let scope = scope_of(conn, caller, window)?;
    Ok(reports::by_member(conn, &scope)?
        .into_iter()
        .map(|row| MemberShare {
            user_id: row.user_id,
            name: row.name,
            automatic: row.automatic,
            income: Money(row.income),
            expense: Money(row.expense),
            transaction_count: row.transaction_count,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tax_an_amount_includes_is_exact_to_four_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(included_tax(d("110"), d("10")), d("10"));
        assert_eq!(included_tax(d("100"), d("8")), d("7.4074"));
        assert_eq!(included_tax(d("5000"), d("0")), d("0"));
    }

    #[test]
    fn a_period_covers_each_month_it_touches_once() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            months_between(day("2026-01-31"), day("2026-03-01")),
            [day("2026-01-01"), day("2026-02-01"), day("2026-03-01")]
        );
        assert_eq!(
            months_between(day("2026-05-10"), day("2026-05-20")),
            [day("2026-05-01")]
        );
    }
}
