//! The one error type of the format codecs.

/// Why a document could not be read.
///
/// Every variant names the file, and all but the size and encoding errors
/// the line and column, so an administrator can open the file at the spot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read at all.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file's name as given.
        file: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is larger than any KSR, SKR or trust anchor has reason to be.
    #[error("{file}: {}", too_large(*size, *limit, *read))]
    TooLarge {
        /// The file's name as given.
        file: String,
        /// Its size, or a lower bound when read from a stream.
        size: u64,
        /// The limit.
        limit: u64,
        /// Whether `limit` bytes were read before the excess showed (a pipe,
        /// a device, a growing file), rather than the size being known first.
        read: bool,
    },
    /// The file is empty, or holds only whitespace.
    #[error("{file}: the file is empty (or only whitespace); expected an XML document")]
    Empty {
        /// The file's name as given.
        file: String,
    },
    /// The file is text in an encoding the formats never use, such as UTF-16.
    #[error(
        "{file}: the file is {encoding} text, not UTF-8; KSR, SKR and trust anchor files are UTF-8"
    )]
    WrongEncoding {
        /// The file's name as given.
        file: String,
        /// The encoding its first bytes show, e.g. `UTF-16LE`.
        encoding: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("{file}: not UTF-8 text (invalid byte at offset {offset}); expected an XML document")]
    NotText {
        /// The file's name as given.
        file: String,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The text is not well-formed XML, or uses a DTD.
    #[error("{file}:{line}:{column}: not well-formed XML: {message}")]
    Xml {
        /// The file's name as given.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What the XML parser found.
        message: String,
    },
    /// The XML is well formed but breaks the format's schema or a value's syntax.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file's name as given.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The rule broken, and what was expected.
        message: String,
    },
}

fn too_large(size: u64, limit: u64, read: bool) -> String {
    if read {
        format!(
            "more than the {limit} bytes a KSR, SKR or trust anchor file may have; \
             refused after reading that much"
        )
    } else {
        format!(
            "{size} bytes is more than the {limit} bytes a KSR, SKR or trust anchor file may have; \
             refused without reading it"
        )
    }
}
