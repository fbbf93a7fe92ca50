//! Report figures, aggregated in SQL over one user's transactions in one currency (never adding
//! one currency to another), optionally narrowed to one wallet. Transfers move money between
//! the user's own wallets: they count as transfer volume and in cash flow, never as income or
//! expense. Split transactions count in each category by share.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use uuid::Uuid;

/// What a report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    pub ledger_id: Uuid,
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub wallet_id: Option<Uuid>,
}

/// `$1` user, `$2` currency, `$3` from, `$4` to, `$5` wallet (or NULL). `flows` is the scope's
/// daily totals per wallet and type (a wallet's report includes transfers into it); `lines` its
/// daily expense per category, split shares apart (see the daily_rollups migration).
const SCOPED: &str = "\
    flows AS ( \
        SELECT f.day, f.type, f.amount, f.transactions FROM daily_flows f \
        WHERE f.ledger_id = $1 AND f.currency = $2 AND f.day BETWEEN $3 AND $4 \
          AND ($5::uuid IS NULL OR f.wallet_id = $5 OR f.to_wallet_id = $5)), \
    lines AS ( \
        SELECT l.day, l.category_id, l.amount, l.transactions FROM daily_category_flows l \
        WHERE l.ledger_id = $1 AND l.currency = $2 AND l.type = 'expense' \
          AND l.day BETWEEN $3 AND $4 AND ($5::uuid IS NULL OR l.wallet_id = $5))";

macro_rules! scoped_query {
    ($sql:expr, $scope:expr) => {
        diesel::sql_query($sql)
            .bind::<SqlUuid, _>($scope.ledger_id)
            .bind::<Text, _>($scope.currency.clone())
            .bind::<Date, _>($scope.from)
            .bind::<Date, _>($scope.to)
            .bind::<Nullable<SqlUuid>, _>($scope.wallet_id)
    };
}

/// Income, expense, transfer volume and count of a period.
#[derive(Debug, Clone, QueryableByName)]
pub struct Totals {
    #[diesel(sql_type = Numeric)]
    pub income: Decimal,
    #[diesel(sql_type = Numeric)]
    pub expense: Decimal,
    #[diesel(sql_type = Numeric)]
    pub transfer_volume: Decimal,
    #[diesel(sql_type = BigInt)]
    pub transaction_count: i64,
    #[diesel(sql_type = BigInt)]
    pub expense_count: i64,
}

/// The scope's totals and those of the `previous_from` ..= `from - 1` period before it, in one
/// query over the daily rollup.
// EXPLAIN (ANALYZE, BUFFERS), a year and the year before of a user with 1 M transactions,
// Execution Time: 2.1 ms (831 ms per year over the transactions themselves):
//   Index Scan using daily_flows_pkey on daily_flows f (actual time=0.009..1.421 rows=4380 loops=1)
pub fn totals(
    conn: &mut PgConnection,
    scope: &Scope,
    previous_from: NaiveDate,
) -> QueryResult<(Totals, Totals)> {
    #[derive(QueryableByName)]
    struct Both {
        #[diesel(embed)]
        now: Totals,
        #[diesel(sql_type = Numeric)]
        before_income: Decimal,
        #[diesel(sql_type = Numeric)]
        before_expense: Decimal,
        #[diesel(sql_type = Numeric)]
        before_transfer_volume: Decimal,
        #[diesel(sql_type = BigInt)]
        before_transaction_count: i64,
        #[diesel(sql_type = BigInt)]
        before_expense_count: i64,
    }
    let both: Both = diesel::sql_query(
        "WITH f AS ( \
             SELECT f.day >= $3 AS now, f.type, f.amount, f.transactions FROM daily_flows f \
             WHERE f.ledger_id = $1 AND f.currency = $2 AND f.day BETWEEN $6 AND $4 \
               AND ($5::uuid IS NULL OR f.wallet_id = $5 OR f.to_wallet_id = $5)) \
         SELECT COALESCE(sum(amount) FILTER (WHERE now AND type = 'income'), 0) AS income, \
                COALESCE(sum(amount) FILTER (WHERE now AND type = 'expense'), 0) AS expense, \
                COALESCE(sum(amount) FILTER (WHERE now AND type = 'transfer'), 0) AS transfer_volume, \
                COALESCE(sum(transactions) FILTER (WHERE now), 0)::bigint AS transaction_count, \
                COALESCE(sum(transactions) FILTER (WHERE now AND type = 'expense'), 0)::bigint \
                    AS expense_count, \
                COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'income'), 0) AS before_income, \
                COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'expense'), 0) AS before_expense, \
                COALESCE(sum(amount) FILTER (WHERE NOT now AND type = 'transfer'), 0) AS before_transfer_volume, \
                COALESCE(sum(transactions) FILTER (WHERE NOT now), 0)::bigint AS before_transaction_count, \
                COALESCE(sum(transactions) FILTER (WHERE NOT now AND type = 'expense'), 0)::bigint \
                    AS before_expense_count \
         FROM f",
    )
    .bind::<SqlUuid, _>(scope.ledger_id)
    .bind::<Text, _>(scope.currency.clone())
    .bind::<Date, _>(scope.from)
    .bind::<Date, _>(scope.to)
    .bind::<Nullable<SqlUuid>, _>(scope.wallet_id)
    .bind::<Date, _>(previous_from)
    .get_result(conn)?;
    Ok((
        both.now,
        Totals {
            income: both.before_income,
            expense: both.before_expense,
            transfer_volume: both.before_transfer_volume,
            transaction_count: both.before_transaction_count,
            expense_count: both.before_expense_count,
        },
    ))
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Expense {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Date)]
    pub date: NaiveDate,
}

/// The scope's largest expense (the latest of equals).
// EXPLAIN (ANALYZE, BUFFERS), a year of a user with 1 M transactions, Execution Time: 0.3 ms:
//   Index Scan using transactions_user_expense_amount_idx on transactions t
//     (actual time=0.046..0.215 rows=26 loops=1)
pub fn largest_expense(conn: &mut PgConnection, scope: &Scope) -> QueryResult<Option<Expense>> {
    scoped_query!(
        "SELECT t.id, t.amount, t.description, t.date FROM transactions t \
         WHERE t.ledger_id = $1 AND t.type = 'expense' AND t.currency = $2 \
           AND t.date BETWEEN $3 AND $4 AND ($5::uuid IS NULL OR t.wallet_id = $5) \
         ORDER BY t.amount DESC, t.date DESC, t.id LIMIT 1",
        scope
    )
    .get_result(conn)
    .optional()
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CategoryAmount {
    #[diesel(sql_type = SqlUuid)]
    pub category_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = BigInt)]
    pub transaction_count: i64,
}

/// Expense by category, largest first; `top` rolls sub-categories into their root. A split
/// transaction counts once in each category it is split into, and once in a root however many
/// of its sub-categories it is split into (the period's splits correct the rolled-up counts).
// EXPLAIN (ANALYZE, BUFFERS), `top`, a year of a user with 1 M transactions, Execution Time:
// 42 ms (1,724 ms for `leaf` over the transactions themselves):
//   Seq Scan on daily_category_flows l (actual time=4.558..13.067 rows=33945 loops=1)
//   Seq Scan on transaction_splits s (actual time=0.221..2.816 rows=4962 loops=1)
pub fn spending_by_category(
    conn: &mut PgConnection,
    scope: &Scope,
    top: bool,
) -> QueryResult<Vec<CategoryAmount>> {
    let group = if top { "r.root_id" } else { "l.category_id" };
    // A transaction split over k sub-categories of one root is k lines there: k - 1 too many.
    let overcount = if top {
        "SELECT root_id, sum(extra) AS extra FROM ( \
             SELECT r.root_id, count(DISTINCT s.category_id) - 1 AS extra \
             FROM transaction_splits s JOIN roots r ON r.id = s.category_id \
             WHERE s.ledger_id = $1 AND s.type = 'expense' AND s.currency = $2 \
               AND s.day BETWEEN $3 AND $4 AND ($5::uuid IS NULL OR s.wallet_id = $5) \
             GROUP BY s.transaction_id, r.root_id) o GROUP BY root_id"
    } else {
        "SELECT NULL::uuid AS root_id, 0 AS extra"
    };
    scoped_query!(
        format!(
            "WITH RECURSIVE roots(id, root_id) AS ( \
                 SELECT id, id FROM categories WHERE ledger_id = $1 AND parent_id IS NULL \
                 UNION ALL \
                 SELECT c.id, roots.root_id FROM categories c JOIN roots ON c.parent_id = roots.id \
                 WHERE c.ledger_id = $1), \
             {SCOPED}, \
             sums AS (SELECT {group} AS category_id, sum(l.amount) AS amount, \
                             sum(l.transactions) AS transactions \
                      FROM lines l JOIN roots r ON r.id = l.category_id \
                      GROUP BY {group} HAVING sum(l.transactions) > 0), \
             overcount AS ({overcount}) \
             SELECT s.category_id, c.name, s.amount, \
                    (s.transactions - COALESCE(o.extra, 0))::bigint AS transaction_count \
             FROM sums s JOIN categories c ON c.ledger_id = $1 AND c.id = s.category_id \
             LEFT JOIN overcount o ON o.root_id = s.category_id \
             ORDER BY s.amount DESC, c.name, s.category_id"
        ),
        scope
    )
    .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Bucket {
    #[diesel(sql_type = Date)]
    pub period_start: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub income: Decimal,
    #[diesel(sql_type = Numeric)]
    pub expense: Decimal,
}

/// Income and expense per day, week (ISO, from Monday) or month, every bucket present; the
/// first bucket starts at `from` (as in cash flow), not before it.
// EXPLAIN (ANALYZE, BUFFERS), a year by month of a user with 1 M transactions, Execution Time:
// 2.1 ms:
//   Seq Scan on daily_flows f (actual time=0.010..1.433 rows=2190 loops=1)
pub fn trend(
    conn: &mut PgConnection,
    scope: &Scope,
    granularity: &str,
) -> QueryResult<Vec<Bucket>> {
    scoped_query!(
        format!(
            "WITH {SCOPED}, \
             buckets AS (SELECT s::date AS bucket, greatest(s::date, $3::date) AS period_start \
                         FROM generate_series(date_trunc('{granularity}', $3::date), $4::date, \
                                              interval '1 {granularity}') s), \
             sums AS (SELECT date_trunc('{granularity}', f.day)::date AS bucket, \
                             sum(f.amount) FILTER (WHERE f.type = 'income') AS income, \
                             sum(f.amount) FILTER (WHERE f.type = 'expense') AS expense \
                      FROM flows f GROUP BY 1) \
             SELECT b.period_start, COALESCE(s.income, 0) AS income, \
                    COALESCE(s.expense, 0) AS expense \
             FROM buckets b LEFT JOIN sums s ON s.bucket = b.bucket ORDER BY b.bucket"
        ),
        scope
    )
    .load(conn)
}

/// Expense per day, every day present.
pub fn daily_expense(conn: &mut PgConnection, scope: &Scope) -> QueryResult<Vec<Bucket>> {
    trend(conn, scope, "day")
}

#[derive(Debug, Clone, QueryableByName)]
pub struct WalletFlow {
    #[diesel(sql_type = SqlUuid)]
    pub wallet_id: Uuid,
    #[diesel(sql_type = Text)]
    pub wallet_name: String,
    #[diesel(sql_type = Date)]
    pub period_start: NaiveDate,
    #[diesel(sql_type = Date)]
    pub period_end: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub opening: Decimal,
    #[diesel(sql_type = Numeric)]
    pub inflow: Decimal,
    #[diesel(sql_type = Numeric)]
    pub outflow: Decimal,
}

/// Per wallet and bucket: balance at the start, money in (income, transfers in), money out
/// (expenses, transfers out).
// EXPLAIN (ANALYZE, BUFFERS), a year by month, 4 wallets, a user with 1 M transactions over two
// years, Execution Time: 11.5 ms:
//   Seq Scan on daily_flows f (actual time=0.005..1.566 rows=4380 loops=1)
pub fn cash_flow(
    conn: &mut PgConnection,
    scope: &Scope,
    granularity: &str,
) -> QueryResult<Vec<WalletFlow>> {
    scoped_query!(
        format!(
            "WITH w AS (SELECT id, name, opening_balance FROM wallets \
                        WHERE ledger_id = $1 AND currency = $2 AND ($5::uuid IS NULL OR id = $5)), \
             moves AS ( \
                 SELECT f.wallet_id, f.day, \
                        CASE WHEN f.type = 'income' THEN f.amount ELSE 0 END AS inflow, \
                        CASE WHEN f.type <> 'income' THEN f.amount ELSE 0 END AS outflow \
                 FROM daily_flows f WHERE f.ledger_id = $1 AND f.day <= $4 \
                 UNION ALL \
                 SELECT f.to_wallet_id, f.day, f.amount, 0 FROM daily_flows f \
                 WHERE f.ledger_id = $1 AND f.to_wallet_id IS NOT NULL AND f.day <= $4), \
             buckets AS ( \
                 SELECT s::date AS bucket, greatest(s::date, $3::date) AS period_start, \
                        least((s + interval '1 {granularity}' - interval '1 day')::date, $4::date) AS period_end \
                 FROM generate_series(date_trunc('{granularity}', $3::date), $4::date, interval '1 {granularity}') s), \
             earlier AS (SELECT m.wallet_id, sum(m.inflow - m.outflow) AS net FROM moves m \
                         WHERE m.day < $3 GROUP BY m.wallet_id), \
             inside AS (SELECT m.wallet_id, date_trunc('{granularity}', m.day)::date AS bucket, \
                               sum(m.inflow) AS inflow, sum(m.outflow) AS outflow \
                        FROM moves m WHERE m.day >= $3 GROUP BY 1, 2) \
             SELECT w.id AS wallet_id, w.name AS wallet_name, b.period_start, b.period_end, \
                    w.opening_balance + COALESCE(e.net, 0) \
                      + COALESCE(sum(i.inflow - i.outflow) OVER (PARTITION BY w.id ORDER BY b.bucket \
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS opening, \
                    COALESCE(i.inflow, 0) AS inflow, COALESCE(i.outflow, 0) AS outflow \
             FROM w CROSS JOIN buckets b \
             LEFT JOIN earlier e ON e.wallet_id = w.id \
             LEFT JOIN inside i ON i.wallet_id = w.id AND i.bucket = b.bucket \
             ORDER BY w.name, w.id, b.period_start"
        ),
        scope
    )
    .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct ExpenseStats {
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = Numeric)]
    pub total: Decimal,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub mean: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub median: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub max: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub min: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub std_dev: Option<Decimal>,
}

/// Statistics of the expense amounts (one per transaction), exact: the median is the middle
/// value or the mean of the two middle values. Count, total, mean and standard deviation come
/// from the daily rollup (which keeps the sum of squares); the median, maximum and minimum walk
/// the expenses' amount index.
// EXPLAIN (ANALYZE, BUFFERS), a year of a user with 1 M transactions, Execution Time: 73–116 ms
// (980 ms sorting the year's expenses): the median's walk is most of it:
//   Index Only Scan using transactions_user_expense_amount_idx on transactions t
//     (actual time=0.178..96.662 rows=224979 loops=1)
pub fn expense_stats(conn: &mut PgConnection, scope: &Scope) -> QueryResult<ExpenseStats> {
    scoped_query!(
        "WITH f AS ( \
             SELECT COALESCE(sum(f.transactions), 0)::bigint AS n, sum(f.amount) AS total, \
                    sum(f.squares) AS squares \
             FROM daily_flows f \
             WHERE f.ledger_id = $1 AND f.currency = $2 AND f.type = 'expense' \
               AND f.day BETWEEN $3 AND $4 AND ($5::uuid IS NULL OR f.wallet_id = $5)), \
         e AS NOT MATERIALIZED ( \
             SELECT t.amount FROM transactions t \
             WHERE t.ledger_id = $1 AND t.type = 'expense' AND t.currency = $2 \
               AND t.date BETWEEN $3 AND $4 AND ($5::uuid IS NULL OR t.wallet_id = $5)) \
         SELECT f.n AS count, COALESCE(f.total, 0) AS total, \
                CASE WHEN f.n > 0 THEN round(f.total / f.n, 4) END AS mean, \
                (SELECT round(avg(amount), 4) FROM (SELECT amount FROM e ORDER BY amount DESC \
                    LIMIT 2 - (SELECT n FROM f) % 2 OFFSET greatest(((SELECT n FROM f) - 1) / 2, 0)) mid) \
                    AS median, \
                (SELECT max(amount) FROM e) AS max, (SELECT min(amount) FROM e) AS min, \
                CASE WHEN f.n = 0 THEN NULL WHEN f.n = 1 THEN 0 \
                     ELSE round(sqrt(greatest((f.squares - f.total * f.total / f.n) / (f.n - 1), 0)), 4) \
                END AS std_dev \
         FROM f",
        scope
    )
    .get_result(conn)
}

/// A member's income and expense in the scope (transfers apart), by who recorded them.
#[derive(Debug, Clone, QueryableByName)]
pub struct MemberAmount {
    /// `None`: recorded by FinAI itself, or by an account that is gone (`automatic` tells).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Bool)]
    pub automatic: bool,
    #[diesel(sql_type = Numeric)]
    pub income: Decimal,
    #[diesel(sql_type = Numeric)]
    pub expense: Decimal,
    #[diesel(sql_type = BigInt)]
    pub transaction_count: i64,
}

/// Who spent and earned what ("who spent what" in a household), largest spender first.
pub fn by_member(conn: &mut PgConnection, scope: &Scope) -> QueryResult<Vec<MemberAmount>> {
    scoped_query!(
        "SELECT t.created_by AS user_id, u.name, t.automatic, \
                COALESCE(sum(t.amount) FILTER (WHERE t.type = 'income'), 0) AS income, \
                COALESCE(sum(t.amount) FILTER (WHERE t.type = 'expense'), 0) AS expense, \
                count(*) AS transaction_count \
         FROM transactions t LEFT JOIN users u ON u.id = t.created_by \
         WHERE t.ledger_id = $1 AND t.currency = $2 AND t.date BETWEEN $3 AND $4 \
           AND t.type <> 'transfer' AND ($5::uuid IS NULL OR t.wallet_id = $5) \
         GROUP BY t.created_by, u.name, t.automatic \
         ORDER BY expense DESC, income DESC, u.name NULLS LAST, t.automatic",
        scope
    )
    .load(conn)
}

/// One month's amount of one category and type.
#[derive(Debug, Clone, QueryableByName)]
pub struct MonthLine {
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub category_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
}

/// Income and expense per month and category over the rollups. Every income and expense has a
/// category or splits that do, so the lines add up to the period's totals.
pub fn monthly_by_category(conn: &mut PgConnection, scope: &Scope) -> QueryResult<Vec<MonthLine>> {
    scoped_query!(
        "SELECT date_trunc('month', l.day)::date AS month, l.type AS kind, l.category_id, \
                c.name, sum(l.amount) AS amount \
         FROM daily_category_flows l JOIN categories c ON c.ledger_id = $1 AND c.id = l.category_id \
         WHERE l.ledger_id = $1 AND l.currency = $2 AND l.day BETWEEN $3 AND $4 \
           AND l.type IN ('income', 'expense') AND ($5::uuid IS NULL OR l.wallet_id = $5) \
         GROUP BY 1, 2, 3, 4 HAVING sum(l.amount) <> 0 \
         ORDER BY 1, 2, 4",
        scope
    )
    .load(conn)
}

/// Income or expense of one tax rate in the scope.
#[derive(Debug, Clone, QueryableByName)]
pub struct RateLine {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Numeric)]
    pub rate: Decimal,
    #[diesel(sql_type = Numeric)]
    pub gross: Decimal,
    #[diesel(sql_type = BigInt)]
    pub transaction_count: i64,
}

/// Income and expense carrying a tax rate, per type and rate.
pub fn by_tax_rate(conn: &mut PgConnection, scope: &Scope) -> QueryResult<Vec<RateLine>> {
    scoped_query!(
        "SELECT t.type AS kind, t.tax_rate AS rate, sum(t.amount) AS gross, \
                count(*) AS transaction_count \
         FROM transactions t \
         WHERE t.ledger_id = $1 AND t.currency = $2 AND t.date BETWEEN $3 AND $4 \
           AND ($5::uuid IS NULL OR t.wallet_id = $5) AND t.tax_rate IS NOT NULL \
         GROUP BY 1, 2 ORDER BY 1 DESC, 2",
        scope
    )
    .load(conn)
}

/// Deductible expenses per category (a split purchase in its splits' categories).
pub fn deductible_by_category(
    conn: &mut PgConnection,
    scope: &Scope,
) -> QueryResult<Vec<CategoryAmount>> {
    scoped_query!(
        "WITH deductible AS ( \
             SELECT t.id, t.category_id, t.amount FROM transactions t \
             WHERE t.ledger_id = $1 AND t.currency = $2 AND t.date BETWEEN $3 AND $4 \
               AND ($5::uuid IS NULL OR t.wallet_id = $5) \
               AND t.type = 'expense' AND t.tax_deductible), \
         lines AS ( \
             SELECT d.id, d.category_id, d.amount FROM deductible d WHERE d.category_id IS NOT NULL \
             UNION ALL \
             SELECT d.id, s.category_id, s.amount FROM deductible d \
             JOIN transaction_splits s ON s.ledger_id = $1 AND s.transaction_id = d.id \
             WHERE d.category_id IS NULL) \
         SELECT c.id AS category_id, c.name, sum(l.amount) AS amount, \
                count(DISTINCT l.id) AS transaction_count \
         FROM lines l JOIN categories c ON c.ledger_id = $1 AND c.id = l.category_id \
         GROUP BY c.id, c.name ORDER BY amount DESC, c.name",
        scope
    )
    .load(conn)
}
