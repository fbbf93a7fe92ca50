//! `finai seed-demo`: a demo account with a year of realistic money life (wallets, salary,
//! rent, groceries, cafes, transport, a few splits and transfers, budgets, bills, a recurring
//! subscription), so Swagger UI and Postman have something real to show at once.
//!
//! Deterministic: the same date gives the same data. Refuses to touch an existing account.

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::bills::{self, BillFields};
use crate::db::budgets::{self, BudgetFields};
use crate::db::categories;
use crate::db::recurring::{self, RecurringFields};
use crate::db::transactions::{self, NewTransaction, Split};
use crate::db::users::{self, NewUser};
use crate::db::wallets::{self, NewWallet};
use crate::domain::email::Email;
use crate::error::ApiError;

/// A tiny deterministic generator (xorshift), so demo data is the same on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// An amount between `low` and `high` (whole units), with cents.
    fn amount(&mut self, low: i64, high: i64) -> Decimal {
        let cents = low * 100 + (self.next() % ((high - low) as u64 * 100 + 1)) as i64;
        Decimal::new(cents, 2)
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

pub struct DemoSummary {
    pub ledger_id: Uuid,
    pub transactions: usize,
}

/// Creates the demo account `email` with `password_hash`, ending its history on `today`.
pub fn seed(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
    today: NaiveDate,
) -> Result<DemoSummary, ApiError> {
    let email = Email::parse(email).map_err(|m| ApiError::invalid_field("email", m))?;
    conn.transaction::<_, ApiError, _>(|conn| {
        if users::find_by_email(conn, &email.key())?.is_some() {
            return Err(ApiError::Conflict {
                code: "email_taken",
                message: format!("{email} already exists; pick another --email"),
            });
        }
        let user = users::insert(
            conn,
            &NewUser {
                email: email.as_str(),
                name: "Demo User",
                password_hash,
                role: "user",
                email_verified_at: Some(chrono::Utc::now()),
            },
        )?;
        categories::insert_defaults(conn, user.id)?;
        let category = |conn: &mut PgConnection, name: &str| -> Result<Uuid, ApiError> {
            categories::all(conn, user.id)?
                .into_iter()
                .find(|c| c.name == name)
                .map(|c| c.id)
                .ok_or_else(|| ApiError::internal(format!("default category {name} missing")))
        };
        let wallet = |conn: &mut PgConnection, name: &str, kind: &str, opening: i64| -> Result<Uuid, ApiError> {
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
        let cash = wallet(conn, "Cash", "cash", 200)?;
        let bank = wallet(conn, "Checking", "bank", 2500)?;
        let card = wallet(conn, "Credit card", "credit_card", 0)?;
        let savings = wallet(conn, "Savings", "savings", 5000)?;
        let ids = |conn: &mut PgConnection, names: &[&str]| -> Result<Vec<Uuid>, ApiError> {
            names.iter().map(|n| category(conn, n)).collect()
        };
        let [salary, rent, groceries, restaurants, cafe, fuel, transit, electricity, internet, subscriptions, clothing, pharmacy]: [Uuid; 12] = ids(
            conn,
            &["Salary", "Rent & Mortgage", "Groceries", "Restaurants", "Cafe", "Fuel", "Public Transit", "Electricity", "Internet & Phone", "Subscriptions", "Clothing", "Pharmacy"],
        )?
        .try_into()
        .map_err(|_| ApiError::internal("default categories missing"))?;

        let mut dice = Dice(0x5eed_f1a1_u64 ^ u64::from(today.num_days_from_ce() as u32));
        let mut rows: Vec<(NewTransaction, Vec<Split>)> = Vec::new();
        let mut add = |date: NaiveDate, kind: &str, amount: Decimal, category: Option<Uuid>, wallet: Uuid, to: Option<Uuid>, description: &str, merchant: Option<&str>, splits: Vec<Split>| {
            rows.push((
                NewTransaction {
                    ledger_id: user.id,
                    transaction_type: kind.into(),
                    amount,
                    currency: "USD".into(),
                    date,
                    description: description.into(),
                    merchant: merchant.map(str::to_owned),
                    notes: None,
                    category_id: category,
                    wallet_id: wallet,
                    to_wallet_id: to,
                    tags: Vec::new(),
                    import_hash: None,
                    status: None,
                    import_batch_id: None,
                    external_id: None,
                    category_source: "user".into(),
                    category_confidence: None,
                    is_unusual: false,
                    unusual_reason: None,
                    created_by: Some(user.id),
                    updated_by: Some(user.id),
                    tax_rate: None,
                    tax_deductible: false,
                    automatic: false,
                },
                splits,
            ));
        };
        let start = today.checked_sub_months(Months::new(12)).unwrap_or(today);
        let mut day = start;
        while day <= today {
            if day.day() == 1 {
                add(day, "income", Decimal::new(4200, 0), Some(salary), bank, None, "Monthly salary", Some("ACME Corp"), vec![]);
                add(day, "expense", Decimal::new(1450, 0), Some(rent), bank, None, "Rent", Some("City Flats"), vec![]);
                add(day, "transfer", Decimal::new(300, 0), None, bank, Some(savings), "Monthly saving", None, vec![]);
            }
            if day.day() == 5 {
                add(day, "expense", dice.amount(45, 95), Some(electricity), bank, None, "Electricity bill", Some("PowerCo"), vec![]);
                add(day, "expense", Decimal::new(5999, 2), Some(internet), bank, None, "Internet", Some("FiberNet"), vec![]);
            }
            if day.day() == 12 {
                add(day, "expense", Decimal::new(1599, 2), Some(subscriptions), card, None, "Streaming", Some("StreamFlix"), vec![]);
            }
            if day.weekday().num_days_from_monday() == 5 {
                let shop = dice.pick(&["FreshMart", "Green Grocer", "BigBasket"]);
                add(day, "expense", dice.amount(55, 140), Some(groceries), card, None, "Weekly groceries", Some(shop), vec![]);
            }
            if dice.next() % 10 < 4 {
                let place = dice.pick(&["Bean There", "Cafe Luna", "Morning Brew"]);
                add(day, "expense", dice.amount(3, 7), Some(cafe), cash, None, "Coffee", Some(place), vec![]);
            }
            if dice.next() % 10 < 2 {
                let place = dice.pick(&["Pho 24", "Trattoria Roma", "Sushi Bar", "Taco Town"]);
                add(day, "expense", dice.amount(18, 70), Some(restaurants), card, None, "Dinner out", Some(place), vec![]);
            }
            if dice.next() % 10 < 3 {
                add(day, "expense", Decimal::new(275, 2), Some(transit), cash, None, "Bus fare", Some("Metro"), vec![]);
            }
            if day.day() % 10 == 3 {
                add(day, "expense", dice.amount(35, 60), Some(fuel), card, None, "Fuel", Some("Shell"), vec![]);
            }
            if day.day() == 20 && day.month().is_multiple_of(3) {
                let total = dice.amount(60, 160);
                let part = (total / Decimal::new(3, 0)).round_dp(2);
                add(day, "expense", total, None, card, None, "Department store", Some("MegaStore"), vec![
                    Split { category_id: clothing, amount: total - part, note: Some("Jacket".into()) },
                    Split { category_id: pharmacy, amount: part, note: Some("Vitamins".into()) },
                ]);
            }
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        let count = rows.len();
        for (row, splits) in &rows {
            transactions::insert(conn, row, splits)?;
        }

        let month_start = today.with_day(1).unwrap_or(today);
        for (name, amount, cats) in [
            ("Food & drinks", 700, vec![groceries, restaurants, cafe]),
            ("Getting around", 200, vec![fuel, transit]),
        ] {
            budgets::insert(
                conn,
                user.id,
                &BudgetFields {
                    name: name.into(),
                    amount: Decimal::new(amount, 0),
                    currency: "USD".into(),
                    period: "monthly".into(),
                    start_date: month_start.checked_sub_months(Months::new(11)).unwrap_or(month_start),
                    end_date: None,
                    alert_threshold: Decimal::new(80, 0),
                    rollover: false,
                },
                &cats,
            )?;
        }
        let next_month = |day: u32| {
            month_start
                .checked_add_months(Months::new(1))
                .and_then(|m| m.with_day(day))
                .unwrap_or(today)
        };
        for (name, amount, cat, due) in [("Rent", 1450, rent, next_month(1)), ("Internet", 60, internet, next_month(5))] {
            bills::insert(
                conn,
                user.id,
                &BillFields {
                    name: name.into(),
                    amount: Decimal::new(amount, 0),
                    currency: "USD".into(),
                    category_id: cat,
                    wallet_id: bank,
                    frequency: "monthly".into(),
                    next_due_date: due,
                    due_day: due.day() as i16,
                    reminder_days_before: 3,
                    notes: None,
                    autopay: false,
                },
            )?;
        }
        let gym = next_month(15);
        recurring::insert(
            conn,
            user.id,
            &RecurringFields {
                transaction_type: "expense".into(),
                amount: Decimal::new(35, 0),
                currency: "USD".into(),
                description: "Gym membership".into(),
                merchant: Some("FitClub".into()),
                notes: None,
                category_id: Some(subscriptions),
                wallet_id: card,
                to_wallet_id: None,
                tags: Vec::new(),
                frequency: "monthly".into(),
                next_date: gym,
                end_date: None,
                anchor_day: gym.day() as i16,
                active: true,
            },
        )?;
        Ok(DemoSummary {
            ledger_id: user.id,
            transactions: count,
        })
    })
}
