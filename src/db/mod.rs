//! Data access: the connection pool, migrations, the embedded PostgreSQL launcher, and one
//! module of plain query functions per table. Nothing here knows about HTTP.

pub mod assistant;
pub mod attachments;
pub mod audit;
pub mod bills;
pub mod budgets;
pub mod categories;
pub mod embedded;
pub mod events;
pub mod goals;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod ledger;
pub mod ledgers;
pub mod login_throttle;
pub mod migrations;
pub mod ml;
pub mod notification_mail;
pub mod notifications;
pub mod personal_tokens;
pub mod prepared;
pub mod rate_limits;
pub mod receipts;
pub mod recurring;
pub mod refresh_tokens;
pub mod reports;
pub mod rollups;
pub mod rules;
pub mod scenarios;
pub mod schema;
pub mod stats;
pub mod sync;
pub mod tombstones;
pub mod transactions;
pub mod two_factor;
pub mod user_tokens;
pub mod users;
pub mod wallets;
pub mod webhooks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::Connection;
use diesel::PgConnection;
use diesel::RunQueryDsl;

use crate::config::DatabaseSettings;
use crate::error::ApiError;

pub type PgPool = Pool<PoolManager>;

/// Runs blocking diesel work on the blocking thread pool, so the async workers keep serving.
/// A pool timeout becomes 503 `database_unavailable`; the closure's own errors map through
/// `ApiError::from`.
pub async fn run<F, T, E>(pool: &PgPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get()?;
        work(&mut conn).map_err(Into::into)
    })
    .await?
}

/// Takes the ledger's write lock until the transaction ends: the lock every write to the
/// ledger's synced rows takes anyway (`finai_bump_change_seq`, for change numbers), taken first.
/// Writers that lock it before any row of the ledger wait in one order, so two writes to one
/// ledger never deadlock on each other's rows (a wallet edit against an expense that touches the
/// wallet), whichever members make them.
pub fn lock_ledger(conn: &mut PgConnection, ledger_id: uuid::Uuid) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(hashtextextended('finai-sync:' || $1::text, 0))",
    )
    .bind::<diesel::sql_types::Uuid, _>(ledger_id)
    .execute(conn)
    .map(|_| ())
}

/// [`lock_ledger`] without waiting: whether the lock was taken (the background job skips a ledger
/// whose request holds it, rather than wait while holding rows that request may want).
pub fn try_lock_ledger(
    conn: &mut PgConnection,
    ledger_id: uuid::Uuid,
) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    diesel::sql_query(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('finai-sync:' || $1::text, 0)) AS taken",
    )
    .bind::<diesel::sql_types::Uuid, _>(ledger_id)
    .get_result::<Taken>(conn)
    .map(|t| t.taken)
}

/// Runs `work` in one database transaction that takes the ledger's write lock first: every
/// use case that writes a ledger's data runs through this.
pub fn ledger_transaction<T, E, F>(
    conn: &mut PgConnection,
    ledger_id: uuid::Uuid,
    work: F,
) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        lock_ledger(conn, ledger_id)?;
        work(conn)
    })
}

/// Whether a database transaction is open on the connection.
pub fn in_transaction(conn: &mut PgConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    !matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    )
}

/// Runs `work` in one database transaction (a savepoint when one is open already).
pub fn transaction<T, E, F>(conn: &mut PgConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(work)
}

/// Session settings applied to every new pooled connection.
#[derive(Debug)]
struct SessionSetup {
    statement_timeout: Duration,
    statements: Option<Arc<AtomicU64>>,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSetup {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // JIT compilation costs up to 0.6 s whenever an estimate crosses `jit_above_cost`: a loss
        // for short API queries (it tripled a year's report).
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET TIME ZONE 'UTC'; SET jit = off",
            self.statement_timeout.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(ConnectionWatch {
            statements: self.statements.clone(),
        });
        Ok(())
    }
}

/// Watches every pooled connection's queries: notes a lost connection (see [`PoolManager`]),
/// and counts statements when asked (tests prove "one query" claims with it).
struct ConnectionWatch {
    statements: Option<Arc<AtomicU64>>,
}

impl Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                // The pool's own checks are not the application's statements.
                if let Some(counter) = self.statements.as_ref().filter(|_| !CHECKING.get()) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
            InstrumentationEvent::FinishQuery {
                error: Some(error), ..
            } if crate::error::is_connection_error(error) => {
                LAST_CONNECTION_LOSS.store(now_millis(), Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

thread_local! {
    /// Set while [`PoolManager`] checks a connection.
    static CHECKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// When a query last failed because its connection was gone (ms since the epoch; 0: never).
static LAST_CONNECTION_LOSS: AtomicU64 = AtomicU64::new(0);
/// How long after a lost connection every checkout is checked.
const CHECK_AFTER_LOSS: Duration = Duration::from_secs(30);

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// diesel's connection manager, checking connections on checkout only when it matters.
///
/// r2d2 checks every connection it hands out with a `SELECT 1`: two extra round trips per
/// request (the access check and the handler each take a connection), a third of the list
/// endpoint's statements. Connections only go bad together, when PostgreSQL restarts or the
/// network drops; the first query to hit a dead connection fails (503) and is noticed by
/// [`ConnectionWatch`], and from then on, for [`CHECK_AFTER_LOSS`], every checkout is checked
/// again, so the dead connections are replaced before they are handed out.
#[derive(Debug)]
pub struct PoolManager(ConnectionManager<PgConnection>);

impl diesel::r2d2::ManageConnection for PoolManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        let lost_at = LAST_CONNECTION_LOSS.load(Ordering::Relaxed);
        if lost_at != 0
            && now_millis().saturating_sub(lost_at) < CHECK_AFTER_LOSS.as_millis() as u64
        {
            CHECKING.set(true);
            let valid = self.0.is_valid(conn);
            CHECKING.set(false);
            valid
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn)
    }
}

/// Builds the pool without connecting: the server starts (and `/ready` answers 503) even while
/// the database is down, and a request never waits longer than `pool_timeout` for a connection.
pub fn build_pool(url: &str, settings: &DatabaseSettings) -> PgPool {
    build_pool_counting(url, settings, None)
}

/// [`build_pool`], counting every statement into `statements` when given.
pub fn build_pool_counting(
    url: &str,
    settings: &DatabaseSettings,
    statements: Option<Arc<AtomicU64>>,
) -> PgPool {
    Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(settings.pool_size.min(2)))
        .connection_timeout(settings.pool_timeout)
        .connection_customizer(Box::new(SessionSetup {
            statement_timeout: settings.statement_timeout,
            statements,
        }))
        .build_unchecked(PoolManager(ConnectionManager::new(url)))
}
