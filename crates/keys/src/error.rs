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
    /// A keystore label is empty, too long, or has characters outside `[A-Za-z0-9_.-]`.
    #[error("bad key label {label:?}: {reason}")]
    BadLabel {
        /// The label as given (printed escaped).
        label: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The keystore has no key of this label.
    #[error("no key {label} in the keystore {dir}")]
    NotFound {
        /// The label asked for.
        label: String,
        /// The keystore directory.
        dir: std::path::PathBuf,
    },
    /// The label is already taken in the keystore; keys are never overwritten.
    #[error(
        "key {label} already exists in the keystore {dir}; delete it first or pick another label"
    )]
    Exists {
        /// The label asked for.
        label: String,
        /// The keystore directory.
        dir: std::path::PathBuf,
    },
    /// The passphrase or age identity does not open the key.
    #[error("wrong {unlock} for key {label}")]
    WrongUnlock {
        /// The key.
        label: String,
        /// `passphrase` or `age identity`.
        unlock: &'static str,
    },
    /// The key is encrypted to another kind of secret than the one given.
    #[error("key {label} is encrypted to {expected}, not to {given}")]
    UnlockMismatch {
        /// The key.
        label: String,
        /// What the key is encrypted to, e.g. `a passphrase` or `age1…`.
        expected: String,
        /// What was given.
        given: &'static str,
    },
    /// A passphrase or identity could not be read from where it was asked for.
    #[error("cannot read the {what} from {source_name}: {reason}")]
    UnlockSource {
        /// `passphrase` or `age identity`.
        what: &'static str,
        /// Where from: an environment variable or a file, named, never its content.
        source_name: String,
        /// Why not.
        reason: String,
    },
    /// A keystore file is damaged or was tampered with.
    #[error("key {label}: {} is damaged or was tampered with: {reason}", path.display())]
    Corrupt {
        /// The key.
        label: String,
        /// The file at fault.
        path: std::path::PathBuf,
        /// What does not hold, without key material.
        reason: String,
    },
    /// The decrypted private key is not the key its metadata publishes.
    #[error(
        "key {label}: the decrypted private key (tag {actual_tag}) is not the DNSKEY its metadata \
         publishes (tag {meta_tag}); the keystore was tampered with or its files mixed up"
    )]
    KeyMismatch {
        /// The key.
        label: String,
        /// The key tag the metadata records.
        meta_tag: u16,
        /// The key tag of the decrypted key.
        actual_tag: u16,
    },
    /// No key could be made whose tag and revoked tag avoid the forbidden tags.
    #[error(
        "key {label}: key tag {tag} (revoked: {revoked_tag}) collides with a forbidden or \
         existing key tag{}", if *attempts > 1 { format!(" after {attempts} attempts") } else { String::new() }
    )]
    TagCollision {
        /// The key.
        label: String,
        /// The tag of the last candidate (flags 257).
        tag: u16,
        /// Its tag when revoked (flags 385, RFC 5011).
        revoked_tag: u16,
        /// How many keys were tried.
        attempts: u32,
    },
    /// A file or directory of the keystore could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `cannot write`.
        what: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
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
