//! FROST(Ed25519, SHA-512) ([RFC 9591]) for DNSSEC algorithm 15 KSKs.
//!
//! The group signs with a standard RFC 8032 Ed25519 signature, so the group
//! key is an ordinary 32-byte ED25519 DNSKEY ([RFC 8080]) and the aggregate
//! is an ordinary 64-byte RRSIG signature. The cryptography is
//! `frost-ed25519` 3.0 (Zcash Foundation); this module fixes how a ceremony
//! uses it:
//!
//! * Holders are numbered 1..=n, like the RSA holders; the FROST identifiers
//!   are those integers.
//! * Keys come from a trusted dealer ([`deal`]), from an existing Ed25519
//!   private key ([`split`]), or from a distributed key generation with no
//!   dealer at all ([`dkg`]). [`refresh`] gives every holder a new share of
//!   the same group key; [`repair`] rebuilds a lost share with the help of a
//!   threshold of others. [`reshare`] chains them to move the key to a new
//!   set of holders (enrol by repair, then refresh onto the new set); no
//!   FROST tool changes the threshold.
//! * Signing is two rounds. [`Holder::commit`] returns [`SigningNonces`],
//!   which can be neither cloned nor serialized and are consumed by
//!   [`Holder::sign`]: nonces live in memory only, and only once.
//!   [`Holder::sign`] takes the data the holder built itself and refuses a
//!   signing package for anything else.
//! * The coordinator's [`SigningSession`] collects commitments, fixes the
//!   signing package, verifies every signature share as it arrives against the
//!   holder's verifying share, and aggregates. It does no I/O.
//!
//! ```text
//! round 1  holder i:     (nonces_i, commitments_i) = commit()       nonces stay in RAM
//! package  coordinator:  SigningPackage(commitments of ≥ t holders, signed data)
//! round 2  holder i:     share_i = sign(nonces_i, package, own signed data)
//! result   coordinator:  verify each share_i; R‖S = aggregate(shares)   (64 bytes, RFC 8032)
//! ```
//!
//! [RFC 9591]: https://www.rfc-editor.org/rfc/rfc9591
//! [RFC 8080]: https://www.rfc-editor.org/rfc/rfc8080

pub mod dkg;
pub mod refresh;
pub mod repair;
pub mod reshare;

use std::collections::BTreeMap;
use std::fmt;

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};
use curve25519_dalek::Scalar;
use frost_ed25519 as frost;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, ShareFault};

pub use frost::keys::{KeyPackage, PublicKeyPackage, SecretShare};
pub use frost::round1::SigningCommitments;
pub use frost::round2::SignatureShare;
pub use frost::SigningPackage;

/// The FROST identifier of holder `index` (1..=65535).
pub(crate) fn identifier(index: u16) -> Result<frost::Identifier, Error> {
    frost::Identifier::try_from(index).map_err(|source| frost_error(source, Vec::new()))
}

/// The holder index of a FROST identifier made by [`identifier`].
pub(crate) fn index_of(id: &frost::Identifier) -> Option<u16> {
    // Identifiers are scalars, serialized little-endian; ours are small integers.
    let bytes = id.serialize();
    (bytes.len() == 32 && bytes[2..].iter().all(|b| *b == 0))
        .then(|| u16::from_le_bytes([bytes[0], bytes[1]]))
}

pub(crate) fn frost_error(source: frost::Error, culprits: Vec<u16>) -> Error {
    Error::Frost { culprits, source }
}

/// Maps a FROST error to ours, turning culprit identifiers into holder indices.
pub(crate) fn from_frost(source: frost::Error) -> Error {
    let culprits: Vec<u16> = source.culprits().iter().filter_map(index_of).collect();
    match (&source, culprits.as_slice()) {
        (frost::Error::InvalidSignatureShare { .. }, [index]) => Error::BadShare {
            index: *index,
            fault: ShareFault::BadFrostShare,
        },
        (frost::Error::InvalidSignatureShare { .. }, [_, ..]) => Error::BadShares {
            indices: culprits,
            fault: ShareFault::BadFrostShare,
        },
        _ => frost_error(source, culprits),
    }
}

/// The group's public side: the Ed25519 public key and every holder's verifying share.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct GroupKey {
    package: PublicKeyPackage,
}

impl GroupKey {
    /// Wraps FROST's public key package.
    pub fn new(package: PublicKeyPackage) -> GroupKey {
        GroupKey { package }
    }

    /// FROST's public key package, to hand to holders.
    pub fn package(&self) -> &PublicKeyPackage {
        &self.package
    }

    /// The group's Ed25519 public key, as RFC 8032 encodes it.
    ///
    /// # Errors
    /// [`Error::Frost`] if the key does not encode (never for a valid package).
    pub fn public_key(&self) -> Result<[u8; 32], Error> {
        let bytes = self
            .package
            .verifying_key()
            .serialize()
            .map_err(|source| frost_error(source, Vec::new()))?;
        bytes
            .try_into()
            .map_err(|_| Error::Protocol("an Ed25519 public key is 32 bytes"))
    }

    /// The group key as a KSK DNSKEY: flags 257, protocol 3, algorithm 15 (ED25519).
    ///
    /// # Errors
    /// As [`GroupKey::public_key`].
    pub fn dnskey(&self) -> Result<Dnskey, Error> {
        Ok(Dnskey::new(
            Dnskey::ZONE | Dnskey::SEP,
            3,
            SecurityAlgorithm::ED25519,
            self.public_key()?.to_vec(),
        )?)
    }

    /// The threshold: how many holders must sign.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a package from before frost 3.0, which did not record it.
    pub fn min_signers(&self) -> Result<u16, Error> {
        self.package.min_signers().ok_or(Error::Protocol(
            "the public key package does not record min_signers",
        ))
    }

    /// The holders' indices, in order.
    pub fn holders(&self) -> Vec<u16> {
        self.package
            .verifying_shares()
            .keys()
            .filter_map(index_of)
            .collect()
    }

    /// Holder `index`'s verifying share (G times its share), as 32 bytes, if the group has it.
    pub fn verifying_share(&self, index: u16) -> Option<[u8; 32]> {
        let share = self
            .package
            .verifying_shares()
            .get(&identifier(index).ok()?)?;
        share.serialize().ok()?.try_into().ok()
    }

    /// Verifies an Ed25519 signature under the group key (RFC 8032 §5.1.7).
    ///
    /// # Errors
    /// [`Error::Frost`] when it does not verify.
    pub fn verify(&self, signed_data: &[u8], signature: &[u8; 64]) -> Result<(), Error> {
        let signature = frost::Signature::deserialize(signature).map_err(from_frost)?;
        self.package
            .verifying_key()
            .verify(signed_data, &signature)
            .map_err(from_frost)
    }
}

/// One holder's share of the group key.
///
/// FROST's `KeyPackage` zeroizes its signing share on drop. This type is not
/// `Clone`; it serializes (FROST's own encoding) for a file that must be
/// encrypted before it touches a disk.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Holder {
    key_package: KeyPackage,
}

impl Holder {
    /// The holder that a dealer's secret share makes, after checking it
    /// against the dealer's commitment (RFC 9591 Appendix C.2, `vss_verify`).
    ///
    /// # Errors
    /// [`Error::Frost`] when the share does not match its commitment.
    pub fn from_secret_share(share: SecretShare) -> Result<Holder, Error> {
        let key_package = KeyPackage::try_from(share).map_err(from_frost)?;
        Ok(Holder { key_package })
    }

    /// Wraps a key package (from the DKG, a refresh or a repair).
    pub fn from_key_package(key_package: KeyPackage) -> Holder {
        Holder { key_package }
    }

    /// The holder's index.
    ///
    /// # Errors
    /// [`Error::Protocol`] if the identifier is not a small integer.
    pub fn index(&self) -> Result<u16, Error> {
        index_of(self.key_package.identifier())
            .ok_or(Error::Protocol("identifier is not a holder index"))
    }

    /// FROST's key package.
    pub fn key_package(&self) -> &KeyPackage {
        &self.key_package
    }

    /// Round one: fresh nonces (kept here, in memory) and their commitments
    /// (sent to the coordinator).
    pub fn commit<R: CryptoRngCore>(&self, rng: &mut R) -> (SigningNonces, SigningCommitments) {
        let (nonces, commitments) = frost::round1::commit(self.key_package.signing_share(), rng);
        (SigningNonces(nonces), commitments)
    }

    /// Round two: the signature share over `signed_data`, consuming the nonces.
    ///
    /// `signed_data` is what the holder built and approved itself (the RRSIG
    /// signed data); a package for other data is refused. FROST also refuses a
    /// package whose commitment for this holder is not the one these nonces
    /// made.
    ///
    /// # Errors
    /// [`Error::MessageMismatch`] for a package over other data;
    /// [`Error::Frost`] when FROST refuses the package.
    pub fn sign(
        &self,
        nonces: SigningNonces,
        package: &SigningPackage,
        signed_data: &[u8],
    ) -> Result<SignatureShare, Error> {
        if package.message().as_slice() != signed_data {
            return Err(Error::MessageMismatch);
        }
        frost::round2::sign(package, &nonces.0, &self.key_package).map_err(from_frost)
    }
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Holder")
            .field("index", &index_of(self.key_package.identifier()))
            .finish_non_exhaustive()
    }
}

/// A holder's round-one nonces: used once, never copied, never written out.
///
/// Not `Clone`, not `Serialize`; [`Holder::sign`] consumes it, and FROST
/// zeroizes it on drop. Reusing nonces for two messages would reveal the
/// holder's share (RFC 9591 §5.1).
///
/// Neither can be copied nor written out:
///
/// ```compile_fail
/// fn copyable<T: Clone>() {}
/// copyable::<ceremony_threshold::frost::SigningNonces>();
/// ```
///
/// ```compile_fail
/// fn writable<T: serde::Serialize>() {}
/// writable::<ceremony_threshold::frost::SigningNonces>();
/// ```
pub struct SigningNonces(frost::round1::SigningNonces);

impl fmt::Debug for SigningNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningNonces(…)")
    }
}

/// A dealt key: the public side and one holder per share, index 1 first.
#[derive(Debug)]
pub struct Dealing {
    /// The group key to publish and pin.
    pub group: GroupKey,
    /// The holders' shares, already checked against the dealer's commitment.
    pub holders: Vec<Holder>,
}

fn dealing(
    shares: BTreeMap<frost::Identifier, SecretShare>,
    package: PublicKeyPackage,
) -> Result<Dealing, Error> {
    let holders = shares
        .into_values()
        .map(Holder::from_secret_share)
        .collect::<Result<_, _>>()?;
    Ok(Dealing {
        group: GroupKey::new(package),
        holders,
    })
}

/// A trusted dealer's fresh `min_signers`-of-`max_signers` key (RFC 9591 Appendix C).
///
/// # Errors
/// [`Error::Frost`] for sizes FROST refuses (it needs 2 ≤ min ≤ max).
pub fn deal<R: CryptoRngCore>(
    min_signers: u16,
    max_signers: u16,
    rng: &mut R,
) -> Result<Dealing, Error> {
    let (shares, package) = frost::keys::generate_with_dealer(
        max_signers,
        min_signers,
        frost::keys::IdentifierList::Default,
        rng,
    )
    .map_err(from_frost)?;
    dealing(shares, package)
}

/// Splits an existing Ed25519 key, given as its RFC 8032 32-byte private key
/// (the seed), into `min_signers`-of-`max_signers` shares.
///
/// The group key is the key's own public key (RFC 8032 §5.1.5: the secret
/// scalar is the clamped first half of SHA-512(seed)), so a KSK already
/// published as a DNSKEY can move to threshold signing without a roll.
///
/// # Errors
/// [`Error::Frost`] for sizes FROST refuses.
pub fn split<R: CryptoRngCore>(
    seed: &[u8; 32],
    min_signers: u16,
    max_signers: u16,
    rng: &mut R,
) -> Result<Dealing, Error> {
    let mut digest = Sha512::digest(seed);
    let mut scalar_bytes = Zeroizing::new([0u8; 32]);
    scalar_bytes.copy_from_slice(&digest[..32]);
    digest.as_mut_slice().zeroize();
    scalar_bytes[0] &= 248;
    scalar_bytes[31] &= 127;
    scalar_bytes[31] |= 64;
    let scalar = Zeroizing::new(Scalar::from_bytes_mod_order(*scalar_bytes));
    let key = frost::SigningKey::from_scalar(*scalar).map_err(from_frost)?;
    let (shares, package) = frost::keys::split(
        &key,
        max_signers,
        min_signers,
        frost::keys::IdentifierList::Default,
        rng,
    )
    .map_err(from_frost)?;
    dealing(shares, package)
}

/// Where a FROST signing session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// Collecting round-one commitments; the package is not fixed yet.
    Committing {
        /// Commitments received.
        have: usize,
        /// The threshold.
        need: u16,
    },
    /// The package is fixed; collecting signature shares from its signers.
    Signing {
        /// Valid shares received.
        have: usize,
        /// Signers in the package.
        need: usize,
    },
    /// Every signer in the package sent a valid share.
    Ready,
}

/// A coordinator's FROST signing session for one message: a state machine
/// with no I/O.
///
/// 1. [`SigningSession::add_commitments`] for each holder taking part;
/// 2. [`SigningSession::signing_package`] fixes the signer set (at least
///    the threshold) and the data; send it to each signer;
/// 3. [`SigningSession::add_share`] verifies each share as it arrives
///    against the holder's verifying share in the pinned group key;
/// 4. [`SigningSession::aggregate`] returns the 64-byte Ed25519 signature.
#[derive(Debug)]
pub struct SigningSession {
    group: GroupKey,
    signed_data: Vec<u8>,
    commitments: BTreeMap<frost::Identifier, SigningCommitments>,
    package: Option<SigningPackage>,
    shares: BTreeMap<u16, SignatureShare>,
}

impl SigningSession {
    /// Opens a session for `signed_data` under the pinned `group` key.
    pub fn new(group: &GroupKey, signed_data: &[u8]) -> SigningSession {
        SigningSession {
            group: group.clone(),
            signed_data: signed_data.to_vec(),
            commitments: BTreeMap::new(),
            package: None,
            shares: BTreeMap::new(),
        }
    }

    /// Records holder `index`'s round-one commitments.
    ///
    /// # Errors
    /// [`Error::BadShare`] for an index outside the group
    /// ([`ShareFault::UnknownHolder`]) or a second commitment
    /// ([`ShareFault::Duplicate`]); [`Error::Protocol`] once the package is fixed.
    pub fn add_commitments(
        &mut self,
        index: u16,
        commitments: SigningCommitments,
    ) -> Result<SessionStatus, Error> {
        if self.package.is_some() {
            return Err(Error::Protocol(
                "the signing package is fixed; no more commitments",
            ));
        }
        let id = self.known(index)?;
        if self.commitments.contains_key(&id) {
            return Err(Error::BadShare {
                index,
                fault: ShareFault::Duplicate,
            });
        }
        self.commitments.insert(id, commitments);
        self.status()
    }

    /// Fixes the signer set and returns the package to send to each signer.
    ///
    /// # Errors
    /// [`Error::NotEnoughShares`] with fewer commitments than the threshold.
    pub fn signing_package(&mut self) -> Result<SigningPackage, Error> {
        if let Some(package) = &self.package {
            return Ok(package.clone());
        }
        let need = self.group.min_signers()?;
        if self.commitments.len() < usize::from(need) {
            return Err(Error::NotEnoughShares {
                have: self.commitments.len(),
                need,
            });
        }
        let package = SigningPackage::new(self.commitments.clone(), &self.signed_data);
        self.package = Some(package.clone());
        Ok(package)
    }

    /// Verifies holder `index`'s signature share and keeps it if valid.
    ///
    /// # Errors
    /// [`Error::BadShare`] naming the holder: not in the package, a duplicate,
    /// or a share that does not verify ([`ShareFault::BadFrostShare`]);
    /// [`Error::Protocol`] before the package is fixed.
    pub fn add_share(&mut self, index: u16, share: SignatureShare) -> Result<SessionStatus, Error> {
        let Some(package) = &self.package else {
            return Err(Error::Protocol("no signing package yet"));
        };
        let id = self.known(index)?;
        let bad = |fault| Error::BadShare { index, fault };
        if !self.commitments.contains_key(&id) {
            return Err(bad(ShareFault::UnknownHolder));
        }
        if self.shares.contains_key(&index) {
            return Err(bad(ShareFault::Duplicate));
        }
        let verifying_share = self
            .group
            .package
            .verifying_shares()
            .get(&id)
            .ok_or(bad(ShareFault::UnknownHolder))?;
        frost_core::verify_signature_share(
            id,
            verifying_share,
            &share,
            package,
            self.group.package.verifying_key(),
        )
        .map_err(|_| bad(ShareFault::BadFrostShare))?;
        self.shares.insert(index, share);
        self.status()
    }

    /// Where the session stands.
    ///
    /// # Errors
    /// As [`GroupKey::min_signers`].
    pub fn status(&self) -> Result<SessionStatus, Error> {
        Ok(match &self.package {
            None => SessionStatus::Committing {
                have: self.commitments.len(),
                need: self.group.min_signers()?,
            },
            Some(package) if self.shares.len() == package.signing_commitments().len() => {
                SessionStatus::Ready
            }
            Some(package) => SessionStatus::Signing {
                have: self.shares.len(),
                need: package.signing_commitments().len(),
            },
        })
    }

    /// Aggregates the shares into the Ed25519 signature R‖S and verifies it
    /// under the group key before returning it.
    ///
    /// # Errors
    /// [`Error::NotEnoughShares`] until every signer in the package has sent a
    /// valid share (`need` is the package's signer count); see [`aggregate`].
    pub fn aggregate(&self) -> Result<[u8; 64], Error> {
        let Some(package) = &self.package else {
            return Err(Error::Protocol("no signing package yet"));
        };
        let signers = package.signing_commitments().len();
        if self.shares.len() < signers {
            return Err(Error::NotEnoughShares {
                have: self.shares.len(),
                need: u16::try_from(signers).unwrap_or(u16::MAX),
            });
        }
        aggregate(&self.group, package, &self.shares)
    }

    fn known(&self, index: u16) -> Result<frost::Identifier, Error> {
        let id = identifier(index)?;
        if self.group.package.verifying_shares().contains_key(&id) {
            Ok(id)
        } else {
            Err(Error::BadShare {
                index,
                fault: ShareFault::UnknownHolder,
            })
        }
    }
}

/// FROST's aggregation with every cheater identified (RFC 9591 §5.3), then
/// a check of the result under the group key.
///
/// # Errors
/// [`Error::BadShare`] or [`Error::BadShares`] naming the holders whose
/// shares do not verify; [`Error::Frost`] for other FROST errors.
pub fn aggregate(
    group: &GroupKey,
    package: &SigningPackage,
    shares: &BTreeMap<u16, SignatureShare>,
) -> Result<[u8; 64], Error> {
    let shares = shares
        .iter()
        .map(|(index, share)| Ok((identifier(*index)?, *share)))
        .collect::<Result<BTreeMap<_, _>, Error>>()?;
    let signature = frost::aggregate_custom(
        package,
        &shares,
        &group.package,
        frost::CheaterDetection::AllCheaters,
    )
    .map_err(from_frost)?;
    let bytes: [u8; 64] = signature
        .serialize()
        .map_err(from_frost)?
        .try_into()
        .map_err(|_| Error::Protocol("an Ed25519 signature is 64 bytes"))?;
    group.verify(package.message(), &bytes)?;
    Ok(bytes)
}
