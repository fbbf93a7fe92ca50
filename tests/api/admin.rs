//! Admin-only account management, statistics and the audit log; `finai create-admin`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, json, spawn_app, PASSWORD};

#[tokio::test]
async fn admin_endpoints_refuse_users_and_business_users() {
    let app = spawn_app().await;
    let target = app.register("target@example.com").await;
    let user = app.register("user@example.com").await;
    let business = app.register_with_role("biz@example.com", "business").await;
    let id = &target.id;
    for caller in [&user, &business] {
        for (method, path, body) in [
            (Method::GET, "/api/v1/users".to_string(), None),
            (Method::GET, format!("/api/v1/users/{id}"), None),
            (
                Method::PATCH,
                format!("/api/v1/users/{id}"),
                Some(json!({"role": "admin"})),
            ),
            (Method::DELETE, format!("/api/v1/users/{id}"), None),
            (Method::GET, "/api/v1/admin/stats".to_string(), None),
            (Method::GET, "/api/v1/admin/audit-log".to_string(), None),
        ] {
            let response = app
                .send_as(method.clone(), &path, &caller.access_token, body.as_ref())
                .await;
            assert_error(response, 403, "forbidden").await;
        }
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM users WHERE id = '{id}' AND role = 'user'"
        )),
        1
    );
}

#[tokio::test]
async fn admins_list_and_search_users_with_pagination() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    for i in 0..5 {
        app.register(&format!("user{i}@example.com")).await;
    }
    app.register_with_role("shop@example.com", "business").await;

    let (status, body) = json(
        app.get_as("/api/v1/users?per_page=2&page=2", &admin.access_token)
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["meta"],
        json!({"page": 2, "per_page": 2, "total_items": 7, "total_pages": 4})
    );
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    let (_, found) = json(
        app.get_as("/api/v1/users?q=USER3", &admin.access_token)
            .await,
    )
    .await;
    assert_eq!(found["meta"]["total_items"], 1);
    assert_eq!(found["data"][0]["email"], "user3@example.com");

    let (_, business) = json(
        app.get_as("/api/v1/users?role=business", &admin.access_token)
            .await,
    )
    .await;
    assert_eq!(business["meta"]["total_items"], 1);

    let bad = app
        .get_as("/api/v1/users?per_page=500", &admin.access_token)
        .await;
    assert_error(bad, 400, "invalid_query").await;
    let bad_role = app
        .get_as("/api/v1/users?role=king", &admin.access_token)
        .await;
    assert_error(bad_role, 400, "invalid_query").await;
}

#[tokio::test]
async fn admins_change_roles_and_status_but_never_their_own() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let user = app.register("ana@example.com").await;
    let patch = |id: &str, body: serde_json::Value| {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &admin.access_token,
            Some(&body),
        )
    };

    let (status, body) = json(patch(&user.id, json!({"role": "business"})).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["role"], "business");
    let (_, token) = json(
        app.send_as(
            Method::POST,
            "/api/v1/users/me/tokens",
            &user.access_token,
            Some(&json!({"name": "script", "scopes": ["read"]})),
        )
        .await,
    )
    .await;
    let script = token["data"]["token_secret"].as_str().unwrap().to_owned();

    let (_, body) = json(patch(&user.id, json!({"status": "disabled"})).await).await;
    assert_eq!(body["data"]["status"], "disabled");
    assert_error(
        app.get_as("/api/v1/users/me", &user.access_token).await,
        403,
        "account_disabled",
    )
    .await;
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM refresh_tokens WHERE user_id = '{}' AND revoked_at IS NULL",
            user.id
        )),
        0
    );
    // Enabled again, the account takes new logins, but the tokens from before stay dead.
    let (_, body) = json(patch(&user.id, json!({"status": "active"})).await).await;
    assert_eq!(body["data"]["status"], "active");
    assert_error(
        app.get_as("/api/v1/users/me", &user.access_token).await,
        401,
        "invalid_token",
    )
    .await;
    // Personal access tokens too: a disabled account's credentials are not revived.
    assert_error(
        app.get_as("/api/v1/users/me", &script).await,
        401,
        "invalid_token",
    )
    .await;

    assert_error(
        patch(&admin.id, json!({"role": "user"})).await,
        409,
        "cannot_change_own_account",
    )
    .await;
    assert_error(
        patch(&admin.id, json!({"status": "disabled"})).await,
        409,
        "cannot_change_own_account",
    )
    .await;
    let delete_self = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/{}", admin.id),
            &admin.access_token,
            None,
        )
        .await;
    assert_error(delete_self, 409, "cannot_change_own_account").await;

    let missing = patch(&uuid::Uuid::new_v4().to_string(), json!({"role": "user"})).await;
    assert_error(missing, 404, "not_found").await;
    let bad_id = patch("not-a-uuid", json!({"role": "user"})).await;
    assert_error(bad_id, 400, "invalid_path_parameter").await;

    let (_, log) = json(
        app.get_as(
            "/api/v1/admin/audit-log?action=role_changed",
            &admin.access_token,
        )
        .await,
    )
    .await;
    assert_eq!(log["meta"]["total_items"], 1);
    let entry = &log["data"][0];
    assert_eq!(entry["user_id"], user.id.as_str());
    assert_eq!(entry["actor_id"], admin.id.as_str());
    assert_eq!(entry["details"], json!({"from": "user", "to": "business"}));
    assert!(entry["request_id"].is_string() && entry["ip"].is_string());
}

#[tokio::test]
async fn the_last_active_admin_always_stays() {
    let app = spawn_app().await;
    let ana = app.register_with_role("ana@example.com", "admin").await;
    let delete_me = |user: &crate::helpers::TestUser| {
        app.send_as(
            Method::DELETE,
            "/api/v1/users/me",
            &user.access_token,
            Some(&json!({"password": PASSWORD})),
        )
    };
    assert_error(delete_me(&ana).await, 409, "last_admin").await;

    // Two admins demoting each other at the same moment: one wins, one admin remains.
    let bob = app.register_with_role("bob@example.com", "admin").await;
    let demote = |actor: &crate::helpers::TestUser, target: &crate::helpers::TestUser| {
        app.send_as(
            Method::PATCH,
            &format!("/api/v1/users/{}", target.id),
            &actor.access_token,
            Some(&json!({"role": "user"})),
        )
    };
    for _ in 0..3 {
        app.execute("UPDATE users SET role = 'admin'");
        let (a, b) = tokio::join!(demote(&ana, &bob), demote(&bob, &ana));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert!(
            statuses == [200, 403] || statuses == [200, 409],
            "{statuses:?}"
        );
        assert_eq!(
            app.scalar("SELECT count(*) AS value FROM users WHERE role = 'admin'"),
            1
        );
    }

    // With another admin left, an admin may delete their own account.
    app.execute("UPDATE users SET role = 'admin'");
    let (status, body) = json(delete_me(&ana).await).await;
    assert_eq!(status, 200, "{body}");
    assert_error(delete_me(&bob).await, 409, "last_admin").await;
}

#[tokio::test]
async fn admins_delete_accounts_with_everything_they_own() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let user = app.register("ana@example.com").await;
    let (status, _) = json(
        app.send_as(
            Method::DELETE,
            &format!("/api/v1/users/{}", user.id),
            &admin.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM users WHERE id = '{}'",
            user.id
        )),
        0
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM refresh_tokens WHERE user_id = '{}'",
            user.id
        )),
        0
    );
    let again = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/{}", user.id),
            &admin.access_token,
            None,
        )
        .await;
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn stats_and_audit_log_filters() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let user = app.register("ana@example.com").await;
    app.post_json(
        "/api/v1/auth/login",
        &json!({"email": "ana@example.com", "password": "Wr0ng!pw"}),
    )
    .await;

    let (status, stats) = json(app.get_as("/api/v1/admin/stats", &admin.access_token).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        stats["data"]["users_by_role"],
        json!({"admin": 1, "user": 1})
    );
    assert_eq!(stats["data"]["users_by_status"], json!({"active": 2}));
    let days = stats["data"]["signups_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days.last().unwrap()["count"], 2);
    assert_eq!(stats["data"]["row_counts"]["users"], 2);

    let (_, failures) = json(
        app.get_as(
            &format!(
                "/api/v1/admin/audit-log?user_id={}&action=login_failed",
                user.id
            ),
            &admin.access_token,
        )
        .await,
    )
    .await;
    assert_eq!(failures["meta"]["total_items"], 1);
    let today = chrono::Utc::now().date_naive();
    let (_, none) = json(
        app.get_as(
            &format!("/api/v1/admin/audit-log?to={}", today.pred_opt().unwrap()),
            &admin.access_token,
        )
        .await,
    )
    .await;
    assert_eq!(none["meta"]["total_items"], 0);
    let bad_date = app
        .get_as(
            "/api/v1/admin/audit-log?from=2026-02-30",
            &admin.access_token,
        )
        .await;
    assert_error(bad_date, 400, "invalid_query").await;
    let unknown_action = app
        .get_as(
            "/api/v1/admin/audit-log?action=nonsense",
            &admin.access_token,
        )
        .await;
    assert_error(unknown_action, 400, "invalid_query").await;
}

#[tokio::test]
async fn create_admin_creates_an_admin_or_promotes_an_existing_account() {
    let app = spawn_app().await;
    let settings = finai::config::Settings::for_tests(&app.db.url, app.data_dir.clone());

    let weak = finai::commands::create_admin(&settings, "root@example.com", None, false, || {
        Ok("weak".into())
    });
    assert!(weak.unwrap_err().contains("at least 8 characters"));

    let done =
        finai::commands::create_admin(&settings, "root@example.com", Some("Root"), false, || {
            Ok(PASSWORD.into())
        })
        .unwrap();
    assert!(done.starts_with("Created admin"));
    let (status, body) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "root@example.com", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["user"]["role"], "admin");
    // Made like any account: the default categories and a record in the audit log.
    let root = body["data"]["user"]["id"].as_str().unwrap().to_owned();
    assert!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM categories WHERE ledger_id = '{root}'"
        )) >= 20
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM audit_log WHERE action = 'user_registered' AND user_id = '{root}'"
        )),
        1
    );

    let user = app.register("ana@example.com").await;
    // Never verified: whoever registered the address may not own it. Refused unless asked.
    let refused = finai::commands::create_admin(&settings, "ANA@example.com", None, false, || {
        panic!("an existing account keeps its password")
    })
    .unwrap_err();
    assert!(refused.contains("never verified"), "{refused}");
    let (_, me) = json(app.get_as("/api/v1/users/me", &user.access_token).await).await;
    assert_eq!(me["data"]["role"], "user");
    finai::commands::create_admin(&settings, "ANA@example.com", None, true, || {
        panic!("an existing account keeps its password")
    })
    .unwrap();
    let (_, me) = json(app.get_as("/api/v1/users/me", &user.access_token).await).await;
    assert_eq!(me["data"]["role"], "admin");
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM audit_log WHERE action = 'role_changed' AND user_id = '{}'",
            user.id
        )),
        1
    );
}
