//! Queries on `rules`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::rules;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rules)]
pub struct Rule {
    pub id: Uuid,
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub payee_contains: Option<String>,
    pub payee_equals: Option<String>,
    pub payee_regex: Option<String>,
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    pub wallet_id: Option<Uuid>,
    #[diesel(column_name = type_)]
    pub transaction_type: Option<String>,
    pub category_id: Option<Uuid>,
    pub add_tags: Vec<Option<String>>,
    pub rename_payee: Option<String>,
    pub transfer_to_wallet_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every column a client sets (a new rule, or a changed one written whole).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = rules, treat_none_as_null = true)]
pub struct RuleRow {
    pub ledger_id: Uuid,
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub payee_contains: Option<String>,
    pub payee_equals: Option<String>,
    pub payee_regex: Option<String>,
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    pub wallet_id: Option<Uuid>,
    #[diesel(column_name = type_)]
    pub transaction_type: Option<String>,
    pub category_id: Option<Uuid>,
    pub add_tags: Vec<Option<String>>,
    pub rename_payee: Option<String>,
    pub transfer_to_wallet_id: Option<Uuid>,
}

/// The ledger's rules in their order.
pub fn all(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Rule>> {
    rules::table
        .filter(rules::ledger_id.eq(ledger_id))
        .order((rules::position, rules::created_at, rules::id))
        .select(Rule::as_select())
        .load(conn)
}

pub fn count(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    rules::table
        .filter(rules::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Rule>> {
    rules::table
        .filter(rules::ledger_id.eq(ledger_id))
        .filter(rules::id.eq(id))
        .select(Rule::as_select())
        .first(conn)
        .optional()
}

/// The position after the last rule.
pub fn next_position(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i32> {
    let last: Option<i32> = rules::table
        .filter(rules::ledger_id.eq(ledger_id))
        .select(diesel::dsl::max(rules::position))
        .first(conn)?;
    Ok(last.map_or(1, |p| p.saturating_add(1)))
}

pub fn insert(conn: &mut PgConnection, row: &RuleRow) -> QueryResult<Rule> {
    diesel::insert_into(rules::table)
        .values(row)
        .returning(Rule::as_returning())
        .get_result(conn)
}

pub fn update(conn: &mut PgConnection, id: Uuid, row: &RuleRow) -> QueryResult<Rule> {
    diesel::update(
        rules::table
            .filter(rules::ledger_id.eq(row.ledger_id))
            .filter(rules::id.eq(id)),
    )
    .set(row)
    .returning(Rule::as_returning())
    .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        rules::table
            .filter(rules::ledger_id.eq(ledger_id))
            .filter(rules::id.eq(id)),
    )
    .execute(conn)
}
