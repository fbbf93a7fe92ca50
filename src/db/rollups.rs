//! The daily rollups of transactions (`daily_flows`, `daily_category_flows`), kept by triggers
//! (see the daily_rollups migration); reports, balances and budgets read them.

use diesel::prelude::*;

/// Deletes rollup rows whose transactions have all gone (they add nothing to any sum), up to
/// 10,000 of each table per run. Rows a writer holds are skipped, never waited for: the sweep
/// takes no user's lock, so waiting could deadlock with a write that holds one.
pub fn purge_empty(conn: &mut PgConnection) -> QueryResult<usize> {
    let mut deleted = 0;
    for table in ["daily_flows", "daily_category_flows"] {
        deleted += diesel::sql_query(format!(
            "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE transactions = 0 \
             FOR UPDATE SKIP LOCKED LIMIT 10000)"
        ))
        .execute(conn)?;
    }
    Ok(deleted)
}

/// Recomputes one user's rollups, and the money each of their wallets keeps as moved, from their
/// transactions (after a bulk load that ran with triggers off; see `bench_seed`).
pub fn rebuild(conn: &mut PgConnection, ledger_id: uuid::Uuid) -> QueryResult<()> {
    use diesel::sql_types::Uuid as SqlUuid;
    for sql in [
        "DELETE FROM daily_flows WHERE ledger_id = $1",
        "DELETE FROM daily_category_flows WHERE ledger_id = $1",
        "INSERT INTO daily_flows (ledger_id, day, wallet_id, to_wallet_id, currency, type, amount, transactions, squares) \
         SELECT ledger_id, date, wallet_id, to_wallet_id, currency, type, sum(amount), count(*), sum(amount * amount) \
         FROM transactions WHERE ledger_id = $1 \
         GROUP BY ledger_id, date, wallet_id, to_wallet_id, currency, type",
        "INSERT INTO daily_category_flows (ledger_id, day, category_id, wallet_id, currency, type, amount, transactions) \
         SELECT ledger_id, day, category_id, wallet_id, currency, type, sum(amount), count(DISTINCT transaction_id) \
         FROM (SELECT ledger_id, date AS day, category_id, wallet_id, currency, type, amount, id AS transaction_id \
               FROM transactions WHERE ledger_id = $1 AND category_id IS NOT NULL \
               UNION ALL \
               SELECT ledger_id, day, category_id, wallet_id, currency, type, amount, transaction_id \
               FROM transaction_splits WHERE ledger_id = $1) lines \
         GROUP BY ledger_id, day, category_id, wallet_id, currency, type",
        // From the daily rollup just rebuilt, as migration 000038 filled it.
        "UPDATE wallets w SET moved = COALESCE(m.delta, 0) \
         FROM wallets x LEFT JOIN ( \
             SELECT wallet, sum(delta) AS delta \
             FROM (SELECT wallet_id AS wallet, \
                          CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta \
                   FROM daily_flows WHERE ledger_id = $1 \
                   UNION ALL \
                   SELECT to_wallet_id, amount FROM daily_flows \
                   WHERE ledger_id = $1 AND to_wallet_id IS NOT NULL) d \
             GROUP BY wallet) m ON m.wallet = x.id \
         WHERE x.ledger_id = $1 AND w.ledger_id = x.ledger_id AND w.id = x.id",
    ] {
        diesel::sql_query(sql).bind::<SqlUuid, _>(ledger_id).execute(conn)?;
    }
    Ok(())
}
