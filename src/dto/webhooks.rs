//! `/api/v1/webhooks`: endpoints that receive a ledger's events, and their deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::webhooks::{Delivery, Webhook};
use crate::dto::events::EventType;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/finai", "event_types": ["transaction_update", "budget_alert"], "description": "Bookkeeping sync"}))]
pub struct CreateWebhookRequest {
    /// An http(s) URL on the public internet (loopback, private and link-local addresses are
    /// refused unless the operator allows them).
    #[validate(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// The event types to send (as on the event stream); absent or empty: all of them.
    #[schema(value_type = Option<Vec<EventType>>)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": true}))]
pub struct UpdateWebhookRequest {
    #[validate(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub description: Option<Option<String>>,
    /// Empty: all types.
    #[schema(value_type = Option<Vec<EventType>>)]
    pub event_types: Option<Vec<String>>,
    /// `false` stops deliveries; `true` starts them again (from now: events in between are
    /// not sent) and clears the failure record.
    pub active: Option<bool>,
}

/// A webhook; its secret is shown once, when it is created.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: Uuid,
    pub ledger_id: Uuid,
    #[schema(example = "https://hooks.example.com/finai")]
    pub url: String,
    pub description: Option<String>,
    /// Empty: every type.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    pub active: bool,
    /// Why it is off: `failing for a day`, or `disabled by a member`.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (a day of it turns the webhook off).
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookResponse {
    fn from(w: Webhook) -> Self {
        WebhookResponse {
            id: w.id,
            ledger_id: w.ledger_id,
            url: w.url,
            description: w.description,
            event_types: w.event_types,
            active: w.active,
            disabled_reason: w.disabled_reason,
            failing_since: w.failing_since,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A new webhook with its signing secret: store it now, it is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhookResponse {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// Verifies `FinAI-Signature` (README, Webhooks).
    #[schema(example = "whsec_3q2-8yJ0x...")]
    pub secret: String,
}

/// One event (or ping) sent, or being sent, to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// Also sent as `FinAI-Delivery`, the same on every retry.
    pub id: Uuid,
    /// The event's id (`null` for a ping).
    pub event_id: Option<Uuid>,
    #[schema(example = "transaction_update")]
    pub event_type: String,
    /// `pending` (waiting for its next attempt), `succeeded` or `failed` (given up).
    pub status: String,
    pub attempts: i32,
    /// The receiver's HTTP status at the last attempt.
    pub response_status: Option<i32>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// How long the last attempt took.
    pub latency_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        let pending = d.status == "pending";
        DeliveryResponse {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            error: d.error,
            latency_ms: d.latency_ms,
            created_at: d.created_at,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
        }
    }
}
