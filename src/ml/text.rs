//! Text features for category suggestions: normalised words, word pairs and character n-grams
//! of a transaction's description and merchant, and a coarse amount bucket.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Lower-case words of letters and digits; tokens that are only digits (store numbers, card
/// digits, dates) and one-letter tokens carry no meaning and are dropped.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 1 && !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// The key under which the same payee is recognised again: its words, joined.
pub fn key(description: &str, merchant: Option<&str>) -> String {
    let merchant = merchant.unwrap_or_default();
    let source = if merchant.trim().is_empty() {
        description
    } else {
        merchant
    };
    words(source).join(" ")
}

/// The feature strings of one transaction. Each feature appears once per occurrence.
pub fn features(description: &str, merchant: Option<&str>, amount: Option<f64>) -> Vec<String> {
    let mut out = Vec::new();
    let mut all_words = words(description);
    if let Some(merchant) = merchant {
        let merchant_words = words(merchant);
        if !merchant_words.is_empty() {
            out.push(format!("m:{}", merchant_words.join(" ")));
        }
        all_words.extend(merchant_words);
    }
    for word in &all_words {
        out.push(format!("w:{word}"));
        let padded: Vec<char> = format!("^{word}$").chars().collect();
        for n in 3..=5 {
            for gram in padded.windows(n) {
                out.push(format!("c:{}", gram.iter().collect::<String>()));
            }
        }
    }
    for pair in all_words.windows(2) {
        out.push(format!("b:{} {}", pair[0], pair[1]));
    }
    if let Some(amount) = amount.filter(|a| *a > 0.0) {
        out.push(format!("a:{}", amount_bucket(amount)));
    }
    out
}

/// Half-decade buckets of the amount's magnitude (…, 10–31, 31–100, 100–316, …).
pub fn amount_bucket(amount: f64) -> i32 {
    (amount.log10() * 2.0).floor() as i32
}

/// Maps feature strings to columns; built from training data and kept with the model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vocabulary {
    columns: HashMap<String, u32>,
}

impl Vocabulary {
    /// The `limit` most frequent features of the documents (ties by name, so the result does
    /// not depend on hash order).
    pub fn build<'a>(documents: impl Iterator<Item = &'a Vec<String>>, limit: usize) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for document in documents {
            for feature in document {
                *counts.entry(feature.as_str()).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked.truncate(limit);
        Vocabulary {
            columns: ranked
                .into_iter()
                .enumerate()
                .map(|(i, (f, _))| (f.to_owned(), i as u32))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Column counts of one document, as (column, count) pairs.
    pub fn counts(&self, document: &[String]) -> Vec<(usize, u32)> {
        let mut counts: HashMap<usize, u32> = HashMap::new();
        for feature in document {
            if let Some(&column) = self.columns.get(feature) {
                *counts.entry(column as usize).or_default() += 1;
            }
        }
        let mut out: Vec<(usize, u32)> = counts.into_iter().collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_numbers_and_punctuation() {
        assert_eq!(
            words("STARBUCKS #1234 Seattle, WA 98101"),
            vec!["starbucks", "seattle", "wa"]
        );
        assert_eq!(key("Grocery Store #12", None), "grocery store");
        assert_eq!(key("card payment", Some("Phở 24")), "phở");
    }

    #[test]
    fn features_cover_words_pairs_grams_and_amount() {
        let f = features("Thai Restaurant", None, Some(24.22));
        assert!(f.contains(&"w:thai".to_owned()));
        assert!(f.contains(&"b:thai restaurant".to_owned()));
        assert!(f.contains(&"c:^th".to_owned()));
        assert!(f.contains(&"c:ant$".to_owned()));
        assert!(f.contains(&"a:2".to_owned()));
    }

    #[test]
    fn vocabulary_keeps_the_most_frequent_features() {
        let docs = [
            vec!["a".to_owned(), "b".to_owned()],
            vec!["a".to_owned(), "c".to_owned()],
        ];
        let vocabulary = Vocabulary::build(docs.iter(), 2);
        assert_eq!(vocabulary.len(), 2);
        assert_eq!(
            vocabulary.counts(&["a".to_owned(), "a".to_owned()]),
            vec![(0, 2)]
        );
        assert!(vocabulary.counts(&["c".to_owned()]).is_empty());
    }
}
