//! What a report covers: its dates in the caller's time zone, its wallet and its currency.

use chrono::{Days, NaiveDate};
use diesel::PgConnection;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::reports::Scope;
use crate::db::wallets;
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
    use chrono::Datelike;
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
