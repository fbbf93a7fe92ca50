//! Calendar arithmetic for budgets, bills and recurring transactions: periods anchored on a
//! start date (a 5th-to-4th payday month), and "the same day next month" that clamps the 31st
//! to shorter months without drifting.

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetPeriod {
    Daily,
    Weekly,
    Monthly,
    Yearly,
    Custom,
}

impl BudgetPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPeriod::Daily => "daily",
            BudgetPeriod::Weekly => "weekly",
            BudgetPeriod::Monthly => "monthly",
            BudgetPeriod::Yearly => "yearly",
            BudgetPeriod::Custom => "custom",
        }
    }

    pub fn parse(value: &str) -> Option<BudgetPeriod> {
        match value {
            "daily" => Some(BudgetPeriod::Daily),
            "weekly" => Some(BudgetPeriod::Weekly),
            "monthly" => Some(BudgetPeriod::Monthly),
            "yearly" => Some(BudgetPeriod::Yearly),
            "custom" => Some(BudgetPeriod::Custom),
            _ => None,
        }
    }
}

/// A closed range of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Span {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.start..=self.end).contains(&date)
    }
}

/// The budget's periods before `span` (one of its periods): how many, and the days they cover
/// together. With
/// rollover, what they left unspent (or overspent) against the limit each time carries into
/// `span`: `count × amount − spent over the days`, the sum of each period's remainder, so a
/// period's carry is exactly the `remaining` the one before it showed.
pub fn earlier_periods(period: BudgetPeriod, start: NaiveDate, span: Span) -> (u32, Option<Span>) {
    if span.start <= start {
        return (0, None);
    }
    // `span` is the k-th period: k periods came before it.
    let mut k = periods_before(period, start, span.start);
    while k > 0 && nth_start(period, start, k).is_some_and(|s| s > span.start) {
        k -= 1;
    }
    while nth_start(period, start, k + 1).is_some_and(|s| s <= span.start) {
        k += 1;
    }
    let covered = span.start.pred_opt().map(|end| Span { start, end });
    (u32::try_from(k).unwrap_or(u32::MAX), covered)
}

/// Whether spending on `date` changes a budget's figures in the period containing `at`: the
/// date falls in that period or, with rollover, in an earlier one (whose rest rolls over).
pub fn moves_period_at(
    period: BudgetPeriod,
    start: NaiveDate,
    end: Option<NaiveDate>,
    rollover: bool,
    at: NaiveDate,
    date: NaiveDate,
) -> bool {
    let Some(span) = period_containing(period, start, end, at) else {
        return false;
    };
    span.contains(date)
        || (rollover && date < span.start && period_containing(period, start, end, date).is_some())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let next = first
        .checked_add_months(Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    (next - first).num_days() as u32
}

/// The date `months` months after `from`'s month, on `day` (clamped to the month's length).
pub fn add_months_on_day(from: NaiveDate, months: i32, day: u32) -> Option<NaiveDate> {
    let index = from.year() * 12 + from.month0() as i32 + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let day = day.clamp(1, 31).min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The `k`-th period start (k = 0 is `anchor`).
fn nth_start(period: BudgetPeriod, anchor: NaiveDate, k: i64) -> Option<NaiveDate> {
    match period {
        BudgetPeriod::Daily => anchor.checked_add_days(Days::new(u64::try_from(k).ok()?)),
        BudgetPeriod::Weekly => anchor.checked_add_days(Days::new(u64::try_from(k).ok()? * 7)),
        BudgetPeriod::Monthly => add_months_on_day(anchor, i32::try_from(k).ok()?, anchor.day()),
        BudgetPeriod::Yearly => {
            add_months_on_day(anchor, i32::try_from(k).ok()? * 12, anchor.day())
        }
        BudgetPeriod::Custom => (k == 0).then_some(anchor),
    }
}

/// How many whole periods lie between the anchor and `at` (a lower bound to search from).
fn periods_before(period: BudgetPeriod, anchor: NaiveDate, at: NaiveDate) -> i64 {
    let days = (at - anchor).num_days();
    match period {
        BudgetPeriod::Daily => days,
        BudgetPeriod::Weekly => days / 7,
        BudgetPeriod::Monthly => {
            (i64::from(at.year()) * 12 + i64::from(at.month0()))
                - (i64::from(anchor.year()) * 12 + i64::from(anchor.month0()))
                - 1
        }
        BudgetPeriod::Yearly => i64::from(at.year() - anchor.year()) - 1,
        BudgetPeriod::Custom => 0,
    }
    .max(0)
}

/// The last day a date can be: what the API accepts and writes (ISO 8601 without a sign). A
/// period or schedule reaching past it ends there.
fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The period of a budget that contains `at`: anchored on `start` (weekly and monthly budgets
/// run from `start`'s weekday or day of month), cut at `end` when the budget has one. `None`
/// before the budget starts or after it ends.
pub fn period_containing(
    period: BudgetPeriod,
    start: NaiveDate,
    end: Option<NaiveDate>,
    at: NaiveDate,
) -> Option<Span> {
    if at < start || end.is_some_and(|end| at > end) {
        return None;
    }
    if period == BudgetPeriod::Custom {
        return Some(Span {
            start,
            end: end.unwrap_or(start),
        });
    }
    let mut k = periods_before(period, start, at);
    loop {
        let this = nth_start(period, start, k)?;
        let next = nth_start(period, start, k + 1)?;
        if this > at {
            k -= 1;
            continue;
        }
        if next > at {
            let last = next.pred_opt()?.min(last_day());
            return Some(Span {
                start: this,
                end: end.map_or(last, |end| end.min(last)),
            });
        }
        k += 1;
    }
}

/// The period before `span`, if the budget had one.
pub fn previous_period(
    period: BudgetPeriod,
    start: NaiveDate,
    end: Option<NaiveDate>,
    span: Span,
) -> Option<Span> {
    period_containing(period, start, end, span.start.pred_opt()?)
}

/// Progress of `spent` against `limit` in percent, two decimals (half up).
pub fn progress(spent: Decimal, limit: Decimal) -> Decimal {
    if limit <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    (spent * Decimal::ONE_HUNDRED / limit)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetState {
    OnTrack,
    Warning,
    Exceeded,
}

/// The figures a budget reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetStatus {
    pub remaining: Decimal,
    /// Capped at 100 for display.
    pub progress: Decimal,
    pub is_exceeded: bool,
    pub state: BudgetState,
}

/// `on_track` below the threshold, `warning` from the threshold up to 100 %, `exceeded` above.
pub fn budget_status(spent: Decimal, limit: Decimal, threshold: Decimal) -> BudgetStatus {
    let is_exceeded = spent > limit;
    let (progress, state) = if limit <= Decimal::ZERO {
        // A rollover can leave nothing (or less than nothing) to spend: spending up to it is
        // all of it (100 %, a warning: nothing is left), below it none (a refund).
        if is_exceeded {
            (Decimal::ONE_HUNDRED, BudgetState::Exceeded)
        } else if spent == limit {
            (Decimal::ONE_HUNDRED, BudgetState::Warning)
        } else {
            (Decimal::ZERO, BudgetState::OnTrack)
        }
    } else {
        // The state compares exact amounts, not the rounded percentage.
        let state = if is_exceeded {
            BudgetState::Exceeded
        } else if spent * Decimal::ONE_HUNDRED >= threshold * limit {
            BudgetState::Warning
        } else {
            BudgetState::OnTrack
        };
        (progress(spent, limit), state)
    };
    BudgetStatus {
        remaining: limit - spent,
        progress: progress.min(Decimal::ONE_HUNDRED),
        is_exceeded,
        state,
    }
}

/// Days from `today` to the period's last day, never negative.
pub fn days_left(span: Span, today: NaiveDate) -> i64 {
    (span.end - today).num_days().max(0)
}

/// How often a bill or recurring transaction comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Once,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Once => "once",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
        }
    }

    pub fn parse(value: &str) -> Option<Frequency> {
        match value {
            "once" => Some(Frequency::Once),
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            "monthly" => Some(Frequency::Monthly),
            "quarterly" => Some(Frequency::Quarterly),
            "yearly" => Some(Frequency::Yearly),
            _ => None,
        }
    }
}

/// The occurrence after `current`, keeping `anchor_day` for month-based frequencies (a bill
/// due on the 31st is due on 28/29 February and again on 31 March). `None` for `once`.
pub fn next_occurrence(
    frequency: Frequency,
    current: NaiveDate,
    anchor_day: u32,
) -> Option<NaiveDate> {
    let next = match frequency {
        Frequency::Once => None,
        Frequency::Daily => current.checked_add_days(Days::new(1)),
        Frequency::Weekly => current.checked_add_days(Days::new(7)),
        Frequency::Monthly => add_months_on_day(current, 1, anchor_day),
        Frequency::Quarterly => add_months_on_day(current, 3, anchor_day),
        Frequency::Yearly => add_months_on_day(current, 12, anchor_day),
    };
    // None past the last day: a schedule ends there (an outside test found a bill due on
    // 9999-12-31, once paid, due on "+10000-01-31", which no client can send back).
    next.filter(|date| *date <= last_day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_moves_the_current_period_and_with_rollover_every_one_before() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let monthly = |rollover, date| {
            moves_period_at(
                BudgetPeriod::Monthly,
                d(1, 5),
                None,
                rollover,
                d(3, 10),
                date,
            )
        };
        // The period at 10 March runs 5 March to 4 April.
        assert!(monthly(false, d(3, 5)));
        assert!(monthly(false, d(4, 4)));
        assert!(!monthly(false, d(3, 4)));
        assert!(monthly(true, d(3, 4)), "February's rest rolls over");
        assert!(monthly(true, d(2, 5)));
        assert!(monthly(true, d(1, 5)), "and January's, through February's");
        assert!(!monthly(true, d(1, 4)), "before the budget began");
        assert!(!monthly(true, d(4, 5)), "after the period");
        // Not running on the date: nothing moves.
        assert!(!moves_period_at(
            BudgetPeriod::Monthly,
            d(6, 1),
            None,
            true,
            d(3, 10),
            d(3, 10)
        ));
    }

    #[test]
    fn the_periods_before_a_span_are_counted_from_the_start() {
        let start = d(2026, 1, 5);
        let span = period_containing(BudgetPeriod::Monthly, start, None, d(2026, 3, 10)).unwrap();
        let (count, covered) = earlier_periods(BudgetPeriod::Monthly, start, span);
        assert_eq!(count, 2);
        assert_eq!(
            covered,
            Some(Span {
                start,
                end: d(2026, 3, 4)
            })
        );
        // Against walking back one period at a time, for every kind and many dates.
        for period in [
            BudgetPeriod::Daily,
            BudgetPeriod::Weekly,
            BudgetPeriod::Monthly,
            BudgetPeriod::Yearly,
        ] {
            for start in [d(2024, 1, 31), d(2024, 2, 29), d(2025, 12, 1)] {
                for offset in (0..800).step_by(7) {
                    let at = start + Days::new(offset);
                    let span = period_containing(period, start, None, at).unwrap();
                    let mut walked = 0;
                    let mut cursor = previous_period(period, start, None, span);
                    while let Some(previous) = cursor {
                        walked += 1;
                        cursor = previous_period(period, start, None, previous);
                    }
                    assert_eq!(
                        earlier_periods(period, start, span).0,
                        walked,
                        "{period:?} from {start} at {at}"
                    );
                }
            }
        }
        let first = period_containing(BudgetPeriod::Monthly, start, None, start).unwrap();
        assert_eq!(
            earlier_periods(BudgetPeriod::Monthly, start, first),
            (0, None)
        );
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn span(start: NaiveDate, end: NaiveDate) -> Option<Span> {
        Some(Span { start, end })
    }

    #[test]
    fn monthly_periods_follow_the_calendar_month() {
        let p = period_containing(BudgetPeriod::Monthly, d(2026, 1, 1), None, d(2026, 3, 17));
        assert_eq!(p, span(d(2026, 3, 1), d(2026, 3, 31)));
        let feb = period_containing(BudgetPeriod::Monthly, d(2026, 1, 1), None, d(2026, 2, 28));
        assert_eq!(feb, span(d(2026, 2, 1), d(2026, 2, 28)));
    }

    #[test]
    fn a_payday_month_runs_from_the_5th_to_the_4th() {
        let start = d(2026, 1, 5);
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, start, None, d(2026, 3, 4)),
            span(d(2026, 2, 5), d(2026, 3, 4))
        );
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, start, None, d(2026, 3, 5)),
            span(d(2026, 3, 5), d(2026, 4, 4))
        );
    }

    #[test]
    fn a_month_anchored_on_the_31st_clamps_without_drifting() {
        let start = d(2026, 1, 31);
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, start, None, d(2026, 2, 28)),
            span(d(2026, 2, 28), d(2026, 3, 30))
        );
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, start, None, d(2026, 3, 31)),
            span(d(2026, 3, 31), d(2026, 4, 29))
        );
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, d(2024, 1, 31), None, d(2024, 2, 29)),
            span(d(2024, 2, 29), d(2024, 3, 30)),
            "leap year"
        );
    }

    #[test]
    fn weeks_start_on_the_budgets_weekday_and_days_are_single() {
        let start = d(2026, 3, 4); // a Wednesday
        assert_eq!(
            period_containing(BudgetPeriod::Weekly, start, None, d(2026, 3, 17)),
            span(d(2026, 3, 11), d(2026, 3, 17))
        );
        assert_eq!(
            period_containing(BudgetPeriod::Daily, start, None, d(2026, 3, 17)),
            span(d(2026, 3, 17), d(2026, 3, 17))
        );
    }

    #[test]
    fn yearly_periods_and_leap_days() {
        assert_eq!(
            period_containing(BudgetPeriod::Yearly, d(2024, 2, 29), None, d(2025, 3, 1)),
            span(d(2025, 2, 28), d(2026, 2, 27))
        );
    }

    #[test]
    fn custom_periods_and_ends() {
        let start = d(2026, 1, 1);
        let end = Some(d(2026, 3, 31));
        assert_eq!(
            period_containing(BudgetPeriod::Custom, start, end, d(2026, 2, 10)),
            span(start, d(2026, 3, 31))
        );
        assert_eq!(
            period_containing(BudgetPeriod::Custom, start, end, d(2026, 4, 1)),
            None
        );
        assert_eq!(
            period_containing(BudgetPeriod::Monthly, start, None, d(2025, 12, 31)),
            None
        );
        assert_eq!(
            period_containing(
                BudgetPeriod::Monthly,
                start,
                Some(d(2026, 3, 15)),
                d(2026, 3, 10)
            ),
            span(d(2026, 3, 1), d(2026, 3, 15)),
            "an end date cuts the last period"
        );
    }

    #[test]
    fn previous_periods_step_back() {
        let start = d(2026, 1, 5);
        let current =
            period_containing(BudgetPeriod::Monthly, start, None, d(2026, 3, 10)).unwrap();
        assert_eq!(
            previous_period(BudgetPeriod::Monthly, start, None, current),
            span(d(2026, 2, 5), d(2026, 3, 4))
        );
        let first = period_containing(BudgetPeriod::Monthly, start, None, d(2026, 1, 10)).unwrap();
        assert_eq!(
            previous_period(BudgetPeriod::Monthly, start, None, first),
            None
        );
    }

    #[test]
    fn the_seed_examples_hold() {
        let warning = budget_status(
            Decimal::new(2_750_000, 0),
            Decimal::new(3_000_000, 0),
            Decimal::new(80, 0),
        );
        assert_eq!(warning.progress, Decimal::new(9167, 2));
        assert_eq!(warning.state, BudgetState::Warning);
        assert!(!warning.is_exceeded);
        let exceeded = budget_status(
            Decimal::new(1_650_000, 0),
            Decimal::new(1_500_000, 0),
            Decimal::new(80, 0),
        );
        assert_eq!(exceeded.progress, Decimal::ONE_HUNDRED);
        assert!(exceeded.is_exceeded);
        assert_eq!(exceeded.state, BudgetState::Exceeded);
        assert_eq!(exceeded.remaining, Decimal::new(-150_000, 0));
        let on_track = budget_status(
            Decimal::new(1, 0),
            Decimal::new(100, 0),
            Decimal::new(80, 0),
        );
        assert_eq!(on_track.state, BudgetState::OnTrack);
        let just_below = budget_status(
            Decimal::new(79995, 3),
            Decimal::new(100, 0),
            Decimal::new(80, 0),
        );
        assert_eq!(
            just_below.progress,
            Decimal::new(8000, 2),
            "rounded for display"
        );
        assert_eq!(
            just_below.state,
            BudgetState::OnTrack,
            "but not yet at the threshold"
        );
        let exactly = budget_status(
            Decimal::new(100, 0),
            Decimal::new(100, 0),
            Decimal::new(80, 0),
        );
        assert_eq!(
            exactly.state,
            BudgetState::Warning,
            "100 % is not yet exceeded"
        );

        // A rollover that left nothing: all of it is used, a warning at 100 % (an outside test
        // found "warning" beside a progress of 0 and a notification "at 0 %").
        let nothing_left = budget_status(Decimal::ZERO, Decimal::ZERO, Decimal::new(80, 0));
        assert_eq!(
            (nothing_left.progress, nothing_left.state),
            (Decimal::ONE_HUNDRED, BudgetState::Warning)
        );
        let overdrawn = budget_status(Decimal::ZERO, Decimal::new(-50, 0), Decimal::new(80, 0));
        assert_eq!(
            (overdrawn.progress, overdrawn.state),
            (Decimal::ONE_HUNDRED, BudgetState::Exceeded)
        );
        let refunded = budget_status(Decimal::new(-10, 0), Decimal::ZERO, Decimal::new(80, 0));
        assert_eq!(
            (refunded.progress, refunded.state),
            (Decimal::ZERO, BudgetState::OnTrack)
        );
    }

    #[test]
    fn bills_due_on_the_31st_fall_on_month_ends() {
        let jan = d(2026, 1, 31);
        let feb = next_occurrence(Frequency::Monthly, jan, 31).unwrap();
        assert_eq!(feb, d(2026, 2, 28));
        assert_eq!(
            next_occurrence(Frequency::Monthly, feb, 31).unwrap(),
            d(2026, 3, 31)
        );
        assert_eq!(
            next_occurrence(Frequency::Quarterly, d(2026, 11, 30), 30).unwrap(),
            d(2027, 2, 28)
        );
        assert_eq!(
            next_occurrence(Frequency::Yearly, d(2024, 2, 29), 29).unwrap(),
            d(2025, 2, 28)
        );
        assert_eq!(
            next_occurrence(Frequency::Weekly, jan, 31).unwrap(),
            d(2026, 2, 7)
        );
        assert_eq!(next_occurrence(Frequency::Once, jan, 31), None);
        assert_eq!(
            next_occurrence(Frequency::Monthly, d(9999, 12, 31), 31),
            None
        );
        assert_eq!(
            period_containing(
                BudgetPeriod::Monthly,
                d(9999, 12, 31),
                None,
                d(9999, 12, 31)
            )
            .map(|span| span.end),
            Some(d(9999, 12, 31))
        );
    }

    #[test]
    fn days_left_is_never_negative() {
        let s = Span {
            start: d(2026, 3, 1),
            end: d(2026, 3, 31),
        };
        assert_eq!(days_left(s, d(2026, 3, 7)), 24);
        assert_eq!(days_left(s, d(2026, 4, 7)), 0);
    }
}
