//! The predictions module at work for one user: loading their data, training, storing and
//! reloading their models, and the checks that run when a transaction is written. Blocking
//! (diesel and CPU): callers run it through `db::run`, off the async executor.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use chrono::{Datelike, Days, Months, NaiveDate, Utc};
use diesel::PgConnection;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::cache::LedgerCache;
use crate::db::ml::{self as store, CategoryRow, StoredModel};
use crate::db::notifications;
use crate::domain::money::{clamp_amount, max_amount};
use crate::error::ApiError;
use crate::ml::anomaly;
use crate::ml::categorizer::{self, Categorizer, Example, LEXICON};
use crate::ml::forecast::{self, Confidence, Forecast, Method, Series, SeriesModel};
use crate::ml::insights::money;

/// Most recent categorised transactions a categoriser learns from.
const CATEGORIZER_ROWS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Week,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Week => "week",
        }
    }

    fn season(self) -> usize {
        match self {
            Period::Month => 12,
            Period::Week => 52,
        }
    }

    /// The start of the period containing `date` (weeks start on Monday).
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Month => date.with_day(1).unwrap_or(date),
            Period::Week => date
                .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
                .unwrap_or(date),
        }
    }

    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Month => start.checked_add_months(Months::new(1)),
            Period::Week => start.checked_add_days(Days::new(7)),
        }
        .unwrap_or(NaiveDate::MAX)
    }

    /// Position in the season: month 0–11, or ISO week 0–51.
    fn season_position(self, start: NaiveDate) -> usize {
        match self {
            Period::Month => start.month0() as usize,
            Period::Week => (start.iso_week().week0() as usize) % 52,
        }
    }
}

/// A suggestion as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suggestion {
    pub category_id: Uuid,
    pub name: String,
    pub probability: f64,
}

/// A categoriser with the categories its labels stand for.
#[derive(Debug, Serialize, Deserialize)]
pub struct UserCategorizer {
    /// Label `i` is category `labels[i]`.
    pub labels: Vec<Uuid>,
    pub model: Categorizer,
    /// `personal` when trained on the user's own transactions, `default` before they have any.
    pub source: String,
}

/// Figures of a categoriser's training, for `POST /predictions/train`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategorizerMetrics {
    pub examples: usize,
    pub categories: usize,
    pub source: String,
    /// Top-1 accuracy on the latest quarter of the examples, trained on the rest (with 20+).
    pub holdout_top1: Option<f64>,
    pub holdout_rows: usize,
    pub training_ms: u64,
}

fn labelled_examples(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    labels: &[Uuid],
) -> Result<Vec<Example>, ApiError> {
    Ok(examples_of(
        store::labelled_rows(conn, ledger_id, CATEGORIZER_ROWS)?,
        labels,
    ))
}

/// Rows as examples; rows of a category the labels do not know are left out.
fn examples_of(rows: Vec<store::LabelledRow>, labels: &[Uuid]) -> Vec<Example> {
    let index: HashMap<Uuid, u32> = labels
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as u32))
        .collect();
    rows.into_iter()
        .filter_map(|row| {
            Some(Example {
                label: *index.get(&row.category_id)?,
                description: row.description,
                merchant: row.merchant,
                amount: row.amount,
            })
        })
        .collect()
}

/// The phrases that describe each category: its name, its parent's name, and the lexicon's
/// merchant words for default category names.
fn background(categories: &[CategoryRow]) -> Vec<(String, u32)> {
    let names: HashMap<Uuid, &str> = categories.iter().map(|c| (c.id, c.name.as_str())).collect();
    let mut out = Vec::new();
    for (label, category) in categories.iter().enumerate() {
        let label = label as u32;
        out.push((category.name.clone(), label));
        if let Some(parent) = category.parent_id.and_then(|p| names.get(&p)) {
            out.push(((*parent).to_owned(), label));
        }
        for (name, words) in LEXICON {
            if name.eq_ignore_ascii_case(&category.name) {
                out.extend(words.iter().map(|w| ((*w).to_owned(), label)));
            }
        }
    }
    out
}

/// Trains the user's categoriser on their categorised transactions and stores it.
pub fn train_categorizer(
    conn: &mut PgConnection,
    ledger_id: Uuid,
) -> Result<(UserCategorizer, CategorizerMetrics), ApiError> {
    let started = Instant::now();
    let version = store::data_version(conn, ledger_id)?;
    let categories = store::categories(conn, ledger_id)?;
    let labels: Vec<Uuid> = categories.iter().map(|c| c.id).collect();
    let examples = labelled_examples(conn, ledger_id, &labels)?;
    let background = background(&categories);
    let (holdout_top1, holdout_rows) = if examples.len() >= 20 {
        let split = examples.len() * 3 / 4;
        let (train, test) = examples.split_at(split);
        let model = Categorizer::train(train, &background);
        let hits = test
            .iter()
            .filter(|e| {
                model
                    .suggest(&e.description, e.merchant.as_deref(), e.amount, &|_| true)
                    .first()
                    .is_some_and(|(l, _)| *l == e.label)
            })
            .count();
        (
            Some((hits as f64 / test.len() as f64 * 10_000.0).round() / 10_000.0),
            test.len(),
        )
    } else {
        (None, 0)
    };
    let model = Categorizer::train(&examples, &background);
    let source = if examples.is_empty() {
        "default"
    } else {
        "personal"
    };
    let trained = UserCategorizer {
        labels,
        model,
        source: source.to_owned(),
    };
    let training_ms = started.elapsed().as_millis() as u64;
    let metrics = CategorizerMetrics {
        examples: examples.len(),
        categories: categories.len(),
        source: source.to_owned(),
        holdout_top1,
        holdout_rows,
        training_ms,
    };
    store::save_model(
        conn,
        ledger_id,
        store::KIND_CATEGORIZER,
        &StoredModel {
            algorithm: "logistic_regression+payee_memory".into(),
            model: serde_json::to_value(&trained).map_err(ApiError::internal)?,
            metrics: serde_json::to_value(&metrics).map_err(ApiError::internal)?,
            data_from: None,
            data_to: None,
            training_rows: examples.len() as i32,
            training_ms: training_ms.min(i32::MAX as u64) as i32,
            data_version: version,
            trained_at: Utc::now(),
        },
    )?;
    Ok((trained, metrics))
}

/// How long a stored categoriser serves before a request that finds new data retrains it;
/// until then it learns the newer choices into its payee memory (and the background job
/// retrains it). A burst of writes and suggestions costs one training, not one each.
const CATEGORIZER_RETRAIN_AFTER_MINUTES: i64 = 10;
/// More newer choices than this: retrain rather than catch up.
const CATEGORIZER_CATCH_UP: i64 = 500;

/// Decoded categorisers kept by the process, per ledger, stamped with the stored model they
/// came from (when it was trained) and the data version they answer for. Decoding a stored
/// model (about 0.6 MB of JSON) was most of a suggestion's time. A decoded model holds its
/// weights (at most 600,000 `f32`s, 2.4 MB), hence the small bound.
static CATEGORIZERS: LazyLock<LedgerCache<UserCategorizer>> =
    LazyLock::new(|| LedgerCache::with_capacity(CATEGORIZERS_KEPT));
const CATEGORIZERS_KEPT: usize = 16;

/// The user's categoriser: the stored one while it is current (or young, with the choices made
/// since it was trained), else a fresh one.
pub fn categorizer_for(
    conn: &mut PgConnection,
    ledger_id: Uuid,
) -> Result<Arc<UserCategorizer>, ApiError> {
    let state = store::model_state(conn, ledger_id, store::KIND_CATEGORIZER)?;
    if let (Some(model_version), Some(trained_at)) = (state.model_version, state.trained_at) {
        let current = model_version >= state.version;
        let young =
            trained_at > Utc::now() - chrono::Duration::minutes(CATEGORIZER_RETRAIN_AFTER_MINUTES);
        if current || young {
            let stamp = format!(
                "{}/{model_version}/{}",
                trained_at.to_rfc3339(),
                state.version
            );
            // None when retrained between the two reads, or no longer usable: train afresh.
            if let Some(model) = CATEGORIZERS.get_or_find(ledger_id, stamp, || {
                stored_categorizer(conn, ledger_id, model_version)
            })? {
                return Ok(model);
            }
        }
    }
    train_categorizer(conn, ledger_id).map(|(model, _)| Arc::new(model))
}

/// The stored categoriser trained at `model_version`, with the choices made since then learnt
/// into its payee memory. None when the stored model is another, unreadable (a model of an
/// earlier format) or too far behind to catch up.
fn stored_categorizer(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    model_version: i64,
) -> Result<Option<UserCategorizer>, ApiError> {
    let Some(stored) = store::load_model(conn, ledger_id, store::KIND_CATEGORIZER)?
        .filter(|stored| stored.data_version == model_version)
    else {
        return Ok(None);
    };
    let Ok(mut model) = serde_json::from_value::<UserCategorizer>(stored.model) else {
        return Ok(None);
    };
    let rows = store::labelled_rows_since(
        conn,
        ledger_id,
        stored.data_version,
        CATEGORIZER_CATCH_UP + 1,
    )?;
    if rows.len() as i64 > CATEGORIZER_CATCH_UP {
        return Ok(None);
    }
    let newer = examples_of(rows, &model.labels);
    if !newer.is_empty() {
        model.model.remember_choices(&newer);
        // The user's own choices now shape the suggestions.
        model.source = "personal".to_owned();
    }
    Ok(Some(model))
}

/// Retrains the user's categoriser if data changed since it was trained (the background job).
pub fn refresh_categorizer(conn: &mut PgConnection, ledger_id: Uuid) -> Result<bool, ApiError> {
    let state = store::model_state(conn, ledger_id, store::KIND_CATEGORIZER)?;
    if state.model_version.is_some_and(|v| v >= state.version) {
        return Ok(false);
    }
    train_categorizer(conn, ledger_id)?;
    Ok(true)
}

/// The top three categories for a transaction text, among categories of `kind` if given.
pub fn suggest(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    description: &str,
    merchant: Option<&str>,
    amount: Option<Decimal>,
    kind: Option<&str>,
) -> Result<(Vec<Suggestion>, String), ApiError> {
    let (mut ranked, source) =
        suggest_many(conn, ledger_id, &[(description, merchant, amount)], kind)?;
    Ok((ranked.pop().unwrap_or_default(), source))
}

/// Up to three suggestions for each of several texts (a receipt's lines), with one model load.
pub fn suggest_many(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    texts: &[(&str, Option<&str>, Option<Decimal>)],
    kind: Option<&str>,
) -> Result<(Vec<Vec<Suggestion>>, String), ApiError> {
    let model = categorizer_for(conn, ledger_id)?;
    let categories: HashMap<Uuid, CategoryRow> = store::categories(conn, ledger_id)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let usable = |label: u32| {
        model
            .labels
            .get(label as usize)
            .and_then(|id| categories.get(id))
            .is_some_and(|c| kind.is_none_or(|k| c.kind == k))
    };
    let all = texts
        .iter()
        .map(|(description, merchant, amount)| {
            model
                .model
                .suggest(
                    description,
                    *merchant,
                    amount.and_then(|a| a.to_f64()),
                    &usable,
                )
                .into_iter()
                .take(3)
                .filter_map(|(label, p)| {
                    let category = categories.get(model.labels.get(label as usize)?)?;
                    Some(Suggestion {
                        category_id: category.id,
                        name: category.name.clone(),
                        probability: (p * 10_000.0).floor() / 10_000.0,
                    })
                })
                .collect()
        })
        .collect();
    Ok((all, model.source.clone()))
}

/// What `auto_categorize` did for one transaction.
pub struct AutoCategory {
    pub category_id: Uuid,
    pub probability: f64,
    pub suggestion_id: Uuid,
}

/// Suggests and logs a category for a new transaction; returns the top suggestion if it clears
/// the threshold, or the suggestions (for the error message) if none does.
pub fn auto_categorize(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    description: &str,
    merchant: Option<&str>,
    amount: Decimal,
    kind: &str,
) -> Result<Result<AutoCategory, Vec<Suggestion>>, ApiError> {
    let (suggestions, source) = suggest(
        conn,
        ledger_id,
        description,
        merchant,
        Some(amount),
        Some(kind),
    )?;
    let ranked: Vec<(u32, f64)> = suggestions
        .iter()
        .enumerate()
        .map(|(i, s)| (i as u32, s.probability))
        .collect();
    let chosen =
        categorizer::confident(&ranked).map(|(i, p)| (suggestions[i as usize].category_id, p));
    let suggestion_id = store::log_suggestion(
        conn,
        &store::NewSuggestion {
            ledger_id,
            transaction_id: None,
            description,
            merchant,
            amount: Some(amount),
            suggestions: serde_json::to_value(&suggestions).map_err(ApiError::internal)?,
            model: &source,
            applied_category_id: chosen.map(|(id, _)| id),
        },
    )?;
    Ok(match chosen {
        Some((category_id, probability)) => Ok(AutoCategory {
            category_id,
            probability,
            suggestion_id,
        }),
        None => Err(suggestions),
    })
}

/// One series' fitted model, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredSeries {
    pub period: Period,
    pub category_id: Option<Uuid>,
    /// Start of the series' first period.
    pub first_period: NaiveDate,
    pub model: SeriesModel,
    pub training_ms: u64,
}

/// All of a user's forecast models, trained on the data before `until` (a period start).
#[derive(Debug, Serialize, Deserialize)]
pub struct ForecastBundle {
    pub currency: String,
    pub until: NaiveDate,
    pub series: Vec<StoredSeries>,
}

/// The ledger's currency: reports and forecasts cover the wallets in it.
pub fn ledger_currency(conn: &mut PgConnection, ledger_id: Uuid) -> Result<String, ApiError> {
    crate::db::ledgers::currency(conn, ledger_id)?.ok_or_else(|| ApiError::not_found("Ledger"))
}

/// Every category with its descendants (itself included).
fn subtrees(categories: &[CategoryRow]) -> HashMap<Uuid, Vec<Uuid>> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for category in categories {
        let mut current = Some(category.id);
        let mut guard = 0;
        while let Some(id) = current {
            out.entry(id).or_default().push(category.id);
            current = categories
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.parent_id);
            guard += 1;
            if guard > 64 {
                break;
            }
        }
    }
    out
}

/// Builds the series for one period and category set (None = all spending) from the period
/// sums, from the first period with spending up to (not including) `until`.
/// The first period that holds a whole period of the user's history
/// ([`forecast::first_whole_period`]).
pub fn first_whole_period(sums: &[store::PeriodAmount], period: Period) -> Option<NaiveDate> {
    let first_day = sums.iter().map(|r| r.first_day).min()?;
    let start = period.start_of(first_day);
    Some(forecast::first_whole_period(
        first_day,
        start,
        period.next(start),
    ))
}

fn build_series(
    sums: &[store::PeriodAmount],
    period: Period,
    members: Option<&[Uuid]>,
    until: NaiveDate,
) -> Option<(NaiveDate, Series)> {
    let whole_from = first_whole_period(sums, period)?;
    let mut by_start: HashMap<NaiveDate, f64> = HashMap::new();
    for row in sums.iter().filter(|r| r.period_start >= whole_from) {
        if members.is_none_or(|m| m.contains(&row.category_id)) {
            *by_start.entry(row.period_start).or_default() += row.amount.to_f64().unwrap_or(0.0);
        }
    }
    let first = by_start.keys().min().copied()?;
    let mut values = Vec::new();
    let mut start = first;
    while start < until {
        values.push(by_start.get(&start).copied().unwrap_or(0.0));
        start = period.next(start);
    }
    Some((
        first,
        Series {
            values,
            season: period.season(),
            offset: period.season_position(first),
        },
    ))
}

/// Trains forecast models for the given series keys ((period, category)) on data before `until`.
pub fn train_series(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    until_day: NaiveDate,
    wanted: &[(Period, Option<Uuid>)],
) -> Result<Vec<StoredSeries>, ApiError> {
    let categories = store::categories(conn, ledger_id)?;
    let trees = subtrees(&categories);
    let mut out = Vec::new();
    for period in [Period::Month, Period::Week] {
        if !wanted.iter().any(|(p, _)| *p == period) {
            continue;
        }
        let until = period.start_of(until_day);
        let sums = store::spending_by_period(conn, ledger_id, currency, period.as_str(), until)?;
        for (_, category) in wanted.iter().filter(|(p, _)| *p == period) {
            let members = category.map(|c| trees.get(&c).cloned().unwrap_or_else(|| vec![c]));
            let started = Instant::now();
            let (first_period, series) = build_series(&sums, period, members.as_deref(), until)
                .unwrap_or((
                    until,
                    Series {
                        values: Vec::new(),
                        season: period.season(),
                        offset: period.season_position(until),
                    },
                ));
            let model = SeriesModel::train(series);
            out.push(StoredSeries {
                period,
                category_id: *category,
                first_period,
                model,
                training_ms: started.elapsed().as_millis() as u64,
            });
        }
    }
    Ok(out)
}

/// The series a user's stored bundle covers: total and each expense category with spending in
/// the last year, monthly and weekly.
fn bundle_keys(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    until: NaiveDate,
) -> Result<Vec<(Period, Option<Uuid>)>, ApiError> {
    let since = until.checked_sub_months(Months::new(12)).unwrap_or(until);
    let sums = store::spending_by_period(conn, ledger_id, currency, "month", until)?;
    let mut used: Vec<Uuid> = sums
        .iter()
        .filter(|r| r.period_start >= since)
        .map(|r| r.category_id)
        .collect();
    used.sort();
    used.dedup();
    let mut keys = Vec::new();
    for period in [Period::Month, Period::Week] {
        keys.push((period, None));
        keys.extend(used.iter().map(|c| (period, Some(*c))));
    }
    Ok(keys)
}

/// Trains and stores all of a user's forecast models on the data before `today`'s periods.
pub fn train_forecasts(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
) -> Result<(ForecastBundle, u64), ApiError> {
    let started = Instant::now();
    let version = store::data_version(conn, ledger_id)?;
    let currency = ledger_currency(conn, ledger_id)?;
    let keys = bundle_keys(conn, ledger_id, &currency, Period::Month.start_of(today))?;
    let series = train_series(conn, ledger_id, &currency, today, &keys)?;
    let bundle = ForecastBundle {
        currency,
        until: today,
        series,
    };
    let training_ms = started.elapsed().as_millis() as u64;
    let metrics: Vec<_> = bundle
        .series
        .iter()
        .map(|s| {
            json!({
                "period": s.period, "category_id": s.category_id, "method": s.model.method,
                "mae": s.model.mae, "mape": s.model.mape,
            })
        })
        .collect();
    let data_from = bundle
        .series
        .iter()
        .filter(|s| !s.model.series.values.is_empty())
        .map(|s| s.first_period)
        .min();
    store::save_model(
        conn,
        ledger_id,
        store::KIND_FORECAST,
        &StoredModel {
            algorithm:
                "backtest_selection(seasonal_naive,last_period,trailing_mean,ridge,random_forest)"
                    .into(),
            model: serde_json::to_value(&bundle).map_err(ApiError::internal)?,
            metrics: json!(metrics),
            data_from,
            data_to: Period::Month.start_of(today).pred_opt(),
            training_rows: bundle.series.len() as i32,
            training_ms: training_ms.min(i32::MAX as u64) as i32,
            data_version: version,
            trained_at: Utc::now(),
        },
    )?;
    Ok((bundle, training_ms))
}

/// The stored bundle when it is current for `today` (same data, periods and currency), else a
/// fresh one.
pub fn forecasts_for(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
) -> Result<ForecastBundle, ApiError> {
    stored_or_trained(conn, ledger_id, today, 0)
}

/// How long a stored forecast serves the readers that can take one a few writes behind.
const RECENT_ENOUGH_SECS: i64 = 15 * 60;

/// Like `forecasts_for`, but a bundle trained in the last 15 minutes serves even when writes
/// came since: for the assistant and simulations, which ask often and for which one more
/// expense barely moves a month's forecast (retraining a ledger of 1,000,000 transactions takes
/// most of a second). `GET /predictions` and the background job retrain as before.
pub fn forecasts_recent(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
) -> Result<ForecastBundle, ApiError> {
    stored_or_trained(conn, ledger_id, today, RECENT_ENOUGH_SECS)
}

/// The stored bundle if it is for the current data (or was trained less than `behind_secs`
/// ago), for `today`'s periods and in the ledger's currency; else a freshly trained one.
fn stored_or_trained(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
    behind_secs: i64,
) -> Result<ForecastBundle, ApiError> {
    let version = store::data_version(conn, ledger_id)?;
    if let Some(stored) = store::load_model(conn, ledger_id, store::KIND_FORECAST)? {
        let usable = stored.data_version >= version
            || (Utc::now() - stored.trained_at).num_seconds() < behind_secs;
        if usable {
            if let Ok(bundle) = serde_json::from_value::<ForecastBundle>(stored.model) {
                let same_periods = [Period::Month, Period::Week]
                    .iter()
                    .all(|p| p.start_of(bundle.until) == p.start_of(today));
                // A change of the user's currency changes the series without a data change.
                if same_periods && bundle.currency == ledger_currency(conn, ledger_id)? {
                    return Ok(bundle);
                }
            }
        }
    }
    train_forecasts(conn, ledger_id, today).map(|(bundle, _)| bundle)
}

/// The forecast model of one series: today's from the stored models, another date's trained on
/// its own past.
pub fn series_for(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    currency: &str,
    period: Period,
    category_id: Option<Uuid>,
    as_of: NaiveDate,
    today: NaiveDate,
) -> Result<StoredSeries, ApiError> {
    let key = (period, category_id);
    let stored = if period.start_of(as_of) == period.start_of(today) {
        forecasts_for(conn, ledger_id, today)?
            .series
            .into_iter()
            .find(|s| (s.period, s.category_id) == key)
    } else {
        None
    };
    match stored {
        Some(series) => Ok(series),
        None => train_series(conn, ledger_id, currency, as_of, &[key])?
            .pop()
            .ok_or_else(|| ApiError::internal("no series trained")),
    }
}

/// A forecast period as answered and stored.
#[derive(Debug, Clone)]
pub struct ForecastRow {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub amount: Decimal,
    pub lower: Decimal,
    pub upper: Decimal,
    pub method: Method,
    pub confidence: Confidence,
}

/// A forecast figure as money, within what an amount may hold: a forecast over spending near
/// the largest amount may pass it, and is then stored and answered as the largest amount
/// rather than failing to store.
fn forecast_money(value: f64) -> Decimal {
    let max = max_amount();
    match max.to_f64() {
        // Beyond the largest amount (and beyond what a Decimal holds): the largest amount.
        Some(limit) if value.abs() >= limit => {
            if value < 0.0 {
                -max
            } else {
                max
            }
        }
        _ => clamp_amount(money(value)),
    }
}

/// The most periods a forecast reaches, the one containing its date first: `POST
/// /predictions/predict`'s `horizon` (1 to 12), and the months ahead the assistant forecasts
/// ("the forecast for March" asked in December is three months ahead).
pub const FORECAST_HORIZON: usize = 12;

/// Forecast rows for `horizon` periods from the period containing `as_of`.
pub fn forecast_rows(series: &StoredSeries, as_of: NaiveDate, horizon: usize) -> Vec<ForecastRow> {
    let period = series.period;
    let mut start = period.start_of(as_of);
    series
        .model
        .forecast(horizon)
        .into_iter()
        .map(
            |Forecast {
                 amount,
                 lower,
                 upper,
             }| {
                let next = period.next(start);
                let row = ForecastRow {
                    period_start: start,
                    period_end: next.pred_opt().unwrap_or(next),
                    amount: forecast_money(amount),
                    lower: forecast_money(lower),
                    upper: forecast_money(upper),
                    method: series.model.method,
                    confidence: series.model.confidence,
                };
                start = next;
                row
            },
        )
        .collect()
}

/// Earlier expenses an expense is judged against: the latest this many in its category and at
/// its merchant, within the year before it (read with the expense's other checks,
/// `db::ledger::expense_context`).
pub const PEER_HISTORY: i64 = 200;

/// Notifies the user of an expense stored as unusual (once per transaction).
pub fn notify_unusual(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    transaction_id: Uuid,
    currency: &str,
    date: NaiveDate,
    amount: Decimal,
    finding: &anomaly::Finding,
) -> Result<(), ApiError> {
    notifications::insert_once(
        conn,
        ledger_id,
        "unusual_spending",
        "Unusual spending",
        &format!("{amount} {currency} on {date}: {}", finding.reason),
        json!({
            "transaction_id": transaction_id, "amount": amount.to_string(), "currency": currency,
            "score": (finding.score * 100.0).round() / 100.0, "reason": finding.reason,
        }),
        &match &finding.burst_at {
            // The burst's first unusual payment stands for its day.
            Some(merchant) => format!("unusual_spending:{date}:{merchant}"),
            None => format!("unusual_spending:{transaction_id}"),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period_start: &str, first_day: &str, amount: i64) -> store::PeriodAmount {
        store::PeriodAmount {
            period_start: period_start.parse().unwrap(),
            category_id: Uuid::nil(),
            amount: Decimal::from(amount),
            first_day: first_day.parse().unwrap(),
        }
    }

    #[test]
    fn a_first_month_recorded_from_its_second_half_is_left_out() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // History from 30 November: November holds one day of spending.
        let late = [
            row("2025-11-01", "2025-11-30", 6),
            row("2025-12-01", "2025-11-30", 900),
            row("2026-01-01", "2025-11-30", 950),
        ];
        assert_eq!(
            first_whole_period(&late, Period::Month),
            Some(d("2025-12-01"))
        );
        let (first, series) = build_series(&late, Period::Month, None, d("2026-02-01")).unwrap();
        assert_eq!(first, d("2025-12-01"));
        assert_eq!(series.values, vec![900.0, 950.0]);
        // From the 3rd: the month counts.
        let early = [
            row("2025-11-01", "2025-11-03", 800),
            row("2025-12-01", "2025-11-03", 900),
        ];
        assert_eq!(
            first_whole_period(&early, Period::Month),
            Some(d("2025-11-01"))
        );
        // Weeks: from Friday on, the week is partial.
        let weekly = [row("2026-03-02", "2026-03-06", 10)];
        assert_eq!(
            first_whole_period(&weekly, Period::Week),
            Some(d("2026-03-09"))
        );
        let weekly = [row("2026-03-02", "2026-03-05", 10)];
        assert_eq!(
            first_whole_period(&weekly, Period::Week),
            Some(d("2026-03-02"))
        );
    }
}
