//! Workbooks (`.xlsx`, written by rust_xlsxwriter): a report's document as one sheet with typed
//! cells (amounts as numbers in the currency's format, dates as dates), a frozen header and a
//! native chart; and the formats the transaction export and the import template share.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::{Cell, ChartKind, Document, Locale};
use crate::domain::currency::minor_units;

/// The MIME type of an xlsx workbook.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The cell formats of a workbook in one currency and locale.
pub struct Formats {
    pub header: Format,
    pub title: Format,
    /// The currency of the workbook's plain money cells.
    pub currency: String,
    pub percent: Format,
    pub date: Format,
}

impl Formats {
    pub fn new(currency: &str, locale: &Locale) -> Formats {
        Formats {
            header: Format::new().set_bold().set_background_color("#DDE5F0"),
            title: Format::new().set_bold().set_font_size(14),
            currency: currency.to_owned(),
            percent: Format::new().set_num_format("0.00\" %\""),
            date: Format::new().set_num_format(locale.excel_date_format()),
        }
    }
}

/// The display format of `amount`: `#,##0.00 "USD"` with the currency's minor units, and more
/// decimals when the amount has them (`0.0001 USD`, `1,000.5 VND`), as the PDF prints it: a
/// spreadsheet shows the exact amount, never one rounded by its format. Chosen per cell, so a
/// whole VND amount has no dangling decimal point (which `#,##0.####` would show). The
/// reader's spreadsheet shows its own separators.
pub fn money_format(amount: Decimal, currency: &str) -> Format {
    Format::new().set_num_format(money_num_format(amount, currency))
}

fn money_num_format(amount: Decimal, currency: &str) -> String {
    let places = minor_units(currency).max(amount.normalize().scale().min(4)) as usize;
    let decimals = if places == 0 {
        String::new()
    } else {
        format!(".{}", "0".repeat(places))
    };
    format!("#,##0{decimals} \"{currency}\";-#,##0{decimals} \"{currency}\"")
}

/// An exact decimal as a spreadsheet number (a double: what every spreadsheet stores; amounts
/// of up to 15 significant digits come back exactly).
pub fn number(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// Writes one typed cell.
pub fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) => sheet.write_string(row, column, text).map(drop),
        Cell::Money(amount) => sheet
            .write_number_with_format(
                row,
                column,
                number(*amount),
                &money_format(*amount, &formats.currency),
            )
            .map(drop),
        Cell::Amount(amount, currency) => sheet
            .write_number_with_format(
                row,
                column,
                number(*amount),
                &money_format(*amount, currency),
            )
            .map(drop),
        Cell::Percent(value) => sheet
            .write_number_with_format(row, column, number(*value), &formats.percent)
            .map(drop),
        Cell::Count(n) => sheet.write_number(row, column, *n as f64).map(drop),
        Cell::Date(date) => sheet
            .write_datetime_with_format(row, column, *date, &formats.date)
            .map(drop),
        Cell::Empty => Ok(()),
    }
}

/// A report as a workbook: title, period and key figures on top, the table under a frozen
/// header (with a filter), the chart beside it.
pub fn report(document: &Document, locale: &Locale) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new(&document.currency, locale);
    let mut workbook = Workbook::new();
    let sheet_name = "Report";
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    sheet.write_string_with_format(0, 0, &document.title, &formats.title)?;
    sheet.write_string(
        1,
        0,
        format!(
            "{} – {} · {}",
            locale.date(document.from),
            locale.date(document.to),
            document.currency
        ),
    )?;
    let mut row = 3;
    for (label, value) in &document.facts {
        sheet.write_string_with_format(row, 0, label, &formats.header)?;
        write_cell(sheet, row, 1, value, &formats)?;
        row += 1;
    }
    if !document.facts.is_empty() {
        row += 1;
    }
    let header_row = row;
    for (column, name) in document.columns.iter().enumerate() {
        sheet.write_string_with_format(header_row, column as u16, name, &formats.header)?;
        sheet.set_column_width(column as u16, if column == 0 { 28 } else { 16 })?;
    }
    for (i, cells) in document.rows.iter().enumerate() {
        for (column, cell) in cells.iter().enumerate() {
            write_cell(
                sheet,
                header_row + 1 + i as u32,
                column as u16,
                cell,
                &formats,
            )?;
        }
    }
    let last_row = header_row + document.rows.len() as u32;
    if !document.columns.is_empty() {
        sheet.set_freeze_panes(header_row + 1, 0)?;
        sheet.autofilter(header_row, 0, last_row, document.columns.len() as u16 - 1)?;
    }
    let table_chart = document
        .chart
        .as_ref()
        .and_then(|chart| Some((chart, chart.label_column?)));
    if let (Some((chart, label_column)), false) = (table_chart, document.rows.is_empty()) {
        let mut native = Chart::new(match chart.kind {
            ChartKind::Bars => ChartType::Column,
            ChartKind::Pie => ChartType::Pie,
        });
        native.title().set_name(&document.title);
        for series in &chart.series {
            let Some(column) = document.columns.iter().position(|c| *c == series.name) else {
                continue;
            };
            native
                .add_series()
                .set_name((sheet_name, header_row, column as u16))
                .set_categories((
                    sheet_name,
                    header_row + 1,
                    label_column as u16,
                    last_row,
                    label_column as u16,
                ))
                .set_values((
                    sheet_name,
                    header_row + 1,
                    column as u16,
                    last_row,
                    column as u16,
                ));
        }
        native.set_width(640).set_height(360);
        sheet.insert_chart(header_row, document.columns.len() as u16 + 1, &native)?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(amount: &str, currency: &str) -> String {
        money_num_format(amount.parse().unwrap(), currency)
    }

    #[test]
    fn an_amount_shows_every_decimal_it_has() {
        assert_eq!(
            format_of("12.5", "USD"),
            r##"#,##0.00 "USD";-#,##0.00 "USD""##
        );
        assert_eq!(
            format_of("0.0001", "USD"),
            r##"#,##0.0000 "USD";-#,##0.0000 "USD""##
        );
        assert_eq!(
            format_of("2.3703", "USD"),
            r##"#,##0.0000 "USD";-#,##0.0000 "USD""##
        );
        assert_eq!(
            format_of("1000.5", "VND"),
            r##"#,##0.0 "VND";-#,##0.0 "VND""##
        );
        // Whole VND: no decimal point at all.
        assert_eq!(
            format_of("1000000.0000", "VND"),
            r##"#,##0 "VND";-#,##0 "VND""##
        );
    }
}
