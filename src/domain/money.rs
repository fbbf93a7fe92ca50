//! Exact money. On the wire an amount is a JSON number (`50000`, `12.34`) with at most four
//! decimal places; in Rust a `Decimal`; in PostgreSQL `NUMERIC(19, 4)`. No float ever touches it:
//! JSON numbers are read from their literal digits (serde_json's `arbitrary_precision`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most decimal places an amount may have.
pub const MAX_SCALE: u32 = 4;

/// A tax rate a transaction may carry: a percentage from 0 to 100 with at most 4 decimals.
pub fn is_tax_rate(rate: Decimal) -> bool {
    rate >= Decimal::ZERO && rate <= Decimal::ONE_HUNDRED && rate.scale() <= 4
}

/// Largest magnitude `NUMERIC(19, 4)` holds: 15 integer digits.
pub fn max_amount() -> Decimal {
    Decimal::from_i128_with_scale(9_999_999_999_999_999_999, 4)
}

/// `value` kept within what an amount may hold (±[`max_amount`]): for figures the server
/// computes (a forecast, a suggestion) that must still be stored and answered as money.
pub fn clamp_amount(value: Decimal) -> Decimal {
    value.clamp(-max_amount(), max_amount())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

impl From<Decimal> for Money {
    fn from(value: Decimal) -> Self {
        Money(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

/// Parses a decimal literal (`12.34`, `-5`, `1e3`) exactly; rejects more than four decimal
/// places and amounts that do not fit `NUMERIC(19, 4)`. The error says what is wrong without repeating the text (`is not an amount ...`, `has more
/// than 4 decimal places`): the caller names the value or field it is about.
impl FromStr for Money {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let value = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text)
        } else {
            Decimal::from_str_exact(text)
        }
        .map_err(|_| {
            String::from(
                "is not an amount (a number such as 12.34, at most 15 digits before the point)",
            )
        })?;
        let value = value.normalize();
        if value.scale() > MAX_SCALE {
            return Err("has more than 4 decimal places".into());
        }
        if value.abs() > max_amount() {
            return Err("is too large (at most 15 digits before the point)".into());
        }
        Ok(Money(value))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A number literal with exactly these digits (serde_json's arbitrary precision).
        let number = serde_json::Number::from_str(&self.0.normalize().to_string())
            .map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A missing field keeps serde's own error, so it is reported under the field's name.
        let number = serde_json::Number::deserialize(deserializer).map_err(|error: D::Error| {
            if error.to_string().starts_with("missing field") {
                error
            } else {
                serde::de::Error::custom("must be a number such as 50000 or 12.34")
            }
        })?;
        number
            .to_string()
            .parse::<Money>()
            .map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .description(Some(
                "Exact decimal amount, at most 4 decimal places and 15 integer digits",
            ))
            .examples([serde_json::json!(50000), serde_json::json!(12.34)])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Money, String> {
        serde_json::from_str::<Money>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn json_numbers_are_read_exactly() {
        assert_eq!(parse("0.1").unwrap().0, Decimal::new(1, 1));
        assert_eq!(parse("12.3400").unwrap().0, Decimal::new(1234, 2));
        assert_eq!(parse("50000").unwrap().0, Decimal::new(50000, 0));
        assert_eq!(parse("-7.5").unwrap().0, Decimal::new(-75, 1));
        assert_eq!(parse("1e3").unwrap().0, Decimal::new(1000, 0));
        let sum = parse("0.1").unwrap().0 + parse("0.2").unwrap().0;
        assert_eq!(sum, Decimal::new(3, 1));
    }

    #[test]
    fn too_precise_too_large_and_non_numbers_are_refused() {
        assert!(parse("0.00001").unwrap_err().contains("4 decimal places"));
        assert!(parse("1e30").is_err());
        assert!(parse("10000000000000000")
            .unwrap_err()
            .contains("too large"));
        assert!(parse("\"12\"").unwrap_err().contains("must be a number"));
        assert!(parse("null").is_err());
    }

    #[test]
    fn amounts_serialise_as_plain_numbers() {
        let money = Money(Decimal::new(123_400, 4));
        assert_eq!(serde_json::to_string(&money).unwrap(), "12.34");
        assert_eq!(
            serde_json::to_string(&Money(Decimal::new(500000000, 4))).unwrap(),
            "50000"
        );
    }
}
