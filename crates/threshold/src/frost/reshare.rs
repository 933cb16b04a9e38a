//! Moving a FROST key to a new set of holders: the same group key (so the
//! same DNSKEY and DS), the same threshold, new shares.
//!
//! Built from the two tools frost-ed25519 3.0 has, in this order:
//!
//! ```text
//! 1. extend   anyone:        the group's verifying shares for the new indices,
//!                            interpolated in the exponent from t existing ones
//!                            (Y_j = Σ_h λ_h(j)·Y_h)                   [extend_group]
//! 2. enrol    t old holders: repair (RTS) a share for each new index; the new
//!                            holder checks it against Y_j from step 1 [repair::recover]
//! 3. refresh  a dealer:      zero-shares for the *new* holder set only; each new
//!                            holder adds its zero-share               [refresh::deal_refresh]
//! ```
//!
//! After step 3 every share is new: holders left out (removed) and the
//! pre-refresh shares of holders who stay no longer combine with the new
//! ones, because the refreshed polynomial differs everywhere but at 0. As
//! with every proactive scheme, that is all it can promise: a quorum of old
//! shares that were kept, not destroyed, still makes the old polynomial.
//!
//! **The threshold cannot change.** frost-core 3.0 refreshes with a sharing
//! of zero of the group's own degree and refuses a refreshed share whose
//! `min_signers` differs ("You can't change the threshold when refreshing
//! shares"), and repair rebuilds a point of the same polynomial.
//! [`check_threshold`] says so. To change the threshold of an Ed25519 KSK,
//! make a new key (DKG or a dealer) and roll the KSK (RFC 5011).

use std::collections::BTreeMap;

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::{EdwardsPoint, Scalar};
use frost_ed25519 as frost;

use super::{from_frost, identifier, GroupKey};
use crate::Error;

/// Refuses a threshold change, which FROST refresh and repair cannot do.
///
/// # Errors
/// [`Error::InvalidParameters`] when `new_threshold` differs from the group's.
pub fn check_threshold(group: &GroupKey, new_threshold: u16) -> Result<(), Error> {
    let current = group.min_signers()?;
    if new_threshold == current {
        Ok(())
    } else {
        Err(Error::InvalidParameters(format!(
            "a FROST key keeps its threshold: frost-ed25519 3.0 refresh and repair move a \
             {current}-of-n key to new holders but cannot make it {new_threshold}-of-n; \
             make a new key (DKG) and roll the KSK instead"
        )))
    }
}

/// The group key with verifying shares added for the indices in `new`,
/// interpolated from the first `t` existing ones. Public: anyone can compute
/// and compare it. Indices already in the group keep their verifying share.
///
/// # Errors
/// [`Error::Frost`] for index 0 or an undecodable verifying share;
/// [`Error::Protocol`] when the group has fewer than `t` verifying shares.
pub fn extend_group(group: &GroupKey, new: &[u16]) -> Result<GroupKey, Error> {
    let t = usize::from(group.min_signers()?);
    let package = group.package();
    let known = group.holders();
    if known.len() < t {
        return Err(Error::Protocol(
            "the group has fewer verifying shares than its threshold",
        ));
    }
    let basis: Vec<(Scalar, EdwardsPoint)> = known[..t]
        .iter()
        .map(|index| {
            let share = package
                .verifying_shares()
                .get(&identifier(*index)?)
                .ok_or(Error::Protocol("a listed holder has no verifying share"))?;
            Ok((abscissa(*index), point(share)?))
        })
        .collect::<Result<_, Error>>()?;
    let xs: Vec<Scalar> = basis.iter().map(|(x, _)| *x).collect();

    let mut shares: BTreeMap<frost::Identifier, frost::keys::VerifyingShare> =
        package.verifying_shares().clone();
    for &j in new {
        let id = identifier(j)?;
        if shares.contains_key(&id) {
            continue;
        }
        let x = abscissa(j);
        let y: EdwardsPoint = basis
            .iter()
            .map(|(x_h, y_h)| lagrange(&xs, x_h, &x) * y_h)
            .sum();
        shares.insert(id, verifying_share(&y)?);
    }
    Ok(GroupKey::new(frost::keys::PublicKeyPackage::new(
        shares,
        *package.verifying_key(),
        package.min_signers(),
    )))
}

/// The abscissa of holder `index`: the integer itself, as a scalar.
pub(super) fn abscissa(index: u16) -> Scalar {
    Scalar::from(u64::from(index))
}

/// λ_h(x) = Π_{m≠h} (x − m)/(h − m) over the abscissas `xs` (distinct, so invertible).
pub(super) fn lagrange(xs: &[Scalar], x_h: &Scalar, x: &Scalar) -> Scalar {
    xs.iter()
        .filter(|x_m| *x_m != x_h)
        .map(|x_m| (x - x_m) * (x_h - x_m).invert())
        .product()
}

/// The curve point a verifying share (or a commitment) encodes.
pub(super) fn point(share: &frost::keys::VerifyingShare) -> Result<EdwardsPoint, Error> {
    let bytes: [u8; 32] = share
        .serialize()
        .map_err(from_frost)?
        .try_into()
        .map_err(|_| Error::Protocol("a verifying share is 32 bytes"))?;
    CompressedEdwardsY(bytes)
        .decompress()
        .ok_or(Error::Protocol("a verifying share is not a curve point"))
}

/// The verifying share (FROST's serializable point) of a curve point.
pub(super) fn verifying_share(point: &EdwardsPoint) -> Result<frost::keys::VerifyingShare, Error> {
    frost::keys::VerifyingShare::deserialize(point.compress().as_bytes()).map_err(from_frost)
}
