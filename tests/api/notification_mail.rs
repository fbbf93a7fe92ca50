//! Notifications by email (each member's choice of types, immediately or as a daily digest,
//! quiet hours in their own time zone, each notification mailed once), priorities, and an
//! administrator's announcement to everyone.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};
use crate::ledgers::{create_ledger, join};

/// The notification mails in the app's outbox addressed to `to`, oldest first (registration
/// and invitation mails left out).
fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(app.data_dir.join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let header = format!("To: {to}");
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .filter(|text| text.lines().any(|l| l.eq_ignore_ascii_case(&header)))
        .filter(|text| text.contains("notification"))
        .collect()
}

/// Runs the mailing step at `now`; the mails it sent.
fn mail_at(app: &TestApp, now: DateTime<Utc>) -> usize {
    let settings = finai::config::Settings::for_tests(&app.db.url, app.data_dir.clone());
    let mailer = finai::auth::mailer::from_settings(&settings).unwrap();
    finai::jobs::send_notification_mails(&mut app.db.connect(), mailer.as_ref(), now).unwrap()
}

fn today_at(hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap();
    Utc.from_utc_datetime(&Utc::now().date_naive().and_time(time))
}

async fn prefer(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let (status, answer) = json(
        app.send_as(
            Method::PUT,
            "/api/v1/users/me/notification-preferences",
            &user.access_token,
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["data"].clone()
}

/// A budget of 100 on groceries in `base`'s ledger; then `amount` spent on it.
async fn spend_on_budget(app: &TestApp, user: &TestUser, base: &str, amount: u32) {
    let wallets = app.data(user, &format!("{base}/wallets")).await;
    let wallet = match wallets.as_array().and_then(|w| w.first()) {
        Some(w) => w["id"].as_str().unwrap().to_owned(),
        None => app
            .data_of(
                user,
                Method::POST,
                &format!("{base}/wallets"),
                json!({"name": "Cash", "type": "cash"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let categories = app
        .data(user, &format!("{base}/categories?per_page=200"))
        .await;
    let groceries = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Groceries")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let budgets = app.data(user, &format!("{base}/budgets")).await;
    if budgets.as_array().unwrap().is_empty() {
        app.data_of(
            user,
            Method::POST,
            &format!("{base}/budgets"),
            json!({"name": "Food", "amount": 100, "category_ids": [groceries], "period": "monthly",
                   "start_date": Utc::now().date_naive().to_string()}),
        )
        .await;
    }
    app.data_of(
        user,
        Method::POST,
        &format!("{base}/transactions"),
        json!({"type": "expense", "amount": amount, "category_id": groceries, "wallet_id": wallet}),
    )
    .await;
}

#[tokio::test]
async fn preferences_are_validated_and_default_to_no_mail() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let none = app
        .data(&user, "/api/v1/users/me/notification-preferences")
        .await;
    assert_eq!(
        none,
        json!({"email_types": [], "email_mode": "immediate", "quiet_hours": null})
    );
    let path = "/api/v1/users/me/notification-preferences";
    for (body, field) in [
        (json!({"email_types": ["everything"]}), "email_types"),
        (
            json!({"email_types": [], "quiet_hours": {"start": "25:00", "end": "07:00"}}),
            "quiet_hours.start",
        ),
        (
            json!({"email_types": [], "quiet_hours": {"start": "07:00", "end": "07:00"}}),
            "quiet_hours",
        ),
    ] {
        let response = app
            .send_as(Method::PUT, path, &user.access_token, Some(&body))
            .await;
        let answer = assert_error(response, 422, "validation_failed").await;
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }
    let response = app
        .send_as(
            Method::PUT,
            path,
            &user.access_token,
            Some(&json!({"email_types": [], "email_mode": "hourly"})),
        )
        .await;
    assert!(response.status().is_client_error());
    let saved = prefer(
        &app,
        &user,
        json!({"email_types": ["bill_due", "budget_exceeded", "bill_due"], "email_mode": "daily_digest",
               "quiet_hours": {"start": "22:00", "end": "07:00"}}),
    )
    .await;
    assert_eq!(saved["email_types"], json!(["bill_due", "budget_exceeded"]));
    assert_eq!(
        saved["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );
    assert_eq!(app.data(&user, path).await, saved);
}

#[tokio::test]
async fn a_chosen_notification_is_mailed_once_and_never_in_quiet_hours() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    prefer(
        &app,
        &user,
        json!({"email_types": ["budget_threshold"], "quiet_hours": {"start": "22:00", "end": "07:00"}}),
    )
    .await;
    spend_on_budget(&app, &user, "/api/v1", 85).await;
    let notifications = app.data(&user, "/api/v1/notifications").await;
    assert_eq!(notifications[0]["type"], "budget_threshold");
    assert_eq!(notifications[0]["priority"], "normal");

    // 23:00 UTC is in the account's (UTC) quiet hours: held back.
    assert_eq!(mail_at(&app, today_at(23)), 0);
    assert!(mails_to(&app, &user.email).is_empty());
    // At 09:00 it goes, once.
    assert_eq!(mail_at(&app, today_at(9)), 1);
    assert_eq!(mail_at(&app, today_at(10)), 0);
    let mails = mails_to(&app, &user.email);
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains(notifications[0]["title"].as_str().unwrap()),
        "{}",
        mails[0]
    );

    // Going over the limit is not a type this user chose.
    spend_on_budget(&app, &user, "/api/v1", 30).await;
    assert_eq!(mail_at(&app, today_at(11)), 0);
    // Choosing it now does not mail the one from before.
    prefer(
        &app,
        &user,
        json!({"email_types": ["budget_threshold", "budget_exceeded"]}),
    )
    .await;
    assert_eq!(mail_at(&app, today_at(12)), 0);
}

#[tokio::test]
async fn a_daily_digest_gathers_the_days_notifications_by_priority() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    prefer(
        &app,
        &user,
        json!({"email_types": ["budget_threshold", "budget_exceeded"], "email_mode": "daily_digest"}),
    )
    .await;
    spend_on_budget(&app, &user, "/api/v1", 85).await;
    spend_on_budget(&app, &user, "/api/v1", 30).await;
    assert_eq!(mail_at(&app, today_at(7)), 0, "not before 08:00");
    assert_eq!(mail_at(&app, today_at(9)), 1);
    assert_eq!(mail_at(&app, today_at(18)), 0, "once a day");
    let digest = &mails_to(&app, &user.email)[0];
    assert!(
        digest.contains("Your FinAI digest: 2 notifications"),
        "{digest}"
    );
    let exceeded = digest.find("[high]").expect("the overrun, high");
    let threshold = digest.find("[normal]").expect("the threshold, normal");
    assert!(exceeded < threshold, "most urgent first: {digest}");
}

#[tokio::test]
async fn each_member_of_a_shared_ledger_gets_the_mail_they_chose() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ledger = create_ledger(&app, &owner, "household").await;
    join(&app, &owner, &ledger, &member, "editor").await;
    prefer(&app, &member, json!({"email_types": ["budget_threshold"]})).await;
    spend_on_budget(&app, &owner, &format!("/api/v1/ledgers/{ledger}"), 90).await;
    assert_eq!(mail_at(&app, today_at(12)), 1);
    assert_eq!(mails_to(&app, &member.email).len(), 1);
    // The owner chose nothing (their invitation mail aside).
    assert!(mails_to(&app, &owner.email)
        .iter()
        .all(|m| !m.contains("budget")));
}

#[tokio::test]
async fn an_announcement_reaches_every_user_first_by_priority_and_by_mail_where_chosen() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    prefer(&app, &bob, json!({"email_types": ["announcement"]})).await;
    spend_on_budget(&app, &ana, "/api/v1", 85).await;
    let body = json!({"title": "Maintenance tonight", "body": "Read-only from 22:00 to 22:15 UTC.",
                      "priority": "urgent"});
    let refused = app
        .send_as(
            Method::POST,
            "/api/v1/admin/announcements",
            &ana.access_token,
            Some(&body),
        )
        .await;
    assert_error(refused, 403, "forbidden").await;
    let (status, answer) = json(
        app.send_as(
            Method::POST,
            "/api/v1/admin/announcements",
            &admin.access_token,
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["data"]["recipients"], 3);

    // Newest first puts the announcement first anyway; by priority, it stays first although
    // an older notification exists, and the older one follows.
    let by_priority = app.data(&ana, "/api/v1/notifications?sort=priority").await;
    assert_eq!(by_priority[0]["type"], "announcement");
    assert_eq!(by_priority[0]["priority"], "urgent");
    assert_eq!(
        by_priority[0]["data"]["announcement_id"],
        answer["data"]["announcement_id"]
    );
    assert_eq!(by_priority[1]["type"], "budget_threshold");
    // An event on each user's stream.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM events WHERE type = 'notification' \
             AND payload ->> 'type' = 'announcement' AND payload ->> 'priority' = 'urgent' \
             AND ledger_id IN ('{}', '{}', '{}')",
            admin.id, ana.id, bob.id
        )),
        3
    );
    assert_eq!(mail_at(&app, today_at(12)), 1);
    let mails = mails_to(&app, &bob.email);
    assert!(
        mails[0].contains("[Urgent] Maintenance tonight"),
        "{}",
        mails[0]
    );
    // The audit log names it.
    let log = app
        .data(&admin, "/api/v1/admin/audit-log?action=announcement_sent")
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
}
