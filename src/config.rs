//! Typed settings, read once from the environment (and an optional `.env`) at start-up.
//!
//! Every problem is reported as one line that names the variable, and start-up stops there.
//! Secrets never reach the logs: [`Secret`] prints as `[redacted]`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::auth::rate_limit::RateLimitSettings;

/// A bad or missing setting, naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(var: &'static str, message: impl Into<String>) -> Self {
        Self {
            var,
            message: message.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
    Test,
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `None`: run a private PostgreSQL cluster under `data_dir/postgres`.
    pub url: Option<Secret>,
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before answering 503.
    pub pool_timeout: Duration,
    /// Server-side limit for one statement, so a runaway query cannot hold a connection.
    pub statement_timeout: Duration,
}

/// Accounts and tokens. Names of the variables in brackets.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// bcrypt work factor (`BCRYPT_COST`, default 12; tests use 4).
    pub bcrypt_cost: u32,
    /// Threads that run bcrypt, at low priority (`BCRYPT_THREADS`, default half the cores).
    pub bcrypt_threads: usize,
    /// Access token lifetime (`ACCESS_TOKEN_TTL_SECS`, 900).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime (`REFRESH_TOKEN_TTL_DAYS`, 30).
    pub refresh_token_ttl: Duration,
    /// With `remember_me` (`REFRESH_TOKEN_REMEMBER_DAYS`, 90).
    pub refresh_token_remember_ttl: Duration,
    /// Consecutive failures before a lockout (`LOGIN_LOCKOUT_THRESHOLD`, 5).
    pub lockout_threshold: u32,
    /// How long a lockout lasts (`LOGIN_LOCKOUT_MINUTES`, 15).
    pub lockout_duration: Duration,
    /// Refuse logins until the email is verified (`REQUIRE_EMAIL_VERIFICATION`, false).
    pub require_email_verification: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            bcrypt_cost: 12,
            bcrypt_threads: 1,
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            refresh_token_remember_ttl: Duration::from_secs(90 * 86_400),
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(15 * 60),
            require_email_verification: false,
        }
    }
}

/// Event streams (WebSocket and SSE). Names of the variables in brackets.
#[derive(Clone, Debug)]
pub struct StreamSettings {
    /// How often an idle stream is pinged (`FINAI_STREAM_HEARTBEAT_SECS`, 30). A WebSocket
    /// that answers nothing for two of these is closed.
    pub heartbeat: Duration,
    /// How long one frame may wait for a reader that does not read
    /// (`FINAI_STREAM_SEND_TIMEOUT_SECS`, 10) before the stream is closed with `slow_consumer`.
    pub send_timeout: Duration,
    /// Streams one account may hold open on one instance (`FINAI_STREAMS_PER_USER`, 20): one
    /// more is 429 `too_many_streams`, so that no account ties up the server's sockets.
    pub per_user: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            heartbeat: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            per_user: 20,
        }
    }
}

/// Webhook deliveries. Names of the variables in brackets.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Let webhooks reach loopback, private and link-local addresses
    /// (`FINAI_WEBHOOKS_ALLOW_PRIVATE`, false): only for a deployment whose receivers live on
    /// its own network, since otherwise any user could make the server call into it.
    pub allow_private: bool,
    /// How long one delivery may take (`FINAI_WEBHOOK_TIMEOUT_SECS`, 10).
    pub timeout: Duration,
    /// Deliveries in flight at once per instance (`FINAI_WEBHOOK_CONCURRENCY`, 16).
    pub concurrency: usize,
    /// The first retry's delay, doubled after each failure up to an hour
    /// (`FINAI_WEBHOOK_RETRY_BASE_SECS`, 10).
    pub retry_base: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: Duration::from_secs(10),
            concurrency: 16,
            retry_base: Duration::from_secs(10),
        }
    }
}

/// Receipt reading. Names of the variables in brackets.
#[derive(Clone, Debug)]
pub struct OcrSettings {
    /// Receipts read at once per instance (`FINAI_OCR_WORKERS`, 1): each is one Tesseract
    /// process on one core, at a lower CPU priority than the server.
    pub workers: usize,
    /// The longest one receipt's reading may take before it is stopped and the receipt fails
    /// (`FINAI_OCR_TIMEOUT_SECS`, 60).
    pub timeout: Duration,
    /// The Tesseract program (`FINAI_TESSERACT`, `tesseract` on the `PATH`).
    pub tesseract: String,
}

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings {
            workers: 1,
            timeout: Duration::from_secs(60),
            tesseract: "tesseract".into(),
        }
    }
}

/// An S3-compatible object store for uploaded files (`FINAI_S3_*`), in place of the local
/// directory `$FINAI_DATA_DIR/files`.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// `FINAI_S3_ENDPOINT`: `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`, ...
    pub endpoint: String,
    /// `FINAI_S3_BUCKET`, addressed path-style (`<endpoint>/<bucket>/<key>`).
    pub bucket: String,
    /// `FINAI_S3_REGION` (`us-east-1`).
    pub region: String,
    /// `FINAI_S3_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `FINAI_S3_SECRET_ACCESS_KEY`.
    pub secret_access_key: Secret,
}

/// Outgoing mail: SMTP when `SMTP_URL` is set, else files in `$FINAI_DATA_DIR/outbox`.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub smtp_url: Option<Secret>,
    /// `FINAI_MAIL_FROM`.
    pub from: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            from: "FinAI <no-reply@finai.local>".into(),
        }
    }
}

/// The least a signing secret must carry, estimated from its characters' spread.
const MIN_SECRET_BITS: f64 = 128.0;

/// A secret's length times the Shannon entropy of its characters: 32 identical characters carry
/// none, 32 hex digits spread evenly carry 128 bits. A rough upper bound, enough to refuse
/// secrets a person typed.
fn estimated_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in secret.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum();
    per_char * total as f64
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Where uploaded files go: an S3-compatible store, or (`None`) `$FINAI_DATA_DIR/files`.
    pub file_store: Option<S3Settings>,
    pub database: DatabaseSettings,
    pub jwt_secret: Secret,
    /// Exact origins allowed by CORS; `["*"]` allows any origin, empty allows none.
    pub cors_allowed_origins: Vec<String>,
    /// `Strict-Transport-Security` max-age for deployments behind TLS (`FINAI_HSTS_SECONDS`;
    /// unset or 0: no header, as plain HTTP must not send one).
    pub hsts_max_age: Option<u64>,
    pub json_limit_bytes: usize,
    /// `POST /imports` files larger than this are imported in the background, answered 202
    /// (`FINAI_IMPORT_BACKGROUND_BYTES`, 1 MiB).
    pub import_background_bytes: usize,
    pub workers: usize,
    pub shutdown_timeout: Duration,
    /// How long data sent to a client may stay unacknowledged before the connection is
    /// dropped (`FINAI_TCP_USER_TIMEOUT_SECS`, 120; Linux's `TCP_USER_TIMEOUT`): a client that
    /// stops reading, whose window stays shut, no longer holds its socket forever.
    pub tcp_user_timeout: Duration,
    pub public_url: String,
    /// How often background jobs run (`FINAI_JOBS_INTERVAL_SECS`, 60; 0 turns them off).
    pub jobs_interval: Option<Duration>,
    pub auth: AuthSettings,
    /// Requests per minute per bucket (see `auth::rate_limit`).
    pub rate_limits: RateLimitSettings,
    pub mail: MailSettings,
    pub stream: StreamSettings,
    pub webhooks: WebhookSettings,
    pub ocr: OcrSettings,
}

/// Reads variables through a lookup function, so tests can supply their own environment.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, var: &str) -> Option<String> {
        (self.0)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T>(&self, var: &'static str, default: T, expected: &str) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
    {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::new(var, format!("'{raw}' is not {expected}"))),
        }
    }

    fn positive<T>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
    {
        let value = self.parse(var, default, "a positive whole number")?;
        if value <= T::default() {
            return Err(ConfigError::new(var, "must be greater than zero"));
        }
        Ok(value)
    }
}

impl Settings {
    /// Loads settings from the process environment. In development a JWT secret is generated
    /// once and kept in the data directory, so tokens survive restarts.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|var| std::env::var(var).ok())
    }

    fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let environment = match env.get("FINAI_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some("test") => Environment::Test,
            Some(other) => {
                return Err(ConfigError::new(
                    "FINAI_ENV",
                    format!("'{other}' is not one of development, production, test"),
                ))
            }
        };
        let bind = env.parse(
            "FINAI_BIND",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "an address and port such as 127.0.0.1:8080",
        )?;
        let data_dir = PathBuf::from(env.get("FINAI_DATA_DIR").unwrap_or_else(|| "data".into()));
        let data_dir = absolute(&data_dir).map_err(|e| ConfigError::new("FINAI_DATA_DIR", e))?;

        let database_url = env.get("DATABASE_URL").map(Secret::new);
        if let Some(url) = &database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::new(
                    "DATABASE_URL",
                    "must start with postgres:// or postgresql://",
                ));
            }
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = env.positive("FINAI_WORKERS", cores)?;
        let database = DatabaseSettings {
            url: database_url,
            pool_size: env.positive("DATABASE_POOL_SIZE", (workers * 4).clamp(4, 32) as u32)?,
            pool_timeout: Duration::from_millis(env.positive("DATABASE_POOL_TIMEOUT_MS", 3000)?),
            statement_timeout: Duration::from_millis(
                env.positive("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)?,
            ),
        };

        let jwt_secret = match (env.get("JWT_SECRET"), environment) {
            (Some(secret), _) if secret.len() < 32 => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "must be at least 32 characters long",
                ))
            }
            (Some(secret), _) if estimated_bits(&secret) < MIN_SECRET_BITS => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "looks guessable (too few different characters for its length); \
                     use 32 or more random characters, e.g. `openssl rand -base64 48`",
                ))
            }
            (Some(secret), _) => Secret::new(secret),
            (None, Environment::Production) => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    "is required when FINAI_ENV=production (at least 32 random characters)",
                ))
            }
            (None, _) => {
                development_secret(&data_dir).map_err(|e| ConfigError::new("JWT_SECRET", e))?
            }
        };

        let cors_allowed_origins = parse_origins(env.get("CORS_ALLOWED_ORIGINS"))?;
        let public_url = env
            .get("FINAI_PUBLIC_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::new(
                "FINAI_PUBLIC_URL",
                "must be an http:// or https:// URL",
            ));
        }

        let defaults = AuthSettings::default();
        let bcrypt_cost = env.parse("BCRYPT_COST", defaults.bcrypt_cost, "a number")?;
        if !(4..=31).contains(&bcrypt_cost) {
            return Err(ConfigError::new("BCRYPT_COST", "must be between 4 and 31"));
        }
        let days = |var: &'static str, default: u64| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(env.positive(var, default)? * 86_400))
        };
        let auth = AuthSettings {
            bcrypt_cost,
            bcrypt_threads: env.positive("BCRYPT_THREADS", (cores / 2).max(1))?,
            access_token_ttl: Duration::from_secs(env.positive("ACCESS_TOKEN_TTL_SECS", 900)?),
            refresh_token_ttl: days("REFRESH_TOKEN_TTL_DAYS", 30)?,
            refresh_token_remember_ttl: days("REFRESH_TOKEN_REMEMBER_DAYS", 90)?,
            lockout_threshold: env.positive("LOGIN_LOCKOUT_THRESHOLD", 5)?,
            lockout_duration: Duration::from_secs(
                env.positive("LOGIN_LOCKOUT_MINUTES", 15u64)? * 60,
            ),
            require_email_verification: env.parse(
                "REQUIRE_EMAIL_VERIFICATION",
                false,
                "true or false",
            )?,
        };
        let mail = MailSettings {
            smtp_url: env.get("SMTP_URL").map(Secret::new),
            from: env
                .get("FINAI_MAIL_FROM")
                .unwrap_or_else(|| MailSettings::default().from),
        };

        let file_store = match env.get("FINAI_S3_ENDPOINT") {
            None => None,
            Some(endpoint) => {
                if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                    return Err(ConfigError::new(
                        "FINAI_S3_ENDPOINT",
                        format!("'{endpoint}' is not an http:// or https:// address"),
                    ));
                }
                let required = |var: &'static str| {
                    env.get(var)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| ConfigError::new(var, "is required with FINAI_S3_ENDPOINT"))
                };
                Some(S3Settings {
                    endpoint,
                    bucket: required("FINAI_S3_BUCKET")?,
                    region: env
                        .get("FINAI_S3_REGION")
                        .unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: required("FINAI_S3_ACCESS_KEY_ID")?,
                    secret_access_key: Secret::new(required("FINAI_S3_SECRET_ACCESS_KEY")?),
                })
            }
        };

        Ok(Settings {
            environment,
            bind,
            data_dir,
            file_store,
            database,
            jwt_secret,
            cors_allowed_origins,
            hsts_max_age: Some(env.parse(
                "FINAI_HSTS_SECONDS",
                0u64,
                "a whole number of seconds",
            )?)
            .filter(|seconds| *seconds > 0),
            json_limit_bytes: env.positive("FINAI_JSON_LIMIT_BYTES", 1024 * 1024)?,
            import_background_bytes: env.positive("FINAI_IMPORT_BACKGROUND_BYTES", 1024 * 1024)?,
            workers,
            shutdown_timeout: Duration::from_secs(env.positive("FINAI_SHUTDOWN_TIMEOUT_SECS", 30)?),
            tcp_user_timeout: Duration::from_secs(
                env.positive("FINAI_TCP_USER_TIMEOUT_SECS", 120)?,
            ),
            public_url: public_url.trim_end_matches('/').to_owned(),
            jobs_interval: match env.parse(
                "FINAI_JOBS_INTERVAL_SECS",
                60u64,
                "a whole number of seconds",
            )? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            auth,
            rate_limits: {
                let defaults = RateLimitSettings::default();
                let per_min = |var: &'static str, default: u32| {
                    env.parse(
                        var,
                        default,
                        "a whole number of requests a minute (0: no limit)",
                    )
                };
                RateLimitSettings {
                    reads: per_min("RATE_LIMIT_READS_PER_MIN", defaults.reads)?,
                    writes: per_min("RATE_LIMIT_WRITES_PER_MIN", defaults.writes)?,
                    anonymous: per_min("RATE_LIMIT_ANONYMOUS_PER_MIN", defaults.anonymous)?,
                    auth: per_min("AUTH_RATE_LIMIT_PER_MIN", defaults.auth)?,
                }
            },
            mail,
            stream: StreamSettings {
                heartbeat: Duration::from_secs(env.positive("FINAI_STREAM_HEARTBEAT_SECS", 30)?),
                send_timeout: Duration::from_secs(
                    env.positive("FINAI_STREAM_SEND_TIMEOUT_SECS", 10)?,
                ),
                per_user: env.positive("FINAI_STREAMS_PER_USER", 20usize)?,
            },
            webhooks: WebhookSettings {
                allow_private: env.parse("FINAI_WEBHOOKS_ALLOW_PRIVATE", false, "true or false")?,
                timeout: Duration::from_secs(env.positive("FINAI_WEBHOOK_TIMEOUT_SECS", 10)?),
                concurrency: env.positive("FINAI_WEBHOOK_CONCURRENCY", 16)?,
                retry_base: Duration::from_secs(env.positive("FINAI_WEBHOOK_RETRY_BASE_SECS", 10)?),
            },
            ocr: OcrSettings {
                workers: env.positive("FINAI_OCR_WORKERS", 1)?,
                timeout: Duration::from_secs(env.positive("FINAI_OCR_TIMEOUT_SECS", 60)?),
                tesseract: env
                    .get("FINAI_TESSERACT")
                    .unwrap_or_else(|| "tesseract".into()),
            },
        })
    }

    /// Settings for tests and tools: loopback on a free port, no CORS, a fixed secret.
    pub fn for_tests(database_url: &str, data_dir: PathBuf) -> Self {
        Settings {
            environment: Environment::Test,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            file_store: None,
            database: DatabaseSettings {
                url: Some(Secret::new(database_url)),
                pool_size: 4,
                pool_timeout: Duration::from_millis(1500),
                statement_timeout: Duration::from_secs(30),
            },
            jwt_secret: Secret::new("test-secret-test-secret-test-secret-0123456789"),
            cors_allowed_origins: Vec::new(),
            hsts_max_age: None,
            json_limit_bytes: 1024 * 1024,
            import_background_bytes: 1024 * 1024,
            workers: 1,
            shutdown_timeout: Duration::from_secs(1),
            tcp_user_timeout: Duration::from_secs(120),
            public_url: "http://127.0.0.1:8080".into(),
            jobs_interval: None,
            auth: AuthSettings {
                bcrypt_cost: 4,
                ..AuthSettings::default()
            },
            rate_limits: RateLimitSettings::OFF,
            mail: MailSettings::default(),
            stream: StreamSettings::default(),
            webhooks: WebhookSettings::default(),
            ocr: OcrSettings::default(),
        }
    }
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("cannot resolve '{}': {e}", path.display()))
}

fn parse_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let valid = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/'));
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(ConfigError::new(
                    "CORS_ALLOWED_ORIGINS",
                    format!(
                        "'{origin}' is not an origin (expected e.g. https://app.example.com, or *)"
                    ),
                ))
            }
        })
        .collect()
}

/// Reads the development JWT secret from the data directory, creating it on first use.
fn development_secret(data_dir: &Path) -> Result<Secret, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", data_dir.display()))?;
    let secret: String = {
        use rand::Rng;
        let bytes: [u8; 48] = rand::rng().random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    log::info!("generated a development JWT secret in {}", path.display());
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("finai-config-{}", uuid::Uuid::new_v4()));
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("FINAI_DATA_DIR".into())
            .or_insert_with(|| dir.display().to_string());
        let result = Settings::from_lookup(&|k| map.get(k).cloned());
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn defaults_are_sensible() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.environment, Environment::Development);
        assert!(settings.database.url.is_none());
        assert_eq!(settings.json_limit_bytes, 1024 * 1024);
        assert!(settings.jwt_secret.expose().len() >= 32);
    }

    #[test]
    fn development_secret_is_kept_between_loads() {
        let dir = std::env::temp_dir().join(format!("finai-secret-{}", uuid::Uuid::new_v4()));
        let first = development_secret(&dir).unwrap();
        let second = development_secret(&dir).unwrap();
        assert_eq!(first, second);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("FINAI_BIND", "localhost"),
            ("FINAI_ENV", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_POOL_TIMEOUT_MS", "soon"),
            ("CORS_ALLOWED_ORIGINS", "example.com"),
            ("JWT_SECRET", "short"),
            ("BCRYPT_COST", "3"),
            ("ACCESS_TOKEN_TTL_SECS", "-5"),
            ("LOGIN_LOCKOUT_THRESHOLD", "0"),
            ("AUTH_RATE_LIMIT_PER_MIN", "many"),
            ("RATE_LIMIT_WRITES_PER_MIN", "-1"),
            ("REQUIRE_EMAIL_VERIFICATION", "yes please"),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err
                .to_string()
                .starts_with(&format!("configuration error: {var}:")));
        }
    }

    #[test]
    fn a_guessable_jwt_secret_is_refused() {
        for weak in ["a".repeat(32), "ab".repeat(16), "password".repeat(4)] {
            let err = load(&[("FINAI_ENV", "production"), ("JWT_SECRET", &weak)]).unwrap_err();
            assert_eq!(err.var, "JWT_SECRET", "{weak}");
        }
        let random = "q9X2vLr7Tz0pKe4WbN8sYc1HuM6jDf3G";
        assert!(load(&[("FINAI_ENV", "production"), ("JWT_SECRET", random)]).is_ok());
    }

    #[test]
    fn production_requires_a_jwt_secret() {
        let err = load(&[("FINAI_ENV", "production")]).unwrap_err();
        assert_eq!(err.var, "JWT_SECRET");
        let ok = load(&[
            ("FINAI_ENV", "production"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn an_s3_file_store_needs_its_bucket_and_keys() {
        assert!(load(&[]).unwrap().file_store.is_none());
        let full = [
            ("FINAI_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("FINAI_S3_BUCKET", "finai"),
            ("FINAI_S3_ACCESS_KEY_ID", "finai"),
            ("FINAI_S3_SECRET_ACCESS_KEY", "s3-secret-key"),
        ];
        let s3 = load(&full).unwrap().file_store.unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_str()),
            ("finai", "us-east-1")
        );
        assert!(!format!("{s3:?}").contains("s3-secret-key"));
        for missing in 1..full.len() {
            let mut partial = full.to_vec();
            let (var, _) = partial.remove(missing);
            assert_eq!(load(&partial).unwrap_err().var, var);
        }
        let mut ftp = full.to_vec();
        ftp[0].1 = "ftp://files";
        assert_eq!(load(&ftp).unwrap_err().var, "FINAI_S3_ENDPOINT");
    }

    #[test]
    fn secrets_do_not_print() {
        let settings = load(&[("DATABASE_URL", "postgres://u:hunter2@db/finai")]).unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains(settings.jwt_secret.expose()));
    }

    #[test]
    fn cors_origins_are_split() {
        let settings = load(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://a.example.com, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            settings.cors_allowed_origins,
            vec!["https://a.example.com", "http://localhost:3000"]
        );
    }
}
