//! Multinomial logistic regression over sparse text features: the categoriser's classifier.
//!
//! Rows are TF-IDF vectors (sublinear term frequency, smoothed inverse document frequency,
//! unit length) over the columns of a [`Vocabulary`]. The fit is stochastic gradient descent
//! on the softmax cross-entropy with an L2 penalty, kept sparse by holding the weights as
//! `scale × w` (the penalty shrinks the scale, a step touches only the row's columns), with
//! the step size falling as `η₀ / (1 + η₀·λ·t)` and a fixed shuffle per epoch, so the same
//! data gives the same model. smartcore's logistic regression would need the documents as a
//! dense matrix (5,000 documents × 30,000 columns is 1.2 GB of `f64`), so this one is written
//! for sparse rows: a softmax regression (as scikit-learn's multinomial `LogisticRegression`),
//! fitted by stochastic gradient rather than L-BFGS.
//!
//! The weights are stored packed (little-endian `f32` in base64): a model of 20 categories
//! and 20,000 columns is 1.6 MB of numbers, which as JSON text would be four times that.

use serde::{Deserialize, Serialize};

use super::packed;

/// Inverse strength of the penalty on the weights, as scikit-learn's `C`: the penalty per
/// example is λ = 1 / (C·n), so a small training set is held closer to its prior.
const C: f64 = 10.0;
/// First step size; rows have unit length.
const ETA0: f64 = 0.5;
/// Passes over the data: at least 12, and enough that a small training set (a new user's few
/// dozen choices and the category names) still gets about 6,000 steps.
const MIN_EPOCHS: usize = 12;
const MIN_STEPS: usize = 6_000;
const MAX_EPOCHS: usize = 200;

/// A fitted model. A stored one whose parts disagree (a corrupt row, a format of another
/// release) fails to read, so its owner's model is trained again rather than served broken.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Stored")]
pub struct Logistic {
    labels: Vec<u32>,
    /// Inverse document frequency of each column.
    #[serde(with = "packed::f32s")]
    idf: Vec<f32>,
    /// `weights[column * labels.len() + k]`: the weight of `column` for `labels[k]`.
    #[serde(with = "packed::f32s")]
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A model as stored, before its parts are checked against each other.
#[derive(Deserialize)]
struct Stored {
    labels: Vec<u32>,
    #[serde(with = "packed::f32s")]
    idf: Vec<f32>,
    #[serde(with = "packed::f32s")]
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl TryFrom<Stored> for Logistic {
    type Error = &'static str;

    fn try_from(stored: Stored) -> Result<Self, Self::Error> {
        let Stored {
            labels,
            idf,
            weights,
            bias,
        } = stored;
        if labels.len() < 2 || !labels.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err("a logistic model needs two or more labels, ascending");
        }
        if bias.len() != labels.len() || weights.len() != idf.len() * labels.len() {
            return Err("a logistic model's weights do not match its labels and columns");
        }
        Ok(Logistic {
            labels,
            idf,
            weights,
            bias,
        })
    }
}

/// One document as (column, value) pairs, unit length.
type Row = Vec<(usize, f32)>;

impl Logistic {
    /// Fits on documents given as vocabulary columns (`(column, count)` pairs, as
    /// [`Vocabulary::counts`] gives them) of a vocabulary `width` columns wide. `labels` are
    /// sorted and distinct; documents with another label are skipped. None with fewer than two
    /// labels.
    ///
    /// [`Vocabulary::counts`]: super::text::Vocabulary::counts
    pub fn fit(
        documents: &[(Vec<(usize, u32)>, u32)],
        labels: &[u32],
        width: usize,
    ) -> Option<Self> {
        if labels.len() < 2 || documents.is_empty() {
            return None;
        }
        let mut frequency = vec![0u32; width];
        for (counts, _) in documents {
            for (column, _) in counts {
                if let Some(df) = frequency.get_mut(*column) {
                    *df += 1;
                }
            }
        }
        let n = documents.len() as f64;
        let idf = frequency
            .iter()
            .map(|df| (((1.0 + n) / (1.0 + f64::from(*df))).ln() + 1.0) as f32)
            .collect();
        let mut model = Logistic {
            labels: labels.to_vec(),
            weights: vec![0.0; width * labels.len()],
            bias: vec![0.0; labels.len()],
            idf,
        };
        let rows: Vec<(Row, usize)> = documents
            .iter()
            .filter_map(|(counts, label)| {
                let class = labels.binary_search(label).ok()?;
                Some((model.row(counts), class))
            })
            .collect();
        model.descend(&rows);
        Some(model)
    }

    /// A document's TF-IDF row, unit length (columns the model does not have are left out).
    fn row(&self, counts: &[(usize, u32)]) -> Row {
        let mut row: Row = counts
            .iter()
            .filter_map(|(column, count)| {
                let idf = self.idf.get(*column)?;
                Some((*column, (1.0 + (*count as f32).ln()) * idf))
            })
            .collect();
        let norm = row.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut row {
                *v /= norm;
            }
        }
        row
    }

    fn logits(&self, row: &Row, scale: f64, out: &mut [f64]) {
        let k = self.labels.len();
        for (logit, bias) in out.iter_mut().zip(&self.bias) {
            *logit = f64::from(*bias);
        }
        for (column, value) in row {
            let weights = &self.weights[column * k..(column + 1) * k];
            for (logit, w) in out.iter_mut().zip(weights) {
                *logit += scale * f64::from(*value) * f64::from(*w);
            }
        }
    }

    fn descend(&mut self, rows: &[(Row, usize)]) {
        let k = self.labels.len();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut scale = 1.0f64;
        let mut step = 0.0f64;
        let mut gradient = vec![0.0; k];
        let lambda = 1.0 / (C * rows.len().max(1) as f64);
        let epochs = MIN_STEPS
            .div_ceil(rows.len().max(1))
            .clamp(MIN_EPOCHS, MAX_EPOCHS);
        for _ in 0..epochs {
            // Fisher–Yates with xorshift: the same shuffle every time.
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                order.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            for &index in &order {
                let (row, class) = &rows[index];
                let eta = ETA0 / (1.0 + ETA0 * lambda * step);
                step += 1.0;
                self.logits(row, scale, &mut gradient);
                let max = gradient.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for logit in gradient.iter_mut() {
                    *logit = (*logit - max).exp();
                    sum += *logit;
                }
                // The loss's gradient by each logit: p - [k = class].
                for (c, g) in gradient.iter_mut().enumerate() {
                    *g = *g / sum - if c == *class { 1.0 } else { 0.0 };
                }
                scale *= 1.0 - eta * lambda;
                if scale < 1e-6 {
                    for w in &mut self.weights {
                        *w = (f64::from(*w) * scale) as f32;
                    }
                    scale = 1.0;
                }
                for (column, value) in row {
                    let weights = &mut self.weights[column * k..(column + 1) * k];
                    let factor = eta * f64::from(*value) / scale;
                    for (w, g) in weights.iter_mut().zip(&gradient) {
                        *w -= (factor * g) as f32;
                    }
                }
                for (b, g) in self.bias.iter_mut().zip(&gradient) {
                    *b -= (eta * g) as f32;
                }
            }
        }
        for w in &mut self.weights {
            *w = (f64::from(*w) * scale) as f32;
        }
    }

    /// Columns the model has weights for (the width of the vocabulary it was fitted on).
    pub fn width(&self) -> usize {
        self.idf.len()
    }

    /// Label probabilities of a document (its vocabulary counts) over the labels `allowed`
    /// admits, in label order; they sum to 1 over those.
    pub fn posterior(
        &self,
        counts: &[(usize, u32)],
        allowed: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut logits = vec![0.0; self.labels.len()];
        self.logits(&self.row(counts), 1.0, &mut logits);
        let scored: Vec<(u32, f64)> = self
            .labels
            .iter()
            .zip(logits)
            .filter(|(label, _)| allowed(**label))
            .map(|(label, logit)| (*label, logit))
            .collect();
        super::bayes::softmax(&scored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents() -> Vec<(Vec<(usize, u32)>, u32)> {
        // Columns 0–1 mark label 7, 2–3 label 9; column 4 occurs in both.
        vec![
            (vec![(0, 1), (1, 1), (4, 1)], 7),
            (vec![(0, 1), (4, 1)], 7),
            (vec![(1, 2)], 7),
            (vec![(2, 1), (3, 1), (4, 1)], 9),
            (vec![(2, 1)], 9),
            (vec![(3, 1), (4, 1)], 9),
        ]
    }

    fn best(model: &Logistic, counts: &[(usize, u32)]) -> (u32, f64) {
        model
            .posterior(counts, &|_| true)
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("two labels")
    }

    #[test]
    fn separates_labels_by_their_columns() {
        let model = Logistic::fit(&documents(), &[7, 9], 5).expect("two labels");
        let (label, p) = best(&model, &[(0, 1)]);
        assert_eq!(label, 7);
        assert!(p > 0.6, "{p}");
        assert_eq!(best(&model, &[(3, 1), (2, 1)]).0, 9);
        // A column beyond the vocabulary is ignored, not a panic.
        assert_eq!(best(&model, &[(2, 1), (99, 3)]).0, 9);
        let total: f64 = model
            .posterior(&[(4, 1)], &|_| true)
            .iter()
            .map(|(_, p)| p)
            .sum();
        assert!((total - 1.0).abs() < 1e-9);
        // A filter leaves the other label alone, with all the probability.
        assert_eq!(model.posterior(&[(0, 1)], &|l| l == 9), vec![(9, 1.0)]);
    }

    #[test]
    fn one_label_fits_nothing_and_the_fit_is_repeatable() {
        assert!(Logistic::fit(&documents(), &[7], 5).is_none());
        let a = Logistic::fit(&documents(), &[7, 9], 5).expect("fit");
        let b = Logistic::fit(&documents(), &[7, 9], 5).expect("fit");
        assert_eq!(a.weights, b.weights);
    }

    #[test]
    fn a_stored_model_that_disagrees_with_itself_does_not_read() {
        let model = Logistic::fit(&documents(), &[7, 9], 5).expect("fit");
        let json = serde_json::to_value(&model).expect("serialise");
        assert!(serde_json::from_value::<Logistic>(json.clone()).is_ok());
        // Weights for two columns only, while there are five.
        let short = serde_json::to_value(Logistic {
            weights: model.weights[..4].to_vec(),
            ..model.clone()
        })
        .expect("serialise");
        let mut broken = json.clone();
        broken["weights"] = short["weights"].clone();
        assert!(serde_json::from_value::<Logistic>(broken).is_err());
        let mut broken = json.clone();
        broken["bias"] = serde_json::json!([0.0]);
        assert!(serde_json::from_value::<Logistic>(broken).is_err());
        let mut broken = json;
        broken["labels"] = serde_json::json!([9, 7]);
        assert!(serde_json::from_value::<Logistic>(broken).is_err());
    }

    #[test]
    fn survives_serialisation_exactly() {
        let model = Logistic::fit(&documents(), &[7, 9], 5).expect("fit");
        let json = serde_json::to_string(&model).expect("serialise");
        let back: Logistic = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back.weights, model.weights);
        assert_eq!(back.idf, model.idf);
    }
}
