//! The trusted dealer: safe primes, the shared exponent, the verification
//! keys, and the erasure of everything secret.

use std::cell::{Cell, RefCell};

use crypto_bigint::{BoxedUint, ConcatenatingMul as _, NonZero, Odd};
use crypto_primes::hazmat::{SetBits, SmallFactorsSieveFactory};
use crypto_primes::{is_prime, sieve_and_find, Flavor};
use num_bigint::BigUint;
use num_integer::Integer as _;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use super::arith::{self, limb_precision, widen, FixedBase, ModN};
use super::rng::Bridge;
use super::{KeyShare, SecretExponent, ThresholdPublicKey, MAX_HOLDERS, MAX_MODULUS_BITS};
use crate::danger::SafePrimePair;
use crate::Error;

/// The public exponent the dealer uses: F4, a prime above any l we allow.
pub const DEFAULT_EXPONENT: u32 = 65537;

/// The smallest modulus [`deal`] makes. (Keys of other sizes can still be
/// rebuilt with [`crate::danger::deal_from_primes`] for known-answer tests.)
pub const MIN_DEAL_BITS: u32 = 1024;

/// What the dealer is doing, for a progress indicator.
///
/// Safe primes take a while: a 2048-bit modulus needs two 1024-bit safe
/// primes, and each takes thousands of candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DealProgress {
    /// A candidate for safe prime `prime` (1 for p, 2 for q) was tested and rejected.
    Candidate {
        /// 1 for p, 2 for q.
        prime: u8,
        /// Candidates tested for this prime so far.
        tested: u64,
    },
    /// Safe prime `prime` was found.
    PrimeFound {
        /// 1 for p, 2 for q.
        prime: u8,
        /// Its size in bits.
        bits: u32,
        /// Candidates it took.
        tested: u64,
    },
    /// The primes are found; the polynomial, the shares and the verification keys are next.
    Sharing,
}

/// The dealer's output: everything public, plus one share per holder.
///
/// Nothing else of the dealer survives; [`Dealing::erasure`] records what
/// was overwritten.
#[derive(Debug)]
pub struct Dealing {
    /// The public key to publish (as a DNSKEY) and to pin in every session.
    pub public_key: ThresholdPublicKey,
    /// One share per holder, index 1 first. Hand each to its holder, encrypted.
    pub shares: Vec<KeyShare>,
    /// What the dealer overwrote before returning.
    pub erasure: ErasureReport,
}

/// The dealer's account of its erasure: each secret value it held, its size,
/// and whether its buffer read back as all zeros after being overwritten.
///
/// The dealer keeps p, q, p′, q′, m, d and the polynomial's coefficients in
/// one scratch structure; before returning, it overwrites every buffer
/// (`zeroize`, volatile writes the compiler may not elide) and then reads each
/// buffer back. A ceremony records this report in its transcript; a test
/// asserts [`ErasureReport::all_erased`]. What it cannot show: copies made
/// inside crypto-bigint and crypto-primes (see [`crate::manual`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErasureReport {
    /// One entry per secret value, in the order the dealer made them.
    pub values: Vec<ErasedValue>,
}

/// One overwritten secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErasedValue {
    /// Its name in Shoup's paper: `p`, `q`, `p'`, `q'`, `m`, `d`, `a_1`, ….
    pub name: String,
    /// The size of its buffer in bits.
    pub bits: u32,
    /// Whether every word of the buffer read back as zero.
    pub zero_after: bool,
}

impl ErasureReport {
    /// Whether every secret value was overwritten with zeros.
    pub fn all_erased(&self) -> bool {
        self.values.iter().all(|value| value.zero_after)
    }

    /// The names of the erased values.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|value| value.name.as_str())
    }
}

/// Every secret the dealer holds, overwritten by [`DealerSecrets::erase`] or on drop.
struct DealerSecrets {
    values: Vec<(String, BoxedUint)>,
}

impl DealerSecrets {
    fn new() -> DealerSecrets {
        DealerSecrets { values: Vec::new() }
    }

    /// Takes ownership of a secret; returns its slot.
    fn hold(&mut self, name: impl Into<String>, value: BoxedUint) -> usize {
        self.values.push((name.into(), value));
        self.values.len() - 1
    }

    fn get(&self, slot: usize) -> &BoxedUint {
        &self.values[slot].1
    }

    fn erase(mut self) -> ErasureReport {
        let values = self
            .values
            .iter_mut()
            .map(|(name, value)| {
                value.zeroize();
                ErasedValue {
                    name: name.clone(),
                    bits: value.bits_precision(),
                    zero_after: value.as_words().iter().all(|word| *word == 0),
                }
            })
            .collect();
        ErasureReport { values }
    }
}

impl Drop for DealerSecrets {
    fn drop(&mut self) {
        for (_, value) in &mut self.values {
            value.zeroize();
        }
    }
}

fn check_sizes(k: u16, l: u16) -> Result<(), Error> {
    if k == 0 || k > l || l > MAX_HOLDERS {
        return Err(Error::InvalidParameters(format!(
            "need 1 ≤ k ≤ l ≤ {MAX_HOLDERS}, got k = {k}, l = {l}"
        )));
    }
    Ok(())
}

/// Deals a fresh threshold RSA key of exactly `bits` bits, e = 65537, `k` of `l`.
///
/// Shoup 2000 §3: safe primes p = 2p′+1, q = 2q′+1 (both with their two top
/// bits set, so n = pq has exactly `bits` bits), m = p′q′, d = e^{-1} mod m,
/// a random polynomial f of degree k−1 over Z_m with f(0) = d, shares
/// s_i = f(i), v = r² mod n for a random r, and v_i = v^{s_i}. Everything
/// secret is overwritten before this returns ([`Dealing::erasure`]).
///
/// `progress` hears about every safe-prime candidate; pass `&mut |_| {}` to ignore it.
///
/// # Errors
/// [`Error::InvalidParameters`] for sizes outside 1024–4096 bits or a bad
/// k, l; [`Error::PrimeGeneration`] if the prime search fails.
pub fn deal<R: CryptoRngCore + ?Sized>(
    bits: u32,
    k: u16,
    l: u16,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
) -> Result<Dealing, Error> {
    if !(MIN_DEAL_BITS..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(Error::InvalidParameters(format!(
            "the modulus must have {MIN_DEAL_BITS} to {MAX_MODULUS_BITS} bits, not {bits}"
        )));
    }
    check_sizes(k, l)?;
    let mut secrets = DealerSecrets::new();
    let (p, q) = safe_prime_pair_into(bits, rng, progress, &mut secrets)?;
    share_from_primes(secrets, p, q, DEFAULT_EXPONENT, k, l, rng, progress)
}

/// Two safe primes whose product has exactly `bits` bits (16 to 4096).
///
/// # Errors
/// [`Error::InvalidParameters`] for sizes outside 16–4096 bits;
/// [`Error::PrimeGeneration`] if the search fails.
pub(crate) fn safe_prime_pair<R: CryptoRngCore + ?Sized>(
    bits: u32,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
) -> Result<SafePrimePair, Error> {
    if !(16..=MAX_MODULUS_BITS).contains(&bits) {
        return Err(Error::InvalidParameters(format!(
            "safe-prime pairs are made for 16 to {MAX_MODULUS_BITS} bits, not {bits}"
        )));
    }
    let mut secrets = DealerSecrets::new();
    let (p, q) = safe_prime_pair_into(bits, rng, progress, &mut secrets)?;
    Ok(SafePrimePair {
        p: Zeroizing::new(secrets.get(p).to_be_bytes().into_vec()),
        q: Zeroizing::new(secrets.get(q).to_be_bytes().into_vec()),
    })
}

fn safe_prime_pair_into<R: CryptoRngCore + ?Sized>(
    bits: u32,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
    secrets: &mut DealerSecrets,
) -> Result<(usize, usize), Error> {
    // Two top bits set in both: p, q ≥ 3/4·2^{b−1}, so pq ≥ 9/16·2^{bits} > 2^{bits−1}.
    let p_bits = bits.div_ceil(2);
    let q_bits = bits / 2;
    let p = secrets.hold("p", safe_prime(p_bits, 1, rng, progress)?);
    loop {
        let q = secrets.hold("q", safe_prime(q_bits, 2, rng, progress)?);
        let n = secrets.get(p).concatenating_mul(secrets.get(q));
        // Distinct primes, and the exact size; the top bits make the size a
        // certainty, and this check keeps it one.
        if secrets.get(p) != secrets.get(q) && n.bit_width_vartime() == bits {
            return Ok((p, q));
        }
    }
}

fn safe_prime<R: CryptoRngCore + ?Sized>(
    bits: u32,
    which: u8,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
) -> Result<BoxedUint, Error> {
    let failed = |err: crypto_primes::Error| Error::PrimeGeneration(err.to_string());
    let factory = SmallFactorsSieveFactory::<BoxedUint>::new(Flavor::Safe, bits, SetBits::TwoMsb)
        .map_err(failed)?;
    let tested = Cell::new(0u64);
    let progress = RefCell::new(progress);
    let found = sieve_and_find(&mut Bridge(rng), factory, |_rng, candidate: &BoxedUint| {
        let prime = is_prime(Flavor::Safe, candidate);
        tested.set(tested.get() + 1);
        if !prime {
            (progress.borrow_mut())(DealProgress::Candidate {
                prime: which,
                tested: tested.get(),
            });
        }
        prime
    })
    .map_err(failed)?
    .ok_or_else(|| Error::PrimeGeneration("the sieve ran out of candidates".into()))?;
    (progress.borrow_mut())(DealProgress::PrimeFound {
        prime: which,
        bits,
        tested: tested.get(),
    });
    Ok(found)
}

/// Deals from given safe primes (big-endian): the known-answer path.
///
/// # Errors
/// [`Error::InvalidParameters`] when p or q is not a safe prime, p = q, or
/// the key would fail validation.
pub(crate) fn deal_from_primes<R: CryptoRngCore + ?Sized>(
    p: &[u8],
    q: &[u8],
    e: u32,
    k: u16,
    l: u16,
    rng: &mut R,
) -> Result<Dealing, Error> {
    check_sizes(k, l)?;
    let mut secrets = DealerSecrets::new();
    let mut prime = |name: &str, bytes: &[u8]| -> Result<usize, Error> {
        let bits = (bytes.len() as u32 * 8).max(64);
        let value = arith::boxed_from_be(bytes, bits)
            .ok_or_else(|| Error::InvalidParameters(format!("{name} does not decode")))?;
        let slot = secrets.hold(name, value);
        if !is_prime(Flavor::Safe, secrets.get(slot)) {
            return Err(Error::InvalidParameters(format!(
                "{name} is not a safe prime"
            )));
        }
        Ok(slot)
    };
    let p = prime("p", p)?;
    let q = prime("q", q)?;
    if secrets.get(p) == secrets.get(q) {
        return Err(Error::InvalidParameters("p and q must differ".into()));
    }
    share_from_primes(secrets, p, q, e, k, l, rng, &mut |_| {})
}

/// Steps 2–5 of the dealer: everything after the primes.
#[allow(clippy::too_many_arguments)]
fn share_from_primes<R: CryptoRngCore + ?Sized>(
    mut secrets: DealerSecrets,
    p: usize,
    q: usize,
    e: u32,
    k: u16,
    l: u16,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
) -> Result<Dealing, Error> {
    progress(DealProgress::Sharing);
    let n = secrets.get(p).concatenating_mul(secrets.get(q));
    let n_bits = n.bit_width_vartime();
    let precision = limb_precision(n_bits);
    let n_public = BigUint::from_bytes_be(&n.to_be_bytes());

    // m = p'q' with p' = (p−1)/2, q' = (q−1)/2 (p, q odd, so a shift is exact).
    let p_half = secrets.hold("p'", widen(&secrets.get(p).shr(1), precision));
    let q_half = secrets.hold("q'", widen(&secrets.get(q).shr(1), precision));
    // m < n, so the product fits the modulus' precision.
    let m = secrets.hold("m", secrets.get(p_half).wrapping_mul(secrets.get(q_half)));
    let m_odd = Zeroizing::new(
        Odd::new(secrets.get(m).clone())
            .into_option()
            .ok_or_else(|| {
                Error::InvalidParameters("m = p'q' is even: p or q is not safe".into())
            })?,
    );
    let m_nonzero: &NonZero<BoxedUint> = m_odd.as_nz_ref();

    // d = e^{-1} mod m, in constant time.
    let e_boxed = widen(&BoxedUint::from(u64::from(e)), precision);
    let d = secrets.hold(
        "d",
        e_boxed
            .invert_odd_mod(&m_odd)
            .into_option()
            .ok_or_else(|| Error::InvalidParameters("e divides m = p'q'".into()))?,
    );

    // f(X) = d + a_1 X + … + a_{k−1} X^{k−1} over Z_m.
    let mut coefficients = vec![d];
    for j in 1..k {
        let a = arith::random_below(rng, secrets.get(m));
        coefficients.push(secrets.hold(format!("a_{j}"), a));
    }

    // s_i = f(i) mod m by Horner's rule, in constant time.
    let mut shares_secret = Vec::with_capacity(usize::from(l));
    for i in 1..=l {
        let x = widen(&BoxedUint::from(u64::from(i)), precision);
        let mut acc = SecretExponent(secrets.get(coefficients[coefficients.len() - 1]).clone());
        for slot in coefficients.iter().rev().skip(1) {
            let product = Zeroizing::new(acc.0.mul_mod(&x, m_nonzero));
            acc = SecretExponent(product.add_mod(secrets.get(*slot), m_nonzero));
        }
        shares_secret.push(acc);
    }
    drop(m_odd);

    // v = r² mod n for a random r in [2, n), prime to n.
    let modn = ModN::new(&n_public).ok_or_else(|| Error::InvalidParameters("n is even".into()))?;
    let one = BigUint::from(1u8);
    let v = loop {
        let r = secrets.hold("r (v = r²)", arith::random_below(rng, &n));
        let v = modn.value(&modn.element_ct(secrets.get(r)).square());
        if v > one && v.gcd(&n_public) == one {
            break v;
        }
    };

    // v_i = v^{s_i} mod n, constant time in s_i.
    let v_comb = FixedBase::new(&modn.element(&v), n_bits);
    let verification_keys = shares_secret
        .iter()
        .map(|s| modn.value(&v_comb.pow_ct(&s.0)))
        .collect();
    let public_key = ThresholdPublicKey::from_parts(n_public, e, v, verification_keys, k)?;
    let shares = shares_secret
        .into_iter()
        .zip(1..=l)
        .map(|(s, i)| KeyShare {
            index: i,
            secret: s,
            public_key: public_key.clone(),
        })
        .collect();

    Ok(Dealing {
        public_key,
        shares,
        erasure: secrets.erase(),
    })
}
