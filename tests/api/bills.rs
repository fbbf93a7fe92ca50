//! Bills (paying, month ends, upcoming, history), recurring transactions and the background
//! job that materialises them, pays autopay bills and sends reminders.

use chrono::{Datelike, Days, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json, spawn_app, TestApp, TestUser};

struct Setup {
    user: TestUser,
    cash: String,
    utilities: String,
    salary: String,
}

async fn setup(app: &TestApp) -> Setup {
    let user = app.register("ana@example.com").await;
    Setup {
        cash: app.create_wallet(&user, "Cash", "USD").await,
        utilities: app.category_id(&user, "Electricity").await,
        salary: app.category_id(&user, "Salary").await,
        user,
    }
}

async fn bill(app: &TestApp, s: &Setup, body: Value) -> Value {
    let mut full = json!({"name": "Rent", "amount": 500, "category_id": s.utilities, "wallet_id": s.cash,
        "frequency": "monthly", "next_due_date": y("01-31")});
    for (k, v) in body.as_object().unwrap() {
        full[k] = v.clone();
    }
    let (status, response) = json(
        app.send_as(
            Method::POST,
            "/api/v1/bills",
            &s.user.access_token,
            Some(&full),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{response}");
    response["data"].clone()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// `MM-DD` in the first common year after this one: schedules must start within the last year,
/// so fixed dates move with the calendar, and February keeps 28 days.
fn y(month_day: &str) -> String {
    let mut year = today().year() + 1;
    while NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        year += 1;
    }
    format!("{year}-{month_day}")
}

#[tokio::test]
async fn paying_a_monthly_bill_due_on_the_31st_walks_the_month_ends() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = bill(&app, &s, json!({})).await;
    let id = b["id"].as_str().unwrap();
    let pay = |body: Value| {
        app.send_as(
            Method::POST,
            &format!("/api/v1/bills/{id}/pay"),
            &s.user.access_token,
            Some(&body),
        )
    };

    let (status, paid) =
        json(pay(json!({"due_date": y("01-31"), "paid_on": y("01-30")})).await).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["bill"]["next_due_date"], y("02-28"));
    assert_eq!(paid["data"]["transaction"]["type"], "expense");
    assert_eq!(paid["data"]["transaction"]["amount"], json!(500));
    assert_eq!(paid["data"]["transaction"]["category_name"], "Electricity");
    assert_eq!(paid["data"]["transaction"]["date"], y("01-30"));

    assert_error(
        pay(json!({"due_date": y("01-31")})).await,
        409,
        "bill_already_paid",
    )
    .await;
    assert_error(
        pay(json!({"due_date": y("05-31")})).await,
        422,
        "validation_failed",
    )
    .await;

    let (_, paid) = json(pay(json!({"amount": 510.25})).await).await;
    assert_eq!(
        paid["data"]["bill"]["next_due_date"],
        y("03-31"),
        "back to the 31st after February"
    );
    let payments = app
        .data(&s.user, &format!("/api/v1/bills/{id}/payments"))
        .await;
    let dues: Vec<&str> = payments
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["due_date"].as_str().unwrap())
        .collect();
    assert_eq!(dues, vec![y("02-28"), y("01-31")]);
    assert_eq!(payments[0]["amount"], json!(510.25));
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 2);
    let wallet = app
        .data(&s.user, &format!("/api/v1/wallets/{}", s.cash))
        .await;
    assert_eq!(wallet["balance"], json!(-1010.25));
}

#[tokio::test]
async fn a_payment_is_all_or_nothing_and_a_one_off_bill_is_paid_once() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let other = app.register("bob@example.com").await;
    let others_wallet = app.create_wallet(&other, "Theirs", "USD").await;
    let b = bill(
        &app,
        &s,
        json!({"frequency": "once", "next_due_date": y("03-10")}),
    )
    .await;
    let id = b["id"].as_str().unwrap();
    let path = format!("/api/v1/bills/{id}/pay");
    let foreign = app
        .send_as(
            Method::POST,
            &path,
            &s.user.access_token,
            Some(&json!({"wallet_id": others_wallet})),
        )
        .await;
    assert_error(foreign, 404, "not_found").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM bill_payments"), 0);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);

    let (status, paid) = json(
        app.send_as(Method::POST, &path, &s.user.access_token, Some(&json!({})))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["bill"]["status"], "paid");
    assert_error(
        app.send_as(Method::POST, &path, &s.user.access_token, Some(&json!({})))
            .await,
        409,
        "bill_already_paid",
    )
    .await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);
}

#[tokio::test]
async fn deleting_a_payments_expense_reopens_the_due_date_it_paid() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let token = &s.user.access_token;
    for (frequency, due) in [("monthly", y("03-10")), ("once", y("04-10"))] {
        let b = bill(
            &app,
            &s,
            json!({"frequency": frequency, "next_due_date": due}),
        )
        .await;
        let id = b["id"].as_str().unwrap();
        let path = format!("/api/v1/bills/{id}/pay");
        let (status, paid) = json(
            app.send_as(Method::POST, &path, token, Some(&json!({})))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{paid}");
        let after = &paid["data"]["bill"];
        assert!(
            after["next_due_date"] != due.as_str() || after["status"] == "paid",
            "paying moved the bill on: {after}"
        );
        let expense = paid["data"]["transaction"]["id"].as_str().unwrap();
        let deleted = app
            .send_as(
                Method::DELETE,
                &format!("/api/v1/transactions/{expense}"),
                token,
                None,
            )
            .await;
        assert_eq!(deleted.status(), 200);
        let reopened = app.data(&s.user, &format!("/api/v1/bills/{id}")).await;
        assert_eq!(reopened["next_due_date"], due.as_str(), "{reopened}");
        assert_eq!(reopened["status"], "pending", "{reopened}");
        let payments = app
            .data(&s.user, &format!("/api/v1/bills/{id}/payments"))
            .await;
        assert_eq!(payments, json!([]));
        let (status, again) = json(
            app.send_as(Method::POST, &path, token, Some(&json!({})))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{frequency}: {again}");
    }
}

#[tokio::test]
async fn a_payments_expense_edited_is_what_the_payment_says_and_as_income_pays_nothing() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let token = &s.user.access_token;
    let due = y("03-10");
    let b = bill(&app, &s, json!({"amount": 50, "next_due_date": due})).await;
    let id = b["id"].as_str().unwrap();
    let paid = app
        .data_of(
            &s.user,
            Method::POST,
            &format!("/api/v1/bills/{id}/pay"),
            json!({"paid_on": today()}),
        )
        .await;
    let expense = paid["transaction"]["id"].as_str().unwrap();
    let day_before = today().pred_opt().unwrap();
    let payments_of = || app.data(&s.user, &format!("/api/v1/bills/{id}/payments"));
    let edit = |body: Value| {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/transactions/{expense}"),
            token,
            Some(&body),
        )
    };
    assert_eq!(
        edit(json!({"amount": 80, "date": day_before}))
            .await
            .status(),
        200
    );
    let payments = payments_of().await;
    assert_eq!(payments[0]["amount"], json!(80), "{payments}");
    assert_eq!(payments[0]["paid_on"], json!(day_before), "{payments}");
    assert_eq!(payments[0]["due_date"], due.as_str(), "{payments}");

    // Moved into another currency than the bill's, it pays nothing either.
    let euros = app.create_wallet(&s.user, "Euros", "EUR").await;
    assert_eq!(
        edit(json!({"wallet_id": euros, "currency": "EUR"}))
            .await
            .status(),
        200
    );
    let payments = payments_of().await;
    assert_eq!(payments, json!([]));
    assert_eq!(
        edit(json!({"wallet_id": s.cash, "currency": "USD"}))
            .await
            .status(),
        200
    );
    let income = edit(json!({"type": "income", "category_id": s.salary})).await;
    assert_eq!(income.status(), 200);
    let payments = payments_of().await;
    assert_eq!(payments, json!([]));
    let reopened = app.data(&s.user, &format!("/api/v1/bills/{id}")).await;
    assert_eq!(reopened["next_due_date"], due.as_str(), "{reopened}");
}

#[tokio::test]
async fn paying_a_reopened_due_date_again_steps_over_the_ones_paid_since() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let token = &s.user.access_token;
    let b = bill(
        &app,
        &s,
        json!({"frequency": "monthly", "next_due_date": y("03-10")}),
    )
    .await;
    let id = b["id"].as_str().unwrap();
    let path = format!("/api/v1/bills/{id}/pay");
    let pay = || async {
        let (status, paid) = json(
            app.send_as(Method::POST, &path, token, Some(&json!({})))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{paid}");
        paid["data"].clone()
    };
    // March, then April; March's expense deleted reopens March.
    let march = pay().await;
    pay().await;
    let expense = march["transaction"]["id"].as_str().unwrap();
    let deleted = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{expense}"),
            token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 200);
    // March paid again: the bill moves on to May, not to April, which is paid.
    let again = pay().await;
    assert_eq!(again["bill"]["next_due_date"], y("05-10"), "{again}");
    let may = pay().await;
    assert_eq!(may["bill"]["next_due_date"], y("06-10"), "{may}");
    let payments = app
        .data(&s.user, &format!("/api/v1/bills/{id}/payments"))
        .await;
    assert_eq!(payments.as_array().unwrap().len(), 3, "{payments}");
}

#[tokio::test]
async fn edits_keep_the_schedule_a_client_did_not_change() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let patch = |id: String, body: Value| {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/bills/{id}"),
            &s.user.access_token,
            Some(&body),
        )
    };
    let pay = |id: String| {
        app.send_as(
            Method::POST,
            &format!("/api/v1/bills/{id}/pay"),
            &s.user.access_token,
            Some(&json!({})),
        )
    };

    // A paid one-off made monthly opens again at the month after the paid date.
    let due = today() + Days::new(10);
    let once = bill(&app, &s, json!({"frequency": "once", "next_due_date": due})).await;
    let once_id = once["id"].as_str().unwrap().to_owned();
    assert_eq!(json(pay(once_id.clone()).await).await.0, 200);
    let (status, reopened) =
        json(patch(once_id.clone(), json!({"frequency": "monthly"})).await).await;
    assert_eq!(status, 200, "{reopened}");
    assert_eq!(reopened["data"]["status"], "pending");
    let next = due.checked_add_months(chrono::Months::new(1)).unwrap();
    assert_eq!(reopened["data"]["next_due_date"], json!(next));
    let (status, paid) = json(pay(once_id).await).await;
    assert_eq!(status, 200, "{paid}");

    // Sending back the shown (clamped) date of a bill due on the 31st keeps its day.
    let monthly = bill(&app, &s, json!({})).await;
    let id = monthly["id"].as_str().unwrap().to_owned();
    let (_, paid) = json(pay(id.clone()).await).await;
    assert_eq!(paid["data"]["bill"]["next_due_date"], y("02-28"));
    let (status, renamed) = json(
        patch(
            id.clone(),
            json!({"name": "Rent 2", "next_due_date": y("02-28")}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    let (_, paid) = json(pay(id).await).await;
    assert_eq!(paid["data"]["bill"]["next_due_date"], y("03-31"));
}

#[tokio::test]
async fn autopay_catches_up_on_every_missed_due_date_without_overdue_noise() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let t = today();
    let weekly = bill(
        &app,
        &s,
        json!({"name": "Gym", "frequency": "weekly", "autopay": true,
               "next_due_date": t - Days::new(35)}),
    )
    .await;
    let report = finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    // t-35, t-28, ..., t: six due dates in one run.
    assert_eq!(report.autopaid, 6, "{report:?}");
    let after = app
        .data(
            &s.user,
            &format!("/api/v1/bills/{}", weekly["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(after["next_due_date"], json!(t + Days::new(7)));
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM notifications WHERE type = 'bill_overdue'"),
        0
    );
    // An autopay bill the job has not reached yet is not reported overdue either.
    app.execute(&format!(
        "UPDATE bills SET next_due_date = '{}' WHERE id = '{}'",
        t - Days::new(3),
        weekly["id"].as_str().unwrap()
    ));
    // A request of the user holds their lock while the job runs.
    let mut request = app.db.connect();
    diesel::Connection::begin_test_transaction(&mut request).unwrap();
    finai::db::lock_ledger(&mut request, s.user.id.parse().unwrap()).unwrap();
    let report = finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    assert_eq!(report.autopaid, 0, "{report:?}");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM notifications WHERE type = 'bill_overdue'"),
        0
    );
}

#[tokio::test]
async fn a_payment_that_fails_half_way_leaves_nothing_behind() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = bill(&app, &s, json!({})).await;
    let id = b["id"].as_str().unwrap();
    // The expense is written after the payment record: make that write fail.
    app.execute(
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ \
         LANGUAGE plpgsql",
    );
    app.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION refuse()",
    );
    let response = app
        .send_as(
            Method::POST,
            &format!("/api/v1/bills/{id}/pay"),
            &s.user.access_token,
            Some(&json!({})),
        )
        .await;
    assert_error(response, 500, "internal_error").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM bill_payments"), 0);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 0);
    let still = app.data(&s.user, &format!("/api/v1/bills/{id}")).await;
    assert_eq!(
        still["next_due_date"],
        y("01-31"),
        "the due date did not move"
    );
    app.execute("DROP TRIGGER refuse ON transactions");
    let (status, _) = json(
        app.send_as(
            Method::POST,
            &format!("/api/v1/bills/{id}/pay"),
            &s.user.access_token,
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "the retry pays it");
}

#[tokio::test]
async fn two_payments_of_one_due_date_at_once_make_one() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = bill(&app, &s, json!({})).await;
    let path = format!("/api/v1/bills/{}/pay", b["id"].as_str().unwrap());
    let pays: Vec<_> = (0..4)
        .map(|_| {
            app.send_as(
                Method::POST,
                &path,
                &s.user.access_token,
                Some(&json!({"due_date": y("01-31")})),
            )
        })
        .collect();
    let statuses: Vec<u16> = futures_util::future::join_all(pays)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM bill_payments"), 1);
    assert_eq!(app.scalar("SELECT count(*) AS value FROM transactions"), 1);
}

#[tokio::test]
async fn upcoming_lists_overdue_bills_first_and_skips_cancelled_ones() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let t = today();
    let soon = bill(
        &app,
        &s,
        json!({"name": "Internet", "next_due_date": t + Days::new(5)}),
    )
    .await;
    let late = bill(
        &app,
        &s,
        json!({"name": "Water", "next_due_date": t - Days::new(3)}),
    )
    .await;
    let far = bill(
        &app,
        &s,
        json!({"name": "Insurance", "next_due_date": t + Days::new(90)}),
    )
    .await;
    let gone = bill(
        &app,
        &s,
        json!({"name": "Gym", "next_due_date": t + Days::new(1)}),
    )
    .await;
    let (status, cancelled) = json(
        app.send_as(
            Method::POST,
            &format!("/api/v1/bills/{}/cancel", gone["id"].as_str().unwrap()),
            &s.user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["data"]["status"], "cancelled");
    let pay_cancelled = app
        .send_as(
            Method::POST,
            &format!("/api/v1/bills/{}/pay", gone["id"].as_str().unwrap()),
            &s.user.access_token,
            Some(&json!({})),
        )
        .await;
    assert_error(pay_cancelled, 409, "bill_cancelled").await;

    let upcoming = app.data(&s.user, "/api/v1/bills/upcoming").await;
    let names: Vec<&str> = upcoming
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Water", "Internet"]);
    assert_eq!(upcoming[0]["status"], "overdue");
    assert_eq!(upcoming[1]["status"], "pending");
    let wide = app.data(&s.user, "/api/v1/bills/upcoming?days=120").await;
    assert_eq!(wide.as_array().unwrap().len(), 3);
    assert_eq!(late["status"], "overdue");
    assert_eq!(soon["status"], "pending");
    assert_eq!(far["reminder_days_before"], 3);
    assert_error(
        app.get_as("/api/v1/bills/upcoming?days=0", &s.user.access_token)
            .await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn invalid_bills_are_422_and_other_users_bills_404() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    for (body, field) in [
        (
            json!({"name": "x", "amount": 5, "category_id": s.salary, "wallet_id": s.cash, "frequency": "monthly", "next_due_date": y("01-01")}),
            "category_id",
        ),
        (
            json!({"name": "x", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "daily", "next_due_date": y("01-01")}),
            "frequency",
        ),
        (
            json!({"name": "x", "amount": 0, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "once", "next_due_date": y("01-01")}),
            "amount",
        ),
        (
            json!({"name": "x", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "once", "next_due_date": "2026-02-30"}),
            "next_due_date",
        ),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/bills",
                &s.user.access_token,
                Some(&body),
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(error["errors"][field].is_array(), "{field}: {error}");
        if field == "frequency" {
            // The choices offered are a bill's: never daily.
            let message = error["errors"][field][0].as_str().unwrap();
            let (_, offered) = message.split_once("expected").unwrap();
            assert!(offered.contains("monthly"), "{message}");
            assert!(!offered.contains("daily"), "{message}");
        }
    }
    let b = bill(&app, &s, json!({})).await;
    let other = app.register("bob@example.com").await;
    let id = b["id"].as_str().unwrap();
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/bills/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/bills/{id}"),
            Some(json!({"amount": 1})),
        ),
        (Method::DELETE, format!("/api/v1/bills/{id}"), None),
        (
            Method::POST,
            format!("/api/v1/bills/{id}/pay"),
            Some(json!({})),
        ),
        (Method::POST, format!("/api/v1/bills/{id}/cancel"), None),
        (Method::GET, format!("/api/v1/bills/{id}/payments"), None),
    ] {
        assert_error(
            app.send_as(method, &path, &other.access_token, body.as_ref())
                .await,
            404,
            "not_found",
        )
        .await;
    }
    let in_use = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/wallets/{}", s.cash),
            &s.user.access_token,
            None,
        )
        .await;
    assert_error(in_use, 409, "wallet_in_use").await;
}

#[tokio::test]
async fn recurring_transactions_materialise_exactly_once_even_with_two_workers() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let t = today();
    let (status, template) = json(app.send_as(Method::POST, "/api/v1/recurring", &s.user.access_token, Some(&json!({
        "type": "income", "amount": 100, "description": "Pocket money", "category_id": s.salary,
        "wallet_id": s.cash, "frequency": "daily", "next_date": t - Days::new(4), "end_date": t - Days::new(1)}))).await).await;
    assert_eq!(status, 201, "{template}");
    let monthly = app
        .send_as(
            Method::POST,
            "/api/v1/recurring",
            &s.user.access_token,
            Some(&json!({
        "type": "expense", "amount": 30, "description": "Gym", "category_id": s.utilities,
        "wallet_id": s.cash, "frequency": "monthly", "next_date": t + Days::new(3)})),
        )
        .await;
    assert_eq!(monthly.status(), 201);

    let url = app.db.url.clone();
    let reports: Vec<finai::jobs::JobReport> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let url = url.clone();
                scope.spawn(move || {
                    use diesel::Connection;
                    let mut conn = diesel::PgConnection::establish(&url).unwrap();
                    finai::jobs::run_once(&mut conn, Utc::now()).unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(
        reports.iter().map(|r| r.materialized).sum::<usize>(),
        4,
        "{reports:?}"
    );
    let again = finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    assert_eq!(again.materialized, 0);
    let income = app
        .data(&s.user, "/api/v1/transactions?type=income&sort=date")
        .await;
    let dates: Vec<&str> = income
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["date"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=4)
        .rev()
        .map(|d| (t - Days::new(d)).to_string())
        .collect();
    assert_eq!(dates, expected);
    let id = template["data"]["id"].as_str().unwrap();
    let after = app.data(&s.user, &format!("/api/v1/recurring/{id}")).await;
    assert_eq!(after["active"], false, "past its end date");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM transactions WHERE type = 'expense'"),
        0,
        "not due yet"
    );
}

#[tokio::test]
async fn the_job_pays_autopay_bills_and_reminds_once_per_due_date() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let t = today();
    bill(
        &app,
        &s,
        json!({"name": "Phone", "autopay": true, "next_due_date": t - Days::new(1)}),
    )
    .await;
    bill(
        &app,
        &s,
        json!({"name": "Internet", "next_due_date": t + Days::new(2), "reminder_days_before": 3}),
    )
    .await;
    bill(
        &app,
        &s,
        json!({"name": "Water", "next_due_date": t - Days::new(2)}),
    )
    .await;
    bill(
        &app,
        &s,
        json!({"name": "Insurance", "next_due_date": t + Days::new(20)}),
    )
    .await;
    for _ in 0..2 {
        finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    }
    assert_eq!(app.scalar("SELECT count(*) AS value FROM bill_payments"), 1);
    let notifications = app.data(&s.user, "/api/v1/notifications").await;
    let mut seen: Vec<(String, String)> = notifications
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap().to_owned(),
                n["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "bill_due");
    assert!(seen[0].1.starts_with("Internet"));
    assert_eq!(seen[1].0, "bill_overdue");
    assert!(seen[1].1.starts_with("Water"));
}

#[tokio::test]
async fn recurring_templates_follow_the_transaction_rules() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let bad = app.send_as(Method::POST, "/api/v1/recurring", &s.user.access_token, Some(&json!({
        "type": "expense", "amount": 5, "category_id": s.salary, "wallet_id": s.cash, "frequency": "monthly"}))).await;
    assert_error(bad, 422, "validation_failed").await;
    let once = app.send_as(Method::POST, "/api/v1/recurring", &s.user.access_token, Some(&json!({
        "type": "expense", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "once"}))).await;
    assert_error(once, 422, "validation_failed").await;
    let other = app.register("bob@example.com").await;
    let foreign = app.send_as(Method::POST, "/api/v1/recurring", &other.access_token, Some(&json!({
        "type": "expense", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "monthly"}))).await;
    assert_error(foreign, 404, "not_found").await;
    let (status, created) = json(app.send_as(Method::POST, "/api/v1/recurring", &s.user.access_token, Some(&json!({
        "type": "expense", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "monthly",
        "next_date": y("01-31")}))).await).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap();
    let (status, patched) = json(
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/recurring/{id}"),
            &s.user.access_token,
            Some(&json!({"amount": 7, "active": false})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["data"]["amount"], json!(7));
    assert_error(
        app.get_as(&format!("/api/v1/recurring/{id}"), &other.access_token)
            .await,
        404,
        "not_found",
    )
    .await;
    let (status, _) = json(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/recurring/{id}"),
            &s.user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.data(&s.user, "/api/v1/recurring").await, json!([]));
}

#[tokio::test]
async fn one_failing_bill_never_stops_the_job_for_others() {
    let app = spawn_app().await;
    let ana = setup(&app).await;
    let t = today();
    let broken = bill(
        &app,
        &ana,
        json!({"name": "Broken", "autopay": true, "next_due_date": t - Days::new(1)}),
    )
    .await;
    finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    // As if the due date had been moved back onto the one just paid.
    app.execute(&format!(
        "UPDATE bills SET next_due_date = '{}' WHERE id = '{}'",
        t - Days::new(1),
        broken["id"].as_str().unwrap()
    ));
    let bob_user = app.register("bob@example.com").await;
    let bob = Setup {
        cash: app.create_wallet(&bob_user, "Cash", "USD").await,
        utilities: app.category_id(&bob_user, "Electricity").await,
        salary: app.category_id(&bob_user, "Salary").await,
        user: bob_user,
    };
    bill(
        &app,
        &bob,
        json!({"name": "Fine", "autopay": true, "next_due_date": t - Days::new(1)}),
    )
    .await;
    let report = finai::jobs::run_once(&mut app.db.connect(), Utc::now()).unwrap();
    assert_eq!(report.autopaid, 1, "{report:?}");
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(app.scalar("SELECT count(*) AS value FROM bill_payments"), 2);
}

#[tokio::test]
async fn dates_far_in_the_past_are_refused_for_schedules() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let old = today() - Days::new(400);
    let response = app.send_as(Method::POST, "/api/v1/bills", &s.user.access_token, Some(&json!({
        "name": "Ancient", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "weekly",
        "next_due_date": old}))).await;
    assert_error(response, 422, "validation_failed").await;
    let response = app.send_as(Method::POST, "/api/v1/recurring", &s.user.access_token, Some(&json!({
        "type": "expense", "amount": 5, "category_id": s.utilities, "wallet_id": s.cash, "frequency": "daily",
        "next_date": old}))).await;
    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn cancelling_while_the_bill_is_edited_and_paid_queues_instead_of_deadlocking() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    for _ in 0..8 {
        let b = bill(&app, &s, json!({"next_due_date": y("03-20")})).await;
        let id = b["id"].as_str().unwrap().to_owned();
        let mut requests = Vec::new();
        for round in 0..3 {
            let (cancel, edit, pay) = (
                format!("/api/v1/bills/{id}/cancel"),
                format!("/api/v1/bills/{id}"),
                format!("/api/v1/bills/{id}/pay"),
            );
            requests.push((Method::POST, cancel, json!({})));
            requests.push((Method::PATCH, edit, json!({"amount": 5 + round})));
            if round < 2 {
                requests.push((Method::POST, pay, json!({})));
            }
        }
        let answers =
            futures_util::future::join_all(requests.iter().map(|(method, path, body)| {
                app.send_as(method.clone(), path, &s.user.access_token, Some(body))
            }))
            .await;
        for answer in answers {
            let (status, body) = json(answer).await;
            // A payment after the cancel is refused as such; nothing is a retry-me conflict.
            assert!(
                status == 200 || body["code"] == "bill_cancelled",
                "{status} {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_paid_one_off_bill_moved_to_a_new_date_is_open_on_it() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let b = bill(
        &app,
        &s,
        json!({"frequency": "once", "next_due_date": y("03-01")}),
    )
    .await;
    let id = b["id"].as_str().unwrap();
    let path = format!("/api/v1/bills/{id}");
    let (status, paid) = json(
        app.send_as(
            Method::POST,
            &format!("{path}/pay"),
            &s.user.access_token,
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["bill"]["status"], "paid");

    let (status, moved) = json(
        app.send_as(
            Method::PATCH,
            &path,
            &s.user.access_token,
            Some(&json!({"next_due_date": y("04-15")})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["data"]["next_due_date"], y("04-15"));
    assert_eq!(moved["data"]["status"], "pending");
    let (status, paid) = json(
        app.send_as(
            Method::POST,
            &format!("{path}/pay"),
            &s.user.access_token,
            Some(&json!({})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["data"]["bill"]["status"], "paid");
    assert_eq!(paid["data"]["transaction"]["amount"], 500);
}
