//! The assistant, savings goals and what-if scenarios: answers pinned to hand-computed figures
//! on a small ledger in English and Vietnamese, follow-ups through a conversation, honest
//! answers to what it cannot answer, bad input, the log and feedback, and isolation.

use chrono::{Datelike, Months, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp, TestUser};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn first_of_month() -> NaiveDate {
    today().with_day(1).unwrap()
}

fn mid_last_month() -> NaiveDate {
    first_of_month()
        .checked_sub_months(Months::new(1))
        .unwrap()
        .with_day(15)
        .unwrap()
}

async fn ask(app: &TestApp, user: &TestUser, body: Value) -> Value {
    app.data_of(user, Method::POST, "/api/v1/assistant/ask", body)
        .await
}

async fn category(app: &TestApp, user: &TestUser, name: &str, kind: &str) -> String {
    let data = app
        .data_of(
            user,
            Method::POST,
            "/api/v1/categories",
            json!({"name": name, "kind": kind}),
        )
        .await;
    data["id"].as_str().unwrap().to_owned()
}

/// A wallet of 1,000 USD; "Ăn uống" expenses of 42.50 (Phở Hà Nội) and 10.25 (Circle K) this
/// month and 30 last month; 2,000 salary this month; a 100 budget on "Ăn uống".
async fn small_ledger(app: &TestApp, user: &TestUser) -> (String, String) {
    let wallet = app
        .data_of(
            user,
            Method::POST,
            "/api/v1/wallets",
            json!({"name": "Checking", "type": "bank", "currency": "USD", "opening_balance": 1000}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let food = category(app, user, "Ăn uống", "expense").await;
    let salary = category(app, user, "Lương", "income").await;
    for (amount, date, description, merchant) in [
        ("42.50", first_of_month(), "Phở", "Phở Hà Nội"),
        ("10.25", first_of_month(), "Snacks", "Circle K"),
        ("30", mid_last_month(), "Phở", "Phở Hà Nội"),
    ] {
        app.create_transaction(
            user,
            json!({"type": "expense", "amount": amount.parse::<f64>().unwrap(), "date": date,
                   "wallet_id": wallet, "category_id": food, "description": description,
                   "merchant": merchant}),
        )
        .await;
    }
    app.create_transaction(
        user,
        json!({"type": "income", "amount": 2000, "date": first_of_month(), "wallet_id": wallet,
               "category_id": salary, "description": "Salary"}),
    )
    .await;
    app.data_of(
        user,
        Method::POST,
        "/api/v1/budgets",
        json!({"name": "Food", "amount": 100, "category_ids": [food], "period": "monthly",
               "start_date": first_of_month()}),
    )
    .await;
    (wallet, food)
}

#[tokio::test]
async fn questions_in_english_and_vietnamese_are_answered_from_the_ledgers_own_figures() {
    let app = spawn_app().await;
    let user = app.register("asker@example.com").await;
    let (wallet, food) = small_ledger(&app, &user).await;

    // The same question with and without diacritics, and in English.
    for question in [
        "tháng này tôi tiêu bao nhiêu cho ăn uống",
        "thang nay toi tieu bao nhieu cho an uong",
        "How much did I spend on an uong this month?",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "spending", "{question}: {answer}");
        assert_eq!(
            answer["entities"]["category"]["id"],
            food.as_str(),
            "{answer}"
        );
        assert_eq!(answer["data"]["total"], json!(52.75), "{answer}");
        assert_eq!(answer["data"]["transactions"], 2);
        assert_eq!(
            answer["data"]["query"]["period"]["from"],
            json!(first_of_month())
        );
        let text = answer["answer"].as_str().unwrap();
        if question.starts_with("How") {
            assert_eq!(answer["locale"], "en");
            assert!(text.contains("52.75 USD"), "{text}");
        } else {
            assert_eq!(answer["locale"], "vi");
            assert!(
                text.contains("52,75 USD") && text.contains("Bạn đã chi"),
                "{text}"
            );
        }
    }

    // At a merchant, last month.
    let answer = ask(
        &app,
        &user,
        json!({"question": "how much did I spend at Phở Hà Nội last month?"}),
    )
    .await;
    assert_eq!(answer["entities"]["merchant"], "Phở Hà Nội", "{answer}");
    assert_eq!(answer["data"]["total"], json!(30), "{answer}");

    // Budget status, left, closest: 52.75 of 100 spent.
    let answer = ask(
        &app,
        &user,
        json!({"question": "how much is left in my ăn uống budget?"}),
    )
    .await;
    assert_eq!(answer["intent"], "budget_remaining", "{answer}");
    assert_eq!(
        answer["data"]["budgets"][0]["remaining"],
        json!(47.25),
        "{answer}"
    );
    assert!(
        answer["answer"].as_str().unwrap().contains("47.25 USD"),
        "{answer}"
    );
    let answer = ask(
        &app,
        &user,
        json!({"question": "Which budget am I closest to exceeding?"}),
    )
    .await;
    assert_eq!(answer["intent"], "budget_closest", "{answer}");
    assert_eq!(
        answer["data"]["budgets"][0]["progress_pct"],
        json!(52.8),
        "{answer}"
    );
    let answer = ask(
        &app,
        &user,
        json!({"question": "Ngân sách ăn uống của tôi có ổn không?"}),
    )
    .await;
    assert_eq!(answer["intent"], "budget_status", "{answer}");
    let line = &answer["data"]["budgets"][0];
    let days = (first_of_month().checked_add_months(Months::new(1)).unwrap() - first_of_month())
        .num_days();
    let elapsed = (today() - first_of_month()).num_days() + 1;
    let projected = (52.75 * days as f64 / elapsed as f64 * 100.0).round() / 100.0;
    assert_eq!(
        line["projected_spent"].as_f64().unwrap(),
        projected,
        "{answer}"
    );
    assert_eq!(line["on_track"], json!(projected <= 100.0));

    // A budget by its own name.
    let answer = ask(
        &app,
        &user,
        json!({"question": "how much is left in the Food budget?"}),
    )
    .await;
    assert_eq!(answer["entities"]["budget"]["name"], "Food", "{answer}");
    assert_eq!(
        answer["data"]["budgets"][0]["remaining"],
        json!(47.25),
        "{answer}"
    );

    // Net and savings rate: 2,000 in, 52.75 out this month.
    let answer = ask(
        &app,
        &user,
        json!({"question": "what's my savings rate this month?"}),
    )
    .await;
    assert_eq!(answer["intent"], "net_savings", "{answer}");
    assert_eq!(answer["data"]["net"], json!(1947.25));
    assert_eq!(answer["data"]["savings_rate_pct"], json!(97.4));

    // Biggest expenses, compare, balance.
    let answer = ask(
        &app,
        &user,
        json!({"question": "top 2 expenses this month"}),
    )
    .await;
    assert_eq!(
        answer["data"]["expenses"][0]["amount"],
        json!(42.5),
        "{answer}"
    );
    assert_eq!(answer["data"]["expenses"].as_array().unwrap().len(), 2);
    let answer = ask(
        &app,
        &user,
        json!({"question": "so sánh chi tiêu tháng này với tháng trước"}),
    )
    .await;
    assert_eq!(answer["intent"], "compare_periods", "{answer}");
    assert_eq!(
        (
            answer["data"]["total"].clone(),
            answer["data"]["compare_total"].clone()
        ),
        (json!(52.75), json!(30))
    );
    assert_eq!(answer["data"]["change"], json!(22.75));
    let answer = ask(&app, &user, json!({"question": "what's my balance?"})).await;
    assert_eq!(answer["intent"], "balance", "{answer}");
    assert_eq!(
        answer["data"]["totals"][0]["balance"],
        json!(2917.25),
        "{answer}"
    );

    // Budget figures are kept between questions, never past a write: an expense and its
    // deletion both show in the next answer.
    let remaining = |answer: Value| answer["data"]["budgets"][0]["remaining"].clone();
    let question = json!({"question": "how much is left in the Food budget?"});
    assert_eq!(
        remaining(ask(&app, &user, question.clone()).await),
        json!(47.25)
    );
    let expense = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 7.25, "date": today(), "wallet_id": wallet,
                   "category_id": food, "description": "Bánh mì"}),
        )
        .await;
    assert_eq!(
        remaining(ask(&app, &user, question.clone()).await),
        json!(40)
    );
    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{}", expense["id"].as_str().unwrap()),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(remaining(ask(&app, &user, question).await), json!(47.25));
}

#[tokio::test]
async fn a_conversation_carries_context_and_what_cannot_be_answered_is_said_honestly() {
    let app = spawn_app().await;
    let user = app.register("talker@example.com").await;
    small_ledger(&app, &user).await;

    let first = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on ăn uống this month?"}),
    )
    .await;
    let conversation = first["conversation_id"].as_str().unwrap().to_owned();
    let next = ask(
        &app,
        &user,
        json!({"question": "and last month?", "conversation_id": conversation}),
    )
    .await;
    assert_eq!(next["intent"], "spending", "{next}");
    assert_eq!(next["data"]["total"], json!(30), "{next}");
    assert_eq!(next["conversation_id"], conversation.as_str());
    assert_eq!(next["entities"]["category"]["name"], "Ăn uống");
    // Without a conversation, a follow-up has nothing to follow.
    let alone = ask(&app, &user, json!({"question": "and last month?"})).await;
    assert_eq!(alone["intent"], "unknown", "{alone}");

    // A category the ledger does not have: said so, with the closest one, never a total.
    let answer = ask(
        &app,
        &user,
        json!({"question": "how much did I spend on yachts this month?"}),
    )
    .await;
    assert_eq!(answer["intent"], "unknown_name", "{answer}");
    assert_eq!(answer["data"]["unknown"], "yachts", "{answer}");
    assert!(answer["data"].get("total").is_none(), "{answer}");
    assert!(
        answer["answer"].as_str().unwrap().contains("no category"),
        "{answer}"
    );
    // Not about money at all, and mixed-script noise: examples of what it can answer.
    for question in [
        "what's the weather in Paris tomorrow?",
        "Кто ты 你好 ok?",
        "tell me a joke",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "unknown", "{question}: {answer}");
        assert!(!answer["data"]["examples"].as_array().unwrap().is_empty());
    }

    // Everything is logged, and feedback is kept with the answer.
    let log = app
        .data(
            &user,
            &format!("/api/v1/assistant/answers?conversation_id={conversation}"),
        )
        .await;
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");
    let id = next["answer_id"].as_str().unwrap();
    let rated = app
        .data_of(
            &user,
            Method::POST,
            &format!("/api/v1/assistant/answers/{id}/feedback"),
            json!({"rating": "not_helpful", "comment": "I meant groceries"}),
        )
        .await;
    assert_eq!(
        (rated["feedback"].clone(), rated["question"].clone()),
        (json!("not_helpful"), json!("and last month?"))
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS value FROM assistant_answers WHERE id = '{id}' AND feedback_comment = 'I meant groceries'")),
        1
    );

    // Another user can neither continue the conversation nor rate the answer, nor see the log.
    let other = app.register("stranger@example.com").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/assistant/ask",
            &other.access_token,
            Some(&json!({"question": "and last month?", "conversation_id": conversation})),
        )
        .await;
    assert_error(response, 404, "not_found").await;
    let response = app
        .send_as(
            Method::POST,
            &format!("/api/v1/assistant/answers/{id}/feedback"),
            &other.access_token,
            Some(&json!({"rating": "helpful"})),
        )
        .await;
    assert_error(response, 404, "not_found").await;
    assert_eq!(
        app.data(&other, "/api/v1/assistant/answers").await,
        json!([])
    );
}

#[tokio::test]
async fn bad_questions_are_refused_with_422_and_nothing_is_logged() {
    let app = spawn_app().await;
    let user = app.register("bad-asker@example.com").await;
    for body in [
        json!({"question": ""}),
        json!({"question": "   "}),
        json!({"question": "x".repeat(10_000)}),
        json!({"question": "how much\u{0000}\u{0001}"}),
        json!({"question": "hi", "locale": "fr"}),
        json!({"question": 42}),
        json!({"question": "hi", "extra": true}),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/assistant/ask",
                &user.access_token,
                Some(&body),
            )
            .await;
        assert_eq!(response.status(), 422, "{body}");
    }
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM assistant_answers"),
        0
    );
}

#[tokio::test]
async fn goals_track_contributions_or_a_wallet_and_notify_when_reached() {
    let app = spawn_app().await;
    let user = app.register("saver@example.com").await;
    let wallet = app.create_wallet(&user, "Piggy", "USD").await;
    let date = today().checked_add_months(Months::new(6)).unwrap();
    let goal = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/goals",
            json!({"name": "Vacation", "target_amount": 1200, "target_date": date}),
        )
        .await;
    let id = goal["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (goal["saved"].clone(), goal["status"].clone()),
        (json!(0), json!("on_track")),
        "{goal}"
    );
    assert_eq!(goal["monthly_needed"], json!(200), "{goal}");

    let added = app
        .data_of(
            &user,
            Method::POST,
            &format!("/api/v1/goals/{id}/contributions"),
            json!({"amount": 300.5}),
        )
        .await;
    assert_eq!(added["goal"]["saved"], json!(300.5), "{added}");
    assert_eq!(added["goal"]["progress"], json!(25.04));
    // Taking out more than is saved, a future date, zero: refused, nothing stored.
    for body in [
        json!({"amount": -400}),
        json!({"amount": 0}),
        json!({"amount": 5, "date": today().succ_opt().unwrap()}),
    ] {
        let response = app
            .send_as(
                Method::POST,
                &format!("/api/v1/goals/{id}/contributions"),
                &user.access_token,
                Some(&body),
            )
            .await;
        assert_eq!(response.status(), 422, "{body}");
    }
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM goal_contributions"),
        1
    );

    // Reaching the target notifies once.
    let added = app
        .data_of(
            &user,
            Method::POST,
            &format!("/api/v1/goals/{id}/contributions"),
            json!({"amount": 899.5}),
        )
        .await;
    assert_eq!(added["goal"]["status"], "reached", "{added}");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM notifications WHERE type = 'goal_reached'"),
        1
    );
    let answer = ask(
        &app,
        &user,
        json!({"question": "how is my vacation goal going?"}),
    )
    .await;
    assert_eq!(answer["intent"], "goal_progress", "{answer}");
    assert_eq!(answer["data"]["goals"][0]["saved"], json!(1200), "{answer}");

    // A goal on a wallet counts the wallet's balance and takes no contributions.
    app.create_transaction(&user, json!({"type": "income", "amount": 250, "date": today(),
        "wallet_id": wallet, "category_id": app.category_id(&user, "Salary").await, "description": "Pay"})).await;
    let tracked = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/goals",
            json!({"name": "Laptop", "target_amount": 1000, "wallet_id": wallet}),
        )
        .await;
    assert_eq!(
        (tracked["saved"].clone(), tracked["currency"].clone()),
        (json!(250), json!("USD")),
        "{tracked}"
    );
    let response = app
        .send_as(
            Method::POST,
            &format!(
                "/api/v1/goals/{}/contributions",
                tracked["id"].as_str().unwrap()
            ),
            &user.access_token,
            Some(&json!({"amount": 5})),
        )
        .await;
    assert_error(response, 409, "goal_tracks_wallet").await;
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/goals",
            &user.access_token,
            Some(&json!({"name": "Past", "target_amount": 10, "target_date": "2020-01-01"})),
        )
        .await;
    assert_eq!(response.status(), 422);

    // Another user's goal does not exist for them.
    let other = app.register("not-saver@example.com").await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/goals/{id}")),
        (Method::DELETE, format!("/api/v1/goals/{id}")),
        (Method::POST, format!("/api/v1/goals/{id}/contributions")),
    ] {
        let response = app
            .send_as(
                method,
                &path,
                &other.access_token,
                Some(&json!({"amount": 1})),
            )
            .await;
        assert_error(response, 404, "not_found").await;
    }
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/goals",
            &other.access_token,
            Some(&json!({"name": "Mine", "target_amount": 10, "wallet_id": wallet})),
        )
        .await;
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn a_simulation_projects_balances_with_the_changes_and_writes_nothing() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let (wallet, food) = small_ledger(&app, &user).await;
    // Today: 1,000 + 2,000 − 52.75 − 30 = 2,917.25. No whole month of history yet for income
    // (the ledger began last month), so only the changes and the forecast move it.
    // The first simulation trains the spending forecast (a cache of derived figures); after
    // that, a simulation writes nothing at all.
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/scenarios/simulate",
        json!({"months": 1}),
    )
    .await;
    let before = app.fingerprint();
    let next_month = first_of_month().checked_add_months(Months::new(1)).unwrap();
    let result = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            json!({
            "months": 3,
            "changes": [
                {"kind": "income", "amount": 500, "every": "month", "date": next_month},
                {"kind": "expense", "amount": 2000, "date": next_month, "wallet_id": wallet},
            ]}),
        )
        .await;
    assert_eq!(app.fingerprint(), before, "a simulation writes nothing");
    assert_eq!(result["opening_total"], json!(2917.25), "{result}");
    let months = result["months"].as_array().unwrap();
    assert_eq!(months.len(), 3);
    assert_eq!(months[1]["changes"], json!(-1500), "{result}");
    assert_eq!(months[2]["changes"], json!(500), "{result}");
    // Each month's total is the last one's plus income, transfers and changes, less expense,
    // to the cent, as printed.
    let mut previous = 2917.25;
    for month in months {
        let total = month["total"].as_f64().unwrap();
        let moved = month["income"].as_f64().unwrap()
            + month["changes"].as_f64().unwrap()
            + month["transfers"].as_f64().unwrap()
            - month["expense"].as_f64().unwrap();
        assert!((total - previous - moved).abs() < 0.0001, "{month}");
        assert!(
            month["low"].as_f64().unwrap() <= total && total <= month["high"].as_f64().unwrap()
        );
        previous = total;
    }
    assert_eq!(result["budgets"][0]["name"], "Food");

    // A write right after: the next simulation starts from the new balance at once, on the
    // forecast trained a moment ago (one expense does not retrain it; POST
    // /predictions/predict does, as before).
    let trained = || {
        app.scalar(
            "SELECT (extract(epoch FROM trained_at) * 1000000)::bigint AS value FROM ml_models \
             WHERE kind = 'forecast'",
        )
    };
    let was = trained();
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 17.25, "date": today(), "wallet_id": wallet,
               "category_id": food, "description": "Bún chả"}),
    )
    .await;
    let after = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            json!({"months": 1}),
        )
        .await;
    assert_eq!(after["opening_total"], json!(2900), "{after}");
    assert_eq!(trained(), was, "the recent forecast served the simulation");
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/predictions/predict",
            &user.access_token,
            Some(&json!({"period": "month", "horizon": 1})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_ne!(trained(), was, "predictions retrain on newer data");

    // 600 months, a negative amount, a past date, someone else's wallet: refused.
    let other = app.register("other-planner@example.com").await;
    let foreign = app.create_wallet(&other, "Theirs", "USD").await;
    for (body, status) in [
        (json!({"months": 600}), 422),
        (json!({"months": 0}), 422),
        (
            json!({"months": 3, "changes": [{"kind": "expense", "amount": -5}]}),
            422,
        ),
        (
            json!({"months": 3, "changes": [{"kind": "income", "amount": 5, "date": "2020-01-01"}]}),
            422,
        ),
        (
            json!({"months": 3, "changes": [{"kind": "expense", "amount": 5, "wallet_id": foreign}]}),
            404,
        ),
        (
            json!({"months": 3, "changes": [{"kind": "cancel_bill", "bill_id": foreign}]}),
            404,
        ),
        (json!({"months": 3, "changes": [{"kind": "mystery"}]}), 422),
    ] {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/scenarios/simulate",
                &user.access_token,
                Some(&body),
            )
            .await;
        assert_eq!(response.status(), status, "{body}");
    }

    // Saved, listed, re-run, deleted; invisible to another user.
    let saved = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios",
            json!({"name": "Laptop", "scenario": {
            "months": 2, "changes": [{"kind": "expense", "amount": 2000, "date": next_month}]}}),
        )
        .await;
    let id = saved["id"].as_str().unwrap();
    assert_eq!(saved["result"]["months"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.data(&user, "/api/v1/scenarios").await[0]["name"],
        "Laptop"
    );
    let again = app.data(&user, &format!("/api/v1/scenarios/{id}")).await;
    assert_eq!(
        again["result"]["months"][1]["changes"],
        saved["result"]["months"][1]["changes"]
    );
    let response = app
        .get_as(&format!("/api/v1/scenarios/{id}"), &other.access_token)
        .await;
    assert_error(response, 404, "not_found").await;
    // A saved start that has since passed is run from this month, and the answer says so.
    app.execute(&format!(
        "UPDATE scenarios SET request = jsonb_set(request, '{{start}}', '\"2020-03-01\"') WHERE id = '{id}'"
    ));
    let moved = app.data(&user, &format!("/api/v1/scenarios/{id}")).await;
    assert_eq!(moved["scenario"]["start"], "2020-03-01", "{moved}");
    assert_eq!(moved["result"]["months"].as_array().unwrap().len(), 2);
    assert!(
        moved["result"]["assumptions"][0]
            .as_str()
            .unwrap()
            .contains("March 2020, which has passed"),
        "{moved}"
    );

    // "Can I afford …?" is answered by the same simulation.
    let answer = ask(
        &app,
        &user,
        json!({"question": "can I afford 100k by next month?"}),
    )
    .await;
    assert_eq!(answer["intent"], "afford", "{answer}");
    assert_eq!(answer["data"]["query"]["amount"], json!(100000));
    assert_eq!(answer["data"]["verdict"], "no", "{answer}");
    let answer = ask(
        &app,
        &user,
        json!({"question": "can I afford $50 by next month?"}),
    )
    .await;
    assert_eq!(answer["data"]["verdict"], "yes", "{answer}");
    assert_eq!(
        answer["data"]["query"]["date"],
        json!(next_month
            .checked_add_months(Months::new(1))
            .unwrap()
            .pred_opt()
            .unwrap())
    );
    // A date the simulation cannot reach (past, or beyond its 120 months) is said so; before,
    // a past date was answered for today and a far one as if the purchase were made.
    for (question, says) in [
        ("can I afford $50 by 2020-02-01?", "has passed"),
        ("can I afford $50 by 2199-01-01?", "too far ahead"),
    ] {
        let answer = ask(&app, &user, json!({ "question": question })).await;
        assert_eq!(answer["intent"], "afford", "{answer}");
        assert!(
            answer["answer"].as_str().unwrap().contains(says),
            "{answer}"
        );
        assert!(
            answer["data"]["unreachable"]["date"].is_string(),
            "{answer}"
        );
        assert!(answer["data"]["verdict"].is_null(), "{answer}");
    }
    // "-$500" is no price: the assistant asks for one rather than reading 500.
    let answer = ask(&app, &user, json!({"question": "can I afford -$500?"})).await;
    assert_eq!(answer["data"]["missing"], json!(["amount"]), "{answer}");

    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/scenarios/{id}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.data(&user, "/api/v1/scenarios").await, json!([]));
}

#[tokio::test]
async fn a_viewer_of_a_shared_ledger_may_ask_and_simulate_but_not_set_goals() {
    use crate::ledgers::{create_ledger, join};
    let app = spawn_app().await;
    let owner = app.register("house-owner@example.com").await;
    let viewer = app.register("house-viewer@example.com").await;
    let ledger = create_ledger(&app, &owner, "household").await;
    join(&app, &owner, &ledger, &viewer, "viewer").await;
    let base = format!("/api/v1/ledgers/{ledger}");

    let answer = app
        .data_of(
            &viewer,
            Method::POST,
            &format!("{base}/assistant/ask"),
            json!({"question": "How much did we spend this month?"}),
        )
        .await;
    assert_eq!(answer["intent"], "spending", "{answer}");
    let id = answer["answer_id"].as_str().unwrap();
    app.data_of(
        &viewer,
        Method::POST,
        &format!("{base}/assistant/answers/{id}/feedback"),
        json!({"rating": "helpful"}),
    )
    .await;
    app.data_of(
        &viewer,
        Method::POST,
        &format!("{base}/scenarios/simulate"),
        json!({"months": 2}),
    )
    .await;
    // Writes to the ledger stay the owner's and editors'.
    for (path, body) in [
        (
            format!("{base}/goals"),
            json!({"name": "Roof", "target_amount": 100}),
        ),
        (
            format!("{base}/scenarios"),
            json!({"name": "Plan", "scenario": {"months": 1}}),
        ),
    ] {
        let response = app
            .send_as(Method::POST, &path, &viewer.access_token, Some(&body))
            .await;
        assert_error(response, 403, "ledger_read_only").await;
    }
    // The owner's log is the owner's: the viewer's question is not in it.
    let owners = app.data(&owner, &format!("{base}/assistant/answers")).await;
    assert_eq!(owners, json!([]), "{owners}");
}

#[tokio::test]
async fn the_readme_example_is_answered_with_the_default_categories() {
    // A new account's categories: "Food & Dining" with "Groceries" and "Restaurants" under it.
    let app = spawn_app().await;
    let user = app.register("defaults@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 37.5, "category_id": groceries,
               "wallet_id": wallet, "date": mid_last_month()}),
    )
    .await;
    let answer = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on food last month?"}),
    )
    .await;
    assert_eq!(
        answer["entities"]["category"]["name"], "Food & Dining",
        "{answer}"
    );
    assert!(
        answer["answer"].as_str().unwrap().contains("37.5"),
        "{answer}"
    );
}

#[tokio::test]
async fn cancelling_a_bill_saves_only_what_the_baseline_counted() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let (wallet, _) = small_ledger(&app, &user).await;
    let electricity = app.category_id(&user, "Electricity").await;
    let bill = |name: &str, due: NaiveDate| {
        json!({"name": name, "amount": 80, "category_id": electricity, "wallet_id": wallet,
               "frequency": "monthly", "next_due_date": due})
    };
    let simulate =
        |id: String| json!({"months": 3, "changes": [{"kind": "cancel_bill", "bill_id": id}]});
    // A bill paid last month: its payment is in the months the baseline reads, so each later
    // month keeps its 80.
    let paid = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            bill("Power", mid_last_month()),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data_of(
        &user,
        Method::POST,
        &format!("/api/v1/bills/{paid}/pay"),
        json!({"paid_on": mid_last_month()}),
    )
    .await;
    let result = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            simulate(paid),
        )
        .await;
    let months = result["months"].as_array().unwrap();
    assert_eq!(months[1]["changes"], json!(80), "{result}");
    assert_eq!(months[2]["changes"], json!(80), "{result}");

    // A bill never paid yet is not in the baseline: cancelling it adds no money, and says so.
    let new = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            bill(
                "Gym",
                today().checked_add_days(chrono::Days::new(5)).unwrap(),
            ),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let result = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            simulate(new),
        )
        .await;
    for month in result["months"].as_array().unwrap() {
        assert_eq!(month["changes"], json!(0), "{result}");
    }
    let notes = result["assumptions"].to_string();
    assert!(
        notes.contains("Gym") && notes.contains("changes nothing"),
        "{result}"
    );
}

#[tokio::test]
async fn a_saved_scenario_outlives_the_bill_it_cancels() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let electricity = app.category_id(&user, "Electricity").await;
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Power", "amount": 80, "category_id": electricity,
                   "wallet_id": wallet, "frequency": "monthly",
                   "next_due_date": today().checked_add_days(chrono::Days::new(5)).unwrap()}),
        )
        .await;
    let bill = bill["id"].as_str().unwrap().to_owned();
    let saved = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios",
            json!({"name": "No power bill", "scenario": {
                "months": 2, "changes": [{"kind": "cancel_bill", "bill_id": bill}]}}),
        )
        .await;
    let id = saved["id"].as_str().unwrap();
    let deleted = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/bills/{bill}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 200);
    let again = app.data(&user, &format!("/api/v1/scenarios/{id}")).await;
    assert_eq!(again["name"], "No power bill");
    assert_eq!(again["result"]["months"].as_array().unwrap().len(), 2);
    assert!(
        again["result"]["assumptions"][0]
            .as_str()
            .unwrap()
            .contains("deleted since"),
        "{again}"
    );
}

#[tokio::test]
async fn a_split_expense_counts_once_in_a_category_it_is_split_across() {
    let app = spawn_app().await;
    let user = app.register("splitter@example.com").await;
    let wallet = app.create_wallet(&user, "Bank", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let clothing = app.category_id(&user, "Clothing").await;
    let day = today();
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 45.55, "category_id": groceries,
               "wallet_id": wallet, "date": day}),
    )
    .await;
    // Groceries and Cafe are both under Food & Dining: one transaction there, not two.
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 100.01, "wallet_id": wallet, "date": day,
               "splits": [{"category_id": groceries, "amount": 33.33},
                          {"category_id": cafe, "amount": 33.34},
                          {"category_id": clothing, "amount": 33.34}]}),
    )
    .await;
    let report = app
        .data(
            &user,
            &format!("/api/v1/reports/spending-by-category?from={day}&to={day}&level=top"),
        )
        .await;
    let food = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Food & Dining")
        .expect("Food & Dining in the report")
        .clone();
    assert_eq!(food["transaction_count"], 2, "{report}");
    let answer = ask(
        &app,
        &user,
        json!({"question": "how much did I spend on food & dining today"}),
    )
    .await;
    assert_eq!(answer["intent"], "spending", "{answer}");
    assert_eq!(answer["data"]["total"], food["amount"], "{answer}");
    assert_eq!(answer["data"]["transactions"], 2, "{answer}");
    assert!(
        answer["answer"]
            .as_str()
            .unwrap()
            .contains("in 2 transactions"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_simulated_month_adds_up_to_the_cent_as_printed() {
    let app = spawn_app().await;
    let user = app.register("cents@example.com").await;
    let wallet = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/wallets",
            json!({"name": "Bank", "type": "bank", "currency": "USD", "opening_balance": 1000}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let salary = app.category_id(&user, "Salary").await;
    let groceries = app.category_id(&user, "Groceries").await;
    // Three months of income and expense whose averages run to fractions of a cent.
    for (back, income, expense) in [(3, 100.0, 10.0), (2, 100.0, 20.0), (1, 100.01, 31.0)] {
        let day = first_of_month()
            .checked_sub_months(Months::new(back))
            .unwrap()
            .with_day(10)
            .unwrap();
        for (kind, amount, category) in [
            ("income", income, &salary),
            ("expense", expense, &groceries),
        ] {
            app.create_transaction(
                &user,
                json!({"type": kind, "amount": amount, "date": day, "wallet_id": wallet,
                       "category_id": category}),
            )
            .await;
        }
    }
    let result = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            json!({"months": 6}),
        )
        .await;
    let cents = |v: &Value| (v.as_f64().unwrap() * 100.0).round() as i64;
    let mut previous = cents(&result["opening_total"]);
    for month in result["months"].as_array().unwrap() {
        let total = cents(&month["total"]);
        let moved = cents(&month["income"]) + cents(&month["transfers"]) + cents(&month["changes"])
            - cents(&month["expense"]);
        assert_eq!(total, previous + moved, "{month}");
        let wallets: i64 = month["wallets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| cents(&w["balance"]))
            .sum();
        assert_eq!(wallets, total, "{month}");
        previous = total;
    }
}

#[tokio::test]
async fn saves_at_once_never_pass_the_scenario_limit() {
    let app = spawn_app().await;
    let user = app.register("many-plans@example.com").await;
    app.execute(&format!(
        "INSERT INTO scenarios (ledger_id, name, request) \
         SELECT '{}', 'Plan ' || g, '{{\"months\": 1}}'::jsonb FROM generate_series(1, 97) g",
        user.id
    ));
    let save = |n: usize| {
        app.send_as(
            Method::POST,
            "/api/v1/scenarios",
            &user.access_token,
            Some(&json!({"name": format!("Race {n}"), "scenario": {"months": 1}})),
        )
    };
    let (a, b, c, d, e, f) = tokio::join!(save(1), save(2), save(3), save(4), save(5), save(6));
    let created = [a, b, c, d, e, f]
        .iter()
        .filter(|r| r.status() == 201)
        .count();
    assert_eq!(created, 3, "three places were left");
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM scenarios"),
        100,
        "the limit held"
    );
    let refused = app
        .send_as(
            Method::POST,
            "/api/v1/scenarios",
            &user.access_token,
            Some(&json!({"name": "One more", "scenario": {"months": 1}})),
        )
        .await;
    assert_error(refused, 409, "scenario_limit").await;
}

/// What an outside run of questions found misread, each now answered from the right figures.
#[tokio::test]
async fn the_assistant_reads_income_wallets_follow_ups_days_and_bills_as_asked() {
    let app = spawn_app().await;
    let user = app.register("asker@example.com").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let dong = app.create_wallet(&user, "Vietcombank", "VND").await;
    let salary = app.category_id(&user, "Salary").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let transport = app.category_id(&user, "Transportation").await;
    let day = mid_last_month();
    for (kind, amount, category, wallet, date) in [
        ("income", 3000.0, &salary, &bank, day),
        ("expense", 230.0, &groceries, &bank, day),
        ("expense", 40.0, &transport, &bank, day),
        ("expense", 500000.0, &groceries, &dong, today()),
    ] {
        app.create_transaction(
            &user,
            json!({"type": kind, "amount": amount, "category_id": category,
                   "wallet_id": wallet, "date": date}),
        )
        .await;
    }
    let ask_of = |question: &str, conversation: Option<&str>| {
        let mut body = json!({ "question": question });
        if let Some(id) = conversation {
            body["conversation_id"] = json!(id);
        }
        ask(&app, &user, body)
    };

    // "income" is the kind of figure, not the default category "Investment income".
    let income = ask_of("what was my income last month?", None).await;
    assert_eq!(income["entities"]["category"], Value::Null, "{income}");
    assert_eq!(income["data"]["total"], json!(3000), "{income}");

    // A wallet in another currency is answered in its own.
    let vnd = ask_of("how much did I spend from Vietcombank this month?", None).await;
    assert_eq!(vnd["data"]["total"], json!(500000), "{vnd}");
    assert_eq!(vnd["data"]["query"]["currency"], "VND", "{vnd}");

    // "what about transport?" moves the conversation to Transportation.
    let first = ask_of("how much did I spend on groceries last month?", None).await;
    assert_eq!(first["data"]["total"], json!(230), "{first}");
    let conversation = first["conversation_id"].as_str().unwrap().to_owned();
    let next = ask_of("what about transport?", Some(&conversation)).await;
    assert_eq!(
        next["entities"]["category"]["name"], "Transportation",
        "{next}"
    );
    assert_eq!(next["data"]["total"], json!(40), "{next}");

    // A day written out is that day.
    let on_day = ask_of(&format!("how much did I spend on {day}?"), None).await;
    assert_eq!(on_day["data"]["total"], json!(270), "{on_day}");
    assert_eq!(
        on_day["data"]["query"]["period"]["from"],
        json!(day),
        "{on_day}"
    );

    // A range of days is one period, not a comparison of two.
    let month = day.format("%B");
    for question in [
        format!("how much did I spend between 1 and 15 {month}?"),
        format!(
            "how much did I spend from {} to {day}?",
            day.with_day(1).unwrap()
        ),
    ] {
        let range = ask_of(&question, None).await;
        assert_eq!(range["intent"], "spending", "{question}: {range}");
        assert_eq!(range["data"]["total"], json!(270), "{range}");
        let period = &range["data"]["query"]["period"];
        assert_eq!(period["from"], json!(day.with_day(1).unwrap()), "{range}");
        assert_eq!(period["to"], json!(day), "{range}");
    }

    // "Am I on track with my budgets?" is the budgets' status.
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/budgets",
        json!({"name": "Food", "amount": 400, "period": "monthly", "category_ids": [groceries]}),
    )
    .await;
    let on_track = ask_of("am I on track with my budgets?", None).await;
    assert_eq!(on_track["intent"], "budget_status", "{on_track}");

    // A weekly bill falls due every week of the window.
    let first_due = today().checked_add_days(chrono::Days::new(2)).unwrap();
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/bills",
        json!({"name": "Cleaner", "amount": 10, "category_id": groceries, "wallet_id": bank,
               "frequency": "weekly", "next_due_date": first_due}),
    )
    .await;
    let bills = ask_of("What are my bills for the next 30 days?", None).await;
    let until: NaiveDate = bills["data"]["query"]["until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let times = (0..)
        .map(|w| first_due + chrono::Days::new(7 * w))
        .take_while(|d| *d <= until)
        .count();
    assert!(times >= 4, "{bills}");
    assert_eq!(
        bills["data"]["totals"][0]["amount"],
        json!(10 * times),
        "{bills}"
    );
}

#[tokio::test]
async fn with_no_wallet_to_pay_from_the_assistant_says_so() {
    let app = spawn_app().await;
    let user = app.register("walletless@example.com").await;
    let answer = ask(
        &app,
        &user,
        json!({"question": "can I afford 100 by next month?"}),
    )
    .await;
    assert_eq!(answer["intent"], "afford", "{answer}");
    assert_eq!(answer["data"]["missing"], json!(["wallet"]), "{answer}");
    let simulated = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            json!({"months": 2, "changes": [{"kind": "expense", "amount": 100}]}),
        )
        .await;
    assert!(
        simulated["assumptions"]
            .to_string()
            .contains("No wallet holds"),
        "{simulated}"
    );
}

#[tokio::test]
async fn a_lower_monthly_budget_saves_its_whole_difference_each_month() {
    let app = spawn_app().await;
    let user = app.register("saver-plan@example.com").await;
    let wallet = app.create_wallet(&user, "Bank", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let start = first_of_month().checked_sub_months(Months::new(3)).unwrap();
    for back in 1..=3 {
        let date = first_of_month()
            .checked_sub_months(Months::new(back))
            .unwrap()
            .with_day(5)
            .unwrap();
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 500, "category_id": groceries,
                   "wallet_id": wallet, "date": date}),
        )
        .await;
    }
    let budget = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/budgets",
            json!({"name": "Food", "amount": 600, "period": "monthly", "start_date": start,
                   "category_ids": [groceries]}),
        )
        .await;
    let result = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios/simulate",
            json!({"months": 3, "changes": [{"kind": "change_budget",
                   "budget_id": budget["id"], "amount": 400}]}),
        )
        .await;
    // 500 a month at its pace, kept to 400: 100 saved in every whole month (it was 96.77, a
    // thirty-first short in a month of 31 days).
    for month in &result["months"].as_array().unwrap()[1..] {
        assert_eq!(month["changes"], json!(100), "{result}");
    }
}

async fn budget_of(app: &TestApp, user: &TestUser) -> String {
    app.data(user, "/api/v1/budgets").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_saved_scenario_outlives_the_budget_and_wallets_it_names() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let (wallet, _) = small_ledger(&app, &user).await;
    let budget = budget_of(&app, &user).await;
    let spare = app.create_wallet(&user, "Spare", "USD").await;
    let next_month = first_of_month().checked_add_months(Months::new(1)).unwrap();
    let saved = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/scenarios",
            json!({"name": "Tighter", "scenario": {"months": 2, "changes": [
                {"kind": "change_budget", "budget_id": budget, "amount": 50},
                {"kind": "income", "amount": 100, "date": next_month, "wallet_id": spare},
                {"kind": "expense", "amount": 10, "date": next_month, "wallet_id": wallet},
            ]}}),
        )
        .await;
    let id = saved["id"].as_str().unwrap().to_owned();
    // The budget deleted, the spare wallet deleted (nothing uses it), the other archived.
    for path in [
        format!("/api/v1/budgets/{budget}"),
        format!("/api/v1/wallets/{spare}"),
    ] {
        let response = app
            .send_as(Method::DELETE, &path, &user.access_token, None)
            .await;
        assert_eq!(response.status(), 200, "{path}");
    }
    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/wallets/{wallet}"),
        json!({"archived": true}),
    )
    .await;
    let again = app.data(&user, &format!("/api/v1/scenarios/{id}")).await;
    assert_eq!(again["name"], "Tighter", "{again}");
    assert_eq!(again["scenario"]["changes"].as_array().unwrap().len(), 3);
    let months = again["result"]["months"].as_array().unwrap();
    assert_eq!(months.len(), 2, "{again}");
    assert_eq!(months[1]["changes"], json!(0), "{again}");
    let notes = again["result"]["assumptions"].to_string();
    for says in [
        "names a budget that has been deleted since",
        "names a wallet that has been deleted since",
        "archived since",
        "Checking",
    ] {
        assert!(notes.contains(says), "{says}: {again}");
    }
    assert_eq!(
        app.data(&user, "/api/v1/scenarios").await[0]["id"],
        json!(id)
    );
}

#[tokio::test]
async fn a_scenario_refuses_an_archived_wallet_and_a_change_made_twice() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let (wallet, _) = small_ledger(&app, &user).await;
    let budget = budget_of(&app, &user).await;
    let electricity = app.category_id(&user, "Electricity").await;
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Power", "amount": 40, "category_id": electricity,
                   "wallet_id": wallet, "frequency": "monthly", "next_due_date": today()}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = app.create_wallet(&user, "Old", "USD").await;
    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/wallets/{old}"),
        json!({"archived": true}),
    )
    .await;
    let cancel = json!({"kind": "cancel_bill", "bill_id": bill});
    let lower =
        |amount: i64| json!({"kind": "change_budget", "budget_id": budget, "amount": amount});
    for (changes, field) in [
        (
            json!([{"kind": "income", "amount": 5, "wallet_id": old}]),
            "changes[0].wallet_id",
        ),
        (
            json!([cancel, cancel, cancel, cancel, cancel]),
            "changes[1].bill_id",
        ),
        (
            json!([lower(50), {"kind": "income", "amount": 5}, lower(20)]),
            "changes[2].budget_id",
        ),
    ] {
        let body = json!({"months": 2, "changes": changes});
        for path in ["/api/v1/scenarios/simulate", "/api/v1/scenarios"] {
            let body = if path.ends_with("simulate") {
                body.clone()
            } else {
                json!({"name": "Plan", "scenario": body})
            };
            let response = app
                .send_as(Method::POST, path, &user.access_token, Some(&body))
                .await;
            let error = assert_error(response, 422, "validation_failed").await;
            assert!(error["errors"][field].is_array(), "{field}: {error}");
        }
    }
    let archived = app
        .send_as(
            Method::POST,
            "/api/v1/scenarios/simulate",
            &user.access_token,
            Some(&json!({"months": 1, "changes": [{"kind": "expense", "amount": 5, "wallet_id": old}]})),
        )
        .await;
    let error = assert_error(archived, 422, "validation_failed").await;
    assert!(
        error["errors"]["changes[0].wallet_id"][0]
            .as_str()
            .unwrap()
            .contains("archived"),
        "{error}"
    );
    assert_eq!(app.scalar("SELECT count(*) AS value FROM scenarios"), 0);
}

#[tokio::test]
async fn a_scenario_saves_no_more_than_the_baseline_expects_to_spend_in_a_month() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    let (wallet, food) = small_ledger(&app, &user).await;
    let budget = budget_of(&app, &user).await;
    let electricity = app.category_id(&user, "Electricity").await;
    // A 40 bill paid last month (so the baseline counts it), due again today.
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Power", "amount": 40, "category_id": electricity,
                   "wallet_id": wallet, "frequency": "monthly",
                   "next_due_date": mid_last_month()}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data_of(
        &user,
        Method::POST,
        &format!("/api/v1/bills/{bill}/pay"),
        json!({"paid_on": mid_last_month()}),
    )
    .await;
    app.execute(&format!(
        "UPDATE bills SET next_due_date = '{}' WHERE id = '{bill}'",
        today()
    ));
    // A large expense today: the baseline expects no more spending this month.
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 5000, "date": today(), "wallet_id": wallet,
               "category_id": food, "description": "Sofa"}),
    )
    .await;
    for change in [
        json!({"kind": "cancel_bill", "bill_id": bill}),
        json!({"kind": "change_budget", "budget_id": budget, "amount": 1}),
    ] {
        let result = app
            .data_of(
                &user,
                Method::POST,
                "/api/v1/scenarios/simulate",
                json!({"months": 3, "changes": [change]}),
            )
            .await;
        let months = result["months"].as_array().unwrap();
        assert_eq!(months[0]["expense"], json!(0), "{result}");
        assert_eq!(months[0]["changes"], json!(0), "{change}: {result}");
        for month in months {
            assert!(
                month["changes"].as_f64().unwrap() <= month["expense"].as_f64().unwrap(),
                "{change}: {month}"
            );
        }
        assert!(
            result["assumptions"]
                .to_string()
                .contains("no more than the baseline expects to spend"),
            "{result}"
        );
    }
}

#[tokio::test]
async fn scenario_and_goal_figures_never_pass_the_largest_amount() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    app.create_wallet(&user, "Cash", "USD").await;
    let simulate = |changes: Value| {
        app.send_as(
            Method::POST,
            "/api/v1/scenarios/simulate",
            &user.access_token,
            Some(&json!({"months": 2, "changes": changes})),
        )
    };
    let next_month = first_of_month().checked_add_months(Months::new(1)).unwrap();
    for changes in [
        // Rounded to cents, the largest amount is 1,000,000,000,000,000.
        serde_json::from_str::<Value>(&format!(
            r#"[{{"kind": "income", "amount": 999999999999999.9999, "date": "{next_month}"}}]"#
        ))
        .unwrap(),
        json!([{"kind": "income", "amount": 600000000000000_i64, "date": next_month},
               {"kind": "income", "amount": 600000000000000_i64, "date": next_month}]),
        json!([{"kind": "expense", "amount": 600000000000000_i64, "date": next_month},
               {"kind": "expense", "amount": 600000000000000_i64, "date": next_month}]),
    ] {
        let error = assert_error(simulate(changes.clone()).await, 422, "validation_failed").await;
        assert!(error["errors"]["changes"].is_array(), "{changes}: {error}");
    }
    let fits =
        simulate(json!([{"kind": "income", "amount": 600000000000000_i64, "date": next_month}]))
            .await;
    assert_eq!(fits.status(), 200);

    let goal = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/goals",
            json!({"name": "Everything", "target_amount": 10}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contribute = |amount: &str| {
        let body: Value = serde_json::from_str(&format!("{{\"amount\": {amount}}}")).unwrap();
        app.send_as(
            Method::POST,
            &format!("/api/v1/goals/{goal}/contributions"),
            &user.access_token,
            Some(&body),
        )
    };
    assert_eq!(contribute("999999999999999.9999").await.status(), 201);
    for amount in ["0.0001", "999999999999999.9999"] {
        let error = assert_error(contribute(amount).await, 422, "validation_failed").await;
        assert!(
            error["errors"]["amount"][0]
                .as_str()
                .unwrap()
                .contains("largest amount"),
            "{error}"
        );
    }
    let read = app.data(&user, &format!("/api/v1/goals/{goal}")).await;
    assert_eq!(read["saved"].to_string(), "999999999999999.9999", "{read}");
}

#[tokio::test]
async fn a_scenario_change_description_is_bounded_text() {
    let app = spawn_app().await;
    let user = app.register("planner@example.com").await;
    app.create_wallet(&user, "Cash", "USD").await;
    let flow = |description: String| {
        json!({"months": 1, "changes": [
            {"kind": "income", "amount": 5, "description": "Fine"},
            {"kind": "expense", "amount": 5, "description": description}]})
    };
    for (description, says) in [
        ("a".repeat(501), "at most 500"),
        ("a\u{7}b".to_owned(), "control characters"),
    ] {
        for (path, body, field) in [
            (
                "/api/v1/scenarios/simulate",
                flow(description.clone()),
                "changes[1].description",
            ),
            (
                "/api/v1/scenarios",
                json!({"name": "Plan", "scenario": flow(description.clone())}),
                "scenario.changes[1].description",
            ),
        ] {
            let response = app
                .send_as(Method::POST, path, &user.access_token, Some(&body))
                .await;
            let error = assert_error(response, 422, "validation_failed").await;
            assert!(
                error["errors"][field][0].as_str().unwrap().contains(says),
                "{field}: {error}"
            );
        }
    }
    assert_eq!(app.scalar("SELECT count(*) AS value FROM scenarios"), 0);
    let fine = app
        .send_as(
            Method::POST,
            "/api/v1/scenarios/simulate",
            &user.access_token,
            Some(&flow(format!("{}\n{}", "a".repeat(249), "b".repeat(250)))),
        )
        .await;
    assert_eq!(fine.status(), 200);
}

fn last_day_of(month_start: NaiveDate) -> NaiveDate {
    month_start
        .checked_add_months(Months::new(1))
        .unwrap()
        .pred_opt()
        .unwrap()
}

async fn wallet_with(
    app: &TestApp,
    user: &TestUser,
    name: &str,
    currency: &str,
    opening: i64,
) -> String {
    app.data_of(
        user,
        Method::POST,
        "/api/v1/wallets",
        json!({"name": name, "type": "bank", "currency": currency, "opening_balance": opening}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_follow_up_afford_question_replaces_the_amount_and_keeps_the_date() {
    let app = spawn_app().await;
    let user = app.register("afford@example.com").await;
    wallet_with(&app, &user, "Bank", "USD", 100_000).await;
    let month = first_of_month().checked_add_months(Months::new(3)).unwrap();
    let by = last_day_of(month);
    let named = month.format("%B %Y").to_string();

    let first = ask(
        &app,
        &user,
        json!({"question": format!("can I afford 500 by {named}?")}),
    )
    .await;
    assert_eq!(first["intent"], "afford", "{first}");
    assert_eq!(first["entities"]["amount"], json!(500), "{first}");
    let conversation = first["conversation_id"].clone();
    for (question, price, shown) in [
        (format!("and 20000 by {named}?"), 20000, "20,000.00 USD"),
        ("and 5000?".to_owned(), 5000, "5,000.00 USD"),
        ("and $5,000?".to_owned(), 5000, "5,000.00 USD"),
    ] {
        let next = ask(
            &app,
            &user,
            json!({"question": question, "conversation_id": conversation}),
        )
        .await;
        assert_eq!(next["intent"], "afford", "{question}: {next}");
        assert_eq!(
            next["entities"]["amount"],
            json!(price),
            "{question}: {next}"
        );
        assert_eq!(next["entities"]["date"], json!(by), "{question}: {next}");
        assert_eq!(
            next["data"]["query"]["date"],
            json!(by),
            "{question}: {next}"
        );
        let text = next["answer"].as_str().unwrap();
        assert!(
            text.contains(&format!("{shown} on {by}")),
            "{question}: {text}"
        );
    }
}

#[tokio::test]
async fn spending_in_another_currency_is_named_and_a_named_currency_is_answered_in() {
    let app = spawn_app().await;
    let user = app.register("euros@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    let euros = wallet_with(&app, &user, "Euro cash", "EUR", 1000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    for (amount, wallet, merchant) in [(40.0, &euros, "Lidl"), (10.0, &bank, "Aldi")] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "category_id": groceries,
                   "wallet_id": wallet, "date": mid_last_month(), "merchant": merchant}),
        )
        .await;
    }

    let lidl = ask(
        &app,
        &user,
        json!({"question": "How much did I spend at Lidl last month?"}),
    )
    .await;
    assert_eq!(lidl["data"]["total"], json!(0), "{lidl}");
    assert_eq!(
        lidl["data"]["other_currencies"],
        json!([{"currency": "EUR", "total": 40, "transactions": 1}]),
        "{lidl}"
    );
    assert!(
        lidl["answer"].as_str().unwrap().contains("40.00 EUR"),
        "{lidl}"
    );

    let all = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on groceries last month?"}),
    )
    .await;
    assert_eq!(all["data"]["total"], json!(10), "{all}");
    assert_eq!(
        all["data"]["other_currencies"][0]["total"],
        json!(40),
        "{all}"
    );
    assert!(
        all["answer"].as_str().unwrap().contains("40.00 EUR"),
        "{all}"
    );

    let in_eur = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on groceries in EUR last month?"}),
    )
    .await;
    assert_eq!(in_eur["data"]["query"]["currency"], "EUR", "{in_eur}");
    assert_eq!(in_eur["data"]["total"], json!(40), "{in_eur}");
    assert!(
        in_eur["answer"].as_str().unwrap().contains("40.00 EUR"),
        "{in_eur}"
    );

    let month = first_of_month().checked_add_months(Months::new(3)).unwrap();
    let afford = ask(
        &app,
        &user,
        json!({"question": format!("can I afford 500 EUR by {}?", month.format("%B %Y"))}),
    )
    .await;
    assert_eq!(afford["data"]["unsupported_currency"], "EUR", "{afford}");
    assert!(
        !afford["answer"].as_str().unwrap().starts_with("Yes"),
        "{afford}"
    );
}

#[tokio::test]
async fn a_name_that_starts_like_an_average_word_is_unknown_never_all_spending() {
    let app = spawn_app().await;
    let user = app.register("averagewords@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    let last = first_of_month().checked_sub_months(Months::new(1)).unwrap();
    for (amount, date) in [
        (5.0, last.with_day(5).unwrap()),
        (100.0, last.with_day(6).unwrap()),
    ] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "category_id": groceries,
                   "wallet_id": bank, "date": date, "description": "Market"}),
        )
        .await;
    }

    // "quần áo" folds as "bình quân" does, "Trung Nguyên" as "trung bình", and "daily" is no
    // rate here: a subject the ledger does not have, never last month's spending.
    for question in [
        "Tôi chi bao nhiêu cho quần áo tháng trước?",
        "How much at Trung Nguyên?",
        "how much for daily necessities last month",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "unknown_name", "{question}: {answer}");
        assert!(
            answer["data"]["unknown"].is_string(),
            "{question}: {answer}"
        );
        assert!(
            answer["data"].get("total").is_none(),
            "{question}: {answer}"
        );
    }

    // "on a day trip" is no daily average: last month's total.
    let question = "how much did I spend last month on a day trip";
    let answer = ask(&app, &user, json!({"question": question})).await;
    assert_eq!(answer["intent"], "spending", "{question}: {answer}");
    assert!(answer["entities"].get("average").is_none(), "{answer}");
    assert_eq!(answer["data"]["total"], json!(105), "{question}: {answer}");
}

#[tokio::test]
async fn what_it_cannot_read_is_asked_back_never_answered_for_all_or_for_this_month() {
    let app = spawn_app().await;
    let user = app.register("unclear@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    let last = first_of_month().checked_sub_months(Months::new(1)).unwrap();
    let before = first_of_month().checked_sub_months(Months::new(2)).unwrap();
    for (amount, date) in [
        (10.0, before.with_day(20).unwrap()),
        (5.0, last.with_day(5).unwrap()),
        (100.0, last.with_day(6).unwrap()),
        (1.0, today()),
    ] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "category_id": groceries,
                   "wallet_id": bank, "date": date, "description": "Market"}),
        )
        .await;
    }

    for question in [
        "how much did I spend on 🍔 last month?",
        "tôi chi bao nhiêu cho ăn uống tháng trước",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "unknown_name", "{question}: {answer}");
        assert!(
            answer["data"].get("total").is_none(),
            "{question}: {answer}"
        );
    }

    let year = today().year();
    for (question, reason) in [
        (
            "How much did I spend on 2026-02-31?".to_owned(),
            "no_such_date",
        ),
        (
            "How much did I spend on 31 February?".to_owned(),
            "no_such_date",
        ),
        (
            "How much did I spend from 2026-13-01 to 2026-14-01?".to_owned(),
            "no_such_date",
        ),
        (
            "How much did I spend in year 99999?".to_owned(),
            "no_such_date",
        ),
        ("How much did I spend in 0000?".to_owned(), "no_such_date"),
        (
            format!("How much did I spend since December {}?", year + 1),
            "ends_before_start",
        ),
        (
            format!("How much did I spend from {} to {}?", today(), before),
            "ends_before_start",
        ),
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(
            answer["data"]["unclear"]["reason"], reason,
            "{question}: {answer}"
        );
        assert!(
            answer["data"].get("total").is_none(),
            "{question}: {answer}"
        );
    }

    // A range from a day of one month to a day of the next.
    let range = ask(
        &app,
        &user,
        json!({"question": format!("How much did I spend from 20 {} to 5 {}?", before.format("%B"), last.format("%B"))}),
    )
    .await;
    let period = &range["data"]["query"]["period"];
    assert_eq!(
        period["from"],
        json!(before.with_day(20).unwrap()),
        "{range}"
    );
    assert_eq!(period["to"], json!(last.with_day(5).unwrap()), "{range}");
    assert_eq!(range["data"]["total"], json!(15), "{range}");

    // "vào tháng 11" in a question about the past is that month, not a date ahead.
    for question in [
        format!("tôi đã chi bao nhiêu vào tháng {}", last.month()),
        format!("chi tiêu tháng {} là bao nhiêu", last.month()),
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "spending", "{question}: {answer}");
        assert_eq!(
            answer["data"]["query"]["period"]["from"],
            json!(last),
            "{question}: {answer}"
        );
        assert_eq!(answer["data"]["total"], json!(105), "{question}: {answer}");
    }
}

#[tokio::test]
async fn a_balance_asked_of_a_past_period_is_as_of_its_end() {
    let app = spawn_app().await;
    let user = app.register("balance@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    for (amount, date) in [(100.0, mid_last_month()), (50.0, today())] {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "wallet_id": bank, "date": date,
                   "category_id": groceries, "description": "paid"}),
        )
        .await;
    }
    let end = first_of_month().pred_opt().unwrap();

    let now = ask(&app, &user, json!({"question": "What is my balance?"})).await;
    assert_eq!(now["data"]["totals"][0]["balance"], json!(850), "{now}");
    let then = ask(
        &app,
        &user,
        json!({"question": "and last month?", "conversation_id": now["conversation_id"]}),
    )
    .await;
    assert_eq!(then["intent"], "balance", "{then}");
    assert_eq!(then["data"]["query"]["as_of"], json!(end), "{then}");
    assert_eq!(then["data"]["totals"][0]["balance"], json!(900), "{then}");
    assert!(
        then["answer"].as_str().unwrap().contains("900.00 USD"),
        "{then}"
    );

    let asked = ask(
        &app,
        &user,
        json!({"question": "What was my balance at the end of last month?"}),
    )
    .await;
    assert_eq!(asked["intent"], "balance", "{asked}");
    assert_eq!(asked["data"]["totals"][0]["balance"], json!(900), "{asked}");
}

#[tokio::test]
async fn named_categories_are_added_a_left_out_one_subtracted_and_expenses_named() {
    let app = spawn_app().await;
    let user = app.register("several@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    for (amount, name) in [(30.0, "Groceries"), (20.0, "Restaurants"), (5.0, "Cafe")] {
        let category = app.category_id(&user, name).await;
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "category_id": category,
                   "wallet_id": bank, "date": mid_last_month()}),
        )
        .await;
    }

    let both = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on groceries and restaurants last month?"}),
    )
    .await;
    assert_eq!(both["data"]["total"], json!(50), "{both}");
    assert!(
        both["answer"]
            .as_str()
            .unwrap()
            .contains("Groceries and Restaurants"),
        "{both}"
    );

    let without = ask(
        &app,
        &user,
        json!({"question": "How much did I spend on food excluding groceries last month?"}),
    )
    .await;
    assert_eq!(
        without["entities"]["category"]["name"], "Food & Dining",
        "{without}"
    );
    assert_eq!(without["data"]["total"], json!(25), "{without}");
    assert!(
        without["answer"]
            .as_str()
            .unwrap()
            .contains("excluding Groceries"),
        "{without}"
    );

    let biggest = ask(
        &app,
        &user,
        json!({"question": "What were my biggest expenses last month?"}),
    )
    .await;
    let text = biggest["answer"].as_str().unwrap();
    assert!(text.contains("30.00 USD Groceries"), "{text}");
    assert!(!text.contains("USD  ("), "{text}");

    let top = ask(
        &app,
        &user,
        json!({"question": "What were my top 3 categories last month?"}),
    )
    .await;
    assert_eq!(
        top["data"]["categories"].as_array().map(|c| c
            .iter()
            .map(|c| (c["name"].clone(), c["amount"].clone()))
            .collect::<Vec<_>>()),
        Some(vec![
            (json!("Groceries"), json!(30)),
            (json!("Restaurants"), json!(20)),
            (json!("Cafe"), json!(5)),
        ]),
        "{top}"
    );
}

/// The first day of the month `back` months before this one.
fn months_back(back: u32) -> NaiveDate {
    first_of_month()
        .checked_sub_months(Months::new(back))
        .unwrap()
}

/// `cents / 100` as a JSON number is read: 116.84 for 11684.
fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

#[tokio::test]
async fn an_average_per_month_or_week_is_over_the_whole_periods_behind() {
    let app = spawn_app().await;
    let user = app.register("average@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 1000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    let transit = app.category_id(&user, "Public Transit").await;
    // Three whole months behind (the ledger begins in the first of them), and this month, which
    // no average counts. In cents.
    let expenses = [
        (10000, months_back(3).with_day(10).unwrap(), &groceries),
        (20050, months_back(2).with_day(10).unwrap(), &groceries),
        (3000, months_back(2).with_day(12).unwrap(), &transit),
        (5001, months_back(1).with_day(10).unwrap(), &groceries),
        (99900, today(), &groceries),
    ];
    for (cents, date, category) in &expenses {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": dollars(*cents), "category_id": category,
                   "wallet_id": bank, "date": date, "description": "Market"}),
        )
        .await;
    }
    let last_whole_day = first_of_month().pred_opt().unwrap();

    // 380.51 over 3 months (not the 12 asked by default: the history is shorter) is 126.8366…
    for question in [
        "What is my average monthly spending?",
        "trung bình mỗi tháng tôi chi bao nhiêu",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "spending", "{question}: {answer}");
        assert_eq!(answer["entities"]["average"], "month", "{answer}");
        let data = &answer["data"];
        assert_eq!(data["per"], "month", "{answer}");
        assert_eq!(data["months"], 3, "{answer}");
        assert_eq!(data["total"].as_f64(), Some(380.51), "{answer}");
        assert_eq!(data["average"].as_f64(), Some(126.84), "{answer}");
        assert_eq!(data["transactions"], 4, "{answer}");
        assert_eq!(
            data["query"]["period"],
            json!({"from": months_back(3), "to": last_whole_day}),
            "{answer}"
        );
        let text = answer["answer"].as_str().unwrap();
        if answer["locale"] == "en" {
            assert!(
                text.contains("126.84 USD a month over 3 whole months"),
                "{text}"
            );
        } else {
            assert!(
                text.contains("126,84 USD mỗi tháng trong 3 tháng"),
                "{text}"
            );
        }
    }

    // A category: 350.51 / 3.
    let answer = ask(
        &app,
        &user,
        json!({"question": "How much do I spend on groceries per month on average?"}),
    )
    .await;
    assert_eq!(answer["intent"], "spending", "{answer}");
    assert_eq!(answer["entities"]["category"]["name"], "Groceries");
    assert_eq!(answer["data"]["total"].as_f64(), Some(350.51), "{answer}");
    assert_eq!(answer["data"]["average"].as_f64(), Some(116.84), "{answer}");
    let conversation = answer["conversation_id"].clone();
    // A follow-up keeps the average and changes the category: 30 / 3.
    let answer = ask(
        &app,
        &user,
        json!({"question": "what about public transit?", "conversation_id": conversation}),
    )
    .await;
    assert_eq!(answer["entities"]["average"], "month", "{answer}");
    assert_eq!(answer["data"]["average"].as_f64(), Some(10.0), "{answer}");

    // The months of the period named: (200.50 + 30 + 50.01) / 2 = 140.255, to the cent.
    let answer = ask(
        &app,
        &user,
        json!({"question": "What was my average monthly spending over the last 2 months?"}),
    )
    .await;
    assert_eq!(answer["data"]["months"], 2, "{answer}");
    assert_eq!(answer["data"]["average"].as_f64(), Some(140.26), "{answer}");

    // Per week: the last 12 whole weeks (Monday to Sunday), none before the history's first.
    let monday = today() - chrono::Days::new(u64::from(today().weekday().num_days_from_monday()));
    let week_of =
        |d: NaiveDate| d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
    let from = (monday - chrono::Days::new(84)).max(week_of(months_back(3).with_day(10).unwrap()));
    let to = monday.pred_opt().unwrap();
    let weeks = (to - from).num_days() / 7 + 1;
    let sum: i64 = expenses
        .iter()
        .filter(|(_, date, _)| from <= *date && *date <= to)
        .map(|(cents, _, _)| cents)
        .sum();
    let average = (2 * sum + weeks) / (2 * weeks);
    for question in [
        "What is my average weekly spending?",
        "trung bình mỗi tuần tôi tiêu bao nhiêu",
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "spending", "{question}: {answer}");
        assert_eq!(answer["data"]["per"], "week", "{answer}");
        assert_eq!(answer["data"]["weeks"], weeks, "{answer}");
        assert_eq!(
            answer["data"]["query"]["period"],
            json!({"from": from, "to": to}),
            "{answer}"
        );
        assert_eq!(
            answer["data"]["total"].as_f64(),
            Some(dollars(sum)),
            "{answer}"
        );
        assert_eq!(
            answer["data"]["average"].as_f64(),
            Some(dollars(average)),
            "{answer}"
        );
    }

    // Income too: 1,000 and 500 over the same 3 months.
    let salary = app.category_id(&user, "Salary").await;
    for (amount, back) in [(1000, 2), (500, 1)] {
        app.create_transaction(
            &user,
            json!({"type": "income", "amount": amount, "category_id": salary,
                   "wallet_id": bank, "date": months_back(back).with_day(1).unwrap()}),
        )
        .await;
    }
    let answer = ask(
        &app,
        &user,
        json!({"question": "What is my average monthly income?"}),
    )
    .await;
    assert_eq!(answer["intent"], "income", "{answer}");
    assert_eq!(answer["data"]["months"], 3, "{answer}");
    assert_eq!(answer["data"]["average"], json!(500), "{answer}");

    // No whole month in the period named: the total, said to be one.
    let answer = ask(
        &app,
        &user,
        json!({"question": "What is my average monthly spending this month?"}),
    )
    .await;
    assert_eq!(answer["data"]["months"], 0, "{answer}");
    assert_eq!(answer["data"]["average"], Value::Null, "{answer}");
    assert_eq!(answer["data"]["total"].as_f64(), Some(999.0), "{answer}");
    assert!(
        answer["answer"]
            .as_str()
            .unwrap()
            .starts_with("There is no whole month behind to average over"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_forecast_is_of_the_month_asked_for_within_the_forecasts_horizon() {
    let app = spawn_app().await;
    let user = app.register("forecast-month@example.com").await;
    let bank = wallet_with(&app, &user, "Bank", "USD", 100_000).await;
    let groceries = app.category_id(&user, "Groceries").await;
    // Six whole months of spending rising by 25 a month, so each month ahead has its own
    // forecast.
    for back in 1..=6u32 {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": 400 - 25 * i64::from(back), "category_id": groceries,
                   "wallet_id": bank, "date": months_back(back).with_day(5).unwrap()}),
        )
        .await;
    }
    // What the predictions service forecasts for the 12 months it serves, this one first.
    let points = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/predictions/predict",
            json!({"horizon": 12}),
        )
        .await;
    let points = points.as_array().unwrap().clone();
    assert_eq!(points.len(), 12);
    let ahead = |months: u32| {
        first_of_month()
            .checked_add_months(Months::new(months))
            .unwrap()
    };
    let point = |months: u32| {
        let found = &points[months as usize];
        assert_eq!(found["period_start"], json!(ahead(months)));
        found.clone()
    };

    // A month by name, three ahead (asked in December: March of next year).
    let target = ahead(3);
    for question in [
        format!("What is the forecast for {}?", target.format("%B")),
        format!("dự báo tháng {}", target.month()),
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "forecast", "{question}: {answer}");
        assert_eq!(
            answer["entities"]["period"],
            json!({"from": target, "to": last_day_of(target)}),
            "{question}: {answer}"
        );
        assert_eq!(
            answer["data"]["query"]["period"]["from"],
            json!(target),
            "{question}: {answer}"
        );
        assert_eq!(answer["data"]["months_ahead"], 3, "{answer}");
        assert_eq!(answer["data"]["amount"], point(3)["amount"], "{answer}");
        assert_eq!(answer["data"]["upper"], point(3)["upper"], "{answer}");
    }
    assert_ne!(
        point(3)["amount"],
        point(1)["amount"],
        "the months ahead differ, so the month answered is seen"
    );

    // The last month the forecast reaches, and the first beyond it.
    let last = ahead(11);
    let answer = ask(
        &app,
        &user,
        json!({"question": format!("What is the forecast for {}?", last.format("%B %Y"))}),
    )
    .await;
    assert_eq!(answer["data"]["amount"], point(11)["amount"], "{answer}");
    let beyond = ahead(12);
    for question in [
        format!("What is the forecast for {}?", beyond.format("%B %Y")),
        format!("dự báo tháng {} năm {}", beyond.month(), beyond.year()),
    ] {
        let answer = ask(&app, &user, json!({"question": question})).await;
        assert_eq!(answer["intent"], "forecast", "{question}: {answer}");
        assert_eq!(answer["data"]["beyond_horizon"], true, "{answer}");
        assert_eq!(
            answer["data"]["horizon"]["to"],
            json!(last_day_of(last)),
            "{answer}"
        );
        assert!(answer["data"].get("amount").is_none(), "{answer}");
        let text = answer["answer"].as_str().unwrap();
        assert!(
            text.contains("too far ahead") || text.contains("quá xa"),
            "{text}"
        );
    }

    // A month that is over: what was spent in it, said to be no forecast.
    let past = months_back(2);
    let answer = ask(
        &app,
        &user,
        json!({"question": format!("What is the forecast for {}?", past.format("%B %Y"))}),
    )
    .await;
    assert_eq!(answer["intent"], "spending", "{answer}");
    assert_eq!(answer["data"]["past_period"], true, "{answer}");
    assert_eq!(answer["data"]["total"], json!(350), "{answer}");
    assert!(
        answer["answer"]
            .as_str()
            .unwrap()
            .starts_with("That period is over"),
        "{answer}"
    );
}
