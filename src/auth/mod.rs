//! Authentication: password hashing, access tokens (JWT), opaque refresh and mail tokens, the
//! `AuthUser` extractor, outgoing mail, and the per-IP rate limit on `/auth`.

pub mod extractor;
pub mod hasher;
pub mod jwt;
pub mod mailer;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;

pub use extractor::{AdminUser, AuthUser};
