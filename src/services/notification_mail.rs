//! Notifications by email: each user's preferences (which types, immediately or as a daily
//! digest, quiet hours in their own time zone), an administrator's announcement to everyone,
//! and the background step that mails what is waiting, each notification once per recipient
//! (claimed in `notification_mails` before it is sent, so several instances never both send).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, Utc};
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::caller::{stored, timezone_of, Caller};
use crate::auth::mailer::{Mail, Mailer};
use crate::db::audit::{self, Action, Event, Origin};
use crate::db::notification_mail::{self, Preferences, Waiting};
use crate::db::notifications;
use crate::domain::notification::{digest_due, EmailMode, Priority, QuietHours};
use crate::dto::admin::{AnnouncementRequest, AnnouncementResponse};
use crate::dto::notifications::{NotificationPreferencesBody, QuietHoursBody};
use crate::error::ApiError;

/// The notification types there are (the schema's check holds the same list).
pub const TYPES: &[&str] = &[
    "budget_threshold",
    "budget_exceeded",
    "bill_due",
    "bill_overdue",
    "unusual_spending",
    "webhook_disabled",
    "announcement",
    "goal_reached",
    "goal_behind",
];

/// Waiting mails looked at per run.
const BATCH: i64 = 500;

fn body_of(preferences: Option<Preferences>) -> Result<NotificationPreferencesBody, ApiError> {
    let Some(p) = preferences else {
        return Ok(NotificationPreferencesBody {
            email_types: Vec::new(),
            email_mode: Some(EmailMode::Immediate),
            quiet_hours: None,
        });
    };
    let quiet_hours = match (p.quiet_start, p.quiet_end) {
        (Some(start), Some(end)) => Some(QuietHoursBody {
            start: start.format("%H:%M").to_string(),
            end: end.format("%H:%M").to_string(),
        }),
        _ => None,
    };
    Ok(NotificationPreferencesBody {
        email_types: p.email_types,
        email_mode: Some(stored("email mode", &p.email_mode, EmailMode::parse)?),
        quiet_hours,
    })
}

pub fn preferences(
    conn: &mut PgConnection,
    caller: &Caller,
) -> Result<NotificationPreferencesBody, ApiError> {
    body_of(notification_mail::get(conn, caller.id)?)
}

fn local_time(field: &str, raw: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| ApiError::invalid_field(field, "must be a time HH:MM, e.g. 22:00"))
}

pub fn set_preferences(
    conn: &mut PgConnection,
    caller: &Caller,
    body: NotificationPreferencesBody,
) -> Result<NotificationPreferencesBody, ApiError> {
    let mut types = body.email_types;
    if let Some(unknown) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid_field(
            "email_types",
            format!(
                "`{unknown}` is not a notification type; the types are: {}.",
                TYPES.join(", ")
            ),
        ));
    }
    types.sort();
    types.dedup();
    let quiet = match &body.quiet_hours {
        None => None,
        Some(q) => {
            let hours = (
                local_time("quiet_hours.start", &q.start)?,
                local_time("quiet_hours.end", &q.end)?,
            );
            if hours.0 == hours.1 {
                return Err(ApiError::invalid_field(
                    "quiet_hours",
                    "`start` and `end` must differ",
                ));
            }
            Some(hours)
        }
    };
    let mode = body.email_mode.unwrap_or(EmailMode::Immediate);
    body_of(Some(notification_mail::put(
        conn,
        caller.id,
        &types,
        mode.as_str(),
        quiet,
    )?))
}

/// Notifies every active account (and so their streams and, where chosen, their mailboxes).
pub fn announce(
    conn: &mut PgConnection,
    admin: &Caller,
    request: &AnnouncementRequest,
    origin: &Origin,
) -> Result<AnnouncementResponse, ApiError> {
    let id = Uuid::new_v4();
    let priority = request.priority.unwrap_or(Priority::Normal);
    crate::db::transaction(conn, |conn| {
        let recipients =
            notifications::announce(conn, &request.title, &request.body, priority.as_str(), id)?;
        audit::record(
            conn,
            Event {
                action: Action::AnnouncementSent,
                user_id: None,
                actor_id: Some(admin.id),
                origin,
                details: json!({"announcement_id": id, "recipients": recipients,
                                "title": request.title, "priority": priority.as_str()}),
            },
        )?;
        Ok(AnnouncementResponse {
            announcement_id: id,
            recipients,
        })
    })
}

/// Mails what is waiting and due; returns how many mails went out. A mail that cannot be sent
/// is logged and tried again at the next run.
pub fn send_waiting(
    conn: &mut PgConnection,
    mailer: &dyn Mailer,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let mut by_user: BTreeMap<Uuid, Vec<Waiting>> = BTreeMap::new();
    for row in notification_mail::waiting(conn, BATCH)? {
        by_user.entry(row.user_id).or_default().push(row);
    }
    let mut sent = 0;
    for (user, rows) in by_user {
        let first = &rows[0];
        let local = now
            .with_timezone(&timezone_of(&first.timezone)?)
            .naive_local();
        let quiet = match (first.quiet_start, first.quiet_end) {
            (Some(start), Some(end)) => Some(QuietHours { start, end }),
            _ => None,
        };
        let mode = stored("email mode", &first.email_mode, EmailMode::parse)?;
        match mode {
            EmailMode::Immediate => {
                if quiet.is_some_and(|q| q.contains(local.time())) {
                    continue;
                }
                for row in &rows {
                    sent += mail_claimed(conn, mailer, user, std::slice::from_ref(row), None)?;
                }
            }
            EmailMode::DailyDigest => {
                if !digest_due(local, first.last_digest_on, quiet) {
                    continue;
                }
                let count = mail_claimed(conn, mailer, user, &rows, Some(local.date()))?;
                sent += count;
            }
        }
    }
    Ok(sent)
}

fn rank(priority: &str) -> usize {
    ["urgent", "high", "normal", "low"]
        .iter()
        .position(|p| *p == priority)
        .unwrap_or(2)
}

/// Claims `rows` for `user` and mails those claimed: one mail each, or one digest for
/// `digest_day`. Returns the mails sent.
fn mail_claimed(
    conn: &mut PgConnection,
    mailer: &dyn Mailer,
    user: Uuid,
    rows: &[Waiting],
    digest_day: Option<chrono::NaiveDate>,
) -> Result<usize, ApiError> {
    let ids: Vec<(Uuid, Uuid)> = rows
        .iter()
        .map(|r| (r.ledger_id, r.notification_id))
        .collect();
    let claimed = notification_mail::claim(conn, user, &ids)?;
    let mut mine: Vec<&Waiting> = rows
        .iter()
        .filter(|r| claimed.contains(&r.notification_id))
        .collect();
    if mine.is_empty() {
        return Ok(0);
    }
    let to = mine[0].email.clone();
    let mail = match digest_day {
        None => {
            let row = mine[0];
            let urgency = match row.priority.as_str() {
                "urgent" => "[Urgent] ",
                "high" => "[Important] ",
                _ => "",
            };
            Mail {
                to,
                subject: format!("{urgency}{}", row.title),
                body: format!(
                    "{}\n\n{}\n\n(Ledger: {}. Change which notifications you get by email in \
                     your notification preferences.)\n",
                    row.title, row.body, row.ledger_name
                ),
            }
        }
        Some(day) => {
            mine.sort_by_key(|r| (rank(&r.priority), r.created_at));
            let mut body = format!("Your FinAI notifications for {day}:\n\n");
            for row in &mine {
                body.push_str(&format!(
                    "- [{}] {} ({}): {}\n",
                    row.priority, row.title, row.ledger_name, row.body
                ));
            }
            body.push_str(
                "\n(Change which notifications you get by email in your notification \
                 preferences.)\n",
            );
            Mail {
                to,
                subject: match mine.len() {
                    1 => "Your FinAI digest: 1 notification".to_owned(),
                    n => format!("Your FinAI digest: {n} notifications"),
                },
                body,
            }
        }
    };
    match mailer.send(&mail) {
        Ok(()) => {
            if let Some(day) = digest_day {
                notification_mail::digest_sent(conn, user, day)?;
            }
            Ok(1)
        }
        Err(error) => {
            log::error!("notification mail to user {user}: {error}");
            notification_mail::release(conn, user, &claimed)?;
            Ok(0)
        }
    }
}
