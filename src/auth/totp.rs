//! Time-based one-time passwords (RFC 6238, over HOTP, RFC 4226) and recovery codes.
//!
//! What authenticator apps expect: a 20-byte secret shown as unpadded base32, SHA-1, six
//! digits, 30-second steps. A code is accepted for the current step and one step either side
//! (clock skew), and never for a step at or before the last one accepted, so a code seen once
//! (over a shoulder, in a log) cannot be replayed.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::Rng;

/// Seconds per step.
pub const PERIOD: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that still count (clock skew).
pub const SKEW: i64 = 1;
/// Secret bytes (160 bits, RFC 4226's recommendation for SHA-1).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes per account.
pub const RECOVERY_CODES: usize = 10;
/// Who the codes are for, as authenticator apps show it.
pub const ISSUER: &str = "FinAI";

/// The hash behind a code. Authenticator apps use SHA-1; the others are here for RFC 6238's
/// test vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

fn mac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        // HMAC takes a key of any length.
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
    }
}

/// HOTP (RFC 4226 §5.3): the `digits`-digit code for `counter`.
pub fn hotp(algorithm: Algorithm, secret: &[u8], counter: u64, digits: u32) -> u32 {
    let hash = mac(algorithm, secret, &counter.to_be_bytes());
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = (u32::from(hash[offset]) & 0x7f) << 24
        | u32::from(hash[offset + 1]) << 16
        | u32::from(hash[offset + 2]) << 8
        | u32::from(hash[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The step `unix_secs` falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PERIOD as i64)
}

/// The TOTP code (RFC 6238) at `unix_secs`, zero-padded to `digits`.
pub fn code_at(algorithm: Algorithm, secret: &[u8], unix_secs: i64, digits: u32) -> String {
    let step = step_at(unix_secs).max(0) as u64;
    format!(
        "{:0width$}",
        hotp(algorithm, secret, step, digits),
        width = digits as usize
    )
}

/// The step whose code `code` is, among now and [`SKEW`] steps either side, later than
/// `last_step`; `None` when it is none of them. Compares in constant time.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, last_step: Option<i64>) -> Option<i64> {
    let now = step_at(unix_secs);
    let mut found = None;
    for step in (now - SKEW)..=(now + SKEW) {
        if step < 0 || last_step.is_some_and(|last| step <= last) {
            continue;
        }
        let expected = format!(
            "{:0width$}",
            hotp(Algorithm::Sha1, secret, step as u64, DIGITS),
            width = DIGITS as usize
        );
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret[..]);
    secret
}

/// The secret as authenticator apps take it typed in: unpadded base32.
pub fn secret_text(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// The `otpauth://` URI (Google Authenticator's key-URI format) that enrols `account`.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let label = format!("{ISSUER}:{account}");
    let mut uri = url::Url::parse("otpauth://totp/").unwrap_or_else(|_| unreachable!());
    uri.set_path(&format!("/{}", urlencode(&label)));
    uri.query_pairs_mut()
        .append_pair("secret", &secret_text(secret))
        .append_pair("issuer", ISSUER)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &PERIOD.to_string());
    uri.to_string()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        // A label's spaces are %20 (form encoding would write `+`).
        .replace('+', "%20")
}

/// The URI as a QR code, an SVG document to show in an `<img>`.
pub fn qr_svg(uri: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// What a user typed to finish a login or confirm a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// Six digits from the authenticator.
    Totp(String),
    /// A recovery code, normalised (lower case, no separator).
    Recovery(String),
}

const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_HALF: usize = 5;

impl SecondFactor {
    /// Six digits (spaces allowed between them, as apps show `123 456`), or a recovery code
    /// (`xxxxx-xxxxx`, any case, the hyphen optional). Anything else is refused, with why.
    pub fn parse(raw: &str) -> Result<SecondFactor, &'static str> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == DIGITS as usize && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(SecondFactor::Totp(compact));
        }
        let recovery: String = compact.to_ascii_lowercase().replace('-', "");
        if recovery.len() == 2 * RECOVERY_HALF
            && recovery.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
            && compact.matches('-').count() <= 1
        {
            return Ok(SecondFactor::Recovery(recovery));
        }
        Err("must be the 6-digit code from your authenticator app or a recovery code (xxxxx-xxxxx)")
    }
}

/// Fresh recovery codes, as shown to the user once (`xxxxx-xxxxx`, from an alphabet without
/// look-alikes: 50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut code = String::with_capacity(2 * RECOVERY_HALF + 1);
            for i in 0..2 * RECOVERY_HALF {
                if i == RECOVERY_HALF {
                    code.push('-');
                }
                let pick = rng.random_range(0..RECOVERY_ALPHABET.len());
                code.push(char::from(RECOVERY_ALPHABET[pick]));
            }
            code
        })
        .collect()
}

/// How a recovery code is stored and looked up (after [`SecondFactor::parse`]).
pub fn recovery_code_key(code: &str) -> String {
    code.to_ascii_lowercase().replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B: the seeds are the ASCII digits "1234567890" repeated to the
    /// hash's length.
    fn seed(algorithm: Algorithm) -> Vec<u8> {
        let len = match algorithm {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        };
        b"1234567890".iter().copied().cycle().take(len).collect()
    }

    #[test]
    fn rfc_6238_test_vectors() {
        let vectors: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            for (algorithm, expected) in [
                (Algorithm::Sha1, sha1),
                (Algorithm::Sha256, sha256),
                (Algorithm::Sha512, sha512),
            ] {
                assert_eq!(
                    code_at(algorithm, &seed(algorithm), time, 8),
                    expected,
                    "{algorithm:?} at {time}"
                );
            }
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(
                hotp(Algorithm::Sha1, b"12345678901234567890", counter as u64, 6),
                code
            );
        }
    }

    #[test]
    fn codes_one_step_either_side_pass_and_none_further() {
        let secret = seed(Algorithm::Sha1);
        let now = 1_700_000_000;
        let code = |t: i64| code_at(Algorithm::Sha1, &secret, t, DIGITS);
        assert_eq!(verify(&secret, &code(now), now, None), Some(step_at(now)));
        assert!(verify(&secret, &code(now - 30), now, None).is_some());
        assert!(verify(&secret, &code(now + 30), now, None).is_some());
        assert_eq!(verify(&secret, &code(now - 60), now, None), None);
        assert_eq!(verify(&secret, &code(now + 60), now, None), None);
        assert_eq!(verify(&secret, "000000x", now, None), None);
    }

    #[test]
    fn a_code_is_never_accepted_twice() {
        let secret = seed(Algorithm::Sha1);
        let now = 1_700_000_000;
        let code = code_at(Algorithm::Sha1, &secret, now, DIGITS);
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(verify(&secret, &code, now, Some(step)), None);
        assert_eq!(verify(&secret, &code, now + 29, Some(step)), None);
        // The previous step's code is older than the last accepted one: refused too.
        let older = code_at(Algorithm::Sha1, &secret, now - 30, DIGITS);
        assert_eq!(verify(&secret, &older, now, Some(step)), None);
    }

    #[test]
    fn the_uri_carries_what_authenticator_apps_need() {
        let secret = seed(Algorithm::Sha1);
        let uri = otpauth_uri(&secret, "an.na+x@example.com");
        assert!(
            uri.starts_with("otpauth://totp/FinAI%3Aan.na%2Bx%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=FinAI"));
        assert!(uri.contains("digits=6") && uri.contains("period=30"));
        let svg = qr_svg(&uri).unwrap();
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg"),
            "{svg:.80}"
        );
    }

    #[test]
    fn second_factors_parse_strictly() {
        assert_eq!(
            SecondFactor::parse(" 123 456 "),
            Ok(SecondFactor::Totp("123456".into()))
        );
        assert_eq!(
            SecondFactor::parse("ABCDE-FGHJK"),
            Ok(SecondFactor::Recovery("abcdefghjk".into()))
        );
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "abcde-fghi",
            "abcde--fghjk",
            "abcd0-fghjk",
            "１２３４５６",
        ] {
            assert!(SecondFactor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_parse() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(
                SecondFactor::parse(code),
                Ok(SecondFactor::Recovery(recovery_code_key(code)))
            );
        }
    }
}
