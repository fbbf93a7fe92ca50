//! The event stream's wire format (`/api/v1/events/ws` and `/api/v1/events/stream`): the
//! frames the server sends, the commands a WebSocket client may send, and what each event type
//! carries in `data`. Every frame is one JSON object whose `type` names it.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Where to start and what to receive, for either transport.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A single-use ticket from `POST /api/v1/events/ticket`, for clients that cannot send an
    /// `Authorization` header (a browser's `WebSocket` or `EventSource`).
    pub ticket: Option<String>,
    /// Replay the events after this cursor first (the `cursor` of `connected`, or the `seq` of
    /// the last event received). For SSE, `Last-Event-ID` does the same and wins.
    #[param(example = "1042")]
    pub cursor: Option<String>,
    /// Only these event types, comma-separated (default: all).
    #[param(example = "transaction_update,balance_update")]
    pub types: Option<String>,
    /// Only events about these wallets, comma-separated ids (events about no wallet, such as
    /// budget alerts, still come).
    pub wallet_ids: Option<String>,
}

/// `POST /events/ticket`: open a stream with `?ticket=` within 30 seconds, once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
    /// The ledger whose events the ticket opens.
    pub ledger_id: Uuid,
}

/// A time as events carry it on every channel (streams and webhook bodies alike):
/// `2026-03-10T08:15:30.123456Z`.
pub fn event_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn rfc3339_micros<S: serde::Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&event_time(time))
}

/// One event of the log. `seq` increases along a ledger's log; resume with the last one seen.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventFrame {
    pub id: Uuid,
    #[schema(example = 1042)]
    pub seq: i64,
    /// `transaction_update`, `balance_update`, `budget_alert`, `bill_reminder`, `bill_paid`,
    /// `unusual_spending`, `notification`, `import_finished` or `receipt_processed`; `data` is
    /// the matching `...Data` schema.
    #[serde(rename = "type")]
    #[schema(example = "transaction_update")]
    pub event_type: String,
    /// To the microsecond, in UTC, as webhooks carry it.
    #[serde(serialize_with = "rfc3339_micros")]
    pub occurred_at: DateTime<Utc>,
    pub ledger_id: Uuid,
    #[schema(value_type = Object)]
    pub data: Value,
}

/// A frame that is not an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlFrame {
    /// The first frame: the stream is open at `cursor` (events after it follow as they happen).
    Connected {
        #[schema(example = "1042")]
        cursor: String,
        ledger_id: Uuid,
        /// How often the server pings; a WebSocket silent for twice as long is closed.
        heartbeat_seconds: u64,
    },
    /// The filter now in force (`null`: everything).
    Subscribed {
        types: Option<Vec<String>>,
        wallet_ids: Option<Vec<Uuid>>,
    },
    /// The cursor is older than the log keeps (30 days): fetch the state afresh (`GET /sync`),
    /// then carry on; the stream continues from `cursor`.
    SyncRequired {
        #[schema(example = "1042")]
        cursor: String,
        message: String,
    },
    /// A command was refused; the stream stays open. Codes: `invalid_frame`,
    /// `invalid_cursor`, `unknown_event_type`, `unknown_wallet` (a `wallet_ids` entry that is not
    /// the ledger's).
    Error { code: String, message: String },
    /// The answer to a `ping` command.
    Pong,
}

/// The event types a client may name (a webhook's, a stream's filter): the names of the
/// events' `type`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum EventType {
    TransactionUpdate,
    BalanceUpdate,
    BudgetAlert,
    BillReminder,
    BillPaid,
    UnusualSpending,
    Notification,
    ImportFinished,
    ReceiptProcessed,
}

/// What a WebSocket client may send (JSON text frames).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Receive only these event types and events about these wallets (`null` or absent:
    /// all). Replaces the previous filter.
    Subscribe {
        #[serde(default)]
        #[schema(value_type = Option<Vec<EventType>>)]
        types: Option<Vec<String>>,
        #[serde(default)]
        wallet_ids: Option<Vec<Uuid>>,
    },
    /// Replay the events after `cursor`, then go on live.
    Resume {
        #[schema(example = "1042")]
        cursor: String,
    },
    /// Answered with `pong` (for clients that cannot send WebSocket pings).
    Ping,
}

/// `transaction_update`: a transaction was created, updated or deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionUpdateData {
    /// `created`, `updated` or `deleted`.
    pub action: String,
    pub id: Uuid,
    /// `expense`, `income` or `transfer`.
    #[serde(rename = "type")]
    pub transaction_type: String,
    /// Absent when deleted.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub date: Option<NaiveDate>,
    pub description: Option<String>,
    pub merchant: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub change_seq: Option<i64>,
    /// `updated` only, when the transaction moved to other wallets: the wallet it left (a
    /// wallet filter passes the event to those watching either).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_wallet_id: Option<Uuid>,
    /// `updated` only, when the transaction moved to other wallets: the receiving wallet it
    /// had (null when it was not a transfer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_to_wallet_id: Option<Uuid>,
}

/// `balance_update`: a wallet's balance after a write that moved its money.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceUpdateData {
    pub wallet_id: Uuid,
    #[schema(value_type = f64)]
    pub balance: Decimal,
}

/// `notification`: a notification was created (listed by `GET /notifications`; the event
/// carries what a client shows).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationEventData {
    pub id: Uuid,
    /// `budget_threshold`, `budget_exceeded`, `bill_due`, `bill_overdue`, `unusual_spending`,
    /// `webhook_disabled`, `announcement`, `goal_reached`, `goal_behind`.
    #[serde(rename = "type")]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub data: Value,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: crate::domain::notification::Priority,
}

/// `budget_alert`, `bill_reminder`, `unusual_spending`: the alert's own fields (those of the
/// notification's `data`: `budget_id`, `bill_id` or `transaction_id`, figures), plus its
/// notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertData {
    /// The notification type (`budget_threshold`, `budget_exceeded`, `bill_due`,
    /// `bill_overdue`, `unusual_spending`).
    pub kind: String,
    pub notification_id: Uuid,
    pub budget_id: Option<Uuid>,
    pub bill_id: Option<Uuid>,
    pub transaction_id: Option<Uuid>,
}

/// `bill_paid`: a bill's due date was paid (by a member, or by autopay).
#[derive(Debug, Serialize, ToSchema)]
pub struct BillPaidData {
    pub bill_id: Uuid,
    pub due_date: NaiveDate,
    pub paid_on: NaiveDate,
    #[schema(value_type = f64)]
    pub amount: Decimal,
    pub currency: String,
    pub transaction_id: Uuid,
    pub next_due_date: NaiveDate,
}

/// `receipt_processed`: a receipt's reading ended (`POST /receipts` answered 202): `parsed`, with
/// the fields as read, or `failed`, with the reason. A client shows the receipt
/// (`GET /receipts/{receipt_id}`) when it arrives instead of polling.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptProcessedData {
    pub receipt_id: Uuid,
    /// `parsed` or `failed`.
    pub status: String,
    /// Why it could not be read (`failed` only).
    pub failure: Option<String>,
    pub merchant: Option<String>,
    pub date: Option<NaiveDate>,
    #[schema(value_type = Option<f64>)]
    pub total: Option<crate::domain::money::Money>,
    pub currency: Option<String>,
}

/// `import_finished`: an import stored its lines, or a background import failed. It is the one
/// event of an import's rows (no `transaction_update` for each): a client reloads the wallet,
/// or the batch (`GET /imports/{import_id}`), when it arrives.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportFinishedData {
    /// The batch (`null` for the old `POST /transactions/import`).
    pub import_id: Option<Uuid>,
    pub format: String,
    /// The batch's status now: `pending` (some rows wait for review), `completed`, or `failed`
    /// (a background import stored nothing: see `failure`).
    #[schema(example = "pending")]
    pub status: String,
    pub created: u64,
    pub duplicates: u64,
    pub possible_duplicates: u64,
    /// Entries refused.
    pub failed: u64,
    /// Why a background import failed (as a request would have been refused), else `null`.
    pub failure: Option<String>,
}

#[cfg(test)]
mod event_type_tests {
    use utoipa::PartialSchema;

    #[test]
    fn the_event_types_the_spec_names_are_the_events() {
        let schema = serde_json::to_value(super::EventType::schema()).unwrap();
        assert_eq!(
            schema["enum"],
            serde_json::json!(crate::services::events::TYPES)
        );
    }
}
