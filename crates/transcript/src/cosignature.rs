//! C2SP tlog-cosignature, `cosignature/v1`: a witness's timestamped Ed25519
//! signature on a checkpoint.
//!
//! A [cosignature] is a note signature of type `0x04` whose bytes after the
//! key ID are `u64be(timestamp) ‖ Ed25519 signature` (72 bytes), over the
//! message
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <checkpoint text>
//! ```
//!
//! It states that, as of that time, this is the largest consistent tree the
//! witness has seen for the checkpoint's origin.
//!
//! [cosignature]: https://c2sp.org/tlog-cosignature

use std::fmt;

use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::checkpoint::Checkpoint;
use crate::error::Error;
use crate::note::{
    check_key_name, keypair_from_seed, verifier_key, KeyId, NoteSignature, SignatureType,
    VerifierKey, ED25519_KEY_LEN, ED25519_SIGNATURE_LEN,
};

/// The bytes after the key ID in a cosignature: timestamp and signature.
pub const COSIGNATURE_LEN: usize = 8 + ED25519_SIGNATURE_LEN;

/// The largest timestamp allowed: "It MUST NOT exceed 2^63 - 1".
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The message a cosignature signs: the `cosignature/v1` header line, the
/// `time` line, then the checkpoint text.
pub fn signed_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Splits a cosignature's bytes into its timestamp and Ed25519 signature;
/// `None` when the length or the timestamp is out of bounds.
pub(crate) fn split(sig: &[u8]) -> Option<(u64, &[u8])> {
    if sig.len() != COSIGNATURE_LEN {
        return None;
    }
    let (ts, raw) = sig.split_at(8);
    let timestamp = u64::from_be_bytes(ts.try_into().ok()?);
    (timestamp <= MAX_TIMESTAMP).then_some((timestamp, raw))
}

/// A witness's cosigning key (type `0x04`).
pub struct Cosigner {
    name: String,
    key_id: KeyId,
    keypair: Ed25519KeyPair,
}

impl Cosigner {
    /// The cosigner with this 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`Error::Key`] for a bad key name.
    pub fn from_seed(name: &str, seed: &[u8; ED25519_KEY_LEN]) -> Result<Cosigner, Error> {
        check_key_name(name)?;
        let keypair = keypair_from_seed(name, seed)?;
        let key_id = KeyId::compute(
            name,
            SignatureType::COSIGNATURE_V1,
            keypair.public_key().as_ref(),
        );
        Ok(Cosigner {
            name: name.to_owned(),
            key_id,
            keypair,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key to publish.
    pub fn verifier_key(&self) -> VerifierKey {
        verifier_key(
            &self.name,
            self.key_id,
            SignatureType::COSIGNATURE_V1,
            &self.keypair,
        )
    }

    /// Cosigns a checkpoint as of `timestamp` (POSIX seconds).
    ///
    /// # Errors
    /// [`Error::Parse`] when the timestamp exceeds 2^63 − 1.
    pub fn cosign(&self, checkpoint: &Checkpoint, timestamp: u64) -> Result<NoteSignature, Error> {
        if timestamp > MAX_TIMESTAMP {
            return Err(Error::parse(
                "cosignature",
                None,
                "C2SP tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1",
            ));
        }
        let message = signed_message(&checkpoint.text(), timestamp);
        let sig = self.keypair.sign(message.as_bytes());
        let mut raw = Vec::with_capacity(COSIGNATURE_LEN);
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(sig.as_ref());
        NoteSignature::new(&self.name, self.key_id, raw)
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({}+{})", self.name, self.key_id)
    }
}
