//! A transcript large enough to be scanned on several threads: the first
//! problem in entry order is still the one reported, whichever thread
//! found it, and recovery still keeps the last complete entry.

mod common;

use std::path::Path;

use ceremony_transcript::entry::{Digest, FileWritten};
use ceremony_transcript::merkle::leaf_hash;
use ceremony_transcript::{verify_dir, Error, Event, Log, NewEntry};
use common::*;

const N: usize = 10_000;

fn build(tdir: &Path) {
    let mut log = Log::create(tdir, signer()).expect("create");
    log.append(NewEntry::new(at(0), "ca", opened()))
        .expect("opened");
    let mut next = 1;
    while next < N {
        let end = (next + 100).min(N);
        log.append_batch(
            (next..end)
                .map(|i| {
                    NewEntry::new(
                        at(i as i64),
                        "ca",
                        Event::FileWritten(FileWritten {
                            name: format!("out-{i}.xml"),
                            sha256: Digest::of(&i.to_be_bytes()),
                        }),
                    )
                })
                .collect(),
        )
        .expect("append");
        next = end;
        if next == 1000 {
            log.checkpoint().expect("checkpoint");
        }
    }
}

fn records(tdir: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(tdir.join("entries")).expect("entries");
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Rewrites both files consistently from the records.
fn rewrite(tdir: &Path, records: &[Vec<u8>]) {
    let mut data = Vec::new();
    let mut index = String::new();
    for r in records {
        data.extend_from_slice(r);
        let space = r.iter().position(|&b| b == b' ').expect("space");
        index.push_str(&format!(
            "{:016x} {}\n",
            data.len(),
            hex::encode(leaf_hash(&r[space + 1..r.len() - 1]))
        ));
    }
    std::fs::write(tdir.join("entries"), data).expect("write");
    std::fs::write(tdir.join("index"), index).expect("write");
}

fn first_bad(tdir: &Path) -> u64 {
    match verify_dir(tdir, &log_key(), &[]) {
        Err(Error::Entry { index, .. }) => index,
        other => panic!("expected an entry error, got {other:?}"),
    }
}

#[test]
fn the_first_bad_entry_is_named_whichever_thread_finds_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = tmp.path().join("transcript");
    build(&tdir);
    let timeline = verify_dir(&tdir, &log_key(), &[]).expect("verifies");
    assert_eq!(timeline.size(), N as u64);
    let original = records(&tdir);
    let data = original.concat();

    // Bytes flipped in two entries far apart: the earlier one is named.
    let offset = |i: usize| original[..i].iter().map(Vec::len).sum::<usize>() + 10;
    let mut bad = data.clone();
    bad[offset(3_000)] ^= 1;
    bad[offset(9_000)] ^= 1;
    std::fs::write(tdir.join("entries"), &bad).expect("write");
    assert_eq!(first_bad(&tdir), 3_000);
    bad[offset(3_000)] ^= 1;
    std::fs::write(tdir.join("entries"), &bad).expect("write");
    assert_eq!(first_bad(&tdir), 9_000);

    // Entries out of order at 7,000 (found after the scan) and a hash
    // mismatch at 8,000 (found by a scanning thread): 7,000 comes first.
    let mut r = original.clone();
    r.swap(7_000, 7_001);
    rewrite(&tdir, &r);
    let mut bad = std::fs::read(tdir.join("entries")).expect("read");
    bad[offset(8_000)] ^= 1;
    std::fs::write(tdir.join("entries"), &bad).expect("write");
    assert_eq!(first_bad(&tdir), 7_000);

    // A malformed index line at 5,000 and a bad record at 6,000.
    rewrite(&tdir, &original);
    let mut index = std::fs::read(tdir.join("index")).expect("index");
    index[5_000 * 82 + 16] = b'x';
    std::fs::write(tdir.join("index"), &index).expect("write");
    let mut bad = data.clone();
    bad[offset(6_000)] ^= 1;
    std::fs::write(tdir.join("entries"), &bad).expect("write");
    assert_eq!(first_bad(&tdir), 5_000);
}

#[test]
fn recovery_on_many_threads_keeps_the_last_complete_entry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = tmp.path().join("transcript");
    build(&tdir);
    let original = records(&tdir);
    // Cut inside entry 6,500's record, with the full index: the records
    // before it are kept, whatever thread scanned them.
    let cut: usize = original[..6_500].iter().map(Vec::len).sum::<usize>() + 20;
    let data = std::fs::read(tdir.join("entries")).expect("read");
    std::fs::write(tdir.join("entries"), &data[..cut]).expect("write");
    let (mut log, recovery) = Log::open(&tdir, signer()).expect("open");
    assert_eq!(recovery.kept, 6_500);
    assert_eq!(recovery.truncated_bytes, 20);
    assert_eq!(recovery.index_truncated_bytes, (N as u64 - 6_500) * 82);
    log.checkpoint().expect("checkpoint");
    assert_eq!(
        verify_dir(&tdir, &log_key(), &[]).expect("verifies").size(),
        6_500
    );
}
