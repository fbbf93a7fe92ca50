use diesel::RunQueryDsl;
use finai::db::migrations;

use crate::helpers::TestDatabase;

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

fn user_objects(conn: &mut diesel::PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname NOT LIKE '__diesel%' \
         UNION ALL SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' \
         UNION ALL SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') ORDER BY 1",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

#[test]
fn every_down_migration_undoes_its_up_migration() {
    let db = TestDatabase::empty();
    let mut conn = db.connect();
    assert!(user_objects(&mut conn).is_empty());

    let applied = migrations::run_pending(&mut conn).unwrap();
    assert!(!applied.is_empty());
    assert!(!user_objects(&mut conn).is_empty());

    migrations::revert_all(&mut conn).unwrap();
    assert_eq!(user_objects(&mut conn), Vec::<String>::new());

    // And the schema can be built again from scratch.
    migrations::run_pending(&mut conn).unwrap();
    assert!(
        migrations::run_pending(&mut conn).unwrap().is_empty(),
        "idempotent"
    );
}

#[test]
fn concurrent_migrators_apply_each_migration_once() {
    let db = TestDatabase::empty();
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| migrations::run_pending(&mut db.connect()).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let applied: usize = results.iter().map(Vec::len).sum();
    let total = results.iter().map(Vec::len).max().unwrap();
    assert_eq!(
        applied, total,
        "exactly one migrator applied the migrations: {results:?}"
    );
}
