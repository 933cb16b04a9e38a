//! Distributed key generation (RFC 9591 leaves it open; frost-ed25519
//! implements the Pedersen DKG with proofs of knowledge of Komlo–Goldberg):
//! no dealer ever holds the key.
//!
//! Three steps per participant, each a pure function of what it received:
//!
//! ```text
//! start    → round1::Package        broadcast to everyone
//! receive  → round2::Package each   sent privately to each other participant
//! finish   → Holder + GroupKey      every participant gets the same GroupKey
//! ```
//!
//! Packages are keyed by the holder index they come from (or go to).
//! Round-two packages carry secret shares: send each over an encrypted,
//! authenticated channel. Every participant must compare the resulting group
//! key (its DNSKEY, or DS hash words) with every other.

use std::collections::BTreeMap;

use frost_ed25519 as frost;
use rand_core::CryptoRngCore;

use super::{from_frost, identifier, index_of, GroupKey, Holder};
use crate::Error;

pub use frost::keys::dkg::round1::Package as Round1Package;
pub use frost::keys::dkg::round2::Package as Round2Package;

/// A participant after `start`: holds its secret polynomial, in memory only.
pub struct Round1 {
    secret: frost::keys::dkg::round1::SecretPackage,
}

/// A participant after `receive`: holds its round-two secret, in memory only.
pub struct Round2 {
    secret: frost::keys::dkg::round2::SecretPackage,
    round1: BTreeMap<frost::Identifier, Round1Package>,
}

impl std::fmt::Debug for Round1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dkg::Round1(…)")
    }
}

impl std::fmt::Debug for Round2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dkg::Round2(…)")
    }
}

/// Step 1 for participant `index`: a secret polynomial, and the package to broadcast.
///
/// # Errors
/// [`Error::Frost`] for sizes FROST refuses.
pub fn start<R: CryptoRngCore>(
    index: u16,
    min_signers: u16,
    max_signers: u16,
    rng: &mut R,
) -> Result<(Round1, Round1Package), Error> {
    let (secret, package) =
        frost::keys::dkg::part1(identifier(index)?, max_signers, min_signers, rng)
            .map_err(from_frost)?;
    Ok((Round1 { secret }, package))
}

fn by_identifier<P: Clone>(
    packages: &BTreeMap<u16, P>,
) -> Result<BTreeMap<frost::Identifier, P>, Error> {
    packages
        .iter()
        .map(|(index, package)| Ok((identifier(*index)?, package.clone())))
        .collect()
}

impl Round1 {
    /// Step 2: checks every other participant's proof of knowledge and returns
    /// the private package for each of them, keyed by recipient.
    ///
    /// `packages` holds the round-one packages of all *other* participants.
    ///
    /// # Errors
    /// [`Error::Frost`] naming a participant whose proof of knowledge fails.
    pub fn receive(
        self,
        packages: &BTreeMap<u16, Round1Package>,
    ) -> Result<(Round2, BTreeMap<u16, Round2Package>), Error> {
        let round1 = by_identifier(packages)?;
        let (secret, outgoing) =
            frost::keys::dkg::part2(self.secret, &round1).map_err(from_frost)?;
        let outgoing = outgoing
            .into_iter()
            .map(|(id, package)| {
                index_of(&id)
                    .map(|index| (index, package))
                    .ok_or(Error::Protocol("identifier is not a holder index"))
            })
            .collect::<Result<_, _>>()?;
        Ok((Round2 { secret, round1 }, outgoing))
    }
}

impl Round2 {
    /// Step 3: checks the private packages received (keyed by sender) against
    /// the senders' commitments and returns this participant's share and the
    /// group key.
    ///
    /// # Errors
    /// [`Error::Frost`] naming a participant whose share does not match its commitment.
    pub fn finish(
        self,
        packages: &BTreeMap<u16, Round2Package>,
    ) -> Result<(Holder, GroupKey), Error> {
        let round2 = by_identifier(packages)?;
        let (key_package, public) =
            frost::keys::dkg::part3(&self.secret, &self.round1, &round2).map_err(from_frost)?;
        Ok((Holder::from_key_package(key_package), GroupKey::new(public)))
    }
}
