//! Transactions in an Excel workbook (`.xlsx`): reading one (the import template's columns, the
//! CSV format's names), with the limits that keep a hostile file from costing more than a fair
//! one. Writing them is `services::exports`.
//!
//! An xlsx file is a zip archive of XML parts, so a small file can stand for a huge one (a zip
//! bomb). Before anything is parsed, every part is inflated into a counter, not into memory:
//! more than [`MAX_INFLATED`] bytes in all, or more than [`MAX_PARTS`] parts, refuses the file
//! whatever the archive's directory claims. The sheets are then read cell by cell (calamine's
//! streaming reader), never as a whole grid, and a workbook of more than [`MAX_ROWS`] rows is
//! refused when its reading gets there.

use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};

use super::csv_import::{Columns, ImportRow, LineError};
use super::statement::FileError;

/// The most bytes the parts of one workbook may inflate to.
pub const MAX_INFLATED: u64 = 256 * 1024 * 1024;
/// The most parts (files inside the zip) a workbook may have.
pub const MAX_PARTS: usize = 1_000;
/// The most non-empty rows (headers included) a workbook may have.
pub const MAX_ROWS: u32 = 200_001;
/// The most cells (empty, formatted-only and unread ones included) a workbook may have.
pub const MAX_CELLS: u64 = 4_000_000;
/// The most text its cells may come to in all: a shared string is text again each time a cell
/// uses it, so a small file could otherwise stand for gigabytes of cell text.
pub const MAX_TEXT: usize = 64 * 1024 * 1024;
/// The longest text of one cell (Excel's own limit).
pub const MAX_CELL_TEXT: usize = 32_767;
/// The most sheets read.
pub const MAX_SHEETS: usize = 64;
/// The most columns read of each row: the template has 12.
const MAX_COLUMNS: u32 = 64;

/// What the sheets read so far have used of the limits above.
#[derive(Default)]
struct Budget {
    rows: u32,
    cells: u64,
    text: usize,
}
/// The sheet read when a workbook has one of this name (the template's); else every sheet.
pub const SHEET: &str = "Transactions";

/// What a table of transactions reads as: its rows, and its lines that are not.
pub type Table = (Vec<ImportRow>, Vec<LineError>);

/// Whether the bytes are a zip archive (what an xlsx file is).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads the transactions of a workbook: its `Transactions` sheet when it has one (the
/// template's, with the export's continuations `Transactions (2)`... past Excel's last row),
/// else every sheet (the export's one sheet per wallet). A sheet's header row is
/// its first non-empty row, and each later non-empty row is a transaction or an error naming
/// its row number (and its sheet, where there are several).
pub fn read_transactions(bytes: &[u8]) -> Result<Table, FileError> {
    check_archive(bytes)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| FileError::whole(format!("not a readable xlsx workbook: {e}")))?;
    let names = workbook.sheet_names();
    // The template's sheet, and the export's continuation sheets (`Transactions (2)`...).
    let ours: Vec<String> = names
        .iter()
        .filter(|n| {
            n.eq_ignore_ascii_case(SHEET)
                || n.get(..SHEET.len() + 2)
                    .is_some_and(|head| head.eq_ignore_ascii_case(&format!("{SHEET} (")))
        })
        .cloned()
        .collect();
    let sheets = if ours.is_empty() { names.clone() } else { ours };
    if sheets.is_empty() {
        return Err(FileError::whole("the workbook has no sheet"));
    }
    if sheets.len() > MAX_SHEETS {
        return Err(FileError::whole(format!(
            "the workbook has {} sheets, more than {MAX_SHEETS}",
            sheets.len()
        )));
    }
    let several = sheets.len() > 1;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut budget = Budget::default();
    let mut read = 0;
    for sheet in &sheets {
        let (mut sheet_rows, sheet_errors) = match read_sheet(
            &mut workbook,
            sheet,
            several,
            &mut budget,
        )? {
            Sheet::Read(table) => table,
            Sheet::Empty => continue,
            Sheet::NoHeader(line) => {
                errors.push(LineError {
                        line,
                        message: format!(
                            "sheet {sheet:?} was not read: its first row is not a header with the columns date, amount and description"
                        ),
                    });
                continue;
            }
        };
        read += 1;
        rows.append(&mut sheet_rows);
        errors.extend(sheet_errors.into_iter().map(|mut e| {
            if several {
                e.message = format!("sheet {sheet:?}: {}", e.message);
            }
            e
        }));
    }
    if read == 0 {
        return Err(FileError::whole(
            "no sheet has a header row with the columns date, amount and description",
        ));
    }
    Ok((rows, errors))
}

/// What became of a sheet.
enum Sheet {
    Read(Table),
    Empty,
    /// Its first non-empty row (this line) is no header of transactions.
    NoHeader(u64),
}

/// One sheet's rows. `lenient`: a sheet that is empty or has no header of transactions is
/// skipped (a workbook of several sheets may have others), not refused.
fn read_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    lenient: bool,
    budget: &mut Budget,
) -> Result<Sheet, FileError> {
    let mut cells = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| FileError::whole(format!("sheet {sheet:?} cannot be read: {e}")))?;
    let mut columns: Option<Columns> = None;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut finish = |row: u32,
                      values: Vec<String>,
                      columns: &mut Option<Columns>,
                      budget: &mut Budget| {
        if values.iter().all(|v| v.trim().is_empty()) {
            return Ok(None);
        }
        let line = u64::from(row) + 1;
        budget.rows += 1;
        if budget.rows > MAX_ROWS {
            return Err(FileError::at_line(
                line,
                format!(
                    "sheet {sheet:?}: the workbook has more than {MAX_ROWS} rows; split it into files of at most {} transactions",
                    MAX_ROWS - 1
                ),
            ));
        }
        match columns {
            None => match Columns::new(values.iter().map(String::as_str)) {
                Ok(found) => *columns = Some(found),
                Err(_) if lenient => return Ok(Some(line)),
                Err(message) => {
                    return Err(FileError::at_line(
                        line,
                        format!("sheet {sheet:?}: {message}"),
                    ))
                }
            },
            Some(columns) => {
                match columns.row(line, |i| values.get(i).map(String::as_str), false) {
                    Ok(row) => rows.push(row),
                    Err(message) => errors.push(LineError { line, message }),
                }
            }
        }
        Ok::<_, FileError>(None)
    };
    loop {
        let cell = cells.next_cell().map_err(|e| {
            FileError::whole(format!("sheet {sheet:?} cannot be read further: {e}"))
        })?;
        let Some(cell) = cell else { break };
        let (row, column) = cell.get_position();
        budget.cells += 1;
        if budget.cells > MAX_CELLS {
            return Err(FileError::at_line(
                u64::from(row) + 1,
                format!("sheet {sheet:?}: the workbook has more than {MAX_CELLS} cells"),
            ));
        }
        if column >= MAX_COLUMNS {
            continue;
        }
        let value = text_of(cell.get_value());
        if value.chars().count() > MAX_CELL_TEXT {
            return Err(FileError::at_line(
                u64::from(row) + 1,
                format!("sheet {sheet:?}: a cell holds more than {MAX_CELL_TEXT} characters"),
            ));
        }
        budget.text += value.len();
        if budget.text > MAX_TEXT {
            return Err(FileError::at_line(
                u64::from(row) + 1,
                format!(
                    "sheet {sheet:?}: the cells hold more than {} MiB of text",
                    MAX_TEXT / (1024 * 1024)
                ),
            ));
        }
        match &mut current {
            Some((at, values)) if *at == row => put(values, column, value),
            _ => {
                if let Some((at, values)) = current.take() {
                    if let Some(line) = finish(at, values, &mut columns, budget)? {
                        return Ok(Sheet::NoHeader(line));
                    }
                }
                let mut values = Vec::new();
                put(&mut values, column, value);
                current = Some((row, values));
            }
        }
    }
    if let Some((at, values)) = current.take() {
        if let Some(line) = finish(at, values, &mut columns, budget)? {
            return Ok(Sheet::NoHeader(line));
        }
    }
    if columns.is_none() {
        if lenient {
            return Ok(Sheet::Empty);
        }
        return Err(FileError::whole(format!("sheet {sheet:?} is empty")));
    }
    Ok(Sheet::Read((rows, errors)))
}

fn put(values: &mut Vec<String>, column: u32, value: String) {
    let column = column as usize;
    if values.len() <= column {
        values.resize(column + 1, String::new());
    }
    values[column] = value;
}

/// A cell as the text the CSV format would hold: a date cell as `YYYY-MM-DD`, a number in the
/// shortest form that reads back to the same value (`12.5`, `-1234.56`).
fn text_of(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        // A formula's result carries binary noise (`=11*1.1` is 12.100000000000001): rounded to
        // 10 places, what any spreadsheet shows, then written shortest.
        DataRef::Float(f) => rust_decimal::Decimal::from_f64_retain(*f)
            .map(|d| d.round_dp(10).normalize().to_string())
            .unwrap_or_else(|| f.to_string()),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        DataRef::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// Inflates every part of the archive into a counter: a workbook whose parts come to more than
/// [`MAX_INFLATED`] bytes, or that has more than [`MAX_PARTS`] of them, is refused before any
/// XML is read. The counts are of what inflates, not of what the directory declares.
fn check_archive(bytes: &[u8]) -> Result<(), FileError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| FileError::whole(format!("not an xlsx workbook (a zip archive): {e}")))?;
    if archive.len() > MAX_PARTS {
        return Err(FileError::whole(format!(
            "the workbook has {} parts, more than {MAX_PARTS}",
            archive.len()
        )));
    }
    let mut left = MAX_INFLATED;
    for i in 0..archive.len() {
        let mut part = archive
            .by_index(i)
            .map_err(|e| FileError::whole(format!("part {i} of the archive: {e}")))?;
        let mut limited = (&mut part).take(left + 1);
        let inflated = std::io::copy(&mut limited, &mut std::io::sink()).map_err(|e| {
            FileError::whole(format!("part {i} of the archive cannot be inflated: {e}"))
        })?;
        if inflated > left {
            return Err(FileError::whole(format!(
                "the workbook inflates to more than {} MiB (a zip bomb?)",
                MAX_INFLATED / (1024 * 1024)
            )));
        }
        left -= inflated;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            writer.start_file(*name, options).expect("start");
            writer.write_all(data).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    #[test]
    fn an_archive_that_inflates_past_the_limit_is_refused_without_being_held() {
        // 300 MiB of zeros deflate to about 300 KiB.
        let zeros = vec![0u8; 300 * 1024 * 1024];
        let bomb = zip_of(&[("xl/sharedStrings.xml", &zeros)]);
        drop(zeros);
        assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
        let error = read_transactions(&bomb).expect_err("refused");
        assert!(error.message.contains("zip bomb"), "{error}");
    }

    #[test]
    fn an_archive_with_too_many_parts_is_refused() {
        let names: Vec<String> = (0..=MAX_PARTS).map(|i| format!("p{i}")).collect();
        let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let error = read_transactions(&zip_of(&parts)).expect_err("refused");
        assert!(error.message.contains("parts"), "{error}");
    }

    fn workbook(fill: impl FnOnce(&mut rust_xlsxwriter::Workbook)) -> Vec<u8> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        fill(&mut workbook);
        workbook.save_to_buffer().expect("saved")
    }

    fn header(sheet: &mut rust_xlsxwriter::Worksheet) {
        for (i, name) in ["date", "amount", "description"].iter().enumerate() {
            sheet.write_string(0, i as u16, *name).expect("cell");
        }
    }

    #[test]
    fn one_shared_string_used_thousands_of_times_cannot_become_gigabytes_of_text() {
        let long = "x".repeat(30_000);
        let bytes = workbook(|w| {
            let sheet = w.add_worksheet();
            header(sheet);
            for row in 1..3_000 {
                sheet.write_string(row, 0, &long).expect("cell");
            }
        });
        assert!(bytes.len() < 200_000, "{}", bytes.len());
        let error = read_transactions(&bytes).expect_err("refused");
        assert!(error.message.contains("MiB of text"), "{error}");
    }

    #[test]
    fn a_formulas_binary_noise_reads_as_the_amount_a_spreadsheet_shows() {
        let bytes = workbook(|w| {
            let sheet = w.add_worksheet();
            header(sheet);
            sheet.write_string(1, 0, "2026-01-02").expect("cell");
            sheet.write_number(1, 1, 11.0 * 1.1).expect("cell");
            sheet.write_string(1, 2, "Lunch").expect("cell");
        });
        let (rows, errors) = read_transactions(&bytes).expect("read");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].amount.to_string(), "12.1");
    }

    #[test]
    fn a_sheet_of_several_without_a_header_is_reported_not_dropped_silently() {
        let bytes = workbook(|w| {
            let first = w.add_worksheet();
            header(first);
            first.write_string(1, 0, "2026-01-02").expect("cell");
            first.write_number(1, 1, -5).expect("cell");
            first.write_string(1, 2, "Tea").expect("cell");
            let second = w.add_worksheet();
            second.write_string(0, 0, "My notes").expect("cell");
            w.add_worksheet(); // empty: nothing to say
        });
        let (rows, errors) = read_transactions(&bytes).expect("read");
        assert_eq!(rows.len(), 1);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].message.contains("\"Sheet2\" was not read"),
            "{errors:?}"
        );
    }

    #[test]
    fn bytes_that_are_not_a_workbook_are_refused() {
        let error = read_transactions(b"PK\x03\x04 not really").expect_err("refused");
        assert!(error.message.contains("not an xlsx"), "{error}");
        let error = read_transactions(&zip_of(&[("hello.txt", b"hi")])).expect_err("refused");
        assert!(error.message.contains("not a readable xlsx"), "{error}");
    }
}
