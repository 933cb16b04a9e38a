//! BIND 9's offline-KSK KSR and SKR (`dnssec-ksr request`, `sign`; `rndc skr -import`).
//!
//! BIND 9.20 writes one-line records in its debug dump style (columns at 24,
//! 32, 40 and 48, base64 in 56-character words), one bundle per header line
//! (tabs shown as spaces):
//!
//! ```text
//! ;; KeySigningRequest 1.0 20261129133750 (Sun Nov 29 13:37:50 2026)
//! example.        172800    IN    DNSKEY    256 3 8 AwEAAd7Do2WyMQbQQk5Qt3aA/HW/9kueiOCbU6uIyoNaXhDcaGY5mVo7 w1Gi…
//! ;; KeySigningRequest 1.0 generated at Sun Nov 29 13:37:50 2026 by 9.20.23-1~deb13u1~bpo12+1-Debian
//! ```
//!
//! The header's `YYYYMMDDHHMMSS` is UTC; the text in parentheses and the
//! closing line's time are `ctime(3)`, in the local time of the machine
//! that ran `dnssec-ksr`. The reader takes the instant from the digits,
//! accepts a parenthesised time at any whole-quarter-hour offset within
//! 14 hours, and reads the closing time at the offset the last header
//! showed. The writer writes UTC throughout, so a file from a machine
//! on UTC (as `dnssec-ksr` runs in a ceremony) round-trips byte for byte.
//!
//! A KSR bundle is the ZSK DNSKEY RRset from one key event to the next;
//! there is no proof of possession ([`ProofOfPossession::NotInFormat`]).
//!
//! `dnssec-ksr sign` answers each KSR bundle with one or more SKR bundles:
//! the first at the KSR bundle's instant, then one every
//! `signatures-validity-dnskey − signatures-refresh` while that is before the
//! next KSR bundle (KSK events add bundles too); the last KSR bundle is
//! answered up to the end given with `-e`. A blank line separates the
//! answers to consecutive KSR bundles, which the reader records as
//! [`ExtraRecords::starts_request_bundle`]. Each SKR bundle holds the DNSKEY
//! RRset (KSKs, then the KSR's ZSKs) and its RRSIGs, then the CDNSKEY RRset
//! and its RRSIGs, then the CDS RRset and its RRSIGs. Every RRSIG runs from
//! one hour before the bundle's instant to `signatures-validity-dnskey`
//! after it.
//!
//! The mapping onto the model is the one of [`crate::knot`], with ids in
//! the `YYYYMMDDHHMMSS` form.
//!
//! [`ProofOfPossession::NotInFormat`]: crate::model::ProofOfPossession::NotInFormat
//! [`ExtraRecords::starts_request_bundle`]: crate::model::ExtraRecords::starts_request_bundle

use std::fmt::Write as _;

use jiff::civil::{DateTime, Weekday};
use jiff::tz::Offset;
use jiff::Timestamp;

use crate::knot_bind::{
    self, base64, chunks, covering, format_compact_time, hex_upper, parse_compact_time, type_name,
    Dialect, HeaderValue, Kind, CDNSKEY, CDS, DNSKEY,
};
use crate::model::{Cds, Key, Signature, TextDocument, TextKsr, TextSkr};
use crate::Error;

/// The BIND version whose layout [`write_ksr`] and [`write_skr`] reproduce,
/// as `dnssec-ksr` names itself on Debian 12 with bookworm-backports.
pub const BIND_VERSION: &str = "9.20.23-1~deb13u1~bpo12+1-Debian";

/// Parses a BIND 9 KSR or SKR; `file` names the source in error messages.
///
/// # Errors
/// [`Error::Invalid`], with line and column, for anything `dnssec-ksr`
/// would not write (see [`crate::knot::parse`]).
pub fn parse(text: &str, file: &str) -> Result<TextDocument, Error> {
    knot_bind::read(text, file, &mut Bind { offset: 0 })
}

/// Parses a document that must be a BIND 9 KSR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is an SKR.
pub fn parse_ksr(text: &str, file: &str) -> Result<TextKsr, Error> {
    knot_bind::expect_ksr(parse(text, file)?, file)
}

/// Parses a document that must be a BIND 9 SKR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is a KSR.
pub fn parse_skr(text: &str, file: &str) -> Result<TextSkr, Error> {
    knot_bind::expect_skr(parse(text, file)?, file)
}

/// Writes a KSR as `dnssec-ksr request` does on a machine in UTC.
///
/// The closing line's time is the KSR's timestamp, or its first bundle's
/// inception when it has none.
pub fn write_ksr(text: &TextKsr) -> String {
    let ksr = &text.ksr;
    let mut out = String::with_capacity(512 * ksr.bundles.len().max(1));
    let owner = &ksr.header.domain;
    for bundle in &ksr.bundles {
        bundle_header(&mut out, Kind::Request, bundle.inception);
        for key in &bundle.keys {
            dnskey_line(&mut out, owner, DNSKEY, key);
        }
    }
    let generated = ksr
        .timestamp
        .or_else(|| ksr.bundles.first().map(|b| b.inception))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trailer(&mut out, Kind::Request, generated, &text.generator);
    out
}

/// Writes an SKR as `dnssec-ksr sign` does on a machine in UTC.
///
/// RRSIGs in a bundle's signatures are written after the DNSKEY RRset;
/// those in its extra records after the CDNSKEY or CDS RRset they cover.
pub fn write_skr(text: &TextSkr) -> String {
    let skr = &text.skr;
    let mut out = String::with_capacity(2048 * skr.bundles.len().max(1));
    let owner = &skr.header.domain;
    for (i, bundle) in skr.bundles.iter().enumerate() {
        let extra = text.extra(i);
        if i > 0 && extra.starts_request_bundle {
            out.push('\n');
        }
        bundle_header(&mut out, Kind::Response, bundle.inception);
        for key in &bundle.keys {
            dnskey_line(&mut out, owner, DNSKEY, key);
        }
        for sig in &bundle.signatures {
            rrsig_line(&mut out, owner, sig);
        }
        if !extra.cdnskeys.is_empty() {
            for key in &extra.cdnskeys {
                dnskey_line(&mut out, owner, CDNSKEY, key);
            }
            for sig in covering(&extra.signatures, CDNSKEY) {
                rrsig_line(&mut out, owner, sig);
            }
        }
        if !extra.cds.is_empty() {
            for cds in &extra.cds {
                cds_line(&mut out, owner, cds);
            }
            for sig in covering(&extra.signatures, CDS) {
                rrsig_line(&mut out, owner, sig);
            }
        }
        for sig in extra
            .signatures
            .iter()
            .filter(|s| s.type_covered != CDNSKEY && s.type_covered != CDS)
        {
            rrsig_line(&mut out, owner, sig);
        }
    }
    let generated = skr
        .timestamp
        .or_else(|| skr.bundles.first().map(|b| b.inception))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trailer(&mut out, Kind::Response, generated, &text.generator);
    out
}

/// `ctime(3)` without its newline: `Wed Sep  8 14:37:46 2027`.
fn ctime(instant: Timestamp) -> String {
    instant.strftime("%a %b %e %H:%M:%S %Y").to_string()
}

fn bundle_header(out: &mut String, kind: Kind, instant: Timestamp) {
    let _ = writeln!(
        out,
        ";; {} 1.0 {} ({})",
        kind.word(),
        format_compact_time(instant),
        ctime(instant)
    );
}

fn trailer(out: &mut String, kind: Kind, instant: Timestamp, generator: &str) {
    let _ = writeln!(
        out,
        ";; {} 1.0 generated at {} by {generator}",
        kind.word(),
        ctime(instant)
    );
}

/// One record in BIND's debug dump style: owner, then TTL, class, type and
/// data at columns 24, 32, 40 and 48, reached with tabs (`masterdump.c`).
fn line(out: &mut String, owner: &str, ttl: u32, rtype: u16, rdata: &str) {
    let mut column = 0;
    for (text, next_column) in [
        (owner.to_owned(), 24),
        (ttl.to_string(), 32),
        ("IN".to_owned(), 40),
        (type_name(rtype), 48),
    ] {
        out.push_str(&text);
        column += text.len();
        indent(out, &mut column, next_column);
    }
    out.push_str(rdata);
    out.push('\n');
}

/// Moves to column `to` with tabs of width 8, then spaces; at least one blank.
fn indent(out: &mut String, column: &mut usize, to: usize) {
    let to = to.max(*column + 1);
    let tabs = to / 8 - *column / 8;
    let mut from = *column;
    if tabs > 0 {
        out.extend(std::iter::repeat_n('\t', tabs));
        from = to / 8 * 8;
    }
    out.extend(std::iter::repeat_n(' ', to - from));
    *column = to;
}

/// Base64 or hex in 56-character words separated by spaces.
fn words(data: &str) -> String {
    chunks(data, 56).collect::<Vec<_>>().join(" ")
}

fn dnskey_line(out: &mut String, owner: &str, rtype: u16, key: &Key) {
    let dnskey = &key.dnskey;
    let rdata = format!(
        "{} {} {} {}",
        dnskey.flags(),
        dnskey.protocol(),
        dnskey.algorithm().to_int(),
        words(&base64(dnskey.public_key()))
    );
    line(out, owner, key.ttl, rtype, &rdata);
}

fn cds_line(out: &mut String, owner: &str, cds: &Cds) {
    let ds = &cds.ds;
    let rdata = format!(
        "{} {} {} {}",
        ds.key_tag,
        ds.algorithm.to_int(),
        ds.digest_type.to_int(),
        words(&hex_upper(&ds.digest))
    );
    line(out, owner, cds.ttl, CDS, &rdata);
}

fn rrsig_line(out: &mut String, owner: &str, sig: &Signature) {
    let rdata = format!(
        "{} {} {} {} {} {} {} {} {}",
        type_name(sig.type_covered),
        sig.algorithm.to_int(),
        sig.labels,
        sig.original_ttl,
        format_compact_time(sig.expiration),
        format_compact_time(sig.inception),
        sig.key_tag,
        sig.signers_name,
        words(&base64(&sig.signature_data))
    );
    line(out, owner, sig.ttl, knot_bind::RRSIG, &rdata);
}

/// BIND's header syntax; remembers the local-time offset the last header showed.
struct Bind {
    offset: i32,
}

/// The largest local-time offset accepted in a parenthesised time.
const MAX_OFFSET: i32 = 14 * 3600;

impl Dialect for Bind {
    const NAME: &'static str = "BIND 9";
    const EXAMPLE: &'static str =
        ";; KeySigningRequest 1.0 20261129133750 (Sun Nov 29 13:37:50 2026)";
    const MARKS_REQUEST_BUNDLES: bool = true;

    fn header(&mut self, rest: &str) -> Result<HeaderValue, (usize, String)> {
        if let Some(after) = rest.strip_prefix("generated at ") {
            let offset = rest.len() - after.len();
            if after.len() < 24 || !after.is_char_boundary(24) {
                return Err((
                    offset,
                    "expected \"generated at <ctime> by <version>\"".to_owned(),
                ));
            }
            let (time, by) = after.split_at(24);
            let local = parse_ctime(time).map_err(|why| (offset, why))?;
            let instant = Offset::from_seconds(self.offset)
                .ok()
                .and_then(|o| o.to_timestamp(local).ok())
                .ok_or((offset, format!("{time}: out of range")))?;
            let generator = by
                .strip_prefix(" by ")
                .filter(|g| !g.trim().is_empty())
                .ok_or((
                    offset + 24,
                    "expected \" by <version>\" after the time".to_owned(),
                ))?;
            return Ok(HeaderValue::Trailer {
                time: instant,
                generator: generator.to_owned(),
            });
        }
        let shape = "expected \"YYYYMMDDHHMMSS (<ctime>)\"";
        let (digits, after) = rest.split_once(' ').ok_or((0, shape.to_owned()))?;
        let instant =
            parse_compact_time(digits).map_err(|why| (0, format!("{digits:?}: {why}; {shape}")))?;
        let local_text = after
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .ok_or((digits.len() + 1, shape.to_owned()))?;
        let local = parse_ctime(local_text).map_err(|why| (digits.len() + 2, why))?;
        let utc = Offset::UTC.to_datetime(instant);
        let difference = local.duration_since(utc).as_secs();
        if difference.abs() > i64::from(MAX_OFFSET) || difference % 900 != 0 {
            return Err((
                digits.len() + 2,
                format!(
                    "({local_text}) is not {digits} in any time zone: it must be the same instant, in UTC or local time"
                ),
            ));
        }
        self.offset = difference as i32;
        Ok(HeaderValue::Bundle {
            id: digits.to_owned(),
            time: instant,
        })
    }
}

/// Parses `ctime(3)` text, `Wed Sep  8 14:37:46 2027`, as a civil time.
fn parse_ctime(text: &str) -> Result<DateTime, String> {
    let bad = || format!("{text:?} is not a ctime(3) time like \"Wed Sep  8 14:37:46 2027\"");
    let bytes = text.as_bytes();
    if bytes.len() != 24 || !text.is_ascii() {
        return Err(bad());
    }
    let weekday = match &text[0..3] {
        "Mon" => Weekday::Monday,
        "Tue" => Weekday::Tuesday,
        "Wed" => Weekday::Wednesday,
        "Thu" => Weekday::Thursday,
        "Fri" => Weekday::Friday,
        "Sat" => Weekday::Saturday,
        "Sun" => Weekday::Sunday,
        _ => return Err(bad()),
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| *m == &text[4..7])
        .ok_or_else(bad)? as i8
        + 1;
    let separators_ok =
        [3, 7, 10, 19].iter().all(|&i| bytes[i] == b' ') && bytes[13] == b':' && bytes[16] == b':';
    let number = |range: std::ops::Range<usize>| -> Option<i32> {
        text[range].trim_start_matches(' ').parse().ok()
    };
    let day_ok = bytes[8] == b' ' && bytes[9].is_ascii_digit()
        || bytes[8].is_ascii_digit() && bytes[8] != b'0' && bytes[9].is_ascii_digit();
    let digits_ok = [11, 12, 14, 15, 17, 18, 20, 21, 22, 23]
        .iter()
        .all(|&i| bytes[i].is_ascii_digit());
    if !separators_ok || !day_ok || !digits_ok {
        return Err(bad());
    }
    let (Some(day), Some(hour), Some(minute), Some(second), Some(year)) = (
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
        number(20..24),
    ) else {
        return Err(bad());
    };
    let civil = DateTime::new(
        year as i16,
        month,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        0,
    )
    .map_err(|_| format!("{text:?}: no such date or time"))?;
    if civil.weekday() != weekday {
        return Err(format!("{text:?}: that date is a {:?}", civil.weekday()));
    }
    Ok(civil)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_follows_masterdump() {
        let mut out = String::new();
        line(&mut out, "example.", 172800, DNSKEY, "x");
        assert_eq!(out, "example.\t\t172800\tIN\tDNSKEY\tx\n");
        out.clear();
        line(&mut out, ".", 172800, knot_bind::RRSIG, "x");
        assert_eq!(out, ".\t\t\t172800\tIN\tRRSIG\tx\n");
        out.clear();
        line(
            &mut out,
            "a-name-longer-than-24-chars.example.",
            0,
            CDS,
            "x",
        );
        assert_eq!(out, "a-name-longer-than-24-chars.example. 0 IN CDS\tx\n");
    }

    #[test]
    fn ctime_is_space_padded_and_checked() {
        let t: Timestamp = "2027-09-08T14:37:46Z".parse().expect("valid");
        assert_eq!(ctime(t), "Wed Sep  8 14:37:46 2027");
        assert_eq!(
            parse_ctime("Wed Sep  8 14:37:46 2027").expect("valid"),
            Offset::UTC.to_datetime(t)
        );
        for bad in [
            "Thu Sep  8 14:37:46 2027",
            "Wed Sep 08 14:37:46 2027",
            "Wed Sep  8 14:37:46 27",
            "Wed Sept 8 14:37:46 2027",
        ] {
            assert!(parse_ctime(bad).is_err(), "{bad}");
        }
    }
}
