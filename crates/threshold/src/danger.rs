//! Functions that take or return the factorization of a threshold RSA key.
//!
//! A ceremony never calls these: [`crate::shoup::deal`] generates the primes
//! and erases them. They exist for known-answer tests (rebuilding a published
//! vector's key from its p and q) and for a witnessed re-deal from a retained
//! factorization. Whoever holds p and q can sign alone.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::shoup::{DealProgress, Dealing};
use crate::Error;

/// Deals a k-of-l key from the safe primes `p` and `q` (big-endian), with
/// public exponent `e`.
///
/// The polynomial and v still come from `rng`, so a seeded generator makes
/// the whole dealing reproducible. The combined signatures depend only on
/// (n, e, d), never on the polynomial.
///
/// # Errors
/// [`Error::InvalidParameters`] when p or q is not a safe prime, p = q, or
/// k, l, e do not fit; [`Error::InvalidPublicKey`] when n is out of range.
pub fn deal_from_primes<R: CryptoRngCore + ?Sized>(
    p: &[u8],
    q: &[u8],
    e: u32,
    k: u16,
    l: u16,
    rng: &mut R,
) -> Result<Dealing, Error> {
    crate::shoup::deal_from_primes(p, q, e, k, l, rng)
}

/// Two safe primes, big-endian, overwritten on drop.
#[derive(Debug)]
pub struct SafePrimePair {
    /// p = 2p′ + 1, the larger half when the size is odd.
    pub p: Zeroizing<Vec<u8>>,
    /// q = 2q′ + 1.
    pub q: Zeroizing<Vec<u8>>,
}

/// Two safe primes (big-endian) whose product has exactly `bits` bits (16 to
/// 4096): what [`crate::shoup::deal`] generates before sharing.
///
/// # Errors
/// [`Error::InvalidParameters`] for other sizes; [`Error::PrimeGeneration`]
/// when the search fails.
pub fn safe_prime_pair<R: CryptoRngCore + ?Sized>(
    bits: u32,
    rng: &mut R,
    progress: &mut dyn FnMut(DealProgress),
) -> Result<SafePrimePair, Error> {
    crate::shoup::safe_prime_pair(bits, rng, progress)
}
