//! Transactions as CSV, one format both ways (see `domain::csv_import`): the export of a
//! filtered list, and the import, whose lines go through the ledger's one set of rules and
//! one write ([`super::ledger`]), each bad line reported with the rule it broke.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};

use diesel::PgConnection;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::caller::Caller;
use super::imports::DUPLICATE_WINDOW_DAYS;
use super::ledger::{self, CategorySource, Checked, Entry, Refs};
use super::predictions::{self, UserCategorizer};
use super::transactions::{prepare_filter, ListFilter};
use crate::db::categories::Category;
use crate::db::imports as imports_store;
use crate::db::transactions::{self, Sort, TransactionView};
use crate::db::wallets::Wallet;
use crate::db::{categories, wallets};
use crate::domain::csv_import::{self as domain_csv, ImportRow, NameIndex, EXPORT_HEADER};
use crate::domain::ledger::CategoryKind;
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::domain::transaction::{Draft, SplitDraft};
use crate::error::ApiError;
use crate::ml::categorizer as ml_categorizer;

/// A line created without a category, and the suggestion applied to it.
#[derive(Debug, Clone)]
pub struct ImportSuggestion {
    pub line: u64,
    pub category_id: Uuid,
    pub name: String,
    pub probability: f64,
}

/// What an import did: lines created, lines already imported before, suggestions applied,
/// and the bad lines with what is wrong with each.
#[derive(Debug)]
pub struct ImportOutcome {
    pub created: usize,
    pub duplicates: usize,
    /// Lines held back because the wallet already has a movement like them (same type and
    /// amount within a few days) that no import brought: `(line, that transaction)`. Only
    /// for import batches (`POST /imports`).
    pub possible_duplicates: Vec<PossibleDuplicate>,
    /// Each line created or found imported before, with its transaction. Only for import
    /// batches (`POST /imports`), whose report lists every line.
    pub recorded: Vec<RecordedLine>,
    pub categorized: Vec<ImportSuggestion>,
    pub failed: Vec<domain_csv::LineError>,
}

/// A line of a batch that was recorded (`created`) or had been before (a duplicate), and the
/// transaction it is.
#[derive(Debug)]
pub struct RecordedLine {
    pub line: u64,
    pub date: NaiveDate,
    /// Negative for money out.
    pub signed: Decimal,
    pub description: String,
    pub created: bool,
    pub transaction_id: Option<Uuid>,
}

/// The import batch a CSV or xlsx file's rows belong to (`POST /imports`).
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub id: Uuid,
    /// The rows wait for review.
    pub pending: bool,
    pub format: crate::domain::statement::ImportFormat,
}

/// A line held back as a possible duplicate, and the transaction it may repeat.
#[derive(Debug)]
pub struct PossibleDuplicate {
    pub line: u64,
    pub date: NaiveDate,
    /// Negative for money out.
    pub signed: Decimal,
    pub description: String,
    pub other: Uuid,
}

/// A line's amount as a statement shows it: negative for money out.
fn signed(row: &ImportRow) -> Decimal {
    if row.transaction_type == TransactionType::Expense {
        -row.amount
    } else {
        row.amount
    }
}

/// The names a file uses for the caller's wallets and categories, both ways.
struct Names {
    /// Export labels: the name, or the path (categories) / id (wallets) where the name is
    /// shared.
    wallet_labels: HashMap<Uuid, String>,
    category_labels: HashMap<Uuid, String>,
    wallets: NameIndex<Uuid>,
    /// Per kind: full paths (each names one category) and names (which two may share).
    expense_paths: HashMap<String, Uuid>,
    income_paths: HashMap<String, Uuid>,
    expense_categories: NameIndex<Uuid>,
    income_categories: NameIndex<Uuid>,
}

impl Names {
    fn new(wallet_rows: &[Wallet], category_rows: &[Category]) -> Names {
        let mut wallets = NameIndex::default();
        for wallet in wallet_rows {
            wallets.insert(&wallet.name, wallet.id);
            wallets.insert(&wallet.id.to_string(), wallet.id);
        }
        let wallet_labels = wallet_rows
            .iter()
            .map(|w| {
                let label = if wallets.is_unique(&w.name) {
                    w.name.clone()
                } else {
                    w.id.to_string()
                };
                (w.id, label)
            })
            .collect();

        let by_id: HashMap<Uuid, &Category> = category_rows.iter().map(|c| (c.id, c)).collect();
        let path = |category: &Category| {
            let mut parts = vec![category.name.as_str()];
            let mut parent = category.parent_id;
            // Bounded by the table's size, so a damaged tree cannot loop forever.
            while let Some(id) = parent.filter(|_| parts.len() <= by_id.len()) {
                let Some(up) = by_id.get(&id) else { break };
                parts.push(up.name.as_str());
                parent = up.parent_id;
            }
            parts.reverse();
            parts.join(" > ")
        };
        let mut any_kind = NameIndex::default();
        let (mut expense_paths, mut income_paths) = (HashMap::new(), HashMap::new());
        let mut expense_categories = NameIndex::default();
        let mut income_categories = NameIndex::default();
        for category in category_rows {
            any_kind.insert(&category.name, category.id);
            let (paths, names) = match CategoryKind::parse(&category.kind) {
                Some(CategoryKind::Income) => (&mut income_paths, &mut income_categories),
                _ => (&mut expense_paths, &mut expense_categories),
            };
            paths.insert(domain_csv::name_key(&path(category)), category.id);
            names.insert(&category.name, category.id);
        }
        let category_labels = category_rows
            .iter()
            .map(|c| {
                let label = if any_kind.is_unique(&c.name) {
                    c.name.clone()
                } else {
                    path(c)
                };
                (c.id, label)
            })
            .collect();
        Names {
            wallet_labels,
            category_labels,
            wallets,
            expense_paths,
            income_paths,
            expense_categories,
            income_categories,
        }
    }

    /// A category by its full path (a top-level category's path is its name), else by its name
    /// when only one category has it.
    fn category(&self, name: &str, kind: CategoryKind) -> Result<Uuid, String> {
        let (paths, names, what) = match kind {
            CategoryKind::Expense => (
                &self.expense_paths,
                &self.expense_categories,
                "expense category",
            ),
            CategoryKind::Income => (
                &self.income_paths,
                &self.income_categories,
                "income category",
            ),
        };
        match paths.get(&domain_csv::name_key(name)) {
            Some(id) => Ok(*id),
            None => names.find(name, what),
        }
    }

    fn category_label(&self, id: Option<Uuid>) -> &str {
        id.and_then(|id| self.category_labels.get(&id))
            .map_or("", String::as_str)
    }

    fn wallet_label(&self, id: Option<Uuid>) -> &str {
        id.and_then(|id| self.wallet_labels.get(&id))
            .map_or("", String::as_str)
    }
}

/// One exported line's cells.
fn export_cells(row: &TransactionView, names: &Names) -> [String; EXPORT_HEADER.len()] {
    let shares: Vec<(Uuid, Decimal, Option<&str>)> = row
        .splits
        .as_array()
        .map(|splits| {
            splits
                .iter()
                .filter_map(|split| {
                    let id = split.get("category_id")?.as_str()?.parse().ok()?;
                    let amount = split.get("amount")?.to_string().parse().ok()?;
                    let note = split.get("note").and_then(|n| n.as_str());
                    Some((id, amount, note))
                })
                .collect()
        })
        .unwrap_or_default();
    let splits = domain_csv::format_splits(
        shares
            .iter()
            .map(|(id, amount, note)| (names.category_label(Some(*id)), *amount, *note)),
    );
    [
        row.date.to_string(),
        row.transaction_type.clone(),
        Money(row.amount).to_string(),
        row.currency.clone(),
        row.description.clone(),
        names.category_label(row.category_id).to_owned(),
        splits,
        row.merchant.clone().unwrap_or_default(),
        row.notes.clone().unwrap_or_default(),
        names.wallet_label(Some(row.wallet_id)).to_owned(),
        names.wallet_label(row.to_wallet_id).to_owned(),
        domain_csv::format_tags(row.tags.iter().flatten().map(String::as_str)),
        row.tax_rate
            .map(|r| r.normalize().to_string())
            .unwrap_or_default(),
        if row.tax_deductible { "true" } else { "" }.to_owned(),
    ]
}

/// The caller's transactions matching `filter`, as a file with a header row, from one snapshot
/// however many rows there are: CSV, or an xlsx workbook (see [`super::exports`]).
pub fn export(
    conn: &mut PgConnection,
    caller: &Caller,
    mut filter: ListFilter,
    sort: Sort,
    sink: &mut dyn ExportSink,
) -> Result<Vec<u8>, ApiError> {
    // One snapshot for every chunk: rows written meanwhile neither repeat nor go missing.
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run::<_, ApiError, _>(|conn| {
            let filter = prepare_filter(conn, caller, &mut filter)?;
            let names = Names::new(
                &wallets::all(conn, caller.ledger.id)?,
                &categories::all(conn, caller.ledger.id)?,
            );
            sink.begin(&names.wallet_labels)?;
            transactions::for_each_page(conn, caller.ledger.id, filter, sort, 1000, |rows| {
                for row in rows {
                    sink.row(row, export_cells(row, &names))?;
                }
                Ok::<_, ApiError>(())
            })?;
            sink.finish()
        })
}

/// Where exported transactions go: a file format.
pub trait ExportSink {
    /// Before the first row: the ledger's wallets and their labels (names, or ids where a name
    /// is shared).
    fn begin(&mut self, wallets: &HashMap<Uuid, String>) -> Result<(), ApiError>;
    /// One transaction and its cells in [`EXPORT_HEADER`] order (text as it is, unguarded).
    fn row(
        &mut self,
        view: &TransactionView,
        cells: [String; EXPORT_HEADER.len()],
    ) -> Result<(), ApiError>;
    /// The file.
    fn finish(&mut self) -> Result<Vec<u8>, ApiError>;
}

/// The CSV file of `GET /transactions/export`.
pub struct CsvSink(csv::Writer<Vec<u8>>);

impl CsvSink {
    pub fn new() -> CsvSink {
        CsvSink(csv::Writer::from_writer(Vec::new()))
    }
}

impl Default for CsvSink {
    fn default() -> Self {
        CsvSink::new()
    }
}

fn csv_error(e: csv::Error) -> ApiError {
    ApiError::internal(format!("cannot write CSV: {e}"))
}

impl ExportSink for CsvSink {
    fn begin(&mut self, _: &HashMap<Uuid, String>) -> Result<(), ApiError> {
        self.0.write_record(EXPORT_HEADER).map_err(csv_error)
    }

    fn row(
        &mut self,
        _: &TransactionView,
        cells: [String; EXPORT_HEADER.len()],
    ) -> Result<(), ApiError> {
        self.0
            .write_record(domain_csv::export_line(cells))
            .map_err(csv_error)
    }

    fn finish(&mut self) -> Result<Vec<u8>, ApiError> {
        let writer = std::mem::replace(&mut self.0, csv::Writer::from_writer(Vec::new()));
        writer
            .into_inner()
            .map_err(|e| ApiError::internal(format!("cannot finish CSV: {e}")))
    }
}

/// For each line, the transaction it may repeat: an expense or income on the same wallet with
/// the same amount within [`DUPLICATE_WINDOW_DAYS`] days, which no import brought with this
/// line's key (those are plain duplicates, skipped by the write) and no earlier line of the
/// file claimed. Transfers and splits are never held back.
fn lookalikes(
    conn: &mut PgConnection,
    owner: Uuid,
    lines: &[Checked],
) -> Result<Vec<Option<Uuid>>, ApiError> {
    let hashes: Vec<String> = lines
        .iter()
        .filter_map(|l| l.entry.import.hash.clone())
        .collect();
    let existing = imports_store::existing_hashes(conn, owner, &hashes)?;
    let claimed: HashSet<Uuid> = existing.values().copied().collect();
    let signed = |line: &Checked| match line.entry.draft.transaction_type {
        TransactionType::Expense if line.entry.draft.splits.is_empty() => {
            Some(-line.entry.draft.amount)
        }
        TransactionType::Income if line.entry.draft.splits.is_empty() => {
            Some(line.entry.draft.amount)
        }
        _ => None,
    };
    let mut by_wallet: HashMap<Uuid, (NaiveDate, NaiveDate)> = HashMap::new();
    for line in lines.iter().filter(|l| signed(l).is_some()) {
        let date = line.entry.date;
        let span = by_wallet
            .entry(line.entry.draft.wallet_id)
            .or_insert((date, date));
        span.0 = span.0.min(date);
        span.1 = span.1.max(date);
    }
    let mut candidates: HashMap<Uuid, Vec<imports_store::Movement>> = HashMap::new();
    for (wallet, (first, last)) in by_wallet {
        let mut found = imports_store::movements(
            conn,
            owner,
            wallet,
            first - Days::new(DUPLICATE_WINDOW_DAYS),
            last + Days::new(DUPLICATE_WINDOW_DAYS),
        )?;
        found.retain(|m| !claimed.contains(&m.id));
        candidates.insert(wallet, found);
    }
    let mut matched: HashSet<Uuid> = HashSet::new();
    Ok(lines
        .iter()
        .map(|line| {
            let amount = signed(line)?;
            let hash = line.entry.import.hash.as_ref()?;
            if existing.contains_key(hash) {
                return None;
            }
            let repeat = candidates
                .get(&line.entry.draft.wallet_id)?
                .iter()
                .filter(|m| {
                    m.signed == amount
                        && !matched.contains(&m.id)
                        && (m.date - line.entry.date).num_days().unsigned_abs()
                            <= DUPLICATE_WINDOW_DAYS
                })
                .min_by_key(|m| ((m.date - line.entry.date).num_days().abs(), m.id))?;
            matched.insert(repeat.id);
            Some(repeat.id)
        })
        .collect())
}

/// Finds a line's wallets and categories by name (a suggestion where the category is empty),
/// giving the entry the ledger then checks like any other.
fn resolve(
    row: &ImportRow,
    names: &Names,
    default_wallet: Option<Uuid>,
    suggester: Option<&UserCategorizer>,
    refs: &Refs,
) -> Result<(Entry, Option<ImportSuggestion>), String> {
    let wallet = match row.wallet.as_deref() {
        Some(name) => names.wallets.find(name, "wallet")?,
        None => default_wallet.ok_or(
            "no wallet: add a `wallet` column or import with ?wallet_id=", // the query's
        )?,
    };
    let to_wallet = match row.to_wallet.as_deref() {
        Some(name) => Some(names.wallets.find(name, "wallet")?),
        None => None,
    };
    let mut category_id = None;
    let mut splits = Vec::new();
    let mut suggestion = None;
    if let Some(kind) = row.transaction_type.category_kind() {
        if !row.splits.is_empty() {
            splits = row
                .splits
                .iter()
                .map(|split| {
                    Ok(SplitDraft {
                        category_id: names.category(&split.category, kind)?,
                        amount: split.amount,
                        note: split.note.clone(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
        } else {
            let (id, suggested) = match (row.category.as_deref(), suggester) {
                (Some(name), _) => (names.category(name, kind)?, None),
                (None, None) => return Err("the category is empty".into()),
                (None, Some(model)) => suggest(
                    row.line,
                    (&row.description, row.merchant.as_deref(), row.amount),
                    kind,
                    model,
                    refs,
                )
                .ok_or("the category is empty and no suggestion is confident enough")?,
            };
            category_id = Some(id);
            suggestion = suggested;
        }
    }
    let entry = Entry {
        draft: Draft {
            transaction_type: row.transaction_type,
            amount: row.amount,
            category_id,
            wallet_id: wallet,
            to_wallet_id: to_wallet,
            splits,
        },
        currency: row.currency.clone(),
        date: row.date,
        description: row.description.clone(),
        merchant: row.merchant.clone(),
        notes: row.notes.clone(),
        tags: row.tags.clone(),
        import: ledger::Provenance::default(),
        category_source: if suggestion.is_some() {
            CategorySource::Ml
        } else {
            CategorySource::User
        },
        category_confidence: suggestion
            .as_ref()
            .and_then(|s: &ImportSuggestion| Decimal::from_f64(s.probability)),
        tax: ledger::Tax {
            rate: row.tax_rate,
            deductible: row.tax_deductible,
        },
    };
    Ok((entry, suggestion))
}

/// The confident suggestion for a line without a category (its description, merchant and
/// amount), if there is one.
pub(super) fn suggest(
    line: u64,
    (description, merchant, amount): (&str, Option<&str>, Decimal),
    kind: CategoryKind,
    model: &UserCategorizer,
    refs: &Refs,
) -> Option<(Uuid, Option<ImportSuggestion>)> {
    let (id, p) = model
        .model
        .suggest(description, merchant, amount.to_f64(), &|label| {
            model
                .labels
                .get(label as usize)
                .and_then(|id| refs.categories.get(id))
                .is_some_and(|c| c.kind == kind)
        })
        .into_iter()
        .next()
        .filter(|(_, p)| *p >= ml_categorizer::AUTO_APPLY_THRESHOLD)
        .and_then(|(label, p)| Some((*model.labels.get(label as usize)?, p)))?;
    let suggestion = ImportSuggestion {
        line,
        category_id: id,
        name: refs
            .categories
            .get(&id)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        probability: (p * 10_000.0).floor() / 10_000.0,
    };
    Some((id, Some(suggestion)))
}

/// Imports parsed lines: every good line is stored (together, in one database transaction),
/// every bad one reported; then the budgets the new spending moved are evaluated.
pub fn import(
    conn: &mut PgConnection,
    caller: &Caller,
    default_wallet: Option<Uuid>,
    rows: Vec<ImportRow>,
    mut failures: Vec<domain_csv::LineError>,
    batch: Option<Batch>,
    progress: &mut dyn FnMut(usize),
) -> Result<ImportOutcome, ApiError> {
    let owner = caller.ledger.id;
    // The ledger's lock first: a suggester trained here stores its model before any row is
    // written, and an import through `/imports` stores it holding the lock.
    let (outcome, spending) =
        crate::db::ledger_transaction::<_, ApiError, _>(conn, owner, |conn| {
            if let Some(id) = default_wallet {
                wallets::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
            }
            let wallet_rows = wallets::all(conn, owner)?;
            let category_rows = categories::all(conn, owner)?;
            let names = Names::new(&wallet_rows, &category_rows);
            let refs = Refs::from_rows(&wallet_rows, &category_rows)?;
            // Lines without a category get the best suggestion when it is confident enough.
            let suggester = if rows.iter().any(|r| {
                r.category.is_none()
                    && r.splits.is_empty()
                    && r.transaction_type.category_kind().is_some()
            }) {
                Some(predictions::categorizer_for(conn, owner)?)
            } else {
                None
            };
            let mut good = Vec::new();
            for row in rows {
                let checked = resolve(&row, &names, default_wallet, suggester.as_deref(), &refs)
                    .and_then(|(entry, suggestion)| {
                        let currency =
                            ledger::check(&entry.draft, entry.currency.as_deref(), &refs, &[])
                                .map_err(|violation| violation.line_message())?;
                        Ok((
                            Checked {
                                entry,
                                currency,
                                unusual: None,
                            },
                            suggestion,
                        ))
                    });
                match checked {
                    Ok(found) => good.push((row, found)),
                    Err(message) => failures.push(domain_csv::LineError {
                        line: row.line,
                        message,
                    }),
                }
            }
            let keys: Vec<(String, Option<String>)> = good
                .iter()
                .map(|(_, (c, _))| {
                    let draft = &c.entry.draft;
                    (
                        draft.wallet_id.to_string(),
                        draft.to_wallet_id.map(|w| w.to_string()),
                    )
                })
                .collect();
            let (lines, found): (Vec<ImportRow>, Vec<(Checked, Option<ImportSuggestion>)>) =
                good.into_iter().unzip();
            let hashes = domain_csv::import_hashes(&lines, &keys);
            let (mut checked, suggestions): (Vec<Checked>, Vec<Option<ImportSuggestion>>) =
                found.into_iter().unzip();
            for (line, hash) in checked.iter_mut().zip(hashes) {
                line.entry.import.hash = Some(hash);
                if let Some(batch) = &batch {
                    line.entry.import.batch = Some(batch.id);
                    line.entry.import.pending = batch.pending;
                }
            }
            let mut possible_duplicates = Vec::new();
            let (checked, suggestions, lines) = if batch.is_some() {
                let repeats = lookalikes(conn, owner, &checked)?;
                let mut kept = (Vec::new(), Vec::new(), Vec::new());
                for (((line, suggestion), row), repeat) in
                    checked.into_iter().zip(suggestions).zip(lines).zip(repeats)
                {
                    match repeat {
                        Some(other) => possible_duplicates.push(PossibleDuplicate {
                            line: row.line,
                            date: row.date,
                            signed: signed(&row),
                            description: row.description,
                            other,
                        }),
                        None => {
                            kept.0.push(line);
                            kept.1.push(suggestion);
                            kept.2.push(row);
                        }
                    }
                }
                kept
            } else {
                (checked, suggestions, lines)
            };
            // What a batch's report says of each line, kept without the rest of the parsed rows
            // (dropped before the rows are written, as before).
            let heads: Vec<(u64, NaiveDate, Decimal, String)> = if batch.is_some() {
                lines
                    .into_iter()
                    .map(|row| (row.line, row.date, signed(&row), row.description))
                    .collect()
            } else {
                drop(lines);
                Vec::new()
            };
            let created =
                ledger::record_many(conn, ledger::Author::of(caller), &checked, progress)?;
            // A batch reports every line: the transaction created, or the one it repeats.
            let mut recorded = Vec::new();
            if batch.is_some() {
                let before: Vec<String> = checked
                    .iter()
                    .filter_map(|c| c.entry.import.hash.clone())
                    .filter(|hash| !created.contains_key(hash))
                    .collect();
                let existing = crate::db::imports::existing_hashes(conn, owner, &before)?;
                for (line, (number, date, signed, description)) in checked.iter().zip(heads) {
                    let hash = line.entry.import.hash.as_deref().unwrap_or_default();
                    let (created, transaction_id) = match created.get(hash) {
                        Some(id) => (true, Some(*id)),
                        None => (false, existing.get(hash).copied()),
                    };
                    recorded.push(RecordedLine {
                        line: number,
                        date,
                        signed,
                        description,
                        created,
                        transaction_id,
                    });
                }
            }
            // What follows concerns the lines created, not those skipped as duplicates.
            let mut categorized = Vec::new();
            let mut spending = super::alerts::NewSpending::default();
            for (line, suggestion) in checked.iter().zip(suggestions) {
                let stored = line
                    .entry
                    .import
                    .hash
                    .as_ref()
                    .is_some_and(|hash| created.contains_key(hash));
                if stored {
                    spending.merge(&line.spending());
                    categorized.extend(suggestion);
                }
            }
            failures.sort_by_key(|f| f.line);
            let waiting = batch.as_ref().is_some_and(|b| b.pending) && !created.is_empty();
            super::imports::announce(
                conn,
                owner,
                &crate::dto::events::ImportFinishedData {
                    import_id: batch.as_ref().map(|b| b.id),
                    format: batch
                        .as_ref()
                        .map_or("csv", |b| b.format.as_str())
                        .to_owned(),
                    status: if waiting { "pending" } else { "completed" }.to_owned(),
                    created: created.len() as u64,
                    duplicates: (checked.len() - created.len()) as u64,
                    possible_duplicates: possible_duplicates.len() as u64,
                    failed: failures.len() as u64,
                    failure: None,
                },
            )?;
            let outcome = ImportOutcome {
                created: created.len(),
                duplicates: checked.len() - created.len(),
                possible_duplicates,
                recorded,
                categorized,
                failed: failures,
            };
            Ok((outcome, spending))
        })?;
    ledger::after_commit(conn, caller, &spending)?;
    Ok(outcome)
}
