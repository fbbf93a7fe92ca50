//! Email addresses, parsed once at the edge.

use std::fmt;

/// A syntactically valid email: trimmed, domain lower-cased, local part as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err("must be at most 254 characters long");
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or("must be an email address like name@example.com")?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain = domain.to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !(local_ok && domain_ok) {
            return Err("must be an email address like name@example.com");
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key for uniqueness and lookups: the whole address lower-cased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_whitespace_and_domain_case() {
        let email = Email::parse("  Ana.Lima@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ana.Lima@example.com");
        assert_eq!(email.key(), "ana.lima@example.com");
    }

    #[test]
    fn rejects_what_is_not_an_email() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@.com",
            "a..b@example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@-example.com",
            "a@example.123",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn accepts_common_shapes() {
        for good in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@example.ie",
            "x@xn--bcher-kva.example",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
    }
}
