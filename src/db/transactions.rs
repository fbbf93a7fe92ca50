//! Queries on `transactions` and `transaction_splits`.
//!
//! Reads return a `TransactionView`: the row with its wallet and category names and its splits,
//! in one round trip (splits aggregated as JSON in the same query).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{
    Array, BigInt, Date, Jsonb, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::prepared::Prepared;
use super::schema::{transaction_splits, transactions};
use super::tombstones;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = transactions)]
pub struct Transaction {
    pub id: Uuid,
    pub ledger_id: Uuid,
    #[diesel(column_name = type_)]
    pub transaction_type: String,
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub category_source: String,
    pub category_confidence: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    pub tax_deductible: bool,
    /// The other half of a transfer an import matched this pending row with, if any.
    pub transfer_match_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = transaction_splits)]
pub struct Split {
    pub category_id: Uuid,
    pub amount: Decimal,
    pub note: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = transactions)]
pub struct NewTransaction {
    pub ledger_id: Uuid,
    #[diesel(column_name = type_)]
    pub transaction_type: String,
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<Option<String>>,
    pub import_hash: Option<String>,
    /// `pending` for an import that waits for review; `None` is the column's default
    /// (`cleared`).
    pub status: Option<String>,
    pub import_batch_id: Option<Uuid>,
    pub external_id: Option<String>,
    /// `user`, or `ml` when the category was applied from a suggestion.
    pub category_source: String,
    pub category_confidence: Option<Decimal>,
    /// Judged unusual against the user's history when it was recorded.
    pub is_unusual: bool,
    pub unusual_reason: Option<String>,
    /// The member who wrote it; `None` when FinAI did (a recurring template, autopay).
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub tax_rate: Option<Decimal>,
    pub tax_deductible: bool,
    /// FinAI wrote it: `created_by` cannot tell once a member's account is gone.
    pub automatic: bool,
}

/// What the database decides for a new row.
#[derive(Debug, Clone, Copy, Queryable)]
pub struct Inserted {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every column a PATCH may set (all of them: the handler merges and re-validates).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = transactions, treat_none_as_null = true)]
pub struct TransactionChangeset {
    #[diesel(column_name = type_)]
    pub transaction_type: String,
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
    pub description: String,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub category_id: Option<Uuid>,
    pub wallet_id: Uuid,
    pub to_wallet_id: Option<Uuid>,
    pub tags: Vec<Option<String>>,
    pub category_source: String,
    pub category_confidence: Option<Decimal>,
    /// `None` (a change FinAI made) leaves the last member's name on the row.
    pub updated_by: Option<Uuid>,
    /// Always written (`None` clears it).
    #[diesel(treat_none_as_null = true)]
    pub tax_rate: Option<Decimal>,
    pub tax_deductible: bool,
}

/// A transaction as clients see it.
#[derive(Debug, Clone, QueryableByName)]
pub struct TransactionView {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub transaction_type: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub merchant: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub notes: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub wallet_id: Uuid,
    #[diesel(sql_type = Text)]
    pub wallet_name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub to_wallet_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub to_wallet_name: Option<String>,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    pub tags: Vec<Option<String>>,
    /// `[{category_id, category_name, amount, note}]`, in order.
    #[diesel(sql_type = Jsonb)]
    pub splits: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub category_source: String,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub category_confidence: Option<Decimal>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub is_unusual: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub unusual_reason: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub created_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub updated_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub tax_rate: Option<Decimal>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub tax_deductible: bool,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub import_batch_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub transfer_match_id: Option<Uuid>,
}

/// The columns of a [`TransactionView`], over `t` (a transaction row) and its joins. Only a
/// row that can have splits (an expense or income without a category of its own) looks for
/// them: the lookup per row cost a third of a page's time.
macro_rules! view_columns {
    () => {
        view_columns!("c.name", "w.name", "tw.name")
    };
    // The names as given: joined ones, or placeholders a page fills in from the names it keeps
    // (see `page`).
    ($category:literal, $wallet:literal, $to_wallet:literal) => {
        concat!(
            "SELECT t.id, t.type AS transaction_type, t.amount, t.currency, t.date, t.description, \
                    t.merchant, t.notes, t.category_id, ",
            $category,
            " AS category_name, t.wallet_id, ",
            $wallet,
            " AS wallet_name, t.to_wallet_id, ",
            $to_wallet,
            " AS to_wallet_name, t.tags, \
                CASE WHEN t.category_id IS NULL AND t.type <> 'transfer' THEN \
                    COALESCE((SELECT jsonb_agg(jsonb_build_object( \
                                 'category_id', s.category_id, 'category_name', sc.name, \
                                 'amount', s.amount, 'note', s.note) ORDER BY s.position) \
                              FROM transaction_splits s JOIN categories sc \
                                   ON sc.ledger_id = s.ledger_id AND sc.id = s.category_id \
                              WHERE s.ledger_id = t.ledger_id AND s.transaction_id = t.id), \
                             '[]'::jsonb) \
                ELSE '[]'::jsonb END AS splits, \
                t.created_at, t.updated_at, t.category_source, t.category_confidence, \
                t.is_unusual, t.unusual_reason, t.created_by, t.updated_by, \
                t.tax_rate, t.tax_deductible, t.status, t.import_batch_id, \
                t.transfer_match_id"
        )
    };
}

/// The names a view shows: wallets and category.
macro_rules! view_joins {
    () => {
        " JOIN wallets w ON w.ledger_id = t.ledger_id AND w.id = t.wallet_id \
          LEFT JOIN wallets tw ON tw.ledger_id = t.ledger_id AND tw.id = t.to_wallet_id \
          LEFT JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id"
    };
}

const SELECT_VIEW: &str = concat!(
    view_columns!(),
    " FROM transactions t",
    view_joins!(),
    " WHERE t.ledger_id = $1"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    DateDesc,
    DateAsc,
    AmountDesc,
    AmountAsc,
    CreatedDesc,
    CreatedAsc,
}

impl Sort {
    pub fn parse(value: &str) -> Option<Sort> {
        match value {
            "-date" => Some(Sort::DateDesc),
            "date" => Some(Sort::DateAsc),
            "-amount" => Some(Sort::AmountDesc),
            "amount" => Some(Sort::AmountAsc),
            "-created_at" => Some(Sort::CreatedDesc),
            "created_at" => Some(Sort::CreatedAsc),
            _ => None,
        }
    }

    /// The condition for rows after `(key, id)` in this order, `$k` the key and `$i` the id.
    fn after(self) -> &'static str {
        match self {
            Sort::DateDesc => "(t.date, t.id) < ($k, $i)",
            Sort::DateAsc => "(t.date, t.id) > ($k, $i)",
            Sort::AmountDesc => "(t.amount, t.id) < ($k, $i)",
            Sort::AmountAsc => "(t.amount, t.id) > ($k, $i)",
            Sort::CreatedDesc => "(t.created_at, t.id) < ($k, $i)",
            Sort::CreatedAsc => "(t.created_at, t.id) > ($k, $i)",
        }
    }

    /// Where a row stands in this order: its key, and its id.
    fn position(self, row: &TransactionView) -> (Bind, Bind) {
        let key = match self {
            Sort::DateDesc | Sort::DateAsc => Bind::Date(row.date),
            Sort::AmountDesc | Sort::AmountAsc => Bind::Numeric(row.amount),
            Sort::CreatedDesc | Sort::CreatedAsc => Bind::Timestamp(row.created_at),
        };
        (key, Bind::Uuid(row.id))
    }

    /// Always ends on the id, so pages are stable.
    fn order_by(self) -> &'static str {
        match self {
            Sort::DateDesc => "t.date DESC, t.id DESC",
            Sort::DateAsc => "t.date ASC, t.id ASC",
            Sort::AmountDesc => "t.amount DESC, t.id DESC",
            Sort::AmountAsc => "t.amount ASC, t.id ASC",
            Sort::CreatedDesc => "t.created_at DESC, t.id DESC",
            Sort::CreatedAsc => "t.created_at ASC, t.id ASC",
        }
    }
}

/// Listing filters; all optional, all combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub transaction_type: Option<String>,
    /// Matches the category and its descendants, on the transaction or any of its splits.
    pub category_id: Option<Uuid>,
    /// Either side of the transaction.
    pub wallet_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub min_amount: Option<Decimal>,
    pub max_amount: Option<Decimal>,
    /// Case-insensitive, in description, merchant and notes.
    pub q: Option<String>,
    pub tag: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    /// `pending`, `cleared` or `reconciled`.
    pub status: Option<String>,
    /// Brought by this import batch.
    pub import_batch_id: Option<Uuid>,
}

enum Bind {
    Uuid(Uuid),
    Text(String),
    Date(NaiveDate),
    Numeric(Decimal),
    Timestamp(DateTime<Utc>),
    BigInt(i64),
}

/// Appends the filter's conditions to `sql`, numbering placeholders after `$1` (the user).
/// Returns the placeholder number of the category filter, which the subtree CTE uses.
fn conditions(filter: &Filter, sql: &mut String, binds: &mut Vec<Bind>) -> Option<usize> {
    let mut category_placeholder = None;
    let mut push = |sql: &mut String, template: &str, bind: Bind| -> usize {
        binds.push(bind);
        let number = binds.len() + 1;
        sql.push_str(" AND ");
        sql.push_str(&template.replace("$?", &format!("${number}")));
        number
    };
    if let Some(kind) = &filter.transaction_type {
        push(sql, "t.type = $?", Bind::Text(kind.clone()));
    }
    if let Some(category) = filter.category_id {
        category_placeholder = Some(push(
            sql,
            "(t.category_id IN (SELECT id FROM subtree) OR EXISTS (SELECT 1 FROM transaction_splits s \
              WHERE s.ledger_id = t.ledger_id AND s.transaction_id = t.id \
                AND s.category_id IN (SELECT id FROM subtree)))",
            Bind::Uuid(category),
        ));
    }
    if let Some(wallet) = filter.wallet_id {
        push(
            sql,
            "(t.wallet_id = $? OR t.to_wallet_id = $?)",
            Bind::Uuid(wallet),
        );
    }
    if let Some(from) = filter.from {
        push(sql, "t.date >= $?", Bind::Date(from));
    }
    if let Some(to) = filter.to {
        push(sql, "t.date <= $?", Bind::Date(to));
    }
    if let Some(min) = filter.min_amount {
        push(sql, "t.amount >= $?", Bind::Numeric(min));
    }
    if let Some(max) = filter.max_amount {
        push(sql, "t.amount <= $?", Bind::Numeric(max));
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", super::users::escape_like(q));
        push(
            sql,
            "(t.description ILIKE $? OR t.merchant ILIKE $? OR t.notes ILIKE $?)",
            Bind::Text(pattern),
        );
    }
    if let Some(tag) = &filter.tag {
        push(sql, "$? = ANY(t.tags)", Bind::Text(tag.clone()));
    }
    if let Some(since) = filter.updated_since {
        push(sql, "t.updated_at > $?", Bind::Timestamp(since));
    }
    if let Some(status) = &filter.status {
        push(sql, "t.status = $?", Bind::Text(status.clone()));
    }
    if let Some(batch) = filter.import_batch_id {
        push(sql, "t.import_batch_id = $?", Bind::Uuid(batch));
    }
    category_placeholder
}

fn bind_all<'a>(
    mut query: BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery>,
    binds: Vec<Bind>,
) -> BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery> {
    for bind in binds {
        query = match bind {
            Bind::Uuid(v) => query.bind::<SqlUuid, _>(v),
            Bind::Text(v) => query.bind::<Text, _>(v),
            Bind::Date(v) => query.bind::<Date, _>(v),
            Bind::Numeric(v) => query.bind::<Numeric, _>(v),
            Bind::Timestamp(v) => query.bind::<Timestamptz, _>(v),
            Bind::BigInt(v) => query.bind::<BigInt, _>(v),
        };
    }
    query
}

/// Prefixes the category filter's subtree (the category and its descendants) as a CTE.
fn with_subtree(select: String, category_placeholder: Option<usize>) -> String {
    let Some(position) = category_placeholder else {
        return select;
    };
    format!(
        "WITH RECURSIVE subtree AS ( \
            SELECT id FROM categories WHERE ledger_id = $1 AND id = ${position} \
            UNION SELECT c.id FROM categories c JOIN subtree ON c.parent_id = subtree.id \
            WHERE c.ledger_id = $1) {select}"
    )
}

/// A page of the user's transactions (planned for its own values; the hot page is [`page`]'s).
/// No `count(*) OVER ()` here: it would build every matching row (joins and splits included)
/// before the LIMIT; see [`total`].
// EXPLAIN (ANALYZE, BUFFERS), first page, user with 1 M rows (bench/run.sh data):
//   Limit (actual time=0.247..0.824 rows=50 loops=1)
//     -> Index Scan using transactions_user_date_idx on transactions t (actual time=0.071..0.182 rows=50 loops=1)
//   Execution Time: 1.083 ms
fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<TransactionView>> {
    let mut sql = SELECT_VIEW.to_owned();
    let mut binds = Vec::new();
    let category = conditions(filter, &mut sql, &mut binds);
    let sql = with_subtree(sql, category);
    let limit_at = binds.len() + 2;
    let sql = format!(
        "{sql} ORDER BY {} LIMIT ${limit_at} OFFSET ${}",
        sort.order_by(),
        limit_at + 1
    );
    binds.push(Bind::BigInt(limit));
    binds.push(Bind::BigInt(offset));
    let query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<SqlUuid, _>(ledger_id);
    bind_all(query, binds).load(conn)
}

/// Every matching row, in `chunk`-sized pages each starting after the last row of the one
/// before (an index walk per page, where an OFFSET would read every earlier row again), handed
/// to `each` in order. Run it inside one transaction for one snapshot.
pub fn for_each_page<E: From<diesel::result::Error>>(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    sort: Sort,
    chunk: i64,
    mut each: impl FnMut(&[TransactionView]) -> Result<(), E>,
) -> Result<(), E> {
    let mut after: Option<(Bind, Bind)> = None;
    loop {
        let mut sql = SELECT_VIEW.to_owned();
        let mut binds = Vec::new();
        let category = conditions(filter, &mut sql, &mut binds);
        if let Some((key, id)) = after.take() {
            binds.push(key);
            binds.push(id);
            let (k, i) = (binds.len(), binds.len() + 1);
            sql.push_str(" AND ");
            sql.push_str(
                &sort
                    .after()
                    .replace("$k", &format!("${k}"))
                    .replace("$i", &format!("${i}")),
            );
        }
        let sql = with_subtree(sql, category);
        let sql = format!(
            "{sql} ORDER BY {} LIMIT ${}",
            sort.order_by(),
            binds.len() + 2
        );
        binds.push(Bind::BigInt(chunk));
        let query = diesel::sql_query(sql)
            .into_boxed::<Pg>()
            .bind::<SqlUuid, _>(ledger_id);
        let rows: Vec<TransactionView> = bind_all(query, binds).load(conn)?;
        each(&rows)?;
        match rows.last() {
            Some(last) if rows.len() as i64 == chunk => after = Some(sort.position(last)),
            _ => return Ok(()),
        }
    }
}

/// The hot query: the first page of a plain list (no filter but the type) at a usual size.
fn is_hot(filter: &Filter, limit: i64, offset: i64) -> bool {
    is_unfiltered(filter) && offset == 0 && HOT_PAGE_SIZES.contains(&limit)
}

/// No filter but (at most) the type: the per-user counter knows the total.
fn is_unfiltered(filter: &Filter) -> bool {
    *filter
        == (Filter {
            transaction_type: filter.transaction_type.clone(),
            ..Filter::default()
        })
}

/// Page sizes whose first page of a plain list is a prepared statement of its own (a bounded
/// set: at most 6 sizes × 6 sorts × 2 type filters per connection).
const HOT_PAGE_SIZES: [i64; 6] = [10, 20, 25, 50, 100, 200];

/// How many transactions match `filter`, given the page that was read: from the per-user
/// counter (`transaction_counts`) when the filter is at most a type, from the page itself when
/// it is a first page that is not full, and by counting otherwise.
pub fn total(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    page_rows: usize,
    limit: i64,
    offset: i64,
) -> QueryResult<i64> {
    if is_unfiltered(filter) {
        return counted(conn, ledger_id, filter.transaction_type.as_deref());
    }
    if offset == 0 && (page_rows as i64) < limit {
        return Ok(page_rows as i64);
    }
    count(conn, ledger_id, filter)
}

/// The counter the triggers of `transactions` keep, for all types or one.
// EXPLAIN ANALYZE, user with 1 M rows: Bitmap Index Scan on transaction_counts_pkey
// (actual time=0.020..0.021 rows=3 loops=1), Execution Time: 0.083 ms; what it replaces,
// `SELECT count(*) FROM transactions WHERE ledger_id = $1`: Parallel Index Only Scan using
// transactions_user_wallet_idx (actual time=1.406..169.597 rows=333333 loops=3), 204 ms.
fn counted(conn: &mut PgConnection, ledger_id: Uuid, kind: Option<&str>) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Prepared(
        diesel::sql_query(
            "SELECT COALESCE(sum(n), 0)::bigint AS n FROM transaction_counts \
             WHERE ledger_id = $1 AND ($2::text IS NULL OR type = $2)",
        )
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<Nullable<Text>, _>(kind),
    )
    .get_result::<Count>(conn)
    .map(|c| c.n)
}

/// How many transactions match, counted.
pub fn count(conn: &mut PgConnection, ledger_id: Uuid, filter: &Filter) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut sql = "SELECT count(*) AS n FROM transactions t WHERE t.ledger_id = $1".to_owned();
    let mut binds = Vec::new();
    let category = conditions(filter, &mut sql, &mut binds);
    let sql = with_subtree(sql, category);
    // Unprepared, as a filtered page is: planned for its own values.
    let query = diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<SqlUuid, _>(ledger_id);
    bind_all(query, binds)
        .get_result::<Count>(conn)
        .map(|c| c.n)
}

pub fn find_view(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<TransactionView>> {
    Prepared(
        diesel::sql_query(format!("{SELECT_VIEW} AND t.id = $2"))
            .bind::<SqlUuid, _>(ledger_id)
            .bind::<SqlUuid, _>(id),
    )
    .get_result(conn)
    .optional()
}

pub fn find(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<(Transaction, Vec<Split>)>> {
    let Some(row) = transactions::table
        .filter(transactions::ledger_id.eq(ledger_id))
        .filter(transactions::id.eq(id))
        .select(Transaction::as_select())
        .for_update()
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let splits = transaction_splits::table
        .filter(transaction_splits::ledger_id.eq(ledger_id))
        .filter(transaction_splits::transaction_id.eq(id))
        .select(Split::as_select())
        .order(transaction_splits::position.asc())
        .load(conn)?;
    Ok(Some((row, splits)))
}

/// Inserts a transaction and its splits (run both in one database transaction when there are
/// splits).
pub fn insert(
    conn: &mut PgConnection,
    row: &NewTransaction,
    splits: &[Split],
) -> QueryResult<Inserted> {
    let inserted: Inserted = diesel::insert_into(transactions::table)
        .values(row)
        .returning((
            transactions::id,
            transactions::created_at,
            transactions::updated_at,
        ))
        .get_result(conn)?;
    insert_splits(conn, row.ledger_id, inserted.id, splits)?;
    Ok(inserted)
}

fn insert_splits(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    splits: &[Split],
) -> QueryResult<()> {
    if splits.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = splits
        .iter()
        .enumerate()
        .map(|(position, split)| {
            (
                transaction_splits::ledger_id.eq(ledger_id),
                transaction_splits::transaction_id.eq(id),
                transaction_splits::category_id.eq(split.category_id),
                transaction_splits::amount.eq(split.amount),
                transaction_splits::note.eq(split.note.clone()),
                transaction_splits::position.eq(position as i32),
            )
        })
        .collect();
    diesel::insert_into(transaction_splits::table)
        .values(&rows)
        .execute(conn)
        .map(|_| ())
}

/// Overwrites the row and its splits.
pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    changes: &TransactionChangeset,
    splits: &[Split],
) -> QueryResult<()> {
    diesel::update(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::id.eq(id)),
    )
    .set(changes)
    .execute(conn)?;
    diesel::delete(
        transaction_splits::table
            .filter(transaction_splits::ledger_id.eq(ledger_id))
            .filter(transaction_splits::transaction_id.eq(id)),
    )
    .execute(conn)?;
    insert_splits(conn, ledger_id, id, splits)
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        transactions::table
            .filter(transactions::ledger_id.eq(ledger_id))
            .filter(transactions::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "transaction", id)?;
    }
    Ok(deleted)
}

/// Transactions by id, oldest first.
pub fn views_by_ids(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<TransactionView>> {
    diesel::sql_query(format!(
        "{SELECT_VIEW} AND t.id = ANY($2) ORDER BY t.date, t.id"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
}

/// Rows per insert of an import: well under PostgreSQL's 65,535 bind parameters a statement.
pub const IMPORT_CHUNK: usize = 1000;

/// Inserts imported rows, skipping those whose `import_hash` the user already has; a row's
/// splits are stored with it. Returns the import hashes of the rows created, with their ids.
pub fn insert_imported(
    conn: &mut PgConnection,
    rows: &[(NewTransaction, Vec<Split>)],
) -> QueryResult<std::collections::HashMap<String, Uuid>> {
    let mut inserted = std::collections::HashMap::new();
    for chunk in rows.chunks(IMPORT_CHUNK) {
        let values: Vec<&NewTransaction> = chunk.iter().map(|(row, _)| row).collect();
        let created: Vec<(Uuid, Option<String>)> = diesel::insert_into(transactions::table)
            .values(values)
            .on_conflict_do_nothing()
            .returning((transactions::id, transactions::import_hash))
            .get_results(conn)?;
        inserted.extend(
            created
                .iter()
                .filter_map(|(id, hash)| Some((hash.clone()?, *id))),
        );
        let splits_of: std::collections::HashMap<&str, &[Split]> = chunk
            .iter()
            .filter(|(_, splits)| !splits.is_empty())
            .filter_map(|(row, splits)| Some((row.import_hash.as_deref()?, splits.as_slice())))
            .collect();
        if splits_of.is_empty() {
            continue;
        }
        for (id, hash) in &created {
            if let Some(splits) = hash.as_deref().and_then(|h| splits_of.get(h)) {
                if let Some((row, _)) = chunk.first() {
                    insert_splits(conn, row.ledger_id, *id, splits)?;
                }
            }
        }
    }
    Ok(inserted)
}

/// A page of transactions and how many match in all.
pub struct Page {
    pub rows: Vec<TransactionView>,
    pub total: i64,
    /// For the hot page, read without its names (the wallet and category names are empty):
    /// the version of the ledger's names ([`Names`]) to fill them in from. `None`: the rows
    /// carry their names.
    pub unnamed_at: Option<i64>,
}

/// A page of the user's transactions and how many match in all.
///
/// The hot page carries its total in the same statement (the per-user counter, read in the
/// page's snapshot) and the version of the ledger's names, which the caller keeps: one round
/// trip for the whole answer, and no join for the names (2.5 times the database's throughput
/// of the page with its joins, pgbench on a 10,000-row user).
pub fn page(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> QueryResult<Page> {
    // The first page of a plain list (no filter but the type) at a usual page size is the hot
    // query: its text is fixed (no parameter but the user and the type), so it is prepared
    // once per connection and PostgreSQL settles on its generic plan after five runs instead
    // of planning it every time (planning cost more than running it: 0.6 ms against 0.4 ms).
    // A `LIMIT $n` would keep it re-planned: the generic estimate of an unknown limit is a
    // tenth of the user's rows. Every other list is sent unprepared, and planned for its own
    // values: a wide date range sorted by amount needs another plan than a narrow one.
    if is_hot(filter, limit, offset) {
        #[derive(QueryableByName)]
        struct Counted {
            #[diesel(embed)]
            view: TransactionView,
            #[diesel(sql_type = BigInt)]
            total_count: i64,
            #[diesel(sql_type = BigInt)]
            names_version: i64,
        }
        // The counter is read with the same conditions as the page: the user and, for
        // `/expenses` or a `type` filter, the type ($2).
        let of_type = if filter.transaction_type.is_some() {
            " AND type = $2"
        } else {
            ""
        };
        // The page is cut first and its splits looked up after: for its rows only.
        let mut page = "SELECT * FROM transactions t WHERE t.ledger_id = $1".to_owned();
        let mut binds = Vec::new();
        conditions(filter, &mut page, &mut binds);
        let order = sort.order_by();
        let sql = format!(
            "{}, (SELECT COALESCE(sum(n), 0)::bigint FROM transaction_counts \
                  WHERE ledger_id = $1{of_type}) AS total_count, \
                 (SELECT COALESCE(max(version), 0) FROM ledger_name_versions \
                  WHERE ledger_id = $1) AS names_version \
             FROM ({page} ORDER BY {order} LIMIT {limit}) t ORDER BY {order}",
            view_columns!("NULL::text", "''::text", "NULL::text"),
        );
        let query = diesel::sql_query(sql)
            .into_boxed::<Pg>()
            .bind::<SqlUuid, _>(ledger_id);
        let rows: Vec<Counted> = Prepared(bind_all(query, binds)).load(conn)?;
        let Some(first) = rows.first() else {
            return Ok(Page {
                rows: Vec::new(),
                total: 0,
                unnamed_at: None,
            });
        };
        let (total, version) = (first.total_count, first.names_version);
        return Ok(Page {
            rows: rows.into_iter().map(|r| r.view).collect(),
            total,
            unnamed_at: Some(version),
        });
    }
    let (rows, total) = named_page(conn, ledger_id, filter, sort, limit, offset)?;
    Ok(Page {
        rows,
        total,
        unnamed_at: None,
    })
}

/// A page with its names joined, and how many match in all.
pub fn named_page(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    filter: &Filter,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<TransactionView>, i64)> {
    let rows = list(conn, ledger_id, filter, sort, limit, offset)?;
    let total = total(conn, ledger_id, filter, rows.len(), limit, offset)?;
    Ok((rows, total))
}

/// The names of a ledger's wallets and categories, as pages of transactions show them, and the
/// version of the ledger's names they are (`ledger_name_versions`, moved by every wallet or
/// category added or renamed; migration 000037).
#[derive(Debug, Default)]
pub struct Names {
    pub version: i64,
    pub wallets: std::collections::HashMap<Uuid, String>,
    pub categories: std::collections::HashMap<Uuid, String>,
    /// More than [`MAX_NAMES`]: none are read, and pages join theirs.
    pub too_many: bool,
}

impl Names {
    /// Roughly the bytes the names hold: each entry's id, string and map slot, and its text.
    pub fn weight(&self) -> usize {
        self.wallets
            .values()
            .chain(self.categories.values())
            .map(|name| 64 + name.len())
            .sum()
    }
}

/// The most names of one ledger worth keeping: a ledger with more (thousands of categories)
/// would cost a large read at every rename and its memory in every instance, where the page's
/// joins read 50.
pub const MAX_NAMES: usize = 2_000;

/// Reads the ledger's [`Names`], all in one snapshot.
pub fn names(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Names> {
    #[derive(QueryableByName)]
    struct Named {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        name: Option<String>,
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let rows: Vec<Named> = Prepared(
        diesel::sql_query(
            "SELECT 'version' AS kind, NULL::uuid AS id, NULL::text AS name, \
                    COALESCE((SELECT version FROM ledger_name_versions WHERE ledger_id = $1), 0) \
                        AS version \
             UNION ALL \
             (SELECT 'wallet', id, name, 0 FROM wallets WHERE ledger_id = $1 \
              UNION ALL SELECT 'category', id, name, 0 FROM categories WHERE ledger_id = $1 \
              LIMIT $2)",
        )
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<BigInt, _>(MAX_NAMES as i64 + 1),
    )
    .load(conn)?;
    let mut names = Names::default();
    if rows.len() > MAX_NAMES + 1 {
        names.too_many = true;
        names.version = rows
            .iter()
            .find(|r| r.kind == "version")
            .map_or(0, |r| r.version);
        return Ok(names);
    }
    for row in rows {
        match (row.kind.as_str(), row.id, row.name) {
            ("wallet", Some(id), Some(name)) => {
                names.wallets.insert(id, name);
            }
            ("category", Some(id), Some(name)) => {
                names.categories.insert(id, name);
            }
            _ => names.version = row.version,
        }
    }
    Ok(names)
}
