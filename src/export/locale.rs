//! How numbers and dates read in a user's language (their BCP 47 tag, `language` on the
//! account): the decimal mark, the digit grouping and the order of a date's parts. A small
//! table of the conventions (CLDR's), not a full localisation: headings stay in English.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::currency::minor_units;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    /// 2026-03-05
    Iso,
    /// 03/05/2026
    MonthFirst,
    /// 05/03/2026 (or 05.03.2026 with `.`)
    DayFirst(char),
}

/// Number and date conventions of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    decimal: char,
    group: char,
    date: DateOrder,
}

impl Locale {
    /// The conventions of a language tag (`en`, `en-US`, `vi-VN`, `de`...); English (US) for a
    /// language this table does not know.
    pub fn of(tag: &str) -> Locale {
        let tag = tag.to_ascii_lowercase();
        let mut parts = tag.split(['-', '_']);
        let language = parts.next().unwrap_or("en");
        let region = parts.next().unwrap_or("");
        let (decimal, group, date) = match language {
            "en" if matches!(region, "" | "us" | "ph") => ('.', ',', DateOrder::MonthFirst),
            "en" if region == "ca" => ('.', ',', DateOrder::Iso),
            "en" => ('.', ',', DateOrder::DayFirst('/')),
            "vi" | "id" | "es" | "it" | "pt" | "el" => (',', '.', DateOrder::DayFirst('/')),
            "nl" => (',', '.', DateOrder::DayFirst('-')),
            "de" | "da" | "tr" => (',', '.', DateOrder::DayFirst('.')),
            "fr" => (',', '\u{a0}', DateOrder::DayFirst('/')),
            "sv" | "lt" => (',', '\u{a0}', DateOrder::Iso),
            "ru" | "uk" | "pl" | "cs" | "sk" | "fi" | "nb" | "no" => {
                (',', '\u{a0}', DateOrder::DayFirst('.'))
            }
            "ja" | "zh" | "ko" | "th" | "ms" | "hi" => ('.', ',', DateOrder::Iso),
            _ => ('.', ',', DateOrder::MonthFirst),
        };
        Locale {
            decimal,
            group,
            date,
        }
    }

    /// An amount with the currency's minor units, grouped: `1,234.50 USD`, `1.234.500 VND`;
    /// a figure the JSON gives more exactly (a tax of `0.1963`) keeps its places.
    pub fn money(&self, amount: Decimal, currency: &str) -> String {
        format!("{} {currency}", self.amount(amount, currency))
    }

    /// [`Locale::money`] without the currency code.
    pub fn amount(&self, amount: Decimal, currency: &str) -> String {
        let places = minor_units(currency).max(amount.normalize().scale().min(4));
        self.number(amount, places)
    }

    /// A number rounded half away from zero to `places`, grouped by thousands.
    pub fn number(&self, value: Decimal, places: u32) -> String {
        let rounded = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
        let text = format!("{:.*}", places as usize, rounded.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(self.group);
            }
            grouped.push(digit);
        }
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        if fraction.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}{}{fraction}", self.decimal)
        }
    }

    /// A percentage with two decimals, as the JSON gives it (shares that add up to 100 there
    /// add up here too): `12.50 %` (`12,50 %`).
    pub fn percent(&self, value: Decimal) -> String {
        format!("{} %", self.number(value, 2))
    }

    pub fn date(&self, date: NaiveDate) -> String {
        match self.date {
            DateOrder::Iso => date.format("%Y-%m-%d").to_string(),
            DateOrder::MonthFirst => date.format("%m/%d/%Y").to_string(),
            DateOrder::DayFirst(separator) => date
                .format(&format!("%d{separator}%m{separator}%Y"))
                .to_string(),
        }
    }

    /// The date pattern a spreadsheet cell is given (Excel's number format codes).
    pub fn excel_date_format(&self) -> &'static str {
        match self.date {
            DateOrder::Iso => "yyyy-mm-dd",
            DateOrder::MonthFirst => "mm/dd/yyyy",
            DateOrder::DayFirst('.') => "dd.mm.yyyy",
            DateOrder::DayFirst('-') => "dd-mm-yyyy",
            DateOrder::DayFirst(_) => "dd/mm/yyyy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn amounts_read_as_each_language_writes_them() {
        assert_eq!(Locale::of("en").money(d("1234.5"), "USD"), "1,234.50 USD");
        // Never fewer places than the JSON gives (up to four), never more.
        assert_eq!(Locale::of("en-US").money(d("-0.005"), "USD"), "-0.005 USD");
        assert_eq!(Locale::of("en-US").money(d("1.23456"), "USD"), "1.2346 USD");
        assert_eq!(
            Locale::of("vi-VN").money(d("1234500"), "VND"),
            "1.234.500 VND"
        );
        assert_eq!(Locale::of("vi").money(d("1234.5"), "USD"), "1.234,50 USD");
        assert_eq!(
            Locale::of("de").money(d("1234567.891"), "KWD"),
            "1.234.567,891 KWD"
        );
        assert_eq!(Locale::of("fr").number(d("1234.5"), 2), "1\u{a0}234,50");
        assert_eq!(Locale::of("xx").number(d("999"), 0), "999");
        assert_eq!(Locale::of("en").number(d("0.004"), 2), "0.00");
        assert_eq!(Locale::of("en").percent(d("12.25")), "12.25 %");
        // A tax the JSON gives to four places keeps them: 0.20 − 0.02 printed as 0.17 did not.
        assert_eq!(Locale::of("en").money(d("0.1963"), "USD"), "0.1963 USD");
        assert_eq!(Locale::of("en").money(d("0.1724"), "USD"), "0.1724 USD");
        assert_eq!(Locale::of("en").money(d("12.5"), "USD"), "12.50 USD");
        assert_eq!(
            Locale::of("en").money(d("1234500.00"), "VND"),
            "1,234,500 VND"
        );
    }

    #[test]
    fn dates_in_each_order() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(Locale::of("en-US").date(date), "03/05/2026");
        assert_eq!(Locale::of("en-GB").date(date), "05/03/2026");
        assert_eq!(Locale::of("vi").date(date), "05/03/2026");
        assert_eq!(Locale::of("de-DE").date(date), "05.03.2026");
        assert_eq!(Locale::of("ja").date(date), "2026-03-05");
        assert_eq!(Locale::of("fr-FR").date(date), "05/03/2026");
        assert_eq!(Locale::of("sv").date(date), "2026-03-05");
        assert_eq!(Locale::of("nl").date(date), "05-03-2026");
        assert_eq!(Locale::of("en-CA").date(date), "2026-03-05");
    }
}
