use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::notifications::Notification;
use crate::domain::notification::Priority;

/// Something the server noticed: a budget threshold or overrun, a bill due or overdue, unusual
/// spending.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: Uuid,
    /// `budget_threshold`, `budget_exceeded`, `bill_due`, `bill_overdue`, `unusual_spending`,
    /// `webhook_disabled`, `announcement`, `goal_reached` or `goal_behind`.
    #[serde(rename = "type")]
    #[schema(example = "budget_threshold")]
    pub notification_type: String,
    pub title: String,
    pub body: String,
    /// What it is about, e.g. `{"budget_id": ...}` or `{"bill_id": ...}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// `low`, `normal`, `high` or `urgent` (overruns, overdue bills, unusual spending and a
    /// webhook turned off are `high`; announcements carry their own).
    pub priority: Priority,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// The order of a notification list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotificationSort {
    /// Newest first (the default).
    Newest,
    /// Most urgent first, then newest.
    Priority,
}

impl From<Notification> for NotificationResponse {
    fn from(n: Notification) -> Self {
        NotificationResponse {
            id: n.id,
            notification_type: n.notification_type,
            title: n.title,
            body: n.body,
            data: n.data,
            priority: Priority::parse(&n.priority).unwrap_or(Priority::Normal),
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
    /// `newest` (default) or `priority` (most urgent first, then newest).
    pub sort: Option<NotificationSort>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many notifications this call marked read.
    pub marked: usize,
}

/// Local times `HH:MM` in the account's time zone; no mail from `start` until `end` (across
/// midnight when `start` is later, e.g. 22:00 to 07:00).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursBody {
    #[schema(example = "22:00")]
    pub start: String,
    #[schema(example = "07:00")]
    pub end: String,
}

/// Which notifications also come by email, and how.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email_types": ["budget_exceeded", "bill_overdue", "announcement"], "email_mode": "immediate", "quiet_hours": {"start": "22:00", "end": "07:00"}}))]
pub struct NotificationPreferencesBody {
    /// Notification types to mail (empty: none): `budget_threshold`, `budget_exceeded`,
    /// `bill_due`, `bill_overdue`, `unusual_spending`, `webhook_disabled`, `announcement`, `goal_reached`, `goal_behind`.
    /// A notification of a shared ledger goes to each member who chose its type.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub email_types: Vec<String>,
    /// `immediate` (one mail per notification, at the next background run) or `daily_digest`
    /// (one mail a day, from 08:00 local time). Default `immediate`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "immediate")]
    pub email_mode: Option<EmailMode>,
    /// `null`: mail at any hour.
    #[serde(default)]
    pub quiet_hours: Option<QuietHoursBody>,
}

pub use crate::domain::notification::EmailMode;
