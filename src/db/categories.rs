//! Queries on `categories` and their quick-pick descriptions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use uuid::Uuid;

use super::schema::{categories, category_descriptions, transaction_splits, transactions};
use super::tombstones;
use crate::domain::ledger::DEFAULT_CATEGORIES;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: Uuid,
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub icon: Option<String>,
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = categories)]
pub struct NewCategory<'a> {
    pub user_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: &'a str,
    pub kind: &'a str,
    pub icon: Option<&'a str>,
    pub color: Option<&'a str>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChangeset {
    pub name: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub icon: Option<Option<String>>,
    pub color: Option<Option<String>>,
}

/// Gives a new user the default tree.
pub fn insert_defaults(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    for (name, kind, icon, color, children) in DEFAULT_CATEGORIES {
        let root = insert(
            conn,
            &NewCategory {
                user_id,
                parent_id: None,
                name,
                kind: kind.as_str(),
                icon: Some(icon),
                color: Some(color),
            },
        )?;
        let rows: Vec<NewCategory> = children
            .iter()
            .map(|child| NewCategory {
                user_id,
                parent_id: Some(root.id),
                name: child,
                kind: kind.as_str(),
                icon: Some(icon),
                color: Some(color),
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(categories::table)
                .values(&rows)
                .execute(conn)?;
        }
    }
    Ok(())
}

pub fn insert(conn: &mut PgConnection, category: &NewCategory) -> QueryResult<Category> {
    diesel::insert_into(categories::table)
        .values(category)
        .returning(Category::as_returning())
        .get_result(conn)
}

/// All of the user's categories, by name (roots and children alike).
pub fn all(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Category>> {
    categories::table
        .filter(categories::user_id.eq(user_id))
        .select(Category::as_select())
        .order((categories::name.asc(), categories::id.asc()))
        .load(conn)
}

pub fn find(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<Option<Category>> {
    categories::table
        .filter(categories::user_id.eq(user_id))
        .filter(categories::id.eq(id))
        .select(Category::as_select())
        .first(conn)
        .optional()
}

/// The category and everything below it.
pub fn subtree_ids(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "WITH RECURSIVE tree AS ( \
             SELECT id FROM categories WHERE user_id = $1 AND id = $2 \
             UNION ALL \
             SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.user_id = $1) \
         SELECT id FROM tree",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

pub fn has_children(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        categories::table
            .filter(categories::user_id.eq(user_id))
            .filter(categories::parent_id.eq(id)),
    ))
    .get_result(conn)
}

/// Whether transactions (or their splits) use the category.
pub fn in_use(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    let by_transactions: bool = diesel::select(diesel::dsl::exists(
        transactions::table
            .filter(transactions::user_id.eq(user_id))
            .filter(transactions::category_id.eq(id)),
    ))
    .get_result(conn)?;
    if by_transactions {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        transaction_splits::table
            .filter(transaction_splits::user_id.eq(user_id))
            .filter(transaction_splits::category_id.eq(id)),
    ))
    .get_result(conn)
}

/// Moves every use of `from` to `to` (transactions and splits).
pub fn reassign(conn: &mut PgConnection, user_id: Uuid, from: Uuid, to: Uuid) -> QueryResult<()> {
    diesel::update(
        transactions::table
            .filter(transactions::user_id.eq(user_id))
            .filter(transactions::category_id.eq(from)),
    )
    .set(transactions::category_id.eq(to))
    .execute(conn)?;
    diesel::update(
        transaction_splits::table
            .filter(transaction_splits::user_id.eq(user_id))
            .filter(transaction_splits::category_id.eq(from)),
    )
    .set(transaction_splits::category_id.eq(to))
    .execute(conn)?;
    Ok(())
}

pub fn update(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    changes: &CategoryChangeset,
) -> QueryResult<Category> {
    diesel::update(
        categories::table
            .filter(categories::user_id.eq(user_id))
            .filter(categories::id.eq(id)),
    )
    .set(changes)
    .returning(Category::as_returning())
    .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        categories::table
            .filter(categories::user_id.eq(user_id))
            .filter(categories::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, user_id, "category", id)?;
    }
    Ok(deleted)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = category_descriptions)]
pub struct Description {
    pub id: Uuid,
    pub category_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

pub fn descriptions(
    conn: &mut PgConnection,
    user_id: Uuid,
    category_id: Uuid,
) -> QueryResult<Vec<Description>> {
    category_descriptions::table
        .filter(category_descriptions::user_id.eq(user_id))
        .filter(category_descriptions::category_id.eq(category_id))
        .select(Description::as_select())
        .order((
            category_descriptions::text.asc(),
            category_descriptions::id.asc(),
        ))
        .load(conn)
}

pub fn insert_description(
    conn: &mut PgConnection,
    user_id: Uuid,
    category_id: Uuid,
    text: &str,
) -> QueryResult<Description> {
    diesel::insert_into(category_descriptions::table)
        .values((
            category_descriptions::user_id.eq(user_id),
            category_descriptions::category_id.eq(category_id),
            category_descriptions::text.eq(text),
        ))
        .returning(Description::as_returning())
        .get_result(conn)
}

pub fn delete_description(
    conn: &mut PgConnection,
    user_id: Uuid,
    category_id: Uuid,
    id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        category_descriptions::table
            .filter(category_descriptions::user_id.eq(user_id))
            .filter(category_descriptions::category_id.eq(category_id))
            .filter(category_descriptions::id.eq(id)),
    )
    .execute(conn)
}

pub fn by_ids(conn: &mut PgConnection, user_id: Uuid, ids: &[Uuid]) -> QueryResult<Vec<Category>> {
    categories::table
        .filter(categories::user_id.eq(user_id))
        .filter(categories::id.eq_any(ids))
        .select(Category::as_select())
        .order((categories::name.asc(), categories::id.asc()))
        .load(conn)
}
