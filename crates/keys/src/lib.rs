//! The signing seam: a KSK that signs exact RRSIG data, wherever it lives.
//!
//! The signer builds the RFC 4034 §3.1.8.1 signed data itself and hands it
//! to a [`KeySigner`]; the key returns the raw DNSSEC signature (RSA
//! PKCS#1 v1.5 over SHA-256, ECDSA P-256 `r‖s`, or Ed25519). The seam
//! never sees a KSR, so a backend can be an HSM, a software keystore, or a
//! quorum of threshold shares.
//!
//! Backends:
//! * [`soft`]: a key in memory, from PKCS#8 or PEM, zeroized on drop;
//!   the keystore and the tests build on it.
//! * [`keystore`]: a directory of KSKs encrypted at rest with age (passphrase
//!   or X25519 identity), their public half readable without unlocking.
//! * [`pkcs11`]: a key in a PKCS#11 token (an HSM, SoftHSM2 in tests)
//!   through `cryptoki`; every signature is verified against the DNSKEY.
//!
//! Out of scope: deciding what to sign. That is the signer's job, and the
//! policy checks'.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod armor;
mod error;
pub mod keystore;
pub mod pkcs11;
pub mod soft;

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};

pub use error::KeyError;

/// What identifies a key to the people in the room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyIdentity {
    /// The label in the HSM or keystore, also the SKR's keyIdentifier.
    pub label: String,
    /// The DNSSEC algorithm.
    pub algorithm: SecurityAlgorithm,
    /// The key size in bits (modulus for RSA, curve for ECDSA, 256 for Ed25519).
    pub bits: u32,
}

/// A key that signs RRSIG data: the one seam every backend implements.
pub trait KeySigner {
    /// Label, algorithm and size.
    fn identity(&self) -> &KeyIdentity;

    /// The public key as a KSK DNSKEY (flags 257, protocol 3).
    fn dnskey(&self) -> &Dnskey;

    /// Signs the exact RRSIG signed data and returns the raw signature.
    ///
    /// # Errors
    /// [`KeyError`] when the backend fails; the message never contains key material.
    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError>;
}
