//! The one error type of the key backends.

/// Why a key could not be found, loaded or used.
///
/// Messages name labels, files and mechanisms, never key material or PINs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key encoding could not be read.
    #[error("{what}: cannot read the private key: {reason}")]
    BadKey {
        /// Which key or file.
        what: String,
        /// What is wrong, without the key itself.
        reason: String,
    },
    /// The key's algorithm or size is one this backend cannot use.
    #[error("{what}: unsupported key: {reason}")]
    Unsupported {
        /// Which key.
        what: String,
        /// What is unsupported.
        reason: String,
    },
    /// The signing operation failed.
    #[error("{what}: signing failed: {reason}")]
    SignFailed {
        /// Which key.
        what: String,
        /// What the backend said.
        reason: String,
    },
}
