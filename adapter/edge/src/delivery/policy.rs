//! The delivery rules as pure computation: the retry schedule and its jitter, what follows an
//! attempt that failed, and `Retry-After` (the circuit that spares the senders an outage's
//! timeouts is [`crate::model::circuit`]). Nothing here reads a clock or a store: times come
//! in, decisions go out.

use sha2::{Digest, Sha256};
use tombstone_core::{TaskId, Timestamp};

use crate::model::delivery::DeadReason;

/// The delays before each attempt of a delivery, in seconds: the first is the attempt made while
/// the sender waits (0: at once; more: the delivery is queued without one), each next one
/// counts from the attempt before. An attempt that would come after the last is not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u32>);

/// Why a schedule was refused (the message completes "`retry_schedule_seconds` …").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Nothing in it, or something that is not a whole number.
    #[error(
        "must be comma-separated whole numbers of seconds (e.g. 0,5,300), at most {MAX_ATTEMPTS}"
    )]
    Malformed,
    /// A delay longer than a week.
    #[error("must hold delays of at most {MAX_DELAY_SECONDS} seconds")]
    TooLong,
}

/// The most attempts a schedule may make.
pub const MAX_ATTEMPTS: usize = 20;
/// The longest delay between two attempts: a week.
pub const MAX_DELAY_SECONDS: u32 = 7 * 24 * 60 * 60;
/// How far each delay is moved, either way, so that deliveries queued together do not all come
/// back together: ±20 %.
pub const JITTER_PERCENT: u64 = 20;
/// The longest upstream `Retry-After` honoured: an hour. A longer one is read as an hour.
pub const MAX_RETRY_AFTER_SECONDS: u32 = 60 * 60;

impl RetrySchedule {
    /// The Standard Webhooks schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
    /// 24 h.
    pub const STANDARD: &'static str = "0,5,300,1800,7200,18000,36000,50400,72000,86400";

    /// Parses comma-separated delays in seconds.
    pub fn parse(text: &str) -> Result<RetrySchedule, ScheduleError> {
        let delays = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ScheduleError::Malformed);
                }
                match part.parse::<u64>() {
                    Ok(n) if n <= u64::from(MAX_DELAY_SECONDS) => Ok(n as u32),
                    _ => Err(ScheduleError::TooLong),
                }
            })
            .collect::<Result<Vec<u32>, _>>()?;
        if delays.is_empty() || delays.len() > MAX_ATTEMPTS {
            return Err(ScheduleError::Malformed);
        }
        Ok(RetrySchedule(delays))
    }

    /// The Standard Webhooks schedule.
    pub fn standard() -> RetrySchedule {
        RetrySchedule::parse(RetrySchedule::STANDARD).expect("the standard schedule parses")
    }

    /// How many attempts it makes in all.
    pub fn attempts(&self) -> u32 {
        self.0.len() as u32
    }

    /// Whether the first attempt is made while the sender waits.
    pub fn tries_at_once(&self) -> bool {
        self.0[0] == 0
    }

    /// The delay before attempt number `step` (0: the first) of `task`, jittered, in
    /// milliseconds; `None` once the schedule is done.
    pub fn delay_ms(&self, step: u32, task: &TaskId) -> Option<u64> {
        let seconds = *self.0.get(step as usize)?;
        Some(jittered(u64::from(seconds) * 1000, task, step))
    }
}

impl Default for RetrySchedule {
    fn default() -> RetrySchedule {
        RetrySchedule::standard()
    }
}

/// `delay_ms` moved by up to ±[`JITTER_PERCENT`], the same way every time for the same
/// delivery and step (a hash, not randomness: the edge reads no random source).
pub fn jittered(delay_ms: u64, task: &TaskId, step: u32) -> u64 {
    let span = delay_ms * JITTER_PERCENT / 100;
    if span == 0 {
        return delay_ms;
    }
    let digest = Sha256::new()
        .chain_update(task.as_str().as_bytes())
        .chain_update(step.to_le_bytes())
        .finalize();
    let draw = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    // A point in [delay - span, delay + span].
    delay_ms - span + draw % (2 * span + 1)
}

/// What follows an attempt that failed for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Stop: the delivery is a dead letter.
    Dead(DeadReason),
}

/// What follows attempt number `step` (0: the first) of a delivery that failed for now, at
/// `now`: the schedule's next delay (at least the upstream's `Retry-After`, within
/// [`MAX_RETRY_AFTER_SECONDS`]), unless the schedule is done ([`DeadReason::Exhausted`]) or the
/// next attempt would come after the upstream stops honouring the delivery's key
/// (`key_expires_at`): a key sent again after that could schedule the deletion a second time
/// if an earlier attempt did reach it ([`DeadReason::KeyExpired`]).
pub fn after_failure(
    schedule: &RetrySchedule,
    step: u32,
    task: &TaskId,
    now: Timestamp,
    retry_after_seconds: Option<u32>,
    key_expires_at: Timestamp,
) -> Next {
    let Some(delay_ms) = schedule.delay_ms(step + 1, task) else {
        return Next::Dead(DeadReason::Exhausted);
    };
    let floor_ms = u64::from(
        retry_after_seconds
            .unwrap_or(0)
            .min(MAX_RETRY_AFTER_SECONDS),
    ) * 1000;
    match now.plus_millis(delay_ms.max(floor_ms)) {
        Some(at) if at < key_expires_at => Next::RetryAt(at),
        _ => Next::Dead(DeadReason::KeyExpired),
    }
}

/// Reads a `Retry-After` value at `now`: delay-seconds, or an HTTP-date (IMF-fixdate, RFC 9110
/// §5.6.7) turned into the seconds until it. `None` for anything else.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(u32::MAX, |n| n.min(u64::from(u32::MAX)) as u32),
        );
    }
    let at = http_date(value)?;
    let seconds = (at - now.unix_seconds()).max(0);
    Some(seconds.min(i64::from(u32::MAX)) as u32)
}

/// Unix seconds of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split(' ');
    let (_day_name, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let rfc3339 = format!("{year}-{month:02}-{day}T{time}Z");
    Timestamp::parse(&rfc3339).ok().map(Timestamp::unix_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn task() -> TaskId {
        tombstone_core::task_id("acme-vet", "k-1").unwrap()
    }

    #[test]
    fn schedules_parse_and_refuse_what_they_cannot_be() {
        let standard = RetrySchedule::standard();
        assert_eq!(standard.attempts(), 10);
        assert!(standard.tries_at_once());
        assert_eq!(RetrySchedule::parse(" 0, 1 ,2").unwrap().attempts(), 3);
        assert!(!RetrySchedule::parse("5,60").unwrap().tries_at_once());
        for bad in ["", ",", "0,,1", "1.5", "-1", "x", "0 1"] {
            assert_eq!(
                RetrySchedule::parse(bad),
                Err(ScheduleError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            RetrySchedule::parse(&vec!["1"; MAX_ATTEMPTS + 1].join(",")),
            Err(ScheduleError::Malformed)
        );
        assert_eq!(
            RetrySchedule::parse("0,604801"),
            Err(ScheduleError::TooLong)
        );
        assert_eq!(
            RetrySchedule::parse("0,99999999999999999999"),
            Err(ScheduleError::TooLong)
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_spreads_deliveries() {
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..200 {
            let task = tombstone_core::task_id("acme-vet", &format!("k-{n}")).unwrap();
            let delay = jittered(300_000, &task, 3);
            assert!((240_000..=360_000).contains(&delay), "{delay}");
            assert_eq!(delay, jittered(300_000, &task, 3), "the same every time");
            seen.insert(delay / 10_000);
        }
        assert!(seen.len() >= 10, "spread over the range: {seen:?}");
        assert_eq!(jittered(0, &task(), 0), 0, "at once stays at once");
    }

    #[test]
    fn a_failure_waits_its_step_or_the_upstreams_retry_after_whichever_is_longer() {
        let schedule = RetrySchedule::parse("0,1,10").unwrap();
        let now = at("2026-03-01T12:00:00Z");
        let expires = at("2026-03-02T12:00:00Z");
        let task = task();
        let Next::RetryAt(first) = after_failure(&schedule, 0, &task, now, None, expires) else {
            panic!("the schedule has a next step")
        };
        let waited = first.millis_since(now);
        assert!((800..=1200).contains(&waited), "{waited}");
        let Next::RetryAt(later) = after_failure(&schedule, 0, &task, now, Some(3), expires) else {
            panic!("retry-after moves the attempt, not the schedule")
        };
        assert_eq!(later.millis_since(now), 3000);
        let Next::RetryAt(capped) =
            after_failure(&schedule, 0, &task, now, Some(u32::MAX), expires)
        else {
            panic!()
        };
        assert_eq!(
            capped.millis_since(now),
            i64::from(MAX_RETRY_AFTER_SECONDS) * 1000
        );
        assert_eq!(
            after_failure(&schedule, 2, &task, now, None, expires),
            Next::Dead(DeadReason::Exhausted)
        );
        // The next attempt would come after the key stops being honoured.
        let soon = at("2026-03-01T12:00:05Z");
        assert_eq!(
            after_failure(&schedule, 1, &task, now, None, soon),
            Next::Dead(DeadReason::KeyExpired)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = at("1994-11-06T08:49:00Z");
        assert_eq!(parse_retry_after("3", now), Some(3));
        assert_eq!(parse_retry_after(" 120 ", now), Some(120));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(37)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:48:00 GMT", now),
            Some(0)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(u32::MAX)
        );
        for bad in ["", "-1", "soon", "Sun, 06 Nov 1994 08:49:37 UTC", "3.5"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
