//! The assistant's intent classifier: multinomial naive Bayes (smartcore, through
//! [`super::bayes`]) over the word, word-pair and character n-gram features of a question with
//! its accents folded away and its numbers masked, trained on the question corpus the project
//! ships (`assets/assistant/train.tsv`). The held-out set (`assets/assistant/eval.tsv`, written
//! separately) measures it, and the entity reader of `crate::domain::question`, in
//! [`evaluate`].

use std::collections::HashMap;

use chrono::NaiveDate;

use super::bayes::{self, Class};
use super::text::{self, Feature, Vocabulary};
use crate::domain::question::{self, Entities, Name};

/// The corpus the classifier learns from.
pub const TRAINING_CORPUS: &str = include_str!("../../assets/assistant/train.tsv");
/// The held-out questions the README's accuracy figures come from.
pub const EVALUATION_SET: &str = include_str!("../../assets/assistant/eval.tsv");

const ALPHA: f64 = 0.05;
const MAX_FEATURES: usize = 60_000;
const CHAR_GRAMS: usize = 4;

/// Every intent the assistant answers (and `out_of_scope`, which it declines).
pub const INTENTS: &[&str] = &[
    "spending",
    "budget_status",
    "budget_remaining",
    "budget_closest",
    "biggest_expenses",
    "compare_periods",
    "income",
    "net_savings",
    "balance",
    "forecast",
    "upcoming_bills",
    "unusual",
    "subscriptions",
    "goal_progress",
    "afford",
    "follow_up",
    "out_of_scope",
];

/// One line of a corpus.
#[derive(Debug, Clone)]
pub struct Labelled<'a> {
    pub intent: &'a str,
    pub lang: &'a str,
    pub question: &'a str,
    /// The eval set's expected entities (`key=value;…`).
    pub expected: &'a str,
}

/// The lines of a corpus (`intent<TAB>lang<TAB>question[<TAB>expected]`; `#` comments).
pub fn parse_corpus(text: &str) -> Vec<Labelled<'_>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some(Labelled {
                intent: fields.next()?.trim(),
                lang: fields.next()?.trim(),
                question: fields.next()?.trim(),
                expected: fields.next().unwrap_or("").trim(),
            })
        })
        .collect()
}

/// The features of a question: folded, its periods and amounts masked (see
/// [`question::mask`]), remaining digits masked (an amount or a count says little about
/// what is asked, and "3" must not tell one intent from another).
pub fn features(question: &str) -> Vec<Feature> {
    let masked: String = question::mask(question)
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect();
    let words: Vec<&str> = masked.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    for word in &words {
        out.push(text::feature(&format!("w:{word}")));
        let padded: Vec<char> = format!("^{word}$").chars().collect();
        for n in 3..=CHAR_GRAMS {
            for gram in padded.windows(n) {
                out.push(text::feature(&format!(
                    "c:{}",
                    gram.iter().collect::<String>()
                )));
            }
        }
    }
    for pair in words.windows(2) {
        out.push(text::feature(&format!("b:{} {}", pair[0], pair[1])));
    }
    // A question's first two words say much of what it asks ("how much", "which budget",
    // "bao nhieu", "con ..."), and how many periods it names tells a comparison.
    if let Some(first) = words.first() {
        out.push(text::feature(&format!("o:{first}")));
        if let Some(second) = words.get(1) {
            out.push(text::feature(&format!("o:{first} {second}")));
        }
    }
    let periods = words.iter().filter(|w| **w == "xperiod").count().min(2);
    out.push(text::feature(&format!("p:{periods}")));
    out.push(text::feature(&format!("n:{}", words.len().min(8))));
    out
}

/// A fitted intent classifier.
#[derive(Debug)]
pub struct IntentModel {
    vocabulary: Vocabulary,
    classes: Vec<Class>,
    labels: Vec<String>,
}

impl IntentModel {
    /// Fits the classifier on a corpus.
    pub fn train(corpus: &str) -> Result<IntentModel, String> {
        let lines = parse_corpus(corpus);
        let mut labels: Vec<String> = lines.iter().map(|l| l.intent.to_owned()).collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err("the corpus needs at least two intents".into());
        }
        let index: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let documents: Vec<(Vec<Feature>, u32)> = lines
            .iter()
            .map(|l| (features(l.question), index[l.intent]))
            .collect();
        let vocabulary = Vocabulary::build(documents.iter().map(|(f, _)| f), MAX_FEATURES);
        let ids: Vec<u32> = (0..labels.len() as u32).collect();
        let classes = bayes::fit(&vocabulary, &documents, &ids, ALPHA)?;
        Ok(IntentModel {
            vocabulary,
            classes,
            labels,
        })
    }

    /// The share of a question's features the corpus has seen (0 for a question in another
    /// script or of words it never met): below a floor, no intent is trusted.
    pub fn known_share(&self, question: &str) -> f64 {
        let features = features(question);
        let known: u32 = self
            .vocabulary
            .counts(&features)
            .iter()
            .map(|(_, c)| c)
            .sum();
        f64::from(known) / features.len().max(1) as f64
    }

    /// Intents with probabilities, best first.
    pub fn classify(&self, question: &str) -> Vec<(&str, f64)> {
        let mut ranked: Vec<(&str, f64)> = bayes::posterior(
            &self.classes,
            &self.vocabulary,
            &features(question),
            &|_| true,
        )
        .into_iter()
        .filter_map(|(label, p)| Some((self.labels.get(label as usize)?.as_str(), p)))
        .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        ranked
    }
}

/// Whether the entity reader should read a bare month as a coming one.
pub fn looks_ahead(intent: &str) -> bool {
    matches!(intent, "afford" | "forecast")
}

/// Accuracy of one language of the held-out set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LanguageScore {
    pub questions: usize,
    pub intents_right: usize,
    pub entities: usize,
    pub entities_right: usize,
    /// Questions whose intent was wrong, with what was predicted.
    pub misses: Vec<(String, String, String)>,
    /// Entities read wrong: (question, key, expected, read).
    pub entity_misses: Vec<(String, String, String, String)>,
}

impl LanguageScore {
    pub fn intent_accuracy(&self) -> f64 {
        self.intents_right as f64 / self.questions.max(1) as f64
    }

    pub fn entity_accuracy(&self) -> f64 {
        self.entities_right as f64 / self.entities.max(1) as f64
    }
}

/// The value the reader found for one expected key, as the eval set writes it.
fn read_value(entities: &Entities, key: &str) -> String {
    let period = |p: Option<question::Period>| p.map(|p| format!("{}..{}", p.from, p.to));
    let value = match key {
        "category" => entities.category.as_ref().map(|f| f.name.clone()),
        "merchant" => entities.merchant.as_ref().map(|f| f.name.clone()),
        "wallet" => entities.wallet.as_ref().map(|f| f.name.clone()),
        "goal" => entities.goal.as_ref().map(|f| f.name.clone()),
        "period" => period(entities.period),
        "compare" => period(entities.compare),
        "amount" => entities.amount.map(|a| a.normalize().to_string()),
        "date" => entities.date.map(|d| d.to_string()),
        "top" => entities.top.map(|t| t.to_string()),
        "average" => entities.average.map(|per| per.as_str().to_owned()),
        _ => None,
    };
    value.unwrap_or_default()
}

/// Scores the classifier and the entity reader on a labelled set, per language, against a
/// ledger with `names` on `today`. The entities are read as the service reads them: after the
/// predicted intent, with a comparison's single period read as "this one against that one".
pub fn evaluate(
    model: &IntentModel,
    set: &str,
    names: &[Name],
    today: NaiveDate,
) -> HashMap<String, LanguageScore> {
    let mut scores: HashMap<String, LanguageScore> = HashMap::new();
    for line in parse_corpus(set) {
        let score = scores.entry(line.lang.to_owned()).or_default();
        score.questions += 1;
        let predicted = model
            .classify(line.question)
            .first()
            .map_or("", |(intent, _)| *intent)
            .to_owned();
        if predicted == line.intent {
            score.intents_right += 1;
        } else {
            score.misses.push((
                line.question.to_owned(),
                line.intent.to_owned(),
                predicted.clone(),
            ));
        }
        let mut entities = question::extract(line.question, names, today, looks_ahead(&predicted));
        question::settle(&mut entities, &predicted, today);
        for pair in line.expected.split(';').filter(|p| !p.trim().is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            score.entities += 1;
            let read = read_value(&entities, key.trim());
            if read == value.trim() {
                score.entities_right += 1;
            } else {
                score.entity_misses.push((
                    line.question.to_owned(),
                    key.trim().to_owned(),
                    value.trim().to_owned(),
                    read,
                ));
            }
        }
    }
    scores
}

/// The fixture ledger the eval set refers to (`assets/assistant/SPEC.md`).
pub fn fixture_names() -> Vec<Name> {
    use question::NameKind;
    let lists: [(NameKind, &[&str]); 4] = [
        (
            NameKind::Category,
            &[
                "Food",
                "Groceries",
                "Restaurants",
                "Transport",
                "Entertainment",
                "Shopping",
                "Rent",
                "Utilities",
                "Health",
                "Travel",
                "Salary",
                "Ăn uống",
                "Đi lại",
                "Giải trí",
                "Mua sắm",
                "Tiền nhà",
                "Điện nước",
                "Sức khỏe",
                "Lương",
            ],
        ),
        (
            NameKind::Merchant,
            &[
                "Starbucks",
                "Grab",
                "Amazon",
                "Netflix",
                "Spotify",
                "Highlands Coffee",
                "Circle K",
                "Shopee",
                "Uber",
                "Walmart",
                "Phúc Long",
                "Bách Hóa Xanh",
            ],
        ),
        (
            NameKind::Wallet,
            &[
                "Cash",
                "Checking",
                "Savings",
                "Credit Card",
                "Tiền mặt",
                "Vietcombank",
                "Momo",
            ],
        ),
        (
            NameKind::Goal,
            &[
                "Vacation",
                "Emergency Fund",
                "New Laptop",
                "Du lịch Nhật Bản",
                "Mua xe",
                "Quỹ khẩn cấp",
            ],
        ),
    ];
    lists
        .iter()
        .flat_map(|(kind, names)| {
            names.iter().enumerate().map(|(index, name)| Name {
                kind: *kind,
                name: (*name).to_owned(),
                index,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_covers_every_intent_in_both_languages() {
        for corpus in [TRAINING_CORPUS, EVALUATION_SET] {
            let lines = parse_corpus(corpus);
            for intent in INTENTS {
                for lang in ["en", "vi"] {
                    assert!(
                        lines.iter().any(|l| l.intent == *intent && l.lang == lang),
                        "{intent}/{lang} missing"
                    );
                }
            }
            assert!(lines.iter().all(|l| INTENTS.contains(&l.intent)));
        }
    }

    #[test]
    fn questions_in_other_scripts_are_mostly_unknown_to_the_model() {
        let model = IntentModel::train(TRAINING_CORPUS).unwrap();
        for question in [
            "Кто ты 你好 ok?",
            "日本語の質問です",
            "Ελληνικά γράμματα εδώ",
        ] {
            assert!(
                model.known_share(question) < 0.3,
                "{question}: {}",
                model.known_share(question)
            );
        }
        for question in [
            "how much did I spend on yachts?",
            "thang nay toi tieu bao nhieu",
            "spendng on groceires",
        ] {
            assert!(
                model.known_share(question) > 0.5,
                "{question}: {}",
                model.known_share(question)
            );
        }
    }

    #[test]
    fn no_question_of_the_eval_set_is_in_the_training_corpus() {
        let training: std::collections::HashSet<String> = parse_corpus(TRAINING_CORPUS)
            .iter()
            .map(|l| question::fold(l.question))
            .collect();
        let shared: Vec<&str> = parse_corpus(EVALUATION_SET)
            .iter()
            .filter(|l| training.contains(&question::fold(l.question)))
            .map(|l| l.question)
            .collect();
        assert!(shared.is_empty(), "in both: {shared:?}");
    }

    /// The README's figures: `cargo test --lib intent -- --nocapture` prints them.
    #[test]
    fn held_out_accuracy_meets_the_targets_in_each_language() {
        let model = IntentModel::train(TRAINING_CORPUS).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let scores = evaluate(&model, EVALUATION_SET, &fixture_names(), today);
        for lang in ["en", "vi"] {
            let s = &scores[lang];
            println!(
                "{lang}: {} questions, intent accuracy {:.3}, entity accuracy {:.3} ({} entities)",
                s.questions,
                s.intent_accuracy(),
                s.entity_accuracy(),
                s.entities
            );
            for miss in &s.misses {
                println!("  intent miss: {miss:?}");
            }
            for miss in &s.entity_misses {
                println!("  entity miss: {miss:?}");
            }
        }
        for lang in ["en", "vi"] {
            let s = &scores[lang];
            assert!(
                s.intent_accuracy() >= 0.95,
                "{lang} intents {:.3}",
                s.intent_accuracy()
            );
            assert!(
                s.entity_accuracy() >= 0.90,
                "{lang} entities {:.3}",
                s.entity_accuracy()
            );
        }
    }
}
