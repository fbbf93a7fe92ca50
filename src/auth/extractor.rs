//! The [`Caller`] extractor, from `Authorization: Bearer <access token>`. The token must verify,
//! and the account must still exist and be active, so a disabled or deleted user's token stops
//! working at once. One read of the account gives the caller's role, currency and time zone
//! too, for every use case of the request. On a ledger-scoped path (`http::ledger_scope`) the
//! same read checks the membership: a ledger the caller is not a member of is 404, and a
//! viewer's write is 403 `ledger_read_only`. `AdminUser` additionally requires the `admin` role.

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::jwt;
use crate::db;
use crate::domain::currency::CurrencyCode;
use crate::domain::sharing::{LedgerKind, LedgerRole};
use crate::domain::user::{Role, UserStatus};
use crate::error::ApiError;
use crate::http::ledger_scope::LedgerScope;
use crate::services::caller::{stored, Account, Caller, LedgerAccess};
use crate::state::AppState;

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::MissingToken)?
        .to_str()
        .map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(user) = req.extensions().get::<Caller>() {
            let user = *user;
            return Box::pin(async move { Ok(user) });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let scope = req.extensions().get::<LedgerScope>().copied();
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            let claims = jwt::verify(state.settings.jwt_secret.expose(), &token?)?;
            let user_id = claims.sub;
            let (row, membership) = db::run(&state.pool, move |conn| {
                let Some(row) = db::users::access(conn, user_id)? else {
                    return Ok((None, None));
                };
                let membership = match scope {
                    Some(LedgerScope(ledger)) => db::ledgers::access(conn, ledger, user_id)?,
                    None => None,
                };
                Ok::<_, ApiError>((Some(row), membership))
            })
            .await?;
            let row = row.ok_or(ApiError::InvalidToken)?;
            let account = Account::from_row(user_id, row)?;
            // A disabled account says so, whatever token is shown (disabling also ends the
            // tokens handed out before it, so they stay dead once it is enabled again).
            if account.status == UserStatus::Disabled {
                return Err(account_disabled());
            }
            // Tokens from before a password change, reset, detected theft or a disabling are dead.
            if claims.iat < account.tokens_valid_after {
                return Err(ApiError::InvalidToken);
            }
            if state.settings.auth.require_email_verification && !account.email_verified {
                return Err(email_not_verified());
            }
            let mut caller = account.caller;
            if scope.is_some() {
                // A ledger one is not a member of does not exist, as far as one can tell.
                let (ledger, role) = membership.ok_or_else(|| ApiError::not_found("Ledger"))?;
                let access = LedgerAccess {
                    id: ledger.id,
                    kind: stored("ledger kind", &ledger.kind, LedgerKind::parse)?,
                    role: stored("ledger role", &role, LedgerRole::parse)?,
                };
                if writes && !access.role.can_write() {
                    return Err(read_only());
                }
                let currency = stored("currency", &ledger.currency, CurrencyCode::parse)?;
                caller = caller.in_ledger(access, currency);
            }
            req.extensions_mut().insert(caller);
            Ok(caller)
        })
    }
}

pub fn account_disabled() -> ApiError {
    ApiError::Forbidden {
        code: "account_disabled",
        message: "This account is disabled. Contact an administrator.".into(),
    }
}

pub fn read_only() -> ApiError {
    ApiError::Forbidden {
        code: "ledger_read_only",
        message: "You can view this ledger but not change it: ask one of its owners for the \
                  editor role."
            .into(),
    }
}

pub fn email_not_verified() -> ApiError {
    ApiError::Forbidden {
        code: "email_not_verified",
        message: "Confirm your email address first; we can resend the link \
                  (POST /api/v1/auth/email/resend)."
            .into(),
    }
}

/// An authenticated caller with the `admin` role; anyone else gets 403 `forbidden`.
#[derive(Clone, Copy, Debug)]
pub struct AdminUser(pub Caller);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = Caller::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            if user.role != Role::Admin {
                return Err(ApiError::Forbidden {
                    code: "forbidden",
                    message: "Only administrators may do this.".into(),
                });
            }
            Ok(AdminUser(user))
        })
    }
}
