//! The ledger is the sharding key (issue 18): the migrated schema is read from PostgreSQL's
//! catalogue and every ledger-owned table is checked for it, so a table added later without it
//! fails here rather than in a distributed deployment.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{Array, Bool, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

use crate::helpers::TestDatabase;

#[derive(QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

#[derive(QueryableByName, Debug)]
struct Constraint {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    /// `p` primary key, `u` unique, `f` foreign key, `i` a unique index that is no constraint,
    /// `x` any other index.
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
}

fn catalogue(conn: &mut PgConnection) -> (Vec<Column>, Vec<Constraint>) {
    let columns = diesel::sql_query(
        "SELECT c.relname::text AS table_name, a.attnotnull AS not_null \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = 'ledger_id' \
           AND NOT a.attisdropped",
    )
    .load::<Column>(conn)
    .unwrap();
    // Column names of a constraint or index, in key order (expressions show as their text).
    let constraints = diesel::sql_query(
        "SELECT c.relname::text AS table_name, k.conname::text AS name, k.contype::text AS kind, \
                ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) \
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n \
                      ORDER BY u.i) AS columns, \
                COALESCE(r.relname::text, '') AS referenced, \
                ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) \
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n \
                      ORDER BY u.i) AS referenced_columns \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class r ON r.oid = k.confrelid \
         WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f') \
         UNION ALL \
         SELECT c.relname::text, ic.relname::text, CASE WHEN i.indisunique THEN 'i' ELSE 'x' END, \
                ARRAY(SELECT pg_get_indexdef(i.indexrelid, g.k, true) \
                      FROM generate_series(1, i.indnkeyatts) g(k) ORDER BY g.k), \
                '', ARRAY[]::text[] \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
    )
    .load::<Constraint>(conn)
    .unwrap();
    (columns, constraints)
}

/// Plain indexes of ledger-owned tables that do not lead with the ledger, each for a lookup
/// that cannot know the ledger or spans all ledgers (on a distributed database each node
/// answers it for its own ledgers).
const LOOKUPS_WITHOUT_LEDGER: &[&str] = &[
    // A job or a link finding one row by its id, a holder presenting a token.
    "assistant_answers_id_idx",
    "attachments_id_idx",
    "event_tickets_token_hash_idx",
    "goal_contributions_id_idx",
    "goals_id_idx",
    "import_batches_id_idx",
    "ledger_invitations_token_hash_idx",
    "receipts_id_idx",
    "rules_id_idx",
    "scenarios_id_idx",
    "webhook_deliveries_id_idx",
    // The background jobs' queues across ledgers: what is due, waiting or expired.
    "bills_open_due_idx",
    "recurring_due_idx",
    "receipts_waiting_idx",
    "import_batches_queue_idx",
    "webhook_deliveries_due_idx",
    "event_tickets_expiry_idx",
    "events_occurred_idx",
    // One user across the ledgers they belong to: memberships, invitations, mails.
    "ledger_members_user_idx",
    "ledger_invitations_email_idx",
    "notification_mails_user_idx",
    "notification_reads_user_idx",
];

#[test]
fn every_ledger_owned_table_is_keyed_by_its_ledger() {
    let db = TestDatabase::migrated();
    let mut conn = db.connect();
    let (columns, constraints) = catalogue(&mut conn);

    // Ledger-owned: a table with the column, or one pointing at such a table (a row hung off a
    // ledger's row belongs to that ledger too). `ledgers` is the root, its id the key itself.
    let mut owned: BTreeSet<String> = columns.iter().map(|c| c.table_name.clone()).collect();
    loop {
        let more: Vec<String> = constraints
            .iter()
            .filter(|k| k.kind == "f" && owned.contains(&k.referenced))
            .map(|k| k.table_name.clone())
            .filter(|t| !owned.contains(t))
            .collect();
        if more.is_empty() {
            break;
        }
        owned.extend(more);
    }
    assert!(owned.len() >= 30, "{owned:?}");
    for table in [
        "transactions",
        "wallets",
        "recurring_occurrences",
        "webhook_deliveries",
    ] {
        assert!(owned.contains(table), "{table} is ledger-owned");
    }

    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problem = |table: &str, text: String| {
        problems.entry(table.to_owned()).or_default().push(text);
    };
    let not_null: BTreeMap<&str, bool> = columns
        .iter()
        .map(|c| (c.table_name.as_str(), c.not_null))
        .collect();
    for table in &owned {
        match not_null.get(table.as_str()) {
            None => problem(table, "no ledger_id column".into()),
            Some(false) => problem(table, "ledger_id may be null".into()),
            Some(true) => {}
        }
        if !constraints
            .iter()
            .any(|k| &k.table_name == table && k.kind == "p")
        {
            problem(table, "no primary key".into());
        }
    }
    for k in constraints.iter().filter(|k| owned.contains(&k.table_name)) {
        let leads = k.columns.first().map(String::as_str) == Some("ledger_id");
        match k.kind.as_str() {
            "p" | "u" | "i" if !leads => problem(
                &k.table_name,
                format!(
                    "key {} {:?} does not lead with ledger_id",
                    k.name, k.columns
                ),
            ),
            "x" if !leads && !LOOKUPS_WITHOUT_LEDGER.contains(&k.name.as_str()) => problem(
                &k.table_name,
                format!(
                    "index {} {:?} does not lead with ledger_id",
                    k.name, k.columns
                ),
            ),
            "f" if owned.contains(&k.referenced) => {
                // The ledger on both sides, paired: the referenced row is in the same ledger.
                let paired = k
                    .columns
                    .iter()
                    .zip(&k.referenced_columns)
                    .any(|(from, to)| from == "ledger_id" && to == "ledger_id");
                if !paired {
                    problem(
                        &k.table_name,
                        format!(
                            "foreign key {} {:?} -> {}{:?} does not carry the ledger",
                            k.name, k.columns, k.referenced, k.referenced_columns
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // The exceptions are still there to be exceptions (a stale list hides nothing).
    for name in LOOKUPS_WITHOUT_LEDGER {
        assert!(
            constraints.iter().any(|k| k.name == *name && k.kind == "x"),
            "{name} is listed but no such index exists"
        );
    }
}
