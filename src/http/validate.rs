//! Field validators shared by the DTOs (`#[validate(custom(function = ...))]`).

use validator::ValidationError;

use crate::domain::csv_import::is_visible_text;
use crate::domain::currency::is_iso4217;
use crate::domain::money::Money;

fn invalid(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// Text, not control characters (line breaks and tabs are text).
pub fn plain_text(value: &str) -> Result<(), ValidationError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        Err(invalid("text", "must be text, without control characters"))
    } else {
        Ok(())
    }
}

/// Text that says something: not only spaces.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if !is_visible_text(value) {
        Err(invalid("blank", "must not be blank"))
    } else {
        Ok(())
    }
}

/// A display name: 1 to 100 characters once surrounding spaces are removed.
pub fn name(value: &str) -> Result<(), ValidationError> {
    let length = value.trim().chars().count();
    if !is_visible_text(value) {
        Err(invalid("blank", "must not be blank"))
    } else if (1..=100).contains(&length) {
        Ok(())
    } else {
        Err(invalid(
            "length",
            "must be between 1 and 100 characters long",
        ))
    }
}

pub fn currency(code: &str) -> Result<(), ValidationError> {
    is_iso4217(code).then_some(()).ok_or_else(|| {
        invalid(
            "currency",
            "must be an ISO 4217 currency code such as USD or VND",
        )
    })
}

/// `#RRGGBB`.
pub fn color(value: &str) -> Result<(), ValidationError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    ok.then_some(())
        .ok_or_else(|| invalid("color", "must be a colour like #1A2B3C"))
}

/// Strictly positive.
pub fn positive(amount: &Money) -> Result<(), ValidationError> {
    amount
        .is_positive()
        .then_some(())
        .ok_or_else(|| invalid("range", "must be greater than 0"))
}

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// A short label (icon name): 1 to 50 characters.
pub fn label(value: &str) -> Result<(), ValidationError> {
    let length = value.trim().chars().count();
    if !is_visible_text(value) {
        Err(invalid("blank", "must not be blank"))
    } else if (1..=50).contains(&length) {
        Ok(())
    } else {
        Err(invalid(
            "length",
            "must be between 1 and 50 characters long",
        ))
    }
}

/// A calendar date between the years 1 and 9999 (what the database stores and people mean).
pub fn date(value: &chrono::NaiveDate) -> Result<(), ValidationError> {
    use chrono::Datelike;
    (1..=9999)
        .contains(&value.year())
        .then_some(())
        .ok_or_else(|| invalid("range", "must be a date between the years 1 and 9999"))
}
