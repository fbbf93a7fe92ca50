//! Two-factor login with an authenticator app (TOTP, RFC 6238) and recovery codes.
//!
//! Enrolment asks for the password, hands out a new secret (as a key URI and its QR code) and
//! turns two-factor login on only when a first code proves the app holds it; ten single-use
//! recovery codes are shown then, once, and kept as digests. From then on a right password
//! answers with a challenge, and `/auth/mfa/verify` trades it and a code for the session.
//! Every code checked for a login or a change counts toward the account's lockout, as a
//! password does; a password alone no longer clears that count for such an account. Turning it
//! off needs the password and a code; an admin can reset it for a user who lost both (audited).

use chrono::{Duration, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::accounts::{begin_attempt, check_password, settle_attempt};
use super::caller::Caller;
use super::personal_tokens::session_only;
use crate::auth::extractor::TokenLife;
use crate::auth::tokens;
use crate::auth::totp::{self, SecondFactor};
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::users::{self, User};
use crate::db::{self, two_factor};
use crate::dto::two_factor::{Enrolment, MfaChallenge, RecoveryCodes, TwoFactorStatus};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a login may take between its password and its code.
pub const CHALLENGE_TTL_MINUTES: i64 = 5;

fn already_enabled() -> ApiError {
    ApiError::Conflict {
        code: "two_factor_enabled",
        message: "Two-factor login is already on; turn it off first to enrol another app.".into(),
    }
}

fn not_enabled() -> ApiError {
    ApiError::Conflict {
        code: "two_factor_not_enabled",
        message: "Two-factor login is off for this account.".into(),
    }
}

fn wrong_password() -> ApiError {
    ApiError::invalid_field("password", "is not the account's password")
}

fn wrong_code() -> ApiError {
    ApiError::invalid_field(
        "code",
        "is not a valid code now (codes change every 30 seconds, and each works once)",
    )
}

/// A code that does not finish a login.
pub fn invalid_mfa_code() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_mfa_code",
        message: "That code is not valid. Use the current code from your authenticator app, or \
                  an unused recovery code."
            .into(),
    }
}

/// A challenge that is unknown, spent or expired.
pub fn invalid_challenge() -> ApiError {
    ApiError::Unauthorized {
        code: "mfa_challenge_invalid",
        message: "This login challenge is unknown, used or expired: log in again.".into(),
    }
}

fn parse_code(raw: &str) -> ApiResult<SecondFactor> {
    SecondFactor::parse(raw).map_err(|message| ApiError::invalid_field("code", message))
}

fn record(
    conn: &mut PgConnection,
    action: Action,
    user_id: Uuid,
    actor_id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    audit::record(
        conn,
        Event {
            action,
            user_id: Some(user_id),
            actor_id: Some(actor_id),
            origin,
            details: json!({}),
        },
    )?;
    Ok(())
}

pub fn status(conn: &mut PgConnection, user_id: Uuid) -> Result<TwoFactorStatus, ApiError> {
    let credential = two_factor::credential(conn, user_id)?;
    let remaining = two_factor::recovery_codes_left(conn, user_id)?;
    let enabled_at = credential.as_ref().and_then(|c| c.confirmed_at);
    Ok(TwoFactorStatus {
        enabled: enabled_at.is_some(),
        pending: credential.is_some() && enabled_at.is_none(),
        enabled_at,
        recovery_codes_remaining: if enabled_at.is_some() { remaining } else { 0 },
    })
}

async fn account(state: &AppState, id: Uuid) -> ApiResult<User> {
    db::run(&state.pool, move |conn| users::find(conn, id))
        .await?
        .ok_or(ApiError::InvalidToken)
}

/// Starts (or restarts) an enrolment: a new secret, pending until [`confirm`].
pub async fn enrol(
    state: &AppState,
    caller: &Caller,
    token: TokenLife,
    password: String,
    origin: &Origin,
) -> ApiResult<Enrolment> {
    session_only(token)?;
    let user = account(state, caller.id).await?;
    if user.two_factor_enabled {
        return Err(already_enabled());
    }
    if !check_password(state, &user, password, origin).await? {
        return Err(wrong_password());
    }
    let secret = totp::new_secret();
    let uri = totp::otpauth_uri(&secret, &user.email);
    let qr_svg = totp::qr_svg(&uri).map_err(|e| ApiError::internal(format!("QR code: {e}")))?;
    let text = totp::secret_text(&secret);
    let user_id = user.id;
    db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            // Confirmed meanwhile by another request: keep that one.
            if two_factor::credential_for_update(conn, user_id)?
                .is_some_and(|c| c.confirmed_at.is_some())
            {
                return Err(already_enabled());
            }
            two_factor::put_pending(conn, user_id, &secret)?;
            Ok(())
        })
    })
    .await?;
    Ok(Enrolment {
        secret: text,
        otpauth_uri: uri,
        qr_svg,
        algorithm: "SHA1",
        digits: totp::DIGITS,
        period: totp::PERIOD,
    })
}

fn fresh_recovery_codes(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<String>, ApiError> {
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|code| tokens::digest(&totp::recovery_code_key(code)))
        .collect();
    two_factor::replace_recovery_codes(conn, user_id, &hashes)?;
    Ok(codes)
}

/// Turns two-factor login on with the first code of a pending enrolment; answers the recovery
/// codes.
pub fn confirm(
    conn: &mut PgConnection,
    caller: &Caller,
    token: TokenLife,
    code: &str,
    origin: &Origin,
    now: i64,
) -> Result<RecoveryCodes, ApiError> {
    session_only(token)?;
    let SecondFactor::Totp(code) = parse_code(code)? else {
        return Err(ApiError::invalid_field(
            "code",
            "must be the 6-digit code from your authenticator app",
        ));
    };
    let codes = db::transaction(conn, |conn| {
        let Some(credential) = two_factor::credential_for_update(conn, caller.id)? else {
            return Err(ApiError::Conflict {
                code: "two_factor_not_started",
                message: "Start an enrolment first (POST /api/v1/users/me/two-factor).".into(),
            });
        };
        if credential.confirmed_at.is_some() {
            return Err(already_enabled());
        }
        let Some(step) = totp::verify(&credential.secret, &code, now, credential.last_step) else {
            return Err(wrong_code());
        };
        two_factor::use_step(conn, caller.id, step)?;
        two_factor::set_enabled(conn, caller.id, true)?;
        // Sessions opened with the password alone (perhaps a stolen one, which is why the
        // owner turns this on) end; this one, which just proved the code, goes on.
        if let Some(session) = token.session {
            crate::db::refresh_tokens::revoke_others(conn, caller.id, session)?;
        }
        let codes = fresh_recovery_codes(conn, caller.id)?;
        record(conn, Action::TwoFactorEnabled, caller.id, caller.id, origin)?;
        Ok(codes)
    })?;
    Ok(RecoveryCodes {
        recovery_codes: codes,
        status: status(conn, caller.id)?,
    })
}

/// Checks a second factor of a confirmed credential, spending it (a TOTP step, a recovery
/// code). Call inside a transaction.
fn check_factor(
    conn: &mut PgConnection,
    user_id: Uuid,
    factor: &SecondFactor,
    origin: &Origin,
    now: i64,
) -> Result<bool, ApiError> {
    let Some(credential) = two_factor::credential_for_update(conn, user_id)? else {
        return Ok(false);
    };
    if credential.confirmed_at.is_none() {
        return Ok(false);
    }
    match factor {
        SecondFactor::Totp(code) => {
            match totp::verify(&credential.secret, code, now, credential.last_step) {
                Some(step) => {
                    two_factor::use_step(conn, user_id, step)?;
                    Ok(true)
                }
                None => Ok(false),
            }
        }
        SecondFactor::Recovery(key) => {
            let spent = two_factor::spend_recovery_code(conn, user_id, &tokens::digest(key))?;
            if spent {
                record(conn, Action::RecoveryCodeUsed, user_id, user_id, origin)?;
            }
            Ok(spent)
        }
    }
}

/// Checks a code of `user`'s, counted toward the account's lockout like a password: 429
/// `account_locked` while locked (or when this failure locks it), else whether it was right.
async fn counted_check(
    state: &AppState,
    user: &User,
    factor: SecondFactor,
    origin: &Origin,
) -> ApiResult<bool> {
    let key = user.email.to_lowercase();
    let attempt = begin_attempt(state, key.clone()).await?;
    let (user_id, origin2) = (user.id, origin.clone());
    let ok = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            check_factor(conn, user_id, &factor, &origin2, Utc::now().timestamp())
        })
    })
    .await?;
    settle_attempt(state, key, attempt, ok, Some(user.id), origin.clone()).await?;
    Ok(ok)
}

/// Turns two-factor login off, with the password and a code.
pub async fn disable(
    state: &AppState,
    caller: &Caller,
    token: TokenLife,
    password: String,
    code: &str,
    origin: &Origin,
) -> ApiResult<TwoFactorStatus> {
    session_only(token)?;
    let factor = parse_code(code)?;
    let user = account(state, caller.id).await?;
    if !user.two_factor_enabled {
        return Err(not_enabled());
    }
    if !check_password(state, &user, password, origin).await? {
        return Err(wrong_password());
    }
    if !counted_check(state, &user, factor, origin).await? {
        return Err(wrong_code());
    }
    let (user_id, origin) = (user.id, origin.clone());
    db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            two_factor::remove(conn, user_id)?;
            two_factor::set_enabled(conn, user_id, false)?;
            record(conn, Action::TwoFactorDisabled, user_id, user_id, &origin)?;
            status(conn, user_id)
        })
    })
    .await
}

/// New recovery codes (the old ones stop working), with a code.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    caller: &Caller,
    token: TokenLife,
    code: &str,
    origin: &Origin,
) -> ApiResult<RecoveryCodes> {
    session_only(token)?;
    let factor = parse_code(code)?;
    let user = account(state, caller.id).await?;
    if !user.two_factor_enabled {
        return Err(not_enabled());
    }
    if !counted_check(state, &user, factor, origin).await? {
        return Err(wrong_code());
    }
    let (user_id, origin) = (user.id, origin.clone());
    db::run(&state.pool, move |conn| {
        let codes = db::transaction::<_, ApiError, _>(conn, |conn| {
            let codes = fresh_recovery_codes(conn, user_id)?;
            record(
                conn,
                Action::RecoveryCodesRegenerated,
                user_id,
                user_id,
                &origin,
            )?;
            Ok(codes)
        })?;
        Ok::<_, ApiError>(RecoveryCodes {
            recovery_codes: codes,
            status: status(conn, user_id)?,
        })
    })
    .await
}

/// An admin turns a user's two-factor login off (a lost phone and lost codes). Audited with
/// the admin as actor. 404 for an unknown user; 409 when it is off.
pub fn admin_reset(
    conn: &mut PgConnection,
    admin: Uuid,
    user_id: Uuid,
    origin: &Origin,
) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        let user = users::find(conn, user_id)?.ok_or_else(|| ApiError::not_found("User"))?;
        if !user.two_factor_enabled && two_factor::credential(conn, user_id)?.is_none() {
            return Err(not_enabled());
        }
        two_factor::remove(conn, user_id)?;
        two_factor::set_enabled(conn, user_id, false)?;
        record(conn, Action::TwoFactorReset, user_id, admin, origin)?;
        Ok(())
    })
}

/// After a right password: a single-use challenge for the second step.
pub fn challenge(
    conn: &mut PgConnection,
    user_id: Uuid,
    remember_me: bool,
) -> Result<MfaChallenge, ApiError> {
    let secret = tokens::generate();
    let expires_at = Utc::now() + Duration::minutes(CHALLENGE_TTL_MINUTES);
    two_factor::insert_challenge(
        conn,
        &tokens::digest(&secret),
        user_id,
        remember_me,
        expires_at,
    )?;
    Ok(MfaChallenge {
        status: "mfa_required",
        challenge: secret,
        expires_at,
        methods: vec!["totp", "recovery_code"],
    })
}

/// The second step of a login: the challenge's account and whether it asked to be remembered,
/// once `code` checks out (counted toward the lockout). The challenge stays open after a wrong
/// code (a typo), until it expires or a right code spends it: [`spend_for_session`], in the
/// transaction that issues the session.
pub async fn verify_login(
    state: &AppState,
    challenge: &str,
    code: &str,
    origin: &Origin,
) -> ApiResult<(User, bool)> {
    let factor = parse_code(code)?;
    let lookup = tokens::digest(challenge);
    let (user, remember_me) = db::run(&state.pool, move |conn| {
        let Some((user_id, remember_me)) = two_factor::live_challenge(conn, &lookup)? else {
            return Ok(None);
        };
        Ok::<_, ApiError>(users::find(conn, user_id)?.map(|user| (user, remember_me)))
    })
    .await?
    .ok_or_else(invalid_challenge)?;
    if !counted_check(state, &user, factor, origin).await? {
        return Err(invalid_mfa_code());
    }
    Ok((user, remember_me))
}

/// Spends a login's challenge in the transaction that issues its session, with the account's
/// row locked: a password reset or "log out everywhere" (which end open challenges, and lock
/// the row) either comes first, and the challenge is spent already, or after, and ends the new
/// session with the rest. Between two transactions a session could slip past a reset.
pub fn spend_for_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    challenge: &str,
) -> Result<(), ApiError> {
    users::lock(conn, user_id)?;
    if two_factor::spend_challenge(conn, &tokens::digest(challenge))? {
        Ok(())
    } else {
        Err(invalid_challenge())
    }
}
