//! Offline verification of a whole transcript, and proofs from it.
//!
//! [`verify_dir`] reads a transcript directory without changing it and
//! checks, in order:
//!
//! 1. every `index` line and every `entries` record: well formed, end
//!    offsets and leaf hashes matching, no byte before, between or after
//!    them unaccounted for;
//! 2. every entry: canonical JSON, its `seq` equal to its position, the
//!    first one opening the ceremony for the declared log key's origin,
//!    nothing after the close;
//! 3. every checkpoint in `checkpoints/`: named for its size, signed by the
//!    declared log key, every other signature line a valid cosignature by a
//!    given witness key (the log stores only cosignatures it verified, so an
//!    unknown signature line is tampering, or a witness key missing from the
//!    list), its root equal to the rebuilt tree's at its size;
//! 4. consistency between successive checkpoints, with an RFC 9162
//!    consistency proof from the rebuilt tree, verified as §2.1.4.2 says;
//! 5. a closed ceremony's last checkpoint covers every entry.
//!
//! [`verify_committed`] makes the same checks on an interrupted transcript:
//! on what [`Log::open`](crate::Log::open) would keep of it after a crash,
//! without changing it, and [`read_opening`] reads the keys the first entry
//! declares, for an auditor who was not given them.
//!
//! The first failure is returned, naming the entry (by index) or the
//! checkpoint (by file). On success the [`Timeline`] holds every entry and
//! checkpoint, reads as a story ([`fmt::Display`]), and offers the hooks
//! for the checks that need the files beside the transcript
//! ([`Timeline::files_written`], [`Timeline::files_read`]) and for proofs.

use std::fmt;
use std::path::Path;

use crate::checkpoint::{fmt_hash, Cosigned, SignedCheckpoint};
use crate::entry::{CeremonyOpened, Entry, Event, FileRead, FileWritten};
use crate::error::Error;
use crate::log::{
    check_opened, checkpoint_file_name, read_checkpoints, scan, Recovery, DATA_FILE, INDEX_FILE,
    INDEX_LINE_LEN,
};
use crate::merkle::{verify_consistency, Hash, Tree};
use crate::note::{SignatureType, VerifierKey};
use crate::proof::{ConsistencyProof, TlogProof};

/// A checkpoint that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// Its file name in `checkpoints/`.
    pub file: String,
    /// The signed note.
    pub signed: SignedCheckpoint,
    /// The cosignatures by the given witnesses that verified.
    pub cosignatures: Vec<Cosigned>,
}

impl VerifiedCheckpoint {
    /// The tree size it signs.
    pub fn size(&self) -> u64 {
        self.signed.checkpoint().size()
    }

    /// The root hash it signs.
    pub fn root(&self) -> &Hash {
        self.signed.checkpoint().root()
    }
}

/// A verified transcript: every entry and checkpoint, in order.
#[derive(Clone, Debug)]
pub struct Timeline {
    origin: String,
    entries: Vec<Entry>,
    tree: Tree,
    checkpoints: Vec<VerifiedCheckpoint>,
}

impl Timeline {
    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Every entry, in order (an entry's index is its `seq`).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The Merkle tree of the entries.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Every checkpoint, by size.
    pub fn checkpoints(&self) -> &[VerifiedCheckpoint] {
        &self.checkpoints
    }

    /// The size of the latest checkpoint: entries past it are not yet signed.
    pub fn signed_size(&self) -> u64 {
        self.checkpoints.last().map_or(0, VerifiedCheckpoint::size)
    }

    /// The size of the latest checkpoint cosigned by at least `quorum`
    /// distinct given witnesses (0 if none is).
    pub fn witnessed_size(&self, quorum: usize) -> u64 {
        self.checkpoints
            .iter()
            .rev()
            .find(|c| {
                let mut names: Vec<&str> =
                    c.cosignatures.iter().map(|s| s.witness.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                names.len() >= quorum
            })
            .map_or(0, VerifiedCheckpoint::size)
    }

    /// Whether the ceremony was closed.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.entries.last().map(|e| &e.event),
            Some(Event::CeremonyClosed(_))
        )
    }

    /// Every file the ceremony says it wrote, with the entry's index: the
    /// hook for checking output files against the logged hashes.
    pub fn files_written(&self) -> impl Iterator<Item = (u64, &FileWritten)> {
        self.entries.iter().filter_map(|e| match &e.event {
            Event::FileWritten(f) => Some((e.seq, f)),
            _ => None,
        })
    }

    /// Every file the ceremony says it read, with the entry's index.
    pub fn files_read(&self) -> impl Iterator<Item = (u64, &FileRead)> {
        self.entries.iter().filter_map(|e| match &e.event {
            Event::FileRead(f) => Some((e.seq, f)),
            _ => None,
        })
    }

    /// The C2SP tlog-proof of entry `index` in the latest checkpoint, with
    /// the entry's canonical JSON as its extra data.
    ///
    /// # Errors
    /// [`Error::Proof`] when the entry is past the latest checkpoint (or
    /// there is none).
    pub fn prove_inclusion(&self, index: u64) -> Result<TlogProof, Error> {
        let latest = self
            .checkpoints
            .last()
            .ok_or(crate::merkle::ProofError::IndexOutOfRange { index, size: 0 })?;
        let entry = usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .ok_or(crate::merkle::ProofError::IndexOutOfRange {
                index,
                size: self.size(),
            })?;
        TlogProof::build(&self.tree, &latest.signed, index, Some(entry.encode()))
    }

    /// The consistency proof between the trees of `old` and `new` entries.
    ///
    /// # Errors
    /// [`Error::Proof`] unless `old <= new <= size`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, Error> {
        ConsistencyProof::build(&self.tree, old, new)
    }
}

impl fmt::Display for Timeline {
    /// The story: one line per entry, checkpoints where they were signed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} entries, {} checkpoints, {}",
            self.origin,
            self.size(),
            self.checkpoints.len(),
            if self.is_closed() {
                "closed"
            } else {
                "not closed"
            }
        )?;
        let mut checkpoints = self.checkpoints.iter().peekable();
        for entry in &self.entries {
            writeln!(
                f,
                "{:>6}  {}  {:<12} {}",
                entry.seq, entry.time, entry.by, entry.event
            )?;
            while let Some(c) = checkpoints.next_if(|c| c.size() == entry.seq + 1) {
                write!(
                    f,
                    "        checkpoint {} root {}",
                    c.size(),
                    fmt_hash(c.root())
                )?;
                for s in &c.cosignatures {
                    let when = jiff::Timestamp::from_second(s.timestamp as i64)
                        .map_or_else(|_| s.timestamp.to_string(), |t| t.to_string());
                    write!(f, "; cosigned by {} at {when}", s.witness)?;
                }
                writeln!(f)?;
            }
        }
        if self.signed_size() < self.size() {
            writeln!(
                f,
                "        entries {}..{} are not covered by a checkpoint yet",
                self.signed_size(),
                self.size()
            )?;
        }
        Ok(())
    }
}

/// Verifies the transcript in `dir` (a ceremony's `transcript/`) against
/// the declared log key and the witness keys; see the [module
/// documentation](self) for every check.
///
/// # Errors
/// [`Error::Entry`] naming the first bad entry; [`Error::Checkpoint`]
/// naming the bad checkpoint; [`Error::Log`] for an empty transcript;
/// [`Error::Io`] when a file cannot be read.
pub fn verify_dir(
    dir: &Path,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<Timeline, Error> {
    verify(dir, log_key, witnesses, true).map(|(timeline, _)| timeline)
}

/// Verifies an interrupted transcript: what [`Log::open`](crate::Log::open)
/// would keep of it, read-only, with every check of [`verify_dir`] on that.
///
/// A crash (or `kill -9`) during an append can leave an uncommitted tail:
/// record bytes past the last index line, a torn index line, or index lines
/// whose records are incomplete. [`verify_dir`] refuses those; this counts
/// them in the returned [`Recovery`], exactly as `Log::open` would cut them,
/// and verifies the committed entries. It also accepts a close that was
/// recorded but never signed (a crash before the last checkpoint): the
/// [`Timeline`] then says it is closed, and its
/// [`signed_size`](Timeline::signed_size) is short of its size.
///
/// Use it to audit a ceremony that was interrupted, and say so; a finished
/// ceremony is checked with [`verify_dir`].
///
/// # Errors
/// As [`verify_dir`]: a bad committed entry or checkpoint is an error, and
/// so is a checkpoint that signs more entries than remain complete.
pub fn verify_committed(
    dir: &Path,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<(Timeline, Recovery), Error> {
    verify(dir, log_key, witnesses, false)
}

/// The first entry's [`CeremonyOpened`]: the log key and the other keys
/// the ceremony declares; `None` while no entry is committed.
///
/// This is the transcript's own claim, read before anything is verified:
/// anyone who rewrites a whole transcript can declare their own keys. Verify
/// against the log key announced when the ceremony opened, or cosigned by
/// witnesses, where it is at hand, and say which one was used.
///
/// # Errors
/// [`Error::Entry`] when the first entry is bad; [`Error::Io`].
pub fn read_opening(dir: &Path) -> Result<Option<CeremonyOpened>, Error> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(Error::io(path))
    };
    let data = read(DATA_FILE)?;
    let index = read(INDEX_FILE)?;
    let first_line = &index[..index.len().min(INDEX_LINE_LEN)];
    let s = scan(&data, first_line)?;
    match s.entries.into_iter().next().map(|e| e.event) {
        None => Ok(None),
        Some(Event::CeremonyOpened(opened)) => Ok(Some(opened)),
        Some(_) => Err(Error::Entry {
            index: 0,
            reason: "the first entry must be ceremony_opened".to_owned(),
        }),
    }
}

/// [`verify_dir`] when `strict`, else [`verify_committed`].
fn verify(
    dir: &Path,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    strict: bool,
) -> Result<(Timeline, Recovery), Error> {
    if log_key.kind() != SignatureType::ED25519 {
        return Err(Error::Key {
            name: log_key.name().to_owned(),
            reason: format!("a log key signs with Ed25519, not {}", log_key.kind()),
        });
    }
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(Error::io(path))
    };
    let data = read(DATA_FILE)?;
    let index = read(INDEX_FILE)?;

    // 1–2. Entries, strictly: nothing incomplete, nothing extra — unless an
    // interrupted transcript is asked for, whose uncommitted tail is counted.
    let s = scan(&data, &index)?;
    let n = s.entries.len() as u64;
    let recovery = Recovery {
        kept: n,
        truncated_bytes: data.len() as u64 - s.data_end(),
        index_truncated_bytes: index.len() as u64 - n * INDEX_LINE_LEN as u64,
    };
    if strict {
        if n < s.index_lines as u64 {
            return Err(Error::Entry {
                index: n,
                reason: format!(
                    "its record is incomplete: {DATA_FILE} ends at byte {}",
                    data.len()
                ),
            });
        }
        if s.index_partial {
            return Err(Error::Entry {
                index: n,
                reason: format!(
                    "{INDEX_FILE} ends in a partial line ({} bytes)",
                    index.len() % INDEX_LINE_LEN
                ),
            });
        }
        if (data.len() as u64) > s.data_end() {
            return Err(Error::Entry {
                index: n,
                reason: format!(
                    "{DATA_FILE} holds {} bytes past the last indexed entry",
                    data.len() as u64 - s.data_end()
                ),
            });
        }
    }
    let Some(first) = s.entries.first() else {
        return Err(Error::Log {
            dir: dir.to_owned(),
            reason: "the transcript is empty".to_owned(),
        });
    };
    check_opened(first, log_key)?;
    let tree = Tree::from_leaves(&s.leaves);

    // 3–4. Checkpoints, each against the tree, each consistent with the last.
    let mut checkpoints: Vec<VerifiedCheckpoint> = Vec::new();
    for (size, file, bytes) in read_checkpoints(dir)? {
        let bad = |reason: String| Error::Checkpoint {
            file: file.clone(),
            reason,
        };
        let signed = SignedCheckpoint::parse(&bytes).map_err(|e| bad(e.to_string()))?;
        let cosignatures = signed
            .verify(log_key, witnesses)
            .map_err(|e| bad(e.to_string()))?;
        for sig in signed.note().signatures() {
            let known = std::iter::once(log_key)
                .chain(witnesses)
                .any(|k| k.name() == sig.name() && k.key_id() == sig.key_id());
            if !known {
                return Err(bad(format!(
                    "a signature by {} (key ID {}) is by neither the log nor a given witness",
                    sig.name(),
                    sig.key_id()
                )));
            }
        }
        let cp = signed.checkpoint();
        if cp.size() != size {
            return Err(bad(format!(
                "the file is named for size {size}, it signs {}",
                cp.size()
            )));
        }
        if size == 0 || size > n {
            return Err(bad(format!(
                "it signs {size} entries; the transcript holds {n}"
            )));
        }
        let prev = checkpoints.last();
        let from = prev.map_or(0, VerifiedCheckpoint::size);
        if tree.root_at(size)? != *cp.root() {
            return Err(bad(format!(
                "its root is not that of entries 0..{size}: the entries {from}..{size} are not what the log signed"
            )));
        }
        if let Some(prev) = prev {
            let proof = tree.consistency_proof(prev.size(), size)?;
            verify_consistency(prev.size(), size, prev.root(), cp.root(), &proof)
                .map_err(|e| bad(format!("not consistent with checkpoint {}: {e}", prev.file)))?;
        }
        checkpoints.push(VerifiedCheckpoint {
            file,
            signed,
            cosignatures,
        });
    }

    // 5. A closed ceremony is signed to the end.
    let timeline = Timeline {
        origin: log_key.name().to_owned(),
        entries: s.entries,
        tree,
        checkpoints,
    };
    if strict && timeline.is_closed() && timeline.signed_size() != n {
        return Err(Error::Checkpoint {
            file: checkpoint_file_name(n),
            reason: format!(
                "missing: the ceremony closed at {n} entries, but the last checkpoint signs {}",
                timeline.signed_size()
            ),
        });
    }
    Ok((timeline, recovery))
}
