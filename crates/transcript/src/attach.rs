//! A witness's cosignature, returned after the fact, stored with the
//! checkpoint it cosigns.
//!
//! A witness that is not in the room cosigns offline: it is given a
//! tlog-witness `add-checkpoint` body (`ceremony transcript prove
//! --consistency`), checks it against its own state, and returns
//! `cosignature/v1` lines ([C2SP tlog-cosignature]). [`attach_cosignature`]
//! stores such lines in the transcript only when they are by a witness the
//! ceremony declared when it opened and verify over one of its checkpoints,
//! so that `verify` (which rejects any signature line by an unknown key)
//! then checks them as it checks the log's own.
//!
//! [C2SP tlog-cosignature]: https://c2sp.org/tlog-cosignature

use std::path::Path;

use crate::checkpoint::SignedCheckpoint;
use crate::error::Error;
use crate::fsutil::write_atomic;
use crate::log::CHECKPOINT_DIR;
use crate::note::{NoteSignature, SignatureType, VerifierKey};
use crate::verify::{read_opening, verify_committed};

/// One cosignature line, matched to its checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The checkpoint's file name in `checkpoints/`.
    pub file: String,
    /// The tree size it signs.
    pub size: u64,
    /// The cosignature's timestamp (seconds since 1970).
    pub timestamp: u64,
    /// Whether it was new (false: the same line was already stored).
    pub added: bool,
}

/// Verifies the cosignature `lines` (each `— <name> <base64>\n`, as a
/// witness answers) by `witness` and stores each with the checkpoint of the
/// transcript in `dir` that it cosigns. The transcript is verified first
/// with `log_key` and its declared witnesses.
///
/// # Errors
/// [`Error::Cosignature`] when `witness` is not a declared witness, a line
/// is by another key, or a line verifies over none of the checkpoints;
/// [`Error::Parse`] for malformed lines; any error of [`verify_committed`].
pub fn attach_cosignature(
    dir: &Path,
    log_key: &VerifierKey,
    witness: &VerifierKey,
    lines: &str,
) -> Result<Vec<Attached>, Error> {
    let refuse = |reason: String| Error::Cosignature {
        witness: format!("{}+{}", witness.name(), witness.key_id()),
        reason,
    };
    if witness.kind() != SignatureType::COSIGNATURE_V1 {
        return Err(refuse(format!(
            "a witness cosigns with cosignature/v1 (type 0x04), this key is {}",
            witness.kind()
        )));
    }
    let declared = read_opening(dir)?
        .map(|opened| opened.witnesses())
        .unwrap_or_default();
    if !declared.contains(witness) {
        let list: Vec<String> = declared.iter().map(ToString::to_string).collect();
        return Err(refuse(format!(
            "not a witness this ceremony declared (entry 0 declares {}): only a declared witness's cosignature is stored",
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        )));
    }
    let (timeline, _) = verify_committed(dir, log_key, &declared)?;
    let Some(body) = lines.strip_suffix('\n') else {
        return Err(Error::parse(
            "cosignature lines",
            None,
            "C2SP tlog-witness: each line ends in a newline",
        ));
    };
    let mut attached = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        let sig = NoteSignature::parse_line(line).map_err(|e| match e {
            Error::Parse { reason, .. } => Error::parse("cosignature lines", Some(i + 1), reason),
            other => other,
        })?;
        if sig.name() != witness.name() || sig.key_id() != witness.key_id() {
            return Err(refuse(format!(
                "line {} is by {}+{}, not by this witness",
                i + 1,
                sig.name(),
                sig.key_id()
            )));
        }
        let found = timeline.checkpoints().iter().find_map(|c| {
            witness
                .verify(c.signed.note().text(), &sig)
                .ok()
                .map(|time| (c, time.unwrap_or_default()))
        });
        let Some((checkpoint, timestamp)) = found else {
            let sizes: Vec<String> = timeline
                .checkpoints()
                .iter()
                .map(|c| c.size().to_string())
                .collect();
            return Err(refuse(format!(
                "line {} verifies over none of this transcript's checkpoints (of {} entries): it cosigns another checkpoint, or another log",
                i + 1,
                sizes.join(", ")
            )));
        };
        let path = dir.join(CHECKPOINT_DIR).join(&checkpoint.file);
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        let mut signed = SignedCheckpoint::parse(&bytes).map_err(|e| Error::Checkpoint {
            file: checkpoint.file.clone(),
            reason: e.to_string(),
        })?;
        let added = signed.add_signature(sig);
        if added {
            write_atomic(&path, signed.to_string().as_bytes())?;
        }
        attached.push(Attached {
            file: checkpoint.file.clone(),
            size: checkpoint.size(),
            timestamp,
            added,
        });
    }
    Ok(attached)
}
