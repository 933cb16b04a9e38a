//! The one error type of this crate.

/// What went wrong while dealing, signing, verifying or combining.
///
/// Errors about a share name the holder it came from, so that a coordinator
/// can tell the room who to ask again, and never carry key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The parameters cannot make a threshold key (sizes, k and l, exponent).
    #[error("invalid threshold parameters: {0}")]
    InvalidParameters(String),
    /// A threshold public key fails validation.
    #[error("invalid threshold public key: {0}")]
    InvalidPublicKey(&'static str),
    /// A key share is malformed or does not belong to its public key.
    #[error("key share of holder {index}: {reason}")]
    InvalidKeyShare {
        /// The holder's index.
        index: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signature share was rejected. `index` names the holder it claims to be from.
    #[error("signature share of holder {index} rejected: {fault}")]
    BadShare {
        /// The holder's index, as the share states it.
        index: u16,
        /// Why it was rejected.
        fault: ShareFault,
    },
    /// Fewer valid shares than the threshold.
    #[error("{have} valid signature shares, {need} needed")]
    NotEnoughShares {
        /// Shares accepted so far.
        have: usize,
        /// The threshold k.
        need: u16,
    },
    /// The combined RSA signature fails y^e ≡ x (mod n). Verified shares never
    /// cause this; it means the key itself is inconsistent.
    #[error("combined signature does not verify (Shoup 2000 §4: y^e ≢ x mod n)")]
    CombineFailed,
    /// An RSASSA-PKCS1-v1_5 signature does not verify under the threshold key.
    #[error("RSASSA-PKCS1-v1_5 signature does not verify (RFC 8017 §8.2.2)")]
    BadSignature,
    /// A protocol step was taken out of order, or with the wrong participants.
    #[error("protocol misuse: {0}")]
    Protocol(&'static str),
    /// Safe-prime generation failed.
    #[error("safe prime generation failed: {0}")]
    PrimeGeneration(String),
    /// The DNSKEY could not be built.
    #[error(transparent)]
    Dnssec(#[from] ceremony_dnssec::Error),
}

/// Why a signature share was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareFault {
    /// The index is not one of the key's holders (1..=l).
    #[error("no holder has this index in the key")]
    UnknownHolder,
    /// A share from this holder was already accepted in this session.
    #[error("a share from this holder was already accepted")]
    Duplicate,
    /// A field has the wrong length or is out of range.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// x_i shares a factor with n.
    #[error("x_i is not invertible modulo n")]
    NotInvertible,
    /// The proof of correctness does not verify.
    #[error("proof of correctness fails (Shoup 2000 §4: c ≠ H′(v, x̃, v_i, x_i², v^z·v_i^−c, x̃^z·x_i^−2c))")]
    BadProof,
}
