//! `/users/me` and account deletion.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app, PASSWORD};

#[tokio::test]
async fn the_caller_reads_and_updates_their_profile_and_settings() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (status, body) = json(
        app.send_as(
            Method::PATCH,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"name": "Ana Lima", "settings": {
                "currency": "VND", "language": "vi-VN", "theme": "dark", "timezone": "Asia/Ho_Chi_Minh"
            }})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, me) = json(app.get_as("/api/v1/users/me", &user.access_token).await).await;
    assert_eq!(me["data"]["name"], "Ana Lima");
    assert_eq!(
        me["data"]["settings"],
        json!({"currency": "VND", "language": "vi-VN", "theme": "dark", "timezone": "Asia/Ho_Chi_Minh"})
    );
    assert_eq!(body["data"], me["data"]);
}

#[tokio::test]
async fn invalid_settings_are_422_per_field_and_change_nothing() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let response = app
        .send_as(
            Method::PATCH,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"name": "", "settings": {
                "currency": "DOLLARS", "language": "english", "theme": "pink", "timezone": "Mars/Base"
            }})),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(
        body["errors"]["settings.theme"].is_array() || body["errors"]["settings.theme"].is_null()
    );
    let response = app
        .send_as(
            Method::PATCH,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"name": "", "settings": {
                "currency": "DOLLARS", "language": "english", "timezone": "Mars/Base"
            }})),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    for field in [
        "name",
        "settings.currency",
        "settings.language",
        "settings.timezone",
    ] {
        assert!(body["errors"][field].is_array(), "{field}: {body}");
    }
    let unknown = app
        .send_as(
            Method::PATCH,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_error(unknown, 422, "validation_failed").await;
    let (_, me) = json(app.get_as("/api/v1/users/me", &user.access_token).await).await;
    assert_eq!(me["data"]["name"], "Test User");
    assert_eq!(me["data"]["role"], "user");
    assert_eq!(me["data"]["settings"]["currency"], "USD");
}

#[tokio::test]
async fn deleting_my_account_needs_the_password_and_leaves_no_row_of_it() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let delete = |password: &str| {
        app.send_as(
            Method::DELETE,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"password": password})),
        )
    };
    assert_error(delete("Wr0ng!pass").await, 422, "validation_failed").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM users"), 2);
    // An idempotent POST leaves a stored answer (with the user's data) keyed by principal.
    let response = app
        .request(Method::POST, "/api/v1/wallets")
        .bearer_auth(&user.access_token)
        .header("idempotency-key", "wallet-1")
        .json(&json!({"name": "Cash", "type": "cash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM idempotency_keys"),
        1
    );

    let (status, _) = json(delete(PASSWORD).await).await;
    assert_eq!(status, 200);

    // No table holds a row that points at the deleted account.
    let mut conn = app.db.connect();
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    use diesel::RunQueryDsl;
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type = 'uuid' \
         AND (column_name LIKE '%user_id' OR column_name = 'ledger_id' OR column_name = 'actor_id' OR (table_name = 'users' AND column_name = 'id'))",
    )
    .load(&mut conn)
    .unwrap();
    assert!(columns.len() >= 5);
    for column in columns {
        let count = app.scalar(&format!(
            "SELECT count(*) AS value FROM {} WHERE {} = '{}'",
            column.table_name, column.column_name, user.id
        ));
        assert_eq!(count, 0, "{}.{}", column.table_name, column.column_name);
    }
    // Nor does any text column name it (stored answers are keyed by `user:<id>`); the audit
    // log's record of the deletion is the one deliberate exception.
    #[derive(diesel::QueryableByName)]
    struct TextColumn {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        data_type: String,
    }
    let text_columns: Vec<TextColumn> = diesel::sql_query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
         AND c.data_type IN ('text', 'jsonb', 'bytea') AND c.table_name <> 'audit_log'",
    )
    .load(&mut conn)
    .unwrap();
    assert!(text_columns
        .iter()
        .any(|c| c.table_name == "idempotency_keys"));
    for column in text_columns {
        let as_text = match column.data_type.as_str() {
            "bytea" => format!("encode({}, 'escape')", column.column_name),
            _ => format!("{}::text", column.column_name),
        };
        let count = app.scalar(&format!(
            "SELECT count(*) AS value FROM {} WHERE {as_text} LIKE '%{}%'",
            column.table_name, user.id
        ));
        assert_eq!(count, 0, "{}.{}", column.table_name, column.column_name);
    }
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM login_throttle WHERE email = 'ana@example.com'"),
        0
    );
    assert_error(
        app.get_as("/api/v1/users/me", &user.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.get_as("/api/v1/users/me", &other.access_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_account_with_a_full_ledger_can_be_deleted() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let restaurants = app.category_id(&user, "Restaurants").await;
    app.create_transaction(
        &user,
        json!({"type": "expense", "amount": 10, "wallet_id": cash,
        "splits": [{"category_id": cafe, "amount": 4}, {"category_id": restaurants, "amount": 6}]}),
    )
    .await;
    app.create_transaction(
        &user,
        json!({"type": "transfer", "amount": 1, "wallet_id": cash, "to_wallet_id": bank}),
    )
    .await;
    let (status, body) = json(
        app.send_as(
            Method::POST,
            "/api/v1/budgets",
            &user.access_token,
            Some(
                &json!({"name": "Cafe", "amount": 5, "category_ids": [cafe], "period": "monthly"}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = json(
        app.send_as(
            Method::DELETE,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for table in [
        "users",
        "wallets",
        "categories",
        "transactions",
        "transaction_splits",
        "budgets",
        "notifications",
    ] {
        assert_eq!(
            app.scalar(&format!("SELECT count(*) AS value FROM {table}")),
            0,
            "{table}"
        );
    }
}
