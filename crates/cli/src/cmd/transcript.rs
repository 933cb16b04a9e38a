//! `ceremony transcript`: the public record of a ceremony, checked offline.
//!
//! * `verify DIR` checks what the library checks (every entry hash, the tree,
//!   every checkpoint signature and cosignature, consistency between
//!   successive checkpoints), then what only the ceremony directory can show:
//!   that each output file the transcript says was written is there with the
//!   SHA-256 it logged, and that the story makes sense (see [`story`]).
//! * `prove DIR --entry N` prints a C2SP tlog-proof, and `prove DIR
//!   --consistency OLD NEW` prints a consistency proof in the form of a
//!   tlog-witness `add-checkpoint` body (`old OLD`, the proof hashes, a blank
//!   line, the signed checkpoint of NEW entries). The same text is the request
//!   that a witness whose latest cosigned size is OLD answers.
//! * `verify-proof PROOF --log-key K [--checkpoint FILE]` verifies either kind
//!   of proof, with nothing but the keys (and, for consistency, the old
//!   checkpoint that is already trusted).
//! * `cosign` is a witness run offline on one request body, and
//!   `witness-keygen` makes its key.
//!
//! A witness key file is one line in the signed-note private key form:
//! `PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(0x04 ‖ 32-byte Ed25519 seed)>`
//! (type 0x04: cosignature/v1).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ceremony_formats::Fingerprint;
use ceremony_keys::keystore::Unlock;
use ceremony_transcript::checkpoint::{fmt_hash, Cosigned};
use ceremony_transcript::entry::{CheckStatus, Entry, TCR_ROLE};
use ceremony_transcript::log::{CHECKPOINT_DIR, DATA_FILE, INDEX_FILE, TRANSCRIPT_DIR};
use ceremony_transcript::note::SignatureType;
use ceremony_transcript::proof::TLOG_PROOF_HEADER;
use ceremony_transcript::witness::AddCheckpoint;
use ceremony_transcript::{
    check_outputs, read_opening, verify_committed, verify_dir, ConsistencyProof, Cosigner, Event,
    OutputCheck, OutputStatus, Recovery, SignedCheckpoint, Timeline, TlogProof, VerifierKey,
    Witness,
};
use serde_json::{json, Value};

use super::{emit, emit_json, now};
use crate::args::{Global, TranscriptCommand};
use crate::ceremony_log::{declared_key_tags, root_lines, KSK_ROLE};
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

/// The prefix of a signed-note private key line.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
/// The most files listed as not in the transcript.
const MAX_UNLOGGED: usize = 10_000;

pub fn run(command: TranscriptCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        TranscriptCommand::Verify {
            dir,
            log_key,
            witness_keys,
            allow_open,
        } => {
            let keys = Keys::parse(log_key.as_deref(), &witness_keys)?;
            verify_command(&dir, &keys, allow_open, global, env)
        }
        TranscriptCommand::Prove {
            dir,
            entry,
            consistency,
            log_key,
            witness_keys,
        } => {
            let keys = Keys::parse(log_key.as_deref(), &witness_keys)?;
            prove(&dir, entry, consistency.as_deref(), &keys, global, env)
        }
        TranscriptCommand::VerifyProof {
            proof,
            log_key,
            witness_keys,
            checkpoint,
        } => verify_proof(
            &proof,
            &parse_key("--log-key", &log_key)?,
            &parse_keys("--witness-key", &witness_keys)?,
            checkpoint.as_deref(),
            global,
            env,
        ),
        TranscriptCommand::Cosign {
            request,
            state,
            key_file,
            identity,
            passphrase_env,
            log_keys,
        } => {
            let unlock =
                crate::sealed::unlock_from(identity.as_deref(), passphrase_env.as_deref())?;
            let cosigner = read_witness_key(&key_file, &unlock)?;
            cosign(&request, &state, cosigner, &log_keys, global, env)
        }
        TranscriptCommand::WitnessKeygen {
            name,
            key_file,
            recipient,
            passphrase_env,
        } => {
            // The key file is sealed like a share: to one recipient or a passphrase.
            let recipients: Vec<String> = recipient.into_iter().collect();
            let to = crate::sealed::holder_recipients(&recipients, passphrase_env.as_deref(), 1)?
                .pop()
                .ok_or_else(|| Failure::input("give --recipient or --passphrase-env"))?;
            witness_keygen(&name, &key_file, to.as_ref(), global, env)
        }
        TranscriptCommand::Attach {
            dir,
            cosignature,
            witness_key,
            log_key,
        } => attach(
            &dir,
            &cosignature,
            &parse_key("--witness-key", &witness_key)?,
            log_key.as_deref(),
            global,
            env,
        ),
    }
}

// ---------------------------------------------------------------------------
// Keys and errors.

fn parse_key(flag: &str, text: &str) -> Result<VerifierKey, Failure> {
    text.parse().map_err(|err| {
        Failure::input(format!("{flag} {text:?}: {err}"))
            .hint("a verifier key reads <name>+<8 hex digits>+<base64>")
    })
}

fn parse_keys(flag: &str, texts: &[String]) -> Result<Vec<VerifierKey>, Failure> {
    texts.iter().map(|t| parse_key(flag, t)).collect()
}

/// The keys given on the command line; missing ones come from the transcript.
pub(crate) struct Keys {
    log: Option<VerifierKey>,
    witnesses: Vec<VerifierKey>,
}

impl Keys {
    fn parse(log: Option<&str>, witnesses: &[String]) -> Result<Keys, Failure> {
        Ok(Keys {
            log: log.map(|k| parse_key("--log-key", k)).transpose()?,
            witnesses: parse_keys("--witness-key", witnesses)?,
        })
    }

    /// The log key that the room wrote down, and no witnesses (they come from
    /// the transcript's own declaration).
    pub(crate) fn log(log: VerifierKey) -> Keys {
        Keys {
            log: Some(log),
            witnesses: Vec::new(),
        }
    }
}

/// What failed verification: the transcript, a checkpoint, a proof (exit 1);
/// a key or a text that is no proof (exit 2); the file system (exit 3).
fn transcript_failure(context: &str, err: ceremony_transcript::Error) -> Failure {
    use ceremony_transcript::Error;
    match &err {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Failure::input(format!("{context}{err}"))
        }
        Error::Io { .. } => Failure::environment(format!("{context}{err}")),
        Error::Key { .. } | Error::Parse { .. } => Failure::input(format!("{context}{err}")),
        _ => Failure {
            code: EXIT_CHECKS_FAILED,
            message: format!("{context}{err}"),
            hint: Some(
                "the transcript was changed after it was written, or damaged, or the key is not the ceremony's"
                    .to_owned(),
            ),
        },
    }
}

/// A file named on the command line, or standard input for `-`.
fn read_input(path: &Path, env: &mut dyn Env) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let limit = ceremony_transcript::witness::MAX_REQUEST_BYTES as u64 + 1;
    let result = if path == Path::new("-") {
        env.stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    result.map_err(|err| Failure::input(format!("{}: cannot read: {err}", path.display())))?;
    if bytes.len() as u64 >= limit {
        return Err(Failure::input(format!(
            "{}: larger than {} bytes: not a proof or request",
            path.display(),
            limit - 1
        )));
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// Loading: the transcript found, its keys settled, verified.

/// A transcript that verified, with where its keys came from.
pub(crate) struct Loaded {
    ceremony_dir: PathBuf,
    transcript_dir: PathBuf,
    log_key: VerifierKey,
    log_key_given: bool,
    witnesses: Vec<VerifierKey>,
    witnesses_given: bool,
    timeline: Timeline,
    /// What an interrupted append left, as reopening would cut it.
    recovery: Recovery,
}

/// The ceremony directory and its transcript directory; `dir` may also be
/// the transcript directory itself.
fn locate(dir: &Path) -> Result<(PathBuf, PathBuf), Failure> {
    let inside = dir.join(TRANSCRIPT_DIR);
    if inside.is_dir() {
        return Ok((dir.to_owned(), inside));
    }
    if dir.join(DATA_FILE).is_file() && dir.join(INDEX_FILE).is_file() {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        return Ok((parent, dir.to_owned()));
    }
    Err(Failure::input(format!(
        "{}: no transcript here (no {TRANSCRIPT_DIR}/ directory)",
        dir.display()
    ))
    .hint("give the ceremony directory: the one holding transcript/ and the outputs"))
}

/// Finds, keys and verifies the transcript of the ceremony in `dir`: all of
/// it (`strict`), or what it committed before an interruption. `None` when
/// no entry was committed: the ceremony never opened.
fn load(dir: &Path, keys: &Keys, strict: bool) -> Result<Option<Loaded>, Failure> {
    let (ceremony_dir, transcript_dir) = locate(dir)?;
    let context = format!("{}: ", transcript_dir.display());
    for name in [DATA_FILE, INDEX_FILE] {
        if !transcript_dir.join(name).is_file() {
            return Err(Failure::input(format!(
                "{context}not a transcript: {name} is missing"
            )));
        }
    }
    let Some(opened) =
        read_opening(&transcript_dir).map_err(|e| transcript_failure(&context, e))?
    else {
        let signed = std::fs::read_dir(transcript_dir.join(CHECKPOINT_DIR))
            .map(|items| {
                items
                    .flatten()
                    .any(|i| !i.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .unwrap_or(false);
        if signed || strict {
            return Err(Failure {
                code: EXIT_CHECKS_FAILED,
                message: format!(
                    "{context}entry 0: missing: the transcript holds no complete entry{}",
                    if signed {
                        ", yet checkpoints sign entries: they were removed"
                    } else {
                        ""
                    }
                ),
                hint: (!signed).then(|| {
                    "the ceremony was interrupted before it opened; --allow-open accepts that"
                        .to_owned()
                }),
            });
        }
        return Ok(None);
    };
    let (log_key, log_key_given) = match &keys.log {
        Some(key) => (key.clone(), true),
        None => (opened.log_key.clone(), false),
    };
    let (witnesses, witnesses_given) = if keys.witnesses.is_empty() {
        (opened.witnesses(), false)
    } else {
        (keys.witnesses.clone(), true)
    };
    let verified = if strict {
        verify_dir(&transcript_dir, &log_key, &witnesses).map(|t| (t, Recovery::default()))
    } else {
        verify_committed(&transcript_dir, &log_key, &witnesses)
    };
    let (timeline, recovery) = verified.map_err(|e| transcript_failure(&context, e))?;
    Ok(Some(Loaded {
        ceremony_dir,
        transcript_dir,
        log_key,
        log_key_given,
        witnesses,
        witnesses_given,
        timeline,
        recovery,
    }))
}

// ---------------------------------------------------------------------------
// verify: the audit.

/// One inconsistency, at the entry it concerns (the entry count for what is
/// missing at the end).
#[derive(Debug)]
pub(crate) struct Problem {
    entry: u64,
    message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}: {}", self.entry, self.message)
    }
}

/// An output status for a person: a problem shouts.
fn status_word(status: &OutputStatus) -> String {
    match status {
        OutputStatus::Missing | OutputStatus::Differs { .. } | OutputStatus::BadName => {
            status.name().to_uppercase().replace('_', " ")
        }
        _ => status.name().to_owned(),
    }
}

/// A transcript verified, with its files and story checked.
pub(crate) struct Audit {
    loaded: Loaded,
    files: Vec<OutputCheck>,
    /// Files in the ceremony directory that no entry names.
    unlogged: Vec<String>,
    /// Every inconsistency, by entry.
    problems: Vec<Problem>,
    /// What an interruption explains.
    notes: Vec<String>,
    allow_open: bool,
}

impl Audit {
    /// Whether every check passed.
    pub(crate) fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The size and root of the latest checkpoint.
    fn root(&self) -> Option<(u64, [u8; 32], &str)> {
        self.loaded
            .timeline
            .checkpoints()
            .last()
            .map(|c| (c.size(), *c.root(), c.file.as_str()))
    }
}

/// Audits the ceremony in `dir`; `None` for a transcript with no entry,
/// accepted with `allow_open`.
///
/// # Errors
/// A [`Failure`] naming the first bad entry or checkpoint (exit 1), an
/// unreadable or missing transcript (exit 2), an I/O failure (exit 3).
pub(crate) fn audit(dir: &Path, keys: &Keys, allow_open: bool) -> Result<Option<Audit>, Failure> {
    let Some(loaded) = load(dir, keys, !allow_open)? else {
        return Ok(None);
    };
    let timeline = &loaded.timeline;
    let mut problems = story(timeline);
    let mut notes = Vec::new();
    let size = timeline.size();
    if !loaded.recovery.is_clean() {
        notes.push(format!(
            "an append was interrupted: reopening the log would cut {} bytes of {DATA_FILE} and {} bytes of {INDEX_FILE}, keeping {} entries",
            loaded.recovery.truncated_bytes, loaded.recovery.index_truncated_bytes, loaded.recovery.kept
        ));
    }
    if timeline.is_closed() {
        if timeline.signed_size() < size {
            notes.push(format!(
                "the close (entry {}) was recorded, but the process ended before signing its checkpoint",
                size - 1
            ));
        }
    } else if allow_open {
        notes.push(format!(
            "the ceremony is not closed: it is still running, or was interrupted after entry {}",
            size - 1
        ));
    } else {
        problems.push(Problem {
            entry: size,
            message: format!(
                "missing: the ceremony was not closed (the transcript ends at entry {} with no ceremony_closed); if it was interrupted, audit it with --allow-open",
                size - 1
            ),
        });
    }
    let files = check_files(&loaded, &mut problems, &mut notes)?;
    let unlogged = unlogged_files(&loaded.ceremony_dir, &loaded.transcript_dir, &files);
    problems.sort_by_key(|p| p.entry);
    Ok(Some(Audit {
        loaded,
        files,
        unlogged,
        problems,
        notes,
        allow_open,
    }))
}

/// Whether a report let the ceremony go on: nothing failed, something passed.
fn checks_passed(checks: &[ceremony_transcript::entry::CheckOutcome]) -> bool {
    checks.iter().all(|c| c.status != CheckStatus::Failed)
        && checks.iter().any(|c| c.status == CheckStatus::Passed)
}

/// The rules of the story, beyond the log's own (the first entry opens the
/// ceremony, nothing follows the close):
///
/// * time never runs backwards from one entry to the next;
/// * every file, check, approval, signature, share or output event happens
///   inside an act (after an `act_started`), and no act starts twice;
/// * a participant is recorded present once, and a TCR approves only after
///   being recorded present (role `tcr`) with an Ed25519 identity key in
///   the C2SP verifier-key form, which must verify the approval's signature
///   over the exact bundle signed-data hashes;
/// * when the ceremony declares a quorum rule (`approvals` in its opening),
///   every signature of a bundle comes after that many distinct TCRs'
///   verified approvals of it;
/// * approvals, partial signatures and signatures come only after a check
///   report in which nothing failed and something passed (the latest one
///   decides);
/// * a partial signature from a holder recorded present comes after their
///   approval of that bundle;
/// * when the ceremony declares its KSKs, every signature is by one of them
///   (its key tag, or its RFC 5011 revoked tag).
pub(crate) fn story(timeline: &Timeline) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut bad = |entry: u64, message: String| problems.push(Problem { entry, message });
    let mut ksk_tags: Option<BTreeSet<u16>> = None;
    let mut present: BTreeMap<&str, u64> = BTreeMap::new();
    let mut acts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut in_act = false;
    let mut last_checks: Option<(u64, bool)> = None;
    let mut approved: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // Each TCR's identity key, from their participant_present.
    let mut identities: BTreeMap<&str, Option<VerifierKey>> = BTreeMap::new();
    let mut quorum = 0usize;
    let mut previous: Option<&Entry> = None;
    for entry in timeline.entries() {
        let i = entry.seq;
        if let Some(prev) = previous.filter(|p| entry.time < p.time) {
            bad(
                i,
                format!(
                    "recorded at {}, before entry {} ({}): the clock went back, or entries were moved",
                    entry.time, prev.seq, prev.time
                ),
            );
        }
        previous = Some(entry);
        let needs_act = !matches!(
            entry.event,
            Event::CeremonyOpened(_)
                | Event::ParticipantPresent(_)
                | Event::ActStarted(_)
                | Event::CeremonyClosed(_)
        );
        if needs_act && !in_act {
            bad(
                i,
                "it happens outside any act: no act_started comes before it".to_owned(),
            );
        }
        let checked = |what: &str| match last_checks {
            Some((_, true)) => None,
            Some((at, false)) => Some(format!(
                "{what} after the checks of entry {at} did not pass"
            )),
            None => Some(format!("{what} before any check report")),
        };
        match &entry.event {
            Event::CeremonyOpened(opened) => {
                let ksks: Vec<_> = opened.keys.iter().filter(|k| k.role == KSK_ROLE).collect();
                if !ksks.is_empty() {
                    // A KSK declared in a form we cannot read restricts nothing.
                    let tags: Option<Vec<Vec<u16>>> =
                        ksks.iter().map(|k| declared_key_tags(k)).collect();
                    ksk_tags = tags.map(|t| t.into_iter().flatten().collect());
                }
                quorum = opened.approvals as usize;
            }
            Event::ParticipantPresent(p) => {
                if let Some(at) = present.insert(&p.name, i) {
                    bad(
                        i,
                        format!("{} is recorded present again (entry {at})", p.name),
                    );
                }
                if p.role == TCR_ROLE {
                    let key = p
                        .identity_key
                        .parse::<VerifierKey>()
                        .ok()
                        .filter(|k| k.kind() == SignatureType::ED25519);
                    if key.is_none() {
                        bad(
                            i,
                            format!(
                                "the TCR {}'s identity key {:?} is not an Ed25519 verifier key (<name>+<key ID>+<base64>): their approvals cannot be checked",
                                p.name, p.identity_key
                            ),
                        );
                    }
                    identities.insert(&p.name, key);
                }
            }
            Event::ActStarted(act) => {
                in_act = true;
                if let Some(at) = acts.insert(&act.act, i) {
                    bad(i, format!("act {} starts again (entry {at})", act.act));
                }
            }
            Event::CheckReport(report) => last_checks = Some((i, checks_passed(&report.checks))),
            Event::Approval(a) => {
                if let Some(why) = checked(&format!("approval by {}", a.tcr)) {
                    bad(i, why);
                }
                if !present.contains_key(a.tcr.as_str()) {
                    bad(
                        i,
                        format!("approval by {}, who is not recorded present", a.tcr),
                    );
                }
                // Only an approval signed by the TCR's identity key counts.
                let verified = match identities.get(a.tcr.as_str()) {
                    Some(Some(key)) => a.verify(timeline.origin(), key).map_err(|e| {
                        format!(
                            "approval by {}: {e}: it is not the TCR's signature over exactly these bundles and signed-data hashes",
                            a.tcr
                        )
                    }),
                    Some(None) => Err(format!(
                        "approval by {}, whose identity key cannot check it",
                        a.tcr
                    )),
                    None => Err(format!(
                        "approval by {}, who is not recorded present as a TCR (role {TCR_ROLE}) with an identity key",
                        a.tcr
                    )),
                };
                match verified {
                    Ok(()) => approved
                        .entry(&a.tcr)
                        .or_default()
                        .extend(a.bundles.iter().map(|b| b.bundle.as_str())),
                    Err(why) => bad(i, why),
                }
            }
            Event::PartialSignatureReceived(p) => {
                if let Some(why) = checked("a partial signature") {
                    bad(i, why);
                }
                // A holder in the ceremony approves before signing; an
                // offline holder's partial (`threshold combine`) carries its
                // own proof, checked against the key before it is admitted.
                if present.contains_key(p.holder.as_str())
                    && !approved
                        .get(p.holder.as_str())
                        .is_some_and(|b| b.contains(p.bundle.as_str()))
                {
                    bad(
                        i,
                        format!(
                            "a partial signature from {} for bundle {}, which {} did not approve",
                            p.holder, p.bundle, p.holder
                        ),
                    );
                }
            }
            Event::SignatureProduced(s) => {
                if let Some(why) = checked(&format!("a signature of bundle {}", s.bundle)) {
                    bad(i, why);
                }
                if quorum > 0 {
                    let by: Vec<&str> = approved
                        .iter()
                        .filter(|(_, bundles)| bundles.contains(s.bundle.as_str()))
                        .map(|(tcr, _)| *tcr)
                        .collect();
                    if by.len() < quorum {
                        bad(
                            i,
                            format!(
                                "a signature of bundle {} approved by {} TCRs ({}), but the ceremony's quorum rule needs {quorum} signed approvals",
                                s.bundle,
                                by.len(),
                                if by.is_empty() { "none".to_owned() } else { by.join(", ") }
                            ),
                        );
                    }
                }
                if let Some(tags) = &ksk_tags {
                    if !tags.contains(&s.key_tag) {
                        bad(
                            i,
                            format!(
                                "a signature by key tag {}, which is not a KSK the ceremony declared ({})",
                                s.key_tag,
                                tags.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    problems
}

/// Compares every output file with its latest `file_written` entry.
fn check_files(
    loaded: &Loaded,
    problems: &mut Vec<Problem>,
    notes: &mut Vec<String>,
) -> Result<Vec<OutputCheck>, Failure> {
    let checks = check_outputs(&loaded.ceremony_dir, &loaded.timeline)
        .map_err(|e| Failure::environment(e.to_string()))?;
    for check in &checks {
        if let Some(message) = check.problem() {
            problems.push(Problem {
                entry: check.entry,
                message,
            });
        } else if check.status == OutputStatus::Interrupted {
            notes.push(format!(
                "{} (entry {}) was logged but never put in place: the write was interrupted",
                check.name, check.entry
            ));
        }
    }
    Ok(checks)
}

/// Files in the ceremony directory (outside the transcript) that no entry
/// names: not checked, only listed.
fn unlogged_files(
    ceremony_dir: &Path,
    transcript_dir: &Path,
    files: &[OutputCheck],
) -> Vec<String> {
    let logged: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let mut out = Vec::new();
    let mut stack = vec![(ceremony_dir.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let Ok(items) = std::fs::read_dir(&dir) else {
            continue;
        };
        for item in items.flatten() {
            let path = item.path();
            if path == transcript_dir {
                continue;
            }
            let name = format!("{prefix}{}", item.file_name().to_string_lossy());
            match item.file_type() {
                Ok(t) if t.is_dir() => stack.push((path, format!("{name}/"))),
                Ok(_) if !logged.contains(name.as_str()) => out.push(name),
                _ => {}
            }
            if out.len() >= MAX_UNLOGGED {
                break;
            }
        }
    }
    out.sort();
    out
}

fn verify_command(
    dir: &Path,
    keys: &Keys,
    allow_open: bool,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let result = audit(dir, keys, allow_open);
    if global.json {
        let value = match &result {
            Ok(Some(audit)) => audit_json(audit),
            Ok(None) => json!({"ok": true, "status": "empty", "size": 0, "problems": []}),
            Err(failure) => json!({"ok": false, "error": failure.message, "exit": failure.code}),
        };
        emit_json(env, &value)?;
    }
    let audit = match result? {
        Some(audit) => audit,
        None => {
            if !global.json {
                emit(
                    env,
                    &format!(
                        "{}: the transcript holds no entry: the ceremony was interrupted before it opened.\n",
                        dir.display()
                    ),
                )?;
            }
            return Ok(0);
        }
    };
    if !global.json {
        emit(env, &render_audit(&audit))?;
    }
    match audit.problems.first() {
        None => Ok(0),
        Some(first) => Err(Failure {
            code: EXIT_CHECKS_FAILED,
            message: format!("{}: {first}", audit.loaded.transcript_dir.display()),
            hint: (audit.problems.len() > 1).then(|| {
                format!(
                    "{} problems in all; the report lists each",
                    audit.problems.len()
                )
            }),
        }),
    }
}

/// The audit for a person: keys and where they came from, the story, the
/// files, what an interruption explains, the verdict.
pub(crate) fn render_audit(a: &Audit) -> String {
    let l = &a.loaded;
    let mut out = format!("Transcript {}\n", l.transcript_dir.display());
    let _ = writeln!(out, "  log key  {}", l.log_key);
    if !l.log_key_given {
        out.push_str(
            "           as the transcript declares it: compare it with the key announced when the\n           ceremony opened, or pass it with --log-key\n",
        );
    }
    if l.witnesses.is_empty() {
        out.push_str("  witnesses none given or declared\n");
    } else {
        for w in &l.witnesses {
            let _ = writeln!(
                out,
                "  witness  {w} ({})",
                if l.witnesses_given {
                    "given"
                } else {
                    "declared by the transcript"
                }
            );
        }
    }
    out.push('\n');
    out.push_str(&l.timeline.to_string());
    if !a.files.is_empty() {
        out.push_str("\nOutput files, against the SHA-256 each file_written entry logged:\n");
        for f in &a.files {
            let _ = write!(
                out,
                "  {:<11} {}  (entry {}, sha256 {})",
                status_word(&f.status),
                f.name,
                f.entry,
                f.sha256
            );
            match &f.status {
                OutputStatus::Superseded { by } => {
                    let _ = write!(out, "; rewritten at entry {by}");
                }
                OutputStatus::Differs { actual } => {
                    let _ = write!(out, "; the file has {actual}");
                }
                _ => {}
            }
            out.push('\n');
        }
    }
    if !a.unlogged.is_empty() {
        let _ = writeln!(
            out,
            "Not in the transcript, so not checked: {}",
            a.unlogged.join(", ")
        );
    }
    if !a.notes.is_empty() {
        out.push_str("\nInterrupted:\n");
        for note in &a.notes {
            let _ = writeln!(out, "  {note}");
        }
    }
    if let Some((size, root, file)) = a.root() {
        let _ = writeln!(
            out,
            "\nRoot hash at {size} entries ({file}), signed by the log key:\n{}",
            root_lines(&root)
        );
    }
    let t = &l.timeline;
    let matching = a
        .files
        .iter()
        .filter(|f| f.status == OutputStatus::Matches)
        .count();
    let state = if t.is_closed() {
        "closed"
    } else {
        "not closed"
    };
    if a.problems.is_empty() {
        let _ = writeln!(
            out,
            "\nResult: VERIFIED: {} entries, {} checkpoints ({} witnessed), {state}; {matching} output files match; the story holds{}.",
            t.size(),
            t.checkpoints().len(),
            t.checkpoints().iter().filter(|c| !c.cosignatures.is_empty()).count(),
            if a.allow_open && !a.notes.is_empty() {
                ", as far as it goes"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(out, "\nResult: FAILED: {} problems", a.problems.len());
        for p in &a.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

fn audit_json(a: &Audit) -> Value {
    let l = &a.loaded;
    let t = &l.timeline;
    json!({
        "ok": a.is_ok(),
        "status": if t.is_closed() { "closed" } else { "open" },
        "transcript": l.transcript_dir.display().to_string(),
        "origin": t.origin(),
        "log_key": l.log_key.to_string(),
        "log_key_source": if l.log_key_given { "given" } else { "declared" },
        "witnesses": l.witnesses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "witness_source": if l.witnesses_given { "given" } else { "declared" },
        "size": t.size(),
        "signed_size": t.signed_size(),
        "root": a.root().map(|(size, root, file)| json!({
            "size": size,
            "checkpoint": file,
            "base64": fmt_hash(&root),
            "hex": Fingerprint { sha256: root }.hex(),
            "words": Fingerprint { sha256: root }.words(),
        })),
        "checkpoints": t.checkpoints().iter().map(|c| json!({
            "file": c.file,
            "size": c.size(),
            "root": fmt_hash(c.root()),
            "cosignatures": c.cosignatures.iter().map(|s| json!({"witness": s.witness, "timestamp": s.timestamp})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "entries": t.entries(),
        "files": a.files.iter().map(|f| json!({
            "entry": f.entry,
            "name": f.name,
            "sha256": f.sha256.to_string(),
            "status": f.status.name(),
            "actual": match &f.status {
                OutputStatus::Differs { actual } => Some(actual.to_string()),
                _ => None,
            },
        })).collect::<Vec<_>>(),
        "unlogged_files": a.unlogged,
        "interrupted": a.notes,
        "recovery": {
            "kept": l.recovery.kept,
            "truncated_bytes": l.recovery.truncated_bytes,
            "index_truncated_bytes": l.recovery.index_truncated_bytes,
        },
        "problems": a.problems.iter().map(|p| json!({"entry": p.entry, "message": p.message})).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------
// prove and verify-proof.

fn proof_failure(err: ceremony_transcript::Error) -> Failure {
    Failure::input(err.to_string())
}

fn prove(
    dir: &Path,
    entry: Option<u64>,
    consistency: Option<&[u64]>,
    keys: &Keys,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    // A signed checkpoint stays provable after an interruption.
    let Some(loaded) = load(dir, keys, false)? else {
        return Err(Failure::input(format!(
            "{}: the transcript holds no entry: nothing to prove",
            dir.display()
        )));
    };
    let timeline = &loaded.timeline;
    let sizes = || {
        timeline
            .checkpoints()
            .iter()
            .map(|c| c.size().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (entry, consistency) {
        (Some(index), _) => {
            if index >= timeline.signed_size() {
                return Err(Failure::input(format!(
                    "entry {index} is not covered by a checkpoint: the latest signs {} entries",
                    timeline.signed_size()
                )));
            }
            let proof = timeline.prove_inclusion(index).map_err(proof_failure)?;
            if global.json {
                let cp = proof.checkpoint().checkpoint();
                emit_json(
                    env,
                    &json!({
                        "kind": "inclusion",
                        "index": index,
                        "entry": timeline.entries().get(index as usize),
                        "checkpoint": {"size": cp.size(), "root": fmt_hash(cp.root())},
                        "proof": proof.to_string(),
                    }),
                )?;
            } else {
                emit(env, &proof.to_string())?;
            }
        }
        (None, Some(&[old, new])) => {
            let Some(checkpoint) = timeline.checkpoints().iter().find(|c| c.size() == new) else {
                return Err(Failure::input(format!(
                    "no checkpoint signs {new} entries; the checkpoints sign {}",
                    sizes()
                )));
            };
            if old > new {
                return Err(Failure::input(format!(
                    "--consistency {old} {new}: the old size is larger than the new one"
                )));
            }
            let proof = timeline
                .prove_consistency(old, new)
                .map_err(proof_failure)?;
            let body = AddCheckpoint {
                old_size: old,
                proof: proof.hashes,
                checkpoint: checkpoint.signed.clone(),
            }
            .to_string();
            if global.json {
                emit_json(
                    env,
                    &json!({
                        "kind": "consistency",
                        "old_size": old,
                        "new_size": new,
                        "checkpoint": checkpoint.file,
                        "proof": body,
                    }),
                )?;
            } else {
                emit(env, &body)?;
            }
        }
        _ => {
            return Err(Failure::input(
                "say what to prove: --entry N, or --consistency OLD NEW",
            ))
        }
    }
    Ok(0)
}

fn checks_failed(message: String) -> Failure {
    Failure {
        code: EXIT_CHECKS_FAILED,
        message,
        hint: None,
    }
}

/// Verifies a signed checkpoint's signatures: the log's, and each given
/// witness's that is present (returned by name).
fn verify_signed(
    what: &str,
    signed: &SignedCheckpoint,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<Vec<String>, Failure> {
    let cosigned = signed
        .verify(log_key, witnesses)
        .map_err(|e| checks_failed(format!("{what}: {e}")))?;
    Ok(cosigners(cosigned))
}

/// Each witness that cosigned, and when.
fn cosigners(cosigned: Vec<Cosigned>) -> Vec<String> {
    cosigned
        .into_iter()
        .map(|c| {
            let when = jiff::Timestamp::from_second(c.timestamp as i64)
                .map_or_else(|_| c.timestamp.to_string(), |t| t.to_string());
            format!("{} at {when}", c.witness)
        })
        .collect()
}

fn signed_by(cosigned: &[String]) -> String {
    if cosigned.is_empty() {
        "signed by the log key".to_owned()
    } else {
        format!("signed by the log key, cosigned by {}", cosigned.join(", "))
    }
}

fn verify_proof(
    path: &Path,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    trusted: Option<&Path>,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let bytes = read_input(path, env)?;
    let name = path.display().to_string();
    let trusted = match trusted {
        None => None,
        Some(file) => {
            let text = read_input(file, env)?;
            let signed = SignedCheckpoint::parse(&text)
                .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
            verify_signed(&file.display().to_string(), &signed, log_key, witnesses)?;
            Some(signed)
        }
    };
    let (text, value) = if bytes.starts_with(format!("{TLOG_PROOF_HEADER}\n").as_bytes()) {
        let proof = TlogProof::parse(&bytes).map_err(|e| Failure::input(format!("{name}: {e}")))?;
        let Some(extra) = proof.extra() else {
            return Err(Failure::input(format!(
                "{name}: the proof carries no entry (no extra line): there is nothing to check it against"
            )));
        };
        let cosigned = proof
            .verify(extra, log_key, witnesses)
            .map(cosigners)
            .map_err(|e| checks_failed(format!("{name}: entry {}: {e}", proof.index())))?;
        let entry = Entry::decode(extra).map_err(|e| {
            checks_failed(format!(
                "{name}: the proven leaf {} is not a transcript entry: {e}",
                proof.index()
            ))
        })?;
        if entry.seq != proof.index() {
            return Err(checks_failed(format!(
                "{name}: the proof is for index {}, the entry says it is entry {}",
                proof.index(),
                entry.seq
            )));
        }
        let cp = proof.checkpoint().checkpoint();
        if let Some(trusted) = &trusted {
            if trusted.checkpoint() != cp {
                return Err(checks_failed(format!(
                    "{name}: the proof leads to the tree of {} entries with root {}, not to the trusted checkpoint's ({} entries, root {})",
                    cp.size(),
                    fmt_hash(cp.root()),
                    trusted.checkpoint().size(),
                    fmt_hash(trusted.checkpoint().root())
                )));
            }
        }
        let text = format!(
            "Entry {} is in {} at {} entries (root {}), {}:\n  {}  {}  {}\n",
            entry.seq,
            cp.origin(),
            cp.size(),
            fmt_hash(cp.root()),
            signed_by(&cosigned),
            entry.time,
            entry.by,
            entry.event
        );
        let value = json!({
            "ok": true,
            "kind": "inclusion",
            "origin": cp.origin(),
            "index": entry.seq,
            "size": cp.size(),
            "root": fmt_hash(cp.root()),
            "cosigned_by": cosigned,
            "entry": entry,
        });
        (text, value)
    } else if bytes.starts_with(b"old ") {
        let request =
            AddCheckpoint::parse(&bytes).map_err(|e| Failure::input(format!("{name}: {e}")))?;
        let new = request.checkpoint.checkpoint();
        let cosigned = verify_signed(&name, &request.checkpoint, log_key, witnesses)?;
        let old_size = request.old_size;
        let old = match (&trusted, old_size) {
            (Some(t), _) => t.checkpoint().clone(),
            (None, 0) => ceremony_transcript::Checkpoint::new(
                new.origin(),
                0,
                ceremony_transcript::merkle::empty_root(),
            )
            .map_err(|e| Failure::input(format!("{name}: {e}")))?,
            (None, _) => {
                return Err(Failure::input(format!(
                    "{name}: a proof from {old_size} entries is checked against the checkpoint of {old_size} entries that you trust: --checkpoint FILE"
                )))
            }
        };
        let proof = ConsistencyProof {
            old_size,
            new_size: new.size(),
            hashes: request.proof.clone(),
        };
        proof.verify(&old, new).map_err(|e| {
            checks_failed(format!(
                "{name}: the checkpoint of {} entries does not extend the trusted one of {}: {e}",
                new.size(),
                old.size()
            ))
        })?;
        let text = format!(
            "The checkpoint of {} entries of {} (root {}, {}) extends the tree of {old_size} entries{}: consistent (RFC 9162 §2.1.4.2).\n",
            new.size(),
            new.origin(),
            fmt_hash(new.root()),
            signed_by(&cosigned),
            if trusted.is_some() { " of the trusted checkpoint" } else { "" }
        );
        let value = json!({
            "ok": true,
            "kind": "consistency",
            "origin": new.origin(),
            "old_size": old_size,
            "new_size": new.size(),
            "root": fmt_hash(new.root()),
            "cosigned_by": cosigned,
        });
        (text, value)
    } else {
        return Err(Failure::input(format!(
            "{name}: not a proof: the first line is neither {TLOG_PROOF_HEADER} nor 'old <size>'"
        ))
        .hint("make one with ceremony transcript prove DIR --entry N, or --consistency OLD NEW"));
    };
    if global.json {
        emit_json(env, &value)?;
    } else {
        emit(env, &text)?;
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// The witness, offline.

/// The largest witness key file read.
const MAX_WITNESS_KEY_FILE: u64 = 16 * 1024;

fn read_witness_key(path: &Path, unlock: &Unlock) -> Result<Cosigner, Failure> {
    let bad = |why: &str| {
        Failure::input(format!("{}: not a witness key file: {why}", path.display())).hint(
            "a witness key file is one line PRIVATE+KEY+<name>+<key ID>+<base64>, as transcript witness-keygen writes it",
        )
    };
    // The plaintext, its base64 and the seed are the witness's secret: wiped after use.
    let plain = crate::sealed::open(path, unlock, MAX_WITNESS_KEY_FILE)?;
    let text = std::str::from_utf8(&plain).map_err(|_| bad("the key is not UTF-8 text"))?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    let rest = line
        .strip_prefix(PRIVATE_KEY_PREFIX)
        .ok_or_else(|| bad("it does not start with PRIVATE+KEY+"))?;
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(key_id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected <name>+<key ID>+<base64>"));
    };
    let raw = zeroize::Zeroizing::new(
        BASE64
            .decode(b64)
            .map_err(|_| bad("the key is not base64"))?,
    );
    let [kind, seed @ ..] = raw.as_slice() else {
        return Err(bad("the key is empty"));
    };
    if *kind != SignatureType::COSIGNATURE_V1.0 {
        return Err(bad(&format!(
            "its type is 0x{kind:02x}, a witness signs cosignature/v1 (0x04)"
        )));
    }
    let seed: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(
        seed.try_into()
            .map_err(|_| bad("an Ed25519 seed is 32 bytes"))?,
    );
    let cosigner = Cosigner::from_seed(name, &seed).map_err(|e| bad(&e.to_string()))?;
    if cosigner.verifier_key().key_id().to_string() != key_id {
        return Err(bad("its key ID does not match its key"));
    }
    Ok(cosigner)
}

fn cosign(
    request: &Path,
    state: &Path,
    cosigner: Cosigner,
    log_keys: &[String],
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let log_keys = parse_keys("--log-key", log_keys)?;
    let time = now(global, env)?.as_second();
    let time = u64::try_from(time)
        .map_err(|_| Failure::input(format!("the time {time} is before 1970")))?;
    let body = read_input(request, env)?;
    let mut witness = Witness::open(state, cosigner, &log_keys)
        .map_err(|e| transcript_failure(&format!("witness state {}: ", state.display()), e))?;
    match witness.add_checkpoint(&body, time) {
        Ok(lines) => {
            if global.json {
                emit_json(env, &json!({"status": 200, "cosignatures": lines}))?;
            } else {
                emit(env, &lines)?;
            }
            Ok(0)
        }
        Err(refusal) => {
            let status = refusal.status();
            let body = refusal.body();
            if global.json {
                emit_json(
                    env,
                    &json!({
                        "status": status,
                        "error": refusal.to_string(),
                        "content_type": body.as_ref().map(|(t, _)| t),
                        "body": body.as_ref().map(|(_, b)| b),
                    }),
                )?;
            }
            let message = match &body {
                Some((kind, text)) => {
                    format!("{refusal}\n(the body, {kind}: {})", text.trim_end())
                }
                None => refusal.to_string(),
            };
            Err(Failure {
                code: match status {
                    400 | 404 => crate::EXIT_USAGE,
                    500 => crate::EXIT_ENVIRONMENT,
                    _ => EXIT_CHECKS_FAILED,
                },
                message,
                hint: None,
            })
        }
    }
}

/// Stores an offline witness's cosignature with the checkpoint it cosigns,
/// after checking it against the witness key (which the ceremony must have
/// declared) and that checkpoint.
fn attach(
    dir: &Path,
    cosignature: &Path,
    witness: &VerifierKey,
    log_key: Option<&str>,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let (_, transcript_dir) = locate(dir)?;
    let context = format!("{}: ", transcript_dir.display());
    let log_key = match log_key {
        Some(text) => parse_key("--log-key", text)?,
        None => read_opening(&transcript_dir)
            .map_err(|e| transcript_failure(&context, e))?
            .map(|opened| opened.log_key)
            .ok_or_else(|| {
                Failure::input(format!(
                    "{context}the transcript holds no entry: nothing to cosign"
                ))
            })?,
    };
    let bytes = read_input(cosignature, env)?;
    let lines = String::from_utf8(bytes).map_err(|_| {
        Failure::input(format!(
            "{}: not text: a cosignature is lines of \"— <name> <base64>\"",
            cosignature.display()
        ))
    })?;
    let attached =
        ceremony_transcript::attach_cosignature(&transcript_dir, &log_key, witness, &lines)
            .map_err(|e| transcript_failure(&format!("{context}{}: ", cosignature.display()), e))?;
    if global.json {
        emit_json(
            env,
            &json!({
                "witness": witness.to_string(),
                "attached": attached.iter().map(|a| json!({
                    "checkpoint": a.file,
                    "size": a.size,
                    "timestamp": a.timestamp,
                    "added": a.added,
                })).collect::<Vec<_>>(),
            }),
        )?;
    } else {
        let mut out = String::new();
        for a in &attached {
            let _ = writeln!(
                out,
                "{} the cosignature of {} over checkpoint {} ({} entries), made at {}",
                if a.added { "Stored" } else { "Already stored:" },
                witness.name(),
                a.file,
                a.size,
                jiff::Timestamp::from_second(a.timestamp as i64)
                    .map_or_else(|_| a.timestamp.to_string(), |t| t.to_string())
            );
        }
        emit(env, &out)?;
    }
    Ok(0)
}

fn witness_keygen(
    name: &str,
    key_file: &Path,
    to: &dyn age::Recipient,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let seed = zeroize::Zeroizing::new(
        ceremony_transcript::note::generate_seed()
            .map_err(|e| Failure::environment(e.to_string()))?,
    );
    let cosigner = Cosigner::from_seed(name, &seed).map_err(|e| Failure::input(e.to_string()))?;
    let key = cosigner.verifier_key();
    let mut raw = zeroize::Zeroizing::new(vec![SignatureType::COSIGNATURE_V1.0]);
    raw.extend_from_slice(seed.as_slice());
    let line = zeroize::Zeroizing::new(format!(
        "{PRIVATE_KEY_PREFIX}{name}+{}+{}\n",
        key.key_id(),
        BASE64.encode(raw.as_slice())
    ));
    // Only the age ciphertext touches the disk.
    let sealed = ceremony_keys::armor::seal(to, line.as_bytes()).map_err(|e| {
        Failure::environment(format!("{}: cannot encrypt: {e}", key_file.display()))
    })?;
    ceremony_durable::create_new(
        key_file,
        sealed.as_bytes(),
        ceremony_durable::Access::Private,
    )
    .map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::input(format!(
                "{} exists: a key file is never overwritten",
                key_file.display()
            ))
        } else {
            Failure::environment(format!("{}: {err}", key_file.display()))
        }
    })?;
    if global.json {
        emit_json(
            env,
            &json!({"name": name, "verifier_key": key.to_string(), "key_file": key_file.display().to_string()}),
        )?;
    } else {
        emit(env, &format!("{key}\n"))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceremony_transcript::merkle::ProofError;

    #[test]
    fn proof_errors_are_not_checks() {
        let err =
            ceremony_transcript::Error::Proof(ProofError::IndexOutOfRange { index: 9, size: 3 });
        assert_eq!(proof_failure(err).code, crate::EXIT_USAGE);
    }
}
