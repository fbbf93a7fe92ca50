//! What a question names: periods ("last month", "since March", "tuần trước"), amounts ("$2,000",
//! "5 triệu"), a count ("top 5"), a date to afford something by, and the ledger's own names
//! (categories, merchants, wallets, goals), matched accent- and case-insensitively and with a
//! typo or two; an average asked per day, week or month ("average monthly spending", "trung
//! bình mỗi tháng"). English and Vietnamese, with or without diacritics. Pure: the names and
//! `today` come in.

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A question longer than this (in characters) is refused before it is read.
pub const MAX_QUESTION_CHARS: usize = 500;

/// Lower case without diacritics: "Tháng Trước" → "thang truoc", "Đi lại" → "di lai".
pub fn fold(text: &str) -> String {
    text.chars()
        .map(fold_char)
        .collect::<String>()
        .to_lowercase()
}

fn fold_char(c: char) -> char {
    const GROUPS: &[(&str, char)] = &[
        ("àáạảãâầấậẩẫăằắặẳẵäå", 'a'),
        ("ÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴÄÅ", 'A'),
        ("èéẹẻẽêềếệểễë", 'e'),
        ("ÈÉẸẺẼÊỀẾỆỂỄË", 'E'),
        ("ìíịỉĩïî", 'i'),
        ("ÌÍỊỈĨÏÎ", 'I'),
        ("òóọỏõôồốộổỗơờớợởỡö", 'o'),
        ("ÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠÖ", 'O'),
        ("ùúụủũưừứựửữüû", 'u'),
        ("ÙÚỤỦŨƯỪỨỰỬỮÜÛ", 'U'),
        ("ỳýỵỷỹÿ", 'y'),
        ("ỲÝỴỶỸ", 'Y'),
        ("đ", 'd'),
        ("Đ", 'D'),
        ("ç", 'c'),
        ("ñ", 'n'),
    ];
    if c.is_ascii() {
        return c;
    }
    GROUPS
        .iter()
        .find(|(group, _)| group.contains(c))
        .map_or(c, |(_, plain)| *plain)
}

/// The words of a folded text: letters and digits, with a decimal point or comma kept inside
/// a number ("1.5", "2,000").
pub fn tokens(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, c) in chars.iter().enumerate() {
        let inside_number = matches!(c, '.' | ',')
            && current.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let in_date = (*c == '-' && looks_like_iso_date(&chars, i))
            || (*c == '/' && looks_like_slash_date(&chars, i));
        if c.is_alphanumeric() || inside_number || in_date {
            current.push(*c);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if *c == '$' {
            out.push("$".into());
        }
        // A minus sign before a number is its own word, so "-500" is not read as 500.
        if *c == '-'
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric())
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == '$')
        {
            out.push("-".into());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A '/' inside "11/28/2026" (not "tháng 11/2026", nor "50/50").
fn looks_like_slash_date(chars: &[char], i: usize) -> bool {
    let part = |c: &char| c.is_ascii_digit() || *c == '/';
    let start = chars[..i]
        .iter()
        .rposition(|c| !part(c))
        .map_or(0, |k| k + 1);
    let end = chars[i..]
        .iter()
        .position(|c| !part(c))
        .map_or(chars.len(), |k| i + k);
    let text: String = chars[start..end].iter().collect();
    let parts: Vec<&str> = text.split('/').collect();
    parts.len() == 3
        && parts[0].len() <= 2
        && parts[1].len() <= 2
        && parts[2].len() == 4
        && parts.iter().all(|p| !p.is_empty())
}

fn looks_like_iso_date(chars: &[char], i: usize) -> bool {
    chars
        .get(i.wrapping_sub(1))
        .is_some_and(|c| c.is_ascii_digit())
        && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
}

/// A date range, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn month_of(date: NaiveDate) -> Period {
        let from = date.with_day(1).unwrap_or(date);
        let to = from
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(from);
        Period { from, to }
    }

    fn months_back(today: NaiveDate, months: u32) -> Period {
        let first = today.with_day(1).unwrap_or(today);
        Period::month_of(
            first
                .checked_sub_months(Months::new(months))
                .unwrap_or(first),
        )
    }

    fn week_of(date: NaiveDate) -> Period {
        let from = date
            .checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
            .unwrap_or(date);
        Period {
            from,
            to: from.checked_add_days(Days::new(6)).unwrap_or(from),
        }
    }

    fn year(year: i32) -> Option<Period> {
        Some(Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The same length just before this one (a whole month before a whole month).
    pub fn previous(&self) -> Period {
        if self.from.day() == 1 && Period::month_of(self.from).to == self.to {
            return Period::month_of(self.from.pred_opt().unwrap_or(self.from));
        }
        let to = self.from.pred_opt().unwrap_or(self.from);
        Period {
            from: to
                .checked_sub_days(Days::new(self.days() as u64 - 1))
                .unwrap_or(to),
            to,
        }
    }
}

/// What an average is taken per: "average monthly spending", "per week", "a day", "trung bình
/// mỗi tháng", "hàng tuần".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AverageUnit {
    Day,
    Week,
    Month,
}

impl AverageUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            AverageUnit::Day => "day",
            AverageUnit::Week => "week",
            AverageUnit::Month => "month",
        }
    }

    /// The whole days, weeks or months behind an average reads when the question names no
    /// period (fewer when the ledger's history is shorter).
    pub fn default_count(self) -> u32 {
        match self {
            AverageUnit::Day => 30,
            AverageUnit::Week => 12,
            AverageUnit::Month => 12,
        }
    }

    /// The first day of the day, week (from Monday) or month containing `date`.
    fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            AverageUnit::Day => date,
            AverageUnit::Week => Period::week_of(date).from,
            AverageUnit::Month => Period::month_of(date).from,
        }
    }

    /// `count` days, weeks or months before `start`.
    fn back(self, start: NaiveDate, count: u32) -> Option<NaiveDate> {
        match self {
            AverageUnit::Day => start.checked_sub_days(Days::new(u64::from(count))),
            AverageUnit::Week => start.checked_sub_days(Days::new(7 * u64::from(count))),
            AverageUnit::Month => start.checked_sub_months(Months::new(count)),
        }
    }

    /// The first day of the unit after the one starting on `start`.
    fn after(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            AverageUnit::Day => start.succ_opt(),
            AverageUnit::Week => start.checked_add_days(Days::new(7)),
            AverageUnit::Month => start.checked_add_months(Months::new(1)),
        }
    }

    /// How many whole units run from `from` (a unit's first day) to `to` (a unit's last).
    fn count(self, from: NaiveDate, to: NaiveDate) -> u32 {
        let days = (to - from).num_days() + 1;
        let count = match self {
            AverageUnit::Day => days,
            AverageUnit::Week => days / 7,
            AverageUnit::Month => {
                i64::from(to.year() - from.year()) * 12 + i64::from(to.month())
                    - i64::from(from.month())
                    + 1
            }
        };
        u32::try_from(count.max(0)).unwrap_or(0)
    }
}

/// The whole days, weeks or months an average is taken over, and how many: those within the
/// period the question names, else the last [`AverageUnit::default_count`]; only those that
/// are over (never the one running today), and none before the one in which the ledger's
/// history begins (`first`: a ledger begun three months ago averages three months, the first
/// of them counted whole). `None` when no whole one is left (no history yet, or "this month").
pub fn average_window(
    per: AverageUnit,
    named: Option<Period>,
    today: NaiveDate,
    first: Option<NaiveDate>,
) -> Option<(Period, u32)> {
    let current = per.start_of(today);
    let last_whole = current.pred_opt()?;
    let (from, to) = match named {
        Some(p) => {
            // The units wholly inside the period: from the first one starting in it to the
            // last one ending in it.
            let start = per.start_of(p.from);
            let from = if start == p.from {
                start
            } else {
                per.after(start)?
            };
            let end = p.to.min(last_whole);
            let to = per.start_of(end.succ_opt()?).pred_opt()?;
            (from, to)
        }
        None => (per.back(current, per.default_count())?, last_whole),
    };
    let from = from.max(per.start_of(first?));
    if from > to {
        return None;
    }
    let count = per.count(from, to);
    (count > 0).then_some((Period { from, to }, count))
}

/// A comparison names two periods; with one, it is "now against that one" ("compared with last
/// month": this month against last month), or, when that one is now, now against the one
/// before; with none, this month against last month.
pub fn complete_comparison(entities: &mut Entities, today: NaiveDate) {
    if entities.compare.is_some() {
        return;
    }
    let Some(named) = entities.period else {
        entities.period = Some(Period::month_of(today));
        entities.compare = Some(Period::months_back(today, 1));
        return;
    };
    if named.from <= today && today <= named.to {
        entities.compare = Some(named.previous());
        return;
    }
    let is_month = named.from.day() == 1 && Period::month_of(named.from).to == named.to;
    let is_week = named.days() == 7 && named.from.weekday() == chrono::Weekday::Mon;
    entities.period = Some(if is_month {
        Period::month_of(today)
    } else if is_week {
        Period::week_of(today)
    } else {
        Period {
            from: today
                .checked_sub_days(Days::new(named.days() as u64 - 1))
                .unwrap_or(today),
            to: today,
        }
    });
    entities.compare = Some(named);
}

/// One of the ledger's names a question can mention.
#[derive(Debug, Clone)]
pub struct Name {
    pub kind: NameKind,
    /// As the ledger spells it.
    pub name: String,
    /// Where it sits in the caller's list (the service maps it back to a row).
    pub index: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    Category,
    Merchant,
    Wallet,
    Goal,
    Budget,
}

/// A name found in a question, with how sure the match is (1 = spelled exactly).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found {
    pub kind: NameKind,
    pub name: String,
    #[serde(skip)]
    pub index: usize,
    pub score: f64,
}

/// Everything a question names.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Found>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// The second period of a comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The date something is to be afforded by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    /// A word the question seems to use as a category or merchant that the ledger does not
    /// have ("yachts").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// More categories named with the first ("groceries and restaurants"): added to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Found>,
    /// A category the question leaves out ("food excluding groceries").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<Found>,
    /// The question asks about categories, not single expenses ("top 3 categories").
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub per_category: bool,
    /// A currency the question names ("in EUR", "500 euros"), as its ISO code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The question asks for an average per day, week or month ("average monthly spending",
    /// "how much do I spend a week", "trung bình mỗi tháng").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<AverageUnit>,
    /// Words that look like a date or period but are none ("2026-02-31", "31 February", "from
    /// 2026-11-30 to 2026-10-01"): the question is asked back, never answered for another
    /// period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unclear: Option<Unclear>,
}

/// A date or period the question names that cannot be answered as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unclear {
    /// The words as the question wrote them (folded).
    pub words: String,
    pub reason: UnclearReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnclearReason {
    /// No such day, month or year ("2026-02-31", "in 0000").
    NoSuchDate,
    /// A range that ends before it starts ("since December 2027" asked in 2026).
    EndsBeforeStart,
    /// Either day-month or month-day ("03/04/2026").
    Ambiguous,
}

fn unclear(entities: &mut Entities, words: &[String], reason: UnclearReason) {
    if entities.unclear.is_none() {
        entities.unclear = Some(Unclear {
            words: words.join(" "),
            reason,
        });
    }
}

const MONTHS_EN: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

/// Vietnamese month names after "tháng" (folded): "tháng ba", "tháng mười hai", "tháng giêng".
const MONTHS_VI: &[(&str, u32)] = &[
    ("muoi mot", 11),
    ("muoi hai", 12),
    ("gieng", 1),
    ("mot", 1),
    ("hai", 2),
    ("ba", 3),
    ("tu", 4),
    ("bon", 4),
    ("nam", 5),
    ("sau", 6),
    ("bay", 7),
    ("tam", 8),
    ("chin", 9),
    ("muoi", 10),
    ("chap", 12),
];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("twelve", 12),
];

/// Words that are never a category or merchant the user meant (for `unknown`).
const STOP: &[&str] = &[
    "the",
    "my",
    "me",
    "i",
    "a",
    "an",
    "this",
    "that",
    "last",
    "next",
    "month",
    "week",
    "year",
    "today",
    "yesterday",
    "so",
    "far",
    "total",
    "all",
    "much",
    "many",
    "spend",
    "spent",
    "spending",
    "money",
    "it",
    "things",
    "stuff",
    "everything",
    "average",
    "each",
    "per",
    "now",
    "in",
    "on",
    "at",
    "for",
    "to",
    "of",
    "and",
    "or",
    "vs",
    "versus",
    "did",
    "do",
    "i",
    "we",
    "toi",
    "minh",
    "nay",
    "truoc",
    "thang",
    "tuan",
    "nam",
    "ngay",
    "hom",
    "qua",
    "bao",
    "nhieu",
    "tien",
    "chi",
    "tieu",
    "het",
    "roi",
    "vay",
    "the",
    "sao",
    "khong",
    "ko",
    "k",
    "duoc",
    "dc",
    "cua",
    "da",
    "la",
    "gi",
    "nhung",
    "cac",
    "mot",
    "va",
    "voi",
    "so",
    "what",
    "how",
    "is",
    "are",
    "was",
    "were",
    "budget",
    "budgets",
    "ngan",
    "sach",
    "lately",
    "recently",
    "average",
    "track",
    "about",
    "with",
    "avg",
    "typical",
    "typically",
    "usually",
    "normally",
];

/// Words of a question that say what kind of figure is asked for, never which category: one of
/// them alone does not name a category of several words ("income" is not "Investment income").
const GENERIC: &[&str] = &[
    "income",
    "expense",
    "expenses",
    "spending",
    "spend",
    "spent",
    "budget",
    "budgets",
    "bill",
    "bills",
    "payment",
    "payments",
    "transfer",
    "transfers",
    "money",
    "other",
    "general",
    "savings",
    "saving",
    "cash",
    "net",
    "total",
];

/// What each word of a question was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Free,
    Period,
    Amount,
    Top,
}

/// The words of a question with its periods, dates, amounts and count read.
struct Scan {
    words: Vec<String>,
    marks: Vec<Mark>,
    entities: Entities,
    /// The words of the average read ("trung bình", "mỗi tháng", "monthly"): never a subject.
    averaged: Vec<bool>,
}

fn scan(question: &str, today: NaiveDate, future: bool) -> Scan {
    let raw = question.to_lowercase();
    let words = tokens(&fold(question));
    let mut marks = vec![Mark::Free; words.len()];
    let mut entities = Entities::default();

    // Each period found, with the words it took.
    let mut periods: Vec<(usize, usize, Period)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // "from March until May": the second end of a range, not a date to save by.
        let joined = periods.last().is_some_and(|(_, end, _)| end + 1 == i)
            && word_is(&words, i.wrapping_sub(1), RANGE_TO);
        if let Some((len, found)) = period_at(&words, &raw, i, today, future, joined, &mut entities)
        {
            let len = len.max(1);
            periods.extend(found.map(|period| (i, i + len, period)));
            for mark in marks.iter_mut().skip(i).take(len) {
                *mark = Mark::Period;
            }
            i += len;
        } else {
            i += 1;
        }
    }
    join_ranges(&words, &mut marks, &mut periods, &mut entities);
    // "since December 2027" asked in 2026 runs backwards.
    for (start, end, period) in &periods {
        if period.from > period.to {
            let end = (*end).min(words.len());
            unclear(
                &mut entities,
                &words[*start..end],
                UnclearReason::EndsBeforeStart,
            );
        }
    }
    let mut periods = periods.into_iter().map(|(_, _, period)| period);
    entities.period = periods.next();
    entities.compare = periods.next();
    read_top(&words, &mut marks, &mut entities);
    read_amount(&words, &mut marks, &mut entities, future);
    entities.currency = read_currency(&words);
    let mut averaged = vec![false; words.len()];
    entities.average = read_average(&words, &raw, &marks, &mut averaged);
    entities.per_category = words.iter().enumerate().any(|(i, w)| {
        w == "categories" || w == "muc" && word_is(&words, i.wrapping_sub(1), &["danh"])
    });
    Scan {
        words,
        marks,
        entities,
        averaged,
    }
}

/// Words that join the two ends of a range ("from March to May", "từ tháng 3 đến tháng 5").
const RANGE_TO: &[&str] = &["to", "until", "till", "through", "thru", "den", "toi"];

/// Words that say two periods are compared, not joined ("March compared to May").
const COMPARING: &[&str] = &[
    "compare",
    "compared",
    "comparison",
    "vs",
    "versus",
    "difference",
    "than",
    "sanh",
    "khac",
];

/// Two periods joined as a range are one, from the first's start to the second's end: "from
/// March to May", "between 2026-10-01 and 2026-10-15", "từ tháng 3 đến tháng 5"; unless the
/// question compares them.
fn join_ranges(
    words: &[String],
    marks: &mut [Mark],
    periods: &mut Vec<(usize, usize, Period)>,
    entities: &mut Entities,
) {
    if words.iter().any(|w| COMPARING.contains(&w.as_str())) {
        return;
    }
    let mut k = 0;
    while k + 1 < periods.len() {
        let (start, end, first) = periods[k];
        let (next_start, next_end, second) = periods[k + 1];
        let between = word_is(words, end, &["and", "va"])
            && word_is(words, start.wrapping_sub(1), &["between", "giua"]);
        // A month named alone is its last one; as a range's end it follows the start: asked in
        // June, "from May to July" runs to this July, not to last year's.
        let whole_month = second == Period::month_of(second.from);
        let second = match second.from.checked_add_months(Months::new(12)) {
            Some(next_year) if whole_month && second.to < first.from => Period::month_of(next_year),
            _ => second,
        };
        let joined = next_start == end + 1 && (word_is(words, end, RANGE_TO) || between);
        // "from 2026-11-30 to 2026-10-01" is no range to answer for its first day alone.
        if joined && first.from > second.to {
            let to = next_end.min(words.len());
            unclear(entities, &words[start..to], UnclearReason::EndsBeforeStart);
        }
        if joined && first.from <= second.to {
            marks[end] = Mark::Period;
            periods[k] = (
                start,
                next_end,
                Period {
                    from: first.from,
                    to: second.to,
                },
            );
            periods.remove(k + 1);
        } else {
            k += 1;
        }
    }
}

/// "1 to 15", "1-15", "1 and 15" after "between", "1 đến (ngày) 15": the first and last day of
/// a range within a month, and the words they take.
fn day_span(words: &[String], at: usize) -> Option<(u32, u32, usize)> {
    let day = |word: &str| word.parse::<u32>().ok().filter(|d| (1..=31).contains(d));
    let word = words.get(at)?;
    let (first, last, taken) = if let Some((a, b)) = word.split_once('-') {
        (day(a)?, day(b)?, 1)
    } else {
        let first = day(word)?;
        let between = words[..at].iter().any(|w| w == "between" || w == "giua");
        if !(word_is(words, at + 1, RANGE_TO) || between && word_is(words, at + 1, &["and", "va"]))
        {
            return None;
        }
        let skip = usize::from(word_is(words, at + 2, &["ngay"]));
        (first, day(words.get(at + 2 + skip)?)?, 3 + skip)
    };
    (first <= last).then_some((first, last, taken))
}

/// The question as the intent classifier reads it: folded, with its periods, amounts and
/// counts replaced by a placeholder each ("spent on food last month" → "spent on food
/// xperiod"), so that what is asked is learnt apart from when and how much.
pub fn mask(question: &str) -> String {
    let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default();
    let scan = scan(question, today, false);
    let mut out: Vec<&str> = Vec::new();
    for (word, mark) in scan.words.iter().zip(&scan.marks) {
        let placeholder = match mark {
            Mark::Free => word.as_str(),
            Mark::Period => "xperiod",
            Mark::Amount => "xamount",
            Mark::Top => "xcount",
        };
        if mark == &Mark::Free || out.last() != Some(&placeholder) {
            out.push(placeholder);
        }
    }
    out.join(" ")
}

/// Reads what a question names. `future` reads a bare month as the next one ("can I afford it
/// by December") and a bare number as an amount, else a month as the last one ("in March").
pub fn extract(question: &str, names: &[Name], today: NaiveDate, future: bool) -> Entities {
    let Scan {
        mut words,
        marks,
        mut entities,
        averaged,
    } = scan(question, today, future);
    // Names are matched on what is left, longest and surest first.
    for (word, mark) in words.iter_mut().zip(&marks) {
        if *mark != Mark::Free {
            word.clear();
        }
    }
    let mut candidates: Vec<(f64, usize, usize, &Name)> = Vec::new();
    for name in names {
        let name_words = tokens(&fold(&name.name));
        let n = name_words.len();
        if n == 0 {
            continue;
        }
        let target = name_words.join(" ");
        let compact = name_words.concat();
        // The name's own number of words, or one more or fewer written apart or together
        // ("vietcom bank", "lap top").
        for size in n.saturating_sub(1).max(1)..=n + 1 {
            if size > words.len() {
                break;
            }
            for start in 0..=(words.len() - size) {
                let window = &words[start..start + size];
                if window.iter().any(String::is_empty) {
                    continue;
                }
                let score = if size == n {
                    similarity(&window.join(" "), &target)
                } else if window.concat() == compact {
                    0.95
                } else {
                    0.0
                };
                if score > 0.0 {
                    candidates.push((score, start, size, name));
                }
            }
        }
        // A merchant or goal of several words by its first, distinctive one ("highland").
        if n > 1
            && matches!(name.kind, NameKind::Merchant | NameKind::Goal)
            && name_words[0].len() >= 5
        {
            for (start, word) in words.iter().enumerate() {
                if !word.is_empty() && similarity(word, &name_words[0]) >= 0.9 {
                    candidates.push((0.85, start, 1, name));
                }
            }
        }
        // A category by a word of its name cut short ("transport" for Transportation), below
        // the name as written.
        if name.kind == NameKind::Category {
            for name_word in &name_words {
                for (start, word) in words.iter().enumerate() {
                    let cut = word.chars().count();
                    if cut >= 5
                        && !GENERIC.contains(&word.as_str())
                        && name_word.starts_with(word.as_str())
                        && name_word.chars().count() > cut
                        && name_word.chars().count() <= cut + 6
                    {
                        candidates.push((0.88, start, 1, name));
                    }
                }
            }
        }
        // A category of several words by any one of them ("food" for Food & Dining, "fitness"
        // for Health & Fitness), below the whole name and a one-word category of that name.
        if n > 1 && name.kind == NameKind::Category {
            for name_word in name_words.iter().filter(|w| w.chars().count() >= 4) {
                for (start, word) in words.iter().enumerate() {
                    if !word.is_empty()
                        && !GENERIC.contains(&word.as_str())
                        && similarity(word, name_word) >= 0.9
                    {
                        candidates.push((0.8, start, 1, name));
                    }
                }
            }
        }
    }
    candidates.sort_by(|a, b| {
        (b.0 * b.2 as f64)
            .total_cmp(&(a.0 * a.2 as f64))
            .then(b.0.total_cmp(&a.0))
            .then(kind_rank(a.3.kind).cmp(&kind_rank(b.3.kind)))
    });
    // A budget's name may be a category's too ("Groceries"): budgets are matched on their
    // own, over all the words.
    let mut taken = vec![false; words.len()];
    let mut budget_taken = vec![false; words.len()];
    // "food excluding groceries", "ăn uống trừ đi chợ": what follows is left out.
    let excluding_from = words.iter().position(|w| {
        [
            "excluding",
            "except",
            "without",
            "excl",
            "minus",
            "tru",
            "ngoai",
        ]
        .contains(&w.as_str())
    });
    for (score, start, n, name) in candidates {
        let taken = if name.kind == NameKind::Budget {
            &mut budget_taken
        } else {
            &mut taken
        };
        if taken[start..start + n].iter().any(|t| *t) {
            continue;
        }
        let found = |entities: &Entities| {
            [&entities.category, &entities.excluded]
                .into_iter()
                .flatten()
                .chain(&entities.also)
                .any(|f| f.index == name.index)
        };
        if name.kind == NameKind::Category && !found(&entities) {
            let named = Found {
                kind: name.kind,
                name: name.name.clone(),
                index: name.index,
                score: (score * 100.0).round() / 100.0,
            };
            let excluded = excluding_from.is_some_and(|x| start > x);
            // A second category left out is never taken for the one asked about.
            let used = if excluded {
                if entities.excluded.is_none() {
                    entities.excluded = Some(named);
                }
                true
            } else if entities.category.is_some() && score >= 0.88 {
                // A second category named outright: "groceries and restaurants".
                entities.also.push(named);
                true
            } else {
                false
            };
            if used {
                for t in taken.iter_mut().skip(start).take(n) {
                    *t = true;
                }
                continue;
            }
        }
        let slot = match name.kind {
            NameKind::Category => &mut entities.category,
            NameKind::Merchant => &mut entities.merchant,
            NameKind::Wallet => &mut entities.wallet,
            NameKind::Goal => &mut entities.goal,
            NameKind::Budget => &mut entities.budget,
        };
        if slot.is_some() {
            continue;
        }
        *slot = Some(Found {
            kind: name.kind,
            name: name.name.clone(),
            index: name.index,
            score: (score * 100.0).round() / 100.0,
        });
        for t in taken.iter_mut().skip(start).take(n) {
            *t = true;
        }
    }
    if entities.category.is_none() && entities.merchant.is_none() && entities.budget.is_none() {
        // The words of an average ("trung bình", "mỗi tháng") end a subject as a name does.
        let taken: Vec<bool> = taken.iter().zip(&averaged).map(|(t, a)| *t || *a).collect();
        entities.unknown =
            unknown_subject(&words, &taken).or_else(|| unknown_symbol(&fold(question)));
    }
    entities
}

/// What follows "on", "for", "cho"... when it is no word at all but a symbol ("on 🍔"): a
/// subject the ledger cannot have, never all spending.
fn unknown_symbol(folded: &str) -> Option<String> {
    let words: Vec<&str> = folded.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let cue = pair[0].trim_matches(|c: char| !c.is_alphanumeric());
        let symbol = pair[1].trim_matches(|c: char| c.is_ascii_punctuation());
        (SUBJECT_CUES.contains(&cue)
            && !symbol.is_empty()
            && symbol
                .chars()
                .all(|c| !c.is_alphanumeric() && !c.is_ascii() && !c.is_whitespace()))
        .then(|| symbol.to_owned())
    })
}

/// Which kind a tie goes to: a category over a merchant of the same name, and so on.
fn kind_rank(kind: NameKind) -> u8 {
    match kind {
        NameKind::Category => 0,
        NameKind::Goal => 1,
        NameKind::Budget => 1,
        NameKind::Wallet => 2,
        NameKind::Merchant => 3,
    }
}

/// How well a window of the question spells a name: 1 exactly, less with a plural or a typo,
/// 0 when it is not the name. Short names must be exact; a typo must keep the first letter.
pub fn similarity(window: &str, name: &str) -> f64 {
    if window == name {
        return 1.0;
    }
    let (w, n): (Vec<char>, Vec<char>) = (window.chars().collect(), name.chars().collect());
    let plural = |a: &str, b: &str| {
        a.strip_suffix("es") == Some(b)
            || a.strip_suffix('s') == Some(b)
            || (a.strip_suffix("ies").is_some() && a.strip_suffix("ies") == b.strip_suffix('y'))
    };
    if plural(window, name) || plural(name, window) {
        return 0.97;
    }
    if n.len() >= 5 && window.starts_with(name) && w.len() <= n.len() + 6 {
        return 0.9;
    }
    if n.len() < 4 || w.first() != n.first() {
        return 0.0;
    }
    let distance = osa_distance(&w, &n);
    let allowed = match n.len() {
        0..=4 => 0,
        5..=9 => 1,
        _ => 2,
    };
    if distance == 0 || distance > allowed {
        return 0.0;
    }
    1.0 - distance as f64 / n.len().max(w.len()) as f64
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
pub fn osa_distance(a: &[char], b: &[char]) -> usize {
    let (m, n) = (a.len(), b.len());
    let mut d = vec![vec![0usize; n + 1]; m + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=m {
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[m][n]
}

/// The best of `names` for a word that matched none (what "yachts" was closest to): the name,
/// or one of its words, fewest edits away for its length.
pub fn closest<'a>(word: &str, names: &'a [Name], kind: NameKind) -> Option<&'a Name> {
    let word: Vec<char> = fold(word).chars().collect();
    let distance = |name: &str| {
        let name: Vec<char> = name.chars().collect();
        osa_distance(&word, &name) as f64 / name.len().max(word.len()).max(1) as f64
    };
    names
        .iter()
        .filter(|n| n.kind == kind)
        .map(|n| {
            let folded = fold(&n.name);
            let nearest = tokens(&folded)
                .iter()
                .map(|w| distance(w))
                .fold(distance(&folded), f64::min);
            (nearest, n)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// Words before "28 November" that make the number its day ("top 5 november expenses" is
/// November).
const DAY_CUES: &[&str] = &["on", "from", "since", "between", "and"];

/// Words after which a question names what it is about.
const SUBJECT_CUES: &[&str] = &["on", "for", "at", "about", "cho", "vao", "o", "tai", "mua"];
const VIETNAMESE_CUES: &[&str] = &["cho", "vao", "o", "tai", "mua"];

/// The word after "on", "for", "at", "cho", "vào", "ở" that names no period or stop word.
fn unknown_subject(words: &[String], taken: &[bool]) -> Option<String> {
    for (i, word) in words.iter().enumerate() {
        if !SUBJECT_CUES.contains(&word.as_str()) {
            continue;
        }
        // After a Vietnamese cue "an" is "ăn" (eating: "cho ăn uống"), not the article.
        let vietnamese = VIETNAMESE_CUES.contains(&word.as_str());
        let mut subject = Vec::new();
        for (next, taken) in words.iter().zip(taken).skip(i + 1) {
            let stop = STOP.contains(&next.as_str()) && !(vietnamese && next == "an");
            if next.is_empty() || *taken || stop || next.chars().any(|c| c.is_ascii_digit()) {
                break;
            }
            subject.push(next.as_str());
            if subject.len() == 2 {
                break;
            }
        }
        let subject = subject.join(" ");
        if subject.chars().count() >= 3 {
            return Some(subject);
        }
    }
    None
}

fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| *n)
}

fn word_is(words: &[String], at: usize, options: &[&str]) -> bool {
    words.get(at).is_some_and(|w| options.contains(&w.as_str()))
}

fn month_by_name(words: &[String], at: usize) -> Option<u32> {
    let word = words.get(at)?;
    MONTHS_EN
        .iter()
        .find(|(name, _)| name == word)
        .map(|(_, m)| *m)
}

/// The month after "tháng" at `at`: a number 1–12 or a Vietnamese month name; returns the
/// month and the words it took.
fn vietnamese_month(words: &[String], raw: &str, at: usize) -> Option<(u32, usize)> {
    let word = words.get(at)?;
    if let Ok(m) = word.parse::<u32>() {
        return (1..=12).contains(&m).then_some((m, 1));
    }
    // "tháng sau" is next month; only "tháng sáu", with its accent, is June.
    if word == "sau" && !raw.contains("tháng sáu") {
        return None;
    }
    // "tháng tư" is April, "từ tháng" is "since".
    if word == "tu" && !(raw.contains("tháng tư") || raw.contains("thang tu")) {
        return None;
    }
    for (name, m) in MONTHS_VI {
        let parts: Vec<&str> = name.split(' ').collect();
        if parts
            .iter()
            .enumerate()
            .all(|(k, p)| words.get(at + k).is_some_and(|w| w == p))
        {
            return Some((*m, parts.len()));
        }
    }
    None
}

/// The month `month` as last seen (not after this month), or next seen with `future`.
fn month_occurrence(
    today: NaiveDate,
    month: u32,
    year: Option<i32>,
    future: bool,
) -> Option<Period> {
    let year = match year {
        Some(year) => year,
        None if future && month < today.month() => today.year() + 1,
        None if !future && month > today.month() => today.year() - 1,
        None => today.year(),
    };
    Some(Period::month_of(NaiveDate::from_ymd_opt(year, month, 1)?))
}

fn year_at(words: &[String], at: usize) -> Option<i32> {
    let year = words.get(at)?.parse::<i32>().ok()?;
    // Any year of four digits: one far off is answered as such ("too far ahead"), never read
    // as no year at all.
    (1900..=9999).contains(&year).then_some(year)
}

fn next_month(today: NaiveDate) -> Period {
    Period::month_of(Period::month_of(today).to.succ_opt().unwrap_or(today))
}

/// A period (or an afford-by date, stored in `entities`) starting at word `at`: how many words
/// it took, and the period if it was one.
fn period_at(
    words: &[String],
    raw: &str,
    at: usize,
    today: NaiveDate,
    future: bool,
    joined: bool,
    entities: &mut Entities,
) -> Option<(usize, Option<Period>)> {
    let w = |k: usize| words.get(at + k).map(String::as_str).unwrap_or("");
    // "1 to 15 October", "between 1 and 15 last month", "ngày 1 đến ngày 15 tháng 10": days of
    // the month named after them.
    if !future {
        if let Some((first, last, taken)) = day_span(words, at) {
            if let Some((len, Some(month))) =
                period_at(words, raw, at + taken, today, false, false, entities)
            {
                // After a month ("October", "last month"), or its last day ("ngày 15 tháng 10"
                // reads the 15th of October after "1 đến"); not a week or another day.
                let whole = Period::month_of(month.from);
                let its_last_day = month.from == month.to && month.to.day() == last;
                if month == whole || its_last_day {
                    let (Some(from), Some(to)) =
                        (whole.from.with_day(first), whole.from.with_day(last))
                    else {
                        // "between 1 and 31 February": not the whole month instead.
                        let end = (at + taken + len).min(words.len());
                        unclear(entities, &words[at..end], UnclearReason::NoSuchDate);
                        return Some((taken + len, None));
                    };
                    return Some((taken + len, Some(Period { from, to })));
                }
            }
        }
    }
    // "mỗi tháng", "hàng tuần", "một tháng": a rate, not a period ("mỗi tháng tôi chi" is not
    // "tháng tới", next month).
    let rate = vietnamese_rate(words, raw, at.wrapping_sub(1))
        || (word_is(words, at.wrapping_sub(1), &["mot"])
            && !word_is(words, at.wrapping_sub(2), &["trong", "sau", "ngay"]));
    let month_named = w(0) == "thang" && vietnamese_month(words, raw, at + 1).is_some();
    if rate && word_is(words, at, &["thang", "tuan", "ngay"]) && !month_named {
        return None;
    }
    let day = |d: NaiveDate| Period { from: d, to: d };
    let yesterday = today.pred_opt().unwrap_or(today);
    let tomorrow = today.succ_opt().unwrap_or(today);
    let ending_today = |days: u64| Period {
        from: today
            .checked_sub_days(Days::new(days.saturating_sub(1)))
            .unwrap_or(today),
        to: today,
    };

    // An ISO date: an afford-by date looking ahead, else the day asked about.
    let written = match written_date(w(0)) {
        Some(Ok(date)) => Some(date),
        Some(Err(reason)) => {
            unclear(entities, &words[at..at + 1], reason);
            return Some((1, None));
        }
        None => None,
    };
    if let Some(date) = written {
        if future {
            entities.date = Some(date);
            return Some((1, None));
        }
        return Some((1, Some(day(date))));
    }
    // "on 28 November", "from 20 October to 5 November": a day before its month, after a word
    // that says a date follows.
    if let Some(d) = w(0).parse::<u32>().ok().filter(|d| (1..=31).contains(d)) {
        let cued = word_is(words, at.wrapping_sub(1), DAY_CUES)
            || word_is(words, at.wrapping_sub(1), RANGE_TO);
        if cued && !future && month_by_name(words, at + 1).is_some() {
            let mut inner = Entities::default();
            if let Some((len, Some(month))) =
                period_at(words, raw, at + 1, today, false, true, &mut inner)
            {
                if month == Period::month_of(month.from) {
                    let Some(date) = month.from.with_day(d) else {
                        let end = (at + 1 + len).min(words.len());
                        unclear(entities, &words[at..end], UnclearReason::NoSuchDate);
                        return Some((1 + len, None));
                    };
                    let since = word_is(words, at.wrapping_sub(1), &["from", "since"]);
                    let period = if since {
                        Period {
                            from: date,
                            to: today,
                        }
                    } else {
                        day(date)
                    };
                    return Some((1 + len, Some(period)));
                }
            }
        }
    }
    match (w(0), w(1)) {
        ("this" | "current", "month" | "months") => {
            return Some((2, Some(Period::month_of(today))))
        }
        ("last" | "previous" | "past", "month" | "months") => {
            return Some((2, Some(Period::months_back(today, 1))))
        }
        ("next" | "coming", "month" | "months") => return Some((2, Some(next_month(today)))),
        ("this" | "current", "week" | "weeks") => return Some((2, Some(Period::week_of(today)))),
        ("next" | "coming", "week") => {
            let after = Period::week_of(today).to.succ_opt().unwrap_or(today);
            return Some((2, Some(Period::week_of(after))));
        }
        ("last" | "previous" | "past", "week" | "weeks") => {
            let start = Period::week_of(today).from.pred_opt().unwrap_or(today);
            return Some((2, Some(Period::week_of(start))));
        }
        ("this" | "current", "year" | "years") => return Some((2, Period::year(today.year()))),
        ("last" | "previous" | "past", "year" | "years") => {
            return Some((2, Period::year(today.year() - 1)))
        }
        ("so", "far") => return Some((2, None)),
        ("thang", "nay") => return Some((2, Some(Period::month_of(today)))),
        ("thang", "truoc") | ("thang", "roi") => {
            return Some((2, Some(Period::months_back(today, 1))))
        }
        ("thang", "vua") if w(2) == "roi" || w(2) == "qua" => {
            return Some((3, Some(Period::months_back(today, 1))))
        }
        ("thang", "sau" | "toi") if !raw.contains("tháng sáu") => {
            return Some((2, Some(next_month(today))))
        }
        ("tuan", "nay") => return Some((2, Some(Period::week_of(today)))),
        ("tuan", "truoc") | ("tuan", "roi") => {
            let start = Period::week_of(today).from.pred_opt().unwrap_or(today);
            return Some((2, Some(Period::week_of(start))));
        }
        ("hom", "nay") => return Some((2, Some(day(today)))),
        ("hom", "qua") => return Some((2, Some(day(yesterday)))),
        ("ngay", "mai") => return Some((2, Some(day(tomorrow)))),
        ("nam", "nay") => return Some((2, Period::year(today.year()))),
        ("nam", "ngoai" | "truoc" | "roi") => return Some((2, Period::year(today.year() - 1))),
        ("cuoi", "nam") => {
            entities.date = Period::year(today.year()).map(|p| p.to);
            return Some((2, None));
        }
        ("end", "of") if w(2) == "the" && w(3) == "year" || w(2) == "year" => {
            let len = if w(2) == "the" { 4 } else { 3 };
            entities.date = Period::year(today.year()).map(|p| p.to);
            return Some((len, None));
        }
        _ => {}
    }
    match w(0) {
        "today" => return Some((1, Some(day(today)))),
        "yesterday" => return Some((1, Some(day(yesterday)))),
        "tomorrow" => return Some((1, Some(day(tomorrow)))),
        "ytd" => {
            return Some((
                1,
                Period::year(today.year()).map(|p| Period { to: today, ..p }),
            ))
        }
        _ => {}
    }
    // "last/past N days|weeks|months", "N ngày|tuần|tháng qua|gần đây|vừa qua".
    let lead = word_is(words, at, &["last", "past", "previous"]);
    let (n_at, unit_at) = if lead { (at + 1, at + 2) } else { (at, at + 1) };
    if let (Some(n), Some(unit)) = (words.get(n_at).and_then(|w| number(w)), words.get(unit_at)) {
        let trailing = word_is(words, unit_at + 1, &["qua", "gan", "vua", "nay"]);
        let tail = match (trailing, words.get(unit_at + 1).map(String::as_str)) {
            (true, Some("gan" | "vua")) => 2,
            (true, _) => 1,
            _ => 0,
        };
        let n = n.clamp(1, 3660);
        let len = unit_at + 1 + tail - at;
        if lead || trailing {
            match unit.as_str() {
                "days" | "day" | "ngay" => return Some((len, Some(ending_today(u64::from(n))))),
                "weeks" | "week" | "tuan" => {
                    let this_week = Period::week_of(today).from;
                    let from = this_week
                        .checked_sub_days(Days::new(7 * u64::from(n)))
                        .unwrap_or(this_week);
                    return Some((
                        len,
                        Some(Period {
                            from,
                            to: this_week.pred_opt().unwrap_or(this_week),
                        }),
                    ));
                }
                "months" | "month" | "thang" => {
                    let n = n.min(1200);
                    let first = Period::months_back(today, n).from;
                    let last = Period::months_back(today, 1).to;
                    return Some((
                        len,
                        Some(Period {
                            from: first,
                            to: last,
                        }),
                    ));
                }
                _ => {}
            }
        }
        // "in 6 months", "trong 6 tháng (tới)": an afford-by date.
        let ahead = word_is(words, unit_at + 1, &["nua", "toi"]) && !lead;
        if (ahead || word_is(words, at.wrapping_sub(1), &["in", "within", "trong", "sau"]))
            && matches!(
                unit.as_str(),
                "months" | "month" | "thang" | "weeks" | "tuan" | "years" | "year" | "nam"
            )
        {
            let date = match unit.as_str() {
                "weeks" | "tuan" => today.checked_add_days(Days::new(7 * u64::from(n))),
                "years" | "year" | "nam" => today.checked_add_months(Months::new(12 * n.min(100))),
                _ => today.checked_add_months(Months::new(n.min(1200))),
            };
            entities.date = date;
            let tail = usize::from(word_is(words, unit_at + 1, &["toi", "nua"]));
            return Some((unit_at + 1 + tail - at, None));
        }
    }
    // "since March", "từ tháng 3": to today.
    let since = word_is(words, at, &["since", "tu", "from"]);
    let month_at = if since { at + 1 } else { at };
    let english = month_by_name(words, month_at).filter(|m| {
        // "may" is a month only where a month is expected (not "may I", nor Vietnamese "máy",
        // "mấy").
        *m != 5
            || since
            || word_is(
                words,
                month_at.wrapping_sub(1),
                &[
                    "in", "of", "for", "during", "by", "until", "before", "and", "to", "vs",
                    "than", "did", "with", "between",
                ],
            )
            || word_is(
                words,
                month_at + 1,
                &["and", "vs", "to", "compared", "versus"],
            )
            || year_at(words, month_at + 1).is_some()
            // "1-10 may", "1 to 10 may" (not "1 may", which folds from "1 máy": a machine).
            || words.get(month_at.wrapping_sub(1)).is_some_and(|w| {
                let day = |d: &str| d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
                match w.split_once('-') {
                    Some((a, b)) => day(a) && day(b),
                    None => {
                        day(w)
                            && (word_is(words, month_at.wrapping_sub(2), RANGE_TO)
                                || word_is(words, month_at.wrapping_sub(2), DAY_CUES))
                    }
                }
            })
            || words
                .get(month_at + 1)
                .and_then(|w| w.parse::<u32>().ok())
                .is_some_and(|d| (1..=31).contains(&d))
    });
    let (month, len) = if let Some(m) = english {
        (Some(m), month_at + 1 - at)
    } else if word_is(words, month_at, &["thang"]) {
        match vietnamese_month(words, raw, month_at + 1) {
            Some((m, taken)) => (Some(m), month_at + 1 + taken - at),
            None => (None, 0),
        }
    } else {
        (None, 0)
    };
    if let Some(month) = month {
        // "November 28", "28 November": one day of the month.
        let day_at = |k: usize| {
            words
                .get(k)
                .and_then(|w| w.parse::<u32>().ok())
                .filter(|d| (1..=31).contains(d))
        };
        let (days, len) = match (day_span(words, at + len), day_at(at + len)) {
            // "October 1 to 15", "October 1-15".
            (Some((first, last, taken)), _) if english.is_some() => {
                (Some((first, last)), len + taken)
            }
            (None, Some(d)) if english.is_some() => (Some((d, d)), len + 1),
            // "on 28 November", "ngày 28 tháng 11": a number before the month is its day only
            // after such a cue ("top 5 november expenses" is November).
            _ => (
                day_at(at.wrapping_sub(1))
                    .filter(|_| {
                        !since && word_is(words, at.wrapping_sub(2), &["on", "ngay", "vao"])
                    })
                    .map(|d| (d, d)),
                len,
            ),
        };
        let (year, len) = match year_at(words, at + len) {
            Some(year) => (Some(year), len + 1),
            None if word_is(words, at + len, &["nam"])
                && year_at(words, at + len + 1).is_some() =>
            {
                (year_at(words, at + len + 1), len + 2)
            }
            None => (None, len),
        };
        let by = !joined
            && word_is(
                words,
                at.wrapping_sub(1),
                // "vào tháng 11" is "in November" of a question about the past ("tôi đã
                // chi bao nhiêu vào tháng 11"); looking ahead it is a date to afford by.
                &["by", "until", "before", "truoc", "den"],
            );
        let on_day = |period: Period| match days {
            Some((first, last)) => Some(Period {
                from: period.from.with_day(first)?,
                to: period.from.with_day(last)?,
            }),
            None => Some(period),
        };
        let Some(occurrence) = month_occurrence(today, month, year, future || by && !since) else {
            unclear(entities, &words[at..at + len], UnclearReason::NoSuchDate);
            return Some((len, None));
        };
        // "February 31", "ngày 31 tháng 2": no day of that month, and not the month instead.
        let Some(period) = on_day(occurrence) else {
            let start = if days.is_some() && day_at(at.wrapping_sub(1)).is_some() {
                at - 1
            } else {
                at
            };
            unclear(entities, &words[start..at + len], UnclearReason::NoSuchDate);
            return Some((len, None));
        };
        if future || by && !since {
            entities.date = Some(period.to);
            return Some((len, None));
        }
        // "since October 1" runs to today; "from October 1 to 15" is those days.
        if since && days.is_none_or(|(first, last)| first == last) {
            return Some((
                len,
                Some(Period {
                    from: period.from,
                    to: today,
                }),
            ));
        }
        return Some((len, Some(period)));
    }
    // "Q3", "q1 2025": a quarter of this year (of last year while it is still to come).
    if let Some(q) = w(0)
        .strip_prefix('q')
        .and_then(|q| q.parse::<u32>().ok())
        .filter(|q| (1..=4).contains(q))
    {
        let (year, len) = match year_at(words, at + 1) {
            Some(year) => (year, 2),
            // Looking ahead, the next one not over; else the last one begun.
            None if future => {
                let end = NaiveDate::from_ymd_opt(today.year(), 3 * q, 1)?
                    .checked_add_months(Months::new(1))?
                    .pred_opt()?;
                (today.year() + i32::from(end < today), 1)
            }
            None => {
                let start = NaiveDate::from_ymd_opt(today.year(), 3 * q - 2, 1)?;
                (today.year() - i32::from(start > today), 1)
            }
        };
        let from = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1)?;
        let to = from.checked_add_months(Months::new(3))?.pred_opt()?;
        return Some((len, Some(Period { from, to })));
    }
    // "in 2025", "năm 2025"; looking ahead, "by 2040" (else "up by 2000" is no year).
    if word_is(words, at, &["nam", "in", "year"])
        || (future && word_is(words, at, &["by", "until"]))
    {
        if let Some(year) = year_at(words, at + 1) {
            return Some((2, Period::year(year)));
        }
        // "in 0000", "in year 99999": a year no ledger has, not this month instead (a figure
        // with a unit after it is an amount: "in 10000 usd").
        let digits = w(1);
        if digits.len() >= 4
            && digits.chars().all(|c| c.is_ascii_digit())
            && !word_is(words, at + 2, AMOUNT_UNITS)
        {
            unclear(entities, &words[at..at + 2], UnclearReason::NoSuchDate);
            return Some((2, None));
        }
    }
    None
}

/// Words after a number that make it an amount.
const AMOUNT_UNITS: &[&str] = &[
    "usd",
    "vnd",
    "eur",
    "dollar",
    "dollars",
    "bucks",
    "dong",
    "euro",
    "euros",
    "d",
    "k",
    "nghin",
    "ngan",
    "thousand",
    "grand",
    "tr",
    "trieu",
    "m",
    "million",
    "mil",
    "cu",
    "ty",
    "ti",
    "billion",
    "bn",
    "transactions",
    "times",
];

/// A date written as one word: "2026-11-28", "11/28/2026", "28/11/2026". `None` when the word is
/// not shaped as a date; an error when it is but names no day, or either of two.
fn written_date(word: &str) -> Option<Result<NaiveDate, UnclearReason>> {
    let numbers = |separator: char| -> Option<Vec<u32>> {
        let parts: Vec<&str> = word.split(separator).collect();
        (parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit())))
        .then(|| parts.iter().filter_map(|p| p.parse().ok()).collect())
    };
    if let Some(n) = numbers('-').filter(|_| word.split('-').next().is_some_and(|y| y.len() == 4)) {
        let year = i32::try_from(n[0]).ok()?;
        return Some(
            NaiveDate::from_ymd_opt(year, n[1], n[2])
                .filter(|d| d.year() >= 1900)
                .ok_or(UnclearReason::NoSuchDate),
        );
    }
    let n = numbers('/').filter(|n| n[2] >= 1000)?;
    let year = i32::try_from(n[2]).ok()?;
    let month_day = NaiveDate::from_ymd_opt(year, n[0], n[1]);
    let day_month = NaiveDate::from_ymd_opt(year, n[1], n[0]);
    Some(match (month_day, day_month) {
        (Some(a), Some(b)) if a != b => Err(UnclearReason::Ambiguous),
        (Some(date), _) | (None, Some(date)) => Ok(date),
        (None, None) => Err(UnclearReason::NoSuchDate),
    })
}

/// "top 5", "5 biggest", "5 khoản lớn nhất".
fn read_top(words: &[String], marks: &mut [Mark], entities: &mut Entities) {
    for i in 0..words.len() {
        if marks[i] != Mark::Free {
            continue;
        }
        let Some(n) = number(&words[i]) else {
            continue;
        };
        let before = word_is(words, i.wrapping_sub(1), &["top"]);
        let after = word_is(
            words,
            i + 1,
            &[
                "biggest", "largest", "highest", "most", "top", "khoan", "giao", "bigest",
                "largets",
            ],
        ) || word_is(words, i + 2, &["biggest", "largest", "expenses", "lon"]);
        if (before || after) && (1..=50).contains(&n) {
            entities.top = Some(n);
            marks[i] = Mark::Top;
            return;
        }
    }
}

/// "$2,000", "2k", "2000 usd", "5 triệu", "500 nghìn", "1.5tr", "1,5 triệu"; with `plain`, a
/// bare number too ("can I buy a 1500 tv").
fn read_amount(words: &[String], marks: &mut [Mark], entities: &mut Entities, plain: bool) {
    for i in 0..words.len() {
        if marks[i] != Mark::Free {
            continue;
        }
        let word = &words[i];
        let split = word
            .char_indices()
            .find(|(_, c)| c.is_alphabetic())
            .map_or(word.len(), |(k, _)| k);
        let (digits, suffix) = word.split_at(split);
        if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        let unit = if suffix.is_empty() { next } else { suffix };
        let multiplier: Option<(i64, bool)> = match unit {
            "k" | "nghin" | "ngan" | "thousand" | "grand" => Some((1_000, suffix.is_empty())),
            "tr" | "trieu" | "m" | "million" | "mil" | "cu" => Some((1_000_000, suffix.is_empty())),
            "ty" | "ti" | "billion" | "bn" => Some((1_000_000_000, suffix.is_empty())),
            _ if suffix.is_empty() => None,
            _ => continue,
        };
        let dollar = word_is(words, i.wrapping_sub(1), &["$"]);
        // "-500", "-$500": a negative figure is no price or amount to read.
        if word_is(words, i.wrapping_sub(1), &["-"])
            || (dollar && word_is(words, i.wrapping_sub(2), &["-"]))
        {
            continue;
        }
        let currency_after = word_is(
            words,
            i + 1,
            &[
                "usd", "vnd", "dollar", "dollars", "bucks", "dong", "eur", "euro", "euros", "d",
            ],
        );
        // A plain number needs a money sign or unit to be an amount (not "3 months"), unless
        // the question is about an amount.
        if multiplier.is_none() && !dollar && !currency_after && !plain {
            continue;
        }
        let text = if multiplier.is_some() {
            // "1,5 triệu" writes the decimal with a comma.
            digits.replace(',', ".")
        } else {
            digits.replace(',', "")
        };
        let Ok(mut value) = text.parse::<Decimal>() else {
            continue;
        };
        if let Some((factor, _)) = multiplier {
            match value.checked_mul(Decimal::from(factor)) {
                Some(product) => value = product,
                None => continue,
            }
        }
        if value <= Decimal::ZERO || value > crate::domain::money::max_amount() {
            continue;
        }
        entities.amount = Some(value.normalize());
        marks[i] = Mark::Amount;
        if matches!(multiplier, Some((_, true))) || currency_after {
            if let Some(mark) = marks.get_mut(i + 1) {
                *mark = Mark::Amount;
            }
        }
        return;
    }
}

/// A currency named by its code ("in EUR", "500 usd") or its name ("euros", "500 đồng"). Only
/// codes in common use: "all", "top" and "try" are English before they are currencies.
fn read_currency(words: &[String]) -> Option<String> {
    const CODES: &[&str] = &[
        "usd", "eur", "vnd", "gbp", "jpy", "aud", "cad", "sgd", "chf", "cny", "krw", "thb", "hkd",
        "twd", "inr", "nzd", "sek", "nok", "dkk", "pln", "myr", "idr",
    ];
    words.iter().enumerate().find_map(|(i, word)| {
        let after_number = words
            .get(i.wrapping_sub(1))
            .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
        match word.as_str() {
            code if CODES.contains(&code) => Some(code.to_uppercase()),
            "euro" | "euros" => Some("EUR".into()),
            "dong" if after_number => Some("VND".into()),
            _ => None,
        }
    })
}

/// Words that ask for an average ("average", "trung bình", "bình quân", "usually").
fn asks_average(words: &[String], i: usize) -> bool {
    match words[i].as_str() {
        "average" | "averages" | "averaging" | "avg" | "typical" | "typically" | "usually"
        | "normally" => true,
        "trung" => word_is(words, i + 1, &["binh"]),
        "binh" => word_is(words, i + 1, &["quan"]),
        _ => false,
    }
}

/// A rate starting at word `i`: "monthly", "per week", "a month", "each day", "mỗi tháng",
/// "hàng tuần", "một tháng"; not "in a month", "a month ago" nor "một tháng nữa" (a date).
fn rate_at(words: &[String], raw: &str, marks: &[Mark], i: usize) -> Option<AverageUnit> {
    let unit = |word: &str| match word {
        "month" | "thang" => Some(AverageUnit::Month),
        "week" | "tuan" => Some(AverageUnit::Week),
        "day" | "ngay" => Some(AverageUnit::Day),
        _ => None,
    };
    match words[i].as_str() {
        "per" | "each" | "every" => unit(words.get(i + 1)?),
        "moi" | "hang" if vietnamese_rate(words, raw, i) => unit(words.get(i + 1)?),
        "a" | "mot" => {
            let dated = word_is(
                words,
                i.wrapping_sub(1),
                &[
                    "in", "within", "for", "than", "over", "last", "past", "previous", "trong",
                    "sau", "hon", "ngay",
                ],
            ) || word_is(
                words,
                i + 2,
                // Not "tới": "một tháng tôi tiêu" folds alike.
                &["ago", "later", "from", "nua", "truoc", "sau", "qua"],
            );
            if dated {
                return None;
            }
            let per = unit(words.get(i + 1)?)?;
            if words[i] == "mot" {
                return Some(per);
            }
            // "spend a month", "$50 a week", "on food a day?": a rate after a spend verb or an
            // amount, or closing what is asked; not "on a day trip", "a week's holiday".
            let before = i.wrapping_sub(1);
            let spent = word_is(words, before, SPEND_WORDS)
                || marks.get(before) == Some(&Mark::Amount)
                || words.get(before).is_some_and(|w| number(w).is_some());
            let closing = i + 2 >= words.len()
                || word_is(words, i + 2, RATE_CLOSERS)
                || marks.get(i + 2).is_some_and(|m| *m != Mark::Free);
            let cued = word_is(words, before, SUBJECT_CUES);
            (spent
                || !cued
                    && (closing
                        || words
                            .iter()
                            .enumerate()
                            .any(|(k, _)| asks_average(words, k))))
            .then_some(per)
        }
        "monthly" | "weekly" | "daily" => {
            // "for daily necessities", "on monthly subscriptions": the start of a subject, not a
            // rate ("on monthly spending" is one).
            let subject = word_is(words, i.wrapping_sub(1), SUBJECT_CUES)
                && words.get(i + 1).is_some_and(|next| {
                    marks.get(i + 1) == Some(&Mark::Free)
                        && !GENERIC.contains(&next.as_str())
                        && !STOP.contains(&next.as_str())
                        && !next.chars().any(|c| c.is_ascii_digit())
                });
            if subject {
                return None;
            }
            unit(match words[i].as_str() {
                "monthly" => "month",
                "weekly" => "week",
                _ => "day",
            })
        }
        _ => None,
    }
}

/// Words after which "a month", "a week", "a day" is a rate: spending, earning or averaging.
const SPEND_WORDS: &[&str] = &[
    "spend",
    "spends",
    "spent",
    "spending",
    "pay",
    "pays",
    "paid",
    "paying",
    "earn",
    "earns",
    "earned",
    "earning",
    "make",
    "makes",
    "made",
    "making",
    "cost",
    "costs",
    "costing",
    "save",
    "saves",
    "saved",
    "use",
    "used",
    "average",
    "averages",
    "averaging",
    "avg",
    "usually",
    "typically",
    "normally",
    "income",
    "expenses",
    "spendings",
    "budget",
    "go",
    "goes",
    "out",
];

/// Words after "a month" that leave it a rate: what follows is another part of the question.
const RATE_CLOSERS: &[&str] = &[
    "on",
    "for",
    "at",
    "in",
    "and",
    "or",
    "so",
    "lately",
    "recently",
    "now",
    "currently",
    "these",
    "nowadays",
    "then",
    "to",
    "with",
    "this",
    "over",
    "during",
    "since",
    "including",
    "excluding",
];

/// The question's words as written (lower case, accents kept), one for each folded word, when
/// they line up.
fn raw_word(raw: &str, words: &[String], at: usize) -> Option<String> {
    let written = tokens(raw);
    if written.len() != words.len() {
        return None;
    }
    written.into_iter().nth(at)
}

/// "mỗi tháng", "hàng tuần", "mỗi ngày" at word `i`: a Vietnamese rate; not "mới tháng trước"
/// ("mới", new, folds as "mỗi" does) nor "mua hàng tháng trước" (goods, then last month).
fn vietnamese_rate(words: &[String], raw: &str, i: usize) -> bool {
    if !word_is(words, i, &["moi", "hang"]) || !word_is(words, i + 1, &["thang", "tuan", "ngay"]) {
        return false;
    }
    // As written: only "mỗi" and "hàng" (or words written without accents) are rates.
    if let Some(written) = raw_word(raw, words, i) {
        if written != words[i] && written != "mỗi" && written != "hàng" {
            return false;
        }
    }
    // "tháng trước", "tuần này", "tháng tới": a period follows, not a rate ("mỗi tháng tôi"
    // folds as "tháng tới" does).
    let next = i + 2;
    let period = word_is(words, next, &["truoc", "qua", "nay", "roi", "nua"])
        || word_is(words, next, &["toi"]) && raw_word(raw, words, next).is_some_and(|w| w == "tới");
    !period
}

/// An average the question asks for: the unit it names ("weekly", "mỗi tuần"), a month when
/// it names none ("average spending"); a rate alone asks for one too ("how much do I spend on
/// groceries per month").
fn read_average(
    words: &[String],
    raw: &str,
    marks: &[Mark],
    averaged: &mut [bool],
) -> Option<AverageUnit> {
    let mut asked = false;
    let mut unit = None;
    for i in 0..words.len() {
        if asks_average(words, i) {
            asked = true;
            // "trung bình", "bình quân": both words.
            let len = if words[i] == "trung" || words[i] == "binh" {
                2
            } else {
                1
            };
            for a in averaged.iter_mut().skip(i).take(len) {
                *a = true;
            }
        }
        if let Some(per) = rate_at(words, raw, marks, i) {
            let len = if ["monthly", "weekly", "daily"].contains(&words[i].as_str()) {
                1
            } else {
                2
            };
            for a in averaged.iter_mut().skip(i).take(len) {
                *a = true;
            }
            unit = unit.or(Some(per));
        }
    }
    match unit {
        Some(per) => Some(per),
        None if asked => Some(AverageUnit::Month),
        None => None,
    }
}

/// What the intent makes of what was read: a comparison gets its second period, an "afford …
/// by" question its date from a period it named ("by next month"), and a forecast the month of
/// the date it named ("the forecast for March", "dự báo tháng 3": the next March, read as a
/// date looking ahead).
pub fn settle(entities: &mut Entities, intent: &str, today: NaiveDate) {
    match intent {
        "compare_periods" => complete_comparison(entities, today),
        "afford" if entities.date.is_none() => {
            if let Some(period) = entities.period.take() {
                entities.date = Some(period.to);
            }
        }
        "forecast" if entities.period.is_none() => {
            if let Some(date) = entities.date.take() {
                entities.period = Some(Period::month_of(date));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    fn range(from: &str, to: &str) -> Option<Period> {
        Some(Period {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
        })
    }

    fn names() -> Vec<Name> {
        let mut out = Vec::new();
        for (kind, list) in [
            (
                NameKind::Category,
                &[
                    "Food",
                    "Groceries",
                    "Transport",
                    "Ăn uống",
                    "Đi lại",
                    "Health",
                ][..],
            ),
            (NameKind::Merchant, &["Highlands Coffee", "Grab"][..]),
            (NameKind::Wallet, &["Cash", "Tiền mặt", "Savings"][..]),
            (NameKind::Goal, &["Du lịch Nhật Bản"][..]),
        ] {
            for (index, name) in list.iter().enumerate() {
                out.push(Name {
                    kind,
                    name: (*name).into(),
                    index,
                });
            }
        }
        out
    }

    fn read(q: &str) -> Entities {
        extract(q, &names(), today(), false)
    }

    fn categories(names: &[&str]) -> Vec<Name> {
        names
            .iter()
            .enumerate()
            .map(|(index, name)| Name {
                kind: NameKind::Category,
                name: (*name).into(),
                index,
            })
            .collect()
    }

    #[test]
    fn periods_in_english_and_vietnamese_with_or_without_accents() {
        assert_eq!(
            read("food last month").period,
            range("2026-05-01", "2026-05-31")
        );
        assert_eq!(
            read("tháng trước").period,
            range("2026-05-01", "2026-05-31")
        );
        assert_eq!(
            read("thang truoc").period,
            range("2026-05-01", "2026-05-31")
        );
        assert_eq!(read("tuần trước").period, range("2026-06-08", "2026-06-14"));
        assert_eq!(
            read("since March").period,
            range("2026-03-01", "2026-06-15")
        );
        assert_eq!(read("từ tháng 3").period, range("2026-03-01", "2026-06-15"));
        assert_eq!(
            read("in September").period,
            range("2025-09-01", "2025-09-30")
        );
        assert_eq!(read("tháng 9").period, range("2025-09-01", "2025-09-30"));
        assert_eq!(
            read("past 30 days").period,
            range("2026-05-17", "2026-06-15")
        );
        assert_eq!(
            read("3 tháng qua").period,
            range("2026-03-01", "2026-05-31")
        );
        assert_eq!(read("hôm qua").period, range("2026-06-14", "2026-06-14"));
        assert_eq!(read("năm ngoái").period, range("2025-01-01", "2025-12-31"));
        assert_eq!(read("tháng sáu").period, range("2026-06-01", "2026-06-30"));
        let both = read("this month vs last month");
        assert_eq!(both.period, range("2026-06-01", "2026-06-30"));
        assert_eq!(both.compare, range("2026-05-01", "2026-05-31"));
        assert_eq!(read("may I see my food spending").period, None);
    }

    #[test]
    fn names_match_through_accents_case_plurals_and_typos() {
        let e = read("how much did i spend on groceires at grab from my cash");
        assert_eq!(e.category.map(|f| f.name), Some("Groceries".into()));
        assert_eq!(e.merchant.map(|f| f.name), Some("Grab".into()));
        assert_eq!(e.wallet.map(|f| f.name), Some("Cash".into()));
        assert_eq!(
            read("chi cho an uong").category.map(|f| f.name),
            Some("Ăn uống".into())
        );
        assert_eq!(
            read("ĐI LẠI tháng này").category.map(|f| f.name),
            Some("Đi lại".into())
        );
        assert_eq!(
            read("transportation").category.map(|f| f.name),
            Some("Transport".into())
        );
        assert_eq!(
            read("quỹ du lịch nhật bản").goal.map(|f| f.name),
            Some("Du lịch Nhật Bản".into())
        );
        assert_eq!(
            read("my wealth").category,
            None,
            "a typo must keep the first letter"
        );
        assert_eq!(read("tiền ăn").wallet, None);
    }

    #[test]
    fn amounts_counts_and_afford_dates() {
        assert_eq!(
            read("can I afford a $2,000 laptop").amount,
            Some(Decimal::from(2000))
        );
        assert_eq!(
            read("mua xe 5 triệu").amount,
            Some(Decimal::from(5_000_000))
        );
        assert_eq!(read("1,5 trieu").amount, Some(Decimal::from(1_500_000)));
        assert_eq!(read("500k").amount, Some(Decimal::from(500_000)));
        assert_eq!(read("spent in the last 3 months").amount, None);
        assert_eq!(read("top 5 expenses").top, Some(5));
        assert_eq!(
            read("79228162514264337593543950335 tỷ").amount,
            None,
            "too large, not a panic"
        );
        assert_eq!(read("$99999999999999999999").amount, None);
        assert_eq!(read("can I afford -500").amount, None, "not 500");
        for (question, date) in [
            ("can i afford 500 by 2040", "2040-12-31"),
            ("can i afford 500 by 2150", "2150-12-31"),
            ("can i afford 500 by tomorrow", "2026-06-16"),
        ] {
            let mut e = extract(question, &names(), today(), true);
            settle(&mut e, "afford", today());
            assert_eq!(e.date, date.parse().ok(), "{question}");
        }
        assert_eq!(read("can I afford -$500 usd").amount, None);
        assert_eq!(read("can I afford $500").amount, Some(Decimal::from(500)));
        let e = extract("can i afford 2k by 2020-02-01", &names(), today(), true);
        assert_eq!(
            e.date,
            "2020-02-01".parse().ok(),
            "kept as asked, for the answer to refuse"
        );
        let e = extract("can i afford 2k by december", &names(), today(), true);
        assert_eq!(
            (e.amount, e.date),
            (Some(Decimal::from(2000)), "2026-12-31".parse().ok())
        );
        let e = extract("mua được không trong 6 tháng", &names(), today(), true);
        assert_eq!(e.date, "2026-12-15".parse().ok());
    }

    #[test]
    fn a_category_of_several_words_is_named_by_one_of_them() {
        let names = categories(&["Food & Dining", "Health & Fitness", "Doctor", "Fast Food"]);
        let read = |q: &str| extract(q, &names, today(), false).category.map(|f| f.name);
        assert_eq!(
            read("How much did I spend on food last month?"),
            Some("Food & Dining".into())
        );
        assert_eq!(read("fitness this year"), Some("Health & Fitness".into()));
        assert_eq!(
            read("fast food"),
            Some("Fast Food".into()),
            "the whole name first"
        );
        assert_eq!(
            closest("dinning", &names, NameKind::Category).map(|n| n.name.as_str()),
            Some("Food & Dining")
        );
    }

    #[test]
    fn a_day_or_a_quarter_is_the_period_asked_about() {
        let day = |d: &str| range(d, d);
        assert_eq!(
            read("how much did I spend on November 28").period,
            day("2025-11-28")
        );
        assert_eq!(
            read("what did I spend on 28 november").period,
            day("2025-11-28")
        );
        assert_eq!(read("spending on may 3 2026").period, day("2026-05-03"));
        assert_eq!(
            read("spent in november").period,
            range("2025-11-01", "2025-11-30")
        );
        assert_eq!(
            read("how much in Q3").period,
            range("2025-07-01", "2025-09-30")
        );
        assert_eq!(
            read("how much in q1").period,
            range("2026-01-01", "2026-03-31")
        );
        assert_eq!(
            read("q2 2024 spending").period,
            range("2024-04-01", "2024-06-30")
        );
        let iso = read("how much did I spend on 2026-05-28?");
        assert_eq!((iso.period, iso.date), (day("2026-05-28"), None));
        // What an outside review found read worse: a count before a month, "by" a figure,
        // "until" a month asked about the past.
        assert_eq!(
            read("top 5 november expenses").period,
            range("2025-11-01", "2025-11-30")
        );
        assert_eq!(read("did my spending go up by 2000").period, None);
        let mut ahead = extract("can i afford 2000 by q4", &names(), today(), true);
        settle(&mut ahead, "afford", today());
        assert_eq!(ahead.date, "2026-12-31".parse().ok());
    }

    #[test]
    fn a_kind_of_figure_names_no_category_and_a_shortened_name_does() {
        let names = categories(&["Investment income", "Transportation", "Groceries"]);
        let read = |q: &str| extract(q, &names, today(), false);
        assert_eq!(read("what was my income last month").category, None);
        assert_eq!(read("what was my net income last month").category, None);
        assert_eq!(
            read("investment income this year").category.map(|f| f.name),
            Some("Investment income".into())
        );
        assert_eq!(
            read("what about transport?").category.map(|f| f.name),
            Some("Transportation".into())
        );
        let with_wallet: Vec<Name> = names
            .iter()
            .cloned()
            .chain([Name {
                kind: NameKind::Wallet,
                name: "Checking".into(),
                index: 9,
            }])
            .collect();
        let checked = extract("check my spending this month", &with_wallet, today(), false);
        assert_eq!(checked.wallet, None, "a verb is no wallet cut short");
        let on_track = read("am I on track with my budgets?");
        assert_eq!((on_track.category, on_track.unknown), (None, None));
        assert_eq!(read("what about yachts?").unknown, Some("yachts".into()));
    }

    #[test]
    fn a_range_is_one_period_unless_two_are_compared() {
        let one = |q: &str| {
            let e = read(q);
            assert_eq!(e.compare, None, "{q}: one period");
            e.period
        };
        let october = range("2025-10-01", "2025-10-15");
        assert_eq!(
            one("how much did I spend between 1 and 15 October"),
            october
        );
        assert_eq!(one("spending from 1 to 15 october"), october);
        assert_eq!(one("food from October 1 to 15"), october);
        assert_eq!(one("food October 1-15"), october);
        assert_eq!(one("1-15 October on food"), october);
        assert_eq!(one("from 2025-10-01 to 2025-10-15"), october);
        assert_eq!(one("between 2025-10-01 and 2025-10-15"), october);
        assert_eq!(one("ngày 1 đến ngày 15 tháng 10"), october);
        assert_eq!(one("từ ngày 1 đến 15 tháng 10"), october);
        let spring = range("2026-03-01", "2026-05-31");
        assert_eq!(one("spent on food from March to May"), spring);
        assert_eq!(one("from March until May"), spring);
        assert_eq!(one("between March and May"), spring);
        assert_eq!(one("từ tháng 3 đến tháng 5"), spring);
        assert_eq!(
            one("between April and August"),
            range("2026-04-01", "2026-08-31")
        );
        assert_eq!(one("from May to July"), range("2026-05-01", "2026-07-31"));
        assert_ne!(
            read("from 2026-05-15 to 2026-05-01").period,
            range("2026-05-15", "2027-05-31")
        );
        assert_eq!(
            one("between 1 and 10 last month"),
            range("2026-05-01", "2026-05-10")
        );
        // A range the wrong way round is left as two periods; so is a comparison.
        let compared = read("March compared to May");
        assert_eq!(compared.period, range("2026-03-01", "2026-03-31"));
        assert_eq!(compared.compare, range("2026-05-01", "2026-05-31"));
        assert!(read("from 15 to 1 October").period != october);
        // Days of a month only: not of a week or a day, and a machine is no May.
        assert_ne!(
            read("spent between 5 and 10 last week").period,
            range("2026-06-05", "2026-06-10")
        );
        assert_eq!(read("tôi có mua nổi 1 máy giặt không").period, None);
        assert_eq!(
            one("total spent 1 to 10 may"),
            range("2026-05-01", "2026-05-10")
        );
        assert_eq!(
            mask("how much did I spend between 1 and 15 October"),
            "how much did i spend between xperiod"
        );
    }

    #[test]
    fn a_day_before_its_month_starts_or_ends_a_range() {
        let e = read("How much did I spend from 20 October to 5 November?");
        assert_eq!(
            (e.period, e.compare),
            (range("2025-10-20", "2025-11-05"), None)
        );
        assert_eq!(
            read("between 20 October and 5 November").period,
            range("2025-10-20", "2025-11-05")
        );
        assert_eq!(
            read("since 20 May").period,
            range("2026-05-20", "2026-06-15")
        );
        let us = read("How much did I spend on 05/28/2026?");
        assert_eq!(us.period, range("2026-05-28", "2026-05-28"));
        assert_eq!(read("28/05/2026").period, range("2026-05-28", "2026-05-28"));
        assert_eq!(
            read("chi tiêu tháng 11/2025").period,
            range("2025-11-01", "2025-11-30")
        );
    }

    #[test]
    fn vao_thang_is_in_that_month_unless_looking_ahead() {
        let e = read("tôi đã chi bao nhiêu vào tháng 11");
        assert_eq!(
            (e.period, e.date),
            (range("2025-11-01", "2025-11-30"), None)
        );
        let ahead = extract("mua xe 20 triệu vào tháng 12", &names(), today(), true);
        assert_eq!(ahead.date, "2026-12-31".parse().ok());
    }

    #[test]
    fn a_date_that_is_none_or_a_range_that_runs_backwards_is_unclear() {
        let reason = |q: &str| read(q).unclear.map(|u| u.reason);
        for q in [
            "how much did I spend on 2026-02-31",
            "how much did I spend on 31 February",
            "spent on February 30",
            "from 2026-13-01 to 2026-14-01",
            "spending in year 99999",
            "spending in 0000",
            "chi tiêu ngày 31 tháng 2",
            "between 1 and 31 February",
        ] {
            assert_eq!(reason(q), Some(UnclearReason::NoSuchDate), "{q}");
            assert_eq!(read(q).period, None, "{q}: no other period instead");
        }
        for q in ["since December 2027", "from 2026-05-30 to 2026-04-01"] {
            assert_eq!(reason(q), Some(UnclearReason::EndsBeforeStart), "{q}");
        }
        assert_eq!(
            reason("spent on 03/04/2026"),
            Some(UnclearReason::Ambiguous)
        );
        for q in [
            "spent in 2025",
            "on 2026-02-28",
            "last month",
            "from March to May",
            "can I buy a 10000 usd car",
            "spent 12000 in 3 months",
        ] {
            assert_eq!(read(q).unclear, None, "{q}");
        }
    }

    #[test]
    fn several_categories_a_left_out_one_and_a_currency_are_read() {
        let e = read("groceries and transport last month");
        assert_eq!(e.category.map(|f| f.name), Some("Groceries".into()));
        assert_eq!(
            e.also.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["Transport"]
        );
        let e = read("food excluding groceries");
        assert_eq!(e.category.map(|f| f.name), Some("Food".into()));
        assert_eq!(e.excluded.map(|f| f.name), Some("Groceries".into()));
        assert_eq!(
            read("groceries in EUR last month").currency,
            Some("EUR".into())
        );
        assert_eq!(
            extract("can I afford 500 euros", &names(), today(), true).currency,
            Some("EUR".into())
        );
        assert_eq!(read("top 5 expenses of all time").currency, None);
        assert!(read("What were my top 3 categories last month?").per_category);
        assert!(!read("What were my top 3 expenses last month?").per_category);
    }

    #[test]
    fn an_average_is_read_with_its_unit() {
        let per = |q: &str| read(q).average;
        for (question, expected) in [
            (
                "What is my average monthly spending?",
                Some(AverageUnit::Month),
            ),
            ("average weekly spending", Some(AverageUnit::Week)),
            ("average spending", Some(AverageUnit::Month)),
            (
                "how much do I spend on groceries per month on average",
                Some(AverageUnit::Month),
            ),
            (
                "what do I usually spend on food a week",
                Some(AverageUnit::Week),
            ),
            ("my daily spending", Some(AverageUnit::Day)),
            (
                "trung bình mỗi tháng tôi chi bao nhiêu",
                Some(AverageUnit::Month),
            ),
            (
                "trung binh moi tuan toi tieu bao nhieu",
                Some(AverageUnit::Week),
            ),
            (
                "bình quân một ngày tôi tiêu bao nhiêu",
                Some(AverageUnit::Day),
            ),
            (
                "hàng tháng tôi tiêu bao nhiêu cho ăn uống",
                Some(AverageUnit::Month),
            ),
            ("một tuần tiền ăn hết bao nhiêu", Some(AverageUnit::Week)),
            ("spent in the past 1 week", None),
            ("tôi chi bao nhiêu ngày 1 tháng 10", None),
            ("how much did I spend last month", None),
            ("what did I spend a month ago", None),
            ("can I afford it in a month", None),
            ("tháng tới tôi chi bao nhiêu", None),
        ] {
            assert_eq!(per(question), expected, "{question}");
        }
        assert_eq!(
            read("how much do I spend on avg").unknown,
            None,
            "no subject"
        );
        // "mỗi tháng tôi" is not "tháng tới" (next month), which folds alike.
        let e = read("trung bình mỗi tháng tôi chi bao nhiêu cho ăn uống");
        assert_eq!(
            (e.period, e.category.map(|f| f.name)),
            (None, Some("Ăn uống".into()))
        );
        assert_eq!(
            read("tháng tới tôi chi bao nhiêu").period,
            range("2026-07-01", "2026-07-31")
        );
        let e = read("average monthly spending on groceries over the last 3 months");
        assert_eq!(
            (e.average, e.period, e.category.map(|f| f.name)),
            (
                Some(AverageUnit::Month),
                range("2026-03-01", "2026-05-31"),
                Some("Groceries".into())
            )
        );
    }

    #[test]
    fn an_average_is_over_whole_periods_behind_and_no_earlier_than_the_history() {
        let day = |d: &str| d.parse::<NaiveDate>().ok();
        let long_ago = day("2020-01-01");
        let window = |per, named, first| average_window(per, named, today(), first);
        assert_eq!(
            window(AverageUnit::Month, None, long_ago),
            range("2025-06-01", "2026-05-31").map(|p| (p, 12))
        );
        // A ledger begun in March: March counts whole, as the simulations' baseline does.
        assert_eq!(
            window(AverageUnit::Month, None, day("2026-03-20")),
            range("2026-03-01", "2026-05-31").map(|p| (p, 3))
        );
        assert_eq!(window(AverageUnit::Month, None, None), None, "no history");
        assert_eq!(window(AverageUnit::Month, None, day("2026-06-02")), None);
        assert_eq!(
            window(
                AverageUnit::Month,
                range("2026-01-01", "2026-12-31"),
                long_ago
            ),
            range("2026-01-01", "2026-05-31").map(|p| (p, 5)),
            "this year: its months that are over"
        );
        assert_eq!(
            window(
                AverageUnit::Month,
                range("2026-03-10", "2026-06-15"),
                long_ago
            ),
            range("2026-04-01", "2026-05-31").map(|p| (p, 2)),
            "whole months only"
        );
        assert_eq!(
            window(
                AverageUnit::Month,
                range("2026-06-01", "2026-06-30"),
                long_ago
            ),
            None
        );
        assert_eq!(
            window(AverageUnit::Week, None, long_ago),
            range("2026-03-23", "2026-06-14").map(|p| (p, 12))
        );
        assert_eq!(
            window(AverageUnit::Week, None, day("2026-05-27")),
            range("2026-05-25", "2026-06-14").map(|p| (p, 3))
        );
        assert_eq!(
            window(AverageUnit::Day, None, long_ago),
            range("2026-05-16", "2026-06-14").map(|p| (p, 30))
        );
        assert_eq!(
            window(
                AverageUnit::Day,
                range("2026-05-01", "2026-05-31"),
                long_ago
            ),
            range("2026-05-01", "2026-05-31").map(|p| (p, 31))
        );
    }

    #[test]
    fn a_forecast_of_a_month_by_name_is_that_month_ahead() {
        for (question, from, to) in [
            (
                "What is the forecast for March?",
                "2027-03-01",
                "2027-03-31",
            ),
            ("dự báo tháng 3", "2027-03-01", "2027-03-31"),
            ("du bao chi tieu thang 3", "2027-03-01", "2027-03-31"),
            ("forecast for september", "2026-09-01", "2026-09-30"),
            ("forecast for june", "2026-06-01", "2026-06-30"),
            ("forecast for next month", "2026-07-01", "2026-07-31"),
            ("forecast for March 2026", "2026-03-01", "2026-03-31"),
        ] {
            let mut e = extract(question, &names(), today(), true);
            settle(&mut e, "forecast", today());
            assert_eq!((e.period, e.date), (range(from, to), None), "{question}");
        }
    }

    #[test]
    fn an_unknown_subject_is_named() {
        assert_eq!(
            read("how much did I spend on 🍔 last month?").unknown,
            Some("🍔".into())
        );
        assert_eq!(
            read("tôi chi bao nhiêu cho ăn uống tháng trước").unknown,
            None,
            "the ledger has Ăn uống"
        );
        let without = categories(&["Groceries"]);
        assert_eq!(
            extract(
                "tôi chi bao nhiêu cho ăn uống tháng trước",
                &without,
                today(),
                false
            )
            .unknown,
            Some("an uong".into())
        );
        assert_eq!(
            read("how much on yachts this month").unknown,
            Some("yachts".into())
        );
        assert_eq!(read("how much on food this month").unknown, None);
    }

    #[test]
    fn a_subject_that_starts_like_an_average_word_is_still_a_subject() {
        // "quần áo" and "quán" fold as "bình quân" does, "Trung Nguyên" as "trung bình", "mới"
        // as "mỗi"; "daily necessities" is a subject, not a rate.
        for (question, subject) in [
            ("Tôi chi bao nhiêu cho quần áo tháng trước?", "quan ao"),
            ("How much at Trung Nguyên?", "trung nguyen"),
            (
                "how much for daily necessities last month",
                "daily necessities",
            ),
            ("tôi tiêu bao nhiêu ở quán phở tháng này", "quan pho"),
            ("chi bao nhiêu cho máy mới tháng trước", "may moi"),
            ("how much on monthly subscriptions", "monthly subscriptions"),
        ] {
            let e = read(question);
            assert_eq!(e.unknown.as_deref(), Some(subject), "{question}");
            assert_eq!(e.average, None, "{question}");
        }
        // The words of an average are never its subject.
        for question in [
            "how much do I spend on avg",
            "tôi chi bao nhiêu cho trung bình mỗi tháng",
            "how much on monthly spending",
            "how much for bình quân một tháng",
        ] {
            assert_eq!(read(question).unknown, None, "{question}");
        }
        assert_eq!(
            read("how much on monthly spending").average,
            Some(AverageUnit::Month)
        );
    }

    #[test]
    fn goods_new_or_a_day_trip_are_no_rate() {
        let last_month = range("2026-05-01", "2026-05-31");
        for question in [
            "how much did I spend last month on a day trip",
            "mua hàng tháng trước hết bao nhiêu",
            "mua hang thang truoc het bao nhieu",
            "điện thoại mới tháng trước bao nhiêu tiền",
            "moi thang truoc toi chi bao nhieu",
        ] {
            let e = read(question);
            assert_eq!((e.period, e.average), (last_month, None), "{question}");
        }
        assert_eq!(read("mua hàng tuần này hết bao nhiêu").average, None);
        assert_eq!(
            read("how much did I spend on a week's holiday").average,
            None
        );
        // Rates as before.
        for (question, per) in [
            ("how much do I spend a month", AverageUnit::Month),
            ("how much do I spend on groceries a week", AverageUnit::Week),
            ("I pay $50 a week for food", AverageUnit::Week),
            ("mỗi tháng tôi chi bao nhiêu", AverageUnit::Month),
            ("hàng tuần tôi tiêu bao nhiêu", AverageUnit::Week),
            ("moi thang toi tieu bao nhieu", AverageUnit::Month),
        ] {
            let e = read(question);
            assert_eq!((e.average, e.period), (Some(per), None), "{question}");
        }
    }
}
