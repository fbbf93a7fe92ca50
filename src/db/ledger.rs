//! The rows a new or changed transaction points at, read in one statement.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Double, Nullable, Numeric, Text, Uuid as SqlUuid,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::prepared::Prepared;

/// A wallet (`detail`: its currency) or a category (`detail`: its kind) of the owner.
#[derive(Debug, Clone, QueryableByName)]
pub struct Reference {
    #[diesel(sql_type = Bool)]
    pub is_wallet: bool,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub detail: String,
    #[diesel(sql_type = Bool)]
    pub archived: bool,
}

/// The owner's wallets and categories among the ids given; others' rows are not found.
pub fn references(
    conn: &mut PgConnection,
    owner: Uuid,
    wallets: &[Uuid],
    categories: &[Uuid],
) -> QueryResult<Vec<Reference>> {
    Prepared(
        diesel::sql_query(
            "SELECT true AS is_wallet, id, name, currency AS detail, archived FROM wallets \
             WHERE ledger_id = $1 AND id = ANY($2) \
             UNION ALL \
             SELECT false, id, name, kind, false FROM categories \
             WHERE ledger_id = $1 AND id = ANY($3)",
        )
        .bind::<SqlUuid, _>(owner)
        .bind::<Array<SqlUuid>, _>(wallets)
        .bind::<Array<SqlUuid>, _>(categories),
    )
    .load(conn)
}

/// One row of what a new expense's checks read, by `part`: `wallet` and `category` are
/// [`Reference`]s (`id`, `name`, `detail`, `archived`); `category_peer` and `merchant_peer` are
/// earlier expenses like it (`amount`, `date`); a `budget` row (`id`) is a budget that tracks one
/// of its categories (directly or through an ancestor); a `look_alike` row (`id`, `date`,
/// `name`: its description) is the imported transaction it may repeat.
#[derive(Debug, Clone, QueryableByName)]
pub struct ExpenseContext {
    #[diesel(sql_type = Text)]
    pub part: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub detail: Option<String>,
    #[diesel(sql_type = Bool)]
    pub archived: bool,
    #[diesel(sql_type = Nullable<Double>)]
    pub amount: Option<f64>,
    #[diesel(sql_type = Nullable<Date>)]
    pub date: Option<NaiveDate>,
}

/// What one new expense or income is checked against.
pub struct ContextQuery<'a> {
    pub owner: Uuid,
    pub wallet: Uuid,
    /// `expense` or `income`.
    pub transaction_type: &'a str,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub categories: &'a [Uuid],
    /// The category and merchant whose earlier expenses are its unusual-spending peers.
    pub peer_category: Option<Uuid>,
    pub merchant: Option<&'a str>,
    /// The most peers of each kind.
    pub limit: i64,
}

/// What a new expense's (or income's) checks need, in one statement (one round trip where
/// three were): the wallet and categories it names ([`references`]), its unusual-spending peers
/// in the wallet's currency (the latest `limit` expenses of the year up to `date` in
/// `peer_category`, and at `merchant`), the budgets that track `categories` (as
/// `budgets::tracking` finds them), and the imported transaction of the wallet it may repeat:
/// the same type and amount within 3 days, the nearest first (as an import holds back an entry
/// that looks like one recorded by hand).
pub fn expense_context(
    conn: &mut PgConnection,
    query: &ContextQuery<'_>,
) -> QueryResult<Vec<ExpenseContext>> {
    // Prepared: every expense asks it, and its text is fixed.
    Prepared(
        diesel::sql_query(
            "WITH RECURSIVE up(id) AS ( \
                 SELECT unnest($3::uuid[]) \
                 UNION \
                 SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id \
                 WHERE c.ledger_id = $1 AND c.parent_id IS NOT NULL), \
             wallet AS (SELECT id, name, currency, archived FROM wallets \
                        WHERE ledger_id = $1 AND id = $2) \
             SELECT 'wallet' AS part, id, name, currency AS detail, archived, \
                    NULL::float8 AS amount, NULL::date AS date FROM wallet \
             UNION ALL \
             SELECT 'category', id, name, kind, false, NULL, NULL FROM categories \
             WHERE ledger_id = $1 AND id = ANY($3) \
             UNION ALL \
             (SELECT 'category_peer', NULL, NULL, NULL, false, t.amount::float8, t.date \
              FROM transactions t \
              WHERE $4::uuid IS NOT NULL AND t.ledger_id = $1 AND t.category_id = $4 \
                AND t.type = 'expense' AND t.currency = (SELECT currency FROM wallet) \
                AND t.date BETWEEN $6::date - 365 AND $6 \
              ORDER BY t.date DESC LIMIT $7) \
             UNION ALL \
             (SELECT 'merchant_peer', NULL, NULL, NULL, false, t.amount::float8, t.date \
              FROM transactions t \
              WHERE $5::text IS NOT NULL AND t.ledger_id = $1 AND lower(t.merchant) = lower($5) \
                AND t.merchant IS NOT NULL AND t.type = 'expense' \
                AND t.currency = (SELECT currency FROM wallet) \
                AND t.date BETWEEN $6::date - 365 AND $6 \
              ORDER BY t.date DESC LIMIT $7) \
             UNION ALL \
             SELECT DISTINCT 'budget', b.budget_id, NULL, NULL, false, NULL::float8, NULL::date \
             FROM budget_categories b \
             WHERE b.ledger_id = $1 AND b.category_id IN (SELECT id FROM up) \
             UNION ALL \
             (SELECT 'look_alike', t.id, t.description, NULL, false, NULL, t.date \
              FROM transactions t \
              WHERE t.ledger_id = $1 AND t.wallet_id = $2 AND t.type = $8 AND t.amount = $9 \
                AND (t.import_batch_id IS NOT NULL OR t.import_hash IS NOT NULL) \
                AND t.date BETWEEN $6::date - 3 AND $6::date + 3 \
              ORDER BY abs(t.date - $6::date), t.created_at LIMIT 1)",
        )
        .bind::<SqlUuid, _>(query.owner)
        .bind::<SqlUuid, _>(query.wallet)
        .bind::<Array<SqlUuid>, _>(query.categories)
        .bind::<Nullable<SqlUuid>, _>(query.peer_category)
        .bind::<Nullable<Text>, _>(query.merchant)
        .bind::<Date, _>(query.date)
        .bind::<BigInt, _>(query.limit)
        .bind::<Text, _>(query.transaction_type)
        .bind::<Numeric, _>(query.amount),
    )
    .load(conn)
}
