//! Notification rules: priorities, and when a user's mail may go (quiet hours, the daily
//! digest), in the user's own local time.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

wire_enum!(
    /// How much a notification matters; lists can sort by it and mails lead with it.
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

wire_enum!(
    /// How notification mails go: one per notification as it happens, or one digest a day.
    EmailMode {
        Immediate => "immediate",
        DailyDigest => "daily_digest",
    }
);

/// Quiet hours: no mail from `start` until `end`, local time (across midnight when `start`
/// is after `end`, e.g. 22:00 to 07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

/// The local time from which the day's digest may go.
pub const DIGEST_FROM: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(time) => time,
    None => panic!("08:00 is a time"),
};

/// Whether a digest is due at local time `now`: not sent yet today, past 08:00, and not in
/// quiet hours (then it waits for them to end).
pub fn digest_due(
    now: NaiveDateTime,
    last_sent: Option<NaiveDate>,
    quiet: Option<QuietHours>,
) -> bool {
    last_sent.is_none_or(|day| day < now.date())
        && now.time() >= DIGEST_FROM
        && !quiet.is_some_and(|q| q.contains(now.time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn quiet_hours_may_span_midnight() {
        let night = QuietHours {
            start: at(22, 0),
            end: at(7, 0),
        };
        assert!(
            night.contains(at(23, 30)) && night.contains(at(0, 0)) && night.contains(at(6, 59))
        );
        assert!(
            !night.contains(at(7, 0)) && !night.contains(at(12, 0)) && !night.contains(at(21, 59))
        );
        let lunch = QuietHours {
            start: at(12, 0),
            end: at(13, 0),
        };
        assert!(
            lunch.contains(at(12, 30)) && !lunch.contains(at(13, 0)) && !lunch.contains(at(8, 0))
        );
    }

    #[test]
    fn a_digest_goes_once_a_day_after_eight_outside_quiet_hours() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let yesterday = day.pred_opt();
        assert!(!digest_due(day.and_time(at(7, 59)), yesterday, None));
        assert!(digest_due(day.and_time(at(8, 0)), yesterday, None));
        assert!(digest_due(day.and_time(at(8, 0)), None, None));
        assert!(!digest_due(day.and_time(at(18, 0)), Some(day), None));
        let late = QuietHours {
            start: at(0, 0),
            end: at(9, 0),
        };
        assert!(!digest_due(day.and_time(at(8, 30)), yesterday, Some(late)));
        assert!(digest_due(day.and_time(at(9, 0)), yesterday, Some(late)));
    }
}
