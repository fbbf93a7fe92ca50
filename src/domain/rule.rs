//! Import rules: conditions on a transaction's payee, amount, wallet and type, and what to do
//! when they all hold. Pure matching; storage and application are `services::rules`.

use regex::{Regex, RegexBuilder};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::ledger::TransactionType;

/// The longest `payee_regex`, and the compiled size it may reach (a pattern cannot make the
/// matcher slow: the regex crate runs in linear time, and this bounds its memory).
pub const MAX_PATTERN: usize = 200;
const MAX_COMPILED: usize = 256 * 1024;

/// When a rule applies: every condition given holds (at least one is given).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    /// Case-insensitive, in the payee (the merchant, else the description).
    pub payee_contains: Option<String>,
    /// Case-insensitive, the whole payee.
    pub payee_equals: Option<String>,
    pub payee_regex: Option<Regex>,
    /// The amount (positive) at least / at most.
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    pub wallet_id: Option<Uuid>,
    pub transaction_type: Option<TransactionType>,
}

/// A transaction as a rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub description: &'a str,
    pub merchant: Option<&'a str>,
    pub amount: Decimal,
    pub wallet_id: Uuid,
    pub transaction_type: TransactionType,
}

impl Candidate<'_> {
    pub fn payee(&self) -> &str {
        self.merchant
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(self.description)
    }
}

/// A payee pattern, compiled case-insensitively within the size bound.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_PATTERN {
        return Err(format!("at most {MAX_PATTERN} characters"));
    }
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(MAX_COMPILED)
        .dfa_size_limit(MAX_COMPILED)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "the pattern is too complex".to_owned(),
            other => format!(
                "not a valid pattern: {}",
                other.to_string().lines().last().unwrap_or("")
            ),
        })
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.payee_contains.is_none()
            && self.payee_equals.is_none()
            && self.payee_regex.is_none()
            && self.min_amount.is_none()
            && self.max_amount.is_none()
            && self.wallet_id.is_none()
            && self.transaction_type.is_none()
    }

    pub fn matches(&self, candidate: &Candidate) -> bool {
        let payee = candidate.payee().trim();
        let lower = payee.to_lowercase();
        self.payee_contains
            .as_ref()
            .is_none_or(|needle| lower.contains(&needle.trim().to_lowercase()))
            && self
                .payee_equals
                .as_ref()
                .is_none_or(|whole| lower == whole.trim().to_lowercase())
            && self
                .payee_regex
                .as_ref()
                .is_none_or(|re| re.is_match(payee))
            && self.min_amount.is_none_or(|min| candidate.amount >= min)
            && self.max_amount.is_none_or(|max| candidate.amount <= max)
            && self.wallet_id.is_none_or(|w| w == candidate.wallet_id)
            && self
                .transaction_type
                .is_none_or(|t| t == candidate.transaction_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coffee(amount: i64) -> Candidate<'static> {
        Candidate {
            description: "Card payment",
            merchant: Some("STARBUCKS #1042 SEATTLE"),
            amount: Decimal::new(amount, 2),
            wallet_id: Uuid::nil(),
            transaction_type: TransactionType::Expense,
        }
    }

    #[test]
    fn every_condition_given_must_hold() {
        let mut rule = Conditions {
            payee_contains: Some("starbucks".into()),
            ..Conditions::default()
        };
        assert!(rule.matches(&coffee(450)));
        rule.max_amount = Some(Decimal::new(1000, 2));
        assert!(rule.matches(&coffee(450)));
        assert!(!rule.matches(&coffee(1450)));
        rule.transaction_type = Some(TransactionType::Income);
        assert!(!rule.matches(&coffee(450)));

        let equals = Conditions {
            payee_equals: Some("  starbucks #1042 seattle ".into()),
            ..Conditions::default()
        };
        assert!(equals.matches(&coffee(450)));
        let described = Candidate {
            merchant: None,
            ..coffee(450)
        };
        assert!(
            !equals.matches(&described),
            "without a merchant the description is the payee"
        );
    }

    #[test]
    fn patterns_are_case_insensitive_and_bounded() {
        let rule = Conditions {
            payee_regex: Some(compile(r"^starbucks #\d+").unwrap()),
            ..Conditions::default()
        };
        assert!(rule.matches(&coffee(450)));
        assert!(compile("(unclosed")
            .unwrap_err()
            .starts_with("not a valid pattern"));
        assert!(compile(&"a".repeat(MAX_PATTERN + 1)).is_err());
        assert_eq!(
            compile(r"\w{200}\w{200}\w{200}").unwrap_err(),
            "the pattern is too complex"
        );
    }
}
