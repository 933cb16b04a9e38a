//! Whole-second durations, as policies state them in `xsd:duration` form.

use std::fmt;

use jiff::Timestamp;

/// A signed span of whole seconds: policy periods and the differences between bundle times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    seconds: i64,
}

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

impl Duration {
    /// Zero seconds.
    pub const ZERO: Duration = Duration { seconds: 0 };

    /// A duration of `seconds`.
    pub const fn from_seconds(seconds: i64) -> Duration {
        Duration { seconds }
    }

    /// A duration of whole `days`.
    pub const fn from_days(days: i64) -> Duration {
        Duration {
            seconds: days * DAY,
        }
    }

    /// The time from `start` to `end`, negative when `end` is earlier.
    pub fn between(start: Timestamp, end: Timestamp) -> Duration {
        Duration {
            seconds: end.as_second() - start.as_second(),
        }
    }

    /// The number of seconds.
    pub const fn as_seconds(self) -> i64 {
        self.seconds
    }

    /// Parses an `xsd:duration` made of weeks, days, hours, minutes and seconds.
    ///
    /// Years and months are refused: their length depends on the calendar,
    /// and no ceremony policy needs them.
    ///
    /// # Errors
    /// A message saying what is wrong with the text.
    pub fn parse_xsd(text: &str) -> Result<Duration, String> {
        let bad = |why: &str| {
            format!("{text:?} is not an xsd:duration of days, hours, minutes and seconds: {why}")
        };
        let rest = text
            .strip_prefix('P')
            .ok_or_else(|| bad("it must start with 'P'"))?;
        if rest.is_empty() || rest == "T" {
            return Err(bad("it has no fields"));
        }
        let (date_part, time_part) = match rest.split_once('T') {
            Some((date, time)) if !time.is_empty() => (date, Some(time)),
            Some(_) => return Err(bad("'T' must be followed by a time field")),
            None => (rest, None),
        };
        let mut seconds: i64 = 0;
        let mut add = |part: &str, units: &[(char, i64)]| -> Result<(), String> {
            let mut digits = String::new();
            let mut next_unit = 0;
            for ch in part.chars() {
                if ch.is_ascii_digit() {
                    digits.push(ch);
                    continue;
                }
                let position = units[next_unit..]
                    .iter()
                    .position(|(unit, _)| *unit == ch)
                    .ok_or_else(|| match ch {
                        'Y' | 'M' if units[0].0 == 'W' => {
                            bad("years and months have no fixed length")
                        }
                        _ => bad(&format!("unexpected {ch:?}")),
                    })?;
                if digits.is_empty() {
                    return Err(bad(&format!("no number before {ch:?}")));
                }
                let (_, scale) = units[next_unit + position];
                let value: i64 = digits.parse().map_err(|_| bad("number too large"))?;
                seconds = value
                    .checked_mul(scale)
                    .and_then(|v| seconds.checked_add(v))
                    .ok_or_else(|| bad("too long"))?;
                digits.clear();
                next_unit += position + 1;
            }
            if !digits.is_empty() {
                return Err(bad("a number has no unit"));
            }
            Ok(())
        };
        add(date_part, &[('W', 7 * DAY), ('D', DAY)])?;
        if let Some(time) = time_part {
            add(time, &[('H', HOUR), ('M', MINUTE), ('S', 1)])?;
        }
        Ok(Duration { seconds })
    }

    /// The duration in `xsd:duration` form, the way real SKRs write it: `P21D`, `PT0S`, `P14DT23H59M59S`.
    ///
    /// Negative durations have no place in a policy and are written as their magnitude with a leading `-`.
    pub fn to_xsd(self) -> String {
        let sign = if self.seconds < 0 { "-" } else { "" };
        let total = self.seconds.unsigned_abs();
        let (days, rem) = (total / DAY as u64, total % DAY as u64);
        let (hours, rem) = (rem / HOUR as u64, rem % HOUR as u64);
        let (minutes, secs) = (rem / MINUTE as u64, rem % MINUTE as u64);
        let mut out = format!("{sign}P");
        if days > 0 {
            out.push_str(&format!("{days}D"));
        }
        if hours > 0 || minutes > 0 || secs > 0 || days == 0 {
            out.push('T');
            if hours > 0 {
                out.push_str(&format!("{hours}H"));
            }
            if minutes > 0 {
                out.push_str(&format!("{minutes}M"));
            }
            if secs > 0 || (hours == 0 && minutes == 0) {
                out.push_str(&format!("{secs}S"));
            }
        }
        out
    }
}

impl fmt::Display for Duration {
    /// Human form for reports: `21d`, `14d 23h 59m 59s`, `-2d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let total = self.seconds.unsigned_abs();
        let parts = [
            (total / DAY as u64, "d"),
            (total % DAY as u64 / HOUR as u64, "h"),
            (total % HOUR as u64 / MINUTE as u64, "m"),
            (total % MINUTE as u64, "s"),
        ];
        let text: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, unit)| format!("{n}{unit}"))
            .collect();
        if self.seconds < 0 {
            f.write_str("-")?;
        }
        f.write_str(&text.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_real_files_use() {
        for (text, seconds) in [
            ("P21D", 21 * DAY),
            ("PT0S", 0),
            ("P28D", 28 * DAY),
            ("P1W", 7 * DAY),
            ("P14DT23H59M59S", 15 * DAY - 1),
            ("PT1H30M", 90 * MINUTE),
        ] {
            let parsed = Duration::parse_xsd(text).expect(text);
            assert_eq!(parsed.as_seconds(), seconds, "{text}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        for text in ["P21D", "PT0S", "P14DT23H59M59S", "PT1H30M", "P9D", "PT5S"] {
            assert_eq!(Duration::parse_xsd(text).expect(text).to_xsd(), text);
        }
    }

    #[test]
    fn rejects_calendar_units_and_garbage() {
        for text in [
            "",
            "P",
            "PT",
            "21D",
            "P1M",
            "P1Y",
            "P-1D",
            "PD",
            "P1DT",
            "P1H",
            "PT1D",
            "P1D2",
            "P99999999999999999999D",
            "P1S",
        ] {
            assert!(Duration::parse_xsd(text).is_err(), "{text} should fail");
        }
        let err = Duration::parse_xsd("P1M").expect_err("months");
        assert!(err.contains("fixed length"), "{err}");
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(
            Duration::from_seconds(15 * DAY - 1).to_string(),
            "14d 23h 59m 59s"
        );
        assert_eq!(Duration::from_days(-2).to_string(), "-2d");
        assert_eq!(Duration::ZERO.to_string(), "0s");
    }
}
