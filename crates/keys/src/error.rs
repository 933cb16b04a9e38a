//! The one error type of the key backends.

/// Why a key could not be found, loaded or used.
///
/// Messages name labels, files and mechanisms, never key material or PINs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key encoding could not be read.
    #[error("{what}: cannot read the private key: {reason}")]
    BadKey {
        /// Which key or file.
        what: String,
        /// What is wrong, without the key itself.
        reason: String,
    },
    /// The key's algorithm or size is one this backend cannot use.
    #[error("{what}: unsupported key: {reason}")]
    Unsupported {
        /// Which key.
        what: String,
        /// What is unsupported.
        reason: String,
    },
    /// The signing operation failed.
    #[error("{what}: signing failed: {reason}")]
    SignFailed {
        /// Which key.
        what: String,
        /// What the backend said.
        reason: String,
    },
    /// The PKCS#11 module could not be found, loaded or initialised.
    #[error("PKCS#11 module {}: {reason}", module.display())]
    Module {
        /// The module path as configured.
        module: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No token carries the configured label.
    #[error("no PKCS#11 token labelled \"{token}\" in {}; tokens found: {}", module.display(), list_or_none(found))]
    TokenNotFound {
        /// The label looked for.
        token: String,
        /// The module that was asked.
        module: std::path::PathBuf,
        /// The labels of the tokens that are present.
        found: Vec<String>,
    },
    /// The PIN could not be obtained from its source (variable, file, terminal).
    #[error("cannot read the PIN for token \"{token}\" from {from}: {reason}")]
    PinUnavailable {
        /// The token the PIN is for.
        token: String,
        /// Where it was to come from, e.g. `environment variable CEREMONY_PIN`.
        from: String,
        /// What went wrong, never the PIN.
        reason: String,
    },
    /// The token refused the user PIN.
    #[error("wrong PIN for token \"{token}\"{}", if *final_try { "; one more wrong PIN locks it" } else { "" })]
    WrongPin {
        /// The token.
        token: String,
        /// The token says the next wrong PIN will lock it.
        final_try: bool,
    },
    /// The user PIN is locked after too many wrong tries.
    #[error("the user PIN of token \"{token}\" is locked: the security officer must unlock it")]
    PinLocked {
        /// The token.
        token: String,
    },
    /// No private key carries the label (and id).
    #[error("no private key labelled \"{label}\"{} in token \"{token}\"", id.as_ref().map(|id| format!(" with id {id}")).unwrap_or_default())]
    KeyNotFound {
        /// The key label.
        label: String,
        /// The CKA_ID asked for, in hex.
        id: Option<String>,
        /// The token searched.
        token: String,
    },
    /// More than one key answers to the label.
    #[error("{count} private keys labelled \"{label}\" in token \"{token}\": name one by its id")]
    KeyAmbiguous {
        /// The key label.
        label: String,
        /// The token searched.
        token: String,
        /// How many matched.
        count: usize,
    },
    /// Key generation refused: the label is taken.
    #[error(
        "token \"{token}\" already holds objects labelled \"{label}\"; refusing to create another"
    )]
    KeyExists {
        /// The key label.
        label: String,
        /// The token.
        token: String,
    },
    /// A PKCS#11 call failed.
    #[error("{what}: PKCS#11 {operation} failed: {reason}")]
    Hsm {
        /// Which token or key.
        what: String,
        /// The operation, e.g. `C_Sign (CKM_ECDSA)`.
        operation: String,
        /// What the module returned.
        reason: String,
    },
    /// The backend returned a signature that does not verify against the key's DNSKEY.
    #[error("{what}: SKR-VERIFY: the signature returned by the key does not verify against its DNSKEY (key tag {key_tag}): {reason}")]
    SignatureMismatch {
        /// Which key.
        what: String,
        /// The DNSKEY's key tag.
        key_tag: u16,
        /// What the verifier said.
        reason: String,
    },
}

fn list_or_none(labels: &[String]) -> String {
    if labels.is_empty() {
        "none".to_owned()
    } else {
        labels
            .iter()
            .map(|label| format!("\"{label}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
