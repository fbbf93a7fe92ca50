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
/// The most rows (headers included) a workbook may have.
pub const MAX_ROWS: u32 = 200_001;
/// The most columns read of each row: the template has 12.
const MAX_COLUMNS: u32 = 64;
/// The sheet read when a workbook has one of this name (the template's); else every sheet.
pub const SHEET: &str = "Transactions";

/// What a table of transactions reads as: its rows, and its lines that are not.
pub type Table = (Vec<ImportRow>, Vec<LineError>);

/// Whether the bytes are a zip archive (what an xlsx file is).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads the transactions of a workbook: its `Transactions` sheet when it has one (the
/// template's), else every sheet (the export's one sheet per wallet). A sheet's header row is
/// its first non-empty row, and each later non-empty row is a transaction or an error naming
/// its row number (and its sheet, where there are several).
pub fn read_transactions(bytes: &[u8]) -> Result<Table, FileError> {
    check_archive(bytes)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| FileError::whole(format!("not a readable xlsx workbook: {e}")))?;
    let names = workbook.sheet_names();
    let sheets: Vec<String> = match names.iter().find(|n| n.eq_ignore_ascii_case(SHEET)) {
        Some(name) => vec![name.clone()],
        None => names.clone(),
    };
    if sheets.is_empty() {
        return Err(FileError::whole("the workbook has no sheet"));
    }
    let several = sheets.len() > 1;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut total_rows = 0;
    let mut read = 0;
    for sheet in &sheets {
        let Some((mut sheet_rows, sheet_errors)) =
            read_sheet(&mut workbook, sheet, several, &mut total_rows)?
        else {
            continue;
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

/// One sheet's rows. `lenient`: a sheet that is empty or has no header of transactions is
/// skipped (a workbook of several sheets may have others), not refused.
fn read_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    lenient: bool,
    total_rows: &mut u32,
) -> Result<Option<Table>, FileError> {
    let mut cells = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| FileError::whole(format!("sheet {sheet:?} cannot be read: {e}")))?;
    let mut columns: Option<Columns> = None;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut finish = |row: u32, values: Vec<String>, columns: &mut Option<Columns>| {
        if values.iter().all(|v| v.trim().is_empty()) {
            return Ok(true);
        }
        let line = u64::from(row) + 1;
        match columns {
            None => match Columns::new(values.iter().map(String::as_str)) {
                Ok(found) => *columns = Some(found),
                Err(_) if lenient => return Ok(false),
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
        Ok::<_, FileError>(true)
    };
    loop {
        let cell = cells.next_cell().map_err(|e| {
            FileError::whole(format!("sheet {sheet:?} cannot be read further: {e}"))
        })?;
        let Some(cell) = cell else { break };
        let (row, column) = cell.get_position();
        if column >= MAX_COLUMNS {
            continue;
        }
        let value = text_of(cell.get_value());
        match &mut current {
            Some((at, values)) if *at == row => put(values, column, value),
            _ => {
                *total_rows += 1;
                if *total_rows > MAX_ROWS {
                    return Err(FileError::at_line(
                        u64::from(row) + 1,
                        format!(
                            "sheet {sheet:?}: the workbook has more than {MAX_ROWS} rows; split it into files of at most {} transactions",
                            MAX_ROWS - 1
                        ),
                    ));
                }
                if let Some((at, values)) = current.take() {
                    if !finish(at, values, &mut columns)? {
                        return Ok(None);
                    }
                }
                let mut values = Vec::new();
                put(&mut values, column, value);
                current = Some((row, values));
            }
        }
    }
    if let Some((at, values)) = current.take() {
        if !finish(at, values, &mut columns)? {
            return Ok(None);
        }
    }
    if columns.is_none() {
        if lenient {
            return Ok(None);
        }
        return Err(FileError::whole(format!("sheet {sheet:?} is empty")));
    }
    Ok(Some((rows, errors)))
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
        DataRef::Float(f) => f.to_string(),
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

    #[test]
    fn bytes_that_are_not_a_workbook_are_refused() {
        let error = read_transactions(b"PK\x03\x04 not really").expect_err("refused");
        assert!(error.message.contains("not an xlsx"), "{error}");
        let error = read_transactions(&zip_of(&[("hello.txt", b"hi")])).expect_err("refused");
        assert!(error.message.contains("not a readable xlsx"), "{error}");
    }
}
