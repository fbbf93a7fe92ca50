//! Predictions: features, models and their evaluation, with no HTTP in them. The routes under
//! `/api/v1/predictions` and `/api/v1/insights` and the `eval-ml` command call into here;
//! `crate::db::ml` loads the data and stores the fitted models.

pub mod anomaly;
pub mod bayes;
pub mod categorizer;
pub mod eval;
pub mod forecast;
pub mod insights;
pub mod intent;
pub mod logistic;
pub mod packed;

pub mod text;
