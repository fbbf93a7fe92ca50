//! Files out: the transactions as an xlsx workbook (beside the CSV export of
//! [`super::csv`]), the import template, and a report in its PDF or xlsx form.

use std::collections::HashMap;

use diesel::PgConnection;
use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook, XlsxError};
use uuid::Uuid;

use super::caller::Caller;
use super::csv::ExportSink;
use crate::db::transactions::TransactionView;
use crate::db::{categories, users, wallets};
use crate::domain::csv_import::EXPORT_HEADER;
use crate::domain::spreadsheet::SHEET;
use crate::domain::user::is_language_tag;
use crate::dto::reports::{ReportFormat, ReportFormatQuery};
use crate::error::ApiError;
use crate::export::xlsx::{money_format, number, Formats};
use crate::export::{pdf, xlsx, Document, Locale};

/// A file to answer with.
pub struct File {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
}

fn xlsx_error(e: XlsxError) -> ApiError {
    ApiError::internal(format!("cannot write the workbook: {e}"))
}

/// How numbers and dates read for the caller: `locale` when given (a BCP 47 tag, else 422),
/// else the account's language.
pub fn locale_of(
    conn: &mut PgConnection,
    caller: &Caller,
    locale: Option<&str>,
) -> Result<Locale, ApiError> {
    match locale {
        Some(tag) if is_language_tag(tag) => Ok(Locale::of(tag)),
        Some(_) => Err(ApiError::invalid_field(
            "locale",
            "must be a BCP 47 language tag such as en or vi-VN",
        )),
        None => Ok(Locale::of(
            &users::find(conn, caller.id)?
                .map(|u| u.language)
                .unwrap_or_else(|| "en".into()),
        )),
    }
}

/// A report as the file asked for: `None` for JSON (the caller answers with the envelope),
/// else the document `build` makes, rendered.
pub fn report_file(
    conn: &mut PgConnection,
    caller: &Caller,
    query: &ReportFormatQuery,
    build: impl FnOnce() -> Document,
) -> Result<Option<File>, ApiError> {
    let format = query.format.unwrap_or_default();
    if format == ReportFormat::Json {
        return Ok(None);
    }
    let locale = locale_of(conn, caller, query.locale.as_deref())?;
    let document = build();
    Ok(Some(match format {
        ReportFormat::Pdf => File {
            bytes: pdf::render(&document, &locale).map_err(ApiError::internal)?,
            content_type: pdf::CONTENT_TYPE,
            extension: "pdf",
        },
        _ => File {
            bytes: xlsx::report(&document, &locale).map_err(xlsx_error)?,
            content_type: xlsx::CONTENT_TYPE,
            extension: "xlsx",
        },
    }))
}

/// The export's workbook: the CSV's columns with typed cells (the date a date, the amount a
/// number in its currency's format), a frozen header with a filter, on one sheet or one sheet
/// per wallet. Rows go to temporary files as they are written (rust_xlsxwriter's constant
/// memory mode), so a large export holds the zipped file in memory, not its cells.
pub struct XlsxSink {
    workbook: Workbook,
    formats: Formats,
    per_wallet: bool,
    /// Sheet index and last row written, per wallet (or one entry under `Uuid::nil()`).
    sheets: HashMap<Uuid, (usize, u32)>,
    /// Sheets made so far.
    made: usize,
    wallet_names: HashMap<Uuid, String>,
}

impl XlsxSink {
    pub fn new(per_wallet: bool, currency: &str, locale: Locale) -> XlsxSink {
        XlsxSink {
            workbook: Workbook::new(),
            formats: Formats::new(currency, &locale),
            per_wallet,
            sheets: HashMap::new(),
            made: 0,
            wallet_names: HashMap::new(),
        }
    }

    /// The sheet a row goes on (made, with its header, on first use, and again when a sheet
    /// reaches Excel's last row: `Transactions (2)`...).
    fn sheet_for(&mut self, wallet: Uuid) -> Result<(usize, u32), XlsxError> {
        let key = if self.per_wallet { wallet } else { Uuid::nil() };
        if let Some((index, row)) = self.sheets.get_mut(&key) {
            if *row < LAST_ROW {
                *row += 1;
                return Ok((*index, *row));
            }
        }
        let index = self.made;
        self.made += 1;
        let name = if self.per_wallet {
            sheet_name(
                self.wallet_names
                    .get(&wallet)
                    .map_or("Wallet", String::as_str),
                index,
            )
        } else if index == 0 {
            SHEET.to_owned()
        } else {
            format!("{SHEET} ({})", index + 1)
        };
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (column, title) in EXPORT_HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, *title, &self.formats.header)?;
            sheet.set_column_width(column as u16, column_width(title))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        self.sheets.insert(key, (index, 1));
        Ok((index, 1))
    }
}

/// Excel's last row (counted from 0): a sheet holds the header and 1,048,575 transactions.
const LAST_ROW: u32 = 1_048_575;

fn column_width(title: &str) -> f64 {
    match title {
        "description" | "notes" | "splits" => 32.0,
        "category" | "merchant" | "wallet" | "to_wallet" | "tags" => 18.0,
        _ => 12.0,
    }
}

/// A sheet name from a wallet's: at most 31 characters, none of `[]:*?/\`, and unique (the
/// sheet's number is added).
fn sheet_name(wallet: &str, index: usize) -> String {
    let clean: String = wallet
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    let suffix = format!(" ({})", index + 1);
    let room = 31 - suffix.chars().count();
    let base: String = clean.chars().take(room).collect();
    format!("{}{suffix}", if base.is_empty() { "Wallet" } else { &base })
}

impl ExportSink for XlsxSink {
    fn begin(&mut self, wallets: &HashMap<Uuid, String>) -> Result<(), ApiError> {
        self.wallet_names = wallets.clone();
        Ok(())
    }

    fn row(
        &mut self,
        view: &TransactionView,
        cells: [String; EXPORT_HEADER.len()],
    ) -> Result<(), ApiError> {
        let (index, row) = self.sheet_for(view.wallet_id).map_err(xlsx_error)?;
        let date_format = &self.formats.date;
        let sheet = self
            .workbook
            .worksheet_from_index(index)
            .map_err(xlsx_error)?;
        for (column, (title, text)) in EXPORT_HEADER.iter().zip(cells.iter()).enumerate() {
            let column = column as u16;
            match *title {
                "date" => sheet.write_datetime_with_format(row, column, view.date, date_format),
                "amount" => sheet.write_number_with_format(
                    row,
                    column,
                    number(view.amount),
                    &money_format(view.amount, &view.currency),
                ),
                "tax_rate" => match view.tax_rate {
                    Some(rate) => sheet.write_number(row, column, number(rate)),
                    None => continue,
                },
                _ if text.is_empty() => continue,
                _ => sheet.write_string(row, column, text),
            }
            .map_err(xlsx_error)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Vec<u8>, ApiError> {
        if self.sheets.is_empty() {
            self.sheet_for(Uuid::nil()).map_err(xlsx_error)?;
        }
        self.workbook.save_to_buffer().map_err(xlsx_error)
    }
}

/// The import template (seed 004's "Excel template import"): a `Transactions` sheet with the
/// import's columns, lists to pick the type, category and wallet from (the ledger's own), a
/// sample row to overwrite, and a sheet of instructions. What `POST /imports` reads back.
pub fn template(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<u8>, ApiError> {
    let wallets = wallets::all(conn, caller.ledger.id)?;
    let categories = categories::all(conn, caller.ledger.id)?;
    let mut wallet_names: Vec<&str> = wallets
        .iter()
        .filter(|w| !w.archived)
        .map(|w| w.name.as_str())
        .collect();
    wallet_names.sort_unstable();
    wallet_names.dedup();
    let mut category_names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    category_names.sort_unstable();
    category_names.dedup();
    build_template(&wallet_names, &category_names, caller.currency.as_str()).map_err(xlsx_error)
}

/// The rows the template's lists and checks cover.
const TEMPLATE_ROWS: u32 = 10_000;

fn build_template(
    wallets: &[&str],
    categories: &[&str],
    currency: &str,
) -> Result<Vec<u8>, XlsxError> {
    let locale = Locale::of("en");
    let formats = Formats::new(currency, &locale);
    let iso_date = Format::new().set_num_format("yyyy-mm-dd");
    let amount = Format::new().set_num_format("#,##0.00##");
    let mut workbook = Workbook::new();
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name(SHEET)?;
        for (column, title) in EXPORT_HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, *title, &formats.header)?;
            sheet.set_column_width(column as u16, column_width(title))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let column = |name: &str| EXPORT_HEADER.iter().position(|c| *c == name).unwrap_or(0) as u16;
        let list = |name: &str, rows: usize, title: &str| -> Result<DataValidation, XlsxError> {
            DataValidation::new()
                .allow_list_formula(Formula::new(format!(
                    "=Lists!${name}$2:${name}${}",
                    rows.max(1) + 1
                )))
                .ignore_blank(true)
                .set_input_title(title)
        };
        sheet.add_data_validation(
            1,
            column("type"),
            TEMPLATE_ROWS,
            column("type"),
            &DataValidation::new()
                .allow_list_strings(&["expense", "income", "transfer"])?
                .set_error_message("expense, income or transfer")?,
        )?;
        if !categories.is_empty() {
            sheet.add_data_validation(
                1,
                column("category"),
                TEMPLATE_ROWS,
                column("category"),
                &list("A", categories.len(), "A category of yours")?,
            )?;
        }
        if !wallets.is_empty() {
            for name in ["wallet", "to_wallet"] {
                sheet.add_data_validation(
                    1,
                    column(name),
                    TEMPLATE_ROWS,
                    column(name),
                    &list("B", wallets.len(), "A wallet of yours")?,
                )?;
            }
        }
        sheet.set_column_format(column("date"), &iso_date)?;
        sheet.set_column_format(column("amount"), &amount)?;
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("Lists")?;
        sheet.write_string_with_format(0, 0, "categories", &formats.header)?;
        sheet.write_string_with_format(0, 1, "wallets", &formats.header)?;
        for (i, name) in categories.iter().enumerate() {
            sheet.write_string(i as u32 + 1, 0, *name)?;
        }
        for (i, name) in wallets.iter().enumerate() {
            sheet.write_string(i as u32 + 1, 1, *name)?;
        }
        sheet.set_column_width(0, 28)?;
        sheet.set_column_width(1, 28)?;
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("Instructions")?;
        sheet.set_column_width(0, 14)?;
        sheet.set_column_width(1, 90)?;
        sheet.write_string_with_format(0, 0, "FinAI import template", &formats.title)?;
        let lines: [(&str, &str); 12] = [
            ("date", "Required. A date cell, or text as YYYY-MM-DD or MM/DD/YYYY."),
            ("type", "expense, income or transfer (default: by the amount's sign)."),
            ("amount", "Required. A number: positive with a type, or signed (negative is an expense)."),
            ("currency", "Optional; must be the wallet's currency."),
            ("description", "Required. Up to 255 characters."),
            ("category", "One of your categories (the list), or Parent > Child. Empty: FinAI suggests one."),
            ("splits", "For a split: Groceries=30; Household=20 (category=amount, adding up to the amount)."),
            ("merchant", "Optional."),
            ("notes", "Optional."),
            ("wallet", "One of your wallets (the list); else name one with ?wallet_id= on the import."),
            ("to_wallet", "A transfer's receiving wallet."),
            ("tags", "Separated by ;"),
        ];
        for (i, (name, text)) in lines.iter().enumerate() {
            sheet.write_string_with_format(i as u32 + 2, 0, *name, &formats.header)?;
            sheet.write_string(i as u32 + 2, 1, *text)?;
        }
        sheet.write_string(
            16,
            1,
            "Send the file to POST /api/v1/imports. Rows that are wrong are reported by row number; the others are imported, pending review.",
        )?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spreadsheet::read_transactions;

    #[test]
    fn sheet_names_are_legal_and_unique() {
        assert_eq!(sheet_name("Cash", 0), "Cash (1)");
        assert_eq!(sheet_name("a/b:c", 1), "a b c (2)");
        assert_eq!(sheet_name("", 2), "Wallet (3)");
        let long = sheet_name(&"x".repeat(80), 9);
        assert_eq!(long.chars().count(), 31);
    }

    #[test]
    fn the_template_reads_back_as_an_empty_import_with_its_header() {
        let bytes =
            build_template(&["Cash", "Visa"], &["Groceries", "Ăn uống"], "VND").expect("template");
        // Header only: no rows, no errors.
        let (rows, errors) = read_transactions(&bytes).expect("reads");
        assert!(rows.is_empty() && errors.is_empty(), "{rows:?} {errors:?}");
    }
}
