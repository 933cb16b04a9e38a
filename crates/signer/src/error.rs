//! The one error type of the signer.

use ceremony_keys::KeyError;
use ceremony_policy::Report;

/// Why a KSR was not signed. Whatever the cause, no SKR is produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The configuration is malformed or inconsistent.
    #[error("{file}: {message}")]
    Config {
        /// The configuration file.
        file: String,
        /// The key or place at fault, and the rule.
        message: String,
    },
    /// A check failed before or after signing; the report names each.
    #[error("policy checks failed: {}", .0.failed().map(|id| id.as_str()).collect::<Vec<_>>().join(", "))]
    Policy(Box<Report>),
    /// A key the schema names is not available.
    #[error("key {name:?} (label {label:?}) is not available: {reason}")]
    MissingKey {
        /// The key's name in the configuration.
        name: String,
        /// Its label.
        label: String,
        /// Why.
        reason: String,
    },
    /// The key backend failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The schema does not fit the KSR.
    #[error("schema {schema:?} has no action for slot {slot} (the KSR has {bundles} bundles)")]
    SchemaSlot {
        /// The schema.
        schema: String,
        /// The missing slot.
        slot: usize,
        /// How many bundles the KSR has.
        bundles: usize,
    },
}
