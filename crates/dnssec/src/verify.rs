//! Signature verification for the algorithms a KSK may use.

use domain::base::iana::SecurityAlgorithm;
use domain::crypto::common::{AlgorithmError, PublicKey};

use crate::{Dnskey, Error};

/// Verifies `signature` over `signed_data` with `key`.
///
/// Algorithms 8 (RSASHA256, 1024–8192 bits, as the 2009 root ZSKs were 1024),
/// 13 (ECDSAP256SHA256, r‖s) and 15 (ED25519) are accepted, also 10, 14 and 5
/// since `ring` handles them; the policy decides which are acceptable.
///
/// # Errors
/// [`Error::BadSignature`] when the signature is wrong,
/// [`Error::UnsupportedAlgorithm`] or [`Error::BadDnskey`] when the key cannot be used.
pub fn verify(key: &Dnskey, signed_data: &[u8], signature: &[u8]) -> Result<(), Error> {
    let theirs = domain::rdata::Dnskey::new(
        key.flags(),
        key.protocol(),
        key.algorithm(),
        key.public_key(),
    )
    .map_err(|_| Error::BadDnskey("public key longer than RDATA allows"))?;
    let public =
        PublicKey::from_dnskey(&theirs).map_err(|err| map_key_error(key.algorithm(), err))?;
    public
        .verify(signed_data, signature)
        .map_err(|_| Error::BadSignature)
}

fn map_key_error(algorithm: SecurityAlgorithm, err: AlgorithmError) -> Error {
    match err {
        AlgorithmError::Unsupported => Error::UnsupportedAlgorithm(algorithm.to_int()),
        AlgorithmError::BadSig | AlgorithmError::InvalidData => {
            Error::BadDnskey("public key does not decode for its algorithm")
        }
    }
}
