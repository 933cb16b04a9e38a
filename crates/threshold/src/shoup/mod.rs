//! Shoup's threshold RSA (EUROCRYPT 2000, Protocol 1), with the proofs that
//! make it robust.
//!
//! A dealer makes an RSA key whose private exponent is shared among `l`
//! holders so that any `k` can sign ([`deal`]). Each holder computes a
//! *signature share* over the exact data it approved, with a proof that the
//! share is correct ([`KeyShare::sign_share`]). A coordinator checks each share
//! against the pinned public key as it arrives, and combines any `k` valid
//! ones into an ordinary RSASSA-PKCS1-v1_5 / SHA-256 signature
//! ([`SigningSession`]). The result is byte for byte the signature the
//! unshared key would make, so DNSSEC validators see an algorithm 8 RRSIG.
//!
//! ```text
//! holder i:     x   = EMSA-PKCS1-v1_5(SHA-256(data))        (|n| bytes)
//!               x_i = x^(2Δ·s_i) mod n,  Δ = l!
//!               r   < 2^(L(n)+2·L1);  v' = v^r;  x' = x̃^r;  x̃ = x^(4Δ)
//!               c   = H'(v, x̃, v_i, x_i², v', x');  z = s_i·c + r
//!               share = (i, x_i, z, c)
//! coordinator:  accept iff c = H'(v, x̃, v_i, x_i², v^z·v_i^-c, x̃^z·x_i^-2c)
//!               w = Π x_j^(2λ_0,j);  a·4Δ² + b·e = 1;  y = w^a·x^b;  y^e = x
//! ```
//!
//! H′ is SHA-256 over [`PROOF_LABEL`] and the six elements, each I2OSP'd to
//! |n| bytes; [`crate::manual`] defines it exactly and explains the
//! constant-time boundary, erasure and resharing.
//!
//! [`reshare`] moves a key to new holders or a new threshold without
//! rebuilding d (integer resharing with Feldman commitments); a reshared key
//! carries a scale K and a larger share bound, and signs exactly as before.

mod arith;
mod dealer;
mod encoding;
pub mod reshare;
mod rng;
mod session;

use std::fmt;
use std::sync::{Arc, OnceLock};

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};
use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::{BoxedUint, ConcatenatingMul as _};
use num_bigint::BigUint;
use num_integer::Integer as _;
use num_traits::One as _;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::Error;
use arith::{boxed_from_be, i2osp, limb_precision, FixedBase, ModN};

pub use dealer::{
    deal, DealProgress, Dealing, ErasedValue, ErasureReport, DEFAULT_EXPONENT, MIN_DEAL_BITS,
};
pub use encoding::PROOF_LABEL;
pub use session::{SessionStatus, SigningSession};

pub(crate) use dealer::{deal_from_primes, safe_prime_pair};

/// L1 of Shoup's paper: the bit length of the proof challenge `c` (SHA-256).
pub const CHALLENGE_BITS: u32 = 256;

/// The most holders a key may have. Δ = l! grows fast, and so do the
/// combining exponents; ceremonies have a handful of holders.
pub const MAX_HOLDERS: u16 = 255;

/// The largest modulus accepted: RFC 3110 and RFC 5702 cap RSASHA256 keys at 4096 bits.
pub const MAX_MODULUS_BITS: u32 = 4096;

/// The largest scale K a key may carry: every resharing multiplies it by
/// Δ_old·Δ_new, a few dozen bits, so this allows dozens of rounds.
const MAX_SCALE_BITS: u32 = 1024;

/// How far shares may outgrow n: each resharing adds about 150–200 bits.
const MAX_SHARE_GROWTH_BITS: u32 = 16384;

/// A threshold RSA public key: the RSA key (n, e) plus what verifies shares.
///
/// `v` generates the squares modulo n, and `v_i = v^{s_i}` commits to holder
/// i's share. Every check of a signature share uses these pinned values,
/// never values a holder sends.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "PublicKeyRepr", into = "PublicKeyRepr")]
pub struct ThresholdPublicKey {
    n: BigUint,
    e: u32,
    v: BigUint,
    verification_keys: Vec<BigUint>,
    k: u16,
    /// K in Σ λ_{0,j}·s_j ≡ Δ·K·d (mod m): 1 when dealt, Δ_old·Δ_new·K_old
    /// after each resharing ([`reshare`]).
    scale: BigUint,
    /// Every share is below 2^share_bits: L(n) when dealt, more after resharing.
    share_bits: u32,
    modn: ModN,
    /// Comb tables for `v`, built on first use (a few milliseconds).
    context: OnceLock<Arc<KeyContext>>,
}

/// What signing and verifying reuse for one key.
#[derive(Debug)]
pub(crate) struct KeyContext {
    v_comb: FixedBase,
    verification_keys: Vec<BoxedMontyForm>,
    /// 2Δ, the exponent that turns x into the base of x_i.
    two_delta: BigUint,
    /// Δ = l!.
    delta: BigUint,
    /// share_bits + 2·L1 + 1: every exponent `s_i`, `2r` and `z` is below 2^exp_bits.
    exp_bits: u32,
}

impl ThresholdPublicKey {
    /// Builds and validates a public key from big-endian integers.
    ///
    /// Requirements: `n` odd, |n| ≥ 62 bytes (EMSA-PKCS1-v1_5 with SHA-256)
    /// and at most [`MAX_MODULUS_BITS`]; `e` a prime greater than `l`
    /// (Shoup's condition for gcd(e, 4Δ²) = 1); `1 ≤ k ≤ l ≤ MAX_HOLDERS`
    /// where `l = verification_keys.len()`; `v` and every `v_i` in `[2, n)` and
    /// prime to `n`.
    ///
    /// # Errors
    /// [`Error::InvalidPublicKey`] naming the first requirement not met.
    pub fn new(
        n: &[u8],
        e: u32,
        v: &[u8],
        verification_keys: &[Vec<u8>],
        k: u16,
    ) -> Result<ThresholdPublicKey, Error> {
        Self::from_parts(
            BigUint::from_bytes_be(n),
            e,
            BigUint::from_bytes_be(v),
            verification_keys
                .iter()
                .map(|vk| BigUint::from_bytes_be(vk))
                .collect(),
            k,
        )
    }

    pub(crate) fn from_parts(
        n: BigUint,
        e: u32,
        v: BigUint,
        verification_keys: Vec<BigUint>,
        k: u16,
    ) -> Result<ThresholdPublicKey, Error> {
        let share_bits = u32::try_from(n.bits()).unwrap_or(u32::MAX);
        Self::from_parts_scaled(n, e, v, verification_keys, k, BigUint::one(), share_bits)
    }

    /// [`Self::from_parts`] for a reshared key: its scale K and share bound.
    pub(crate) fn from_parts_scaled(
        n: BigUint,
        e: u32,
        v: BigUint,
        verification_keys: Vec<BigUint>,
        k: u16,
        scale: BigUint,
        share_bits: u32,
    ) -> Result<ThresholdPublicKey, Error> {
        let bad = Error::InvalidPublicKey;
        if n.is_even() || n.bits() > u64::from(MAX_MODULUS_BITS) {
            return Err(bad("n must be odd and at most 4096 bits"));
        }
        let l = u16::try_from(verification_keys.len())
            .ok()
            .filter(|l| (1..=MAX_HOLDERS).contains(l))
            .ok_or(bad("there must be 1 to 255 verification keys"))?;
        if k == 0 || k > l {
            return Err(bad("the threshold k must be between 1 and l"));
        }
        if !is_small_prime(e) || e <= u32::from(l) {
            return Err(bad("e must be a prime greater than l"));
        }
        let in_group = |x: &BigUint| x > &BigUint::one() && x < &n && x.gcd(&n).is_one();
        if !in_group(&v) {
            return Err(bad("v must be in [2, n) and prime to n"));
        }
        if !verification_keys.iter().all(in_group) {
            return Err(bad("every v_i must be in [2, n) and prime to n"));
        }
        // K is a product of factorials of holder counts, all below the prime e.
        if scale.bits() == 0
            || scale.bits() > u64::from(MAX_SCALE_BITS)
            || !scale.gcd(&BigUint::from(e)).is_one()
        {
            return Err(bad("the scale K must be in [1, 2^1024) and prime to e"));
        }
        let n_bits = u32::try_from(n.bits()).unwrap_or(u32::MAX);
        if share_bits < n_bits || share_bits > n_bits.saturating_add(MAX_SHARE_GROWTH_BITS) {
            return Err(bad(
                "the share bound must be between L(n) and L(n) + 16384 bits",
            ));
        }
        let modn = ModN::new(&n).ok_or(bad("n must be odd"))?;
        if modn.byte_len() < encoding::MIN_EM_LEN {
            return Err(bad(
                "n is too short for EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §9.2: |n| ≥ 62 bytes)",
            ));
        }
        Ok(ThresholdPublicKey {
            n,
            e,
            v,
            verification_keys,
            k,
            scale,
            share_bits,
            modn,
            context: OnceLock::new(),
        })
    }

    /// The modulus n, big-endian without leading zeros.
    pub fn modulus(&self) -> Vec<u8> {
        self.n.to_bytes_be()
    }

    /// The modulus length in bits, L(n).
    pub fn modulus_bits(&self) -> u32 {
        // Bounded by MAX_MODULUS_BITS at construction.
        self.n.bits() as u32
    }

    /// The public exponent e.
    pub fn exponent(&self) -> u32 {
        self.e
    }

    /// The verification base v, big-endian.
    pub fn verification_base(&self) -> Vec<u8> {
        self.v.to_bytes_be()
    }

    /// Holder `index`'s verification key v_i = v^{s_i}, big-endian; `None` outside 1..=l.
    pub fn verification_key(&self, index: u16) -> Option<Vec<u8>> {
        self.holder_slot(index)
            .map(|slot| self.verification_keys[slot].to_bytes_be())
    }

    /// The threshold k: how many shares make a signature.
    pub fn threshold(&self) -> u16 {
        self.k
    }

    /// K in Σ λ_{0,j}·s_j ≡ Δ·K·d (mod m), big-endian: 1 unless the key was reshared.
    pub fn scale(&self) -> Vec<u8> {
        self.scale.to_bytes_be()
    }

    /// The bound on the shares: each is below 2^share_bits (L(n) unless reshared).
    pub fn share_bits(&self) -> u32 {
        self.share_bits
    }

    /// The number of holders l.
    pub fn holders(&self) -> u16 {
        // Bounded by MAX_HOLDERS at construction.
        self.verification_keys.len() as u16
    }

    /// The RSA public key in DNSKEY encoding (RFC 3110 §2): exponent length,
    /// exponent, modulus.
    pub fn rsa_public_key(&self) -> Vec<u8> {
        let exponent = BigUint::from(self.e).to_bytes_be();
        let modulus = self.n.to_bytes_be();
        let mut out = Vec::with_capacity(1 + exponent.len() + modulus.len());
        // e fits 4 bytes, so the one-byte length form always applies.
        out.push(exponent.len() as u8);
        out.extend_from_slice(&exponent);
        out.extend_from_slice(&modulus);
        out
    }

    /// The key as a KSK DNSKEY: flags 257, protocol 3, algorithm 8 (RSASHA256).
    ///
    /// # Errors
    /// [`Error::Dnssec`] if the record cannot be built; a validated key always can.
    pub fn dnskey(&self) -> Result<Dnskey, Error> {
        Ok(Dnskey::new(
            Dnskey::ZONE | Dnskey::SEP,
            3,
            SecurityAlgorithm::RSASHA256,
            self.rsa_public_key(),
        )?)
    }

    /// Checks an ordinary RSASSA-PKCS1-v1_5 / SHA-256 signature under (n, e).
    ///
    /// # Errors
    /// [`Error::BadSignature`] when it does not verify.
    pub fn verify_signature(&self, signed_data: &[u8], signature: &[u8]) -> Result<(), Error> {
        let len = self.modn.byte_len();
        let s = BigUint::from_bytes_be(signature);
        if signature.len() != len || s >= self.n {
            return Err(Error::BadSignature);
        }
        let x = self.message_representative(signed_data)?;
        let y = self.modn.element(&s);
        let check = self.modn.pow_vartime(&y, &BigUint::from(self.e));
        if self.modn.value(&check) == x {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }

    /// Checks one signature share over `signed_data` against this key.
    ///
    /// To check several shares of one message, a [`SigningSession`] reuses
    /// the per-message work.
    ///
    /// # Errors
    /// [`Error::BadShare`] naming the holder, with the [`crate::ShareFault`].
    pub fn verify_share(&self, signed_data: &[u8], share: &SignatureShare) -> Result<(), Error> {
        SigningSession::new(self, signed_data)?
            .add_share(share)
            .map(|_| ())
    }

    /// Verifies `shares` and combines the first `k` into the RSA signature
    /// over `signed_data`, |n| bytes.
    ///
    /// # Errors
    /// [`Error::BadShare`] for the first share that fails (naming its
    /// holder), [`Error::NotEnoughShares`] with fewer than `k` shares.
    pub fn combine(&self, signed_data: &[u8], shares: &[SignatureShare]) -> Result<Vec<u8>, Error> {
        let mut session = SigningSession::new(self, signed_data)?;
        for share in shares {
            session.add_share(share)?;
        }
        session.combine()
    }

    /// The message representative x = OS2IP(EMSA-PKCS1-v1_5(SHA-256(data))).
    fn message_representative(&self, signed_data: &[u8]) -> Result<BigUint, Error> {
        let em = encoding::emsa_pkcs1_v15_sha256(signed_data, self.modn.byte_len()).ok_or(
            Error::InvalidPublicKey("n is too short for EMSA-PKCS1-v1_5"),
        )?;
        Ok(BigUint::from_bytes_be(&em))
    }

    fn holder_slot(&self, index: u16) -> Option<usize> {
        (1..=self.holders())
            .contains(&index)
            .then(|| usize::from(index) - 1)
    }

    fn context(&self) -> Arc<KeyContext> {
        self.context
            .get_or_init(|| Arc::new(KeyContext::new(self)))
            .clone()
    }

    /// The length of a share's `z` field in bytes.
    fn z_len(&self) -> usize {
        exp_bits(self.share_bits).div_ceil(8) as usize
    }
}

/// share_bits + 2·L1 + 1: the bound on the proof's exponents.
fn exp_bits(share_bits: u32) -> u32 {
    share_bits + 2 * CHALLENGE_BITS + 1
}

/// l! as an integer.
fn factorial(l: u16) -> BigUint {
    (1..=u32::from(l)).fold(BigUint::one(), |acc, i| acc * i)
}

/// Trial division; e is at most 32 bits.
fn is_small_prime(e: u32) -> bool {
    e >= 2
        && (2..)
            .take_while(|d: &u32| d * d <= e)
            .all(|d| !e.is_multiple_of(d))
}

impl KeyContext {
    fn new(key: &ThresholdPublicKey) -> KeyContext {
        let exp_bits = exp_bits(key.share_bits);
        let v = key.modn.element(&key.v);
        let delta = factorial(key.holders());
        KeyContext {
            v_comb: FixedBase::new(&v, exp_bits),
            verification_keys: key
                .verification_keys
                .iter()
                .map(|vk| key.modn.element(vk))
                .collect(),
            two_delta: &delta * 2u32,
            delta,
            exp_bits,
        }
    }
}

impl PartialEq for ThresholdPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
            && self.e == other.e
            && self.v == other.v
            && self.verification_keys == other.verification_keys
            && self.k == other.k
            && self.scale == other.scale
            && self.share_bits == other.share_bits
    }
}

impl Eq for ThresholdPublicKey {}

impl fmt::Debug for ThresholdPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThresholdPublicKey")
            .field("bits", &self.modulus_bits())
            .field("e", &self.e)
            .field("k", &self.k)
            .field("l", &self.holders())
            .field("n", &format_args!("{:x}", self.n))
            .finish_non_exhaustive()
    }
}

/// The file form of a public key: hex integers, and `l` spelled out for readers.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKeyRepr {
    n: String,
    e: u32,
    v: String,
    verification_keys: Vec<String>,
    k: u16,
    l: u16,
    /// Hex; absent when 1 (a dealt key), so dealt keys' files are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<String>,
    /// Absent when L(n).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share_bits: Option<u32>,
}

fn parse_hex(text: &str, what: &'static str) -> Result<BigUint, Error> {
    let bytes = hex::decode(text).map_err(|_| Error::InvalidPublicKey(what))?;
    Ok(BigUint::from_bytes_be(&bytes))
}

impl TryFrom<PublicKeyRepr> for ThresholdPublicKey {
    type Error = Error;

    fn try_from(repr: PublicKeyRepr) -> Result<Self, Error> {
        if usize::from(repr.l) != repr.verification_keys.len() {
            return Err(Error::InvalidPublicKey(
                "l differs from the number of verification keys",
            ));
        }
        let verification_keys = repr
            .verification_keys
            .iter()
            .map(|vk| parse_hex(vk, "a verification key is not hex"))
            .collect::<Result<_, _>>()?;
        let n = parse_hex(&repr.n, "n is not hex")?;
        let share_bits = repr
            .share_bits
            .unwrap_or_else(|| u32::try_from(n.bits()).unwrap_or(u32::MAX));
        let scale = match &repr.scale {
            Some(text) => parse_hex(text, "the scale is not hex")?,
            None => BigUint::one(),
        };
        ThresholdPublicKey::from_parts_scaled(
            n,
            repr.e,
            parse_hex(&repr.v, "v is not hex")?,
            verification_keys,
            repr.k,
            scale,
            share_bits,
        )
    }
}

impl From<ThresholdPublicKey> for PublicKeyRepr {
    fn from(key: ThresholdPublicKey) -> Self {
        let len = key.modn.byte_len();
        PublicKeyRepr {
            n: hex::encode(key.n.to_bytes_be()),
            e: key.e,
            v: hex::encode(i2osp(&key.v, len)),
            verification_keys: key
                .verification_keys
                .iter()
                .map(|vk| hex::encode(i2osp(vk, len)))
                .collect(),
            k: key.k,
            l: key.holders(),
            scale: (!key.scale.is_one()).then(|| hex::encode(key.scale.to_bytes_be())),
            share_bits: (u64::from(key.share_bits) != key.n.bits()).then_some(key.share_bits),
        }
    }
}

/// One holder's share of the private exponent, with the public key it belongs to.
///
/// The share s_i is kept in a buffer that is overwritten on drop; `Debug`
/// does not print it, and the type is not `Clone`, so copies are deliberate.
/// Serialized, it is a hex string: encrypt the file (age) before it touches a disk.
pub struct KeyShare {
    index: u16,
    secret: SecretExponent,
    public_key: ThresholdPublicKey,
}

/// s_i = f(i) mod m, overwritten on drop.
pub(crate) struct SecretExponent(pub(crate) BoxedUint);

impl Drop for SecretExponent {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl KeyShare {
    /// The holder's index i, 1..=l.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// The public key the share belongs to.
    pub fn public_key(&self) -> &ThresholdPublicKey {
        &self.public_key
    }

    /// Checks the share against the public key: v^{s_i} = v_i.
    ///
    /// A holder runs this when the share arrives, before the dealer's
    /// transcript is closed; a share that fails it would only ever make
    /// rejected signature shares.
    ///
    /// # Errors
    /// [`Error::InvalidKeyShare`] when v^{s_i} ≠ v_i.
    pub fn check(&self) -> Result<(), Error> {
        let ctx = self.public_key.context();
        let slot = self.slot()?;
        let expected = &ctx.verification_keys[slot];
        let actual = ctx.v_comb.pow_ct(&self.secret.0);
        if actual.retrieve() == expected.retrieve() {
            Ok(())
        } else {
            Err(self.invalid("v^s_i differs from the public verification key v_i"))
        }
    }

    /// Computes this holder's signature share over `signed_data`, with its proof.
    ///
    /// The holder passes the data it built and checked itself (the RRSIG
    /// signed data of RFC 4034 §3.1.8.1), never a digest from the coordinator.
    /// Every operation on s_i and on the proof nonce r is constant time.
    ///
    /// # Errors
    /// [`Error::InvalidKeyShare`] when the index is outside the key.
    pub fn sign_share<R: CryptoRngCore + ?Sized>(
        &self,
        signed_data: &[u8],
        rng: &mut R,
    ) -> Result<SignatureShare, Error> {
        let key = &self.public_key;
        let ctx = key.context();
        let slot = self.slot()?;
        let modn = &key.modn;
        let x = modn.element(&key.message_representative(signed_data)?);
        // X = x^{2Δ}, so x_i = X^{s_i}, x̃ = X² and x' = x̃^r = X^{2r}: one comb serves both.
        let base = modn.pow_vartime(&x, &ctx.two_delta);
        let x_tilde = base.square();
        let comb = FixedBase::new(&base, ctx.exp_bits);
        let x_i = comb.pow_ct(&self.secret.0);

        let precision = limb_precision(ctx.exp_bits);
        // r < 2^{L(n)+2·L1}.
        let r = Zeroizing::new(arith::random_bits(rng, ctx.exp_bits - 1, precision));
        let two_r = Zeroizing::new(r.shl(1));
        let x_prime = comb.pow_ct(&two_r);
        let v_prime = ctx.v_comb.pow_ct(&r);

        let len = modn.byte_len();
        let c = encoding::ProofTranscript {
            v: &i2osp(&key.v, len),
            x_tilde: &modn.bytes(&x_tilde),
            v_i: &i2osp(&key.verification_keys[slot], len),
            x_i_squared: &modn.bytes(&x_i.square()),
            v_prime: &modn.bytes(&v_prime),
            x_prime: &modn.bytes(&x_prime),
        }
        .challenge(len);

        // z = s_i·c + r over the integers, in constant time: s_i·c < 2^{L(n)+L1}
        // and r < 2^{L(n)+2·L1}, so the sum fits `precision` without wrapping.
        let c_int = boxed_from_be(&c, CHALLENGE_BITS)
            .ok_or(Error::Protocol("a SHA-256 digest is 256 bits"))?;
        let product = Zeroizing::new(self.secret.0.concatenating_mul(&c_int));
        let mut z = Zeroizing::new(arith::widen(&product, precision));
        z.wrapping_add_assign(&*Zeroizing::new(arith::widen(&r, precision)));
        let z = i2osp(&arith::to_biguint(&z), key.z_len());

        Ok(SignatureShare {
            index: self.index,
            x_i: modn.bytes(&x_i),
            z,
            c,
        })
    }

    fn slot(&self) -> Result<usize, Error> {
        self.public_key
            .holder_slot(self.index)
            .ok_or_else(|| self.invalid("index outside 1..=l"))
    }

    fn invalid(&self, reason: &'static str) -> Error {
        Error::InvalidKeyShare {
            index: self.index,
            reason,
        }
    }
}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("index", &self.index)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The file form of a key share.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyShareRepr {
    index: u16,
    share: Zeroizing<String>,
    public_key: ThresholdPublicKey,
}

impl Serialize for KeyShare {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let bytes = Zeroizing::new(self.secret.0.to_be_bytes());
        let text = Zeroizing::new(hex::encode(&*bytes));
        let mut state = serializer.serialize_struct("KeyShare", 3)?;
        state.serialize_field("index", &self.index)?;
        state.serialize_field("share", text.as_str())?;
        state.serialize_field("public_key", &self.public_key)?;
        state.end()
    }
}

impl<'de> Deserialize<'de> for KeyShare {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let repr = KeyShareRepr::deserialize(deserializer)?;
        if repr.public_key.holder_slot(repr.index).is_none() {
            return Err(D::Error::custom("share index outside 1..=l"));
        }
        let bytes = Zeroizing::new(
            hex::decode(repr.share.as_str()).map_err(|_| D::Error::custom("share is not hex"))?,
        );
        // No stripping of leading zeros: only the (public) length decides.
        let secret = BoxedUint::from_be_slice(&bytes, limb_precision(repr.public_key.share_bits()))
            .map_err(|_| D::Error::custom("share is longer than the key's share bound"))?;
        Ok(KeyShare {
            index: repr.index,
            secret: SecretExponent(secret),
            public_key: repr.public_key,
        })
    }
}

/// A holder's signature share with its proof of correctness: (i, x_i, z, c).
///
/// All fields are public values; the coordinator checks them against the
/// pinned public key, never trusting anything else the share claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureShare {
    /// The holder's index i.
    pub index: u16,
    /// x_i = x^{2Δ s_i} mod n, exactly |n| bytes big-endian.
    #[serde(with = "hex::serde")]
    pub x_i: Vec<u8>,
    /// z = s_i·c + r, exactly ⌈(share_bits+2·L1+1)/8⌉ bytes big-endian (share_bits = L(n) unless reshared).
    #[serde(with = "hex::serde")]
    pub z: Vec<u8>,
    /// c = H′(…), the 256-bit challenge.
    #[serde(with = "hex::serde")]
    pub c: [u8; 32],
}
