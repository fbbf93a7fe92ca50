//! bcrypt password hashes. Callers run these off the async executor (they take ~0.25 s at
//! cost 12 in a release build).
//!
//! bcrypt reads at most 72 bytes, but the policy allows 128 characters: every password is first
//! reduced to a SHA-256 digest (base64, 44 bytes), so no part of a long password is ignored.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(prehash(password), cost)
}

/// False for a wrong password and for a malformed stored hash.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(prehash(password), hash).unwrap_or(false)
}

/// Spends the same time as a real check, for logins with an unknown email, so response time does
/// not tell whether an account exists. The stand-in hash is made once per process (start-up
/// asks for it, see `startup`), at the configured cost.
pub fn verify_dummy(password: &str, cost: u32) {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let make = || hash("dummy password, never matches", cost).unwrap_or_default();
    let (dummy_cost, dummy) = DUMMY.get_or_init(|| (cost, make()));
    if *dummy_cost == cost {
        let _ = verify(password, dummy);
    } else {
        let _ = verify(password, &make());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_right_password_only() {
        let hashed = hash("Str0ng!pass", 4).unwrap();
        assert!(verify("Str0ng!pass", &hashed));
        assert!(!verify("Str0ng!pasS", &hashed));
        assert!(!verify("Str0ng!pass", "not a hash"));
    }

    #[test]
    fn long_passwords_differ_past_72_bytes() {
        let base = "A1!".to_string() + &"x".repeat(80);
        let hashed = hash(&(base.clone() + "1"), 4).unwrap();
        assert!(!verify(&(base + "2"), &hashed));
    }
}
