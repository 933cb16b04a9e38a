//! The one error type of this crate.

use std::fmt;

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
    /// FROST aggregation found several cheating holders at once.
    #[error("signature shares of holders {} rejected: {fault}", Indices(.indices))]
    BadShares {
        /// The holders whose shares do not verify.
        indices: Vec<u16>,
        /// Why they were rejected.
        fault: ShareFault,
    },
    /// Fewer valid shares than the threshold.
    #[error("{have} valid signature shares, {need} needed")]
    NotEnoughShares {
        /// Shares accepted so far.
        have: usize,
        /// The threshold k (RSA) or min_signers (FROST).
        need: u16,
    },
    /// The combined RSA signature fails y^e ≡ x (mod n). Verified shares never
    /// cause this; it means the key itself is inconsistent.
    #[error("combined signature does not verify (Shoup 2000 §4: y^e ≢ x mod n)")]
    CombineFailed,
    /// An RSASSA-PKCS1-v1_5 signature does not verify under the threshold key.
    #[error("RSASSA-PKCS1-v1_5 signature does not verify (RFC 8017 §8.2.2)")]
    BadSignature,
    /// A coordinator asked a holder to sign something else than the data the
    /// holder computed and approved itself.
    #[error("the signing request is for other data than the holder approved")]
    MessageMismatch,
    /// A protocol step was taken out of order, or with the wrong participants.
    #[error("protocol misuse: {0}")]
    Protocol(&'static str),
    /// A resharing sub-share does not match its dealer's public commitments,
    /// or is out of range. `dealer` is the old holder who sent it.
    #[error("sub-share from old holder {dealer} to new holder {recipient} rejected: {reason}")]
    BadSubShare {
        /// The old holder who dealt it.
        dealer: u16,
        /// The new holder it is for.
        recipient: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A dealer's resharing commitments are malformed, missing or repeated.
    #[error("resharing commitments of old holder {dealer} rejected: {reason}")]
    BadCommitments {
        /// The old holder who dealt them.
        dealer: u16,
        /// What is wrong with them.
        reason: &'static str,
    },
    /// Safe-prime generation failed.
    #[error("safe prime generation failed: {0}")]
    PrimeGeneration(String),
    /// The DNSKEY could not be built.
    #[error(transparent)]
    Dnssec(#[from] ceremony_dnssec::Error),
    /// An error from the FROST implementation (RFC 9591), with the holders it blames.
    #[error("FROST (RFC 9591): {source}")]
    Frost {
        /// Holders the FROST library identified as culprits, if any.
        culprits: Vec<u16>,
        /// The library's error.
        #[source]
        source: frost_ed25519::Error,
    },
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
    /// A FROST signature share does not verify against the holder's verifying share.
    #[error(
        "signature share does not verify against the holder's verifying share (RFC 9591 §5.4)"
    )]
    BadFrostShare,
}

struct Indices<'a>(&'a [u16]);

impl fmt::Display for Indices<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, index) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{index}")?;
        }
        Ok(())
    }
}
