//! The zone-file layer shared by the Knot DNS and BIND 9 codecs.
//!
//! Both programs write a KSR or SKR as master-file records (RFC 1035 §5)
//! between comment lines that start with `;;`: one header line per bundle,
//! and a closing "generated at" line. They differ only in the header
//! syntax and in how a record is laid out, so this module reads the records
//! and assembles the model, and each codec supplies its header syntax (a
//! [`Dialect`]) and its own writer.
//!
//! The reader is strict: a `;;` line must be a header of the document's
//! kind, every record must be a DNSKEY, CDNSKEY, CDS or RRSIG of the one
//! zone, numbers have no sign or leading zero, base64 and hex must decode,
//! and a file without its closing line is refused as truncated. It is
//! lenient only about layout (spaces, tabs, parentheses, CRLF), which the
//! programs' own readers ignore too.

use base64::Engine as _;
use ceremony_dnssec::{
    parse_name, DigestAlgorithm, Dnskey, Ds, KeyParams, KeyTag, SecurityAlgorithm,
};
use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

use crate::model::{
    AlgorithmParams, AlgorithmPolicy, Bundle, Cds, ExtraRecords, Header, Key, Ksr,
    ProofOfPossession, Signature, SignaturePolicy, Skr, TextDocument, TextKsr, TextSkr,
};
use crate::{Duration, Error};

/// RR type codes of the records a KSR or SKR holds.
pub(crate) const DNSKEY: u16 = 48;
/// RRSIG (RFC 4034 §3).
pub(crate) const RRSIG: u16 = 46;
/// CDS (RFC 7344 §3.1).
pub(crate) const CDS: u16 = 59;
/// CDNSKEY (RFC 7344 §3.2).
pub(crate) const CDNSKEY: u16 = 60;

/// A 1-based line and column (in characters) in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

pub(crate) fn invalid(file: &str, pos: Pos, message: impl Into<String>) -> Error {
    Error::Invalid {
        file: file.to_owned(),
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

/// Which document a header line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Response,
}

impl Kind {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Request => "KeySigningRequest",
            Kind::Response => "SignedKeyResponse",
        }
    }

    fn document(self) -> &'static str {
        match self {
            Kind::Request => "KSR",
            Kind::Response => "SKR",
        }
    }
}

/// What a header line says after `;; <Kind> 1.0 `.
pub(crate) enum HeaderValue {
    /// A bundle starts at `time`; `id` is the time as the file writes it.
    Bundle { id: String, time: Timestamp },
    /// The closing line: when and by which program the file was generated.
    Trailer { time: Timestamp, generator: String },
}

/// The header syntax of one program.
pub(crate) trait Dialect {
    /// The program, for messages: `Knot DNS`, `BIND 9`.
    const NAME: &'static str;
    /// An example bundle header, for messages.
    const EXAMPLE: &'static str;
    /// Whether a blank line marks the first answer to each request bundle (BIND).
    const MARKS_REQUEST_BUNDLES: bool;

    /// Parses what follows `;; <Kind> 1.0 ` on a header line.
    ///
    /// On error, returns the byte offset in `rest` where the problem is and
    /// what was expected.
    fn header(&mut self, rest: &str) -> Result<HeaderValue, (usize, String)>;
}

// ---------------------------------------------------------------------------
// Lexing: lines into headers, blank lines and records.

#[derive(Clone, Copy, Debug)]
struct Token<'t> {
    text: &'t str,
    pos: Pos,
}

enum Item<'t> {
    Blank,
    Header { text: &'t str, pos: Pos },
    Record(RawRecord<'t>),
}

struct RawRecord<'t> {
    tokens: Vec<Token<'t>>,
    comments: Vec<Token<'t>>,
}

fn column_of(line: &str, offset: usize) -> u32 {
    line[..offset].chars().count() as u32 + 1
}

fn lex<'t>(text: &'t str, file: &str) -> Result<Vec<Item<'t>>, Error> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    let lines: Vec<&str> = lines
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    for (index, line) in lines.iter().enumerate() {
        if let Some((offset, ch)) = line
            .char_indices()
            .find(|&(_, ch)| ch.is_control() && ch != '\t')
        {
            let pos = Pos {
                line: index as u32 + 1,
                column: column_of(line, offset),
            };
            return Err(invalid(
                file,
                pos,
                format!("control character U+{:04X} in a text KSR/SKR", ch as u32),
            ));
        }
    }

    let mut items = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let number = index as u32 + 1;
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            items.push(Item::Blank);
            index += 1;
        } else if line.starts_with(";;") {
            items.push(Item::Header {
                text: line,
                pos: Pos {
                    line: number,
                    column: 1,
                },
            });
            index += 1;
        } else if trimmed.starts_with(';') {
            // A comment line: neither program writes one, and both ignore it.
            index += 1;
        } else if trimmed.len() != line.len() {
            return Err(invalid(
                file,
                Pos {
                    line: number,
                    column: 1,
                },
                "a record line must start with its owner name; Knot DNS and BIND always write it",
            ));
        } else {
            let (record, next) = lex_record(&lines, index, file)?;
            items.push(Item::Record(record));
            index = next;
        }
    }
    Ok(items)
}

/// Reads one record starting at `lines[start]`, across lines while a parenthesis is open.
fn lex_record<'t>(
    lines: &[&'t str],
    start: usize,
    file: &str,
) -> Result<(RawRecord<'t>, usize), Error> {
    let mut record = RawRecord {
        tokens: Vec::new(),
        comments: Vec::new(),
    };
    let mut open: Option<Pos> = None;
    let mut index = start;
    loop {
        let line = lines[index];
        let number = index as u32 + 1;
        if let (Some(at), true) = (open, line.starts_with(";;")) {
            return Err(invalid(
                file,
                at,
                format!("'(' is never closed: line {number} is a header"),
            ));
        }
        let pos = |offset: usize| Pos {
            line: number,
            column: column_of(line, offset),
        };
        let mut token_start: Option<usize> = None;
        let mut comment = None;
        for (offset, ch) in line.char_indices() {
            let ends_token = matches!(ch, ' ' | '\t' | '(' | ')' | ';');
            if ends_token {
                if let Some(begin) = token_start.take() {
                    record.tokens.push(Token {
                        text: &line[begin..offset],
                        pos: pos(begin),
                    });
                }
            }
            match ch {
                ' ' | '\t' => {}
                '(' => {
                    if open.is_some() {
                        return Err(invalid(
                            file,
                            pos(offset),
                            "nested '(': parentheses only group a record's lines",
                        ));
                    }
                    open = Some(pos(offset));
                }
                ')' => {
                    if open.take().is_none() {
                        return Err(invalid(file, pos(offset), "')' without an opening '('"));
                    }
                }
                ';' => {
                    comment = Some(Token {
                        text: line[offset + 1..].trim(),
                        pos: pos(offset),
                    });
                    break;
                }
                '"' | '\\' => {
                    return Err(invalid(
                        file,
                        pos(offset),
                        format!("{ch:?}: quoted strings and escapes have no place in DNSKEY, CDS and RRSIG records"),
                    ));
                }
                _ => {
                    if token_start.is_none() {
                        token_start = Some(offset);
                    }
                }
            }
        }
        if let Some(begin) = token_start {
            record.tokens.push(Token {
                text: &line[begin..],
                pos: pos(begin),
            });
        }
        record.comments.extend(comment);
        index += 1;
        match open {
            None => return Ok((record, index)),
            Some(at) if index == lines.len() => {
                return Err(invalid(
                    file,
                    at,
                    "'(' is never closed: the file ends inside this record",
                ));
            }
            Some(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Records.

enum Rdata {
    Dnskey(Dnskey),
    Cdnskey(Dnskey),
    Cds(Ds),
    Rrsig(Rrsig),
}

struct Rrsig {
    type_covered: u16,
    algorithm: SecurityAlgorithm,
    labels: u8,
    original_ttl: u32,
    expiration: Timestamp,
    inception: Timestamp,
    key_tag: KeyTag,
    signer: String,
    signature: Vec<u8>,
}

struct Record<'t> {
    owner: Token<'t>,
    ttl: u32,
    rtype: u16,
    data: Rdata,
}

/// Cursor over a record's tokens, for errors that point at the right one.
struct Fields<'a, 't> {
    tokens: &'a [Token<'t>],
    next: usize,
    file: &'a str,
    /// Where the record ends, for "missing field" errors.
    last: Pos,
}

impl<'t> Fields<'_, 't> {
    fn peek(&self) -> Option<Token<'t>> {
        self.tokens.get(self.next).copied()
    }

    fn take(&mut self, what: &str) -> Result<Token<'t>, Error> {
        let token = self.peek().ok_or_else(|| {
            invalid(
                self.file,
                self.last,
                format!("the record ends before its {what}"),
            )
        })?;
        self.next += 1;
        Ok(token)
    }

    fn number<T: TryFrom<u64>>(&mut self, what: &str, max: u64) -> Result<T, Error> {
        let token = self.take(what)?;
        parse_number(token.text, max)
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                invalid(
                    self.file,
                    token.pos,
                    format!(
                        "{what}: {:?} is not a number from 0 to {max} (decimal, no sign, no leading zero)",
                        token.text
                    ),
                )
            })
    }

    /// The rest of the tokens, joined: base64 and hex may be split by spaces and lines.
    fn rest(&mut self, what: &str) -> Result<(String, Pos), Error> {
        let first = self.take(what)?;
        let mut joined = first.text.to_owned();
        for token in &self.tokens[self.next..] {
            joined.push_str(token.text);
        }
        self.next = self.tokens.len();
        Ok((joined, first.pos))
    }

    fn time(&mut self, what: &str) -> Result<Timestamp, Error> {
        let token = self.take(what)?;
        parse_rrsig_time(token.text).map_err(|why| {
            invalid(
                self.file,
                token.pos,
                format!("{what}: {:?}: {why}", token.text),
            )
        })
    }
}

/// Parses a decimal number with no sign and no leading zero, at most `max`.
pub(crate) fn parse_number(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse::<u64>().ok().filter(|&n| n <= max)
}

/// Parses an RRSIG time: `YYYYMMDDHHmmSS` or seconds since the epoch (RFC 4034 §3.2).
fn parse_rrsig_time(text: &str) -> Result<Timestamp, String> {
    if text.len() == 14 && text.bytes().all(|b| b.is_ascii_digit()) {
        let instant = parse_compact_time(text)?;
        if instant.as_second() > i64::from(u32::MAX) {
            return Err("after 2106-02-07, beyond what an RRSIG time can hold".to_owned());
        }
        return Ok(instant);
    }
    let seconds = parse_number(text, u64::from(u32::MAX))
        .ok_or("expected YYYYMMDDHHmmSS or seconds since 1970 (RFC 4034 §3.2)")?;
    Timestamp::from_second(seconds as i64).map_err(|e| e.to_string())
}

/// Parses `YYYYMMDDHHmmSS` as UTC.
pub(crate) fn parse_compact_time(text: &str) -> Result<Timestamp, String> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected 14 digits, YYYYMMDDHHmmSS".to_owned());
    }
    let n = |range: std::ops::Range<usize>| -> i32 { text[range].parse().unwrap_or(-1) };
    let civil = DateTime::new(
        n(0..4) as i16,
        n(4..6) as i8,
        n(6..8) as i8,
        n(8..10) as i8,
        n(10..12) as i8,
        n(12..14) as i8,
        0,
    )
    .map_err(|_| "no such date or time".to_owned())?;
    if civil.year() < 1970 {
        return Err("before 1970".to_owned());
    }
    Offset::UTC
        .to_timestamp(civil)
        .map_err(|_| "out of range".to_owned())
}

/// Formats `YYYYMMDDHHmmSS` in UTC, as RRSIG times and BIND headers are written.
pub(crate) fn format_compact_time(instant: Timestamp) -> String {
    instant.strftime("%Y%m%d%H%M%S").to_string()
}

fn parse_record<'t>(raw: &RawRecord<'t>, file: &str) -> Result<Record<'t>, Error> {
    let Some(last) = raw.tokens.last().map(|t| Pos {
        line: t.pos.line,
        column: t.pos.column + t.text.chars().count() as u32,
    }) else {
        // The tokenizer only makes records from non-empty lines; never panic on input all the same.
        return Err(Error::Invalid {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: "an empty record".to_owned(),
        });
    };
    let mut fields = Fields {
        tokens: &raw.tokens,
        next: 0,
        file,
        last,
    };
    let owner = fields.take("owner name")?;
    if !owner.text.ends_with('.') {
        return Err(invalid(
            file,
            owner.pos,
            format!(
                "owner {:?} is relative: Knot DNS and BIND write absolute names, ending in '.'",
                owner.text
            ),
        ));
    }
    if let Err(err) = parse_name(owner.text) {
        return Err(invalid(file, owner.pos, format!("owner name: {err}")));
    }
    // TTL and class, in either order; the class may be left out, the TTL may not.
    let mut ttl = None;
    let mut class_seen = false;
    for _ in 0..2 {
        let Some(token) = fields.peek() else { break };
        if token.text.eq_ignore_ascii_case("IN") && !class_seen {
            class_seen = true;
            fields.next += 1;
        } else if token.text.bytes().all(|b| b.is_ascii_digit()) && ttl.is_none() {
            ttl = Some(fields.number::<u32>("TTL", u64::from(u32::MAX))?);
        } else if matches!(token.text.to_ascii_uppercase().as_str(), "CH" | "HS" | "CS")
            || token.text.to_ascii_uppercase().starts_with("CLASS")
        {
            return Err(invalid(
                file,
                token.pos,
                format!(
                    "class {}: DNSSEC keys of a KSR or SKR are class IN",
                    token.text
                ),
            ));
        } else {
            break;
        }
    }
    let Some(ttl) = ttl else {
        let pos = fields.peek().map_or(last, |t| t.pos);
        return Err(invalid(
            file,
            pos,
            "expected the record's TTL after the owner name (Knot DNS and BIND always write it)",
        ));
    };
    let type_token = fields.take("type")?;
    let rtype = match type_token.text.to_ascii_uppercase().as_str() {
        "DNSKEY" => DNSKEY,
        "CDNSKEY" => CDNSKEY,
        "CDS" => CDS,
        "RRSIG" => RRSIG,
        _ => {
            return Err(invalid(
                file,
                type_token.pos,
                format!(
                    "record type {:?} has no place in a KSR or SKR: expected DNSKEY, CDNSKEY, CDS or RRSIG",
                    type_token.text
                ),
            ))
        }
    };
    let data = match rtype {
        DNSKEY | CDNSKEY => {
            let key = parse_dnskey(&mut fields)?;
            if rtype == DNSKEY {
                Rdata::Dnskey(key)
            } else {
                Rdata::Cdnskey(key)
            }
        }
        CDS => Rdata::Cds(parse_cds(&mut fields)?),
        _ => Rdata::Rrsig(parse_rrsig(&mut fields)?),
    };
    if let Some(extra) = fields.peek() {
        return Err(invalid(
            file,
            extra.pos,
            format!("unexpected {:?} after the record data", extra.text),
        ));
    }
    let record = Record {
        owner,
        ttl,
        rtype,
        data,
    };
    check_key_comments(&record, raw, file)?;
    Ok(record)
}

fn parse_dnskey(fields: &mut Fields<'_, '_>) -> Result<Dnskey, Error> {
    let flags: u16 = fields.number("flags", u64::from(u16::MAX))?;
    let protocol: u8 = fields.number("protocol", 255)?;
    let algorithm: u8 = fields.number("algorithm", 255)?;
    let (text, pos) = fields.rest("public key")?;
    let public_key = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|err| invalid(fields.file, pos, format!("public key: not base64: {err}")))?;
    Dnskey::new(
        flags,
        protocol,
        SecurityAlgorithm::from_int(algorithm),
        public_key,
    )
    .map_err(|err| invalid(fields.file, pos, format!("public key: {err}")))
}

fn parse_cds(fields: &mut Fields<'_, '_>) -> Result<Ds, Error> {
    let key_tag: u16 = fields.number("key tag", u64::from(u16::MAX))?;
    let algorithm: u8 = fields.number("algorithm", 255)?;
    let digest_type: u8 = fields.number("digest type", 255)?;
    let (text, pos) = fields.rest("digest")?;
    let digest = hex::decode(&text)
        .map_err(|err| invalid(fields.file, pos, format!("digest: not hex: {err}")))?;
    let expected = match digest_type {
        1 => Some(20),
        2 => Some(32),
        4 => Some(48),
        _ => None,
    };
    if let Some(expected) = expected {
        if digest.len() != expected {
            return Err(invalid(
                fields.file,
                pos,
                format!(
                    "digest: {} octets, but digest type {digest_type} has {expected}",
                    digest.len()
                ),
            ));
        }
    }
    Ok(Ds {
        key_tag: KeyTag(key_tag),
        algorithm: SecurityAlgorithm::from_int(algorithm),
        digest_type: DigestAlgorithm::from_int(digest_type),
        digest,
    })
}

fn parse_rrsig(fields: &mut Fields<'_, '_>) -> Result<Rrsig, Error> {
    let covered = fields.take("type covered")?;
    let type_covered = match covered.text.to_ascii_uppercase().as_str() {
        "DNSKEY" => DNSKEY,
        "CDS" => CDS,
        "CDNSKEY" => CDNSKEY,
        other => other
            .strip_prefix("TYPE")
            .and_then(|n| parse_number(n, u64::from(u16::MAX)))
            .map(|n| n as u16)
            .ok_or_else(|| {
                invalid(
                    fields.file,
                    covered.pos,
                    format!(
                        "type covered {:?}: an SKR signs DNSKEY, CDNSKEY and CDS RRsets",
                        covered.text
                    ),
                )
            })?,
    };
    let algorithm: u8 = fields.number("algorithm", 255)?;
    let labels: u8 = fields.number("labels", 255)?;
    let original_ttl: u32 = fields.number("original TTL", u64::from(u32::MAX))?;
    let expiration = fields.time("signature expiration")?;
    let inception = fields.time("signature inception")?;
    let key_tag: u16 = fields.number("key tag", u64::from(u16::MAX))?;
    let signer = fields.take("signer's name")?;
    if !signer.text.ends_with('.') || parse_name(signer.text).is_err() {
        return Err(invalid(
            fields.file,
            signer.pos,
            format!(
                "signer's name {:?} is not an absolute domain name",
                signer.text
            ),
        ));
    }
    let (text, pos) = fields.rest("signature")?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|err| invalid(fields.file, pos, format!("signature: not base64: {err}")))?;
    if signature.is_empty() {
        return Err(invalid(fields.file, pos, "signature: empty"));
    }
    Ok(Rrsig {
        type_covered,
        algorithm: SecurityAlgorithm::from_int(algorithm),
        labels,
        original_ttl,
        expiration,
        inception,
        key_tag: KeyTag(key_tag),
        signer: signer.text.to_owned(),
        signature,
    })
}

/// Knot DNS ends each DNSKEY and CDNSKEY line with `; KSK, ALG (bits), id = TAG`.
/// Where such a comment is present it must describe the key it annotates.
fn check_key_comments(record: &Record<'_>, raw: &RawRecord<'_>, file: &str) -> Result<(), Error> {
    let key = match &record.data {
        Rdata::Dnskey(key) | Rdata::Cdnskey(key) => key,
        _ => return Ok(()),
    };
    for comment in &raw.comments {
        let text = comment.text;
        let (role, rest) = text.split_once(',').unwrap_or((text, ""));
        let expected_role = if key.is_sep() { "KSK" } else { "ZSK" };
        let id = rest
            .rsplit_once("id = ")
            .and_then(|(_, id)| parse_number(id.trim(), u64::from(u16::MAX)));
        let (Some(id), "KSK" | "ZSK") = (id, role) else {
            return Err(invalid(
                file,
                comment.pos,
                format!("comment {text:?}: expected Knot DNS's key note, like \"{expected_role}, RSASHA256 (2048b), id = 12345\""),
            ));
        };
        if role != expected_role || id != u64::from(key.key_tag().0) {
            return Err(invalid(
                file,
                comment.pos,
                format!(
                    "comment {text:?} does not describe this key: it is a {expected_role} with key tag {}",
                    key.key_tag()
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Assembling the document.

struct Pending<'t> {
    id: String,
    time: Timestamp,
    pos: Pos,
    starts_request_bundle: bool,
    records: Vec<Record<'t>>,
}

/// Reads a Knot DNS or BIND 9 KSR or SKR with the header syntax of `dialect`.
pub(crate) fn read<D: Dialect>(
    text: &str,
    file: &str,
    dialect: &mut D,
) -> Result<TextDocument, Error> {
    let items = lex(text, file)?;
    let mut kind: Option<Kind> = None;
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut trailer: Option<(Timestamp, String)> = None;
    let mut blank_since_record = false;
    let mut owner: Option<Token<'_>> = None;

    for item in &items {
        match item {
            Item::Blank => blank_since_record = true,
            Item::Header { text, pos } => {
                let (this_kind, rest, rest_offset) = header_prefix::<D>(text, *pos, file)?;
                if let Some(kind) = kind {
                    if kind != this_kind {
                        return Err(invalid(
                            file,
                            *pos,
                            format!(
                                "a {} header in a {}: a file holds one kind of document",
                                this_kind.word(),
                                kind.document()
                            ),
                        ));
                    }
                }
                kind = Some(this_kind);
                if trailer.is_some() {
                    return Err(invalid(
                        file,
                        *pos,
                        "a header after the closing \"generated at\" line",
                    ));
                }
                let value = dialect.header(rest).map_err(|(offset, message)| {
                    let column = column_of(text, rest_offset + offset);
                    invalid(
                        file,
                        Pos {
                            line: pos.line,
                            column,
                        },
                        format!("{} header: {message}", D::NAME),
                    )
                })?;
                match value {
                    HeaderValue::Bundle { id, time } => {
                        let starts_request_bundle =
                            D::MARKS_REQUEST_BUNDLES && (pending.is_empty() || blank_since_record);
                        if let Some(previous) = pending.last() {
                            // BIND 9.20 ends the answer to one request bundle
                            // with a re-signing at the next request's instant,
                            // then answers that request at the same instant.
                            let handover = this_kind == Kind::Response
                                && starts_request_bundle
                                && !previous.starts_request_bundle;
                            if time < previous.time || (time == previous.time && !handover) {
                                return Err(invalid(
                                    file,
                                    *pos,
                                    format!(
                                        "bundle {id} does not come after bundle {}: bundles are in time order{}",
                                        previous.id,
                                        if D::MARKS_REQUEST_BUNDLES {
                                            " (only the first answer to the next request bundle, after a blank line, may share the instant of the re-signing before it)"
                                        } else {
                                            ""
                                        }
                                    ),
                                ));
                            }
                        }
                        pending.push(Pending {
                            id,
                            time,
                            pos: *pos,
                            starts_request_bundle,
                            records: Vec::new(),
                        });
                    }
                    HeaderValue::Trailer { time, generator } => trailer = Some((time, generator)),
                }
                blank_since_record = false;
            }
            Item::Record(raw) => {
                let record = parse_record(raw, file)?;
                if trailer.is_some() {
                    return Err(invalid(
                        file,
                        record.owner.pos,
                        "a record after the closing \"generated at\" line",
                    ));
                }
                let Some(bundle) = pending.last_mut() else {
                    return Err(invalid(
                        file,
                        record.owner.pos,
                        format!(
                            "a record before the first bundle header (like {:?})",
                            D::EXAMPLE
                        ),
                    ));
                };
                match owner {
                    None => owner = Some(record.owner),
                    Some(zone) if !zone.text.eq_ignore_ascii_case(record.owner.text) => {
                        return Err(invalid(
                            file,
                            record.owner.pos,
                            format!(
                                "owner {:?} is not the zone {:?} of the first record (line {})",
                                record.owner.text, zone.text, zone.pos.line
                            ),
                        ));
                    }
                    Some(_) => {}
                }
                bundle.records.push(record);
                blank_since_record = false;
            }
        }
    }

    let end = Pos {
        line: text.lines().count().max(1) as u32,
        column: 1,
    };
    let Some(kind) = kind else {
        return Err(invalid(
            file,
            Pos { line: 1, column: 1 },
            format!(
                "no {} header: expected a line like {:?}",
                D::NAME,
                D::EXAMPLE
            ),
        ));
    };
    let Some((generated, generator)) = trailer else {
        return Err(invalid(
            file,
            end,
            format!(
                "the closing line \";; {} 1.0 generated at …\" is missing: the file may be truncated",
                kind.word()
            ),
        ));
    };
    if pending.is_empty() {
        return Err(invalid(
            file,
            end,
            format!("the {} has no bundles", kind.document()),
        ));
    }
    let domain = owner
        .map(|t| t.text.to_owned())
        .unwrap_or_else(|| ".".to_owned());
    let header = Header {
        id: pending[0].id.clone(),
        serial: 0,
        domain,
    };

    let mut bundles = Vec::with_capacity(pending.len());
    let mut extras = Vec::with_capacity(pending.len());
    for p in &pending {
        let (bundle, extra) = build_bundle(p, kind, file)?;
        bundles.push(bundle);
        extras.push(extra);
    }
    // A text bundle has only its start; its end is the next bundle's start
    // (or, in a response, the earliest DNSKEY signature expiration).
    for i in 0..bundles.len() {
        let next = bundles.get(i + 1).map(|b| b.inception);
        let bundle = &mut bundles[i];
        let signed_until = bundle.signatures.iter().map(|s| s.expiration).min();
        bundle.expiration = match kind {
            Kind::Request => next.unwrap_or(bundle.inception),
            Kind::Response => signed_until.or(next).unwrap_or(bundle.inception),
        };
    }

    Ok(match kind {
        Kind::Request => TextDocument::Ksr(TextKsr {
            ksr: Ksr {
                header,
                timestamp: Some(generated),
                zsk_policy: derived_policy(bundles.iter().flat_map(|b| &b.keys)),
                bundles,
                proof_of_possession: ProofOfPossession::NotInFormat,
            },
            generator,
        }),
        Kind::Response => TextDocument::Skr(TextSkr {
            skr: Skr {
                header,
                timestamp: Some(generated),
                ksk_policy: derived_policy(
                    bundles
                        .iter()
                        .flat_map(|b| &b.keys)
                        .filter(|k| k.dnskey.is_sep()),
                ),
                zsk_policy: derived_policy(
                    bundles
                        .iter()
                        .flat_map(|b| &b.keys)
                        .filter(|k| !k.dnskey.is_sep()),
                ),
                bundles,
            },
            generator,
            extra: extras,
        }),
    })
}

/// Checks `;; <Kind> 1.0 ` and returns the kind and the rest of the line with its byte offset.
fn header_prefix<'l, D: Dialect>(
    text: &'l str,
    pos: Pos,
    file: &str,
) -> Result<(Kind, &'l str, usize), Error> {
    let at = |offset: usize| Pos {
        line: pos.line,
        column: column_of(text, offset),
    };
    let after = text.strip_prefix(";; ").ok_or_else(|| {
        invalid(
            file,
            pos,
            format!(
                "a ';;' line must be a KSR or SKR header like {:?}",
                D::EXAMPLE
            ),
        )
    })?;
    let kind = if after.starts_with("KeySigningRequest ") {
        Kind::Request
    } else if after.starts_with("SignedKeyResponse ") {
        Kind::Response
    } else {
        return Err(invalid(
            file,
            at(3),
            format!(
                "a ';;' line must be a KeySigningRequest or SignedKeyResponse header like {:?}",
                D::EXAMPLE
            ),
        ));
    };
    let version_offset = 3 + kind.word().len() + 1;
    let rest = &text[version_offset..];
    let Some(rest) = rest.strip_prefix("1.0 ") else {
        let version = rest.split(' ').next().unwrap_or("");
        return Err(invalid(
            file,
            at(version_offset),
            format!("format version {version:?}: only 1.0 exists"),
        ));
    };
    Ok((kind, rest, version_offset + 4))
}

fn build_bundle(p: &Pending<'_>, kind: Kind, file: &str) -> Result<(Bundle, ExtraRecords), Error> {
    let mut keys = Vec::new();
    let mut signatures = Vec::new();
    let mut extra = ExtraRecords {
        starts_request_bundle: p.starts_request_bundle,
        ..ExtraRecords::default()
    };
    let mut covered_positions = Vec::new();
    for record in &p.records {
        if kind == Kind::Request && record.rtype != DNSKEY {
            return Err(invalid(
                file,
                record.owner.pos,
                format!(
                    "a KSR bundle holds only the ZSKs' DNSKEY records; found {}",
                    type_name(record.rtype)
                ),
            ));
        }
        match &record.data {
            Rdata::Dnskey(dnskey) => keys.push(key_of(dnskey, record.ttl)),
            Rdata::Cdnskey(dnskey) => extra.cdnskeys.push(key_of(dnskey, record.ttl)),
            Rdata::Cds(ds) => extra.cds.push(Cds {
                ttl: record.ttl,
                ds: ds.clone(),
            }),
            Rdata::Rrsig(rrsig) => {
                let signature = Signature {
                    key_identifier: rrsig.key_tag.to_string(),
                    ttl: record.ttl,
                    type_covered: rrsig.type_covered,
                    algorithm: rrsig.algorithm,
                    labels: rrsig.labels,
                    original_ttl: rrsig.original_ttl,
                    expiration: rrsig.expiration,
                    inception: rrsig.inception,
                    key_tag: rrsig.key_tag,
                    signers_name: rrsig.signer.clone(),
                    signature_data: rrsig.signature.clone(),
                };
                covered_positions.push((rrsig.type_covered, record.owner.pos));
                if rrsig.type_covered == DNSKEY {
                    signatures.push(signature);
                } else {
                    extra.signatures.push(signature);
                }
            }
        }
    }
    if keys.is_empty() {
        return Err(invalid(
            file,
            p.pos,
            format!("bundle {} has no DNSKEY records", p.id),
        ));
    }
    for (covered, pos) in covered_positions {
        let present = match covered {
            DNSKEY => true,
            CDNSKEY => !extra.cdnskeys.is_empty(),
            CDS => !extra.cds.is_empty(),
            _ => false,
        };
        if !present {
            return Err(invalid(
                file,
                pos,
                format!(
                    "an RRSIG over {} in bundle {}, which has no {} records",
                    type_name(covered),
                    p.id,
                    type_name(covered)
                ),
            ));
        }
    }
    let bundle = Bundle {
        id: p.id.clone(),
        inception: p.time,
        expiration: p.time,
        signers: Vec::new(),
        keys,
        signatures,
    };
    Ok((bundle, extra))
}

/// A key as the model holds it; text formats have no identifier, so the key tag serves.
fn key_of(dnskey: &Dnskey, ttl: u32) -> Key {
    let tag = dnskey.key_tag();
    Key {
        key_identifier: tag.to_string(),
        key_tag: tag,
        ttl,
        dnskey: dnskey.clone(),
    }
}

/// The policy a text document implies: it states no periods, so they are
/// zero, and its algorithms are those of its keys.
fn derived_policy<'a>(keys: impl Iterator<Item = &'a Key>) -> SignaturePolicy {
    let mut algorithms: Vec<AlgorithmPolicy> = Vec::new();
    for key in keys {
        let params = match key.dnskey.params() {
            Ok(KeyParams::Rsa {
                bits,
                exponent: Some(exponent),
            }) => AlgorithmParams::Rsa {
                size: bits,
                exponent,
            },
            Ok(KeyParams::Ecdsa { bits }) => AlgorithmParams::Ecdsa { size: bits },
            Ok(KeyParams::EdDsa { bits }) => AlgorithmParams::EdDsa { size: bits },
            _ => continue,
        };
        let entry = AlgorithmPolicy {
            algorithm: key.dnskey.algorithm(),
            params,
        };
        if !algorithms.contains(&entry) {
            algorithms.push(entry);
        }
    }
    let zero = Duration::from_seconds(0);
    SignaturePolicy {
        publish_safety: zero,
        retire_safety: zero,
        max_signature_validity: zero,
        min_signature_validity: zero,
        max_validity_overlap: zero,
        min_validity_overlap: zero,
        algorithms,
    }
}

// ---------------------------------------------------------------------------
// Shared pieces of the writers.

/// The mnemonic of an RR type, or `TYPEn` (RFC 3597).
pub(crate) fn type_name(rtype: u16) -> String {
    match rtype {
        DNSKEY => "DNSKEY".to_owned(),
        RRSIG => "RRSIG".to_owned(),
        CDS => "CDS".to_owned(),
        CDNSKEY => "CDNSKEY".to_owned(),
        other => format!("TYPE{other}"),
    }
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// The text split into pieces of `width` characters (at least one).
pub(crate) fn chunks(text: &str, width: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // Split on a character boundary, so no input can make this panic.
        let end = rest
            .char_indices()
            .nth(width.max(1))
            .map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The RRSIGs of a response bundle that cover `rtype`, in document order.
pub(crate) fn covering(signatures: &[Signature], rtype: u16) -> impl Iterator<Item = &Signature> {
    signatures.iter().filter(move |s| s.type_covered == rtype)
}

/// The request in `doc`, or an error saying it is a response.
pub(crate) fn expect_ksr(doc: TextDocument, file: &str) -> Result<TextKsr, Error> {
    match doc {
        TextDocument::Ksr(ksr) => Ok(ksr),
        TextDocument::Skr(_) => Err(wrong_kind(file, "an SKR", "a KSR")),
    }
}

/// The response in `doc`, or an error saying it is a request.
pub(crate) fn expect_skr(doc: TextDocument, file: &str) -> Result<TextSkr, Error> {
    match doc {
        TextDocument::Skr(skr) => Ok(skr),
        TextDocument::Ksr(_) => Err(wrong_kind(file, "a KSR", "an SKR")),
    }
}

fn wrong_kind(file: &str, found: &str, expected: &str) -> Error {
    invalid(
        file,
        Pos { line: 1, column: 1 },
        format!("this is {found}, but {expected} was expected"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_split_on_characters_and_never_loop() {
        let pieces: Vec<&str> = super::chunks("abcdefg", 3).collect();
        assert_eq!(pieces, ["abc", "def", "g"]);
        let pieces: Vec<&str> = super::chunks("äöüß", 3).collect();
        assert_eq!(pieces, ["äöü", "ß"]);
        assert_eq!(super::chunks("ab", 0).count(), 2);
        assert_eq!(super::chunks("", 4).count(), 0);
    }

    use super::*;

    #[test]
    fn compact_times_round_trip_and_reject_nonsense() {
        let t = parse_compact_time("20261129133750").expect("valid");
        assert_eq!(t.to_string(), "2026-11-29T13:37:50Z");
        assert_eq!(format_compact_time(t), "20261129133750");
        for bad in [
            "2026112913375",
            "20261329133750",
            "20260230000000",
            "19691231235959",
        ] {
            assert!(parse_compact_time(bad).is_err(), "{bad}");
        }
        assert!(parse_rrsig_time("21060207062816").is_err());
        assert_eq!(
            parse_rrsig_time("1795959383").expect("seconds").as_second(),
            1_795_959_383
        );
    }

    #[test]
    fn numbers_are_plain_decimal() {
        assert_eq!(parse_number("0", 10), Some(0));
        assert_eq!(parse_number("257", 65535), Some(257));
        for bad in ["", "+1", "01", "-1", "1e3", "65536"] {
            assert_eq!(parse_number(bad, 65535), None, "{bad}");
        }
    }
}
