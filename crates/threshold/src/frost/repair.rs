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
//!
//! RTS alone cannot say which helper sent a bad delta or sigma: the repaired
//! share just fails to match. So each helper also publishes G·δ for every
//! delta it sends ([`commit_deltas`]). Anyone checks that they sum to
//! λ_h(lost)·Y_h ([`check_commitments`]); a helper checks each delta it
//! receives against them ([`check_delta`]); the holder being repaired checks
//! each sigma against the sum of the commitments to its sender's deltas
//! ([`check_sigma`]). Each check names the helper at fault. The points
//! reveal no scalar (discrete logarithm), and λ_h(lost)·Y_h is public anyway.
//!
//! ```text
//! helper h:     C_h = commit_deltas(deltas_h)                  published
//! anyone:       check_commitments(group, helpers, lost, h, C_h)   Σ_k C_h[k] = λ_h(lost)·Y_h
//! helper k:     check_delta(h, k, delta_h→k, C_h)                 G·δ = C_h[k]
//! lost holder:  check_sigma(k, lost, sigma_k, {C_h})              G·σ_k = Σ_h C_h[k]
//! ```

use std::collections::BTreeMap;

use frost_ed25519 as frost;
use rand_core::CryptoRngCore;

use curve25519_dalek::{EdwardsPoint, Scalar};
use zeroize::Zeroizing;

use super::reshare::{abscissa, lagrange, point, verifying_share};
use super::{from_frost, identifier, index_of, GroupKey, Holder};
use crate::Error;

pub use frost::keys::repairable::{Delta, Sigma};
pub use frost::keys::VerifyingShare;

/// A helper's public commitments to its deltas: G·δ for the delta sent to
/// each helper, keyed by that helper.
pub type DeltaCommitments = BTreeMap<u16, VerifyingShare>;

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

/// G·s for a secret scalar given in its 32-byte encoding (zeroized after use).
fn base_point(bytes: Vec<u8>) -> Option<EdwardsPoint> {
    let bytes = Zeroizing::new(bytes);
    let array = Zeroizing::new(<[u8; 32]>::try_from(bytes.as_slice()).ok()?);
    let scalar: Option<Scalar> = Scalar::from_canonical_bytes(*array).into();
    let scalar = Zeroizing::new(scalar?);
    Some(EdwardsPoint::mul_base(&scalar))
}

/// The public commitments to a helper's deltas (from [`helper_deltas`]).
///
/// # Errors
/// [`Error::Protocol`] for a delta that is not a canonical scalar, or zero.
pub fn commit_deltas(deltas: &BTreeMap<u16, Delta>) -> Result<DeltaCommitments, Error> {
    deltas
        .iter()
        .map(|(to, delta)| {
            let commitment = base_point(delta.serialize())
                .ok_or(Error::Protocol("a repair delta is not a scalar"))?;
            Ok((*to, verifying_share(&commitment)?))
        })
        .collect()
}

/// Checks helper `helper`'s commitments against the group: one per helper,
/// summing to λ_helper(lost)·Y_helper, so its deltas add up to its part of
/// the share of `lost` (RTS, eprint 2017/1155 §3).
///
/// # Errors
/// [`Error::BadCommitments`] naming the helper when they do not.
pub fn check_commitments(
    group: &GroupKey,
    helpers: &[u16],
    lost: u16,
    helper: u16,
    commitments: &DeltaCommitments,
) -> Result<(), Error> {
    let bad = |reason| Error::BadCommitments {
        dealer: helper,
        reason,
    };
    let mut sorted = helpers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != helpers.len() || !commitments.keys().copied().eq(sorted.iter().copied()) {
        return Err(bad("not exactly one repair delta commitment per helper"));
    }
    let y_h = group
        .package()
        .verifying_shares()
        .get(&identifier(helper)?)
        .ok_or(bad("the helper is not a holder of the group"))?;
    let xs: Vec<Scalar> = sorted.iter().map(|h| abscissa(*h)).collect();
    let expected = lagrange(&xs, &abscissa(helper), &abscissa(lost)) * point(y_h)?;
    let sum: EdwardsPoint = commitments
        .values()
        .map(point)
        .sum::<Result<EdwardsPoint, Error>>()?;
    if sum == expected {
        Ok(())
    } else {
        Err(bad(
            "the repair delta commitments do not sum to the helper's Lagrange part \
             of the new share (RTS: Σ_k G·δ_k ≠ λ_h(j)·Y_h)",
        ))
    }
}

/// Checks the delta that helper `from` sent to helper `to` against `from`'s commitments.
///
/// # Errors
/// [`Error::BadSubShare`] naming `from` when it does not match.
pub fn check_delta(
    from: u16,
    to: u16,
    delta: &Delta,
    commitments: &DeltaCommitments,
) -> Result<(), Error> {
    let expected = commitments.get(&to).map(point).transpose()?;
    if expected.is_some() && base_point(delta.serialize()) == expected {
        Ok(())
    } else {
        Err(Error::BadSubShare {
            dealer: from,
            recipient: to,
            reason: "the repair delta does not match its helper's commitment (RTS: G·δ ≠ C)",
        })
    }
}

/// Checks the sigma that helper `from` sent to the holder `lost` against the
/// commitments of every helper (keyed by helper) to its delta to `from`.
///
/// # Errors
/// [`Error::BadSubShare`] naming `from` when it does not match.
pub fn check_sigma(
    from: u16,
    lost: u16,
    sigma: &Sigma,
    commitments: &BTreeMap<u16, DeltaCommitments>,
) -> Result<(), Error> {
    let bad = |reason| Error::BadSubShare {
        dealer: from,
        recipient: lost,
        reason,
    };
    let expected = commitments
        .values()
        .map(|c| {
            c.get(&from)
                .ok_or(bad("no helper committed to a delta for this helper"))
                .and_then(point)
        })
        .sum::<Result<EdwardsPoint, Error>>()?;
    if base_point(sigma.serialize()) == Some(expected) {
        Ok(())
    } else {
        Err(bad(
            "the repair sigma does not match the helpers' commitments to their deltas \
             (RTS: G·σ ≠ Σ_h C_h)",
        ))
    }
}
