//! Reading a transactions CSV: columns by (case-insensitive) name, one result per line, and the
//! duplicate key of each row.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::ledger::TransactionType;
use super::money::Money;

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
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (position, name) in headers.iter().enumerate() {
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
            "the CSV needs the columns date, amount and description (missing: {})",
            missing.join(", ")
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                errors.push(LineError {
                    line,
                    message: format!("cannot be read: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| -> Option<String> {
            index
                .get(name)
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match parse_row(line, &field) {
            Ok(row) => rows.push(row),
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    Ok((rows, errors))
}

fn parse_row(line: u64, field: &dyn Fn(&str) -> Option<String>) -> Result<ImportRow, String> {
    for name in [
        "date",
        "amount",
        "description",
        "type",
        "category",
        "merchant",
        "notes",
        "tags",
    ] {
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
    let transaction_type = match field("type").map(|t| t.to_lowercase()) {
        None if signed < Decimal::ZERO => TransactionType::Expense,
        None => TransactionType::Income,
        Some(t) if t == "expense" || t == "debit" => TransactionType::Expense,
        Some(t) if t == "income" || t == "credit" => TransactionType::Income,
        Some(t) if t == "transfer" => {
            return Err("transfers cannot be imported; add them with POST /transactions".into())
        }
        Some(t) => return Err(format!("type `{t}` is not expense or income")),
    };
    let description = field("description").unwrap_or_default();
    if description.chars().count() > 500 {
        return Err("the description is longer than 500 characters".into());
    }
    Ok(ImportRow {
        line,
        date,
        transaction_type,
        amount: signed.abs(),
        description,
        category: field("category"),
        merchant: field("merchant"),
        notes: field("notes"),
        tags: field("tags")
            .map(|t| {
                t.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
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

/// The duplicate key of each row: wallet, date, amount, normalised description, and which
/// occurrence of that combination it is within the file. Importing a file twice gives the same
/// keys; two identical purchases on one day in one file get different ones.
pub fn import_hashes(wallet: &str, rows: &[ImportRow]) -> Vec<String> {
    let mut seen: HashMap<(NaiveDate, Decimal, String), u32> = HashMap::new();
    rows.iter()
        .map(|row| {
            let description = row
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            let occurrence = seen
                .entry((row.date, row.amount.normalize(), description.clone()))
                .and_modify(|n| *n += 1)
                .or_insert(0);
            let key = format!(
                "{wallet}|{}|{}|{}|{description}|{occurrence}",
                row.date,
                row.transaction_type.as_str(),
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
        let first = import_hashes("w", &rows);
        assert_eq!(first.len(), 3);
        assert_ne!(first[0], first[1]);
        assert_eq!(first, import_hashes("w", &rows));
        assert_ne!(first, import_hashes("other wallet", &rows));
    }
}
