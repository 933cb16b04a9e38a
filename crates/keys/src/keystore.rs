//! The software keystore: a directory of KSKs, each encrypted at rest with [age].
//!
//! This is the embedded default for demos and small operators. Each key is two
//! files: the private key as PKCS#8 DER, encrypted with age (ASCII-armored),
//! and its public half as JSON, readable without any secret so that
//! `key list`, `key dnskey` and `key ds` need no passphrase.
//!
//! ```text
//! KEYSTORE/                       mode 0700
//!   KSK1.key.age                  mode 0600: age(PKCS#8 DER), armored
//!   KSK1.meta.json                mode 0600: the public half
//!
//! -----BEGIN AGE ENCRYPTED FILE-----
//! YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IHNjcnlwdCBq...
//! -----END AGE ENCRYPTED FILE-----
//!
//! {
//!   "format": "ceremony-keystore-v1",
//!   "label": "KSK1",
//!   "algorithm": 8,
//!   "bits": 2048,
//!   "flags": 257,
//!   "protocol": 3,
//!   "public_key": "AwEAAc...",
//!   "key_tag": 5017,
//!   "revoked_key_tag": 5145,
//!   "ds": { "owner": ".", "digest_type": 2, "digest": "A1B2..." },
//!   "created": "2025-01-01T00:00:00Z",
//!   "encryption": { "scheme": "scrypt" }
//! }
//! ```
//!
//! `encryption` is `{"scheme": "scrypt"}` for a passphrase ([age's scrypt
//! recipient]) or `{"scheme": "x25519", "recipient": "age1…"}` for an age
//! X25519 identity. The DS is for the root (`.`); [`KeyInfo::ds`] computes it
//! for any other owner.
//!
//! What holds:
//! * Labels match `[A-Za-z0-9_.-]{1,64}` and do not start with a dot, so a
//!   label never names a path outside the directory, nor a temporary file.
//! * Plaintext keys never touch the disk. A key file is written to a temporary
//!   file in the same directory, synced, and then hard-linked into place, which
//!   also refuses an existing label atomically; a failed write leaves nothing.
//!   Before anything is written, the ciphertext is decrypted again and compared,
//!   so a key is never stored in a form its secret cannot open.
//! * The PKCS#8 bytes and passphrases live in zeroizing buffers
//!   ([`Zeroizing`], [`SecretString`]); errors and `Debug` output name labels
//!   and files, never key material or passphrases.
//! * Every metadata file is checked on reading (key tag, revoked tag, DS, size
//!   against the public key), and [`Keystore::load`] checks that the decrypted
//!   key's DNSKEY is the metadata's, so a swapped or edited file is reported,
//!   not used.
//! * Generation avoids key-tag collisions: the new key's tag and its RFC 5011
//!   revoked tag must both miss the caller's forbidden tags and the tags
//!   (normal and revoked) of every key already in the keystore.
//!
//! What does not: the metadata carries no MAC, so someone who can write the
//! directory can rename keys or edit their creation time; they cannot make a
//! key load as another key's DNSKEY. age's stream writer keeps its last
//! plaintext chunk in a buffer it does not zeroize (memory only, never disk).
//!
//! The secret that opens a key is an [`Unlock`]: a passphrase today; an age
//! X25519 identity also works, and is what a Shamir-split key-encryption key
//! will reconstruct, so a quorum can stand in front of the same files later.
//!
//! Start with [`Keystore::open`], [`Keystore::generate`] and [`Keystore::load`].
//!
//! [age]: https://age-encryption.org/v1
//! [age's scrypt recipient]: https://c2sp.org/age#scrypt-recipient-stanza

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ceremony_dnssec::{DigestAlgorithm, Dnskey, Ds, KeyTag, Name, SecurityAlgorithm};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::armor::OpenError;
use crate::soft::SoftKey;
use crate::{KeyError, KeySigner};

pub use age::secrecy::SecretString;
pub use age::x25519::Identity as AgeIdentity;

/// The suffix of an encrypted private key file.
pub const KEY_SUFFIX: &str = ".key.age";
/// The suffix of a public metadata file.
pub const META_SUFFIX: &str = ".meta.json";
/// The `format` field of every metadata file this version writes and reads.
pub const FORMAT: &str = "ceremony-keystore-v1";
/// The longest label.
pub const MAX_LABEL_LEN: usize = 64;
/// How many keys [`Keystore::generate_avoiding`] tries before it gives up.
pub const MAX_TAG_ATTEMPTS: u32 = 32;

/// The largest PKCS#8 plaintext accepted (an RSA-4096 key is about 2.4 KiB).
const MAX_PKCS8: usize = 16 * 1024;
/// The largest passphrase or identity file read.
const MAX_SECRET_FILE: u64 = 64 * 1024;
/// The scrypt work factor a decryption accepts at least, when one is configured.
const MIN_MAX_WORK_FACTOR: u8 = 22;

/// The secret that opens a key in the keystore, and decides what a new key is encrypted to.
///
/// `Debug` never shows a passphrase or an identity's secret.
#[derive(Clone)]
pub enum Unlock {
    /// A passphrase: age's scrypt recipient, with the keystore's work factor.
    Passphrase(SecretString),
    /// An age X25519 identity: the key is encrypted to its recipient (`age1…`).
    ///
    /// This is the seam for a quorum: a Shamir-split key-encryption key
    /// reconstructs such an identity, and the key files stay the same.
    Identity(AgeIdentity),
}

impl fmt::Debug for Unlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlock::Passphrase(_) => f.write_str("Unlock::Passphrase(<redacted>)"),
            Unlock::Identity(identity) => {
                write!(f, "Unlock::Identity({})", identity.to_public())
            }
        }
    }
}

impl Unlock {
    /// A passphrase given directly (a prompt's answer, a test's constant).
    pub fn passphrase(passphrase: impl Into<String>) -> Unlock {
        Unlock::Passphrase(SecretString::from(passphrase.into()))
    }

    /// The passphrase in the environment variable `var`, used as it is.
    ///
    /// # Errors
    /// [`KeyError::UnlockSource`] when the variable is unset, empty or not UTF-8.
    pub fn passphrase_from_env(var: &str) -> Result<Unlock, KeyError> {
        let fail = |reason: &str| KeyError::UnlockSource {
            what: "passphrase",
            source_name: format!("the environment variable {var}"),
            reason: reason.to_owned(),
        };
        let value = std::env::var_os(var).ok_or_else(|| fail("not set"))?;
        let value = value.into_string().map_err(|mut bad| {
            // Not UTF-8: drop it without a trace we control.
            bad.clear();
            fail("not UTF-8")
        })?;
        if value.is_empty() {
            return Err(fail("empty"));
        }
        Ok(Unlock::Passphrase(SecretString::from(value)))
    }

    /// The passphrase in the file at `path`, less one final line ending (`\n` or `\r\n`).
    ///
    /// # Errors
    /// [`KeyError::UnlockSource`] when the file cannot be read, is over 64 KiB,
    /// is not UTF-8, or holds an empty passphrase.
    pub fn passphrase_from_file(path: &Path) -> Result<Unlock, KeyError> {
        let source_name = format!("the file {}", path.display());
        let fail = |reason: String| KeyError::UnlockSource {
            what: "passphrase",
            source_name: source_name.clone(),
            reason,
        };
        let buf = read_secret_file(path).map_err(fail)?;
        let mut end = buf.len();
        if buf[..end].ends_with(b"\n") {
            end -= 1;
            if buf[..end].ends_with(b"\r") {
                end -= 1;
            }
        }
        if end == 0 {
            return Err(fail("empty".to_owned()));
        }
        if std::str::from_utf8(&buf[..end]).is_err() {
            return Err(fail("not UTF-8".to_owned()));
        }
        // An exact-size copy, so that turning it into a boxed str does not reallocate
        // and leave a copy behind; `buf` is zeroized when it drops.
        let mut exact = Vec::with_capacity(end);
        exact.extend_from_slice(&buf[..end]);
        match String::from_utf8(exact) {
            Ok(text) => Ok(Unlock::Passphrase(SecretString::from(text))),
            Err(err) => {
                err.into_bytes().zeroize();
                Err(fail("not UTF-8".to_owned()))
            }
        }
    }

    /// The one age X25519 identity (`AGE-SECRET-KEY-1…`) in an age identity file at `path`;
    /// `#` comments and blank lines are skipped.
    ///
    /// # Errors
    /// [`KeyError::UnlockSource`] when the file cannot be read or holds no identity, or more than one.
    pub fn identity_from_file(path: &Path) -> Result<Unlock, KeyError> {
        let fail = |reason: String| KeyError::UnlockSource {
            what: "age identity",
            source_name: format!("the file {}", path.display()),
            reason,
        };
        let buf = read_secret_file(path).map_err(fail)?;
        let text = std::str::from_utf8(&buf).map_err(|_| fail("not UTF-8".to_owned()))?;
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        let line = lines
            .next()
            .ok_or_else(|| fail("no identity in it".to_owned()))?;
        if lines.next().is_some() {
            return Err(fail("more than one line that is not a comment".to_owned()));
        }
        let identity = line
            .parse::<AgeIdentity>()
            .map_err(|_| fail("not an age X25519 identity (AGE-SECRET-KEY-1…)".to_owned()))?;
        Ok(Unlock::Identity(identity))
    }

    /// `passphrase` or `age identity`, for messages.
    fn kind(&self) -> &'static str {
        match self {
            Unlock::Passphrase(_) => "passphrase",
            Unlock::Identity(_) => "age identity",
        }
    }

    /// What a key encrypted with this secret records as its protection.
    fn protection(&self) -> Protection {
        match self {
            Unlock::Passphrase(_) => Protection::Passphrase,
            Unlock::Identity(identity) => Protection::X25519 {
                recipient: identity.to_public().to_string(),
            },
        }
    }
}

/// Reads a small secret file into a zeroizing buffer, without reallocating.
fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > MAX_SECRET_FILE {
        return Err(format!("larger than {MAX_SECRET_FILE} bytes"));
    }
    // One spare byte so that read_to_end finds the end without growing the buffer.
    let mut buf = Zeroizing::new(Vec::with_capacity(MAX_SECRET_FILE as usize + 1));
    file.take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        return Err(format!("larger than {MAX_SECRET_FILE} bytes"));
    }
    Ok(buf)
}

/// What a stored key is encrypted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protection {
    /// A passphrase (age scrypt).
    Passphrase,
    /// An age X25519 recipient.
    X25519 {
        /// The recipient, `age1…`.
        recipient: String,
    },
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protection::Passphrase => f.write_str("a passphrase"),
            Protection::X25519 { recipient } => write!(f, "the age recipient {recipient}"),
        }
    }
}

/// The public half of a stored key, readable without unlocking it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The label: the file name stem, and the SKR's keyIdentifier.
    pub label: String,
    /// The DNSSEC algorithm.
    pub algorithm: SecurityAlgorithm,
    /// The key size in bits.
    pub bits: u32,
    /// The KSK DNSKEY (flags 257, protocol 3).
    pub dnskey: Dnskey,
    /// Its key tag.
    pub key_tag: KeyTag,
    /// Its key tag once revoked (flags 385, RFC 5011 §7).
    pub revoked_key_tag: KeyTag,
    /// The SHA-256 DS for the root (`.`); see [`KeyInfo::ds`] for other owners.
    pub ds_sha256: Ds,
    /// When the key entered the keystore (generated or imported), to the second.
    pub created: jiff::Timestamp,
    /// What the private key is encrypted to.
    pub protection: Protection,
}

impl KeyInfo {
    fn of(
        key: &SoftKey,
        protection: Protection,
        created: jiff::Timestamp,
    ) -> Result<KeyInfo, KeyError> {
        let dnskey = key.dnskey().clone();
        let label = key.identity().label.clone();
        let ds_sha256 =
            Ds::compute(&Name::root_vec(), &dnskey, DigestAlgorithm::SHA256).map_err(|e| {
                KeyError::Unsupported {
                    what: label.clone(),
                    reason: e.to_string(),
                }
            })?;
        Ok(KeyInfo {
            algorithm: key.identity().algorithm,
            bits: key.identity().bits,
            key_tag: dnskey.key_tag(),
            revoked_key_tag: dnskey.revoked().key_tag(),
            dnskey,
            ds_sha256,
            created,
            protection,
            label,
        })
    }

    /// The DS of this key for `owner` (the zone whose apex holds it) with `digest`
    /// (SHA-256 or SHA-384).
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for other digest types.
    pub fn ds(&self, owner: &Name, digest: DigestAlgorithm) -> Result<Ds, KeyError> {
        Ds::compute(owner, &self.dnskey, digest).map_err(|e| KeyError::Unsupported {
            what: self.label.clone(),
            reason: e.to_string(),
        })
    }
}

/// The metadata file, as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    format: String,
    label: String,
    algorithm: u8,
    bits: u32,
    flags: u16,
    protocol: u8,
    public_key: String,
    key_tag: u16,
    revoked_key_tag: u16,
    ds: MetaDs,
    created: String,
    encryption: MetaEncryption,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaDs {
    owner: String,
    digest_type: u8,
    digest: String,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase", deny_unknown_fields)]
enum MetaEncryption {
    Scrypt,
    X25519 { recipient: String },
}

impl From<&KeyInfo> for Meta {
    fn from(info: &KeyInfo) -> Meta {
        Meta {
            format: FORMAT.to_owned(),
            label: info.label.clone(),
            algorithm: info.algorithm.to_int(),
            bits: info.bits,
            flags: info.dnskey.flags(),
            protocol: info.dnskey.protocol(),
            public_key: info.dnskey.public_key_base64(),
            key_tag: info.key_tag.0,
            revoked_key_tag: info.revoked_key_tag.0,
            ds: MetaDs {
                owner: ".".to_owned(),
                digest_type: info.ds_sha256.digest_type.to_int(),
                digest: info.ds_sha256.digest_hex(),
            },
            created: info.created.to_string(),
            encryption: match &info.protection {
                Protection::Passphrase => MetaEncryption::Scrypt,
                Protection::X25519 { recipient } => MetaEncryption::X25519 {
                    recipient: recipient.clone(),
                },
            },
        }
    }
}

impl Meta {
    /// Checks every field against the others and turns the file into a [`KeyInfo`].
    fn check(self, label: &str, path: &Path) -> Result<KeyInfo, KeyError> {
        let corrupt = |reason: String| KeyError::Corrupt {
            label: label.to_owned(),
            path: path.to_owned(),
            reason,
        };
        if self.format != FORMAT {
            return Err(corrupt(format!(
                "format {:?}, expected {FORMAT:?}",
                self.format
            )));
        }
        if self.label != label {
            return Err(corrupt(format!(
                "it names the label {:?}, not its file name's",
                self.label
            )));
        }
        let algorithm = SecurityAlgorithm::from_int(self.algorithm);
        if ![
            SecurityAlgorithm::RSASHA256,
            SecurityAlgorithm::ECDSAP256SHA256,
            SecurityAlgorithm::ED25519,
        ]
        .contains(&algorithm)
        {
            return Err(corrupt(format!(
                "algorithm {} (the keystore holds 8, 13 and 15)",
                self.algorithm
            )));
        }
        if self.flags != Dnskey::ZONE | Dnskey::SEP || self.protocol != 3 {
            return Err(corrupt(format!(
                "flags {} protocol {}, expected a KSK's 257 3",
                self.flags, self.protocol
            )));
        }
        let public_key = base64::engine::general_purpose::STANDARD
            .decode(self.public_key.as_bytes())
            .map_err(|_| corrupt("public_key is not base64".to_owned()))?;
        let dnskey = Dnskey::new(self.flags, self.protocol, algorithm, public_key)
            .map_err(|e| corrupt(e.to_string()))?;
        let params = dnskey.params().map_err(|e| corrupt(e.to_string()))?;
        if params.bits() != self.bits {
            return Err(corrupt(format!(
                "bits {} but the public key has {}",
                self.bits,
                params.bits()
            )));
        }
        let key_tag = dnskey.key_tag();
        let revoked_key_tag = dnskey.revoked().key_tag();
        if key_tag.0 != self.key_tag || revoked_key_tag.0 != self.revoked_key_tag {
            return Err(corrupt(format!(
                "key tags {}/{} recorded, but the public key's are {key_tag}/{revoked_key_tag}",
                self.key_tag, self.revoked_key_tag
            )));
        }
        let ds_sha256 = Ds::compute(&Name::root_vec(), &dnskey, DigestAlgorithm::SHA256)
            .map_err(|e| corrupt(e.to_string()))?;
        if self.ds.owner != "."
            || self.ds.digest_type != 2
            || !self.ds.digest.eq_ignore_ascii_case(&ds_sha256.digest_hex())
        {
            return Err(corrupt(
                "the DS is not the root's SHA-256 DS of the public key".to_owned(),
            ));
        }
        let created = self
            .created
            .parse::<jiff::Timestamp>()
            .map_err(|_| corrupt(format!("created {:?} is not a timestamp", self.created)))?;
        let protection = match self.encryption {
            MetaEncryption::Scrypt => Protection::Passphrase,
            MetaEncryption::X25519 { recipient } => {
                recipient
                    .parse::<age::x25519::Recipient>()
                    .map_err(|_| corrupt(format!("{recipient:?} is not an age recipient")))?;
                Protection::X25519 { recipient }
            }
        };
        Ok(KeyInfo {
            label: self.label,
            algorithm,
            bits: self.bits,
            dnskey,
            key_tag,
            revoked_key_tag,
            ds_sha256,
            created,
            protection,
        })
    }
}

/// Checks a label: 1 to 64 characters of `[A-Za-z0-9_.-]`, not starting with a dot.
///
/// # Errors
/// [`KeyError::BadLabel`] naming the rule broken.
pub fn check_label(label: &str) -> Result<(), KeyError> {
    let bad = |reason| KeyError::BadLabel {
        label: label.to_owned(),
        reason,
    };
    if label.is_empty() {
        return Err(bad("empty"));
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(bad("longer than 64 characters"));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return Err(bad("only A-Z, a-z, 0-9, '_', '.' and '-' are allowed"));
    }
    if label.starts_with('.') {
        return Err(bad("must not start with '.'"));
    }
    Ok(())
}

/// A directory of encrypted KSKs.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
    work_factor: Option<u8>,
}

impl Keystore {
    /// Opens the keystore in `dir`, creating it (mode 0700) if it does not exist.
    ///
    /// # Errors
    /// [`KeyError::Io`] when `dir` is not a directory or cannot be created.
    pub fn open(dir: impl AsRef<Path>) -> Result<Keystore, KeyError> {
        let dir = dir.as_ref();
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(Keystore {
                dir: dir.to_owned(),
                work_factor: None,
            }),
            Ok(_) => Err(KeyError::Io {
                what: "cannot open the keystore",
                path: dir.to_owned(),
                source: io::Error::other("not a directory"),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Keystore::create(dir),
            Err(source) => Err(KeyError::Io {
                what: "cannot open the keystore",
                path: dir.to_owned(),
                source,
            }),
        }
    }

    /// Creates a new, empty keystore directory `dir` with mode 0700 (its parents as needed).
    ///
    /// # Errors
    /// [`KeyError::Io`] when `dir` already exists or cannot be created.
    pub fn create(dir: impl AsRef<Path>) -> Result<Keystore, KeyError> {
        let dir = dir.as_ref();
        let io_err = |source| KeyError::Io {
            what: "cannot create the keystore",
            path: dir.to_owned(),
            source,
        };
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err)?;
        }
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(io_err)?;
        Ok(Keystore {
            dir: dir.to_owned(),
            work_factor: None,
        })
    }

    /// The keystore directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets the scrypt work factor (N = 2^`log_n`) for keys encrypted to a passphrase from now on.
    ///
    /// Without it, age picks the factor that takes about a second on this machine.
    /// Decryption then accepts factors up to `max(log_n, 22)`. Tests use a low
    /// factor (10) to stay fast; a real keystore should keep the default.
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] unless 1 ≤ `log_n` ≤ 63.
    pub fn set_work_factor(&mut self, log_n: u8) -> Result<(), KeyError> {
        if !(1..64).contains(&log_n) {
            return Err(KeyError::Unsupported {
                what: "scrypt".to_owned(),
                reason: format!("work factor {log_n} (use 1 to 63)"),
            });
        }
        self.work_factor = Some(log_n);
        Ok(())
    }

    /// The configured scrypt work factor; `None` for age's calibrated default.
    pub fn work_factor(&self) -> Option<u8> {
        self.work_factor
    }

    fn key_path(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}{KEY_SUFFIX}"))
    }

    fn meta_path(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}{META_SUFFIX}"))
    }

    /// The public metadata of every key, sorted by label.
    ///
    /// Files that are neither key nor metadata files, and hidden files (such as
    /// leftover temporary files), are ignored.
    ///
    /// # Errors
    /// [`KeyError::Io`] when the directory cannot be read, and [`KeyError::Corrupt`]
    /// for a metadata file that fails its checks or a key file without metadata (or
    /// the other way round).
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let io_err = |source| KeyError::Io {
            what: "cannot read the keystore",
            path: self.dir.clone(),
            source,
        };
        let mut labels = BTreeSet::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let Some(label) = name
                .strip_suffix(META_SUFFIX)
                .or_else(|| name.strip_suffix(KEY_SUFFIX))
            else {
                continue;
            };
            check_label(label).map_err(|_| KeyError::Corrupt {
                label: label.to_owned(),
                path: entry.path(),
                reason: "not a valid key label".to_owned(),
            })?;
            labels.insert(label.to_owned());
        }
        labels.iter().map(|label| self.info(label)).collect()
    }

    /// The public metadata of one key, checked.
    ///
    /// # Errors
    /// [`KeyError::NotFound`], [`KeyError::BadLabel`], [`KeyError::Corrupt`] or [`KeyError::Io`].
    pub fn info(&self, label: &str) -> Result<KeyInfo, KeyError> {
        check_label(label)?;
        let meta_path = self.meta_path(label);
        let key_path = self.key_path(label);
        let bytes = match fs::read(&meta_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(if key_path.exists() {
                    KeyError::Corrupt {
                        label: label.to_owned(),
                        path: key_path,
                        reason: format!("its metadata file {label}{META_SUFFIX} is missing"),
                    }
                } else {
                    KeyError::NotFound {
                        label: label.to_owned(),
                        dir: self.dir.clone(),
                    }
                });
            }
            Err(source) => {
                return Err(KeyError::Io {
                    what: "cannot read",
                    path: meta_path,
                    source,
                })
            }
        };
        let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| KeyError::Corrupt {
            label: label.to_owned(),
            path: meta_path.clone(),
            reason: format!("not keystore metadata: {e}"),
        })?;
        let info = meta.check(label, &meta_path)?;
        if !key_path.exists() {
            return Err(KeyError::Corrupt {
                label: label.to_owned(),
                path: meta_path,
                reason: format!("its key file {label}{KEY_SUFFIX} is missing"),
            });
        }
        Ok(info)
    }

    /// The DNSKEY of a key, without unlocking it.
    ///
    /// # Errors
    /// As [`Keystore::info`].
    pub fn dnskey(&self, label: &str) -> Result<Dnskey, KeyError> {
        Ok(self.info(label)?.dnskey)
    }

    /// Generates a key and stores it encrypted to `unlock`; see [`Keystore::generate_avoiding`].
    ///
    /// # Errors
    /// As [`Keystore::generate_avoiding`].
    pub fn generate(
        &self,
        label: &str,
        algorithm: SecurityAlgorithm,
        bits: u32,
        unlock: &Unlock,
    ) -> Result<KeyInfo, KeyError> {
        self.generate_avoiding(label, algorithm, bits, unlock, &[])
    }

    /// Generates a key whose tag and revoked tag (flags | 0x80) both miss `forbidden_tags`
    /// and the tags of every key already here, and stores it encrypted to `unlock`.
    ///
    /// Storing costs two scrypt derivations for a passphrase: the encryption, and
    /// the decryption that checks it before anything is written.
    ///
    /// A colliding candidate is thrown away and another generated, up to
    /// [`MAX_TAG_ATTEMPTS`] times. RSA takes 2048, 3072 or 4096 bits; P-256 and
    /// Ed25519 take 256.
    ///
    /// # Errors
    /// [`KeyError::BadLabel`], [`KeyError::Exists`] for a label in use,
    /// [`KeyError::Unsupported`] for an algorithm or size not offered,
    /// [`KeyError::TagCollision`] when every candidate collided,
    /// [`KeyError::Corrupt`] when an existing key's metadata fails its checks,
    /// and [`KeyError::Io`].
    pub fn generate_avoiding(
        &self,
        label: &str,
        algorithm: SecurityAlgorithm,
        bits: u32,
        unlock: &Unlock,
        forbidden_tags: &[u16],
    ) -> Result<KeyInfo, KeyError> {
        check_label(label)?;
        if matches!(
            algorithm,
            SecurityAlgorithm::ECDSAP256SHA256 | SecurityAlgorithm::ED25519
        ) && bits != 256
        {
            return Err(KeyError::Unsupported {
                what: label.to_owned(),
                reason: format!("{bits} bits for algorithm {} (use 256)", algorithm.to_int()),
            });
        }
        self.check_free(label)?;
        check_unlock(label, unlock)?;
        let forbidden = self.forbidden(forbidden_tags)?;
        let mut last = (0, 0);
        for attempt in 1..=MAX_TAG_ATTEMPTS {
            let key = SoftKey::generate(label, algorithm, bits)?;
            let tag = key.dnskey().key_tag().0;
            let revoked_tag = key.dnskey().revoked().key_tag().0;
            if !forbidden.contains(&tag) && !forbidden.contains(&revoked_tag) {
                return self.store(&key, unlock);
            }
            last = (tag, revoked_tag);
            if attempt == MAX_TAG_ATTEMPTS {
                break;
            }
        }
        Err(KeyError::TagCollision {
            label: label.to_owned(),
            tag: last.0,
            revoked_tag: last.1,
            attempts: MAX_TAG_ATTEMPTS,
        })
    }

    /// Imports a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 P-256) under `label`,
    /// encrypted to `unlock`; see [`Keystore::import`].
    ///
    /// # Errors
    /// [`KeyError::BadKey`] for a PEM that is no such key, and as [`Keystore::import`].
    pub fn import_pem(&self, label: &str, pem: &str, unlock: &Unlock) -> Result<KeyInfo, KeyError> {
        check_label(label)?;
        let key = SoftKey::from_pem(label, pem)?;
        self.import(&key, unlock, &[])
    }

    /// Stores an in-memory key under its label, encrypted to `unlock`.
    ///
    /// Like generation, it refuses a key whose tag or revoked tag is in
    /// `forbidden_tags` or belongs to a key already here; an imported key
    /// cannot be regenerated, so the collision is an error.
    ///
    /// # Errors
    /// [`KeyError::BadLabel`], [`KeyError::Exists`], [`KeyError::TagCollision`],
    /// [`KeyError::Corrupt`] and [`KeyError::Io`].
    pub fn import(
        &self,
        key: &SoftKey,
        unlock: &Unlock,
        forbidden_tags: &[u16],
    ) -> Result<KeyInfo, KeyError> {
        let label = key.identity().label.as_str();
        check_label(label)?;
        self.check_free(label)?;
        check_unlock(label, unlock)?;
        let forbidden = self.forbidden(forbidden_tags)?;
        let tag = key.dnskey().key_tag().0;
        let revoked_tag = key.dnskey().revoked().key_tag().0;
        if forbidden.contains(&tag) || forbidden.contains(&revoked_tag) {
            return Err(KeyError::TagCollision {
                label: label.to_owned(),
                tag,
                revoked_tag,
                attempts: 1,
            });
        }
        self.store(key, unlock)
    }

    /// Decrypts a key in memory and checks that it is the key its metadata publishes.
    ///
    /// One scrypt derivation at the file's work factor (about a second or more at
    /// age's default) for a passphrase; an X25519 identity is instant.
    ///
    /// age cannot tell a wrong passphrase from an altered scrypt stanza (its salt or
    /// wrapped file key): both fail the same AEAD and report [`KeyError::WrongUnlock`].
    /// Every other alteration of the file is [`KeyError::Corrupt`].
    ///
    /// # Errors
    /// [`KeyError::WrongUnlock`] for a wrong passphrase or identity,
    /// [`KeyError::UnlockMismatch`] for a passphrase where the key is encrypted
    /// to an identity or the other way round, [`KeyError::Corrupt`] for a damaged
    /// or altered file, [`KeyError::KeyMismatch`] when the decrypted key is not the
    /// metadata's DNSKEY, and as [`Keystore::info`].
    pub fn load(&self, label: &str, unlock: &Unlock) -> Result<SoftKey, KeyError> {
        let info = self.info(label)?;
        let given = match unlock {
            Unlock::Passphrase(_) => "a passphrase",
            Unlock::Identity(_) => "an age identity",
        };
        let matches = match (&info.protection, unlock) {
            (Protection::Passphrase, Unlock::Passphrase(_)) => true,
            (Protection::X25519 { .. }, Unlock::Identity(_)) => true,
            (Protection::Passphrase, Unlock::Identity(_))
            | (Protection::X25519 { .. }, Unlock::Passphrase(_)) => false,
        };
        if !matches {
            return Err(KeyError::UnlockMismatch {
                label: label.to_owned(),
                expected: info.protection.to_string(),
                given,
            });
        }
        let path = self.key_path(label);
        let ciphertext = fs::read(&path).map_err(|source| KeyError::Io {
            what: "cannot read",
            path: path.clone(),
            source,
        })?;
        let pkcs8 = self.decrypt(label, &path, &ciphertext, unlock)?;
        let key =
            SoftKey::from_pkcs8(label, info.algorithm, pkcs8).map_err(|_| KeyError::Corrupt {
                label: label.to_owned(),
                path: path.clone(),
                reason: format!(
                    "it decrypts, but not to a PKCS#8 key of algorithm {}",
                    info.algorithm.to_int()
                ),
            })?;
        if key.dnskey() != &info.dnskey {
            return Err(KeyError::KeyMismatch {
                label: label.to_owned(),
                meta_tag: info.key_tag.0,
                actual_tag: key.dnskey().key_tag().0,
            });
        }
        Ok(key)
    }

    /// Deletes a key: its metadata first (so it leaves the listing), then its key file.
    ///
    /// # Errors
    /// [`KeyError::BadLabel`], [`KeyError::NotFound`] and [`KeyError::Io`].
    pub fn delete(&self, label: &str) -> Result<(), KeyError> {
        check_label(label)?;
        let mut found = false;
        for path in [self.meta_path(label), self.key_path(label)] {
            match fs::remove_file(&path) {
                Ok(()) => found = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(KeyError::Io {
                        what: "cannot delete",
                        path,
                        source,
                    })
                }
            }
        }
        if !found {
            return Err(KeyError::NotFound {
                label: label.to_owned(),
                dir: self.dir.clone(),
            });
        }
        self.sync_dir()
    }

    /// Refuses a label whose key or metadata file exists.
    fn check_free(&self, label: &str) -> Result<(), KeyError> {
        if self.key_path(label).exists() || self.meta_path(label).exists() {
            return Err(KeyError::Exists {
                label: label.to_owned(),
                dir: self.dir.clone(),
            });
        }
        Ok(())
    }

    /// The caller's forbidden tags plus the tags, normal and revoked, of every key here.
    fn forbidden(&self, forbidden_tags: &[u16]) -> Result<BTreeSet<u16>, KeyError> {
        let mut forbidden: BTreeSet<u16> = forbidden_tags.iter().copied().collect();
        for info in self.list()? {
            forbidden.insert(info.key_tag.0);
            forbidden.insert(info.revoked_key_tag.0);
        }
        Ok(forbidden)
    }

    /// Encrypts, checks the round trip, and writes key then metadata; undoes the key on failure.
    fn store(&self, key: &SoftKey, unlock: &Unlock) -> Result<KeyInfo, KeyError> {
        let label = key.identity().label.as_str();
        let now = jiff::Timestamp::now();
        let created = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
        let info = KeyInfo::of(key, unlock.protection(), created)?;
        let key_path = self.key_path(label);

        let ciphertext = self.encrypt(label, &key_path, key.pkcs8(), unlock)?;
        // Never store what the secret cannot open again.
        let again = self.decrypt(label, &key_path, ciphertext.as_bytes(), unlock)?;
        if again.as_slice() != key.pkcs8().as_slice() {
            return Err(KeyError::Corrupt {
                label: label.to_owned(),
                path: key_path,
                reason: "the encryption does not decrypt to the key (not written)".to_owned(),
            });
        }
        drop(again);

        let mut meta = serde_json::to_vec_pretty(&Meta::from(&info)).map_err(|e| KeyError::Io {
            what: "cannot encode the metadata for",
            path: self.meta_path(label),
            source: io::Error::other(e.to_string()),
        })?;
        meta.push(b'\n');

        self.write_new(label, &key_path, ciphertext.as_bytes())?;
        if let Err(e) = self.write_new(label, &self.meta_path(label), &meta) {
            let _ = fs::remove_file(&key_path);
            return Err(e);
        }
        self.sync_dir()?;
        Ok(info)
    }

    /// age-encrypts `plaintext` to `unlock`, ASCII-armored.
    fn encrypt(
        &self,
        label: &str,
        path: &Path,
        plaintext: &[u8],
        unlock: &Unlock,
    ) -> Result<String, KeyError> {
        let fail = |reason: String| KeyError::Io {
            what: "cannot encrypt",
            path: path.to_owned(),
            source: io::Error::other(format!("key {label}: {reason}")),
        };
        let scrypt;
        let x25519;
        let recipient: &dyn age::Recipient = match unlock {
            Unlock::Passphrase(passphrase) => {
                let mut r = age::scrypt::Recipient::new(passphrase.clone());
                if let Some(log_n) = self.work_factor {
                    r.set_work_factor(log_n);
                }
                scrypt = r;
                &scrypt
            }
            Unlock::Identity(identity) => {
                x25519 = identity.to_public();
                &x25519
            }
        };
        crate::armor::seal(recipient, plaintext).map_err(fail)
    }

    /// Decrypts an age file (armored or binary) into a zeroizing buffer.
    fn decrypt(
        &self,
        label: &str,
        path: &Path,
        ciphertext: &[u8],
        unlock: &Unlock,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let corrupt = |reason: String| KeyError::Corrupt {
            label: label.to_owned(),
            path: path.to_owned(),
            reason,
        };
        let max_work = self.work_factor.map(|log_n| log_n.max(MIN_MAX_WORK_FACTOR));
        crate::armor::open(ciphertext, unlock, MAX_PKCS8, max_work).map_err(|err| match err {
            OpenError::WrongUnlock(_) => KeyError::WrongUnlock {
                label: label.to_owned(),
                unlock: unlock.kind(),
            },
            OpenError::KindMismatch { .. } => corrupt(format!(
                "the metadata says it is encrypted to {}, but the file is not",
                unlock.protection()
            )),
            other => corrupt(other.to_string()),
        })
    }

    /// Writes `bytes` to a new file at `path` (owner only), all or nothing,
    /// never replacing an existing file.
    fn write_new(&self, label: &str, path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
        ceremony_durable::create_new(path, bytes, ceremony_durable::Access::Private).map_err(
            |err| match err.kind() {
                io::ErrorKind::AlreadyExists => KeyError::Exists {
                    label: label.to_owned(),
                    dir: self.dir.clone(),
                },
                _ => KeyError::Io {
                    what: "cannot write",
                    path: path.to_owned(),
                    source: err.source,
                },
            },
        )
    }

    /// Makes the directory's entries durable (unix); a no-op elsewhere.
    fn sync_dir(&self) -> Result<(), KeyError> {
        ceremony_durable::sync_dir(&self.dir).map_err(|source| KeyError::Io {
            what: "cannot sync",
            path: self.dir.clone(),
            source,
        })
    }
}

/// Refuses an empty passphrase for a new key.
fn check_unlock(label: &str, unlock: &Unlock) -> Result<(), KeyError> {
    use age::secrecy::ExposeSecret as _;
    if let Unlock::Passphrase(passphrase) = unlock {
        if passphrase.expose_secret().is_empty() {
            return Err(KeyError::UnlockSource {
                what: "passphrase",
                source_name: format!("the input for key {label}"),
                reason: "empty".to_owned(),
            });
        }
    }
    Ok(())
}
