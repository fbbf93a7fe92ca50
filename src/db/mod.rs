//! Data access: the connection pool, migrations, the embedded PostgreSQL launcher, and one
//! module of plain query functions per table. Nothing here knows about HTTP.

pub mod audit;
pub mod bills;
pub mod budgets;
pub mod categories;
pub mod embedded;
pub mod health;
pub mod idempotency;
pub mod login_throttle;
pub mod migrations;
pub mod ml;
pub mod notifications;
pub mod recurring;
pub mod refresh_tokens;
pub mod reports;
pub mod schema;
pub mod stats;
pub mod sync;
pub mod tombstones;
pub mod transactions;
pub mod user_tokens;
pub mod users;
pub mod wallets;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::Connection;
use diesel::PgConnection;

use crate::config::DatabaseSettings;
use crate::error::ApiError;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

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

/// Session settings applied to every new pooled connection.
#[derive(Debug)]
struct SessionSetup {
    statement_timeout: Duration,
    statements: Option<Arc<AtomicU64>>,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSetup {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET TIME ZONE 'UTC'",
            self.statement_timeout.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        if let Some(counter) = &self.statements {
            conn.set_instrumentation(StatementCounter(counter.clone()));
        }
        Ok(())
    }
}

/// Counts the SQL statements run on a pool's connections (tests prove "one query" claims with
/// it).
struct StatementCounter(Arc<AtomicU64>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
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
        .build_unchecked(ConnectionManager::new(url))
}
