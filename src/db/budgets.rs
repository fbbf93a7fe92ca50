//! Queries on `budgets`, and their spending: one aggregate query for any number of budgets and
//! periods.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Date, Jsonb, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::prepared::Prepared;
use super::schema::{budget_categories, budgets};
use super::tombstones;
use crate::domain::period::{
    budget_status, days_left, earlier_periods, period_containing, BudgetPeriod, BudgetStatus, Span,
};

/// A budget with its categories (`[{id, name}]`).
#[derive(Debug, Clone, QueryableByName)]
pub struct BudgetRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Date)]
    pub start_date: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    pub end_date: Option<NaiveDate>,
    #[diesel(sql_type = Numeric)]
    pub alert_threshold: Decimal,
    #[diesel(sql_type = Bool)]
    pub rollover: bool,
    #[diesel(sql_type = Jsonb)]
    pub categories: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub total_count: i64,
}

impl BudgetRow {
    pub fn period(&self) -> BudgetPeriod {
        BudgetPeriod::parse(&self.period).unwrap_or(BudgetPeriod::Monthly)
    }

    pub fn category_ids(&self) -> Vec<Uuid> {
        self.categories
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()))
            .collect()
    }
}

const SELECT_BUDGETS: &str = "\
    SELECT b.id, b.name, b.amount, b.currency, b.period, b.start_date, b.end_date, \
           b.alert_threshold, b.rollover, b.created_at, b.updated_at, \
           COALESCE(jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name) ORDER BY c.name, c.id) \
                    FILTER (WHERE c.id IS NOT NULL), '[]'::jsonb) AS categories, \
           count(*) OVER () AS total_count \
    FROM budgets b \
    LEFT JOIN budget_categories bc ON bc.ledger_id = b.ledger_id AND bc.budget_id = b.id \
    LEFT JOIN categories c ON c.ledger_id = bc.ledger_id AND c.id = bc.category_id \
    WHERE b.ledger_id = $1";

/// A page of the user's budgets, oldest first.
// EXPLAIN (ANALYZE, BUFFERS), 50 budgets: Limit (actual time=0.821..0.828 rows=50 loops=1)
//   -> Seq Scan on budgets b (actual time=0.019..0.039 rows=50 loops=1); Execution Time: 0.986 ms
pub fn list(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<BudgetRow>> {
    diesel::sql_query(format!(
        "{SELECT_BUDGETS} GROUP BY b.ledger_id, b.id ORDER BY b.created_at, b.id LIMIT $2 OFFSET $3"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)
}

/// Every budget of the ledger, oldest first (for the figures that weigh them all).
pub fn all(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<BudgetRow>> {
    diesel::sql_query(format!(
        "{SELECT_BUDGETS} GROUP BY b.ledger_id, b.id ORDER BY b.created_at, b.id"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .load(conn)
}

pub fn count(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    budgets::table
        .filter(budgets::ledger_id.eq(ledger_id))
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<Option<BudgetRow>> {
    diesel::sql_query(format!(
        "{SELECT_BUDGETS} AND b.id = $2 GROUP BY b.ledger_id, b.id"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()
}

/// The budgets that track any of `categories` (directly or through an ancestor).
pub fn tracking(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    categories: &[Uuid],
) -> QueryResult<Vec<BudgetRow>> {
    // Prepared: every expense asks it, and its text is fixed.
    Prepared(diesel::sql_query(format!(
        "WITH RECURSIVE up(id) AS ( \
             SELECT unnest($2::uuid[]) \
             UNION \
             SELECT c.parent_id FROM categories c JOIN up ON c.id = up.id \
             WHERE c.ledger_id = $1 AND c.parent_id IS NOT NULL) \
         {SELECT_BUDGETS} AND b.id IN (SELECT t.budget_id FROM budget_categories t \
                                       WHERE t.ledger_id = $1 AND t.category_id IN (SELECT id FROM up)) \
         GROUP BY b.ledger_id, b.id ORDER BY b.created_at, b.id"
    ))
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(categories))
    .load(conn)
}

pub fn by_ids(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<BudgetRow>> {
    // Prepared: an expense a budget tracks asks it after its write.
    Prepared(
        diesel::sql_query(format!(
            "{SELECT_BUDGETS} AND b.id = ANY($2) GROUP BY b.ledger_id, b.id ORDER BY b.created_at, b.id"
        ))
        .bind::<SqlUuid, _>(ledger_id)
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(conn)
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = budgets, treat_none_as_null = true)]
pub struct BudgetFields {
    pub name: String,
    pub amount: Decimal,
    pub currency: String,
    pub period: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub alert_threshold: Decimal,
    pub rollover: bool,
}

pub fn insert(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    fields: &BudgetFields,
    category_ids: &[Uuid],
) -> QueryResult<Uuid> {
    let id: Uuid = diesel::insert_into(budgets::table)
        .values((budgets::ledger_id.eq(ledger_id), fields))
        .returning(budgets::id)
        .get_result(conn)?;
    set_categories(conn, ledger_id, id, category_ids)?;
    Ok(id)
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    fields: &BudgetFields,
    category_ids: &[Uuid],
) -> QueryResult<()> {
    diesel::update(
        budgets::table
            .filter(budgets::ledger_id.eq(ledger_id))
            .filter(budgets::id.eq(id)),
    )
    .set(fields)
    .execute(conn)?;
    set_categories(conn, ledger_id, id, category_ids)
}

fn set_categories(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    id: Uuid,
    category_ids: &[Uuid],
) -> QueryResult<()> {
    diesel::delete(
        budget_categories::table
            .filter(budget_categories::ledger_id.eq(ledger_id))
            .filter(budget_categories::budget_id.eq(id)),
    )
    .execute(conn)?;
    let rows: Vec<_> = category_ids
        .iter()
        .map(|category| {
            (
                budget_categories::ledger_id.eq(ledger_id),
                budget_categories::budget_id.eq(id),
                budget_categories::category_id.eq(*category),
            )
        })
        .collect();
    diesel::insert_into(budget_categories::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<usize> {
    let deleted = diesel::delete(
        budgets::table
            .filter(budgets::ledger_id.eq(ledger_id))
            .filter(budgets::id.eq(id)),
    )
    .execute(conn)?;
    if deleted > 0 {
        tombstones::record(conn, ledger_id, "budget", id)?;
    }
    Ok(deleted)
}

/// One period of one budget whose spending is wanted.
#[derive(Debug, Clone, Hash)]
pub struct SpanRequest {
    pub budget_id: Uuid,
    pub span: Span,
    pub currency: String,
}

/// Spending of each requested period, in one query: expenses in the budget's categories (and
/// their descendants) in the budget's currency, with split transactions counted by each
/// share. Returns one amount per request, in order.
pub fn spending(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    requests: &[SpanRequest],
) -> QueryResult<Vec<Decimal>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(QueryableByName)]
    struct Spent {
        #[diesel(sql_type = BigInt)]
        key: i64,
        #[diesel(sql_type = Numeric)]
        spent: Decimal,
    }
    let keys: Vec<i64> = (0..requests.len() as i64).collect();
    let budget_ids: Vec<Uuid> = requests.iter().map(|r| r.budget_id).collect();
    let starts: Vec<NaiveDate> = requests.iter().map(|r| r.span.start).collect();
    let ends: Vec<NaiveDate> = requests.iter().map(|r| r.span.end).collect();
    let currencies: Vec<String> = requests.iter().map(|r| r.currency.clone()).collect();
    // From the daily rollup of category lines (split shares included); see the daily_rollups
    // migration. One index range per period and category (a plain join read every row of the
    // category and filtered the dates), index-only: the index carries the summed columns.
    // EXPLAIN (ANALYZE, BUFFERS) of bench/budgets.sql, 50 budgets (10 with rollover, so years
    // of days) of a user with 1 M transactions, Execution Time: 23.3 ms:
    //   Index Only Scan using daily_category_flows_category_idx on daily_category_flows f
    //     (actual time=0.005..0.069 rows=396 loops=164)
    //     Index Cond: ((ledger_id = ...) AND (category_id = tree.category_id)
    //                  AND (day >= s.start_date) AND (day <= s.end_date))
    //     Heap Fetches: 0
    // The query is the function `finai_budget_spending` (migration 000036), which keeps its
    // generic plan: as a prepared statement PostgreSQL planned it for its values on every write
    // (0.33 ms of planning to 0.1 ms of running, after each expense a budget tracks).
    let rows: Vec<Spent> = Prepared(
        diesel::sql_query("SELECT key, spent FROM finai_budget_spending($1, $2, $3, $4, $5, $6)")
            .bind::<SqlUuid, _>(ledger_id)
            .bind::<Array<BigInt>, _>(keys)
            .bind::<Array<SqlUuid>, _>(budget_ids)
            .bind::<Array<Date>, _>(starts)
            .bind::<Array<Date>, _>(ends)
            .bind::<Array<Text>, _>(currencies),
    )
    .load(conn)?;
    let by_key: HashMap<i64, Decimal> = rows.into_iter().map(|r| (r.key, r.spent)).collect();
    Ok((0..requests.len() as i64)
        .map(|key| by_key.get(&key).copied().unwrap_or_default())
        .collect())
}

/// A budget's figures for the period containing `at`.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub budget: BudgetRow,
    /// `None` when the budget is not running on that date.
    pub span: Option<Span>,
    pub spent: Decimal,
    pub rolled_over: Decimal,
    /// `amount + rolled_over`.
    pub limit: Decimal,
    pub status: BudgetStatus,
    pub days_left: i64,
}

/// One past period of a budget: its spending and, with rollover, what the periods before it
/// carried into it.
#[derive(Debug, Clone)]
pub struct PeriodFigures {
    pub span: Span,
    pub spent: Decimal,
    pub rolled_over: Decimal,
}

/// The figures of some of a budget's periods (given newest first, consecutive), in one
/// spending query: each period's own spending, and the carry of rollover into it, which runs
/// forward from what all periods before the oldest one left.
pub fn period_figures(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    budget: &BudgetRow,
    spans: &[Span],
) -> QueryResult<Vec<PeriodFigures>> {
    let request = |span: Span| SpanRequest {
        budget_id: budget.id,
        span,
        currency: budget.currency.clone(),
    };
    let mut requests: Vec<SpanRequest> = spans.iter().map(|s| request(*s)).collect();
    let before = match spans.last() {
        Some(oldest) if budget.rollover => {
            match earlier_periods(budget.period(), budget.start_date, *oldest) {
                (count, Some(covered)) => {
                    requests.push(request(covered));
                    Some(count)
                }
                _ => None,
            }
        }
        _ => None,
    };
    let spent = spending(conn, ledger_id, &requests)?;
    let mut carry = before.map_or(Decimal::ZERO, |count| {
        budget.amount * Decimal::from(count) - spent[spans.len()]
    });
    let mut figures: Vec<PeriodFigures> = spans
        .iter()
        .zip(&spent)
        .rev()
        .map(|(span, spent)| {
            let rolled_over = carry;
            if budget.rollover {
                carry += budget.amount - spent;
            }
            PeriodFigures {
                span: *span,
                spent: *spent,
                rolled_over,
            }
        })
        .collect();
    figures.reverse();
    Ok(figures)
}

/// Evaluates budgets on `at` with one spending query for all of them (and, for rollover, the
/// periods before).
pub fn evaluate(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    rows: Vec<BudgetRow>,
    at: NaiveDate,
) -> QueryResult<Vec<Evaluation>> {
    evaluate_with(conn, rows, at, |conn, requests| {
        spending(conn, ledger_id, requests)
    })
}

/// `evaluate` with the spending read by `spending` (one call for all the periods), for a
/// caller that keeps what it read.
pub fn evaluate_with<E>(
    conn: &mut PgConnection,
    rows: Vec<BudgetRow>,
    at: NaiveDate,
    spending: impl FnOnce(&mut PgConnection, &[SpanRequest]) -> Result<Vec<Decimal>, E>,
) -> Result<Vec<Evaluation>, E> {
    let spans: Vec<Option<Span>> = rows
        .iter()
        .map(|b| period_containing(b.period(), b.start_date, b.end_date, at))
        .collect();
    /// Where one budget's figures sit among the spending requests.
    #[derive(Default)]
    struct Slot {
        /// The current period's request.
        current: Option<usize>,
        /// With rollover: how many periods came before, and the request covering them.
        earlier: Option<(u32, usize)>,
    }
    let mut requests = Vec::new();
    let mut slots: Vec<Slot> = Vec::new();
    for (budget, span) in rows.iter().zip(&spans) {
        let mut slot = Slot::default();
        if let Some(span) = span {
            slot.current = Some(requests.len());
            requests.push(SpanRequest {
                budget_id: budget.id,
                span: *span,
                currency: budget.currency.clone(),
            });
            if budget.rollover {
                if let (count, Some(covered)) =
                    earlier_periods(budget.period(), budget.start_date, *span)
                {
                    slot.earlier = Some((count, requests.len()));
                    requests.push(SpanRequest {
                        budget_id: budget.id,
                        span: covered,
                        currency: budget.currency.clone(),
                    });
                }
            }
        }
        slots.push(slot);
    }
    let spent = spending(conn, &requests)?;
    Ok(rows
        .into_iter()
        .zip(spans)
        .zip(slots)
        .map(|((budget, span), Slot { current, earlier })| {
            let spent_now = current.map_or(Decimal::ZERO, |i| spent[i]);
            let rolled_over = earlier.map_or(Decimal::ZERO, |(count, i)| {
                budget.amount * Decimal::from(count) - spent[i]
            });
            let limit = budget.amount + rolled_over;
            Evaluation {
                status: budget_status(spent_now, limit, budget.alert_threshold),
                days_left: span.map_or(0, |s| days_left(s, at)),
                spent: spent_now,
                rolled_over,
                limit,
                span,
                budget,
            }
        })
        .collect())
}
