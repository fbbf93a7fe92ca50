//! Event streams driven by real clients: a WebSocket client (tokio-tungstenite) and an SSE
//! reader (reqwest, reading the body as it arrives). Every event type caused by its real write;
//! resume after a disconnect with nothing lost or repeated; two server instances on one
//! database; closes for an expired token, a revoked access and a slow reader; bad tickets,
//! cursors and frames answered clearly, the server unharmed.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{assert_error, json, spawn_app, spawn_app_with, TestApp, TestUser};
use crate::ledgers::{create_ledger, join};

/// Long enough for any event on a loaded CI machine; a test only waits this long when it fails.
const PATIENCE: Duration = Duration::from_secs(15);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Socket {
    ws: Ws,
}

/// A WebSocket to `path` on `address`, with `token` as bearer when given.
pub async fn open_at(address: &str, path: &str, token: Option<&str>) -> Result<Socket, u16> {
    let url = format!("{}{path}", address.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(Socket { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("cannot open {path}: {e}"),
    }
}

async fn open(app: &TestApp, user: &TestUser, path: &str) -> Socket {
    open_at(&app.address, path, Some(&user.access_token))
        .await
        .expect("the socket opens")
}

/// What a socket received next: a JSON frame, or its close code and reason.
#[derive(Debug)]
pub enum Received {
    Frame(Value),
    Closed(u16, String),
}

impl Socket {
    pub async fn receive(&mut self) -> Received {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Received::Frame(serde_json::from_str(&text).unwrap())
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => {
                            Received::Closed(frame.code.into(), frame.reason.to_string())
                        }
                        None => Received::Closed(1005, String::new()),
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Received::Closed(1006, e.to_string()),
                None => return Received::Closed(1006, "ended".into()),
            }
        }
    }

    pub async fn frame(&mut self) -> Value {
        match self.receive().await {
            Received::Frame(frame) => frame,
            closed => panic!("expected a frame, the socket closed: {closed:?}"),
        }
    }

    /// The next `n` frames' `type` (with the `action` of transaction updates).
    async fn kinds(&mut self, n: usize) -> Vec<String> {
        let mut kinds = Vec::new();
        for _ in 0..n {
            kinds.push(kind(&self.frame().await));
        }
        kinds
    }

    /// The close code and reason, skipping any frames before it.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Received::Closed(code, reason) = self.receive().await {
                return (code, reason);
            }
        }
    }

    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
    }

    /// Frames up to and including the first that `last` accepts.
    async fn until(&mut self, last: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.frame().await;
            let done = last(&frame);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// Sends `ping` and waits for its `pong`: every frame the server meant to send before it
    /// has then arrived (returned), so "nothing more came" is checked without sleeping.
    async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut before = Vec::new();
        loop {
            let frame = self.frame().await;
            if frame["type"] == "pong" {
                return before;
            }
            before.push(frame);
        }
    }
}

fn kind(frame: &Value) -> String {
    match frame["data"]["action"].as_str() {
        Some(action) if frame["type"] == "transaction_update" => {
            format!("transaction_update:{action}")
        }
        _ => frame["type"].as_str().unwrap_or_default().to_owned(),
    }
}

async fn expense(
    app: &TestApp,
    user: &TestUser,
    base: &str,
    wallet: &str,
    category: &str,
    amount: u32,
) -> Value {
    app.data_of(
        user,
        Method::POST,
        &format!("{base}/transactions"),
        json!({"type": "expense", "amount": amount, "category_id": category, "wallet_id": wallet}),
    )
    .await
}

#[tokio::test]
async fn a_socket_hears_every_kind_of_write_as_it_commits() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    let today = chrono::Utc::now().date_naive().to_string();
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;

    let connected = socket.frame().await;
    assert_eq!(connected["type"], "connected");
    assert_eq!(connected["ledger_id"], user.id.as_str());
    assert_eq!(connected["heartbeat_seconds"], 30);
    let cursor: i64 = connected["cursor"].as_str().unwrap().parse().unwrap();

    // An expense: the transaction, then the wallet's balance after it.
    let created = expense(&app, &user, "/api/v1", &cash, &groceries, 12).await;
    let update = socket.frame().await;
    assert_eq!(update["type"], "transaction_update");
    assert_eq!(update["data"]["action"], "created");
    assert_eq!(update["data"]["id"], created["id"]);
    assert_eq!(update["data"]["amount"].as_f64(), Some(12.0));
    assert_eq!(update["ledger_id"], user.id.as_str());
    assert!(update["id"].is_string() && update["occurred_at"].is_string());
    // To the microsecond in UTC, as webhook bodies carry it.
    let occurred_at = update["occurred_at"].as_str().unwrap();
    assert_eq!(
        occurred_at.len(),
        "2026-03-10T08:15:30.123456Z".len(),
        "{occurred_at}"
    );
    let seq = update["seq"].as_i64().unwrap();
    assert!(seq > cursor);
    let balance = socket.frame().await;
    assert_eq!(balance["type"], "balance_update");
    assert_eq!(balance["data"]["wallet_id"], cash.as_str());
    assert_eq!(balance["data"]["balance"].as_f64(), Some(-12.0));
    assert!(balance["seq"].as_i64().unwrap() > seq);

    // Spending past a budget's threshold: the alert and its notification.
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/budgets",
        json!({"name": "Food", "amount": 100, "category_ids": [groceries], "period": "monthly",
               "start_date": today}),
    )
    .await;
    expense(&app, &user, "/api/v1", &cash, &groceries, 80).await;
    assert_eq!(
        socket.kinds(4).await,
        [
            "transaction_update:created",
            "balance_update",
            "budget_alert",
            "notification"
        ]
    );

    // Paying a bill, then a CSV import.
    let bill = app
        .data_of(
            &user,
            Method::POST,
            "/api/v1/bills",
            json!({"name": "Rent", "amount": 5, "category_id": groceries, "wallet_id": cash,
                   "frequency": "monthly", "next_due_date": today}),
        )
        .await;
    app.data_of(
        &user,
        Method::POST,
        &format!("/api/v1/bills/{}/pay", bill["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let paid = socket.until(|f| f["type"] == "bill_paid").await;
    assert_eq!(kind(&paid[0]), "transaction_update:created", "{paid:?}");
    let response = app
        .request(Method::POST, "/api/v1/transactions/import")
        .bearer_auth(&user.access_token)
        .header("content-type", "text/csv")
        .body("date,amount,description,category,wallet\n2026-02-01,-3,Tea,Cafe,Cash\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // An import's rows are announced by its one `import_finished`, after their balances.
    assert_eq!(socket.kinds(2).await, ["balance_update", "import_finished"]);

    // Bill reminders come from the background job, through the same log.
    app.data_of(
        &user,
        Method::POST,
        "/api/v1/bills",
        json!({"name": "Power", "amount": 40, "category_id": groceries, "wallet_id": cash,
               "frequency": "monthly", "next_due_date": today}),
    )
    .await;
    app.run_jobs();
    let reminded: Vec<String> = socket
        .until(|f| f["type"] == "notification" && f["data"]["type"] == "bill_due")
        .await
        .iter()
        .map(kind)
        .collect();
    assert!(
        reminded.contains(&"bill_reminder".to_owned()),
        "{reminded:?}"
    );

    // An update and a delete.
    let id = created["id"].as_str().unwrap();
    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        json!({"amount": 13}),
    )
    .await;
    assert_eq!(
        socket.kinds(2).await,
        ["transaction_update:updated", "balance_update"]
    );
    app.data_of(
        &user,
        Method::DELETE,
        &format!("/api/v1/transactions/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(
        socket.kinds(2).await,
        ["transaction_update:deleted", "balance_update"]
    );
    assert_eq!(socket.drain().await, Vec::<Value>::new(), "nothing twice");
}

#[tokio::test]
async fn resuming_after_a_disconnect_loses_and_repeats_nothing() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    socket.frame().await;
    expense(&app, &user, "/api/v1", &cash, &cafe, 1).await;
    let seen = socket.kinds(2).await;
    assert_eq!(seen, ["transaction_update:created", "balance_update"]);
    let last = socket.drain().await;
    assert!(last.is_empty());
    // The last seq the client saw.
    let cursor = app.scalar(&format!(
        "SELECT max(seq) AS value FROM events WHERE ledger_id = '{}'",
        user.id
    ));
    drop(socket);

    // Three writes while away.
    let mut missed = Vec::new();
    for amount in [2, 3, 4] {
        missed.push(expense(&app, &user, "/api/v1", &cash, &cafe, amount).await["id"].clone());
    }
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    let connected = socket.frame().await;
    assert!(
        connected["cursor"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > cursor
    );
    socket
        .send(json!({"type": "resume", "cursor": cursor.to_string()}))
        .await;
    let replayed = socket.drain().await;
    let ids: Vec<Value> = replayed
        .iter()
        .filter(|f| f["type"] == "transaction_update")
        .map(|f| f["data"]["id"].clone())
        .collect();
    assert_eq!(ids, missed, "each missed write once, in order");
    assert_eq!(replayed.len(), 6);
    let seqs: Vec<i64> = replayed
        .iter()
        .map(|f| f["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > cursor);

    // Then live, after the replay, without repeating it.
    expense(&app, &user, "/api/v1", &cash, &cafe, 5).await;
    let live = [socket.frame().await, socket.frame().await];
    assert!(socket.drain().await.is_empty());
    assert!(live[0]["seq"].as_i64().unwrap() > *seqs.last().unwrap());

    // The same through the URL: `?cursor=` replays before anything else.
    let mut again = open(
        &app,
        &user,
        &format!("/api/v1/events/ws?cursor={}", seqs.last().unwrap()),
    )
    .await;
    assert_eq!(again.frame().await["type"], "connected");
    assert_eq!(again.drain().await.len(), 2, "only the live write after it");
}

#[tokio::test]
async fn subscribing_narrows_the_stream_to_types_and_wallets() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    socket.frame().await;
    socket
        .send(json!({"type": "subscribe", "types": ["balance_update"], "wallet_ids": [bank]}))
        .await;
    let subscribed = socket.frame().await;
    assert_eq!(subscribed["type"], "subscribed");
    assert_eq!(subscribed["types"], json!(["balance_update"]));
    expense(&app, &user, "/api/v1", &cash, &cafe, 1).await;
    expense(&app, &user, "/api/v1", &bank, &cafe, 2).await;
    let frames = [socket.frame().await];
    assert!(socket.drain().await.is_empty(), "only the bank's balance");
    assert_eq!(frames[0]["type"], "balance_update");
    assert_eq!(frames[0]["data"]["wallet_id"], bank.as_str());

    // The same filter through the SSE query.
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/events/stream?types=transaction_update&wallet_ids={cash}"),
        )
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    let mut sse = Sse::new(response);
    assert_eq!(sse.next().await.0, "connected");
    assert_eq!(sse.next().await.0, "subscribed");
    expense(&app, &user, "/api/v1", &bank, &cafe, 3).await;
    expense(&app, &user, "/api/v1", &cash, &cafe, 4).await;
    let (event, data) = sse.next().await;
    assert_eq!(event, "transaction_update");
    assert_eq!(
        data["data"]["amount"].as_f64(),
        Some(4.0),
        "the bank expense was filtered out"
    );
}

/// An SSE reader over a streamed body.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    fn new(response: reqwest::Response) -> Sse {
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{:?}",
            response.headers()
        );
        Sse {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's name and data (comments skipped); the `id` goes into `data["_id"]`.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data, mut id) = (String::new(), Value::Null, None);
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = name.to_owned();
                    } else if let Some(json) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(json).unwrap();
                    } else if let Some(value) = line.strip_prefix("id: ") {
                        id = Some(value.to_owned());
                    }
                }
                if event.is_empty() {
                    continue;
                }
                if let Some(id) = id {
                    data["_id"] = Value::String(id);
                }
                return (event, data);
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("an event in time")
                .expect("the stream reads")
                .expect("the stream goes on");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test]
async fn server_sent_events_carry_the_same_events_and_resume_from_last_event_id() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let stream = |last: Option<String>| {
        let mut request = app
            .request(Method::GET, "/api/v1/events/stream")
            .bearer_auth(&user.access_token);
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        request.send()
    };
    let mut sse = Sse::new(stream(None).await.unwrap());
    let (event, connected) = sse.next().await;
    assert_eq!(event, "connected");
    assert!(connected["cursor"].is_string());
    let first = expense(&app, &user, "/api/v1", &cash, &cafe, 7).await;
    let (event, data) = sse.next().await;
    assert_eq!(event, "transaction_update");
    assert_eq!(data["data"]["id"], first["id"]);
    assert_eq!(data["_id"], data["seq"].as_i64().unwrap().to_string());
    let (event, balance) = sse.next().await;
    assert_eq!(event, "balance_update");
    let last_id = balance["_id"].as_str().unwrap().to_owned();
    drop(sse);

    let second = expense(&app, &user, "/api/v1", &cash, &cafe, 8).await;
    let mut sse = Sse::new(stream(Some(last_id)).await.unwrap());
    assert_eq!(sse.next().await.0, "connected");
    let (event, data) = sse.next().await;
    assert_eq!(event, "transaction_update");
    assert_eq!(
        data["data"]["id"], second["id"],
        "the missed event, and not the seen ones"
    );
}

#[tokio::test]
async fn an_event_written_through_one_instance_reaches_a_socket_on_another() {
    let app = spawn_app().await;
    let other = app.second_instance().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let mut socket = open_at(
        &other.address,
        "/api/v1/events/ws",
        Some(&user.access_token),
    )
    .await
    .unwrap();
    assert_eq!(socket.frame().await["type"], "connected");
    // Only ledgers someone listens to announce their commits (a NOTIFY serialises commits).
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS value FROM event_listeners WHERE ledger_id = '{}'",
            user.id
        )),
        1
    );
    let created = expense(&app, &user, "/api/v1", &cash, &cafe, 9).await;
    let update = socket.frame().await;
    assert_eq!(update["data"]["id"], created["id"]);
}

#[tokio::test]
async fn a_ticket_opens_one_stream_of_its_own_ledger_once() {
    let app = spawn_app().await;
    let ana = app.register("ana@example.com").await;
    let bob = app.register("bob@example.com").await;
    let household = create_ledger(&app, &ana, "household").await;
    let ticket = |user: &TestUser, path: &str| {
        let request = app
            .request(Method::POST, path)
            .bearer_auth(&user.access_token)
            .send();
        async move {
            let (status, body) = json(request.await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["data"]["ticket"].as_str().unwrap().to_owned()
        }
    };

    // Without headers, as a browser's WebSocket; a query the stream refuses or a plain GET
    // of the socket does not spend the ticket.
    let one = ticket(&ana, "/api/v1/events/ticket").await;
    for refused in [
        format!("/api/v1/events/ws?ticket={one}&types=no_such_type"),
        format!("/api/v1/events/stream?ticket={one}&wallet_ids=not-an-id"),
    ] {
        assert_error(app.get(&refused).await, 400, "invalid_query").await;
    }
    assert_error(
        app.get(&format!("/api/v1/events/ws?ticket={one}")).await,
        400,
        "websocket_upgrade_required",
    )
    .await;
    let mut socket = open_at(
        &app.address,
        &format!("/api/v1/events/ws?ticket={one}"),
        None,
    )
    .await
    .expect("a ticket opens the stream");
    assert_eq!(socket.frame().await["ledger_id"], ana.id.as_str());
    // Once.
    let again = app
        .get(&format!("/api/v1/events/stream?ticket={one}"))
        .await;
    assert_error(again, 401, "invalid_ticket").await;
    // Only for the ledger it was asked for on; an outsider's ledger is 404 either way.
    let personal = ticket(&ana, "/api/v1/events/ticket").await;
    let wrong = app
        .get(&format!(
            "/api/v1/ledgers/{household}/events/stream?ticket={personal}"
        ))
        .await;
    assert_error(wrong, 401, "invalid_ticket").await;
    let shared = ticket(&ana, &format!("/api/v1/ledgers/{household}/events/ticket")).await;
    let mut socket = open_at(
        &app.address,
        &format!("/api/v1/ledgers/{household}/events/ws?ticket={shared}"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(socket.frame().await["ledger_id"], household.as_str());
    let outsider = app
        .send_as(
            Method::POST,
            &format!("/api/v1/ledgers/{household}/events/ticket"),
            &bob.access_token,
            None,
        )
        .await;
    assert_error(outsider, 404, "not_found").await;
    assert_eq!(
        open_at(
            &app.address,
            &format!("/api/v1/ledgers/{household}/events/ws"),
            Some(&bob.access_token)
        )
        .await
        .err(),
        Some(404)
    );
    // Made-up and absent tickets.
    assert_error(
        app.get("/api/v1/events/stream?ticket=nope").await,
        401,
        "invalid_ticket",
    )
    .await;
    assert_error(app.get("/api/v1/events/stream").await, 401, "missing_token").await;
    // A plain GET of the socket is not a handshake.
    let plain = app
        .send_as(Method::GET, "/api/v1/events/ws", &ana.access_token, None)
        .await;
    assert_error(plain, 400, "websocket_upgrade_required").await;
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = spawn_app_with(|s| s.auth.access_token_ttl = Duration::from_secs(2)).await;
    let user = app.register("ana@example.com").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    let cursor = socket.frame().await["cursor"].as_str().unwrap().to_owned();
    let (code, reason) = socket.closed().await;
    assert_eq!(code, 4001);
    assert_eq!(reason, format!("token_expired; resume from {cursor}"));
}

#[tokio::test]
async fn removing_a_member_or_logging_out_everywhere_closes_their_sockets_at_once() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ledger = create_ledger(&app, &owner, "household").await;
    join(&app, &owner, &ledger, &member, "viewer").await;
    let path = format!("/api/v1/ledgers/{ledger}/events/ws");
    // A viewer reads the stream, through a browser's ticket too.
    let ticket = app
        .send_as(
            Method::POST,
            &format!("/api/v1/ledgers/{ledger}/events/ticket"),
            &member.access_token,
            None,
        )
        .await;
    assert_eq!(ticket.status(), 200, "a viewer may ask for a ticket");
    let mut socket = open(&app, &member, &path).await;
    assert_eq!(socket.frame().await["type"], "connected");
    let mut personal = open(&app, &member, "/api/v1/events/ws").await;
    personal.frame().await;
    let mut owners = open(&app, &owner, &path).await;
    owners.frame().await;

    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/ledgers/{ledger}/members/{}", member.id),
            &owner.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(socket.closed().await.0, 4003);
    // Their own ledger's stream and the owner's stay open.
    assert!(personal.drain().await.is_empty());
    assert!(owners.drain().await.is_empty());

    // Signing out everywhere ends the access tokens, and so the streams, too.
    let response = app
        .send_as(
            Method::POST,
            "/api/v1/auth/logout",
            &member.access_token,
            Some(&json!({"refresh_token": member.refresh_token, "all_devices": true})),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(personal.closed().await.0, 4003);
    assert!(owners.drain().await.is_empty());
}

#[tokio::test]
async fn bad_frames_and_cursors_get_error_frames_and_a_huge_frame_closes_the_socket() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    socket.frame().await;
    for (frame, code) in [
        (json!("not an object"), "invalid_frame"),
        (json!({"type": "dance"}), "invalid_frame"),
        (
            json!({"type": "subscribe", "types": ["everything"]}),
            "unknown_event_type",
        ),
        (
            json!({"type": "resume", "cursor": "yesterday"}),
            "invalid_cursor",
        ),
        (
            json!({"type": "resume", "cursor": "99999999999"}),
            "invalid_cursor",
        ),
    ] {
        socket.send(frame.clone()).await;
        let answer = socket.frame().await;
        assert_eq!(answer["type"], "error", "{frame}");
        assert_eq!(answer["code"], code, "{frame}");
    }
    socket
        .ws
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(socket.frame().await["code"], "invalid_frame");
    // Still open and answering.
    assert!(socket.drain().await.is_empty());

    socket
        .ws
        .send(Message::text("x".repeat(1024 * 1024)))
        .await
        .unwrap();
    let (code, reason) = socket.closed().await;
    assert_eq!(code, 1009, "{reason}");
    // The server is unharmed.
    assert_eq!(app.get("/health").await.status(), 200);
    let mut fresh = open(&app, &user, "/api/v1/events/ws").await;
    assert_eq!(fresh.frame().await["type"], "connected");

    // Unknown types and malformed wallet ids in the query are refused before the upgrade.
    let bad = app
        .send_as(
            Method::GET,
            "/api/v1/events/stream?types=everything",
            &user.access_token,
            None,
        )
        .await;
    assert_error(bad, 400, "invalid_query").await;
    let bad = app
        .send_as(
            Method::GET,
            "/api/v1/events/stream?wallet_ids=nope",
            &user.access_token,
            None,
        )
        .await;
    assert_error(bad, 400, "invalid_query").await;

    // Another user's wallet is no filter of this stream: 404 in the query, an error frame in a
    // `subscribe` (both were accepted).
    let other = app.register("bob@example.com").await;
    let theirs = app.create_wallet(&other, "Theirs", "USD").await;
    let mine = app.create_wallet(&user, "Mine", "USD").await;
    let foreign = app
        .send_as(
            Method::GET,
            &format!("/api/v1/events/stream?wallet_ids={mine},{theirs}"),
            &user.access_token,
            None,
        )
        .await;
    assert_error(foreign, 404, "not_found").await;
    fresh
        .send(json!({"type": "subscribe", "wallet_ids": [theirs]}))
        .await;
    let answer = fresh.frame().await;
    assert_eq!(
        (answer["type"].clone(), answer["code"].clone()),
        (json!("error"), json!("unknown_wallet")),
        "{answer}"
    );
    fresh
        .send(json!({"type": "subscribe", "wallet_ids": [mine]}))
        .await;
    assert_eq!(fresh.frame().await["type"], "subscribed");
}

#[tokio::test]
async fn a_cursor_older_than_the_log_asks_for_a_fresh_sync() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    expense(&app, &user, "/api/v1", &cash, &cafe, 1).await;
    let old = app.scalar(&format!(
        "SELECT min(seq) AS value FROM events WHERE ledger_id = '{}'",
        user.id
    ));
    // The log's window passes over these events.
    app.scalar(
        "WITH moved AS (UPDATE events SET occurred_at = now() - interval '40 days' \
                RETURNING 1) SELECT count(*) AS value FROM moved",
    );
    let pruned = finai::db::events::prune(
        &mut app.db.connect(),
        chrono::Utc::now() - chrono::Duration::days(finai::jobs::EVENT_LOG_DAYS),
    )
    .unwrap();
    assert_eq!(pruned, 2);

    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    let connected = socket.frame().await;
    socket
        .send(json!({"type": "resume", "cursor": (old - 1).to_string()}))
        .await;
    let answer = socket.frame().await;
    assert_eq!(answer["type"], "sync_required");
    assert_eq!(answer["cursor"], connected["cursor"]);
    // And the stream goes on.
    expense(&app, &user, "/api/v1", &cash, &cafe, 2).await;
    assert_eq!(socket.kinds(2).await[0], "transaction_update:created");
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_closed_with_its_cursor_and_can_resume() {
    let app = spawn_app_with(|s| s.stream.send_timeout = Duration::from_secs(1)).await;
    let user = app.register("ana@example.com").await;
    // Far more than socket buffers hold: 20,000 events of 2 KB.
    app.scalar(&format!(
        "WITH added AS (INSERT INTO events (ledger_id, type, payload) \
         SELECT '{}', 'notification', jsonb_build_object('body', repeat('x', 2000), 'n', n) \
         FROM generate_series(1, 20000) n RETURNING 1) SELECT count(*) AS value FROM added",
        user.id
    ));
    let mut socket = open(&app, &user, "/api/v1/events/ws?cursor=0").await;
    // Not reading: the server's frames pile up until it gives up on this reader. Then read.
    let mut received = 0u64;
    let mut last_seq = 0;
    let (code, reason) = loop {
        match socket.receive().await {
            Received::Frame(frame) => {
                if let Some(seq) = frame["seq"].as_i64() {
                    last_seq = seq;
                    received += 1;
                }
                if received == 1 {
                    // Only now stop reading, for longer than the send timeout.
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
            }
            Received::Closed(code, reason) => break (code, reason),
        }
    };
    assert_eq!(code, 4008, "{reason}");
    assert!(received < 20_000, "closed before the end: {received}");
    let cursor: i64 = reason
        .strip_prefix("slow_consumer; resume from ")
        .expect("the reason names the cursor")
        .parse()
        .unwrap();
    assert_eq!(cursor, last_seq, "the cursor is the last event delivered");

    let mut socket = open(&app, &user, &format!("/api/v1/events/ws?cursor={cursor}")).await;
    assert_eq!(socket.frame().await["type"], "connected");
    let next = socket.frame().await;
    assert!(next["seq"].as_i64().unwrap() > cursor);
    assert_eq!(
        next["data"]["n"].as_i64().unwrap(),
        received as i64 + 1,
        "carries on with the first event not delivered"
    );
}

#[tokio::test]
async fn unusual_spending_is_pushed_and_disabling_the_account_closes_its_socket() {
    let app = spawn_app().await;
    let admin = app.register_with_role("root@example.com", "admin").await;
    let user = app.register("ana@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let groceries = app.category_id(&user, "Groceries").await;
    for (i, amount) in [48, 52, 50, 47, 55, 51, 49, 53].iter().enumerate() {
        app.create_transaction(
            &user,
            json!({"type": "expense", "amount": amount, "wallet_id": wallet,
                   "category_id": groceries, "date": format!("2026-0{}-01", 1 + i)}),
        )
        .await;
    }
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    socket.frame().await;
    let big = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 900, "wallet_id": wallet,
                   "category_id": groceries, "date": "2026-09-01"}),
        )
        .await;
    let frames = socket.until(|f| f["type"] == "unusual_spending").await;
    let unusual = frames.last().unwrap();
    assert_eq!(unusual["data"]["transaction_id"], big["id"]);
    assert_eq!(unusual["data"]["kind"], "unusual_spending");

    let response = app
        .send_as(
            Method::PATCH,
            &format!("/api/v1/users/{}", user.id),
            &admin.access_token,
            Some(&json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(socket.closed().await.0, 4003);
}

#[tokio::test]
async fn ending_a_session_closes_the_streams_it_opened_and_no_other() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let (status, second) = json(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"email": "ana@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let phone = second["data"]["access_token"].as_str().unwrap().to_owned();
    // The phone opens one stream with its token and one with a ticket (as a browser would).
    let mut by_token = open_at(&app.address, "/api/v1/events/ws", Some(&phone))
        .await
        .expect("the stream opens");
    by_token.frame().await;
    let (_, ticket) = json(
        app.send_as(Method::POST, "/api/v1/events/ticket", &phone, None)
            .await,
    )
    .await;
    let ticket = ticket["data"]["ticket"].as_str().unwrap();
    let mut by_ticket = open_at(
        &app.address,
        &format!("/api/v1/events/ws?ticket={ticket}"),
        None,
    )
    .await
    .expect("the ticket opens the stream");
    by_ticket.frame().await;
    let mut laptop = open(&app, &user, "/api/v1/events/ws").await;
    laptop.frame().await;

    let sessions = app.data(&user, "/api/v1/users/me/sessions").await;
    let phone_session = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/users/me/sessions/{phone_session}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(ended.status(), 200);
    assert_eq!(by_token.closed().await.0, 4003);
    assert_eq!(by_ticket.closed().await.0, 4003);
    assert!(laptop.drain().await.is_empty());
}

/// A receipt's reading is announced on its owner's stream when it ends, read or failed, so a
/// client need not poll `GET /receipts/{id}`; nobody else hears of it.
#[tokio::test]
async fn a_receipts_reading_is_announced_when_it_ends() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    assert_eq!(socket.frame().await["type"], "connected");
    let mut theirs = open(&app, &other, "/api/v1/events/ws").await;
    assert_eq!(theirs.frame().await["type"], "connected");
    let upload = |bytes: Vec<u8>| async {
        let (status, body) = crate::receipts::upload(&app, &user, "/api/v1/receipts", bytes).await;
        assert_eq!(status, 202, "{body}");
        body["data"]["id"].clone()
    };

    let read = upload(crate::receipts::fixture("cafe.png")).await;
    let frames = socket.until(|f| f["type"] == "receipt_processed").await;
    let data = &frames.last().unwrap()["data"];
    assert_eq!(data["receipt_id"], read);
    assert_eq!(data["status"], "parsed", "{data}");
    assert_eq!(data["merchant"], "BLUE BOTTLE CAFE");
    assert_eq!(data["total"], json!(21.49));
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["failure"], Value::Null);
    // What the event says is what the receipt shows.
    let receipt = app
        .data(
            &user,
            &format!("/api/v1/receipts/{}", read.as_str().unwrap()),
        )
        .await;
    assert_eq!(receipt["status"], "parsed");

    let blank = upload(crate::helpers::blank_png(300, 600)).await;
    let frames = socket.until(|f| f["type"] == "receipt_processed").await;
    let data = &frames.last().unwrap()["data"];
    assert_eq!(data["receipt_id"], blank);
    assert_eq!(data["status"], "failed");
    assert_eq!(data["failure"], "no text was found on the receipt");

    let heard: Vec<Value> = theirs.drain().await;
    assert!(
        heard.iter().all(|f| f["type"] != "receipt_processed"),
        "{heard:?}"
    );
}

#[tokio::test]
async fn a_background_imports_end_is_announced_done_or_failed() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let wallet = app.create_wallet(&user, "Checking", "USD").await;
    let mut socket = open(&app, &user, "/api/v1/events/ws").await;
    assert_eq!(socket.frame().await["type"], "connected");
    let mut theirs = open(&app, &other, "/api/v1/events/ws").await;
    assert_eq!(theirs.frame().await["type"], "connected");
    let queue = |body: &'static [u8]| {
        let request = app
            .request(
                Method::POST,
                &format!("/api/v1/imports?wallet_id={wallet}&background=true"),
            )
            .bearer_auth(&user.access_token)
            .header("content-type", "application/qif")
            .body(body);
        async move {
            let (status, body) = json(request.send().await.unwrap()).await;
            assert_eq!(status, 202, "{body}");
            body["data"]["id"].clone()
        }
    };

    let done = queue(b"!Type:Bank\nD03/02/2026\nT-64.30\nPCorner Market\n^\n").await;
    let frames = socket.until(|f| f["type"] == "import_finished").await;
    let data = &frames.last().unwrap()["data"];
    assert_eq!(data["import_id"], done);
    assert_eq!(
        (data["status"].as_str(), data["created"].as_i64()),
        (Some("pending"), Some(1)),
        "{data}"
    );
    assert_eq!(data["failure"], Value::Null);

    let failed = queue(b"!Type:Bank\nD13/45/2026\nT-1\n^\n").await;
    let frames = socket.until(|f| f["type"] == "import_finished").await;
    let data = &frames.last().unwrap()["data"];
    assert_eq!(data["import_id"], failed);
    assert_eq!(data["status"], "failed");
    assert!(
        data["failure"].as_str().unwrap().starts_with("line 2"),
        "{data}"
    );

    let heard: Vec<Value> = theirs.drain().await;
    assert!(
        heard.iter().all(|f| f["type"] != "import_finished"),
        "{heard:?}"
    );
}

/// One account holds a bounded number of streams open: one more is 429, and closing one makes
/// room again. Another account is not counted with it.
#[tokio::test]
async fn an_account_holds_at_most_its_share_of_streams() {
    let app = spawn_app_with(|s| {
        s.stream.per_user = 3;
        s.stream.heartbeat = Duration::from_secs(1);
    })
    .await;
    let user = app.register("ana@example.com").await;
    let other = app.register("bob@example.com").await;
    let open = |token: String| {
        let app = &app;
        async move {
            app.request(Method::GET, "/api/v1/events/stream")
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let mut streams = Vec::new();
    for _ in 0..3 {
        let response = open(user.access_token.clone()).await;
        assert_eq!(response.status(), 200);
        let mut sse = Sse::new(response);
        assert_eq!(sse.next().await.0, "connected");
        streams.push(sse);
    }
    assert_error(
        open(user.access_token.clone()).await,
        429,
        "too_many_streams",
    )
    .await;
    let theirs = open(other.access_token.clone()).await;
    assert_eq!(theirs.status(), 200);

    drop(streams.pop());
    // The server notices the closed stream at its next write or heartbeat (1 s here).
    let mut reopened = None;
    for _ in 0..50 {
        let response = open(user.access_token.clone()).await;
        if response.status() == 200 {
            reopened = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream makes room");
}

/// A transaction moved to another wallet is news to a stream watching the wallet it left: its
/// `updated` event names the wallets it left, and the filter passes it.
#[tokio::test]
async fn a_stream_watching_a_wallet_hears_of_a_transaction_leaving_it() {
    let app = spawn_app().await;
    let user = app.register("ana@example.com").await;
    let cash = app.create_wallet(&user, "Cash", "USD").await;
    let bank = app.create_wallet(&user, "Bank", "USD").await;
    let cafe = app.category_id(&user, "Cafe").await;
    let spent = expense(&app, &user, "/api/v1", &cash, &cafe, 7).await;
    let id = spent["id"].as_str().unwrap();
    let mut socket = open(
        &app,
        &user,
        &format!("/api/v1/events/ws?types=transaction_update&wallet_ids={cash}"),
    )
    .await;
    assert_eq!(socket.frame().await["type"], "connected");
    assert_eq!(socket.frame().await["type"], "subscribed");

    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        json!({"wallet_id": bank}),
    )
    .await;
    let moved = socket.frame().await;
    assert_eq!(moved["data"]["action"], "updated", "{moved}");
    assert_eq!(moved["data"]["wallet_id"], bank.as_str());
    assert_eq!(moved["data"]["previous_wallet_id"], cash.as_str());
    assert!(moved["data"]["previous_to_wallet_id"].is_null());

    // An edit that keeps its wallets says nothing of previous ones (and is the bank's news).
    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        json!({"wallet_id": cash}),
    )
    .await;
    let back = socket.frame().await;
    assert_eq!(back["data"]["previous_wallet_id"], bank.as_str());
    app.data_of(
        &user,
        Method::PATCH,
        &format!("/api/v1/transactions/{id}"),
        json!({"description": "Latte"}),
    )
    .await;
    let edited = socket.frame().await;
    assert_eq!(edited["data"]["description"], "Latte");
    assert!(
        edited["data"].get("previous_wallet_id").is_none(),
        "{edited}"
    );
}
