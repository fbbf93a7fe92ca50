use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::notifications::Notification;

/// Something the server noticed: a budget threshold or overrun, a bill due or overdue, unusual
/// spending.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: Uuid,
    /// `budget_threshold`, `budget_exceeded`, `bill_due`, `bill_overdue`, `unusual_spending` or
    /// `webhook_disabled`.
    #[serde(rename = "type")]
    #[schema(example = "budget_threshold")]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    /// What it is about, e.g. `{"budget_id": ...}` or `{"bill_id": ...}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationResponse {
    fn from(n: Notification) -> Self {
        NotificationResponse {
            id: n.id,
            notification_type: n.notification_type,
            title: n.title,
            body: n.body,
            data: n.data,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationListQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Only unread ones.
    pub unread: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many notifications this call marked read.
    pub marked: usize,
}
