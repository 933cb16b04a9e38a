//! The ceremony's record: a command run with `--ceremony DIR` (and every
//! `ceremony demo`) records its acts in `DIR/transcript/`, and writes its
//! outputs beside it.
//!
//! # One command, one ceremony, one log key that dies with it
//!
//! A recorded command is a whole ceremony. It creates `DIR/transcript`
//! (refusing a directory that already holds one), opens the ceremony, records
//! each act as one batch followed by a signed checkpoint, and closes it: on
//! success, and also when it refuses (failed checks, no `Yes`), so that the
//! record says what happened. A process that is killed leaves the ceremony
//! open, and `ceremony transcript verify --allow-open` audits what it
//! committed.
//!
//! The log's Ed25519 key is generated for the ceremony from the system's
//! random generator and is never written anywhere. It signs checkpoints while
//! the command runs and is gone when the process exits, so nobody (not the
//! operator, nor whoever later gets hold of the machine or its keystore) can
//! sign another history for that log. The checkpoints in
//! `DIR/transcript/checkpoints` are the only ones that will ever exist. The
//! price is that a ceremony cannot be continued by a later command, or after a
//! crash: a new ceremony starts in a new directory. The verifier key is in the
//! first entry (`ceremony_opened`) and is printed when the ceremony opens, for
//! the room to write down and witnesses to pin. `ceremony transcript verify
//! --log-key` checks the transcript against it. Without that flag, verify uses
//! the key that the transcript declares itself, and says so.
//!
//! We do not store the seed, encrypted, in the KSK keystore: an HSM-only
//! configuration has no keystore, and a key that outlives its ceremony is a
//! key that can sign a fork. A ceremony that spans several commands needs a
//! process that lives as long as the ceremony (the ceremony runner) to hold
//! the key.
//!
//! # Output files are logged before they appear
//!
//! An output is written to a temporary file and synced. Then its
//! `file_written` entry (the name relative to `DIR`, and the SHA-256) is
//! committed. Then the file is renamed into place and the directory synced,
//! and only then is the act's checkpoint signed. So every output file in `DIR`
//! is in the transcript. A crash can leave only a logged file that never
//! appeared, and only in the unsigned tail, which verify reports as
//! interrupted. If a checkpoint covers a `file_written` entry, the file was in
//! place, so a file missing or changed after that is tampering.

use std::fs;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use ceremony_dnssec::{Dnskey, KeyTag, SecurityAlgorithm};
use ceremony_formats::{Fingerprint, Skr};
use ceremony_policy::{Outcome, Report};
use ceremony_signer::KeyRing;
use ceremony_transcript::entry::{
    ActStarted, CeremonyClosed, CeremonyOpened, CheckOutcome, CheckReport, CheckStatus,
    DeclaredKey, Digest, FileRead, FileWritten, KeyEvent, PartialSignatureReceived,
    SignatureProduced,
};
use ceremony_transcript::log::TRANSCRIPT_DIR;
use ceremony_transcript::{Event, Log, NewEntry, SignedCheckpoint, Signer, VerifierKey, Witness};
use jiff::Timestamp;

use crate::cmd::Written;
use crate::render::FileFacts;
use crate::{Env, Failure};

/// The role of a KSK among a ceremony's declared keys.
pub const KSK_ROLE: &str = "ksk";
/// The role of a witness among a ceremony's declared keys.
pub use ceremony_transcript::entry::WITNESS_ROLE;

/// A ceremony being recorded, or no recording at all (a command run without
/// `--ceremony`): every method is then a no-op, so callers need not branch.
///
/// Dropping an open recorder closes the ceremony (best effort), unless a
/// write failed half-way: then it stays open, as an interrupted ceremony.
pub struct Recorder {
    active: Option<Active>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closed,
    /// A write failed after its entry was committed: leave the ceremony open.
    Broken,
}

struct Active {
    /// The ceremony directory, as given.
    dir: PathBuf,
    /// The same, canonical, to place output files in it.
    canonical: PathBuf,
    log: Log,
    by: String,
    pending: Vec<NewEntry>,
    last_time: Timestamp,
    state: State,
    witness: Option<Attached>,
}

/// A witness that cosigns each checkpoint as it is signed, in this process.
struct Attached {
    witness: Witness,
    key: VerifierKey,
    /// The size it last cosigned.
    size: u64,
}

fn log_failure(err: ceremony_transcript::Error) -> Failure {
    if err.is_io() {
        Failure::environment(format!("transcript: {err}"))
    } else {
        Failure::input(format!("transcript: {err}"))
    }
}

/// The log's origin: the ceremony directory's name and the opening instant,
/// which with the fresh key makes it unique to this ceremony (a witness keeps
/// one state per origin).
fn origin_for(dir: &Path, now: Timestamp) -> String {
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '+' || c == '/' {
                '-'
            } else {
                c
            }
        })
        .collect();
    let name = if name.is_empty() { "ceremony" } else { &name };
    format!("ceremony/{name}/{}", now.strftime("%Y%m%dT%H%M%SZ"))
}

impl Recorder {
    /// No recording.
    pub fn off() -> Recorder {
        Recorder { active: None }
    }

    /// Creates `dir/transcript` and opens a ceremony following `script`,
    /// declaring `keys`, signed by a fresh log key; entries are recorded `by`
    /// this component.
    ///
    /// # Errors
    /// Exit 2 when `dir` already holds a transcript; exit 3 when it cannot
    /// be created or written.
    pub fn open(
        dir: &Path,
        script: &str,
        by: &str,
        keys: Vec<DeclaredKey>,
        now: Timestamp,
    ) -> Result<Recorder, Failure> {
        Recorder::open_with_quorum(dir, script, by, keys, 0, now)
    }

    /// [`Recorder::open`] for a ceremony whose quorum rule needs `approvals`
    /// distinct TCRs' signed approvals of a bundle before it is signed
    /// (`transcript verify` holds every signature to it).
    ///
    /// # Errors
    /// As [`Recorder::open`].
    pub fn open_with_quorum(
        dir: &Path,
        script: &str,
        by: &str,
        keys: Vec<DeclaredKey>,
        approvals: u32,
        now: Timestamp,
    ) -> Result<Recorder, Failure> {
        fs::create_dir_all(dir).map_err(|err| {
            Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
        })?;
        let tdir = dir.join(TRANSCRIPT_DIR);
        if tdir.exists() {
            return Err(Failure::input(format!(
                "{} exists: a ceremony is already recorded in {}, and each recorded command is a ceremony of its own",
                tdir.display(),
                dir.display()
            ))
            .hint("record this ceremony in a new directory"));
        }
        let canonical = dir.canonicalize().map_err(|err| {
            Failure::environment(format!("{}: cannot resolve: {err}", dir.display()))
        })?;
        let origin = origin_for(&canonical, now);
        let seed = ceremony_transcript::note::generate_seed().map_err(log_failure)?;
        let signer = Signer::from_seed(&origin, &seed).map_err(log_failure)?;
        let log_key = signer.verifier_key();
        let log = Log::create(&tdir, signer).map_err(log_failure)?;
        let mut recorder = Recorder {
            active: Some(Active {
                dir: dir.to_owned(),
                canonical,
                log,
                by: by.to_owned(),
                pending: Vec::new(),
                last_time: to_the_second(now),
                state: State::Open,
                witness: None,
            }),
        };
        recorder.record(
            now,
            Event::CeremonyOpened(CeremonyOpened {
                origin,
                script: script.to_owned(),
                log_key,
                keys,
                approvals,
            }),
        );
        recorder.commit()?;
        Ok(recorder)
    }

    /// The log's verifier key, while recording.
    pub fn log_key(&self) -> Option<&VerifierKey> {
        self.active.as_ref().map(|a| a.log.verifier_key())
    }

    /// Has `witness` (whose verifier key is `key`, declared when the ceremony
    /// opened) cosign every checkpoint from now on, the latest one first.
    ///
    /// # Errors
    /// As [`Recorder::commit`].
    pub fn attach_witness(&mut self, witness: Witness, key: VerifierKey) -> Result<(), Failure> {
        let Some(a) = &mut self.active else {
            return Ok(());
        };
        a.witness = Some(Attached {
            witness,
            key,
            size: 0,
        });
        a.cosign()
    }

    /// Queues an event; [`Recorder::commit`] appends the queue as one batch.
    pub fn record(&mut self, now: Timestamp, event: Event) {
        if let Some(a) = &mut self.active {
            a.push(now, event);
        }
    }

    /// Queues the start of an act.
    pub fn act(&mut self, now: Timestamp, act: &str, title: &str) {
        self.record(
            now,
            Event::ActStarted(ActStarted {
                act: act.to_owned(),
                title: title.to_owned(),
            }),
        );
    }

    /// Appends the queued events durably, as one batch, and signs a checkpoint.
    ///
    /// # Errors
    /// Exit 3 when the transcript cannot be written.
    pub fn commit(&mut self) -> Result<(), Failure> {
        let Some(a) = &mut self.active else {
            return Ok(());
        };
        a.append()?;
        a.checkpoint()?;
        Ok(())
    }

    /// Writes an output file: when recording, through the transcript (a
    /// temporary file, then the queued events and its `file_written` entry
    /// committed, then the rename, then a checkpoint); otherwise atomically.
    ///
    /// # Errors
    /// Exit 2 for a path outside the ceremony directory; exit 3 when a write
    /// fails.
    pub fn write_file(
        &mut self,
        now: Timestamp,
        path: &Path,
        bytes: &[u8],
    ) -> Result<Written, Failure> {
        let mut written = self.write_files(now, &[(path, bytes)])?;
        written
            .pop()
            .ok_or_else(|| Failure::environment("transcript: no file written"))
    }

    /// Writes several output files as one step: when recording, all are
    /// staged, their `file_written` entries committed as one batch with the
    /// queued events, then each renamed into place, then one checkpoint;
    /// otherwise each atomically. A file that exists is refused before
    /// anything is written, as an output never replaces another.
    ///
    /// # Errors
    /// Exit 2 for a path outside the ceremony directory or one that exists;
    /// exit 3 when a write fails.
    pub fn write_files(
        &mut self,
        now: Timestamp,
        files: &[(&Path, &[u8])],
    ) -> Result<Vec<Written>, Failure> {
        let Some(a) = &mut self.active else {
            for (path, bytes) in files {
                crate::fsutil::write_atomic(path, bytes)?;
            }
            return Ok(files.iter().map(|(p, b)| Written::of(p, b)).collect());
        };
        // Every name is checked before anything is staged or queued.
        let mut names = Vec::with_capacity(files.len());
        for (path, _) in files {
            names.push(a.name_in_ceremony(path)?);
            if path.exists() {
                return Err(Failure::input(format!(
                    "{} exists: a recorded ceremony never replaces a file",
                    path.display()
                )));
            }
        }
        let mut staged = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            staged.push(Staged::write(path, bytes)?);
        }
        for (name, (_, bytes)) in names.into_iter().zip(files) {
            a.push(
                now,
                Event::FileWritten(FileWritten {
                    name,
                    sha256: Digest::of(bytes),
                }),
            );
        }
        a.append()?;
        // Logged: from here a failure leaves a logged file that is not in place.
        for file in staged {
            if let Err(err) = file.rename() {
                a.state = State::Broken;
                return Err(err);
            }
        }
        a.checkpoint()?;
        Ok(files.iter().map(|(p, b)| Written::of(p, b)).collect())
    }

    /// Queues a `file_read` entry for a file the command reads: its name as
    /// given, size, SHA-256 and PGP words.
    ///
    /// # Errors
    /// Exit 2 when the file cannot be read.
    pub fn read_file(&mut self, now: Timestamp, path: &Path) -> Result<(), Failure> {
        if self.active.is_none() {
            return Ok(());
        }
        let bytes = fs::read(path)
            .map_err(|err| Failure::input(format!("{}: cannot read: {err}", path.display())))?;
        let fingerprint = Fingerprint::of(&bytes);
        self.record(
            now,
            file_read(&FileFacts {
                name: &path.display().to_string(),
                size: bytes.len(),
                fingerprint: &fingerprint,
            }),
        );
        Ok(())
    }

    /// Act `act`, titled `title`, that writes `files`: as
    /// [`Recorder::write_files`], after the act's start.
    ///
    /// # Errors
    /// As [`Recorder::write_files`].
    pub fn write_act(
        &mut self,
        now: Timestamp,
        (act, title): (&str, &str),
        files: &[(&Path, &[u8])],
    ) -> Result<Vec<Written>, Failure> {
        self.act(now, act, title);
        self.write_files(now, files)
    }

    /// Queues a `file_read` entry for each of `paths`, in order.
    ///
    /// # Errors
    /// As [`Recorder::read_file`].
    pub fn read_files<'a>(
        &mut self,
        now: Timestamp,
        paths: impl IntoIterator<Item = &'a Path>,
    ) -> Result<(), Failure> {
        for path in paths {
            self.read_file(now, path)?;
        }
        Ok(())
    }

    /// Records a whole act, `act` titled `title`, of `events`, and commits it.
    ///
    /// # Errors
    /// As [`Recorder::commit`].
    pub fn act_of(
        &mut self,
        now: Timestamp,
        (act, title): (&str, &str),
        events: impl IntoIterator<Item = Event>,
    ) -> Result<(), Failure> {
        self.act(now, act, title);
        for event in events {
            self.record(now, event);
        }
        self.commit()
    }

    /// Records the close and signs the last checkpoint; returns it.
    ///
    /// # Errors
    /// Exit 3 when the transcript cannot be written.
    pub fn close(&mut self, now: Timestamp) -> Result<Option<SignedCheckpoint>, Failure> {
        let Some(a) = &mut self.active else {
            return Ok(None);
        };
        a.last_time = to_the_second(now);
        a.close().map(Some)
    }

    // -----------------------------------------------------------------
    // `ceremony sign --ceremony DIR`: three acts.

    /// Opens the ceremony of a recorded command when `ceremony` is given,
    /// else no recording. Every path in `outputs` must lie inside the
    /// ceremony directory and not exist yet: one that does not, or does, is
    /// refused (with `hint`) before anything is recorded. Declares `keys`, and tells the room the log key.
    ///
    /// # Errors
    /// As [`Recorder::open`]; exit 2 for an output outside `ceremony`.
    pub fn for_command(
        ceremony: Option<&Path>,
        env: &mut dyn Env,
        script: &str,
        by: &str,
        keys: Vec<DeclaredKey>,
        outputs: &[&Path],
        hint: &str,
    ) -> Result<Recorder, Failure> {
        let Some(dir) = ceremony else {
            return Ok(Recorder::off());
        };
        fs::create_dir_all(dir).map_err(|err| {
            Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
        })?;
        let canonical = dir.canonicalize().map_err(|err| {
            Failure::environment(format!("{}: cannot resolve: {err}", dir.display()))
        })?;
        for output in outputs {
            name_in_ceremony(dir, &canonical, output).map_err(|f| f.hint(hint.to_owned()))?;
            // Refused now, not after the ceremony's work: see write_files.
            if output.exists() {
                return Err(Failure::input(format!(
                    "{} exists: a recorded ceremony never replaces a file",
                    output.display()
                )));
            }
        }
        let now = env.now();
        let record = Recorder::open(dir, script, by, keys, now)?;
        if let Some(key) = record.log_key() {
            let _ = writeln!(
                env.stderr(),
                "Recording this ceremony in {}; its log key is\n  {key}",
                dir.join(TRANSCRIPT_DIR).display()
            );
        }
        Ok(record)
    }

    /// Opens the ceremony of `ceremony sign` when `ceremony` is given, else no
    /// recording: declares the KSKs about to sign, and records act 1, the
    /// files read (`inputs`, the ones given, and the configuration) and, when
    /// a quorum opened the keystore, its `quorum` files (quorum.json and the
    /// shares given) and QUORUM-ACTIVATE. The SKR must be written inside the
    /// ceremony directory.
    ///
    /// # Errors
    /// As [`Recorder::for_command`].
    pub fn for_sign(
        ceremony: Option<&Path>,
        env: &mut dyn Env,
        keys: &KeyRing<'_>,
        config: &Path,
        inputs: &[Option<FileFacts<'_>>],
        quorum: &[&Path],
        output: &Path,
    ) -> Result<Recorder, Failure> {
        let hint = ceremony.map_or_else(String::new, |dir| {
            format!(
                "write the SKR beside the transcript, e.g. -o {}",
                dir.join("skr.xml").display()
            )
        });
        let declared = keys
            .values()
            .map(|key| declared_ksk(&key.identity().label, key.dnskey()))
            .collect();
        let mut record = Recorder::for_command(
            ceremony,
            env,
            "ceremony sign",
            "sign",
            declared,
            &[output],
            &hint,
        )?;
        let now = env.now();
        record.act(now, "1", "The KSR and the configuration are read");
        for facts in inputs.iter().flatten() {
            record.record(now, file_read(facts));
        }
        record.read_file(now, config)?;
        if !quorum.is_empty() {
            // The keystore was opened by these holders' shares, rebuilt in memory.
            for path in quorum {
                record.read_file(now, path)?;
            }
            record.record(
                now,
                checks_event(&[("QUORUM-ACTIVATE", CheckStatus::Passed)]),
            );
        }
        record.commit()?;
        Ok(record)
    }

    /// Act 2 of `ceremony sign`: the check report.
    ///
    /// # Errors
    /// Exit 3 when the transcript cannot be written.
    pub fn checks(&mut self, env: &dyn Env, report: &Report) -> Result<(), Failure> {
        let now = env.now();
        self.act(now, "2", "The KSR is checked");
        self.record(now, check_report(report));
        self.commit()
    }

    /// Act 3 of `ceremony sign`: each signature, the checks after signing, and
    /// the SKR, written through the transcript (or just written, when not
    /// recording).
    ///
    /// # Errors
    /// As [`Recorder::write_file`].
    pub fn write_skr(
        &mut self,
        env: &dyn Env,
        path: &Path,
        text: &str,
        skr: &Skr,
        report: &Report,
    ) -> Result<Written, Failure> {
        self.write_skr_act(
            env,
            "3",
            "The KSKs sign every bundle and the SKR is written",
            (path, text),
            skr,
            report,
        )
    }

    /// An act that signs: each signature of `skr`, the checks after
    /// signing, and the SKR `(path, text)` written through the transcript.
    ///
    /// # Errors
    /// As [`Recorder::write_file`].
    pub fn write_skr_act(
        &mut self,
        env: &dyn Env,
        act: &str,
        title: &str,
        (path, text): (&Path, &str),
        skr: &Skr,
        report: &Report,
    ) -> Result<Written, Failure> {
        let now = env.now();
        self.act(now, act, title);
        for event in signatures(skr) {
            self.record(now, event);
        }
        self.record(now, check_report(report));
        self.write_file(now, path, text.as_bytes())
    }

    /// Closes the ceremony of `ceremony sign` and tells the room its root.
    ///
    /// # Errors
    /// Exit 3 when the transcript cannot be written.
    pub fn finish(mut self, env: &mut dyn Env) -> Result<(), Failure> {
        let Some(checkpoint) = self.close(env.now())? else {
            return Ok(());
        };
        let dir = self
            .active
            .as_ref()
            .map(|a| a.dir.display().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            env.stderr(),
            "{}Check it with: ceremony transcript verify {dir}{}",
            closing_words(&checkpoint),
            self.log_key()
                .map(|k| format!(" --log-key {k}"))
                .unwrap_or_default()
        );
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(a) = &mut self.active {
            if a.state == State::Open {
                let _ = a.close();
            }
        }
    }
}

/// Entries are timed to the second, as a ceremony script's steps are.
fn to_the_second(time: Timestamp) -> Timestamp {
    Timestamp::from_second(time.as_second()).unwrap_or(time)
}

impl Active {
    fn push(&mut self, now: Timestamp, event: Event) {
        self.last_time = to_the_second(now);
        self.pending
            .push(NewEntry::new(self.last_time, self.by.clone(), event));
    }

    fn append(&mut self) -> Result<(), Failure> {
        let batch = std::mem::take(&mut self.pending);
        if let Err(err) = self.log.append_batch(batch) {
            self.state = State::Broken;
            return Err(log_failure(err));
        }
        Ok(())
    }

    fn close(&mut self) -> Result<SignedCheckpoint, Failure> {
        let now = self.last_time;
        self.pending.push(NewEntry::new(
            now,
            self.by.clone(),
            Event::CeremonyClosed(CeremonyClosed {}),
        ));
        self.append()?;
        self.state = State::Closed;
        self.checkpoint()?;
        self.log
            .latest_checkpoint()
            .cloned()
            .ok_or_else(|| Failure::environment("transcript: no checkpoint after the close"))
    }

    /// Signs a checkpoint of every entry, and has the witness cosign it.
    fn checkpoint(&mut self) -> Result<(), Failure> {
        self.log.checkpoint().map_err(log_failure)?;
        self.cosign()
    }

    /// Sends the latest checkpoint to the attached witness, if any, and
    /// stores its cosignature with the checkpoint.
    fn cosign(&mut self) -> Result<(), Failure> {
        let Some(w) = &mut self.witness else {
            return Ok(());
        };
        let Some(size) = self.log.latest_checkpoint().map(|c| c.checkpoint().size()) else {
            return Ok(());
        };
        if size == w.size {
            return Ok(());
        }
        let request = self.log.witness_request(w.size).map_err(log_failure)?;
        let time = u64::try_from(self.last_time.as_second()).unwrap_or(0);
        let lines = w
            .witness
            .add_checkpoint(request.to_string().as_bytes(), time)
            .map_err(|refusal| {
                Failure::environment(format!("the witness refused checkpoint {size}: {refusal}"))
            })?;
        self.log
            .add_cosignatures(size, &lines, std::slice::from_ref(&w.key))
            .map_err(log_failure)?;
        w.size = size;
        Ok(())
    }

    fn name_in_ceremony(&self, path: &Path) -> Result<String, Failure> {
        name_in_ceremony(&self.dir, &self.canonical, path)
    }
}

/// The name `path` has in the transcript of the ceremony in `dir` (whose
/// canonical form is `canonical`): relative to it, `/`-separated, and not
/// inside `transcript/`.
fn name_in_ceremony(dir: &Path, canonical: &Path, path: &Path) -> Result<String, Failure> {
    let outside = || {
        Failure::input(format!(
            "{}: a recorded ceremony writes its outputs inside {}, beside its transcript",
            path.display(),
            dir.display()
        ))
    };
    let file = path.file_name().ok_or_else(outside)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // The nearest ancestor that exists is resolved; the rest (directories
    // the command will create) must be plain names.
    let mut existing = parent;
    let mut missing = Vec::new();
    while !existing.exists() {
        missing.push(existing.file_name().ok_or_else(outside)?);
        existing = match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
    }
    let mut parent = existing.canonicalize().map_err(|err| {
        Failure::environment(format!("{}: cannot resolve: {err}", existing.display()))
    })?;
    for name in missing.iter().rev() {
        parent.push(name);
    }
    let rel = parent
        .strip_prefix(canonical)
        .map_err(|_| outside())?
        .join(file);
    let mut parts = Vec::new();
    for part in rel.components() {
        match part {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            _ => return Err(outside()),
        }
    }
    if parts.first().map(String::as_str) == Some(TRANSCRIPT_DIR) {
        return Err(Failure::input(format!(
            "{}: the transcript directory holds only the transcript",
            path.display()
        )));
    }
    Ok(parts.join("/"))
}

/// An output file written and synced under a temporary name beside its
/// place (its directory created first), waiting to be moved into it; the
/// temporary file is removed if dropped before.
struct Staged(ceremony_durable::Staged);

impl Staged {
    fn write(path: &Path, bytes: &[u8]) -> Result<Staged, Failure> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|err| {
                Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
            })?;
        }
        ceremony_durable::Staged::new(path, bytes, ceremony_durable::Access::Public)
            .map(Staged)
            .map_err(|e| Failure::environment(format!("{}: {e}", path.display())))
    }

    /// Moves the file into place (never over another) and syncs the
    /// directory, so that a checkpoint signed afterwards covers a file that is there.
    fn rename(self) -> Result<(), Failure> {
        let path = self.0.target().to_owned();
        self.0
            .commit_new()
            .map_err(|e| Failure::environment(format!("{}: {e}", path.display())))
    }
}

/// A KSK as the ceremony declares it: its label, and its DNSKEY RDATA in
/// presentation form (`257 3 8 AwEAA…`).
pub fn declared_ksk(label: &str, dnskey: &Dnskey) -> DeclaredKey {
    DeclaredKey {
        role: KSK_ROLE.to_owned(),
        name: label.to_owned(),
        key: dnskey_rdata(dnskey),
    }
}

/// A DNSKEY's RDATA in presentation form: `257 3 8 AwEAA…`.
pub fn dnskey_rdata(dnskey: &Dnskey) -> String {
    format!(
        "{} {} {} {}",
        dnskey.flags(),
        dnskey.protocol(),
        dnskey.algorithm().to_int(),
        dnskey.public_key_base64()
    )
}

/// A key generated or deleted, as the transcript records it.
pub fn key_event(name: &str, place: &str, dnskey: Option<&Dnskey>) -> KeyEvent {
    KeyEvent {
        name: name.to_owned(),
        place: place.to_owned(),
        key: dnskey.map_or_else(|| "(no public key)".to_owned(), dnskey_rdata),
    }
}

/// The key tags a declared KSK signs with: its own and, revoked, RFC 5011's.
/// The key may be given as DNSKEY RDATA in presentation form or as a bare
/// key tag; `None` for anything else.
pub fn declared_key_tags(key: &DeclaredKey) -> Option<Vec<u16>> {
    if let Ok(tag) = key.key.trim().parse::<u16>() {
        return Some(vec![tag]);
    }
    let mut fields = key.key.split_whitespace();
    let flags: u16 = fields.next()?.parse().ok()?;
    let protocol: u8 = fields.next()?.parse().ok()?;
    let algorithm: u8 = fields.next()?.parse().ok()?;
    let b64: String = fields.collect();
    let public_key = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .ok()?;
    let dnskey = Dnskey::new(
        flags,
        protocol,
        SecurityAlgorithm::from_int(algorithm),
        public_key,
    )
    .ok()?;
    let KeyTag(tag) = dnskey.key_tag();
    let KeyTag(revoked) = dnskey.revoked().key_tag();
    Some(vec![tag, revoked])
}

/// A `file_read` event for a file as shown to the room.
pub fn file_read(facts: &FileFacts<'_>) -> Event {
    Event::FileRead(FileRead {
        name: facts.name.to_owned(),
        size: facts.size as u64,
        sha256: Digest(facts.fingerprint.sha256),
        pgp_words: facts.fingerprint.words().join(" "),
    })
}

/// A `check_report` event of a command's own checks (e.g. QUORUM-ACTIVATE), by ID.
pub fn checks_event(checks: &[(&str, CheckStatus)]) -> Event {
    Event::CheckReport(CheckReport {
        checks: checks
            .iter()
            .map(|(id, status)| CheckOutcome {
                id: (*id).to_owned(),
                status: *status,
            })
            .collect(),
    })
}

/// A `check_report` event of one check of the command's own, by ID: passed or failed.
pub fn check_event(id: &str, passed: bool) -> Event {
    let status = if passed {
        CheckStatus::Passed
    } else {
        CheckStatus::Failed
    };
    checks_event(&[(id, status)])
}

/// A `partial_signature_received` event: `holder`'s signature share of
/// `bundle`, recorded by the SHA-256 of its encoding `share` (public: a
/// signature share, never a key share).
pub fn partial_received(holder: u16, bundle: &str, share: &[u8]) -> Event {
    Event::PartialSignatureReceived(PartialSignatureReceived {
        holder: format!("holder {holder}"),
        bundle: bundle.to_owned(),
        share: Digest::of(share),
    })
}

/// A `check_report` event: every check by its published ID and outcome.
pub fn check_report(report: &Report) -> Event {
    Event::CheckReport(CheckReport {
        checks: report
            .results
            .iter()
            .map(|r| CheckOutcome {
                id: r.id.as_str().to_owned(),
                status: match r.outcome {
                    Outcome::Passed(_) => CheckStatus::Passed,
                    Outcome::Failed(_) => CheckStatus::Failed,
                    Outcome::Skipped(_) => CheckStatus::Skipped,
                    Outcome::NotApplicable(_) => CheckStatus::NotApplicable,
                },
            })
            .collect(),
    })
}

/// A `signature_produced` event per KSK signature of each bundle's DNSKEY RRset.
pub fn signatures(skr: &Skr) -> Vec<Event> {
    skr.bundles
        .iter()
        .flat_map(|bundle| {
            bundle.signatures.iter().map(|sig| {
                Event::SignatureProduced(SignatureProduced {
                    bundle: bundle.id.clone(),
                    key_tag: sig.key_tag.0,
                })
            })
        })
        .collect()
}

/// The last checkpoint for the room: size, root in base64, and the root as
/// PGP words to read aloud.
pub fn closing_words(checkpoint: &SignedCheckpoint) -> String {
    let cp = checkpoint.checkpoint();
    format!(
        "The transcript closed at {} entries. Its root hash, signed by the log key:\n{}\n",
        cp.size(),
        root_lines(cp.root())
    )
}

/// A root hash as the room reads it: base64 on one line, then the PGP
/// words, numbered, four lines of eight.
pub fn root_lines(root: &[u8; 32]) -> String {
    format!(
        "  {}\n{}",
        ceremony_transcript::checkpoint::fmt_hash(root),
        Fingerprint { sha256: *root }.words_block("  ")
    )
}
