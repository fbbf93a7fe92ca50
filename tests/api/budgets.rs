//! Budgets: live progress, the seed examples, splits and descendants, rollover, history, the
//! one-query listing, and budget notifications.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

struct Setup {
    user: TestUser,
    cash: String,
    cafe: String,
    restaurants: String,
    food: String,
    groceries: String,
    entertainment: String,
}

async fn setup(app: &TestApp) -> Setup {
    let user = app.register("ana@example.com").await;
    app.send_as(
        Method::PATCH,
        "/api/v1/users/me",
        &user.access_token,
        Some(&json!({"settings": {"currency": "VND"}})),
    )
    .await;
    Setup {
        cash: app.create_wallet(&user, "Cash", "VND").await,
        cafe: app.category_id(&user, "Cafe").await,
        restaurants: app.category_id(&user, "Restaurants").await,
        food: app.category_id(&user, "Food & Dining").await,
        groceries: app.category_id(&user, "Groceries").await,
        entertainment: app.category_id(&user, "Entertainment").await,
        user,
    }
}

async fn budget(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let (status, response) = json(
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{response}");
    response["data"].clone()
}

async fn spend(app: &TestApp, s: &Setup, amount: i64, category: &str, date: &str) {
    app.create_transaction(
        &s.user,
        json!({"type": "expense", "amount": amount, "category_id": category,
        "wallet_id": s.cash, "date": date}),
    )
    .await;
}

#[tokio::test]
async fn the_seed_examples_hold() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let eating_out = budget(
        &app,
        &s.user,
        json!({"name": "Eating Out Budget", "amount": 3000000,
        "category_ids": [s.cafe, s.restaurants], "period": "custom",
        "start_date": "2026-03-01", "end_date": "2026-03-31"}),
    )
    .await;
    let fun = budget(&app, &s.user, json!({"name": "Entertainment", "amount": 1500000,
        "category_ids": [s.entertainment], "period": "custom", "start_date": "2026-03-01", "end_date": "2026-03-31"})).await;
    assert_eq!(eating_out["currency"], "VND");
    spend(&app, &s, 2000000, &s.restaurants, "2026-03-03").await;
    spend(&app, &s, 750000, &s.cafe, "2026-03-05").await;
    spend(&app, &s, 1650000, &s.entertainment, "2026-03-06").await;
    spend(&app, &s, 999999, &s.groceries, "2026-03-06").await;
    spend(&app, &s, 500000, &s.cafe, "2026-04-01").await;

    let list = app.data(&s.user, "/api/v1/budgets?at=2026-03-07").await;
    let find = |id: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == *id)
            .unwrap()
            .clone()
    };
    let first = find(&eating_out["id"]);
    assert_eq!(first["spent"], json!(2750000));
    assert_eq!(first["progress"], json!(91.67));
    assert_eq!(first["state"], "warning");
    assert_eq!(first["is_exceeded"], false);
    assert_eq!(first["remaining"], json!(250000));
    assert_eq!(first["days_left"], 24);
    assert_eq!(first["period_start"], "2026-03-01");
    let names: Vec<&str> = first["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Cafe", "Restaurants"]);
    let second = find(&fun["id"]);
    assert_eq!(second["progress"], json!(100));
    assert_eq!(second["is_exceeded"], true);
    assert_eq!(second["state"], "exceeded");
    assert_eq!(second["remaining"], json!(-150000));

    let after = app.data(&s.user, "/api/v1/budgets?at=2026-04-02").await;
    assert_eq!(after[0]["active"], false);
    assert_eq!(after[0]["days_left"], 0);
}

#[tokio::test]
async fn splits_and_sub_categories_count_toward_the_right_budget() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let food = budget(
        &app,
        &s.user,
        json!({"name": "Food", "amount": 1000, "category_ids": [s.food],
        "period": "monthly", "start_date": "2026-03-01"}),
    )
    .await;
    let cafe_only = budget(
        &app,
        &s.user,
        json!({"name": "Cafe", "amount": 100, "category_ids": [s.cafe],
        "period": "monthly", "start_date": "2026-03-01"}),
    )
    .await;
    app.create_transaction(&s.user, json!({"type": "expense", "amount": 90, "wallet_id": s.cash, "date": "2026-03-02",
        "splits": [{"category_id": s.cafe, "amount": 30}, {"category_id": s.groceries, "amount": 40},
                   {"category_id": s.entertainment, "amount": 20}]}))
        .await;
    spend(&app, &s, 5, &s.groceries, "2026-03-03").await;
    let get = |id: &Value| {
        app.data(
            &s.user,
            &format!("/api/v1/budgets/{}?at=2026-03-10", id.as_str().unwrap()),
        )
    };
    assert_eq!(
        get(&food["id"]).await["spent"],
        json!(75),
        "descendants and split shares, nothing else"
    );
    assert_eq!(get(&cafe_only["id"]).await["spent"], json!(30));
}

#[tokio::test]
async fn monthly_budgets_follow_their_payday_and_roll_over() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = budget(
        &app,
        &s.user,
        json!({"name": "Payday", "amount": 1000, "category_ids": [s.cafe],
        "period": "monthly", "start_date": "2026-01-05", "rollover": true}),
    )
    .await;
    let id = b["id"].as_str().unwrap();
    spend(&app, &s, 700, &s.cafe, "2026-02-04").await; // previous period (Jan 5 – Feb 4)
    spend(&app, &s, 200, &s.cafe, "2026-02-05").await; // this period
    let now = app
        .data(&s.user, &format!("/api/v1/budgets/{id}?at=2026-02-20"))
        .await;
    assert_eq!(now["period_start"], "2026-02-05");
    assert_eq!(now["period_end"], "2026-03-04");
    assert_eq!(now["spent"], json!(200));
    assert_eq!(now["rolled_over"], json!(300));
    assert_eq!(now["remaining"], json!(1100));
    assert_eq!(now["progress"], json!(15.38));

    let history = app
        .data(
            &s.user,
            &format!("/api/v1/budgets/{id}/history?periods=3&at=2026-03-10"),
        )
        .await;
    let lines: Vec<(String, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["period_start"].as_str().unwrap().to_owned(),
                h["spent"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("2026-02-05".to_owned(), json!(200)),
            ("2026-01-05".to_owned(), json!(700)),
        ],
        "past periods only, newest first, none before the start"
    );
    assert_error(
        app.get_as(
            &format!("/api/v1/budgets/{id}/history?periods=0"),
            &s.user.access_token,
        )
        .await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn periods_end_on_month_ends_in_leap_years_and_weeks_follow_their_start() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let period_at = |id: String, at: &'static str| {
        let app = &app;
        let user = &s.user;
        async move {
            let b = app
                .data(user, &format!("/api/v1/budgets/{id}?at={at}"))
                .await;
            (
                b["period_start"].as_str().unwrap().to_owned(),
                b["period_end"].as_str().unwrap().to_owned(),
                b["days_left"].clone(),
            )
        }
    };
    let id = |b: Value| b["id"].as_str().unwrap().to_owned();
    // Anchored on the 31st: the last day of shorter months, 29 February in a leap year.
    let month_end = id(budget(
        &app,
        &s.user,
        json!({"name": "Rent", "amount": 100,
        "category_ids": [s.cafe], "period": "monthly", "start_date": "2027-12-31"}),
    )
    .await);
    let (start, end, left) = period_at(month_end.clone(), "2028-02-15").await;
    assert_eq!((start.as_str(), end.as_str()), ("2028-01-31", "2028-02-28"));
    assert_eq!(left, json!(13));
    assert_eq!(
        period_at(month_end.clone(), "2028-03-01").await.0,
        "2028-02-29",
        "the leap day"
    );
    assert_eq!(period_at(month_end, "2028-04-30").await.1, "2028-05-30");
    // Yearly from 29 February: 28 February in common years.
    let leap = id(budget(
        &app,
        &s.user,
        json!({"name": "Leap", "amount": 100,
        "category_ids": [s.cafe], "period": "yearly", "start_date": "2028-02-29"}),
    )
    .await);
    let (start, end, _) = period_at(leap, "2029-06-01").await;
    assert_eq!((start.as_str(), end.as_str()), ("2029-02-28", "2030-02-27"));
    // Weekly from a Wednesday: Wednesday to Tuesday; the last day has no day left.
    let weekly = id(budget(
        &app,
        &s.user,
        json!({"name": "Week", "amount": 100,
        "category_ids": [s.cafe], "period": "weekly", "start_date": "2026-03-04"}),
    )
    .await);
    let (start, end, left) = period_at(weekly.clone(), "2026-03-17").await;
    assert_eq!((start.as_str(), end.as_str()), ("2026-03-11", "2026-03-17"));
    assert_eq!(left, json!(0));
    // Before a budget starts it has no period.
    let before = app
        .data(&s.user, &format!("/api/v1/budgets/{weekly}?at=2026-03-01"))
        .await;
    assert_eq!(before["period_start"], Value::Null);
}

#[tokio::test]
async fn an_overspent_period_rolls_over_as_a_smaller_limit() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = budget(
        &app,
        &s.user,
        json!({"name": "Weekly cafe", "amount": 100, "category_ids": [s.cafe],
        "period": "weekly", "start_date": "2026-03-02", "rollover": true}),
    )
    .await;
    let id = b["id"].as_str().unwrap();
    spend(&app, &s, 130, &s.cafe, "2026-03-03").await; // 30 over in the first week
    spend(&app, &s, 50, &s.cafe, "2026-03-10").await;
    let now = app
        .data(&s.user, &format!("/api/v1/budgets/{id}?at=2026-03-11"))
        .await;
    assert_eq!(now["rolled_over"], json!(-30));
    assert_eq!(now["remaining"], json!(20));
    assert_eq!(now["progress"], json!(71.43), "50 of a limit of 70");
    assert_eq!(now["state"], "on_track");

    // The third week carries what the second showed as remaining (20), not 100 − 50.
    spend(&app, &s, 10, &s.cafe, "2026-03-17").await;
    let third = app
        .data(&s.user, &format!("/api/v1/budgets/{id}?at=2026-03-18"))
        .await;
    assert_eq!(third["rolled_over"], json!(20));
    assert_eq!(third["remaining"], json!(110));
    let status = app
        .data(&s.user, "/api/v1/budgets/status?at=2026-03-18")
        .await;
    assert_eq!(
        status[0]["amount"],
        json!(100),
        "the same figures as the budget"
    );
    assert_eq!(status[0]["rolled_over"], json!(20));
    // History measures each week against the limit it had then.
    let history = app
        .data(
            &s.user,
            &format!("/api/v1/budgets/{id}/history?periods=2&at=2026-03-18"),
        )
        .await;
    assert_eq!(history[0]["period_start"], "2026-03-09");
    assert_eq!(history[0]["rolled_over"], json!(-30));
    assert_eq!(history[0]["limit"], json!(70));
    assert_eq!(history[0]["is_exceeded"], false);
    assert_eq!(history[1]["period_start"], "2026-03-02");
    assert_eq!(history[1]["rolled_over"], json!(0));
    assert_eq!(history[1]["limit"], json!(100));
    assert_eq!(history[1]["is_exceeded"], true);
}

#[tokio::test]
async fn invalid_budgets_are_422_and_other_users_categories_404() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let other = app.register("bob@example.com").await;
    let others_cafe = app.category_id(&other, "Cafe").await;
    let salary = app.category_id(&s.user, "Salary").await;
    for (body, field) in [
        (
            json!({"name": "x", "amount": 10, "category_ids": [], "period": "monthly"}),
            "category_ids",
        ),
        (
            json!({"name": "x", "amount": 0, "category_ids": [s.cafe], "period": "monthly"}),
            "amount",
        ),
        (
            json!({"name": "x", "amount": 10, "category_ids": [s.cafe], "period": "custom", "start_date": "2026-03-01"}),
            "end_date",
        ),
        (
            json!({"name": "x", "amount": 10, "category_ids": [s.cafe], "period": "custom", "start_date": "2026-03-01", "end_date": "2026-02-01"}),
            "end_date",
        ),
        (
            json!({"name": "x", "amount": 10, "category_ids": [s.cafe], "period": "monthly", "alert_threshold": 120}),
            "alert_threshold",
        ),
        (
            json!({"name": "x", "amount": 10, "category_ids": [salary], "period": "monthly"}),
            "category_ids[0]",
        ),
        (
            json!({"name": "x", "amount": 10, "category_ids": [s.cafe], "period": "fortnightly"}),
            "period",
        ),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/budgets",
                &s.user.access_token,
                Some(&body),
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(error["errors"][field].is_array(), "{field}: {error}");
    }
    let foreign = app
        .send_as(Method::POST, "/api/v1/budgets", &s.user.access_token,
            Some(&json!({"name": "x", "amount": 10, "category_ids": [others_cafe], "period": "monthly"})))
        .await;
    assert_error(foreign, 404, "not_found").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM budgets"), 0);

    let mine = budget(
        &app,
        &s.user,
        json!({"name": "Cafe", "amount": 10, "category_ids": [s.cafe], "period": "monthly"}),
    )
    .await;
    let path = format!("/api/v1/budgets/{}", mine["id"].as_str().unwrap());
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"amount": 1}))),
        (Method::DELETE, None),
    ] {
        assert_error(
            app.send_as(method, &path, &other.access_token, body.as_ref())
                .await,
            404,
            "not_found",
        )
        .await;
    }
    assert_error(
        app.get_as(&format!("{path}/history"), &other.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn updating_and_deleting_a_budget_keeps_categories_and_transactions() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    spend(&app, &s, 50, &s.cafe, "2026-03-02").await;
    let b = budget(
        &app,
        &s.user,
        json!({"name": "Cafe", "amount": 100, "category_ids": [s.cafe],
        "period": "monthly", "start_date": "2026-03-01"}),
    )
    .await;
    let path = format!("/api/v1/budgets/{}", b["id"].as_str().unwrap());
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &path,
            &s.user.access_token,
            Some(&json!({"amount": 200, "category_ids": [s.cafe, s.restaurants], "name": "Out"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["amount"], json!(200));
    assert_eq!(body["data"]["categories"].as_array().unwrap().len(), 2);
    let in_use = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/categories/{}", s.restaurants),
            &s.user.access_token,
            None,
        )
        .await;
    assert_error(in_use, 409, "category_in_use").await;
    let (status, _) = json(
        app.send_as(Method::DELETE, &path, &s.user.access_token, None)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM budget_categories"),
        0
    );
    assert_error(
        app.get_as(&path, &s.user.access_token).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn listing_budgets_runs_the_same_number_of_statements_for_1_or_25_budgets() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    spend(&app, &s, 10, &s.cafe, "2026-03-02").await;
    let statements_for_list = || async {
        let before = app.statements.load(Ordering::SeqCst);
        let list = app
            .data(&s.user, "/api/v1/budgets?at=2026-03-10&per_page=100")
            .await;
        (
            app.statements.load(Ordering::SeqCst) - before,
            list.as_array().unwrap().len(),
        )
    };
    budget(
        &app,
        &s.user,
        json!({"name": "b0", "amount": 100, "category_ids": [s.cafe], "period": "monthly",
        "start_date": "2026-01-01", "rollover": true}),
    )
    .await;
    let (one, count) = statements_for_list().await;
    assert_eq!(count, 1);
    for i in 1..25 {
        budget(&app, &s.user, json!({"name": format!("b{i}"), "amount": 100 + i, "category_ids": [s.cafe, s.food],
            "period": if i % 2 == 0 { "weekly" } else { "monthly" }, "start_date": "2026-01-01", "rollover": i % 3 == 0})).await;
    }
    let (many, count) = statements_for_list().await;
    assert_eq!(count, 25);
    assert_eq!(
        one, many,
        "statements per GET /budgets must not grow with the number of budgets"
    );
    assert!(many <= 6, "{many} statements");
}

#[tokio::test]
async fn crossing_the_threshold_and_the_limit_notifies_once_per_period_and_level() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Days::new(1);
    budget(
        &app,
        &s.user,
        json!({"name": "Cafe", "amount": 100, "category_ids": [s.cafe], "period": "custom",
        "start_date": start, "end_date": today + chrono::Days::new(30)}),
    )
    .await;
    spend(&app, &s, 50, &s.cafe, &today.to_string()).await;
    assert_eq!(app.data(&s.user, "/api/v1/notifications").await, json!([]));
    spend(&app, &s, 35, &s.cafe, &today.to_string()).await; // 85 %
    spend(&app, &s, 5, &s.cafe, &today.to_string()).await; // 90 %: still the same warning
    let list = app.data(&s.user, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["type"], "budget_threshold");
    assert!(list[0]["data"]["budget_id"].is_string());
    spend(&app, &s, 20, &s.cafe, &today.to_string()).await; // 110 %
    spend(&app, &s, 20, &s.cafe, &today.to_string()).await;
    let list = app.data(&s.user, "/api/v1/notifications?unread=true").await;
    let types: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["budget_exceeded", "budget_threshold"],
        "newest first, no duplicates"
    );

    let id = list[1]["id"].as_str().unwrap();
    let (status, body) = json(
        app.send_as(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            &s.user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["data"]["read_at"].is_string());
    assert_eq!(
        app.data(&s.user, "/api/v1/notifications?unread=true")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/notifications/read-all",
            &s.user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(body["data"]["marked"], 1);
    assert_eq!(
        app.data(&s.user, "/api/v1/notifications?unread=true").await,
        json!([])
    );
    let other = app.register("bob@example.com").await;
    let steal = app
        .send_as(
            Method::POST,
            &format!("/api/v1/notifications/{id}/read"),
            &other.access_token,
            None,
        )
        .await;
    assert_error(steal, 404, "not_found").await;
}

/// An expense reads the budgets tracking it (through ancestors too) with its other checks: one
/// no budget tracks is three statements (the account check, that read, the insert), and one a
/// budget tracks still moves the budget and alerts.
#[tokio::test]
async fn an_expense_reads_its_budgets_with_its_checks() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    let date = today.to_string();
    // Tracked through its parent: Cafe is under Food & Dining.
    let food = budget(
        &app,
        &s.user,
        json!({"name": "Food", "amount": 100, "category_ids": [s.food], "period": "custom",
        "start_date": today - chrono::Days::new(1), "end_date": today + chrono::Days::new(30)}),
    )
    .await;
    // The first write of each kind prepares its statements on the connection.
    spend(&app, &s, 1, &s.entertainment, &date).await;
    let statements_of = |category: String, amount: i64| {
        let (app, s, date) = (&app, &s, date.clone());
        async move {
            let before = app.statements.load(Ordering::SeqCst);
            spend(app, s, amount, &category, &date).await;
            app.statements.load(Ordering::SeqCst) - before
        }
    };
    // The fewest of three: a count is of everything the app ran meanwhile.
    let mut counts = Vec::new();
    for amount in 2..5 {
        counts.push(statements_of(s.entertainment.clone(), amount).await);
    }
    assert_eq!(
        counts.iter().min(),
        Some(&3),
        "statements per expense: {counts:?}"
    );
    // Tracked: the budgets read back by id, evaluated, and the alert created.
    let tracked = statements_of(s.cafe.clone(), 85).await;
    assert!(tracked <= 6, "{tracked} statements");
    let list = app.data(&s.user, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["type"], "budget_threshold");
    assert_eq!(list[0]["data"]["budget_id"], food["id"]);
    let status = app
        .data(
            &s.user,
            &format!("/api/v1/budgets/{}", food["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status["spent"], json!(85));
}

#[tokio::test]
async fn budget_status_lists_active_budgets_compactly() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    budget(&app, &s.user, json!({"name": "Now", "amount": 100, "category_ids": [s.cafe], "period": "monthly", "start_date": "2026-03-01"})).await;
    budget(&app, &s.user, json!({"name": "Later", "amount": 100, "category_ids": [s.cafe], "period": "monthly", "start_date": "2026-06-01"})).await;
    spend(&app, &s, 40, &s.cafe, "2026-03-04").await;
    let status = app
        .data(&s.user, "/api/v1/budgets/status?at=2026-03-10")
        .await;
    assert_eq!(status.as_array().unwrap().len(), 1);
    assert_eq!(status[0]["name"], "Now");
    assert_eq!(status[0]["spent"], json!(40));
    assert_eq!(status[0]["state"], "on_track");
}

#[tokio::test]
async fn spending_moved_by_a_category_move_or_reassign_alerts_its_new_budgets() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    let custom = |name: &str, category: &str| {
        json!({"name": name, "amount": 100, "category_ids": [category], "period": "custom",
               "start_date": today - chrono::Days::new(1), "end_date": today + chrono::Days::new(30)})
    };
    budget(&app, &s.user, custom("Fun", &s.entertainment)).await;
    budget(&app, &s.user, custom("Eating out", &s.restaurants)).await;
    spend(&app, &s, 90, &s.groceries, &today.to_string()).await;
    spend(&app, &s, 120, &s.cafe, &today.to_string()).await;
    assert_eq!(app.data(&s.user, "/api/v1/notifications").await, json!([]));

    // Groceries moved under Entertainment: its 90 is 90 % of Fun.
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/categories/{}", s.groceries),
            &s.user.access_token,
            Some(&json!({"parent_id": s.entertainment})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list = app.data(&s.user, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["type"], "budget_threshold");

    // Cafe's 120 reassigned to Restaurants: Eating out is over its limit.
    let (status, body) = json(
        app.send_as(
            Method::DELETE,
            &format!(
                "/api/v1/categories/{}?reassign_to={}",
                s.cafe, s.restaurants
            ),
            &s.user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list = app.data(&s.user, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["type"], "budget_exceeded");
}

/// A budget alert created after a write's commit (outside the ledger's lock) and the same alert
/// created by a budget edit (under it) queue behind each other: no deadlock, no 409 for a write
/// that was stored.
#[tokio::test]
async fn alerts_raced_by_writes_and_budget_edits_never_deadlock() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let today = chrono::Utc::now().date_naive();
    for round in 0..4 {
        let b = budget(
            &app,
            &s.user,
            json!({"name": format!("Cafe {round}"), "amount": 100, "category_ids": [s.cafe],
                   "period": "custom", "start_date": today - chrono::Days::new(1),
                   "end_date": today + chrono::Days::new(30)}),
        )
        .await;
        spend(&app, &s, 95, &s.cafe, &today.to_string()).await;
        let id = b["id"].as_str().unwrap();
        let writes = (0..6).map(|i| {
            let (method, path, body) = if i % 2 == 0 {
                (
                    Method::POST,
                    "/api/v1/transactions".to_owned(),
                    json!({"type": "expense", "amount": 10, "category_id": s.cafe,
                           "wallet_id": s.cash, "date": today}),
                )
            } else {
                (
                    Method::PATCH,
                    format!("/api/v1/budgets/{id}"),
                    json!({"amount": 90 + i}),
                )
            };
            let token = s.user.access_token.clone();
            let app = &app;
            async move {
                app.send_as(method, &path, &token, Some(&body))
                    .await
                    .status()
                    .as_u16()
            }
        });
        let statuses = futures_util::future::join_all(writes).await;
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 201),
            "{statuses:?}"
        );
    }
}
