//! The coordinator's side: verify shares as they arrive, combine k of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crypto_bigint::modular::BoxedMontyForm;
use num_bigint::{BigInt, BigUint};
use num_integer::Integer as _;
use num_traits::{One as _, Zero as _};

use super::arith::{boxed_from_be, i2osp, FixedBase};
use super::encoding::ProofTranscript;
use super::{KeyContext, SignatureShare, ThresholdPublicKey};
use crate::{Error, ShareFault};

/// Where a signing session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// More valid shares are needed.
    NeedMore {
        /// Valid shares accepted so far.
        have: u16,
        /// The threshold k.
        need: u16,
    },
    /// k valid shares are in: [`SigningSession::combine`] will succeed.
    Ready,
}

/// A coordinator's signing session for one message and one key: a state
/// machine with no I/O.
///
/// 1. The coordinator computes the signed data (for an RRSIG, RFC 4034
///    §3.1.8.1) and opens a session with the pinned public key.
/// 2. It asks each holder for a share over that exact data; each holder
///    recomputes the data itself and calls [`super::KeyShare::sign_share`].
/// 3. [`SigningSession::add_share`] verifies each share as it arrives and
///    names the holder of a bad one; the session stays usable.
/// 4. With k valid shares, [`SigningSession::combine`] returns the signature.
///
/// The per-message work (x, x̃ and its comb) is done once, at [`SigningSession::new`].
#[derive(Debug)]
pub struct SigningSession {
    key: ThresholdPublicKey,
    ctx: Arc<KeyContext>,
    x: BoxedMontyForm,
    x_tilde: BoxedMontyForm,
    x_tilde_comb: FixedBase,
    /// Valid shares' x_i by holder index.
    accepted: BTreeMap<u16, BoxedMontyForm>,
}

impl SigningSession {
    /// Opens a session for `signed_data` under `key`.
    ///
    /// # Errors
    /// [`Error::InvalidPublicKey`] if the key is too short for the encoding
    /// (validated keys never are).
    pub fn new(key: &ThresholdPublicKey, signed_data: &[u8]) -> Result<SigningSession, Error> {
        let ctx = key.context();
        let x = key.modn.element(&key.message_representative(signed_data)?);
        // x̃ = x^{4Δ} = (x^{2Δ})².
        let x_tilde = key.modn.pow_vartime(&x, &ctx.two_delta).square();
        Ok(SigningSession {
            x_tilde_comb: FixedBase::new(&x_tilde, ctx.exp_bits),
            key: key.clone(),
            ctx,
            x,
            x_tilde,
            accepted: BTreeMap::new(),
        })
    }

    /// Verifies a share and, if valid, keeps it.
    ///
    /// Checks, in order: the index is one of the key's holders; no share from
    /// that holder was accepted yet; x_i has |n| bytes and lies in [1, n);
    /// z has its fixed length and is below 2^{share_bits+2·L1+1} (share_bits =
    /// L(n) unless the key was reshared); the proof:
    /// c = H′(v, x̃, v_i, x_i², v^z·v_i^{−c}, x̃^z·x_i^{−2c}).
    /// v, v_i and n come from the pinned key.
    ///
    /// # Errors
    /// [`Error::BadShare`] naming the holder and the [`ShareFault`]; the
    /// session is unchanged, so other shares can still complete it.
    pub fn add_share(&mut self, share: &SignatureShare) -> Result<SessionStatus, Error> {
        let x_i = self.check(share).map_err(|fault| Error::BadShare {
            index: share.index,
            fault,
        })?;
        self.accepted.insert(share.index, x_i);
        Ok(self.status())
    }

    /// How many more shares are needed.
    pub fn status(&self) -> SessionStatus {
        let have = self.accepted.len() as u16;
        let need = self.key.threshold();
        if have >= need {
            SessionStatus::Ready
        } else {
            SessionStatus::NeedMore { have, need }
        }
    }

    /// The holders whose shares were accepted, in index order.
    pub fn accepted(&self) -> impl Iterator<Item = u16> + '_ {
        self.accepted.keys().copied()
    }

    /// Combines the k lowest-indexed accepted shares into the RSASSA-PKCS1-v1_5
    /// signature, exactly |n| bytes, and checks y^e ≡ x (mod n) before returning it.
    ///
    /// # Errors
    /// [`Error::NotEnoughShares`] below the threshold; [`Error::CombineFailed`]
    /// if the result does not verify (an inconsistent key).
    pub fn combine(&self) -> Result<Vec<u8>, Error> {
        let k = usize::from(self.key.threshold());
        if self.accepted.len() < k {
            return Err(Error::NotEnoughShares {
                have: self.accepted.len(),
                need: self.key.threshold(),
            });
        }
        let chosen: Vec<(u16, &BoxedMontyForm)> =
            self.accepted.iter().take(k).map(|(i, x)| (*i, x)).collect();
        let indices: Vec<u16> = chosen.iter().map(|(i, _)| *i).collect();
        let modn = &self.key.modn;
        let delta = BigInt::from(self.ctx.delta.clone());

        // w = Π x_j^{2λ_{0,j}}; a negative λ raises the inverse of x_j.
        let mut w = BoxedMontyForm::one(self.x.params());
        for (j, x_j) in &chosen {
            let lambda = lagrange_at_zero(&delta, &indices, *j) * 2;
            let term = modn
                .pow_signed_vartime(x_j, &lambda)
                .ok_or(Error::BadShare {
                    index: *j,
                    fault: ShareFault::NotInvertible,
                })?;
            w *= &term;
        }

        // a·e' + b·e = 1 with e' = 4Δ²·K (K = 1 unless reshared); gcd is 1
        // because e is a prime above every l the key has had.
        let e_prime: BigInt = &delta * &delta * 4 * BigInt::from(self.key.scale.clone());
        let e = BigInt::from(self.key.exponent());
        let gcd = e_prime.extended_gcd(&e);
        if !gcd.gcd.is_one() {
            return Err(Error::InvalidPublicKey("e divides 4Δ²"));
        }
        let w_a = modn
            .pow_signed_vartime(&w, &gcd.x)
            .ok_or(Error::CombineFailed)?;
        let x_b = modn
            .pow_signed_vartime(&self.x, &gcd.y)
            .ok_or(Error::CombineFailed)?;
        let y = w_a.mul(&x_b);

        let check = modn.pow_vartime(&y, &BigUint::from(self.key.exponent()));
        if check.retrieve() != self.x.retrieve() {
            return Err(Error::CombineFailed);
        }
        Ok(modn.bytes(&y))
    }

    fn check(&self, share: &SignatureShare) -> Result<BoxedMontyForm, ShareFault> {
        let key = &self.key;
        let slot = key
            .holder_slot(share.index)
            .ok_or(ShareFault::UnknownHolder)?;
        if self.accepted.contains_key(&share.index) {
            return Err(ShareFault::Duplicate);
        }
        let len = key.modn.byte_len();
        if share.x_i.len() != len {
            return Err(ShareFault::Malformed("x_i is not |n| bytes long"));
        }
        let x_i_int = BigUint::from_bytes_be(&share.x_i);
        if x_i_int.is_zero() || x_i_int >= key.n {
            return Err(ShareFault::Malformed("x_i is not in [1, n)"));
        }
        if share.z.len() != key.z_len() {
            return Err(ShareFault::Malformed(
                "z is not ⌈(share bound+2·L1+1)/8⌉ bytes long",
            ));
        }
        let z = boxed_from_be(&share.z, self.ctx.exp_bits)
            .filter(|z| z.bit_width_vartime() <= self.ctx.exp_bits)
            .ok_or(ShareFault::Malformed(
                "z is not below 2^(share bound+2·L1+1)",
            ))?;
        let c = BigUint::from_bytes_be(&share.c);
        let modn = &key.modn;

        let x_i = modn.element(&x_i_int);
        let x_i_squared = x_i.square();
        let v_i = &self.ctx.verification_keys[slot];
        // v' = v^z · v_i^{-c}; v_i is prime to n (checked when the key was built).
        let v_i_c = modn
            .pow_vartime(v_i, &c)
            .invert_vartime()
            .into_option()
            .ok_or(ShareFault::NotInvertible)?;
        let v_prime = self.ctx.v_comb.pow_vartime(&z).mul(&v_i_c);
        // x' = x̃^z · x_i^{-2c}.
        let x_i_2c = modn
            .pow_vartime(&x_i_squared, &c)
            .invert_vartime()
            .into_option()
            .ok_or(ShareFault::NotInvertible)?;
        let x_prime = self.x_tilde_comb.pow_vartime(&z).mul(&x_i_2c);

        let expected = ProofTranscript {
            v: &i2osp(&key.v, len),
            x_tilde: &modn.bytes(&self.x_tilde),
            v_i: &i2osp(&key.verification_keys[slot], len),
            x_i_squared: &modn.bytes(&x_i_squared),
            v_prime: &modn.bytes(&v_prime),
            x_prime: &modn.bytes(&x_prime),
        }
        .challenge(len);
        if expected == share.c {
            Ok(x_i)
        } else {
            Err(ShareFault::BadProof)
        }
    }
}

/// λ_{0,j} = Δ · Π_{j'∈S∖{j}} (0 − j') / (j − j'), an integer (Shoup 2000 Lemma 1).
pub(super) fn lagrange_at_zero(delta: &BigInt, set: &[u16], j: u16) -> BigInt {
    let mut numerator = delta.clone();
    let mut denominator = BigInt::one();
    for &other in set.iter().filter(|&&other| other != j) {
        numerator *= -BigInt::from(other);
        denominator *= BigInt::from(j) - BigInt::from(other);
    }
    debug_assert!((&numerator % &denominator).is_zero());
    numerator / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lagrange_coefficients_interpolate_at_zero() {
        // With Δ = 5! and S = {1, 3, 5}: Σ λ_{0,j}·f(j) = Δ·f(0) for any quadratic f.
        let delta = BigInt::from(120);
        let set = [1u16, 3, 5];
        let f = |x: i64| 7 + 3 * x + 2 * x * x;
        let sum: BigInt = set
            .iter()
            .map(|&j| lagrange_at_zero(&delta, &set, j) * f(i64::from(j)))
            .sum();
        assert_eq!(sum, &delta * f(0));
    }
}
