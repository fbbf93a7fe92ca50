//! Spending insights from a user's history: recurring payments, month-over-month movers,
//! seasonality, and budget suggestions. Pure functions over figures the database aggregated.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::forecast::percentile;
use uuid::Uuid;

use crate::domain::money::max_amount;
use crate::domain::period::add_months_on_day;

/// One earlier payment of a payee.
#[derive(Debug, Clone)]
pub struct Payment {
    pub date: NaiveDate,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Cadence {
    fn from_interval(days: f64) -> Option<Cadence> {
        match days {
            d if (5.0..=9.0).contains(&d) => Some(Cadence::Weekly),
            d if (12.0..=16.0).contains(&d) => Some(Cadence::Biweekly),
            d if (26.0..=35.0).contains(&d) => Some(Cadence::Monthly),
            d if (84.0..=98.0).contains(&d) => Some(Cadence::Quarterly),
            d if (350.0..=380.0).contains(&d) => Some(Cadence::Yearly),
            _ => None,
        }
    }

    /// Calendar months between payments, for the cadences that follow the calendar.
    fn months(self) -> Option<i32> {
        match self {
            Cadence::Monthly => Some(1),
            Cadence::Quarterly => Some(3),
            Cadence::Yearly => Some(12),
            Cadence::Weekly | Cadence::Biweekly => None,
        }
    }

    fn min_occurrences(self) -> usize {
        if self == Cadence::Yearly {
            2
        } else {
            3
        }
    }
}

/// A payment that comes back at a regular interval with a similar amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    pub cadence: Cadence,
    pub typical_amount: Decimal,
    pub occurrences: usize,
    pub last_date: NaiveDate,
    pub next_expected: NaiveDate,
}

/// Whether payments (oldest first) recur: at least 3 (2 for yearly), intervals close to their
/// median interval, and amounts within 20 % of their median.
pub fn recurrence(payments: &[Payment]) -> Option<Recurrence> {
    if payments.len() < 2 {
        return None;
    }
    let intervals: Vec<f64> = payments
        .windows(2)
        .map(|w| (w[1].date - w[0].date).num_days() as f64)
        .collect();
    let typical_interval = percentile(&intervals, 0.5);
    let cadence = Cadence::from_interval(typical_interval)?;
    if payments.len() < cadence.min_occurrences() {
        return None;
    }
    let regular = intervals
        .iter()
        .all(|d| (d - typical_interval).abs() <= (typical_interval * 0.25).max(3.0));
    let amounts: Vec<Decimal> = payments.iter().map(|p| p.amount).collect();
    let typical_amount = exact_percentile(&amounts, Decimal::new(5, 1));
    let tolerance = typical_amount * Decimal::new(2, 1);
    let similar = amounts
        .iter()
        .all(|a| (*a - typical_amount).abs() <= tolerance);
    if !regular || !similar {
        return None;
    }
    let last = payments.last()?;
    // Monthly, quarterly and yearly payments fall on a day of the month (the payees' usual one,
    // the last day in shorter months), not a number of days after the last.
    let next_expected = match cadence.months() {
        Some(months) => {
            let days: Vec<f64> = payments.iter().map(|p| f64::from(p.date.day())).collect();
            add_months_on_day(last.date, months, percentile(&days, 0.5).round() as u32)?
        }
        None => last
            .date
            .checked_add_days(Days::new(typical_interval.round() as u64))?,
    };
    Some(Recurrence {
        cadence,
        typical_amount: typical_amount.round_dp(2).normalize(),
        occurrences: payments.len(),
        last_date: last.date,
        next_expected,
    })
}

/// How much each month of the year differs from an average month (1.0 = average), from at
/// least 12 months of totals (`(month 1–12, total)`); `None` with less history.
pub fn seasonality(monthly: &[(u32, f64)]) -> Option<Vec<(u32, f64)>> {
    if monthly.len() < 12 {
        return None;
    }
    let overall = monthly.iter().map(|(_, v)| v).sum::<f64>() / monthly.len() as f64;
    if overall <= 0.0 {
        return None;
    }
    let mut out = Vec::new();
    for month in 1..=12 {
        let values: Vec<f64> = monthly
            .iter()
            .filter(|(m, _)| *m == month)
            .map(|(_, v)| *v)
            .collect();
        if !values.is_empty() {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            out.push((month, (mean / overall * 100.0).round() / 100.0));
        }
    }
    Some(out)
}

/// A budget for a category from its recent monthly spending: the 75th percentile (covers a
/// normal month, not the worst one), rounded up to two significant digits and kept within
/// what an amount may hold ([`max_amount`]). None when that is not a positive amount (spending
/// in one month of six is no habit to budget for, and a budget of 0 cannot be created).
pub fn suggested_budget(monthly: &[Decimal]) -> Option<Decimal> {
    let suggested = round_up_nice(exact_percentile(monthly, Decimal::new(75, 2)));
    (suggested > Decimal::ZERO).then(|| suggested.min(max_amount()))
}

/// The categories a set of budgeted categories covers: each tracked one and its descendants
/// (as budget spending counts them), from each category's parent.
pub fn tracked_with_descendants(
    tracked: &HashSet<Uuid>,
    parents: &HashMap<Uuid, Option<Uuid>>,
) -> HashSet<Uuid> {
    parents
        .keys()
        .copied()
        .filter(|id| {
            let mut current = Some(*id);
            // At most as many steps as categories: a cycle in bad data cannot loop forever.
            for _ in 0..=parents.len() {
                match current {
                    Some(id) if tracked.contains(&id) => return true,
                    Some(id) => current = parents.get(&id).copied().flatten(),
                    None => return false,
                }
            }
            false
        })
        .chain(tracked.iter().copied())
        .collect()
}

/// The `q`-quantile of exact amounts, interpolated between neighbours as [`percentile`] does,
/// without leaving decimal arithmetic. Zero for no values.
pub fn exact_percentile(values: &[Decimal], q: Decimal) -> Decimal {
    if values.is_empty() {
        return Decimal::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = q * Decimal::from(sorted.len() - 1);
    let low = rank.floor();
    let (Some(low_index), Some(high_index)) = (low.to_usize(), rank.ceil().to_usize()) else {
        return Decimal::ZERO;
    };
    sorted[low_index] + (sorted[high_index] - sorted[low_index]) * (rank - low)
}

/// Rounds up to two significant digits: 2,743,000 → 2,800,000; 123.4 → 130; 8.2 → 8.2.
pub fn round_up_nice(value: Decimal) -> Decimal {
    if value <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    // The power of ten of the leading digit.
    let (mut exponent, mut scaled) = (0i32, value);
    while scaled >= Decimal::TEN {
        scaled /= Decimal::TEN;
        exponent += 1;
    }
    while scaled < Decimal::ONE {
        scaled *= Decimal::TEN;
        exponent -= 1;
    }
    let step_exponent = exponent - 1;
    let step = if step_exponent >= 0 {
        Decimal::from(10u64.pow(step_exponent.unsigned_abs().min(18)))
    } else {
        Decimal::new(1, step_exponent.unsigned_abs().min(28))
    };
    ((value / step).ceil() * step)
        .round_dp((-step_exponent).clamp(0, 4) as u32)
        .normalize()
}

/// An estimate as money: two decimals.
pub fn money(value: f64) -> Decimal {
    Decimal::from_f64(value)
        .map(|d| d.round_dp(2).normalize())
        .unwrap_or(Decimal::ZERO)
}

/// Percentage change from `before` to `now` (`None` when `before` is zero).
pub fn change_pct(before: Decimal, now: Decimal) -> Option<Decimal> {
    if before.is_zero() {
        None
    } else {
        Some(((now - before) * Decimal::ONE_HUNDRED / before).round_dp(2))
    }
}

/// The day the spending pace crosses a limit: `spent` over `elapsed` days so far, of a period
/// of `total_days` starting `start`. `None` if it stays under.
pub fn exceed_date(
    start: NaiveDate,
    elapsed_days: u32,
    total_days: u32,
    spent: Decimal,
    limit: Decimal,
) -> Option<NaiveDate> {
    if elapsed_days == 0 || spent <= Decimal::ZERO {
        return None;
    }
    if spent > limit {
        return Some(start);
    }
    let daily = spent / Decimal::from(elapsed_days);
    let projected = daily * Decimal::from(total_days);
    if projected <= limit {
        return None;
    }
    let days_to_limit = (limit / daily).ceil().to_u64()?;
    start.checked_add_days(Days::new(days_to_limit.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(value: &str) -> Decimal {
        value.parse().unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn pay(date: NaiveDate, amount: Decimal) -> Payment {
        Payment { date, amount }
    }

    #[test]
    fn monthly_payments_recur() {
        let payments = vec![
            pay(d(2026, 1, 5), dec("15.99")),
            pay(d(2026, 2, 5), dec("15.99")),
            pay(d(2026, 3, 6), dec("15.99")),
        ];
        let found = recurrence(&payments).unwrap();
        assert_eq!(found.cadence, Cadence::Monthly);
        assert_eq!(found.typical_amount, dec("15.99"));
        assert_eq!(found.next_expected, d(2026, 4, 5));
        // Two are not enough for a monthly habit; two a year apart are a yearly one.
        assert!(recurrence(&payments[..2]).is_none());
        let yearly = vec![pay(d(2025, 3, 1), dec("99")), pay(d(2026, 3, 1), dec("99"))];
        assert_eq!(recurrence(&yearly).unwrap().cadence, Cadence::Yearly);
        assert_eq!(recurrence(&yearly).unwrap().next_expected, d(2027, 3, 1));
        // Rent on the 1st: a calendar month later, whatever the month's length.
        let rent: Vec<Payment> = (9..=11).map(|m| pay(d(2026, m, 1), dec("1200"))).collect();
        assert_eq!(recurrence(&rent).unwrap().next_expected, d(2026, 12, 1));
        // On the 31st: the last day of a shorter month.
        let late = vec![
            pay(d(2025, 12, 31), dec("40")),
            pay(d(2026, 1, 31), dec("40")),
            pay(d(2026, 3, 3), dec("40")),
        ];
        assert_eq!(recurrence(&late).unwrap().next_expected, d(2026, 4, 30));
        // Weekly payments keep their interval in days.
        let weekly: Vec<Payment> = (0..4)
            .map(|w| pay(d(2026, 1, 2) + Days::new(7 * w), dec("9")))
            .collect();
        assert_eq!(recurrence(&weekly).unwrap().next_expected, d(2026, 1, 30));
    }

    #[test]
    fn irregular_or_varying_payments_do_not_recur() {
        let irregular = vec![
            pay(d(2026, 1, 1), dec("10")),
            pay(d(2026, 1, 31), dec("10")),
            pay(d(2026, 4, 20), dec("10")),
            pay(d(2026, 5, 20), dec("10")),
        ];
        assert!(recurrence(&irregular).is_none());
        let varying = vec![
            pay(d(2026, 1, 1), dec("10")),
            pay(d(2026, 2, 1), dec("80")),
            pay(d(2026, 3, 1), dec("10")),
        ];
        assert!(recurrence(&varying).is_none());
    }

    #[test]
    fn budgets_round_up_to_two_significant_digits() {
        assert_eq!(round_up_nice(dec("2743000")), dec("2800000"));
        assert_eq!(round_up_nice(dec("123.4")), dec("130"));
        assert_eq!(round_up_nice(dec("8.2")), dec("8.2"));
        assert_eq!(round_up_nice(dec("300")), dec("300"));
        assert_eq!(round_up_nice(dec("0.0123")), dec("0.013"));
        let months = ["100", "200", "300", "400", "500"].map(dec);
        assert_eq!(suggested_budget(&months), Some(dec("400")));
        assert_eq!(suggested_budget(&[Decimal::ZERO, Decimal::ZERO]), None);
        // One month of six: the 75th percentile is 0, and a budget of 0 is no suggestion.
        let once = ["0", "0", "0", "0", "0", "100"].map(dec);
        assert_eq!(suggested_budget(&once), None);
        // Rounding up never passes what an amount may hold.
        let huge = ["999999999999999.9999"; 3].map(dec);
        assert_eq!(suggested_budget(&huge), Some(max_amount()));
        // Exact: 0.1 + 0.2 style amounts never pick up binary noise.
        assert_eq!(
            exact_percentile(&["0.10", "0.20", "0.30"].map(dec), dec("0.75")),
            dec("0.25")
        );
    }

    #[test]
    fn a_budget_covers_the_descendants_of_its_categories() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        let (food, cafe, espresso, travel) = (ids[0], ids[1], ids[2], ids[3]);
        let parents = HashMap::from([
            (food, None),
            (cafe, Some(food)),
            (espresso, Some(cafe)),
            (travel, None),
        ]);
        let covered = tracked_with_descendants(&HashSet::from([food]), &parents);
        assert_eq!(covered, HashSet::from([food, cafe, espresso]));
        let covered = tracked_with_descendants(&HashSet::from([cafe]), &parents);
        assert_eq!(covered, HashSet::from([cafe, espresso]));
    }

    #[test]
    fn the_pace_tells_when_a_limit_is_crossed() {
        // 10 days into a 30-day month, 500 of 1,000 spent: 50 a day crosses 1,000 on day 20.
        let start = d(2026, 3, 1);
        assert_eq!(
            exceed_date(start, 10, 30, dec("500"), dec("1000")),
            Some(d(2026, 3, 20))
        );
        assert_eq!(exceed_date(start, 10, 30, dec("300"), dec("1000")), None);
        assert_eq!(
            exceed_date(start, 10, 30, dec("1200"), dec("1000")),
            Some(start)
        );
    }

    #[test]
    fn seasonality_needs_a_year() {
        let months: Vec<(u32, f64)> = (1..=12)
            .map(|m| (m, if m == 12 { 200.0 } else { 100.0 }))
            .collect();
        let season = seasonality(&months).unwrap();
        assert_eq!(season.len(), 12);
        assert!(season[11].1 > 1.5);
        assert!(seasonality(&months[..11]).is_none());
    }
}
