//! `xsd:dateTime` as the ICANN files write it, always read as UTC.

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

/// Parses `2017-04-01T00:00:00`, `…Z` or `…+00:00` (any offset) into an instant.
///
/// A time with no zone is UTC: the root's early KSRs were written that way.
///
/// # Errors
/// A message saying what is wrong with the text.
pub fn parse_datetime(text: &str) -> Result<Timestamp, String> {
    let bad =
        |why: &str| format!("{text:?} is not an xsd:dateTime like 2017-04-01T00:00:00Z: {why}");
    if text.len() < 19 || !text.is_char_boundary(19) {
        return Err(bad("too short"));
    }
    let (civil, zone) = text.split_at(19);
    let bytes = civil.as_bytes();
    let shape_ok = bytes.iter().enumerate().all(|(i, b)| match i {
        4 | 7 => *b == b'-',
        10 => *b == b'T',
        13 | 16 => *b == b':',
        _ => b.is_ascii_digit(),
    });
    if !shape_ok {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let civil: DateTime = civil.parse().map_err(|_| bad("no such date or time"))?;
    let offset = match zone {
        "" | "Z" => Offset::UTC,
        _ => parse_offset(zone).ok_or_else(|| bad("the zone must be Z or ±HH:MM"))?,
    };
    let instant = offset
        .to_timestamp(civil)
        .map_err(|_| bad("out of range"))?;
    // A positive offset on the first hours of year 0000 lands before it in
    // UTC, where a year has no four-digit form: the writer could not write
    // the instant in a form this reader accepts.
    if Offset::UTC.to_datetime(instant).year() < 0 {
        return Err(bad("before the year 0000 in UTC"));
    }
    Ok(instant)
}

fn parse_offset(zone: &str) -> Option<Offset> {
    let bytes = zone.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = |s: &[u8]| -> Option<i32> {
        s.iter().try_fold(0i32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + i32::from(b - b'0'))
        })
    };
    let hours = digits(&bytes[1..3])?;
    let minutes = digits(&bytes[4..6])?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// Formats an instant the way the root's SKRs do: `2017-04-01T00:00:00+00:00`.
pub fn format_datetime(instant: Timestamp) -> String {
    instant.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_real_forms_mean_the_same_instant() {
        let expected: Timestamp = "2017-04-01T00:00:00Z".parse().expect("valid");
        for text in [
            "2017-04-01T00:00:00",
            "2017-04-01T00:00:00Z",
            "2017-04-01T00:00:00+00:00",
            "2017-04-01T02:00:00+02:00",
        ] {
            assert_eq!(parse_datetime(text).expect(text), expected, "{text}");
        }
        assert_eq!(format_datetime(expected), "2017-04-01T00:00:00+00:00");
    }

    #[test]
    fn rejects_what_is_not_a_datetime() {
        for text in [
            "",
            "2017-04-01",
            "2017-04-01 00:00:00",
            "2017-02-30T00:00:00",
            "2017-04-01T00:00:00.5",
            "2017-04-01T00:00:00+2",
            "2017-04-01T25:00:00",
            "２017-04-01T00:00:00",
            "-017-04-01T00:00:00",
            "0000-01-01T00:00:00+00:01",
        ] {
            assert!(parse_datetime(text).is_err(), "{text} should fail");
        }
    }
}
