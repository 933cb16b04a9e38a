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
//! # Resharing: integer resharing for RSA, refresh and repair for FROST
//!
//! Holders change: an officer retires, a card is lost, the quorum should go
//! from 3-of-5 to 2-of-3 or 3-of-7. Two ways to move an RSA KSK were on the
//! table, and [`crate::shoup::reshare`] implements the first:
//!
//! * **Integer resharing** (Rabin 1998; Frankel, Gemmell, MacKenzie, Yung
//!   1997). k old holders each share their Lagrange-weighted share
//!   Δ′·λ_{0,i}·s_i with a random integer polynomial, publish Feldman
//!   commitments v^{a_k} in the squares modulo n, and send g_i(j) to new
//!   holder j, who checks it against the commitments and the old key's
//!   v_i (so a wrong sub-share names its dealer) and adds them up. The new
//!   verification keys follow from the commitments alone. Nobody ever holds
//!   d, p or q, and the DNSKEY, DS and every signature stay the same: no
//!   KSK roll, no new trust anchor, no change for validators.
//! * **A witnessed re-deal**: a dealer makes a new key for the new holders
//!   in front of the old quorum, who authorise it by signing (threshold)
//!   the new key into the DNSKEY RRset; then an RFC 5011 roll moves every
//!   validator to it. Simple to audit and it leaves no growth in the
//!   shares, but it is a new key: a roll of months, a new DS, and a window
//!   where the old holders' shares still matter.
//!
//! What integer resharing costs, and why we accept it:
//! * Shares grow. m is secret, so nothing is reduced: each round adds
//!   about bits(Δ′·λ) + 128 + (k′−1)·bits(l′) + a dozen bits
//!   (≈ 150–200 bits at ceremony sizes) to the share bound, which the key
//!   records ([`crate::shoup::ThresholdPublicKey::share_bits`]); signature
//!   shares' z and the exponents of the proof grow with it, so signing gets
//!   slower by that fraction of L(n) (under 10 % a round for RSA-2048). A
//!   key refuses shares beyond L(n) + 16384 bits: re-deal long before that.
//! * The combining exponent grows. The invariant becomes
//!   Σ λ_{0,j}·s_j ≡ Δ·K·d (mod m) with K = Δ_old·Δ′·K_old, and combining
//!   uses e′ = 4Δ²·K, prime to e because e (65537) is a prime above every l.
//!   The key records K ([`crate::shoup::ThresholdPublicKey::scale`]).
//! * The extra Δ′ in the constant term is what makes the sharing
//!   statistically hiding (2^−128) against k′−1 new holders; without it a
//!   new holder j learns c_i modulo divisors of j.
//! * Old shares are not revoked by mathematics: they still satisfy the old
//!   key's verification keys. They no longer combine with new shares (the
//!   proofs are checked against the new v′_j, and their z has the old
//!   length), but k old holders who kept their shares could still sign
//!   together. Destroying old shares is a step of the ceremony script, and
//!   the same caveat holds for FROST refresh.
//! * Every new holder must see the same commitments: publish them in the
//!   transcript. A dealer who sends commitments to some holders that differ
//!   from those sent to others makes them derive different public keys,
//!   which the CLI refuses when they write the same `public.json`.
//!
//! If the factorization was retained under seal, a re-deal of the same key
//! is also possible with [`crate::danger::deal_from_primes`]; ceremonies
//! should not retain it.
//!
//! Ed25519 keys: [`crate::frost::reshare`] enrols new identifiers by repair
//! (from t helpers, checked against verifying shares interpolated from the
//! group's) and then refreshes onto the new holder set only, which removes
//! the others. The group key, DNSKEY and DS stay the same. frost-ed25519 3.0
//! keeps min_signers through refresh and repair, so a FROST key's threshold
//! cannot change; a new threshold needs a new key (DKG) and a KSK roll.
