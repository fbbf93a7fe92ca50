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
    pub ledger_id: Uuid,
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
    pub ledger_id: Uuid,
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
pub fn insert_defaults(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<()> {
    for (name, kind, icon, color, children) in DEFAULT_CATEGORIES {
        let root = insert(
            conn,
            &NewCategory {
                ledger_id,
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
                ledger_id,
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
pub fn all(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Category>> {
    categories::table
        .filter(categories::ledger_id.eq(ledger_id))
        .select(Category::as_select())
        .order((categories::name.asc(), categories::id.asc()))
        .load(conn)
}

/// The names of the categories directly under `parent` (the top level with `None`), but
/// `except`.
pub fn sibling_names(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    parent: Option<Uuid>,
    except: Option<Uuid>,
) -> QueryResult<Vec<String>> {
    let mut query = categories::table
        .filter(categories::ledger_id.eq(ledger_id))
        .select(categories::name)
        .into_boxed();
    query = match parent {
        Some(parent) => query.filter(categories::parent_id.eq(parent)),
        None => query.filter(categories::parent_id.is_null()),
    };
    if let Some(except) = except {
        query = query.filter(categories::id.ne(except));
    }
    query.load(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<Category>> {
    categories::table
        .filter(categories::ledger_id.eq(ledger_id))
        .filter(categories::id.eq(id))
        .select(Category::as_select())
        .first(conn)
        .optional()
}

/// The category and everything below it.
pub fn subtree_ids(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "WITH RECURSIVE tree AS ( \
             SELECT id FROM categories WHERE ledger_id = $1 AND id = $2 \
             UNION \
             SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.ledger_id = $1) \
         SELECT id FROM tree",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// How deep the tree may grow: a root and four levels below it.
pub const MAX_DEPTH: i32 = 5;

/// The category's level (a root is 1).
pub fn depth(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Depth {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        depth: i32,
    }
    diesel::sql_query(
        "WITH RECURSIVE up(id, parent_id, depth) AS ( \
             SELECT id, parent_id, 1 FROM categories WHERE ledger_id = $1 AND id = $2 \
             UNION ALL \
             SELECT c.id, c.parent_id, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id \
             WHERE c.ledger_id = $1 AND up.depth < 100) \
         SELECT COALESCE(max(depth), 0) AS depth FROM up",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .get_result::<Depth>(conn)
    .map(|d| d.depth)
}

/// Levels in the category's subtree (1 for a leaf).
pub fn height(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Height {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        height: i32,
    }
    diesel::sql_query(
        "WITH RECURSIVE down(id, level) AS ( \
             SELECT id, 1 FROM categories WHERE ledger_id = $1 AND id = $2 \
             UNION ALL \
             SELECT c.id, down.level + 1 FROM categories c JOIN down ON c.parent_id = down.id \
             WHERE c.ledger_id = $1 AND down.level < 100) \
         SELECT COALESCE(max(level), 0) AS height FROM down",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .get_result::<Height>(conn)
    .map(|h| h.height)
}

pub fn has_children(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        categories::table
            .filter(categories::ledger_id.eq(ledger_id))
            .filter(categories::parent_id.eq(id)),
    ))
    .get_result(conn)
}

/// Whether transactions (or their splits), budgets, bills, recurring transactions or rules
/// use the category.
pub fn in_use(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Used {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        used: bool,
    }
    let elsewhere: Used = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM budget_categories WHERE ledger_id = $1 AND category_id = $2) \
             OR EXISTS (SELECT 1 FROM bills WHERE ledger_id = $1 AND category_id = $2) \
             OR EXISTS (SELECT 1 FROM recurring_transactions WHERE ledger_id = $1 AND category_id = $2) \
             OR EXISTS (SELECT 1 FROM rules WHERE ledger_id = $1 AND category_id = $2) \
             AS used",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)?;
    if elsewhere.used {
        return Ok(true);
    }
    let by_transactions: bool = diesel::select(diesel::dsl::exists(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::category_id.eq(id)),
    ))
    .get_result(conn)?;
    if by_transactions {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        transaction_splits::table
            .filter(transaction_splits::ledger_id.eq(ledger_id))
            .filter(transaction_splits::category_id.eq(id)),
    ))
    .get_result(conn)
}

/// Moves every use of `from` to `to` (transactions, splits, budgets, bills, recurring, rules).
pub fn reassign(conn: &mut PgConnection, ledger_id: Uuid, from: Uuid, to: Uuid) -> QueryResult<()> {
    // A transaction whose split moves has changed too (syncing clients re-read it).
    diesel::sql_query(
        "UPDATE transactions SET updated_at = now() WHERE ledger_id = $1 AND id IN \
         (SELECT transaction_id FROM transaction_splits WHERE ledger_id = $1 AND category_id = $2)",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(from)
    .execute(conn)?;
    // So does a budget whose categories change (its links are not a row of its own).
    diesel::sql_query(
        "UPDATE budgets SET updated_at = now() WHERE ledger_id = $1 AND id IN \
         (SELECT budget_id FROM budget_categories WHERE ledger_id = $1 AND category_id = $2)",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(from)
    .execute(conn)?;
    for sql in [
        // A budget that already tracks `to` just loses `from`.
        "INSERT INTO budget_categories (ledger_id, budget_id, category_id) \
         SELECT ledger_id, budget_id, $3 FROM budget_categories WHERE ledger_id = $1 AND category_id = $2 \
         ON CONFLICT DO NOTHING",
        "DELETE FROM budget_categories WHERE ledger_id = $1 AND category_id = $2",
        "UPDATE bills SET category_id = $3 WHERE ledger_id = $1 AND category_id = $2",
        "UPDATE recurring_transactions SET category_id = $3 WHERE ledger_id = $1 AND category_id = $2",
        "UPDATE rules SET category_id = $3 WHERE ledger_id = $1 AND category_id = $2",
    ] {
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(ledger_id)
            .bind::<SqlUuid, _>(from)
            .bind::<SqlUuid, _>(to)
            .execute(conn)?;
    }
    diesel::update(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::category_id.eq(from)),
    )
    .set(transactions::category_id.eq(to))
    .execute(conn)?;
    diesel::update(
        transaction_splits::table
            .filter(transaction_splits::ledger_id.eq(ledger_id))
            .filter(transaction_splits::category_id.eq(from)),
    )
    .set(transaction_splits::category_id.eq(to))
    .execute(conn)?;
    Ok(())
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    changes: &CategoryChangeset,
) -> QueryResult<Category> {
    diesel::update(
        categories::table
            .filter(categories::ledger_id.eq(ledger_id))
            .filter(categories::id.eq(id)),
    )
    .set(changes)
    .returning(Category::as_returning())
    .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        categories::table
            .filter(categories::ledger_id.eq(ledger_id))
            .filter(categories::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "category", id)?;
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
    ledger_id: Uuid,
    category_id: Uuid,
) -> QueryResult<Vec<Description>> {
    category_descriptions::table
        .filter(category_descriptions::ledger_id.eq(ledger_id))
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
    ledger_id: Uuid,
    category_id: Uuid,
    text: &str,
) -> QueryResult<Description> {
    diesel::insert_into(category_descriptions::table)
        .values((
            category_descriptions::ledger_id.eq(ledger_id),
            category_descriptions::category_id.eq(category_id),
            category_descriptions::text.eq(text),
        ))
        .returning(Description::as_returning())
        .get_result(conn)
}

pub fn delete_description(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    category_id: Uuid,
    id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        category_descriptions::table
            .filter(category_descriptions::ledger_id.eq(ledger_id))
            .filter(category_descriptions::category_id.eq(category_id))
            .filter(category_descriptions::id.eq(id)),
    )
    .execute(conn)
}

pub fn by_ids(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<Category>> {
    categories::table
        .filter(categories::ledger_id.eq(ledger_id))
        .filter(categories::id.eq_any(ids))
        .select(Category::as_select())
        .order((categories::name.asc(), categories::id.asc()))
        .load(conn)
}
