//! Spending forecasts for one series (monthly or weekly totals): three baselines and two
//! smartcore regressors, chosen per series by rolling-origin backtest MAE. A regressor is served
//! only when it beats the best baseline; the interval comes from the chosen method's backtest
//! residuals.

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
                confidence: Confidence::Low,
                origins: 0,
                regressor: None,
            };
        }
        let window = n - MAX_ORIGINS.min(n - 1);
        let backtests = compare(&series, window);
        let best_baseline = backtests
            .iter()
            .filter(|b| b.method.is_baseline())
            .min_by(|a, b| a.mae.total_cmp(&b.mae));
        let best_model = backtests
            .iter()
            .filter(|b| !b.method.is_baseline())
            .min_by(|a, b| a.mae.total_cmp(&b.mae));
        let chosen = match (best_baseline, best_model) {
            (Some(base), Some(model)) if model.mae < base.mae => model,
            (Some(base), _) => base,
            (None, Some(model)) => model,
            (None, None) => unreachable!("the last-period baseline always backtests"),
        }
        .clone();
        let (residual_low, residual_high) = residual_band(&chosen.residuals);
        let confidence = confidence(n, chosen.mape);
        let regressor = match chosen.method {
            Method::Ridge | Method::RandomForest => {
                Regressor::fit(&series, &series.values, chosen.method)
            }
            _ => None,
        };
        SeriesModel {
            regressor,
            candidates: backtests.iter().map(|b| (b.method, b.mae)).collect(),
            method: chosen.method,
            mae: Some(chosen.mae),
            mape: chosen.mape,
            residual_low,
            residual_high,
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
        let points = predict_with(
            &self.series,
            self.method,
            values.len(),
            horizon,
            self.regressor.as_ref(),
        )
        .unwrap_or_else(|| vec![values.last().copied().unwrap_or(0.0); horizon]);
        points
            .into_iter()
            .enumerate()
            .map(|(step, point)| {
                // Errors grow with the horizon; one-step residuals scaled by √h.
                let widen = ((step + 1) as f64).sqrt();
                let amount = point.max(0.0);
                Forecast {
                    amount,
                    // Residuals all of one sign (a trend) would leave the point outside.
                    lower: (amount + self.residual_low * widen).clamp(0.0, amount),
                    upper: (amount + self.residual_high * widen).max(amount),
                }
            })
            .collect()
    }
}

/// Every method in the order they are tried (baselines first: on a tie the simpler one wins).
const METHODS: [Method; 5] = [
    Method::LastPeriod,
    Method::TrailingMean,
    Method::SeasonalNaive,
    Method::Ridge,
    Method::RandomForest,
];
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
    let mut percentage = Vec::new();
    for (origin, &actual) in values.iter().enumerate().skip(first_origin) {
        let point = predict(series, method, origin, 1)?[0].max(0.0);
        residuals.push(actual - point);
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
    })
}

/// Forecasts `horizon` periods after `values[..end]`, using nothing at or after `end`.
/// Multi-step forecasts feed their own predictions back as lags.
pub fn predict(series: &Series, method: Method, end: usize, horizon: usize) -> Option<Vec<f64>> {
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
            Method::Ridge | Method::RandomForest => regressor?.predict(series, &history, t)?,
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
            Method::Ridge,
            Method::RandomForest,
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
    fn a_regressor_wins_only_when_it_beats_the_baselines() {
        // A strong yearly pattern: the seasonal naive baseline is exact, nothing beats it.
        let pattern = [5.0, 3.0, 8.0, 1.0, 9.0, 2.0, 7.0, 4.0, 6.0, 10.0, 2.0, 5.0];
        let values: Vec<f64> = (0..36).map(|i| pattern[i % 12] * 100.0).collect();
        let model = SeriesModel::train(series(values));
        assert_eq!(model.method, Method::SeasonalNaive);
        assert_eq!(model.mae, Some(0.0));
        // A linear trend: lags predict it, last period lags it by one step.
        let values: Vec<f64> = (0..36).map(|i| 1_000.0 + 50.0 * f64::from(i)).collect();
        let model = SeriesModel::train(series(values));
        assert_eq!(model.method, Method::Ridge);
        let last_period = model
            .candidates
            .iter()
            .find(|(m, _)| *m == Method::LastPeriod)
            .unwrap()
            .1;
        assert!(model.mae.unwrap() < last_period);
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
