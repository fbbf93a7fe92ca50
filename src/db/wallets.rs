//! Queries on `wallets`. Balances are derived in SQL: opening balance + income − expense −
//! transfers out + transfers in.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    BigInt, Bool, Date, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::{transactions, wallets};
use super::tombstones;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wallets)]
pub struct Wallet {
    pub id: Uuid,
    pub ledger_id: Uuid,
    pub name: String,
    #[diesel(column_name = type_)]
    pub wallet_type: String,
    pub currency: String,
    pub opening_balance: Decimal,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A wallet with its derived balance (and, in lists, the total count of the filter).
#[derive(Debug, Clone, QueryableByName)]
pub struct WalletBalance {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub wallet_type: String,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Numeric)]
    pub opening_balance: Decimal,
    #[diesel(sql_type = Numeric)]
    pub balance: Decimal,
    #[diesel(sql_type = Bool)]
    pub archived: bool,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub total_count: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = wallets)]
pub struct NewWallet<'a> {
    pub ledger_id: Uuid,
    pub name: &'a str,
    #[diesel(column_name = type_)]
    pub wallet_type: &'a str,
    pub currency: &'a str,
    pub opening_balance: Decimal,
    pub archived: bool,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = wallets)]
pub struct WalletChangeset {
    pub name: Option<String>,
    #[diesel(column_name = type_)]
    pub wallet_type: Option<String>,
    pub currency: Option<String>,
    pub opening_balance: Option<Decimal>,
    pub archived: Option<bool>,
}

// A balance is the opening balance and the money the wallet's transactions moved, which the
// wallet row keeps (`moved`, kept by the trigger that touches the wallets a write moves money in;
// migration 000038): no read of the daily rollups, which took 5.7 ms for a user with 1 M
// transactions over two years (EXPLAIN ANALYZE, 4,380 rollup rows).
const SELECT_WITH_BALANCE: &str = "\
    SELECT w.id, w.name, w.type AS wallet_type, w.currency, w.opening_balance, w.archived, \
           w.created_at, w.updated_at, w.opening_balance + w.moved AS balance, \
           count(*) OVER () AS total_count \
    FROM wallets w \
    WHERE w.ledger_id = $1";

#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct BalanceAt {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Numeric)]
    pub balance: Decimal,
}

/// Each wallet's balance at the end of `day`: its opening balance and what its transactions
/// moved until then, counted as `moved` and the cash-flow report count them (income in,
/// expenses and transfers out, transfers in).
pub fn balances_at(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    day: NaiveDate,
) -> QueryResult<Vec<BalanceAt>> {
    diesel::sql_query(
        "SELECT w.id, w.opening_balance + COALESCE(m.delta, 0) AS balance \
         FROM wallets w \
         LEFT JOIN (SELECT wallet, sum(delta) AS delta \
                    FROM (SELECT wallet_id AS wallet, \
                                 CASE WHEN type = 'income' THEN amount ELSE -amount END AS delta \
                          FROM daily_flows WHERE ledger_id = $1 AND day <= $2 \
                          UNION ALL \
                          SELECT to_wallet_id, amount FROM daily_flows \
                          WHERE ledger_id = $1 AND day <= $2 AND to_wallet_id IS NOT NULL) x \
                    GROUP BY wallet) m ON m.wallet = w.id \
         WHERE w.ledger_id = $1",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Date, _>(day)
    .load(conn)
}

/// The caller's wallets with balances, oldest first; `archived` filters when given.
pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    archived: Option<bool>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<WalletBalance>> {
    diesel::sql_query(format!(
        "{SELECT_WITH_BALANCE} AND ($2::boolean IS NULL OR w.archived = $2) \
         ORDER BY w.created_at, w.id LIMIT $3 OFFSET $4"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Nullable<Bool>, _>(archived)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)
}

pub fn count(conn: &mut PgConnection, ledger_id: Uuid, archived: Option<bool>) -> QueryResult<i64> {
    let mut query = wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .into_boxed();
    if let Some(archived) = archived {
        query = query.filter(wallets::archived.eq(archived));
    }
    query.count().get_result(conn)
}

pub fn find_with_balance(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<WalletBalance>> {
    diesel::sql_query(format!("{SELECT_WITH_BALANCE} AND w.id = $2"))
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()
}

/// How many of `ids` are wallets of the ledger.
pub fn count_among(conn: &mut PgConnection, ledger_id: Uuid, ids: &[Uuid]) -> QueryResult<i64> {
    wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .filter(wallets::id.eq_any(ids))
        .count()
        .get_result(conn)
}

/// Every wallet of the user (archived ones too), oldest first, without balances.
pub fn all(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Wallet>> {
    wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .select(Wallet::as_select())
        .order((wallets::created_at, wallets::id))
        .load(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Wallet>> {
    wallets::table
        .filter(wallets::ledger_id.eq(ledger_id))
        .filter(wallets::id.eq(id))
        .select(Wallet::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut PgConnection, wallet: &NewWallet) -> QueryResult<Wallet> {
    diesel::insert_into(wallets::table)
        .values(wallet)
        .returning(Wallet::as_returning())
        .get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    changes: &WalletChangeset,
) -> QueryResult<Wallet> {
    diesel::update(
        wallets::table
            .filter(wallets::ledger_id.eq(ledger_id))
            .filter(wallets::id.eq(id)),
    )
    .set(changes)
    .returning(Wallet::as_returning())
    .get_result(conn)
}

/// What uses the wallet, if anything: its transactions (money moved in or out), or a bill,
/// recurring transaction, rule or savings goal that names it. The first found, as the noun a
/// message can use.
pub fn in_use(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<&'static str>> {
    #[derive(QueryableByName)]
    struct Uses {
        #[diesel(sql_type = Bool)]
        bills: bool,
        #[diesel(sql_type = Bool)]
        recurring: bool,
        #[diesel(sql_type = Bool)]
        rules: bool,
        #[diesel(sql_type = Bool)]
        goals: bool,
    }
    let planned: Uses = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM bills WHERE ledger_id = $1 AND wallet_id = $2) AS bills, \
                EXISTS (SELECT 1 FROM recurring_transactions WHERE ledger_id = $1 \
                        AND (wallet_id = $2 OR to_wallet_id = $2)) AS recurring, \
                EXISTS (SELECT 1 FROM rules WHERE ledger_id = $1 \
                        AND (wallet_id = $2 OR transfer_to_wallet_id = $2)) AS rules, \
                EXISTS (SELECT 1 FROM goals WHERE ledger_id = $1 AND wallet_id = $2) AS goals",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)?;
    let moved: bool = diesel::select(diesel::dsl::exists(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(
                transactions::wallet_id
                    .eq(id)
                    .or(transactions::to_wallet_id.eq(id)),
            ),
    ))
    .get_result(conn)?;
    Ok([
        (moved, "transactions"),
        (planned.bills, "bills"),
        (planned.recurring, "recurring transactions"),
        (planned.rules, "rules"),
        (planned.goals, "savings goals"),
    ]
    .into_iter()
    .find_map(|(used, by)| used.then_some(by)))
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        wallets::table
            .filter(wallets::ledger_id.eq(ledger_id))
            .filter(wallets::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "wallet", id)?;
    }
    Ok(deleted)
}

/// Wallets by id, with balances.
pub fn with_balance_by_ids(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<WalletBalance>> {
    diesel::sql_query(format!(
        "{SELECT_WITH_BALANCE} AND w.id = ANY($2) ORDER BY w.created_at, w.id"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(conn)
}
