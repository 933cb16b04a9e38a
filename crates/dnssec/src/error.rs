//! The one error type of this crate.

/// What went wrong with a DNSSEC record or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a domain name.
    #[error("not a valid domain name: {0:?}")]
    BadName(String),
    /// The DNSKEY RDATA is malformed (RFC 4034 §2.1).
    #[error("malformed DNSKEY: {0}")]
    BadDnskey(&'static str),
    /// The algorithm is one this crate does not handle.
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(u8),
    /// The digest type is one this crate does not compute.
    #[error("unsupported DS digest type {0}")]
    UnsupportedDigest(u8),
    /// The signature does not verify under the key.
    #[error("signature does not verify")]
    BadSignature,
    /// The RRSIG labels field exceeds the owner name's label count (RFC 4035 §5.3.1).
    #[error("RRSIG labels {labels} exceed the {owner_labels} labels of the owner name")]
    BadLabels {
        /// The labels field of the RRSIG.
        labels: u8,
        /// The number of labels in the owner name, not counting the root.
        owner_labels: usize,
    },
}
