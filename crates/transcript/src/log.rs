//! The append-only transcript on disk, and the log that signs it.
//!
//! A transcript directory (a ceremony's `transcript/`) holds three things:
//!
//! * `entries`: the entries, each a record `<length> <canonical JSON>\n`,
//!   where the length (decimal, no leading zeros) counts the JSON bytes only.
//!   The JSON bytes are the Merkle leaf. `less entries` reads as a diary.
//! * `index`: one fixed-width line per entry, the commit record:
//!   `<16 hex digits: end offset of the record in entries> <64 hex digits:
//!   leaf hash>\n` (82 bytes). The tree size is the number of lines.
//! * `checkpoints/<size, at least 8 digits>.checkpoint`: the signed
//!   checkpoints, each a C2SP signed note with any witness cosignatures.
//!
//! ```text
//! entries:  219 {"seq":0,"time":"2026-10-01T14:00:00Z","by":"ca","event":{"type":"ceremony_opened",…}}
//! index:    00000000000000e0 6d0f2c…(64 hex)
//! ```
//!
//! An append writes the records, fsyncs `entries`, then writes the index
//! lines and fsyncs `index`, all before it returns; a batch (one act) costs
//! one fsync pair. The index is the commit point: an entry exists once its
//! index line is durable, and a batch is all or nothing. [`Log::open`]
//! recovers from a crash at any byte: it drops a torn index line, record
//! bytes past the last committed entry, and (if the index got ahead of the
//! data) index lines whose records are incomplete, and reports what it cut
//! in a [`Recovery`]. It never drops below the latest signed checkpoint —
//! that would let the log sign a fork — and a complete entry whose bytes do
//! not match its index line is corruption, an error naming the entry.
//!
//! One `Log` value must own its directory: there is no lock between
//! processes.

use std::fs::{File, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::{decode_lower_hex, Entry, Event};
use crate::error::Error;
use crate::fsutil::{sync_dir, write_atomic};
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::{NoteSignature, Signer, VerifierKey};
use crate::proof::{ConsistencyProof, TlogProof};
use crate::witness::AddCheckpoint;

/// The entries file in a transcript directory.
pub const DATA_FILE: &str = "entries";
/// The index file in a transcript directory.
pub const INDEX_FILE: &str = "index";
/// The checkpoints directory in a transcript directory.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// The transcript directory's name inside a ceremony directory.
pub const TRANSCRIPT_DIR: &str = "transcript";
/// The largest entry (its JSON) accepted.
pub const MAX_ENTRY_BYTES: usize = 1 << 20;
/// The length of one index line.
pub const INDEX_LINE_LEN: usize = 82;

/// The file name of the checkpoint of `size` entries.
pub fn checkpoint_file_name(size: u64) -> String {
    format!("{size:08}.checkpoint")
}

/// The size a checkpoint file name stands for, if it is one.
pub fn parse_checkpoint_file_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".checkpoint")?;
    if !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let size: u64 = stem.parse().ok()?;
    (checkpoint_file_name(size) == name).then_some(size)
}

/// An entry to append: the log assigns its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// When it happened.
    pub time: Timestamp,
    /// Who records it.
    pub by: String,
    /// What happened.
    pub event: Event,
}

impl NewEntry {
    /// An entry recorded by `by` at `time`.
    pub fn new(time: Timestamp, by: impl Into<String>, event: Event) -> NewEntry {
        NewEntry {
            time,
            by: by.into(),
            event,
        }
    }
}

/// What [`Log::open`] cut to recover from a crash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Entries kept: the log's size after recovery.
    pub kept: u64,
    /// Bytes cut from the end of `entries`: a torn record, or records
    /// whose index lines were never written.
    pub truncated_bytes: u64,
    /// Bytes cut from the end of `index`: a torn line, or lines whose
    /// records are incomplete.
    pub index_truncated_bytes: u64,
}

impl Recovery {
    /// Whether nothing had to be cut.
    pub fn is_clean(&self) -> bool {
        self.truncated_bytes == 0 && self.index_truncated_bytes == 0
    }
}

/// One parsed, hash-checked and decoded pass over `entries` and `index`.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The decoded entries, in order.
    pub(crate) entries: Vec<Entry>,
    /// Their leaf hashes.
    pub(crate) leaves: Vec<Hash>,
    /// The end offset of each record in `entries`.
    pub(crate) ends: Vec<u64>,
    /// Complete lines in `index`.
    pub(crate) index_lines: usize,
    /// Whether the index ends in a partial line.
    pub(crate) index_partial: bool,
}

impl Scan {
    /// The end of the last record kept.
    pub(crate) fn data_end(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
    }
}

/// A record: `<len> <json>\n`. `Ok(None)` when the data ends inside it.
fn parse_record(data: &[u8], pos: usize) -> Result<Option<(Range<usize>, usize)>, String> {
    let rest = &data[pos..];
    let digits = rest
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_digit())
        .count();
    match rest.get(digits) {
        None => return Ok(None),
        Some(b' ') if digits > 0 => {}
        Some(_) => {
            return Err("a record starts '<length> ': decimal digits, then a space".to_owned())
        }
    }
    if digits > 1 && rest[0] == b'0' {
        return Err("the record length has a leading zero".to_owned());
    }
    let len: usize = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&l| l <= MAX_ENTRY_BYTES)
        .ok_or_else(|| format!("the record length is over {MAX_ENTRY_BYTES} bytes"))?;
    let start = pos + digits + 1;
    let end = start + len;
    match data.get(end) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((start..end, end + 1))),
        Some(_) => Err(format!(
            "the record of {len} bytes is not followed by a newline"
        )),
    }
}

fn parse_index_line(line: &[u8]) -> Option<(u64, Hash)> {
    if line.len() != INDEX_LINE_LEN || line[16] != b' ' || line[81] != b'\n' {
        return None;
    }
    let end = u64::from_be_bytes(decode_lower_hex::<8>(&line[..16])?);
    let leaf = decode_lower_hex::<32>(&line[17..81])?;
    Some((end, leaf))
}

fn index_line(end: u64, leaf: &Hash) -> String {
    format!("{end:016x} {}\n", hex::encode(leaf))
}

/// Checks an entry's place in the story: its `seq` is its index, the first
/// entry opens the ceremony, nothing reopens it or follows its close.
pub(crate) fn check_place(index: u64, entry: &Entry, closed: bool) -> Result<(), String> {
    if entry.seq != index {
        return Err(format!(
            "it says it is entry {}: entries were removed, reordered or duplicated",
            entry.seq
        ));
    }
    if closed {
        return Err("it follows ceremony_closed".to_owned());
    }
    match (index, &entry.event) {
        (0, Event::CeremonyOpened(_)) => Ok(()),
        (0, _) => Err("the first entry must be ceremony_opened".to_owned()),
        (_, Event::CeremonyOpened(_)) => {
            Err("only the first entry may be ceremony_opened".to_owned())
        }
        _ => Ok(()),
    }
}

/// The first event that stopped a scan of a range of entries.
enum Stop {
    /// The data ends inside this entry's record (or before it).
    Incomplete,
    /// Entry `i` is bad.
    Bad(usize, String),
}

/// The entries of a range `[from, to)` of index lines that scanned cleanly,
/// and what stopped the scan, if anything did.
struct Chunk {
    entries: Vec<Entry>,
    leaves: Vec<Hash>,
    ends: Vec<u64>,
    stop: Option<Stop>,
}

/// Below this many entries, one thread scans them all.
const PARALLEL_MIN_ENTRIES: usize = 4096;

fn scan_range(data: &[u8], index: &[u8], from: usize, to: usize) -> Chunk {
    let mut chunk = Chunk {
        entries: Vec::with_capacity(to - from),
        leaves: Vec::with_capacity(to - from),
        ends: Vec::with_capacity(to - from),
        stop: None,
    };
    let line = |i: usize| parse_index_line(&index[i * INDEX_LINE_LEN..(i + 1) * INDEX_LINE_LEN]);
    // Where entry `from` starts: the end of the one before. Were that line
    // bad, the range before reports it first.
    let mut start = if from == 0 {
        Some(0)
    } else {
        line(from - 1).map(|(end, _)| end)
    };
    let mut scratch = Vec::new();
    for i in from..to {
        let Some((end, leaf)) = line(i) else {
            chunk.stop = Some(Stop::Bad(
                i,
                format!("{INDEX_FILE} line {} is not '<16 hex> <64 hex>'", i + 1),
            ));
            break;
        };
        let Some(begin) = start.filter(|&b| b < end) else {
            chunk.stop = Some(Stop::Bad(
                i,
                format!("{INDEX_FILE} line {}: end offsets must increase", i + 1),
            ));
            break;
        };
        start = Some(end);
        let Some(begin) = usize::try_from(begin).ok().filter(|&b| b <= data.len()) else {
            chunk.stop = Some(Stop::Incomplete);
            break;
        };
        let (payload, next) = match parse_record(data, begin) {
            Ok(Some(record)) => record,
            Ok(None) => {
                chunk.stop = Some(Stop::Incomplete);
                break;
            }
            Err(r) => {
                chunk.stop = Some(Stop::Bad(i, format!("{DATA_FILE}: {r}")));
                break;
            }
        };
        if next as u64 != end {
            chunk.stop = Some(Stop::Bad(
                i,
                format!("{INDEX_FILE} says the record ends at byte {end}, {DATA_FILE} says {next}"),
            ));
            break;
        }
        let bytes = &data[payload];
        let hash = leaf_hash(bytes);
        if hash != leaf {
            chunk.stop = Some(Stop::Bad(
                i,
                format!(
                    "hash mismatch: {DATA_FILE} hashes to {}, {INDEX_FILE} says {}",
                    hex::encode(hash),
                    hex::encode(leaf)
                ),
            ));
            break;
        }
        match Entry::decode_with(bytes, &mut scratch) {
            Ok(entry) => chunk.entries.push(entry),
            Err(r) => {
                chunk.stop = Some(Stop::Bad(i, r));
                break;
            }
        }
        chunk.leaves.push(hash);
        chunk.ends.push(end);
    }
    chunk
}

/// Scans the committed entries: every index line parsed, every record
/// complete and matching its line's end offset and leaf hash, every entry
/// canonical and in its place. Stops early, without error, where `data`
/// ends inside a record (the index got ahead of the data).
///
/// The index gives every record's place, so the records are hashed and
/// decoded on all cores; the first problem in entry order is reported,
/// as a one-by-one scan would.
pub(crate) fn scan(data: &[u8], index: &[u8]) -> Result<Scan, Error> {
    let bad = |i: usize, reason: String| Error::Entry {
        index: i as u64,
        reason,
    };
    let index_lines = index.len() / INDEX_LINE_LEN;
    let threads = if index_lines < PARALLEL_MIN_ENTRIES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    };
    let chunks: Vec<Chunk> = if threads == 1 {
        vec![scan_range(data, index, 0, index_lines)]
    } else {
        let per = index_lines.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (from, to) = (t * per, ((t + 1) * per).min(index_lines));
                    scope.spawn(move || scan_range(data, index, from, to))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Chunk {
                        entries: Vec::new(),
                        leaves: Vec::new(),
                        ends: Vec::new(),
                        stop: Some(Stop::Bad(0, "the scanning thread panicked".to_owned())),
                    })
                })
                .collect()
        })
    };

    // Join the chunks up to the first stop, in entry order.
    let mut s = Scan {
        entries: Vec::with_capacity(index_lines),
        leaves: Vec::with_capacity(index_lines),
        ends: Vec::with_capacity(index_lines),
        index_lines,
        index_partial: index.len() % INDEX_LINE_LEN != 0,
    };
    let mut stop = None;
    for mut chunk in chunks {
        s.entries.append(&mut chunk.entries);
        s.leaves.append(&mut chunk.leaves);
        s.ends.append(&mut chunk.ends);
        if chunk.stop.is_some() {
            stop = chunk.stop;
            break;
        }
    }

    // The story's order, before any later problem.
    let mut closed = false;
    for (i, entry) in s.entries.iter().enumerate() {
        check_place(i as u64, entry, closed).map_err(|r| bad(i, r))?;
        closed = matches!(entry.event, Event::CeremonyClosed(_));
    }
    match stop {
        Some(Stop::Bad(i, reason)) => Err(bad(i, reason)),
        Some(Stop::Incomplete) | None => Ok(s),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(Error::io(path))
}

/// The signed checkpoints in `dir/checkpoints`, by size, as (file name,
/// bytes). Leftover `*.tmp` files of an interrupted write are skipped.
pub(crate) fn read_checkpoints(dir: &Path) -> Result<Vec<(u64, String, Vec<u8>)>, Error> {
    let cdir = dir.join(CHECKPOINT_DIR);
    let mut out = Vec::new();
    for item in std::fs::read_dir(&cdir).map_err(Error::io(&cdir))? {
        let item = item.map_err(Error::io(&cdir))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            continue;
        }
        let size = parse_checkpoint_file_name(&name).ok_or_else(|| Error::Checkpoint {
            file: name.clone(),
            reason: format!(
                "not a checkpoint file name (expected e.g. {})",
                checkpoint_file_name(6)
            ),
        })?;
        let bytes = read_file(&item.path())?;
        out.push((size, name, bytes));
    }
    out.sort_by_key(|(size, _, _)| *size);
    Ok(out)
}

/// Checks the first entry against the log's identity.
pub(crate) fn check_opened(entry: &Entry, log_key: &VerifierKey) -> Result<(), Error> {
    let bad = |reason: String| Error::Entry { index: 0, reason };
    let Event::CeremonyOpened(opened) = &entry.event else {
        return Err(bad("the first entry must be ceremony_opened".to_owned()));
    };
    if opened.origin != log_key.name() {
        return Err(bad(format!(
            "the ceremony's origin is {:?}, the log key's name is {:?}",
            opened.origin,
            log_key.name()
        )));
    }
    if opened.log_key != *log_key {
        return Err(bad(format!(
            "the ceremony declares log key {}, not {log_key}",
            opened.log_key
        )));
    }
    Ok(())
}

/// The transcript log: appends entries durably and signs checkpoints.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    signer: Signer,
    log_key: VerifierKey,
    data: File,
    index: File,
    tree: Tree,
    ends: Vec<u64>,
    closed: bool,
    latest: Option<SignedCheckpoint>,
    /// A write failed half-way: the files may hold uncommitted bytes, and
    /// only [`Log::open`] may continue.
    poisoned: bool,
}

impl Log {
    /// Creates an empty transcript in `dir` (created if missing; it must not
    /// hold a transcript already), signed by `signer`, whose name is the
    /// log's origin. The first entry appended must be
    /// [`CeremonyOpened`](crate::entry::CeremonyOpened) with this origin and
    /// the signer's verifier key.
    ///
    /// # Errors
    /// [`Error::Io`], or [`Error::Log`] when a transcript (or a checkpoint)
    /// is already there.
    pub fn create(dir: &Path, signer: Signer) -> Result<Log, Error> {
        std::fs::create_dir_all(dir.join(CHECKPOINT_DIR)).map_err(Error::io(dir))?;
        let create = |name: &str| {
            let path = dir.join(name);
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        Error::Log {
                            dir: dir.to_owned(),
                            reason: format!(
                                "{name} exists: a transcript is already here (open it instead)"
                            ),
                        }
                    } else {
                        Error::io(path)(e)
                    }
                })
        };
        let cdir = dir.join(CHECKPOINT_DIR);
        let stale = std::fs::read_dir(&cdir)
            .map_err(Error::io(&cdir))?
            .next()
            .is_some();
        if stale {
            return Err(Error::Log {
                dir: dir.to_owned(),
                reason: format!(
                    "{CHECKPOINT_DIR}/ is not empty: it holds another transcript's checkpoints"
                ),
            });
        }
        let data = create(DATA_FILE)?;
        let index = create(INDEX_FILE)?;
        sync_dir(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let log_key = signer.verifier_key();
        Ok(Log {
            dir: dir.to_owned(),
            signer,
            log_key,
            data,
            index,
            tree: Tree::new(),
            ends: Vec::new(),
            closed: false,
            latest: None,
            poisoned: false,
        })
    }

    /// Opens the transcript in `dir` to append to it, recovering from a
    /// crash: see the [module documentation](self) for what is cut.
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::Entry`] naming the first corrupt entry;
    /// [`Error::Checkpoint`] for a latest checkpoint that is not this log's
    /// or does not match the entries; [`Error::Log`] when recovery would
    /// drop entries a checkpoint already covers.
    pub fn open(dir: &Path, signer: Signer) -> Result<(Log, Recovery), Error> {
        let data_path = dir.join(DATA_FILE);
        let index_path = dir.join(INDEX_FILE);
        if !data_path.exists() || !index_path.exists() {
            return Err(Error::Log {
                dir: dir.to_owned(),
                reason: format!("no transcript here ({DATA_FILE} and {INDEX_FILE} are missing)"),
            });
        }
        let data_bytes = read_file(&data_path)?;
        let index_bytes = read_file(&index_path)?;
        let scan = scan(&data_bytes, &index_bytes)?;
        let log_key = signer.verifier_key();
        if let Some(first) = scan.entries.first() {
            check_opened(first, &log_key)?;
        }
        let kept = scan.entries.len() as u64;
        let tree = Tree::from_leaves(&scan.leaves);

        // The latest checkpoint must be ours and cover only entries we keep.
        let mut latest = None;
        if let Some((size, file, bytes)) = read_checkpoints(dir)?.pop() {
            let bad = |reason: String| Error::Checkpoint {
                file: file.clone(),
                reason,
            };
            let signed = SignedCheckpoint::parse(&bytes).map_err(|e| bad(e.to_string()))?;
            signed
                .verify(&log_key, &[])
                .map_err(|e| bad(e.to_string()))?;
            if signed.checkpoint().size() != size {
                return Err(bad(format!("it holds size {}", signed.checkpoint().size())));
            }
            if size > kept {
                return Err(Error::Log {
                    dir: dir.to_owned(),
                    reason: format!(
                        "only {kept} complete entries remain, but checkpoint {file} signed {size}: \
                         entries were lost after they were checkpointed; refusing to continue, \
                         as new entries would fork the log"
                    ),
                });
            }
            if tree.root_at(size)? != *signed.checkpoint().root() {
                return Err(bad(format!("its root does not match entries 0..{size}")));
            }
            latest = Some(signed);
        }

        // Cut what is not committed, durably.
        let data_end = scan.data_end();
        let index_end = kept * INDEX_LINE_LEN as u64;
        let recovery = Recovery {
            kept,
            truncated_bytes: data_bytes.len() as u64 - data_end,
            index_truncated_bytes: index_bytes.len() as u64 - index_end,
        };
        let open_rw = |path: &Path| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(Error::io(path))
        };
        let data = open_rw(&data_path)?;
        let index = open_rw(&index_path)?;
        if recovery.index_truncated_bytes > 0 {
            // The index first: it is the commit record.
            index.set_len(index_end).map_err(Error::io(&index_path))?;
            index.sync_all().map_err(Error::io(&index_path))?;
        }
        if recovery.truncated_bytes > 0 {
            data.set_len(data_end).map_err(Error::io(&data_path))?;
            data.sync_all().map_err(Error::io(&data_path))?;
        }

        let closed = matches!(
            scan.entries.last().map(|e| &e.event),
            Some(Event::CeremonyClosed(_))
        );
        let log = Log {
            dir: dir.to_owned(),
            signer,
            log_key,
            data,
            index,
            tree,
            ends: scan.ends,
            closed,
            latest,
            poisoned: false,
        };
        Ok((log, recovery))
    }

    /// The transcript directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's origin (its key name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The log's verifier key.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.log_key
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The current root hash.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The leaf hashes of every entry.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.tree.leaves()
    }

    /// The Merkle tree of the entries.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Whether the ceremony was closed: nothing more may be appended.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The latest signed checkpoint, with the cosignatures added so far.
    pub fn latest_checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.latest.as_ref()
    }

    fn check_usable(&self) -> Result<(), Error> {
        if self.poisoned {
            return Err(Error::Log {
                dir: self.dir.clone(),
                reason: "an earlier write failed; open the transcript again to recover".to_owned(),
            });
        }
        Ok(())
    }

    /// Appends one entry durably and returns its index.
    ///
    /// # Errors
    /// As [`Log::append_batch`].
    pub fn append(&mut self, entry: NewEntry) -> Result<u64, Error> {
        Ok(self.append_batch(vec![entry])?.start)
    }

    /// Appends entries as one batch (one act): all are durable, or none
    /// is, when this returns. Costs one fsync of each file.
    ///
    /// # Errors
    /// [`Error::Entry`] when an entry is out of place (the first must open
    /// the ceremony with this log's origin and key; nothing may follow the
    /// close) or too large; [`Error::Io`] when a write fails, after which
    /// the log must be opened again.
    pub fn append_batch(&mut self, entries: Vec<NewEntry>) -> Result<Range<u64>, Error> {
        self.check_usable()?;
        let start = self.size();
        let mut data_buf = Vec::new();
        let mut index_buf = String::new();
        let mut leaves = Vec::with_capacity(entries.len());
        let mut ends = Vec::with_capacity(entries.len());
        let mut closed = self.closed;
        let data_start = self.ends.last().copied().unwrap_or(0);
        for (k, new) in entries.into_iter().enumerate() {
            let seq = start + k as u64;
            let bad = |reason: String| Error::Entry { index: seq, reason };
            let entry = Entry {
                seq,
                time: new.time,
                by: new.by,
                event: new.event,
            };
            check_place(seq, &entry, closed).map_err(bad)?;
            if seq == 0 {
                check_opened(&entry, &self.log_key)?;
            }
            closed = matches!(entry.event, Event::CeremonyClosed(_));
            let bytes = entry.encode();
            if bytes.len() > MAX_ENTRY_BYTES {
                return Err(bad(format!(
                    "{} bytes is over the limit of {MAX_ENTRY_BYTES}",
                    bytes.len()
                )));
            }
            let leaf = leaf_hash(&bytes);
            data_buf.extend_from_slice(format!("{} ", bytes.len()).as_bytes());
            data_buf.extend_from_slice(&bytes);
            data_buf.push(b'\n');
            let end = data_start + data_buf.len() as u64;
            index_buf.push_str(&index_line(end, &leaf));
            leaves.push(leaf);
            ends.push(end);
        }
        if leaves.is_empty() {
            return Ok(start..start);
        }
        let index_start = start * INDEX_LINE_LEN as u64;
        // From here on, a failure leaves the files in an unknown state.
        self.poisoned = true;
        write_at(
            &mut self.data,
            &self.dir.join(DATA_FILE),
            data_start,
            &data_buf,
        )?;
        write_at(
            &mut self.index,
            &self.dir.join(INDEX_FILE),
            index_start,
            index_buf.as_bytes(),
        )?;
        self.poisoned = false;
        for leaf in leaves {
            self.tree.push(leaf);
        }
        self.ends.extend(ends);
        self.closed = closed;
        Ok(start..self.size())
    }

    /// Signs a checkpoint of the current tree and stores it in
    /// `checkpoints/`; returns the latest one unchanged if no entry was
    /// appended since.
    ///
    /// # Errors
    /// [`Error::Log`] for an empty log; [`Error::Io`].
    pub fn checkpoint(&mut self) -> Result<SignedCheckpoint, Error> {
        self.check_usable()?;
        let size = self.size();
        if let Some(latest) = self
            .latest
            .as_ref()
            .filter(|l| l.checkpoint().size() == size)
        {
            return Ok(latest.clone());
        }
        if size == 0 {
            return Err(Error::Log {
                dir: self.dir.clone(),
                reason: "there is nothing to checkpoint: the transcript is empty".to_owned(),
            });
        }
        let checkpoint = Checkpoint::new(self.signer.name(), size, self.tree.root())?;
        let signed = SignedCheckpoint::sign(checkpoint, &self.signer)?;
        let path = self
            .dir
            .join(CHECKPOINT_DIR)
            .join(checkpoint_file_name(size));
        write_atomic(&path, signed.to_string().as_bytes())?;
        self.latest = Some(signed.clone());
        Ok(signed)
    }

    /// The `add-checkpoint` request for the latest checkpoint, to a witness
    /// that last cosigned `old_size`.
    ///
    /// # Errors
    /// [`Error::Log`] before the first checkpoint; [`Error::Proof`] when
    /// `old_size` is past it.
    pub fn witness_request(&self, old_size: u64) -> Result<AddCheckpoint, Error> {
        let latest = self.latest.as_ref().ok_or_else(|| Error::Log {
            dir: self.dir.clone(),
            reason: "no checkpoint has been signed yet".to_owned(),
        })?;
        let proof = self
            .tree
            .consistency_proof(old_size, latest.checkpoint().size())?;
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: latest.clone(),
        })
    }

    /// Adds a witness's cosignature lines (the body of its 200 answer) to
    /// the stored checkpoint of `size`. Lines by keys not in `witnesses` are
    /// ignored; each known one must verify. Returns how many were added.
    ///
    /// # Errors
    /// [`Error::Parse`] for a malformed line; [`Error::BadSignature`] for a
    /// known witness whose cosignature fails; [`Error::Io`].
    pub fn add_cosignatures(
        &mut self,
        size: u64,
        response: &str,
        witnesses: &[VerifierKey],
    ) -> Result<usize, Error> {
        self.check_usable()?;
        let name = checkpoint_file_name(size);
        let path = self.dir.join(CHECKPOINT_DIR).join(&name);
        let bad = |reason: String| Error::Checkpoint {
            file: name.clone(),
            reason,
        };
        let mut signed =
            SignedCheckpoint::parse(&read_file(&path)?).map_err(|e| bad(e.to_string()))?;
        signed
            .verify(&self.log_key, &[])
            .map_err(|e| bad(e.to_string()))?;
        let Some(lines) = response.strip_suffix('\n') else {
            return Err(Error::parse(
                "cosignature lines",
                None,
                "C2SP tlog-witness: each line ends in a newline",
            ));
        };
        let mut added = 0;
        for (i, line) in lines.split('\n').enumerate() {
            let sig = NoteSignature::parse_line(line).map_err(|e| match e {
                Error::Parse { reason, .. } => {
                    Error::parse("cosignature lines", Some(i + 1), reason)
                }
                other => other,
            })?;
            let Some(key) = witnesses
                .iter()
                .find(|k| k.name() == sig.name() && k.key_id() == sig.key_id())
            else {
                continue;
            };
            key.verify(signed.note().text(), &sig)?;
            if signed.add_signature(sig) {
                added += 1;
            }
        }
        if added > 0 {
            write_atomic(&path, signed.to_string().as_bytes())?;
            if self
                .latest
                .as_ref()
                .is_some_and(|l| l.checkpoint().size() == size)
            {
                self.latest = Some(signed);
            }
        }
        Ok(added)
    }

    /// The inclusion proof of entry `index` in the latest checkpoint, as a
    /// C2SP tlog-proof whose extra data is the entry itself.
    ///
    /// # Errors
    /// [`Error::Log`] when no checkpoint covers the entry yet; [`Error::Io`].
    pub fn prove_inclusion(&self, index: u64) -> Result<TlogProof, Error> {
        let latest = self.latest.as_ref().ok_or_else(|| Error::Log {
            dir: self.dir.clone(),
            reason: "no checkpoint has been signed yet".to_owned(),
        })?;
        let entry = self.read_entry(index)?;
        TlogProof::build(&self.tree, latest, index, Some(entry)).map_err(|e| self.not_covered(e))
    }

    /// The consistency proof between the trees of `old` and `new` entries.
    ///
    /// # Errors
    /// [`Error::Proof`] unless `old <= new <= size`.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, Error> {
        ConsistencyProof::build(&self.tree, old, new)
    }

    fn not_covered(&self, e: Error) -> Error {
        match e {
            Error::Proof(p) => Error::Log {
                dir: self.dir.clone(),
                reason: format!("the latest checkpoint does not cover that entry: {p}"),
            },
            other => other,
        }
    }

    /// The canonical bytes of entry `index`, read back from `entries`.
    ///
    /// # Errors
    /// [`Error::Proof`] for an index past the end; [`Error::Io`].
    pub fn read_entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        use std::io::Read as _;
        let size = self.size();
        let i = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.ends.len())
            .ok_or(crate::merkle::ProofError::IndexOutOfRange { index, size })?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let path = self.dir.join(DATA_FILE);
        let mut file = File::open(&path).map_err(Error::io(&path))?;
        file.seek(SeekFrom::Start(start))
            .map_err(Error::io(&path))?;
        let mut record = vec![0u8; (self.ends[i] - start) as usize];
        file.read_exact(&mut record).map_err(Error::io(&path))?;
        let (payload, _) = parse_record(&record, 0)
            .ok()
            .flatten()
            .ok_or_else(|| Error::Entry {
                index,
                reason: format!("{DATA_FILE} changed under the log"),
            })?;
        Ok(record[payload].to_vec())
    }
}

fn write_at(file: &mut File, path: &Path, offset: u64, bytes: &[u8]) -> Result<(), Error> {
    file.seek(SeekFrom::Start(offset))
        .map_err(Error::io(path))?;
    file.write_all(bytes).map_err(Error::io(path))?;
    file.sync_data().map_err(Error::io(path))
}
