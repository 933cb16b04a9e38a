//! Keys held in process memory: RSA, ECDSA P-256 and Ed25519 through `ring`.
//!
//! The private key bytes live only in a [`Zeroizing`] buffer and in `ring`'s
//! key object; neither is ever written out. Reading a PEM converts PKCS#1
//! (`BEGIN RSA PRIVATE KEY`) and SEC1 (`BEGIN EC PRIVATE KEY`) keys to
//! PKCS#8 in memory.

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use crate::{KeyError, KeyIdentity, KeySigner};

enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A KSK in memory.
pub struct SoftKey {
    identity: KeyIdentity,
    dnskey: Dnskey,
    pair: Pair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SoftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("SoftKey")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl SoftKey {
    /// Loads a PKCS#8 DER private key for `algorithm` (8, 13 or 15).
    ///
    /// # Errors
    /// [`KeyError::BadKey`] or [`KeyError::Unsupported`].
    pub fn from_pkcs8(
        label: &str,
        algorithm: SecurityAlgorithm,
        pkcs8: Zeroizing<Vec<u8>>,
    ) -> Result<SoftKey, KeyError> {
        let bad = |reason: String| KeyError::BadKey {
            what: label.to_owned(),
            reason,
        };
        let (pair, public_key, bits) = match algorithm {
            SecurityAlgorithm::RSASHA256 => {
                let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| bad(e.to_string()))?;
                let parts = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
                let (e, n) = (strip_zeros(&parts.e), strip_zeros(&parts.n));
                let bits = (n.len() as u32) * 8 - n.first().map_or(0, |b| b.leading_zeros());
                (Pair::Rsa(pair), rsa_dnskey(e, n), bits)
            }
            SecurityAlgorithm::ECDSAP256SHA256 => {
                let rng = SystemRandom::new();
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &pkcs8,
                    &rng,
                )
                .map_err(|e| bad(e.to_string()))?;
                // DNSSEC carries x‖y without the uncompressed-point prefix (RFC 6605 §4).
                let public = pair.public_key().as_ref()[1..].to_vec();
                (Pair::Ecdsa(pair), public, 256)
            }
            SecurityAlgorithm::ED25519 => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
                    .map_err(|e| bad(e.to_string()))?;
                let public = pair.public_key().as_ref().to_vec();
                (Pair::Ed25519(pair), public, 256)
            }
            other => {
                return Err(KeyError::Unsupported {
                    what: label.to_owned(),
                    reason: format!("algorithm {} (use 8, 13 or 15)", other.to_int()),
                })
            }
        };
        let dnskey = Dnskey::new(257, 3, algorithm, public_key).map_err(|e| bad(e.to_string()))?;
        Ok(SoftKey {
            identity: KeyIdentity {
                label: label.to_owned(),
                algorithm,
                bits,
            },
            dnskey,
            pair,
            pkcs8,
        })
    }

    /// Loads a PEM private key: PKCS#8, PKCS#1 RSA or SEC1 P-256; the algorithm follows the key.
    ///
    /// # Errors
    /// [`KeyError::BadKey`] when the PEM is none of these.
    pub fn from_pem(label: &str, pem: &str) -> Result<SoftKey, KeyError> {
        use p256::pkcs8::EncodePrivateKey as _;
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let bad = |reason: &str| KeyError::BadKey {
            what: label.to_owned(),
            reason: reason.to_owned(),
        };
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            let key =
                rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| bad("not a PKCS#1 RSA key"))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|_| bad("cannot convert to PKCS#8"))?;
            return SoftKey::from_pkcs8(
                label,
                SecurityAlgorithm::RSASHA256,
                Zeroizing::new(der.as_bytes().to_vec()),
            );
        }
        if pem.contains("BEGIN EC PRIVATE KEY") {
            let key =
                p256::SecretKey::from_sec1_pem(pem).map_err(|_| bad("not a SEC1 P-256 key"))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|_| bad("cannot convert to PKCS#8"))?;
            return SoftKey::from_pkcs8(
                label,
                SecurityAlgorithm::ECDSAP256SHA256,
                Zeroizing::new(der.as_bytes().to_vec()),
            );
        }
        if pem.contains("BEGIN PRIVATE KEY") {
            let (_, doc) = p256::pkcs8::der::SecretDocument::from_pem(pem)
                .map_err(|_| bad("not a PKCS#8 PEM"))?;
            let der = Zeroizing::new(doc.as_bytes().to_vec());
            // Try each algorithm; ring checks the algorithm identifier.
            for algorithm in [
                SecurityAlgorithm::RSASHA256,
                SecurityAlgorithm::ECDSAP256SHA256,
                SecurityAlgorithm::ED25519,
            ] {
                if let Ok(key) = SoftKey::from_pkcs8(label, algorithm, der.clone()) {
                    return Ok(key);
                }
            }
            return Err(bad(
                "PKCS#8 key of an algorithm other than RSA, P-256 or Ed25519",
            ));
        }
        Err(bad(
            "expected a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)",
        ))
    }

    /// Generates a new key: RSA of `bits` (2048, 3072, 4096) with e = 65537, P-256 or Ed25519.
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for other algorithms or sizes.
    pub fn generate(
        label: &str,
        algorithm: SecurityAlgorithm,
        bits: u32,
    ) -> Result<SoftKey, KeyError> {
        use rsa::pkcs8::EncodePrivateKey as _;
        let rng = SystemRandom::new();
        let fail = |reason: String| KeyError::SignFailed {
            what: label.to_owned(),
            reason,
        };
        let pkcs8 = match algorithm {
            SecurityAlgorithm::RSASHA256 => {
                if ![2048, 3072, 4096].contains(&bits) {
                    return Err(KeyError::Unsupported {
                        what: label.to_owned(),
                        reason: format!("RSA-{bits} (use 2048, 3072 or 4096)"),
                    });
                }
                let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits as usize)
                    .map_err(|e| fail(e.to_string()))?;
                Zeroizing::new(
                    key.to_pkcs8_der()
                        .map_err(|e| fail(e.to_string()))?
                        .as_bytes()
                        .to_vec(),
                )
            }
            SecurityAlgorithm::ECDSAP256SHA256 => Zeroizing::new(
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|e| fail(e.to_string()))?
                    .as_ref()
                    .to_vec(),
            ),
            SecurityAlgorithm::ED25519 => Zeroizing::new(
                Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|e| fail(e.to_string()))?
                    .as_ref()
                    .to_vec(),
            ),
            other => {
                return Err(KeyError::Unsupported {
                    what: label.to_owned(),
                    reason: format!("algorithm {}", other.to_int()),
                })
            }
        };
        SoftKey::from_pkcs8(label, algorithm, pkcs8)
    }

    /// The same key with other DNSKEY flags, e.g. 256 for a ZSK that the zone operator holds.
    ///
    /// # Errors
    /// [`KeyError::BadKey`] if the DNSKEY cannot be rebuilt (it always can for a loaded key).
    pub fn with_flags(mut self, flags: u16) -> Result<SoftKey, KeyError> {
        self.dnskey = Dnskey::new(
            flags,
            self.dnskey.protocol(),
            self.dnskey.algorithm(),
            self.dnskey.public_key().to_vec(),
        )
        .map_err(|e| KeyError::BadKey {
            what: self.identity.label.clone(),
            reason: e.to_string(),
        })?;
        Ok(self)
    }

    /// The PKCS#8 encoding, for a keystore to encrypt. Handle with care.
    pub fn pkcs8(&self) -> &Zeroizing<Vec<u8>> {
        &self.pkcs8
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The RFC 3110 DNSKEY encoding of an RSA public key.
pub fn rsa_dnskey(exponent: &[u8], modulus: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + exponent.len() + modulus.len());
    if exponent.len() < 256 {
        out.push(exponent.len() as u8);
    } else {
        out.push(0);
        out.extend_from_slice(&(exponent.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(exponent);
    out.extend_from_slice(modulus);
    out
}

impl KeySigner for SoftKey {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        let fail = |reason: String| KeyError::SignFailed {
            what: self.identity.label.clone(),
            reason,
        };
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, signed_data, &mut sig)
                    .map_err(|e| fail(e.to_string()))?;
                Ok(sig)
            }
            Pair::Ecdsa(pair) => Ok(pair
                .sign(&rng, signed_data)
                .map_err(|e| fail(e.to_string()))?
                .as_ref()
                .to_vec()),
            Pair::Ed25519(pair) => Ok(pair.sign(signed_data).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use ceremony_dnssec::{parse_name, verify, RrsigHeader};

    use super::*;

    fn sign_and_verify(key: &SoftKey) {
        let root = parse_name(".").expect("root");
        let header = RrsigHeader::for_dnskeys(&root, key.dnskey(), 172800, 1, 2);
        let data = header
            .signed_data_dnskeys(&root, [key.dnskey()])
            .expect("data");
        let sig = key.sign(&data).expect("signs");
        verify(key.dnskey(), &data, &sig).expect("verifies");
    }

    #[test]
    fn generated_keys_sign_what_verify_accepts() {
        for (alg, bits) in [
            (SecurityAlgorithm::ECDSAP256SHA256, 256),
            (SecurityAlgorithm::ED25519, 256),
        ] {
            let key = SoftKey::generate("k", alg, bits).expect("generates");
            assert_eq!(key.identity().bits, bits);
            sign_and_verify(&key);
        }
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let key =
            SoftKey::generate("secret-test", SecurityAlgorithm::ED25519, 256).expect("generates");
        let text = format!("{key:?}");
        assert!(
            text.contains("secret-test") && !text.contains("pkcs8"),
            "{text}"
        );
    }
}
