//! The private PostgreSQL launcher `finai serve` uses when `DATABASE_URL` is unset.

use diesel::{Connection, PgConnection, RunQueryDsl};
use finai::db::embedded::EmbeddedPostgres;

use crate::helpers::{ephemeral_options, temp_dir};

#[derive(diesel::QueryableByName)]
struct Note {
    #[diesel(sql_type = diesel::sql_types::Text)]
    body: String,
}

fn notes(url: &str) -> Vec<String> {
    let mut conn = PgConnection::establish(url).unwrap();
    diesel::sql_query("SELECT body FROM notes ORDER BY body")
        .load::<Note>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect()
}

#[test]
fn a_cluster_starts_restarts_over_its_data_and_survives_a_stale_pid_file() {
    let dir = temp_dir("finai-launcher");
    let options = ephemeral_options(&dir);

    let mut cluster = EmbeddedPostgres::start(options.clone()).unwrap();
    cluster.ensure_database("finai").unwrap();
    cluster.ensure_database("finai").unwrap(); // idempotent
    let url = cluster.url("finai");
    assert!(url.contains("host="), "Unix socket only: {url}");
    {
        let mut conn = PgConnection::establish(&url).unwrap();
        diesel::sql_query("CREATE TABLE notes (body text)")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("INSERT INTO notes VALUES ('kept')")
            .execute(&mut conn)
            .unwrap();
    }
    cluster.stop();
    assert!(
        PgConnection::establish(&url).is_err(),
        "stopped means stopped"
    );

    // Restart over the existing data.
    let mut cluster = EmbeddedPostgres::start(options.clone()).unwrap();
    assert_eq!(notes(&cluster.url("finai")), vec!["kept"]);
    cluster.stop();

    // A crash leaves postmaster.pid behind, naming a pid that now belongs to something else.
    let pid_file = options.cluster_dir.join("postmaster.pid");
    std::fs::write(
        &pid_file,
        format!(
            "{}\n{}\n",
            std::process::id(),
            options.cluster_dir.display()
        ),
    )
    .unwrap();
    let mut cluster = EmbeddedPostgres::start(options.clone()).unwrap();
    assert_eq!(notes(&cluster.url("finai")), vec!["kept"]);
    cluster.stop();

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_postgres_orphaned_by_a_crashed_server_is_taken_over() {
    let dir = temp_dir("finai-orphan");
    let options = ephemeral_options(&dir);
    let orphan = EmbeddedPostgres::start(options.clone()).unwrap();
    let orphan_pid = orphan.pid().unwrap();
    // Simulates a crash: the handle is lost without stopping PostgreSQL.
    std::mem::forget(orphan);

    let mut cluster = EmbeddedPostgres::start(options.clone()).unwrap();
    assert_ne!(cluster.pid(), Some(orphan_pid));
    let mut conn = PgConnection::establish(&cluster.url("postgres")).unwrap();
    diesel::sql_query("SELECT 1").execute(&mut conn).unwrap();
    drop(conn);
    cluster.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}
