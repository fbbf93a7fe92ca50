//! Text features for category suggestions: normalised words, word pairs and character n-grams
//! of a transaction's description and merchant, and a coarse amount bucket.
//!
//! A feature is named by a short text ("w:coffee", "c:^co", "b:thai restaurant", "a:2") but
//! kept as the 64-bit FNV-1a hash of that name: training holds thousands of documents of about
//! a hundred features each, and eight bytes a feature instead of a string is most of the
//! difference between a few MB and a few tens of MB. The hash is fixed (not the standard
//! library's, which may change between releases) because vocabularies are stored with models.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The hash of one feature name.
pub type Feature = u64;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over a feature's name, fed in pieces so no name is ever built as a string.
#[derive(Clone, Copy)]
struct Name(u64);

impl Name {
    /// A name that starts with `kind` and a colon.
    fn new(kind: u8) -> Self {
        Name(FNV_OFFSET).bytes(&[kind, b':'])
    }

    fn bytes(mut self, bytes: &[u8]) -> Self {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    fn str(self, text: &str) -> Self {
        self.bytes(text.as_bytes())
    }

    fn char(self, c: char) -> Self {
        self.str(c.encode_utf8(&mut [0; 4]))
    }
}

/// The feature of a whole name, e.g. `feature("w:coffee")`: what [`features`] yields for it.
pub fn feature(name: &str) -> Feature {
    Name(FNV_OFFSET).str(name).0
}

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

/// The features of one transaction. Each feature appears once per occurrence.
pub fn features(description: &str, merchant: Option<&str>, amount: Option<f64>) -> Vec<Feature> {
    let mut out = Vec::new();
    let mut all_words = words(description);
    if let Some(merchant) = merchant {
        let merchant_words = words(merchant);
        if !merchant_words.is_empty() {
            out.push(Name::new(b'm').str(&merchant_words.join(" ")).0);
        }
        all_words.extend(merchant_words);
    }
    for word in &all_words {
        out.push(Name::new(b'w').str(word).0);
        let padded: Vec<char> = std::iter::once('^')
            .chain(word.chars())
            .chain(std::iter::once('$'))
            .collect();
        for n in 3..=5 {
            for gram in padded.windows(n) {
                out.push(gram.iter().fold(Name::new(b'c'), |name, c| name.char(*c)).0);
            }
        }
    }
    for pair in all_words.windows(2) {
        out.push(Name::new(b'b').str(&pair[0]).str(" ").str(&pair[1]).0);
    }
    if let Some(amount) = amount.filter(|a| *a > 0.0) {
        out.push(Name::new(b'a').str(&amount_bucket(amount).to_string()).0);
    }
    out
}

/// Half-decade buckets of the amount's magnitude (…, 10–31, 31–100, 100–316, …).
pub fn amount_bucket(amount: f64) -> i32 {
    (amount.log10() * 2.0).floor() as i32
}

/// Maps features to columns; built from training data and kept with the model (packed: eight
/// bytes a feature).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "StoredVocabulary")]
pub struct Vocabulary {
    /// The features, strictly ascending: a feature's column is its position.
    #[serde(with = "super::packed::u64s")]
    features: Vec<Feature>,
}

/// A vocabulary as stored, before its order is checked (lookups search it).
#[derive(Deserialize)]
struct StoredVocabulary {
    #[serde(with = "super::packed::u64s")]
    features: Vec<Feature>,
}

impl TryFrom<StoredVocabulary> for Vocabulary {
    type Error = &'static str;

    fn try_from(stored: StoredVocabulary) -> Result<Self, Self::Error> {
        if stored.features.windows(2).all(|pair| pair[0] < pair[1]) {
            Ok(Vocabulary {
                features: stored.features,
            })
        } else {
            Err("a vocabulary's features must be strictly ascending")
        }
    }
}

impl Vocabulary {
    /// The `limit` most frequent features of the documents (ties by hash, so the result does
    /// not depend on hash-map order).
    pub fn build<'a>(documents: impl Iterator<Item = &'a Vec<Feature>>, limit: usize) -> Self {
        let mut counts: HashMap<Feature, usize> = HashMap::new();
        for document in documents {
            for feature in document {
                *counts.entry(*feature).or_default() += 1;
            }
        }
        let mut ranked: Vec<(Feature, usize)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        let mut features: Vec<Feature> = ranked.into_iter().map(|(f, _)| f).collect();
        features.sort_unstable();
        Vocabulary { features }
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The column of a feature, if the vocabulary has it.
    pub fn column(&self, feature: Feature) -> Option<usize> {
        self.features.binary_search(&feature).ok()
    }

    /// Column counts of one document, as (column, count) pairs.
    pub fn counts(&self, document: &[Feature]) -> Vec<(usize, u32)> {
        let mut counts: HashMap<usize, u32> = HashMap::new();
        for feature in document {
            if let Some(column) = self.column(*feature) {
                *counts.entry(column).or_default() += 1;
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
    fn features_cover_merchant_words_pairs_grams_and_amount() {
        let f = features("Thai Restaurant", Some("Phở 24"), Some(24.22));
        for name in [
            "m:phở",
            "w:thai",
            "w:phở",
            "b:thai restaurant",
            "b:restaurant phở",
            "c:^th",
            "c:ant$",
            "c:^phở$",
            "a:2",
        ] {
            assert!(f.contains(&feature(name)), "{name}");
        }
        assert!(!f.contains(&feature("w:restaurants")));
        // Three words, the merchant, two pairs, the n-grams of "^thai$" (4+3+2), "^restaurant$"
        // (10+9+8) and "^phở$" (3+2+1), and the amount.
        assert_eq!(f.len(), 3 + 1 + 2 + 9 + 27 + 6 + 1);
    }

    #[test]
    fn feature_hashes_are_fixed() {
        // Stored vocabularies depend on these values: FNV-1a 64 of the name.
        assert_eq!(feature(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(feature("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn vocabulary_keeps_the_most_frequent_features() {
        let (a, b, c) = (feature("w:a"), feature("w:b"), feature("w:c"));
        let docs = [vec![a, b], vec![a, c], vec![b]];
        let vocabulary = Vocabulary::build(docs.iter(), 2);
        assert_eq!(vocabulary.len(), 2);
        let (column_a, column_b) = (
            vocabulary.column(a).expect("a"),
            vocabulary.column(b).expect("b"),
        );
        let mut expected = vec![(column_a, 2), (column_b, 1)];
        expected.sort_unstable();
        assert_eq!(vocabulary.counts(&[a, b, a]), expected);
        assert!(vocabulary.counts(&[c]).is_empty());
        // Stored and read back, it maps the same.
        let json = serde_json::to_string(&vocabulary).expect("serialise");
        let back: Vocabulary = serde_json::from_str(&json).expect("read");
        assert_eq!(back.counts(&[b, a, a]), expected);
        // Stored out of order, it does not read (a lookup would find the wrong columns).
        let unsorted = Vocabulary {
            features: vec![b.max(a), b.min(a)],
        };
        let json = serde_json::to_string(&unsorted).expect("serialise");
        assert!(serde_json::from_str::<Vocabulary>(&json).is_err());
    }
}
