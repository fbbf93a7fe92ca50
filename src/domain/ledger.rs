//! Kinds and types of the ledger's rows, and the default category tree every user starts with.

wire_enum!(
    /// What kind of account a wallet is.
    WalletType {
        Cash => "cash",
        Bank => "bank",
        CreditCard => "credit_card",
        Savings => "savings",
        EWallet => "e_wallet",
        Investment => "investment",
    }
);

wire_enum!(
    /// Whether a category holds spending or earnings.
    CategoryKind {
        Expense => "expense",
        Income => "income",
    }
);

wire_enum!(
    /// `expense` leaves a wallet, `income` enters one, `transfer` moves between two of the
    /// user's wallets.
    TransactionType {
        Expense => "expense",
        Income => "income",
        Transfer => "transfer",
    }
);

wire_enum!(
    /// Where a transaction is in review: `pending` (imported from a bank file and not yet
    /// approved), `cleared` (the default of everything entered or approved), `reconciled`
    /// (checked against a statement by the user). Pending transactions count in balances,
    /// budgets and reports like any other, as they do in YNAB.
    TransactionStatus {
        Pending => "pending",
        Cleared => "cleared",
        Reconciled => "reconciled",
    }
);

impl TransactionType {
    /// The category kind an expense or income needs.
    pub fn category_kind(self) -> Option<CategoryKind> {
        match self {
            TransactionType::Expense => Some(CategoryKind::Expense),
            TransactionType::Income => Some(CategoryKind::Income),
            TransactionType::Transfer => None,
        }
    }
}

/// (name, kind, icon, color, children)
pub type DefaultCategory = (
    &'static str,
    CategoryKind,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// The tree every new user gets.
pub const DEFAULT_CATEGORIES: &[DefaultCategory] = &[
    (
        "Food & Dining",
        CategoryKind::Expense,
        "utensils",
        "#E4572E",
        &["Groceries", "Restaurants", "Cafe"],
    ),
    (
        "Transportation",
        CategoryKind::Expense,
        "car",
        "#29335C",
        &["Fuel", "Public Transit", "Taxi & Ride-hailing", "Parking"],
    ),
    (
        "Housing",
        CategoryKind::Expense,
        "home",
        "#F3A712",
        &["Rent & Mortgage", "Maintenance"],
    ),
    (
        "Utilities",
        CategoryKind::Expense,
        "bolt",
        "#A8C686",
        &["Electricity", "Water", "Internet & Phone"],
    ),
    (
        "Entertainment",
        CategoryKind::Expense,
        "film",
        "#669BBC",
        &["Movies & Events", "Subscriptions"],
    ),
    (
        "Health",
        CategoryKind::Expense,
        "heart-pulse",
        "#D1495B",
        &["Pharmacy", "Doctor"],
    ),
    (
        "Shopping",
        CategoryKind::Expense,
        "bag-shopping",
        "#8E7DBE",
        &["Clothing", "Electronics"],
    ),
    (
        "Education",
        CategoryKind::Expense,
        "graduation-cap",
        "#00798C",
        &[],
    ),
    ("Travel", CategoryKind::Expense, "plane", "#30638E", &[]),
    (
        "Personal Care",
        CategoryKind::Expense,
        "spa",
        "#EDAE49",
        &[],
    ),
    (
        "Gifts & Donations",
        CategoryKind::Expense,
        "gift",
        "#C3423F",
        &[],
    ),
    ("Insurance", CategoryKind::Expense, "shield", "#5B5F97", &[]),
    (
        "Fees & Charges",
        CategoryKind::Expense,
        "receipt",
        "#6C757D",
        &[],
    ),
    ("Salary", CategoryKind::Income, "briefcase", "#2A9D8F", &[]),
    ("Bonus", CategoryKind::Income, "star", "#43AA8B", &[]),
    (
        "Investment income",
        CategoryKind::Income,
        "chart-line",
        "#4D908E",
        &[],
    ),
    ("Freelance", CategoryKind::Income, "laptop", "#577590", &[]),
    (
        "Gifts received",
        CategoryKind::Income,
        "gift",
        "#90BE6D",
        &[],
    ),
    (
        "Other income",
        CategoryKind::Income,
        "coins",
        "#277DA1",
        &[],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_unique() {
        let mut roots: Vec<&str> = DEFAULT_CATEGORIES.iter().map(|c| c.0).collect();
        roots.sort();
        roots.dedup();
        assert_eq!(roots.len(), DEFAULT_CATEGORIES.len());
        assert!(
            DEFAULT_CATEGORIES.len() + DEFAULT_CATEGORIES.iter().map(|c| c.4.len()).sum::<usize>()
                >= 20
        );
    }

    #[test]
    fn enums_round_trip() {
        for t in WalletType::ALL {
            assert_eq!(WalletType::parse(t.as_str()), Some(*t));
        }
        for t in TransactionType::ALL {
            assert_eq!(TransactionType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(
            TransactionType::Income.category_kind(),
            Some(CategoryKind::Income)
        );
    }
}
