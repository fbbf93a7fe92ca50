//! A stored row's version as an entity tag, and the `If-Match` condition a client sends with
//! it (RFC 9110 §8.8.3, §13.1.1): an edit made from a copy the client read before someone else
//! changed the row is refused rather than written over theirs.

use chrono::{DateTime, Utc};

/// The strong entity tag of a row last changed at `updated_at` (quoted, as the header carries
/// it): every write moves `updated_at`.
pub fn etag(updated_at: DateTime<Utc>) -> String {
    format!("\"{}\"", updated_at.timestamp_micros())
}

/// The tags a condition header lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tags {
    /// `*`: any current version.
    Any,
    /// Each tag as sent, quoted, with `W/` kept for weak ones.
    List(Vec<String>),
}

impl Tags {
    /// Reads a header's value; `None` when it is no list of entity tags.
    pub fn parse(value: &str) -> Option<Tags> {
        let value = value.trim();
        if value == "*" {
            return Some(Tags::Any);
        }
        let tags: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let well_formed = |t: &String| {
            let opaque = t.strip_prefix("W/").unwrap_or(t);
            opaque.len() >= 2 && opaque.starts_with('"') && opaque.ends_with('"')
        };
        (!tags.is_empty() && tags.iter().all(well_formed)).then_some(Tags::List(tags))
    }

    /// `If-Match`: strong comparison, so a weak tag never matches.
    pub fn matches_strongly(&self, current: &str) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(tags) => tags.iter().any(|t| t == current),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tags_are_read_and_compared_as_the_rfc_says() {
        let at = Utc.timestamp_micros(1_765_000_000_123_456).unwrap();
        let tag = etag(at);
        assert_eq!(tag, "\"1765000000123456\"");
        assert_eq!(Tags::parse("*"), Some(Tags::Any));
        let list = Tags::parse(" \"1\", \"1765000000123456\" ").unwrap();
        assert!(list.matches_strongly(&tag));
        let weak = Tags::parse("W/\"1765000000123456\"").unwrap();
        assert!(
            !weak.matches_strongly(&tag),
            "a weak tag never matches If-Match"
        );
        assert!(!Tags::parse("\"2\"").unwrap().matches_strongly(&tag));
        for bad in ["", "1765", "\"", "\"1\", 2", "W/"] {
            assert_eq!(Tags::parse(bad), None, "{bad:?}");
        }
    }
}
