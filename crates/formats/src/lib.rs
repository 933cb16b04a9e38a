//! Key Signing Requests and Signed Key Responses, and the files around them.
//!
//! A ceremony reads a KSR, checks it, and writes an SKR. This crate holds the
//! format-neutral [model] of both documents and the codecs that map files
//! onto it:
//!
//! * [`icann`]: the root zone's XML format (`ksr.rnc`), read strictly and
//!   written as the root's recent SKRs are;
//! * [`anchor`]: RFC 9718 `root-anchors.xml` trust anchors;
//! * [`Fingerprint`]: a file's SHA-256 as hex and PGP words, for reading aloud.
//!
//! Reading is bounded: [`read_document_file`] refuses a file over
//! [`MAX_DOCUMENT_BYTES`] before reading it, and the XML reader refuses
//! DTDs, entities and absurd nesting. Every error names the file, and
//! where it can the line and column.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod anchor;
mod duration;
mod fingerprint;
mod error;
pub mod icann;
pub mod model;
mod time;
mod xml;

use std::io::Read;
use std::path::Path;

pub use duration::Duration;
pub use error::Error;
pub use fingerprint::Fingerprint;
pub use model::{Bundle, Document, Header, Key, Ksr, Signature, SignaturePolicy, Skr};
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
        });
    }
    Ok(bytes)
}

/// Reads a file as UTF-8 text, with the checks of [`read_bounded`] and [`text_from_bytes`].
///
/// # Errors
/// [`Error::Io`], [`Error::TooLarge`], [`Error::Empty`] or [`Error::NotText`].
pub fn read_text_file(path: &Path) -> Result<String, Error> {
    text_from_bytes(read_bounded(path)?, &path.display().to_string())
}

/// Turns bytes into text, with the same checks as [`read_text_file`].
///
/// # Errors
/// [`Error::TooLarge`], [`Error::Empty`] or [`Error::NotText`].
pub fn text_from_bytes(bytes: Vec<u8>, file: &str) -> Result<String, Error> {
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            file: file.to_owned(),
            size: bytes.len() as u64,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(Error::Empty {
            file: file.to_owned(),
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

/// Reads and parses a KSR or SKR file in the ICANN format.
///
/// # Errors
/// Any [`Error`], naming the file.
pub fn read_document_file(path: &Path) -> Result<Document, Error> {
    let text = read_text_file(path)?;
    icann::parse(&text, &path.display().to_string())
}
