//! Webhooks against a real HTTP listener: signed deliveries of the ledger's events, retries
//! with backoff, an endpoint turned off after a day of failures, a hanging receiver that
//! delays nothing else, one delivery per event with two instances, and URLs that lead inward
//! refused (server-side request forgery).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::helpers::{assert_error, json, spawn_app_with, TestApp, TestUser};
use crate::ledgers::{create_ledger, join};

const PATIENCE: Duration = Duration::from_secs(15);

/// A request the listener received.
#[derive(Debug)]
struct Request {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An HTTP listener on loopback that records each request and answers `status` (0: never
/// answers, holding the connection open).
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    requests: mpsc::UnboundedReceiver<Request>,
}

async fn receiver(status: u16) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let status = Arc::new(AtomicU16::new(status));
    let (sender, requests) = mpsc::unbounded_channel();
    let answer = status.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let sender = sender.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buffer.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = buffer[head_end..head_end + length].to_vec();
                let _ = sender.send(Request { headers, body });
                let status = answer.load(Ordering::SeqCst);
                if status == 0 {
                    // Hang: keep the connection open and say nothing.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Receiver {
        url,
        status,
        requests,
    }
}

impl Receiver {
    async fn next(&mut self) -> Request {
        tokio::time::timeout(PATIENCE, self.requests.recv())
            .await
            .expect("a delivery in time")
            .expect("the listener runs")
    }
}

/// An app whose webhooks may reach loopback (where the test's listeners are).
async fn app_reaching_loopback() -> TestApp {
    spawn_app_with(|s| {
        s.webhooks.allow_private = true;
        s.webhooks.retry_base = Duration::from_millis(200);
        s.webhooks.timeout = Duration::from_secs(3);
    })
    .await
}

async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let (status, answer) = json(
        app.send_as(
            Method::POST,
            "/api/v1/webhooks",
            &user.access_token,
            Some(&body),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    answer["data"].clone()
}

async fn expense(app: &TestApp, user: &TestUser, amount: u32) -> Value {
    let wallets = app.data(user, "/api/v1/wallets").await;
    let wallet = match wallets.as_array().and_then(|w| w.first()) {
        Some(wallet) => wallet["id"].as_str().unwrap().to_owned(),
        None => app.create_wallet(user, "Cash", "USD").await,
    };
    let cafe = app.category_id(user, "Cafe").await;
    app.data_of(
        user,
        Method::POST,
        "/api/v1/transactions",
        json!({"type": "expense", "amount": amount, "category_id": cafe, "wallet_id": wallet}),
    )
    .await
}

/// A webhook of `transaction_update` events to `url`; its id.
async fn transaction_hook(app: &TestApp, user: &TestUser, url: &str) -> String {
    create(
        app,
        user,
        json!({"url": url, "event_types": ["transaction_update"]}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The webhook's newest delivery once an attempt of it has failed.
async fn failed_attempt(app: &TestApp, user: &TestUser, webhook: &str) -> Value {
    let started = Instant::now();
    loop {
        let deliveries = app
            .data(user, &format!("/api/v1/webhooks/{webhook}/deliveries"))
            .await;
        if deliveries[0]["error"].is_string() {
            return deliveries[0].clone();
        }
        assert!(started.elapsed() < PATIENCE, "{deliveries}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The webhook's deliveries once none is pending any more.
async fn settled_deliveries(app: &TestApp, user: &TestUser, webhook: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let deliveries = app
            .data(
                user,
                &format!("/api/v1/webhooks/{webhook}/deliveries?per_page=200"),
            )
            .await;
        let rows = deliveries.as_array().unwrap().clone();
        if !rows.is_empty() && rows.iter().all(|d| d["status"] != "pending") {
            return rows;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "deliveries still pending: {deliveries}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Verifies `FinAI-Signature` as README tells receivers to.
fn verify(secret: &str, request: &Request) {
    let header = &request.headers["finai-signature"];
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header: {header}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&request.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "the signature verifies with the secret");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "a fresh timestamp: {age}");
}

#[tokio::test]
async fn a_webhook_receives_signed_events_of_its_types_and_logs_each_delivery() {
    let app = app_reaching_loopback().await;
    let user = app.register("ana@example.com").await;
    let mut listener = receiver(200).await;
    let created = create(
        &app,
        &user,
        json!({"url": listener.url, "event_types": ["transaction_update"], "description": "Books"}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    // The secret is shown once.
    let shown = app.data(&user, &format!("/api/v1/webhooks/{id}")).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(shown["event_types"], json!(["transaction_update"]));
    assert_eq!(
        app.data(&user, "/api/v1/webhooks")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let spent = expense(&app, &user, 7).await;
    let request = listener.next().await;
    verify(&secret, &request);
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["finai-event"], "transaction_update");
    let body = request.json();
    assert_eq!(body["type"], "transaction_update");
    assert_eq!(body["data"]["id"], spent["id"]);
    assert_eq!(body["data"]["action"], "created");
    assert_eq!(body["ledger_id"], user.id.as_str());
    assert!(body["seq"].is_i64() && body["id"].is_string());
    // The stream's `EventFrame`, field for field and in the same time format.
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["data", "id", "ledger_id", "occurred_at", "seq", "type"]
    );
    let occurred_at = body["occurred_at"].as_str().unwrap();
    assert_eq!(
        occurred_at.len(),
        "2026-03-10T08:15:30.123456Z".len(),
        "{occurred_at}"
    );
    assert!(occurred_at.ends_with('Z'), "{occurred_at}");
    assert!(chrono::DateTime::parse_from_rfc3339(occurred_at).is_ok());

    let deliveries = settled_deliveries(&app, &user, &id).await;
    assert_eq!(
        deliveries.len(),
        1,
        "balance updates are not of its types: {deliveries:?}"
    );
    let delivery = &deliveries[0];
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["response_status"], 200);
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["id"], request.headers["finai-delivery"].as_str());
    assert_eq!(delivery["event_id"], body["id"]);
    assert!(delivery["latency_ms"].as_i64().unwrap() >= 0);

    // A ping goes the same way.
    let (status, ping) = json(
        app.send_as(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/ping"),
            &user.access_token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 202, "{ping}");
    let request = listener.next().await;
    verify(&secret, &request);
    assert_eq!(request.json()["type"], "ping");
    // Shaped as an event too: `seq` 0, which no event of the log has.
    assert_eq!(request.json()["seq"], 0);
    let pinged_at = request.json()["occurred_at"].as_str().unwrap().to_owned();
    assert_eq!(pinged_at.len(), occurred_at.len(), "{pinged_at}");
    assert_eq!(
        request.headers["finai-delivery"],
        ping["data"]["id"].as_str().unwrap()
    );

    // Off: nothing is sent; deleted: gone with its log.
    let off = app
        .data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(off["active"], false);
    assert_eq!(off["disabled_reason"], "disabled by a member");
    expense(&app, &user, 8).await;
    let deleted = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        app.scalar("SELECT count(*) AS value FROM webhook_deliveries"),
        0
    );
    assert!(
        listener.requests.try_recv().is_err(),
        "nothing was sent while off"
    );
}

#[tokio::test]
async fn failures_are_retried_and_a_day_of_them_turns_the_webhook_off_with_a_notification() {
    let app = app_reaching_loopback().await;
    let user = app.register("ana@example.com").await;
    let mut listener = receiver(500).await;
    let id = transaction_hook(&app, &user, &listener.url).await;
    expense(&app, &user, 1).await;
    let first = listener.next().await;
    // The second attempt succeeds.
    listener.status.store(200, Ordering::SeqCst);
    let second = listener.next().await;
    assert_eq!(
        first.headers["finai-delivery"],
        second.headers["finai-delivery"]
    );
    assert_eq!(first.body, second.body, "a retry sends the same event");
    let deliveries = settled_deliveries(&app, &user, &id).await;
    assert_eq!(deliveries[0]["status"], "succeeded");
    assert_eq!(deliveries[0]["attempts"], 2);
    let hook = app.data(&user, &format!("/api/v1/webhooks/{id}")).await;
    assert!(
        hook["failing_since"].is_null(),
        "a success clears the failure record"
    );

    // Failing since more than a day: the next failure turns it off.
    listener.status.store(503, Ordering::SeqCst);
    expense(&app, &user, 2).await;
    listener.next().await;
    app.scalar(&format!(
        "WITH moved AS (UPDATE webhooks SET failing_since = now() - interval '25 hours' \
         WHERE id = '{id}' RETURNING 1) SELECT count(*) AS value FROM moved"
    ));
    let started = Instant::now();
    let hook = loop {
        let hook = app.data(&user, &format!("/api/v1/webhooks/{id}")).await;
        if hook["active"] == false {
            break hook;
        }
        assert!(started.elapsed() < PATIENCE, "still on: {hook}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(hook["disabled_reason"], "failing for a day");
    let notifications = app.data(&user, "/api/v1/notifications").await;
    let notice = notifications
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "webhook_disabled")
        .unwrap_or_else(|| panic!("a notification: {notifications}"));
    assert!(notice["body"].as_str().unwrap().contains(&listener.url));
    // It is announced as a notification only, not as an alert of another kind.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM events WHERE ledger_id = '{}' \
             AND payload ->> 'kind' = 'webhook_disabled'",
            user.id
        )),
        0
    );
    let failed = settled_deliveries(&app, &user, &id).await;
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["response_status"], 503);

    // Turned on again: it starts from now, with a clean record.
    let on = app
        .data_of(
            &user,
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(on["active"], true);
    assert!(on["failing_since"].is_null() && on["disabled_reason"].is_null());
}

#[tokio::test]
async fn a_receiver_that_hangs_delays_no_other_delivery() {
    let app = app_reaching_loopback().await;
    let user = app.register("ana@example.com").await;
    let mut hanging = receiver(0).await;
    let mut healthy = receiver(200).await;
    let stuck = transaction_hook(&app, &user, &hanging.url).await;
    create(
        &app,
        &user,
        json!({"url": healthy.url, "event_types": ["transaction_update"]}),
    )
    .await;
    let started = Instant::now();
    expense(&app, &user, 3).await;
    hanging.next().await;
    healthy.next().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the healthy receiver was served before the hanging one timed out: {:?}",
        started.elapsed()
    );
    let stuck = failed_attempt(&app, &user, &stuck).await;
    assert_eq!(stuck["error"], "timed out");
    assert_eq!(stuck["status"], "pending", "it will be retried");
}

#[tokio::test]
async fn two_instances_send_each_event_to_an_endpoint_once() {
    let app = app_reaching_loopback().await;
    let other = app
        .second_instance_with(|s| s.webhooks.allow_private = true)
        .await;
    let user = app.register("ana@example.com").await;
    let mut listener = receiver(200).await;
    let id = transaction_hook(&app, &user, &listener.url).await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    // Writes through both instances.
    for n in 0..20u32 {
        let address = if n % 2 == 0 {
            &app.address
        } else {
            &other.address
        };
        let response = app
            .client
            .post(format!("{address}/api/v1/transactions"))
            .bearer_auth(&user.access_token)
            .json(
                &json!({"type": "expense", "amount": n + 1, "category_id": cafe,
                          "wallet_id": wallet}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let mut events = std::collections::HashSet::new();
    for _ in 0..20 {
        let request = listener.next().await;
        assert!(
            events.insert(request.json()["id"].to_string()),
            "an event came twice"
        );
    }
    let deliveries = settled_deliveries(&app, &user, &id).await;
    assert_eq!(deliveries.len(), 20);
    assert!(deliveries
        .iter()
        .all(|d| d["attempts"] == 1 && d["status"] == "succeeded"));
    assert!(
        listener.requests.try_recv().is_err(),
        "nothing more was sent"
    );
}

#[tokio::test]
async fn urls_that_lead_to_internal_addresses_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("ana@example.com").await;
    let machine = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let mut refused = vec![
        "http://127.0.0.1:9/hook".to_owned(),
        "http://localhost/hook".into(),
        "http://LOCALHOST./hook".into(),
        "http://[::1]/hook".into(),
        "http://[::ffff:10.0.0.1]/hook".into(),
        "http://10.0.0.5/hook".into(),
        "http://192.168.1.1/hook".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://0.0.0.0/".into(),
        "ftp://example.com/".into(),
        "https://user:secret@example.com/".into(),
        "not a url".into(),
    ];
    // A name that resolves to this machine's own address, where that is not a public one.
    let inward = |name: &str| {
        use std::net::ToSocketAddrs;
        (name, 9)
            .to_socket_addrs()
            .is_ok_and(|mut a| a.any(|a| !finai::domain::webhook::is_public(a.ip())))
    };
    if !machine.is_empty() && inward(&machine) {
        refused.push(format!("http://{machine}:9/hook"));
    }
    for url in &refused {
        let response = app
            .send_as(
                Method::POST,
                "/api/v1/webhooks",
                &user.access_token,
                Some(&json!({"url": url})),
            )
            .await;
        let body = assert_error(response, 422, "validation_failed").await;
        assert!(body["errors"]["url"].is_array(), "{url}: {body}");
    }
    // Unknown event types too.
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/webhooks",
            &user.access_token,
            Some(&json!({"url": "https://hooks.example.com/x", "event_types": ["everything"]})),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(body["errors"]["event_types"].is_array(), "{body}");
    // A public name is accepted, and cannot be moved inward.
    let id = create(&app, &user, json!({"url": "https://hooks.example.com/x"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            &user.access_token,
            Some(&json!({"url": "http://127.0.0.1:9/"})),
        )
        .await;
    assert_error(response, 422, "validation_failed").await;
    assert_eq!(app.scalar("SELECT count(*) AS value FROM webhooks"), 1);

    // A URL that turns inward after it was accepted (here: put in the table directly) is
    // refused when delivering, before any connection.
    let mut listener = receiver(200).await;
    app.scalar(&format!(
        "WITH moved AS (UPDATE webhooks SET url = '{}' RETURNING 1) \
         SELECT count(*) AS value FROM moved",
        listener.url.replace("127.0.0.1", "localhost")
    ));
    app.send_as(
        Method::POST,
        &format!("/api/v1/webhooks/{id}/ping"),
        &user.access_token,
        None,
    )
    .await;
    let delivery = failed_attempt(&app, &user, &id).await;
    assert!(
        delivery["error"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{delivery}"
    );
    assert!(
        listener.requests.try_recv().is_err(),
        "nothing reached the listener"
    );
}

#[tokio::test]
async fn only_a_ledgers_owners_manage_its_webhooks() {
    let app = app_reaching_loopback().await;
    let owner = app.register("owner@example.com").await;
    let editor = app.register("editor@example.com").await;
    let ledger = create_ledger(&app, &owner, "household").await;
    join(&app, &owner, &ledger, &editor, "editor").await;
    let path = format!("/api/v1/ledgers/{ledger}/webhooks");
    let response = app
        .send_as(
            Method::POST,
            &path,
            &editor.access_token,
            Some(&json!({"url": "https://hooks.example.com/x"})),
        )
        .await;
    assert_error(response, 403, "ledger_owner_only").await;
    assert_error(
        app.send_as(Method::GET, &path, &editor.access_token, None)
            .await,
        403,
        "ledger_owner_only",
    )
    .await;
    let response = app
        .send_as(
            Method::POST,
            &path,
            &owner.access_token,
            Some(&json!({"url": "https://hooks.example.com/x"})),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .split('/')
            .nth(3),
        Some("ledgers"),
        "located under the ledger"
    );
}

#[tokio::test]
async fn a_member_who_leaves_takes_the_webhooks_they_set_up_offline() {
    let app = app_reaching_loopback().await;
    let owner = app.register("owner@example.com").await;
    let partner = app.register("partner@example.com").await;
    let ledger = create_ledger(&app, &owner, "household").await;
    join(&app, &owner, &ledger, &partner, "owner").await;
    let base = format!("/api/v1/ledgers/{ledger}/webhooks");
    let theirs = app
        .data_of(
            &partner,
            Method::POST,
            &base,
            json!({"url": "http://127.0.0.1:9/partner"}),
        )
        .await;
    let ours = app
        .data_of(
            &owner,
            Method::POST,
            &base,
            json!({"url": "http://127.0.0.1:9/owner"}),
        )
        .await;
    // Removed, the partner's endpoint stops receiving the ledger's events (they hold its
    // secret and chose its address); the owner's keeps going.
    let removed = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/ledgers/{ledger}/members/{}", partner.id),
            &owner.access_token,
            None,
        )
        .await;
    assert_eq!(removed.status(), 200);
    let state = |id: &Value| {
        let path = format!("{base}/{}", id.as_str().unwrap());
        let app = &app;
        let owner = &owner;
        async move { app.data(owner, &path).await }
    };
    let off = state(&theirs["id"]).await;
    assert_eq!(off["active"], false, "{off}");
    assert!(
        off["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("no longer in the ledger"),
        "{off}"
    );
    assert_eq!(state(&ours["id"]).await["active"], true);
    // The owners are told, as when a failing endpoint is turned off.
    let told = app
        .data(&owner, &format!("/api/v1/ledgers/{ledger}/notifications"))
        .await;
    assert_eq!(told[0]["type"], "webhook_disabled", "{told}");
    assert_eq!(told[0]["data"]["webhook_id"], theirs["id"], "{told}");
}
