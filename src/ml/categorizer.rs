//! Category suggestions: a multinomial logistic regression ([`super::logistic`]) over the
//! TF-IDF weighted text features of [`super::text`], trained per user on their own categorised
//! transactions, together with a memory of the payees the user categorised before (their
//! latest choices weigh most). Category names and a small lexicon of common merchant words
//! back the model for new users.
//!
//! The previous classifier, a multinomial naive Bayes, was measured beside it on every
//! evaluation set (README, Predictions): blended at any weight it only lowered the logistic
//! regression's accuracy, so it is no longer part of the categoriser (the assistant's intent
//! classifier still uses it).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::logistic::Logistic;
use super::text::{self, Feature, Vocabulary};

/// A suggestion at least this probable is applied by `auto_categorize`.
pub const AUTO_APPLY_THRESHOLD: f64 = 0.6;
/// Most recent distinct examples a model learns from.
const MAX_EXAMPLES: usize = 5000;
const MAX_FEATURES: usize = 50_000;
/// Most weights (classes × features) of a model (2.4 MB of `f32`, 3.2 MB as stored): fewer
/// features for a user with many categories.
const MAX_WEIGHTS: usize = 600_000;
/// Most categories the classifier learns (those with the most documents); the payee memory
/// still knows every category. Bounds training (its cost grows with the categories) and the
/// model for a ledger with thousands of categories.
const MAX_CLASSES: usize = 300;
/// How much an earlier choice for the same payee counts against each later one.
const MEMORY_DECAY: f64 = 0.5;

/// One labelled transaction (labels are indexes into the caller's list of categories).
#[derive(Debug, Clone)]
pub struct Example {
    pub description: String,
    pub merchant: Option<String>,
    pub amount: Option<f64>,
    pub label: u32,
}

/// A fitted categoriser. A stored one whose classifier does not match its vocabulary fails to
/// read (and is trained again).
#[derive(Debug, Serialize, Deserialize)]
#[serde(try_from = "StoredCategorizer")]
pub struct Categorizer {
    vocabulary: Vocabulary,
    /// The classifier; none when the training data had fewer than two labels.
    logistic: Option<Logistic>,
    /// The only label, when the training data had one.
    only_label: Option<u32>,
    /// Payee key → (label, weight), from the user's own transactions.
    memory: HashMap<String, Vec<(u32, f64)>>,
    pub examples: usize,
}

/// A categoriser as stored, before its parts are checked against each other.
#[derive(Deserialize)]
struct StoredCategorizer {
    vocabulary: Vocabulary,
    logistic: Option<Logistic>,
    only_label: Option<u32>,
    memory: HashMap<String, Vec<(u32, f64)>>,
    examples: usize,
}

impl TryFrom<StoredCategorizer> for Categorizer {
    type Error = &'static str;

    fn try_from(stored: StoredCategorizer) -> Result<Self, Self::Error> {
        if stored
            .logistic
            .as_ref()
            .is_some_and(|model| model.width() != stored.vocabulary.len())
        {
            return Err("a categoriser's classifier does not match its vocabulary");
        }
        Ok(Categorizer {
            vocabulary: stored.vocabulary,
            logistic: stored.logistic,
            only_label: stored.only_label,
            memory: stored.memory,
            examples: stored.examples,
        })
    }
}

impl Categorizer {
    /// Fits a categoriser. `examples` run oldest first (later ones weigh more in the memory);
    /// `background` are phrases that describe a label (category names, common merchants) and
    /// teach the classifier without entering the memory.
    pub fn train(examples: &[Example], background: &[(String, u32)]) -> Self {
        let mut memory: HashMap<String, Vec<(u32, f64)>> = HashMap::new();
        for example in examples {
            remember(&mut memory, example);
        }

        // Distinct (features, label) documents, newest first, then the background phrases.
        let mut seen = std::collections::HashSet::new();
        let mut documents: Vec<(Vec<Feature>, u32)> = Vec::new();
        for example in examples.iter().rev() {
            let features = text::features(
                &example.description,
                example.merchant.as_deref(),
                example.amount,
            );
            if features.is_empty() || !seen.insert((features.clone(), example.label)) {
                continue;
            }
            documents.push((features, example.label));
            if documents.len() == MAX_EXAMPLES {
                break;
            }
        }
        for (phrase, label) in background {
            let features = text::features(phrase, None, None);
            if !features.is_empty() {
                documents.push((features, *label));
            }
        }

        let mut per_label: HashMap<u32, usize> = HashMap::new();
        for (_, label) in &documents {
            *per_label.entry(*label).or_default() += 1;
        }
        let mut ranked: Vec<(u32, usize)> = per_label.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_CLASSES);
        let mut labels: Vec<u32> = ranked.into_iter().map(|(label, _)| label).collect();
        labels.sort_unstable();
        documents.retain(|(_, label)| labels.binary_search(label).is_ok());
        // A user with many categories gets fewer features, so a model stays a few MB.
        let max_features = (MAX_WEIGHTS / labels.len().max(1)).clamp(1_000, MAX_FEATURES);
        let vocabulary = Vocabulary::build(documents.iter().map(|(f, _)| f), max_features);
        let rows: Vec<(Vec<(usize, u32)>, u32)> = documents
            .iter()
            .map(|(features, label)| (vocabulary.counts(features), *label))
            .collect();
        let logistic = Logistic::fit(&rows, &labels, vocabulary.len());
        let only_label = (labels.len() == 1).then(|| labels[0]);
        Categorizer {
            vocabulary,
            logistic,
            only_label,
            memory,
            examples: examples.len(),
        }
    }

    /// Learns choices made after training (oldest first) into the payee memory: the classifier
    /// waits for its next training, but the next suggestion for the same payee follows them.
    pub fn remember_choices(&mut self, examples: &[Example]) {
        for example in examples {
            remember(&mut self.memory, example);
        }
    }

    /// Labels with probabilities, best first, over the labels `allowed` admits (probabilities
    /// sum to 1 over those).
    pub fn suggest(
        &self,
        description: &str,
        merchant: Option<&str>,
        amount: Option<f64>,
        allowed: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f64)> {
        let mut scores: HashMap<u32, f64> = HashMap::new();
        if let Some(model) = &self.logistic {
            let features = text::features(description, merchant, amount);
            scores.extend(model.posterior(&self.vocabulary.counts(&features), allowed));
        } else if let Some(label) = self.only_label.filter(|l| allowed(*l)) {
            scores.insert(label, 1.0);
        }

        let key = text::key(description, merchant);
        if let Some(weights) = self.memory.get(&key) {
            let weights: Vec<(u32, f64)> = weights
                .iter()
                .copied()
                .filter(|(l, _)| allowed(*l))
                .collect();
            let total: f64 = weights.iter().map(|(_, w)| w).sum();
            if total > 0.0 {
                let trust = total / (total + 0.5);
                for p in scores.values_mut() {
                    *p *= 1.0 - trust;
                }
                for (label, weight) in weights {
                    *scores.entry(label).or_default() += trust * weight / total;
                }
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

/// One more choice for a payee: earlier choices fade, this one counts in full.
fn remember(memory: &mut HashMap<String, Vec<(u32, f64)>>, example: &Example) {
    let key = text::key(&example.description, example.merchant.as_deref());
    if key.is_empty() {
        return;
    }
    let weights = memory.entry(key).or_default();
    for (_, weight) in weights.iter_mut() {
        *weight *= MEMORY_DECAY;
    }
    match weights
        .iter_mut()
        .find(|(label, _)| *label == example.label)
    {
        Some((_, weight)) => *weight += 1.0,
        None => weights.push((example.label, 1.0)),
    }
}

/// The suggestion `auto_categorize` applies, if the best one is sure enough.
pub fn confident(suggestions: &[(u32, f64)]) -> Option<(u32, f64)> {
    suggestions
        .first()
        .copied()
        .filter(|(_, p)| *p >= AUTO_APPLY_THRESHOLD)
}

/// Words that name common merchants and spending for the default categories (by name), so a
/// new user gets sensible suggestions before they have categorised anything.
pub const LEXICON: &[(&str, &[&str])] = &[
    (
        "Groceries",
        &[
            "grocery",
            "supermarket",
            "market",
            "walmart",
            "costco",
            "aldi",
            "kroger",
            "whole foods",
            "trader joe",
            "lidl",
            "tesco",
            "coopmart",
            "bach hoa xanh",
            "winmart",
            "big c",
        ],
    ),
    (
        "Restaurants",
        &[
            "restaurant",
            "grill",
            "diner",
            "bistro",
            "pizza",
            "sushi",
            "bbq",
            "steakhouse",
            "tavern",
            "pho",
            "noodle",
            "kitchen",
            "burger",
            "mcdonald",
            "kfc",
            "lunch",
            "dinner",
        ],
    ),
    (
        "Cafe",
        &[
            "coffee",
            "cafe",
            "starbucks",
            "highlands",
            "espresso",
            "tea",
            "bakery",
            "phuc long",
            "the coffee house",
        ],
    ),
    (
        "Fuel",
        &[
            "gas station",
            "fuel",
            "petrol",
            "shell",
            "bp",
            "exxon",
            "chevron",
            "petrolimex",
            "valero",
            "texaco",
        ],
    ),
    (
        "Public Transit",
        &["metro", "bus", "train", "subway", "transit", "railway"],
    ),
    (
        "Taxi & Ride-hailing",
        &["uber", "lyft", "grab", "taxi", "cab", "be ride", "gojek"],
    ),
    ("Parking", &["parking", "garage", "toll"]),
    (
        "Rent & Mortgage",
        &["rent", "mortgage", "landlord", "lease"],
    ),
    (
        "Maintenance",
        &[
            "hardware store",
            "home depot",
            "lowes",
            "repair",
            "plumber",
            "ikea",
        ],
    ),
    (
        "Electricity",
        &["electric", "power company", "electricity", "evn"],
    ),
    ("Water", &["water", "sewer"]),
    (
        "Internet & Phone",
        &[
            "internet",
            "phone",
            "mobile",
            "broadband",
            "viettel",
            "vnpt",
            "verizon",
            "at&t",
            "t-mobile",
            "comcast",
        ],
    ),
    (
        "Movies & Events",
        &[
            "cinema", "movie", "theater", "concert", "ticket", "cgv", "event",
        ],
    ),
    (
        "Subscriptions",
        &[
            "netflix",
            "spotify",
            "youtube",
            "apple",
            "disney",
            "subscription",
            "hulu",
            "icloud",
        ],
    ),
    (
        "Health",
        &[
            "pharmacy",
            "doctor",
            "hospital",
            "clinic",
            "dental",
            "cvs",
            "walgreens",
            "medicine",
            "gym",
            "fitness",
        ],
    ),
    (
        "Shopping",
        &[
            "amazon", "target", "mall", "shopee", "lazada", "tiki", "best buy", "clothing",
            "store", "shop", "ebay",
        ],
    ),
    (
        "Education",
        &[
            "school",
            "tuition",
            "course",
            "books",
            "udemy",
            "coursera",
            "university",
        ],
    ),
    ("Salary", &["salary", "payroll", "paycheck", "wage"]),
    ("Bonus", &["bonus", "commission"]),
    ("Investment income", &["dividend", "interest", "investment"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn example(description: &str, label: u32) -> Example {
        Example {
            description: description.to_owned(),
            merchant: None,
            amount: Some(10.0),
            label,
        }
    }

    fn any(_: u32) -> bool {
        true
    }

    #[test]
    fn learns_words_and_generalises_to_new_payees() {
        let examples = vec![
            example("Thai Restaurant", 0),
            example("Greek Restaurant", 0),
            example("Shell", 1),
            example("BP gas", 1),
            example("Grocery Store", 2),
        ];
        let model = Categorizer::train(&examples, &[]);
        let best = model.suggest("Vietnamese Restaurant", None, None, &any);
        assert_eq!(best[0].0, 0);
        let total: f64 = best.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_latest_choice_for_a_payee_wins_after_a_correction() {
        let mut examples = vec![
            example("Netflix", 0),
            example("Cinema", 0),
            example("Rent", 1),
        ];
        let model = Categorizer::train(&examples, &[]);
        assert_eq!(model.suggest("Netflix", None, None, &any)[0].0, 0);
        examples.push(example("Netflix", 1));
        let model = Categorizer::train(&examples, &[]);
        assert_eq!(model.suggest("Netflix", None, None, &any)[0].0, 1);
    }

    #[test]
    fn background_phrases_back_a_new_user_and_filters_apply() {
        let background = vec![
            ("coffee".to_owned(), 0),
            ("starbucks".to_owned(), 0),
            ("uber".to_owned(), 1),
            ("salary".to_owned(), 2),
        ];
        let model = Categorizer::train(&[], &background);
        assert_eq!(model.suggest("STARBUCKS 123", None, None, &any)[0].0, 0);
        let no_coffee = model.suggest("STARBUCKS 123", None, None, &|l| l != 0);
        assert!(no_coffee.iter().all(|(l, _)| *l != 0));
    }

    #[test]
    fn the_threshold_decides_auto_categorisation() {
        assert_eq!(confident(&[(3, 0.61), (1, 0.2)]), Some((3, 0.61)));
        assert_eq!(
            confident(&[(3, AUTO_APPLY_THRESHOLD)]),
            Some((3, AUTO_APPLY_THRESHOLD))
        );
        assert_eq!(confident(&[(3, 0.59), (1, 0.4)]), None);
        assert_eq!(confident(&[]), None);
    }

    #[test]
    fn a_model_survives_serialisation() {
        let examples = vec![example("Thai Restaurant", 0), example("Shell", 1)];
        let model = Categorizer::train(&examples, &[]);
        let json = serde_json::to_value(&model).unwrap();
        let back: Categorizer = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            back.suggest("Shell", None, None, &any),
            model.suggest("Shell", None, None, &any)
        );
        // A classifier of another vocabulary's width does not read back.
        let mut broken = json;
        broken["vocabulary"] = serde_json::to_value(Vocabulary::default()).unwrap();
        assert!(serde_json::from_value::<Categorizer>(broken).is_err());
    }

    #[test]
    fn the_classifier_learns_at_most_its_share_of_categories() {
        let examples: Vec<Example> = (0..MAX_CLASSES as u32 + 20)
            .flat_map(|label| {
                // Label 0 has three examples, the others one each.
                let copies = if label == 0 { 3 } else { 1 };
                (0..copies).map(move |i| example(&format!("payee{label}x{i} shop"), label))
            })
            .collect();
        let model = Categorizer::train(&examples, &[]);
        let classes = model.suggest("something new", None, None, &any);
        assert_eq!(classes.len(), MAX_CLASSES);
        assert!(classes.iter().any(|(label, _)| *label == 0));
        // A category outside the classifier is still known to the payee memory.
        let last = MAX_CLASSES as u32 + 19;
        assert_eq!(
            model.suggest(&format!("payee{last}x0 shop"), None, None, &any)[0].0,
            last
        );
    }
}
