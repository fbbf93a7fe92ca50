use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::audit::{Action, Entry};
use validator::Validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyCount {
    pub date: NaiveDate,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemStats {
    /// Accounts per role, e.g. `{"admin": 1, "user": 42}`.
    pub users_by_role: BTreeMap<String, i64>,
    /// Accounts per status.
    pub users_by_status: BTreeMap<String, i64>,
    /// Sign-ups per UTC day over the last 30 days, oldest first, zeros included.
    pub signups_per_day: Vec<DailyCount>,
    /// Rows in the main tables.
    pub row_counts: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    /// The account concerned (null once that account is deleted).
    pub user_id: Option<Uuid>,
    /// Who acted (an admin, or the user).
    pub actor_id: Option<Uuid>,
    #[schema(example = "login_failed")]
    pub action: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<Entry> for AuditEntry {
    fn from(entry: Entry) -> Self {
        AuditEntry {
            id: entry.id,
            user_id: entry.user_id,
            actor_id: entry.actor_id,
            action: entry.action,
            ip: entry.ip,
            request_id: entry.request_id,
            details: entry.details,
            created_at: entry.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Only events about this account.
    pub user_id: Option<Uuid>,
    /// Only this action, e.g. `login_failed`.
    pub action: Option<Action>,
    /// From this date (inclusive, UTC).
    pub from: Option<NaiveDate>,
    /// Up to this date (inclusive, UTC).
    pub to: Option<NaiveDate>,
}

/// A message to every active account, as a notification (and an event on their streams).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Maintenance tonight", "body": "FinAI will be read-only from 22:00 to 22:15 UTC.", "priority": "high"}))]
pub struct AnnouncementRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// Default `normal`.
    pub priority: Option<crate::domain::notification::Priority>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementResponse {
    /// In each notification's `data.announcement_id`.
    pub announcement_id: Uuid,
    /// Accounts notified.
    pub recipients: usize,
}
