//! Shared ledgers: their kinds, the roles of their members, and what each role may do.

wire_enum!(
    /// What a ledger is for. A `personal` ledger is its owner's alone (every account has one,
    /// and it cannot be shared or deleted); `household` and `business` ledgers have members,
    /// and the business reports need a `business` ledger.
    LedgerKind {
        Personal => "personal",
        Household => "household",
        Business => "business",
    }
);

wire_enum!(
    /// A member's role in a ledger: `owner` may do everything, including managing members and
    /// deleting the ledger; `editor` writes its data; `viewer` reads it.
    LedgerRole {
        Owner => "owner",
        Editor => "editor",
        Viewer => "viewer",
    }
);

impl LedgerRole {
    /// Whether the role may change the ledger's data (wallets, transactions, budgets, ...).
    pub fn can_write(self) -> bool {
        matches!(self, LedgerRole::Owner | LedgerRole::Editor)
    }

    /// Whether the role may manage the ledger itself: its name, members and invitations.
    pub fn can_manage(self) -> bool {
        self == LedgerRole::Owner
    }
}

/// Why a change to a ledger's membership is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipRule {
    /// A personal ledger has one member, its owner, for good.
    PersonalIsPrivate,
    /// Every ledger keeps at least one owner.
    LastOwner,
}

/// Whether a ledger of `kind` with `owners` owners may lose (or demote) a member whose role is
/// `role`.
pub fn may_lose_member(
    kind: LedgerKind,
    role: LedgerRole,
    owners: i64,
) -> Result<(), MembershipRule> {
    if kind == LedgerKind::Personal {
        return Err(MembershipRule::PersonalIsPrivate);
    }
    if role == LedgerRole::Owner && owners <= 1 {
        return Err(MembershipRule::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_their_names_say() {
        assert!(LedgerRole::Owner.can_write() && LedgerRole::Owner.can_manage());
        assert!(LedgerRole::Editor.can_write() && !LedgerRole::Editor.can_manage());
        assert!(!LedgerRole::Viewer.can_write() && !LedgerRole::Viewer.can_manage());
        for role in LedgerRole::ALL {
            assert_eq!(LedgerRole::parse(role.as_str()), Some(*role));
        }
    }

    #[test]
    fn the_last_owner_stays_and_a_personal_ledger_stays_private() {
        use LedgerKind::*;
        use LedgerRole::*;
        assert_eq!(
            may_lose_member(Household, Owner, 1),
            Err(MembershipRule::LastOwner)
        );
        assert_eq!(may_lose_member(Household, Owner, 2), Ok(()));
        assert_eq!(may_lose_member(Business, Viewer, 1), Ok(()));
        assert_eq!(
            may_lose_member(Personal, Viewer, 3),
            Err(MembershipRule::PersonalIsPrivate)
        );
    }
}
