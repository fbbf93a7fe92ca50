//! Authentication: password hashing, access tokens (JWT), opaque refresh and mail tokens, the
//! `Caller` extractor, outgoing mail, two-factor codes (TOTP) and the rate limits every request
//! counts against.

pub mod extractor;
pub mod hasher;
pub mod jwt;
pub mod mailer;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;
pub mod totp;

pub use crate::services::caller::Caller;
pub use extractor::AdminUser;
