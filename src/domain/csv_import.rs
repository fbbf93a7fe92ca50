//! Reading a transactions CSV: columns by (case-insensitive) name, one result per line, the
//! duplicate key of each row, and the names a file uses for wallets and categories. The export
//! writes the same columns, so what it writes imports back to the same rows.
//!
//! Two rules keep that true for any text. The list cells (`tags`, `splits`) escape their
//! separators inside an item with a backslash (`\\`, `\;`, `\=`). And a text cell that a
//! spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return) is written with a `'` before it, which the import takes off again.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::ledger::TransactionType;
use super::money::Money;
use super::transaction::{
    MAX_DESCRIPTION, MAX_MERCHANT, MAX_NOTES, MAX_SPLITS, MAX_SPLIT_NOTE, MAX_TAG, MAX_TAGS,
};

/// A line that parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub date: NaiveDate,
    pub transaction_type: TransactionType,
    /// Always positive.
    pub amount: Decimal,
    pub description: String,
    pub category: Option<String>,
    pub merchant: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    /// The wallet by name (else the import's `wallet_id`).
    pub wallet: Option<String>,
    /// A transfer's receiving wallet, by name.
    pub to_wallet: Option<String>,
    /// Must be the wallet's currency when given.
    pub currency: Option<String>,
    /// `category=amount` (or `category=amount=note`) parts of a split transaction; they add up
    /// to `amount`.
    pub splits: Vec<SplitLine>,
    /// The percentage of tax the amount includes (`tax_rate`, e.g. `10` for 10 % VAT).
    pub tax_rate: Option<Decimal>,
    /// `tax_deductible`: `true`/`yes`/`1`, else `false`/`no`/`0`/empty.
    pub tax_deductible: bool,
}

/// One share of a split line.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitLine {
    pub category: String,
    pub amount: Decimal,
    pub note: Option<String>,
}

/// A line that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

const COLUMNS: &[(&str, &[&str])] = &[
    ("date", &["date", "transaction date", "posted date"]),
    ("amount", &["amount", "value"]),
    ("description", &["description", "memo", "payee"]),
    ("type", &["type", "transaction type"]),
    ("category", &["category"]),
    ("merchant", &["merchant"]),
    ("notes", &["notes", "note"]),
    ("tags", &["tags"]),
    ("wallet", &["wallet"]),
    ("to_wallet", &["to_wallet", "to wallet"]),
    ("currency", &["currency"]),
    ("splits", &["splits"]),
    ("tax_rate", &["tax_rate", "tax rate", "vat rate"]),
    (
        "tax_deductible",
        &["tax_deductible", "tax deductible", "deductible"],
    ),
];

/// The columns that do not hold free text. Every other column does: the export guards those
/// against formulas and the import takes the guard off.
const NON_TEXT_COLUMNS: [&str; 6] = [
    "date",
    "type",
    "amount",
    "currency",
    "tax_rate",
    "tax_deductible",
];

fn is_text_column(name: &str) -> bool {
    !NON_TEXT_COLUMNS.contains(&name)
}

/// What a spreadsheet runs as a formula when a cell starts with it (OWASP's CSV injection list),
/// and the fullwidth, small and super/subscript forms of `= + - @`, which a spreadsheet with an
/// East Asian input method may read as those signs (Unicode folds them to the same, NFKC).
const FORMULA_STARTS: [char; 21] = [
    '=', '+', '-', '@', '\t', '\r', // the ASCII signs and control characters
    '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', // fullwidth ＝ ＋ － ＠
    '\u{FE66}', '\u{FE62}', '\u{FE63}', '\u{FE6B}', // small ﹦ ﹢ ﹣ ﹫
    '\u{207C}', '\u{207A}', '\u{207B}', // superscript ⁼ ⁺ ⁻
    '\u{208C}', '\u{208A}', '\u{208B}', // subscript ₌ ₊ ₋
    '\u{2212}', // minus sign −
];

/// The characters an item of a list cell escapes with a backslash: the escape itself and the
/// two separators.
const ESCAPED: [char; 3] = ['\\', ';', '='];

/// The columns the export writes, in order (the import reads each of them).
pub const EXPORT_HEADER: [&str; 14] = [
    "date",
    "type",
    "amount",
    "currency",
    "description",
    "category",
    "splits",
    "merchant",
    "notes",
    "wallet",
    "to_wallet",
    "tags",
    "tax_rate",
    "tax_deductible",
];

/// Parses the whole file. `Err` when the header lacks a required column (nothing can be read);
/// otherwise every line is either a row or an error.
pub fn parse(bytes: &[u8]) -> Result<(Vec<ImportRow>, Vec<LineError>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .clone();
    let columns = Columns::new(headers.iter())?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut lines = Lines {
        bytes,
        at: 0,
        line: 1,
    };
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| lines.of_record(p.byte()));
                errors.push(LineError {
                    line,
                    message: format!("cannot be read: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.of_record(p.byte()));
        match columns.row(line, |i| record.get(i), true) {
            Ok(row) => rows.push(row),
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    Ok((rows, errors))
}

/// The line of the file a record is on, as an editor numbers it (the header is line 1, blank
/// lines count). The csv reader's own count is taken where the previous record ended, before
/// the line breaks it skips: with `\r\n` endings or blank lines it named the line before.
/// Records come in order, so the count moves forward once over the file.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of a record the reader places at byte `offset`: of its first character past
    /// any line breaks there. A break is `\n`, `\r\n` or a lone `\r` (the reader takes all three).
    fn of_record(&mut self, offset: u64) -> u64 {
        let mut start =
            usize::try_from(offset).map_or(self.bytes.len(), |o| o.min(self.bytes.len()));
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        for at in self.at..start {
            let ends_line = match self.bytes[at] {
                b'\n' => true,
                b'\r' => self.bytes.get(at + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                self.line += 1;
            }
        }
        self.at = self.at.max(start);
        self.line
    }
}

/// Where each column is in a table of transactions (a CSV file, a spreadsheet), found by name
/// in its header row.
pub struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    /// The columns of a header row. `Err` when it lacks `date`, `amount` or `description`.
    pub fn new<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Columns, String> {
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        for (position, name) in header.into_iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}').to_lowercase();
            if let Some((column, _)) = COLUMNS
                .iter()
                .find(|(_, aliases)| aliases.contains(&name.as_str()))
            {
                index.entry(column).or_insert(position);
            }
        }
        let missing: Vec<&str> = ["date", "amount", "description"]
            .into_iter()
            .filter(|c| !index.contains_key(c))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header row needs the columns date, amount and description (missing: {})",
                missing.join(", ")
            ));
        }
        Ok(Columns { index })
    }

    /// One row from its cells (`cell(i)` is the i-th cell, `None` past the end). `guarded`: the
    /// text cells may carry the CSV export's formula guard, which is taken off (a spreadsheet's
    /// text cells are never formulas, so it has none).
    pub fn row<'c>(
        &self,
        line: u64,
        cell: impl Fn(usize) -> Option<&'c str>,
        guarded: bool,
    ) -> Result<ImportRow, String> {
        let field = |name: &str| -> Option<String> {
            let value = self
                .index
                .get(name)
                .and_then(|i| cell(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty())?;
            let value = if guarded && is_text_column(name) {
                unguard(value)
            } else {
                value
            };
            Some(value.to_owned())
        };
        parse_row(line, &field)
    }
}

fn parse_row(line: u64, field: &dyn Fn(&str) -> Option<String>) -> Result<ImportRow, String> {
    for (name, _) in COLUMNS {
        if field(name).is_some_and(|value| value.contains('\0')) {
            return Err(format!("the {name} contains a NUL character"));
        }
    }
    let raw_date = field("date").ok_or("the date is empty")?;
    let date = NaiveDate::parse_from_str(&raw_date, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&raw_date, "%m/%d/%Y"))
        .ok()
        .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| format!("`{raw_date}` is not a date (YYYY-MM-DD or MM/DD/YYYY)"))?;
    let raw_amount = field("amount").ok_or("the amount is empty")?;
    let signed = parse_amount(&raw_amount).map_err(|e| format!("amount `{raw_amount}` {e}"))?;
    if signed.is_zero() {
        return Err("the amount is 0".into());
    }
    let amount = signed.abs();
    let transaction_type = match field("type").map(|t| t.to_lowercase()) {
        None if signed < Decimal::ZERO => TransactionType::Expense,
        None => TransactionType::Income,
        Some(t) if t == "expense" || t == "debit" => TransactionType::Expense,
        Some(t) if t == "income" || t == "credit" => TransactionType::Income,
        Some(t) if t == "transfer" => TransactionType::Transfer,
        Some(t) => return Err(format!("type `{t}` is not expense, income or transfer")),
    };
    for (name, max) in [
        ("description", MAX_DESCRIPTION),
        ("merchant", MAX_MERCHANT),
        ("notes", MAX_NOTES),
    ] {
        if field(name).is_some_and(|value| value.chars().count() > max) {
            return Err(format!("`{name}` is longer than {max} characters"));
        }
    }
    let description = field("description").unwrap_or_default();
    let tags: Vec<String> = field("tags")
        .map(|cell| list_items(&cell).into_iter().map(unescape).collect())
        .unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(format!("more than {MAX_TAGS} tags"));
    }
    if tags.iter().any(|tag| tag.chars().count() > MAX_TAG) {
        return Err(format!("a tag is longer than {MAX_TAG} characters"));
    }
    let category = field("category");
    let splits = match field("splits") {
        Some(raw) => parse_splits(&raw, amount)?,
        None => Vec::new(),
    };
    let to_wallet = field("to_wallet");
    if transaction_type == TransactionType::Transfer {
        if to_wallet.is_none() {
            return Err("a transfer needs the receiving wallet in `to_wallet`".into());
        }
        if category.is_some() || !splits.is_empty() {
            return Err("a transfer has no category or splits".into());
        }
    } else if to_wallet.is_some() {
        return Err("only a transfer has a `to_wallet`".into());
    }
    if category.is_some() && !splits.is_empty() {
        return Err("a line has a category or splits, not both".into());
    }
    let tax_rate = match field("tax_rate") {
        None => None,
        Some(cell) => {
            let cell = cell.trim_end_matches('%').trim();
            match Decimal::from_str_exact(cell) {
                Ok(rate) if super::money::is_tax_rate(rate) => Some(rate.normalize()),
                _ => {
                    return Err(format!(
                    "tax_rate `{cell}` is not a percentage from 0 to 100 with at most 4 decimals"
                ))
                }
            }
        }
    };
    let tax_deductible = match field("tax_deductible").map(|c| c.to_lowercase()) {
        None => false,
        Some(c) if matches!(c.as_str(), "true" | "yes" | "1") => true,
        Some(c) if matches!(c.as_str(), "false" | "no" | "0") => false,
        Some(c) => return Err(format!("tax_deductible `{c}` is not true or false")),
    };
    if transaction_type == TransactionType::Transfer && (tax_rate.is_some() || tax_deductible) {
        return Err("a transfer carries no tax".into());
    }
    Ok(ImportRow {
        line,
        date,
        transaction_type,
        amount,
        description,
        category,
        merchant: field("merchant"),
        notes: field("notes"),
        tags,
        wallet: field("wallet"),
        to_wallet,
        currency: field("currency").map(|c| c.to_uppercase()),
        splits,
        tax_rate,
        tax_deductible,
    })
}

/// `Groceries=30.00; Household=20.00=for the party`: shares (`category=amount`, or
/// `category=amount=note`) that must add up to the line's amount exactly.
fn parse_splits(raw: &str, amount: Decimal) -> Result<Vec<SplitLine>, String> {
    let mut splits = Vec::new();
    for part in list_items(raw) {
        let not_a_share = || {
            format!(
                "split `{part}` is not category=amount or category=amount=note \
                 (write `\\=` and `\\;` for those characters in a name or note)"
            )
        };
        let (category, share, note) = match split_unescaped(part, '=')[..] {
            [category, share] => (category, share, None),
            [category, share, note] => (category, share, Some(note)),
            _ => return Err(not_a_share()),
        };
        let category = unescape(category.trim());
        if category.is_empty() {
            return Err(not_a_share());
        }
        let share = share
            .trim()
            .parse::<Money>()
            .map(|m| m.0)
            .ok()
            .filter(|a| *a > Decimal::ZERO)
            .ok_or_else(|| format!("split `{part}` needs a positive amount"))?;
        let note = note.map(|n| unescape(n.trim())).filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_SPLIT_NOTE)
        {
            return Err(format!(
                "the note of split `{category}` is longer than {MAX_SPLIT_NOTE} characters"
            ));
        }
        splits.push(SplitLine {
            category,
            amount: share,
            note,
        });
    }
    if splits.len() == 1 {
        return Err("splits need at least two parts (use the category column for one)".into());
    }
    if splits.len() > MAX_SPLITS {
        return Err(format!("more than {MAX_SPLITS} splits"));
    }
    let total: Decimal = splits.iter().map(|s| s.amount).sum();
    if !splits.is_empty() && total != amount {
        return Err(format!(
            "the splits add up to {} but the amount is {}",
            Money(total),
            Money(amount)
        ));
    }
    Ok(splits)
}

/// The export's `splits` cell for shares of (category, amount, note) (the inverse of
/// [`parse_splits`]).
pub fn format_splits<'a>(
    shares: impl IntoIterator<Item = (&'a str, Decimal, Option<&'a str>)>,
) -> String {
    shares
        .into_iter()
        .map(|(category, amount, note)| {
            let share = format!("{}={}", escape(category), Money(amount));
            match note.filter(|n| !n.is_empty()) {
                Some(note) => format!("{share}={}", escape(note)),
                None => share,
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The export's `tags` cell.
pub fn format_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> String {
    tags.into_iter().map(escape).collect::<Vec<_>>().join(";")
}

/// An export line from its cells in [`EXPORT_HEADER`] order: a text cell that a spreadsheet
/// would run as a formula gets a `'` before it.
pub fn export_line(cells: [String; EXPORT_HEADER.len()]) -> [String; EXPORT_HEADER.len()] {
    let mut cells = cells;
    for (column, cell) in EXPORT_HEADER.iter().zip(cells.iter_mut()) {
        if is_text_column(column) && looks_like_formula(cell) {
            cell.insert(0, '\'');
        }
    }
    cells
}

/// Whether a cell starts with what a spreadsheet runs, after any quotes: so `'=x` is guarded
/// too (as `''=x`), and taking one quote off always gives back the value.
fn looks_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// A text cell without the export's formula guard.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(value) if looks_like_formula(cell) => value,
        _ => cell,
    }
}

/// An item of a list cell with its separators (and backslashes) escaped.
fn escape(item: &str) -> String {
    let mut escaped = String::with_capacity(item.len());
    for c in item.chars() {
        if ESCAPED.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The items of a list cell (split at each `;` that is not escaped), still escaped, trimmed,
/// empty ones left out.
fn list_items(cell: &str) -> Vec<&str> {
    split_unescaped(cell, ';')
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// `text` cut at each `separator` that is not escaped; the parts keep their escapes.
fn split_unescaped(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|(_, next)| ESCAPED.contains(next)) {
            chars.next();
        } else if c == separator {
            parts.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// An item without its escapes. A backslash before any other character is kept, so files
/// written before the escapes read as they did.
fn unescape(item: &str) -> String {
    let mut plain = String::with_capacity(item.len());
    let mut chars = item.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && ESCAPED.contains(&next) => {
                plain.push(next);
                chars.next();
            }
            _ => plain.push(c),
        }
    }
    plain
}

/// A character that shows nothing: zero-width spaces and joiners, direction marks, soft
/// hyphens, word joiners, the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// Text a reader can see: something besides spaces and invisible characters.
pub fn is_visible_text(value: &str) -> bool {
    value
        .chars()
        .any(|c| !c.is_whitespace() && !is_invisible(c))
}

/// The key a name is matched on: compatibility forms as their plain letters (NFKC: a
/// full-width `Ａ` is `A`), invisible characters left out (zero-width spaces and joiners, soft
/// hyphens), case-insensitive with `ß` as `ss`, runs of spaces as one, and path parts
/// (`Food & Dining > Groceries`) around ` > `.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let plain: String = name.nfkc().filter(|c| !is_invisible(*c)).collect();
    plain
        .split('>')
        .map(|part| {
            part.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
                .replace('ß', "ss")
        })
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Rows found by the names a file gives them.
#[derive(Debug)]
pub struct NameIndex<T> {
    by_key: HashMap<String, Vec<T>>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> Self {
        NameIndex {
            by_key: HashMap::new(),
        }
    }
}

impl<T: Copy + PartialEq> NameIndex<T> {
    pub fn insert(&mut self, name: &str, value: T) {
        let values = self.by_key.entry(name_key(name)).or_default();
        if !values.contains(&value) {
            values.push(value);
        }
    }

    /// The one row with this name; a message naming the problem otherwise.
    pub fn find(&self, name: &str, what: &str) -> Result<T, String> {
        match self.by_key.get(&name_key(name)).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some(many) if many.len() > 1 => Err(format!(
                "more than one {what} is named `{name}`; write the full path (Parent > {name}) \
                 or rename one"
            )),
            _ => Err(format!("unknown {what} `{name}`")),
        }
    }

    /// Whether the name stands for exactly one row (export labels need no path then).
    pub fn is_unique(&self, name: &str) -> bool {
        self.by_key
            .get(&name_key(name))
            .is_some_and(|v| v.len() == 1)
    }
}

/// A CSV amount: a point for decimals; commas only as thousands separators (`1,234.50`).
fn parse_amount(raw: &str) -> Result<Decimal, String> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.trim_start_matches(['-', '+']);
    let integer_part = digits.split('.').next().unwrap_or("");
    let cleaned = if compact.contains(',') {
        let groups: Vec<&str> = integer_part.split(',').collect();
        let thousands = groups.len() > 1
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3);
        if !thousands {
            return Err("must use a point for decimals (commas only between thousands)".into());
        }
        compact.replace(',', "")
    } else {
        compact
    };
    cleaned.parse::<Money>().map(|m| m.0)
}

/// The duplicate key of each row: its wallet (and a transfer's receiving wallet), date, type,
/// amount, normalised description, and which occurrence of that combination it is within the
/// file. Importing a file twice gives the same keys; two identical purchases on one day in one
/// file get different ones. `wallets[i]` is row `i`'s (wallet, receiving wallet).
pub fn import_hashes(rows: &[ImportRow], wallets: &[(String, Option<String>)]) -> Vec<String> {
    let mut seen: HashMap<(String, NaiveDate, Decimal, String), u32> = HashMap::new();
    rows.iter()
        .zip(wallets)
        .map(|(row, (wallet, to_wallet))| {
            let description = row
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            let occurrence = seen
                .entry((
                    wallet.clone(),
                    row.date,
                    row.amount.normalize(),
                    description.clone(),
                ))
                .and_modify(|n| *n += 1)
                .or_insert(0);
            let kind = match to_wallet {
                Some(to) => format!("{}>{to}", row.transaction_type.as_str()),
                None => row.transaction_type.as_str().to_owned(),
            };
            let key = format!(
                "{wallet}|{}|{kind}|{}|{description}|{occurrence}",
                row.date,
                row.amount.normalize()
            );
            Sha256::digest(key.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name_in_any_order_and_case() {
        let csv = "Amount,DESCRIPTION,Date,Category\n-12.50,Coffee,2026-03-01,Cafe\n2000,Salary,03/05/2026,Salary\n";
        let (rows, errors) = parse(csv.as_bytes()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].transaction_type, TransactionType::Expense);
        assert_eq!(rows[0].amount, Decimal::new(125, 1));
        assert_eq!(rows[1].transaction_type, TransactionType::Income);
        assert_eq!(rows[1].date, NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let csv = "date,amount,description,type\n2026-02-30,1,x,\n2026-03-01,abc,y,\n2026-03-01,0,z,\n2026-03-01,5,w,transfer\n2026-03-01,1.23456,v,\n2026-03-01,5,ok,debit\n";
        // Line 5 is a transfer without its receiving wallet.
        let (rows, errors) = parse(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].transaction_type, TransactionType::Expense);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
    }

    #[test]
    fn commas_are_thousands_separators_only() {
        assert_eq!(parse_amount("1,234.50").unwrap(), Decimal::new(123450, 2));
        assert_eq!(
            parse_amount("-12,345,678").unwrap(),
            Decimal::new(-12345678, 0)
        );
        assert!(parse_amount("12,50").is_err());
        assert!(parse_amount("1,2345.0").is_err());
    }

    #[test]
    fn a_missing_required_column_rejects_the_file() {
        assert!(parse(b"date,description\n2026-01-01,x\n")
            .unwrap_err()
            .contains("amount"));
    }

    #[test]
    fn identical_purchases_in_one_file_get_different_keys_but_the_same_keys_next_time() {
        let csv = "date,amount,description\n2026-03-01,-3,Coffee\n2026-03-01,-3,coffee \n2026-03-01,-4,Coffee\n";
        let (rows, _) = parse(csv.as_bytes()).unwrap();
        let in_wallet = |w: &str| vec![(w.to_owned(), None); rows.len()];
        let first = import_hashes(&rows, &in_wallet("w"));
        assert_eq!(first.len(), 3);
        assert_ne!(first[0], first[1]);
        assert_eq!(first, import_hashes(&rows, &in_wallet("w")));
        assert_ne!(first, import_hashes(&rows, &in_wallet("other wallet")));
    }

    #[test]
    fn tax_columns_are_read_and_bad_ones_fail_their_line() {
        let csv = "date,type,amount,description,tax rate,deductible,to_wallet\n\
            2026-03-01,expense,11,Printer paper,10%,yes,\n\
            2026-03-01,income,108.25,Invoice 7,8.25,,\n\
            2026-03-01,expense,5,Too much,150,,\n\
            2026-03-01,expense,5,Not a number,ten,,\n\
            2026-03-01,expense,5,Too fine,1.23456,,\n\
            2026-03-01,expense,5,Maybe,,perhaps,\n\
            2026-03-01,transfer,5,Moved,5,,Bank\n";
        let (rows, errors) = parse(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2, "{errors:?}");
        assert_eq!(
            (rows[0].tax_rate, rows[0].tax_deductible),
            (Some(Decimal::new(10, 0)), true)
        );
        assert_eq!(
            (rows[1].tax_rate, rows[1].tax_deductible),
            (Some(Decimal::new(825, 2)), false)
        );
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7, 8], "{errors:?}");
        assert!(errors[4].message.contains("transfer carries no tax"));
    }

    #[test]
    fn splits_transfers_and_wallets_are_read_back() {
        let csv = "date,type,amount,currency,description,category,splits,wallet,to_wallet\n\
            2026-03-01,expense,50.00,usd,Market,,Groceries=30.00; Home > Supplies=20,Cash,\n\
            2026-03-02,transfer,100,USD,Top up,,,Bank,Cash\n\
            2026-03-03,expense,50,USD,Bad split,,Groceries=30; Home=10,Cash,\n\
            2026-03-03,expense,5,USD,One split,,Groceries=5,Cash,\n\
            2026-03-03,income,5,USD,Not a transfer,Salary,,Cash,Bank\n";
        let (rows, errors) = parse(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2, "{errors:?}");
        assert_eq!(rows[0].currency.as_deref(), Some("USD"));
        assert_eq!(
            rows[0].splits,
            vec![
                SplitLine {
                    category: "Groceries".into(),
                    amount: Decimal::new(30, 0),
                    note: None,
                },
                SplitLine {
                    category: "Home > Supplies".into(),
                    amount: Decimal::new(20, 0),
                    note: None,
                },
            ]
        );
        assert_eq!(
            format_splits(rows[0].splits.iter().map(|s| (
                s.category.as_str(),
                s.amount,
                s.note.as_deref()
            ))),
            "Groceries=30; Home > Supplies=20"
        );
        assert_eq!(rows[1].transaction_type, TransactionType::Transfer);
        assert_eq!(rows[1].to_wallet.as_deref(), Some("Cash"));
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(messages[0].contains("add up to 40"), "{messages:?}");
        assert!(messages[1].contains("at least two"), "{messages:?}");
        assert!(messages[2].contains("only a transfer"), "{messages:?}");
        // A transfer's hash names both wallets.
        let hashes = import_hashes(&rows[1..], &[("bank".to_owned(), Some("cash".to_owned()))]);
        let reversed = import_hashes(
            &rows[1..],
            &[("bank".to_owned(), Some("savings".to_owned()))],
        );
        assert_ne!(hashes, reversed);
    }

    #[test]
    fn list_cells_escape_their_separators_and_old_cells_read_as_before() {
        let tags = ["a;b", "c=d", r"back\slash", r"end\"];
        let cell = format_tags(tags);
        assert_eq!(cell, r"a\;b;c\=d;back\\slash;end\\");
        let read =
            |cell: &str| -> Vec<String> { list_items(cell).into_iter().map(unescape).collect() };
        assert_eq!(read(&cell), tags);
        // Written before the escapes: a backslash before anything else stays.
        assert_eq!(read(r" a; C:\path ;;b\"), vec!["a", r"C:\path", r"b\"]);

        let shares = format_splits([
            ("x=y;z", Decimal::new(30, 0), Some("half; or = so")),
            ("Groceries", Decimal::new(20, 0), None),
        ]);
        assert_eq!(shares, r"x\=y\;z=30=half\; or \= so; Groceries=20");
        let parsed = parse_splits(&shares, Decimal::new(50, 0)).unwrap();
        assert_eq!(parsed[0].category, "x=y;z");
        assert_eq!(parsed[0].note.as_deref(), Some("half; or = so"));
        assert_eq!(parsed[1].note, None);
        assert!(parse_splits("a=1=b=c; d=1", Decimal::new(2, 0))
            .unwrap_err()
            .contains("category=amount=note"));
    }

    #[test]
    fn formula_cells_are_guarded_and_read_back_exactly() {
        for (value, written) in [
            ("=1+2", "'=1+2"),
            ("+x", "'+x"),
            ("-5 off", "'-5 off"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'plain", "'plain"),
            ("x=1", "x=1"),
            // Look-alikes a spreadsheet may read as the signs.
            ("\u{FF1D}1+2", "'\u{FF1D}1+2"),
            ("\u{FF0B}x", "'\u{FF0B}x"),
            ("\u{FF20}SUM(A1)", "'\u{FF20}SUM(A1)"),
            ("\u{FE66}x", "'\u{FE66}x"),
            ("\u{2212}5", "'\u{2212}5"),
            ("'\u{FF1D}x", "''\u{FF1D}x"),
        ] {
            let mut cells: [String; EXPORT_HEADER.len()] = Default::default();
            cells[2] = value.to_owned(); // amount: never guarded
            cells[4] = value.to_owned(); // description
            let line = export_line(cells);
            assert_eq!(line[2], value);
            assert_eq!(line[4], written);
            assert_eq!(unguard(&line[4]), value);
        }
        // A hand-written file's unquoted formula-like text stays as it is.
        assert_eq!(unguard("=x"), "=x");
    }

    #[test]
    fn names_match_loosely_but_never_ambiguously() {
        let mut index = NameIndex::default();
        index.insert("Groceries", 1);
        index.insert("Other", 2);
        index.insert("Other", 3);
        index.insert("Food & Dining > Groceries", 1);
        assert_eq!(index.find("  groceries ", "category"), Ok(1));
        assert_eq!(index.find("food & dining>GROCERIES", "category"), Ok(1));
        assert!(index
            .find("Other", "category")
            .unwrap_err()
            .contains("more than one category is named `Other`"));
        assert!(index
            .find("Nope", "category")
            .unwrap_err()
            .contains("unknown"));
        assert!(index.is_unique("Groceries"));
        assert!(!index.is_unique("other"));
    }

    #[test]
    fn names_alike_to_a_reader_have_one_key() {
        for (a, b) in [
            ("Straße", "STRASSE"),
            ("Ａbc", "abc"),
            ("x\u{200B}y", "xy"),
            ("Lương", "LƯƠNG"),
            ("Food  &   Dining", "food & dining"),
            ("Cafe\u{0301}", "Café"),
        ] {
            assert_eq!(name_key(a), name_key(b), "{a} / {b}");
        }
        assert_ne!(name_key("Cafe"), name_key("Café"));
    }

    #[test]
    fn lines_are_the_file_s_own_with_crlf_endings_and_blank_lines() {
        let crlf = "date,amount,description\r\n2026-03-01,5,ok\r\n2026-03-01,abc,bad\r\n\r\n2026-03-01,6,ok\r\n2026-02-30,1,bad\r\n";
        let (rows, errors) = parse(crlf.as_bytes()).unwrap();
        let row_lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        let error_lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!((row_lines, error_lines), (vec![2, 5], vec![3, 6]));

        let blank = "date,amount,description\n\n2026-03-01,5,ok\n\n\n2026-03-01,abc,bad\n";
        let (rows, errors) = parse(blank.as_bytes()).unwrap();
        assert_eq!((rows[0].line, errors[0].line), (3, 6));

        let old_mac = "date,amount,description\r2026-03-01,5,ok\r2026-03-01,abc,bad\r";
        let (rows, errors) = parse(old_mac.as_bytes()).unwrap();
        assert_eq!((rows[0].line, errors[0].line), (2, 3));

        // A quoted cell over two lines: the next record starts two lines on.
        let quoted = "date,amount,description\n2026-03-01,5,\"two\nlines\"\n2026-03-01,abc,bad\n";
        let (rows, errors) = parse(quoted.as_bytes()).unwrap();
        assert_eq!((rows[0].line, errors[0].line), (2, 4));
    }
}
