//! A C2SP tlog-witness: cosign a log's checkpoints, never two histories.
//!
//! The witness keeps, per log origin, the size and root of the latest
//! checkpoint it cosigned, and answers [`add-checkpoint`] requests:
//!
//! ```text
//! old 4
//! <base64 consistency proof hash>…   (0 to 63 lines)
//!
//! ceremony.example/KC-2026-Q4
//! 6
//! <base64 root>
//!
//! — ceremony.example/KC-2026-Q4 <signature>
//! ```
//!
//! with the cosignature lines, or a [`WitnessError`] that maps to the
//! protocol's HTTP status. The new state is persisted atomically (temporary
//! file, fsync, rename, fsync of the directory) before the cosignature is
//! returned. There is no HTTP here: the server wraps
//! [`Witness::add_checkpoint`].
//!
//! One `Witness` value must own its state directory: checking the old size
//! and persisting the new state happen under `&mut self`, which is what makes
//! them atomic with respect to each other.
//!
//! [`add-checkpoint`]: https://c2sp.org/tlog-witness#add-checkpoint

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::checkpoint::{fmt_hash, parse_decimal, parse_hash, Checkpoint, SignedCheckpoint};
use crate::cosignature::Cosigner;
use crate::error::Error;
use crate::fsutil;
use crate::merkle::{verify_consistency, Hash, ProofError};
use crate::note::{SignatureType, VerifierKey};

/// The most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body read: a checkpoint with many signatures and a
/// full proof, with room to spare.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// A parsed `add-checkpoint` request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the log believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint.
    pub checkpoint: SignedCheckpoint,
}

impl AddCheckpoint {
    /// Parses a request body strictly.
    ///
    /// # Errors
    /// [`Error::Parse`] with the line and the rule broken.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, Error> {
        let what = "add-checkpoint request";
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Error::parse(
                what,
                None,
                format!("larger than {MAX_REQUEST_BYTES} bytes"),
            ));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| Error::parse(what, None, "the body is not UTF-8"))?;
        let (first, mut rest) = text.split_once('\n').ok_or_else(|| {
            Error::parse(
                what,
                Some(1),
                "C2SP tlog-witness: each line ends in a newline",
            )
        })?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or_else(|| {
                Error::parse(
                    what,
                    Some(1),
                    "C2SP tlog-witness: the first line is 'old <size>', decimal with no leading zeros",
                )
            })?;
        let mut proof = Vec::new();
        loop {
            let line_no = proof.len() + 2;
            let (line, after) = rest.split_once('\n').ok_or_else(|| {
                Error::parse(
                    what,
                    Some(line_no),
                    "C2SP tlog-witness: an empty line precedes the checkpoint",
                )
            })?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(Error::parse(
                    what,
                    Some(line_no),
                    "C2SP tlog-witness: no more than 63 consistency proof lines",
                ));
            }
            let hash = parse_hash(line).ok_or_else(|| {
                Error::parse(
                    what,
                    Some(line_no),
                    "C2SP tlog-witness: a proof line is one base64 hash",
                )
            })?;
            proof.push(hash);
        }
        let checkpoint = SignedCheckpoint::parse(rest.as_bytes())?;
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint,
        })
    }
}

impl fmt::Display for AddCheckpoint {
    /// The request body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "old {}", self.old_size)?;
        for hash in &self.proof {
            writeln!(f, "{}", fmt_hash(hash))?;
        }
        writeln!(f)?;
        self.checkpoint.fmt(f)
    }
}

/// The witness's record of one log: its latest cosigned tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogState {
    /// The tree size.
    pub size: u64,
    /// The root hash at that size.
    pub root: Hash,
}

/// Why the witness refused a checkpoint, as the protocol answers it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The body is not a well-formed request (400).
    #[error("400 Bad Request: {0}")]
    Malformed(Error),
    /// The witness does not know the checkpoint's origin (404).
    #[error("404 Not Found: C2SP tlog-witness: unknown log origin {origin:?}")]
    UnknownOrigin {
        /// The origin line.
        origin: String,
    },
    /// No signature by a key the witness trusts for the origin verifies (403).
    #[error("403 Forbidden: C2SP tlog-witness: no valid signature by a trusted key of {origin:?}: {reason}")]
    BadLogSignature {
        /// The origin line.
        origin: String,
        /// What the note verification said.
        reason: String,
    },
    /// The old size is larger than the checkpoint's size (400).
    #[error("400 Bad Request: C2SP tlog-witness: old size {old} is larger than the checkpoint size {size}")]
    OldSizeTooLarge {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size is not the size the witness last cosigned (409); the body
    /// is that size.
    #[error(
        "409 Conflict: C2SP tlog-witness: old size {old} is not the latest cosigned size {latest}"
    )]
    Conflict {
        /// The request's old size.
        old: u64,
        /// The size of the latest checkpoint the witness cosigned.
        latest: u64,
    },
    /// The consistency proof does not verify (422).
    #[error("422 Unprocessable Entity: C2SP tlog-witness: the consistency proof from {old} to {size} does not verify: {reason}")]
    BadProof {
        /// The old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
        /// What the verification said.
        reason: ProofError,
    },
    /// A checkpoint of the size last cosigned, with another root: a split
    /// view, evidence of log misbehavior. 422 as REFERENCE.md §5 has it;
    /// the current C2SP tlog-witness text answers 409 here instead, so a
    /// server that must follow it maps this variant itself.
    #[error("422 Unprocessable Entity: C2SP tlog-witness: split view: size {size} was cosigned with root {cosigned}, this checkpoint has {offered}")]
    SplitView {
        /// The tree size.
        size: u64,
        /// The root cosigned before, base64.
        cosigned: String,
        /// The root offered now, base64.
        offered: String,
    },
    /// The witness could not persist its state; nothing was cosigned (500).
    #[error("500 Internal Server Error: {0}")]
    Storage(Error),
}

impl WitnessError {
    /// The HTTP status the protocol gives this answer.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::Malformed(_) | WitnessError::OldSizeTooLarge { .. } => 400,
            WitnessError::BadLogSignature { .. } => 403,
            WitnessError::UnknownOrigin { .. } => 404,
            WitnessError::Conflict { .. } => 409,
            WitnessError::BadProof { .. } | WitnessError::SplitView { .. } => 422,
            WitnessError::Storage(_) => 500,
        }
    }

    /// The response body and its content type, where the protocol defines
    /// one: for 409, the latest size and a newline as `text/x.tlog.size`.
    pub fn body(&self) -> Option<(&'static str, String)> {
        match self {
            WitnessError::Conflict { latest, .. } => {
                Some(("text/x.tlog.size", format!("{latest}\n")))
            }
            _ => None,
        }
    }
}

/// A witness: a cosigning key, the logs it follows, and its state directory.
#[derive(Debug)]
pub struct Witness {
    dir: PathBuf,
    cosigner: Cosigner,
    logs: BTreeMap<String, Vec<VerifierKey>>,
    states: BTreeMap<String, LogState>,
}

impl Witness {
    /// Opens (creating it if missing) the state directory `dir`, for a
    /// witness that cosigns with `cosigner` the logs whose keys are `logs`
    /// (each key's name is its log's origin; several keys per origin allow
    /// rotation).
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Key`] for a log key that is not Ed25519;
    /// [`Error::Parse`] for a corrupt state file.
    pub fn open(dir: &Path, cosigner: Cosigner, logs: &[VerifierKey]) -> Result<Witness, Error> {
        let mut by_origin: BTreeMap<String, Vec<VerifierKey>> = BTreeMap::new();
        for key in logs {
            if key.kind() != SignatureType::ED25519 {
                return Err(Error::Key {
                    name: key.name().to_owned(),
                    reason: format!("a log key signs with Ed25519, not {}", key.kind()),
                });
            }
            by_origin
                .entry(key.name().to_owned())
                .or_default()
                .push(key.clone());
        }
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let mut states = BTreeMap::new();
        for origin in by_origin.keys() {
            let path = dir.join(state_file_name(origin));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(path)(e)),
            };
            let checkpoint = Checkpoint::parse(&text)?;
            if checkpoint.origin() != origin {
                return Err(Error::parse(
                    "witness state",
                    Some(1),
                    format!(
                        "{} holds origin {:?}, not {origin:?}",
                        path.display(),
                        checkpoint.origin()
                    ),
                ));
            }
            states.insert(
                origin.clone(),
                LogState {
                    size: checkpoint.size(),
                    root: *checkpoint.root(),
                },
            );
        }
        Ok(Witness {
            dir: dir.to_owned(),
            cosigner,
            logs: by_origin,
            states,
        })
    }

    /// The latest cosigned tree of a log, if any.
    pub fn state(&self, origin: &str) -> Option<LogState> {
        self.states.get(origin).copied()
    }

    /// The witness's verifier key.
    pub fn verifier_key(&self) -> VerifierKey {
        self.cosigner.verifier_key()
    }

    /// Handles an `add-checkpoint` request body at time `now` (POSIX
    /// seconds): checks it as C2SP tlog-witness says, persists the new state,
    /// and returns the cosignature lines (the 200 response body).
    ///
    /// # Errors
    /// A [`WitnessError`] for each of the protocol's refusals, in the
    /// protocol's order: 400 malformed, 404 unknown origin, 403 no valid log
    /// signature, 400 old > size, 409 old ≠ latest, 422 bad proof or split
    /// view; 500 when the state cannot be persisted.
    pub fn add_checkpoint(&mut self, body: &[u8], now: u64) -> Result<String, WitnessError> {
        let request = AddCheckpoint::parse(body).map_err(WitnessError::Malformed)?;
        let checkpoint = request.checkpoint.checkpoint().clone();
        let origin = checkpoint.origin().to_owned();
        let Some(keys) = self.logs.get(&origin) else {
            return Err(WitnessError::UnknownOrigin { origin });
        };
        request
            .checkpoint
            .note()
            .verify(keys)
            .map_err(|e| WitnessError::BadLogSignature {
                origin: origin.clone(),
                reason: e.to_string(),
            })?;
        let (old, size) = (request.old_size, checkpoint.size());
        if old > size {
            return Err(WitnessError::OldSizeTooLarge { old, size });
        }
        let latest = self.states.get(&origin).copied();
        let latest_size = latest.map_or(0, |s| s.size);
        if old != latest_size {
            return Err(WitnessError::Conflict {
                old,
                latest: latest_size,
            });
        }
        if let Some(state) = latest {
            if size == state.size && *checkpoint.root() != state.root {
                return Err(WitnessError::SplitView {
                    size,
                    cosigned: fmt_hash(&state.root),
                    offered: fmt_hash(checkpoint.root()),
                });
            }
        }
        let old_root = latest.map_or_else(crate::merkle::empty_root, |s| s.root);
        verify_consistency(old, size, &old_root, checkpoint.root(), &request.proof)
            .map_err(|reason| WitnessError::BadProof { old, size, reason })?;

        // Persist before answering.
        let new_state = LogState {
            size,
            root: *checkpoint.root(),
        };
        if latest != Some(new_state) {
            let state_text = Checkpoint::new(&origin, size, new_state.root)
                .map_err(WitnessError::Storage)?
                .text();
            fsutil::write_atomic(
                &self.dir.join(state_file_name(&origin)),
                state_text.as_bytes(),
            )
            .map_err(WitnessError::Storage)?;
            self.states.insert(origin, new_state);
        }
        let cosignature = self
            .cosigner
            .cosign(&checkpoint, now)
            .map_err(WitnessError::Storage)?;
        Ok(cosignature.to_string())
    }
}

/// The state file of an origin: the origin with every byte outside
/// `[A-Za-z0-9._-]` percent-encoded, so it stays readable and unique.
fn state_file_name(origin: &str) -> String {
    let mut name = String::with_capacity(origin.len() + 11);
    for b in origin.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name.push_str(".checkpoint");
    name
}
