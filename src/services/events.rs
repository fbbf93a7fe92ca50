//! The event log's kinds and what the application appends to it itself. Changes to
//! transactions (`transaction_update`, `balance_update`) and every notification (`notification`
//! and its kind: `budget_alert`, `bill_reminder`, `unusual_spending`) are appended by the
//! database in the writing statement (migration `000011`); the rest is appended here, always
//! inside the transaction whose change it announces.

use diesel::PgConnection;
use serde_json::Value;
use uuid::Uuid;

use crate::db::events;
use crate::error::ApiError;

/// Every event type of the log (the schema's check constraint holds the same list).
pub const TYPES: &[&str] = &[
    "transaction_update",
    "balance_update",
    "budget_alert",
    "bill_reminder",
    "bill_paid",
    "unusual_spending",
    "notification",
    "import_finished",
    "receipt_processed",
];

/// An event the application appends (the database appends the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bill's due date was paid (by the user, or by autopay).
    BillPaid,
    /// An import stored its lines.
    ImportFinished,
    /// A receipt's reading ended: read, or failed.
    ReceiptProcessed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BillPaid => "bill_paid",
            Kind::ImportFinished => "import_finished",
            Kind::ReceiptProcessed => "receipt_processed",
        }
    }
}

/// Appends an event for `owner`, in the caller's transaction.
pub fn append(
    conn: &mut PgConnection,
    owner: Uuid,
    kind: Kind,
    resource_id: Option<Uuid>,
    payload: Value,
) -> Result<(), ApiError> {
    Ok(events::append(
        conn,
        owner,
        kind.as_str(),
        resource_id,
        &payload,
    )?)
}
