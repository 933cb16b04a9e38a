//! Knot DNS's offline-KSK KSR and SKR (`keymgr generate-ksr`, `sign-ksr`, `import-skr`).
//!
//! Knot DNS 3.2 (Debian 12) writes both documents as zone-file records in
//! its multi-line layout, one bundle per header line, and a closing line
//! (tabs shown as spaces):
//!
//! ```text
//! ;; KeySigningRequest 1.0 1795959383 (2026-11-29T13:36:23Z) =========
//! example.                172800 DNSKEY 256 3 8 (
//!                 AwEAAbu+saxzpIh1CwRdwgulcmMlaQJF9LMCqZ7l
//!                 …
//!                 ) ; ZSK, RSASHA256 (2048b), id = 26661
//! ;; KeySigningRequest 1.0 generated at 2026-11-29T13:36:23Z by Knot DNS 3.2.6
//! ```
//!
//! A KSR bundle is the ZSK DNSKEY RRset from one instant (a key event, and
//! the end of the requested period) to the next. There is no proof of
//! possession: bundles carry no signatures, and [`Ksr::proof_of_possession`]
//! is [`ProofOfPossession::NotInFormat`].
//!
//! An SKR (`;; SignedKeyResponse 1.0 …`) has a bundle for every KSR instant
//! and, between them, one every `rrsig-lifetime − rrsig-refresh`. Each holds
//! the DNSKEY RRset (ZSKs and KSKs, in canonical order), the CDNSKEY and CDS
//! RRsets when the KSK side's `cds-cdnskey-publish` publishes them (TTL 0),
//! and one RRSIG RRset over all of them, sorted canonically: DNSKEY, CDS,
//! CDNSKEY. Knot signs from 90 minutes before the bundle's instant to
//! `rrsig-lifetime` after it.
//!
//! How this maps onto the model:
//!
//! * a bundle's id is its instant as the header writes it (Unix seconds),
//!   its inception that instant; a KSR bundle's expiration is the next
//!   bundle's instant (the last one's is its own), an SKR bundle's the
//!   earliest expiration of its DNSKEY RRSIGs;
//! * the header's id is the first bundle's, its serial 0, its domain the
//!   records' owner; keys and signatures are identified by key tag;
//! * the document's timestamp is the closing line's time, and the program
//!   it names is kept in [`TextKsr::generator`] / [`TextSkr::generator`];
//! * CDNSKEY, CDS and their RRSIGs go to [`TextSkr::extra`]; the DNSKEY
//!   RRSIGs to each bundle's signatures;
//! * the ZSK and KSK policies, which the format does not state, have zero
//!   periods and the algorithms of the keys.
//!
//! Writing reproduces Knot's output byte for byte, records in the order
//! the model holds them (a reader keeps the file's order).
//!
//! [`Ksr::proof_of_possession`]: crate::Ksr::proof_of_possession
//! [`ProofOfPossession::NotInFormat`]: crate::model::ProofOfPossession::NotInFormat

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::knot_bind::{
    self, base64, chunks, format_compact_time, hex_upper, parse_number, type_name, Dialect,
    HeaderValue, Kind, CDNSKEY, CDS, DNSKEY,
};
use crate::model::{Bundle, Cds, Key, Signature, TextDocument, TextKsr, TextSkr};
use crate::Error;

/// The Knot DNS version whose layout [`write_ksr`] and [`write_skr`] reproduce.
pub const KNOT_VERSION: &str = "Knot DNS 3.2.6";

/// Parses a Knot DNS KSR or SKR; `file` names the source in error messages.
///
/// # Errors
/// [`Error::Invalid`], with line and column, for anything Knot would not
/// write: an unknown `;;` line, a record that is not DNSKEY, CDNSKEY, CDS
/// or RRSIG, a header whose two times disagree, a missing closing line.
pub fn parse(text: &str, file: &str) -> Result<TextDocument, Error> {
    knot_bind::read(text, file, &mut Knot)
}

/// Parses a document that must be a Knot DNS KSR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is an SKR.
pub fn parse_ksr(text: &str, file: &str) -> Result<TextKsr, Error> {
    knot_bind::expect_ksr(parse(text, file)?, file)
}

/// Parses a document that must be a Knot DNS SKR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is a KSR.
pub fn parse_skr(text: &str, file: &str) -> Result<TextSkr, Error> {
    knot_bind::expect_skr(parse(text, file)?, file)
}

/// Writes a KSR as `keymgr generate-ksr` does.
///
/// The closing line's time is the KSR's timestamp, or its last bundle's
/// inception when it has none.
pub fn write_ksr(text: &TextKsr) -> String {
    let ksr = &text.ksr;
    let mut out = String::with_capacity(1024 * ksr.bundles.len().max(1));
    let owner = &ksr.header.domain;
    for bundle in &ksr.bundles {
        bundle_header(&mut out, Kind::Request, bundle.inception);
        for key in &bundle.keys {
            dnskey_record(&mut out, owner, DNSKEY, key);
        }
    }
    let generated = ksr
        .timestamp
        .or_else(|| ksr.bundles.last().map(|b| b.inception))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trailer(&mut out, Kind::Request, generated, &text.generator);
    out
}

/// Writes an SKR as `keymgr sign-ksr` does.
///
/// Each bundle is written as its DNSKEY records, its CDNSKEY and CDS
/// records, then its DNSKEY RRSIGs and the extra RRSIGs, all in the order
/// held. Knot sorts each RRset canonically; a signer producing an SKR for
/// Knot must hold them so.
pub fn write_skr(text: &TextSkr) -> String {
    let skr = &text.skr;
    let mut out = String::with_capacity(2048 * skr.bundles.len().max(1));
    let owner = &skr.header.domain;
    for (i, bundle) in skr.bundles.iter().enumerate() {
        let extra = text.extra(i);
        bundle_header(&mut out, Kind::Response, bundle.inception);
        for key in &bundle.keys {
            dnskey_record(&mut out, owner, DNSKEY, key);
        }
        for key in &extra.cdnskeys {
            dnskey_record(&mut out, owner, CDNSKEY, key);
        }
        for cds in &extra.cds {
            cds_record(&mut out, owner, cds);
        }
        for sig in bundle.signatures.iter().chain(&extra.signatures) {
            rrsig_record(&mut out, owner, sig);
        }
    }
    let generated = skr
        .timestamp
        .or_else(|| skr.bundles.last().map(|b: &Bundle| b.inception))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trailer(&mut out, Kind::Response, generated, &text.generator);
    out
}

fn iso(instant: Timestamp) -> String {
    instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn bundle_header(out: &mut String, kind: Kind, instant: Timestamp) {
    let _ = writeln!(
        out,
        ";; {} 1.0 {} ({}) =========",
        kind.word(),
        instant.as_second(),
        iso(instant)
    );
}

fn trailer(out: &mut String, kind: Kind, instant: Timestamp, generator: &str) {
    let _ = writeln!(
        out,
        ";; {} 1.0 generated at {} by {generator}",
        kind.word(),
        iso(instant)
    );
}

/// Owner padded to 20 columns, then a tab (a space after long names), as `knot_rrset_txt_dump` does.
fn owner_column(out: &mut String, owner: &str, ttl: u32, rtype: u16) {
    let separator = if owner.len() < 32 { '\t' } else { ' ' };
    let _ = write!(out, "{owner:<20}{separator}{ttl} {} ", type_name(rtype));
}

/// Data in 40-character lines, each on a new line indented by four tabs.
fn wrapped(out: &mut String, data: &str) {
    for (i, chunk) in chunks(data, 40).enumerate() {
        if i > 0 {
            out.push_str(INDENT);
        }
        out.push_str(chunk);
    }
}

const INDENT: &str = "\n\t\t\t\t";

fn dnskey_record(out: &mut String, owner: &str, rtype: u16, key: &Key) {
    let dnskey = &key.dnskey;
    owner_column(out, owner, key.ttl, rtype);
    let _ = write!(
        out,
        "{} {} {} ({INDENT}",
        dnskey.flags(),
        dnskey.protocol(),
        dnskey.algorithm().to_int()
    );
    wrapped(out, &base64(dnskey.public_key()));
    let _ = writeln!(out, "{INDENT}) ; {}", key_note(dnskey));
}

fn cds_record(out: &mut String, owner: &str, cds: &Cds) {
    owner_column(out, owner, cds.ttl, CDS);
    let ds = &cds.ds;
    let _ = write!(
        out,
        "{} {} {} ({INDENT}",
        ds.key_tag,
        ds.algorithm.to_int(),
        ds.digest_type.to_int()
    );
    wrapped(out, &hex_upper(&ds.digest));
    let _ = writeln!(out, "{INDENT})");
}

fn rrsig_record(out: &mut String, owner: &str, sig: &Signature) {
    owner_column(out, owner, sig.ttl, knot_bind::RRSIG);
    let _ = write!(
        out,
        "{} {} {} {} {} ({INDENT}{} {} {}{INDENT}",
        type_name(sig.type_covered),
        sig.algorithm.to_int(),
        sig.labels,
        sig.original_ttl,
        format_compact_time(sig.expiration),
        format_compact_time(sig.inception),
        sig.key_tag,
        sig.signers_name
    );
    wrapped(out, &base64(&sig.signature_data));
    let _ = writeln!(out, "{INDENT})");
}

/// Knot's note on a key: `KSK, RSASHA256 (2048b), id = 33775`.
fn key_note(dnskey: &ceremony_dnssec::Dnskey) -> String {
    let role = if dnskey.is_sep() { "KSK" } else { "ZSK" };
    let algorithm = dnskey.algorithm().to_int();
    format!(
        "{role}, {} ({}b), id = {}",
        knot_algorithm_name(algorithm),
        knot_key_bits(algorithm, dnskey.public_key()),
        dnskey.key_tag()
    )
}

/// Knot's names for DNSSEC algorithms (`knot_dnssec_alg_names`).
fn knot_algorithm_name(algorithm: u8) -> &'static str {
    match algorithm {
        1 => "RSAMD5",
        2 => "DH",
        3 => "DSA",
        5 => "RSASHA1",
        6 => "DSA_NSEC3_SHA1",
        7 => "RSASHA1_NSEC3_SHA1",
        8 => "RSASHA256",
        10 => "RSASHA512",
        12 => "ECC_GOST",
        13 => "ECDSAP256SHA256",
        14 => "ECDSAP384SHA384",
        15 => "ED25519",
        16 => "ED448",
        _ => "UNKNOWN",
    }
}

/// The key size Knot prints: RSA modulus bits from the RFC 3110 encoding, curve sizes otherwise.
fn knot_key_bits(algorithm: u8, key: &[u8]) -> usize {
    match algorithm {
        1 | 5 | 7 | 8 | 10 => match key {
            [0, hi, lo, rest @ ..] => {
                let exponent = usize::from(u16::from_be_bytes([*hi, *lo]));
                rest.len().saturating_sub(exponent) * 8
            }
            [length, rest @ ..] => rest.len().saturating_sub(usize::from(*length)) * 8,
            [] => 0,
        },
        3 | 6 => key.first().map_or(0, |t| (64 + 8 * usize::from(*t)) * 8),
        12 => 512,
        13 | 15 => 256,
        14 => 384,
        16 => 456,
        _ => 0,
    }
}

/// Knot DNS's header syntax.
struct Knot;

impl Dialect for Knot {
    const NAME: &'static str = "Knot DNS";
    const EXAMPLE: &'static str =
        ";; KeySigningRequest 1.0 1795959383 (2026-11-29T13:36:23Z) =========";
    const MARKS_REQUEST_BUNDLES: bool = false;

    fn header(&mut self, rest: &str) -> Result<HeaderValue, (usize, String)> {
        if let Some(after) = rest.strip_prefix("generated at ") {
            let offset = rest.len() - after.len();
            let (time, by) = after.split_once(' ').unwrap_or((after, ""));
            let time = parse_iso(time).map_err(|why| (offset, why))?;
            let generator = by
                .strip_prefix("by ")
                .filter(|g| !g.trim().is_empty())
                .ok_or_else(|| {
                    (
                        offset + after.len().min(21),
                        "expected \"generated at <time> by <program>\"".to_owned(),
                    )
                })?;
            return Ok(HeaderValue::Trailer {
                time,
                generator: generator.to_owned(),
            });
        }
        let shape = "expected \"<unix seconds> (<YYYY-MM-DDTHH:MM:SSZ>) =========\"";
        let (seconds_text, after) = rest.split_once(' ').ok_or((0, shape.to_owned()))?;
        let seconds = parse_number(seconds_text, i64::MAX as u64)
            .ok_or((0, format!("{seconds_text:?} is not Unix seconds; {shape}")))?;
        let time = Timestamp::from_second(seconds as i64)
            .map_err(|_| (0, format!("{seconds_text}: out of range")))?;
        let iso_offset = seconds_text.len() + 2;
        let (iso_text, tail) = after
            .strip_prefix('(')
            .and_then(|a| a.split_once(')'))
            .ok_or((seconds_text.len() + 1, shape.to_owned()))?;
        let written = parse_iso(iso_text).map_err(|why| (iso_offset, why))?;
        if written != time {
            return Err((
                iso_offset,
                format!("{iso_text} is not {seconds_text}, which is {}", iso(time)),
            ));
        }
        let equals = tail.strip_prefix(' ').unwrap_or("");
        if equals.is_empty() || !equals.bytes().all(|b| b == b'=') {
            return Err((iso_offset + iso_text.len() + 2, shape.to_owned()));
        }
        Ok(HeaderValue::Bundle {
            id: seconds_text.to_owned(),
            time,
        })
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`, the only form Knot writes.
fn parse_iso(text: &str) -> Result<Timestamp, String> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 20
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(format!("{text:?} is not a time like 2026-11-29T13:36:23Z"));
    }
    let compact: String = text.chars().filter(char::is_ascii_digit).collect();
    knot_bind::parse_compact_time(&compact).map_err(|why| format!("{text}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_sizes_follow_knot() {
        // RSA: one length octet, a 3-octet exponent, then the modulus.
        let mut rsa = vec![3, 1, 0, 1];
        rsa.extend([0xAB; 256]);
        assert_eq!(knot_key_bits(8, &rsa), 2048);
        // A long exponent has a zero octet and a two-octet length first.
        let mut long = vec![0, 0, 3, 1, 0, 1];
        long.extend([0xAB; 128]);
        assert_eq!(knot_key_bits(8, &long), 1024);
        assert_eq!(knot_key_bits(13, &[0; 64]), 256);
        assert_eq!(knot_key_bits(15, &[0; 32]), 256);
        assert_eq!(knot_key_bits(99, &[0; 32]), 0);
    }

    #[test]
    fn iso_times_are_strict() {
        assert!(parse_iso("2026-11-29T13:36:23Z").is_ok());
        for bad in [
            "2026-11-29T13:36:23",
            "2026-11-29T13:36:23+00:00",
            "2026-11-29 13:36:23Z",
            "2026-02-30T13:36:23Z",
        ] {
            assert!(parse_iso(bad).is_err(), "{bad}");
        }
    }
}
