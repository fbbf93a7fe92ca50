//! Reading a receipt's text (as OCR or a PDF's text layer gave it) into fields: merchant, date,
//! total, subtotal, tax, tip or service charge, currency and line items, each with a
//! confidence. Pure: text in, fields out. English and Vietnamese receipts, with or without
//! diacritics (OCR often loses them), amounts written the English way (`1,234.50`), the
//! continental way (`1.234,50`) or without minor units (`125.000 đ`).

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::currency::minor_units;

/// A field read off a receipt, and how sure the reading is (0 to 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field<T> {
    pub value: T,
    pub confidence: f32,
}

fn field<T>(value: T, confidence: f32) -> Field<T> {
    Field { value, confidence }
}

/// One line of what was bought.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Option<Decimal>,
    pub amount: Decimal,
}

/// What a receipt says; its lines are `I` (the parser's [`Item`], or a line with more to it,
/// such as its suggested category).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reading<I = Item> {
    pub merchant: Option<Field<String>>,
    pub date: Option<Field<NaiveDate>>,
    pub total: Option<Field<Decimal>>,
    pub subtotal: Option<Field<Decimal>>,
    pub tax: Option<Field<Decimal>>,
    pub tip: Option<Field<Decimal>>,
    pub currency: Option<Field<String>>,
    pub items: Vec<I>,
    /// How sure the reading is of the items as a whole: high when they add up to the subtotal
    /// (or the total less tax and tip).
    pub items_confidence: f32,
}

impl<I> Default for Reading<I> {
    fn default() -> Self {
        Reading {
            merchant: None,
            date: None,
            total: None,
            subtotal: None,
            tax: None,
            tip: None,
            currency: None,
            items: Vec::new(),
            items_confidence: 0.0,
        }
    }
}

impl<I> Reading<I> {
    /// The same reading with each line turned into another kind of line.
    pub fn map_items<J>(self, f: impl FnOnce(Vec<I>) -> Vec<J>) -> Reading<J> {
        Reading {
            merchant: self.merchant,
            date: self.date,
            total: self.total,
            subtotal: self.subtotal,
            tax: self.tax,
            tip: self.tip,
            currency: self.currency,
            items: f(self.items),
            items_confidence: self.items_confidence,
        }
    }
}

/// Keywords match whether or not OCR kept the accents: `Tổng cộng` → `tong cong`.
pub use super::question::fold;

/// An amount at the end of a line: optional currency before it, digits with separators, an
/// optional currency or tax-code letter after it.
static AMOUNT_AT_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<minus>-)?\s*
        (?:[$€£₫]|usd|eur|gbp|vnd)?\s*
        (?P<number>\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)
        \s*(?:[$€£₫]|vnd|vnđ|đ|d|usd|eur|gbp)?
        \s*(?:\b[a-z]\b|\*)?\s*$",
    )
    .expect("a valid pattern")
});

/// Reads a number as written on a receipt in a currency with `minor` decimal places.
pub fn parse_amount(raw: &str, minor: u32) -> Option<Decimal> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let last_separator = digits.rfind(['.', ',']);
    let (whole, fraction) = match last_separator {
        Some(at) => {
            let after = &digits[at + 1..];
            if after.len() == 3 || (minor == 0 && after.len() != 2) {
                (digits.replace(['.', ','], ""), String::new())
            } else {
                (digits[..at].replace(['.', ','], ""), after.to_owned())
            }
        }
        None => (digits.clone(), String::new()),
    };
    let text = if fraction.is_empty() {
        whole
    } else {
        format!("{whole}.{fraction}")
    };
    let value: Decimal = text.parse().ok()?;
    (value < Decimal::new(1_000_000_000_000, 0)).then_some(value)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Total,
    Subtotal,
    Tax,
    Tip,
    /// Payment, change, counts, discounts' own headers: lines that are not items.
    Other,
    Item,
}

fn has_word(folded: &str, word: &str) -> bool {
    folded.match_indices(word).any(|(at, _)| {
        let before = folded[..at].chars().next_back();
        let after = folded[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

fn any_word(folded: &str, words: &[&str]) -> bool {
    words.iter().any(|w| has_word(folded, w))
}

fn kind_of(folded_label: &str) -> Kind {
    const SUBTOTAL: &[&str] = &[
        "subtotal",
        "sub total",
        "sub-total",
        "tam tinh",
        "cong tien hang",
        "tien hang",
        "net amount",
    ];
    const TIP: &[&str] = &[
        "tip",
        "tips",
        "gratuity",
        "service charge",
        "service",
        "svc",
        "phi dich vu",
        "phi phuc vu",
    ];
    const TAX: &[&str] = &[
        "tax",
        "vat",
        "gst",
        "hst",
        "pst",
        "sales tax",
        "thue",
        "thue gtgt",
        "thue vat",
        "tva",
        "mwst",
    ];
    const TOTAL: &[&str] = &[
        "total",
        "amount due",
        "balance due",
        "grand total",
        "to pay",
        "tong cong",
        "tong tien",
        "tong",
        "thanh toan",
        "tong thanh toan",
    ];
    // Checked before the others: a payment line ("Amount tendered", "Thanh toán tiền mặt") or
    // a tax number ("Mã số thuế", "VAT no") is neither a total nor a tax.
    const NOT_SUMS: &[&str] = &[
        "cash",
        "change",
        "tender",
        "tendered",
        "visa",
        "mastercard",
        "amex",
        "tien mat",
        "tien thua",
        "tien khach dua",
        "khach dua",
        "tra lai",
        "ma so thue",
        "mst",
        "tax id",
        "vat no",
        "vat reg",
        "tax no",
        "excl",
    ];
    const OTHER: &[&str] = &[
        "cash",
        "change",
        "card",
        "visa",
        "mastercard",
        "amex",
        "debit",
        "credit",
        "tender",
        "paid",
        "payment",
        "tien mat",
        "tien thua",
        "tien khach dua",
        "khach dua",
        "tra lai",
        "items",
        "item count",
        "qty",
        "so luong",
        "thank",
        "cam on",
        "auth",
        "approval",
        "balance",
        "rounding",
        "points",
        "loyalty",
        "savings",
        "you saved",
        "tel",
        "phone",
        "dien thoai",
        "mst",
        "tax id",
        "invoice no",
        "receipt no",
        "table",
        "ban so",
        "guests",
        "pump",
        "date",
        "ngay",
        "time",
        "gio",
        "address",
        "dia chi",
        "street",
        "st",
        "ave",
        "road",
        "quan",
        "phuong",
        "zip",
    ];
    if any_word(folded_label, NOT_SUMS) {
        Kind::Other
    } else if any_word(folded_label, SUBTOTAL) {
        Kind::Subtotal
    } else if any_word(folded_label, TIP) {
        Kind::Tip
    } else if any_word(folded_label, TAX)
        && !folded_label.contains("incl")
        && !folded_label.contains("before tax")
        && !folded_label.contains("bao gom")
    {
        Kind::Tax
    } else if any_word(folded_label, TOTAL) {
        Kind::Total
    } else if any_word(folded_label, OTHER) {
        Kind::Other
    } else {
        Kind::Item
    }
}

/// A line split into its label and the amount it ends with.
struct Line<'a> {
    raw: &'a str,
    label: &'a str,
    folded: String,
    amount: Option<Decimal>,
    negative: bool,
}

fn split_line(line: &str, minor: u32) -> Line<'_> {
    let lower = line.to_lowercase();
    // Matching runs on the lower-cased line; lower-casing keeps byte offsets for the ASCII
    // this pattern matches, and a line where it would not is read as text.
    if lower.len() == line.len() {
        if let Some(caps) = AMOUNT_AT_END.captures(&lower) {
            let whole = caps.get(0).map_or(line.len(), |m| m.start());
            let number_match = caps.name("number");
            let number = number_match.map_or("", |m| m.as_str());
            let number_start = number_match.map_or(0, |m| m.start());
            // Offsets of the lower-cased line are the line's only where lower-casing kept
            // every character's length; elsewhere the line is read as text.
            let (Some(before), Some(before_number)) = (line.get(..whole), line.get(..number_start))
            else {
                return text_line(line);
            };
            let label = before.trim_end_matches([' ', ':', '.', '\t']).trim();
            // A number glued to a word ("Room101") is part of the word.
            let glued = before_number
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphabetic());
            if !glued && plausible(number, minor) {
                if let Some(amount) = parse_amount(number, minor) {
                    return Line {
                        raw: line,
                        label,
                        folded: fold(label),
                        amount: Some(amount),
                        negative: caps.name("minus").is_some(),
                    };
                }
            }
        }
    }
    text_line(line)
}

fn text_line(line: &str) -> Line<'_> {
    Line {
        raw: line,
        label: line.trim(),
        folded: fold(line.trim()),
        amount: None,
        negative: false,
    }
}

/// Whether a number looks like money in a currency with `minor` decimal places: cents written
/// out (`4.25`), or, without minor units, thousands grouped (`25.000`) or four digits or more.
/// House numbers, postcodes and counts do not.
fn plausible(number: &str, minor: u32) -> bool {
    let bytes = number.as_bytes();
    let n = bytes.len();
    if minor > 0 {
        n >= 3 && matches!(bytes[n - 3], b'.' | b',') && number.rfind(['.', ',']) == Some(n - 3)
    } else {
        number.contains(['.', ',', ' ']) || n >= 4
    }
}

/// The currency a receipt is in, from codes and symbols in its text; else `default`.
fn currency_of(folded: &str, raw: &str, default: &str) -> Field<String> {
    let coded = [
        ("vnd", "VND"),
        ("eur", "EUR"),
        ("gbp", "GBP"),
        ("usd", "USD"),
    ]
    .into_iter()
    .find(|(code, _)| has_word(folded, code));
    if let Some((_, code)) = coded {
        return field(code.to_owned(), 0.9);
    }
    let symbol = if raw.contains('₫') || raw.contains("đ") && looks_vietnamese(folded) {
        Some("VND")
    } else if raw.contains('€') {
        Some("EUR")
    } else if raw.contains('£') {
        Some("GBP")
    } else if raw.contains('$') {
        Some(
            if ["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"].contains(&default) {
                default
            } else {
                "USD"
            },
        )
    } else {
        None
    };
    match symbol {
        Some(code) => field(code.to_owned(), 0.75),
        None if looks_vietnamese(folded) => field("VND".to_owned(), 0.6),
        None => field(default.to_owned(), 0.4),
    }
}

fn looks_vietnamese(folded: &str) -> bool {
    [
        "hoa don",
        "tong cong",
        "thanh toan",
        "tien mat",
        "cam on",
        "so luong",
        "ngay",
        "dia chi",
    ]
    .iter()
    .filter(|w| folded.contains(*w))
    .count()
        >= 2
}

static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b").expect("a valid pattern")
});
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b").expect("a valid pattern")
});
static DAY_MONTH_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})[\s-]+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?[\s-]+(\d{4}|\d{2})\b")
        .expect("a valid pattern")
});
static MONTH_NAME_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b",
    )
    .expect("a valid pattern")
});
static VIETNAMESE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})").expect("a valid pattern")
});

fn month_number(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    NAMES
        .iter()
        .position(|n| name.starts_with(n))
        .map(|i| i as u32 + 1)
}

fn full_year(year: i32) -> i32 {
    if year < 100 {
        2000 + year
    } else {
        year
    }
}

fn date_of(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    let y = full_year(y);
    if !(2000..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The date a line holds, with a confidence: `day_first` settles `03/04/2026`.
fn date_in(folded: &str, day_first: bool) -> Option<Field<NaiveDate>> {
    let number = |s: &str| s.parse::<u32>().ok();
    if let Some(c) = VIETNAMESE_DATE.captures(folded) {
        if let Some(date) = date_of(c[3].parse().ok()?, number(&c[2])?, number(&c[1])?) {
            return Some(field(date, 0.95));
        }
    }
    if let Some(c) = ISO_DATE.captures(folded) {
        if let Some(date) = date_of(c[1].parse().ok()?, number(&c[2])?, number(&c[3])?) {
            return Some(field(date, 0.95));
        }
    }
    if let Some(c) = DAY_MONTH_NAME.captures(folded) {
        if let Some(date) = date_of(c[3].parse().ok()?, month_number(&c[2])?, number(&c[1])?) {
            return Some(field(date, 0.95));
        }
    }
    if let Some(c) = MONTH_NAME_DAY.captures(folded) {
        if let Some(date) = date_of(c[3].parse().ok()?, month_number(&c[1])?, number(&c[2])?) {
            return Some(field(date, 0.95));
        }
    }
    for c in NUMERIC_DATE.captures_iter(folded) {
        let (a, b, year) = (number(&c[1])?, number(&c[2])?, c[3].parse().ok()?);
        let (date, sure) = match (a > 12, b > 12) {
            (true, false) => (date_of(year, b, a), true),
            (false, true) => (date_of(year, a, b), true),
            (false, false) if a == b => (date_of(year, a, b), true),
            (false, false) if day_first => (date_of(year, b, a), false),
            (false, false) => (date_of(year, a, b), false),
            (true, true) => (None, false),
        };
        if let Some(date) = date {
            return Some(field(date, if sure { 0.9 } else { 0.7 }));
        }
    }
    None
}

static QTY_FIRST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,3})\s*[x×*@]\s+(.+)$").expect("a valid pattern"));
static QTY_AT_PRICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.*?\S)\s+(\d{1,3})\s*[x×*@]\s*([\d.,]+)$").expect("a valid pattern")
});
static QTY_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,3})\s*[x×*@]\s*([\d.,]+)$").expect("a valid pattern"));
static LEADING_COUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,2})\s+(\p{L}.*)$").expect("a valid pattern"));

fn item_of(label: &str, amount: Decimal, minor: u32) -> Option<Item> {
    let letters = label.chars().filter(|c| c.is_alphabetic()).count();
    if letters < 2 {
        return None;
    }
    let mut item = Item {
        description: label.to_owned(),
        quantity: Decimal::ONE,
        unit_price: None,
        amount,
    };
    if let Some(c) = QTY_AT_PRICE.captures(label) {
        if let (Ok(q), Some(unit)) = (c[2].parse::<Decimal>(), parse_amount(&c[3], minor)) {
            item.description = c[1].trim().to_owned();
            item.quantity = q;
            item.unit_price = Some(unit);
        }
    } else if let Some(c) = QTY_FIRST.captures(label) {
        if let Ok(q) = c[1].parse::<Decimal>() {
            item.description = c[2].trim().to_owned();
            item.quantity = q;
        }
    } else if let Some(c) = LEADING_COUNT.captures(label) {
        if let Ok(q) = c[1].parse::<Decimal>() {
            if q > Decimal::ZERO {
                item.description = c[2].trim().to_owned();
                item.quantity = q;
            }
        }
    }
    if item.unit_price.is_none() && item.quantity > Decimal::ONE {
        item.unit_price = Some((amount / item.quantity).round_dp(minor));
    }
    let description = item
        .description
        .trim_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '%')
        .to_owned();
    (description.chars().filter(|c| c.is_alphabetic()).count() >= 2).then_some(Item {
        description,
        ..item
    })
}

/// A line that could name the shop: letters, not a keyword, not an address or phone line.
fn merchant_candidate(line: &str) -> Option<String> {
    let trimmed = line
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '&' && c != '\'');
    let letters = trimmed.chars().filter(|c| c.is_alphabetic()).count();
    let digits = trimmed.chars().filter(|c| c.is_ascii_digit()).count();
    if letters < 3 || digits > letters / 2 {
        return None;
    }
    let folded = fold(trimmed);
    const NOT_NAMES: &[&str] = &[
        "receipt",
        "invoice",
        "tax invoice",
        "welcome",
        "hoa don",
        "phieu",
        "bien lai",
        "www",
        "http",
        "tel",
        "phone",
        "street",
        "st.",
        "road",
        "ave",
        "dia chi",
        "order",
        "table",
        "server",
        "cashier",
        "date",
        "ngay",
        "copy",
        "customer",
    ];
    if NOT_NAMES.iter().any(|w| has_word(&folded, w)) || folded.contains('@') {
        return None;
    }
    Some(trimmed.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Reads a receipt's text. `default_currency` is the ledger's, for receipts that name none.
pub fn read(text: &str, default_currency: &str) -> Reading {
    let raw_lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let all_folded = fold(text);
    let currency = currency_of(&all_folded, text, default_currency);
    let minor = minor_units(&currency.value);
    let day_first = currency.value != "USD";
    let lines: Vec<Line> = raw_lines.iter().map(|l| split_line(l, minor)).collect();

    let mut reading: Reading = Reading {
        currency: Some(currency),
        ..Reading::default()
    };

    // Merchant: the first name-like line among the first few.
    reading.merchant = raw_lines.iter().take(6).enumerate().find_map(|(i, l)| {
        merchant_candidate(l).map(|m| field(m, if i == 0 { 0.85 } else { 0.65 }))
    });

    // Date: a line that says it is the date first, else the first date anywhere.
    let dates: Vec<(bool, Field<NaiveDate>)> = raw_lines
        .iter()
        .filter_map(|l| {
            let folded = fold(l);
            let labelled = any_word(&folded, &["date", "ngay", "dated"]);
            date_in(&folded, day_first).map(|d| (labelled, d))
        })
        .collect();
    reading.date = dates
        .iter()
        .find(|(labelled, _)| *labelled)
        .or(dates.first())
        .map(|(_, d)| d.clone());

    // Totals and their parts, and the items above the first of them.
    let mut first_summary = None;
    let mut totals = Vec::new();
    // Tax and tip lines below the last total are summaries (a VAT table, suggested tips).
    let last_total = lines
        .iter()
        .rposition(|l| l.amount.is_some() && kind_of(&l.folded) == Kind::Total)
        .unwrap_or(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let Some(amount) = line.amount else { continue };
        let kind = match kind_of(&line.folded) {
            Kind::Tax | Kind::Tip if i > last_total => Kind::Other,
            kind => kind,
        };
        let value = if line.negative { -amount } else { amount };
        match kind {
            Kind::Total => totals.push(value),
            Kind::Subtotal => {
                reading.subtotal.get_or_insert(field(value, 0.8));
            }
            Kind::Tax => {
                let tax = reading.tax.get_or_insert(field(Decimal::ZERO, 0.8));
                tax.value += value;
            }
            Kind::Tip => {
                let tip = reading.tip.get_or_insert(field(Decimal::ZERO, 0.8));
                tip.value += value;
            }
            Kind::Other | Kind::Item => {}
        }
        if matches!(kind, Kind::Total | Kind::Subtotal | Kind::Tax | Kind::Tip)
            && first_summary.is_none()
        {
            first_summary = Some(i);
        }
    }
    let item_end = first_summary.unwrap_or(lines.len());
    let mut pending_quantity: Option<(Decimal, Decimal)> = None;
    for (i, line) in lines[..item_end].iter().enumerate() {
        // A supermarket's "2 x 1.50" line belongs to the item on the next line (or the one
        // before it, when that item's amount comes here).
        if let Some(c) = QTY_ONLY
            .captures(line.raw)
            .filter(|_| line.amount.is_some())
        {
            if let (Ok(q), Some(unit)) = (c[1].parse::<Decimal>(), parse_amount(&c[2], minor)) {
                if let Some(last) = reading.items.last_mut().filter(|it| it.amount == q * unit) {
                    last.quantity = q;
                    last.unit_price = Some(unit);
                } else {
                    pending_quantity = Some((q, unit));
                }
                continue;
            }
        }
        let Some(amount) = line.amount else { continue };
        if i == 0 && reading.merchant.is_some() && line.label.is_empty() {
            continue;
        }
        if kind_of(&line.folded) != Kind::Item || date_in(&line.folded, day_first).is_some() {
            continue;
        }
        let value = if line.negative { -amount } else { amount };
        if let Some(mut item) = item_of(line.label, value, minor) {
            if let Some((q, unit)) = pending_quantity.take() {
                if q * unit == value {
                    item.quantity = q;
                    item.unit_price = Some(unit);
                }
            }
            reading.items.push(item);
        }
    }

    let extras = reading.tax.as_ref().map_or(Decimal::ZERO, |t| t.value)
        + reading.tip.as_ref().map_or(Decimal::ZERO, |t| t.value);
    let items_sum: Decimal = reading.items.iter().map(|i| i.amount).sum();
    let subtotal = reading.subtotal.as_ref().map(|s| s.value);

    // The total: the largest amount labelled a total (a receipt with a tip line prints the
    // total before the tip, then the one with it), checked against its parts.
    let total = totals.iter().copied().filter(|t| *t > Decimal::ZERO).max();
    let tolerance = Decimal::new(2, minor.min(4));
    let close = |a: Decimal, b: Decimal| (a - b).abs() <= tolerance;
    reading.total = match total {
        Some(total) => {
            let agrees = subtotal.is_some_and(|s| close(s + extras, total) || close(s, total))
                || (!reading.items.is_empty()
                    && (close(items_sum + extras, total) || close(items_sum, total)));
            Some(field(total, if agrees { 0.97 } else { 0.8 }))
        }
        None => match subtotal {
            Some(s) => Some(field(s + extras, 0.6)),
            None => lines
                .iter()
                .filter_map(|l| l.amount.filter(|_| kind_of(&l.folded) != Kind::Other))
                .max()
                .map(|largest| field(largest, 0.35)),
        },
    };
    // Parts that add up to the total confirm one another.
    if let (Some(total), Some(s)) = (&reading.total, reading.subtotal.as_ref()) {
        if close(s.value + extras, total.value) {
            for part in [&mut reading.subtotal, &mut reading.tax, &mut reading.tip]
                .into_iter()
                .flatten()
            {
                part.confidence = 0.95;
            }
        }
    }
    reading.items_confidence = match (reading.items.is_empty(), subtotal, &reading.total) {
        (true, _, _) => 0.0,
        (false, Some(s), _) if close(items_sum, s) => 0.95,
        (false, _, Some(t)) if close(items_sum + extras, t.value) || close(items_sum, t.value) => {
            0.9
        }
        _ => 0.5,
    };
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_are_read_in_every_usual_notation() {
        assert_eq!(parse_amount("12.50", 2), Some(dec("12.50")));
        assert_eq!(parse_amount("1,234.56", 2), Some(dec("1234.56")));
        assert_eq!(parse_amount("1.234,56", 2), Some(dec("1234.56")));
        assert_eq!(parse_amount("12,5", 2), Some(dec("12.5")));
        assert_eq!(parse_amount("125.000", 0), Some(dec("125000")));
        assert_eq!(parse_amount("1,250,000", 0), Some(dec("1250000")));
        assert_eq!(parse_amount("1 250 000", 0), Some(dec("1250000")));
        assert_eq!(parse_amount("1,234", 2), Some(dec("1234")));
        assert_eq!(parse_amount("abc", 2), None);
    }

    #[test]
    fn payment_lines_tax_numbers_and_summaries_are_not_sums() {
        let text =
            "AN KHANG\nMã số thuế: 0312345678\nPhở bò 55.000\nLẩu thái 2 x 125.000 250.000\n\
                    Tổng cộng 305.000\nThanh toán tiền mặt 500.000\nAmount tendered 500.000\n\
                    VAT 8% 22.593";
        let r = read(text, "VND");
        assert_eq!(r.total.unwrap().value, dec("305000"));
        assert!(r.tax.is_none(), "{:?}", r.tax);
        assert_eq!(r.items.len(), 2, "{:?}", r.items);
        assert_eq!(r.items[1].amount, dec("250000"));
    }

    #[test]
    fn characters_that_change_length_when_lower_cased_do_not_break_a_line() {
        let r = read("ȺȺ€12.50 \u{212A}\nTotal 12.50", "EUR");
        assert_eq!(r.total.unwrap().value, dec("12.50"));
    }

    #[test]
    fn folding_drops_vietnamese_diacritics() {
        assert_eq!(
            fold("Tổng cộng THANH TOÁN Đà Nẵng"),
            "tong cong thanh toan da nang"
        );
    }

    #[test]
    fn a_cafe_receipt_with_tip() {
        let text = "BLUE BOTTLE CAFE\n123 Market St, San Francisco\nDate: 03/14/2026 09:12\n\
                    2 x Latte 9.00\nCroissant 4.25\nBlueberry Muffin 3.75\n\
                    Subtotal 17.00\nTax 1.49\nTip 3.00\nTotal $21.49\nVISA **** 4242 21.49\n\
                    Thank you!";
        let r = read(text, "USD");
        assert_eq!(r.merchant.unwrap().value, "BLUE BOTTLE CAFE");
        assert_eq!(
            r.date.unwrap().value,
            NaiveDate::from_ymd_opt(2026, 3, 14).unwrap()
        );
        let total = r.total.unwrap();
        assert_eq!(total.value, dec("21.49"));
        assert!(total.confidence > 0.9);
        assert_eq!(r.subtotal.unwrap().value, dec("17.00"));
        let (tax, tip) = (r.tax.unwrap(), r.tip.unwrap());
        assert_eq!((tax.value, tip.value), (dec("1.49"), dec("3.00")));
        assert!(tax.confidence > 0.9 && tip.confidence > 0.9);
        assert_eq!(r.currency.unwrap().value, "USD");
        assert_eq!(r.items.len(), 3);
        assert_eq!(r.items[0].description, "Latte");
        assert_eq!(r.items[0].quantity, dec("2"));
        assert_eq!(r.items[0].unit_price, Some(dec("4.50")));
        assert!(r.items_confidence > 0.9);
    }

    #[test]
    fn a_vietnamese_receipt_in_dong_with_or_without_accents() {
        for text in [
            "CỬA HÀNG TIỆN LỢI AN KHANG\nĐịa chỉ: 12 Lê Lợi, Quận 1\nHÓA ĐƠN BÁN HÀNG\n\
             Ngày: 05/03/2026\nCà phê sữa 2 x 25.000 50.000\nBánh mì thịt 30.000\n\
             Nước suối 10.000\nTổng cộng: 90.000 đ\nTiền mặt 100.000\nTiền thừa 10.000\nCảm ơn quý khách",
            "CUA HANG TIEN LOI AN KHANG\nDia chi: 12 Le Loi, Quan 1\nHOA DON BAN HANG\n\
             Ngay: 05/03/2026\nCa phe sua 2 x 25.000 50.000\nBanh mi thit 30.000\n\
             Nuoc suoi 10.000\nTong cong: 90.000 VND\nTien mat 100.000\nTien thua 10.000\nCam on quy khach",
        ] {
            let r = read(text, "USD");
            assert_eq!(r.currency.unwrap().value, "VND", "{text}");
            assert_eq!(r.total.unwrap().value, dec("90000"));
            assert_eq!(r.date.unwrap().value, NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
            assert!(r.merchant.unwrap().value.ends_with("AN KHANG"));
            assert_eq!(r.items.len(), 3, "{:?}", r.items);
            assert_eq!(r.items[0].quantity, dec("2"));
            assert_eq!(r.items[0].unit_price, Some(dec("25000")));
        }
    }

    #[test]
    fn a_restaurant_with_service_charge_and_vat() {
        let text = "The Golden Fork\nTable 12  Guests 4\n14 Feb 2026\nSteak frites 28.50\n\
                    Sea bass 24.00\nHouse wine 2 @ 7.50 15.00\nSubtotal 67.50\nService charge 12.5% 8.44\n\
                    VAT 20% 13.50\nTOTAL GBP 89.44";
        let r = read(text, "USD");
        assert_eq!(r.currency.unwrap().value, "GBP");
        assert_eq!(r.total.unwrap().value, dec("89.44"));
        assert_eq!(r.tip.unwrap().value, dec("8.44"));
        assert_eq!(r.tax.unwrap().value, dec("13.50"));
        assert_eq!(
            r.date.unwrap().value,
            NaiveDate::from_ymd_opt(2026, 2, 14).unwrap()
        );
        assert_eq!(r.items.len(), 3);
        assert_eq!(r.items[2].description, "House wine");
        assert_eq!(r.items[2].quantity, dec("2"));
    }

    #[test]
    fn supermarket_quantity_lines_belong_to_their_item() {
        let text = "FRESHMART\n2026-01-09\nBANANAS 1.98\n3 x 0.99\nMILK 2L 2.49\nTOTAL 7.44";
        let r = read(text, "USD");
        assert_eq!(r.items.len(), 2, "{:?}", r.items);
        assert_eq!(r.items[1].description, "MILK 2L");
        let text = "FRESHMART\n2026-01-09\n3 x 0.99\nAPPLES 2.97\nTOTAL 2.97";
        let r = read(text, "USD");
        assert_eq!(r.items[0].quantity, dec("3"));
        assert_eq!(r.items[0].unit_price, Some(dec("0.99")));
    }

    #[test]
    fn ambiguous_dates_follow_the_currency_and_clear_ones_do_not() {
        assert_eq!(
            date_in("date 04/03/2026", false).unwrap().value,
            NaiveDate::from_ymd_opt(2026, 4, 3).unwrap()
        );
        assert_eq!(
            date_in("date 04/03/2026", true).unwrap().value,
            NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()
        );
        assert_eq!(
            date_in("25.12.26", false).unwrap().value,
            NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()
        );
        assert_eq!(
            date_in("mar 7, 2026", false).unwrap().value,
            NaiveDate::from_ymd_opt(2026, 3, 7).unwrap()
        );
        assert_eq!(
            date_in("ngay 7 thang 3 nam 2026", true).unwrap().value,
            NaiveDate::from_ymd_opt(2026, 3, 7).unwrap()
        );
        assert!(date_in("31/31/2026", true).is_none());
    }

    #[test]
    fn a_text_with_no_receipt_in_it_reads_as_nothing() {
        let r = read("", "EUR");
        assert!(r.total.is_none() && r.merchant.is_none() && r.items.is_empty());
        assert_eq!(r.currency.unwrap().value, "EUR");
    }
}
