//! The policy checks of a DNSSEC key ceremony, by their published ids.
//!
//! Before a KSK signs, its operator checks the KSR against policy
//! ([`validate_ksr`]); before the zone operator uses an SKR, it checks the
//! answer ([`verify_skr`]). Each check has the id the root KSK operator's
//! signer gives it ([`CheckId`]), a one-line description, and reports
//! every violation with the bundle and key it concerns, never only the
//! first. A check switched off in the configuration is reported as
//! skipped; one that cannot run on the input as not applicable. Neither
//! is ever reported as passed.
//!
//! Defaults ([`RequestPolicy::default`]) are the root zone's practice;
//! [`PolicyConfig`] reads a TOML file that changes them. Unlike the
//! reference signer, validity is held to both ends of its range, the DNSKEY
//! TTL is checked, and a policy violation is a report, not a crash.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
mod config;
mod ksr;
mod report;
mod safety;
mod sig;
mod skr;

pub use check::CheckId;
pub use config::{parse_algorithm, ConfigError, PolicyConfig, RequestPolicy, ResponsePolicy};
pub use ksr::{validate_ksr, KsrContext};
pub use report::{CheckResult, Outcome, Report, Violation};
pub use safety::check_safety;
pub use skr::{verify_skr, SkrContext};

/// The root zone's trust anchors as IANA publishes them (KSK-2010 and KSK-2017), with their keys.
pub const ROOT_ANCHORS_XML: &str = include_str!("root-anchors.xml");
