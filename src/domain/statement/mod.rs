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
/// Windows-1252 (what OFX `CHARSET:1252`, `encoding="windows-1252"` and most QIF writers mean;
/// also what an `ISO-8859-1` file means in practice, as browsers read it). A file that says 1252
/// but is valid UTF-8 is read as UTF-8: some writers keep the 1252 header on UTF-8 text, and
/// 1252 text with accents is almost never valid UTF-8.
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect()),
    }
}

/// The characters Windows-1252 puts at 0x80–0x9F (where Latin-1 has invisible control
/// characters): `€`, curly quotes, dashes, `Œ`, `™`. The five bytes it leaves undefined stand
/// for themselves, as the WHATWG encoding standard reads them.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

/// One byte of Windows-1252 text: Latin-1 but for 0x80–0x9F.
fn windows_1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => WINDOWS_1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Why an amount was not read; the caller names the value (`TRNAMT `x` is not an amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    NotAnAmount,
    TooPrecise,
    TooLarge,
}

impl std::fmt::Display for AmountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AmountError::NotAnAmount => "is not an amount",
            AmountError::TooPrecise => "has more than 4 decimal places",
            AmountError::TooLarge => "is too large (at most 15 digits before the point)",
        })
    }
}

/// What a file says of its decimal separator, which decides a lone separator followed by
/// exactly three digits: `1,234` is a thousand in a `1,234.56` file, `1.005` is one and a bit in
/// a file of Kuwaiti dinars (three decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMark {
    /// A separator written once is the decimal point, whichever it is (OFX: `.` or `,`, and no
    /// thousands grouping of its own).
    Either,
    /// The file's decimal point, learnt from its other amounts: written once, it is decimal;
    /// the other one followed by three digits groups thousands.
    Known(char),
    /// Nothing says: a lone separator followed by three digits groups thousands, unless the
    /// integer part is zero (`0,125` is not a thousand).
    Unknown,
}

/// An amount as banks write it: `-12.50`, `1,234.56`, `-12,50`, `1.234,56`, `+5`, `1 000,25`,
/// `1'000.25`. With both `.` and `,`, the last one is decimal and the other groups digits in
/// threes (or India's lakhs, `1,23,456.00`); a separator written more than once groups; a lone
/// one is read as `mark` says. A grouping that is not in threes (`1.2.3`, `1,23,4.5`) is no
/// amount: reading it as digits would make up a number.
pub fn parse_amount(raw: &str, mark: DecimalMark) -> Result<Decimal, AmountError> {
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
    if !digits
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(AmountError::NotAnAmount);
    }
    let (integer, fraction) = match decimal_separator(digits, mark) {
        Some(at) => (&digits[..at], &digits[at + 1..]),
        None => (digits, ""),
    };
    if fraction.contains(['.', ',']) {
        return Err(AmountError::NotAnAmount);
    }
    let integer = ungrouped(integer).ok_or(AmountError::NotAnAmount)?;
    exact(negative, &integer, fraction)
}

/// The decimal point a file's amounts agree on, from those that can only be read one way: one
/// with both separators (`1,234.50`: `.`), a separator written more than once (`1,234,567`:
/// the other one), or written once but not before exactly three digits (`12,50`: `,`) or after
/// a zero (`0.500`: `.`). `Unknown` when none says or they disagree.
pub fn decimal_mark_of<'a>(amounts: impl IntoIterator<Item = &'a str>) -> DecimalMark {
    let mut found = None;
    for raw in amounts {
        let digits: String = raw
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        let Some(last) = digits.rfind(['.', ',']) else {
            continue;
        };
        let sep = digits.as_bytes()[last] as char;
        let other = if sep == '.' { ',' } else { '.' };
        let says = if digits.contains(other) {
            sep
        } else if digits.matches(sep).count() > 1 {
            other
        } else if digits.len() - last - 1 != 3 || digits[..last].trim_start_matches('0').is_empty()
        {
            sep
        } else {
            continue;
        };
        match found {
            None => found = Some(says),
            Some(mark) if mark != says => return DecimalMark::Unknown,
            Some(_) => {}
        }
    }
    found.map_or(DecimalMark::Unknown, DecimalMark::Known)
}

/// Where the decimal separator of `digits` (digits, `.` and `,`) is, if it has one.
fn decimal_separator(digits: &str, mark: DecimalMark) -> Option<usize> {
    let last = digits.rfind(['.', ','])?;
    let sep = digits.as_bytes()[last] as char;
    let other = if sep == '.' { ',' } else { '.' };
    if digits.contains(other) {
        return Some(last);
    }
    if digits.matches(sep).count() > 1 {
        return None;
    }
    let three_after = digits.len() - last - 1 == 3;
    let zero_integer = digits[..last].trim_start_matches('0').is_empty();
    let decimal = match mark {
        DecimalMark::Either => true,
        DecimalMark::Known(known) => !three_after || zero_integer || known == sep,
        DecimalMark::Unknown => !three_after || zero_integer,
    };
    decimal.then_some(last)
}

/// The digits of an integer part without its grouping separators, if it groups them the way
/// people write numbers: threes after a first group of one to three (`12,345,678`), or India's
/// lakhs and crores, twos before the last three (`1,23,45,678`).
fn ungrouped(integer: &str) -> Option<String> {
    let Some(sep) = integer.chars().find(|c| *c == '.' || *c == ',') else {
        return Some(integer.to_owned());
    };
    let groups: Vec<&str> = integer.split(sep).collect();
    let (first, rest) = groups.split_first()?;
    let (last, middle) = rest.split_last()?;
    let thousands = rest.iter().all(|g| g.len() == 3);
    let lakhs = last.len() == 3 && middle.iter().all(|g| g.len() == 2) && first.len() <= 2;
    let valid = (1..=3).contains(&first.len()) && (thousands || lakhs);
    valid.then(|| groups.concat())
}

/// An amount of plain digits (`12`, `12.50`, `.5`) as a decimal literal, the way XML Schema's
/// `xs:decimal` and CAMT write it: an optional sign, digits, at most one `.`; no grouping, no
/// `,`, no exponent.
pub fn parse_plain_amount(raw: &str) -> Result<Decimal, AmountError> {
    let raw = raw.trim();
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(integer) || !all_digits(fraction) {
        return Err(AmountError::NotAnAmount);
    }
    exact(negative, integer, fraction)
}

/// The amount of a sign and ASCII digits either side of the point, if it is one the ledger
/// can store (`NUMERIC(19, 4)`), written to the decimals the file gave: zeros past four
/// decimals are dropped, other digits there are an error, not rounded.
fn exact(negative: bool, integer: &str, fraction: &str) -> Result<Decimal, AmountError> {
    if integer.is_empty() && fraction.is_empty() {
        return Err(AmountError::NotAnAmount);
    }
    let integer = integer.trim_start_matches('0');
    // More digits than `Decimal` holds would not parse at all: too large, not malformed.
    if integer.len() > 15 {
        return Err(AmountError::TooLarge);
    }
    let max_scale = crate::domain::money::MAX_SCALE as usize;
    let fraction = if fraction.len() > max_scale {
        fraction.trim_end_matches('0')
    } else {
        fraction
    };
    if fraction.len() > max_scale {
        return Err(AmountError::TooPrecise);
    }
    let sign = if negative { "-" } else { "" };
    let integer = if integer.is_empty() { "0" } else { integer };
    let literal = if fraction.is_empty() {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{fraction}")
    };
    let amount: Decimal = literal.parse().map_err(|_| AmountError::NotAnAmount)?;
    if amount.abs() > crate::domain::money::max_amount() {
        return Err(AmountError::TooLarge);
    }
    Ok(amount)
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
            ("1,23,456.50", "123456.50"),
            ("1.234.567,891", "1234567.891"),
            ("12.50000", "12.5"),
        ] {
            let read = parse_amount(raw, DecimalMark::Unknown);
            assert_eq!(read, Ok(want.parse().unwrap()), "{raw}");
        }
        for raw in [
            "", "-", "abc", "12.5.5e", "1e5", "--1", "1.2.3", "1,2,3", "1,23,4.5",
        ] {
            assert_eq!(
                parse_amount(raw, DecimalMark::Unknown),
                Err(AmountError::NotAnAmount),
                "{raw}"
            );
        }
        assert_eq!(
            parse_amount("1.00001", DecimalMark::Unknown),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(
            parse_amount("12345678901234567890", DecimalMark::Either),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn three_decimals_are_decimals_where_the_file_says_so() {
        let read = |raw, mark| parse_amount(raw, mark).map(|a| a.to_string());
        // A lone separator is always OFX's decimal point.
        assert_eq!(read("1.005", DecimalMark::Either), Ok("1.005".into()));
        assert_eq!(read("-1.250", DecimalMark::Either), Ok("-1.250".into()));
        assert_eq!(read("1,005", DecimalMark::Either), Ok("1.005".into()));
        assert_eq!(
            read("-1,200.00", DecimalMark::Either),
            Ok("-1200.00".into())
        );
        assert!(read("1.2.3", DecimalMark::Either).is_err());
        // A file whose decimal point is `.` groups with `,`, and the other way round.
        assert_eq!(read("1.005", DecimalMark::Known('.')), Ok("1.005".into()));
        assert_eq!(read("1,005", DecimalMark::Known('.')), Ok("1005".into()));
        assert_eq!(read("1,005", DecimalMark::Known(',')), Ok("1.005".into()));
        assert_eq!(read("1.005", DecimalMark::Known(',')), Ok("1005".into()));
        assert_eq!(read("1.005", DecimalMark::Unknown), Ok("1005".into()));

        assert_eq!(
            decimal_mark_of(["-1.005", "12.250", "0.500"]),
            DecimalMark::Known('.')
        );
        assert_eq!(
            decimal_mark_of(["1.005", "1,234.500"]),
            DecimalMark::Known('.')
        );
        assert_eq!(decimal_mark_of(["1.005", "12,50"]), DecimalMark::Known(','));
        assert_eq!(
            decimal_mark_of(["1.005", "2,000,000"]),
            DecimalMark::Known('.')
        );
        assert_eq!(decimal_mark_of(["1.005", "12.250"]), DecimalMark::Unknown);
        assert_eq!(decimal_mark_of(["1.50", "12,50"]), DecimalMark::Unknown);
    }

    #[test]
    fn plain_decimals_as_xml_schema_writes_them() {
        for (raw, want) in [
            ("1.005", "1.005"),
            ("1250", "1250"),
            ("+.5", "0.5"),
            ("7.", "7"),
        ] {
            assert_eq!(parse_plain_amount(raw), Ok(want.parse().unwrap()), "{raw}");
        }
        for raw in ["1,005", "1,234.56", "1 000", "1.2.3", "", ".", "1e3", "--1"] {
            assert_eq!(
                parse_plain_amount(raw),
                Err(AmountError::NotAnAmount),
                "{raw}"
            );
        }
    }

    #[test]
    fn windows_1252_bytes_are_its_characters_not_control_characters() {
        assert_eq!(
            text_of(b"McDonald\x92s \x80 5 \x96 caf\xe9"),
            "McDonald\u{2019}s \u{20AC} 5 \u{2013} caf\u{e9}"
        );
        // Valid UTF-8 stays UTF-8, whatever a header claims.
        assert_eq!(
            text_of("caf\u{e9} \u{20AC}".as_bytes()),
            "caf\u{e9} \u{20AC}"
        );
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
