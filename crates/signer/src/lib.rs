//! Signing a KSR into an SKR, the way the root's KSK operator does.
//!
//! [`sign_ksr`] runs every KSR check, then the signing-time checks (KSK
//! validity, algorithm coverage, the key in the HSM matching the
//! configuration, the chain continuing from a key held here), builds each
//! bundle's DNSKEY RRset from the [`Schema`]'s slot action (publish, sign,
//! revoke), signs through the [`ceremony_keys::KeySigner`] seam, re-verifies
//! every signature in software, and checks the response (SKR-VERIFY,
//! SKR-MATCH, SKR-PAIR, KSR-POLICY-SAFETY). Any failure returns the report
//! and no SKR.
//!
//! [`SignerConfig`] reads our TOML or the root signer's `ksrsigner.yaml`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backends;
pub mod config;
pub mod danger;
mod error;
pub mod request;
pub mod schema;
pub mod selftest;
mod sign;
pub mod textsign;
pub mod threshold;

pub use config::SignerConfig;
pub use error::SignError;
pub use schema::{Schema, SlotAction};
pub use sign::{check, ksk_tags, sign_ksr, KeyRing, SignRequest, Signed};
