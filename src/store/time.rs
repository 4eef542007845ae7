//! Wall-clock arithmetic for TTLs: expiry instants, seconds left, RFC 3339.
//!
//! Time is always handed in by the caller (the leader's clock, carried in
//! the log), never read here, so every replica computes the same values.

/// Wall time in nanoseconds since the Unix epoch, UTC.
pub type UnixNanos = i64;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The expiry instant of a TTL given at `now`; saturates instead of
/// overflowing on absurd TTLs.
pub fn expiry_after(now: UnixNanos, ttl_seconds: i64) -> UnixNanos {
    now.saturating_add(ttl_seconds.saturating_mul(NANOS_PER_SECOND))
}

/// Whole seconds left until `expiration`, rounded up (0.4.6 rounds up so a
/// fresh `ttl=5` reads 5); negative once the instant has passed by a second.
pub fn seconds_left(expiration: UnixNanos, now: UnixNanos) -> i64 {
    let left = i128::from(expiration) - i128::from(now);
    let nanos = i128::from(NANOS_PER_SECOND);
    let mut seconds = left / nanos;
    if left % nanos > 0 {
        seconds += 1;
    }
    // |left| < 2^64 ns, so seconds always fits in i64.
    i64::try_from(seconds).unwrap_or(if left > 0 { i64::MAX } else { i64::MIN })
}

/// RFC 3339 in UTC with nanoseconds, trailing zeros of the fraction trimmed
/// and no fraction at all when it is zero: `2026-11-24T04:09:21.105715347Z`.
pub fn format_rfc3339(instant: UnixNanos) -> String {
    let seconds = instant.div_euclid(NANOS_PER_SECOND);
    let nanos = instant.rem_euclid(NANOS_PER_SECOND);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    );
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Proleptic Gregorian date of a day count relative to 1970-01-01.
/// Works in 400-year eras of 146 097 days that start on March 1st, so the
/// leap day falls at the end of the era's year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_formats_without_fraction() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn known_instant_with_nanoseconds() {
        // 2026-11-24T04:09:21Z = 1795493361 s (checked with `date -u -d @1795493361`).
        let instant = 1_795_493_361 * NANOS_PER_SECOND + 105_715_347;
        assert_eq!(format_rfc3339(instant), "2026-11-24T04:09:21.105715347Z");
    }

    #[test]
    fn trailing_zeros_of_fraction_are_trimmed() {
        assert_eq!(format_rfc3339(228_085_860), "1970-01-01T00:00:00.22808586Z");
        assert_eq!(format_rfc3339(500_000_000), "1970-01-01T00:00:00.5Z");
    }

    #[test]
    fn leap_day_and_century_rules() {
        // 2000-02-29T12:00:00Z = 951825600 s; 2100-03-01T00:00:00Z = 4107542400 s.
        assert_eq!(
            format_rfc3339(951_825_600 * NANOS_PER_SECOND),
            "2000-02-29T12:00:00Z"
        );
        assert_eq!(
            format_rfc3339(4_107_542_400 * NANOS_PER_SECOND),
            "2100-03-01T00:00:00Z"
        );
    }

    #[test]
    fn instants_before_epoch_count_backwards() {
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn seconds_left_rounds_up_and_goes_negative() {
        let now = 1_000 * NANOS_PER_SECOND;
        assert_eq!(seconds_left(expiry_after(now, 5), now), 5);
        assert_eq!(seconds_left(now + 1, now), 1);
        assert_eq!(seconds_left(now, now), 0);
        assert_eq!(seconds_left(now - 300_000_000, now), 0);
        assert_eq!(seconds_left(now - 1_500_000_000, now), -1);
        assert_eq!(seconds_left(expiry_after(now, -5), now), -5);
    }

    #[test]
    fn huge_ttl_saturates_instead_of_overflowing() {
        assert_eq!(expiry_after(1, i64::MAX), i64::MAX);
        assert_eq!(seconds_left(i64::MAX, i64::MIN), 18_446_744_074);
    }
}
