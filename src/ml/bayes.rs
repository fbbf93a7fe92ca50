//! Multinomial naive Bayes over text features, shared by the categoriser and the assistant's
//! intent classifier.
//!
//! Multinomial naive Bayes needs nothing of the training documents but each class's summed
//! feature counts, so smartcore fits it on one row per class, not one per document: the
//! vocabulary can be large while the fit stays bounded. What is kept is each class's prior and
//! the log-probabilities of the features it has seen (the rest share one smoothed value):
//! compact to store and reload.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::naive_bayes::multinomial::{MultinomialNB, MultinomialNBParameters};

use super::text::{Feature, Vocabulary};

type Model = MultinomialNB<u32, u32, DenseMatrix<u32>, Vec<u32>>;

/// One class of a fitted classifier.
#[derive(Debug, Serialize, Deserialize)]
pub struct Class {
    pub label: u32,
    /// ln P(class): the share of training documents in it.
    log_prior: f64,
    /// ln P(feature | class) of the features the class has seen, by column, sorted.
    seen: Vec<(u32, f32)>,
    /// ln P(feature | class) of every other feature (smoothing alone).
    unseen: f64,
}

impl Class {
    pub fn log_prob(&self, column: u32) -> f64 {
        match self.seen.binary_search_by_key(&column, |(c, _)| *c) {
            Ok(i) => f64::from(self.seen[i].1),
            Err(_) => self.unseen,
        }
    }
}

/// Fits smartcore's multinomial naive Bayes on each class's summed counts and keeps what
/// prediction needs.
pub fn fit(
    vocabulary: &Vocabulary,
    documents: &[(Vec<Feature>, u32)],
    labels: &[u32],
    alpha: f64,
) -> Result<Vec<Class>, String> {
    let width = vocabulary.len().max(1);
    let mut sums = vec![vec![0u32; width]; labels.len()];
    let mut documents_per_class = vec![0usize; labels.len()];
    for (features, label) in documents {
        let Ok(row) = labels.binary_search(label) else {
            continue;
        };
        documents_per_class[row] += 1;
        for (column, count) in vocabulary.counts(features) {
            sums[row][column] = sums[row][column].saturating_add(count);
        }
    }
    let x = DenseMatrix::from_2d_vec(&sums).map_err(|e| e.to_string())?;
    let model: Model = MultinomialNB::fit(
        &x,
        &labels.to_vec(),
        MultinomialNBParameters::default().with_alpha(alpha),
    )
    .map_err(|e| e.to_string())?;
    let total = documents_per_class.iter().sum::<usize>().max(1) as f64;
    let mut classes = Vec::new();
    for (index, label) in model.classes().iter().enumerate() {
        let Ok(row) = labels.binary_search(label) else {
            continue;
        };
        let log_prob = &model.feature_log_prob()[index];
        let counts = &sums[row];
        let seen: Vec<(u32, f32)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(column, _)| (column as u32, log_prob[column] as f32))
            .collect();
        // Every unseen feature of a class gets the same smoothed probability.
        let unseen = counts
            .iter()
            .position(|c| *c == 0)
            .map_or(f64::NEG_INFINITY, |column| log_prob[column]);
        classes.push(Class {
            label: *label,
            log_prior: (documents_per_class[row].max(1) as f64 / total).ln(),
            seen,
            unseen,
        });
    }
    Ok(classes)
}

/// Label probabilities of a document's features over the classes `allowed` admits, tempered:
/// naive Bayes treats overlapping n-grams as independent evidence and is far too sure of
/// itself; dividing the log-likelihood by the square root of the evidence's size keeps the
/// probabilities usable for a threshold.
pub fn posterior(
    classes: &[Class],
    vocabulary: &Vocabulary,
    features: &[Feature],
    allowed: &dyn Fn(u32) -> bool,
) -> Vec<(u32, f64)> {
    let counts = vocabulary.counts(features);
    let total: u32 = counts.iter().map(|(_, c)| c).sum();
    let temperature = f64::from(total.max(1)).sqrt();
    let logits: Vec<(u32, f64)> = classes
        .iter()
        .filter(|class| allowed(class.label))
        .map(|class| {
            let likelihood: f64 = counts
                .iter()
                .map(|(column, count)| f64::from(*count) * class.log_prob(*column as u32))
                .sum();
            (class.label, class.log_prior + likelihood / temperature)
        })
        .collect();
    softmax(&logits)
}

pub fn softmax(logits: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let max = logits
        .iter()
        .map(|(_, l)| *l)
        .fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<(u32, f64)> = logits.iter().map(|(k, l)| (*k, (l - max).exp())).collect();
    let sum: f64 = exps.iter().map(|(_, e)| e).sum();
    exps.into_iter()
        .map(|(k, e)| (k, if sum > 0.0 { e / sum } else { 0.0 }))
        .collect()
}
