//! The shape rules of a transaction, checked before any database lookup.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::ledger::TransactionType;
use crate::error::FieldErrors;

pub const MAX_SPLITS: usize = 50;
/// Longest texts, in characters (the JSON API's validators and the CSV import share them).
pub const MAX_DESCRIPTION: usize = 500;
pub const MAX_MERCHANT: usize = 200;
pub const MAX_NOTES: usize = 2000;
pub const MAX_SPLIT_NOTE: usize = 200;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct SplitDraft {
    pub category_id: Uuid,
    pub amount: Decimal,
    pub note: Option<String>,
}

/// A transaction as it would be stored (after a PATCH is merged onto the current row).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub transaction_type: TransactionType,
    pub amount: Decimal,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub splits: Vec<SplitDraft>,
}

/// Every rule the draft breaks, by field.
pub fn shape_errors(draft: &Draft) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut add = |field: &str, message: &str| {
        errors
            .entry(field.to_owned())
            .or_default()
            .push(message.to_owned());
    };
    if draft.amount <= Decimal::ZERO {
        add("amount", "must be greater than 0");
    }
    match draft.transaction_type {
        TransactionType::Transfer => {
            match draft.to_wallet_id {
                None => add("to_wallet_id", "is required for a transfer"),
                Some(to) if to == draft.wallet_id => {
                    add(
                        "to_wallet_id",
                        "must be a different wallet than wallet_id: a transfer needs two different wallets",
                    )
                }
                Some(_) => {}
            }
            if draft.category_id.is_some() {
                add("category_id", "must be empty for a transfer");
            }
            if !draft.splits.is_empty() {
                add("splits", "a transfer cannot be split");
            }
        }
        TransactionType::Expense | TransactionType::Income => {
            if draft.to_wallet_id.is_some() {
                add("to_wallet_id", "is only for transfers");
            }
            match (draft.category_id.is_some(), draft.splits.is_empty()) {
                (false, true) => add("category_id", "is required (or give splits)"),
                (true, false) => add(
                    "category_id",
                    "must be empty when splits are given: each split names its category",
                ),
                _ => {}
            }
        }
    }
    if draft.splits.len() > MAX_SPLITS {
        add("splits", "at most 50 splits");
    }
    if !draft.splits.is_empty() {
        if draft.splits.len() < 2 {
            add("splits", "a split needs at least two parts");
        }
        for (index, split) in draft.splits.iter().enumerate() {
            if split.amount <= Decimal::ZERO {
                add(&format!("splits[{index}].amount"), "must be greater than 0");
            }
        }
        let sum: Decimal = draft.splits.iter().map(|s| s.amount).sum();
        if sum != draft.amount {
            add(
                "splits",
                &format!(
                    "must add up to the amount ({}), not {}",
                    draft.amount.normalize(),
                    sum.normalize()
                ),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expense(amount: i64) -> Draft {
        Draft {
            transaction_type: TransactionType::Expense,
            amount: Decimal::new(amount, 2),
            category_id: Some(Uuid::new_v4()),
            wallet_id: Uuid::new_v4(),
            to_wallet_id: None,
            splits: vec![],
        }
    }

    fn split(amount: i64) -> SplitDraft {
        SplitDraft {
            category_id: Uuid::new_v4(),
            amount: Decimal::new(amount, 2),
            note: None,
        }
    }

    #[test]
    fn a_plain_expense_is_fine() {
        assert!(shape_errors(&expense(1000)).is_empty());
    }

    #[test]
    fn expenses_need_a_category_or_splits() {
        let mut draft = expense(1000);
        draft.category_id = None;
        assert!(shape_errors(&draft).contains_key("category_id"));
        draft.splits = vec![split(400), split(600)];
        assert!(shape_errors(&draft).is_empty());
    }

    #[test]
    fn splits_must_sum_exactly() {
        let mut draft = expense(1000);
        draft.category_id = None;
        draft.splits = vec![split(400), split(599)];
        let errors = shape_errors(&draft);
        assert!(errors["splits"][0].contains("add up to the amount (10), not 9.99"));
        draft.splits = vec![split(10), split(20)];
        draft.amount = Decimal::new(3, 1);
        assert!(
            shape_errors(&draft).is_empty(),
            "0.10 + 0.20 is exactly 0.30"
        );
    }

    #[test]
    fn transfers_need_two_different_wallets_and_no_category() {
        let mut draft = expense(1000);
        draft.transaction_type = TransactionType::Transfer;
        let errors = shape_errors(&draft);
        assert!(errors.contains_key("to_wallet_id"));
        assert!(errors.contains_key("category_id"));
        draft.category_id = None;
        draft.to_wallet_id = Some(draft.wallet_id);
        assert!(shape_errors(&draft).contains_key("to_wallet_id"));
        draft.to_wallet_id = Some(Uuid::new_v4());
        assert!(shape_errors(&draft).is_empty());
    }

    #[test]
    fn amounts_must_be_positive() {
        assert!(shape_errors(&expense(0)).contains_key("amount"));
        assert!(shape_errors(&expense(-5)).contains_key("amount"));
    }
}
