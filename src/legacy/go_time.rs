//! Go's `time.Time` as `encoding/json` writes it (RFC 3339 with up to nine
//! fraction digits and a `Z` or `±hh:mm` offset), read into our
//! nanoseconds since the Unix epoch. Go's zero time
//! (`0001-01-01T00:00:00Z`) is how 0.4 says "no expiration".

use crate::store::UnixNanos;

/// Seconds from 0001-01-01T00:00:00Z, Go's zero time, to the Unix epoch.
const ZERO_TIME_UNIX_SECONDS: i64 = -62_135_596_800;

/// `None` for Go's zero time. Instants beyond what nanoseconds in an i64
/// hold (before 1678, after 2262) are clamped to its ends: only their order
/// matters to expiry.
pub fn parse(text: &str) -> Result<Option<UnixNanos>, String> {
    let bad = || format!("{text:?} is not an RFC 3339 time");
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64, String> {
        let digits = text.get(from..to).ok_or_else(bad)?;
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse::<i64>().map_err(|_| bad())
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return Err(bad());
    }
    let mut rest = &text[19..];
    let mut nanos = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        nanos =
            fraction[..digits].parse::<i64>().map_err(|_| bad())? * 10i64.pow(9 - digits as u32);
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h0, b':', m1, m0]
            if [h1, h0, m1, m0].iter().all(|c| c.is_ascii_digit()) =>
        {
            let digit = |c: &u8| i64::from(c - b'0');
            let hours = digit(h1) * 10 + digit(h0);
            let minutes = digit(m1) * 10 + digit(m0);
            if hours > 23 || minutes > 59 {
                return Err(bad());
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' { offset } else { -offset }
        }
        _ => return Err(bad()),
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    if seconds == ZERO_TIME_UNIX_SECONDS && nanos == 0 {
        return Ok(None);
    }
    let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    Ok(Some(
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
    ))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the inverse of
/// `store::time`'s formatting), in 400-year eras starting on March 1st.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::format_rfc3339;

    #[test]
    fn go_zero_time_is_no_expiration() {
        assert_eq!(parse("0001-01-01T00:00:00Z"), Ok(None));
    }

    #[test]
    fn fixture_instants_round_trip_through_our_formatting() {
        for text in [
            "2027-11-30T10:25:12.059613357Z",
            "2026-11-30T10:25:13.208680336Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:00:00.5Z",
        ] {
            let nanos = parse(text).unwrap().unwrap();
            assert_eq!(format_rfc3339(nanos), text);
        }
        assert_eq!(parse("1970-01-01T00:00:01Z"), Ok(Some(1_000_000_000)));
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(
            parse("2026-11-30T11:25:13+01:00"),
            parse("2026-11-30T10:25:13Z")
        );
        assert_eq!(
            parse("2026-11-30T05:55:13.1-04:30"),
            parse("2026-11-30T10:25:13.1Z")
        );
    }

    #[test]
    fn far_instants_are_clamped() {
        assert_eq!(parse("9999-12-31T23:59:59Z"), Ok(Some(i64::MAX)));
        assert_eq!(parse("0001-01-01T00:00:01Z"), Ok(Some(i64::MIN)));
    }

    #[test]
    fn malformed_times_are_errors() {
        for bad in [
            "",
            "2026-11-30",
            "2026-11-30T10:25:13",
            "2026-13-30T10:25:13Z",
            "2026-02-29T10:25:13Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T10:25:13.Z",
            "2026-11-30T10:25:13.1234567890Z",
            "2026-11-30T10:25:13+0100",
            "2026-11-30T10:25:13++1:00",
            "2026-11-30 10:25:13Z",
            "2026-11-30T10:25:13Zjunk",
            "２026-11-30T10:25:13Z",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
