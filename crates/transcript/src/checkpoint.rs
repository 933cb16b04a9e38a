//! C2SP tlog-checkpoint: a log's signed tree head.
//!
//! A [checkpoint] is a signed note whose text is the origin line, the tree
//! size in decimal (no leading zeros), the base64 RFC 6962 root hash, and
//! optional non-empty extension lines:
//!
//! ```text
//! ceremony.example/KC-2026-Q4
//! 6
//! Re2CcjaY21opVwwzFVGnksWqyBXGnSvYggklsx6Uh3w=
//!
//! — ceremony.example/KC-2026-Q4 nMCvgfF48KGqPHvit6ZUSbcvlTTsg2EvaKbdUNyCJjL…
//! — witness.example/w1 3xwKNQAAAABqvm5oor1k9s9Q+btloJgdFuZS1e6h7jf1M0SC3qv…
//! ```
//!
//! The log's key name equals the origin. A log must never sign two
//! inconsistent checkpoints.
//!
//! [checkpoint]: https://c2sp.org/tlog-checkpoint

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::Error;
use crate::merkle::Hash;
use crate::note::{check_key_name, KeyId, Note, NoteSignature, SignatureType, Signer, VerifierKey};

/// Parses a decimal tree size or index strictly: ASCII digits only, no sign,
/// no leading zeros (unless the value is `0`), within `u64`.
///
/// `u64::from_str` accepts `+5` and `007`; C2SP does not.
pub fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Decodes one base64 SHA-256 hash strictly (canonical padding and bits).
pub fn parse_hash(s: &str) -> Option<Hash> {
    BASE64.decode(s).ok()?.try_into().ok()
}

/// Encodes a hash in base64, as checkpoints and proofs carry it.
pub fn fmt_hash(hash: &Hash) -> String {
    BASE64.encode(hash)
}

/// A checkpoint body: origin, tree size, root hash, extension lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint of the tree of `size` leaves with this `root`.
    ///
    /// # Errors
    /// [`Error::Key`] when the origin is not usable as the log's key name
    /// (empty, with spaces, `+` or control characters).
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, Error> {
        check_key_name(origin)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Parses a checkpoint body strictly.
    ///
    /// # Errors
    /// [`Error::Parse`] with the line and the rule broken.
    pub fn parse(text: &str) -> Result<Checkpoint, Error> {
        let bad = |line: usize, reason: &str| Error::parse("checkpoint", Some(line), reason);
        let Some(body) = text.strip_suffix('\n') else {
            return Err(Error::parse(
                "checkpoint",
                None,
                "C2SP tlog-checkpoint: the note text ends in a newline",
            ));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(bad(
                lines.len() + 1,
                "C2SP tlog-checkpoint: at least three lines (origin, tree size, root hash)",
            ));
        }
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                return Err(bad(i + 1, "C2SP tlog-checkpoint: every line is non-empty"));
            }
            if line.chars().any(|c| c < ' ') {
                return Err(bad(i + 1, "C2SP signed-note: no control characters"));
            }
        }
        let size = parse_decimal(lines[1]).ok_or_else(|| {
            bad(
                2,
                "C2SP tlog-checkpoint: the tree size is ASCII decimal with no leading zeros",
            )
        })?;
        let root = parse_hash(lines[2]).ok_or_else(|| {
            bad(
                3,
                "C2SP tlog-checkpoint: the root hash is the base64 of 32 bytes",
            )
        })?;
        Ok(Checkpoint {
            origin: lines[0].to_owned(),
            size,
            root,
            extensions: lines[3..].iter().map(|l| (*l).to_owned()).collect(),
        })
    }

    /// The origin line: the log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root hash at that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines (opaque; none in the checkpoints we issue).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text: the lines, each ending in a newline.
    pub fn text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, fmt_hash(&self.root));
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        text
    }
}

/// A witness cosignature that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's key name.
    pub witness: String,
    /// The witness's key ID.
    pub key_id: KeyId,
    /// When it cosigned (POSIX seconds).
    pub timestamp: u64,
}

/// A checkpoint with its note: the log's signature and any cosignatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Signs a checkpoint with the log's key, whose name must be the origin.
    ///
    /// # Errors
    /// [`Error::Key`] when the signer's name is not the origin.
    pub fn sign(checkpoint: Checkpoint, signer: &Signer) -> Result<SignedCheckpoint, Error> {
        if signer.name() != checkpoint.origin {
            return Err(Error::Key {
                name: signer.name().to_owned(),
                reason: format!(
                    "C2SP tlog-checkpoint: the log's key name must match the origin {:?}",
                    checkpoint.origin
                ),
            });
        }
        let text = checkpoint.text();
        let sig = signer.sign(&text)?;
        let note = Note::new(text, vec![sig])?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Parses a signed checkpoint (the note and its body) strictly. This does
    /// not verify any signature: see [`SignedCheckpoint::verify`].
    ///
    /// # Errors
    /// [`Error::Parse`] naming the line and rule.
    pub fn parse(bytes: &[u8]) -> Result<SignedCheckpoint, Error> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// The checkpoint body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note, with every signature line.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Adds a signature line (a cosignature) at the end, unless an identical
    /// one is already there. Returns whether it was added.
    pub fn add_signature(&mut self, sig: NoteSignature) -> bool {
        if self.note.signatures().contains(&sig) {
            return false;
        }
        self.note.push_signature(sig);
        true
    }

    /// Verifies the log's signature with `log_key`, and every cosignature
    /// by a key in `witnesses`; signatures by other keys are ignored.
    /// Returns the verified cosignatures, in note order.
    ///
    /// # Errors
    /// [`Error::Key`] when `log_key` is not an Ed25519 key named for the
    /// origin; [`Error::NotSigned`] when the log's signature is missing;
    /// [`Error::BadSignature`] when a known key's signature fails.
    pub fn verify(
        &self,
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
    ) -> Result<Vec<Cosigned>, Error> {
        if log_key.kind() != SignatureType::ED25519 {
            return Err(Error::Key {
                name: log_key.name().to_owned(),
                reason: format!("a log key signs with Ed25519, not {}", log_key.kind()),
            });
        }
        if log_key.name() != self.checkpoint.origin {
            return Err(Error::Key {
                name: log_key.name().to_owned(),
                reason: format!(
                    "C2SP tlog-checkpoint: the log key's name must match the origin {:?}",
                    self.checkpoint.origin
                ),
            });
        }
        let mut keys = Vec::with_capacity(1 + witnesses.len());
        keys.push(log_key.clone());
        keys.extend(witnesses.iter().cloned());
        let verified = self.note.verify(&keys)?;
        if !verified
            .iter()
            .any(|v| v.name == log_key.name() && v.key_id == log_key.key_id())
        {
            return Err(Error::NotSigned {
                wanted: format!("the log key {}+{}", log_key.name(), log_key.key_id()),
            });
        }
        Ok(verified
            .into_iter()
            .filter(|v| v.kind == SignatureType::COSIGNATURE_V1)
            .filter_map(|v| {
                Some(Cosigned {
                    witness: v.name,
                    key_id: v.key_id,
                    timestamp: v.timestamp?,
                })
            })
            .collect())
    }
}

impl fmt::Display for SignedCheckpoint {
    /// The whole signed note.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.note.fmt(f)
    }
}
