//! C2SP signed notes: text signed by one or more keys.
//!
//! A [signed note] is UTF-8 text ending in a newline, a blank line, then one
//! or more signature lines `— <key name> <base64(key ID ‖ signature)>`, the
//! dash being an em dash (U+2014). The note text is everything up to and
//! including the newline before the *last* blank line. Keys are named and
//! identified by `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`, and published
//! as verifier keys `<name>+<hex key ID>+<base64(type ‖ public key)>`.
//!
//! This module holds the note itself ([`Note`]), verifier keys
//! ([`VerifierKey`]) and the Ed25519 signer of type `0x01` ([`Signer`]). The
//! witness cosignature of type `0x04` is in [`cosignature`](mod@crate::cosignature).
//!
//! [signed note]: https://c2sp.org/signed-note

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};

use crate::cosignature;
use crate::error::Error;

/// The largest note parsed: far above any checkpoint with 100 signatures.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// The most signature lines parsed in one note (the Go reference's limit;
/// the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The signature line prefix: em dash (U+2014) and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The length of an Ed25519 public key, and of a seed.
pub const ED25519_KEY_LEN: usize = 32;

/// The length of an Ed25519 signature.
pub const ED25519_SIGNATURE_LEN: usize = 64;

/// A signature type identifier byte (C2SP signed-note, "Signature types").
///
/// An open newtype, so that notes with signatures of other types round-trip:
/// only the types with a constant here can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignatureType(pub u8);

impl SignatureType {
    /// `0x01`: Ed25519 over the note text.
    pub const ED25519: SignatureType = SignatureType(0x01);
    /// `0x04`: timestamped Ed25519 witness cosignatures, c2sp.org/tlog-cosignature.
    pub const COSIGNATURE_V1: SignatureType = SignatureType(0x04);

    /// The mnemonic, where the type has one.
    pub fn name(self) -> Option<&'static str> {
        match self {
            SignatureType::ED25519 => Some("Ed25519"),
            SignatureType::COSIGNATURE_V1 => Some("cosignature/v1"),
            _ => None,
        }
    }
}

impl fmt::Display for SignatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "type 0x{:02x}", self.0),
        }
    }
}

/// A key ID: the first four bytes of `SHA-256(name ‖ 0x0A ‖ type ‖ public key)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The recommended key ID of a key (C2SP signed-note).
    pub fn compute(name: &str, kind: SignatureType, public_key: &[u8]) -> KeyId {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(name.as_bytes());
        ctx.update(b"\n");
        ctx.update(&[kind.0]);
        ctx.update(public_key);
        let digest = ctx.finish();
        let mut id = [0u8; 4];
        id.copy_from_slice(&digest.as_ref()[..4]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Checks a key name: non-empty, no Unicode spaces, no `+` (C2SP signed-note),
/// and no control characters (a note may not hold them).
///
/// # Errors
/// [`Error::Key`] naming the rule broken.
pub fn check_key_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "C2SP signed-note: key names MUST be non-empty"
    } else if name.chars().any(char::is_whitespace) {
        "C2SP signed-note: key names MUST NOT contain Unicode spaces"
    } else if name.contains('+') {
        "C2SP signed-note: key names MUST NOT contain '+'"
    } else if name.chars().any(char::is_control) {
        "C2SP signed-note: notes MUST NOT contain control characters"
    } else {
        return Ok(());
    };
    Err(Error::Key {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// One signature line of a note, verified or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// A signature by the key `name`/`key_id`.
    ///
    /// # Errors
    /// [`Error::Key`] for a bad key name; [`Error::Parse`] for an empty signature.
    pub fn new(name: &str, key_id: KeyId, signature: Vec<u8>) -> Result<NoteSignature, Error> {
        check_key_name(name)?;
        if signature.is_empty() {
            return Err(Error::parse(
                "signed note",
                None,
                "C2SP signed-note: a signature is 4+n bytes with n > 0",
            ));
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id,
            signature,
        })
    }

    /// Parses one signature line, without its newline.
    ///
    /// # Errors
    /// [`Error::Parse`] naming the rule broken.
    pub fn parse_line(line: &str) -> Result<NoteSignature, Error> {
        let bad = |reason: &str| Error::parse("signature line", None, reason);
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| {
            bad("C2SP signed-note: a signature line starts with an em dash (U+2014) and a space")
        })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("C2SP signed-note: expected '— <key name> <base64 signature>'"))?;
        check_key_name(name).map_err(|e| bad(&e.to_string()))?;
        let raw = BASE64
            .decode(b64)
            .map_err(|e| bad(&format!("the signature is not canonical base64: {e}")))?;
        if raw.len() < 5 {
            return Err(bad("C2SP signed-note: a signature is 4+n bytes with n > 0"));
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&raw[..4]);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: KeyId(id),
            signature: raw[4..].to_vec(),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes after the key ID.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

impl fmt::Display for NoteSignature {
    /// The signature line, with its final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.0);
        raw.extend_from_slice(&self.signature);
        writeln!(f, "{SIGNATURE_PREFIX}{} {}", self.name, BASE64.encode(raw))
    }
}

/// Checks a note text: non-empty, ending in a newline, no control characters
/// other than newline.
fn check_text(text: &str) -> Result<(), Error> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(Error::parse(
            "signed note",
            None,
            "C2SP signed-note: the text must be non-empty and end in a newline",
        ));
    }
    check_no_controls(text)
}

fn check_no_controls(text: &str) -> Result<(), Error> {
    for (i, line) in text.split('\n').enumerate() {
        if line.chars().any(|c| c < ' ') {
            return Err(Error::parse(
                "signed note",
                Some(i + 1),
                "C2SP signed-note: notes MUST NOT contain ASCII control characters other than newline",
            ));
        }
    }
    Ok(())
}

/// A signed note: the text and its signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A signature that verified against a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The key's name.
    pub name: String,
    /// The key's ID.
    pub key_id: KeyId,
    /// The signature type.
    pub kind: SignatureType,
    /// The cosignature's timestamp (POSIX seconds), for type `0x04`.
    pub timestamp: Option<u64>,
}

impl Note {
    /// A note with this text and these signatures (possibly none yet).
    ///
    /// # Errors
    /// [`Error::Parse`] when the text is empty, does not end in a newline or
    /// holds control characters.
    pub fn new(text: impl Into<String>, signatures: Vec<NoteSignature>) -> Result<Note, Error> {
        let text = text.into();
        check_text(&text)?;
        Ok(Note { text, signatures })
    }

    /// Parses a signed note strictly.
    ///
    /// # Errors
    /// [`Error::Parse`] with the line and the rule broken.
    pub fn parse(bytes: &[u8]) -> Result<Note, Error> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(Error::parse(
                "signed note",
                None,
                format!("larger than {MAX_NOTE_BYTES} bytes"),
            ));
        }
        let s = std::str::from_utf8(bytes).map_err(|e| {
            Error::parse(
                "signed note",
                None,
                format!(
                    "C2SP signed-note: notes MUST be valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        check_no_controls(s)?;
        // The text is separated from the signatures by the last empty line.
        let split = s.rfind("\n\n").ok_or_else(|| {
            Error::parse(
                "signed note",
                None,
                "C2SP signed-note: no blank line separates the text from the signatures",
            )
        })?;
        let (text, sigs) = (&s[..=split], &s[split + 2..]);
        let text_lines = text.split('\n').count() - 1;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(Error::parse(
                "signed note",
                Some(text_lines + 2),
                "C2SP signed-note: one or more signature lines, each ending in a newline, follow the blank line",
            ));
        }
        let mut signatures = Vec::new();
        for (i, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
            let line_no = text_lines + 2 + i;
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::parse(
                    "signed note",
                    Some(line_no),
                    format!("more than {MAX_SIGNATURES} signatures"),
                ));
            }
            let sig = NoteSignature::parse_line(line).map_err(|e| match e {
                Error::Parse { reason, .. } => Error::parse("signed note", Some(line_no), reason),
                other => other,
            })?;
            signatures.push(sig);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line at the end.
    pub fn push_signature(&mut self, signature: NoteSignature) {
        self.signatures.push(signature);
    }

    /// Verifies the note against known keys.
    ///
    /// Signatures from unknown keys (no key with the same name *and* key ID)
    /// are ignored. Every signature from a known key must verify. Returns the
    /// verified signatures, in note order.
    ///
    /// # Errors
    /// [`Error::BadSignature`] when a known key's signature fails;
    /// [`Error::NotSigned`] when no known key signed.
    pub fn verify(&self, keys: &[VerifierKey]) -> Result<Vec<Verified>, Error> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let Some(key) = keys
                .iter()
                .find(|k| k.name == sig.name && k.key_id == sig.key_id)
            else {
                continue;
            };
            let timestamp = key.verify(&self.text, sig)?;
            verified.push(Verified {
                name: key.name.clone(),
                key_id: key.key_id,
                kind: key.kind,
                timestamp,
            });
        }
        if verified.is_empty() {
            let wanted = keys
                .iter()
                .map(|k| format!("{}+{}", k.name, k.key_id))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::NotSigned {
                wanted: if wanted.is_empty() {
                    "any known key (none given)".to_owned()
                } else {
                    wanted
                },
            });
        }
        Ok(verified)
    }
}

impl fmt::Display for Note {
    /// The whole note: text, blank line, signature lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for sig in &self.signatures {
            write!(f, "{sig}")?;
        }
        Ok(())
    }
}

/// A verifier key: a name, a signature type and an Ed25519 public key.
///
/// Its text form is `<name>+<hex key ID>+<base64(type ‖ public key)>`, parsed
/// by splitting on the first two `+` (base64 may hold more).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    key_id: KeyId,
    kind: SignatureType,
    public_key: [u8; ED25519_KEY_LEN],
}

impl VerifierKey {
    /// The verifier key of `public_key` for signatures of `kind` under `name`.
    ///
    /// # Errors
    /// [`Error::Key`] for a bad name or a type other than Ed25519 (`0x01`)
    /// or cosignature/v1 (`0x04`).
    pub fn new(
        name: &str,
        kind: SignatureType,
        public_key: [u8; ED25519_KEY_LEN],
    ) -> Result<VerifierKey, Error> {
        check_key_name(name)?;
        if kind != SignatureType::ED25519 && kind != SignatureType::COSIGNATURE_V1 {
            return Err(Error::Key {
                name: name.to_owned(),
                reason: format!(
                    "signature {kind} is not supported (only Ed25519 0x01 and cosignature/v1 0x04)"
                ),
            });
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: KeyId::compute(name, kind, &public_key),
            kind,
            public_key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature type.
    pub fn kind(&self) -> SignatureType {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &[u8; ED25519_KEY_LEN] {
        &self.public_key
    }

    /// Verifies one signature by this key over a note text. Returns the
    /// timestamp for a cosignature.
    ///
    /// # Errors
    /// [`Error::BadSignature`] when the signature is not by this key over
    /// this text (or is not the right length for the type).
    pub fn verify(&self, text: &str, sig: &NoteSignature) -> Result<Option<u64>, Error> {
        let bad = || Error::BadSignature {
            name: self.name.clone(),
            key_id: self.key_id.to_string(),
        };
        if sig.name != self.name || sig.key_id != self.key_id {
            return Err(bad());
        }
        let key = UnparsedPublicKey::new(&ED25519, &self.public_key);
        match self.kind {
            SignatureType::COSIGNATURE_V1 => {
                let (timestamp, raw) = cosignature::split(&sig.signature).ok_or_else(bad)?;
                let message = cosignature::signed_message(text, timestamp);
                key.verify(message.as_bytes(), raw).map_err(|_| bad())?;
                Ok(Some(timestamp))
            }
            _ => {
                if sig.signature.len() != ED25519_SIGNATURE_LEN {
                    return Err(bad());
                }
                key.verify(text.as_bytes(), &sig.signature)
                    .map_err(|_| bad())?;
                Ok(None)
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + ED25519_KEY_LEN);
        raw.push(self.kind.0);
        raw.extend_from_slice(&self.public_key);
        write!(f, "{}+{}+{}", self.name, self.key_id, BASE64.encode(raw))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl FromStr for VerifierKey {
    type Err = Error;

    /// Parses `<name>+<hex key ID>+<base64(type ‖ public key)>`.
    fn from_str(s: &str) -> Result<VerifierKey, Error> {
        let bad = |reason: &str| Error::parse("verifier key", None, format!("{s:?}: {reason}"));
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<hex key ID>+<base64 key>"));
        };
        check_key_name(name).map_err(|e| bad(&e.to_string()))?;
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("the key ID is 8 lowercase hex digits"));
        }
        let raw = BASE64
            .decode(b64)
            .map_err(|e| bad(&format!("the key is not canonical base64: {e}")))?;
        let Some((&kind, key)) = raw.split_first() else {
            return Err(bad("the key is empty"));
        };
        let public_key: [u8; ED25519_KEY_LEN] = key
            .try_into()
            .map_err(|_| bad("an Ed25519 public key is 32 bytes"))?;
        let vkey = VerifierKey::new(name, SignatureType(kind), public_key)
            .map_err(|e| bad(&e.to_string()))?;
        if vkey.key_id.to_string() != id {
            return Err(bad(&format!(
                "the key ID is {}, not {id}: SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]",
                vkey.key_id
            )));
        }
        Ok(vkey)
    }
}

/// An Ed25519 note signer (type `0x01`), as a log signs its checkpoints.
///
/// Signing is deterministic (RFC 8032): the same key and text give the same
/// signature.
pub struct Signer {
    name: String,
    key_id: KeyId,
    keypair: Ed25519KeyPair,
}

impl Signer {
    /// The signer with this 32-byte Ed25519 seed (RFC 8032 private key).
    ///
    /// # Errors
    /// [`Error::Key`] for a bad key name.
    pub fn from_seed(name: &str, seed: &[u8; ED25519_KEY_LEN]) -> Result<Signer, Error> {
        check_key_name(name)?;
        let keypair = keypair_from_seed(name, seed)?;
        let key_id = KeyId::compute(name, SignatureType::ED25519, keypair.public_key().as_ref());
        Ok(Signer {
            name: name.to_owned(),
            key_id,
            keypair,
        })
    }

    /// The key name: for a log, its origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key to publish.
    pub fn verifier_key(&self) -> VerifierKey {
        verifier_key(
            &self.name,
            self.key_id,
            SignatureType::ED25519,
            &self.keypair,
        )
    }

    /// Signs a note text (which must end in a newline).
    ///
    /// # Errors
    /// [`Error::Parse`] when the text is not a valid note text.
    pub fn sign(&self, text: &str) -> Result<NoteSignature, Error> {
        check_text(text)?;
        let sig = self.keypair.sign(text.as_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: sig.as_ref().to_vec(),
        })
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{})", self.name, self.key_id)
    }
}

pub(crate) fn keypair_from_seed(
    name: &str,
    seed: &[u8; ED25519_KEY_LEN],
) -> Result<Ed25519KeyPair, Error> {
    Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| Error::Key {
        name: name.to_owned(),
        reason: "not a usable Ed25519 seed".to_owned(),
    })
}

pub(crate) fn verifier_key(
    name: &str,
    key_id: KeyId,
    kind: SignatureType,
    keypair: &Ed25519KeyPair,
) -> VerifierKey {
    let mut public_key = [0u8; ED25519_KEY_LEN];
    public_key.copy_from_slice(keypair.public_key().as_ref());
    VerifierKey {
        name: name.to_owned(),
        key_id,
        kind,
        public_key,
    }
}

/// Makes a fresh random Ed25519 seed from the operating system's generator.
///
/// # Errors
/// [`Error::Key`] when the system generator fails.
pub fn generate_seed() -> Result<[u8; ED25519_KEY_LEN], Error> {
    use ring::rand::SecureRandom as _;
    let mut seed = [0u8; ED25519_KEY_LEN];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| Error::Key {
            name: String::new(),
            reason: "the system random generator failed".to_owned(),
        })?;
    Ok(seed)
}
