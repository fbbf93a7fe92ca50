//! Queries behind the assistant's answers (figures narrowed by category, merchant and wallet),
//! and its log of questions, answers and feedback.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::schema::assistant_answers;

/// What a figure is narrowed to.
#[derive(Debug, Clone)]
pub struct Filter {
    pub ledger_id: Uuid,
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `expense` or `income`.
    pub kind: &'static str,
    /// The category and its sub-categories.
    pub category_id: Option<Uuid>,
    /// A merchant, as `frequent_merchants` names it.
    pub merchant: Option<MerchantName>,
    pub wallet_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Total {
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = BigInt)]
    pub transactions: i64,
}

const TREE: &str = "tree(id) AS ( \
        SELECT id FROM categories WHERE ledger_id = $1 AND id = $6 \
        UNION ALL \
        SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id WHERE c.ledger_id = $1)";

/// A payee name, and whether transactions carry it as their merchant (else as the description
/// of those without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantName {
    pub name: String,
    pub is_merchant: bool,
}

/// The filter's merchant condition: an index range (`lower(merchant)`, date) for a merchant.
fn merchant_condition(f: &Filter) -> &'static str {
    match &f.merchant {
        None => "$8::text IS NULL",
        Some(m) if m.is_merchant => "lower(t.merchant) = lower($8)",
        Some(_) => "t.merchant IS NULL AND lower(t.description) = lower($8)",
    }
}

/// A query over a filter: `$1` ledger, `$2` currency, `$3`/`$4` dates, `$5` type, `$6` category,
/// `$7` wallet, `$8` merchant pattern (NULLs where the filter has none).
macro_rules! filtered {
    ($sql:expr, $f:expr) => {
        diesel::sql_query($sql)
            .bind::<SqlUuid, _>($f.ledger_id)
            .bind::<Text, _>($f.currency.clone())
            .bind::<Date, _>($f.from)
            .bind::<Date, _>($f.to)
            .bind::<Text, _>($f.kind)
            .bind::<Nullable<SqlUuid>, _>($f.category_id)
            .bind::<Nullable<SqlUuid>, _>($f.wallet_id)
            .bind::<Nullable<Text>, _>($f.merchant.as_ref().map(|m| m.name.clone()))
    };
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CategoryTotal {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
}

/// The filter's categories by their own total (a split counts in each of its categories, as in
/// the spending report), largest first; for a filter without category or merchant.
pub fn top_categories(
    conn: &mut PgConnection,
    f: &Filter,
    limit: i64,
) -> QueryResult<Vec<CategoryTotal>> {
    filtered!(
        "SELECT c.id, c.name, sum(l.amount) AS amount \
         FROM daily_category_flows l \
         JOIN categories c ON c.ledger_id = l.ledger_id AND c.id = l.category_id \
         WHERE l.ledger_id = $1 AND l.currency = $2 AND l.day BETWEEN $3 AND $4 \
           AND l.type = $5 AND ($7::uuid IS NULL OR l.wallet_id = $7) \
           AND ($6::uuid IS NULL OR TRUE) AND ($8::text IS NULL OR TRUE) \
         GROUP BY c.id, c.name HAVING sum(l.amount) > 0 \
         ORDER BY 3 DESC, 2 LIMIT $9",
        f
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The total of the filter's expenses (or incomes). Without a merchant it reads the daily
/// rollups (split shares count in their categories); with one, the transactions of the period.
pub fn total(conn: &mut PgConnection, f: &Filter) -> QueryResult<Total> {
    let sql = match (&f.merchant, f.category_id) {
        (None, None) => "SELECT COALESCE(sum(amount), 0) AS amount, \
                                COALESCE(sum(transactions), 0)::bigint AS transactions \
                         FROM daily_flows WHERE ledger_id = $1 AND currency = $2 \
                           AND day BETWEEN $3 AND $4 AND type = $5 \
                           AND ($7::uuid IS NULL OR wallet_id = $7) AND $6::uuid IS NULL \
                           AND $8::text IS NULL"
            .to_owned(),
        // A transaction split over k categories of the tree is k lines of the rollup: it counts
        // once, as in the spending report.
        (None, Some(_)) => format!(
            "WITH RECURSIVE {TREE}, \
             overcount AS ( \
                 SELECT count(DISTINCT s.category_id) - 1 AS extra \
                 FROM transaction_splits s JOIN tree ON tree.id = s.category_id \
                 WHERE s.ledger_id = $1 AND s.currency = $2 AND s.day BETWEEN $3 AND $4 \
                   AND s.type = $5 AND ($7::uuid IS NULL OR s.wallet_id = $7) \
                 GROUP BY s.transaction_id) \
             SELECT COALESCE(sum(l.amount), 0) AS amount, \
                    (COALESCE(sum(l.transactions), 0) \
                     - (SELECT COALESCE(sum(extra), 0) FROM overcount))::bigint AS transactions \
             FROM daily_category_flows l JOIN tree ON tree.id = l.category_id \
             WHERE l.ledger_id = $1 AND l.currency = $2 AND l.day BETWEEN $3 AND $4 \
               AND l.type = $5 AND ($7::uuid IS NULL OR l.wallet_id = $7) AND $8::text IS NULL"
        ),
        (Some(_), _) => format!(
            "WITH RECURSIVE {TREE} \
             SELECT COALESCE(sum(t.amount), 0) AS amount, count(*) AS transactions \
             FROM transactions t \
             WHERE t.ledger_id = $1 AND t.currency = $2 AND t.date BETWEEN $3 AND $4 \
               AND t.type = $5 AND ($7::uuid IS NULL OR t.wallet_id = $7) \
               AND {} \
               AND ($6::uuid IS NULL OR t.category_id IN (SELECT id FROM tree))",
            merchant_condition(f)
        ),
    };
    filtered!(sql, f).get_result(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Line {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub merchant: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub unusual_reason: Option<String>,
}

/// The filter's largest transactions (by the transaction's category, not split shares).
pub fn largest(conn: &mut PgConnection, f: &Filter, limit: i64) -> QueryResult<Vec<Line>> {
    lines(conn, f, limit, false)
}

/// The filter's transactions flagged unusual when they were written, newest first.
pub fn unusual(conn: &mut PgConnection, f: &Filter, limit: i64) -> QueryResult<Vec<Line>> {
    lines(conn, f, limit, true)
}

fn lines(conn: &mut PgConnection, f: &Filter, limit: i64, unusual: bool) -> QueryResult<Vec<Line>> {
    let (flag, order) = if unusual {
        ("AND t.is_unusual", "t.date DESC, t.amount DESC, t.id")
    } else {
        ("", "t.amount DESC, t.date DESC, t.id")
    };
    filtered!(
        format!(
            "WITH RECURSIVE {TREE} \
         SELECT t.id, t.date, t.amount, t.description, t.merchant, c.name AS category, \
                t.unusual_reason \
         FROM transactions t \
         LEFT JOIN categories c ON c.ledger_id = t.ledger_id AND c.id = t.category_id \
         WHERE t.ledger_id = $1 AND t.currency = $2 AND t.date BETWEEN $3 AND $4 \
           AND t.type = $5 AND ($7::uuid IS NULL OR t.wallet_id = $7) \
           AND {merchant} \
           AND ($6::uuid IS NULL OR t.category_id IN (SELECT id FROM tree)) {flag} \
         ORDER BY {order} LIMIT $9",
            merchant = merchant_condition(f)
        ),
        f
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The ledger's most frequent merchants (the description where a transaction has none) since
/// a date, among the transactions written after change number `changed_after` (0: all): the
/// names a question may mention.
pub fn frequent_merchants(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    since: NaiveDate,
    changed_after: i64,
    limit: i64,
) -> QueryResult<Vec<MerchantName>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        is_merchant: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT min(COALESCE(merchant, description)) AS name, \
                bool_or(merchant IS NOT NULL) AS is_merchant FROM transactions \
         WHERE ledger_id = $1 AND date >= $2 AND type = 'expense' AND change_seq > $4 \
           AND length(COALESCE(merchant, description)) BETWEEN 2 AND 60 \
         GROUP BY lower(COALESCE(merchant, description)) \
         ORDER BY count(*) DESC, 1 LIMIT $3",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Date, _>(since)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(changed_after)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| MerchantName {
            name: r.name,
            is_merchant: r.is_merchant,
        })
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assistant_answers)]
pub struct AnswerRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub question: String,
    pub locale: String,
    pub intent: String,
    pub confidence: f32,
    pub entities: serde_json::Value,
    pub data: serde_json::Value,
    pub answer: String,
    pub feedback: Option<String>,
    pub feedback_comment: Option<String>,
    pub feedback_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = assistant_answers)]
pub struct NewAnswer {
    pub ledger_id: Uuid,
    pub user_id: Uuid,
    pub conversation_id: Uuid,
    pub question: String,
    pub locale: String,
    pub intent: String,
    pub confidence: f32,
    pub entities: serde_json::Value,
    pub data: serde_json::Value,
    pub answer: String,
}

pub fn insert_answer(conn: &mut PgConnection, row: &NewAnswer) -> QueryResult<AnswerRow> {
    diesel::insert_into(assistant_answers::table)
        .values(row)
        .returning(AnswerRow::as_returning())
        .get_result(conn)
}

/// The latest answer of one member's conversation in a ledger.
pub fn last_in_conversation(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user_id: Uuid,
    conversation_id: Uuid,
) -> QueryResult<Option<AnswerRow>> {
    assistant_answers::table
        .filter(assistant_answers::ledger_id.eq(ledger_id))
        .filter(assistant_answers::user_id.eq(user_id))
        .filter(assistant_answers::conversation_id.eq(conversation_id))
        .order((
            assistant_answers::created_at.desc(),
            assistant_answers::id.desc(),
        ))
        .select(AnswerRow::as_select())
        .first(conn)
        .optional()
}

/// One member's answers in a ledger, newest first, optionally of one conversation.
pub fn list_answers(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user_id: Uuid,
    conversation_id: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AnswerRow>, i64)> {
    let filtered = || {
        let mut query = assistant_answers::table
            .filter(assistant_answers::ledger_id.eq(ledger_id))
            .filter(assistant_answers::user_id.eq(user_id))
            .into_boxed();
        if let Some(conversation) = conversation_id {
            query = query.filter(assistant_answers::conversation_id.eq(conversation));
        }
        query
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((
            assistant_answers::created_at.desc(),
            assistant_answers::id.desc(),
        ))
        .select(AnswerRow::as_select())
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

pub fn set_feedback(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user_id: Uuid,
    id: Uuid,
    feedback: &str,
    comment: Option<&str>,
) -> QueryResult<Option<AnswerRow>> {
    diesel::update(
        assistant_answers::table
            .filter(assistant_answers::ledger_id.eq(ledger_id))
            .filter(assistant_answers::user_id.eq(user_id))
            .filter(assistant_answers::id.eq(id)),
    )
    .set((
        assistant_answers::feedback.eq(feedback),
        assistant_answers::feedback_comment.eq(comment),
        assistant_answers::feedback_at.eq(diesel::dsl::now),
    ))
    .returning(AnswerRow::as_returning())
    .get_result(conn)
    .optional()
}
