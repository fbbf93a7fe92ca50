//! Authentication: password hashing, access tokens (JWT), opaque refresh and mail tokens, the
//! `Caller` extractor, outgoing mail, and the per-IP rate limit on `/auth`.

pub mod extractor;
pub mod hasher;
pub mod jwt;
pub mod mailer;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;

pub use crate::services::caller::Caller;
pub use extractor::AdminUser;
