//! Reports as files. A report becomes a [`Document`] (a title, its period and currency, key
//! figures, a chart and a table of typed cells), which [`pdf`] draws as pages and [`xlsx`]
//! writes as a workbook with typed cells and a native chart. Pure: data in, bytes out; the
//! handlers in `routes::reports` build the documents from the same figures as their JSON.

pub mod locale;
pub mod pdf;
pub mod xlsx;

use chrono::NaiveDate;
use rust_decimal::Decimal;

pub use locale::Locale;

/// A value of a table or a key figure, typed so a workbook stores it as a number or a date and
/// a page prints it in the reader's locale.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// An amount in the document's currency.
    Money(Decimal),
    /// An amount in a currency of its own (a budget's).
    Amount(Decimal, String),
    /// A percentage: `12.5` is 12.5 %.
    Percent(Decimal),
    Count(i64),
    Date(NaiveDate),
    Empty,
}

impl Cell {
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Cell::Money(_) | Cell::Amount(..) | Cell::Percent(_) | Cell::Count(_)
        )
    }
}

/// How a chart shows its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Bars side by side per label, one colour per series.
    Bars,
    /// Slices of a whole (one series, its positive values).
    Pie,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub kind: ChartKind,
    /// The table's column the labels come from, when the chart draws the table (the series
    /// are then the columns of their names, and a workbook charts those cells); `None` for a
    /// chart of figures the table does not hold (drawn in the PDF only).
    pub label_column: Option<usize>,
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// A pie's shares in percent, one per label, as the table prints them (so the legend and
    /// the table never disagree by a rounding); empty: the pie divides its values itself.
    pub shares: Vec<Decimal>,
}

/// A report ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    /// Key figures shown above the chart (label, value).
    pub facts: Vec<(String, Cell)>,
    pub chart: Option<Chart>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Document {
    /// A document without figures, chart or rows yet.
    pub fn new(title: &str, from: NaiveDate, to: NaiveDate, currency: &str) -> Document {
        Document {
            title: title.to_owned(),
            from,
            to,
            currency: currency.to_owned(),
            facts: Vec::new(),
            chart: None,
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// The table's header.
    pub fn columns(mut self, names: &[&str]) -> Document {
        self.columns = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// A chart of the table: `labels` from one column, one series per other column named.
    pub fn chart_of(mut self, kind: ChartKind, label_column: usize, series: &[usize]) -> Document {
        let labels = self
            .rows
            .iter()
            .map(|row| match row.get(label_column) {
                Some(Cell::Text(text)) => text.clone(),
                Some(Cell::Date(date)) => date.to_string(),
                _ => String::new(),
            })
            .collect();
        let series = series
            .iter()
            .map(|column| Series {
                name: self.columns.get(*column).cloned().unwrap_or_default(),
                values: self
                    .rows
                    .iter()
                    .map(|row| match row.get(*column) {
                        Some(Cell::Money(v) | Cell::Amount(v, _) | Cell::Percent(v)) => *v,
                        Some(Cell::Count(n)) => Decimal::from(*n),
                        _ => Decimal::ZERO,
                    })
                    .collect(),
            })
            .collect();
        self.chart = Some(Chart {
            kind,
            label_column: Some(label_column),
            labels,
            series,
            shares: Vec::new(),
        });
        self
    }
}
