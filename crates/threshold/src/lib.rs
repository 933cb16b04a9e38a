//! Threshold signatures for DNSSEC key signing keys: no credential leaves its holder.
//!
//! A KSK held as *shares*: each holder (at the root, a Crypto Officer) keeps
//! one share on their own machine or token, checks the KSR themselves, and
//! produces a *signature share* only for the exact RRSIG signed data they
//! approved. Any `k` of the `l` shares combine into one ordinary signature,
//! so validators see a normal DNSKEY and a normal RRSIG.
//!
//! Two schemes:
//!
//! * [`shoup`]: Shoup's threshold RSA ([Shoup 2000], Protocol 1) with the
//!   proofs of correctness that identify a bad share. The combined signature
//!   is the RSASSA-PKCS1-v1_5 / SHA-256 signature ([RFC 8017 §8.2]) of the
//!   shared key, byte for byte: DNSSEC algorithm 8 ([RFC 5702]).
//! * [`frost`]: FROST(Ed25519, SHA-512) ([RFC 9591]) on `frost-ed25519`: dealer,
//!   splitting an existing key, DKG, two-round signing, refresh and repair.
//!   The aggregate is a standard Ed25519 signature ([RFC 8032]): algorithm 15
//!   ([RFC 8080]).
//!
//! In scope: dealing, signature shares with proofs, share verification, combining,
//! resharing to new holders ([`shoup::reshare`], [`frost::reshare`]),
//! and coordinator state machines ([`shoup::SigningSession`], [`frost::SigningSession`])
//! that do no I/O. Out of scope: transport, files and encryption of shares
//! (age, in the quorum and CLI crates), the `KeySigner` seam (the keys crate
//! wraps a session later), and choosing what to sign (policy).
//!
//! A signature share on the wire (serde, hex integers):
//!
//! ```text
//! { "index": 3, "x_i": "5a1f…(|n| bytes)", "z": "01c4…(⌈(L(n)+513)/8⌉ bytes)", "c": "9e07…(32 bytes)" }
//! ```
//!
//! Start with [`shoup::deal`], [`shoup::KeyShare::sign_share`] and
//! [`shoup::SigningSession`]; read [`manual`] for the design decisions (the
//! proof hash H′, the constant-time boundary, erasure, resharing).
//!
//! [Shoup 2000]: https://www.iacr.org/archive/eurocrypt2000/1807/18070209-new.pdf
//! [RFC 8017 §8.2]: https://www.rfc-editor.org/rfc/rfc8017#section-8.2
//! [RFC 5702]: https://www.rfc-editor.org/rfc/rfc5702
//! [RFC 9591]: https://www.rfc-editor.org/rfc/rfc9591
//! [RFC 8032]: https://www.rfc-editor.org/rfc/rfc8032
//! [RFC 8080]: https://www.rfc-editor.org/rfc/rfc8080
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod danger;
mod error;
pub mod frost;
pub mod manual;
pub mod shoup;

pub use error::{Error, ShareFault};
