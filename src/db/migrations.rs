//! Embedded migrations, applied under a PostgreSQL advisory lock so that several server
//! instances starting at once apply each migration exactly once.

use diesel::pg::PgConnection;
use diesel::{sql_query, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Arbitrary but fixed: "FINAIMIG" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x46494e41494d4947;

pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations; returns the versions applied.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>, MigrationError> {
    sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect());
    sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    result
}

/// Reverts every applied migration (used by the test that checks each `down.sql`).
pub fn revert_all(conn: &mut PgConnection) -> Result<(), MigrationError> {
    conn.revert_all_migrations(MIGRATIONS)?;
    Ok(())
}
