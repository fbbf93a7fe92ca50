//! Spending forecasts for one series (monthly or weekly totals).
//!
//! The served forecast is a **combination**, not the backtest winner: the lesson of the M3/M4
//! forecasting competitions is that an average of simple, robust methods beats choosing one by
//! a short backtest, which on a noisy series with one-off spikes picks wrong. Its members are
//! the last period, the trailing mean and median, a damped trend, the seasonal naive (with a
//! season of history) and a ridge regression on lags (with enough rows), each fed the history
//! with upward spikes capped (median + 3 robust deviations), so a one-off purchase does not
//! echo through next month. The weights come from the members' one-step errors over the
//! periods before the forecast, shrunk halfway toward equal weights (few errors make noisy
//! weights). The interval is the 10th–90th percentile of the combination's own out-of-sample
//! errors. Every single method is still backtested and reported beside it, so a client can see
//! how the combination does against the baselines on its own data.

use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::ridge_regression::{RidgeRegression, RidgeRegressionParameters};

/// Less history than this many months (3 months, or 13 weeks): no model, the trailing mean
/// with `insufficient_history`.
pub const MIN_HISTORY_MONTHS: usize = 3;
/// Backtest origins per series (the most recent ones).
const MAX_ORIGINS: usize = 12;
/// Regressors need at least this many training rows.
const MIN_ROWS_RIDGE: usize = 8;
const MIN_ROWS_FOREST: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The same period one season (a year) earlier.
    SeasonalNaive,
    /// The last complete period.
    LastPeriod,
    /// The mean of the last three periods.
    TrailingMean,
    /// Ridge regression on lags, trailing mean and the season's position (smartcore).
    Ridge,
    /// Random forest on the same features (smartcore).
    RandomForest,
    /// Under three periods of history: the trailing mean, not a model.
    InsufficientHistory,
    /// The median of the last three periods.
    TrailingMedian,
    /// Holt's linear trend, damped, its smoothing fitted to the history.
    DampedTrend,
    /// The weighted mean of the members' forecasts on spike-capped history (the served
    /// method).
    Combination,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::LastPeriod => "last_period",
            Method::TrailingMean => "trailing_mean",
            Method::Ridge => "ridge",
            Method::RandomForest => "random_forest",
            Method::InsufficientHistory => "insufficient_history",
            Method::TrailingMedian => "trailing_median",
            Method::DampedTrend => "damped_trend",
            Method::Combination => "combination",
        }
    }

    pub fn is_baseline(self) -> bool {
        matches!(
            self,
            Method::SeasonalNaive | Method::LastPeriod | Method::TrailingMean
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A series of period totals, oldest first; `offset` is the first period's position in the
/// season (month 0–11, or week 0–51) and `season` the season's length (12 or 52).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    pub values: Vec<f64>,
    pub season: usize,
    pub offset: usize,
}

impl Series {
    /// Periods that make [`MIN_HISTORY_MONTHS`] months: 3 months, 13 weeks.
    pub fn min_history(&self) -> usize {
        (MIN_HISTORY_MONTHS * self.season).div_ceil(12)
    }
}

/// A candidate's backtest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backtest {
    pub method: Method,
    pub mae: f64,
    /// Mean absolute percentage error over periods with spending; `None` if there were none.
    pub mape: Option<f64>,
    pub residuals: Vec<f64>,
    /// The residuals as fractions of their forecasts (forecasts of zero left out): spending
    /// errs in proportion to its level, so on a rising series these carry over where the
    /// amounts do not.
    #[serde(default)]
    pub relative: Vec<f64>,
}

/// The chosen method of a series, with what the choice was based on.
#[derive(Debug, Serialize, Deserialize)]
pub struct SeriesModel {
    pub series: Series,
    pub method: Method,
    pub mae: Option<f64>,
    pub mape: Option<f64>,
    /// Every candidate's backtest MAE (baselines included), in candidate order.
    pub candidates: Vec<(Method, f64)>,
    /// 10th and 90th percentile of the chosen method's one-step residuals (actual − forecast).
    pub residual_low: f64,
    pub residual_high: f64,
    /// The same percentiles of the residuals as fractions of their forecasts.
    #[serde(default)]
    pub relative_low: f64,
    #[serde(default)]
    pub relative_high: f64,
    /// The 80th percentiles (in amounts, as fractions), the upper end of a band whose lower
    /// end is zero: such a band holds every period down to nothing, so it reaches only to the
    /// 80th percentile to hold 80 % (`None` in models stored before it: the 90th).
    #[serde(default)]
    pub high_from_zero: Option<(f64, f64)>,
    pub confidence: Confidence,
    pub origins: usize,
    /// The chosen regressor fitted on the whole series (none for baselines).
    pub regressor: Option<Regressor>,
}

/// One forecast period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub amount: f64,
    pub lower: f64,
    pub upper: f64,
}

impl SeriesModel {
    /// Backtests every candidate that the history supports and keeps the best; a regressor
    /// only when it beats every baseline.
    pub fn train(series: Series) -> SeriesModel {
        let n = series.values.len();
        if n < series.min_history() {
            return SeriesModel {
                series,
                method: Method::InsufficientHistory,
                mae: None,
                mape: None,
                candidates: Vec::new(),
                residual_low: 0.0,
                residual_high: 0.0,
                relative_low: 0.0,
                relative_high: 0.0,
                high_from_zero: None,
                confidence: Confidence::Low,
                origins: 0,
                regressor: None,
            };
        }
        let window = n - MAX_ORIGINS.min(n - 1);
        let mut backtests = compare(&series, window);
        // The combination's own out-of-sample errors, over the same recent origins.
        let combination = backtest(&series, Method::Combination, window);
        let chosen = match combination {
            Some(combination) => combination,
            None => backtests
                .iter()
                .filter(|b| b.method.is_baseline())
                .min_by(|a, b| a.mae.total_cmp(&b.mae))
                .cloned()
                .unwrap_or_else(|| unreachable!("the last-period baseline always backtests")),
        };
        let widen = small_sample_widening(chosen.residuals.len());
        let (residual_low, residual_high) = residual_band(&chosen.residuals);
        let (relative_low, relative_high) = residual_band(&chosen.relative);
        let (residual_low, residual_high) = (residual_low * widen, residual_high * widen);
        let (relative_low, relative_high) = (relative_low * widen, relative_high * widen);
        let high_from_zero = Some((
            percentile(&chosen.residuals, 0.8) * widen,
            percentile(&chosen.relative, 0.8) * widen,
        ));
        let confidence = confidence(n, chosen.mape);
        if chosen.method == Method::Combination {
            backtests.push(chosen.clone());
        }
        SeriesModel {
            regressor: None,
            candidates: backtests.iter().map(|b| (b.method, b.mae)).collect(),
            method: chosen.method,
            mae: Some(chosen.mae),
            mape: chosen.mape,
            residual_low,
            residual_high,
            relative_low,
            relative_high,
            high_from_zero,
            confidence,
            origins: chosen.residuals.len(),
            series,
        }
    }

    /// The next `horizon` periods after the series.
    pub fn forecast(&self, horizon: usize) -> Vec<Forecast> {
        let values = &self.series.values;
        if self.method == Method::InsufficientHistory {
            let mean = if values.is_empty() {
                0.0
            } else {
                values.iter().sum::<f64>() / values.len() as f64
            };
            let max = values.iter().copied().fold(0.0, f64::max);
            return (0..horizon)
                .map(|_| Forecast {
                    amount: mean,
                    lower: 0.0,
                    upper: max.max(mean * 2.0),
                })
                .collect();
        }
        let points = match self.method {
            Method::Combination => combination(&self.series, values.len(), horizon),
            method => predict_with(
                &self.series,
                method,
                values.len(),
                horizon,
                self.regressor.as_ref(),
            ),
        }
        .unwrap_or_else(|| vec![values.last().copied().unwrap_or(0.0); horizon]);
        points
            .into_iter()
            .enumerate()
            .map(|(step, point)| {
                // Errors grow with the horizon; one-step residuals scaled by √h.
                let widen = ((step + 1) as f64).sqrt();
                let amount = point.max(0.0);
                // The wider of the band in amounts and the band in proportion to the forecast.
                let lower = amount + self.residual_low.min(self.relative_low * amount) * widen;
                let (high, relative_high) = match self.high_from_zero {
                    Some(high) if lower <= 0.0 => high,
                    _ => (self.residual_high, self.relative_high),
                };
                Forecast {
                    amount,
                    // Residuals all of one sign (a trend) would leave the point outside.
                    lower: lower.clamp(0.0, amount),
                    upper: (amount + high.max(relative_high * amount) * widen).max(amount),
                }
            })
            .collect()
    }
}

/// Every single method, backtested and reported beside the combination (baselines first).
pub const METHODS: [Method; 7] = [
    Method::LastPeriod,
    Method::TrailingMean,
    Method::SeasonalNaive,
    Method::TrailingMedian,
    Method::DampedTrend,
    Method::Ridge,
    Method::RandomForest,
];

/// The members of the combination. The random forest is left out: it costs a hundred times a
/// ridge fit and, on a few dozen periods, adds nothing the ridge does not.
const MEMBERS: [Method; 6] = [
    Method::LastPeriod,
    Method::TrailingMean,
    Method::TrailingMedian,
    Method::DampedTrend,
    Method::SeasonalNaive,
    Method::Ridge,
];

/// How far the weights move from equal toward inverse-error weights.
const WEIGHT_SKILL: f64 = 0.5;
/// How much a member's error counts for each period further back than the latest: weights
/// follow the members that have been right lately, so after a level shift (spending halves
/// and stays there) the last period earns its weight within a few periods instead of a year.
const DECAY: f64 = 0.8;
/// The band from `n` backtest errors is widened by `1 + SMALL_SAMPLE / n`: the 10th and 90th
/// percentiles of a handful of past errors understate how far the next one falls (five
/// errors held the next month 42 % of the time on one real book where 80 % was meant).
const SMALL_SAMPLE: f64 = 3.0;
/// Members whose mean error is more than this many times the best member's are left out.
const TRIM: f64 = 1.25;

/// The median of `values` (0 for none).
fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// Periods either side of a value that tell whether it is a spike.
const SPIKE_WINDOW: usize = 3;

/// `values` with upward spikes capped (a Hampel filter): a value more than three robust
/// standard deviations (1.4826 × the median absolute deviation, at least 10 % of the median)
/// above the median of its neighbourhood (three periods either side, or the six before it at
/// the end) is brought down to that bound. A one-off purchase then counts as a high period,
/// not as a new level, while a steady rise, each period a little above the last, is left
/// alone. Short histories are left as they are.
pub fn cap_spikes(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n < 4 {
        return values.to_vec();
    }
    (0..n)
        .map(|i| {
            let from = i
                .saturating_sub(SPIKE_WINDOW)
                .min(n.saturating_sub(2 * SPIKE_WINDOW + 1));
            let to = (from + 2 * SPIKE_WINDOW + 1).min(n);
            let window = &values[from..to];
            let mid = median(window);
            let deviations: Vec<f64> = window.iter().map(|v| (v - mid).abs()).collect();
            let spread = (1.4826 * median(&deviations)).max(0.1 * mid.abs());
            values[i].min(mid + 3.0 * spread)
        })
        .collect()
}

/// Each member's forecasts of the `horizon` periods after `values[..end]`, from the history
/// with its spikes capped.
fn member_points(series: &Series, end: usize, horizon: usize) -> Vec<(Method, Vec<f64>)> {
    let Some(history) = series.values.get(..end) else {
        return Vec::new();
    };
    let capped = Series {
        values: cap_spikes(history),
        ..series.clone()
    };
    MEMBERS
        .iter()
        .filter_map(|&method| predict(&capped, method, end, horizon).map(|p| (method, p)))
        .collect()
}

/// The combined forecast of the `horizon` periods after `values[..end]`: the members' forecasts
/// weighted by their one-step errors over up to [`MAX_ORIGINS`] periods before `end` (only
/// those: nothing at or after `end` is read; the latest count most, [`DECAY`]), shrunk toward
/// equal weights.
fn combination(series: &Series, end: usize, horizon: usize) -> Option<Vec<f64>> {
    let members = member_points(series, end, horizon);
    if members.is_empty() {
        return None;
    }
    let mut errors = vec![MemberErrors::default(); members.len()];
    for origin in end.saturating_sub(MAX_ORIGINS).max(1)..end {
        let actual = series.values[origin];
        let weight = DECAY.powi((end - 1 - origin) as i32);
        for (method, points) in member_points(series, origin, 1) {
            if let Some(i) = members.iter().position(|(m, _)| *m == method) {
                errors[i].add((actual - points[0].max(0.0)).abs(), weight);
            }
        }
    }
    let weights = weights(
        &errors,
        series.values[..end].iter().map(|v| v.abs()).sum::<f64>() / end as f64,
    );
    let total: f64 = weights.iter().sum();
    let mut out = vec![0.0; horizon];
    for ((_, points), weight) in members.iter().zip(&weights) {
        for (slot, point) in out.iter_mut().zip(points) {
            *slot += weight / total * point.max(0.0);
        }
    }
    Some(out)
}

/// A member's one-step errors at the origins before a forecast, each weighted by how recent it
/// is ([`DECAY`]).
#[derive(Clone, Copy, Debug, Default)]
struct MemberErrors {
    sum: f64,
    weight: f64,
    count: usize,
}

impl MemberErrors {
    fn add(&mut self, error: f64, weight: f64) {
        self.sum += error * weight;
        self.weight += weight;
        self.count += 1;
    }

    /// The weighted mean error, once there are [`MIN_ORIGINS`] errors.
    fn mean(&self) -> Option<f64> {
        (self.count >= MIN_ORIGINS && self.weight > 0.0).then(|| self.sum / self.weight)
    }
}

/// Weights from each member's recent errors: inverse mean error, shrunk by half toward equal.
/// A member with fewer than [`MIN_ORIGINS`] errors (it needs more history: the seasonal naive
/// in its second year) waits until it has them; with no scored member the weights are equal.
fn weights(errors: &[MemberErrors], scale: f64) -> Vec<f64> {
    let k = errors.len() as f64;
    // Keeps a perfect member (a constant series) from taking an infinite weight.
    let floor = 1e-6 * (1.0 + scale);
    let scored: Vec<Option<f64>> = errors
        .iter()
        .map(|e| e.mean().map(|mean| mean + floor))
        .collect();
    let known: Vec<f64> = scored.iter().flatten().copied().collect();
    if known.is_empty() {
        return vec![1.0 / k; errors.len()];
    }
    let best = known.iter().copied().fold(f64::INFINITY, f64::min);
    // Members far behind the best are left out (a trimmed combination): on a steep trend the
    // means and medians all lag, and an equal share for each would drag the forecast along.
    let errors: Vec<Option<f64>> = scored
        .iter()
        .map(|e| e.filter(|&e| e <= TRIM * best))
        .collect();
    let kept = errors.iter().flatten().count() as f64;
    let inverse: Vec<f64> = errors.iter().map(|e| e.map_or(0.0, |e| 1.0 / e)).collect();
    let sum: f64 = inverse.iter().sum();
    errors
        .iter()
        .zip(&inverse)
        .map(|(e, i)| match e {
            Some(_) => WEIGHT_SKILL * i / sum + (1.0 - WEIGHT_SKILL) / kept,
            None => 0.0,
        })
        .collect()
}

/// Holt's damped trend on `history`: the next value, with the smoothing parameters (from a
/// small grid) that make the smallest one-step errors on the history itself.
fn damped_trend(history: &[f64]) -> Option<f64> {
    if history.len() < 2 {
        return None;
    }
    let mut best: Option<(f64, f64)> = None;
    for alpha in [0.2, 0.4, 0.6, 0.8] {
        for beta in [0.05, 0.2] {
            for phi in [0.8, 0.9, 0.98] {
                let (error, next) = holt(history, alpha, beta, phi);
                if best.is_none_or(|(e, _)| error < e) {
                    best = Some((error, next));
                }
            }
        }
    }
    best.map(|(_, next)| next)
}

/// One pass of Holt's damped trend: (the sum of squared one-step errors, the next value).
fn holt(history: &[f64], alpha: f64, beta: f64, phi: f64) -> (f64, f64) {
    let mut level = history[0];
    let mut trend = history[1] - history[0];
    let mut error = 0.0;
    for &y in &history[1..] {
        let forecast = level + phi * trend;
        error += (y - forecast).powi(2);
        let previous = level;
        level = alpha * y + (1.0 - alpha) * forecast;
        trend = beta * (level - previous) + (1.0 - beta) * phi * trend;
    }
    (error, level + phi * trend)
}

/// A candidate must forecast at least this many of the backtest origins to take part.
const MIN_ORIGINS: usize = 3;

/// Backtests every method over the origins from `window` on, all on the same origins: a
/// method that needs more history (seasonal naive, the regressors) takes part when it can
/// forecast at least [`MIN_ORIGINS`] of them, and the comparison then runs on the origins every
/// taking part method could forecast.
fn compare(series: &Series, window: usize) -> Vec<Backtest> {
    let n = series.values.len();
    let first_possible = |method: Method| -> Option<usize> {
        (window..n).find(|&origin| predict(series, method, origin, 1).is_some())
    };
    let mut taking_part: Vec<(Method, usize)> = METHODS
        .iter()
        .filter_map(|&m| first_possible(m).map(|o| (m, o)))
        .filter(|(_, o)| n - o >= MIN_ORIGINS.min(n - window))
        .collect();
    // The common origins start where the latest starter starts.
    let start = taking_part.iter().map(|(_, o)| *o).max().unwrap_or(window);
    taking_part.retain(|(_, o)| *o <= start);
    taking_part
        .into_iter()
        .filter_map(|(method, _)| backtest(series, method, start))
        .collect()
}

/// One-step forecasts from every origin `o >= first_origin`, each from `values[..o]` only.
pub fn backtest(series: &Series, method: Method, first_origin: usize) -> Option<Backtest> {
    let values = &series.values;
    let mut residuals = Vec::new();
    let mut relative = Vec::new();
    let mut percentage = Vec::new();
    for (origin, &actual) in values.iter().enumerate().skip(first_origin) {
        let point = predict(series, method, origin, 1)?[0].max(0.0);
        residuals.push(actual - point);
        if point > 0.0 {
            relative.push((actual - point) / point);
        }
        if actual > 0.0 {
            percentage.push((actual - point).abs() / actual);
        }
    }
    if residuals.is_empty() {
        return None;
    }
    let mae = residuals.iter().map(|r| r.abs()).sum::<f64>() / residuals.len() as f64;
    let mape = (!percentage.is_empty())
        .then(|| percentage.iter().sum::<f64>() / percentage.len() as f64 * 100.0);
    Some(Backtest {
        method,
        mae,
        mape,
        residuals,
        relative,
    })
}

/// Forecasts `horizon` periods after `values[..end]`, using nothing at or after `end`.
/// Multi-step forecasts feed their own predictions back as lags.
pub fn predict(series: &Series, method: Method, end: usize, horizon: usize) -> Option<Vec<f64>> {
    if method == Method::Combination {
        return combination(series, end, horizon);
    }
    let history = series.values.get(..end)?;
    let regressor = match method {
        Method::Ridge | Method::RandomForest => Some(Regressor::fit(series, history, method)?),
        _ => None,
    };
    predict_with(series, method, end, horizon, regressor.as_ref())
}

fn predict_with(
    series: &Series,
    method: Method,
    end: usize,
    horizon: usize,
    regressor: Option<&Regressor>,
) -> Option<Vec<f64>> {
    let mut history: Vec<f64> = series.values.get(..end)?.to_vec();
    if history.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(horizon);
    for _ in 0..horizon {
        let t = history.len();
        let next = match method {
            Method::LastPeriod => history[t - 1],
            Method::TrailingMean | Method::InsufficientHistory => trailing_mean(&history, t, 3),
            Method::SeasonalNaive => *history.get(t.checked_sub(series.season)?)?,
            Method::TrailingMedian => median(&history[t.saturating_sub(3)..t]),
            Method::DampedTrend => damped_trend(&history)?,
            Method::Ridge | Method::RandomForest => regressor?.predict(series, &history, t)?,
            // Combined in `combination`, never step by step.
            Method::Combination => return None,
        };
        out.push(next);
        history.push(next.max(0.0));
    }
    Some(out)
}

fn trailing_mean(values: &[f64], t: usize, window: usize) -> f64 {
    let from = t.saturating_sub(window);
    let slice = &values[from..t];
    if slice.is_empty() {
        0.0
    } else {
        slice.iter().sum::<f64>() / slice.len() as f64
    }
}

/// Whether the regressors get the one-season lag: only with two seasons of history, so there
/// are enough rows that have it.
fn uses_season_lag(series: &Series, len: usize) -> bool {
    len >= 2 * series.season
}

/// Features of period `t` from `history[..t]`: lags 1–3, the 3-period mean, the one-season lag
/// (when used) and the position in the season as a point on the circle.
fn features(series: &Series, history: &[f64], t: usize, season_lag: bool) -> Vec<f64> {
    let lag = |k: usize| t.checked_sub(k).map_or(0.0, |i| history[i]);
    let angle = 2.0 * std::f64::consts::PI * ((series.offset + t) % series.season) as f64
        / series.season as f64;
    let mut row = vec![lag(1), lag(2), lag(3), trailing_mean(history, t, 3)];
    if season_lag {
        row.push(lag(series.season));
    }
    row.push(angle.sin());
    row.push(angle.cos());
    row
}

/// A regressor fitted on one history, with the feature set it was fitted on.
#[derive(Debug, Serialize, Deserialize)]
pub struct Regressor {
    season_lag: bool,
    fitted: Fitted,
}

#[derive(Debug, Serialize, Deserialize)]
enum Fitted {
    Ridge(RidgeRegression<f64, f64, DenseMatrix<f64>, Vec<f64>>),
    Forest(RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>),
    /// All targets equal: nothing to learn.
    Constant(f64),
}

impl Regressor {
    fn fit(series: &Series, history: &[f64], method: Method) -> Option<Regressor> {
        let season_lag = uses_season_lag(series, history.len());
        let first = if season_lag { series.season } else { 3 };
        let rows: Vec<Vec<f64>> = (first..history.len())
            .map(|t| features(series, history, t, season_lag))
            .collect();
        let targets: Vec<f64> = history.get(first..)?.to_vec();
        let needed = match method {
            Method::Ridge => MIN_ROWS_RIDGE,
            _ => MIN_ROWS_FOREST,
        };
        if rows.len() < needed {
            return None;
        }
        let first_target = targets[0];
        if targets.iter().all(|t| (t - first_target).abs() < 1e-9) {
            return Some(Regressor {
                season_lag,
                fitted: Fitted::Constant(first_target),
            });
        }
        let x = DenseMatrix::from_2d_vec(&rows).ok()?;
        let fitted = match method {
            Method::Ridge => Fitted::Ridge(
                RidgeRegression::fit(
                    &x,
                    &targets,
                    RidgeRegressionParameters::default()
                        .with_alpha(1.0)
                        .with_normalize(true),
                )
                .ok()?,
            ),
            _ => Fitted::Forest(
                RandomForestRegressor::fit(
                    &x,
                    &targets,
                    RandomForestRegressorParameters::default()
                        .with_n_trees(30)
                        .with_max_depth(6)
                        .with_min_samples_leaf(2)
                        .with_seed(42),
                )
                .ok()?,
            ),
        };
        Some(Regressor { season_lag, fitted })
    }

    fn predict(&self, series: &Series, history: &[f64], t: usize) -> Option<f64> {
        let row = features(series, history, t, self.season_lag);
        let x = DenseMatrix::from_2d_vec(&vec![row]).ok()?;
        let value = match &self.fitted {
            Fitted::Ridge(model) => model.predict(&x).ok()?.first().copied()?,
            Fitted::Forest(model) => model.predict(&x).ok()?.first().copied()?,
            Fitted::Constant(value) => *value,
        };
        value.is_finite().then_some(value)
    }
}

/// How much wider than the backtest errors' own percentiles a band from `n` of them is drawn
/// ([`SMALL_SAMPLE`]).
fn small_sample_widening(n: usize) -> f64 {
    1.0 + SMALL_SAMPLE / n.max(1) as f64
}

/// Where a history of periods starts: at the period of its first day (`start`, up to `next`),
/// or at the next one when that day falls in the period's second half (a month recorded from
/// the 30th on would read as a month of almost no spending).
pub fn first_whole_period(
    first_day: chrono::NaiveDate,
    start: chrono::NaiveDate,
    next: chrono::NaiveDate,
) -> chrono::NaiveDate {
    if (first_day - start).num_days() * 2 >= (next - start).num_days() {
        next
    } else {
        start
    }
}

/// 10th and 90th percentile of the residuals (linear interpolation).
pub fn residual_band(residuals: &[f64]) -> (f64, f64) {
    (percentile(residuals, 0.1), percentile(residuals, 0.9))
}

pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = q * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// `high` with a year of history and errors within 15 %, `medium` with half a year and within
/// 35 %, `low` otherwise.
fn confidence(history: usize, mape: Option<f64>) -> Confidence {
    match mape {
        Some(mape) if history >= 12 && mape <= 15.0 => Confidence::High,
        Some(mape) if history >= 6 && mape <= 35.0 => Confidence::Medium,
        _ => Confidence::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: Vec<f64>) -> Series {
        Series {
            values,
            season: 12,
            offset: 0,
        }
    }

    #[test]
    fn baselines_forecast_as_defined() {
        let s = series((1..=24).map(f64::from).collect());
        assert_eq!(
            predict(&s, Method::LastPeriod, 24, 2),
            Some(vec![24.0, 24.0])
        );
        assert_eq!(predict(&s, Method::TrailingMean, 24, 1), Some(vec![23.0]));
        // Same month last year: period 24 is month 0, a year after period 12 (value 13).
        assert_eq!(
            predict(&s, Method::SeasonalNaive, 24, 2),
            Some(vec![13.0, 14.0])
        );
        assert_eq!(predict(&s, Method::SeasonalNaive, 11, 1), None);
        // The mean feeds on itself over the horizon: (22+23+24)/3 = 23, then (23+24+23)/3.
        let two = predict(&s, Method::TrailingMean, 24, 2).unwrap();
        assert!((two[1] - 70.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn backtests_never_look_ahead() {
        // A series that jumps at the very end: a forecast from before the jump cannot know it.
        let mut values = vec![100.0; 30];
        values[29] = 10_000.0;
        let s = series(values.clone());
        for method in [
            Method::LastPeriod,
            Method::TrailingMean,
            Method::SeasonalNaive,
            Method::TrailingMedian,
            Method::DampedTrend,
            Method::Ridge,
            Method::RandomForest,
            Method::Combination,
        ] {
            let before = predict(&s, method, 29, 1).unwrap()[0];
            assert!(before < 1_000.0, "{method:?} saw the future: {before}");
            // Changing anything from the origin on changes nothing forecast from before it.
            let mut changed = values.clone();
            changed[29] = 1.0;
            let again = predict(&series(changed), method, 29, 1).unwrap()[0];
            assert!(
                (before - again).abs() < 1e-9,
                "{method:?} depends on a future value"
            );
        }
        let bt = backtest(&s, Method::LastPeriod, 28).unwrap();
        assert_eq!(bt.residuals, vec![0.0, 9_900.0]);
    }

    #[test]
    fn the_combination_is_served_and_every_single_method_reported_beside_it() {
        let pattern = [5.0, 3.0, 8.0, 1.0, 9.0, 2.0, 7.0, 4.0, 6.0, 10.0, 2.0, 5.0];
        let values: Vec<f64> = (0..36).map(|i| pattern[i % 12] * 100.0).collect();
        let model = SeriesModel::train(series(values));
        assert_eq!(model.method, Method::Combination);
        let reported: Vec<Method> = model.candidates.iter().map(|(m, _)| *m).collect();
        for method in [
            Method::LastPeriod,
            Method::TrailingMean,
            Method::SeasonalNaive,
            Method::TrailingMedian,
            Method::DampedTrend,
            Method::Combination,
        ] {
            assert!(reported.contains(&method), "{method:?} not in {reported:?}");
        }
        // On an exact yearly pattern the seasonal naive member earns the most weight: the
        // combination beats every other baseline there.
        let mae = |method: Method| {
            model
                .candidates
                .iter()
                .find(|(m, _)| *m == method)
                .unwrap()
                .1
        };
        assert!(mae(Method::Combination) < mae(Method::LastPeriod));
        assert!(mae(Method::Combination) < mae(Method::TrailingMean));
    }

    #[test]
    fn the_combination_stays_within_the_range_of_its_members() {
        let mut seed = 11;
        for _ in 0..50 {
            let values: Vec<f64> = (0..30)
                .map(|i| (800.0 + 20.0 * f64::from(i) + 150.0 * noise(&mut seed)).max(0.0))
                .collect();
            let s = series(values);
            let combined = combination(&s, 30, 1).unwrap()[0];
            let members: Vec<f64> = member_points(&s, 30, 1)
                .into_iter()
                .map(|(_, p)| p[0].max(0.0))
                .collect();
            let low = members.iter().copied().fold(f64::INFINITY, f64::min);
            let high = members.iter().copied().fold(0.0, f64::max);
            assert!(
                low - 1e-9 <= combined && combined <= high + 1e-9,
                "{combined} outside {low}..{high}"
            );
        }
    }

    #[test]
    fn a_one_off_spike_does_not_echo_into_next_month() {
        // Two years at about 1,000 a month, then a 9,000 month (a new laptop).
        let mut seed = 3;
        let mut values: Vec<f64> = (0..24).map(|_| 1_000.0 + 50.0 * noise(&mut seed)).collect();
        values.push(9_000.0);
        let model = SeriesModel::train(series(values));
        let next = model.forecast(1)[0];
        assert!(next.amount < 2_000.0, "the spike echoes: {next:?}");
        assert!(next.lower <= next.amount && next.amount <= next.upper);
    }

    #[test]
    fn weights_shrink_toward_equal_trim_laggards_and_tolerate_unscored_members() {
        let errors = |list: &[f64]| {
            let mut e = MemberErrors::default();
            for &x in list {
                e.add(x, 1.0);
            }
            e
        };
        // Mean errors 10 and 12: inverse weights 0.545 / 0.455, halfway to equal.
        let w = weights(&[errors(&[10.0; 3]), errors(&[12.0; 3])], 0.0);
        assert!(
            (w[0] - 0.5227).abs() < 1e-3 && (w[1] - 0.4773).abs() < 1e-3,
            "{w:?}"
        );
        // A member more than 1.25 times the best one's error is left out.
        let w = weights(
            &[errors(&[10.0; 3]), errors(&[12.0; 3]), errors(&[20.0; 3])],
            0.0,
        );
        assert_eq!(w[2], 0.0);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // A member with too few errors waits; none scored: equal.
        let w = weights(&[errors(&[10.0; 3]), errors(&[1.0])], 0.0);
        assert_eq!(w, vec![1.0, 0.0]);
        assert_eq!(
            weights(&[errors(&[]), errors(&[1.0, 1.0])], 0.0),
            vec![0.5, 0.5]
        );
        // Of two members as good on average, the one right lately weighs more.
        let recent = |list: &[f64]| {
            let mut e = MemberErrors::default();
            for (age, &x) in list.iter().rev().enumerate() {
                e.add(x, DECAY.powi(age as i32));
            }
            e
        };
        let w = weights(
            &[
                recent(&[50.0, 50.0, 50.0, 10.0, 10.0, 10.0]),
                recent(&[10.0, 10.0, 10.0, 50.0, 50.0, 50.0]),
            ],
            0.0,
        );
        assert!(w[0] > 0.6, "{w:?}");
    }

    #[test]
    fn a_rising_series_keeps_its_level_and_its_interval_scales_with_it() {
        // Spending that grows 8 % a month: the damped trend follows it, the trailing means
        // lag and are trimmed; the band is wide in proportion to the level.
        let values: Vec<f64> = (0..24).map(|i| 1_000.0 * 1.08f64.powi(i)).collect();
        let last = values[23];
        let model = SeriesModel::train(series(values));
        let next = model.forecast(1)[0];
        assert!(next.amount > last, "lags the trend: {next:?} after {last}");
        assert!(next.lower <= next.amount && next.amount <= next.upper);
    }

    #[test]
    fn short_histories_answer_the_trailing_mean() {
        let model = SeriesModel::train(series(vec![100.0, 300.0]));
        assert_eq!(model.method, Method::InsufficientHistory);
        assert_eq!(model.forecast(1)[0].amount, 200.0);
        assert_eq!(model.confidence, Confidence::Low);
        // Three months are enough for a model, but twelve weeks are not.
        let monthly = SeriesModel::train(series(vec![100.0, 300.0, 200.0]));
        assert_ne!(monthly.method, Method::InsufficientHistory);
        let weekly = |weeks: usize| Series {
            values: vec![50.0; weeks],
            season: 52,
            offset: 0,
        };
        let model = SeriesModel::train(weekly(12));
        assert_eq!(model.method, Method::InsufficientHistory);
        let model = SeriesModel::train(weekly(13));
        assert_ne!(model.method, Method::InsufficientHistory);
    }

    #[test]
    fn a_band_from_few_errors_is_drawn_wider() {
        assert!((small_sample_widening(3) - 2.0).abs() < 1e-12);
        assert!((small_sample_widening(12) - 1.25).abs() < 1e-12);
        assert!(small_sample_widening(0).is_finite());
        // A model trained on a few months draws its band wider than their errors' percentiles.
        let model = SeriesModel::train(series(vec![100.0, 300.0, 200.0, 250.0, 150.0]));
        let (low, high) = (model.residual_low, model.residual_high);
        assert!(model.origins > 0 && high > low);
        let backtest = backtest(&model.series, Method::Combination, 1).unwrap();
        let (plain_low, plain_high) = residual_band(&backtest.residuals);
        assert!(high - low > plain_high - plain_low, "{low}..{high}");
    }

    #[test]
    fn a_band_down_to_zero_reaches_to_the_80th_percentile() {
        // A category bought in one month of three: the band's lower end is zero, so it
        // holds every empty month, and its upper end is the 80th percentile, not the 90th.
        let values: Vec<f64> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    200.0 + 10.0 * f64::from(i)
                } else {
                    0.0
                }
            })
            .collect();
        let model = SeriesModel::train(series(values));
        let (high, relative) = model.high_from_zero.unwrap();
        let f = model.forecast(1)[0];
        assert_eq!(f.lower, 0.0);
        assert!(
            high < model.residual_high,
            "{high} vs {}",
            model.residual_high
        );
        let expected = (f.amount + high.max(relative * f.amount)).max(f.amount);
        assert!(
            (f.upper - expected).abs() < 1e-9,
            "{f:?}, expected {expected}"
        );
    }

    #[test]
    fn the_interval_holds_the_forecast_on_a_trend() {
        // Every backtest residual of a rising series is positive: the band's lower end would
        // sit above the point without the clamp.
        let values: Vec<f64> = (1..=8).map(|i| 100.0 * f64::from(i)).collect();
        let model = SeriesModel::train(series(values));
        for f in model.forecast(3) {
            assert!(f.lower <= f.amount && f.amount <= f.upper, "{f:?}");
        }
    }

    /// Deterministic noise, roughly normal (sum of uniforms), from a small LCG.
    fn noise(seed: &mut u64) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            sum += (*seed >> 11) as f64 / (1u64 << 53) as f64;
        }
        sum - 6.0
    }

    #[test]
    fn intervals_cover_about_eighty_percent_of_known_noise() {
        // Level 1000 with N(0, 100) noise: the 10–90 % band should hold about 80 % of new draws.
        let mut seed = 7;
        let mut covered = 0;
        let trials = 200;
        for _ in 0..trials {
            let values: Vec<f64> = (0..36)
                .map(|_| 1_000.0 + 100.0 * noise(&mut seed))
                .collect();
            let model = SeriesModel::train(series(values));
            let next = 1_000.0 + 100.0 * noise(&mut seed);
            let f = model.forecast(1)[0];
            if f.lower <= next && next <= f.upper {
                covered += 1;
            }
        }
        let rate = f64::from(covered) / f64::from(trials);
        assert!((0.6..=0.95).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert!((percentile(&[0.0, 10.0], 0.9) - 9.0).abs() < 1e-9);
        assert_eq!(percentile(&[], 0.1), 0.0);
    }
}
