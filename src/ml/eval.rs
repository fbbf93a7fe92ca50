//! `finai eval-ml`: the suggestion and forecast code of the API run on a CSV of transactions,
//! judged on data it has not seen. Rows are put in date order; suggestions train on the first
//! 75 % and are scored on the rest; forecasts are made at every month after the first six, each
//! from the months before it only, against each baseline at the same months; unusual spending is
//! scored on the last 25 % of the expenses as they are (every flag a false alarm) and with
//! anomalies injected among them (every one to be found).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::anomaly;
use super::categorizer::{Categorizer, Example};
use super::forecast::{self, Method, Series, SeriesModel};
use super::text;

/// Forecasts are scored at every month after the first six (each from the months before it).
const FORECAST_FIRST_ORIGIN: usize = 6;
/// Weekly forecasts, at every week after the first 26.
const FORECAST_FIRST_WEEK: usize = 26;

/// Which columns hold what.
#[derive(Debug, Clone)]
pub struct Columns {
    pub date: String,
    pub text: String,
    pub category: String,
    pub amount: String,
    /// A column whose value `credit` marks money coming in (left out of spending).
    pub kind: Option<String>,
    /// Categories left out of the spending series (e.g. card payments between own accounts).
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub date: NaiveDate,
    pub text: String,
    pub category: String,
    pub amount: f64,
    pub is_credit: bool,
}

#[derive(Debug, Serialize)]
pub struct CategorizationReport {
    pub train_rows: usize,
    pub test_rows: usize,
    pub classes: usize,
    pub top1_accuracy: f64,
    pub top3_accuracy: f64,
    pub macro_f1: f64,
    /// Test rows whose payee never appeared in training, and the top-1 accuracy on them.
    pub unseen_payee_rows: usize,
    pub unseen_payee_top1: Option<f64>,
    /// Baselines: the most frequent category; the payee's latest category in training.
    pub majority_top1: f64,
    pub last_seen_top1: f64,
    pub training_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct ForecastReport {
    pub months: usize,
    pub origins: usize,
    pub first_origin: Option<String>,
    /// MAE of FinAI's per-origin choice and of each fixed method, at the same months.
    pub mae: BTreeMap<String, f64>,
    /// How often each method was chosen.
    pub chosen: BTreeMap<String, usize>,
    /// Share of actual months inside FinAI's 10–90 % interval.
    pub interval_coverage: f64,
    /// Each category's monthly spending, forecast at the same months, scored together.
    pub per_category: SeriesScores,
    /// Weekly spending in total, forecast at every week after the first 26.
    pub weekly: SeriesScores,
}

/// One-step forecasts of several series (or of one, at many origins), scored together.
#[derive(Debug, Default, Serialize)]
pub struct SeriesScores {
    pub series: usize,
    pub forecasts: usize,
    /// MAE over every forecast of FinAI and of each method that could make them all.
    pub mae: BTreeMap<String, f64>,
    pub interval_coverage: f64,
}

/// Running sums of one-step errors.
#[derive(Default)]
struct Tally {
    errors: BTreeMap<String, Vec<f64>>,
    chosen: BTreeMap<String, usize>,
    covered: usize,
    forecasts: usize,
}

impl Tally {
    /// Forecasts `series` at every origin from `first_origin`, each from the periods before it.
    fn score(&mut self, series: &Series, first_origin: usize, methods: &[Method]) {
        for origin in first_origin..series.values.len() {
            let actual = series.values[origin];
            let history = Series {
                values: series.values[..origin].to_vec(),
                ..series.clone()
            };
            let model = SeriesModel::train(history.clone());
            let f = model.forecast(1)[0];
            self.errors
                .entry("finai".into())
                .or_default()
                .push((actual - f.amount).abs());
            self.covered += usize::from(f.lower <= actual && actual <= f.upper);
            self.forecasts += 1;
            *self.chosen.entry(model.method.as_str().into()).or_default() += 1;
            for &method in methods {
                if let Some(point) = forecast::predict(&history, method, origin, 1) {
                    self.errors
                        .entry(method.as_str().into())
                        .or_default()
                        .push((actual - point[0].max(0.0)).abs());
                }
            }
        }
    }

    /// Mean errors of the methods that forecast every origin.
    fn mae(&self) -> BTreeMap<String, f64> {
        self.errors
            .iter()
            // A method that could not forecast every origin is not comparable.
            .filter(|(_, e)| e.len() == self.forecasts)
            .map(|(k, e)| (k.clone(), (e.iter().sum::<f64>() / e.len() as f64).round()))
            .collect()
    }

    fn scores(&self, series: usize) -> SeriesScores {
        SeriesScores {
            series,
            forecasts: self.forecasts,
            mae: self.mae(),
            interval_coverage: round4(self.covered as f64 / self.forecasts.max(1) as f64),
        }
    }
}

/// The unusual-spending detector on the test expenses as they are and with injected anomalies.
#[derive(Debug, Serialize)]
pub struct AnomalyReport {
    /// Test expenses scored as they are, and how many were flagged (false alarms).
    pub clean_rows: usize,
    pub false_alarms: usize,
    /// Anomalies injected, and found, of each kind.
    pub injected: BTreeMap<String, (usize, usize)>,
    pub precision: f64,
    pub recall: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub rows: usize,
    pub categorization: CategorizationReport,
    pub forecast: ForecastReport,
    pub anomalies: AnomalyReport,
}

pub fn read_csv(path: &Path, columns: &Columns) -> Result<Vec<Row>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let index = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("no column `{name}` in {}", path.display()))
    };
    let (date, text_col, category, amount) = (
        index(&columns.date)?,
        index(&columns.text)?,
        index(&columns.category)?,
        index(&columns.amount)?,
    );
    let kind = columns.kind.as_deref().map(index).transpose()?;
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", line + 2))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let parsed_date = parse_date(field(date))
            .ok_or_else(|| format!("line {}: bad date `{}`", line + 2, field(date)))?;
        let raw_amount: String = field(amount)
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
            .collect();
        let parsed_amount: f64 = raw_amount
            .parse()
            .map_err(|_| format!("line {}: bad amount `{}`", line + 2, field(amount)))?;
        rows.push(Row {
            date: parsed_date,
            text: field(text_col).to_owned(),
            category: field(category).to_owned(),
            amount: parsed_amount.abs(),
            is_credit: kind.is_some_and(|k| field(k).eq_ignore_ascii_case("credit")),
        });
    }
    Ok(rows)
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(raw, format).ok())
}

pub fn evaluate(mut rows: Vec<Row>, columns: &Columns) -> Result<Report, String> {
    if rows.len() < 8 {
        return Err("need at least 8 rows".into());
    }
    rows.sort_by_key(|r| r.date);
    Ok(Report {
        rows: rows.len(),
        categorization: categorization(&rows),
        forecast: forecasts(&rows, columns),
        anomalies: anomalies(&rows, columns),
    })
}

/// Earlier expenses one is judged against, as the API reads them: the latest
/// `PEER_HISTORY` in its category and at its merchant, within the year before it.
const PEER_HISTORY: usize = 200;

/// The detector's finding for an expense against `history` (the expenses before it).
fn flagged(history: &[&Row], expense: &Row) -> bool {
    let since = expense.date - chrono::Duration::days(365);
    let recent = || {
        history
            .iter()
            .rev()
            .filter(move |r| r.date >= since && r.date <= expense.date)
    };
    let category: Vec<f64> = recent()
        .filter(|r| r.category == expense.category)
        .take(PEER_HISTORY)
        .map(|r| r.amount)
        .collect();
    let merchant: Vec<(NaiveDate, f64)> = recent()
        .filter(|r| r.text == expense.text)
        .take(PEER_HISTORY)
        .map(|r| (r.date, r.amount))
        .collect();
    anomaly::assess(
        expense.amount,
        expense.date,
        Some((&category, &expense.category)),
        Some((&merchant, &expense.text)),
    )
    .is_some()
}

/// Deterministic uniform draws in [0, 1) (an LCG), so the injected set is the same every run.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Scores the last quarter of the expenses as they are (each flag a false alarm), then injects
/// an anomaly beside every fourth of them, in turn: an amount 5–20 times its category's median
/// at its merchant, a first payment to a new merchant 5–20 times its category's median, and
/// the same charge twice in a day. Each is judged against the real expenses before it (a
/// duplicate, against the original too).
fn anomalies(rows: &[Row], columns: &Columns) -> AnomalyReport {
    let expenses: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.is_credit && r.amount > 0.0)
        .filter(|r| !columns.exclude.iter().any(|c| c == &r.category))
        .collect();
    let start = expenses.len() * 3 / 4;
    let mut draws = Draws(20_261_206);
    let mut false_alarms = 0;
    let mut injected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, expense) in expenses.iter().enumerate().skip(start) {
        let history = &expenses[..i];
        false_alarms += usize::from(flagged(history, expense));
        let n = i - start;
        if !n.is_multiple_of(4) {
            continue;
        }
        let median = {
            let amounts: Vec<f64> = history
                .iter()
                .filter(|r| r.category == expense.category)
                .map(|r| r.amount)
                .collect();
            forecast::percentile(&amounts, 0.5)
        };
        let base = if median > 0.0 { median } else { expense.amount };
        let factor = 5.0 + 15.0 * draws.next();
        let (kind, anomaly, against): (&str, Row, Vec<&Row>) = match (n / 4) % 3 {
            0 => (
                "amount 5-20x the category's",
                Row {
                    amount: (base * factor * 100.0).round() / 100.0,
                    ..(*expense).clone()
                },
                history.to_vec(),
            ),
            1 => (
                "first payment to a new merchant, 5-20x the category's",
                Row {
                    amount: (base * factor * 100.0).round() / 100.0,
                    text: format!("new merchant {n}"),
                    ..(*expense).clone()
                },
                history.to_vec(),
            ),
            _ => (
                "the same charge twice in a day",
                (*expense).clone(),
                expenses[..=i].to_vec(),
            ),
        };
        let entry = injected.entry(kind.into()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(flagged(&against, &anomaly));
    }
    let found: usize = injected.values().map(|(_, f)| f).sum();
    let total: usize = injected.values().map(|(t, _)| t).sum();
    AnomalyReport {
        clean_rows: expenses.len() - start,
        false_alarms,
        precision: round4(found as f64 / (found + false_alarms).max(1) as f64),
        recall: round4(found as f64 / total.max(1) as f64),
        injected,
    }
}

fn categorization(rows: &[Row]) -> CategorizationReport {
    let split = rows.len() * 3 / 4;
    let (train, test) = rows.split_at(split);
    let mut names: Vec<String> = rows.iter().map(|r| r.category.clone()).collect();
    names.sort();
    names.dedup();
    let label = |name: &str| names.iter().position(|n| n == name).unwrap_or(0) as u32;
    let examples: Vec<Example> = train
        .iter()
        .map(|r| Example {
            description: r.text.clone(),
            merchant: None,
            amount: Some(r.amount),
            label: label(&r.category),
        })
        .collect();
    // As in the API: the names of the categories the user has teach the model too.
    let background: Vec<(String, u32)> = names
        .iter()
        .filter(|n| train.iter().any(|r| &r.category == *n))
        .map(|n| (n.clone(), label(n)))
        .collect();
    // As in the API, where a transaction's type limits its category to that type's: the
    // labels seen on money in, and on money out.
    let kinds: [HashSet<u32>; 2] = [false, true].map(|credit| {
        train
            .iter()
            .filter(|r| r.is_credit == credit)
            .map(|r| label(&r.category))
            .collect()
    });
    let started = Instant::now();
    let model = Categorizer::train(&examples, &background);
    let training_ms = started.elapsed().as_millis();

    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut last_seen: HashMap<String, &str> = HashMap::new();
    for r in train {
        *counts.entry(&r.category).or_default() += 1;
        last_seen.insert(text::key(&r.text, None), &r.category);
    }
    let majority = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| *c)
        .unwrap_or_default();

    let (mut top1, mut top3, mut majority_hits, mut last_hits) = (0, 0, 0, 0);
    let (mut unseen, mut unseen_hits) = (0, 0);
    let mut pairs: Vec<(u32, Option<u32>)> = Vec::new();
    for r in test {
        let truth = label(&r.category);
        let kind = &kinds[usize::from(r.is_credit)];
        let ranked = model.suggest(&r.text, None, Some(r.amount), &|l| {
            kind.is_empty() || kind.contains(&l)
        });
        let first = ranked.first().map(|(l, _)| *l);
        pairs.push((truth, first));
        let hit = first == Some(truth);
        top1 += usize::from(hit);
        top3 += usize::from(ranked.iter().take(3).any(|(l, _)| *l == truth));
        majority_hits += usize::from(majority == r.category);
        let key = text::key(&r.text, None);
        match last_seen.get(&key) {
            Some(category) => last_hits += usize::from(*category == r.category),
            None => {
                last_hits += usize::from(majority == r.category);
                unseen += 1;
                unseen_hits += usize::from(hit);
            }
        }
    }
    let share = |hits: usize| round4(hits as f64 / test.len().max(1) as f64);
    CategorizationReport {
        train_rows: train.len(),
        test_rows: test.len(),
        classes: names.len(),
        top1_accuracy: share(top1),
        top3_accuracy: share(top3),
        macro_f1: round4(macro_f1(&pairs)),
        unseen_payee_rows: unseen,
        unseen_payee_top1: (unseen > 0).then(|| round4(unseen_hits as f64 / unseen as f64)),
        majority_top1: share(majority_hits),
        last_seen_top1: share(last_hits),
        training_ms,
    }
}

/// F1 averaged over the classes that occur in the test set or are predicted there.
pub fn macro_f1(pairs: &[(u32, Option<u32>)]) -> f64 {
    let classes: HashSet<u32> = pairs
        .iter()
        .flat_map(|(t, p)| std::iter::once(*t).chain(*p))
        .collect();
    if classes.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    for class in &classes {
        let tp = pairs
            .iter()
            .filter(|(t, p)| t == class && *p == Some(*class))
            .count() as f64;
        let fp = pairs
            .iter()
            .filter(|(t, p)| t != class && *p == Some(*class))
            .count() as f64;
        let fn_ = pairs
            .iter()
            .filter(|(t, p)| t == class && *p != Some(*class))
            .count() as f64;
        if tp > 0.0 {
            total += 2.0 * tp / (2.0 * tp + fp + fn_);
        }
    }
    total / classes.len() as f64
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn week_start(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()))
}

fn forecasts(rows: &[Row], columns: &Columns) -> ForecastReport {
    let all_spending: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.is_credit && !columns.exclude.iter().any(|c| c == &r.category))
        .collect();
    // Series start at the first whole month (and week) of the history, as the API's do.
    let first_day = all_spending.first().map(|r| r.date);
    let whole_from = |start: fn(NaiveDate) -> NaiveDate, next: fn(NaiveDate) -> NaiveDate| {
        first_day.map(|day| forecast::first_whole_period(day, start(day), next(start(day))))
    };
    let month_from = whole_from(month_start, |d| {
        d.checked_add_months(chrono::Months::new(1)).unwrap_or(d)
    });
    let spending: Vec<&Row> = all_spending
        .iter()
        .copied()
        .filter(|r| month_from.is_some_and(|from| r.date >= from))
        .collect();
    let (Some(first), Some(last)) = (spending.first(), spending.last()) else {
        return ForecastReport {
            months: 0,
            origins: 0,
            first_origin: None,
            mae: BTreeMap::new(),
            chosen: BTreeMap::new(),
            interval_coverage: 0.0,
            per_category: SeriesScores::default(),
            weekly: SeriesScores::default(),
        };
    };
    let month_index = |d: NaiveDate| (d.year() * 12 + d.month0() as i32) as usize;
    let start = month_index(first.date);
    let months = month_index(last.date) - start + 1;
    let monthly = |rows: &mut dyn Iterator<Item = &&Row>| {
        let mut values = vec![0.0; months];
        for r in rows {
            values[month_index(r.date) - start] += r.amount;
        }
        Series {
            values,
            season: 12,
            offset: first.date.month0() as usize,
        }
    };
    let first_origin = FORECAST_FIRST_ORIGIN.min(months);
    let mut total = Tally::default();
    total.score(
        &monthly(&mut spending.iter()),
        first_origin,
        &forecast::METHODS,
    );
    // The random forest is scored on the monthly total only: it costs a hundred ridge fits.
    let cheap: Vec<Method> = forecast::METHODS
        .into_iter()
        .filter(|m| *m != Method::RandomForest)
        .collect();

    let mut categories: Vec<&str> = spending.iter().map(|r| r.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let mut per_category = Tally::default();
    for category in &categories {
        let series = monthly(&mut spending.iter().filter(|r| r.category == *category));
        per_category.score(&series, first_origin, &cheap);
    }

    // Weeks from the Monday of the first whole week.
    let monday = whole_from(week_start, |d| d + chrono::Days::new(7)).unwrap_or(first.date);
    let week = |d: NaiveDate| ((d - monday).num_days() / 7) as usize;
    let weekly_rows: Vec<&&Row> = all_spending.iter().filter(|r| r.date >= monday).collect();
    let weeks = weekly_rows.last().map_or(0, |r| week(r.date) + 1);
    let mut weekly_values = vec![0.0; weeks];
    for r in weekly_rows {
        weekly_values[week(r.date)] += r.amount;
    }
    let weekly_series = Series {
        values: weekly_values,
        season: 52,
        offset: monday.iso_week().week0() as usize,
    };
    let mut weekly = Tally::default();
    weekly.score(
        &weekly_series,
        FORECAST_FIRST_WEEK.min(weekly_series.values.len()),
        &cheap,
    );

    let origins = months - first_origin;
    let year = start / 12;
    let month = start % 12;
    ForecastReport {
        months,
        origins,
        first_origin: (origins > 0).then(|| {
            let i = month + first_origin;
            format!("{:04}-{:02}", year + i / 12, i % 12 + 1)
        }),
        mae: total.mae(),
        chosen: total.chosen.clone(),
        interval_coverage: round4(total.covered as f64 / origins.max(1) as f64),
        per_category: per_category.scores(categories.len()),
        weekly: weekly.scores(1),
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecasts_are_scored_per_category_and_weekly() {
        // Two categories, one expense each every week for a year.
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("a Monday");
        let rows: Vec<Row> = (0..52u64)
            .flat_map(|week| {
                let date = start + chrono::Days::new(week * 7);
                [("Food", 50.0 + week as f64), ("Rent", 300.0)].map(|(category, amount)| Row {
                    date,
                    text: category.to_owned(),
                    category: category.to_owned(),
                    amount,
                    is_credit: false,
                })
            })
            .collect();
        let columns = Columns {
            date: String::new(),
            text: String::new(),
            category: String::new(),
            amount: String::new(),
            kind: None,
            exclude: Vec::new(),
        };
        let report = forecasts(&rows, &columns);
        // 12 months, scored from the 7th: 6 forecasts per category, 26 of the weekly total.
        assert_eq!(report.per_category.series, 2);
        assert_eq!(report.per_category.forecasts, 12);
        assert_eq!(report.weekly.forecasts, 26);
        // A steady weekly total is forecast exactly by the last week.
        assert_eq!(report.weekly.mae["last_period"], 1.0);
        assert!(report.weekly.mae.contains_key("finai"));
    }

    #[test]
    fn macro_f1_averages_over_classes() {
        // Class 0: 1 tp, 1 fn; class 1: 1 tp, 1 fp → F1 2/3 each.
        let pairs = [(0, Some(0)), (0, Some(1)), (1, Some(1))];
        assert!((macro_f1(&pairs) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(macro_f1(&[(0, Some(0))]), 1.0);
    }

    #[test]
    fn dates_in_common_formats() {
        let d = NaiveDate::from_ymd_opt(2018, 1, 31).unwrap();
        assert_eq!(parse_date("01/31/2018"), Some(d));
        assert_eq!(parse_date("2018-01-31"), Some(d));
        assert_eq!(parse_date("31.01.2018"), Some(d));
        assert_eq!(parse_date("yesterday"), None);
    }
}
