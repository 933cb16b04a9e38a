//! Key Signing Requests and Signed Key Responses, and the files around them.
//!
//! A ceremony reads a KSR, checks it, and writes an SKR. This crate holds the
//! format-neutral [model] of both documents and the codecs that map files
//! onto it:
//!
//! * [`icann`]: the root zone's XML format (`ksr.rnc`), read strictly and
//!   written as the root's recent SKRs are;
//! * [`knot`] and [`bind`]: the text KSRs and SKRs of Knot DNS's `keymgr`
//!   and BIND 9's `dnssec-ksr`, read strictly and written byte for byte as
//!   those programs write them; [`detect`] tells the three formats apart;
//! * [`anchor`]: RFC 9718 `root-anchors.xml` trust anchors;
//! * [`Fingerprint`]: a file's SHA-256 as hex and PGP words, for reading aloud.
//!
//! Reading is bounded: [`read_document_file`] refuses a file over
//! [`MAX_DOCUMENT_BYTES`] before reading it, and the XML reader refuses
//! DTDs, entities, absurd nesting and crowds of attributes or nodes before
//! building a tree. Every error names the file, and
//! where it can the line and column.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod anchor;
pub mod bind;
mod detect;
mod duration;
mod error;
mod fingerprint;
pub mod icann;
pub mod knot;
mod knot_bind;
pub mod model;
mod time;
mod xml;

use std::io::Read;
use std::path::Path;

pub use detect::{detect, Format};
pub use duration::Duration;
pub use error::Error;
pub use fingerprint::Fingerprint;
pub use model::{
    Bundle, Document, ExtraRecords, Header, Key, Ksr, ProofOfPossession, Signature,
    SignaturePolicy, Skr, TextDocument, TextKsr, TextSkr,
};
pub use time::{format_datetime, parse_datetime};

/// The largest KSR, SKR or anchor file read: far above a year of bundles, far below harm.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file's bytes, refusing it before reading when it exceeds [`MAX_DOCUMENT_BYTES`].
///
/// # Errors
/// [`Error::Io`] or [`Error::TooLarge`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    let file_name = path.display().to_string();
    let io = |source| Error::Io {
        file: file_name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            file: file_name,
            size,
            limit: MAX_DOCUMENT_BYTES,
            read: false,
        });
    }
    // The size can change under us (a pipe, a growing file): bound the read too.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            file: file_name,
            size: bytes.len() as u64,
            limit: MAX_DOCUMENT_BYTES,
            read: true,
        });
    }
    Ok(bytes)
}

/// Reads a file as UTF-8 text, with the checks of [`read_bounded`] and [`text_from_bytes`].
///
/// # Errors
/// [`Error::Io`], [`Error::TooLarge`], [`Error::Empty`], [`Error::WrongEncoding`] or [`Error::NotText`].
pub fn read_text_file(path: &Path) -> Result<String, Error> {
    text_from_bytes(read_bounded(path)?, &path.display().to_string())
}

/// Turns bytes into text, with the same checks as [`read_text_file`].
///
/// # Errors
/// [`Error::TooLarge`], [`Error::Empty`], [`Error::WrongEncoding`] or [`Error::NotText`].
pub fn text_from_bytes(bytes: Vec<u8>, file: &str) -> Result<String, Error> {
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            file: file.to_owned(),
            size: bytes.len() as u64,
            limit: MAX_DOCUMENT_BYTES,
            read: true,
        });
    }
    if bytes.is_empty() {
        return Err(Error::Empty {
            file: file.to_owned(),
        });
    }
    if let Some(encoding) = wide_encoding(&bytes) {
        return Err(Error::WrongEncoding {
            file: file.to_owned(),
            encoding,
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|err| Error::NotText {
        file: file.to_owned(),
        offset: err.utf8_error().valid_up_to(),
    })?;
    // A byte-order mark is legal before an XML declaration; roxmltree does not skip it.
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(text)
}

/// UTF-16 or UTF-32, told by a byte-order mark or by how `<` is encoded (XML 1.0 appendix F).
///
/// Without a byte-order mark, UTF-16 text of ASCII characters is valid
/// UTF-8 with a NUL between characters: it must be caught before that.
fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 8] = [
        (&[0xFF, 0xFE, 0, 0], "UTF-32LE"),
        (&[0, 0, 0xFE, 0xFF], "UTF-32BE"),
        (&[b'<', 0, 0, 0], "UTF-32LE"),
        (&[0, 0, 0, b'<'], "UTF-32BE"),
        (&[0xFF, 0xFE], "UTF-16LE"),
        (&[0xFE, 0xFF], "UTF-16BE"),
        (&[b'<', 0], "UTF-16LE"),
        (&[0, b'<'], "UTF-16BE"),
    ];
    SIGNATURES
        .iter()
        .find(|(start, _)| bytes.starts_with(start))
        .map(|&(_, name)| name)
}

/// Reads and parses a KSR or SKR file in the ICANN format.
///
/// # Errors
/// Any [`Error`], naming the file.
pub fn read_document_file(path: &Path) -> Result<Document, Error> {
    let text = read_text_file(path)?;
    icann::parse(&text, &path.display().to_string())
}

/// Reads a KSR or SKR file in whichever format its content shows ([`detect`]).
///
/// # Errors
/// Any [`Error`], naming the file; [`Error::Invalid`] at line 1 when the
/// content is none of the formats.
pub fn read_any_document_file(path: &Path) -> Result<(Format, Document), Error> {
    let text = read_text_file(path)?;
    let file = path.display().to_string();
    let format = detect(&text).ok_or_else(|| Error::Invalid {
        file: file.clone(),
        line: 1,
        column: 1,
        message: "neither ICANN XML nor a Knot DNS or BIND 9 KSR/SKR \
                  (which start with \";; KeySigningRequest 1.0\" or \";; SignedKeyResponse 1.0\")"
            .to_owned(),
    })?;
    Ok((format, format.parse(&text, &file)?))
}
