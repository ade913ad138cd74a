//! RFC 3339 timestamps, just enough for `received_at` and `scheduled_for`.
//!
//! The core reads no clock: the caller passes `received_at` once and every other time is computed
//! from it. Timestamps are normalized to UTC with a `Z` and keep the caller's fractional-second
//! precision, so `scheduled_for` reads like `received_at`.

use std::fmt;

use serde::{Serialize, Serializer};

/// An instant in UTC with the number of fractional-second digits to print (0–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
    fraction_digits: u8,
}

/// Why a timestamp was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z")]
pub struct TimestampError;

// Years 0001–9999 only: what RFC 3339 can write.
const MIN_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl Timestamp {
    /// From Unix seconds and nanoseconds, printed with `fraction_digits` digits (clamped to 9).
    pub fn from_unix(seconds: i64, nanos: u32, fraction_digits: u8) -> Option<Timestamp> {
        ((MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && nanos < 1_000_000_000).then_some(
            Timestamp {
                seconds,
                nanos,
                fraction_digits: fraction_digits.min(9),
            },
        )
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.seconds
    }

    /// Nanoseconds past the second.
    pub fn nanos(self) -> u32 {
        self.nanos
    }

    /// This instant plus `seconds`, or `None` past year 9999.
    pub fn plus_seconds(self, seconds: u32) -> Option<Timestamp> {
        Timestamp::from_unix(
            self.seconds + i64::from(seconds),
            self.nanos,
            self.fraction_digits,
        )
    }

    /// This instant plus `millis` milliseconds (printed to the millisecond at least), or `None`
    /// past year 9999.
    pub fn plus_millis(self, millis: u64) -> Option<Timestamp> {
        let total = u64::from(self.nanos) + (millis % 1000) * 1_000_000;
        let seconds = i64::try_from(millis / 1000 + total / 1_000_000_000).ok()?;
        Timestamp::from_unix(
            self.seconds.checked_add(seconds)?,
            (total % 1_000_000_000) as u32,
            self.fraction_digits.max(3),
        )
    }

    /// Milliseconds from `earlier` to this instant (negative when `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        (self.seconds - earlier.seconds) * 1000
            + (i64::from(self.nanos) - i64::from(earlier.nanos)) / 1_000_000
    }

    /// Parses an RFC 3339 date-time (`T` or `t`, `Z`/`z` or a numeric offset) into UTC.
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let b = s.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let digits = b.get(range).ok_or(TimestampError)?;
            digits.iter().try_fold(0i64, |acc, &d| {
                d.is_ascii_digit()
                    .then(|| acc * 10 + i64::from(d - b'0'))
                    .ok_or(TimestampError)
            })
        };
        let at = |i: usize, expected: &[u8]| -> Result<(), TimestampError> {
            b.get(i)
                .filter(|c| expected.contains(c))
                .map(|_| ())
                .ok_or(TimestampError)
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        at(4, b"-")?;
        at(7, b"-")?;
        at(10, b"Tt")?;
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        at(13, b":")?;
        at(16, b":")?;
        if year < 1
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(TimestampError);
        }
        let mut i = 19;
        let mut nanos = 0u32;
        let mut fraction_digits = 0u8;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return Err(TimestampError);
            }
            for _ in digits..9 {
                nanos *= 10;
            }
            fraction_digits = digits.min(9) as u8;
        }
        let offset_seconds = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() => {
                at(i + 3, b":")?;
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(TimestampError);
                }
                let offset = oh * 3600 + om * 60;
                if *sign == b'+' {
                    offset
                } else {
                    -offset
                }
            }
            _ => return Err(TimestampError),
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset_seconds;
        Timestamp::from_unix(seconds, nanos, fraction_digits).ok_or(TimestampError)
    }
}

impl Timestamp {
    /// The RFC 3339 text (`2026-01-31T12:00:00.250Z`) in a buffer, digits written directly:
    /// `fmt`'s padding machinery is slow, and this runs for every timestamp of every conversion.
    fn text(&self) -> ([u8; 30], usize) {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut buf = [0u8; 30];
        let mut at = 0;
        let mut put = |n: i64, width: u32, after: u8| {
            // Years are 0001–9999 (`from_unix`, `plus_seconds`); the rest fit their width.
            for i in (0..width).rev() {
                buf[at] = b'0' + (n / 10i64.pow(i) % 10) as u8;
                at += 1;
            }
            buf[at] = after;
            at += 1;
        };
        put(year, 4, b'-');
        put(month, 2, b'-');
        put(day, 2, b'T');
        put(secs / 3600, 2, b':');
        put(secs / 60 % 60, 2, b':');
        if self.fraction_digits > 0 {
            put(secs % 60, 2, b'.');
            let digits = u32::from(self.fraction_digits);
            put(i64::from(self.nanos / 10u32.pow(9 - digits)), digits, b'Z');
        } else {
            put(secs % 60, 2, b'Z');
        }
        (buf, at)
    }

    /// Appends the timestamp as a JSON string (its text needs no escaping).
    pub(crate) fn write_json(&self, out: &mut String) {
        let (buf, len) = self.text();
        out.push('"');
        out.extend(buf[..len].iter().map(|&b| char::from(b)));
        out.push('"');
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (buf, len) = self.text();
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain), proleptic Gregorian.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round(s: &str) -> String {
        Timestamp::parse(s).unwrap().to_string()
    }

    /// What `Display` wrote through `fmt` before it wrote digits directly.
    fn by_fmt(t: Timestamp) -> String {
        let days = t.seconds.div_euclid(86_400);
        let secs = t.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut s = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        if t.fraction_digits > 0 {
            let digits = format!("{:09}", t.nanos);
            s += &format!(".{}", &digits[..usize::from(t.fraction_digits)]);
        }
        s + "Z"
    }

    proptest! {
        #[test]
        fn the_text_is_what_fmt_wrote(
            seconds in MIN_SECONDS..=MAX_SECONDS,
            nanos in 0u32..1_000_000_000,
            digits in 0u8..=9,
        ) {
            let t = Timestamp::from_unix(seconds, nanos, digits).unwrap();
            prop_assert_eq!(t.to_string(), by_fmt(t));
            let mut json = String::new();
            t.write_json(&mut json);
            prop_assert_eq!(json, serde_json::to_string(&t).unwrap());
        }
    }

    #[test]
    fn parses_and_normalizes_to_utc() {
        assert_eq!(round("2026-01-31T12:00:00Z"), "2026-01-31T12:00:00Z");
        assert_eq!(round("2026-01-31t12:00:00.5z"), "2026-01-31T12:00:00.5Z");
        assert_eq!(
            round("2026-01-31T12:00:00.123456789Z"),
            "2026-01-31T12:00:00.123456789Z"
        );
        assert_eq!(round("2026-01-01T01:30:00+02:00"), "2025-12-31T23:30:00Z");
        assert_eq!(round("2024-02-29T23:59:59-00:30"), "2024-03-01T00:29:59Z");
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z")
                .unwrap()
                .unix_seconds(),
            0
        );
    }

    #[test]
    fn refuses_what_rfc3339_does_not_allow() {
        for bad in [
            "",
            "2026-01-31",
            "2026-01-31 12:00:00Z",
            "2026-01-31T12:00:00",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00Zjunk",
            "0000-01-01T00:00:00Z",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(TimestampError), "{bad:?}");
        }
    }

    #[test]
    fn adds_seconds_across_months_and_years() {
        let t = Timestamp::parse("2025-12-31T23:59:30.25Z").unwrap();
        assert_eq!(
            t.plus_seconds(45).unwrap().to_string(),
            "2026-01-01T00:00:15.25Z"
        );
        let end = Timestamp::parse("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(end.plus_seconds(1), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(secs in MIN_SECONDS..=MAX_SECONDS, nanos in 0u32..1_000_000_000) {
            let t = Timestamp::from_unix(secs, nanos, 9).unwrap();
            prop_assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
        }
    }
}
