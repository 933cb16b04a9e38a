//! Offline proofs: C2SP tlog-proof (inclusion) and consistency proofs.
//!
//! A [tlog-proof] proves that an entry is in a checkpointed tree, verifiable
//! with nothing but the log's and witnesses' keys:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of the entry's canonical JSON>
//! index 3
//! <base64 hash, the leaf's sibling first>
//! …
//!
//! <the cosigned checkpoint, verbatim>
//! ```
//!
//! The transcript puts the entry itself in the `extra` line, so the proof
//! stands alone. The extra data is unauthenticated by itself: it counts only
//! because its leaf hash must lead, through the proof, to the signed root.
//!
//! [tlog-proof]: https://c2sp.org/tlog-proof

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::checkpoint::{
    fmt_hash, parse_decimal, parse_hash, Checkpoint, Cosigned, SignedCheckpoint,
};
use crate::error::Error;
use crate::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
use crate::note::VerifierKey;

/// The first line of a tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion proof lines parsed (a tree of 2^64 leaves needs 64).
const MAX_PROOF_HASHES: usize = 64;

/// A C2SP tlog-proof: an entry's index, its inclusion proof, and the
/// checkpoint it leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    index: u64,
    extra: Option<Vec<u8>>,
    proof: Vec<Hash>,
    checkpoint: SignedCheckpoint,
}

impl TlogProof {
    /// The proof of leaf `index` in `checkpoint`'s tree, from a tree at
    /// least that large.
    pub(crate) fn build(
        tree: &Tree,
        checkpoint: &SignedCheckpoint,
        index: u64,
        extra: Option<Vec<u8>>,
    ) -> Result<TlogProof, Error> {
        let proof = tree.inclusion_proof(index, checkpoint.checkpoint().size())?;
        Ok(TlogProof {
            index,
            extra,
            proof,
            checkpoint: checkpoint.clone(),
        })
    }

    /// Parses a tlog-proof strictly.
    ///
    /// # Errors
    /// [`Error::Parse`] with the line and the rule broken.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, Error> {
        let what = "tlog-proof";
        let text = std::str::from_utf8(bytes).map_err(|_| Error::parse(what, None, "not UTF-8"))?;
        let mut rest = text;
        let mut line_no = 0;
        let mut next_line = |rest: &mut &str| -> Result<(usize, String), Error> {
            line_no += 1;
            let (line, after) = rest.split_once('\n').ok_or_else(|| {
                Error::parse(
                    what,
                    Some(line_no),
                    "C2SP tlog-proof: lines end in a newline",
                )
            })?;
            *rest = after;
            Ok((line_no, line.to_owned()))
        };
        let (n, header) = next_line(&mut rest)?;
        if header != TLOG_PROOF_HEADER {
            return Err(Error::parse(
                what,
                Some(n),
                format!("the first line is {TLOG_PROOF_HEADER}"),
            ));
        }
        let (mut n, mut line) = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(BASE64.decode(b64).map_err(|_| {
                Error::parse(what, Some(n), "C2SP tlog-proof: the extra data is base64")
            })?);
            (n, line) = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or_else(|| {
                Error::parse(
                    what,
                    Some(n),
                    "C2SP tlog-proof: 'index <n>', decimal with no leading zeros",
                )
            })?;
        let mut proof = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(Error::parse(what, Some(n), "more than 64 proof hashes"));
            }
            proof.push(parse_hash(&line).ok_or_else(|| {
                Error::parse(
                    what,
                    Some(n),
                    "C2SP tlog-proof: a proof line is one base64 SHA-256 hash",
                )
            })?);
        }
        let checkpoint = SignedCheckpoint::parse(rest.as_bytes())?;
        Ok(TlogProof {
            index,
            extra,
            proof,
            checkpoint,
        })
    }

    /// The entry's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The extra data: for transcript proofs, the entry's canonical JSON.
    pub fn extra(&self) -> Option<&[u8]> {
        self.extra.as_deref()
    }

    /// The inclusion proof hashes, the leaf's sibling first.
    pub fn proof(&self) -> &[Hash] {
        &self.proof
    }

    /// The checkpoint the proof leads to.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    /// Verifies that `entry` is at the proof's index in the checkpointed
    /// tree, and the checkpoint's signatures: the log's, and those of any
    /// of `witnesses` that cosigned (returned).
    ///
    /// # Errors
    /// As [`SignedCheckpoint::verify`], or [`Error::Proof`].
    pub fn verify(
        &self,
        entry: &[u8],
        log_key: &VerifierKey,
        witnesses: &[VerifierKey],
    ) -> Result<Vec<Cosigned>, Error> {
        let cosigned = self.checkpoint.verify(log_key, witnesses)?;
        let cp = self.checkpoint.checkpoint();
        verify_inclusion(
            &leaf_hash(entry),
            self.index,
            cp.size(),
            &self.proof,
            cp.root(),
        )?;
        Ok(cosigned)
    }
}

impl fmt::Display for TlogProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{TLOG_PROOF_HEADER}")?;
        if let Some(extra) = &self.extra {
            writeln!(f, "extra {}", BASE64.encode(extra))?;
        }
        writeln!(f, "index {}", self.index)?;
        for hash in &self.proof {
            writeln!(f, "{}", fmt_hash(hash))?;
        }
        writeln!(f)?;
        self.checkpoint.fmt(f)
    }
}

/// A consistency proof (RFC 9162 §2.1.4) between two tree sizes.
///
/// Its text form is one base64 hash per line, as in a tlog-witness
/// `add-checkpoint` request after the `old` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The old tree size.
    pub old_size: u64,
    /// The new tree size.
    pub new_size: u64,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// The proof from `old` to `new` entries of `tree`.
    ///
    /// # Errors
    /// [`Error::Proof`] unless `old <= new <= tree.size()`.
    pub fn build(tree: &Tree, old: u64, new: u64) -> Result<ConsistencyProof, Error> {
        Ok(ConsistencyProof {
            old_size: old,
            new_size: new,
            hashes: tree.consistency_proof(old, new)?,
        })
    }

    /// Verifies that `new` extends `old`: same origin, the proof's sizes,
    /// and the RFC 9162 §2.1.4.2 check. Signatures are not checked here.
    ///
    /// # Errors
    /// [`Error::Proof`], or [`Error::Parse`] when the checkpoints are of
    /// different logs or other sizes than the proof's.
    pub fn verify(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), Error> {
        if old.origin() != new.origin() {
            return Err(Error::parse(
                "consistency proof",
                None,
                format!(
                    "the checkpoints are of two logs: {:?} and {:?}",
                    old.origin(),
                    new.origin()
                ),
            ));
        }
        if old.size() != self.old_size || new.size() != self.new_size {
            return Err(Error::parse(
                "consistency proof",
                None,
                format!(
                    "the proof is from {} to {}, the checkpoints are of sizes {} and {}",
                    self.old_size,
                    self.new_size,
                    old.size(),
                    new.size()
                ),
            ));
        }
        verify_consistency(old.size(), new.size(), old.root(), new.root(), &self.hashes)?;
        Ok(())
    }
}

impl fmt::Display for ConsistencyProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for hash in &self.hashes {
            writeln!(f, "{}", fmt_hash(hash))?;
        }
        Ok(())
    }
}
