//! `/api/v1/auth`: registration, login, token refresh, logout, password reset and change,
//! email verification.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::dto::*;
use crate::auth::extractor::{account_disabled, email_not_verified, token_life};
use crate::auth::session::{self, Family, IssuedSession};
use crate::auth::{password, tokens, Caller};
use crate::db::audit::Action;
use crate::db::audit::Origin;
use crate::db::users::{self, NewUser, User, UserChangeset};
use crate::db::{self, categories, login_throttle, refresh_tokens, user_tokens};
use crate::domain::email::Email;
use crate::domain::user::{Role, UserStatus};
use crate::dto::two_factor::{MfaChallenge, MfaVerifyRequest};
use crate::dto::users::UserProfile;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::context::origin;
use crate::http::{Envelope, JsonOrForm, ValidatedJson};
use crate::services::accounts::*;
use crate::services::personal_tokens::session_only;
use crate::services::two_factor;
use crate::state::AppState;

fn session_response(user: User, issued: IssuedSession) -> Envelope<SessionResponse> {
    Envelope::new(SessionResponse {
        user: UserProfile::from(user),
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
    })
}

/// Register a new account.
///
/// Creates the user (role `user`, default settings), mails an email-verification link, and
/// starts a session.
#[utoipa::path(
    tag = "auth",
    operation_id = "register",
    summary = "Register an account",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the session's tokens", body = Envelope<SessionResponse>),
        (status = 409, description = "`email_taken`: an account uses this email", body = ErrorBody),
    ),
    security(())
)]
#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let email = Email::parse(&body.email).map_err(|m| ApiError::invalid_field("email", m))?;
    let hash = hash_password(&state, body.password).await?;
    let origin = origin(&req);
    let device = session::Device::of(&req);
    let state2 = state.clone();
    let (user, issued, mail) = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            if users::find_by_email(conn, &email.key())?.is_some() {
                return Err(email_taken());
            }
            let user = users::insert(
                conn,
                &NewUser {
                    email: email.as_str(),
                    name: body.name.trim(),
                    password_hash: &hash,
                    role: Role::User.as_str(),
                    email_verified_at: None,
                },
            )
            .map_err(|e| match ApiError::from(e) {
                ApiError::Conflict { .. } => email_taken(),
                other => other,
            })?;
            categories::insert_defaults(conn, user.id)?;
            record(conn, Action::UserRegistered, Some(user.id), &origin)?;
            let mail = prepare_link(&state2, conn, &user, user_tokens::EMAIL_VERIFICATION)?;
            let issued = session::issue(conn, &state2.settings, &user, false, None, &device)?;
            Ok((user, issued, mail))
        })
    })
    .await?;
    send(&state, mail);
    let message = if state.settings.auth.require_email_verification {
        "Account created. Confirm your address with the link we mailed; these tokens work once it is confirmed."
    } else {
        "Account created. Check your mail to confirm your address."
    };
    Ok(session_response(user, issued)
        .with_message(message)
        .created("/api/v1/users/me"))
}

fn email_taken() -> ApiError {
    ApiError::Conflict {
        code: "email_taken",
        message: "An account with this email already exists.".into(),
    }
}

/// Log in with email and password.
///
/// Wrong email and wrong password get the same answer. After 5 consecutive failures the
/// address is locked for 15 minutes. An account with two-factor login answers 202
/// `mfa_required` with a challenge instead of tokens: send it with a code to
/// `/auth/mfa/verify`. An HTML form may post the same fields as
/// `application/x-www-form-urlencoded`.
// The spec lists only the JSON body: for a body with two content types, client generators
// (openapi-python-client among them) write code that does not import.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    summary = "Log in",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The session's tokens", body = Envelope<SessionResponse>),
        (status = 202, description = "`mfa_required`: the password is right and the account uses two-factor login; finish at `/auth/mfa/verify` with the challenge and a code", body = Envelope<MfaChallenge>),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled` or `email_not_verified`", body = ErrorBody),
        (status = 429, description = "`account_locked` or `rate_limited`; see `Retry-After`", body = ErrorBody),
    ),
    security(())
)]
#[post("/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonOrForm<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let key = Email::parse(&body.email)
        .map(|e| e.key())
        .unwrap_or_else(|_| body.email.trim().to_lowercase());
    let origin = origin(&req);
    let device = session::Device::of(&req);

    let attempt = begin_attempt(&state, key.clone()).await?;
    let lookup_key = key.clone();
    let user = db::run(&state.pool, move |conn| {
        users::find_by_email(conn, &lookup_key)
    })
    .await?;
    let cost = state.settings.auth.bcrypt_cost;
    let password = body.password;
    let (user, password_ok) = state
        .hasher
        .run(move || {
            let ok = match &user {
                Some(user) => password::verify(&password, &user.password_hash),
                None => {
                    password::verify_dummy(&password, cost);
                    false
                }
            };
            (user, ok)
        })
        .await?;
    let user_id = user.as_ref().map(|u| u.id);
    // A right password does not clear the failures of an account with two-factor login: its
    // code is still to come, and wrong codes count toward the same lockout.
    let needs_code = password_ok && user.as_ref().is_some_and(|u| u.two_factor_enabled);
    if !needs_code {
        settle_attempt(&state, key, attempt, password_ok, user_id, origin.clone()).await?;
    }
    let Some(user) = user.filter(|_| password_ok) else {
        return Err(invalid_credentials());
    };
    admissible(&state, &user)?;
    let remember_me = body.remember_me.unwrap_or(false);
    if needs_code {
        let id = user.id;
        let challenge = db::run(&state.pool, move |conn| {
            two_factor::challenge(conn, id, remember_me)
        })
        .await?;
        return Ok(HttpResponse::Accepted().json(Envelope::new(challenge).with_message(
            "Enter the code from your authenticator app (or a recovery code) to finish logging in.",
        )));
    }
    start_session(&state, user, remember_me, origin, device, None).await
}

/// A disabled account, or an unverified one where verification is required, gets no session.
fn admissible(state: &AppState, user: &User) -> ApiResult<()> {
    if user.status() == UserStatus::Disabled {
        return Err(account_disabled());
    }
    if state.settings.auth.require_email_verification && user.email_verified_at.is_none() {
        return Err(email_not_verified());
    }
    Ok(())
}

async fn start_session(
    state: &web::Data<AppState>,
    user: User,
    remember_me: bool,
    origin: Origin,
    device: session::Device,
    challenge: Option<String>,
) -> ApiResult<HttpResponse> {
    let state2 = state.clone();
    let (user, issued) = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            if let Some(challenge) = &challenge {
                two_factor::spend_for_session(conn, user.id, challenge)?;
            }
            record(conn, Action::LoginSucceeded, Some(user.id), &origin)?;
            let issued = session::issue(conn, &state2.settings, &user, remember_me, None, &device)?;
            Ok((user, issued))
        })
    })
    .await?;
    Ok(session_response(user, issued).ok())
}

/// Finish a two-factor login: the challenge from `/auth/login` and the 6-digit code from the
/// authenticator app, or one of the recovery codes (each works once).
///
/// A wrong code counts toward the account's lockout like a wrong password, and leaves the
/// challenge open until it expires (five minutes).
#[utoipa::path(
    tag = "auth",
    operation_id = "verify_mfa",
    summary = "Finish a two-factor login",
    request_body = MfaVerifyRequest,
    responses(
        (status = 200, description = "The session's tokens", body = Envelope<SessionResponse>),
        (status = 401, description = "`invalid_mfa_code`, or `mfa_challenge_invalid` (unknown, used or expired: log in again)", body = ErrorBody),
        (status = 403, description = "`account_disabled` or `email_not_verified`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the code is neither six digits nor a recovery code", body = ErrorBody),
        (status = 429, description = "`account_locked` or `rate_limited`; see `Retry-After`", body = ErrorBody),
    ),
    security(())
)]
#[post("/mfa/verify")]
pub async fn verify_mfa(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<MfaVerifyRequest>,
) -> ApiResult<HttpResponse> {
    let origin = origin(&req);
    let device = session::Device::of(&req);
    let body = body.into_inner();
    let (user, remember_me) =
        two_factor::verify_login(&state, &body.challenge, &body.code, &origin).await?;
    admissible(&state, &user)?;
    start_session(
        &state,
        user,
        remember_me,
        origin,
        device,
        Some(body.challenge),
    )
    .await
}

enum RefreshOutcome {
    Issued(Box<User>, IssuedSession),
    Reused,
}

/// Trade a refresh token for a new pair.
///
/// The presented token is spent. Presenting a spent token again means it was stolen: the whole
/// session family is revoked and both holders must log in again.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh",
    summary = "Refresh the access token (rotates the refresh token)",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = Envelope<SessionResponse>),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
    ),
    security(())
)]
#[post("/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = tokens::digest(&body.refresh_token);
    let origin = origin(&req);
    let device = session::Device::of(&req);
    let state2 = state.clone();
    let outcome = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            let token =
                refresh_tokens::find_locked(conn, &hash)?.ok_or_else(invalid_refresh_token)?;
            if token.revoked_at.is_some() {
                return Err(invalid_refresh_token());
            }
            if token.used_at.is_some() {
                handle_reuse(conn, &token, &origin)?;
                // Committed: the revocation must stand although the answer is an error.
                return Ok(RefreshOutcome::Reused);
            }
            if token.expires_at <= Utc::now() {
                return Err(invalid_refresh_token());
            }
            let user = users::find(conn, token.user_id)?.ok_or_else(invalid_refresh_token)?;
            if user.status() == UserStatus::Disabled {
                return Err(account_disabled());
            }
            if state2.settings.auth.require_email_verification && user.email_verified_at.is_none() {
                return Err(email_not_verified());
            }
            refresh_tokens::mark_used(conn, token.id)?;
            let family = Family {
                id: token.family_id,
                expires_at: token.expires_at,
            };
            let issued = session::issue(
                conn,
                &state2.settings,
                &user,
                token.remember_me,
                Some(family),
                &device,
            )?;
            Ok(RefreshOutcome::Issued(Box::new(user), issued))
        })
    })
    .await?;
    match outcome {
        RefreshOutcome::Issued(user, issued) => Ok(session_response(*user, issued).ok()),
        RefreshOutcome::Reused => Err(refresh_token_reused()),
    }
}

/// End this session, or every session of the account.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    summary = "Log out",
    request_body = LogoutRequest,
    responses(
        (status = 200, description = "Sessions ended", body = Envelope<LogoutResponse>),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
    ),
    security(())
)]
#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<LogoutRequest>,
) -> ApiResult<HttpResponse> {
    let hash = tokens::digest(&body.refresh_token);
    let all_devices = body.all_devices.unwrap_or(false);
    let origin = origin(&req);
    let outcome = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            let token =
                refresh_tokens::find_locked(conn, &hash)?.ok_or_else(invalid_refresh_token)?;
            if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
                return Err(invalid_refresh_token());
            }
            // A spent token signs nobody out: it is a stolen copy, handled as on refresh.
            if token.used_at.is_some() {
                handle_reuse(conn, &token, &origin)?;
                return Ok(None);
            }
            let revoked = if all_devices {
                // Signing out everywhere ends the access tokens already handed out too.
                users::revoke_access_tokens(conn, token.user_id)?;
                refresh_tokens::revoke_all_for_user(conn, token.user_id)?
            } else {
                refresh_tokens::revoke_family(conn, token.family_id)?
            };
            record(conn, Action::Logout, Some(token.user_id), &origin)?;
            Ok(Some(revoked))
        })
    })
    .await?;
    let revoked = outcome.ok_or_else(refresh_token_reused)?;
    Ok(Envelope::new(LogoutResponse {
        sessions_revoked: revoked,
    })
    .with_message("Logged out.")
    .ok())
}

/// Ask for a password-reset link.
///
/// Always answers the same, whether or not the address has an account; when it has, a
/// single-use link valid for one hour is mailed.
#[utoipa::path(
    tag = "auth",
    operation_id = "forgot_password",
    summary = "Request a password-reset mail",
    request_body = EmailRequest,
    responses((status = 200, description = "Accepted (whether or not the account exists)", body = Envelope<Accepted>)),
    security(())
)]
#[post("/password/forgot")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<EmailRequest>,
) -> ApiResult<HttpResponse> {
    let email = Email::parse(&body.email).map_err(|m| ApiError::invalid_field("email", m))?;
    let origin = origin(&req);
    // The answer never waits for the lookup, the token or the mail: a known address and an
    // unknown one take the same time to answer (the work, which differs, runs after).
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let state2 = state.clone();
        let mail = db::run(&state.pool, move |conn| {
            db::transaction::<_, ApiError, _>(conn, |conn| {
                let Some(user) = users::find_by_email(conn, &email.key())? else {
                    return Ok(None);
                };
                if user.status() == UserStatus::Disabled {
                    return Ok(None);
                }
                let mail = prepare_link(&state2, conn, &user, user_tokens::PASSWORD_RESET)?;
                record(conn, Action::PasswordResetRequested, Some(user.id), &origin)?;
                Ok(mail)
            })
        })
        .await;
        match mail {
            Ok(mail) => send(&state, mail),
            Err(error) => log::error!("password reset request failed: {error}"),
        }
    });
    Ok(Envelope::new(Accepted { accepted: true })
        .with_message(
            "If an account exists for this address, we sent it a link to reset the password.",
        )
        .ok())
}

fn invalid_token(code: &'static str) -> ApiError {
    ApiError::BadRequest {
        code,
        message: "The link is invalid, expired or already used. Ask for a new one.".into(),
    }
}

/// Set a new password with the token from the reset mail.
///
/// The token is spent, and every session of the account is ended.
#[utoipa::path(
    tag = "auth",
    operation_id = "reset_password",
    summary = "Reset the password",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "Password changed", body = Envelope<Accepted>),
        (status = 400, description = "`invalid_reset_token`", body = ErrorBody),
    ),
    security(())
)]
#[post("/password/reset")]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<ResetPasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let token_hash = tokens::digest(&body.token);
    // A dead token is refused before bcrypt runs: guessing tokens must not cost a hash each.
    let live = {
        let token_hash = token_hash.clone();
        db::run(&state.pool, move |conn| {
            user_tokens::is_live(conn, &token_hash, user_tokens::PASSWORD_RESET)
        })
        .await?
    };
    if !live {
        return Err(invalid_token("invalid_reset_token"));
    }
    let hash = hash_password(&state, body.new_password).await?;
    let end_tokens = body.end_personal_access_tokens.unwrap_or(false);
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            let user_id = user_tokens::consume(conn, &token_hash, user_tokens::PASSWORD_RESET)?
                .ok_or_else(|| invalid_token("invalid_reset_token"))?;
            let before = users::find(conn, user_id)?.ok_or(ApiError::InvalidToken)?;
            // The mailed link proves the address. An account whose address was never proven
            // may have been registered by someone else before its owner came (registration
            // needs no proof): what that someone set up to keep a way in goes — personal
            // access tokens, webhooks, a second factor — and the address counts as verified.
            let unproven = before.email_verified_at.is_none();
            let user = users::update(
                conn,
                user_id,
                &UserChangeset {
                    password_hash: Some(hash),
                    email_verified_at: unproven.then(Utc::now),
                    ..Default::default()
                },
            )?;
            user_tokens::spend_all(conn, user_id, user_tokens::PASSWORD_RESET)?;
            refresh_tokens::revoke_all_for_user(conn, user_id)?;
            users::revoke_access_tokens(conn, user_id)?;
            if end_tokens || unproven {
                db::personal_tokens::delete_all(conn, user_id)?;
            }
            if unproven {
                db::two_factor::remove(conn, user_id)?;
                db::two_factor::set_enabled(conn, user_id, false)?;
                db::ledgers::revoke_sent_by(conn, None, user_id)?;
                crate::services::webhooks::turn_off_created_by(
                    conn,
                    user_id,
                    None,
                    true,
                    "the account's address was proven only by a password reset",
                    "the account's address was proven only now, by a password reset, and \
                     someone else may have set it up before",
                )?;
            }
            login_throttle::clear(conn, &user.email.to_lowercase())?;
            record(conn, Action::PasswordReset, Some(user_id), &origin)?;
            Ok(())
        })
    })
    .await?;
    Ok(Envelope::new(Accepted { accepted: true })
        .with_message("Password changed. Log in with the new password.")
        .ok())
}

/// Confirm the email address with the token from the verification mail.
#[utoipa::path(
    tag = "auth",
    operation_id = "verify_email",
    summary = "Verify the email address",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Email verified", body = Envelope<Accepted>),
        (status = 400, description = "`invalid_verification_token`", body = ErrorBody),
    ),
    security(())
)]
#[post("/email/verify")]
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidatedJson<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let token_hash = tokens::digest(&body.token);
    let origin = origin(&req);
    db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            let user_id = user_tokens::consume(conn, &token_hash, user_tokens::EMAIL_VERIFICATION)?
                .ok_or_else(|| invalid_token("invalid_verification_token"))?;
            users::update(
                conn,
                user_id,
                &UserChangeset {
                    email_verified_at: Some(Utc::now()),
                    ..Default::default()
                },
            )?;
            user_tokens::spend_all(conn, user_id, user_tokens::EMAIL_VERIFICATION)?;
            record(conn, Action::EmailVerified, Some(user_id), &origin)?;
            Ok(())
        })
    })
    .await?;
    Ok(Envelope::new(Accepted { accepted: true })
        .with_message("Email address confirmed.")
        .ok())
}

/// Send the verification mail again.
///
/// Always answers the same; a mail goes out only for an existing, unverified account.
#[utoipa::path(
    tag = "auth",
    operation_id = "resend_verification",
    summary = "Resend the verification mail",
    request_body = EmailRequest,
    responses((status = 200, description = "Accepted (whether or not the account exists)", body = Envelope<Accepted>)),
    security(())
)]
#[post("/email/resend")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    body: ValidatedJson<EmailRequest>,
) -> ApiResult<HttpResponse> {
    let email = Email::parse(&body.email).map_err(|m| ApiError::invalid_field("email", m))?;
    // As for a password reset: the answer goes first, and an address with an unverified account
    // and one without take the same time (an outside test told them apart, 0.8 ms to 0.3).
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let state2 = state.clone();
        let mail = db::run(&state.pool, move |conn| {
            db::transaction::<_, ApiError, _>(conn, |conn| {
                match users::find_by_email(conn, &email.key())? {
                    Some(user)
                        if user.email_verified_at.is_none()
                            && user.status() == UserStatus::Active =>
                    {
                        prepare_link(&state2, conn, &user, user_tokens::EMAIL_VERIFICATION)
                    }
                    _ => Ok(None),
                }
            })
        })
        .await;
        match mail {
            Ok(mail) => send(&state, mail),
            Err(error) => log::error!("verification mail request failed: {error}"),
        }
    });
    Ok(Envelope::new(Accepted { accepted: true })
        .with_message("If this address has an unverified account, we sent it a new link.")
        .ok())
}

/// Change the password (knowing the current one).
///
/// Every other session is ended; the answer carries a fresh session for this client. Only from
/// a login session: a personal access token (which passed no second factor) may not turn the
/// password into a new session.
#[utoipa::path(
    tag = "auth",
    operation_id = "change_password",
    summary = "Change the password",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed; new tokens for this client", body = Envelope<SessionResponse>),
        (status = 403, description = "`session_required`: not with a personal access token", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/password/change")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: ValidatedJson<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    session_only(token_life(&req)?)?;
    let body = body.into_inner();
    let user = db::run(&state.pool, move |conn| users::find(conn, caller.id))
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let origin = origin(&req);
    let device = session::Device::of(&req);
    if !check_password(&state, &user, body.current_password, &origin).await? {
        return Err(ApiError::invalid_field(
            "current_password",
            "is not the current password",
        ));
    }
    let end_tokens = body.end_personal_access_tokens.unwrap_or(false);
    let hash = hash_password(&state, body.new_password).await?;
    let state2 = state.clone();
    let (user, issued) = db::run(&state.pool, move |conn| {
        db::transaction::<_, ApiError, _>(conn, |conn| {
            let user = users::update(
                conn,
                user.id,
                &UserChangeset {
                    password_hash: Some(hash),
                    ..Default::default()
                },
            )?;
            refresh_tokens::revoke_all_for_user(conn, user.id)?;
            let mut user = user;
            user.tokens_valid_after = users::revoke_access_tokens(conn, user.id)?;
            user_tokens::spend_all(conn, user.id, user_tokens::PASSWORD_RESET)?;
            if end_tokens {
                db::personal_tokens::delete_all(conn, user.id)?;
            }
            record(conn, Action::PasswordChanged, Some(user.id), &origin)?;
            let issued = session::issue(conn, &state2.settings, &user, false, None, &device)?;
            Ok((user, issued))
        })
    })
    .await?;
    Ok(session_response(user, issued)
        .with_message("Password changed; other sessions were signed out.")
        .ok())
}
