//! The caller of a request: who they are and what every use case needs to know about them,
//! read once per request (by the auth extractor) and passed down.

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::db::ledgers::Ledger;
use crate::db::users::AccessRow;
use crate::domain::currency::CurrencyCode;
use crate::domain::sharing::{LedgerKind, LedgerRole};
use crate::domain::user::{Role, UserStatus};
use crate::error::ApiError;

#[derive(Clone, Copy, Debug)]
pub struct Caller {
    pub id: Uuid,
    pub role: Role,
    /// The ledger the request works on: the one named in its path
    /// (`/api/v1/ledgers/{ledger_id}/...`), or else the caller's personal ledger.
    pub ledger: LedgerAccess,
    /// The working ledger's default currency (for the personal ledger, the account's).
    pub currency: CurrencyCode,
    pub timezone: Tz,
    today: NaiveDate,
}

/// A ledger as one of its members reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerAccess {
    pub id: Uuid,
    pub kind: LedgerKind,
    pub role: LedgerRole,
}

impl LedgerAccess {
    /// A user's personal ledger: it has the user's id, and its only member is its owner.
    pub fn personal(user_id: Uuid) -> LedgerAccess {
        LedgerAccess {
            id: user_id,
            kind: LedgerKind::Personal,
            role: LedgerRole::Owner,
        }
    }
}

impl Caller {
    /// "Today" where the caller lives, as of the start of the request.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The API path of `tail` (`attachments/{id}`) as this caller reaches it in the working
    /// ledger: `/api/v1/{tail}` in their personal ledger, `/api/v1/ledgers/{id}/{tail}` in
    /// another.
    pub fn path(&self, tail: &str) -> String {
        if self.ledger.id == self.id {
            format!("/api/v1/{tail}")
        } else {
            format!("/api/v1/ledgers/{}/{tail}", self.ledger.id)
        }
    }

    /// The caller as a member of another ledger (with their stored role in it), working in that
    /// ledger's currency.
    pub fn in_ledger(self, ledger: &Ledger, role: &str) -> Result<Caller, ApiError> {
        Ok(Caller {
            ledger: LedgerAccess {
                id: ledger.id,
                kind: stored("ledger kind", &ledger.kind, LedgerKind::parse)?,
                role: stored("ledger role", role, LedgerRole::parse)?,
            },
            currency: stored("currency", &ledger.currency, CurrencyCode::parse)?,
            ..self
        })
    }
}

/// A member as background work acts for them (a queued import): their account, working in the
/// ledger with their role there. `None` when the account is gone or disabled, or is no longer
/// a member of the ledger.
pub fn member(
    conn: &mut diesel::PgConnection,
    user_id: Uuid,
    ledger_id: Uuid,
) -> Result<Option<Caller>, ApiError> {
    let Some(row) = crate::db::users::access(conn, user_id, None)? else {
        return Ok(None);
    };
    let account = Account::from_row(user_id, row)?;
    if account.status == UserStatus::Disabled {
        return Ok(None);
    }
    if ledger_id == user_id {
        return Ok(Some(account.caller));
    }
    match crate::db::ledgers::access(conn, ledger_id, user_id)? {
        Some((ledger, role)) => account.caller.in_ledger(&ledger, &role).map(Some),
        None => Ok(None),
    }
}

/// An account as the per-request token check sees it.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub caller: Caller,
    pub status: UserStatus,
    pub email_verified: bool,
    /// Tokens issued before this (Unix seconds) are refused.
    pub tokens_valid_after: i64,
}

/// Parses a stored value that the schema constrains: a value outside it is a bug or a bad
/// migration, logged as such, never read as some default.
pub fn stored<T>(
    column: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| ApiError::internal(format!("unknown stored {column}: {value:?}")))
}

/// "Today" in an IANA time zone.
pub fn today_in(timezone: Tz) -> NaiveDate {
    Utc::now().with_timezone(&timezone).date_naive()
}

/// The stored time zone of an account.
pub fn timezone_of(value: &str) -> Result<Tz, ApiError> {
    stored("timezone", value, |v| v.parse::<Tz>().ok())
}

impl Account {
    pub fn from_row(id: Uuid, row: AccessRow) -> Result<Account, ApiError> {
        let timezone = timezone_of(&row.timezone)?;
        Ok(Account {
            caller: Caller {
                id,
                ledger: LedgerAccess::personal(id),
                role: stored("role", &row.role, Role::parse)?,
                currency: stored("currency", &row.currency, CurrencyCode::parse)?,
                timezone,
                today: today_in(timezone),
            },
            status: stored("status", &row.status, UserStatus::parse)?,
            email_verified: row.email_verified_at.is_some(),
            tokens_valid_after: row.tokens_valid_after.timestamp(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_stored_value_is_an_error_not_a_default() {
        let error = stored("status", "frozen", UserStatus::parse).unwrap_err();
        assert_eq!(error.code(), "internal_error");
        assert!(timezone_of("Mars/Olympus").is_err());
        assert_eq!(
            timezone_of("Asia/Ho_Chi_Minh").unwrap(),
            chrono_tz::Asia::Ho_Chi_Minh
        );
    }
}
