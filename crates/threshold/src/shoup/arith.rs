//! Modular arithmetic on `crypto-bigint`: the modulus context, fixed-base
//! exponentiation, conversions and randomness.
//!
//! Everything that touches a secret (a key share `s_i`, the proof nonce `r`,
//! the dealer's `p`, `q`, `m`, `d` and polynomial) goes through constant-time
//! routines here: [`FixedBase::pow_ct`], `BoxedMontyForm::pow`, and
//! `BoxedUint` arithmetic. Functions named `*_vartime` only ever see public
//! values (the message, a share's `x_i`, `z` and `c`, the public key).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Choice, CtLt as _, MontyMultiplier as _, Odd, Word};
use num_bigint::{BigInt, BigUint, Sign};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

/// Rows of the comb: its table holds 2^ROWS = 64 entries, and an exponent of
/// b bits costs ceil(b/ROWS) squarings and as many multiplications, instead
/// of b squarings and b/4 multiplications with a 4-bit window.
const COMB_ROWS: u32 = 6;
const COMB_ENTRIES: usize = 1 << COMB_ROWS;

/// crypto-bigint's prepared Montgomery multiplier: no allocation per product,
/// and a dedicated squaring kernel for 2048-bit moduli.
type Multiplier<'a> = <BoxedMontyForm as crypto_bigint::MontyForm>::Multiplier<'a>;

/// Rounds a bit count up to whole limbs, the precision crypto-bigint uses.
pub(crate) fn limb_precision(bits: u32) -> u32 {
    bits.div_ceil(Word::BITS) * Word::BITS
}

/// A copy of `x` with at least `bits` of precision (never narrower than `x`).
pub(crate) fn widen(x: &BoxedUint, bits: u32) -> BoxedUint {
    let mut out = BoxedUint::zero_with_precision(limb_precision(bits).max(x.bits_precision()));
    out.as_mut_words()[..x.nlimbs()].copy_from_slice(x.as_words());
    out
}

/// A big-endian byte string as a `BoxedUint`; `None` when it needs more than `bits`.
///
/// Skips leading zeros, so its timing depends on them: public values only.
pub(crate) fn boxed_from_be(bytes: &[u8], bits: u32) -> Option<BoxedUint> {
    let significant = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    BoxedUint::from_be_slice(&bytes[significant..], limb_precision(bits)).ok()
}

/// A public `BoxedUint` as a `BigUint`.
pub(crate) fn to_biguint(x: &BoxedUint) -> BigUint {
    BigUint::from_bytes_be(&x.to_be_bytes())
}

/// I2OSP (RFC 8017 §4.1): `x` as exactly `len` big-endian bytes.
///
/// `x` must fit; callers only pass values reduced modulo `n` or bounded by
/// construction.
pub(crate) fn i2osp(x: &BigUint, len: usize) -> Vec<u8> {
    let bytes = x.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(bytes.len())];
    out.extend_from_slice(&bytes[bytes.len().saturating_sub(len)..]);
    out
}

/// Arithmetic modulo the public RSA modulus `n`.
#[derive(Clone, Debug)]
pub(crate) struct ModN {
    params: BoxedMontyParams,
    n: BigUint,
    precision: u32,
    byte_len: usize,
}

impl ModN {
    /// The context for an odd `n`; `None` when `n` is even.
    pub(crate) fn new(n: &BigUint) -> Option<ModN> {
        let precision = limb_precision(u32::try_from(n.bits()).ok()?);
        let boxed = boxed_from_be(&n.to_bytes_be(), precision)?;
        let odd = Odd::new(boxed).into_option()?;
        Some(ModN {
            // n is public: the variable-time setup is fine.
            params: BoxedMontyParams::new_vartime(odd),
            n: n.clone(),
            precision,
            byte_len: usize::try_from(n.bits().div_ceil(8)).ok()?,
        })
    }

    /// The length of `n` in bytes, |n| in RFC 8017's notation.
    pub(crate) fn byte_len(&self) -> usize {
        self.byte_len
    }

    /// `x mod n` in Montgomery form.
    pub(crate) fn element(&self, x: &BigUint) -> BoxedMontyForm {
        let reduced = if x < &self.n { x.clone() } else { x % &self.n };
        let boxed = boxed_from_be(&reduced.to_bytes_be(), self.precision)
            .unwrap_or_else(|| BoxedUint::zero_with_precision(self.precision));
        BoxedMontyForm::new(boxed, &self.params)
    }

    /// A secret `x < n` in Montgomery form, without leaving the constant-time types.
    pub(crate) fn element_ct(&self, x: &BoxedUint) -> BoxedMontyForm {
        let mut resized = BoxedUint::zero_with_precision(self.precision);
        let limbs = resized.nlimbs().min(x.nlimbs());
        resized.as_mut_words()[..limbs].copy_from_slice(&x.as_words()[..limbs]);
        // `new` converts in place: the copy becomes the Montgomery form.
        BoxedMontyForm::new(resized, &self.params)
    }

    /// The integer in `[0, n)` that a Montgomery form stands for.
    pub(crate) fn value(&self, x: &BoxedMontyForm) -> BigUint {
        to_biguint(&x.retrieve())
    }

    /// I2OSP of a residue: exactly |n| bytes.
    pub(crate) fn bytes(&self, x: &BoxedMontyForm) -> Vec<u8> {
        i2osp(&self.value(x), self.byte_len)
    }

    /// `base^exp` for a public exponent (variable time in `exp`).
    pub(crate) fn pow_vartime(&self, base: &BoxedMontyForm, exp: &BigUint) -> BoxedMontyForm {
        let bits = u32::try_from(exp.bits()).unwrap_or(u32::MAX);
        if bits == 0 {
            return BoxedMontyForm::one(&self.params);
        }
        let Some(boxed) = boxed_from_be(&exp.to_bytes_be(), bits) else {
            return BoxedMontyForm::one(&self.params);
        };
        base.pow_bounded_exp(&boxed, bits)
    }

    /// `base^exp` for a public, possibly negative exponent; `None` when the
    /// exponent is negative and `base` has no inverse modulo `n`.
    pub(crate) fn pow_signed_vartime(
        &self,
        base: &BoxedMontyForm,
        exp: &BigInt,
    ) -> Option<BoxedMontyForm> {
        match exp.sign() {
            Sign::Minus => {
                let inverse = base.invert_vartime().into_option()?;
                Some(self.pow_vartime(&inverse, exp.magnitude()))
            }
            _ => Some(self.pow_vartime(base, exp.magnitude())),
        }
    }
}

/// Fixed-base exponentiation with a precomputed comb (Lim–Lee).
///
/// For a base `g` used with many exponents (the verification base `v`, and
/// per message `x^{2Δ}` and `x̃`), the table costs about one exponentiation
/// and each later power costs about a third of one. [`FixedBase::pow_ct`] reads
/// the table in constant time: every entry is touched for every column and the
/// one wanted is kept with a mask, so the exponent's bits decide no branch and
/// no memory address.
#[derive(Clone, Debug)]
pub(crate) struct FixedBase {
    one: BoxedMontyForm,
    /// Columns: exponent bit `row·columns + col` sits in row `row`, column `col`.
    columns: u32,
    /// `table[j] = Π_{row: bit row of j} g^(2^(row·columns))`, in Montgomery form.
    table: Vec<BoxedMontyForm>,
    /// The same table as flat words, for the constant-time scan.
    flat: Vec<Word>,
    limbs: usize,
}

impl FixedBase {
    /// The comb for `base`, for exponents of up to `max_bits` bits.
    pub(crate) fn new(base: &BoxedMontyForm, max_bits: u32) -> FixedBase {
        let columns = max_bits.div_ceil(COMB_ROWS).max(1);
        let one = BoxedMontyForm::one(base.params());
        let mut mm = Multiplier::from(base.params());
        let mut rows = Vec::with_capacity(COMB_ROWS as usize);
        rows.push(base.clone());
        for row in 1..COMB_ROWS as usize {
            let mut next = rows[row - 1].clone();
            for _ in 0..columns {
                mm.square_assign(&mut next);
            }
            rows.push(next);
        }
        let mut table: Vec<BoxedMontyForm> = Vec::with_capacity(COMB_ENTRIES);
        table.push(one.clone());
        for j in 1..COMB_ENTRIES {
            let top = (usize::BITS - 1 - j.leading_zeros()) as usize;
            let mut entry = table[j ^ (1 << top)].clone();
            mm.mul_assign(&mut entry, &rows[top]);
            table.push(entry);
        }
        let limbs = one.as_montgomery().nlimbs();
        let flat = table
            .iter()
            .flat_map(|entry| entry.as_montgomery().as_words().iter().copied())
            .collect();
        FixedBase {
            one,
            columns,
            table,
            flat,
            limbs,
        }
    }

    /// The largest exponent this comb handles has this many bits.
    pub(crate) fn max_bits(&self) -> u32 {
        self.columns * COMB_ROWS
    }

    /// The table index for one column: bit `row·columns + col` of `exp` as bit `row`.
    ///
    /// Bit positions are public; the bits are read with shifts and masks only.
    fn column_index(&self, exp: &BoxedUint, col: u32) -> u32 {
        let words = exp.as_words();
        let mut index: u32 = 0;
        for row in 0..COMB_ROWS {
            let pos = row * self.columns + col;
            let word = words.get((pos / Word::BITS) as usize).copied().unwrap_or(0);
            let bit = ((word >> (pos % Word::BITS)) & 1) as u32;
            index |= bit << row;
        }
        index
    }

    /// `g^exp` in constant time with respect to `exp`.
    ///
    /// The sequence of operations depends only on the table size, never on
    /// `exp`'s value; `exp` must be below 2^[`FixedBase::max_bits`] (callers
    /// bound it by construction, so only public sizes are compared).
    pub(crate) fn pow_ct(&self, exp: &BoxedUint) -> BoxedMontyForm {
        debug_assert!(exp.bits_precision() <= limb_precision(self.max_bits()) + Word::BITS);
        let mut mm = Multiplier::from(self.one.params());
        let mut acc = self.one.clone();
        let mut selected = Zeroizing::new(vec![0 as Word; self.limbs]);
        for col in (0..self.columns).rev() {
            mm.square_assign(&mut acc);
            let index = Zeroizing::new(self.column_index(exp, col));
            selected.iter_mut().for_each(|w| *w = 0);
            for (j, entry) in self.flat.chunks_exact(self.limbs).enumerate() {
                let mask = Choice::from_u32_eq(j as u32, *index).to_u64_mask() as Word;
                for (out, word) in selected.iter_mut().zip(entry) {
                    *out |= word & mask;
                }
            }
            let factor = BoxedMontyForm::from_montgomery(
                BoxedUint::from_words(selected.iter().copied()),
                acc.params(),
            );
            mm.mul_assign(&mut acc, &factor);
        }
        acc
    }

    /// `g^exp` for a public exponent below 2^[`FixedBase::max_bits`].
    pub(crate) fn pow_vartime(&self, exp: &BoxedUint) -> BoxedMontyForm {
        let mut mm = Multiplier::from(self.one.params());
        let mut acc = self.one.clone();
        for col in (0..self.columns).rev() {
            mm.square_assign(&mut acc);
            let index = self.column_index(exp, col) as usize;
            if index != 0 {
                mm.mul_assign(&mut acc, &self.table[index]);
            }
        }
        acc
    }
}

/// A uniformly random integer below 2^bits, with `precision` bits of storage.
///
/// The bytes pass through a zeroizing buffer; the result is secret.
pub(crate) fn random_bits<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    bits: u32,
    precision: u32,
) -> BoxedUint {
    let len = bits.div_ceil(8) as usize;
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    rng.fill_bytes(&mut bytes);
    let excess = len as u32 * 8 - bits;
    if let Some(first) = bytes.first_mut() {
        *first &= 0xFF >> excess;
    }
    BoxedUint::from_be_slice(&bytes, limb_precision(precision.max(bits)))
        .unwrap_or_else(|_| BoxedUint::zero_with_precision(limb_precision(precision.max(bits))))
}

/// A uniformly random integer in `[0, bound)`, by rejection sampling.
///
/// The number of draws (about two at worst) leaks nothing about the value
/// kept; the comparison is crypto-bigint's constant-time `<`.
pub(crate) fn random_below<R: CryptoRngCore + ?Sized>(rng: &mut R, bound: &BoxedUint) -> BoxedUint {
    let bits = bound.bit_width();
    loop {
        let candidate = random_bits(rng, bits, bound.bits_precision());
        if candidate.ct_lt(bound).to_bool() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    fn modulus() -> (BigUint, ModN) {
        // The 511-bit modulus of the Shoup vector.
        let n = BigUint::parse_bytes(
            b"6b8c3491a2349c2aa5a1f406744175eb26cfb94359bc09cb924069b78523e8eab383ad40933b3d596b995917ec968194bee357900f0e60841729049fa17ecc25",
            16,
        )
        .expect("hex");
        let ctx = ModN::new(&n).expect("odd");
        (n, ctx)
    }

    #[test]
    fn comb_agrees_with_modpow() {
        let (n, ctx) = modulus();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let g = BigUint::from(123_456_789u64);
        let base = ctx.element(&g);
        let comb = FixedBase::new(&base, 700);
        for bits in [1u32, 5, 64, 511, 700] {
            let exp = random_bits(&mut rng, bits, 704);
            let expected = g.modpow(&to_biguint(&exp), &n);
            assert_eq!(ctx.value(&comb.pow_ct(&exp)), expected, "ct, {bits} bits");
            assert_eq!(
                ctx.value(&comb.pow_vartime(&exp)),
                expected,
                "vartime, {bits} bits"
            );
        }
        let zero = BoxedUint::zero_with_precision(704);
        assert_eq!(ctx.value(&comb.pow_ct(&zero)), BigUint::from(1u8));
    }

    #[test]
    fn signed_powers_use_the_inverse() {
        let (n, ctx) = modulus();
        let base = ctx.element(&BigUint::from(5u8));
        let minus = ctx
            .pow_signed_vartime(&base, &BigInt::from(-3))
            .expect("invertible");
        let plus = ctx.pow_vartime(&base, &BigUint::from(3u8));
        assert_eq!(
            (ctx.value(&minus) * ctx.value(&plus)) % &n,
            BigUint::from(1u8)
        );
    }

    #[test]
    fn random_below_stays_below() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let bound = BoxedUint::from(1000u64);
        for _ in 0..200 {
            let x = random_below(&mut rng, &bound);
            assert!(to_biguint(&x) < BigUint::from(1000u32));
        }
    }

    #[test]
    fn i2osp_pads_and_keeps_length() {
        assert_eq!(i2osp(&BigUint::from(0x0102u32), 4), vec![0, 0, 1, 2]);
        assert_eq!(i2osp(&BigUint::from(0u32), 2), vec![0, 0]);
    }
}
