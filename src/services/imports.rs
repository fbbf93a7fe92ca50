//! Bank statement imports (`POST /imports`): a parsed statement (`domain::statement`) mapped
//! onto one of the ledger's wallets and written through the ledger's one write path, as one
//! batch. The batch remembers what happened to every entry: created (pending review unless the
//! client asked for automatic approval), a duplicate of an earlier import (same bank id, or
//! the same fingerprint where the format has none: nothing is created), a possible duplicate
//! of a movement recorded another way (held back, with the other transaction's id, so reports
//! never count it twice), or refused.
//!
//! A file runs within its request, or, when it is large, as a background reader's job
//! ([`queue`], then [`process_next`] in `jobs::files`): the same import, with its progress
//! written as it goes and its failure (what the request would have been refused with) kept on
//! the batch.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use diesel::{Connection, PgConnection};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::caller::Caller;
use super::csv::{self as csv_service, ImportSuggestion};
use super::events::{self, Kind};
use super::ledger::{self, CategorySource, Checked, Entry, Provenance, Refs};
use super::predictions;
use super::rules;
use crate::db::categories::{self, Category, NewCategory};
use crate::db::imports::{self as store, Batch, NewBatch};
use crate::db::{self, transactions, wallets};
use crate::domain::csv_import::{self as domain_csv, name_key, ImportRow, LineError};
use crate::domain::ledger::{CategoryKind, TransactionType};
use crate::domain::rule::Candidate;
use crate::domain::spreadsheet;
use crate::domain::statement::{self, ImportFormat, Statement, StatementEntry};
use crate::domain::transaction::{Draft, MAX_DESCRIPTION, MAX_MERCHANT, MAX_NOTES, MAX_TAGS};
use crate::dto::events::ImportFinishedData;
use crate::error::ApiError;
use crate::storage::{FileKey, FileStore};

/// How far apart (days) the same bank movement may be dated by two sources.
pub const DUPLICATE_WINDOW_DAYS: u64 = 3;
/// The categories an entry gets when nothing names or suggests one (names are unique among
/// siblings, whatever their kind).
pub const UNCATEGORIZED: &str = "Uncategorized";
pub const UNCATEGORIZED_INCOME: &str = "Uncategorized income";

/// What happened to one entry of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Created (see `transaction_id`).
    Created,
    /// Already imported before (same bank id or fingerprint): nothing created.
    Duplicate,
    /// Looks like a movement already recorded another way (`duplicate_of`): held back, not
    /// created.
    PossibleDuplicate,
    /// Refused (see `message`).
    Failed,
}

impl Outcome {
    /// As the report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Duplicate => "duplicate",
            Outcome::PossibleDuplicate => "possible_duplicate",
            Outcome::Failed => "failed",
        }
    }
}

/// One entry of a file and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryReport {
    /// The line the entry starts on in the file.
    pub line: u64,
    /// `null` only for a CSV line too malformed to read.
    pub date: Option<NaiveDate>,
    /// Signed as on the statement: negative left the account (`null` as `date`). A JSON number
    /// with the statement's exact digits, as every amount of the API (reports stored before
    /// held it as a string; both are read).
    #[schema(value_type = Option<f64>, example = -42.17)]
    #[serde(with = "rust_decimal::serde::arbitrary_precision_option")]
    pub amount: Option<Decimal>,
    pub payee: Option<String>,
    pub memo: Option<String>,
    /// The bank's own id of the movement, when the file gives one.
    pub external_id: Option<String>,
    pub outcome: Outcome,
    /// The transaction created, or the one already imported (`duplicate`).
    pub transaction_id: Option<Uuid>,
    /// The transaction this entry may repeat (`possible_duplicate`).
    pub duplicate_of: Option<Uuid>,
    /// A pending transaction of another wallet that looks like the other half of a transfer
    /// with this one (opposite direction, same amount, within 3 days): approving either makes
    /// the pair one transfer.
    #[serde(default)]
    pub transfer_match: Option<Uuid>,
    pub category_id: Option<Uuid>,
    /// `rule` (set by one of the ledger's rules), `user` (named by the file), `ml` (a confident
    /// suggestion), `default` (Uncategorized); `null` for a transfer.
    pub category_source: Option<String>,
    pub message: Option<String>,
}

/// A batch as clients see it.
#[derive(Debug, Clone)]
pub struct BatchView {
    pub batch: Batch,
    pub status: &'static str,
    pub pending: i64,
    /// Every entry's [`EntryReport`]; `None` where the report is left out.
    pub report: Option<Report>,
}

/// What a client asked of an import.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub wallet_id: Option<Uuid>,
    /// Create entries `cleared` instead of `pending`.
    pub auto_approve: bool,
}

/// The status a batch is in: `undone`; `queued`, `processing` or `failed` in the background;
/// `pending` while some of its transactions wait for review, else `completed`.
fn status_of(batch: &Batch, pending: i64) -> &'static str {
    match batch.state.as_str() {
        _ if batch.undone => "undone",
        "queued" => "queued",
        "running" => "processing",
        "failed" => "failed",
        _ if pending > 0 => "pending",
        _ => "completed",
    }
}

/// How an import runs.
pub enum Run<'a> {
    /// Within its request: the batch row is written with the rows.
    Inline,
    /// A background reader's job: the batch was queued by its request and taken on the
    /// reader's `attempt`; `progress` hears (entries, entries stored) as the import goes.
    Background {
        id: Uuid,
        attempt: i32,
        progress: &'a mut dyn FnMut(usize, usize),
    },
}

impl Run<'_> {
    fn batch_id(&self) -> Uuid {
        match self {
            Run::Inline => Uuid::new_v4(),
            Run::Background { id, .. } => *id,
        }
    }

    /// Under the ledger's lock, before anything is written: a background job checks that its
    /// reader still holds the batch (a reader whose lease ran out may have been overtaken).
    fn check(&self, conn: &mut PgConnection, owner: Uuid) -> Result<(), ApiError> {
        match self {
            Run::Inline => Ok(()),
            Run::Background { id, attempt, .. } => {
                if store::still_running(conn, owner, *id, *attempt)? {
                    Ok(())
                } else {
                    Err(superseded())
                }
            }
        }
    }

    /// Writes an inline batch's row (a queued batch has one; its columns are written when it
    /// finishes, so the row is never locked while its progress is written beside).
    fn insert(&self, conn: &mut PgConnection, batch: &NewBatch) -> Result<(), ApiError> {
        match self {
            Run::Inline => Ok(store::insert(conn, batch)?),
            Run::Background { .. } => Ok(()),
        }
    }

    fn progress(&mut self, entries: usize, stored: usize) {
        if let Run::Background { progress, .. } = self {
            progress(entries, stored);
        }
    }
}

/// The job's batch was taken over by another reader.
fn superseded() -> ApiError {
    ApiError::Conflict {
        code: "import_superseded",
        message: "another reader took this import over".into(),
    }
}

/// The wallet a statement goes to: the one named, else the one linked to the statement's
/// account. The statement's account is linked to the wallet on its first import.
fn wallet_for(
    conn: &mut PgConnection,
    owner: Uuid,
    statement: &Statement,
    named: Option<Uuid>,
) -> Result<Uuid, ApiError> {
    let linked = match statement.account.as_deref() {
        Some(account) => store::wallet_of_account(conn, owner, account)?,
        None => None,
    };
    let wallet = match (named, linked, statement.account.as_deref()) {
        (Some(named), Some(linked), Some(account)) if named != linked => {
            return Err(ApiError::invalid_field(
                "wallet_id",
                format!("account {account} is linked to wallet {linked}, not to this one"),
            ))
        }
        (Some(named), _, _) => named,
        (None, Some(linked), _) => linked,
        (None, None, Some(account)) => {
            return Err(ApiError::invalid_field(
                "wallet_id",
                format!(
                    "the statement is of account {account}, which no wallet is linked to: \
                     import it once with ?wallet_id= to link them"
                ),
            ))
        }
        (None, None, None) => {
            return Err(ApiError::invalid_field(
                "wallet_id",
                "the file names no account: give ?wallet_id=",
            ))
        }
    };
    wallets::find(conn, owner, wallet)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
    if let Some(account) = statement.account.as_deref() {
        match store::account_of_wallet(conn, owner, wallet)? {
            None => store::link_account(conn, owner, wallet, account)?,
            Some(other) if other != account => {
                return Err(ApiError::invalid_field(
                    "wallet_id",
                    format!("the wallet is linked to account {other}, and the statement is of account {account}"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(wallet)
}

/// A key that is the same every time the same bank movement is read from the same account: the
/// bank's id where it gives one, else the entry's date, amount, texts and how many identical
/// entries came before it in the file.
fn duplicate_keys(wallet: Uuid, entries: &[StatementEntry]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    entries
        .iter()
        .map(|entry| {
            let material = match &entry.external_id {
                Some(id) => format!("ext\u{1f}{wallet}\u{1f}{id}"),
                None => {
                    let base = format!(
                        "fp\u{1f}{wallet}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                        entry.date,
                        entry.amount.normalize(),
                        entry.payee.as_deref().unwrap_or(""),
                        entry.memo.as_deref().unwrap_or("")
                    );
                    let count = seen.entry(base.clone()).or_insert(0);
                    *count += 1;
                    format!("{base}\u{1f}{count}")
                }
            };
            let digest = Sha256::digest(material.as_bytes());
            format!("stmt:{}", data_encoding::HEXLOWER.encode(&digest))
        })
        .collect()
}

/// Categories by name for entries whose file names one (QIF `L`, with `:` between levels).
struct CategoryNames {
    by_path: HashMap<(CategoryKind, String), Uuid>,
    by_name: HashMap<(CategoryKind, String), Option<Uuid>>,
}

impl CategoryNames {
    fn new(rows: &[Category]) -> CategoryNames {
        let by_id: HashMap<Uuid, &Category> = rows.iter().map(|c| (c.id, c)).collect();
        let mut names = CategoryNames {
            by_path: HashMap::new(),
            by_name: HashMap::new(),
        };
        for category in rows {
            let Some(kind) = CategoryKind::parse(&category.kind) else {
                continue;
            };
            let mut parts = vec![name_key(&category.name)];
            let mut parent = category.parent_id;
            while let Some(up) = parent
                .and_then(|id| by_id.get(&id))
                .filter(|_| parts.len() <= rows.len())
            {
                parts.push(name_key(&up.name));
                parent = up.parent_id;
            }
            parts.reverse();
            names.by_path.insert((kind, parts.join(":")), category.id);
            names
                .by_name
                .entry((kind, name_key(&category.name)))
                .and_modify(|found| *found = None)
                .or_insert(Some(category.id));
        }
        names
    }

    /// By full path (`Food:Groceries`), else by the last part's name when only one category
    /// has it.
    fn find(&self, kind: CategoryKind, name: &str) -> Option<Uuid> {
        let path: Vec<String> = name.split(':').map(name_key).collect();
        if let Some(id) = self.by_path.get(&(kind, path.join(":"))) {
            return Some(*id);
        }
        let last = path.last()?;
        self.by_name.get(&(kind, last.clone())).copied().flatten()
    }
}

/// The ledger's top-level `Uncategorized` category of a kind, created the first time it is
/// needed.
fn uncategorized(
    conn: &mut PgConnection,
    owner: Uuid,
    kind: CategoryKind,
    rows: &mut Vec<Category>,
    refs: &mut Refs,
) -> Result<Uuid, ApiError> {
    let name = match kind {
        CategoryKind::Expense => UNCATEGORIZED,
        CategoryKind::Income => UNCATEGORIZED_INCOME,
    };
    if let Some(found) = rows.iter().find(|c| {
        c.parent_id.is_none() && c.kind == kind.as_str() && name_key(&c.name) == name_key(name)
    }) {
        return Ok(found.id);
    }
    let created = categories::insert(
        conn,
        &NewCategory {
            ledger_id: owner,
            parent_id: None,
            name,
            kind: kind.as_str(),
            icon: None,
            color: None,
        },
    )?;
    refs.categories.insert(
        created.id,
        ledger::CategoryRef {
            name: created.name.clone(),
            kind,
        },
    );
    let id = created.id;
    rows.push(created);
    Ok(id)
}

/// Clips a bank's text to a limit of the JSON API (banks write long memos).
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Imports a parsed statement as one batch; see the module's notes.
fn import_statement(
    conn: &mut PgConnection,
    caller: &Caller,
    format: ImportFormat,
    statement: Statement,
    options: Options,
    run: &mut Run,
) -> Result<BatchView, ApiError> {
    let owner = caller.ledger.id;
    let (view, spending) = conn.transaction::<_, ApiError, _>(|conn| {
        // Imports of one ledger run one at a time, so two copies of a file sent at once
        // cannot both pass the duplicate checks.
        db::lock_ledger(conn, owner)?;
        run.check(conn, owner)?;
        let wallet = wallet_for(conn, owner, &statement, options.wallet_id)?;
        let wallet_rows = wallets::all(conn, owner)?;
        let wallet_row = wallet_rows
            .iter()
            .find(|w| w.id == wallet)
            .ok_or_else(|| ApiError::not_found("Wallet"))?;
        if let Some(currency) = statement.currency.as_deref() {
            if currency != wallet_row.currency {
                return Err(ApiError::invalid_field(
                    "wallet_id",
                    format!(
                        "the statement is in {currency} and the wallet `{}` in {}",
                        wallet_row.name, wallet_row.currency
                    ),
                ));
            }
        }
        let mut category_rows = categories::all(conn, owner)?;
        let mut refs = Refs::from_rows(&wallet_rows, &category_rows)?;
        let names = CategoryNames::new(&category_rows);
        let suggester = predictions::categorizer_for(conn, owner)?;
        let rules = rules::active(conn, owner)?;

        let batch_id = run.batch_id();
        let mut batch = NewBatch {
            wallet_id: Some(wallet),
            account: statement.account.clone(),
            currency: Some(wallet_row.currency.clone()),
            period_start: statement.period.map(|p| p.0),
            period_end: statement.period.map(|p| p.1),
            ..NewBatch::done(
                owner,
                batch_id,
                caller.id,
                format.as_str(),
                options.auto_approve,
            )
        };
        run.insert(conn, &batch)?;

        let keys = duplicate_keys(wallet, &statement.entries);
        let existing = store::existing_hashes(conn, owner, &keys)?;
        let claimed: HashSet<Uuid> = existing.values().copied().collect();
        let window = Days::new(DUPLICATE_WINDOW_DAYS);
        // The days a movement of this file may be recorded on (none for an empty file).
        let span = statement
            .entries
            .iter()
            .map(|e| e.date)
            .min()
            .zip(statement.entries.iter().map(|e| e.date).max())
            .map(|(first, last)| (first - window, last + window));
        let mut candidates = match span {
            Some((from, to)) => store::movements(conn, owner, wallet, from, to)?,
            None => Vec::new(),
        };
        candidates.retain(|m| !claimed.contains(&m.id));
        let mut matched: HashSet<Uuid> = HashSet::new();
        let mut seen_in_file: HashSet<&str> = HashSet::new();
        // Where rules transfer to: each such wallet's unmatched expenses and incomes, read
        // when an entry first needs them.
        let mut other_sides: HashMap<Uuid, Vec<store::Pending>> = HashMap::new();
        // Entries whose rule's transfer found its other side recorded: their report position
        // and that row.
        let mut recorded_sides: Vec<(usize, store::Pending)> = Vec::new();

        let mut report = Vec::with_capacity(statement.entries.len());
        // The entries to record, and where each is in the report (two lists, not a list of
        // pairs: splitting 100,000 pairs copied every row once more).
        let mut positions: Vec<usize> = Vec::new();
        let mut checked: Vec<Checked> = Vec::new();
        for (entry, key) in statement.entries.iter().zip(&keys) {
            let mut line = EntryReport {
                line: entry.line,
                date: Some(entry.date),
                amount: Some(entry.amount),
                payee: entry.payee.clone(),
                memo: entry.memo.clone(),
                external_id: entry.external_id.clone(),
                outcome: Outcome::Failed,
                transaction_id: None,
                duplicate_of: None,
                transfer_match: None,
                category_id: None,
                category_source: None,
                message: None,
            };
            if let Some(id) = existing.get(key) {
                line.outcome = Outcome::Duplicate;
                line.transaction_id = Some(*id);
                report.push(line);
                continue;
            }
            if !seen_in_file.insert(key.as_str()) {
                line.outcome = Outcome::Duplicate;
                line.message = Some("the file lists this bank id twice".into());
                report.push(line);
                continue;
            }
            // The same movement recorded another way: same signed amount, a few days apart,
            // not already two different bank ids.
            let repeat = candidates
                .iter()
                .filter(|m| {
                    m.signed == entry.amount
                        && !matched.contains(&m.id)
                        && (m.external_id.is_none() || entry.external_id.is_none())
                        && (m.date - entry.date).num_days().unsigned_abs() <= DUPLICATE_WINDOW_DAYS
                })
                .min_by_key(|m| ((m.date - entry.date).num_days().abs(), m.id));
            if let Some(repeat) = repeat {
                matched.insert(repeat.id);
                line.outcome = Outcome::PossibleDuplicate;
                line.duplicate_of = Some(repeat.id);
                report.push(line);
                continue;
            }
            let kind = if entry.amount < Decimal::ZERO {
                TransactionType::Expense
            } else if entry.amount > Decimal::ZERO {
                TransactionType::Income
            } else {
                line.message = Some("a zero amount moves no money".into());
                report.push(line);
                continue;
            };
            let category_kind = kind.category_kind().unwrap_or(CategoryKind::Expense);
            let mut description = clip(
                entry
                    .payee
                    .as_deref()
                    .or(entry.memo.as_deref())
                    .unwrap_or("Bank transaction"),
                MAX_DESCRIPTION,
            );
            let mut merchant = entry.payee.as_deref().map(|p| clip(p, MAX_MERCHANT));
            let notes = entry
                .memo
                .as_deref()
                .filter(|m| entry.payee.is_some() && Some(*m) != entry.payee.as_deref())
                .map(|m| clip(m, MAX_NOTES));
            let amount = entry.amount.abs();
            // The ledger's rules come first: a category, a new payee name, tags, a transfer.
            let effect = rules::effect(
                &rules,
                &Candidate {
                    description: &description,
                    merchant: merchant.as_deref(),
                    amount,
                    wallet_id: wallet,
                    transaction_type: kind,
                },
            );
            if let Some(name) = &effect.rename {
                description = name.clone();
                merchant = Some(name.clone());
            }
            let rule_category = effect.category_id.filter(|id| {
                refs.categories
                    .get(id)
                    .is_some_and(|c| c.kind == category_kind)
            });
            let transfer_to = rules::transfer_target(&effect, wallet, |id| {
                refs.wallets.get(&id).map(|w| w.currency.as_str())
            });
            // A rule's transfer also moves money in the other wallet. Where that wallet has
            // the movement already (its own statement's line, an expense or income of the
            // same amount the other way, within the window), a transfer would count it twice:
            // the entry is then what its statement shows, and is matched with that row like
            // any other statement's line (approving the pair makes the transfer).
            let other_side = match (transfer_to, span) {
                (Some(other), Some((from, to))) => {
                    let rows = match other_sides.entry(other) {
                        std::collections::hash_map::Entry::Occupied(rows) => rows.into_mut(),
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            slot.insert(store::unmatched_of_wallet(conn, owner, other, from, to)?)
                        }
                    };
                    let wanted = if kind == TransactionType::Expense {
                        "income"
                    } else {
                        "expense"
                    };
                    let nearest = rows
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| {
                            r.kind == wanted
                                && r.amount == amount
                                && (r.date - entry.date).num_days().unsigned_abs()
                                    <= DUPLICATE_WINDOW_DAYS
                        })
                        .min_by_key(|(_, r)| ((r.date - entry.date).num_days().abs(), r.id))
                        .map(|(i, _)| i);
                    // Each recorded row is the other side of one entry at most.
                    nearest.map(|i| rows.swap_remove(i))
                }
                _ => None,
            };
            let transfer_to = transfer_to.filter(|_| other_side.is_none());
            let (category, source, confidence) = if transfer_to.is_some() {
                (None, CategorySource::User, None)
            } else if let Some(id) = rule_category {
                (Some(id), CategorySource::Rule, None)
            } else if let Some(id) = entry
                .category
                .as_deref()
                .and_then(|name| names.find(category_kind, name))
            {
                (Some(id), CategorySource::User, None)
            } else if let Some((id, suggestion)) = csv_service::suggest(
                entry.line,
                (&description, merchant.as_deref(), amount),
                category_kind,
                &suggester,
                &refs,
            ) {
                let confidence = suggestion
                    .as_ref()
                    .and_then(|s: &ImportSuggestion| Decimal::from_f64(s.probability));
                (Some(id), CategorySource::Ml, confidence)
            } else {
                let id = uncategorized(conn, owner, category_kind, &mut category_rows, &mut refs)?;
                (Some(id), CategorySource::Default, None)
            };
            // A transfer moves money out of the statement's wallet (an outflow) or into it.
            let draft = match transfer_to {
                Some(other) => Draft {
                    transaction_type: TransactionType::Transfer,
                    amount,
                    category_id: None,
                    wallet_id: if kind == TransactionType::Expense {
                        wallet
                    } else {
                        other
                    },
                    to_wallet_id: Some(if kind == TransactionType::Expense {
                        other
                    } else {
                        wallet
                    }),
                    splits: Vec::new(),
                },
                None => Draft {
                    transaction_type: kind,
                    amount,
                    category_id: category,
                    wallet_id: wallet,
                    to_wallet_id: None,
                    splits: Vec::new(),
                },
            };
            let currency = match ledger::check(&draft, None, &refs, &[]) {
                Ok(currency) => currency,
                Err(violation) => {
                    line.message = Some(violation.line_message());
                    report.push(line);
                    continue;
                }
            };
            line.category_id = category;
            line.category_source = category.map(|_| source.as_str().to_owned());
            if let Some(side) = other_side {
                if side.status != "pending" {
                    line.message = Some(format!(
                        "the rule's transfer is recorded already as {} in the other wallet; \
                         this entry is kept as it is, not as a second transfer",
                        side.id
                    ));
                }
                recorded_sides.push((report.len(), side));
            }
            positions.push(report.len());
            checked.push(Checked {
                entry: Entry {
                    draft,
                    currency: None,
                    date: entry.date,
                    description,
                    merchant,
                    notes,
                    tags: effect.tags.clone(),
                    import: Provenance {
                        hash: Some(key.clone()),
                        batch: Some(batch_id),
                        external_id: entry.external_id.clone(),
                        pending: !options.auto_approve,
                    },
                    category_source: source,
                    category_confidence: confidence,
                    tax: ledger::Tax::default(),
                },
                currency,
                unusual: None,
            });
            line.outcome = Outcome::Created;
            report.push(line);
        }
        let entries = report.len();
        run.progress(entries, 0);
        let ids = ledger::record_many(conn, ledger::Author::of(caller), &checked, &mut |stored| {
            run.progress(entries, stored)
        })?;
        let mut spending = super::alerts::NewSpending::default();
        for (position, checked) in positions.iter().zip(&checked) {
            let id = checked.entry.import.hash.as_ref().and_then(|h| ids.get(h));
            if let Some(line) = report.get_mut(*position) {
                line.transaction_id = id.copied();
            }
            spending.merge(&checked.spending());
        }
        // The rows are stored: what is left to do needs only the report.
        drop(checked);
        if !options.auto_approve {
            let archived: HashSet<Uuid> = wallet_rows
                .iter()
                .filter(|w| w.archived)
                .map(|w| w.id)
                .collect();
            // An entry whose rule's transfer is recorded already in the other wallet is
            // matched with that row, if both may still become one transfer.
            let mut pairs = Vec::new();
            for (position, side) in &recorded_sides {
                let Some(line) = report.get_mut(*position) else {
                    continue;
                };
                let (Some(id), Some(date), Some(amount)) =
                    (line.transaction_id, line.date, line.amount)
                else {
                    continue;
                };
                let row = created_row(id, wallet, &wallet_row.currency, date, amount);
                if halves_of_one_transfer(&row, side, &archived) {
                    line.transfer_match = Some(side.id);
                    pairs.push((id, side.id));
                }
            }
            store::pair(conn, owner, &pairs)?;
            let paired: HashSet<usize> = recorded_sides.iter().map(|(p, _)| *p).collect();
            let created: Vec<(usize, Uuid)> = report
                .iter()
                .enumerate()
                // Transfers (made by a rule) and the other sides of rules' transfers are
                // matched already.
                .filter(|(i, r)| r.category_id.is_some() && !paired.contains(i))
                .filter_map(|(i, r)| Some((i, r.transaction_id?)))
                .collect();
            for (position, other) in match_transfers(
                conn,
                owner,
                wallet,
                &wallet_row.currency,
                &archived,
                &report,
                &created,
            )? {
                if let Some(line) = report.get_mut(position) {
                    line.transfer_match = Some(other);
                }
            }
        }
        let count =
            |outcome: Outcome| report.iter().filter(|r| r.outcome == outcome).count() as i32;
        batch.entries = report.len() as i32;
        batch.created = count(Outcome::Created);
        batch.duplicates = count(Outcome::Duplicate);
        batch.possible_duplicates = count(Outcome::PossibleDuplicate);
        batch.failed = count(Outcome::Failed);
        store_report(conn, &report)?;
        store::finish(conn, &batch)?;
        let report = Some(Report::Built(report));
        let pending = if options.auto_approve {
            0
        } else {
            i64::from(batch.created)
        };
        announce(
            conn,
            owner,
            &ImportFinishedData {
                import_id: Some(batch_id),
                format: format.as_str().to_owned(),
                status: if pending > 0 { "pending" } else { "completed" }.to_owned(),
                created: batch.created as u64,
                duplicates: batch.duplicates as u64,
                possible_duplicates: batch.possible_duplicates as u64,
                failed: batch.failed as u64,
                failure: None,
            },
        )?;
        let stored = store::find_summary(conn, owner, batch_id)?
            .ok_or_else(|| ApiError::internal("an import batch vanished"))?;
        Ok((
            BatchView {
                status: status_of(&stored, pending),
                batch: stored,
                pending,
                report,
            },
            spending,
        ))
    })?;
    ledger::after_commit(conn, caller, &spending)?;
    Ok(view)
}

/// A file read into what an import takes.
pub enum Parsed {
    Table(spreadsheet::Table),
    Statement(Statement),
}

/// Reads a file of a format (CPU work: a request runs it off its worker thread). A malformed
/// file is a 422 naming its line, row or element.
pub fn parse(format: ImportFormat, body: &[u8]) -> Result<Parsed, ApiError> {
    let parsed = match format {
        ImportFormat::Xlsx => spreadsheet::read_transactions(body)
            .map(Parsed::Table)
            .map_err(|e| e.to_string()),
        ImportFormat::Csv => domain_csv::parse(body).map(Parsed::Table),
        _ => statement::parse(format, body)
            .map(Parsed::Statement)
            .map_err(|e| e.to_string()),
    };
    parsed.map_err(|message| ApiError::invalid_field("file", message))
}

/// Imports a read file as one batch.
pub fn import(
    conn: &mut PgConnection,
    caller: &Caller,
    format: ImportFormat,
    parsed: Parsed,
    options: Options,
    run: &mut Run,
) -> Result<BatchView, ApiError> {
    match parsed {
        Parsed::Table(table) => import_table(conn, caller, format, table, options, run),
        Parsed::Statement(statement) => {
            import_statement(conn, caller, format, statement, options, run)
        }
    }
}

/// Announces an import's end (`import_finished`), in its transaction.
pub fn announce(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    finished: &ImportFinishedData,
) -> Result<(), ApiError> {
    let data = serde_json::to_value(finished).map_err(ApiError::internal)?;
    events::append(
        conn,
        ledger_id,
        Kind::ImportFinished,
        finished.import_id,
        data,
    )
}

/// Queues a file for the background readers: the batch is written `queued` with the file in
/// the store, to be answered at once (202). A wallet named that is not the ledger's is 404 now,
/// not a failure later.
pub fn queue(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    caller: &Caller,
    format: ImportFormat,
    options: Options,
    body: &[u8],
) -> Result<BatchView, ApiError> {
    let owner = caller.ledger.id;
    let key = FileKey::of(owner, body);
    conn.transaction::<_, ApiError, _>(|conn| {
        if let Some(id) = options.wallet_id {
            wallets::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
        }
        store::lock_queue(conn, owner)?;
        if store::count_waiting(conn, owner)? >= MAX_QUEUED {
            return Err(ApiError::queue_full(
                "import_queue_full",
                format!("{MAX_QUEUED} files of this ledger are waiting to be imported"),
            ));
        }
        // Under the file's lock, as an attachment's upload: the sweeper never removes a file
        // between this row's commit and its writing.
        crate::db::attachments::lock_file(conn, owner, &key.sha256)?;
        let id = Uuid::new_v4();
        store::insert(
            conn,
            &NewBatch {
                wallet_id: options.wallet_id,
                state: "queued".into(),
                sha256: Some(key.sha256.clone()),
                size_bytes: Some(body.len() as i64),
                ..NewBatch::done(owner, id, caller.id, format.as_str(), options.auto_approve)
            },
        )?;
        files.put(&key, body).map_err(ApiError::internal)?;
        let batch = store::find_summary(conn, owner, id)?
            .ok_or_else(|| ApiError::internal("an import batch vanished"))?;
        Ok(BatchView {
            status: status_of(&batch, 0),
            batch,
            pending: 0,
            report: None,
        })
    })
}

/// Files a ledger may have waiting in the background at once (up to 32 MiB each): more answer
/// 429.
pub const MAX_QUEUED: i64 = 5;
/// How long a reader holds a batch before another may take it over (from a reader that died).
const LEASE_MINUTES: i64 = 30;
/// Tries at a batch whose import fails for a passing reason (the database), before it fails.
const MAX_ATTEMPTS: i32 = 3;
/// How often a running import writes its progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Takes the oldest queued file and imports it: the same import as within a request, its
/// progress written through `side` (its own connection, outside the import's transaction) as
/// it goes. A file the request would have refused (malformed, an account no wallet is linked
/// to, a sender who may no longer write) fails its batch with that reason, storing nothing; a
/// passing failure puts it back in the queue for a minute. Either way `import_finished` tells
/// the ledger. Returns the batch taken, if any.
pub fn process_next(
    conn: &mut PgConnection,
    side: &mut PgConnection,
    files: &dyn FileStore,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Uuid>, ApiError> {
    let Some(job) = store::claim(conn, now, now + chrono::Duration::minutes(LEASE_MINUTES))? else {
        return Ok(None);
    };
    if job.attempts > MAX_ATTEMPTS {
        fail(
            conn,
            &job,
            None,
            "the import failed several times on this server",
        )?;
        return Ok(Some(job.id));
    }
    // An import that panics fails its batch; the reader lives on (the connection, left inside
    // the import's transaction, is given up: the caller's round ends on the error).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_job(conn, side, files, &job)
    }));
    let error = match outcome {
        Ok(Ok(())) => return Ok(Some(job.id)),
        Ok(Err(error)) => error,
        Err(_) => {
            // The panic left the import's transaction open on `conn`, holding the ledger's
            // lock that `fail` takes on `side`: end it first (the pool then drops `conn`, whose
            // transaction state is gone astray).
            let _ = diesel::connection::SimpleConnection::batch_execute(conn, "ROLLBACK");
            fail(side, &job, None, "the file could not be imported")?;
            return Err(ApiError::internal(format!("import {} panicked", job.id)));
        }
    };
    match error {
        ApiError::Conflict {
            code: "import_superseded",
            ..
        } => {}
        ApiError::Validation(errors) => {
            let (field, message) = errors
                .iter()
                .find_map(|(field, messages)| Some((field.as_str(), messages.first()?.as_str())))
                .unwrap_or(("file", "the file could not be imported"));
            fail(conn, &job, Some(field), message)?;
        }
        ApiError::NotFound(what) => fail(conn, &job, Some("wallet_id"), &what)?,
        passing @ (ApiError::DatabaseUnavailable(_) | ApiError::Internal(_))
            if job.attempts < MAX_ATTEMPTS =>
        {
            log::warn!("import {}: {passing}; trying again in a minute", job.id);
            store::release(
                conn,
                job.ledger_id,
                job.id,
                now + chrono::Duration::minutes(1),
            )?;
        }
        lasting @ (ApiError::DatabaseUnavailable(_) | ApiError::Internal(_)) => {
            log::error!("import {}: {lasting}", job.id);
            fail(
                conn,
                &job,
                None,
                "the file could not be imported on this server",
            )?;
        }
        // Whatever else a request would have been answered with (4xx): the batch's failure.
        refused => fail(conn, &job, None, &refused.to_string())?,
    }
    Ok(Some(job.id))
}

/// Imports a queued batch's file for the member who sent it.
fn run_job(
    conn: &mut PgConnection,
    side: &mut PgConnection,
    files: &dyn FileStore,
    job: &store::Queued,
) -> Result<(), ApiError> {
    let sender = match job.created_by {
        Some(user) => super::caller::member(conn, user, job.ledger_id)?,
        None => None,
    };
    let caller = sender
        .filter(|caller| caller.ledger.role.can_write())
        .ok_or_else(|| ApiError::Forbidden {
            code: "import_sender_gone",
            message: "the member who sent the file can no longer write to this ledger".into(),
        })?;
    let format = super::caller::stored("import format", &job.format, ImportFormat::parse)?;
    let gone = || ApiError::invalid_field("file", "the file is no longer stored");
    let key = job
        .sha256
        .as_deref()
        .and_then(|sha256| FileKey::new(job.ledger_id, sha256))
        .ok_or_else(gone)?;
    let body = files.get(&key).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => gone(),
        _ => ApiError::internal(e),
    })?;
    let parsed = parse(format, &body)?;
    drop(body);
    let mut written = std::time::Instant::now();
    let mut progress = |entries: usize, stored: usize| {
        if stored > 0 && written.elapsed() < PROGRESS_EVERY {
            return;
        }
        written = std::time::Instant::now();
        let counts = (i32::try_from(entries), i32::try_from(stored));
        if let (Ok(entries), Ok(stored)) = counts {
            if let Err(e) = store::set_progress(side, job.ledger_id, job.id, entries, stored) {
                log::warn!("import {}: its progress was not written: {e}", job.id);
            }
        }
    };
    let options = Options {
        wallet_id: job.wallet_id,
        auto_approve: job.auto_approve,
    };
    let mut run = Run::Background {
        id: job.id,
        attempt: job.attempts,
        progress: &mut progress,
    };
    import(conn, &caller, format, parsed, options, &mut run).map(drop)
}

/// Ends a background batch without its rows, and tells the ledger.
fn fail(
    conn: &mut PgConnection,
    job: &store::Queued,
    field: Option<&str>,
    message: &str,
) -> Result<(), ApiError> {
    crate::db::ledger_transaction::<_, ApiError, _>(conn, job.ledger_id, |conn| {
        store::fail(conn, job.ledger_id, job.id, field, message)?;
        announce(
            conn,
            job.ledger_id,
            &ImportFinishedData {
                import_id: Some(job.id),
                format: job.format.clone(),
                status: "failed".into(),
                created: 0,
                duplicates: 0,
                possible_duplicates: 0,
                failed: 0,
                failure: Some(message.to_owned()),
            },
        )
    })
}

/// About how many bytes of JSON an entry's report takes (a 100,000-entry OFX file: 350).
pub const REPORT_BYTES_PER_ENTRY: usize = 400;
/// Entries of a report written at once: its text is sent a part of about 700 KB at a time, and
/// PostgreSQL joins the parts (the whole text, 35 MB for 100,000 entries, was three copies in
/// this process: the text, the driver's bind buffer and the protocol's).
const REPORT_PART: usize = 2000;

/// Stores the report for [`store::finish`], a part at a time.
fn store_report(conn: &mut PgConnection, report: &[EntryReport]) -> Result<(), ApiError> {
    store::begin_report(conn)?;
    let mut buffer = Vec::with_capacity(REPORT_PART * REPORT_BYTES_PER_ENTRY);
    for (n, part) in report.chunks(REPORT_PART).enumerate() {
        buffer.clear();
        for (i, line) in part.iter().enumerate() {
            if i > 0 {
                buffer.push(b',');
            }
            serde_json::to_writer(&mut buffer, line)
                .map_err(|e| ApiError::internal(format!("cannot store an import report: {e}")))?;
        }
        let text = std::str::from_utf8(&buffer).map_err(ApiError::internal)?;
        store::add_report_part(conn, n as i32, text)?;
    }
    Ok(())
}

/// A batch's report as it is answered.
#[derive(Debug, Clone)]
pub enum Report {
    /// Its JSON text, as stored (answered without being parsed again).
    Stored(Box<RawValue>),
    /// As the import that just ran built it.
    Built(Vec<EntryReport>),
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Report::Stored(text) => text.serialize(serializer),
            Report::Built(entries) => entries.serialize(serializer),
        }
    }
}

impl Report {
    /// About how long its JSON is.
    pub fn json_len(&self) -> usize {
        match self {
            Report::Stored(text) => text.get().len(),
            Report::Built(entries) => entries.len() * REPORT_BYTES_PER_ENTRY,
        }
    }
}

/// One batch with its report.
pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    with_report: bool,
) -> Result<BatchView, ApiError> {
    let owner = caller.ledger.id;
    let found = if with_report {
        store::find(conn, owner, id)?
    } else {
        store::find_summary(conn, owner, id)?
    };
    let batch = found.ok_or_else(|| ApiError::not_found("Import"))?;
    let pending = store::review_counts(conn, owner, &[id])?
        .get(&id)
        .map_or(0, |(_, pending)| *pending);
    let mut view = view_of(batch, pending)?;
    if !with_report {
        view.report = None;
    }
    Ok(view)
}

fn view_of(mut batch: Batch, pending: i64) -> Result<BatchView, ApiError> {
    let report = RawValue::from_string(std::mem::take(&mut batch.report))
        .map_err(|e| ApiError::internal(format!("a stored import report is unreadable: {e}")))?;
    Ok(BatchView {
        status: status_of(&batch, pending),
        batch,
        pending,
        report: Some(Report::Stored(report)),
    })
}

/// A page of a batch's entries (of one outcome, if given), as their stored JSON, and how many
/// there are.
pub fn entries(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    outcome: Option<Outcome>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Box<RawValue>>, i64), ApiError> {
    let outcome = outcome.map(Outcome::as_str);
    let (rows, total) = store::report_page(conn, caller.ledger.id, id, outcome, limit, offset)?
        .ok_or_else(|| ApiError::not_found("Import"))?;
    let rows = rows
        .into_iter()
        .map(RawValue::from_string)
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::internal(format!("a stored import report is unreadable: {e}")))?;
    Ok((rows, total))
}

/// A page of the ledger's batches (without their reports) and how many there are.
pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BatchView>, i64), ApiError> {
    let owner = caller.ledger.id;
    let (batches, total) = store::page(conn, owner, limit, offset)?;
    let ids: Vec<Uuid> = batches.iter().map(|b| b.id).collect();
    let counts = store::review_counts(conn, owner, &ids)?;
    let views = batches
        .into_iter()
        .map(|batch| {
            let pending = counts.get(&batch.id).map_or(0, |(_, p)| *p);
            BatchView {
                status: status_of(&batch, pending),
                batch,
                pending,
                report: None,
            }
        })
        .collect();
    Ok((views, total))
}

/// Takes back a batch whose transactions all still wait for review: they are deleted and the
/// batch is marked `undone`. A batch with an approved transaction cannot be undone (reject its
/// pending ones instead).
pub fn undo(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<BatchView, ApiError> {
    let owner = caller.ledger.id;
    let running = || ApiError::Conflict {
        code: "import_running",
        message: "This import is being read; undo it once it has finished.".into(),
    };
    // Asked before the ledger's lock, which a running import holds until it ends.
    let batch =
        store::find_summary(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Import"))?;
    if batch.state == "running" {
        return Err(running());
    }
    if batch.state == "queued" && !batch.undone {
        // Cancelled under the batch's own lock (the readers skip it meanwhile), not the
        // ledger's: another import of the ledger may be running.
        return conn.transaction::<_, ApiError, _>(|conn| {
            let batch = store::find_for_update(conn, owner, id)?
                .ok_or_else(|| ApiError::not_found("Import"))?;
            if batch.state != "queued" {
                return Err(running());
            }
            store::mark_undone(conn, owner, id)?;
            let batch =
                store::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Import"))?;
            view_of(batch, 0)
        });
    }
    conn.transaction::<_, ApiError, _>(|conn| {
        db::lock_ledger(conn, owner)?;
        let batch = store::find_for_update(conn, owner, id)?
            .ok_or_else(|| ApiError::not_found("Import"))?;
        if batch.state == "running" {
            return Err(running());
        }
        if batch.undone {
            return Err(ApiError::Conflict {
                code: "import_undone",
                message: "This import was undone already.".into(),
            });
        }
        let rows = store::batch_transactions(conn, owner, id)?;
        // A row merged into an approved transfer (the other half of a pair) was approved too.
        let approved = rows
            .iter()
            .filter(|(_, _, status)| status != "pending")
            .count()
            + store::merged_from_batch(conn, owner, id)? as usize;
        if approved > 0 {
            return Err(ApiError::Conflict {
                code: "import_reviewed",
                message: format!(
                    "{approved} of this import's transactions were approved already; reject the \
                     pending ones with POST /transactions/review instead."
                ),
            });
        }
        let ids: Vec<Uuid> = rows.iter().map(|(id, _, _)| *id).collect();
        store::delete_many(conn, owner, &ids)?;
        store::unpair(conn, owner, &ids)?;
        store::mark_undone(conn, owner, id)?;
        let batch = store::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Import"))?;
        view_of(batch, 0)
    })
}

/// Whether two pending rows are the two halves of one transfer: an expense and an income of
/// the same amount and currency, in two different wallets, at most [`DUPLICATE_WINDOW_DAYS`]
/// apart, the money going into a wallet that still takes money (not archived). An import asks
/// it to match rows, and an approval asks it again of the rows as they are then: a half may
/// have changed since it was matched, or its wallet been archived.
fn halves_of_one_transfer(
    one: &store::Pending,
    other: &store::Pending,
    archived: &HashSet<Uuid>,
) -> bool {
    let (outflow, inflow) = if one.kind == "expense" {
        (one, other)
    } else {
        (other, one)
    };
    outflow.kind == "expense"
        && inflow.kind == "income"
        && outflow.status == "pending"
        && inflow.status == "pending"
        && outflow.amount == inflow.amount
        && outflow.currency == inflow.currency
        && outflow.wallet_id != inflow.wallet_id
        && !archived.contains(&inflow.wallet_id)
        && (outflow.date - inflow.date).num_days().unsigned_abs() <= DUPLICATE_WINDOW_DAYS
}

/// A row this import just created, as transfer matching sees it.
fn created_row(
    id: Uuid,
    wallet: Uuid,
    currency: &str,
    date: NaiveDate,
    signed: Decimal,
) -> store::Pending {
    store::Pending {
        id,
        wallet_id: wallet,
        kind: if signed < Decimal::ZERO {
            "expense"
        } else {
            "income"
        }
        .to_owned(),
        amount: signed.abs(),
        currency: currency.to_owned(),
        status: "pending".to_owned(),
        date,
        transfer_match_id: None,
    }
}

/// Pairs this import's new pending rows with pending rows of the ledger's other wallets that
/// look like the other half of a transfer ([`halves_of_one_transfer`], the nearest first),
/// each row in one pair at most. Returns the report positions matched and their partners.
fn match_transfers(
    conn: &mut PgConnection,
    owner: Uuid,
    wallet: Uuid,
    currency: &str,
    archived: &HashSet<Uuid>,
    report: &[EntryReport],
    created: &[(usize, Uuid)],
) -> Result<Vec<(usize, Uuid)>, ApiError> {
    let dates = created.iter().filter_map(|(i, _)| report.get(*i)?.date);
    let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
        return Ok(Vec::new());
    };
    let window = Days::new(DUPLICATE_WINDOW_DAYS);
    let others: Vec<store::Pending> =
        store::unmatched_pending(conn, owner, currency, first - window, last + window)?
            .into_iter()
            .filter(|p| p.wallet_id != wallet)
            .collect();
    let mut used: HashSet<Uuid> = HashSet::new();
    let mut found = Vec::new();
    for (position, id) in created {
        let Some(line) = report.get(*position) else {
            continue;
        };
        let (Some(date), Some(amount)) = (line.date, line.amount) else {
            continue;
        };
        let row = created_row(*id, wallet, currency, date, amount);
        let partner = others
            .iter()
            .filter(|p| !used.contains(&p.id) && halves_of_one_transfer(&row, p, archived))
            .min_by_key(|p| ((p.date - date).num_days().abs(), p.id));
        if let Some(partner) = partner {
            used.insert(partner.id);
            found.push((*position, *id, partner.id));
        }
    }
    let pairs: Vec<(Uuid, Uuid)> = found.iter().map(|(_, id, other)| (*id, *other)).collect();
    store::pair(conn, owner, &pairs)?;
    Ok(found
        .into_iter()
        .map(|(position, _, other)| (position, other))
        .collect())
}

/// Makes a matched pair one transfer: the outflow becomes a transfer into the inflow's wallet
/// (through the ledger's write path) and the inflow goes. What the user gave the inflow stays,
/// with the transfer: its notes after the outflow's (within the notes' limit), its tags after
/// the outflow's (within the tags' limit), its files and receipts, and its import key, so its
/// statement imported again finds the transfer instead of creating the money a second time.
fn merge(
    conn: &mut PgConnection,
    caller: &Caller,
    outflow: Uuid,
    inflow: Uuid,
) -> Result<(), ApiError> {
    let owner = caller.ledger.id;
    let gone = || ApiError::internal("a matched transaction vanished during its review");
    let (kept, _) = transactions::find(conn, owner, outflow)?.ok_or_else(gone)?;
    let (merged, _) = transactions::find(conn, owner, inflow)?.ok_or_else(gone)?;
    let notes = match (kept.notes, merged.notes) {
        (Some(first), Some(second)) if first != second => {
            Some(clip(&format!("{first}\n{second}"), MAX_NOTES))
        }
        (first, second) => first.or(second),
    };
    let mut tags: Vec<String> = kept.tags.into_iter().flatten().collect();
    for tag in merged.tags.into_iter().flatten() {
        if tags.len() < MAX_TAGS && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    ledger::update(
        conn,
        caller,
        outflow,
        ledger::Patch {
            transaction_type: Some(TransactionType::Transfer),
            to_wallet_id: Some(Some(merged.wallet_id)),
            notes: Some(notes),
            tags: Some(tags),
            ..ledger::Patch::default()
        },
        ledger::Target::ANY,
    )?;
    store::keep_merged_key(conn, owner, inflow, outflow)?;
    store::move_belongings(conn, owner, inflow, outflow)?;
    store::delete_many(conn, owner, &[inflow])?;
    Ok(())
}

/// What a review did.
#[derive(Debug, Clone, Copy)]
pub struct Reviewed {
    pub approved: usize,
    pub rejected: usize,
    /// Pairs of matched rows that became one transfer.
    pub transfers: usize,
}

/// Approves (they become `cleared`) and rejects (they are deleted) pending transactions, all or
/// nothing: an id that is not a pending transaction of the ledger changes nothing and is 404.
pub fn review(
    conn: &mut PgConnection,
    caller: &Caller,
    approve: &[Uuid],
    reject: &[Uuid],
) -> Result<Reviewed, ApiError> {
    let owner = caller.ledger.id;
    if let Some(both) = approve.iter().find(|id| reject.contains(id)) {
        return Err(ApiError::invalid_field(
            "reject",
            format!("{both} is both approved and rejected"),
        ));
    }
    conn.transaction::<_, ApiError, _>(|conn| {
        db::lock_ledger(conn, owner)?;
        let wanted: HashSet<Uuid> = approve.iter().chain(reject).copied().collect();
        let ids: Vec<Uuid> = wanted.iter().copied().collect();
        let pending: HashSet<Uuid> = store::pending_among(conn, owner, &ids)?
            .into_iter()
            .collect();
        if let Some(missing) = ids.iter().find(|id| !pending.contains(id)) {
            return Err(ApiError::NotFound(format!(
                "No pending transaction {missing}."
            )));
        }
        // An approved row with a transfer match (whose other half is not rejected now) makes
        // the pair one transfer, if the pair still is one: a pair that is not (an edit the
        // match did not see, an archived wallet) loses its match and the row is approved as
        // it stands.
        let rejected_now: HashSet<Uuid> = reject.iter().copied().collect();
        let matched = store::matched_among(conn, owner, approve)?;
        let archived: HashSet<Uuid> = if matched.is_empty() {
            HashSet::new()
        } else {
            wallets::all(conn, owner)?
                .into_iter()
                .filter(|w| w.archived)
                .map(|w| w.id)
                .collect()
        };
        let by_id: HashMap<Uuid, &store::Pending> = matched.iter().map(|p| (p.id, p)).collect();
        let mut merged: Vec<Uuid> = Vec::new();
        let mut broken: Vec<Uuid> = Vec::new();
        let mut transfers = 0;
        for id in approve {
            let Some(row) = by_id.get(id) else { continue };
            let Some(other) = row.transfer_match_id.and_then(|o| by_id.get(&o)) else {
                continue;
            };
            if rejected_now.contains(&other.id)
                || merged.contains(&row.id)
                || merged.contains(&other.id)
                || other.transfer_match_id != Some(row.id)
            {
                continue;
            }
            if !halves_of_one_transfer(row, other, &archived) {
                broken.extend([row.id, other.id]);
                continue;
            }
            let (outflow, inflow) = if row.kind == "expense" {
                (row, other)
            } else {
                (other, row)
            };
            merge(conn, caller, outflow.id, inflow.id)?;
            merged.extend([outflow.id, inflow.id]);
            transfers += 1;
        }
        store::unpair(conn, owner, &broken)?;
        let to_approve: Vec<Uuid> = approve
            .iter()
            .chain(merged.iter())
            .copied()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        store::approve(conn, owner, &to_approve, Some(caller.id))?;
        let rejected = store::delete_many(conn, owner, reject)?;
        // Matches with what is gone or approved are forgotten.
        let settled: Vec<Uuid> = to_approve
            .iter()
            .chain(reject)
            .chain(merged.iter())
            .copied()
            .collect();
        store::unpair(conn, owner, &settled)?;
        Ok(Reviewed {
            approved: approve.iter().collect::<HashSet<_>>().len(),
            rejected,
            transfers,
        })
    })
}

/// Imports a table (a CSV file, `domain::csv_import`, or a workbook) as a batch: its lines go
/// through the CSV import (`services::csv`), created `pending` unless auto-approved; the
/// batch's report lists the lines refused.
fn import_table(
    conn: &mut PgConnection,
    caller: &Caller,
    format: ImportFormat,
    (rows, failures): (Vec<ImportRow>, Vec<LineError>),
    options: Options,
    run: &mut Run,
) -> Result<BatchView, ApiError> {
    let owner = caller.ledger.id;
    conn.transaction::<_, ApiError, _>(|conn| {
        db::lock_ledger(conn, owner)?;
        run.check(conn, owner)?;
        let batch_id = run.batch_id();
        let lines = rows.len() + failures.len();
        let mut batch = NewBatch {
            wallet_id: options.wallet_id,
            period_start: rows.iter().map(|r| r.date).min(),
            period_end: rows.iter().map(|r| r.date).max(),
            entries: lines as i32,
            ..NewBatch::done(
                owner,
                batch_id,
                caller.id,
                format.as_str(),
                options.auto_approve,
            )
        };
        run.insert(conn, &batch)?;
        run.progress(lines, 0);
        let outcome = csv_service::import(
            conn,
            caller,
            options.wallet_id,
            rows,
            failures,
            Some(csv_service::Batch {
                id: batch_id,
                pending: !options.auto_approve,
                format,
            }),
            &mut |stored| run.progress(lines, stored),
        )?;
        let line_report = |line: u64, outcome: Outcome| EntryReport {
            line,
            date: None,
            amount: None,
            payee: None,
            memo: None,
            external_id: None,
            outcome,
            transaction_id: None,
            duplicate_of: None,
            transfer_match: None,
            category_id: None,
            category_source: None,
            message: None,
        };
        let mut report: Vec<EntryReport> = outcome
            .failed
            .iter()
            .map(|failure| EntryReport {
                message: Some(failure.message.clone()),
                ..line_report(failure.line, Outcome::Failed)
            })
            .chain(outcome.recorded.iter().map(|line| EntryReport {
                date: Some(line.date),
                amount: Some(line.signed),
                payee: Some(line.description.clone()),
                transaction_id: line.transaction_id,
                ..line_report(
                    line.line,
                    if line.created {
                        Outcome::Created
                    } else {
                        Outcome::Duplicate
                    },
                )
            }))
            .chain(outcome.possible_duplicates.iter().map(|repeat| {
                EntryReport {
                    date: Some(repeat.date),
                    amount: Some(repeat.signed),
                    payee: Some(repeat.description.clone()),
                    duplicate_of: Some(repeat.other),
                    message: Some(
                        "the wallet has a transaction of this amount within 3 days; not imported"
                            .into(),
                    ),
                    ..line_report(repeat.line, Outcome::PossibleDuplicate)
                }
            }))
            .collect();
        report.sort_by_key(|r| r.line);
        batch.created = outcome.created as i32;
        batch.duplicates = outcome.duplicates as i32;
        batch.possible_duplicates = outcome.possible_duplicates.len() as i32;
        batch.failed = outcome.failed.len() as i32;
        batch.entries = (outcome.created
            + outcome.duplicates
            + outcome.possible_duplicates.len()
            + outcome.failed.len()) as i32;
        store_report(conn, &report)?;
        store::finish(conn, &batch)?;
        let report = Some(Report::Built(report));
        let stored = store::find_summary(conn, owner, batch_id)?
            .ok_or_else(|| ApiError::internal("an import batch vanished"))?;
        let pending = if options.auto_approve {
            0
        } else {
            outcome.created as i64
        };
        Ok(BatchView {
            status: status_of(&stored, pending),
            batch: stored,
            pending,
            report,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reported_amount_is_an_exact_number_and_reads_back_from_a_number_or_an_old_string() {
        let stored = r#"{"line":52,"date":"2026-03-02","amount":-1200.05,"payee":"Rent",
            "memo":null,"external_id":"F1","outcome":"created","transaction_id":null,
            "duplicate_of":null,"category_id":null,"category_source":null,"message":null}"#;
        let line: EntryReport = serde_json::from_str(stored).unwrap();
        assert_eq!(line.amount, Some(Decimal::new(-120005, 2)));
        let written = serde_json::to_string(&line).unwrap();
        assert!(written.contains(r#""amount":-1200.05,"#), "{written}");
        // Reports stored before amounts were numbers held them as strings.
        let old: EntryReport =
            serde_json::from_str(&stored.replace("-1200.05", r#""-1200.05""#)).unwrap();
        assert_eq!(old.amount, line.amount);
        let none: EntryReport = serde_json::from_str(&stored.replace("-1200.05", "null")).unwrap();
        assert_eq!(none.amount, None);
    }
}
