//! `finai seed-bench`: a large data set for the load benchmark (`bench/run.sh`).
//!
//! Users are registered as the API registers them (same password hashing, default categories),
//! each with four wallets, `transactions_per_user` transactions over the two years before
//! `today` (mostly expenses across the expense categories, some income, some transfers between
//! the user's wallets, a few split purchases) and `budgets_per_user` budgets. Transactions are
//! generated inside PostgreSQL with one `INSERT ... SELECT generate_series` per user, so a
//! million rows never cross the wire; every row is a valid ledger row, so derived balances and
//! reports are consistent. Deterministic: the same options and date give the same data.

use std::time::Instant;

use chrono::{Datelike, Months, NaiveDate};
use diesel::sql_types::{Array, BigInt, Date, Text, Uuid as SqlUuid};
use diesel::{Connection, PgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::budgets::{self, BudgetFields};
use crate::db::categories;
use crate::db::users::{self, NewUser};
use crate::db::wallets::{self, NewWallet};
use crate::domain::email::Email;
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub users: u32,
    pub transactions_per_user: u32,
    pub budgets_per_user: u32,
    /// Accounts are `{prefix}1@example.com`, `{prefix}2@example.com`, ...
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct BenchSummary {
    pub emails: Vec<String>,
    pub transactions: u64,
    pub budgets: u64,
    pub seconds: f64,
}

/// The email of the `n`th (from 1) benchmark account.
pub fn email(prefix: &str, n: u32) -> String {
    format!("{prefix}{n}@example.com")
}

/// Descriptions and merchants of generated expenses, picked by a hash of the row number.
const EXPENSES: [(&str, &str); 12] = [
    ("Weekly groceries", "FreshMart"),
    ("Coffee", "Bean There"),
    ("Dinner out", "Trattoria Roma"),
    ("Lunch", "Pho 24"),
    ("Bus fare", "Metro"),
    ("Fuel", "Shell"),
    ("Online order", "ShopNow"),
    ("Pharmacy", "HealthPlus"),
    ("Cinema", "Starlight"),
    ("Electricity bill", "PowerCo"),
    ("Phone plan", "FiberNet"),
    ("Books", "Page Turner"),
];

/// Creates the accounts one by one (each in its own transaction), then refreshes the planner's
/// statistics and the visibility map so the first queries see a settled table. Refuses to touch
/// an existing account.
pub fn seed(
    conn: &mut PgConnection,
    options: &BenchOptions,
    password_hash: &str,
    today: NaiveDate,
) -> Result<BenchSummary, ApiError> {
    let started = Instant::now();
    let mut summary = BenchSummary {
        emails: Vec::new(),
        transactions: 0,
        budgets: 0,
        seconds: 0.0,
    };
    for n in 1..=options.users {
        let address = email(&options.prefix, n);
        let (transactions, budgets) = conn.transaction::<_, ApiError, _>(|conn| {
            seed_user(conn, &address, n, options, password_hash, today)
        })?;
        summary.transactions += transactions;
        summary.budgets += budgets;
        summary.emails.push(address);
    }
    // VACUUM cannot run inside a transaction block; this connection is outside one here.
    diesel::sql_query(
        "VACUUM (ANALYZE) users, wallets, categories, transactions, transaction_splits, \
         budgets, budget_categories",
    )
    .execute(conn)?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn seed_user(
    conn: &mut PgConnection,
    address: &str,
    n: u32,
    options: &BenchOptions,
    password_hash: &str,
    today: NaiveDate,
) -> Result<(u64, u64), ApiError> {
    let email = Email::parse(address).map_err(|m| ApiError::invalid_field("email", m))?;
    if users::find_by_email(conn, &email.key())?.is_some() {
        return Err(ApiError::Conflict {
            code: "email_taken",
            message: format!("{email} already exists; use a fresh database or another --prefix"),
        });
    }
    let user = users::insert(
        conn,
        &NewUser {
            email: email.as_str(),
            name: &format!("Bench User {n}"),
            password_hash,
            role: "user",
            email_verified_at: Some(chrono::Utc::now()),
        },
    )?;
    categories::insert_defaults(conn, user.id)?;
    let mut all = categories::all(conn, user.id)?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let expense: Vec<Uuid> = all
        .iter()
        .filter(|c| c.kind == "expense")
        .map(|c| c.id)
        .collect();
    let income: Vec<Uuid> = all
        .iter()
        .filter(|c| c.kind == "income")
        .map(|c| c.id)
        .collect();
    if expense.len() < 3 || income.is_empty() {
        return Err(ApiError::internal("default categories missing"));
    }
    let mut wallet = |name: &str, kind: &str, opening: i64| -> Result<Uuid, ApiError> {
        Ok(wallets::insert(
            conn,
            &NewWallet {
                ledger_id: user.id,
                name,
                wallet_type: kind,
                currency: "USD",
                opening_balance: Decimal::new(opening, 0),
                archived: false,
            },
        )?
        .id)
    };
    // Cash, checking and card pay for expenses; income lands in checking; transfers go
    // between checking and savings.
    let wallet_ids = vec![
        wallet("Cash", "cash", 500)?,
        wallet("Checking", "bank", 5000)?,
        wallet("Credit card", "credit_card", 0)?,
        wallet("Savings", "savings", 10000)?,
    ];
    let first_day = today.checked_sub_months(Months::new(24)).unwrap_or(today);
    let days = (today - first_day).num_days().max(1);
    let bulk = is_superuser(conn)?;
    if bulk {
        // A bulk load, as pg_restore does it: row triggers and foreign-key checks off for this
        // transaction (the generated rows only point at the wallets and categories above), and
        // what the triggers would do done here in bulk: the change numbers are taken in the
        // INSERT under the user's sync lock, the counter and the daily rollups are recomputed
        // below, the splits copy their transaction's fields themselves. It halves the time
        // a million rows take.
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('finai-sync:' || $1::text, 0))",
        )
        .bind::<SqlUuid, _>(user.id)
        .execute(conn)?;
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
    }
    let transactions = insert_transactions(
        conn,
        user.id,
        n,
        options.transactions_per_user,
        today,
        days,
        &expense,
        &income,
        &wallet_ids,
    )?;
    if bulk {
        diesel::sql_query("SET LOCAL session_replication_role = origin").execute(conn)?;
    }
    // Exact whichever way the rows went in.
    diesel::sql_query(
        "INSERT INTO transaction_counts (ledger_id, type, n) \
         SELECT ledger_id, type, count(*) FROM transactions WHERE ledger_id = $1 GROUP BY ledger_id, type \
         ON CONFLICT (ledger_id, type) DO UPDATE SET n = EXCLUDED.n",
    )
    .bind::<SqlUuid, _>(user.id)
    .execute(conn)?;
    crate::db::rollups::rebuild(conn, user.id)?;
    let budgets = insert_budgets(conn, user.id, options.budgets_per_user, &all, today)?;
    Ok((transactions, budgets))
}

/// One statement for all of a user's transactions, and one for the shares of the split ones.
/// Ids are time-ordered (UUIDv7 layout: the row's time, then hash bits), so the two id indexes
/// fill from one end instead of at random places.
/// Row `g` (1 = newest) is dated `today - (g - 1) * days / count`, so rows spread evenly over
/// the period; a hash of `g` decides type (90 % expense, 6 % income, 4 % transfer), amount,
/// category, wallet and description. Half a percent of expenses are split over two
/// categories, two thirds and one third.
#[allow(clippy::too_many_arguments)]
fn insert_transactions(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    seed: u32,
    count: u32,
    today: NaiveDate,
    days: i64,
    expense: &[Uuid],
    income: &[Uuid],
    wallet_ids: &[Uuid],
) -> Result<u64, ApiError> {
    let descriptions: Vec<String> = EXPENSES.iter().map(|(d, _)| (*d).to_owned()).collect();
    let merchants: Vec<String> = EXPENSES.iter().map(|(_, m)| (*m).to_owned()).collect();
    let inserted = diesel::sql_query(
        "WITH g AS ( \
             SELECT g, (hashint8(g * 7919 + $2) & 2147483647) AS h, md5($1::text || ':' || g) AS m \
             FROM generate_series(1, $3::bigint) g), \
         r AS ( \
             SELECT g, h, m, \
                    CASE WHEN h % 100 < 6 THEN 'income' WHEN h % 100 < 10 THEN 'transfer' \
                         ELSE 'expense' END AS kind, \
                    $4::date - ((g - 1) * $5::bigint / $3::bigint)::integer AS day \
             FROM g) \
         INSERT INTO transactions (id, change_seq, ledger_id, type, amount, currency, date, \
                                   description, merchant, category_id, wallet_id, to_wallet_id, \
                                   created_at, updated_at) \
         SELECT (lpad(to_hex((extract(epoch FROM day) * 1000)::bigint + (h % 86400) * 1000), 12, '0') \
                 || '7' || substr(m, 1, 3) || '8' || substr(m, 4, 15))::uuid, \
                nextval('finai_change_seq'), $1, kind, \
                CASE kind WHEN 'income' THEN ((h / 100) % 300000 + 50000) / 100.0 \
                          WHEN 'transfer' THEN ((h / 100) % 50000 + 1000) / 100.0 \
                          ELSE ((h / 100) % 15000 + 100) / 100.0 END, \
                'USD', day, \
                CASE kind WHEN 'income' THEN 'Salary and other income' \
                          WHEN 'transfer' THEN 'Move to savings' \
                          ELSE ($9::text[])[1 + (h / 7) % cardinality($9::text[])] END, \
                CASE kind WHEN 'expense' \
                          THEN ($10::text[])[1 + (h / 7) % cardinality($10::text[])] END, \
                CASE WHEN kind = 'income' \
                          THEN ($7::uuid[])[1 + (h / 10000) % cardinality($7::uuid[])] \
                     WHEN kind = 'expense' AND h % 1000 < 995 \
                          THEN ($6::uuid[])[1 + (h / 10000) % cardinality($6::uuid[])] END, \
                CASE kind WHEN 'expense' THEN ($8::uuid[])[1 + (h / 1000) % 3] \
                          WHEN 'transfer' THEN ($8::uuid[])[CASE WHEN h % 7 = 0 THEN 4 ELSE 2 END] \
                          ELSE ($8::uuid[])[2] END, \
                CASE kind WHEN 'transfer' \
                          THEN ($8::uuid[])[CASE WHEN h % 7 = 0 THEN 2 ELSE 4 END] END, \
                day + make_interval(secs => h % 86400), day + make_interval(secs => h % 86400) \
         FROM r",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<BigInt, _>(i64::from(seed))
    .bind::<BigInt, _>(i64::from(count))
    .bind::<Date, _>(today)
    .bind::<BigInt, _>(days)
    .bind::<Array<SqlUuid>, _>(expense)
    .bind::<Array<SqlUuid>, _>(income)
    .bind::<Array<SqlUuid>, _>(wallet_ids)
    .bind::<Array<Text>, _>(descriptions)
    .bind::<Array<Text>, _>(merchants)
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO transaction_splits (ledger_id, transaction_id, category_id, amount, note, position, \
                                         day, wallet_id, currency, type) \
         SELECT t.ledger_id, t.id, \
                ($2::uuid[])[1 + (abs(hashtext(t.id::text)) + s.position) % cardinality($2::uuid[])], \
                CASE s.position WHEN 0 THEN t.amount - round(t.amount / 3, 2) \
                                ELSE round(t.amount / 3, 2) END, \
                NULL, s.position, t.date, t.wallet_id, t.currency, t.type \
         FROM transactions t CROSS JOIN (VALUES (0), (1)) AS s(position) \
         WHERE t.ledger_id = $1 AND t.type = 'expense' AND t.category_id IS NULL",
    )
    .bind::<SqlUuid, _>(ledger_id)
    .bind::<Array<SqlUuid>, _>(expense)
    .execute(conn)?;
    Ok(inserted as u64)
}

/// Budgets over one to three expense categories each: mostly monthly, some weekly and yearly,
/// anchored on the first of a month two years back.
fn insert_budgets(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    count: u32,
    all: &[categories::Category],
    today: NaiveDate,
) -> Result<u64, ApiError> {
    let expense: Vec<&categories::Category> = all.iter().filter(|c| c.kind == "expense").collect();
    let start = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(24)))
        .unwrap_or(today);
    for k in 0..count as usize {
        let picked: Vec<&categories::Category> = (0..1 + k % 3)
            .map(|j| expense[(k * 7 + j * 3) % expense.len()])
            .collect();
        let mut ids: Vec<Uuid> = picked.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        let names: Vec<&str> = picked.iter().map(|c| c.name.as_str()).collect();
        let period = match k % 10 {
            0 => "weekly",
            1 => "yearly",
            _ => "monthly",
        };
        budgets::insert(
            conn,
            ledger_id,
            &BudgetFields {
                name: format!("{} {}", k + 1, names.join(" + ")),
                amount: Decimal::new(200 + (k as i64 * 137) % 1800, 0),
                currency: "USD".into(),
                period: period.into(),
                start_date: start,
                end_date: None,
                alert_threshold: Decimal::new(80, 0),
                rollover: k % 5 == 0,
            },
            &ids,
        )?;
    }
    Ok(u64::from(count))
}

/// Whether this connection may turn triggers off for a bulk load (the private cluster's role
/// can; a managed database's application role usually cannot, and then the triggers run).
fn is_superuser(conn: &mut PgConnection) -> Result<bool, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Role {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        rolsuper: bool,
    }
    let role: Role =
        diesel::sql_query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .get_result(conn)?;
    Ok(role.rolsuper)
}
