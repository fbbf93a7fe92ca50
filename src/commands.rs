//! What the `finai` subcommands do. `main.rs` only parses arguments.

use diesel::{Connection, PgConnection};

use crate::config::Settings;
use crate::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crate::db::{self, migrations};
use crate::startup::Application;

/// The database the process talks to, and the private cluster behind it when it owns one
/// (dropping it stops that cluster).
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

/// `DATABASE_URL` when set; otherwise starts the private cluster in the data directory and
/// makes sure the `finai` database exists.
pub fn open_database(settings: &Settings) -> Result<Database, String> {
    if let Some(url) = &settings.database.url {
        return Ok(Database {
            url: url.expose().to_owned(),
            embedded: None,
        });
    }
    let options = ClusterOptions::in_data_dir(&settings.data_dir);
    log::info!(
        "DATABASE_URL is unset: running a private PostgreSQL with its data in {} (socket in {}, log in {})",
        options.cluster_dir.display(),
        options.socket_dir.display(),
        options.log_file.display()
    );
    let cluster = EmbeddedPostgres::start(options).map_err(|e| e.to_string())?;
    log::info!(
        "PostgreSQL from {} is running (pid {})",
        cluster.bin_dir.display(),
        cluster.pid().unwrap_or_default()
    );
    cluster
        .ensure_database("finai")
        .map_err(|e| e.to_string())?;
    Ok(Database {
        url: cluster.url("finai"),
        embedded: Some(cluster),
    })
}

/// Applies pending migrations under the advisory lock.
pub fn migrate(url: &str) -> Result<(), String> {
    let mut conn =
        PgConnection::establish(url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied =
        migrations::run_pending(&mut conn).map_err(|e| format!("migration failed: {e}"))?;
    if applied.is_empty() {
        log::info!("database schema is up to date");
    } else {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    Ok(())
}

/// `finai serve`: database, migrations, then the HTTP server until SIGINT/SIGTERM; a private
/// cluster is stopped after the server has drained.
pub fn serve(settings: Settings) -> Result<(), String> {
    let mut database = open_database(&settings)?;
    migrate(&database.url)?;
    let pool = db::build_pool(&database.url, &settings.database);
    let bind = settings.bind;
    let result = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, pool)
            .map_err(|e| format!("cannot listen on {bind} (FINAI_BIND): {e}"))?;
        let address = format!("http://{}:{}", bind.ip(), application.port());
        log::info!("FinAI listening on {address} (Swagger UI: {address}/swagger-ui/)");
        application
            .run_until_stopped()
            .await
            .map_err(|e| format!("server error: {e}"))
    });
    if let Some(cluster) = database.embedded.as_mut() {
        log::info!("stopping PostgreSQL");
        cluster.stop();
        log::info!("PostgreSQL stopped");
    }
    result
}

/// `finai migrate`: apply migrations and exit.
pub fn migrate_only(settings: &Settings) -> Result<(), String> {
    let database = open_database(settings)?;
    migrate(&database.url)
}
