use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::email::Email;
use crate::domain::password::policy_violations;
use crate::dto::users::UserProfile;

pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    Email::parse(email)
        .map(|_| ())
        .map_err(|message| ValidationError::new("email").with_message(message.into()))
}

/// `remember_me` from JSON (`true`) or an HTML form checkbox (`on`, `true`, `1`).
fn flexible_bool<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Option::<Flag>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Flag::Bool(value)) => Ok(Some(value)),
        Some(Flag::Text(text)) => match text.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(Some(true)),
            "off" | "false" | "0" | "no" | "" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom("must be true or false")),
        },
    }
}

pub fn validate_new_password(password: &str) -> Result<(), ValidationError> {
    let problems = policy_violations(password);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::new("password_policy").with_message(problems.join("; ").into()))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "Str0ng!pass", "name": "Ana Lima"}))]
pub struct RegisterRequest {
    #[validate(custom(function = "validate_email"))]
    pub email: String,
    /// 8 to 128 characters with upper case, lower case, a digit and a symbol.
    #[validate(custom(function = "validate_new_password"))]
    pub password: String,
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "Str0ng!pass", "remember_me": true}))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// Keep the session for 90 days instead of 30.
    #[serde(default, deserialize_with = "flexible_bool")]
    #[schema(value_type = Option<bool>)]
    pub remember_me: Option<bool>,
}

/// Tokens for a session. Send `access_token` as `Authorization: Bearer ...`; trade
/// `refresh_token` at `/auth/refresh` before it expires.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: UserProfile,
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wEhV0Yl2Xb1iJ3o9hXg0mQe8x4yQ8dM1a9cK2s"}))]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wEhV0Yl2Xb1iJ3o9hXg0mQe8x4yQ8dM1a9cK2s", "all_devices": false}))]
pub struct LogoutRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
    /// Sign out every session of the account, not only this one.
    #[serde(default)]
    pub all_devices: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutResponse {
    /// Sessions (refresh-token families) ended by this call.
    pub sessions_revoked: usize,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com"}))]
pub struct EmailRequest {
    #[validate(custom(function = "validate_email"))]
    pub email: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "pVQ7m2kq1x...", "new_password": "N3w!passWord"}))]
pub struct ResetPasswordRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    #[validate(custom(function = "validate_new_password"))]
    pub new_password: String,
    /// Also revoke every personal access token (they survive a reset otherwise, as a change):
    /// for an account that may have been taken over.
    #[serde(default)]
    pub end_personal_access_tokens: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "pVQ7m2kq1x..."}))]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "Str0ng!pass", "new_password": "N3w!passWord"}))]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    #[validate(custom(function = "validate_new_password"))]
    pub new_password: String,
    /// Also revoke every personal access token (they survive a password change otherwise).
    #[serde(default)]
    pub end_personal_access_tokens: Option<bool>,
}

/// An acknowledgement with nothing else to report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = true)]
    pub accepted: bool,
}
