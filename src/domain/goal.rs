//! Where a savings goal stands: saved against target, the pace of saving, and whether that pace
//! reaches the target by its date.

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Days over which the pace of saving is measured (shorter for a younger goal, never under a
/// month).
pub const PACE_WINDOW_DAYS: i64 = 90;
const DAYS_PER_MONTH: Decimal = Decimal::from_parts(304_375, 0, 0, false, 4);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// Saved at least the target.
    Reached,
    /// At the pace of the pace window, the target is reached by its date (or the goal has none).
    OnTrack,
    /// At that pace it is not, or the date has passed.
    Behind,
}

impl GoalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GoalStatus::Reached => "reached",
            GoalStatus::OnTrack => "on_track",
            GoalStatus::Behind => "behind",
        }
    }
}

/// What a goal's figures say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub saved: Decimal,
    /// Target − saved, never below 0.
    pub remaining: Decimal,
    /// Percent of the target, two decimals, capped at 100.
    pub percent: Decimal,
    /// Saved per month over the pace window.
    pub monthly_pace: Decimal,
    /// What must still be saved each month (whole months left, at least one) to reach the
    /// target by its date; `None` without a date.
    pub monthly_needed: Option<Decimal>,
    pub months_left: Option<i64>,
    pub status: GoalStatus,
    /// When the pace reaches the target; `None` when reached or not saving.
    pub projected_date: Option<NaiveDate>,
}

/// The goal's figures: `saved` in all, `recent` saved in the `window_days` before `today` (the
/// goal's age when younger than the pace window; under 30 days and nothing saved, the goal is
/// too young to be behind).
pub fn assess(
    target: Decimal,
    target_date: Option<NaiveDate>,
    saved: Decimal,
    recent: Decimal,
    window_days: i64,
    today: NaiveDate,
) -> Progress {
    let remaining = (target - saved).max(Decimal::ZERO);
    let percent = if target > Decimal::ZERO {
        (saved * Decimal::ONE_HUNDRED / target)
            .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED)
            .round_dp(2)
    } else {
        Decimal::ONE_HUNDRED
    };
    let window = Decimal::from(window_days.max(30));
    let monthly_pace = (recent * DAYS_PER_MONTH / window).round_dp(2);
    let months_left = target_date.map(|date| months_between(today, date));
    let monthly_needed =
        months_left.map(|months| (remaining / Decimal::from(months.max(1))).round_dp(2));
    let projected_date = if remaining.is_zero() || monthly_pace <= Decimal::ZERO {
        None
    } else {
        let days = (remaining / monthly_pace * DAYS_PER_MONTH).ceil();
        u64::try_from(days.mantissa() / 10i128.pow(days.scale()))
            .ok()
            .filter(|d| *d <= 365 * 200)
            .and_then(|d| today.checked_add_days(Days::new(d)))
    };
    // A goal younger than a month with nothing saved yet has no pace to judge.
    let too_early = window_days < 30 && recent <= Decimal::ZERO;
    let status = if remaining.is_zero() {
        GoalStatus::Reached
    } else if too_early && target_date.is_some_and(|d| d >= today) {
        GoalStatus::OnTrack
    } else {
        match (target_date, projected_date) {
            (None, _) => GoalStatus::OnTrack,
            (Some(date), _) if date < today => GoalStatus::Behind,
            (Some(date), Some(projected)) if projected <= date => GoalStatus::OnTrack,
            _ => GoalStatus::Behind,
        }
    };
    Progress {
        saved,
        remaining,
        percent,
        monthly_pace,
        monthly_needed,
        months_left,
        status,
        projected_date,
    }
}

/// Calendar months from `today` to `date`, a started month counting as one (15 June to 15
/// December is 6, to 16 December 7): 0 once the date has passed.
pub fn months_between(today: NaiveDate, date: NaiveDate) -> i64 {
    if date < today {
        return 0;
    }
    let months = (i64::from(date.year()) * 12 + i64::from(date.month()))
        - (i64::from(today.year()) * 12 + i64::from(today.month()))
        + i64::from(date.day() > today.day());
    months.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn saving_enough_each_month_is_on_track() {
        // 3,000 to go in about 6 months, saving 600 a month.
        let p = assess(
            dec("5000"),
            Some(day("2026-12-15")),
            dec("2000"),
            dec("1800"),
            90,
            day("2026-06-15"),
        );
        assert_eq!(p.remaining, dec("3000"));
        assert_eq!(p.percent, dec("40.00"));
        assert_eq!(p.monthly_pace, dec("608.75"));
        assert_eq!(p.months_left, Some(6));
        assert_eq!(p.monthly_needed, Some(dec("500.00")));
        assert_eq!(p.status, GoalStatus::OnTrack);
    }

    #[test]
    fn saving_too_little_is_behind_and_reaching_the_target_is_reached() {
        let p = assess(
            dec("5000"),
            Some(day("2026-08-15")),
            dec("2000"),
            dec("300"),
            90,
            day("2026-06-15"),
        );
        assert_eq!(p.status, GoalStatus::Behind);
        assert_eq!(p.monthly_needed, Some(dec("1500.00")));
        let p = assess(
            dec("5000"),
            Some(day("2026-08-15")),
            dec("5200"),
            dec("300"),
            90,
            day("2026-06-15"),
        );
        assert_eq!(
            (p.status, p.remaining, p.percent),
            (GoalStatus::Reached, dec("0"), dec("100"))
        );
        assert_eq!(p.projected_date, None);
    }

    #[test]
    fn a_passed_date_is_behind_and_no_date_is_never_behind() {
        let p = assess(
            dec("100"),
            Some(day("2026-06-01")),
            dec("10"),
            dec("10"),
            90,
            day("2026-06-15"),
        );
        assert_eq!((p.status, p.months_left), (GoalStatus::Behind, Some(0)));
        assert_eq!(p.monthly_needed, Some(dec("90")));
        let p = assess(dec("100"), None, dec("0"), dec("0"), 90, day("2026-06-15"));
        assert_eq!(
            (p.status, p.monthly_needed, p.projected_date),
            (GoalStatus::OnTrack, None, None)
        );
        // A week-old goal with nothing in it yet is not behind; a 90-day-old one is.
        let young = assess(
            dec("100"),
            Some(day("2026-12-15")),
            dec("0"),
            dec("0"),
            7,
            day("2026-06-15"),
        );
        let old = assess(
            dec("100"),
            Some(day("2026-12-15")),
            dec("0"),
            dec("0"),
            90,
            day("2026-06-15"),
        );
        assert_eq!(
            (young.status, old.status),
            (GoalStatus::OnTrack, GoalStatus::Behind)
        );
    }
}
