//! ISO 20022 CAMT.053 (bank-to-customer statement), any version (`camt.053.001.02` to `.13`),
//! read with quick-xml by local element names under the camt.053 namespace, whatever prefix the
//! file gives it. An entry (`Ntry`) that batches several transactions (`NtryDtls/TxDtls` with
//! their own amounts) gives one statement entry per transaction when those amounts, in the
//! entry's currency, add up to what was booked; otherwise the entry is one movement of its
//! booked amount, so the wallet's balance is the bank's either way. Entries not yet booked
//! (`Sts` other than `BOOK`) are left out. A document type declaration is refused, so no entity
//! can be declared, and a reference to an undeclared one is an error: nothing is expanded.
//! A file that is not UTF-8 is read as Windows-1252, whatever its declaration says.

use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use rust_decimal::Decimal;

use super::{parse_plain_amount, text_of, FileError, Statement, StatementEntry};

const MAX_DEPTH: usize = 64;

/// One transaction inside an entry.
#[derive(Default)]
struct Detail {
    amount: Option<Decimal>,
    /// The `Ccy` of its amount.
    currency: Option<String>,
    credit: Option<bool>,
    reference: Option<String>,
    end_to_end: Option<String>,
    creditor: Option<String>,
    debtor: Option<String>,
    remittance: Vec<String>,
}

#[derive(Default)]
struct Entry {
    line: u64,
    amount: Option<Decimal>,
    currency: Option<String>,
    credit: Option<bool>,
    status: Option<String>,
    booked: Option<NaiveDate>,
    value: Option<NaiveDate>,
    reference: Option<String>,
    account_reference: Option<String>,
    info: Option<String>,
    details: Vec<Detail>,
}

pub fn parse(bytes: &[u8]) -> Result<Statement, FileError> {
    // quick-xml reads UTF-8 only (its `encoding` feature is off); Windows-1252 becomes UTF-8
    // here, byte for byte in line count.
    let text = text_of(bytes);
    let bytes = text.as_bytes();
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut statement = Statement::default();
    let mut accounts: Vec<String> = Vec::new();
    let mut entry: Option<Entry> = None;
    let mut period: (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    let mut text = String::new();
    let mut seen_namespace = false;
    let mut lines = Lines {
        bytes,
        at: 0,
        line: 1,
    };
    let mut line_at = |reader: &Reader<&[u8]>| lines.at(reader.buffer_position() as usize);
    loop {
        let event = reader.read_event().map_err(|e| {
            FileError::at_line(line_at(&reader), format!("not well-formed XML: {e}"))
        })?;
        match event {
            Event::DocType(_) => {
                return Err(FileError::at_line(
                    line_at(&reader),
                    "document type declarations are not accepted (no entity is expanded)",
                ))
            }
            Event::Start(start) => {
                let name = local_name(&start);
                if path.is_empty() {
                    seen_namespace = is_camt053(&start);
                }
                if name == "Ntry" && path.last().map(String::as_str) == Some("Stmt") {
                    entry = Some(Entry {
                        line: line_at(&reader),
                        ..Entry::default()
                    });
                }
                if name == "TxDtls" {
                    if let Some(entry) = entry.as_mut() {
                        entry.details.push(Detail::default());
                    }
                }
                if name == "Amt" {
                    let currency = start
                        .try_get_attribute("Ccy")
                        .ok()
                        .flatten()
                        .and_then(|a| a.unescape_value().ok().map(|v| v.to_ascii_uppercase()));
                    if let (Some(entry), Some(currency)) = (entry.as_mut(), currency) {
                        let parent = path.last().map(String::as_str);
                        let in_detail = parent == Some("TxDtls")
                            || (path.len() >= 3
                                && path[path.len() - 3..] == ["TxDtls", "AmtDtls", "TxAmt"]);
                        if parent == Some("Ntry") {
                            entry.currency = Some(currency);
                        } else if in_detail {
                            if let Some(detail) = entry.details.last_mut() {
                                detail.currency = Some(currency);
                            }
                        }
                    }
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(FileError::at_line(
                        line_at(&reader),
                        "elements nest too deep",
                    ));
                }
                text.clear();
            }
            Event::Text(t) => {
                let decoded = t.decode().map_err(|e| {
                    FileError::at_line(line_at(&reader), format!("text is not UTF-8: {e}"))
                })?;
                text.push_str(&decoded);
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference).ok_or_else(|| {
                    FileError::at_line(
                        line_at(&reader),
                        format!(
                            "undeclared entity `&{};`",
                            String::from_utf8_lossy(&reference)
                                .chars()
                                .take(40)
                                .collect::<String>()
                        ),
                    )
                })?;
                text.push_str(&resolved);
            }
            Event::End(_) => {
                let line = line_at(&reader);
                let value = text.trim().to_owned();
                text.clear();
                let Some(name) = path.last().cloned() else {
                    continue;
                };
                leaf(
                    &path,
                    &value,
                    line,
                    &mut entry,
                    &mut accounts,
                    &mut statement,
                    &mut period,
                )?;
                if name == "Ntry" && path.len() >= 2 && path[path.len() - 2] == "Stmt" {
                    if let Some(done) = entry.take() {
                        finish(done, &mut statement)?;
                    }
                }
                path.pop();
            }
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => {
                if let Some(open) = path.last() {
                    return Err(FileError::at_line(
                        line_at(&reader),
                        format!("the document ends inside <{open}>"),
                    ));
                }
                break;
            }
        }
    }
    if !seen_namespace {
        return Err(FileError::whole(
            "not a CAMT.053 document (its root must be a Document in the urn:iso:std:iso:20022:tech:xsd:camt.053 namespace)",
        ));
    }
    if accounts.len() > 1 {
        return Err(FileError::whole(format!(
            "the file holds statements of {} accounts ({}); import one account's file at a time",
            accounts.len(),
            accounts.join(", ")
        )));
    }
    statement.account = accounts.pop();
    if let (Some(from), Some(to)) = period {
        statement.period = Some((from, to));
    }
    Ok(statement)
}

/// Line numbers of positions in the file, counted forward from the last one asked for (a
/// reader only moves forward), so numbering every element costs one pass over the file.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, position: usize) -> u64 {
        let position = position.min(self.bytes.len());
        if position > self.at {
            self.line += self.bytes[self.at..position]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.at = position;
        }
        self.line
    }
}

fn local_name(start: &BytesStart) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

/// Whether the root element is a camt.053 `Document` (by its default or prefixed namespace).
fn is_camt053(start: &BytesStart) -> bool {
    local_name(start) == "Document"
        && start.attributes().flatten().any(|a| {
            let key = a.key.as_ref();
            (key == b"xmlns" || key.starts_with(b"xmlns:"))
                && a.value
                    .starts_with(b"urn:iso:std:iso:20022:tech:xsd:camt.053")
        })
}

/// Takes what an element that just ended says, by where it is.
fn leaf(
    path: &[String],
    value: &str,
    line: u64,
    entry: &mut Option<Entry>,
    accounts: &mut Vec<String>,
    statement: &mut Statement,
    period: &mut (Option<NaiveDate>, Option<NaiveDate>),
) -> Result<(), FileError> {
    let ends = |suffix: &[&str]| {
        path.len() >= suffix.len()
            && path[path.len() - suffix.len()..]
                .iter()
                .zip(suffix)
                .all(|(a, b)| a == b)
    };
    // An xs:decimal: digits and at most one `.`, never grouped, never negative (the direction
    // is CdtDbtInd's); a `,` is an error, not a guess.
    let amount = |what: &str| match parse_plain_amount(value) {
        Ok(amount) if amount >= Decimal::ZERO => Ok(amount),
        Ok(_) => Err(FileError::at_line(
            line,
            format!("{what} `{value}` is negative (CdtDbtInd gives the direction)"),
        )),
        Err(reason) => Err(FileError::at_line(
            line,
            format!("{what} `{value}` {reason}"),
        )),
    };
    if value.is_empty() {
        return Ok(());
    }
    let Some(current) = entry.as_mut() else {
        if ends(&["Stmt", "Acct", "Id", "IBAN"]) || ends(&["Stmt", "Acct", "Id", "Othr", "Id"]) {
            if !accounts.iter().any(|a| a == value) {
                accounts.push(value.to_owned());
            }
        } else if ends(&["Stmt", "Acct", "Ccy"]) {
            statement.currency = Some(value.to_ascii_uppercase());
        } else if ends(&["Stmt", "FrToDt", "FrDtTm"]) || ends(&["Stmt", "FrToDt", "FrDt"]) {
            period.0 = Some(date(value, line)?);
        } else if ends(&["Stmt", "FrToDt", "ToDtTm"]) || ends(&["Stmt", "FrToDt", "ToDt"]) {
            period.1 = Some(date(value, line)?);
        }
        return Ok(());
    };
    let detail = current.details.last_mut();
    if ends(&["Ntry", "Amt"]) {
        current.amount = Some(amount("Ntry/Amt")?);
    } else if ends(&["Ntry", "CdtDbtInd"]) {
        current.credit = Some(credit(value, line)?);
    } else if ends(&["Ntry", "Sts"]) || ends(&["Ntry", "Sts", "Cd"]) {
        current.status = Some(value.to_owned());
    } else if ends(&["Ntry", "BookgDt", "Dt"]) || ends(&["Ntry", "BookgDt", "DtTm"]) {
        current.booked = Some(date(value, line)?);
    } else if ends(&["Ntry", "ValDt", "Dt"]) || ends(&["Ntry", "ValDt", "DtTm"]) {
        current.value = Some(date(value, line)?);
    } else if ends(&["Ntry", "NtryRef"]) {
        current.reference = Some(value.to_owned());
    } else if ends(&["Ntry", "AcctSvcrRef"]) {
        current.account_reference = Some(value.to_owned());
    } else if ends(&["Ntry", "AddtlNtryInf"]) {
        current.info = Some(value.to_owned());
    } else if let Some(detail) = detail {
        if ends(&["TxDtls", "AmtDtls", "TxAmt", "Amt"]) || ends(&["TxDtls", "Amt"]) {
            detail.amount = Some(amount("TxDtls amount")?);
        } else if ends(&["TxDtls", "CdtDbtInd"]) {
            detail.credit = Some(credit(value, line)?);
        } else if ends(&["TxDtls", "Refs", "AcctSvcrRef"]) {
            detail.reference = Some(value.to_owned());
        } else if ends(&["TxDtls", "Refs", "EndToEndId"]) {
            detail.end_to_end = Some(value.to_owned()).filter(|v| v != "NOTPROVIDED");
        } else if ends(&["RltdPties", "Cdtr", "Nm"]) || ends(&["RltdPties", "Cdtr", "Pty", "Nm"]) {
            detail.creditor = Some(value.to_owned());
        } else if ends(&["RltdPties", "Dbtr", "Nm"]) || ends(&["RltdPties", "Dbtr", "Pty", "Nm"]) {
            detail.debtor = Some(value.to_owned());
        } else if ends(&["RmtInf", "Ustrd"]) {
            detail.remittance.push(value.to_owned());
        }
    }
    Ok(())
}

fn credit(value: &str, line: u64) -> Result<bool, FileError> {
    match value {
        "CRDT" => Ok(true),
        "DBIT" => Ok(false),
        _ => Err(FileError::at_line(
            line,
            format!("CdtDbtInd `{value}` is neither CRDT nor DBIT"),
        )),
    }
}

fn date(value: &str, line: u64) -> Result<NaiveDate, FileError> {
    value
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| FileError::at_line(line, format!("`{value}` is not an ISO date")))
}

/// One entry's statement entries: one per transaction detail when the details carry their own
/// amounts in the entry's currency and these add up to the booked amount (a batch), else the
/// entry itself with its booked amount. A batch whose details do not add up, or give an amount
/// in another currency (the instructed amount of a payment abroad), would put a different sum
/// on the wallet than the bank booked; one movement of the booked amount keeps the balance
/// right and loses only the split into transactions.
fn finish(entry: Entry, statement: &mut Statement) -> Result<(), FileError> {
    let at = |message: &str| FileError {
        at: format!("<Ntry> at line {}", entry.line),
        message: message.to_owned(),
    };
    if entry.status.as_deref().is_some_and(|s| s != "BOOK") {
        return Ok(());
    }
    if let (Some(currency), Some(statement_currency)) = (&entry.currency, &statement.currency) {
        if currency != statement_currency {
            return Err(at(&format!(
                "an entry in {currency} on a statement in {statement_currency}"
            )));
        }
    }
    let date = entry
        .booked
        .or(entry.value)
        .ok_or_else(|| at("neither BookgDt nor ValDt"))?;
    let total = entry.amount.ok_or_else(|| at("no Amt"))?;
    let entry_credit = entry.credit.ok_or_else(|| at("no CdtDbtInd"))?;
    let base_id = entry.account_reference.clone().or(entry.reference.clone());
    let signed = |amount: Decimal, credit: bool| if credit { amount } else { -amount };
    let currency = entry.currency.as_ref().or(statement.currency.as_ref());
    let detail_amounts: Option<Vec<Decimal>> = entry
        .details
        .iter()
        .map(|d| {
            let same_currency =
                d.currency.is_none() || currency.is_none() || d.currency.as_ref() == currency;
            d.amount
                .filter(|_| same_currency)
                .map(|a| signed(a, d.credit.unwrap_or(entry_credit)))
        })
        .collect();
    let batched = entry.details.len() > 1
        && detail_amounts
            .is_some_and(|amounts| amounts.iter().sum::<Decimal>() == signed(total, entry_credit));
    let describe = |detail: Option<&Detail>, credit: bool| {
        let payee = detail.and_then(|d| {
            if credit {
                d.debtor.clone()
            } else {
                d.creditor.clone()
            }
        });
        let memo = detail
            .map(|d| d.remittance.join(" "))
            .filter(|m| !m.is_empty())
            .or(entry.info.clone());
        (payee, memo)
    };
    if batched {
        for (index, detail) in entry.details.iter().enumerate() {
            let credit = detail.credit.unwrap_or(entry_credit);
            let (payee, memo) = describe(Some(detail), credit);
            let id = detail
                .reference
                .clone()
                .or_else(|| base_id.as_ref().map(|b| format!("{b}/{}", index + 1)))
                .or(detail.end_to_end.clone());
            statement.entries.push(StatementEntry {
                line: entry.line,
                date,
                amount: signed(detail.amount.unwrap_or_default(), credit),
                payee,
                memo,
                external_id: id,
                category: None,
            });
        }
    } else {
        // The counterparty of one transaction of several is not the whole entry's.
        let detail = entry.details.first().filter(|_| entry.details.len() == 1);
        let (payee, memo) = describe(detail, entry_credit);
        statement.entries.push(StatementEntry {
            line: entry.line,
            date,
            amount: signed(total, entry_credit),
            payee,
            memo,
            external_id: base_id.or(detail.and_then(|d| d.reference.clone())),
            category: None,
        });
    }
    Ok(())
}

/// The text of an XML reference between elements' text: a character (`&#233;`) or one of the
/// five predefined entities (`&amp;`); `None` for any other (XML files here declare none).
pub fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    match reference.resolve_char_ref() {
        Ok(Some(ch)) => Some(ch.to_string()),
        _ => reference.decode().ok().and_then(|name| {
            quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAMT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<camt:Document xmlns:camt="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <camt:BkToCstmrStmt>
  <camt:GrpHdr><camt:MsgId>M1</camt:MsgId></camt:GrpHdr>
  <camt:Stmt>
   <camt:Id>S1</camt:Id>
   <camt:FrToDt><camt:FrDtTm>2026-03-01T00:00:00</camt:FrDtTm><camt:ToDtTm>2026-03-31T23:59:59</camt:ToDtTm></camt:FrToDt>
   <camt:Acct><camt:Id><camt:IBAN>DE89370400440532013000</camt:IBAN></camt:Id><camt:Ccy>EUR</camt:Ccy></camt:Acct>
   <camt:Ntry>
    <camt:Amt Ccy="EUR">64.90</camt:Amt><camt:CdtDbtInd>DBIT</camt:CdtDbtInd><camt:Sts>BOOK</camt:Sts>
    <camt:BookgDt><camt:Dt>2026-03-04</camt:Dt></camt:BookgDt>
    <camt:AcctSvcrRef>REF-0001</camt:AcctSvcrRef>
    <camt:NtryDtls><camt:TxDtls>
     <camt:RltdPties><camt:Cdtr><camt:Nm>Stadtwerke M&#252;nchen</camt:Nm></camt:Cdtr></camt:RltdPties>
     <camt:RmtInf><camt:Ustrd>Strom M&#228;rz &amp; Gas</camt:Ustrd></camt:RmtInf>
    </camt:TxDtls></camt:NtryDtls>
   </camt:Ntry>
   <camt:Ntry>
    <camt:Amt Ccy="EUR">300.00</camt:Amt><camt:CdtDbtInd>CRDT</camt:CdtDbtInd><camt:Sts>BOOK</camt:Sts>
    <camt:BookgDt><camt:Dt>2026-03-10</camt:Dt></camt:BookgDt>
    <camt:AcctSvcrRef>REF-0002</camt:AcctSvcrRef>
    <camt:NtryDtls>
     <camt:TxDtls><camt:AmtDtls><camt:TxAmt><camt:Amt Ccy="EUR">100.00</camt:Amt></camt:TxAmt></camt:AmtDtls>
      <camt:RltdPties><camt:Dbtr><camt:Nm>Anna</camt:Nm></camt:Dbtr></camt:RltdPties></camt:TxDtls>
     <camt:TxDtls><camt:AmtDtls><camt:TxAmt><camt:Amt Ccy="EUR">200.00</camt:Amt></camt:TxAmt></camt:AmtDtls>
      <camt:RltdPties><camt:Dbtr><camt:Nm>Ben</camt:Nm></camt:Dbtr></camt:RltdPties></camt:TxDtls>
    </camt:NtryDtls>
   </camt:Ntry>
   <camt:Ntry>
    <camt:Amt Ccy="EUR">5.00</camt:Amt><camt:CdtDbtInd>DBIT</camt:CdtDbtInd><camt:Sts>PDNG</camt:Sts>
    <camt:BookgDt><camt:Dt>2026-03-31</camt:Dt></camt:BookgDt>
   </camt:Ntry>
  </camt:Stmt>
 </camt:BkToCstmrStmt>
</camt:Document>"#;

    #[test]
    fn prefixed_namespaces_and_batched_entries() {
        let statement = parse(CAMT.as_bytes()).unwrap();
        assert_eq!(statement.account.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(statement.currency.as_deref(), Some("EUR"));
        assert_eq!(
            statement.entries.len(),
            3,
            "the batch is two, the pending entry none"
        );
        let power = &statement.entries[0];
        assert_eq!(power.amount, "-64.90".parse().unwrap());
        assert_eq!(power.payee.as_deref(), Some("Stadtwerke München"));
        assert_eq!(power.memo.as_deref(), Some("Strom März & Gas"));
        assert_eq!(power.external_id.as_deref(), Some("REF-0001"));
        assert_eq!(power.line, 9);
        let (anna, ben) = (&statement.entries[1], &statement.entries[2]);
        assert_eq!(
            (anna.amount, ben.amount),
            ("100".parse().unwrap(), "200".parse().unwrap())
        );
        assert_eq!(anna.payee.as_deref(), Some("Anna"));
        assert_eq!(ben.external_id.as_deref(), Some("REF-0002/2"));
        assert_eq!(statement.period.unwrap().1.to_string(), "2026-03-31");
    }

    #[test]
    fn hostile_and_broken_files_are_refused() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol2;</Document>"#;
        assert!(parse(laughs.as_bytes())
            .unwrap_err()
            .message
            .contains("document type"));
        let undeclared = CAMT.replace("Strom M&#228;rz", "&lol9;");
        assert!(parse(undeclared.as_bytes())
            .unwrap_err()
            .message
            .contains("&lol9;"));
        let bad_amount = CAMT.replace(">64.90<", ">sixty<");
        let error = parse(bad_amount.as_bytes()).unwrap_err();
        assert_eq!(error.at, "line 10");
        let unclosed = CAMT.replace("</camt:BkToCstmrStmt>", "");
        assert!(parse(unclosed.as_bytes()).is_err());
        let other = CAMT.replace("camt.053.001.02", "camt.052.001.02");
        assert!(parse(other.as_bytes()).is_err());
        let no_indicator = CAMT.replace(
            "<camt:CdtDbtInd>DBIT</camt:CdtDbtInd><camt:Sts>BOOK",
            "<camt:Sts>BOOK",
        );
        assert!(parse(no_indicator.as_bytes())
            .unwrap_err()
            .message
            .contains("CdtDbtInd"));
    }

    #[test]
    fn amounts_are_xml_schema_decimals_three_decimals_included() {
        let dinars = CAMT.replace(">64.90<", ">1.005<");
        let statement = parse(dinars.as_bytes()).unwrap();
        assert_eq!(statement.entries[0].amount, "-1.005".parse().unwrap());
        for bad in [
            "1,005",
            "1,234.50",
            "1 000.00",
            "1.2.3",
            "-5.00",
            "12345678901234567890",
        ] {
            let file = CAMT.replace(">64.90<", &format!(">{bad}<"));
            let error = parse(file.as_bytes()).unwrap_err();
            assert_eq!(error.at, "line 10", "{bad}");
            assert!(error.message.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn a_batch_that_does_not_add_up_is_one_movement_of_the_booked_amount() {
        let short = CAMT.replace(
            r#"<camt:Amt Ccy="EUR">200.00</camt:Amt>"#,
            r#"<camt:Amt Ccy="EUR">250.00</camt:Amt>"#,
        );
        let statement = parse(short.as_bytes()).unwrap();
        assert_eq!(statement.entries.len(), 2);
        let batch = &statement.entries[1];
        assert_eq!(batch.amount, "300".parse().unwrap());
        assert_eq!(
            batch.payee, None,
            "no one transaction's debtor stands for all"
        );
        assert_eq!(batch.external_id.as_deref(), Some("REF-0002"));

        // An amount in another currency (what was instructed abroad) is not the account's.
        let foreign = CAMT.replace(
            r#"<camt:Amt Ccy="EUR">200.00</camt:Amt>"#,
            r#"<camt:Amt Ccy="USD">200.00</camt:Amt>"#,
        );
        let statement = parse(foreign.as_bytes()).unwrap();
        assert_eq!(statement.entries.len(), 2);
        assert_eq!(statement.entries[1].amount, "300".parse().unwrap());

        // A detail that goes the other way counts against the sum: 350 in, 50 back out.
        let returned = CAMT
            .replace(
                r#"<camt:Amt Ccy="EUR">100.00</camt:Amt>"#,
                r#"<camt:Amt Ccy="EUR">350.00</camt:Amt>"#,
            )
            .replace(
                r#"<camt:Amt Ccy="EUR">200.00</camt:Amt></camt:TxAmt></camt:AmtDtls>"#,
                r#"<camt:Amt Ccy="EUR">50.00</camt:Amt></camt:TxAmt></camt:AmtDtls><camt:CdtDbtInd>DBIT</camt:CdtDbtInd>"#,
            );
        let statement = parse(returned.as_bytes()).unwrap();
        let amounts: Vec<String> = statement.entries[1..]
            .iter()
            .map(|e| e.amount.to_string())
            .collect();
        assert_eq!(amounts, ["350.00", "-50.00"]);
    }

    #[test]
    fn a_windows_1252_file_reads_its_characters() {
        let mut file = CAMT
            .replace("encoding=\"UTF-8\"", "encoding=\"windows-1252\"")
            .replace("Stadtwerke M&#252;nchen", "McDonald_s _")
            .into_bytes();
        let at = file.windows(12).position(|w| w == b"McDonald_s _").unwrap();
        file[at + 8] = 0x92;
        file[at + 11] = 0x80;
        let statement = parse(&file).unwrap();
        assert_eq!(
            statement.entries[0].payee.as_deref(),
            Some("McDonald\u{2019}s \u{20AC}")
        );
        assert_eq!(statement.entries[0].line, 9);
    }
}
