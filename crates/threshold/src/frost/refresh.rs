//! Refreshing shares: new shares of the same group key, so that old shares
//! (a lost laptop, a departed officer) become useless. The DNSKEY does not change.
//!
//! This is the trusted-dealer refresh of frost-ed25519 3.0: a dealer makes a
//! sharing of zero for the holders that stay, each holder adds its zero-share
//! to its share, and holders left out of the refresh can no longer sign with
//! the others. Everyone must refresh: a new share and an old share do not
//! combine.

use frost_ed25519 as frost;
use rand_core::CryptoRngCore;

use super::{from_frost, identifier, GroupKey, Holder, KeyPackage, SecretShare};
use crate::Error;

/// The dealer's refresh for the holders in `indices`: one zero-share each
/// (in the order of `indices`), and the new group key package.
///
/// # Errors
/// [`Error::Frost`] when FROST refuses the holder set (fewer than the threshold).
pub fn deal_refresh<R: CryptoRngCore>(
    group: &GroupKey,
    indices: &[u16],
    rng: &mut R,
) -> Result<(Vec<SecretShare>, GroupKey), Error> {
    let ids = indices
        .iter()
        .map(|index| identifier(*index))
        .collect::<Result<Vec<_>, _>>()?;
    let (zero_shares, package) =
        frost::keys::refresh::compute_refreshing_shares(group.package().clone(), &ids, rng)
            .map_err(from_frost)?;
    Ok((zero_shares, GroupKey::new(package)))
}

impl Holder {
    /// Applies a dealer's zero-share: the same group key, a new share, and
    /// the verifying share of the new share.
    ///
    /// frost-core 3.0's `refresh_share` keeps the old verifying share in the
    /// key package; this derives it from the new signing share and checks it
    /// against `new_group`'s verifying share for this holder.
    ///
    /// # Errors
    /// [`Error::Frost`] when the zero-share is not for this holder or does not
    /// match its commitment; [`Error::Protocol`] when the group key changed;
    /// [`Error::InvalidKeyShare`] naming the holder when the new share does
    /// not match `new_group` (a zero-share from another refresh).
    pub fn refresh(&self, zero_share: SecretShare, new_group: &GroupKey) -> Result<Holder, Error> {
        let stale = frost::keys::refresh::refresh_share(zero_share, &self.key_package)
            .map_err(from_frost)?;
        if stale.verifying_key() != new_group.package().verifying_key() {
            return Err(Error::Protocol("a refresh must keep the group key"));
        }
        let key_package = KeyPackage::new(
            *stale.identifier(),
            *stale.signing_share(),
            (*stale.signing_share()).into(),
            *stale.verifying_key(),
            *stale.min_signers(),
        );
        drop(stale);
        let expected = new_group
            .package()
            .verifying_shares()
            .get(key_package.identifier());
        if expected != Some(key_package.verifying_share()) {
            return Err(Error::InvalidKeyShare {
                index: self.index()?,
                reason: "the refreshed share does not match the refreshed group's verifying \
                         share for this holder (a zero-share from another refresh?)",
            });
        }
        Ok(Holder::from_key_package(key_package))
    }
}
