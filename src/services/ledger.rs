//! The one ledger write path. Every way a transaction is created, changed, deleted or imported
//! (the JSON API, CSV import, bill payments, autopay, recurring templates) goes through these
//! functions: one set of rules ([`check`]), one write ([`record`], [`rewrite`], [`remove`]),
//! and one aftermath ([`after_commit`]: budget alerts). Rollups, change numbers and the
//! `transaction_update` / `balance_update` events are appended by the database in the same
//! statement (migration `000011`), so no path can write a transaction without them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::alerts::{self, NewSpending};
use super::caller::Caller;
use super::predictions;
use crate::db::categories::Category;
use crate::db::transactions::{
    self, Inserted, NewTransaction, Split, TransactionChangeset, TransactionView,
};
use crate::db::wallets::Wallet;
use crate::db::{self, imports, ml as store};
use crate::domain::ledger::{CategoryKind, TransactionStatus, TransactionType};
use crate::domain::transaction::{shape_errors, Draft, SplitDraft};
use crate::domain::version::{self, Tags};
use crate::error::{ApiError, FieldErrors};

/// Where a transaction's category came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategorySource {
    /// Set (or kept) by the user.
    User,
    /// Applied from a confident suggestion.
    Ml,
    /// Set by one of the ledger's rules.
    Rule,
    /// An import's fallback (`Uncategorized`): nothing named or suggested one.
    Default,
}

impl CategorySource {
    pub fn as_str(self) -> &'static str {
        match self {
            CategorySource::User => "user",
            CategorySource::Ml => "ml",
            CategorySource::Rule => "rule",
            CategorySource::Default => "default",
        }
    }
}

/// A transaction to record, as any source hands it over once it has parsed its own input.
#[derive(Debug, Clone)]
pub struct Entry {
    pub draft: Draft,
    /// The currency the source named, if any: it must be the wallet's.
    pub currency: Option<String>,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    /// Where an imported entry came from; the default for everything else.
    pub import: Provenance,
    pub category_source: CategorySource,
    pub category_confidence: Option<Decimal>,
    pub tax: Tax,
}

/// Where an imported entry came from: its duplicate key (the owner has each key once), its
/// batch, the bank's own id of the movement, and whether it waits for review.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub hash: Option<String>,
    pub batch: Option<Uuid>,
    pub external_id: Option<String>,
    pub pending: bool,
}

/// The tax an income or expense carries: the rate (percent) its amount includes, and whether
/// an expense is deductible. A transfer carries none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tax {
    pub rate: Option<Decimal>,
    pub deductible: bool,
}

impl Tax {
    /// The tax a client asked for, if the transaction's type can carry it.
    pub fn of(kind: TransactionType, tax: Tax) -> Result<Tax, ApiError> {
        if kind == TransactionType::Transfer && tax != Tax::default() {
            let field = if tax.rate.is_some() {
                "tax_rate"
            } else {
                "tax_deductible"
            };
            return Err(ApiError::invalid_field(field, "a transfer carries no tax"));
        }
        Ok(tax)
    }
}

/// Trims a text and drops it when nothing is left.
pub fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Tags trimmed, each once, in their first order.
pub fn clean_tags(tags: Vec<String>) -> Vec<Option<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out.into_iter().map(Some).collect()
}

/// A wallet as the rules see it.
#[derive(Debug, Clone)]
pub struct WalletRef {
    pub name: String,
    pub currency: String,
    pub archived: bool,
}

/// A category as the rules see it.
#[derive(Debug, Clone)]
pub struct CategoryRef {
    pub name: String,
    pub kind: CategoryKind,
}

/// The owner's wallets and categories that entries may point at: those one entry names (one
/// query), or all of them (an import).
#[derive(Debug, Default)]
pub struct Refs {
    pub wallets: HashMap<Uuid, WalletRef>,
    pub categories: HashMap<Uuid, CategoryRef>,
}

impl Refs {
    pub fn from_rows(wallets: &[Wallet], categories: &[Category]) -> Result<Refs, ApiError> {
        let mut refs = Refs::default();
        let wallets = wallets.iter().map(|w| db::ledger::Reference {
            is_wallet: true,
            id: w.id,
            name: w.name.clone(),
            detail: w.currency.clone(),
            archived: w.archived,
        });
        let categories = categories.iter().map(|c| db::ledger::Reference {
            is_wallet: false,
            id: c.id,
            name: c.name.clone(),
            detail: c.kind.clone(),
            archived: false,
        });
        for row in wallets.chain(categories) {
            refs.add(row)?;
        }
        Ok(refs)
    }

    /// The rows one draft names, in one query.
    pub fn of_draft(conn: &mut PgConnection, owner: Uuid, draft: &Draft) -> Result<Refs, ApiError> {
        let wallet_ids: Vec<Uuid> = std::iter::once(draft.wallet_id)
            .chain(draft.to_wallet_id)
            .collect();
        let category_ids: Vec<Uuid> = draft
            .category_id
            .into_iter()
            .chain(draft.splits.iter().map(|s| s.category_id))
            .collect();
        let mut refs = Refs::default();
        for row in db::ledger::references(conn, owner, &wallet_ids, &category_ids)? {
            refs.add(row)?;
        }
        Ok(refs)
    }

    fn add(&mut self, row: db::ledger::Reference) -> Result<(), ApiError> {
        if row.is_wallet {
            self.wallets.insert(
                row.id,
                WalletRef {
                    name: row.name,
                    currency: row.detail,
                    archived: row.archived,
                },
            );
        } else {
            let kind = super::caller::stored("category kind", &row.detail, CategoryKind::parse)?;
            self.categories.insert(
                row.id,
                CategoryRef {
                    name: row.name,
                    kind,
                },
            );
        }
        Ok(())
    }
}

/// What a new entry's checks read before it is written: the rows it names and, for an
/// expense, the earlier expenses it is judged against for unusual spending and the budgets
/// that track it. An expense reads it all in one statement.
#[derive(Debug, Default)]
struct Context {
    refs: Refs,
    /// Earlier expenses' amounts in the entry's category.
    category_peers: Vec<f64>,
    /// Earlier expenses' dates and amounts at the entry's merchant.
    merchant_peers: Vec<(NaiveDate, f64)>,
    /// The budgets tracking one of the entry's categories (none: its alerts need no look).
    budgets: Vec<Uuid>,
    /// The imported transaction the entry may repeat: its id, date and description.
    look_alike: Option<(Uuid, NaiveDate, String)>,
}

impl Context {
    fn read(conn: &mut PgConnection, owner: Uuid, entry: &Entry) -> Result<Context, ApiError> {
        let draft = &entry.draft;
        if draft.transaction_type == TransactionType::Transfer {
            return Ok(Context {
                refs: Refs::of_draft(conn, owner, draft)?,
                ..Context::default()
            });
        }
        let expense = draft.transaction_type == TransactionType::Expense;
        let categories: Vec<Uuid> = draft
            .category_id
            .into_iter()
            .chain(draft.splits.iter().map(|s| s.category_id))
            .collect();
        let rows = db::ledger::expense_context(
            conn,
            &db::ledger::ContextQuery {
                owner,
                wallet: draft.wallet_id,
                transaction_type: draft.transaction_type.as_str(),
                amount: draft.amount,
                date: entry.date,
                categories: &categories,
                // Only expenses are judged for unusual spending.
                peer_category: draft.category_id.filter(|_| expense),
                merchant: entry.merchant.as_deref().filter(|_| expense),
                limit: predictions::PEER_HISTORY,
            },
        )?;
        let mut context = Context::default();
        let missing =
            |part: &str| ApiError::internal(format!("an expense's {part} row lacks a field"));
        for row in rows {
            match row.part.as_str() {
                "wallet" | "category" => {
                    let (Some(id), Some(name), Some(detail)) = (row.id, row.name, row.detail)
                    else {
                        return Err(missing(&row.part));
                    };
                    context.refs.add(db::ledger::Reference {
                        is_wallet: row.part == "wallet",
                        id,
                        name,
                        detail,
                        archived: row.archived,
                    })?;
                }
                "category_peer" => context
                    .category_peers
                    .push(row.amount.ok_or_else(|| missing(&row.part))?),
                "merchant_peer" => context.merchant_peers.push((
                    row.date.ok_or_else(|| missing(&row.part))?,
                    row.amount.ok_or_else(|| missing(&row.part))?,
                )),
                "budget" => context
                    .budgets
                    .push(row.id.ok_or_else(|| missing(&row.part))?),
                "look_alike" => {
                    context.look_alike = Some((
                        row.id.ok_or_else(|| missing(&row.part))?,
                        row.date.ok_or_else(|| missing(&row.part))?,
                        row.name.unwrap_or_default(),
                    ))
                }
                other => {
                    return Err(ApiError::internal(format!(
                        "an expense's context has an unknown part `{other}`"
                    )))
                }
            }
        }
        Ok(context)
    }

    /// Whether the checked entry is unusual against the earlier expenses read (expenses only;
    /// see `ml::anomaly`).
    fn unusual(&self, checked: &Checked) -> Option<crate::ml::anomaly::Finding> {
        let entry = &checked.entry;
        if entry.draft.transaction_type != TransactionType::Expense {
            return None;
        }
        let category = entry
            .draft
            .category_id
            .and_then(|id| self.refs.categories.get(&id))
            .map(|c| (self.category_peers.as_slice(), c.name.as_str()));
        let merchant = entry
            .merchant
            .as_deref()
            .map(|name| (self.merchant_peers.as_slice(), name));
        crate::ml::anomaly::assess(
            entry.draft.amount.to_f64().unwrap_or(0.0),
            entry.date,
            category,
            merchant,
        )
    }
}

/// What can be wrong with an entry, whatever brought it. The JSON API answers each as an
/// `ApiError`; an import reports it against its line.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// The shape rules of `domain::transaction`, by field.
    Shape(FieldErrors),
    /// No such wallet of the owner (`wallet_id` or `to_wallet_id`).
    UnknownWallet { field: &'static str },
    /// No such category of the owner.
    UnknownCategory { field: String },
    /// An archived wallet takes no new money.
    ArchivedWallet { field: &'static str, name: String },
    /// The named currency is not the wallet's.
    Currency { given: String, wallet: String },
    /// A transfer's wallets hold different currencies.
    TransferCurrency,
    /// The category is of the other kind (an income category on an expense).
    CategoryKind { field: String, wanted: CategoryKind },
}

impl From<Violation> for ApiError {
    fn from(violation: Violation) -> ApiError {
        match violation {
            Violation::Shape(errors) => ApiError::Validation(errors),
            Violation::UnknownWallet { field } => ApiError::not_found(if field == "wallet_id" {
                "Wallet"
            } else {
                "Destination wallet"
            }),
            Violation::UnknownCategory { field } => {
                ApiError::not_found(if field == "category_id" {
                    "Category"
                } else {
                    "Split category"
                })
            }
            Violation::ArchivedWallet { field, .. } => ApiError::invalid_field(
                field,
                "is an archived wallet: unarchive it to record money in it",
            ),
            Violation::Currency { wallet, .. } => ApiError::invalid_field(
                "currency",
                format!("must be the wallet's currency ({wallet})"),
            ),
            Violation::TransferCurrency => ApiError::invalid_field(
                "to_wallet_id",
                "must hold the same currency as wallet_id (conversion is not supported yet)",
            ),
            Violation::CategoryKind { field, wanted } => {
                ApiError::invalid_field(&field, format!("must be an {} category", wanted.as_str()))
            }
        }
    }
}

impl Violation {
    /// The sentence an import report gives for a line.
    pub fn line_message(&self) -> String {
        match self {
            Violation::Shape(errors) => errors
                .iter()
                .flat_map(|(field, messages)| messages.iter().map(move |m| format!("{field} {m}")))
                .collect::<Vec<_>>()
                .join("; "),
            Violation::UnknownWallet { .. } => "unknown wallet".into(),
            Violation::UnknownCategory { .. } => "unknown category".into(),
            Violation::ArchivedWallet { name, .. } => {
                format!("wallet `{name}` is archived; unarchive it to import into it")
            }
            Violation::Currency { given, wallet } => format!(
                "the currency {given} is not the wallet's ({wallet}); conversion is not supported"
            ),
            Violation::TransferCurrency => "a transfer's wallets must hold one currency".into(),
            Violation::CategoryKind { wanted, .. } => {
                format!("the category must be an {} category", wanted.as_str())
            }
        }
    }
}

/// Every rule an entry must keep, checked against the owner's rows: its shape, wallets that
/// are the owner's and open (an archived wallet keeps only the rows already in it: `kept`),
/// one currency, categories of the right kind. Returns the entry's currency.
pub fn check(
    draft: &Draft,
    currency: Option<&str>,
    refs: &Refs,
    kept: &[Uuid],
) -> Result<String, Violation> {
    let shape = shape_errors(draft);
    if !shape.is_empty() {
        return Err(Violation::Shape(shape));
    }
    let open = |field: &'static str, id: Uuid| -> Result<&WalletRef, Violation> {
        let wallet = refs
            .wallets
            .get(&id)
            .ok_or(Violation::UnknownWallet { field })?;
        if wallet.archived && !kept.contains(&id) {
            return Err(Violation::ArchivedWallet {
                field,
                name: wallet.name.clone(),
            });
        }
        Ok(wallet)
    };
    let wallet = open("wallet_id", draft.wallet_id)?;
    if let Some(given) = currency {
        if given != wallet.currency {
            return Err(Violation::Currency {
                given: given.to_owned(),
                wallet: wallet.currency.clone(),
            });
        }
    }
    if let Some(to) = draft.to_wallet_id {
        if open("to_wallet_id", to)?.currency != wallet.currency {
            return Err(Violation::TransferCurrency);
        }
    }
    let wanted = draft.transaction_type.category_kind();
    let category = |field: String, id: Uuid| -> Result<(), Violation> {
        let category = refs
            .categories
            .get(&id)
            .ok_or_else(|| Violation::UnknownCategory {
                field: field.clone(),
            })?;
        match wanted {
            Some(wanted) if category.kind != wanted => {
                Err(Violation::CategoryKind { field, wanted })
            }
            _ => Ok(()),
        }
    };
    if let Some(id) = draft.category_id {
        category("category_id".into(), id)?;
    }
    for (index, split) in draft.splits.iter().enumerate() {
        category(format!("splits[{index}].category_id"), split.category_id)?;
    }
    Ok(wallet.currency.clone())
}

/// Where a write goes and who makes it: a member of the ledger, or FinAI itself (a recurring
/// template, autopay), which leaves no member's name on the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Author {
    pub ledger: Uuid,
    pub user: Option<Uuid>,
}

impl Author {
    pub fn of(caller: &Caller) -> Author {
        Author {
            ledger: caller.ledger.id,
            user: Some(caller.id),
        }
    }

    pub fn system(ledger: Uuid) -> Author {
        Author { ledger, user: None }
    }
}

/// An entry that passed [`check`], ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    pub entry: Entry,
    pub currency: String,
    /// Why the entry is unusual against the owner's history, when it was judged so.
    pub unusual: Option<String>,
}

impl Checked {
    fn row(&self, author: Author) -> (NewTransaction, Vec<Split>) {
        let entry = &self.entry;
        (
            NewTransaction {
                ledger_id: author.ledger,
                created_by: author.user,
                updated_by: author.user,
                automatic: author.user.is_none(),
                tax_rate: entry.tax.rate,
                tax_deductible: entry.tax.deductible,
                transaction_type: entry.draft.transaction_type.as_str().to_owned(),
                amount: entry.draft.amount,
                currency: self.currency.clone(),
                date: entry.date,
                description: entry.description.clone(),
                merchant: entry.merchant.clone(),
                notes: entry.notes.clone(),
                category_id: entry.draft.category_id,
                wallet_id: entry.draft.wallet_id,
                to_wallet_id: entry.draft.to_wallet_id,
                tags: clean_tags(entry.tags.clone()),
                import_hash: entry.import.hash.clone(),
                status: entry
                    .import
                    .pending
                    .then(|| TransactionStatus::Pending.as_str().to_owned()),
                import_batch_id: entry.import.batch,
                external_id: entry.import.external_id.clone(),
                category_source: entry.category_source.as_str().to_owned(),
                category_confidence: entry.category_confidence,
                is_unusual: self.unusual.is_some(),
                unusual_reason: self.unusual.clone(),
            },
            split_rows(&entry.draft.splits),
        )
    }

    /// The expense lines the entry adds, for the budgets it can move.
    pub fn spending(&self) -> NewSpending {
        spending_of(&self.entry.draft, self.entry.date)
    }
}

fn split_rows(splits: &[SplitDraft]) -> Vec<Split> {
    splits
        .iter()
        .map(|s| Split {
            category_id: s.category_id,
            amount: s.amount,
            note: s.note.clone(),
        })
        .collect()
}

/// The expense lines a transaction adds (none for income and transfers).
pub fn spending_of(draft: &Draft, date: NaiveDate) -> NewSpending {
    let mut spending = NewSpending::default();
    if draft.transaction_type == TransactionType::Expense {
        spending.add(
            date,
            draft
                .category_id
                .into_iter()
                .chain(draft.splits.iter().map(|s| s.category_id)),
        );
    }
    spending
}

/// Checks a draft (a transaction, or a template of future ones) against the rows it names;
/// returns its currency.
pub fn check_draft(
    conn: &mut PgConnection,
    owner: Uuid,
    draft: &Draft,
    currency: Option<&str>,
    kept: &[Uuid],
) -> Result<String, ApiError> {
    let shape = shape_errors(draft);
    if !shape.is_empty() {
        return Err(ApiError::Validation(shape));
    }
    let refs = Refs::of_draft(conn, owner, draft)?;
    Ok(check(draft, currency, &refs, kept)?)
}

/// Checks one entry against the rows it names.
pub fn check_one(
    conn: &mut PgConnection,
    owner: Uuid,
    entry: Entry,
    kept: &[Uuid],
) -> Result<Checked, ApiError> {
    let currency = check_draft(conn, owner, &entry.draft, entry.currency.as_deref(), kept)?;
    Ok(Checked {
        entry,
        currency,
        unusual: None,
    })
}

/// Stores one checked entry; the database adds its rollups, change number and events. An
/// entry with splits is two statements: run it inside a database transaction.
pub fn record(
    conn: &mut PgConnection,
    author: Author,
    checked: &Checked,
) -> Result<Inserted, ApiError> {
    let (row, splits) = checked.row(author);
    Ok(transactions::insert(conn, &row, &splits)?)
}

/// Stores checked entries of an import together, skipping lines whose duplicate key the owner
/// already has; `progress` hears how many are stored after each chunk. Returns the keys of the
/// lines created, with their transactions.
pub fn record_many(
    conn: &mut PgConnection,
    author: Author,
    checked: &[Checked],
    progress: &mut dyn FnMut(usize),
) -> Result<std::collections::HashMap<String, Uuid>, ApiError> {
    // The rows are announced by the import's one `import_finished` event, not one
    // `transaction_update` each (migration 030): set for these inserts only.
    diesel::sql_query("SET LOCAL finai.quiet_inserts = 'on'").execute(conn)?;
    let mut created = std::collections::HashMap::new();
    // Built a chunk at a time: the rows are never all copied at once.
    let mut stored = 0;
    for chunk in checked.chunks(transactions::IMPORT_CHUNK) {
        let rows: Vec<(NewTransaction, Vec<Split>)> = chunk.iter().map(|c| c.row(author)).collect();
        created.extend(transactions::insert_imported(conn, &rows)?);
        stored += chunk.len();
        progress(stored);
    }
    diesel::sql_query("SET LOCAL finai.quiet_inserts = 'off'").execute(conn)?;
    Ok(created)
}

/// What follows a committed write: alerts of the budgets its spending moved. Runs after the
/// write's commit, outside the ledger's lock (an alert's insert takes the lock before its row,
/// so it queues behind a writer creating the same alert instead of deadlocking with it). A
/// notification is created once per budget, period and level however many writes race to it.
/// Called after a commit, the write is done whatever happens here: a failure is logged, not
/// answered (a client told 409 would retry a write that was stored), and the next write that
/// moves the budget evaluates it again. Called inside a caller's transaction (an import), a
/// failure is the caller's.
pub fn after_commit(
    conn: &mut PgConnection,
    caller: &Caller,
    spending: &NewSpending,
) -> Result<(), ApiError> {
    let checked = alerts::check_budgets(
        conn,
        caller.ledger.id,
        caller.today(),
        alerts::BudgetsToCheck::MovedBy(spending),
    );
    match checked {
        Err(error) if !db::in_transaction(conn) => {
            log::warn!(
                "ledger {}: budget alerts after a write failed ({error}); the next write asks again",
                caller.ledger.id
            );
            Ok(())
        }
        other => other,
    }
}

/// A new transaction from a client: the fields as sent.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub draft: Draft,
    pub currency: Option<String>,
    pub date: Option<NaiveDate>,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    /// Fill in a missing category from a confident suggestion.
    pub auto_categorize: bool,
    /// The suggestion the client followed, to be resolved with this transaction.
    pub suggestion_id: Option<Uuid>,
    pub tax: Tax,
    /// Record it even when it looks like a movement an import recorded (else 409
    /// `possible_duplicate`).
    pub allow_duplicate: bool,
}

/// Records a client's new transaction: suggestion, checks, unusual-spending judgement, the
/// write (with its suggestion log and unusual-spending notice), then its budget alerts.
/// Returns the stored transaction.
///
/// The plain case is the hot path: the checks and the judgement read before the write, the
/// write is one statement in its own transaction (the owner's lock is held only while it runs),
/// and the answer is built from what was checked and what the insert returned, with no read
/// back. A suggestion to apply or resolve, splits, or an unusual-spending notice make the write
/// several statements in one database transaction.
pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    request: NewRequest,
) -> Result<TransactionView, ApiError> {
    let auto = request.auto_categorize
        && request.draft.category_id.is_none()
        && request.draft.splits.is_empty()
        && request.draft.transaction_type.category_kind().is_some();
    if !auto {
        let shape = shape_errors(&request.draft);
        if !shape.is_empty() {
            return Err(ApiError::Validation(shape));
        }
    }
    let (view, spending) = if auto || request.suggestion_id.is_some() {
        // The suggestion log is written with the transaction, or not at all.
        // The ledger's lock first: a suggestion may store a retrained model before the write.
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            write_new(conn, caller, request, auto)
        })?
    } else {
        write_new(conn, caller, request, false)?
    };
    after_commit(conn, caller, &spending)?;
    Ok(view)
}

fn write_new(
    conn: &mut PgConnection,
    caller: &Caller,
    request: NewRequest,
    auto: bool,
) -> Result<(TransactionView, NewSpending), ApiError> {
    let NewRequest {
        mut draft,
        currency,
        date,
        description,
        merchant,
        notes,
        tags,
        auto_categorize: _,
        suggestion_id,
        tax,
        allow_duplicate,
    } = request;
    let tax = Tax::of(draft.transaction_type, tax)?;
    let owner = caller.ledger.id;
    let description = description.trim().to_owned();
    let merchant = non_empty(merchant);
    let mut applied = None;
    if let Some(kind) = draft.transaction_type.category_kind().filter(|_| auto) {
        match predictions::auto_categorize(
            conn,
            owner,
            &description,
            merchant.as_deref(),
            draft.amount,
            kind.as_str(),
        )? {
            Ok(chosen) => {
                draft.category_id = Some(chosen.category_id);
                applied = Some(chosen);
            }
            Err(suggestions) => {
                let best = suggestions.first().map_or(String::new(), |s| {
                    format!(" (best: {} at {:.0} %)", s.name, s.probability * 100.0)
                });
                return Err(ApiError::invalid_field(
                    "category_id",
                    format!("is required: no suggestion is confident enough{best}"),
                ));
            }
        }
        let shape = shape_errors(&draft);
        if !shape.is_empty() {
            return Err(ApiError::Validation(shape));
        }
    }
    let entry = Entry {
        draft,
        currency,
        date: date.unwrap_or(caller.today()),
        description,
        merchant,
        notes: non_empty(notes),
        tags,
        import: Provenance::default(),
        category_source: if applied.is_some() {
            CategorySource::Ml
        } else {
            CategorySource::User
        },
        // As the column keeps it (numeric(5, 4)), so the answer shows what is stored.
        category_confidence: applied.as_ref().and_then(|a| {
            Decimal::from_f64(a.probability).map(|p| {
                p.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            })
        }),
        tax,
    };
    let mut context = Context::read(conn, owner, &entry)?;
    let currency = check(&entry.draft, entry.currency.as_deref(), &context.refs, &[])?;
    // The same movement arriving by hand after an import: flagged, never doubled silently (an
    // import holds back the look-alike of one recorded by hand the same way).
    if let Some((id, date, description)) = context.look_alike.take().filter(|_| !allow_duplicate) {
        return Err(ApiError::PossibleDuplicate {
            of: id,
            message: format!(
                "This looks like the imported transaction of {date} (\"{description}\", the same \
                 amount in this wallet): send `allow_duplicate: true` to record it as well."
            ),
        });
    }
    let mut checked = Checked {
        entry,
        currency,
        unusual: None,
    };
    // Judged before the insert, which takes the owner's write lock until commit.
    let finding = context.unusual(&checked);
    checked.unusual = finding.as_ref().map(|f| f.reason.clone());
    let several = applied.is_some()
        || suggestion_id.is_some()
        || finding.is_some()
        || !checked.entry.draft.splits.is_empty();
    let write = |conn: &mut PgConnection| -> Result<Inserted, ApiError> {
        let inserted = record(conn, Author::of(caller), &checked)?;
        let (id, draft) = (inserted.id, &checked.entry.draft);
        // The suggestion log learns what became of its suggestion. A suggestion the client
        // names must be one made for the caller (the whole write rolls back otherwise).
        if let Some(named) = suggestion_id {
            if store::resolve_suggestion(conn, owner, Some(named), id, draft.category_id)? == 0 {
                return Err(ApiError::not_found("Suggestion"));
            }
        }
        if let Some(applied) = &applied {
            store::resolve_suggestion(
                conn,
                owner,
                Some(applied.suggestion_id),
                id,
                draft.category_id,
            )?;
        }
        if let Some(finding) = &finding {
            predictions::notify_unusual(
                conn,
                owner,
                id,
                &checked.currency,
                checked.entry.date,
                draft.amount,
                finding,
            )?;
        }
        Ok(inserted)
    };
    let inserted = if several {
        conn.transaction(write)?
    } else {
        write(conn)?
    };
    let mut spending = checked.spending();
    // An expense read the budgets that track it with its checks: with none, nothing is
    // evaluated after the write. (A budget created meanwhile evaluates itself.)
    if checked.entry.draft.transaction_type == TransactionType::Expense {
        spending.tracked_by = Some(std::mem::take(&mut context.budgets));
    }
    Ok((
        checked.view(&inserted, &context.refs, Author::of(caller)),
        spending,
    ))
}

impl Checked {
    /// The stored transaction as clients see it, from what was checked and what the insert
    /// returned (the names are those the checks read).
    fn view(&self, inserted: &Inserted, refs: &Refs, author: Author) -> TransactionView {
        let entry = &self.entry;
        let draft = &entry.draft;
        let wallet_name = |id: Uuid| {
            refs.wallets
                .get(&id)
                .map_or(String::new(), |w| w.name.clone())
        };
        let category_name = |id: Uuid| refs.categories.get(&id).map(|c| c.name.clone());
        let splits = draft
            .splits
            .iter()
            .map(|s| {
                serde_json::json!({
                    "category_id": s.category_id,
                    "category_name": category_name(s.category_id),
                    "amount": crate::domain::money::Money(s.amount),
                    "note": s.note,
                })
            })
            .collect();
        TransactionView {
            id: inserted.id,
            transaction_type: draft.transaction_type.as_str().to_owned(),
            amount: draft.amount,
            currency: self.currency.clone(),
            date: entry.date,
            description: entry.description.clone(),
            merchant: entry.merchant.clone(),
            notes: entry.notes.clone(),
            category_id: draft.category_id,
            category_name: draft.category_id.and_then(category_name),
            wallet_id: draft.wallet_id,
            wallet_name: wallet_name(draft.wallet_id),
            to_wallet_id: draft.to_wallet_id,
            to_wallet_name: draft.to_wallet_id.map(wallet_name),
            tags: clean_tags(entry.tags.clone()),
            splits: serde_json::Value::Array(splits),
            created_at: inserted.created_at,
            updated_at: inserted.updated_at,
            category_source: entry.category_source.as_str().to_owned(),
            category_confidence: entry.category_confidence,
            is_unusual: self.unusual.is_some(),
            unusual_reason: self.unusual.clone(),
            created_by: author.user,
            updated_by: author.user,
            tax_rate: entry.tax.rate,
            tax_deductible: entry.tax.deductible,
            status: if entry.import.pending {
                TransactionStatus::Pending
            } else {
                TransactionStatus::Cleared
            }
            .as_str()
            .to_owned(),
            import_batch_id: entry.import.batch,
            transfer_match_id: None,
        }
    }
}

/// A change to a transaction, as a client sends it: absent fields stay; `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub transaction_type: Option<TransactionType>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub date: Option<NaiveDate>,
    pub description: Option<String>,
    pub merchant: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub category_id: Option<Option<Uuid>>,
    pub wallet_id: Option<Uuid>,
    pub to_wallet_id: Option<Option<Uuid>>,
    pub tags: Option<Vec<String>>,
    pub splits: Option<Vec<SplitDraft>>,
    pub tax_rate: Option<Option<Decimal>>,
    pub tax_deductible: Option<bool>,
    /// Who chose a category (or splits) the patch sets: the user when `None`.
    pub category_source: Option<CategorySource>,
}

/// Which transactions a caller may reach through a route: all, or one type only.
pub type Admits = fn(TransactionType) -> bool;

/// What a change or deletion may touch: the types of transaction its route admits, the noun
/// its 404 names, and the versions the client read (`If-Match`), if it sent any.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub admits: Admits,
    pub noun: &'static str,
    pub expected: Option<&'a Tags>,
}

impl Target<'static> {
    /// Any transaction, whatever its version (the ledger's own changes: rules, imports).
    pub const ANY: Target<'static> = Target {
        admits: |_| true,
        noun: "Transaction",
        expected: None,
    };
}

impl Target<'_> {
    /// The stored row as this target allows it: 404 for a type the route does not reach, 412
    /// for a version the client did not read.
    fn check(&self, kind: TransactionType, updated_at: DateTime<Utc>) -> Result<(), ApiError> {
        if !(self.admits)(kind) {
            return Err(ApiError::not_found(self.noun));
        }
        let current = version::etag(updated_at);
        match self.expected {
            Some(tags) if !tags.matches_strongly(&current) => Err(ApiError::PreconditionFailed {
                what: self.noun.to_lowercase(),
                etag: current,
            }),
            _ => Ok(()),
        }
    }
}

/// Changes a transaction: the patch is merged onto the stored row and the result is checked
/// by the same rules as a new one, then written, with its budget alerts after commit.
pub fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    patch: Patch,
    target: Target,
) -> Result<TransactionView, ApiError> {
    let owner = caller.ledger.id;
    let not_found = target.noun;
    let (view, spending) = conn.transaction::<_, ApiError, _>(|conn| {
        db::lock_ledger(conn, owner)?;
        let (current, current_splits) =
            transactions::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found(not_found))?;
        let current_type = super::caller::stored(
            "transaction type",
            &current.transaction_type,
            TransactionType::parse,
        )?;
        target.check(current_type, current.updated_at)?;
        let transaction_type = patch.transaction_type.unwrap_or(current_type);
        if !(target.admits)(transaction_type) {
            return Err(ApiError::invalid_field(
                "type",
                "must stay expense here (use /transactions)",
            ));
        }
        // A field the new state cannot have goes unless the request sets it: a category
        // replaces splits (and splits a category), a transfer drops the category and splits,
        // a non-transfer drops the receiving wallet. Setting the category (or splits) makes
        // it the user's, never to be overwritten.
        let user_categorized = patch.category_id.is_some() || patch.splits.is_some();
        let splits = match (patch.splits, &patch.category_id) {
            (Some(splits), _) => splits,
            (None, Some(Some(_))) => Vec::new(),
            (None, _) if transaction_type == TransactionType::Transfer => Vec::new(),
            (None, _) => current_splits
                .into_iter()
                .map(|s| SplitDraft {
                    category_id: s.category_id,
                    amount: s.amount,
                    note: s.note,
                })
                .collect(),
        };
        let category_id = match patch.category_id {
            Some(category) => category,
            None if !splits.is_empty() => None,
            None if transaction_type == TransactionType::Transfer => None,
            None => current.category_id,
        };
        let to_wallet_id = match patch.to_wallet_id {
            Some(to) => to,
            None if transaction_type != TransactionType::Transfer => None,
            None => current.to_wallet_id,
        };
        let draft = Draft {
            transaction_type,
            amount: patch.amount.unwrap_or(current.amount),
            category_id,
            wallet_id: patch.wallet_id.unwrap_or(current.wallet_id),
            to_wallet_id,
            splits,
        };
        // What an import's transfer matching compared (see below).
        let was = (
            current_type,
            current.amount,
            current.wallet_id,
            current.to_wallet_id,
            current.date,
            current.currency.clone(),
        );
        let matched = current.transfer_match_id.is_some();
        let kept: Vec<Uuid> = [Some(current.wallet_id), current.to_wallet_id]
            .into_iter()
            .flatten()
            .collect();
        let date = patch.date.unwrap_or(current.date);
        // Moved to another wallet, the amount keeps its currency unless the client names the new
        // one: 5 USD never silently becomes 5 EUR (an outside test found it did).
        let moved = patch.wallet_id.is_some_and(|w| w != current.wallet_id);
        let currency = patch
            .currency
            .or_else(|| moved.then(|| current.currency.clone()));
        let entry = Entry {
            draft,
            currency,
            date,
            description: patch
                .description
                .map_or(current.description, |d| d.trim().to_owned()),
            merchant: patch.merchant.map_or(current.merchant, non_empty),
            notes: patch.notes.map_or(current.notes, non_empty),
            tags: patch
                .tags
                .unwrap_or_else(|| current.tags.into_iter().flatten().collect()),
            import: Provenance::default(),
            category_source: if user_categorized {
                patch.category_source.unwrap_or(CategorySource::User)
            } else {
                stored_source(&current.category_source)?
            },
            category_confidence: if user_categorized {
                None
            } else {
                current.category_confidence
            },
            // A row that becomes a transfer drops the tax it carried unless told otherwise.
            tax: if transaction_type == TransactionType::Transfer
                && patch.tax_rate.is_none()
                && patch.tax_deductible.is_none()
            {
                Tax::default()
            } else {
                Tax::of(
                    transaction_type,
                    Tax {
                        rate: patch.tax_rate.unwrap_or(current.tax_rate),
                        deductible: patch.tax_deductible.unwrap_or(current.tax_deductible),
                    },
                )?
            },
        };
        let checked = check_one(conn, owner, entry, &kept)?;
        rewrite(conn, Author::of(caller), id, &checked)?;
        // A row an import matched as half of a transfer was matched for its amount, date,
        // wallet and direction; once the user changes any of them, the pair is no longer what
        // was matched, so both halves lose the match (and are approved as they stand).
        let draft = &checked.entry.draft;
        let now = (
            draft.transaction_type,
            draft.amount,
            draft.wallet_id,
            draft.to_wallet_id,
            date,
            checked.currency.clone(),
        );
        if matched && now != was {
            imports::unpair(conn, owner, &[id])?;
        }
        if user_categorized && patch.category_source.is_none() {
            // The user's final choice for a suggested category is what the log keeps.
            store::resolve_suggestion(conn, owner, None, id, checked.entry.draft.category_id)?;
        }
        let view = transactions::find_view(conn, owner, id)?
            .ok_or_else(|| ApiError::not_found(not_found))?;
        Ok((view, checked.spending()))
    })?;
    after_commit(conn, caller, &spending)?;
    Ok(view)
}

fn stored_source(value: &str) -> Result<CategorySource, ApiError> {
    super::caller::stored("category source", value, |v| match v {
        "user" => Some(CategorySource::User),
        "ml" => Some(CategorySource::Ml),
        "rule" => Some(CategorySource::Rule),
        "default" => Some(CategorySource::Default),
        _ => None,
    })
}

/// Overwrites a stored transaction with a checked entry.
pub fn rewrite(
    conn: &mut PgConnection,
    author: Author,
    id: Uuid,
    checked: &Checked,
) -> Result<(), ApiError> {
    let (row, splits) = checked.row(author);
    transactions::update(
        conn,
        author.ledger,
        id,
        &TransactionChangeset {
            transaction_type: row.transaction_type,
            amount: row.amount,
            currency: row.currency,
            date: row.date,
            description: row.description,
            merchant: row.merchant,
            notes: row.notes,
            category_id: row.category_id,
            wallet_id: row.wallet_id,
            to_wallet_id: row.to_wallet_id,
            tags: row.tags,
            category_source: row.category_source,
            category_confidence: row.category_confidence,
            updated_by: row.updated_by,
            tax_rate: row.tax_rate,
            tax_deductible: row.tax_deductible,
        },
        &splits,
    )?;
    Ok(())
}

/// Deletes a transaction (a tombstone and an event tell syncing and listening clients). Less
/// spending crosses no budget threshold: nothing follows.
pub fn remove(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    target: Target,
) -> Result<(), ApiError> {
    let owner = caller.ledger.id;
    conn.transaction::<_, ApiError, _>(|conn| {
        db::lock_ledger(conn, owner)?;
        let (row, _) =
            transactions::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found(target.noun))?;
        let kind = super::caller::stored(
            "transaction type",
            &row.transaction_type,
            TransactionType::parse,
        )?;
        target.check(kind, row.updated_at)?;
        if row.transfer_match_id.is_some() {
            // Its partner is a row of its own again.
            imports::unpair(conn, owner, &[id])?;
        }
        transactions::delete(conn, owner, id)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(archived: bool) -> (Refs, Uuid, Uuid, Uuid) {
        let (cash, bank, food) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut refs = Refs::default();
        for (id, name, currency) in [(cash, "Cash", "USD"), (bank, "Bank", "EUR")] {
            refs.wallets.insert(
                id,
                WalletRef {
                    name: name.into(),
                    currency: currency.into(),
                    archived: archived && id == cash,
                },
            );
        }
        refs.categories.insert(
            food,
            CategoryRef {
                name: "Food".into(),
                kind: CategoryKind::Expense,
            },
        );
        (refs, cash, bank, food)
    }

    fn expense(wallet: Uuid, category: Uuid) -> Draft {
        Draft {
            transaction_type: TransactionType::Expense,
            amount: Decimal::new(1250, 2),
            category_id: Some(category),
            wallet_id: wallet,
            to_wallet_id: None,
            splits: vec![],
        }
    }

    #[test]
    fn one_rule_set_speaks_to_both_the_api_and_an_import() {
        let (refs, cash, bank, food) = refs(true);
        let archived = check(&expense(cash, food), None, &refs, &[]).unwrap_err();
        assert_eq!(
            archived.line_message(),
            "wallet `Cash` is archived; unarchive it to import into it"
        );
        assert_eq!(ApiError::from(archived).code(), "validation_failed");
        // A row already in the archived wallet may stay there.
        assert_eq!(
            check(&expense(cash, food), None, &refs, &[cash]).unwrap(),
            "USD"
        );

        let currency = check(&expense(bank, food), Some("USD"), &refs, &[]).unwrap_err();
        assert!(currency.line_message().contains("currency USD"));

        let transfer = Draft {
            transaction_type: TransactionType::Transfer,
            category_id: None,
            to_wallet_id: Some(cash),
            ..expense(bank, food)
        };
        assert_eq!(
            check(&transfer, None, &refs, &[cash]).unwrap_err(),
            Violation::TransferCurrency
        );
        let unknown = check(&expense(Uuid::new_v4(), food), None, &refs, &[]).unwrap_err();
        assert_eq!(ApiError::from(unknown).code(), "not_found");
    }

    #[test]
    fn a_category_of_the_other_kind_is_refused() {
        let (refs, _, bank, food) = refs(false);
        let income = Draft {
            transaction_type: TransactionType::Income,
            ..expense(bank, food)
        };
        assert_eq!(
            check(&income, None, &refs, &[]).unwrap_err(),
            Violation::CategoryKind {
                field: "category_id".into(),
                wanted: CategoryKind::Income
            }
        );
    }
}
