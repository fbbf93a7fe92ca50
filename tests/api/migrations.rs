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

/// A new database migrated up to `version` and no further (to lay down data as it was then).
fn migrated_to(version: &str) -> (TestDatabase, diesel::PgConnection) {
    use diesel_migrations::MigrationHarness;
    let db = TestDatabase::empty();
    let mut conn = db.connect();
    while conn
        .run_next_migration(migrations::MIGRATIONS)
        .unwrap_or_else(|e| panic!("migrating to {version}: {e}"))
        .to_string()
        != version
    {}
    (db, conn)
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

/// The shared-ledgers migration moves what every user kept into their personal ledger, with no
/// change a client could see: same ids, same timestamps, no new change numbers or events, the
/// same rollups; and rows written before it are credited to their owner.
#[test]
fn existing_data_moves_into_personal_ledgers_unchanged() {
    // The last migration before shared ledgers.
    let (_db, mut conn) = migrated_to("20261205000012");
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "INSERT INTO users (id, email, name, password_hash, currency) VALUES \
           ('00000000-0000-0000-0000-00000000000a', 'a@example.com', 'A', 'x', 'VND'), \
           ('00000000-0000-0000-0000-00000000000b', 'b@example.com', 'B', 'x', 'USD'); \
         INSERT INTO wallets (id, user_id, name, type, currency) VALUES \
           ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000000a', 'Cash', 'cash', 'VND'); \
         INSERT INTO categories (id, user_id, name, kind) VALUES \
           ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-00000000000a', 'Food', 'expense'); \
         INSERT INTO transactions (id, user_id, type, amount, currency, date, description, category_id, wallet_id) VALUES \
           ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-00000000000a', 'expense', 120000, 'VND', \
            '2026-11-02', 'Pho', '00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000a1');",
    )
    .unwrap();
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Snapshot {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let snapshot = |conn: &mut diesel::PgConnection| {
        diesel::sql_query(
            "SELECT concat_ws('|', \
                (SELECT string_agg(concat_ws(',', id, amount, updated_at, change_seq), ';') FROM transactions), \
                (SELECT string_agg(concat_ws(',', day, amount, transactions), ';') FROM daily_flows), \
                (SELECT count(*) FROM events), \
                (SELECT string_agg(concat_ws(',', id, change_seq, updated_at), ';') FROM wallets)) AS value",
        )
        .get_result::<Snapshot>(conn)
        .unwrap()
    };
    let before = snapshot(&mut conn);

    migrations::run_pending(&mut conn).unwrap();

    assert_eq!(snapshot(&mut conn), before, "nothing a client sees changed");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
    }
    let count = |conn: &mut diesel::PgConnection, sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .unwrap()
            .value
    };
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS value FROM ledgers l JOIN users u ON u.id = l.id \
             WHERE l.kind = 'personal' AND l.currency = u.currency"
        ),
        2,
        "each user has a personal ledger with their id and currency"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS value FROM ledger_members WHERE ledger_id = user_id AND role = 'owner'"
        ),
        2
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS value FROM transactions \
             WHERE ledger_id = '00000000-0000-0000-0000-00000000000a' \
               AND created_by = ledger_id AND updated_by = ledger_id"
        ),
        1,
        "old rows are in their owner's ledger, credited to the owner"
    );
    // Writes after the migration key their rollups and events by the ledger.
    diesel::sql_query(
        "INSERT INTO transactions (ledger_id, type, amount, currency, date, description, category_id, wallet_id, created_by) \
         VALUES ('00000000-0000-0000-0000-00000000000a', 'expense', 5000, 'VND', '2026-11-02', 'Tea', \
                 '00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000a1', \
                 '00000000-0000-0000-0000-00000000000a')",
    )
    .execute(&mut conn)
    .unwrap();
    assert_eq!(
        count(
            &mut conn,
            "SELECT (sum(amount) * 100)::bigint AS value FROM daily_flows \
             WHERE ledger_id = '00000000-0000-0000-0000-00000000000a' AND day = '2026-11-02'"
        ),
        12_500_000
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS value FROM events \
             WHERE ledger_id = '00000000-0000-0000-0000-00000000000a' AND type = 'transaction_update' \
               AND payload->>'description' = 'Tea'"
        ),
        1
    );
    // And an account's deletion takes its personal ledger and every row in it.
    diesel::sql_query("DELETE FROM users WHERE email = 'a@example.com'")
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        count(
            &mut conn,
            "SELECT (SELECT count(*) FROM ledgers) + (SELECT count(*) FROM transactions) \
                  + (SELECT count(*) FROM daily_flows) AS value"
        ),
        1,
        "only B's personal ledger is left"
    );
}

#[test]
fn an_import_report_stored_with_string_amounts_reads_back_with_numbers() {
    // The last migration before background imports.
    let (_db, mut conn) = migrated_to("20261207000034");
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        r#"INSERT INTO users (id, email, name, password_hash, currency) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'a@example.com', 'A', 'x', 'USD');
           INSERT INTO ledgers (id, kind, name, currency) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'personal', 'A', 'USD')
             ON CONFLICT DO NOTHING;
           INSERT INTO import_batches (ledger_id, id, format, entries, created, duplicates,
               possible_duplicates, failed, report) VALUES
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000b1',
              'qif', 2, 2, 0, 0, 0,
              '[{"line": 2, "amount": "-1200.05", "payee": "Rent"},
                {"line": 7, "amount": null, "payee": "?"}]');"#,
    )
    .unwrap();

    migrations::run_pending(&mut conn).unwrap();

    #[derive(diesel::QueryableByName)]
    struct Report {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let report = diesel::sql_query(
        "SELECT report::text AS value FROM import_batches \
         WHERE id = '00000000-0000-0000-0000-0000000000b1'",
    )
    .get_result::<Report>(&mut conn)
    .unwrap()
    .value;
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report[0]["amount"].to_string(), "-1200.05", "{report}");
    assert!(report[1]["amount"].is_null(), "{report}");
    assert_eq!(report[0]["payee"], "Rent");
}

#[test]
fn wallets_keep_the_money_their_transactions_moved_from_the_migration_on() {
    // The last migration before wallet balances.
    let (_db, mut conn) = migrated_to("20261207000037");
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        r#"INSERT INTO users (id, email, name, password_hash, currency) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'a@example.com', 'A', 'x', 'USD');
           INSERT INTO ledgers (id, kind, name, currency) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'personal', 'A', 'USD')
             ON CONFLICT DO NOTHING;
           INSERT INTO wallets (ledger_id, id, name, type, currency, opening_balance) VALUES
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000c1',
              'Cash', 'cash', 'USD', 100),
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000c2',
              'Bank', 'bank', 'USD', 0),
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000c3',
              'Unused', 'bank', 'USD', 7);
           INSERT INTO transactions (ledger_id, type, amount, currency, date, description,
               wallet_id, to_wallet_id) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'income', 1000.25, 'USD', '2026-01-01',
              'Pay', '00000000-0000-0000-0000-0000000000c2', NULL),
             ('00000000-0000-0000-0000-00000000000a', 'expense', 12.5, 'USD', '2026-01-02',
              'Lunch', '00000000-0000-0000-0000-0000000000c1', NULL),
             ('00000000-0000-0000-0000-00000000000a', 'transfer', 200, 'USD', '2026-01-03',
              'Cash out', '00000000-0000-0000-0000-0000000000c2',
              '00000000-0000-0000-0000-0000000000c1');"#,
    )
    .unwrap();
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Wallet {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        change_seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        updated_at: String,
    }
    let wallets = |conn: &mut diesel::PgConnection| {
        diesel::sql_query("SELECT name, change_seq, updated_at::text FROM wallets ORDER BY name")
            .load::<Wallet>(conn)
            .unwrap()
    };
    let before = wallets(&mut conn);

    migrations::run_pending(&mut conn).unwrap();

    #[derive(diesel::QueryableByName)]
    struct Balance {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let balances = diesel::sql_query(
        "SELECT string_agg(name || ' ' || (opening_balance + moved)::text, ', ' ORDER BY name) \
         AS value FROM wallets",
    )
    .get_result::<Balance>(&mut conn)
    .unwrap()
    .value;
    assert_eq!(balances, "Bank 800.2500, Cash 287.5000, Unused 7.0000");
    // Filled without looking like a change to a syncing client.
    assert_eq!(wallets(&mut conn), before);
}
