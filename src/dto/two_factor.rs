//! Two-factor login (TOTP): enrolment, confirmation, recovery codes, the login challenge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// Where the account's two-factor login stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorStatus {
    /// Logins ask for a code.
    pub enabled: bool,
    /// An enrolment was started and waits for its first code.
    pub pending: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet.
    #[schema(example = 10)]
    pub recovery_codes_remaining: i64,
}

/// The password again, to start an enrolment.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "Str0ng!pass"}))]
pub struct EnrolRequest {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// A new authenticator secret. Show `qr_svg` (or `otpauth_uri` as a QR code, or `secret` to
/// type in), then confirm with the first code the app shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// The secret, base32 without padding, for typing into the app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// Key URI (`otpauth://totp/...`) that authenticator apps scan.
    #[schema(
        example = "otpauth://totp/FinAI%3Aana%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=FinAI&algorithm=SHA1&digits=6&period=30"
    )]
    pub otpauth_uri: String,
    /// The URI as a QR code: an SVG document.
    pub qr_svg: String,
    #[schema(example = "SHA1")]
    pub algorithm: &'static str,
    #[schema(example = 6)]
    pub digits: u32,
    /// Seconds per code.
    #[schema(example = 30)]
    pub period: u64,
}

/// A code from the authenticator app (`123456`) or, where allowed, a recovery code
/// (`xxxxx-xxxxx`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "123456"}))]
pub struct CodeRequest {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
}

/// Recovery codes, shown this once: each works once, in place of an app code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    #[schema(example = json!(["k7mfq-2xnp4", "8vtrc-hw3aj"]))]
    pub recovery_codes: Vec<String>,
    pub status: TwoFactorStatus,
}

/// The password and a code (app or recovery), to turn two-factor login off.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "Str0ng!pass", "code": "123456"}))]
pub struct DisableRequest {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
}

/// The password was right; finish the login at `/auth/mfa/verify` with `challenge` and a code
/// before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaChallenge {
    #[schema(example = "mfa_required")]
    pub status: &'static str,
    /// Single use, valid for five minutes.
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    #[schema(example = json!(["totp", "recovery_code"]))]
    pub methods: Vec<&'static str>,
}

/// The second step of a login.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"challenge": "Xq3Lr...", "code": "123456"}))]
pub struct MfaVerifyRequest {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub challenge: String,
    /// The app's 6-digit code or a recovery code.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
}
