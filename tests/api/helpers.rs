//! Test harness: a database per test, copied from a migrated template, and the app on port 0.
//!
//! The server is `TEST_DATABASE_URL` or `DATABASE_URL` when set; otherwise a throwaway cluster
//! started once per test process with the same launcher `finai serve` uses, stopped and removed
//! when the process exits.

// Shared by every test module; not every helper is used by each resource's tests.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use finai::config::Settings;
use finai::db::embedded::{quote_ident, ClusterOptions, EmbeddedPostgres};
use finai::db::{build_pool_counting, migrations, PgPool};
use finai::startup::Application;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

/// Arbitrary but fixed, distinct from the migration lock: "FINAITPL".
const TEMPLATE_LOCK_KEY: i64 = 0x46494e4149545046;

struct TestServer {
    admin_url: String,
    template: String,
}

static SERVER: OnceLock<TestServer> = OnceLock::new();
static EMBEDDED: Mutex<Option<(EmbeddedPostgres, PathBuf)>> = Mutex::new(None);

extern "C" fn stop_embedded_cluster() {
    if let Ok(mut guard) = EMBEDDED.lock() {
        if let Some((mut cluster, dir)) = guard.take() {
            cluster.stop();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn server() -> &'static TestServer {
    SERVER.get_or_init(|| {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(start_throwaway_cluster);
        let template = ensure_template(&admin_url);
        TestServer {
            admin_url,
            template,
        }
    })
}

/// A private temp directory (removed by the caller).
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Cluster options for a throwaway cluster in `dir`.
pub fn ephemeral_options(dir: &Path) -> ClusterOptions {
    ClusterOptions {
        cluster_dir: dir.join("pg"),
        socket_dir: dir.join("run"),
        log_file: dir.join("postgres.log"),
        ephemeral: true,
        max_connections: 300,
    }
}

fn start_throwaway_cluster() -> String {
    let dir = temp_dir("finai-test");
    let cluster = EmbeddedPostgres::start(ephemeral_options(&dir))
        .unwrap_or_else(|e| panic!("cannot start a test PostgreSQL: {e}"));
    let url = cluster.url("postgres");
    *EMBEDDED.lock().unwrap() = Some((cluster, dir));
    // SAFETY: registering a plain `extern "C" fn` with no captured state.
    unsafe {
        nix::libc::atexit(stop_embedded_cluster);
    }
    url
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

fn admin_connection(url: &str) -> PgConnection {
    PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"))
}

fn exec(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn migrations_fingerprint() -> u64 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("migrations dir")
        .flatten()
        .flat_map(|dir| {
            std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|entry| entry.path())
        .collect();
    files.sort();
    let mut hash = 0xcbf29ce484222325u64;
    for file in files {
        let bytes = [
            file.to_string_lossy().as_bytes(),
            &std::fs::read(&file).unwrap_or_default(),
        ]
        .concat();
        for byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100000001b3);
        }
    }
    hash
}

/// A migrated template named after the migrations' content, built once per server under an
/// advisory lock, so parallel test processes share it and a changed migration gets a new one.
fn ensure_template(admin_url: &str) -> String {
    let name = format!("finai_tmpl_{:016x}", migrations_fingerprint());
    let mut admin = admin_connection(admin_url);
    exec(
        &mut admin,
        &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"),
    );
    if !database_exists(&mut admin, &name) {
        // Built under another name and renamed, so a half-built template is never used.
        let scratch = format!("{name}_build");
        exec(
            &mut admin,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&scratch)
            ),
        );
        exec(
            &mut admin,
            &format!("CREATE DATABASE {}", quote_ident(&scratch)),
        );
        {
            let mut conn = admin_connection(&with_database(admin_url, &scratch));
            migrations::run_pending(&mut conn).expect("migrations apply to the template");
        }
        exec(
            &mut admin,
            &format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(&scratch),
                quote_ident(&name)
            ),
        );
    }
    exec(
        &mut admin,
        &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"),
    );
    name
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Count>(conn)
        .expect("query pg_database")
        .n
        > 0
}

/// A database of its own for one test, dropped (with its connections) when it goes out of scope.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A copy of the migrated template.
    pub fn migrated() -> Self {
        let server = server();
        Self::create(&format!("TEMPLATE {}", quote_ident(&server.template)))
    }

    /// An empty database, no migrations applied.
    pub fn empty() -> Self {
        Self::create("TEMPLATE template0")
    }

    fn create(template_clause: &str) -> Self {
        let server = server();
        let name = format!("finai_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(&server.admin_url);
        let sql = format!("CREATE DATABASE {} {template_clause}", quote_ident(&name));
        // A template cannot be copied while another session is connected to it; that only
        // lasts a moment (another process finishing the template), so retry briefly.
        let mut attempts = 0;
        loop {
            match diesel::sql_query(&sql).execute(&mut admin) {
                Ok(_) => break,
                Err(e) if attempts < 50 && e.to_string().contains("being accessed") => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("{sql}: {e}"),
            }
        }
        TestDatabase {
            url: with_database(&server.admin_url, &name),
            name,
        }
    }

    pub fn connect(&self) -> PgConnection {
        admin_connection(&self.url)
    }

    /// Drops the database now (e.g. to simulate losing it).
    pub fn drop_now(&self) {
        let mut admin = admin_connection(&server().admin_url);
        exec(
            &mut admin,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ),
        );
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&server().admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ))
            .execute(&mut admin);
        }
    }
}

/// The application under test, on its own port and database.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    /// SQL statements the app has run so far.
    pub statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub data_dir: PathBuf,
    pub db: TestDatabase,
    handle: actix_web::dev::ServerHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust its settings.
pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::migrated();
    let data_dir = temp_dir("finai-app");
    let mut settings = Settings::for_tests(&db.url, data_dir.clone());
    customise(&mut settings);
    let statements = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pool = build_pool_counting(&db.url, &settings.database, Some(statements.clone()));
    let application = Application::build(settings, pool.clone()).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        pool,
        statements,
        data_dir,
        db,
        handle,
    }
}

/// Another server on the same database: a second instance of one deployment.
pub struct Instance {
    pub address: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl TestApp {
    pub async fn second_instance(&self) -> Instance {
        self.second_instance_with(|_| {}).await
    }

    pub async fn second_instance_with(&self, customise: impl FnOnce(&mut Settings)) -> Instance {
        let mut settings = Settings::for_tests(&self.db.url, self.data_dir.clone());
        customise(&mut settings);
        let pool = build_pool_counting(&self.db.url, &settings.database, None);
        let application = Application::build(settings, pool).expect("the app builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        tokio::spawn(application.run_until_stopped());
        Instance { address, handle }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the server task finishes with the test's runtime.
        drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    // The request helpers build the request before returning, so their futures borrow
    // nothing and closures can return them.

    pub fn get(&self, path: &str) -> impl Future<Output = Response> + use<> {
        send(self.request(Method::GET, path))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> impl Future<Output = Response> + use<> {
        send(self.request(Method::POST, path).json(body))
    }

    /// POSTs raw bytes with the given content type.
    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Response> + use<> {
        send(
            self.request(Method::POST, path)
                .header("content-type", content_type)
                .body(body),
        )
    }
}

/// A white PNG of `width` x `height`: a real image with no text on it.
pub fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let image = image::GrayImage::from_pixel(width, height, image::Luma([255]));
    let mut out = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("request sent")
}

/// Status and parsed JSON body of a response.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// Asserts the error envelope with `status` and `code`, returning the body.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries X-Request-Id"
    );
    let (actual, body) = json(response).await;
    assert_eq!(actual, status, "unexpected status; body: {body}");
    assert_eq!(body["status"], "error", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    body
}

/// A registered user and the session registration gave it.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "Str0ng!pass";

impl TestApp {
    /// Registers `email` with [`PASSWORD`].
    pub async fn register(&self, email: &str) -> TestUser {
        let response = self
            .post_json(
                "/api/v1/auth/register",
                &serde_json::json!({"email": email, "password": PASSWORD, "name": "Test User"}),
            )
            .await;
        let (status, body) = json(response).await;
        assert_eq!(status, 201, "registration failed: {body}");
        TestUser {
            id: body["data"]["user"]["id"].as_str().unwrap().to_owned(),
            email: body["data"]["user"]["email"].as_str().unwrap().to_owned(),
            password: PASSWORD.to_owned(),
            access_token: body["data"]["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["data"]["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Registers a user and gives it `role` straight in the database.
    pub async fn register_with_role(&self, email: &str, role: &str) -> TestUser {
        let user = self.register(email).await;
        self.execute(&format!(
            "UPDATE users SET role = '{role}' WHERE id = '{}'",
            user.id
        ));
        user
    }

    /// Runs SQL against this test's database.
    pub fn execute(&self, sql: &str) -> usize {
        let mut conn = self.db.connect();
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// One run of the background job, as the server's interval task runs it.
    pub fn run_jobs(&self) -> finai::jobs::JobReport {
        finai::jobs::run_once(&mut self.db.connect(), chrono::Utc::now()).unwrap()
    }

    /// A single number from SQL, e.g. a count.
    pub fn scalar(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Scalar {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            value: i64,
        }
        let mut conn = self.db.connect();
        diesel::sql_query(sql)
            .get_result::<Scalar>(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .value
    }

    /// Sends a request with a bearer token and an optional JSON body.
    pub fn send_as(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> impl Future<Output = Response> + use<> {
        let mut request = self.request(method, path).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        send(request)
    }

    pub fn get_as(&self, path: &str, token: &str) -> impl Future<Output = Response> + use<> {
        self.send_as(Method::GET, path, token, None)
    }

    /// The token in the newest mail to `to` whose link goes to `page` (`reset-password` or
    /// `verify-email`). Mail is sent in the background, so this waits for it (5 s at most).
    pub async fn mailed_token(&self, to: &str, page: &str) -> String {
        let outbox = self.data_dir.join("outbox");
        let marker = format!("/{page}?token=");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut mails: Vec<PathBuf> = std::fs::read_dir(&outbox)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            mails.sort();
            for path in mails.iter().rev() {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let to_header = format!("To: {to}");
                if !text.lines().any(|l| l.eq_ignore_ascii_case(&to_header)) {
                    continue;
                }
                if let Some(start) = text.find(&marker) {
                    let token: String = text[start + marker.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    return token;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {page} mail to {to} in {}",
                outbox.display()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// How many mails to `to` are in the outbox.
    /// Resets `email`'s password to `new_password` through the mailed link, as its owner would.
    pub async fn reset_password(&self, email: &str, new_password: &str) {
        self.post_json("/api/v1/auth/password/forgot", &json!({"email": email}))
            .await;
        let token = self.mailed_token(email, "reset-password").await;
        let response = self
            .post_json(
                "/api/v1/auth/password/reset",
                &json!({"token": token, "new_password": new_password}),
            )
            .await;
        assert_eq!(response.status(), 200, "reset of {email}");
    }

    /// Every mail sent to `to` so far, as written to the outbox, one after another.
    pub fn mails_to(&self, to: &str) -> String {
        let to_header = format!("To: {to}");
        std::fs::read_dir(self.data_dir.join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .filter(|text| text.lines().any(|l| l.eq_ignore_ascii_case(&to_header)))
            .collect()
    }

    pub fn mail_count(&self, to: &str) -> usize {
        let to_header = format!("To: {to}");
        std::fs::read_dir(self.data_dir.join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .lines()
                    .any(|l| l.eq_ignore_ascii_case(&to_header))
            })
            .count()
    }
}

impl TestApp {
    /// Creates a wallet for `user` and returns its id.
    pub async fn create_wallet(&self, user: &TestUser, name: &str, currency: &str) -> String {
        let (status, body) = json(
            self.send_as(
                Method::POST,
                "/api/v1/wallets",
                &user.access_token,
                Some(&serde_json::json!({"name": name, "type": "cash", "currency": currency})),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// The id of `user`'s category called `name` (from the default tree, or made by the test).
    pub async fn category_id(&self, user: &TestUser, name: &str) -> String {
        let (status, body) = json(
            self.get_as("/api/v1/categories?per_page=200", &user.access_token)
                .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no category {name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a transaction from `body` and returns the response body's `data`.
    pub async fn create_transaction(&self, user: &TestUser, body: Value) -> Value {
        let (status, response) = json(
            self.send_as(
                Method::POST,
                "/api/v1/transactions",
                &user.access_token,
                Some(&body),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{response}");
        response["data"].clone()
    }

    /// Sends `body` as `user` and returns the answer's `data`, asserting success.
    pub async fn data_of(&self, user: &TestUser, method: Method, path: &str, body: Value) -> Value {
        let (status, response) = json(
            self.send_as(method, path, &user.access_token, Some(&body))
                .await,
        )
        .await;
        assert!(status < 300, "{path}: {response}");
        response["data"].clone()
    }

    /// The `data` of a GET, asserting 200.
    pub fn data(&self, user: &TestUser, path: &str) -> impl Future<Output = Value> + use<> {
        let response = self.get_as(path, &user.access_token);
        let path = path.to_owned();
        async move {
            let (status, body) = json(response.await).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["data"].clone()
        }
    }
}

/// One of each resource a user can own, created through the API: what the spec-driven tests
/// (isolation, bad input) put into paths and bodies.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Path segment under `/api/v1` (`wallets`, `bills`, ...) -> the id of one such row.
    pub by_segment: std::collections::BTreeMap<&'static str, String>,
    pub wallet: String,
    pub second_wallet: String,
    pub expense_category: String,
    pub description: String,
    /// A category suggestion made for this user (`POST /predictions/categorize`).
    pub suggestion: String,
    /// The user's id: their personal ledger's too, and their member id in the shared one.
    pub user: String,
    /// An open invitation into the user's shared ledger (`by_segment["ledgers"]`).
    pub invitation: String,
    /// The user's conversation with the assistant (`by_segment["assistant"]` is an answer in it).
    pub conversation: String,
}

/// The prefix under which every resource of a ledger is reached in a named ledger.
const SCOPED: &str = "/api/v1/ledgers/{ledger_id}/";

impl Ledger {
    /// The id for a path's `{id}`: the resource named by its first segment. `None` for paths
    /// whose resource the ledger does not hold.
    pub fn path_id(&self, path: &str) -> Option<&str> {
        let rest = match path.strip_prefix(SCOPED) {
            Some(rest) => rest,
            None => path.strip_prefix("/api/v1/")?,
        };
        let segment = rest.split('/').next()?;
        self.by_segment.get(segment).map(String::as_str)
    }

    /// `path` with its `{id}`, `{desc_id}`, `{user_id}`, `{invitation_id}` and `{ledger_id}`
    /// (the user's personal ledger) filled from this ledger.
    pub fn fill(&self, path: &str) -> Option<String> {
        let mut filled = path
            .replace("{desc_id}", &self.description)
            .replace("{user_id}", &self.user)
            .replace("{invitation_id}", &self.invitation)
            .replace("{ledger_id}", &self.user);
        if filled.contains("{id}") {
            filled = filled.replace("{id}", self.path_id(path)?);
        }
        Some(filled)
    }

    /// Points every id field of a request body at this ledger's rows, so that a body refers only
    /// to what its sender owns; splits are dropped (they must add up).
    pub fn own_body(&self, body: &mut Value) {
        let Some(fields) = body.as_object_mut() else {
            return;
        };
        fields.remove("splits");
        for (name, value) in fields.iter_mut() {
            let id = match name.as_str() {
                "wallet_id" => &self.wallet,
                "to_wallet_id" => &self.second_wallet,
                "category_id" | "parent_id" => &self.expense_category,
                "suggestion_id" => &self.suggestion,
                "category_ids" => {
                    *value = serde_json::json!([self.expense_category]);
                    continue;
                }
                _ => continue,
            };
            *value = Value::String(id.clone());
        }
    }
}

impl TestApp {
    /// Creates one of each resource for `user`: two wallets, a category with a quick-pick
    /// description, an expense, a budget that the expense overruns (so a notification exists),
    /// a bill with a payment, and a recurring transaction.
    pub async fn seed_ledger(&self, user: &TestUser) -> Ledger {
        let token = &user.access_token;
        let post = |path: &str, body: Value| {
            let response = self.send_as(Method::POST, path, token, Some(&body));
            async move { json(response.await).await }
        };
        let created = |path: &str, body: Value| {
            let response = post(path, body);
            let path = path.to_owned();
            async move {
                let (status, body) = response.await;
                assert_eq!(status, 201, "{path}: {body}");
                body["data"]["id"].as_str().unwrap().to_owned()
            }
        };
        let wallet = self.create_wallet(user, "Everyday", "VND").await;
        let second_wallet = self.create_wallet(user, "Savings", "VND").await;
        let groceries = self.category_id(user, "Groceries").await;
        let category = created(
            "/api/v1/categories",
            serde_json::json!({"name": "Market stalls", "parent_id": groceries}),
        )
        .await;
        let (status, body) = post(
            &format!("/api/v1/categories/{category}/descriptions"),
            serde_json::json!({"text": "Vegetables"}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let description = body["data"]["id"].as_str().unwrap().to_owned();
        let today = chrono::Utc::now().date_naive().to_string();
        let budget = created(
            "/api/v1/budgets",
            serde_json::json!({"name": "Food", "amount": 100000, "currency": "VND", "period": "monthly",
                "start_date": today, "category_ids": [groceries]}),
        )
        .await;
        let transaction = created(
            "/api/v1/transactions",
            serde_json::json!({"type": "expense", "amount": 250000, "date": today,
                "category_id": category, "wallet_id": wallet, "description": "Market"}),
        )
        .await;
        let bill = created(
            "/api/v1/bills",
            serde_json::json!({"name": "Rent", "amount": 5000000, "frequency": "monthly",
                "next_due_date": today, "category_id": groceries, "wallet_id": wallet}),
        )
        .await;
        let (status, body) =
            post(&format!("/api/v1/bills/{bill}/pay"), serde_json::json!({})).await;
        assert!(status < 300, "pay the bill: {body}");
        let recurring = created(
            "/api/v1/recurring",
            serde_json::json!({"type": "expense", "amount": 90000, "frequency": "monthly",
                "next_date": today, "category_id": groceries, "wallet_id": second_wallet}),
        )
        .await;
        let (status, body) = post(
            "/api/v1/predictions/categorize",
            serde_json::json!({"description": "Market vegetables"}),
        )
        .await;
        assert_eq!(status, 200, "categorize: {body}");
        let suggestion = body["data"]["suggestion_id"].as_str().unwrap().to_owned();
        let shared = created(
            "/api/v1/ledgers",
            serde_json::json!({"name": "Shared", "kind": "household"}),
        )
        .await;
        let invitation = created(
            &format!("/api/v1/ledgers/{shared}/members"),
            serde_json::json!({"email": format!("friend-{}@example.com", user.id), "role": "viewer"}),
        )
        .await;
        let import = {
            let response = self
                .request(
                    Method::POST,
                    &format!("/api/v1/imports?wallet_id={second_wallet}"),
                )
                .bearer_auth(token)
                .header("content-type", "application/qif")
                .body("!Type:Bank\nD03/02/2026\nT-64000\nPMarket\n^\n")
                .send()
                .await
                .expect("request sent");
            let (status, body) = json(response).await;
            assert_eq!(status, 201, "import: {body}");
            body["data"]["id"].as_str().unwrap().to_owned()
        };
        let rule = created(
            "/api/v1/rules",
            serde_json::json!({"name": "Market", "payee_contains": "market", "category_id": category}),
        )
        .await;
        let upload = |path: String, bytes: Vec<u8>| {
            let request = self
                .request(Method::POST, &path)
                .bearer_auth(token)
                .header("content-type", "image/png")
                .body(bytes);
            async move {
                let (status, body) = json(send(request).await).await;
                assert!(status == 201 || status == 202, "{path}: {status} {body}");
                body["data"]["id"].as_str().unwrap().to_owned()
            }
        };
        let attachment = upload(
            format!("/api/v1/transactions/{transaction}/attachments"),
            blank_png(32, 32),
        )
        .await;
        let receipt = upload("/api/v1/receipts".into(), blank_png(48, 48)).await;
        // Read (and, with no text on it, failed) before the tests compare what is stored.
        self.wait_for_receipt(token, &receipt).await;
        let goal = created(
            "/api/v1/goals",
            serde_json::json!({"name": "Trip", "target_amount": 3000000}),
        )
        .await;
        let (status, body) = post(
            &format!("/api/v1/goals/{goal}/contributions"),
            serde_json::json!({"amount": 500000}),
        )
        .await;
        assert_eq!(status, 201, "contribute: {body}");
        let scenario = created(
            "/api/v1/scenarios",
            serde_json::json!({"name": "Plan", "scenario": {"months": 3, "changes": [
                {"kind": "expense", "amount": 100000, "every": "month"}]}}),
        )
        .await;
        let (status, body) = post(
            "/api/v1/assistant/ask",
            serde_json::json!({"question": "How much did I spend on groceries this month?"}),
        )
        .await;
        assert_eq!(status, 200, "ask: {body}");
        let answer = body["data"]["answer_id"].as_str().unwrap().to_owned();
        let conversation = body["data"]["conversation_id"].as_str().unwrap().to_owned();
        let notifications = self.data(user, "/api/v1/notifications").await;
        let notification = notifications[0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("the overrun budget notified: {notifications}"))
            .to_owned();
        // Last, so that no event of the rows above is delivered (and changes the deliveries'
        // rows) while a test compares the database before and after.
        let webhook = created(
            "/api/v1/webhooks",
            serde_json::json!({"url": "https://hooks.example.com/finai"}),
        )
        .await;
        let by_segment = [
            ("wallets", wallet.clone()),
            ("categories", category.clone()),
            ("transactions", transaction.clone()),
            ("expenses", transaction),
            ("budgets", budget),
            ("bills", bill),
            ("recurring", recurring),
            ("notifications", notification),
            ("webhooks", webhook),
            ("users", user.id.clone()),
            ("ledgers", shared),
            ("imports", import),
            ("rules", rule),
            ("attachments", attachment),
            ("receipts", receipt),
            ("goals", goal),
            ("scenarios", scenario),
            ("assistant", answer),
        ]
        .into_iter()
        .collect();
        Ledger {
            by_segment,
            wallet,
            second_wallet,
            expense_category: category,
            description,
            suggestion,
            user: user.id.clone(),
            invitation,
            conversation,
        }
    }

    /// Waits (up to two minutes: the readers run at a low priority, behind the other tests)
    /// until the receipt readers have read a receipt; returns it.
    pub async fn wait_for_receipt(&self, token: &str, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let (status, body) =
                json(self.get_as(&format!("/api/v1/receipts/{id}"), token).await).await;
            assert_eq!(status, 200, "{body}");
            if body["data"]["status"] != "processing" {
                return body["data"].clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "receipt {id} still processing after two minutes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A digest of every row of every table: equal digests, nothing was written.
    pub fn fingerprint(&self) -> std::collections::BTreeMap<String, String> {
        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Digest {
            #[diesel(sql_type = diesel::sql_types::Text)]
            digest: String,
        }
        let mut conn = self.db.connect();
        let tables = diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .load::<Table>(&mut conn)
        .expect("list tables");
        tables
            .into_iter()
            .map(|table| {
                let sql = format!(
                    "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) \
                     AS digest FROM \"{}\" t",
                    table.name
                );
                let digest = diesel::sql_query(&sql)
                    .get_result::<Digest>(&mut conn)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .digest;
                (table.name, digest)
            })
            .collect()
    }
}

/// A body schema's properties as `{name: {"kind": "string|number|integer|boolean|array|object",
/// "format": "uuid|date|...", "items_format": ...}}`, through `$ref`s and nullable `oneOf`s.
fn json_fields(spec: &Value, schema: &Value) -> Value {
    fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
        loop {
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                schema = spec
                    .pointer(reference.trim_start_matches('#'))
                    .unwrap_or(&Value::Null);
            } else if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
                schema = one_of
                    .iter()
                    .find(|s| s["type"] != "null")
                    .unwrap_or(&Value::Null);
            } else {
                return schema;
            }
        }
    }
    fn kind(schema: &Value) -> Value {
        match &schema["type"] {
            Value::Array(types) => types
                .iter()
                .find(|t| *t != "null")
                .cloned()
                .unwrap_or(Value::Null),
            other => other.clone(),
        }
    }
    let mut fields = serde_json::Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let property = resolve(spec, property);
        let items = resolve(spec, &property["items"]);
        fields.insert(
            name.clone(),
            serde_json::json!({
                "kind": kind(property),
                "format": property["format"],
                "items_format": items["format"],
            }),
        );
    }
    Value::Object(fields)
}

/// Whether a field or parameter (as [`json_fields`] describes it) holds ids.
pub fn holds_ids(field: &Value) -> bool {
    field["format"] == "uuid" || field["items_format"] == "uuid"
}

/// Every operation of the generated spec: (method, path, operation).
pub fn spec_operations() -> Vec<(Method, String, Value)> {
    let spec: Value = serde_json::from_str(&finai::openapi::spec_json()).expect("the spec parses");
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let mut operation = operation.clone();
            // The example body, resolved from the component schema when it is a reference.
            // The body's schema and example, resolved when the schema is a reference.
            if let Some(content) = operation.pointer("/requestBody/content/application~1json") {
                let schema = match content.pointer("/schema/$ref").and_then(Value::as_str) {
                    Some(reference) => spec
                        .pointer(reference.trim_start_matches('#'))
                        .cloned()
                        .unwrap_or(Value::Null),
                    None => content["schema"].clone(),
                };
                let example = content
                    .get("example")
                    .or_else(|| schema.get("example"))
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({}));
                operation["x-json-fields"] = json_fields(&spec, &schema);
                operation["x-json-schema"] = schema;
                operation["x-json-example"] = example;
            }
            // Text bodies (CSV, a bank statement) are sent as they are.
            if let Some(text) = operation
                .pointer("/requestBody/content/text~1csv/example")
                .or_else(|| {
                    operation.pointer("/requestBody/content/application~1octet-stream/example")
                })
            {
                operation["x-csv-example"] = text.clone();
            }
            operations.push((method, path.clone(), operation));
        }
    }
    operations
}
