//! The rows a new or changed transaction points at, read in one statement.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Double, Nullable, Text, Uuid as SqlUuid};
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
/// of its categories (directly or through an ancestor).
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

/// What a new expense's checks need, in one statement (one round trip where three were): the
/// wallet and categories it names ([`references`]), its unusual-spending peers in the wallet's
/// currency (`ml::peers`: the latest `limit` expenses of the year up to `date` in
/// `peer_category`, and at `merchant`), and the budgets that track `categories` (as
/// `budgets::tracking` finds them).
#[allow(clippy::too_many_arguments)]
pub fn expense_context(
    conn: &mut PgConnection,
    owner: Uuid,
    wallet: Uuid,
    categories: &[Uuid],
    peer_category: Option<Uuid>,
    merchant: Option<&str>,
    date: NaiveDate,
    limit: i64,
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
             WHERE b.ledger_id = $1 AND b.category_id IN (SELECT id FROM up)",
        )
        .bind::<SqlUuid, _>(owner)
        .bind::<SqlUuid, _>(wallet)
        .bind::<Array<SqlUuid>, _>(categories)
        .bind::<Nullable<SqlUuid>, _>(peer_category)
        .bind::<Nullable<Text>, _>(merchant)
        .bind::<Date, _>(date)
        .bind::<BigInt, _>(limit),
    )
    .load(conn)
}
