//! Access tokens: HS256 JWTs with `sub`, `role`, `iat`, `exp`, `iss`, `aud`, `jti`.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::user::Role;
use crate::error::ApiError;

pub const ISSUER: &str = "finai";
pub const AUDIENCE: &str = "finai-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: Uuid,
    /// The session (refresh-token family) the token was issued in; absent in tokens from
    /// before sessions were listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// `not_before` (Unix seconds): the account's token cut-off; the token is dated no earlier, so
/// a token issued right after a revocation is not mistaken for one from before it.
pub fn issue(
    secret: &str,
    user_id: Uuid,
    role: Role,
    ttl: Duration,
    not_before: i64,
    session: Uuid,
) -> Result<String, ApiError> {
    let now = Utc::now().timestamp().max(not_before);
    let claims = Claims {
        sub: user_id,
        role,
        iat: now,
        exp: now + ttl.as_secs() as i64,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        jti: Uuid::new_v4(),
        sid: Some(session),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| ApiError::internal(format!("cannot sign a token: {e}")))
}

/// Checks signature (HS256 only: `alg: none` and every other algorithm are refused), expiry,
/// issuer and audience.
pub fn verify(secret: &str, token: &str) -> Result<Claims, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => ApiError::TokenExpired,
        _ => ApiError::InvalidToken,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_round_trips() {
        let id = Uuid::new_v4();
        let token = issue(
            SECRET,
            id,
            Role::Business,
            Duration::from_secs(60),
            0,
            Uuid::new_v4(),
        )
        .unwrap();
        let claims = verify(SECRET, &token).unwrap();
        assert_eq!(claims.sub, id);
        assert_eq!(claims.role, Role::Business);
        assert_eq!(claims.iss, ISSUER);
    }

    #[test]
    fn wrong_secret_and_garbage_are_invalid() {
        let token = issue(
            SECRET,
            Uuid::new_v4(),
            Role::User,
            Duration::from_secs(60),
            0,
            Uuid::new_v4(),
        )
        .unwrap();
        assert!(matches!(
            verify("another secret of enough length!!", &token),
            Err(ApiError::InvalidToken)
        ));
        assert!(matches!(
            verify(SECRET, "a.b.c"),
            Err(ApiError::InvalidToken)
        ));
    }

    #[test]
    fn alg_none_is_refused() {
        let token = issue(
            SECRET,
            Uuid::new_v4(),
            Role::Admin,
            Duration::from_secs(60),
            0,
            Uuid::new_v4(),
        )
        .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let forged = format!("{header}.{payload}.");
        assert!(matches!(
            verify(SECRET, &forged),
            Err(ApiError::InvalidToken)
        ));
    }

    #[test]
    fn expired_tokens_say_so() {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sid: None,
            sub: Uuid::new_v4(),
            role: Role::User,
            iat: now - 120,
            exp: now - 60,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: Uuid::new_v4(),
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(matches!(
            verify(SECRET, &token),
            Err(ApiError::TokenExpired)
        ));
    }
}
