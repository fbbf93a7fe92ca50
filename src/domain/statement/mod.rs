//! Bank statement files: OFX/QFX (1.x SGML and 2.x XML), QIF and ISO 20022 CAMT.053, read into
//! one shape, a [`Statement`] of signed [`StatementEntry`]s. Parsing knows nothing of wallets or
//! categories; `services::imports` maps a statement onto a ledger.
//!
//! Every parser is bounded by the size of its input (the request body limit): no parser expands
//! entities, follows external references or builds more than one entry per element it reads, and
//! a malformed file is refused with the line or element at fault.

pub mod camt;
pub mod ofx;
pub mod qif;

use chrono::NaiveDate;
use rust_decimal::Decimal;

wire_enum!(
    /// An import file's format.
    ImportFormat {
        Csv => "csv",
        Ofx => "ofx",
        Qif => "qif",
        Camt053 => "camt053",
        Xlsx => "xlsx",
    }
);

impl ImportFormat {
    /// What the first bytes of a file say it is, if they say.
    pub fn detect(bytes: &[u8]) -> Option<ImportFormat> {
        if crate::domain::spreadsheet::is_zip(bytes) {
            return Some(ImportFormat::Xlsx);
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_uppercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with("OFXHEADER") || head.contains("<?OFX") || head.contains("<OFX>") {
            Some(ImportFormat::Ofx)
        } else if head.starts_with("!TYPE:")
            || head.starts_with("!ACCOUNT")
            || head.starts_with("!OPTION")
        {
            Some(ImportFormat::Qif)
        } else if head.starts_with("<?XML") || head.starts_with("<") {
            head.contains("CAMT.053").then_some(ImportFormat::Camt053)
        } else {
            None
        }
    }
}

/// A statement: the account it is of (when the file names one), its currency and period, and
/// its entries in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    /// The bank's account number or IBAN.
    pub account: Option<String>,
    pub currency: Option<String>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub entries: Vec<StatementEntry>,
}

/// One movement of money on the account: negative `amount` went out, positive came in.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementEntry {
    /// Where it is in the file: the line it starts on.
    pub line: u64,
    pub date: NaiveDate,
    pub amount: Decimal,
    /// Who was paid or paid in (OFX NAME/PAYEE, QIF P, CAMT counterparty).
    pub payee: Option<String>,
    /// The bank's description (OFX MEMO, QIF M, CAMT remittance information).
    pub memo: Option<String>,
    /// The bank's own id of the movement (OFX FITID, CAMT entry reference), if it gave one.
    pub external_id: Option<String>,
    /// The category a program that wrote the file had put it in (QIF L).
    pub category: Option<String>,
}

/// Why a file was refused: where (a line, or an element and its line) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub at: String,
    pub message: String,
}

impl FileError {
    pub fn at_line(line: u64, message: impl Into<String>) -> FileError {
        FileError {
            at: format!("line {line}"),
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> FileError {
        FileError {
            at: "file".into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Reads a statement file of a known format.
pub fn parse(format: ImportFormat, bytes: &[u8]) -> Result<Statement, FileError> {
    let statement = match format {
        ImportFormat::Ofx => ofx::parse(bytes)?,
        ImportFormat::Qif => qif::parse(bytes)?,
        ImportFormat::Camt053 => camt::parse(bytes)?,
        ImportFormat::Csv | ImportFormat::Xlsx => {
            return Err(FileError::whole(
                "a table of transactions is not a bank statement",
            ))
        }
    };
    if statement.entries.is_empty() {
        return Err(FileError::whole("the file holds no transactions"));
    }
    Ok(statement)
}

/// Text of a file in a legacy single-byte encoding or UTF-8: UTF-8 when it is valid UTF-8, else
/// Windows-1252 as Latin-1 (what OFX `CHARSET:1252` and most QIF writers mean).
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// An amount as banks write it: `-12.50`, `1,234.56`, `-12,50`, `1.234,56`, `+5`. The last `.`
/// or `,` followed by one or two digits is the decimal separator; the other is grouping.
pub fn parse_amount(raw: &str) -> Option<Decimal> {
    let raw: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'')
        .collect();
    let (negative, digits) = match raw
        .strip_prefix('-')
        .or_else(|| raw.strip_prefix('\u{2212}'))
    {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(&raw)),
    };
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let decimal_at = decimal_separator(digits);
    let mut plain = String::with_capacity(digits.len() + 1);
    if negative {
        plain.push('-');
    }
    for (i, c) in digits.char_indices() {
        match c {
            '0'..='9' => plain.push(c),
            _ if Some(i) == decimal_at => plain.push('.'),
            _ => {}
        }
    }
    let amount: Decimal = plain.parse().ok()?;
    (amount.scale() <= 4).then_some(amount)
}

/// Where the decimal separator of `digits` (digits, `.` and `,`) is, if it has one. With both
/// kinds, the last one; with one kind written more than once, none (it groups thousands); with
/// one written once, it is decimal unless three digits follow a non-zero integer part
/// (`1,234` is a thousand; `0,125` is not).
fn decimal_separator(digits: &str) -> Option<usize> {
    let last = digits.rfind(['.', ','])?;
    let sep = digits.as_bytes()[last] as char;
    let other = if sep == '.' { ',' } else { '.' };
    if digits.contains(other) {
        return Some(last);
    }
    if digits.matches(sep).count() > 1 {
        return None;
    }
    let integer = digits[..last].trim_start_matches('0');
    (digits.len() - last - 1 != 3 || integer.is_empty()).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_the_ways_banks_write_them() {
        for (raw, want) in [
            ("-12.50", "-12.50"),
            ("12,50", "12.50"),
            ("-1,234.56", "-1234.56"),
            ("1.234,56", "1234.56"),
            ("+5", "5"),
            ("1,234", "1234"),
            ("0.001", "0.001"),
            ("\u{2212}7.10", "-7.10"),
            (" 1 000,25 ", "1000.25"),
        ] {
            assert_eq!(parse_amount(raw), Some(want.parse().unwrap()), "{raw}");
        }
        for raw in ["", "-", "abc", "12.5.5e", "1e5", "--1"] {
            assert_eq!(parse_amount(raw), None, "{raw}");
        }
    }

    #[test]
    fn formats_are_told_from_their_first_bytes() {
        assert_eq!(
            ImportFormat::detect(b"OFXHEADER:100\nDATA:OFXSGML"),
            Some(ImportFormat::Ofx)
        );
        assert_eq!(
            ImportFormat::detect(b"<?xml version=\"1.0\"?>\n<?OFX OFXHEADER=\"200\"?><OFX>"),
            Some(ImportFormat::Ofx)
        );
        assert_eq!(
            ImportFormat::detect(b"!Type:Bank\nD01/02/2026"),
            Some(ImportFormat::Qif)
        );
        assert_eq!(
            ImportFormat::detect(b"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"),
            Some(ImportFormat::Camt053)
        );
        assert_eq!(ImportFormat::detect(b"date,amount\n"), None);
    }
}
