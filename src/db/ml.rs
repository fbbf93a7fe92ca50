//! Queries of the predictions module: training data, stored models, forecasts with their
//! actuals, the suggestion log, and the aggregates unusual-spending checks and insights need.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    BigInt, Date, Double, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::prepared::Prepared;
use super::schema::{category_suggestions, ml_models, predictions};

pub const KIND_FORECAST: &str = "forecast";
pub const KIND_CATEGORIZER: &str = "categorizer";

/// Expense lines: expenses by category and the parts of split expenses by share.
#[derive(Debug, QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The ledger's data version (see [`data_version`]) as one SQL expression of `$1`.
macro_rules! data_version_sql {
    () => {
        "COALESCE(GREATEST( \
        (SELECT max(change_seq) FROM transactions WHERE ledger_id = $1), \
        (SELECT max(change_seq) FROM tombstones WHERE ledger_id = $1), \
        (SELECT max(change_seq) FROM categories WHERE ledger_id = $1)), 0)"
    };
}

/// The user's latest change to anything a model learns from (transactions, their deletion,
/// categories). A model trained at a lower version is stale.
pub fn data_version(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    // Prepared: read by every question to the assistant and every forecast.
    Prepared(
        diesel::sql_query(concat!("SELECT ", data_version_sql!(), " AS version"))
            .bind::<SqlUuid, _>(ledger_id),
    )
    .get_result::<Version>(conn)
    .map(|v| v.version)
}

/// The ledger's data version and which stored model of a kind it has, if any (when it was
/// trained and at which version), without reading the model itself.
#[derive(Debug, QueryableByName)]
pub struct ModelState {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub model_version: Option<i64>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub trained_at: Option<DateTime<Utc>>,
}

pub fn model_state(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    kind: &str,
) -> QueryResult<ModelState> {
    // Prepared: read by every suggestion.
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            data_version_sql!(),
            " AS version, m.data_version AS model_version, m.trained_at \
             FROM (SELECT 1) one \
             LEFT JOIN ml_models m ON m.ledger_id = $1 AND m.kind = $2"
        ))
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<Text, _>(kind),
    )
    .get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ml_models)]
pub struct StoredModel {
    pub algorithm: String,
    pub model: serde_json::Value,
    pub metrics: serde_json::Value,
    pub data_from: Option<NaiveDate>,
    pub data_to: Option<NaiveDate>,
    pub training_rows: i32,
    pub training_ms: i32,
    pub data_version: i64,
    pub trained_at: DateTime<Utc>,
}

pub fn load_model(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    kind: &str,
) -> QueryResult<Option<StoredModel>> {
    ml_models::table
        .filter(ml_models::ledger_id.eq(ledger_id))
        .filter(ml_models::kind.eq(kind))
        .select(StoredModel::as_select())
        .first(conn)
        .optional()
}

pub fn save_model(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    kind: &str,
    stored: &StoredModel,
) -> QueryResult<()> {
    let values = (
        ml_models::ledger_id.eq(ledger_id),
        ml_models::kind.eq(kind),
        ml_models::algorithm.eq(&stored.algorithm),
        ml_models::model.eq(&stored.model),
        ml_models::metrics.eq(&stored.metrics),
        ml_models::data_from.eq(stored.data_from),
        ml_models::data_to.eq(stored.data_to),
        ml_models::training_rows.eq(stored.training_rows),
        ml_models::training_ms.eq(stored.training_ms),
        ml_models::data_version.eq(stored.data_version),
        ml_models::trained_at.eq(stored.trained_at),
    );
    diesel::insert_into(ml_models::table)
        .values(values)
        .on_conflict((ml_models::ledger_id, ml_models::kind))
        .do_update()
        .set(values)
        .execute(conn)
        .map(|_| ())
}

/// Ledgers whose forecast model is missing or stale and was not trained within `min_age`, for the
/// background job; at most `limit`, ledgers with data and an active member only.
pub fn ledgers_needing_forecasts(
    conn: &mut PgConnection,
    trained_before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    diesel::sql_query(
        "SELECT u.id FROM ledgers u \
         LEFT JOIN ml_models m ON m.ledger_id = u.id AND m.kind = 'forecast' \
         WHERE EXISTS (SELECT 1 FROM ledger_members lm JOIN users a ON a.id = lm.user_id \
                       WHERE lm.ledger_id = u.id AND a.status = 'active') \
           AND EXISTS (SELECT 1 FROM transactions t WHERE t.ledger_id = u.id) \
           AND (m.id IS NULL OR (m.trained_at < $1 AND \
                m.data_version < (SELECT COALESCE(max(change_seq), 0) FROM transactions t \
                                  WHERE t.ledger_id = u.id))) \
         ORDER BY m.trained_at NULLS FIRST LIMIT $2",
    )
    .bind::<Timestamptz, _>(trained_before)
    .bind::<BigInt, _>(limit)
    .load::<Row>(conn)
    .map(|rows| rows.into_iter().map(|r| r.id).collect())
}

/// A categorised transaction to learn from.
#[derive(Debug, Clone, QueryableByName)]
pub struct LabelledRow {
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub merchant: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    pub amount: Option<f64>,
    #[diesel(sql_type = SqlUuid)]
    pub category_id: Uuid,
}

/// The user's most recent categorised expenses and incomes (at most `limit`), and the lines
/// of receipts whose categories the user chose (`PATCH /receipts/{id}`), oldest first.
pub fn labelled_rows(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<LabelledRow>> {
    diesel::sql_query(
        "SELECT description, merchant, amount::float8 AS amount, category_id FROM ( \
            (SELECT description, merchant, amount, category_id, date, created_at, change_seq \
             FROM transactions \
             WHERE ledger_id = $1 AND category_id IS NOT NULL \
               AND (description <> '' OR merchant IS NOT NULL) \
             ORDER BY date DESC, created_at DESC LIMIT $2) \
            UNION ALL \
            (SELECT item->>'description', r.merchant, (item->>'amount')::numeric, \
                    (item->>'category_id')::uuid, COALESCE(r.date, r.created_at::date), \
                    r.updated_at, 0::bigint \
             FROM receipts r CROSS JOIN LATERAL jsonb_array_elements(r.corrections->'items') item \
             WHERE r.ledger_id = $1 AND jsonb_typeof(r.corrections->'items') = 'array' \
               AND jsonb_typeof(item->'category_id') = 'string' \
             ORDER BY r.updated_at DESC LIMIT $2)) recent \
         ORDER BY date, created_at, change_seq",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Categorised transactions written after change number `since`, in change order: the choices
/// a stored categoriser has not seen. A transaction edited since (its notes, say) comes again
/// and counts as one more choice of its category; a deleted one is forgotten only by the next
/// training (within minutes).
pub fn labelled_rows_since(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    since: i64,
    limit: i64,
) -> QueryResult<Vec<LabelledRow>> {
    diesel::sql_query(
        "SELECT description, merchant, amount::float8 AS amount, category_id FROM transactions \
         WHERE ledger_id = $1 AND change_seq > $2 AND category_id IS NOT NULL \
           AND (description <> '' OR merchant IS NOT NULL) \
         ORDER BY change_seq LIMIT $3",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<BigInt, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CategoryRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub parent_id: Option<Uuid>,
}

pub fn categories(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<CategoryRow>> {
    diesel::sql_query(
        "SELECT id, name, kind, parent_id FROM categories WHERE ledger_id = $1 ORDER BY created_at, id",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .load(conn)
}

/// Spending per period and category.
#[derive(Debug, Clone, QueryableByName)]
pub struct PeriodAmount {
    #[diesel(sql_type = Date)]
    pub period_start: NaiveDate,
    #[diesel(sql_type = SqlUuid)]
    pub category_id: Uuid,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    /// The day of the user's first expense in the currency (the same on every row).
    #[diesel(sql_type = Date)]
    pub first_day: NaiveDate,
}

/// Expenses (splits by share) in `currency` before `before`, summed per `month` or `week`
/// (ISO weeks from Monday) and category.
pub fn spending_by_period(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    period: &str,
    before: NaiveDate,
) -> QueryResult<Vec<PeriodAmount>> {
    let unit = if period == "week" { "week" } else { "month" };
    // From the daily rollup of category lines (split shares included).
    diesel::sql_query(format!(
        "SELECT date_trunc('{unit}', l.day)::date AS period_start, l.category_id, \
                sum(l.amount) AS amount, min(min(l.day)) OVER () AS first_day \
         FROM daily_category_flows l \
         WHERE l.ledger_id = $1 AND l.currency = $2 AND l.type = 'expense' AND l.day < $3 \
         GROUP BY 1, 2 HAVING sum(l.transactions) > 0 ORDER BY 1, 2"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(before)
    .load(conn)
}

pub struct NewPrediction {
    pub ledger_id: Uuid,
    pub category_id: Option<Uuid>,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    pub amount: Decimal,
    pub lower: Decimal,
    pub upper: Decimal,
    pub method: String,
    pub confidence: String,
    pub as_of: NaiveDate,
}

pub fn insert_predictions(conn: &mut PgConnection, rows: &[NewPrediction]) -> QueryResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                predictions::ledger_id.eq(r.ledger_id),
                predictions::category_id.eq(r.category_id),
                predictions::period.eq(&r.period),
                predictions::period_start.eq(r.period_start),
                predictions::period_end.eq(r.period_end),
                predictions::currency.eq(&r.currency),
                predictions::amount.eq(r.amount),
                predictions::lower.eq(r.lower),
                predictions::upper.eq(r.upper),
                predictions::method.eq(&r.method),
                predictions::confidence.eq(&r.confidence),
                predictions::as_of.eq(r.as_of),
            )
        })
        .collect();
    diesel::insert_into(predictions::table)
        .values(values)
        .execute(conn)
        .map(|_| ())
}

/// A stored prediction, with the actual spending once its period is over.
#[derive(Debug, Clone, QueryableByName)]
pub struct PredictionRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Date)]
    pub period_start: NaiveDate,
    #[diesel(sql_type = Date)]
    pub period_end: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Numeric)]
    pub lower: Decimal,
    #[diesel(sql_type = Numeric)]
    pub upper: Decimal,
    #[diesel(sql_type = Text)]
    pub method: String,
    #[diesel(sql_type = Text)]
    pub confidence: String,
    #[diesel(sql_type = Date)]
    pub as_of: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub actual: Option<Decimal>,
    #[diesel(sql_type = BigInt)]
    pub total_count: i64,
}

/// The user's stored predictions, newest first; `actual` is the spending in the period (and
/// category, with its descendants' and split shares, from the daily rollup) once the period
/// ended before `today`.
pub fn list_predictions(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<PredictionRow>> {
    diesel::sql_query(
        "WITH RECURSIVE tree(root, id) AS ( \
             SELECT id, id FROM categories WHERE ledger_id = $1 \
             UNION ALL \
             SELECT tree.root, c.id FROM categories c JOIN tree ON c.parent_id = tree.id \
             WHERE c.ledger_id = $1) \
         SELECT p.id, p.category_id, c.name AS category_name, p.period, p.period_start, p.period_end, p.currency, \
                p.amount, p.lower, p.upper, p.method, p.confidence, p.as_of, p.created_at, \
                CASE WHEN p.period_end < $2 THEN COALESCE(( \
                    SELECT sum(l.amount) FROM daily_category_flows l \
                    WHERE l.ledger_id = $1 AND l.type = 'expense' AND l.currency = p.currency \
                      AND l.day BETWEEN p.period_start AND p.period_end \
                      AND (p.category_id IS NULL \
                           OR l.category_id IN (SELECT id FROM tree WHERE root = p.category_id))), 0) \
                END AS actual, \
                count(*) OVER () AS total_count \
         FROM predictions p \
         LEFT JOIN categories c ON c.ledger_id = p.ledger_id AND c.id = p.category_id \
         WHERE p.ledger_id = $1 \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $3 OFFSET $4",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Date, _>(today)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)
}

pub fn count_predictions(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    predictions::table
        .filter(predictions::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)
}

pub struct NewSuggestion<'a> {
    pub ledger_id: Uuid,
    pub transaction_id: Option<Uuid>,
    pub description: &'a str,
    pub merchant: Option<&'a str>,
    pub amount: Option<Decimal>,
    pub suggestions: serde_json::Value,
    pub model: &'a str,
    pub applied_category_id: Option<Uuid>,
}

/// Logs a suggestion; returns its id.
pub fn log_suggestion(conn: &mut PgConnection, row: &NewSuggestion) -> QueryResult<Uuid> {
    diesel::insert_into(category_suggestions::table)
        .values((
            category_suggestions::ledger_id.eq(row.ledger_id),
            category_suggestions::transaction_id.eq(row.transaction_id),
            category_suggestions::description.eq(row.description),
            category_suggestions::merchant.eq(row.merchant),
            category_suggestions::amount.eq(row.amount),
            category_suggestions::suggestions.eq(&row.suggestions),
            category_suggestions::model.eq(row.model),
            category_suggestions::applied_category_id.eq(row.applied_category_id),
            category_suggestions::final_category_id.eq(row.applied_category_id),
        ))
        .returning(category_suggestions::id)
        .get_result(conn)
}

/// Records the user's final choice for a logged suggestion: by suggestion id (a client that
/// asked first, then created the transaction) or by the transaction it was applied to.
pub fn resolve_suggestion(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    suggestion_id: Option<Uuid>,
    transaction_id: Uuid,
    final_category_id: Option<Uuid>,
) -> QueryResult<usize> {
    let now = Utc::now();
    let base = category_suggestions::table.filter(category_suggestions::ledger_id.eq(ledger_id));
    match suggestion_id {
        Some(id) => diesel::update(base.filter(category_suggestions::id.eq(id)))
            .set((
                category_suggestions::transaction_id.eq(transaction_id),
                category_suggestions::final_category_id.eq(final_category_id),
                category_suggestions::resolved_at.eq(now),
            ))
            .execute(conn),
        None => {
            diesel::update(base.filter(category_suggestions::transaction_id.eq(transaction_id)))
                .set((
                    category_suggestions::final_category_id.eq(final_category_id),
                    category_suggestions::resolved_at.eq(now),
                ))
                .execute(conn)
        }
    }
}

/// How the suggestions fared: logged, resolved, and how often the top one was the final choice.
#[derive(Debug, Clone, QueryableByName)]
pub struct SuggestionStats {
    #[diesel(sql_type = BigInt)]
    pub logged: i64,
    #[diesel(sql_type = BigInt)]
    pub resolved: i64,
    #[diesel(sql_type = BigInt)]
    pub top_accepted: i64,
}

pub fn suggestion_stats(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<SuggestionStats> {
    diesel::sql_query(
        "SELECT count(*) AS logged, count(final_category_id) AS resolved, \
                count(*) FILTER (WHERE final_category_id IS NOT NULL AND \
                    (suggestions -> 0 ->> 'category_id')::uuid = final_category_id) AS top_accepted \
         FROM category_suggestions WHERE ledger_id = $1",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .get_result(conn)
}

/// One payee's expenses, for recurring-payment detection.
#[derive(Debug, Clone, QueryableByName)]
pub struct PayeeHistory {
    #[diesel(sql_type = Text)]
    pub payee: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Array<Date>)]
    pub dates: Vec<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Array<Numeric>)]
    pub amounts: Vec<Decimal>,
}

/// Expenses from `from` to `to` grouped by payee (merchant, else description), for payees seen
/// at least twice; the 200 most frequent, or those of `only` (payees in lower case).
pub fn payee_histories(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
    only: Option<&[String]>,
) -> QueryResult<Vec<PayeeHistory>> {
    diesel::sql_query(
        "SELECT min(COALESCE(t.merchant, t.description)) AS payee, \
                (array_agg(t.category_id ORDER BY t.date DESC))[1] AS category_id, \
                array_agg(t.date ORDER BY t.date) AS dates, \
                array_agg(t.amount ORDER BY t.date) AS amounts \
         FROM transactions t \
         WHERE t.ledger_id = $1 AND t.currency = $2 AND t.type = 'expense' \
           AND t.date BETWEEN $3 AND $4 AND COALESCE(t.merchant, t.description) <> '' \
           AND ($5::text[] IS NULL OR lower(COALESCE(t.merchant, t.description)) = ANY($5)) \
         GROUP BY lower(COALESCE(t.merchant, t.description)) \
         HAVING count(*) >= 2 ORDER BY count(*) DESC LIMIT 200",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<diesel::sql_types::Array<Text>>, _>(only)
    .load(conn)
}

/// The payees (in lower case) of the expenses from `from` to `to` written after change number
/// `after`, if every change since was a new transaction; `None` when one was edited or deleted
/// (what it was before is not known, so everything must be read again).
pub fn payees_added_since(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    from: NaiveDate,
    to: NaiveDate,
    after: i64,
) -> QueryResult<Option<Vec<String>>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        payee: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        edited: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT lower(COALESCE(t.merchant, t.description)) AS payee, \
                bool_or(t.updated_at > t.created_at) AS edited \
         FROM transactions t WHERE t.ledger_id = $1 AND t.change_seq > $5 \
           AND (t.updated_at > t.created_at OR (t.currency = $2 AND t.type = 'expense' \
                AND t.date BETWEEN $3 AND $4)) \
         GROUP BY 1 \
         UNION ALL (SELECT NULL, true FROM tombstones \
                    WHERE ledger_id = $1 AND change_seq > $5 LIMIT 1) \
         LIMIT 1000",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Text, _>(currency)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<BigInt, _>(after)
    .load(conn)?;
    if rows.iter().any(|r| r.edited) || rows.len() >= 1000 {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().filter_map(|r| r.payee).collect()))
}
