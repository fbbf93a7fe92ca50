//! ISO 4217 currency codes in current use.

use rust_decimal::Decimal;

const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// The digits after the decimal point ISO 4217 gives a currency: 0 for `VND` or `JPY`, 3 for
/// `KWD` or `BHD`, else 2.
pub fn minor_units(code: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if ZERO.contains(&code) {
        0
    } else if THREE.contains(&code) {
        3
    } else {
        2
    }
}

/// An amount as a sentence prints it: the currency's minor units, more when the amount has
/// them, no grouping: `1000000` VND, `8.20` USD, `0.0001` USD (not the stored `1000000.0000`).
pub fn plain_amount(amount: Decimal, code: &str) -> String {
    let places = minor_units(code).max(amount.normalize().scale().min(4));
    format!("{:.*}", places as usize, amount.round_dp(places))
}

/// True for an active ISO 4217 code in upper case, e.g. `VND`.
pub fn is_iso4217(code: &str) -> bool {
    CODES.binary_search(&code).is_ok()
}

/// An ISO 4217 code, checked once: a plain value that is cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(code: &str) -> Option<CurrencyCode> {
        if !is_iso4217(code) {
            return None;
        }
        let bytes = code.as_bytes();
        Some(CurrencyCode([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from an ASCII code of the list.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_for_binary_search() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_code_reads_back_as_itself() {
        assert_eq!(CurrencyCode::parse("VND").unwrap().as_str(), "VND");
        assert!(CurrencyCode::parse("vnd").is_none());
    }

    #[test]
    fn knows_common_codes_and_rejects_others() {
        for code in ["USD", "EUR", "VND", "JPY", "GBP"] {
            assert!(is_iso4217(code));
        }
        for code in ["usd", "XXX", "US", "DOLLAR", ""] {
            assert!(!is_iso4217(code));
        }
    }

    #[test]
    fn a_sentence_prints_an_amount_in_the_currency_places() {
        let dec = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(plain_amount(dec("1000000.0000"), "VND"), "1000000");
        assert_eq!(plain_amount(dec("8.2000"), "USD"), "8.20");
        assert_eq!(plain_amount(dec("0.0001"), "USD"), "0.0001");
        assert_eq!(plain_amount(dec("1000.5"), "VND"), "1000.5");
    }
}
