//! Resharing a Shoup key to a new set of holders or a new threshold, without
//! ever rebuilding the private exponent: integer resharing with Feldman
//! commitments in the squares modulo n (after Rabin 1998, "A simplified
//! approach to threshold and proactive RSA", and Frankel, Gemmell, MacKenzie
//! and Yung 1997, "Optimal-resilience proactive public-key cryptosystems").
//!
//! The group order m = p′q′ is secret, so shares cannot be reduced modulo it:
//! everything happens over the integers, and the sizes and a scale factor K
//! are tracked in the public key. A dealt key has K = 1 and satisfies
//! Σ_{j∈S} λ_{0,j}·s_j ≡ Δ·K·d (mod m) for every k-set S, with Δ = l! and
//! λ_{0,j} = Δ·Π_{j′≠j} j′/(j′−j) (Shoup 2000, Lemma 1).
//!
//! ```text
//! plan (public):   old key, the k_old dealers S, new k′ and l′; Δ′ = l′!
//!                  w_i = Δ′·λ^S_{0,i}               (an integer, sign public)
//! old holder i∈S:  c_i = w_i·s_i                    (constant time)
//!                  g_i(X) = c_i + a_1·X + … + a_{k′−1}·X^{k′−1}
//!                    a_k uniform in [0, 2^B),  a_1 += 2^B0 so g_i(j) > 0 for j ≥ 1
//!                  publishes C_{i,k} = v^{a_k} (k ≥ 1); C_{i,0} = v_i^{w_i} is public already
//!                  sends g_i(j) to new holder j, encrypted to j only
//! new holder j:    v^{g_i(j)} = Π_k C_{i,k}^{j^k} for each dealer i, else names i
//!                  s′_j = Σ_i g_i(j)
//! anyone:          v′_j = Π_i Π_k C_{i,k}^{j^k};   K′ = Δ_old·Δ′·K;   share bound grows
//! ```
//!
//! Why it works: Σ_i c_i = Δ′·Σ_i λ_{0,i}s_i ≡ Δ′·Δ_old·K·d, so the new
//! shares lie on G = Σ_i g_i with G(0) ≡ Δ′·Δ_old·K·d and, for any k′-set S′,
//! Σ_{j∈S′} λ′_{0,j}·s′_j ≡ Δ′·G(0) = Δ′·K′·d: the invariant with K′. The
//! combiner uses e′ = 4Δ′²·K′, still prime to e because e is a prime above
//! every l the key has had ([`ResharePlan::new`] checks e > l′). Signing,
//! the proofs and combining are unchanged otherwise; the proofs' exponent
//! bound is the key's share bound instead of L(n) ([`super::ThresholdPublicKey::share_bits`]).
//!
//! Why the extra Δ′ in w_i: a coalition T of k′−1 new holders sees g_i(j)
//! for j ∈ T. For two candidate values of λ_i·s_i that differ by δ, the
//! polynomial δ·Δ′·Π_{j∈T}(1 − X/j) has integer coefficients (Π_{j∈T} j
//! divides Δ′ = l′!) of size at most |δ|·Δ′·k′, vanishes on T, and maps the
//! coefficients for one value to coefficients for the other with the same
//! view. With |c_i| < 2^B0 and the a_k uniform below 2^B, B = B0 + 1 +
//! 2·bits(k′) + bits(k_old) + 128, the views for any two values are within
//! 2^−128 in statistical distance over all dealers
//! ([`STATISTICAL_SECURITY_BITS`]). Without the Δ′ a new holder j would
//! learn c_i modulo divisors of j (holder 2 learns its parity).
//!
//! What it costs: each round the share bound grows by
//! bits(max|w_i|) + 131 + 2·bits(k′) + 2·bits(k_old) + bits(k′−1) +
//! (k′−1)·bits(l′) bits (≈ 150–200 at ceremony sizes; 153 for 3-of-5 →
//! 2-of-3), so the proofs' exponents and a signature share's z grow by that
//! much; K gains log₂(Δ_old·Δ′) bits.
//! Signatures do not change at all: the combined signature is the
//! RSASSA-PKCS1-v1_5 signature of (n, e), byte for byte, whatever K is.
//!
//! What it needs: the k_old dealers act once and offline; each new holder
//! must receive every dealer's commitments (they are public: publish them in
//! the transcript, so all new holders see the same ones) and its own
//! sub-shares over an encrypted channel. Old shares stay valid for the old
//! key's verification keys: holders must destroy them, which is a procedural
//! step, as with FROST refresh. An old share mixed with new shares is
//! rejected by the proofs, since each signature share is checked against the
//! new verification keys.

use std::collections::BTreeMap;
use std::fmt;

use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::BoxedUint;
use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer as _;
use num_traits::One as _;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::arith::{self, boxed_from_be, i2osp, limb_precision, FixedBase};
use super::session::lagrange_at_zero;
use super::{factorial, KeyShare, SecretExponent, ThresholdPublicKey, MAX_HOLDERS};
use crate::Error;

/// The statistical hiding of each dealer's c_i from k′−1 new holders: 2^−128.
pub const STATISTICAL_SECURITY_BITS: u32 = 128;

/// The domain-separation label of a plan's identifier.
const PLAN_LABEL: &[u8] = b"ceremony-threshold/shoup2000/reshare/v1";

/// The largest sub-share encoding read, in bytes: far above any honest one.
const MAX_SUB_SHARE_BYTES: usize = 4096;

/// The public parameters of one resharing: who deals, to how many, with what
/// threshold, and the sizes every participant derives from them.
///
/// Every participant builds the same plan from the same public inputs; its
/// [`ResharePlan::id`] binds commitments and sub-shares to it.
#[derive(Clone)]
pub struct ResharePlan {
    old: ThresholdPublicKey,
    dealers: Vec<u16>,
    new_k: u16,
    new_l: u16,
    id: [u8; 32],
    /// w_i = Δ′·λ^S_{0,i}, in the order of `dealers`.
    weights: Vec<BigInt>,
    /// |c_i| < 2^const_bits.
    const_bits: u32,
    /// The random part of each coefficient is below 2^coeff_bits.
    coeff_bits: u32,
    /// Every honest g_i(j) is below 2^sub_bits.
    sub_bits: u32,
    /// Every new share is below 2^share_bits.
    share_bits: u32,
    /// K′ = Δ_old·Δ′·K.
    scale: BigUint,
}

impl ResharePlan {
    /// The plan for moving `old` to `new_k` of `new_l` holders, dealt by the
    /// old holders in `dealers` (exactly the old threshold of them, any order).
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] when the dealers are not k_old distinct
    /// holders of the old key, when 2 ≤ k′ ≤ l′ ≤ 255 fails, when e is not
    /// above l′, or when the shares would outgrow the bound a key may have.
    pub fn new(
        old: &ThresholdPublicKey,
        dealers: &[u16],
        new_k: u16,
        new_l: u16,
    ) -> Result<ResharePlan, Error> {
        let bad = |text: String| Err(Error::InvalidParameters(text));
        let mut sorted = dealers.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != dealers.len() || sorted.len() != usize::from(old.threshold()) {
            return bad(format!(
                "resharing needs exactly {} distinct dealers (the old threshold), got {:?}",
                old.threshold(),
                dealers
            ));
        }
        if let Some(outside) = sorted.iter().find(|i| old.holder_slot(**i).is_none()) {
            return bad(format!(
                "dealer {outside} is not a holder of the old key (1..={})",
                old.holders()
            ));
        }
        if new_k < 2 || new_k > new_l || new_l > MAX_HOLDERS {
            return bad(format!(
                "the new key needs 2 ≤ k ≤ l ≤ {MAX_HOLDERS}, got k = {new_k}, l = {new_l} \
                 (a 1-of-l key is the key itself, copied)"
            ));
        }
        if old.exponent() <= u32::from(new_l) {
            return bad(format!(
                "e = {} must exceed the number of new holders {new_l} (Shoup 2000: gcd(e, Δ) = 1)",
                old.exponent()
            ));
        }
        let delta_old = BigInt::from(factorial(old.holders()));
        let delta_new = factorial(new_l);
        let weights: Vec<BigInt> = sorted
            .iter()
            .map(|i| lagrange_at_zero(&delta_old, &sorted, *i) * BigInt::from(delta_new.clone()))
            .collect();
        let weight_bits = weights.iter().map(|w| w.bits()).max().unwrap_or(0) as u32;
        let const_bits = old.share_bits() + weight_bits;
        let coeff_bits = const_bits
            + 1
            + 2 * bit_len(new_k)
            + bit_len(old.threshold())
            + STATISTICAL_SECURITY_BITS;
        let sub_bits = coeff_bits + 2 + bit_len(new_k - 1) + u32::from(new_k - 1) * bit_len(new_l);
        let share_bits = sub_bits + bit_len(old.threshold());
        if share_bits > old.modulus_bits() + super::MAX_SHARE_GROWTH_BITS {
            return bad(format!(
                "the new shares would have {share_bits} bits, beyond the {} a key may have: \
                 reshared too often; deal a new key",
                old.modulus_bits() + super::MAX_SHARE_GROWTH_BITS
            ));
        }
        let scale = &old.scale * delta_old.magnitude() * &delta_new;
        let id = plan_id(old, &sorted, new_k, new_l);
        Ok(ResharePlan {
            old: old.clone(),
            dealers: sorted,
            new_k,
            new_l,
            id,
            weights,
            const_bits,
            coeff_bits,
            sub_bits,
            share_bits,
            scale,
        })
    }

    /// The plan's identifier: SHA-256 over a label, the old key and the parameters.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// The old key.
    pub fn old_key(&self) -> &ThresholdPublicKey {
        &self.old
    }

    /// The dealers, in index order.
    pub fn dealers(&self) -> &[u16] {
        &self.dealers
    }

    /// The new threshold k′.
    pub fn new_threshold(&self) -> u16 {
        self.new_k
    }

    /// The number of new holders l′.
    pub fn new_holders(&self) -> u16 {
        self.new_l
    }

    /// The bound on the new shares, in bits.
    pub fn new_share_bits(&self) -> u32 {
        self.share_bits
    }

    /// One old holder's part: commitments for everyone, a sub-share for each new holder.
    ///
    /// Every operation on s_i, c_i and the coefficients is constant time.
    ///
    /// # Errors
    /// [`Error::InvalidKeyShare`] when the share is not of the old key, its
    /// holder is not a dealer of this plan, or it fails v^{s_i} = v_i.
    pub fn deal<R: CryptoRngCore + ?Sized>(
        &self,
        share: &KeyShare,
        rng: &mut R,
    ) -> Result<DealerOutput, Error> {
        let invalid = |reason| Error::InvalidKeyShare {
            index: share.index(),
            reason,
        };
        if share.public_key() != &self.old {
            return Err(invalid("the share is of another key than the plan's"));
        }
        let slot = self
            .dealer_slot(share.index())
            .ok_or(invalid("the holder is not one of the plan's dealers"))?;
        share.check()?;

        // Headroom above sub_bits: no intermediate wraps.
        let precision = limb_precision(self.sub_bits + 64);
        let weight = &self.weights[slot];
        let weight_abs = boxed_from_be(&weight.magnitude().to_bytes_be(), precision)
            .ok_or(Error::Protocol("a weight fits the precision"))?;
        // Every secret intermediate lives in a Zeroizing buffer, and updates
        // happen in place, so no copy of a secret is dropped without erasure.
        let wide_share = Zeroizing::new(arith::widen(&share.secret.0, precision));
        let c = Zeroizing::new(wide_share.wrapping_mul(&weight_abs));

        let offset = BoxedUint::one_with_precision(precision).shl(self.const_bits);
        let coefficients: Vec<Zeroizing<BoxedUint>> = (1..self.new_k)
            .map(|k| {
                let mut a = Zeroizing::new(arith::random_bits(rng, self.coeff_bits, precision));
                if k == 1 {
                    a.wrapping_add_assign(&offset);
                }
                a
            })
            .collect();

        let modn = &self.old.modn;
        let v_comb = FixedBase::new(&modn.element(&self.old.v), precision);
        let commitments = coefficients
            .iter()
            .map(|a| Commitment(modn.bytes(&v_comb.pow_ct(a))))
            .collect();

        let sub_shares = (1..=self.new_l)
            .map(|j| {
                let j_boxed = arith::widen(&BoxedUint::from(u64::from(j)), precision);
                // Horner: g_i(j) − c_i = (…(a_{k′−1}·j + a_{k′−2})·j + … + a_1)·j.
                let mut acc = Zeroizing::new(BoxedUint::zero_with_precision(precision));
                for a in coefficients.iter().rev() {
                    acc.wrapping_add_assign(&**a);
                    let product = Zeroizing::new(acc.wrapping_mul(&j_boxed));
                    acc.as_mut_words().copy_from_slice(product.as_words());
                }
                // The sign of w_i is public; |c_i| < 2^B0 ≤ a_1·j keeps this positive.
                match weight.sign() {
                    Sign::Minus => acc.wrapping_sub_assign(&*c),
                    _ => acc.wrapping_add_assign(&*c),
                }
                SubShare {
                    plan: self.id,
                    dealer: share.index(),
                    recipient: j,
                    // Below 2^sub_bits by construction: the file length is public.
                    value: SecretExponent(resize(&acc, self.sub_bits)),
                }
            })
            .collect();
        Ok(DealerOutput {
            commitments: ReshareCommitments {
                plan: self.id,
                dealer: share.index(),
                commitments,
            },
            sub_shares,
        })
    }

    /// The new public key: same n, e and v, new verification keys
    /// v′_j = Π_i Π_k C_{i,k}^{j^k}, threshold k′, scale K′ and share bound.
    ///
    /// # Errors
    /// [`Error::BadCommitments`] naming a dealer whose commitments are
    /// malformed, missing or repeated.
    pub fn public_key(&self, all: &[ReshareCommitments]) -> Result<ThresholdPublicKey, Error> {
        self.key_from(&self.parse_all(all)?)
    }

    /// The new public key from every dealer's parsed commitments.
    fn key_from(
        &self,
        parsed: &BTreeMap<u16, Vec<BoxedMontyForm>>,
    ) -> Result<ThresholdPublicKey, Error> {
        let verification_keys = (1..=self.new_l)
            .map(|j| {
                let mut acc = self.old.modn.element(&BigUint::one());
                for commitments in parsed.values() {
                    acc = acc.mul(&self.evaluate(commitments, j));
                }
                self.old.modn.value(&acc)
            })
            .collect();
        ThresholdPublicKey::from_parts_scaled(
            self.old.n.clone(),
            self.old.e,
            self.old.v.clone(),
            verification_keys,
            self.new_k,
            self.scale.clone(),
            self.share_bits,
        )
    }

    /// Checks one sub-share against its dealer's commitments: in range, and
    /// v^{g_i(j)} = Π_k C_{i,k}^{j^k}, in constant time in g_i(j).
    ///
    /// # Errors
    /// [`Error::BadSubShare`] naming the dealer; [`Error::BadCommitments`]
    /// when the commitments themselves are malformed.
    pub fn verify_sub_share(
        &self,
        commitments: &ReshareCommitments,
        sub_share: &SubShare,
    ) -> Result<(), Error> {
        let parsed = self.parse(commitments)?;
        let v_comb = self.sub_share_comb();
        self.check_sub_share(&v_comb, commitments.dealer, &parsed, sub_share)
    }

    /// A new holder's step: checks one sub-share from every dealer and adds
    /// them into the new share s′_j, which it checks against v′_j.
    ///
    /// # Errors
    /// [`Error::BadSubShare`] naming the first dealer whose sub-share is
    /// missing, repeated, for someone else, or wrong;
    /// [`Error::BadCommitments`] for bad commitments.
    pub fn combine(
        &self,
        recipient: u16,
        all: &[ReshareCommitments],
        sub_shares: &[SubShare],
    ) -> Result<KeyShare, Error> {
        if !(1..=self.new_l).contains(&recipient) {
            return Err(Error::InvalidParameters(format!(
                "new holder {recipient} is outside 1..={}",
                self.new_l
            )));
        }
        let parsed = self.parse_all(all)?;
        let public_key = self.key_from(&parsed)?;
        let v_comb = self.sub_share_comb();
        let mut by_dealer: BTreeMap<u16, &SubShare> = BTreeMap::new();
        for sub in sub_shares {
            let bad = |reason| Error::BadSubShare {
                dealer: sub.dealer,
                recipient: sub.recipient,
                reason,
            };
            if sub.recipient != recipient {
                return Err(bad("it is for another new holder"));
            }
            if by_dealer.insert(sub.dealer, sub).is_some() {
                return Err(bad("a second sub-share from the same dealer"));
            }
        }
        let precision = limb_precision(self.share_bits);
        let mut sum = Zeroizing::new(BoxedUint::zero_with_precision(precision));
        for (dealer, commitments) in &parsed {
            let sub = by_dealer.remove(dealer).ok_or(Error::BadSubShare {
                dealer: *dealer,
                recipient,
                reason: "missing",
            })?;
            self.check_sub_share(&v_comb, *dealer, commitments, sub)?;
            // In range (checked), so resizing keeps every bit.
            sum.wrapping_add_assign(&*Zeroizing::new(resize(&sub.value.0, precision)));
        }
        if let Some((dealer, _)) = by_dealer.into_iter().next() {
            return Err(Error::BadSubShare {
                dealer,
                recipient,
                reason: "the sender is not one of the plan's dealers",
            });
        }
        let share = KeyShare {
            index: recipient,
            secret: SecretExponent(std::mem::replace(
                &mut *sum,
                BoxedUint::zero_with_precision(precision),
            )),
            public_key,
        };
        share.check()?;
        Ok(share)
    }

    fn dealer_slot(&self, index: u16) -> Option<usize> {
        self.dealers.iter().position(|d| *d == index)
    }

    /// A comb for v wide enough for any sub-share in range.
    fn sub_share_comb(&self) -> FixedBase {
        let modn = &self.old.modn;
        FixedBase::new(&modn.element(&self.old.v), limb_precision(self.sub_bits))
    }

    /// Π_k C_{i,k}^{j^k}, with C_{i,0} = v_i^{w_i}, by Horner's rule in the exponent.
    fn evaluate(&self, commitments: &[BoxedMontyForm], j: u16) -> BoxedMontyForm {
        let modn = &self.old.modn;
        let j = BigUint::from(j);
        let mut acc = self.old.modn.element(&BigUint::one());
        for c in commitments.iter().rev() {
            acc = modn.pow_vartime(&acc, &j).mul(c);
        }
        acc
    }

    fn check_sub_share(
        &self,
        v_comb: &FixedBase,
        dealer: u16,
        commitments: &[BoxedMontyForm],
        sub: &SubShare,
    ) -> Result<(), Error> {
        let bad = |reason| Error::BadSubShare {
            dealer: sub.dealer,
            recipient: sub.recipient,
            reason,
        };
        if sub.plan != self.id {
            return Err(bad("it is for another resharing plan"));
        }
        if sub.dealer != dealer {
            return Err(bad("it names another dealer than its commitments"));
        }
        if !(1..=self.new_l).contains(&sub.recipient) {
            return Err(bad("no new holder has this index"));
        }
        // bit_width is constant time; only the verdict is revealed.
        if sub.value.0.bit_width() > self.sub_bits {
            return Err(bad("it is out of range"));
        }
        let expected = self.evaluate(commitments, sub.recipient);
        // In range, so the resized copy keeps every bit and fits the comb.
        let value = Zeroizing::new(resize(&sub.value.0, self.sub_bits));
        let actual = v_comb.pow_ct(&value);
        if actual.retrieve() == expected.retrieve() {
            Ok(())
        } else {
            Err(bad(
                "v^g_i(j) differs from the dealer's commitments Π C_i,k^(j^k)",
            ))
        }
    }

    /// Every dealer's commitments, exactly once each, by dealer.
    fn parse_all(
        &self,
        all: &[ReshareCommitments],
    ) -> Result<BTreeMap<u16, Vec<BoxedMontyForm>>, Error> {
        let mut out = BTreeMap::new();
        for commitments in all {
            let parsed = self.parse(commitments)?;
            if out.insert(commitments.dealer, parsed).is_some() {
                return Err(Error::BadCommitments {
                    dealer: commitments.dealer,
                    reason: "given twice",
                });
            }
        }
        if let Some(missing) = self.dealers.iter().find(|d| !out.contains_key(d)) {
            return Err(Error::BadCommitments {
                dealer: *missing,
                reason: "missing",
            });
        }
        Ok(out)
    }

    /// C_{i,0} = v_i^{w_i} (from the old key) followed by the dealer's C_{i,1..}.
    fn parse(&self, commitments: &ReshareCommitments) -> Result<Vec<BoxedMontyForm>, Error> {
        let bad = |reason| Error::BadCommitments {
            dealer: commitments.dealer,
            reason,
        };
        if commitments.plan != self.id {
            return Err(bad("they are for another resharing plan"));
        }
        let slot = self
            .dealer_slot(commitments.dealer)
            .ok_or(bad("the sender is not one of the plan's dealers"))?;
        if commitments.commitments.len() != usize::from(self.new_k - 1) {
            return Err(bad("there must be k′ − 1 commitments"));
        }
        let modn = &self.old.modn;
        let n = &self.old.n;
        let v_i = modn.element(&self.old.verification_keys[usize::from(commitments.dealer) - 1]);
        let constant = modn
            .pow_signed_vartime(&v_i, &self.weights[slot])
            .ok_or(bad("v_i is not invertible"))?;
        let mut out = vec![constant];
        for c in &commitments.commitments {
            let value = BigUint::from_bytes_be(&c.0);
            if c.0.len() != modn.byte_len()
                || value <= BigUint::one()
                || &value >= n
                || !value.gcd(n).is_one()
            {
                return Err(bad("a commitment is not an |n|-byte unit in [2, n)"));
            }
            out.push(modn.element(&value));
        }
        Ok(out)
    }
}

impl fmt::Debug for ResharePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResharePlan")
            .field("id", &hex::encode(self.id))
            .field("dealers", &self.dealers)
            .field("new_k", &self.new_k)
            .field("new_l", &self.new_l)
            .field("share_bits", &self.share_bits)
            .finish_non_exhaustive()
    }
}

/// The number of bits of a small count.
fn bit_len(x: u16) -> u32 {
    u16::BITS - x.leading_zeros()
}

/// `x` copied into exactly `bits` of precision (rounded to limbs); the caller
/// has checked that it fits.
fn resize(x: &BoxedUint, bits: u32) -> BoxedUint {
    let mut out = BoxedUint::zero_with_precision(limb_precision(bits));
    let limbs = out.nlimbs().min(x.nlimbs());
    out.as_mut_words()[..limbs].copy_from_slice(&x.as_words()[..limbs]);
    out
}

/// SHA-256(label ‖ 0x00 ‖ the old key's public values ‖ dealers ‖ k′ ‖ l′),
/// every variable-length field prefixed with its u32 length.
fn plan_id(old: &ThresholdPublicKey, dealers: &[u16], new_k: u16, new_l: u16) -> [u8; 32] {
    let len = old.modn.byte_len();
    let mut hash = Sha256::new();
    hash.update(PLAN_LABEL);
    hash.update([0u8]);
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u32).to_be_bytes());
        hash.update(bytes);
    };
    field(&i2osp(&old.n, len));
    field(&old.e.to_be_bytes());
    field(&i2osp(&old.v, len));
    for vk in &old.verification_keys {
        field(&i2osp(vk, len));
    }
    field(&old.k.to_be_bytes());
    field(&old.scale.to_bytes_be());
    field(&old.share_bits.to_be_bytes());
    let dealer_bytes: Vec<u8> = dealers.iter().flat_map(|d| d.to_be_bytes()).collect();
    field(&dealer_bytes);
    field(&new_k.to_be_bytes());
    field(&new_l.to_be_bytes());
    hash.finalize().into()
}

/// One group element, |n| bytes, hex on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Commitment(#[serde(with = "hex::serde")] pub Vec<u8>);

/// A dealer's public commitments C_{i,k} = v^{a_k}, k = 1..k′−1: publish them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReshareCommitments {
    /// The plan's identifier.
    #[serde(with = "hex::serde")]
    pub plan: [u8; 32],
    /// The old holder who dealt.
    pub dealer: u16,
    /// C_{i,1}, …, C_{i,k′−1}, each |n| bytes.
    pub commitments: Vec<Commitment>,
}

/// g_i(j): one dealer's secret sub-share for one new holder. Overwritten on
/// drop, never printed; encrypt it to its recipient before it leaves memory.
pub struct SubShare {
    plan: [u8; 32],
    dealer: u16,
    recipient: u16,
    value: SecretExponent,
}

impl SubShare {
    /// The old holder who dealt it.
    pub fn dealer(&self) -> u16 {
        self.dealer
    }

    /// The new holder it is for.
    pub fn recipient(&self) -> u16 {
        self.recipient
    }

    /// The plan it belongs to.
    pub fn plan(&self) -> [u8; 32] {
        self.plan
    }
}

impl fmt::Debug for SubShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubShare")
            .field("plan", &hex::encode(self.plan))
            .field("dealer", &self.dealer)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// The file form of a sub-share.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubShareRepr {
    plan: String,
    dealer: u16,
    recipient: u16,
    value: Zeroizing<String>,
}

impl Serialize for SubShare {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let bytes = Zeroizing::new(self.value.0.to_be_bytes());
        let text = Zeroizing::new(hex::encode(&*bytes));
        let mut state = serializer.serialize_struct("SubShare", 4)?;
        state.serialize_field("plan", &hex::encode(self.plan))?;
        state.serialize_field("dealer", &self.dealer)?;
        state.serialize_field("recipient", &self.recipient)?;
        state.serialize_field("value", text.as_str())?;
        state.end()
    }
}

impl<'de> Deserialize<'de> for SubShare {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let repr = SubShareRepr::deserialize(deserializer)?;
        let plan: [u8; 32] = hex::decode(&repr.plan)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| D::Error::custom("plan is not 32 bytes of hex"))?;
        let bytes = Zeroizing::new(
            hex::decode(repr.value.as_str()).map_err(|_| D::Error::custom("value is not hex"))?,
        );
        if bytes.is_empty() || bytes.len() > MAX_SUB_SHARE_BYTES {
            return Err(D::Error::custom("value has an impossible length"));
        }
        // The (public) length alone decides the precision.
        let value = BoxedUint::from_be_slice(&bytes, limb_precision(bytes.len() as u32 * 8))
            .map_err(|_| D::Error::custom("value does not decode"))?;
        Ok(SubShare {
            plan,
            dealer: repr.dealer,
            recipient: repr.recipient,
            value: SecretExponent(value),
        })
    }
}

/// What one dealer produces: public commitments, and one secret sub-share
/// per new holder (holder 1 first).
#[derive(Debug)]
pub struct DealerOutput {
    /// Publish these.
    pub commitments: ReshareCommitments,
    /// Send the j-th (recipient j) to new holder j only.
    pub sub_shares: Vec<SubShare>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_the_low_limbs() {
        let x = BoxedUint::from(0x1234_5678u64);
        let wide = resize(&x, 512);
        assert_eq!(wide.bits_precision(), 512);
        assert_eq!(arith::to_biguint(&wide), BigUint::from(0x1234_5678u64));
    }

    #[test]
    fn bit_len_counts() {
        assert_eq!(
            (bit_len(1), bit_len(2), bit_len(7), bit_len(8)),
            (1, 2, 3, 4)
        );
    }
}
