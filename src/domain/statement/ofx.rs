//! OFX and QFX: version 1.x (SGML, with its `KEY:VALUE` header and leaf elements that are never
//! closed) and 2.x (XML). No maintained Rust crate reads OFX 1.x SGML (an XML parser refuses
//! its unclosed elements), so both versions are read here by one small tokenizer that treats an
//! element followed by text as a leaf and closes what an end tag leaves open, as OFX's DTD
//! implies. No entity is expanded beyond the five XML ones and numeric references, and a file
//! with a document type declaration is refused.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime};

use super::{parse_amount, text_of, DecimalMark, FileError, Statement, StatementEntry};

/// Elements nest no deeper than this in any OFX file (a bank statement is about 8 deep).
const MAX_DEPTH: usize = 32;

pub fn parse(bytes: &[u8]) -> Result<Statement, FileError> {
    let text = text_of(bytes);
    let upper_head = text[..text.len().min(4096)].to_ascii_uppercase();
    if upper_head.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(FileError::whole(
            "document type declarations are not accepted in OFX files",
        ));
    }
    let start = find_ci(&text, "<OFX>")
        .ok_or_else(|| FileError::whole("no <OFX> element: not an OFX file"))?;
    let mut reader = Tokens {
        text: &text,
        at: start,
        line: 1 + text[..start].matches('\n').count() as u64,
    };
    let mut statement = Statement::default();
    let mut stack: Vec<String> = Vec::new();
    // The open <STMTTRN>: where it starts, and its leaves.
    let mut entry: Option<(u64, HashMap<String, String>)> = None;
    let mut accounts: Vec<String> = Vec::new();
    let (mut start_date, mut end_date) = (None, None);
    while let Some(token) = reader.next()? {
        match token {
            Token::Open(name, line) => {
                if name == "STMTTRN" {
                    if entry.is_some() {
                        return Err(FileError::at_line(line, "<STMTTRN> inside <STMTTRN>"));
                    }
                    entry = Some((line, HashMap::new()));
                }
                stack.push(name);
                if stack.len() > MAX_DEPTH {
                    return Err(FileError::at_line(line, "elements nest too deep"));
                }
            }
            Token::Leaf(name, value, line) => {
                if let Some((_, leaves)) = entry.as_mut() {
                    // A payee aggregate's NAME is the payee's name, like a plain NAME.
                    leaves.entry(name).or_insert(value);
                    continue;
                }
                let parent = stack.last().map(String::as_str).unwrap_or("");
                match (parent, name.as_str()) {
                    ("BANKACCTFROM" | "CCACCTFROM", "ACCTID") if !accounts.contains(&value) => {
                        accounts.push(value)
                    }
                    (_, "CURDEF") => statement.currency = Some(value.to_ascii_uppercase()),
                    ("BANKTRANLIST", "DTSTART") => {
                        start_date = Some(date(&value, "DTSTART", line)?)
                    }
                    ("BANKTRANLIST", "DTEND") => end_date = Some(date(&value, "DTEND", line)?),
                    _ => {}
                }
            }
            Token::Close(name, line) => {
                let Some(depth) = stack.iter().rposition(|open| *open == name) else {
                    // A leaf closed the XML way was already taken as a leaf.
                    continue;
                };
                if name == "STMTTRN" {
                    if let Some((start, leaves)) = entry.take() {
                        statement.entries.push(transaction(start, leaves)?);
                    }
                } else if let Some((start, _)) = entry
                    .as_ref()
                    .filter(|_| stack[depth..].iter().any(|open| open == "STMTTRN"))
                {
                    return Err(FileError::at_line(
                        *start,
                        format!("<STMTTRN> is never closed (</{name}> at line {line} ends it)"),
                    ));
                }
                stack.truncate(depth);
            }
        }
    }
    if let Some((start, _)) = entry {
        return Err(FileError::at_line(start, "<STMTTRN> is never closed"));
    }
    if accounts.len() > 1 {
        return Err(FileError::whole(format!(
            "the file holds statements of {} accounts ({}); import one account's file at a time",
            accounts.len(),
            accounts.join(", ")
        )));
    }
    statement.account = accounts.pop();
    if let (Some(from), Some(to)) = (start_date, end_date) {
        statement.period = Some((from, to));
    }
    Ok(statement)
}

fn transaction(line: u64, leaves: HashMap<String, String>) -> Result<StatementEntry, FileError> {
    let at = |what: &str| FileError {
        at: format!("<STMTTRN> at line {line}"),
        message: what.to_owned(),
    };
    let posted = leaves
        .get("DTPOSTED")
        .ok_or_else(|| at("DTPOSTED is missing"))?;
    let date = date(posted, "DTPOSTED", line).map_err(|e| at(&e.message))?;
    let raw = leaves
        .get("TRNAMT")
        .ok_or_else(|| at("TRNAMT is missing"))?;
    // OFX writes no thousands grouping of its own, so a lone `.` or `,` is the decimal point:
    // `-1.250` is one and a quarter (dinars have three decimals), not 1,250.
    let amount = parse_amount(raw, DecimalMark::Either)
        .map_err(|reason| at(&format!("TRNAMT `{raw}` {reason}")))?;
    let text = |key: &str| {
        leaves
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Ok(StatementEntry {
        line,
        date,
        amount,
        payee: text("NAME"),
        memo: text("MEMO"),
        external_id: text("FITID"),
        category: None,
    })
}

/// An OFX date: `YYYYMMDD`, optionally followed by a time (`HHMM` or `HHMMSS`), a fraction
/// and a `[zone]`. The day must be one the rest of the API takes (the years 1 to 9999, as
/// `validate::date`) and a time must be a time of day (no minute 61): a file that writes
/// either wrong is not to be trusted for its other fields.
fn date(raw: &str, name: &str, line: u64) -> Result<NaiveDate, FileError> {
    let fault = || FileError::at_line(line, format!("{name} `{raw}` is not an OFX date"));
    let raw_trimmed = raw.trim();
    let digits = raw_trimmed
        .get(..8)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let date = digits
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .filter(|d| (1..=9999).contains(&d.year()))
        .ok_or_else(fault)?;
    let rest = &raw_trimmed[8..];
    let time_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = |at: usize| rest[at..at + 2].parse::<u32>().ok();
    let valid_time = match time_len {
        0 => true,
        4 => number(0)
            .zip(number(2))
            .and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0))
            .is_some(),
        6 => number(0)
            .zip(number(2))
            .zip(number(4))
            .and_then(|((h, m), s)| NaiveTime::from_hms_opt(h, m, s))
            .is_some(),
        _ => false,
    };
    if !valid_time {
        return Err(fault());
    }
    Ok(date)
}

fn find_ci(text: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

enum Token {
    /// An element that holds others.
    Open(String, u64),
    /// An element with text, closed or not.
    Leaf(String, String, u64),
    Close(String, u64),
}

struct Tokens<'a> {
    text: &'a str,
    at: usize,
    line: u64,
}

impl Tokens<'_> {
    fn advance(&mut self, to: usize) {
        self.line += self.text[self.at..to].matches('\n').count() as u64;
        self.at = to;
    }

    fn next(&mut self) -> Result<Option<Token>, FileError> {
        loop {
            let Some(lt) = self.text[self.at..].find('<').map(|i| self.at + i) else {
                return Ok(None);
            };
            self.advance(lt);
            let line = self.line;
            let rest = &self.text[lt..];
            if rest.starts_with("<!--") {
                let end = rest
                    .find("-->")
                    .ok_or_else(|| FileError::at_line(line, "a comment is never closed"))?;
                self.advance(lt + end + 3);
                continue;
            }
            if rest.starts_with("<?") || rest.starts_with("<!") {
                let end = rest
                    .find('>')
                    .ok_or_else(|| FileError::at_line(line, "unterminated markup"))?;
                self.advance(lt + end + 1);
                continue;
            }
            let gt = rest.find('>').ok_or_else(|| {
                FileError::at_line(line, "an element's tag is never closed (`>`)")
            })?;
            let tag = &rest[1..gt];
            self.advance(lt + gt + 1);
            if let Some(name) = tag.strip_prefix('/') {
                return Ok(Some(Token::Close(element_name(name, line)?, line)));
            }
            let name = element_name(tag, line)?;
            let text_end = self.text[self.at..]
                .find('<')
                .map_or(self.text.len(), |i| self.at + i);
            let value = self.text[self.at..text_end].trim();
            if value.is_empty() {
                return Ok(Some(Token::Open(name, line)));
            }
            let value = unescape(value, line)?;
            self.advance(text_end);
            // An XML leaf's end tag belongs to it.
            let close = format!("</{name}>");
            if self.text[self.at..]
                .get(..close.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(&close))
            {
                self.advance(self.at + close.len());
            }
            return Ok(Some(Token::Leaf(name, value, line)));
        }
    }
}

fn element_name(tag: &str, line: u64) -> Result<String, FileError> {
    let name = tag.trim();
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
    if !valid {
        return Err(FileError::at_line(
            line,
            format!(
                "`<{}>` is not an OFX element",
                tag.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok(name.to_ascii_uppercase())
}

/// The five XML entities and numeric character references; anything else is refused.
fn unescape(value: &str, line: u64) -> Result<String, FileError> {
    if !value.contains('&') {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|&i| i <= 10) else {
            // SGML files write a bare `&` (`AT&T`).
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(ch) => out.push(ch),
            None => {
                return Err(FileError::at_line(
                    line,
                    format!("unknown entity `&{name};` (only XML's own are read)"),
                ))
            }
        }
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SGML: &str = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\n\r\n\
<OFX>\r\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260301120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n\
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n\
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>000123456789<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n\
<BANKTRANLIST><DTSTART>20260201<DTEND>20260228235959.000[-5:EST]\r\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260203120000[-5:EST]<TRNAMT>-42.17<FITID>2026020301<NAME>AT&T WIRELESS<MEMO>Bill &amp; data</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260215<TRNAMT>2500.00<FITID>2026021502<NAME>ACME PAYROLL</STMTTRN>\r\n\
</BANKTRANLIST><LEDGERBAL><BALAMT>1234.56<DTASOF>20260228</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n";

    #[test]
    fn sgml_with_unclosed_leaves() {
        let statement = parse(SGML.as_bytes()).unwrap();
        assert_eq!(statement.account.as_deref(), Some("000123456789"));
        assert_eq!(statement.currency.as_deref(), Some("USD"));
        let (from, to) = statement.period.unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        assert_eq!(statement.entries.len(), 2);
        let bill = &statement.entries[0];
        assert_eq!(bill.amount, "-42.17".parse().unwrap());
        assert_eq!(bill.payee.as_deref(), Some("AT&T WIRELESS"));
        assert_eq!(bill.memo.as_deref(), Some("Bill & data"));
        assert_eq!(bill.external_id.as_deref(), Some("2026020301"));
        assert_eq!(bill.line, 13);
        assert_eq!(statement.entries[1].date.to_string(), "2026-02-15");
    }

    #[test]
    fn xml_version_two() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"220\"?>\n<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>EUR</CURDEF>\
<CCACCTFROM><ACCTID>4111XXXX1111</ACCTID></CCACCTFROM><BANKTRANLIST>\
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260310</DTPOSTED><TRNAMT>-9.99</TRNAMT><FITID>A1</FITID>\
<PAYEE><NAME>Streaming &amp; Co</NAME></PAYEE><MEMO></MEMO></STMTTRN></BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>";
        let statement = parse(xml.as_bytes()).unwrap();
        assert_eq!(statement.account.as_deref(), Some("4111XXXX1111"));
        assert_eq!(statement.currency.as_deref(), Some("EUR"));
        let entry = &statement.entries[0];
        assert_eq!(entry.payee.as_deref(), Some("Streaming & Co"));
        assert_eq!(entry.memo, None);
        assert_eq!(entry.amount, "-9.99".parse().unwrap());
    }

    #[test]
    fn bad_files_name_their_fault() {
        let bad_amount = SGML.replace("<TRNAMT>-42.17", "<TRNAMT>forty");
        let error = parse(bad_amount.as_bytes()).unwrap_err();
        assert_eq!(error.at, "<STMTTRN> at line 13");
        assert!(error.message.contains("TRNAMT `forty`"), "{error}");

        let bad_date = SGML.replace("<DTPOSTED>20260215", "<DTPOSTED>2026-02-15");
        assert!(parse(bad_date.as_bytes())
            .unwrap_err()
            .message
            .contains("DTPOSTED"));

        let entity = "<?xml version=\"1.0\"?><!DOCTYPE OFX [<!ENTITY a \"aaaa\">]><OFX></OFX>";
        assert!(parse(entity.as_bytes())
            .unwrap_err()
            .message
            .contains("document type"));
        assert!(parse(b"hello").is_err());
        let unknown = SGML.replace("Bill &amp; data", "&lol9;");
        assert!(parse(unknown.as_bytes())
            .unwrap_err()
            .message
            .contains("&lol9;"));
        let unclosed = SGML.replace("</STMTTRN>\r\n</BANKTRANLIST>", "");
        assert!(parse(unclosed.as_bytes()).is_err());
    }

    #[test]
    fn three_decimals_are_decimals_in_sgml_and_xml() {
        let dinars = SGML
            .replace("<CURDEF>USD", "<CURDEF>KWD")
            .replace("<TRNAMT>-42.17", "<TRNAMT>1.005")
            .replace("<TRNAMT>2500.00", "<TRNAMT>-1,250");
        let statement = parse(dinars.as_bytes()).unwrap();
        assert_eq!(statement.entries[0].amount, "1.005".parse().unwrap());
        assert_eq!(statement.entries[1].amount, "-1.25".parse().unwrap());
        let xml = "<?xml version=\"1.0\"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>BHD</CURDEF>\
<BANKACCTFROM><ACCTID>1</ACCTID></BANKACCTFROM><BANKTRANLIST><STMTTRN><DTPOSTED>20260310</DTPOSTED>\
<TRNAMT>-1.250</TRNAMT><FITID>A1</FITID></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>";
        assert_eq!(
            parse(xml.as_bytes()).unwrap().entries[0].amount,
            "-1.25".parse().unwrap()
        );
        let grouped_wrong = SGML.replace("<TRNAMT>-42.17", "<TRNAMT>1.2.3");
        assert!(parse(grouped_wrong.as_bytes())
            .unwrap_err()
            .message
            .contains("TRNAMT `1.2.3` is not an amount"));
    }

    #[test]
    fn an_amount_too_large_to_store_names_its_entry() {
        let huge = SGML.replace("<TRNAMT>-42.17", "<TRNAMT>12345678901234567890");
        let error = parse(huge.as_bytes()).unwrap_err();
        assert_eq!(error.at, "<STMTTRN> at line 13");
        assert!(error.message.contains("too large"), "{error}");
    }

    #[test]
    fn dates_and_times_outside_the_calendar_are_refused() {
        for bad in [
            "00000101",
            "20260203126100",
            "20260203246000",
            "2026020312",
            "20260230",
        ] {
            let file = SGML.replace("<DTPOSTED>20260215", &format!("<DTPOSTED>{bad}"));
            let error = parse(file.as_bytes()).unwrap_err();
            assert!(error.message.contains("DTPOSTED"), "{bad}: {error}");
        }
        for good in [
            "20260215",
            "202602151230",
            "20260215123059.123[-5:EST]",
            "20260215000000[0:GMT]",
        ] {
            let file = SGML.replace("<DTPOSTED>20260215", &format!("<DTPOSTED>{good}"));
            let statement = parse(file.as_bytes()).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert_eq!(statement.entries[1].date.to_string(), "2026-02-15");
        }
    }

    #[test]
    fn charset_1252_is_windows_1252() {
        let mut file = SGML.replace("AT&T WIRELESS", "MCDONALD_S _").into_bytes();
        let at = file.windows(12).position(|w| w == b"MCDONALD_S _").unwrap();
        file[at + 8] = 0x92;
        file[at + 11] = 0x80;
        let statement = parse(&file).unwrap();
        assert_eq!(
            statement.entries[0].payee.as_deref(),
            Some("MCDONALD\u{2019}S \u{20AC}")
        );
        let xml = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>\
<BANKACCTFROM><ACCTID>1</ACCTID></BANKACCTFROM><BANKTRANLIST><STMTTRN><DTPOSTED>20260310</DTPOSTED>\
<TRNAMT>-1</TRNAMT><NAME>Caf\xe9 \x93Z\x94</NAME></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>";
        assert_eq!(
            parse(xml).unwrap().entries[0].payee.as_deref(),
            Some("Caf\u{e9} \u{201C}Z\u{201D}")
        );
    }
}
