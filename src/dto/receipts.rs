//! `/api/v1/receipts` and `/api/v1/attachments`: receipt images read into expenses, and files
//! attached to transactions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::attachments::Attachment;
use crate::domain::money::Money;
use crate::dto::transactions::TransactionResponse;
use crate::services::caller::Caller;
use crate::services::receipts::{self, ReceiptView, StoredItem, TaxHandling};

/// A form with the file, for `multipart/form-data` uploads.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the form's shape; the handler reads the part itself.
pub struct FileForm {
    /// The file: JPEG, PNG, WebP, HEIC or PDF, up to 10 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `?file_name=` for a file sent as the body.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileNameQuery {
    /// The file's name, kept for downloads (a form part's own name wins).
    pub file_name: Option<String>,
}

/// A stored file.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: Uuid,
    /// The transaction it is attached to (`null` for a receipt's image).
    pub transaction_id: Option<Uuid>,
    /// The receipt it is the image of.
    pub receipt_id: Option<Uuid>,
    /// The name it was uploaded with (its path dropped).
    #[schema(example = "receipt.jpg")]
    pub file_name: Option<String>,
    /// Told from the file's bytes: `image/jpeg`, `image/png`, `image/webp`, `image/heic` or
    /// `application/pdf`.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub size_bytes: i64,
    /// The SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Where to download it.
    #[schema(example = "/api/v1/attachments/8d1f7f0e-9a57-4c0b-a1de-2f1a4c3b5e6d")]
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl AttachmentResponse {
    /// The file as `caller` reaches it (its `url` in the ledger they work in).
    pub fn new(row: Attachment, caller: &Caller) -> Self {
        AttachmentResponse {
            url: caller.path(&format!("attachments/{}", row.id)),
            id: row.id,
            transaction_id: row.transaction_id,
            receipt_id: row.receipt_id,
            file_name: row.file_name,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            created_at: row.created_at,
        }
    }
}

/// A field read off a receipt: its value and how sure the reading is (1 for a field the user
/// corrected).
#[derive(Debug, Serialize, ToSchema)]
pub struct TextField {
    pub value: String,
    #[schema(example = 0.85)]
    pub confidence: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DateField {
    pub value: NaiveDate,
    #[schema(example = 0.9)]
    pub confidence: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AmountField {
    pub value: Money,
    #[schema(example = 0.97)]
    pub confidence: f32,
}

/// A line of what was bought.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReceiptItem {
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Latte", min_length = 1, max_length = 200)]
    pub description: String,
    #[schema(example = 2)]
    pub quantity: Money,
    pub unit_price: Option<Money>,
    #[schema(example = 9.0)]
    pub amount: Money,
    /// The suggested (or, once corrected, the chosen) expense category.
    pub category_id: Option<Uuid>,
    /// Its name (ignored on input).
    #[serde(default, skip_deserializing)]
    pub category: Option<String>,
    /// How sure the categoriser is (1 for the user's choice; ignored on input).
    #[serde(default, skip_deserializing)]
    pub category_confidence: Option<f64>,
}

impl From<StoredItem> for ReceiptItem {
    fn from(item: StoredItem) -> Self {
        ReceiptItem {
            description: item.description,
            quantity: Money(item.quantity),
            unit_price: item.unit_price.map(Money),
            amount: Money(item.amount),
            category_id: item.category_id,
            category: item.category,
            category_confidence: item.category_confidence,
        }
    }
}

impl From<ReceiptItem> for StoredItem {
    fn from(item: ReceiptItem) -> Self {
        StoredItem {
            description: item.description.trim().to_owned(),
            quantity: item.quantity.0,
            unit_price: item.unit_price.map(|m| m.0),
            amount: item.amount.0,
            category_id: item.category_id,
            category: None,
            category_confidence: None,
        }
    }
}

/// The receipt's fields as they stand: the reading, with the user's corrections laid over it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParsedReceipt {
    pub merchant: Option<TextField>,
    pub date: Option<DateField>,
    pub total: Option<AmountField>,
    pub subtotal: Option<AmountField>,
    pub tax: Option<AmountField>,
    /// A tip, gratuity or service charge.
    pub tip: Option<AmountField>,
    /// ISO 4217, from the receipt's symbols and codes, else the ledger's.
    pub currency: Option<TextField>,
    pub items: Vec<ReceiptItem>,
    /// How sure the reading is of the items as a whole (high when they add up to the subtotal).
    pub items_confidence: f32,
}

/// A receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResponse {
    pub id: Uuid,
    /// `processing` (queued or being read), `parsed`, or `failed` (see `failure`).
    #[schema(example = "parsed")]
    pub status: String,
    /// Why the receipt could not be read.
    pub failure: Option<String>,
    /// `null` until the receipt is read.
    pub parsed: Option<ParsedReceipt>,
    /// The fields the user corrected, as sent (`PATCH`).
    #[schema(value_type = Object)]
    pub corrections: serde_json::Value,
    /// The text OCR (or the PDF's text layer) gave.
    pub text: Option<String>,
    /// The expense the receipt was recorded as, or matched to.
    pub transaction_id: Option<Uuid>,
    /// The receipt's image or PDF.
    pub file: Option<AttachmentResponse>,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl ReceiptResponse {
    /// The receipt as `caller` reaches it (its file's `url` in the ledger they work in).
    pub fn new(view: ReceiptView, caller: &Caller) -> Self {
        let receipt = view.receipt;
        let parsed = (receipt.status == "parsed").then(|| {
            let r = receipts::settled(&receipt);
            let amount = |f: Option<crate::domain::receipt::Field<rust_decimal::Decimal>>| {
                f.map(|f| AmountField {
                    value: Money(f.value),
                    confidence: f.confidence,
                })
            };
            let text = |f: Option<crate::domain::receipt::Field<String>>| {
                f.map(|f| TextField {
                    value: f.value,
                    confidence: f.confidence,
                })
            };
            ParsedReceipt {
                merchant: text(r.merchant),
                date: r.date.map(|f| DateField {
                    value: f.value,
                    confidence: f.confidence,
                }),
                total: amount(r.total),
                subtotal: amount(r.subtotal),
                tax: amount(r.tax),
                tip: amount(r.tip),
                currency: text(r.currency),
                items: r.items.into_iter().map(ReceiptItem::from).collect(),
                items_confidence: r.items_confidence,
            }
        });
        ReceiptResponse {
            id: receipt.id,
            status: receipt.status,
            failure: receipt.failure,
            parsed,
            corrections: receipt.corrections,
            text: receipt.ocr_text,
            transaction_id: receipt.transaction_id,
            file: view.file.map(|file| AttachmentResponse::new(file, caller)),
            created_at: receipt.created_at,
            processed_at: receipt.processed_at,
            updated_at: receipt.updated_at,
        }
    }
}

/// Corrections: each field sent replaces what was read. `items`, when sent, replaces the list.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"merchant": "Blue Bottle Coffee", "total": 21.49, "date": "2026-03-14",
    "items": [{"description": "Latte", "quantity": 2, "amount": 9.0, "category_id": "6f1c2a52-1d7e-4a53-9d55-2f0a3c2b9e10"}]}))]
pub struct CorrectReceiptRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub merchant: Option<String>,
    pub date: Option<NaiveDate>,
    pub total: Option<Money>,
    pub subtotal: Option<Money>,
    pub tax: Option<Money>,
    pub tip: Option<Money>,
    /// ISO 4217.
    #[validate(length(equal = 3))]
    #[schema(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
    #[validate(length(max = 200), nested)]
    #[schema(max_items = 200)]
    pub items: Option<Vec<ReceiptItem>>,
}

/// Record the receipt as a new expense (`wallet_id`), or match it to one already recorded
/// (`transaction_id`, e.g. one of `GET /receipts/{id}/matches`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"wallet_id": "2b0c8f0e-5d6a-4f1e-9a7b-3c2d1e0f9a8b", "tax": "spread"}))]
pub struct ReceiptToTransactionRequest {
    /// The wallet the new expense is paid from.
    pub wallet_id: Option<Uuid>,
    /// Match to this expense instead of recording a new one.
    pub transaction_id: Option<Uuid>,
    /// One category for the whole expense; without it the expense is split by the items'
    /// categories (when they differ), or gets the items' one category, or a confident
    /// suggestion.
    pub category_id: Option<Uuid>,
    /// Where the difference between the total and the items (tax, tip, rounding) goes:
    /// `spread` over the lines in proportion (default), or `category`: a line of its own in
    /// `tax_category_id`.
    pub tax: Option<TaxHandling>,
    pub tax_category_id: Option<Uuid>,
    /// Default: the merchant.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub description: Option<String>,
}

/// The receipt, and the expense it was recorded as (`null` when it was matched).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptTransactionResponse {
    pub receipt: ReceiptResponse,
    pub transaction: Option<TransactionResponse>,
}

/// An expense the receipt may be the receipt of.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptMatch {
    pub transaction_id: Uuid,
    pub amount: Money,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
    /// 0 to 1: closer dates, a merchant of the same words and the exact total score higher.
    #[schema(example = 0.92)]
    pub score: f64,
    /// The expense is the receipt's total less its tip (a tip added after the card was read).
    pub amount_is_total_less_tip: bool,
    pub days_apart: i64,
}

impl From<receipts::Match> for ReceiptMatch {
    fn from(m: receipts::Match) -> Self {
        ReceiptMatch {
            transaction_id: m.candidate.id,
            amount: Money(m.candidate.amount),
            date: m.candidate.date,
            description: m.candidate.description,
            merchant: m.candidate.merchant,
            score: m.score,
            amount_is_total_less_tip: m.amount_is_total_less_tip,
            days_apart: m.days_apart,
        }
    }
}

/// `GET /receipts` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// Text in the merchant or anywhere in what was read.
    pub q: Option<String>,
    /// Text in the merchant.
    pub merchant: Option<String>,
    /// Receipts dated on or after.
    pub from: Option<NaiveDate>,
    /// Receipts dated on or before.
    pub to: Option<NaiveDate>,
    /// `processing`, `parsed` or `failed`.
    pub status: Option<ReceiptStatus>,
    /// `true`: only receipts not yet recorded or matched; `false`: only those that are.
    pub unmatched: Option<bool>,
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Processing,
    Parsed,
    Failed,
}

impl ReceiptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Processing => "processing",
            ReceiptStatus::Parsed => "parsed",
            ReceiptStatus::Failed => "failed",
        }
    }
}
