//! Account security shared by the auth and user routes: checking a password against the
//! lockout, hashing one off the executor, the audit trail of sign-ins, mailed single-use links,
//! and the reuse of a spent refresh token.

use chrono::{Duration as ChronoDuration, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;

use crate::auth::mailer::{send_in_background, Mail};
use crate::auth::{password, tokens};
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::login_throttle::AttemptOutcome;
use crate::db::users::{self, User};
use crate::db::{self, login_throttle, refresh_tokens, user_tokens};
use crate::domain::user::{Role, UserStatus};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use uuid::Uuid;

const RESET_TOKEN_TTL_HOURS: i64 = 1;
const VERIFICATION_TOKEN_TTL_HOURS: i64 = 48;

pub fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_credentials",
        message: "Wrong email or password.".into(),
    }
}

pub fn invalid_refresh_token() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_refresh_token",
        message: "The refresh token is invalid or expired. Log in again.".into(),
    }
}

pub fn locked(until: chrono::DateTime<Utc>) -> ApiError {
    let seconds = (until - Utc::now()).num_seconds().max(1) as u64;
    ApiError::TooManyRequests {
        code: "account_locked",
        message: format!(
            "Too many failed logins for this account. Try again in {} minutes.",
            seconds.div_ceil(60)
        ),
        retry_after_secs: seconds,
    }
}

pub fn record(
    conn: &mut PgConnection,
    action: Action,
    user: Option<uuid::Uuid>,
    origin: &Origin,
) -> diesel::QueryResult<()> {
    audit::record(
        conn,
        Event {
            action,
            user_id: user,
            actor_id: user,
            origin,
            details: json!({}),
        },
    )
}

/// Creates a single-use token for `user` and writes the mail holding its link. The caller
/// sends it once the transaction has committed, so no mail carries a rolled-back token.
pub fn prepare_link(
    state: &AppState,
    conn: &mut PgConnection,
    user: &User,
    purpose: &str,
) -> Result<Option<Mail>, ApiError> {
    // However often it is asked for (by anyone, from anywhere), an address gets at most a few
    // links of a kind an hour: an outside test had 60 mails sent to one inbox in a minute. The
    // answer does not change, so nothing tells the asker.
    let hour_ago = Utc::now() - ChronoDuration::hours(1);
    crate::db::users::lock(conn, user.id)?;
    if user_tokens::made_since(conn, user.id, purpose, hour_ago)? >= MAILS_PER_HOUR {
        return Ok(None);
    }
    let token = tokens::generate();
    let (hours, path, subject, intro) = if purpose == user_tokens::PASSWORD_RESET {
        (
            RESET_TOKEN_TTL_HOURS,
            "reset-password",
            "Reset your FinAI password",
            "Someone (hopefully you) asked to reset the password of your FinAI account.",
        )
    } else {
        (
            VERIFICATION_TOKEN_TTL_HOURS,
            "verify-email",
            "Confirm your FinAI email address",
            "Welcome to FinAI! Please confirm that this is your email address.",
        )
    };
    user_tokens::insert(
        conn,
        user.id,
        purpose,
        &tokens::digest(&token),
        Utc::now() + ChronoDuration::hours(hours),
    )?;
    let link = format!("{}/{path}?token={token}", state.settings.public_url);
    Ok(Some(Mail {
        to: user.email.clone(),
        subject: subject.into(),
        body: format!(
            "Hello {},\n\n{intro}\n\n{link}\n\nThe link works once and expires in {hours} hour{}. \
             If you did not ask for this, ignore this mail.\n",
            user.name,
            if hours == 1 { "" } else { "s" }
        ),
    }))
}

/// The most links of one kind (password reset, address verification) an address is mailed in
/// an hour.
const MAILS_PER_HOUR: i64 = 5;

pub fn send(state: &AppState, mail: Option<Mail>) {
    if let Some(mail) = mail {
        send_in_background(state.mailer.clone(), mail);
    }
}

/// Counts a password attempt for `key` before the password is checked (see
/// `login_throttle::begin_attempt`); refuses at once while the address is locked.
pub async fn begin_attempt(state: &AppState, key: String) -> ApiResult<u32> {
    let auth = state.settings.auth.clone();
    let outcome = db::run(&state.pool, move |conn| {
        login_throttle::begin_attempt(conn, &key, auth.lockout_threshold, auth.lockout_duration)
    })
    .await?;
    match outcome {
        AttemptOutcome::Locked(until) => Err(locked(until)),
        AttemptOutcome::Proceed(attempt) => Ok(attempt),
    }
}

/// Checks `password` against `user`'s hash off the executor, counting the attempt against the
/// address: a wrong password may lock it. Used wherever a password is asked for.
///
/// For an account with two-factor login a right password does not clear the failures (a right
/// code does), as at login: else a right password sent between wrong codes (to turn two-factor
/// off, or through a password change) would wipe the count and let codes be guessed without
/// end. Its own attempt is taken back, so using the password does not lock the account either.
pub async fn check_password(
    state: &AppState,
    user: &User,
    password: String,
    origin: &Origin,
) -> ApiResult<bool> {
    let key = user.email.to_lowercase();
    let attempt = begin_attempt(state, key.clone()).await?;
    let stored = user.password_hash.clone();
    let ok = state
        .hasher
        .run(move || password::verify(&password, &stored))
        .await?;
    if ok && user.two_factor_enabled {
        db::run(&state.pool, move |conn| {
            login_throttle::undo_attempt(conn, &key)
        })
        .await?;
    } else {
        settle_attempt(state, key, attempt, ok, Some(user.id), origin.clone()).await?;
    }
    Ok(ok)
}

/// Records the result of a counted attempt: success clears the count, failure may lock.
pub async fn settle_attempt(
    state: &AppState,
    key: String,
    attempt: u32,
    ok: bool,
    user_id: Option<uuid::Uuid>,
    origin: Origin,
) -> ApiResult<()> {
    let auth = state.settings.auth.clone();
    let locked_now = db::run(&state.pool, move |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            if ok {
                login_throttle::clear(conn, &key)?;
                return Ok(None);
            }
            let locked = login_throttle::record_failure(
                conn,
                &key,
                attempt,
                auth.lockout_threshold,
                auth.lockout_duration,
            )?;
            record(conn, Action::LoginFailed, user_id, &origin)?;
            if locked.is_some() {
                record(conn, Action::AccountLocked, user_id, &origin)?;
            }
            Ok(locked)
        })
    })
    .await?;
    match locked_now {
        Some(until) => Err(locked(until)),
        None => Ok(()),
    }
}

pub async fn hash_password(state: &AppState, password: String) -> ApiResult<String> {
    let cost = state.settings.auth.bcrypt_cost;
    state
        .hasher
        .run(move || password::hash(&password, cost))
        .await?
        .map_err(ApiError::internal)
}

pub fn refresh_token_reused() -> ApiError {
    ApiError::Unauthorized {
        code: "refresh_token_reused",
        message: "This refresh token was already used, so it may have been stolen. Every \
                  session it belonged to has been ended; log in again."
            .into(),
    }
}

/// Ends the family of a spent token that was presented again, and logs it.
pub fn handle_reuse(
    conn: &mut PgConnection,
    token: &refresh_tokens::RefreshToken,
    origin: &Origin,
) -> Result<(), ApiError> {
    refresh_tokens::revoke_family(conn, token.family_id)?;
    users::revoke_access_tokens(conn, token.user_id)?;
    audit::record(
        conn,
        Event {
            action: Action::RefreshTokenReused,
            user_id: Some(token.user_id),
            actor_id: None,
            origin,
            details: json!({"family_id": token.family_id}),
        },
    )?;
    Ok(())
}

/// Deletes the account and everything it owns (its personal ledger, and the shared ledgers it
/// is the only member of), in one transaction, and logs it.
pub fn delete_account(
    conn: &mut PgConnection,
    user: &User,
    actor: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    db::transaction::<_, ApiError, _>(conn, |conn| {
        users::lock_admins(conn)?;
        if let Some(current) = users::find(conn, user.id)? {
            keep_an_admin(conn, &current)?;
        }
        super::sharing::leave_all(conn, user.id)?;
        users::delete(conn, user.id)?;
        login_throttle::clear(conn, &user.email.to_lowercase())?;
        audit::record(
            conn,
            Event {
                action: Action::AccountDeleted,
                user_id: None,
                actor_id: (actor != user.id).then_some(actor),
                origin,
                // Not a foreign key: the record of who was deleted outlives the account.
                details: json!({"deleted_user_id": user.id, "by_admin": actor != user.id}),
            },
        )?;
        Ok(())
    })
}

/// Refuses to let the last active admin go (demoted, disabled or deleted): nobody could manage
/// the accounts any more. Call under [`users::lock_admins`].
pub fn keep_an_admin(conn: &mut PgConnection, leaving: &User) -> Result<(), ApiError> {
    let is_active_admin = leaving.role() == Role::Admin && leaving.status() == UserStatus::Active;
    if is_active_admin && !users::other_active_admins(conn, leaving.id)? {
        return Err(ApiError::Conflict {
            code: "last_admin",
            message: "This is the only active admin; make another account admin first.".into(),
        });
    }
    Ok(())
}
