//! Receipts: a photo or PDF is stored and queued (`processing`); a worker (`ocr::worker`)
//! reads it with Tesseract or the PDF's text layer and parses the text (`domain::receipt`)
//! into fields with confidences and line items with suggested categories (`parsed`). The user
//! corrects fields (kept apart from the reading), then turns the receipt into an expense (split
//! by the items' categories) or matches it to an expense the bank already recorded.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::attachments::{self, Owner};
use super::caller::Caller;
use super::events;
use super::ledger::{self, NewRequest, Tax};
use super::predictions;
use crate::config::OcrSettings;
use crate::db::attachments::{self as files_db, Attachment};
use crate::db::receipts::{self as store, Filter, Receipt, Settled};
use crate::db::transactions::TransactionView;
use crate::domain::currency::minor_units;
use crate::domain::file_type;
use crate::domain::ledger::TransactionType;
use crate::domain::receipt::{self, fold, Field, Reading};
use crate::domain::transaction::{Draft, SplitDraft};
use crate::dto::events::ReceiptProcessedData;
use crate::error::ApiError;
use crate::ocr::{self, OcrError};
use crate::storage::FileStore;

/// Receipts a ledger may have waiting to be read at once: more answer 429.
pub const MAX_WAITING: i64 = 20;
/// Readings of one receipt before it is given up (a worker that died while reading it, a
/// deadline passed).
pub const MAX_ATTEMPTS: i32 = 3;
/// The most text kept of a reading (a receipt's is a few kilobytes).
pub const MAX_TEXT: usize = 64 * 1024;

/// A receipt with its image's row.
#[derive(Debug, Clone)]
pub struct ReceiptView {
    pub receipt: Receipt,
    pub file: Option<Attachment>,
}

/// A line item as stored in a reading: what OCR read, and the category suggested for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredItem {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Option<Decimal>,
    pub amount: Decimal,
    pub category_id: Option<Uuid>,
    pub category: Option<String>,
    /// How sure the categoriser is of the category.
    pub category_confidence: Option<f64>,
}

/// What the parser made of a receipt, each field with its confidence, and each line with its
/// suggested category.
pub type StoredReading = Reading<StoredItem>;

/// The user's corrections: each field set replaces the reading's.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Corrections {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<StoredItem>>,
}

fn sure<T>(value: T) -> Option<Field<T>> {
    Some(Field {
        value,
        confidence: 1.0,
    })
}

/// The receipt's fields as they stand: the reading with the corrections laid over it (a
/// corrected field has confidence 1).
pub fn settled(receipt: &Receipt) -> StoredReading {
    let mut reading: StoredReading = receipt
        .parsed
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let corrections: Corrections =
        serde_json::from_value(receipt.corrections.clone()).unwrap_or_default();
    if let Some(v) = corrections.merchant {
        reading.merchant = sure(v);
    }
    if let Some(v) = corrections.date {
        reading.date = sure(v);
    }
    if let Some(v) = corrections.total {
        reading.total = sure(v);
    }
    if let Some(v) = corrections.subtotal {
        reading.subtotal = sure(v);
    }
    if let Some(v) = corrections.tax {
        reading.tax = sure(v);
    }
    if let Some(v) = corrections.tip {
        reading.tip = sure(v);
    }
    if let Some(v) = corrections.currency {
        reading.currency = sure(v);
    }
    if let Some(items) = corrections.items {
        reading.items = items;
        reading.items_confidence = 1.0;
    }
    reading
}

fn settled_columns(reading: &StoredReading) -> Settled {
    Settled {
        merchant: reading.merchant.as_ref().map(|f| f.value.clone()),
        date: reading.date.as_ref().map(|f| f.value),
        total: reading.total.as_ref().map(|f| f.value),
        currency: reading.currency.as_ref().map(|f| f.value.clone()),
    }
}

/// Stores a receipt's file and queues it for reading.
pub fn create(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    caller: &Caller,
    bytes: &[u8],
    file_name: Option<&str>,
) -> Result<ReceiptView, ApiError> {
    let kind = attachments::check(bytes)?;
    crate::db::ledger_transaction(conn, caller.ledger.id, |conn| {
        if store::count_waiting(conn, caller.ledger.id)? >= MAX_WAITING {
            return Err(ApiError::queue_full(
                "receipt_queue_full",
                format!("{MAX_WAITING} receipts of this ledger are waiting to be read"),
            ));
        }
        let receipt = store::insert(conn, caller.ledger.id, caller.id)?;
        let file = attachments::store_file(
            conn,
            files,
            caller,
            Owner::Receipt(receipt.id),
            kind,
            bytes,
            file_name,
        )?;
        Ok(ReceiptView {
            receipt,
            file: Some(file),
        })
    })
}

pub fn get(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<ReceiptView, ApiError> {
    let receipt =
        store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("receipt"))?;
    let file = files_db::of_receipt(conn, caller.ledger.id, id)?;
    Ok(ReceiptView { receipt, file })
}

pub fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ReceiptView>, i64), ApiError> {
    let (rows, total) = store::page(conn, caller.ledger.id, filter, limit, offset)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut files: std::collections::HashMap<Uuid, Attachment> =
        files_db::of_receipts(conn, caller.ledger.id, &ids)?
            .into_iter()
            .filter_map(|file| Some((file.receipt_id?, file)))
            .collect();
    let views = rows
        .into_iter()
        .map(|receipt| ReceiptView {
            file: files.remove(&receipt.id),
            receipt,
        })
        .collect();
    Ok((views, total))
}

pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    if store::delete(conn, caller.ledger.id, id)? == 0 {
        return Err(ApiError::not_found("receipt"));
    }
    Ok(())
}

/// Corrects fields. Sending a field as it was read is kept as a confirmation. Item categories
/// must be the ledger's expense categories; the lines with the categories chosen for them
/// become examples the categoriser learns from, at once.
pub fn correct(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    changes: Corrections,
) -> Result<ReceiptView, ApiError> {
    let teaches = changes
        .items
        .as_ref()
        .is_some_and(|items| items.iter().any(|i| i.category_id.is_some()));
    let view = crate::db::ledger_transaction(conn, caller.ledger.id, |conn| {
        let receipt = store::lock(conn, caller.ledger.id, id)?
            .ok_or_else(|| ApiError::not_found("receipt"))?;
        if receipt.status == "processing" {
            return Err(ApiError::Conflict {
                code: "receipt_processing",
                message: "The receipt is still being read: correct it once it is parsed.".into(),
            });
        }
        let mut corrections: Corrections =
            serde_json::from_value(receipt.corrections.clone()).unwrap_or_default();
        if let Some(mut items) = changes.items {
            let names = expense_categories(conn, caller.ledger.id)?;
            for (i, item) in items.iter_mut().enumerate() {
                if let Some(category) = item.category_id {
                    let name = names.get(&category).ok_or_else(|| {
                        ApiError::invalid_field(
                            &format!("items[{i}].category_id"),
                            "is not an expense category of this ledger",
                        )
                    })?;
                    item.category = Some(name.clone());
                    item.category_confidence = Some(1.0);
                } else {
                    item.category = None;
                    item.category_confidence = None;
                }
            }
            corrections.items = Some(items);
        }
        macro_rules! take {
            ($($field:ident),*) => {$(if changes.$field.is_some() { corrections.$field = changes.$field; })*};
        }
        take!(merchant, date, total, subtotal, tax, tip, currency);
        let mut updated = receipt.clone();
        updated.corrections = serde_json::to_value(&corrections).map_err(ApiError::internal)?;
        let settled_reading = settled(&updated);
        let receipt = store::correct(
            conn,
            caller.ledger.id,
            id,
            &updated.corrections,
            &settled_columns(&settled_reading),
        )?;
        let file = files_db::of_receipt(conn, caller.ledger.id, id)?;
        Ok(ReceiptView { receipt, file })
    })?;
    if teaches {
        // The categories chosen for the lines are examples the categoriser learns now.
        predictions::train_categorizer(conn, caller.ledger.id)?;
    }
    Ok(view)
}

fn expense_categories(
    conn: &mut PgConnection,
    ledger_id: Uuid,
) -> Result<BTreeMap<Uuid, String>, ApiError> {
    Ok(crate::db::ml::categories(conn, ledger_id)?
        .into_iter()
        .filter(|c| c.kind == "expense")
        .map(|c| (c.id, c.name))
        .collect())
}

/// Reads the oldest waiting receipt, if any: returns its id. A file that cannot be read
/// leaves the receipt `failed` with the reason; the worker goes on with the next.
pub fn process_next(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    settings: &OcrSettings,
    scratch: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ApiError> {
    let lease = chrono::Duration::from_std(settings.timeout * 2)
        .unwrap_or(chrono::Duration::minutes(5))
        + chrono::Duration::seconds(60);
    let Some(receipt) = store::claim(conn, now, now + lease)? else {
        return Ok(None);
    };
    let id = receipt.id;
    if receipt.attempts > MAX_ATTEMPTS {
        settle(
            conn,
            &receipt,
            Ending::Failed("reading the receipt failed several times"),
        )?;
        return Ok(Some(id));
    }
    // A reading that panics fails its receipt; the reader lives on.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_receipt(conn, files, settings, scratch, &receipt)
    }))
    .unwrap_or_else(|_| Err(ReadFailure::File("the receipt could not be read".into())));
    match outcome {
        Ok((text, reading)) => {
            let value = serde_json::to_value(&reading).map_err(ApiError::internal)?;
            let mut updated = receipt.clone();
            updated.parsed = Some(value.clone());
            let settled = settled_columns(&settled(&updated));
            settle(
                conn,
                &receipt,
                Ending::Read {
                    text: &text,
                    parsed: &value,
                    settled: &settled,
                },
            )?;
        }
        Err(ReadFailure::File(reason)) => {
            settle(conn, &receipt, Ending::Failed(&reason))?;
        }
        Err(ReadFailure::Later(reason)) if receipt.attempts < MAX_ATTEMPTS => {
            log::warn!("receipt {id}: {reason}; trying again in a minute");
            store::release(conn, &receipt, now + chrono::Duration::minutes(1))?;
        }
        Err(ReadFailure::Later(reason)) => {
            settle(conn, &receipt, Ending::Failed(&reason))?;
        }
        Err(ReadFailure::Server(error)) => {
            log::error!("reading receipt {id}: {error}");
            settle(
                conn,
                &receipt,
                Ending::Failed("the receipt could not be read on this server"),
            )?;
        }
    }
    Ok(Some(id))
}

/// How a receipt's reading ended.
enum Ending<'a> {
    Read {
        text: &'a str,
        parsed: &'a Value,
        settled: &'a Settled,
    },
    /// The reason, shown to the user.
    Failed(&'a str),
}

/// Stores how a receipt's reading ended and announces it (`receipt_processed`), together; a
/// receipt deleted (or taken back) meanwhile is left alone and not announced.
fn settle(conn: &mut PgConnection, receipt: &Receipt, ending: Ending<'_>) -> Result<(), ApiError> {
    // The ledger's lock first, as every writer takes it: the event below needs it, and a
    // correction holding it waits for this receipt's row.
    crate::db::ledger_transaction(conn, receipt.ledger_id, |conn| {
        let (stored, status, failure, settled) = match &ending {
            Ending::Read {
                text,
                parsed,
                settled,
            } => (
                store::finish(conn, receipt, text, parsed, settled)?,
                "parsed",
                None,
                Some(*settled),
            ),
            Ending::Failed(reason) => (
                store::fail(conn, receipt, reason)?,
                "failed",
                Some(*reason),
                None,
            ),
        };
        if stored == 0 {
            return Ok(());
        }
        let data = ReceiptProcessedData {
            receipt_id: receipt.id,
            status: status.to_owned(),
            failure: failure.map(str::to_owned),
            merchant: settled.and_then(|s| s.merchant.clone()),
            date: settled.and_then(|s| s.date),
            total: settled
                .and_then(|s| s.total)
                .map(crate::domain::money::Money),
            currency: settled.and_then(|s| s.currency.clone()),
        };
        events::append(
            conn,
            receipt.ledger_id,
            events::Kind::ReceiptProcessed,
            Some(receipt.id),
            serde_json::to_value(&data).map_err(ApiError::internal)?,
        )
    })
}

enum ReadFailure {
    /// Shown to the user.
    File(String),
    /// This server could not read it now (a deadline passed, a program missing): tried again
    /// later, then shown.
    Later(String),
    Server(ApiError),
}

impl From<ApiError> for ReadFailure {
    fn from(error: ApiError) -> Self {
        ReadFailure::Server(error)
    }
}

fn read_receipt(
    conn: &mut PgConnection,
    files: &dyn FileStore,
    settings: &OcrSettings,
    scratch: &std::path::Path,
    receipt: &Receipt,
) -> Result<(String, StoredReading), ReadFailure> {
    let file = files_db::of_receipt(conn, receipt.ledger_id, receipt.id)
        .map_err(ApiError::from)?
        .ok_or_else(|| ReadFailure::File("the receipt has no file".into()))?;
    let bytes = attachments::bytes_of(files, &file)?;
    let kind = file_type::sniff(&bytes).map_err(|e| ReadFailure::File(e.to_string()))?;
    let text = ocr::read_text(settings, kind, &bytes, scratch).map_err(|e| match e {
        OcrError::Unreadable(m) => ReadFailure::File(m),
        OcrError::Unavailable(m) => ReadFailure::Later(m),
    })?;
    // What PostgreSQL can store, and no more than a receipt holds.
    let mut text: String = text.chars().filter(|c| *c != '\0').collect();
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
        return Err(ReadFailure::File("no text was found on the receipt".into()));
    }
    let currency = predictions::ledger_currency(conn, receipt.ledger_id)?;
    let reading = receipt::read(&text, &currency);
    Ok((
        text.trim().to_owned(),
        with_categories(conn, receipt.ledger_id, reading)?,
    ))
}

/// The reading, with a suggested expense category for each item.
fn with_categories(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    reading: Reading,
) -> Result<StoredReading, ApiError> {
    let merchant = reading.merchant.as_ref().map(|m| m.value.clone());
    let texts: Vec<(&str, Option<&str>, Option<Decimal>)> = reading
        .items
        .iter()
        .map(|i| (i.description.as_str(), merchant.as_deref(), Some(i.amount)))
        .collect();
    let (suggestions, _) = if texts.is_empty() {
        (Vec::new(), String::new())
    } else {
        predictions::suggest_many(conn, ledger_id, &texts, Some("expense"))?
    };
    Ok(reading.map_items(|items| {
        items
            .into_iter()
            .zip(suggestions.into_iter().chain(std::iter::repeat(Vec::new())))
            .map(|(item, suggestions)| {
                let best = suggestions.into_iter().next();
                StoredItem {
                    description: item.description,
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                    amount: item.amount,
                    category_id: best.as_ref().map(|s| s.category_id),
                    category: best.as_ref().map(|s| s.name.clone()),
                    category_confidence: best.map(|s| s.probability),
                }
            })
            .collect()
    }))
}

/// An expense that may be what the receipt paid for, and how well it matches.
#[derive(Debug, Clone)]
pub struct Match {
    pub candidate: store::Candidate,
    pub score: f64,
    pub amount_is_total_less_tip: bool,
    pub days_apart: i64,
}

/// Expenses of the receipt's total (or total less tip) within 3 days of its date, not matched
/// to another receipt, best first.
pub fn matches(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<Vec<Match>, ApiError> {
    let receipt =
        store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("receipt"))?;
    let reading = settled(&receipt);
    let (Some(total), Some(date)) = (
        reading.total.map(|t| t.value),
        reading.date.map(|d| d.value),
    ) else {
        return Ok(Vec::new());
    };
    let tip = reading.tip.map(|t| t.value).filter(|t| *t > Decimal::ZERO);
    let mut amounts = vec![total];
    amounts.extend(tip.map(|t| total - t));
    let window = chrono::Days::new(3);
    let (Some(from), Some(to)) = (date.checked_sub_days(window), date.checked_add_days(window))
    else {
        return Ok(Vec::new());
    };
    let merchant = reading.merchant.map(|m| fold(&m.value)).unwrap_or_default();
    let currency = reading.currency.map(|c| c.value);
    let mut found: Vec<Match> = store::candidates(
        conn,
        caller.ledger.id,
        &amounts,
        from,
        to,
        currency.as_deref(),
    )?
    .into_iter()
    .filter(|c| Some(c.id) != receipt.transaction_id)
    .map(|candidate| {
        let days_apart = (candidate.date - date).num_days().abs();
        let less_tip = candidate.amount != total;
        let names = format!(
            "{} {}",
            candidate.merchant.as_deref().unwrap_or(""),
            candidate.description
        );
        let similarity = word_overlap(&merchant, &fold(&names));
        let score = 0.5 * (1.0 - days_apart as f64 / 4.0)
            + 0.35 * similarity
            + if less_tip { 0.05 } else { 0.15 };
        Match {
            candidate,
            score: (score * 1000.0).round() / 1000.0,
            amount_is_total_less_tip: less_tip,
            days_apart,
        }
    })
    .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(found)
}

/// The share of the shorter text's words (3 letters or more) found in the other.
fn word_overlap(a: &str, b: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return 0.0;
    }
    let hits = short
        .iter()
        .filter(|w| {
            long.iter()
                .any(|l| l.starts_with(w.as_str()) || w.starts_with(l.as_str()))
        })
        .count();
    hits as f64 / short.len() as f64
}

/// Where tax, tip and rounding (the total less the items) go when a receipt becomes a split
/// expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxHandling {
    /// Over the lines, in proportion to their amounts.
    Spread,
    /// In a line of its own, in `tax_category_id`.
    Category,
}

/// What `POST /receipts/{id}/transaction` asks for: `wallet_id` to record a new expense, or
/// `transaction_id` to match one already recorded.
#[derive(Debug, Clone)]
pub struct ToLedger {
    pub wallet_id: Option<Uuid>,
    pub transaction_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub tax: TaxHandling,
    pub tax_category_id: Option<Uuid>,
    pub description: Option<String>,
}

/// Every id the request names must be one of the ledger's (404 before anything else is said
/// about the request, so nothing tells another ledger's ids from missing ones).
fn check_references(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    request: &ToLedger,
) -> Result<(), ApiError> {
    if let Some(id) = request.transaction_id {
        if !files_db::transaction_exists(conn, ledger_id, id)? {
            return Err(ApiError::not_found("transaction"));
        }
    }
    if let Some(id) = request.wallet_id {
        if crate::db::wallets::find(conn, ledger_id, id)?.is_none() {
            return Err(ApiError::not_found("wallet"));
        }
    }
    let categories = expense_categories(conn, ledger_id)?;
    for id in [request.category_id, request.tax_category_id]
        .into_iter()
        .flatten()
    {
        if !categories.contains_key(&id) {
            return Err(ApiError::not_found("category"));
        }
    }
    Ok(())
}

/// Records the receipt's expense, or matches it to one already recorded; the receipt's image
/// is then among the transaction's attachments. Returns the receipt and the new transaction.
pub fn to_ledger(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    request: ToLedger,
) -> Result<(ReceiptView, Option<TransactionView>), ApiError> {
    crate::db::ledger_transaction(conn, caller.ledger.id, |conn| {
        let receipt = store::lock(conn, caller.ledger.id, id)?
            .ok_or_else(|| ApiError::not_found("receipt"))?;
        check_references(conn, caller.ledger.id, &request)?;
        if request.wallet_id.is_some() == request.transaction_id.is_some() {
            return Err(ApiError::invalid_field(
                "wallet_id",
                "send wallet_id to record a new expense, or transaction_id to match one",
            ));
        }
        if receipt.status != "parsed" {
            return Err(ApiError::Conflict {
                code: "receipt_not_parsed",
                message: format!(
                    "The receipt is {}: only a parsed receipt becomes a transaction.",
                    receipt.status
                ),
            });
        }
        if let Some(linked) = receipt.transaction_id {
            return Err(ApiError::Conflict {
                code: "receipt_matched",
                message: format!("The receipt is already matched to transaction {linked}."),
            });
        }
        let (transaction_id, created) = match (request.transaction_id, request.wallet_id) {
            (Some(transaction_id), _) => {
                matchable(conn, caller.ledger.id, &receipt, transaction_id)?;
                (transaction_id, None)
            }
            (None, wallet_id) => {
                let wallet_id = wallet_id.ok_or_else(|| ApiError::not_found("wallet"))?;
                let new = new_expense(
                    &settled(&receipt),
                    wallet_id,
                    request.category_id,
                    request.tax,
                    request.tax_category_id,
                    request.description,
                    caller.today(),
                )?;
                let view = ledger::create(conn, caller, new)?;
                (view.id, Some(view))
            }
        };
        let receipt = store::link(conn, caller.ledger.id, id, transaction_id).map_err(|e| {
            // Another receipt matched the same transaction at the same moment.
            match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => already_matched(transaction_id),
                other => other.into(),
            }
        })?;
        let file = files_db::of_receipt(conn, caller.ledger.id, id)?;
        Ok((ReceiptView { receipt, file }, created))
    })
}

fn already_matched(transaction_id: Uuid) -> ApiError {
    ApiError::Conflict {
        code: "transaction_has_receipt",
        message: format!("Transaction {transaction_id} is matched to another receipt already."),
    }
}

/// A receipt is matched to an expense (not income or a transfer), in its own currency when it
/// names one, that no other receipt matched: one purchase, one receipt.
fn matchable(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    receipt: &Receipt,
    transaction_id: Uuid,
) -> Result<(), ApiError> {
    let target = store::match_target(conn, ledger_id, transaction_id)?
        .ok_or_else(|| ApiError::not_found("transaction"))?;
    if target.transaction_type != "expense" {
        return Err(ApiError::invalid_field(
            "transaction_id",
            format!(
                "is {} {}: a receipt matches an expense",
                article(&target.transaction_type),
                target.transaction_type
            ),
        ));
    }
    if let Some(currency) = settled(receipt).currency.map(|c| c.value) {
        if currency != target.currency {
            return Err(ApiError::invalid_field(
                "transaction_id",
                format!("is in {}; the receipt is in {currency}", target.currency),
            ));
        }
    }
    match target.receipt_id {
        Some(other) if other != receipt.id => Err(already_matched(transaction_id)),
        _ => Ok(()),
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The expense a receipt describes: its total, on its date, from its merchant; split by the
/// items' categories when they differ.
fn new_expense(
    reading: &StoredReading,
    wallet_id: Uuid,
    category_id: Option<Uuid>,
    tax: TaxHandling,
    tax_category_id: Option<Uuid>,
    description: Option<String>,
    today: NaiveDate,
) -> Result<NewRequest, ApiError> {
    let total = reading
        .total
        .as_ref()
        .map(|t| t.value)
        .filter(|t| *t > Decimal::ZERO)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "total",
                "the receipt has no total: correct it first (PATCH)",
            )
        })?;
    let currency = reading.currency.as_ref().map(|c| c.value.clone());
    let minor = minor_units(currency.as_deref().unwrap_or("USD"));
    let merchant = reading.merchant.as_ref().map(|m| m.value.clone());
    let splits = match category_id {
        Some(_) => Vec::new(),
        None => split_by_category(&reading.items, total, tax, tax_category_id, minor)?,
    };
    // One category for all: the one asked for, else the items' only one.
    let single = category_id.or_else(|| {
        let mut categories = reading.items.iter().filter_map(|i| i.category_id);
        let first = categories.next()?;
        (splits.is_empty() && categories.all(|c| c == first)).then_some(first)
    });
    let description = description
        .or_else(|| merchant.clone())
        .unwrap_or_else(|| "Receipt".to_owned());
    Ok(NewRequest {
        draft: Draft {
            transaction_type: TransactionType::Expense,
            amount: total,
            category_id: if splits.is_empty() { single } else { None },
            wallet_id,
            to_wallet_id: None,
            splits,
        },
        currency,
        date: Some(reading.date.as_ref().map_or(today, |d| d.value)),
        description,
        merchant,
        notes: None,
        tags: vec!["receipt".to_owned()],
        auto_categorize: category_id.is_none(),
        suggestion_id: None,
        tax: Tax {
            rate: None,
            deductible: false,
        },
        // The client chose to record it rather than attach it to a match
        // (`GET /receipts/{id}/matches` offers those).
        allow_duplicate: true,
    })
}

/// Splits by the items' categories (when there are two or more), the difference between the
/// total and the items (tax, tip, rounding, discounts) spread over them in proportion or put
/// in a line of its own.
fn split_by_category(
    items: &[StoredItem],
    total: Decimal,
    tax: TaxHandling,
    tax_category_id: Option<Uuid>,
    minor: u32,
) -> Result<Vec<SplitDraft>, ApiError> {
    let mut by_category: BTreeMap<Uuid, Decimal> = BTreeMap::new();
    for item in items {
        let Some(category) = item.category_id else {
            return Ok(Vec::new());
        };
        *by_category.entry(category).or_default() += item.amount;
    }
    let items_sum: Decimal = by_category.values().copied().sum();
    if by_category.len() < 2 || items_sum <= Decimal::ZERO {
        return Ok(Vec::new());
    }
    let rest = total - items_sum;
    let mut splits: Vec<SplitDraft> = by_category
        .into_iter()
        .map(|(category_id, amount)| SplitDraft {
            category_id,
            amount,
            note: None,
        })
        .collect();
    if rest != Decimal::ZERO {
        match (tax, tax_category_id) {
            (TaxHandling::Category, Some(category_id)) if rest > Decimal::ZERO => {
                match splits.iter_mut().find(|s| s.category_id == category_id) {
                    Some(split) => split.amount += rest,
                    None => splits.push(SplitDraft {
                        category_id,
                        amount: rest,
                        note: Some("Tax, tip and rounding".into()),
                    }),
                }
            }
            (TaxHandling::Category, None) => {
                return Err(ApiError::invalid_field(
                    "tax_category_id",
                    "is required when tax goes in a category of its own",
                ));
            }
            _ => {
                let mut given = Decimal::ZERO;
                let last = splits.len() - 1;
                for (i, split) in splits.iter_mut().enumerate() {
                    let share = if i == last {
                        rest - given
                    } else {
                        // Divided first: the product of two large amounts could overflow.
                        (split.amount / items_sum * rest).round_dp(minor)
                    };
                    given += share;
                    split.amount += share;
                }
            }
        }
    }
    if splits.iter().any(|s| s.amount <= Decimal::ZERO) {
        return Ok(Vec::new());
    }
    Ok(splits)
}

/// A receipt as JSON for its DTO: the settled fields.
pub fn fields_json(receipt: &Receipt) -> Value {
    let reading = settled(receipt);
    serde_json::to_value(&reading).unwrap_or_else(|_| json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(category: Option<Uuid>, amount: &str) -> StoredItem {
        StoredItem {
            description: "x".into(),
            quantity: Decimal::ONE,
            unit_price: None,
            amount: amount.parse().unwrap(),
            category_id: category,
            category: None,
            category_confidence: None,
        }
    }

    #[test]
    fn tax_is_spread_over_the_categories_to_the_cent() {
        let (food, home) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let items = [
            item(Some(food), "10.00"),
            item(Some(home), "20.00"),
            item(Some(food), "5.00"),
        ];
        let splits = split_by_category(
            &items,
            "38.01".parse().unwrap(),
            TaxHandling::Spread,
            None,
            2,
        )
        .unwrap();
        let total: Decimal = splits.iter().map(|s| s.amount).sum();
        assert_eq!(total, "38.01".parse::<Decimal>().unwrap());
        assert_eq!(splits[0].amount, "16.29".parse::<Decimal>().unwrap());
        let splits = split_by_category(
            &items,
            "38.01".parse().unwrap(),
            TaxHandling::Category,
            Some(Uuid::from_u128(3)),
            2,
        )
        .unwrap();
        assert_eq!(splits.len(), 3);
        assert_eq!(splits[2].amount, "3.01".parse::<Decimal>().unwrap());
        assert!(split_by_category(
            &items,
            "38.01".parse().unwrap(),
            TaxHandling::Category,
            None,
            2
        )
        .is_err());
    }

    #[test]
    fn one_category_or_an_uncategorised_line_makes_no_splits() {
        let food = Uuid::from_u128(1);
        let items = [item(Some(food), "10.00"), item(None, "20.00")];
        assert!(
            split_by_category(&items, "30".parse().unwrap(), TaxHandling::Spread, None, 2)
                .unwrap()
                .is_empty()
        );
        let items = [item(Some(food), "10.00"), item(Some(food), "20.00")];
        assert!(
            split_by_category(&items, "30".parse().unwrap(), TaxHandling::Spread, None, 2)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn merchants_match_by_their_words() {
        assert_eq!(
            word_overlap("blue bottle cafe", "blue bottle coffee co"),
            2.0 / 3.0
        );
        assert_eq!(word_overlap("", "anything"), 0.0);
    }
}
