//! The one error type of the transcript library.

use std::path::PathBuf;

use crate::merkle::ProofError;

/// Why a transcript, a note, a checkpoint or a proof was refused.
///
/// Variants name what they are about: the file, the line, the entry index or
/// the checkpoint, and cite the rule broken. The witness protocol has its own
/// answers in [`WitnessError`](crate::witness::WitnessError), because each maps
/// to an HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written, synced or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Text that must follow one of the formats does not.
    #[error("{what}{}: {reason}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Parse {
        /// Which format: `signed note`, `checkpoint`, `verifier key`, `tlog-proof` …
        what: &'static str,
        /// The 1-based line, where there is one.
        line: Option<usize>,
        /// The rule broken.
        reason: String,
    },
    /// A key, a key name or a seed is unusable.
    #[error("key {name:?}: {reason}")]
    Key {
        /// The key name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A signature from a known key does not verify. C2SP signed-note: "If a
    /// signature from a known key fails to verify, clients SHOULD reject the
    /// whole note."
    #[error("C2SP signed-note: the signature by {name} (key ID {key_id}) does not verify")]
    BadSignature {
        /// The key name.
        name: String,
        /// The key ID in hex.
        key_id: String,
    },
    /// No signature from a required key verifies.
    #[error("C2SP signed-note: no signature from {wanted} verifies")]
    NotSigned {
        /// The key, or set of keys, whose signature is missing.
        wanted: String,
    },
    /// A Merkle proof does not verify.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// An entry of the transcript is bad: this is the first bad one.
    #[error("entry {index}: {reason}")]
    Entry {
        /// The 0-based entry index (its position in the log).
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint of the transcript is bad.
    #[error("checkpoint {file}: {reason}")]
    Checkpoint {
        /// The checkpoint's file name in `checkpoints/`.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A witness's cosignature cannot be stored: not a declared witness,
    /// or not over any checkpoint of this transcript.
    #[error("cosignature by {witness}: {reason}")]
    Cosignature {
        /// The witness key, `<name>+<key ID>`.
        witness: String,
        /// Why it was refused.
        reason: String,
    },
    /// The log cannot do what was asked: append after the ceremony closed,
    /// open a directory that holds no transcript, recover below a checkpoint.
    #[error("transcript {}: {reason}", dir.display())]
    Log {
        /// The transcript directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// Whether this is an environment failure (I/O) rather than bad input
    /// or a failed check. The CLI maps I/O to exit code 3.
    pub fn is_io(&self) -> bool {
        matches!(self, Error::Io { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn parse(
        what: &'static str,
        line: Option<usize>,
        reason: impl Into<String>,
    ) -> Error {
        Error::Parse {
            what,
            line,
            reason: reason.into(),
        }
    }
}
