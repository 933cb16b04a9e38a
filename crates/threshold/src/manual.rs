//! Design notes: why the crate looks the way it does. Documentation only.
//!
//! # Shoup 2000, exactly which variant
//!
//! [`crate::shoup`] implements Protocol 1 of Shoup's paper as written: shares
//! s_i = f(i) mod m with f(0) = d = e^{-1} mod m, signature shares
//! x_i = x^{2Δ s_i}, combining with λ_{0,j} = Δ·Π j'/(j'−j) and e′ = 4Δ².
//! The variant that folds Δ^{-1} into the shares and uses a public u with
//! Jacobi symbol −1 (e′ = 4) is *not* used. The known-answer vector
//! (`shared/data/vectors/shoup-threshold-rsa.txt`) and fresh 2048-bit keys
//! check that any k shares give exactly the RSASSA-PKCS1-v1_5 signature of
//! the unshared key.
//!
//! # The proof hash H′
//!
//! c = H′(v, x̃, v_i, x_i², v′, x′) =
//! SHA-256(`PROOF_LABEL` ‖ 0x00 ‖ u32be(|n|) ‖ v ‖ x̃ ‖ v_i ‖ x_i² ‖ v′ ‖ x′), where
//! `PROOF_LABEL` is [`crate::shoup::PROOF_LABEL`] and every element is I2OSP'd
//! to exactly |n| bytes (RFC 8017 §4.1), so no two inputs share an encoding.
//! c is the 32-byte digest read as a big-endian integer: L1 = 256. The nonce r
//! is drawn below 2^{L(n)+2·L1}, and z = s_i·c + r < 2^{L(n)+2·L1+1}, which is
//! also the bound a verifier enforces on z. On the wire z has the fixed length
//! ⌈(L(n)+2·L1+1)/8⌉ bytes and x_i has |n| bytes.
//!
//! # The constant-time boundary
//!
//! Secret values are the dealer's p, q, p′, q′, m, d and polynomial, each
//! holder's s_i, and the proof nonce r (z = s_i·c + r would reveal s_i with r).
//! Every operation on them uses `crypto-bigint` 0.7 in constant time:
//! multiplication, `mul_mod`/`add_mod` for the polynomial (Horner's rule),
//! `invert_odd_mod` for d, and fixed-base exponentiation whose table is read
//! by a full masked scan (`shoup::arith::FixedBase::pow_ct`), for v^{s_i},
//! x^{2Δ s_i}, x̃^r and v^r.
//!
//! Public values (the message, n, v, v_i, every field of a signature share,
//! and the combining exponents) use variable-time code, and `num-bigint`
//! only for signed integers (Lagrange coefficients, extended Euclid).
//!
//! Caveats, honestly:
//! * Safe-prime generation (`crypto-primes`) is variable time in the
//!   candidates, like every prime generator in practice. It runs once, in the
//!   dealer's ceremony, on an offline machine.
//! * Rejection sampling below m leaks how many draws it took (about one to
//!   two), not the value.
//! * "Constant time" is what the source says, not what a given compiler and
//!   CPU do; nothing here was measured with dudect-style tests.
//!
//! # Erasure
//!
//! The dealer holds every secret in one scratch structure and overwrites it
//! before returning; [`crate::shoup::ErasureReport`] lists each value with its
//! size and whether its buffer read back as zeros. Key shares overwrite s_i
//! on drop, and r, 2r and s_i·c are held in `Zeroizing` buffers. Not covered:
//! temporaries inside crypto-bigint (a modular reduction's quotient, a
//! Montgomery product) and inside crypto-primes' sieve, registers, and
//! pages the OS swapped out. Deal on a machine whose memory is then wiped or
//! destroyed, as ceremonies do with their laptops.
//!
//! # Why a comb
//!
//! A 2048-bit signature share costs three exponentiations with secret
//! exponents of up to 2561 bits, and its check two more with public ones.
//! Bases repeat: v for every share of a key, x^{2Δ} twice per share, x̃ for
//! every share of a message. A 6-row Lim–Lee comb costs about one
//! exponentiation to build and a third of one per use. On a 2-core Xeon
//! (`benches/`), a 3-of-7 RSA-2048 signature with three shares, three proof
//! checks and the combination takes 38 ms, and a 9-bundle quarter from the
//! key files about 360 ms of CPU, against 0.6 ms and 4–6 ms for `ring` with
//! one key. By per-operation timings, plain 4-bit-window exponentiation
//! would about double the threshold figures.
//!
//! # Resharing RSA shares: not implemented, on purpose
//!
//! Shoup shares live over the integers (m is secret), so resharing to new
//! holders means each old holder shares λ_{0,j}·s_j with a new integer
//! polynomial, and the new shares carry a factor Δ. Each round multiplies the
//! exponent bound by Δ (the shares grow by log₂(l!) bits and the combining
//! exponent e′ by Δ² more), and the proofs must then bound larger values.
//! It works, and it is the wrong tool for a DNSSEC KSK: the simpler and
//! auditable way to change holders is a witnessed re-deal of a new key
//! followed by an RFC 5011 KSK roll, or, if the factorization was retained
//! under seal, a re-deal of the same key with
//! [`crate::danger::deal_from_primes`]. Ed25519 keys do not have this
//! problem: FROST refresh (same group key, new shares) and repair are in
//! [`crate::frost`].
