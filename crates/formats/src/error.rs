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
    /// The file is larger than any KSR or SKR has reason to be.
    #[error("{file}: {size} bytes is more than the {limit} bytes a KSR or SKR may have; refused without reading it")]
    TooLarge {
        /// The file's name as given.
        file: String,
        /// Its size, or a lower bound when read from a stream.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is empty.
    #[error("{file}: the file is empty; expected an XML document starting with <KSR>")]
    Empty {
        /// The file's name as given.
        file: String,
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
