//! Classic-mode quorum: an M-of-N Shamir split of a key-encryption key (KEK).
//!
//! In one room, the keystore's KSKs (or the HSM's PIN) are unlocked by a
//! 32-byte random KEK that nobody holds: it is split M-of-N, and each share is
//! age-encrypted to one holder's credential (an age X25519 identity or a
//! passphrase). Any M holders together rebuild the KEK, in memory only.
//!
//! # The sharing
//!
//! Shamir over GF(2^8), byte by byte ([`vsss_rs::Gf256`], constant time, no
//! lookup tables): each of the KEK's 32 bytes is the constant term of its own
//! random polynomial of degree M−1; share *i* is the 32 evaluations at x = *i*
//! (1 ≤ *i* ≤ N ≤ 255, M ≥ 2). The coefficients come from a SHA-256 counter
//! generator seeded with 32 bytes of the operating system's randomness (vsss-rs
//! 6 wants a `rand_core` 0.10 generator; see [`new_kek`] for the KEK itself).
//!
//! # Integrity (vsss-rs shares carry none)
//!
//! Interpolation through the wrong points yields a wrong secret without
//! complaint, so every check here happens before or after it:
//! * The **commitment**, public: `SHA-256("ceremony-quorum/v1/commitment\0" ‖
//!   quorum id ‖ M ‖ N ‖ KEK)`. The rebuilt KEK must match it.
//! * A **share hash** per share, public in `quorum.json`: `SHA-256(
//!   "ceremony-quorum/v1/share\0" ‖ quorum id ‖ index ‖ M ‖ N ‖ commitment ‖
//!   share)`. It binds the share to its index, the parameters and the quorum,
//!   and names the bad share when one is altered, even by its own holder.
//!   (Fewer than M shares are uniformly random, so their hashes reveal nothing.)
//! * The quorum id (16 random bytes), M, N and the commitment are also inside
//!   each encrypted share, and must agree with `quorum.json`: shares of another
//!   quorum are refused by name.
//! * Fewer than M distinct, valid shares is reported as
//!   "insufficient shares (have k, need m)", never interpolated.
//!
//! # Files
//!
//! `quorum.json` (public; [`QuorumInfo`]):
//! ```text
//! {
//!   "format": "ceremony-quorum-v1",
//!   "scheme": "shamir-gf256-bytewise",
//!   "quorum_id": "<32 hex>",
//!   "m": 3, "n": 7,
//!   "commitment": "<64 hex>",
//!   "kek_recipient": "age1…",
//!   "shares": [ { "index": 1, "holder": "age1…", "file": "share-1.age", "share_hash": "<64 hex>" }, … ]
//! }
//! ```
//! `share-<i>.age` ([`EncryptedShare`]): a public header, then the age armor.
//! ```text
//! ceremony-quorum-share-v1
//! quorum: <32 hex>
//! index: 3
//! m: 3
//! n: 7
//! commitment: <64 hex>
//! share-hash: <64 hex>
//! holder: age1… | passphrase
//! transferred-to: age1…            (only after a transfer)
//! -----BEGIN AGE ENCRYPTED FILE-----
//! …
//! -----END AGE ENCRYPTED FILE-----
//! ```
//! The age plaintext is 91 bytes: `"CQSHARE1"` ‖ quorum id (16) ‖ index ‖ M ‖ N
//! ‖ commitment (32) ‖ share (32).
//!
//! # The KEK unlocks the keystore
//!
//! [`kek_identity`] derives an age X25519 identity from the KEK: HKDF-SHA256
//! (salt `ceremony-quorum/v1`, info `ceremony-quorum/v1/age-x25519-identity`)
//! gives 32 bytes, Bech32-encoded as `AGE-SECRET-KEY-1…` and parsed by age
//! 0.12 (which has no constructor from bytes). Keystore keys are encrypted to
//! its recipient ([`kek_recipient`], also in `quorum.json`), and
//! [`activate_unlock`] returns the [`Unlock::Identity`] that opens them with
//! [`ceremony_keys::keystore::Keystore::load`]. [`seal_pin`] keeps an HSM PIN
//! encrypted to the same recipient (`sealed-pin.age`).
//!
//! # Transfer
//!
//! [`transfer`] re-encrypts one share to the ceremony's one-time recipient
//! (an absent holder sends their share); the share and its hash are unchanged,
//! and the returned [`TransferEvent`] is for the caller's transcript.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::convert::Infallible;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret as _;
use ceremony_keys::armor::OpenError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

pub use age::secrecy::SecretString;
pub use age::x25519::Recipient as AgeRecipient;
pub use ceremony_keys::keystore::{AgeIdentity, Unlock};

/// The `format` of `quorum.json`.
pub const QUORUM_FORMAT: &str = "ceremony-quorum-v1";
/// The first line of a share file.
pub const SHARE_FORMAT: &str = "ceremony-quorum-share-v1";
/// The sharing scheme named in `quorum.json`.
pub const SCHEME: &str = "shamir-gf256-bytewise";
/// The KEK's length.
pub const KEK_LEN: usize = 32;
/// The quorum id's length.
pub const QUORUM_ID_LEN: usize = 16;
/// The name of the public quorum file.
pub const QUORUM_FILE: &str = "quorum.json";
/// The name of the sealed PIN file.
pub const SEALED_PIN_FILE: &str = "sealed-pin.age";

const PAYLOAD_MAGIC: &[u8; 8] = b"CQSHARE1";
const PAYLOAD_LEN: usize = 8 + QUORUM_ID_LEN + 3 + 32 + KEK_LEN;
const COMMIT_LABEL: &[u8] = b"ceremony-quorum/v1/commitment\0";
const SHARE_LABEL: &[u8] = b"ceremony-quorum/v1/share\0";
const DRBG_LABEL: &[u8] = b"ceremony-quorum/v1/drbg\0";
const HKDF_SALT: &[u8] = b"ceremony-quorum/v1";
const IDENTITY_INFO: &[u8] = b"ceremony-quorum/v1/age-x25519-identity";
const MAX_FILE: u64 = 64 * 1024;
const MAX_PIN: usize = 1024;

/// What went wrong; every message names the share (index, holder, file) it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuorumError {
    /// M and N are not a usable quorum, or the recipients do not number N.
    #[error("bad quorum parameters: {0}")]
    Parameters(String),
    /// Fewer distinct valid shares than the threshold.
    #[error("insufficient shares (have {have}, need {need})")]
    Insufficient {
        /// Distinct valid shares given.
        have: usize,
        /// The threshold M.
        need: usize,
    },
    /// The credential does not open the share.
    #[error("{share}: the {credential} given does not open it (wrong credential for this holder)")]
    WrongCredential {
        /// The share.
        share: String,
        /// `passphrase` or `age identity`.
        credential: &'static str,
    },
    /// The share file is damaged, altered or malformed.
    #[error("{share}: corrupt: {reason}")]
    Corrupt {
        /// The share (or file).
        share: String,
        /// What is wrong.
        reason: String,
    },
    /// A share of another quorum.
    #[error(
        "{share}: belongs to quorum {found}, not {expected} (shares of different quorums mixed)"
    )]
    ForeignShare {
        /// The share.
        share: String,
        /// This quorum's id.
        expected: String,
        /// The share's quorum id.
        found: String,
    },
    /// A share whose content fails its hash: altered, or not the share issued.
    #[error(
        "{share}: tampered: its content does not match the share hash published in quorum.json"
    )]
    Tampered {
        /// The share.
        share: String,
    },
    /// Two shares with the same index.
    #[error("{share}: duplicate of share index {index}, already given")]
    Duplicate {
        /// The second share.
        share: String,
        /// Their index.
        index: u8,
    },
    /// Shares are valid, but the rebuilt KEK does not match the commitment.
    #[error("the rebuilt key-encryption key does not match the quorum's commitment")]
    Commitment,
    /// `quorum.json` is malformed or inconsistent.
    #[error("{path}: not a valid quorum file: {reason}")]
    BadQuorumFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file to read is larger than any quorum or share file.
    #[error("{}: larger than {max} bytes: not a quorum or share file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The largest accepted.
        max: u64,
    },
    /// Encryption or randomness failed.
    #[error("cannot {0}")]
    Crypto(String),
    /// Reading or writing a file failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

type Result<T, E = QuorumError> = std::result::Result<T, E>;

/// Who a share is encrypted to.
#[derive(Clone)]
pub enum HolderRecipient {
    /// An age X25519 recipient (`age1…`).
    X25519(AgeRecipient),
    /// A passphrase (age scrypt), with a work factor (log2 N) or age's default.
    Passphrase {
        /// The passphrase.
        passphrase: SecretString,
        /// The scrypt work factor; `None` is age's default (about a second).
        work_factor: Option<u8>,
    },
}

impl fmt::Debug for HolderRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl HolderRecipient {
    /// Parses `age1…`.
    ///
    /// # Errors
    /// [`QuorumError::Parameters`] when it is not an age X25519 recipient.
    pub fn parse(text: &str) -> Result<HolderRecipient> {
        text.trim()
            .parse::<AgeRecipient>()
            .map(HolderRecipient::X25519)
            .map_err(|e| QuorumError::Parameters(format!("{text:?} is not an age recipient: {e}")))
    }

    /// `age1…`, or `passphrase`.
    pub fn describe(&self) -> String {
        match self {
            HolderRecipient::X25519(r) => r.to_string(),
            HolderRecipient::Passphrase { .. } => "passphrase".to_owned(),
        }
    }
}

/// The public description of a quorum: `quorum.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuorumInfo {
    /// [`QUORUM_FORMAT`].
    pub format: String,
    /// [`SCHEME`].
    pub scheme: String,
    /// 16 random bytes, hex.
    pub quorum_id: String,
    /// The threshold.
    pub m: u8,
    /// The number of shares.
    pub n: u8,
    /// The commitment to the KEK, hex.
    pub commitment: String,
    /// The age recipient of the identity the KEK derives ([`kek_recipient`]).
    pub kek_recipient: String,
    /// One entry per share, by index 1..=N.
    pub shares: Vec<ShareEntry>,
}

/// One share, as `quorum.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareEntry {
    /// 1..=N.
    pub index: u8,
    /// The holder's recipient (`age1…` or `passphrase`).
    pub holder: String,
    /// The share's file name.
    pub file: String,
    /// The share hash, hex.
    pub share_hash: String,
}

impl QuorumInfo {
    /// Reads and checks `quorum.json`.
    ///
    /// # Errors
    /// [`QuorumError::Io`], and [`QuorumError::BadQuorumFile`] for a malformed or inconsistent file.
    pub fn read(path: &Path) -> Result<QuorumInfo> {
        let bytes = read_small(path)?;
        QuorumInfo::parse(&bytes, &path.display().to_string())
    }

    /// Parses and checks `quorum.json`; `name` is used in messages.
    ///
    /// # Errors
    /// [`QuorumError::BadQuorumFile`].
    pub fn parse(bytes: &[u8], name: &str) -> Result<QuorumInfo> {
        let bad = |reason: String| QuorumError::BadQuorumFile {
            path: name.to_owned(),
            reason,
        };
        let info: QuorumInfo = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        info.check(name)?;
        Ok(info)
    }

    /// Checks the format, the parameters, the hex fields and the share list (index 1..=N in order).
    ///
    /// # Errors
    /// [`QuorumError::BadQuorumFile`], naming the file as `name`.
    pub fn check(&self, name: &str) -> Result<()> {
        let bad = |reason: String| QuorumError::BadQuorumFile {
            path: name.to_owned(),
            reason,
        };
        let info = self;
        if info.format != QUORUM_FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {QUORUM_FORMAT:?}",
                info.format
            )));
        }
        if info.scheme != SCHEME {
            return Err(bad(format!(
                "scheme {:?}, expected {SCHEME:?}",
                info.scheme
            )));
        }
        check_params(info.m, info.n).map_err(|e| bad(e.to_string()))?;
        hex_array::<QUORUM_ID_LEN>(&info.quorum_id).map_err(|r| bad(format!("quorum_id: {r}")))?;
        hex_array::<32>(&info.commitment).map_err(|r| bad(format!("commitment: {r}")))?;
        info.kek_recipient
            .parse::<AgeRecipient>()
            .map_err(|e| bad(format!("kek_recipient: {e}")))?;
        if info.shares.len() != usize::from(info.n) {
            return Err(bad(format!(
                "{} shares listed, n is {}",
                info.shares.len(),
                info.n
            )));
        }
        for (k, entry) in info.shares.iter().enumerate() {
            if usize::from(entry.index) != k + 1 {
                return Err(bad(format!(
                    "share entry {} has index {}, expected {}",
                    k + 1,
                    entry.index,
                    k + 1
                )));
            }
            hex_array::<32>(&entry.share_hash)
                .map_err(|r| bad(format!("share {} share_hash: {r}", entry.index)))?;
        }
        Ok(())
    }

    /// The JSON text, pretty, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    fn id(&self) -> [u8; QUORUM_ID_LEN] {
        hex_array(&self.quorum_id).unwrap_or_default()
    }

    fn commitment(&self) -> [u8; 32] {
        hex_array(&self.commitment).unwrap_or_default()
    }
}

/// A share file: the public header and the age armor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedShare {
    /// The quorum id, hex.
    pub quorum_id: String,
    /// 1..=N.
    pub index: u8,
    /// The threshold.
    pub m: u8,
    /// The number of shares.
    pub n: u8,
    /// The commitment, hex.
    pub commitment: String,
    /// The share hash, hex.
    pub share_hash: String,
    /// The holder it was issued to (`age1…` or `passphrase`).
    pub holder: String,
    /// After a [`transfer`], the one-time recipient it is now encrypted to.
    pub transferred_to: Option<String>,
    /// Where it was read from, for messages (not written).
    pub source: Option<String>,
    armored: String,
}

impl EncryptedShare {
    /// `share-<index>.age`.
    pub fn file_name(&self) -> String {
        format!("share-{}.age", self.index)
    }

    /// How messages name this share: index, holder and file.
    pub fn who(&self) -> String {
        let mut who = format!("share {} (holder {}", self.index, self.holder);
        if let Some(to) = &self.transferred_to {
            who.push_str(&format!(", transferred to {to}"));
        }
        if let Some(source) = &self.source {
            who.push_str(&format!(", file {source}"));
        }
        who.push(')');
        who
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{SHARE_FORMAT}\nquorum: {}\nindex: {}\nm: {}\nn: {}\ncommitment: {}\nshare-hash: {}\nholder: {}\n",
            self.quorum_id, self.index, self.m, self.n, self.commitment, self.share_hash, self.holder
        );
        if let Some(to) = &self.transferred_to {
            text.push_str(&format!("transferred-to: {to}\n"));
        }
        text.push_str(&self.armored);
        if !self.armored.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Reads a share file.
    ///
    /// # Errors
    /// [`QuorumError::Io`] and [`QuorumError::Corrupt`].
    pub fn read(path: &Path) -> Result<EncryptedShare> {
        let bytes = read_small(path)?;
        let name = path.display().to_string();
        let text = std::str::from_utf8(&bytes).map_err(|_| QuorumError::Corrupt {
            share: format!("file {name}"),
            reason: "not UTF-8 text".to_owned(),
        })?;
        EncryptedShare::parse(text, &name)
    }

    /// Parses a share file's text; `source` names it in messages.
    ///
    /// # Errors
    /// [`QuorumError::Corrupt`] for a malformed header.
    pub fn parse(text: &str, source: &str) -> Result<EncryptedShare> {
        let bad = |reason: String| QuorumError::Corrupt {
            share: format!("file {source}"),
            reason,
        };
        let armor_at = text
            .find("-----BEGIN AGE ENCRYPTED FILE-----")
            .ok_or_else(|| bad("no age armor".to_owned()))?;
        let (head, armored) = text.split_at(armor_at);
        let mut lines = head.lines();
        if lines.next().map(str::trim_end) != Some(SHARE_FORMAT) {
            return Err(bad(format!("the first line is not {SHARE_FORMAT}")));
        }
        let mut field = |key: &str| -> Result<String> {
            let line = lines
                .next()
                .ok_or_else(|| bad(format!("the header ends before {key}:")))?;
            line.trim_end()
                .strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(": "))
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("expected {key}: in the header, found {line:?}")))
        };
        let number = |key: &str, value: String| -> Result<u8> {
            value
                .parse::<u8>()
                .map_err(|_| bad(format!("{key}: {value:?} is not a number 0..255")))
        };
        let quorum_id = field("quorum")?;
        let index = field("index")?;
        let m = field("m")?;
        let n = field("n")?;
        let commitment = field("commitment")?;
        let share_hash = field("share-hash")?;
        let holder = field("holder")?;
        let rest: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
        let transferred_to = match rest.as_slice() {
            [] => None,
            [line] => Some(
                line.trim_end()
                    .strip_prefix("transferred-to: ")
                    .map(str::to_owned)
                    .ok_or_else(|| bad(format!("unexpected header line {line:?}")))?,
            ),
            _ => return Err(bad("unexpected header lines".to_owned())),
        };
        let share = EncryptedShare {
            index: number("index", index)?,
            m: number("m", m)?,
            n: number("n", n)?,
            quorum_id,
            commitment,
            share_hash,
            holder,
            transferred_to,
            source: Some(source.to_owned()),
            armored: armored.to_owned(),
        };
        hex_array::<QUORUM_ID_LEN>(&share.quorum_id).map_err(|r| bad(format!("quorum: {r}")))?;
        hex_array::<32>(&share.commitment).map_err(|r| bad(format!("commitment: {r}")))?;
        hex_array::<32>(&share.share_hash).map_err(|r| bad(format!("share-hash: {r}")))?;
        Ok(share)
    }

    /// The armored age ciphertext.
    pub fn armored(&self) -> &str {
        &self.armored
    }

    /// Decrypts the share with its holder's credential and checks it against its header.
    ///
    /// # Errors
    /// [`QuorumError::WrongCredential`], and [`QuorumError::Corrupt`] for an altered
    /// ciphertext or a payload that disagrees with the header.
    pub fn decrypt(&self, credential: &Unlock) -> Result<DecryptedShare> {
        let who = self.who();
        let plaintext = age_decrypt(self.armored.as_bytes(), credential, PAYLOAD_LEN, &who)?;
        let share = DecryptedShare::from_payload(&plaintext, who.clone(), self.holder.clone())?;
        let corrupt = |reason: &str| QuorumError::Corrupt {
            share: who.clone(),
            reason: format!("the encrypted share disagrees with the file's header ({reason})"),
        };
        if share.index != self.index {
            return Err(corrupt("index"));
        }
        if share.m != self.m || share.n != self.n {
            return Err(corrupt("m, n"));
        }
        if hex::encode(share.quorum_id) != self.quorum_id {
            return Err(corrupt("quorum id"));
        }
        if hex::encode(share.commitment) != self.commitment {
            return Err(corrupt("commitment"));
        }
        Ok(share)
    }
}

/// A decrypted share, in memory only (the share bytes are zeroized on drop).
pub struct DecryptedShare {
    /// 1..=N.
    pub index: u8,
    /// The threshold.
    pub m: u8,
    /// The number of shares.
    pub n: u8,
    /// The quorum id.
    pub quorum_id: [u8; QUORUM_ID_LEN],
    /// The commitment.
    pub commitment: [u8; 32],
    /// The holder (`age1…` or `passphrase`).
    pub holder: String,
    who: String,
    y: Zeroizing<[u8; KEK_LEN]>,
}

impl fmt::Debug for DecryptedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecryptedShare({}, <redacted>)", self.who)
    }
}

impl DecryptedShare {
    fn from_payload(payload: &[u8], who: String, holder: String) -> Result<DecryptedShare> {
        if payload.len() != PAYLOAD_LEN || &payload[..8] != PAYLOAD_MAGIC {
            return Err(QuorumError::Corrupt {
                share: who,
                reason: "it decrypts, but not to a quorum share".to_owned(),
            });
        }
        let mut at = 8;
        let mut take = |len: usize| {
            let part = &payload[at..at + len];
            at += len;
            part
        };
        let mut quorum_id = [0u8; QUORUM_ID_LEN];
        quorum_id.copy_from_slice(take(QUORUM_ID_LEN));
        let params = take(3);
        let (index, m, n) = (params[0], params[1], params[2]);
        let mut commitment = [0u8; 32];
        commitment.copy_from_slice(take(32));
        let mut y = Zeroizing::new([0u8; KEK_LEN]);
        y.copy_from_slice(take(KEK_LEN));
        Ok(DecryptedShare {
            index,
            m,
            n,
            quorum_id,
            commitment,
            holder,
            who,
            y,
        })
    }

    fn payload(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN));
        out.extend_from_slice(PAYLOAD_MAGIC);
        out.extend_from_slice(&self.quorum_id);
        out.extend_from_slice(&[self.index, self.m, self.n]);
        out.extend_from_slice(&self.commitment);
        out.extend_from_slice(&self.y[..]);
        out
    }

    /// How messages name this share.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// Test hook: flips one bit of the share's secret bytes, as an attacker
    /// who can decrypt (or a failing memory) would.
    #[doc(hidden)]
    pub fn tamper_for_tests(&mut self, byte: usize) {
        self.y[byte % KEK_LEN] ^= 0x01;
    }
}

/// The result of [`split`]: the public quorum file and the N encrypted shares.
#[derive(Clone, Debug)]
pub struct Split {
    /// `quorum.json`.
    pub info: QuorumInfo,
    /// The shares, index 1..=N in order.
    pub shares: Vec<EncryptedShare>,
}

/// A fresh random KEK from the operating system (ring's `SystemRandom`).
///
/// # Errors
/// [`QuorumError::Crypto`] when the system RNG fails.
pub fn new_kek() -> Result<Zeroizing<[u8; KEK_LEN]>> {
    let mut kek = Zeroizing::new([0u8; KEK_LEN]);
    fill_random(&mut kek[..])?;
    Ok(kek)
}

/// Splits `secret` M-of-N, one share per recipient (in order: share *i* to
/// `recipients[i-1]`), each age-encrypted and armored.
///
/// # Errors
/// [`QuorumError::Parameters`] unless 2 ≤ M ≤ N ≤ 255 and there are N recipients;
/// [`QuorumError::Crypto`].
pub fn split(
    secret: &[u8; KEK_LEN],
    m: u8,
    n: u8,
    recipients: &[HolderRecipient],
) -> Result<Split> {
    check_params(m, n)?;
    if recipients.len() != usize::from(n) {
        return Err(QuorumError::Parameters(format!(
            "{} recipients for {n} shares: give exactly one per share",
            recipients.len()
        )));
    }
    let mut quorum_id = [0u8; QUORUM_ID_LEN];
    fill_random(&mut quorum_id)?;
    let commitment = commit(&quorum_id, m, n, secret);
    let mut rng = Drbg::new()?;
    let raw = vsss_rs::Gf256::split_bytes_with_participant_ids_iter(
        usize::from(m),
        usize::from(n),
        &secret[..],
        &mut rng,
        (1..=n).map(|i| vsss_rs::IdentifierGf256(vsss_rs::Gf256(i))),
    )
    .map_err(|e| QuorumError::Crypto(format!("split the secret: {e:?}")))?;
    let raw: Vec<Zeroizing<Vec<u8>>> = raw.into_iter().map(Zeroizing::new).collect();
    let kek_recipient = kek_recipient(secret)?;
    let mut shares = Vec::with_capacity(usize::from(n));
    let mut entries = Vec::with_capacity(usize::from(n));
    for (k, (share, recipient)) in raw.iter().zip(recipients).enumerate() {
        let index = u8::try_from(k + 1).map_err(|_| QuorumError::Parameters("n".to_owned()))?;
        if share.len() != 1 + KEK_LEN || share[0] != index {
            return Err(QuorumError::Crypto(
                "split the secret: unexpected share layout".to_owned(),
            ));
        }
        let mut y = Zeroizing::new([0u8; KEK_LEN]);
        y.copy_from_slice(&share[1..]);
        let holder = recipient.describe();
        let decrypted = DecryptedShare {
            index,
            m,
            n,
            quorum_id,
            commitment,
            holder: holder.clone(),
            who: format!("share {index} (holder {holder})"),
            y,
        };
        let share_hash = hex::encode(share_hash(&decrypted));
        let armored = age_encrypt(&decrypted.payload(), recipient)?;
        let encrypted = EncryptedShare {
            quorum_id: hex::encode(quorum_id),
            index,
            m,
            n,
            commitment: hex::encode(commitment),
            share_hash: share_hash.clone(),
            holder: holder.clone(),
            transferred_to: None,
            source: None,
            armored,
        };
        entries.push(ShareEntry {
            index,
            holder,
            file: encrypted.file_name(),
            share_hash,
        });
        shares.push(encrypted);
    }
    Ok(Split {
        info: QuorumInfo {
            format: QUORUM_FORMAT.to_owned(),
            scheme: SCHEME.to_owned(),
            quorum_id: hex::encode(quorum_id),
            m,
            n,
            commitment: hex::encode(commitment),
            kek_recipient,
            shares: entries,
        },
        shares,
    })
}

/// Writes `quorum.json` and every `share-<i>.age` into `dir` (created if missing);
/// refuses to replace an existing file. Returns the paths written.
///
/// # Errors
/// [`QuorumError::Io`].
pub fn write_split(dir: &Path, split: &Split) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|source| QuorumError::Io {
        what: "cannot create",
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    let mut files: Vec<(PathBuf, String)> = split
        .shares
        .iter()
        .map(|s| (dir.join(s.file_name()), s.to_text()))
        .collect();
    files.push((dir.join(QUORUM_FILE), split.info.to_json()));
    for (path, text) in files {
        if let Err(e) = write_new_file(&path, text.as_bytes()) {
            for done in &written {
                let _ = fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(written)
}

/// Rebuilds the KEK from decrypted shares, after checking each against `info`.
///
/// Checks, in order, naming the share at fault: the quorum id, M, N and the
/// commitment; the index (1..=N, not given twice); the share hash; then that
/// at least M remain ("insufficient shares (have k, need m)"); and after
/// interpolating, the commitment.
///
/// # Errors
/// [`QuorumError::ForeignShare`], [`QuorumError::Corrupt`], [`QuorumError::Duplicate`],
/// [`QuorumError::Tampered`], [`QuorumError::Insufficient`], [`QuorumError::Commitment`].
pub fn activate(info: &QuorumInfo, shares: &[DecryptedShare]) -> Result<Zeroizing<[u8; KEK_LEN]>> {
    info.check("the quorum description")?;
    let quorum_id = info.id();
    let commitment = info.commitment();
    let mut seen = [false; 256];
    let mut points: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(shares.len());
    for share in shares {
        if share.quorum_id != quorum_id {
            return Err(QuorumError::ForeignShare {
                share: share.who.clone(),
                expected: info.quorum_id.clone(),
                found: hex::encode(share.quorum_id),
            });
        }
        if share.m != info.m || share.n != info.n || share.commitment != commitment {
            return Err(QuorumError::Corrupt {
                share: share.who.clone(),
                reason: format!(
                    "its parameters ({} of {}) or commitment are not the quorum's ({} of {})",
                    share.m, share.n, info.m, info.n
                ),
            });
        }
        if share.index == 0 || share.index > info.n {
            return Err(QuorumError::Corrupt {
                share: share.who.clone(),
                reason: format!("index {} is outside 1..={}", share.index, info.n),
            });
        }
        if seen[usize::from(share.index)] {
            return Err(QuorumError::Duplicate {
                share: share.who.clone(),
                index: share.index,
            });
        }
        let entry = &info.shares[usize::from(share.index) - 1];
        let expected: [u8; 32] = hex_array(&entry.share_hash).unwrap_or_default();
        if !ring_eq(&share_hash(share), &expected) {
            return Err(QuorumError::Tampered {
                share: share.who.clone(),
            });
        }
        seen[usize::from(share.index)] = true;
        let mut point = Zeroizing::new(Vec::with_capacity(1 + KEK_LEN));
        point.push(share.index);
        point.extend_from_slice(&share.y[..]);
        points.push(point);
    }
    if points.len() < usize::from(info.m) {
        return Err(QuorumError::Insufficient {
            have: points.len(),
            need: usize::from(info.m),
        });
    }
    let raw: Vec<Vec<u8>> = points.iter().map(|p| p.to_vec()).collect();
    let combined = vsss_rs::Gf256::combine_bytes(&raw);
    for mut r in raw {
        r.zeroize();
    }
    let combined = Zeroizing::new(
        combined.map_err(|e| QuorumError::Crypto(format!("combine the shares: {e:?}")))?,
    );
    if combined.len() != KEK_LEN {
        return Err(QuorumError::Commitment);
    }
    let mut kek = Zeroizing::new([0u8; KEK_LEN]);
    kek.copy_from_slice(&combined);
    if !ring_eq(&commit(&quorum_id, info.m, info.n, &kek), &commitment) {
        return Err(QuorumError::Commitment);
    }
    Ok(kek)
}

/// Decrypts each share with its credential, then [`activate`]s.
///
/// # Errors
/// As [`EncryptedShare::decrypt`] and [`activate`].
pub fn activate_with(
    info: &QuorumInfo,
    shares: &[(EncryptedShare, Unlock)],
) -> Result<Zeroizing<[u8; KEK_LEN]>> {
    let decrypted = shares
        .iter()
        .map(|(share, credential)| share.decrypt(credential))
        .collect::<Result<Vec<_>>>()?;
    activate(info, &decrypted)
}

/// [`activate`], then the keystore [`Unlock`] the KEK stands for ([`kek_unlock`]),
/// after checking it is `info.kek_recipient`'s identity.
///
/// # Errors
/// As [`activate`], and [`QuorumError::Commitment`] when the identity is not the published one.
pub fn activate_unlock(info: &QuorumInfo, shares: &[DecryptedShare]) -> Result<Unlock> {
    let kek = activate(info, shares)?;
    let identity = kek_identity(&kek)?;
    if identity.to_public().to_string() != info.kek_recipient {
        return Err(QuorumError::Commitment);
    }
    Ok(Unlock::Identity(identity))
}

/// The age X25519 identity the KEK stands for (HKDF-SHA256, see the crate docs).
///
/// # Errors
/// [`QuorumError::Crypto`] (not expected).
pub fn kek_identity(kek: &[u8; KEK_LEN]) -> Result<AgeIdentity> {
    let fail = || QuorumError::Crypto("derive the age identity from the KEK".to_owned());
    let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, HKDF_SALT).extract(kek);
    let okm = prk
        .expand(&[IDENTITY_INFO], ring::hkdf::HKDF_SHA256)
        .map_err(|_| fail())?;
    let mut scalar = Zeroizing::new([0u8; 32]);
    okm.fill(&mut scalar[..]).map_err(|_| fail())?;
    let hrp = bech32::Hrp::parse("age-secret-key-").map_err(|_| fail())?;
    let mut lower = bech32::encode::<bech32::Bech32>(hrp, &scalar[..]).map_err(|_| fail())?;
    let upper = Zeroizing::new(lower.to_uppercase());
    lower.zeroize();
    upper.parse::<AgeIdentity>().map_err(|_| fail())
}

/// The recipient (`age1…`) of [`kek_identity`]: what keystore keys are encrypted to.
///
/// # Errors
/// As [`kek_identity`].
pub fn kek_recipient(kek: &[u8; KEK_LEN]) -> Result<String> {
    Ok(kek_identity(kek)?.to_public().to_string())
}

/// [`kek_identity`] as a keystore [`Unlock::Identity`].
///
/// # Errors
/// As [`kek_identity`].
pub fn kek_unlock(kek: &[u8; KEK_LEN]) -> Result<Unlock> {
    Ok(Unlock::Identity(kek_identity(kek)?))
}

/// Encrypts a PKCS#11 PIN to the KEK's recipient: the text of `sealed-pin.age`.
///
/// # Errors
/// [`QuorumError::Parameters`] for an empty or over-long PIN; [`QuorumError::Crypto`].
pub fn seal_pin(kek_recipient: &str, pin: &SecretString) -> Result<String> {
    let pin = pin.expose_secret();
    if pin.is_empty() || pin.len() > MAX_PIN {
        return Err(QuorumError::Parameters(format!(
            "a PIN must have 1 to {MAX_PIN} bytes"
        )));
    }
    let recipient = HolderRecipient::parse(kek_recipient)?;
    age_encrypt(pin.as_bytes(), &recipient)
}

/// Decrypts `sealed-pin.age` with the KEK.
///
/// # Errors
/// [`QuorumError::WrongCredential`] when the KEK is not the one it was sealed to;
/// [`QuorumError::Corrupt`].
pub fn unseal_pin(kek: &[u8; KEK_LEN], sealed: &str) -> Result<SecretString> {
    let unlock = kek_unlock(kek)?;
    let plaintext = age_decrypt(sealed.as_bytes(), &unlock, MAX_PIN, "the sealed PIN")?;
    let text = std::str::from_utf8(&plaintext).map_err(|_| QuorumError::Corrupt {
        share: "the sealed PIN".to_owned(),
        reason: "not UTF-8".to_owned(),
    })?;
    Ok(SecretString::from(text.to_owned()))
}

/// The record of a share transfer, for the ceremony's transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferEvent {
    /// `quorum-share-transfer`.
    pub event: String,
    /// The quorum id.
    pub quorum_id: String,
    /// The share's index.
    pub index: u8,
    /// The holder it was issued to.
    pub holder: String,
    /// The one-time recipient it is now encrypted to.
    pub to: String,
    /// The share hash (unchanged by the transfer).
    pub share_hash: String,
    /// SHA-256 of the share file before, hex.
    pub from_file_sha256: String,
    /// SHA-256 of the new share file, hex.
    pub to_file_sha256: String,
}

/// Re-encrypts one share to the ceremony's one-time recipient (disaster recovery:
/// an absent holder sends their share). The share itself is unchanged.
///
/// # Errors
/// As [`EncryptedShare::decrypt`]; [`QuorumError::Crypto`].
pub fn transfer(
    share: &EncryptedShare,
    credential: &Unlock,
    to: &AgeRecipient,
) -> Result<(EncryptedShare, TransferEvent)> {
    let decrypted = share.decrypt(credential)?;
    let expected: [u8; 32] = hex_array(&share.share_hash).unwrap_or_default();
    if !ring_eq(&share_hash(&decrypted), &expected) {
        return Err(QuorumError::Tampered { share: share.who() });
    }
    let armored = age_encrypt(&decrypted.payload(), &HolderRecipient::X25519(to.clone()))?;
    let moved = EncryptedShare {
        transferred_to: Some(to.to_string()),
        source: None,
        armored,
        ..share.clone()
    };
    let event = TransferEvent {
        event: "quorum-share-transfer".to_owned(),
        quorum_id: share.quorum_id.clone(),
        index: share.index,
        holder: share.holder.clone(),
        to: to.to_string(),
        share_hash: share.share_hash.clone(),
        from_file_sha256: hex::encode(Sha256::digest(share.to_text().as_bytes())),
        to_file_sha256: hex::encode(Sha256::digest(moved.to_text().as_bytes())),
    };
    Ok((moved, event))
}

/// Writes a new file (owner only), all or nothing, never replacing one.
///
/// # Errors
/// [`QuorumError::Io`].
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    ceremony_durable::create_new(path, bytes, ceremony_durable::Access::Private).map_err(|err| {
        QuorumError::Io {
            what: "cannot write",
            path: path.to_owned(),
            source: err.source,
        }
    })
}

fn check_params(m: u8, n: u8) -> Result<()> {
    if m < 2 {
        return Err(QuorumError::Parameters(format!(
            "m = {m}: the threshold must be at least 2"
        )));
    }
    if m > n {
        return Err(QuorumError::Parameters(format!(
            "m = {m} is more than n = {n}"
        )));
    }
    Ok(())
}

fn commit(quorum_id: &[u8; QUORUM_ID_LEN], m: u8, n: u8, secret: &[u8; KEK_LEN]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(COMMIT_LABEL);
    h.update(quorum_id);
    h.update([m, n]);
    h.update(secret);
    h.finalize().into()
}

fn share_hash(share: &DecryptedShare) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(SHARE_LABEL);
    h.update(share.quorum_id);
    h.update([share.index, share.m, share.n]);
    h.update(share.commitment);
    h.update(&share.y[..]);
    h.finalize().into()
}

fn ring_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(text).map_err(|e| format!("not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes ({} hex digits)", 2 * N))
}

fn fill_random(buf: &mut [u8]) -> Result<()> {
    use ring::rand::SecureRandom as _;
    ring::rand::SystemRandom::new()
        .fill(buf)
        .map_err(|_| QuorumError::Crypto("draw randomness: the system RNG failed".to_owned()))
}

fn read_small(path: &Path) -> Result<Vec<u8>> {
    let io_err = |source| QuorumError::Io {
        what: "cannot read",
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(QuorumError::TooLarge {
            path: path.to_owned(),
            max: MAX_FILE,
        });
    }
    Ok(bytes)
}

fn age_encrypt(plaintext: &[u8], recipient: &HolderRecipient) -> Result<String> {
    let fail = |e: String| QuorumError::Crypto(format!("age-encrypt a share: {e}"));
    let scrypt;
    let recipient: &dyn age::Recipient = match recipient {
        HolderRecipient::X25519(r) => r,
        HolderRecipient::Passphrase {
            passphrase,
            work_factor,
        } => {
            let mut r = age::scrypt::Recipient::new(passphrase.clone());
            if let Some(log_n) = work_factor {
                r.set_work_factor(*log_n);
            }
            scrypt = r;
            &scrypt
        }
    };
    ceremony_keys::armor::seal(recipient, plaintext).map_err(fail)
}

fn age_decrypt(
    ciphertext: &[u8],
    credential: &Unlock,
    max: usize,
    who: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    ceremony_keys::armor::open(ciphertext, credential, max, None).map_err(|err| match err {
        OpenError::WrongUnlock(kind) => QuorumError::WrongCredential {
            share: who.to_owned(),
            credential: kind,
        },
        OpenError::KindMismatch { given, .. } => QuorumError::WrongCredential {
            share: who.to_owned(),
            credential: given,
        },
        other => QuorumError::Corrupt {
            share: who.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// A SHA-256 counter-mode generator for vsss-rs's coefficients, seeded from the
/// system RNG (infallible once seeded, as `rand_core` 0.10's `CryptoRng` requires).
struct Drbg {
    seed: Zeroizing<[u8; 32]>,
    counter: u64,
    block: Zeroizing<[u8; 32]>,
    used: usize,
}

impl Drbg {
    fn new() -> Result<Drbg> {
        let mut seed = Zeroizing::new([0u8; 32]);
        fill_random(&mut seed[..])?;
        Ok(Drbg {
            seed,
            counter: 0,
            block: Zeroizing::new([0u8; 32]),
            used: 32,
        })
    }

    fn fill(&mut self, dst: &mut [u8]) {
        for byte in dst {
            if self.used == 32 {
                let mut h = Sha256::new();
                h.update(DRBG_LABEL);
                h.update(&self.seed[..]);
                h.update(self.counter.to_be_bytes());
                self.block.copy_from_slice(&h.finalize());
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }
}

impl rand_core_010::TryRng for Drbg {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl rand_core_010::TryCryptoRng for Drbg {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_deterministic_and_parses() {
        let kek = [7u8; KEK_LEN];
        let a = kek_identity(&kek).expect("derive");
        let b = kek_identity(&kek).expect("derive");
        assert_eq!(a.to_public().to_string(), b.to_public().to_string());
        assert_ne!(
            a.to_public().to_string(),
            kek_identity(&[8u8; KEK_LEN])
                .expect("derive")
                .to_public()
                .to_string()
        );
    }

    #[test]
    fn payload_round_trip() {
        let share = DecryptedShare {
            index: 3,
            m: 2,
            n: 5,
            quorum_id: [1; QUORUM_ID_LEN],
            commitment: [2; 32],
            holder: "h".to_owned(),
            who: "w".to_owned(),
            y: Zeroizing::new([9; KEK_LEN]),
        };
        let again = DecryptedShare::from_payload(&share.payload(), "w".to_owned(), "h".to_owned())
            .expect("parse");
        assert_eq!(share_hash(&share), share_hash(&again));
    }
}
