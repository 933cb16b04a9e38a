//! Transcript costs: durable appends, verification, and SHA-256 of the same
//! bytes for scale.
//!
//! Run with `cargo bench -p ceremony-transcript`. `bench/transcript.sh`
//! compares a 100,000-entry verification with `sha256sum` in one run.

use std::path::{Path, PathBuf};

use ceremony_transcript::entry::{CeremonyOpened, Digest, FileRead};
use ceremony_transcript::{verify_dir, Event, Log, NewEntry, Signer, VerifierKey};
use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use jiff::Timestamp;

fn main() {
    divan::main();
}

const ORIGIN: &str = "ceremony.example/KC-BENCH";

fn signer() -> Signer {
    Signer::from_seed(ORIGIN, &[0x01; 32]).expect("log key")
}

fn opened(log_key: VerifierKey) -> NewEntry {
    NewEntry::new(
        Timestamp::UNIX_EPOCH,
        "ca",
        Event::CeremonyOpened(CeremonyOpened {
            origin: ORIGIN.to_owned(),
            script: "bench".to_owned(),
            log_key,
            keys: vec![],
            approvals: 0,
        }),
    )
}

fn file_read(i: u64) -> NewEntry {
    NewEntry::new(
        Timestamp::UNIX_EPOCH,
        "ca",
        Event::FileRead(FileRead {
            name: format!("ksr-root-2026-q4-{i}.xml"),
            size: 60_000 + i,
            sha256: Digest::of(&i.to_be_bytes()),
            pgp_words: "music customer waffle consensus sugar examine tracker whimsical".to_owned(),
        }),
    )
}

/// Durable appends: each iteration is one act of `batch` entries, written
/// and fsynced (entries, then index) before it returns.
#[divan::bench(args = [1, 10, 100], sample_count = 20, sample_size = 5)]
fn append_act(bencher: Bencher, batch: u64) {
    let tmp = tempfile::tempdir().expect("tmp");
    let signer = signer();
    let key = signer.verifier_key();
    let mut log = Log::create(&tmp.path().join("transcript"), signer).expect("create");
    log.append(opened(key)).expect("opened");
    let mut next = 1;
    bencher.counter(ItemsCount::new(batch)).bench_local(|| {
        let entries = (next..next + batch).map(file_read).collect();
        next += batch;
        log.append_batch(entries).expect("append")
    });
}

/// A transcript of `n` entries in acts of 10, a checkpoint every 1,000.
fn build(dir: &Path, n: u64) -> PathBuf {
    let signer = signer();
    let key = signer.verifier_key();
    let tdir = dir.join("transcript");
    let mut log = Log::create(&tdir, signer).expect("create");
    log.append(opened(key)).expect("opened");
    let mut next = 1;
    while next < n {
        let end = (next + 10).min(n);
        log.append_batch((next..end).map(file_read).collect())
            .expect("append");
        next = end;
        if next % 1000 == 0 || next == n {
            log.checkpoint().expect("checkpoint");
        }
    }
    tdir
}

fn transcript_bytes(tdir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(tdir.join("entries")).expect("entries");
    bytes.extend(std::fs::read(tdir.join("index")).expect("index"));
    bytes
}

/// Full offline verification of a transcript.
#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn verify(bencher: Bencher, n: u64) {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = build(tmp.path(), n);
    let key = signer().verifier_key();
    let bytes = transcript_bytes(&tdir).len();
    bencher
        .counter(BytesCount::new(bytes))
        .bench(|| verify_dir(&tdir, &key, &[]).expect("verify"));
}

/// SHA-256 of the same bytes (entries + index), in memory, for scale.
#[divan::bench(args = [1_000, 10_000], sample_count = 10)]
fn sha256_same_bytes(bencher: Bencher, n: u64) {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = build(tmp.path(), n);
    let bytes = transcript_bytes(&tdir);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .bench(|| Digest::of(divan::black_box(&bytes)));
}
