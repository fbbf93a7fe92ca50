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
use uuid::Uuid;

use super::rate_limit::{self, Bucket, Credential, Verdict};
use super::{jwt, tokens};
use crate::db;
use crate::domain::user::{Role, UserStatus};
use crate::error::ApiError;
use crate::http::context::origin;
use crate::http::extract::Admission;
use crate::http::ledger_scope::{unscope, LedgerScope};
use crate::services::caller::{Account, Caller};
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

/// How long the access token behind a request lives: an event stream opened with it closes
/// when it expires. Put in the request's extensions beside the [`Caller`].
#[derive(Clone, Copy, Debug)]
pub struct TokenLife {
    /// Unix seconds; `None` for a personal access token, which outlives the account's token
    /// cut-off (a password change ends it only when the user asks).
    pub issued_at: Option<i64>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The personal access token behind the request, if it is one.
    pub personal_token: Option<Uuid>,
    /// The login session (refresh-token family) an access token was issued in.
    pub session: Option<Uuid>,
}

/// The token behind a request the [`Caller`] extractor admitted.
pub fn token_life(req: &HttpRequest) -> Result<TokenLife, ApiError> {
    req.extensions()
        .get::<TokenLife>()
        .copied()
        .ok_or_else(|| ApiError::internal("the token's life was not recorded"))
}

fn insufficient_scope() -> ApiError {
    ApiError::Forbidden {
        code: "insufficient_scope",
        message: "This personal access token may only read: create one with the `write` scope \
                  to change data."
            .into(),
    }
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
        let writes = !matches!(*req.method(), Method::GET | Method::HEAD)
            && !req
                .match_pattern()
                .is_some_and(|p| READING_POSTS.contains(&p.as_str()));
        let req = req.clone();
        let admission = Admission::open(&req);
        Box::pin(async move {
            let _decided = admission;
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            match authenticate(&state, &req, token, scope, writes).await {
                Ok((caller, life)) => {
                    let mut extensions = req.extensions_mut();
                    extensions.insert(caller);
                    extensions.insert(life);
                    Ok(caller)
                }
                Err(error @ (ApiError::InvalidToken | ApiError::TokenExpired)) => {
                    Err(rate_limit::count_failed_credential(&state, &req, error).await)
                }
                Err(error) => Err(error),
            }
        })
    }
}

/// Verifies the bearer token and admits its account, counting the request against the
/// credential's rate-limit bucket.
async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    token: Result<String, ApiError>,
    scope: Option<LedgerScope>,
    writes: bool,
) -> Result<(Caller, TokenLife), ApiError> {
    let token = token?;
    if token.starts_with(tokens::PERSONAL_PREFIX) {
        let hash = tokens::digest(&token);
        let ip = origin(req).ip;
        let presented = db::run(&state.pool, move |conn| {
            db::personal_tokens::present(conn, &hash, ip.as_deref())
        })
        .await?
        .ok_or(ApiError::InvalidToken)?;
        let ticket = req
            .match_pattern()
            .is_some_and(|p| TICKET_POSTS.contains(&p.as_str()));
        if (writes || ticket) && !presented.scopes.iter().any(|s| s == "write") {
            return Err(insufficient_scope());
        }
        let counted = Counted {
            req,
            credential: Credential::PersonalToken(presented.id),
        };
        let caller = admit(
            state,
            presented.user_id,
            None,
            None,
            scope,
            writes,
            Some(counted),
        )
        .await?;
        let life = TokenLife {
            issued_at: None,
            expires_at: presented.expires_at.unwrap_or(i64::MAX),
            personal_token: Some(presented.id),
            session: None,
        };
        Ok((caller, life))
    } else {
        let claims = jwt::verify(state.settings.jwt_secret.expose(), &token)?;
        let counted = Counted {
            req,
            credential: Credential::User(claims.sub),
        };
        let caller = admit(
            state,
            claims.sub,
            Some(claims.iat),
            claims.sid,
            scope,
            writes,
            Some(counted),
        )
        .await?;
        let life = TokenLife {
            issued_at: Some(claims.iat),
            expires_at: claims.exp,
            personal_token: None,
            session: claims.sid,
        };
        Ok((caller, life))
    }
}

/// A request to count against its credential's bucket while admitting it.
pub struct Counted<'a> {
    pub req: &'a HttpRequest,
    pub credential: Credential,
}

/// Lets `user_id`, holding a token issued at `issued_at`, in: the account must exist, be
/// active (and verified, where required) and not have revoked its tokens since (`None`: a
/// personal access token, which the cut-off does not end); on a ledger path, the user must be
/// a member (404 otherwise) and a writer to write. One read, which also counts the request
/// against its bucket when `counted` (429 `rate_limited` when it is spent).
pub async fn admit(
    state: &AppState,
    user_id: Uuid,
    issued_at: Option<i64>,
    session: Option<Uuid>,
    scope: Option<LedgerScope>,
    writes: bool,
    counted: Option<Counted<'_>>,
) -> Result<Caller, ApiError> {
    let bucket = counted.as_ref().and_then(|counted| {
        Bucket::signed_in(&state.settings.rate_limits, counted.credential, writes)
    });
    // A request from a lease this instance holds costs no write; otherwise the account read
    // claims from the bucket in the same statement.
    let leased = bucket.as_ref().and_then(|b| state.leases.take(&b.key));
    let claim = match (&bucket, leased) {
        (Some(bucket), None) => Some((
            bucket.key.clone(),
            bucket.interval_secs(),
            state.leases.want(bucket),
        )),
        _ => None,
    };
    let asked = claim.as_ref().map_or(0, |c| c.2);
    let (hit, row, membership) = db::run(&state.pool, move |conn| {
        let (hit, row) = match claim {
            Some((key, interval, want)) => {
                let (hit, row) = db::rate_limits::access_counted(
                    conn,
                    user_id,
                    session,
                    &key,
                    interval,
                    rate_limit::WINDOW.as_secs_f64(),
                    want,
                )?;
                (Some(hit), row)
            }
            None => (None, db::users::access(conn, user_id, session)?),
        };
        let Some(row) = row else {
            return Ok((hit, None, None));
        };
        let membership = match scope {
            Some(LedgerScope(ledger)) => db::ledgers::access(conn, ledger, user_id)?,
            None => None,
        };
        Ok::<_, ApiError>((hit, Some(row), membership))
    })
    .await?;
    let verdict = match (&bucket, hit) {
        (Some(bucket), Some(hit)) => {
            let verdict = Verdict::new(bucket, hit);
            state.leases.record(bucket, asked, hit, verdict);
            Some(verdict)
        }
        _ => leased,
    };
    if let (Some(verdict), Some(counted)) = (verdict, &counted) {
        counted.req.extensions_mut().insert(verdict);
        verdict.enforce()?;
    }
    let row = row.ok_or(ApiError::InvalidToken)?;
    let session_live = row.session_live;
    let account = Account::from_row(user_id, row)?;
    // A disabled account says so, whatever token is shown (disabling also ends the
    // tokens handed out before it, so they stay dead once it is enabled again).
    if account.status == UserStatus::Disabled {
        return Err(account_disabled());
    }
    // Tokens from before a password change, reset, detected theft or a disabling are dead, and
    // so are those of a session that was ended.
    if issued_at.is_some_and(|iat| iat < account.tokens_valid_after) || !session_live {
        return Err(ApiError::InvalidToken);
    }
    if state.settings.auth.require_email_verification && !account.email_verified {
        return Err(email_not_verified());
    }
    let mut caller = account.caller;
    if scope.is_some() {
        // A ledger one is not a member of does not exist, as far as one can tell.
        let (ledger, role) = membership.ok_or_else(|| ApiError::not_found("Ledger"))?;
        caller = caller.in_ledger(&ledger, &role)?;
        if writes && !caller.ledger.role.can_write() {
            return Err(read_only());
        }
    }
    Ok(caller)
}

/// POST routes that change nothing of the ledger (a question, a simulation, feedback on one's
/// own answer, one's own reading of notifications, a ticket to read the event stream): a viewer
/// and a read-only token may use them.
const READING_POSTS: &[&str] = &[
    "/api/v1/assistant/ask",
    "/api/v1/assistant/answers/{id}/feedback",
    "/api/v1/scenarios/simulate",
    "/api/v1/notifications/{id}/read",
    "/api/v1/notifications/read-all",
    // A ticket only lets a browser open the stream a viewer may read with a header.
    "/api/v1/events/ticket",
];

/// Of those, the ones a read-only personal access token may not make all the same: a ticket is
/// for a browser's session, and an integration reads the stream with its token in the header.
const TICKET_POSTS: &[&str] = &["/api/v1/events/ticket"];

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

/// The caller of an event stream: by `Authorization` header like any request, or, for clients
/// that cannot send headers, by a single-use ticket (`?ticket=`, from `POST /events/ticket`),
/// good only for the ledger it was issued for. Either way the stream learns how long the
/// access token behind it lives.
#[derive(Clone, Copy, Debug)]
pub struct StreamCaller {
    pub caller: Caller,
    pub token: TokenLife,
    pub scope: Option<LedgerScope>,
}

/// The `?ticket=` of a request for an event stream (any other path has none): such a request
/// is counted against its caller's bucket once the ticket names them, not its address's.
pub fn stream_ticket(req: &HttpRequest) -> Option<String> {
    let path = req.match_info().as_str();
    let path = unscope(path).map_or_else(|| path.to_owned(), |(_, path)| path);
    if req.method() != Method::GET
        || !matches!(path.as_str(), "/api/v1/events/ws" | "/api/v1/events/stream")
    {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct TicketQuery {
        ticket: Option<String>,
    }
    serde_urlencoded::from_str::<TicketQuery>(req.query_string())
        .ok()
        .and_then(|q| q.ticket)
}

fn invalid_ticket() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_ticket",
        message: "This ticket is unknown, used or expired: ask for another \
                  (POST /api/v1/events/ticket), or send the access token in `Authorization`."
            .into(),
    }
}

impl FromRequest for StreamCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let scope = req.extensions().get::<LedgerScope>().copied();
        if req.headers().contains_key(header::AUTHORIZATION) {
            let caller = Caller::from_request(req, payload);
            let req = req.clone();
            return Box::pin(async move {
                let caller = caller.await?;
                let token = token_life(&req)?;
                Ok(StreamCaller {
                    caller,
                    token,
                    scope,
                })
            });
        }
        let ticket = stream_ticket(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            let ticket = ticket.ok_or(ApiError::MissingToken)?;
            let hash = tokens::digest(&ticket);
            let ticket = db::run(&state.pool, move |conn| {
                db::events::redeem_ticket(conn, &hash)
            })
            .await?
            .filter(|ticket| scope.map_or(ticket.user_id, |LedgerScope(l)| l) == ticket.ledger_id);
            // A ticket that does not open the stream counts against the address, as a token
            // that does not verify does: guessing tickets is limited like guessing tokens.
            let Some(ticket) = ticket else {
                return Err(
                    rate_limit::count_failed_credential(&state, &req, invalid_ticket()).await,
                );
            };
            if ticket.token_expires_at <= chrono::Utc::now().timestamp() {
                return Err(ApiError::TokenExpired);
            }
            let issued_at = match ticket.personal_token_id {
                Some(_) => None,
                None => Some(ticket.token_issued_at),
            };
            let credential = match ticket.personal_token_id {
                Some(id) => Credential::PersonalToken(id),
                None => Credential::User(ticket.user_id),
            };
            let counted = Counted {
                req: &req,
                credential,
            };
            let caller = admit(
                &state,
                ticket.user_id,
                issued_at,
                ticket.session_id,
                scope,
                false,
                Some(counted),
            )
            .await?;
            Ok(StreamCaller {
                caller,
                token: TokenLife {
                    issued_at,
                    expires_at: ticket.token_expires_at,
                    personal_token: ticket.personal_token_id,
                    session: ticket.session_id,
                },
                scope,
            })
        })
    }
}
