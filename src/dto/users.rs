use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::users::User;
use crate::domain::user::{is_language_tag, is_time_zone, Role, Theme, UserStatus};

/// Preferences that shape how amounts and dates are shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSettings {
    /// ISO 4217 code; the default currency for new wallets and reports.
    #[schema(example = "VND")]
    pub currency: String,
    /// BCP 47 language tag.
    #[schema(example = "vi-VN")]
    pub language: String,
    pub theme: Theme,
    /// IANA time zone; "today" for budgets and reports.
    #[schema(example = "Asia/Ho_Chi_Minh")]
    pub timezone: String,
}

/// The account as its owner (or an admin) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserProfile {
    pub id: Uuid,
    #[schema(example = "ana@example.com")]
    pub email: String,
    #[schema(example = "Ana Lima")]
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub email_verified: bool,
    /// Whether logins ask for a code from an authenticator app (`/users/me/two-factor`).
    pub two_factor_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub settings: UserSettings,
}

impl From<User> for UserProfile {
    fn from(user: User) -> Self {
        UserProfile {
            id: user.id,
            role: user.role(),
            status: user.status(),
            email_verified: user.email_verified_at.is_some(),
            two_factor_enabled: user.two_factor_enabled,
            created_at: user.created_at,
            settings: UserSettings {
                theme: Theme::parse(&user.theme).unwrap_or(Theme::System),
                currency: user.currency,
                language: user.language,
                timezone: user.timezone,
            },
            email: user.email,
            name: user.name,
        }
    }
}

fn invalid(message: &'static str) -> ValidationError {
    ValidationError::new("invalid").with_message(message.into())
}

fn validate_language(tag: &str) -> Result<(), ValidationError> {
    is_language_tag(tag)
        .then_some(())
        .ok_or_else(|| invalid("must be a BCP 47 language tag such as en or vi-VN"))
}

fn validate_timezone(name: &str) -> Result<(), ValidationError> {
    is_time_zone(name).then_some(()).ok_or_else(|| {
        invalid("must be an IANA time zone such as Europe/Paris or Asia/Ho_Chi_Minh")
    })
}

/// Settings to change; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[validate(custom(function = "crate::http::validate::currency"))]
    #[schema(example = "VND", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[validate(custom(function = "validate_language"))]
    #[schema(example = "vi-VN")]
    pub language: Option<String>,
    pub theme: Option<Theme>,
    #[validate(custom(function = "validate_timezone"))]
    #[schema(example = "Asia/Ho_Chi_Minh")]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ana Lima", "settings": {"currency": "VND", "theme": "dark"}}))]
pub struct UpdateMeRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(nested)]
    pub settings: Option<SettingsPatch>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "Str0ng!pass"}))]
pub struct DeleteMeRequest {
    /// The current password, to confirm.
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// Admin changes to an account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "business"}))]
pub struct AdminUpdateUserRequest {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Case-insensitive search in email and name.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

/// A login session: one sign-in and the refreshes that continued it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Ends it: `DELETE /users/me/sessions/{id}`.
    pub id: Uuid,
    /// The client, read from its User-Agent, e.g. "Firefox on Linux".
    #[schema(example = "Firefox on Linux")]
    pub device: String,
    pub user_agent: Option<String>,
    /// The address of its latest sign-in or refresh.
    pub ip: Option<String>,
    pub started_at: DateTime<Utc>,
    /// Its latest refresh (or sign-in).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless ended before.
    pub expires_at: DateTime<Utc>,
    /// The session this request comes from.
    pub current: bool,
}
