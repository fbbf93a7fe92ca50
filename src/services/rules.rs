//! The ledger's import rules: kept in order, checked against the ledger's own wallets and
//! categories, applied to imported entries (`services::imports`, before the categoriser) and on
//! demand to existing transactions through the ledger's write path.

use std::collections::HashMap;

use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::caller::Caller;
use super::ledger::{self, CategorySource, Patch};
use crate::db::rules::{self as store, Rule, RuleRow};
use crate::db::schema::transactions;
use crate::db::transactions::TransactionView;
use crate::db::{self, categories, wallets};
use crate::domain::ledger::{CategoryKind, TransactionType};
use crate::domain::rule::{self, Candidate, Conditions};
use crate::dto::rules::{CreateRuleRequest, UpdateRuleRequest};
use crate::error::ApiError;

/// The most rules a ledger keeps.
pub const MAX_RULES: i64 = 500;

/// A stored rule with its conditions compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub rule: Rule,
    pub conditions: Conditions,
}

/// What the rules that match a transaction do, each field from the first rule (in order) that
/// sets it; tags from all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effect {
    pub category_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub rename: Option<String>,
    pub transfer_to: Option<Uuid>,
}

impl Effect {
    pub fn is_empty(&self) -> bool {
        *self == Effect::default()
    }
}

fn compile(rule: Rule) -> Result<Compiled, ApiError> {
    let conditions = Conditions {
        payee_contains: rule.payee_contains.clone(),
        payee_equals: rule.payee_equals.clone(),
        payee_regex: match rule.payee_regex.as_deref() {
            Some(pattern) => Some(rule::compile(pattern).map_err(ApiError::internal)?),
            None => None,
        },
        min_amount: rule.min_amount,
        max_amount: rule.max_amount,
        wallet_id: rule.wallet_id,
        transaction_type: rule
            .transaction_type
            .as_deref()
            .and_then(TransactionType::parse),
    };
    Ok(Compiled { rule, conditions })
}

/// The ledger's active rules, in order, ready to match.
pub fn active(conn: &mut PgConnection, owner: Uuid) -> Result<Vec<Compiled>, ApiError> {
    store::all(conn, owner)?
        .into_iter()
        .filter(|r| r.active)
        .map(compile)
        .collect()
}

/// What the rules do to a transaction.
pub fn effect(rules: &[Compiled], candidate: &Candidate) -> Effect {
    let mut effect = Effect::default();
    for compiled in rules.iter().filter(|c| c.conditions.matches(candidate)) {
        let rule = &compiled.rule;
        effect.category_id = effect.category_id.or(rule.category_id);
        effect.rename = effect.rename.take().or(rule.rename_payee.clone());
        effect.transfer_to = effect.transfer_to.or(rule.transfer_to_wallet_id);
        for tag in rule.add_tags.iter().flatten() {
            if !effect.tags.contains(tag) {
                effect.tags.push(tag.clone());
            }
        }
    }
    effect
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, message)
}

/// Checks a rule as it would be stored: its ids are the ledger's, its pattern compiles, it has
/// a condition and an action, and its category fits its type.
fn checked(conn: &mut PgConnection, owner: Uuid, row: &RuleRow) -> Result<(), ApiError> {
    let conditions = row.payee_contains.is_some()
        || row.payee_equals.is_some()
        || row.payee_regex.is_some()
        || row.min_amount.is_some()
        || row.max_amount.is_some()
        || row.wallet_id.is_some()
        || row.transaction_type.is_some();
    if !conditions {
        return Err(invalid("payee_contains", "a rule needs at least one condition (payee_contains, payee_equals, payee_regex, min_amount, max_amount, wallet_id or type)"));
    }
    let actions = row.category_id.is_some()
        || row.add_tags.iter().flatten().next().is_some()
        || row.rename_payee.is_some()
        || row.transfer_to_wallet_id.is_some();
    if !actions {
        return Err(invalid("category_id", "a rule needs at least one action (category_id, add_tags, rename_payee or transfer_to_wallet_id)"));
    }
    if let Some(pattern) = row.payee_regex.as_deref() {
        rule::compile(pattern).map_err(|m| invalid("payee_regex", m))?;
    }
    for (field, amount) in [
        ("min_amount", row.min_amount),
        ("max_amount", row.max_amount),
    ] {
        if amount.is_some_and(|a| a.is_sign_negative()) {
            return Err(invalid(
                field,
                "must not be negative (amounts are positive; `type` tells the direction)",
            ));
        }
    }
    if let (Some(min), Some(max)) = (row.min_amount, row.max_amount) {
        if min > max {
            return Err(invalid("max_amount", "must not be below min_amount"));
        }
    }
    if row.transaction_type.as_deref() == Some("transfer") {
        return Err(invalid("type", "rules match expenses and income"));
    }
    let mut currencies = Vec::new();
    for id in [row.wallet_id, row.transfer_to_wallet_id]
        .into_iter()
        .flatten()
    {
        let wallet =
            wallets::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
        currencies.push(wallet.currency);
    }
    if row.wallet_id.is_some() && row.wallet_id == row.transfer_to_wallet_id {
        return Err(invalid(
            "transfer_to_wallet_id",
            "must be another wallet than wallet_id",
        ));
    }
    // A transfer stays in one currency: a rule that could never make one is refused here,
    // not at every transaction it matches.
    if let [from, to] = currencies.as_slice() {
        if row.wallet_id.is_some() && from != to {
            return Err(invalid(
                "transfer_to_wallet_id",
                format!(
                    "is a {to} wallet; wallet_id is in {from}, and a transfer keeps one currency"
                ),
            ));
        }
    }
    if let Some(id) = row.category_id {
        let category =
            categories::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Category"))?;
        let wanted = row
            .transaction_type
            .as_deref()
            .and_then(TransactionType::parse)
            .and_then(TransactionType::category_kind);
        if wanted.is_some_and(|kind| kind.as_str() != category.kind) {
            return Err(invalid(
                "category_id",
                format!(
                    "must be an {} category for rules of that type",
                    category_kind_name(wanted)
                ),
            ));
        }
    }
    for tag in row.add_tags.iter().flatten() {
        if tag.trim().is_empty() || tag.chars().count() > crate::domain::transaction::MAX_TAG {
            return Err(invalid(
                "add_tags",
                format!(
                    "each tag must be 1 to {} characters long",
                    crate::domain::transaction::MAX_TAG
                ),
            ));
        }
    }
    Ok(())
}

fn category_kind_name(kind: Option<CategoryKind>) -> &'static str {
    kind.map_or("expense", CategoryKind::as_str)
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<Rule>, ApiError> {
    Ok(store::all(conn, caller.ledger.id)?)
}

pub fn get(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<Rule, ApiError> {
    store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Rule"))
}

pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    body: CreateRuleRequest,
) -> Result<Rule, ApiError> {
    let owner = caller.ledger.id;
    conn.transaction(|conn| {
        db::lock_ledger(conn, owner)?;
        if store::count(conn, owner)? >= MAX_RULES {
            return Err(ApiError::Conflict {
                code: "rule_limit",
                message: format!("A ledger keeps at most {MAX_RULES} rules."),
            });
        }
        let row = RuleRow {
            ledger_id: owner,
            name: body.name.trim().to_owned(),
            position: match body.position {
                Some(position) => position,
                None => store::next_position(conn, owner)?,
            },
            active: body.active.unwrap_or(true),
            payee_contains: trimmed(body.payee_contains),
            payee_equals: trimmed(body.payee_equals),
            payee_regex: body.payee_regex,
            min_amount: body.min_amount.map(|m| m.0),
            max_amount: body.max_amount.map(|m| m.0),
            wallet_id: body.wallet_id,
            transaction_type: body.transaction_type.map(|t| t.as_str().to_owned()),
            category_id: body.category_id,
            add_tags: ledger::clean_tags(body.add_tags.unwrap_or_default()),
            rename_payee: trimmed(body.rename_payee),
            transfer_to_wallet_id: body.transfer_to_wallet_id,
        };
        checked(conn, owner, &row)?;
        Ok(store::insert(conn, &row)?)
    })
}

pub fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    body: UpdateRuleRequest,
) -> Result<Rule, ApiError> {
    let owner = caller.ledger.id;
    conn.transaction(|conn| {
        db::lock_ledger(conn, owner)?;
        let current = store::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Rule"))?;
        let row = RuleRow {
            ledger_id: owner,
            name: body.name.map_or(current.name, |n| n.trim().to_owned()),
            position: body.position.unwrap_or(current.position),
            active: body.active.unwrap_or(current.active),
            payee_contains: body.payee_contains.map_or(current.payee_contains, trimmed),
            payee_equals: body.payee_equals.map_or(current.payee_equals, trimmed),
            payee_regex: body.payee_regex.unwrap_or(current.payee_regex),
            min_amount: body
                .min_amount
                .map_or(current.min_amount, |m| m.map(|m| m.0)),
            max_amount: body
                .max_amount
                .map_or(current.max_amount, |m| m.map(|m| m.0)),
            wallet_id: body.wallet_id.unwrap_or(current.wallet_id),
            transaction_type: body.transaction_type.map_or(current.transaction_type, |t| {
                t.map(|t| t.as_str().to_owned())
            }),
            category_id: body.category_id.unwrap_or(current.category_id),
            // null clears the tags, as it clears every other action.
            add_tags: match body.add_tags {
                None => current.add_tags,
                Some(tags) => ledger::clean_tags(tags.unwrap_or_default()),
            },
            rename_payee: body.rename_payee.map_or(current.rename_payee, trimmed),
            transfer_to_wallet_id: body
                .transfer_to_wallet_id
                .unwrap_or(current.transfer_to_wallet_id),
        };
        checked(conn, owner, &row)?;
        Ok(store::update(conn, id, &row)?)
    })
}

pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    match store::delete(conn, caller.ledger.id, id)? {
        0 => Err(ApiError::not_found("Rule")),
        _ => Ok(()),
    }
}

/// What applying a rule to the ledger's transactions did (or would do).
#[derive(Debug)]
pub struct Applied {
    pub matched: usize,
    pub changed: usize,
    pub transfers_held_back: usize,
    pub sample: Vec<TransactionView>,
}

/// The wallet a rule's transfer moves a transaction of `wallet` to: another wallet, in the same
/// currency (a rule matching wallets of several currencies transfers only where it can).
pub fn transfer_target<'a>(
    effect: &Effect,
    wallet: Uuid,
    currency_of: impl Fn(Uuid) -> Option<&'a str>,
) -> Option<Uuid> {
    effect.transfer_to.filter(|to| {
        *to != wallet && currency_of(*to).is_some() && currency_of(*to) == currency_of(wallet)
    })
}

/// The patch a rule's effect makes to a stored transaction, if it changes anything. A category
/// chosen by a member is kept; a category of the other kind is not set.
fn patch_for(
    effect: &Effect,
    row: &Row,
    kinds: &HashMap<Uuid, String>,
    currencies: &HashMap<Uuid, String>,
) -> Option<Patch> {
    let mut patch = Patch::default();
    let kind = TransactionType::parse(&row.kind)?;
    if let Some(to) = transfer_target(effect, row.wallet_id, |id| {
        currencies.get(&id).map(String::as_str)
    }) {
        // An expense moves money to the other wallet, an income from it.
        patch.transaction_type = Some(TransactionType::Transfer);
        if kind == TransactionType::Expense {
            patch.to_wallet_id = Some(Some(to));
        } else {
            patch.wallet_id = Some(to);
            patch.to_wallet_id = Some(Some(row.wallet_id));
        }
    } else if let Some(category) = effect.category_id {
        let fits = kinds.get(&category).map(String::as_str)
            == kind.category_kind().map(CategoryKind::as_str);
        if row.category_source != "user" && fits && row.category_id != Some(category) {
            patch.category_id = Some(Some(category));
            patch.category_source = Some(CategorySource::Rule);
        }
    }
    let tags: Vec<String> = row.tags.iter().flatten().cloned().collect();
    if effect.tags.iter().any(|t| !tags.contains(t)) {
        let mut all = tags;
        all.extend(effect.tags.iter().cloned());
        patch.tags = Some(all);
    }
    if let Some(name) = &effect.rename {
        if row.description != *name || row.merchant.as_deref() != Some(name.as_str()) {
            patch.description = Some(name.clone());
            patch.merchant = Some(Some(name.clone()));
        }
    }
    let unchanged = patch.transaction_type.is_none()
        && patch.category_id.is_none()
        && patch.tags.is_none()
        && patch.description.is_none();
    (!unchanged).then_some(patch)
}

/// Whether the movement a rule would make a transfer of is recorded already on the other
/// wallet's side: the opposite kind, the same amount, within 3 days, no half of a pair.
fn other_side_recorded(
    conn: &mut PgConnection,
    ledger: Uuid,
    row: &Row,
    patch: &Patch,
) -> Result<bool, ApiError> {
    // An expense moves money to `to_wallet_id`; an income comes from the patch's `wallet_id`.
    let (other_wallet, other_kind) = match (patch.to_wallet_id, patch.wallet_id) {
        (Some(Some(to)), None) => (to, "income"),
        (_, Some(from)) => (from, "expense"),
        _ => return Ok(false),
    };
    let window = chrono::Days::new(3);
    let (Some(from), Some(to)) = (
        row.date.checked_sub_days(window),
        row.date.checked_add_days(window),
    ) else {
        return Ok(false);
    };
    Ok(
        crate::db::imports::unmatched_of_wallet(conn, ledger, other_wallet, from, to)?
            .iter()
            .any(|other| other.kind == other_kind && other.amount == row.amount),
    )
}

#[derive(Debug, Clone, diesel::Queryable)]
struct Row {
    id: Uuid,
    kind: String,
    amount: rust_decimal::Decimal,
    date: chrono::NaiveDate,
    description: String,
    merchant: Option<String>,
    wallet_id: Uuid,
    category_id: Option<Uuid>,
    category_source: String,
    tags: Vec<Option<String>>,
}

/// Applies one rule to the ledger's expenses and incomes (active or not: the client asked for
/// this one), each change through the ledger's write path, all in one database transaction.
pub fn apply(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    dry_run: bool,
) -> Result<Applied, ApiError> {
    use diesel::prelude::*;
    let owner = caller.ledger.id;
    conn.transaction(|conn| {
        db::lock_ledger(conn, owner)?;
        let stored = store::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Rule"))?;
        let compiled = compile(stored)?;
        let mut query = transactions::table
            .filter(transactions::ledger_id.eq(owner))
            .filter(transactions::type_.eq_any(["expense", "income"]))
            .select((
                transactions::id,
                transactions::type_,
                transactions::amount,
                transactions::date,
                transactions::description,
                transactions::merchant,
                transactions::wallet_id,
                transactions::category_id,
                transactions::category_source,
                transactions::tags,
            ))
            .order((transactions::date.desc(), transactions::id.desc()))
            .into_boxed();
        if let Some(wallet) = compiled.rule.wallet_id {
            query = query.filter(transactions::wallet_id.eq(wallet));
        }
        if let Some(kind) = compiled.rule.transaction_type.clone() {
            query = query.filter(transactions::type_.eq(kind));
        }
        if let Some(min) = compiled.rule.min_amount {
            query = query.filter(transactions::amount.ge(min));
        }
        if let Some(max) = compiled.rule.max_amount {
            query = query.filter(transactions::amount.le(max));
        }
        let rows: Vec<Row> = query.load(conn)?;
        let kinds: HashMap<Uuid, String> = categories::all(conn, owner)?
            .into_iter()
            .map(|c| (c.id, c.kind))
            .collect();
        let currencies: HashMap<Uuid, String> = wallets::all(conn, owner)?
            .into_iter()
            .map(|w| (w.id, w.currency))
            .collect();
        let rules = [compiled];
        let mut matched = 0;
        let mut held_back = 0;
        let mut changes = Vec::new();
        for row in &rows {
            let Some(kind) = TransactionType::parse(&row.kind) else {
                continue;
            };
            let candidate = Candidate {
                description: &row.description,
                merchant: row.merchant.as_deref(),
                amount: row.amount,
                wallet_id: row.wallet_id,
                transaction_type: kind,
            };
            let effect = effect(&rules, &candidate);
            if effect.is_empty() {
                continue;
            }
            matched += 1;
            let Some(mut patch) = patch_for(&effect, row, &kinds, &currencies) else {
                continue;
            };
            if patch.transaction_type == Some(TransactionType::Transfer)
                && other_side_recorded(conn, owner, row, &patch)?
            {
                // Its other side is in the other wallet already (an income the bank file of
                // that account brought, or typed): as a transfer it would count the money
                // twice. The row keeps what it is; the rule's other actions still apply.
                held_back += 1;
                patch.transaction_type = None;
                patch.wallet_id = None;
                patch.to_wallet_id = None;
                let unchanged = patch.category_id.is_none()
                    && patch.tags.is_none()
                    && patch.description.is_none();
                if unchanged {
                    continue;
                }
            }
            changes.push((row.id, patch));
        }
        let changed = changes.len();
        let mut sample = Vec::new();
        for (index, (row_id, patch)) in changes.into_iter().enumerate() {
            if dry_run {
                if index < 10 {
                    if let Some(view) = crate::db::transactions::find_view(conn, owner, row_id)? {
                        sample.push(view);
                    }
                }
                continue;
            }
            let view = ledger::update(conn, caller, row_id, patch, ledger::Target::ANY)?;
            if index < 10 {
                sample.push(view);
            }
        }
        Ok(Applied {
            matched,
            changed,
            transfers_held_back: held_back,
            sample,
        })
    })
}
