//! QIF (Quicken Interchange Format), as Quicken, GnuCash, Microsoft Money and many banks write
//! it: `!Type:Bank`, `!Type:CCard`, `!Type:Cash` and `!Type:Oth A`/`Oth L` sections of records
//! ended by `^`. The crates that read QIF are unmaintained single-author releases, and QIF is a
//! line format of one-letter fields, so it is read here.
//!
//! Dates are month-first (`02/15/2026`, `2/15'26`, `2/15/26`) unless some date of the file can
//! only be day-first (`15/02/2026`); ISO dates are read as they are. A record's splits (`S`,
//! `E`, `$`) are not imported as splits: the record's total is, in its own category.
//!
//! QIF amounts may group thousands (`1,234.56`), so `1,234` is read as a thousand. A wallet in a
//! currency of three decimals (dinars) writes `1.005` for one and a bit: the parser does not
//! know the wallet (a file is read before its wallet is found), so a lone separator before three
//! digits is read as the decimal point when the file's other amounts use that separator as
//! theirs (`0.500`, `12.5`, `1,234.500`), and as grouping otherwise.
//!
//! A file of several accounts (several `!Account` blocks with records) is refused, as OFX and
//! CAMT files of several accounts are: its entries would all land in one wallet.

use chrono::NaiveDate;

use super::{decimal_mark_of, parse_amount, text_of, FileError, Statement, StatementEntry};

/// The section types that hold a bank account's movements.
const ACCOUNT_TYPES: [&str; 5] = ["bank", "ccard", "cash", "oth a", "oth l"];

struct Record {
    line: u64,
    /// The `!Account` it is listed under.
    account: Option<String>,
    date: Option<(String, u64)>,
    amount: Option<(String, u64)>,
    payee: Option<String>,
    memo: Option<String>,
    category: Option<String>,
    number: Option<String>,
}

impl Record {
    fn new(line: u64, account: Option<String>) -> Record {
        Record {
            line,
            account,
            date: None,
            amount: None,
            payee: None,
            memo: None,
            category: None,
            number: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.date.is_none() && self.amount.is_none() && self.payee.is_none() && self.memo.is_none()
    }
}

pub fn parse(bytes: &[u8]) -> Result<Statement, FileError> {
    let text = text_of(bytes);
    let mut records = Vec::new();
    let mut in_account_section = false;
    let mut in_account_list = false;
    // Between `!Option:AutoSwitch` and `!Clear:AutoSwitch`, `!Account` lists every account of
    // the program; it names none of the records that follow.
    let mut listing_accounts = false;
    let mut account_name: Option<String> = None;
    let mut record: Option<Record> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index as u64 + 1;
        let content = raw.trim_end_matches('\r');
        if content.trim().is_empty() {
            continue;
        }
        if let Some(header) = content.strip_prefix('!') {
            let header = header.trim().to_ascii_lowercase();
            if let Some(kind) = header.strip_prefix("type:") {
                let kind = kind.trim();
                if !ACCOUNT_TYPES.contains(&kind) {
                    return Err(FileError::at_line(
                        line,
                        format!("`!Type:{kind}` sections are not bank statements (Bank, CCard, Cash, Oth A and Oth L are)"),
                    ));
                }
                in_account_section = true;
                in_account_list = false;
            } else if header == "account" {
                in_account_list = true;
            } else if header.starts_with("option") || header.starts_with("clear") {
                listing_accounts = header == "option:autoswitch";
            } else {
                return Err(FileError::at_line(
                    line,
                    format!("unknown header `!{header}`"),
                ));
            }
            continue;
        }
        let (code, value) = content.split_at(content.chars().next().map_or(0, char::len_utf8));
        let value = value.trim();
        if in_account_list {
            match code {
                "N" if !listing_accounts => account_name = Some(value.to_owned()),
                // The list of all accounts runs on to the next header.
                "^" if !listing_accounts => in_account_list = false,
                _ => {}
            }
            continue;
        }
        if !in_account_section {
            return Err(FileError::at_line(
                line,
                "a record before any `!Type:` header: not a QIF file",
            ));
        }
        let current = record.get_or_insert_with(|| Record::new(line, account_name.clone()));
        let text_value = || Some(value.to_owned()).filter(|v| !v.is_empty());
        match code {
            "D" => current.date = Some((value.to_owned(), line)),
            "T" | "U" => {
                if current.amount.is_none() || code == "T" {
                    current.amount = Some((value.to_owned(), line));
                }
            }
            "P" => current.payee = text_value(),
            "M" => current.memo = text_value(),
            // `[Account]` names the other side of a transfer, not a category.
            "L" => current.category = text_value().filter(|c| !c.starts_with('[')),
            "N" => current.number = text_value(),
            "^" => {
                if let Some(done) = record.take().filter(|r| !r.is_empty()) {
                    records.push(done);
                }
            }
            // Cleared status, address lines, splits, reimbursable flags: nothing to import.
            "C" | "A" | "S" | "E" | "$" | "%" | "F" | "B" | "I" | "Q" | "Y" | "O" | "K" | "R"
            | "X" => {}
            _ => {
                return Err(FileError::at_line(
                    line,
                    format!(
                        "`{}` is not a QIF field",
                        content.chars().take(40).collect::<String>()
                    ),
                ))
            }
        }
    }
    if let Some(last) = record.filter(|r| !r.is_empty()) {
        // The last record's `^` is often missing.
        records.push(last);
    }
    if !in_account_section {
        return Err(FileError::whole("no `!Type:` header: not a QIF file"));
    }
    let mut accounts: Vec<&Option<String>> = Vec::new();
    for record in &records {
        if !accounts.contains(&&record.account) {
            accounts.push(&record.account);
        }
    }
    if accounts.len() > 1 {
        let names: Vec<&str> = accounts
            .iter()
            .map(|a| a.as_deref().unwrap_or("one without a name"))
            .collect();
        return Err(FileError::whole(format!(
            "the file holds statements of {} accounts ({}); import one account's file at a time",
            accounts.len(),
            names.join(", ")
        )));
    }
    let account = accounts.pop().cloned().flatten();
    let mark = decimal_mark_of(
        records
            .iter()
            .filter_map(|r| r.amount.as_ref().map(|(raw, _)| raw.as_str())),
    );
    let day_first = records
        .iter()
        .filter_map(|r| r.date.as_ref())
        .any(|(raw, _)| date_parts(raw).is_some_and(|(a, _, _)| a > 12));
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let (raw_date, date_line) = record
            .date
            .ok_or_else(|| FileError::at_line(record.line, "a record without a date (`D`)"))?;
        let date = date_of(&raw_date, day_first)
            .ok_or_else(|| FileError::at_line(date_line, format!("`{raw_date}` is not a date")))?;
        let (raw_amount, amount_line) = record
            .amount
            .ok_or_else(|| FileError::at_line(record.line, "a record without an amount (`T`)"))?;
        let amount = parse_amount(&raw_amount, mark).map_err(|reason| {
            FileError::at_line(amount_line, format!("`{raw_amount}` {reason}"))
        })?;
        let memo = match (record.memo, record.number) {
            (Some(memo), Some(number)) => Some(format!("{memo} (no. {number})")),
            (None, Some(number)) => Some(format!("No. {number}")),
            (memo, None) => memo,
        };
        entries.push(StatementEntry {
            line: record.line,
            date,
            amount,
            payee: record.payee,
            memo,
            external_id: None,
            category: record.category,
        });
    }
    let period = entries
        .iter()
        .map(|e| e.date)
        .min()
        .zip(entries.iter().map(|e| e.date).max());
    Ok(Statement {
        account,
        currency: None,
        period,
        entries,
    })
}

/// The three numbers of a `a/b/y`, `a/b'y`, `a-b-y` or `a.b.y` date, the year made four-digit
/// (`'26` and `26` are 2026; `99` is 1999).
fn date_parts(raw: &str) -> Option<(u32, u32, i32)> {
    let raw = raw.trim().replace(' ', "");
    let parts: Vec<&str> = raw.split(['/', '\'', '-', '.']).collect();
    let [a, b, y] = parts.as_slice() else {
        return None;
    };
    if a.len() == 4 {
        return None; // ISO, read by `date_of`
    }
    let year: i32 = y.parse().ok()?;
    let year = match (y.len(), raw.contains('\'')) {
        (4, _) => year,
        (1 | 2, true) => 2000 + year,
        (1 | 2, false) if year < 70 => 2000 + year,
        (1 | 2, false) => 1900 + year,
        _ => return None,
    };
    Some((a.parse().ok()?, b.parse().ok()?, year))
}

fn date_of(raw: &str, day_first: bool) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        return Some(date);
    }
    let (a, b, year) = date_parts(raw)?;
    let (month, day) = if day_first { (b, a) } else { (a, b) };
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bank_section_as_quicken_writes_it() {
        let qif = "!Type:Bank\r\nD02/03'26\r\nT-1,234.50\r\nN1042\r\nPLandlord LLC\r\nMRent March\r\nLHousing:Rent\r\nCX\r\n^\r\nD2/15/2026\r\nU2,500.00\r\nT2,500.00\r\nPACME Payroll\r\nLSalary\r\n^\r\nD02/16'26\r\nT-50.00\r\nL[Savings]\r\nPTo savings\r\n";
        let statement = parse(qif.as_bytes()).unwrap();
        assert_eq!(statement.entries.len(), 3);
        let rent = &statement.entries[0];
        assert_eq!(rent.date.to_string(), "2026-02-03");
        assert_eq!(rent.amount, "-1234.50".parse().unwrap());
        assert_eq!(rent.payee.as_deref(), Some("Landlord LLC"));
        assert_eq!(rent.memo.as_deref(), Some("Rent March (no. 1042)"));
        assert_eq!(rent.category.as_deref(), Some("Housing:Rent"));
        assert_eq!(statement.entries[1].amount, "2500".parse().unwrap());
        // A transfer's `[Account]` is not a category; the last `^` may be missing.
        assert_eq!(statement.entries[2].category, None);
        let (from, to) = statement.period.unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-02-03".into(), "2026-02-16".into())
        );
    }

    #[test]
    fn day_first_files_and_credit_cards() {
        let qif = "!Account\nNVisa Gold\nTCCard\n^\n!Type:CCard\nD15/01/2026\nT-12,50\nPCafe\n^\nD03/02/2026\nT-3,10\nPBakery\n^\n";
        let statement = parse(qif.as_bytes()).unwrap();
        assert_eq!(statement.account.as_deref(), Some("Visa Gold"));
        assert_eq!(statement.entries[0].date.to_string(), "2026-01-15");
        assert_eq!(statement.entries[1].date.to_string(), "2026-02-03");
        assert_eq!(statement.entries[0].amount, "-12.50".parse().unwrap());
    }

    #[test]
    fn bad_records_name_their_line() {
        let error = parse(b"!Type:Bank\nD02/30/2026\nT-1\n^\n").unwrap_err();
        assert_eq!(error.at, "line 2");
        let error = parse(b"!Type:Bank\nD02/03/2026\nTabc\n^\n").unwrap_err();
        assert_eq!(error.at, "line 3");
        let error = parse(b"!Type:Bank\nT-1\n^\n").unwrap_err();
        assert!(error.message.contains("without a date"));
        assert!(parse(b"!Type:Invst\nD02/03/2026\n^\n").is_err());
        assert!(parse(b"D02/03/2026\nT-1\n^\n").is_err());
        assert!(parse(b"!Type:Bank\nZzz\n^\n").is_err());
    }

    #[test]
    fn three_decimals_when_the_file_writes_its_decimals_with_the_same_point() {
        let dinars = "!Type:Bank\nD02/03/2026\nT-1.005\n^\nD02/04/2026\nT0.500\n^\nD02/05/2026\nT-1,250.750\n^\n";
        let amounts: Vec<String> = parse(dinars.as_bytes())
            .unwrap()
            .entries
            .iter()
            .map(|e| e.amount.to_string())
            .collect();
        assert_eq!(amounts, ["-1.005", "0.500", "-1250.750"]);
        // With nothing else to go by, `1,234` is still a thousand.
        let dollars = "!Type:Bank\nD02/03/2026\nT-1,234\n^\nD02/04/2026\nT5\n^\n";
        let statement = parse(dollars.as_bytes()).unwrap();
        assert_eq!(statement.entries[0].amount, "-1234".parse().unwrap());
        // A file with cents groups thousands with the other separator.
        let grouped = "!Type:Bank\nD02/03/2026\nT-1,234\n^\nD02/04/2026\nT5.50\n^\n";
        let statement = parse(grouped.as_bytes()).unwrap();
        assert_eq!(statement.entries[0].amount, "-1234".parse().unwrap());
        for bad in ["1.2.3", "1,2,3", "1,23,4.5"] {
            let file = format!("!Type:Bank\nD02/03/2026\nT{bad}\n^\n");
            let error = parse(file.as_bytes()).unwrap_err();
            assert_eq!(error.at, "line 3", "{bad}");
        }
    }

    #[test]
    fn a_file_of_several_accounts_is_refused() {
        let two = "!Account\nNChecking\nTBank\n^\n!Type:Bank\nD02/03/2026\nT-1\n^\n\
            !Account\nNSavings\nTBank\n^\n!Type:Bank\nD02/03/2026\nT-2\n^\n";
        let error = parse(two.as_bytes()).unwrap_err();
        assert_eq!(error.at, "file");
        assert!(
            error.message.contains("2 accounts (Checking, Savings)")
                && error
                    .message
                    .contains("import one account's file at a time"),
            "{error}"
        );
        // Quicken's list of all accounts names none of the records; the block before them does.
        let listed = "!Option:AutoSwitch\n!Account\nNChecking\nTBank\n^\nNSavings\nTBank\n^\n\
            !Clear:AutoSwitch\n!Account\nNChecking\nTBank\n^\n!Type:Bank\nD02/03/2026\nT-1\n^\n\
            !Account\nNChecking\nTBank\n^\n!Type:Bank\nD02/04/2026\nT-2\n^\n";
        let statement = parse(listed.as_bytes()).unwrap();
        assert_eq!(statement.account.as_deref(), Some("Checking"));
        assert_eq!(statement.entries.len(), 2);
    }

    #[test]
    fn a_windows_1252_file_reads_its_characters() {
        let statement =
            parse(b"!Type:Bank\nD02/03/2026\nT-4.50\nPMcDonald\x92s\nM\x80 4,50 \x96 caf\xe9\n^\n")
                .unwrap();
        assert_eq!(
            statement.entries[0].payee.as_deref(),
            Some("McDonald\u{2019}s")
        );
        assert_eq!(
            statement.entries[0].memo.as_deref(),
            Some("\u{20AC} 4,50 \u{2013} caf\u{e9}")
        );
    }
}
