//! Repairing a lost share with the help of a threshold of other holders
//! (the Repairable Threshold Scheme, <https://eprint.iacr.org/2017/1155>,
//! as frost-ed25519 3.0 implements it). No helper learns the lost share.
//!
//! ```text
//! helper h:     deltas_h = helper_deltas(h, helpers, lost)   one delta to each helper
//! helper h:     sigma_h  = helper_sigma(deltas sent to h)    sent to the holder being repaired
//! lost holder:  Holder   = recover(lost, sigmas, group)
//! ```
//!
//! Deltas and sigmas are secret: send them over encrypted, authenticated channels.

use std::collections::BTreeMap;

use frost_ed25519 as frost;
use rand_core::CryptoRngCore;

use super::{from_frost, identifier, index_of, GroupKey, Holder};
use crate::Error;

pub use frost::keys::repairable::{Delta, Sigma};

/// Step 1, by each helper: the delta for every helper (itself included),
/// keyed by the helper it goes to.
///
/// # Errors
/// [`Error::Frost`] when the helper set is too small or includes `lost`.
pub fn helper_deltas<R: CryptoRngCore>(
    helper: &Holder,
    helpers: &[u16],
    lost: u16,
    rng: &mut R,
) -> Result<BTreeMap<u16, Delta>, Error> {
    if helpers.contains(&lost) {
        return Err(Error::Protocol("the holder being repaired cannot help"));
    }
    let ids = helpers
        .iter()
        .map(|index| identifier(*index))
        .collect::<Result<Vec<_>, _>>()?;
    let deltas = frost::keys::repairable::repair_share_part1::<frost::Ed25519Sha512, _>(
        &ids,
        helper.key_package(),
        rng,
        identifier(lost)?,
    )
    .map_err(from_frost)?;
    deltas
        .into_iter()
        .map(|(id, delta)| {
            index_of(&id)
                .map(|index| (index, delta))
                .ok_or(Error::Protocol("identifier is not a holder index"))
        })
        .collect()
}

/// Step 2, by each helper: the sum of the deltas it received.
pub fn helper_sigma(deltas: &[Delta]) -> Sigma {
    frost::keys::repairable::repair_share_part2(deltas)
}

/// Step 3, by the holder who lost the share: the share rebuilt from every
/// helper's sigma, checked against the group key's verifying share.
///
/// # Errors
/// [`Error::Frost`] when FROST cannot rebuild it; [`Error::Protocol`] when
/// the rebuilt share does not match the group's verifying share for `lost`.
pub fn recover(lost: u16, sigmas: &[Sigma], group: &GroupKey) -> Result<Holder, Error> {
    let id = identifier(lost)?;
    let key_package = frost::keys::repairable::repair_share_part3(sigmas, id, group.package())
        .map_err(from_frost)?;
    if group.package().verifying_shares().get(&id) != Some(key_package.verifying_share()) {
        return Err(Error::Protocol(
            "the repaired share does not match the group's verifying share",
        ));
    }
    Ok(Holder::from_key_package(key_package))
}
