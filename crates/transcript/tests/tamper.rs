//! Tamper evidence: every single-byte change to any stored file, and every
//! deletion, reordering or duplication of entries, fails verification and
//! names the first bad entry or the bad checkpoint.

mod common;

use std::path::{Path, PathBuf};

use ceremony_transcript::merkle::leaf_hash;
use ceremony_transcript::{verify_dir, Error};
use common::*;

fn verify(tdir: &Path) -> Result<ceremony_transcript::Timeline, Error> {
    verify_dir(tdir, &log_key(), &[witness_key()])
}

/// The records of `entries`, each `<len> <json>` (JSON holds no newline).
fn records(tdir: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(tdir.join("entries")).expect("entries");
    data.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn payload(record: &[u8]) -> &[u8] {
    let space = record.iter().position(|&b| b == b' ').expect("space");
    &record[space + 1..record.len() - 1]
}

/// Writes `entries` and a matching `index` from these records, as someone
/// with write access but without the log key could.
fn rewrite(tdir: &Path, records: &[Vec<u8>]) {
    let mut data = Vec::new();
    let mut index = String::new();
    for r in records {
        data.extend_from_slice(r);
        index.push_str(&format!(
            "{:016x} {}\n",
            data.len(),
            hex::encode(leaf_hash(payload(r)))
        ));
    }
    std::fs::write(tdir.join("entries"), data).expect("write");
    std::fs::write(tdir.join("index"), index).expect("write");
}

fn checkpoint_files(tdir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(tdir.join("checkpoints"))
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn assert_entry(result: Result<ceremony_transcript::Timeline, Error>, want: u64, what: &str) {
    match result {
        Err(Error::Entry { index, .. }) if index == want => {}
        other => panic!("{what}: expected entry {want} named, got {other:?}"),
    }
}

fn assert_checkpoint(result: Result<ceremony_transcript::Timeline, Error>, want: &str, what: &str) {
    match result {
        Err(Error::Checkpoint { ref file, .. }) if file == want => {}
        other => panic!("{what}: expected checkpoint {want} named, got {other:?}"),
    }
}

#[test]
fn every_flipped_byte_of_every_file_is_caught_and_located() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    verify(&tdir).expect("the untouched sample verifies");

    // Which entry owns each byte of `entries`.
    let mut owner = Vec::new();
    for (i, r) in records(&tdir).iter().enumerate() {
        owner.extend(std::iter::repeat_n(i as u64, r.len()));
    }

    let mut cases = 0usize;
    let mut flip_all = |path: &Path, check: &dyn Fn(usize, Result<_, Error>)| {
        let original = std::fs::read(path).expect("read");
        for pos in 0..original.len() {
            for mask in [0x01u8, 0x80] {
                let mut bytes = original.clone();
                bytes[pos] ^= mask;
                std::fs::write(path, &bytes).expect("write");
                check(pos, verify(&tdir));
                cases += 1;
            }
        }
        std::fs::write(path, &original).expect("restore");
    };

    flip_all(&tdir.join("entries"), &|pos, r| {
        assert_entry(r, owner[pos], &format!("entries byte {pos}"));
    });
    flip_all(&tdir.join("index"), &|pos, r| {
        assert_entry(r, (pos / 82) as u64, &format!("index byte {pos}"));
    });
    for file in checkpoint_files(&tdir) {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        flip_all(&file, &|pos, r| {
            assert_checkpoint(r, &name, &format!("{name} byte {pos}"));
        });
    }
    verify(&tdir).expect("restored");
    let total: u64 = std::fs::read_dir(&tdir)
        .expect("dir")
        .chain(std::fs::read_dir(tdir.join("checkpoints")).expect("dir"))
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert_eq!(cases as u64, 2 * total);
    eprintln!("{cases} single-byte flips over {total} bytes, every one caught and located");
}

#[test]
fn deleting_reordering_or_duplicating_entries_is_caught() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let original = records(&tdir);
    let index = std::fs::read(tdir.join("index")).expect("index");
    let n = original.len();
    assert_eq!(n, 6);

    for i in 0..n {
        // Deleted from entries only: the index no longer matches from i on.
        let mut r = original.clone();
        r.remove(i);
        std::fs::write(tdir.join("entries"), r.concat()).expect("write");
        std::fs::write(tdir.join("index"), &index).expect("write");
        assert_entry(
            verify(&tdir),
            i as u64,
            &format!("entry {i} deleted from entries"),
        );

        // Deleted from both, index rebuilt to match.
        rewrite(&tdir, &r);
        if i + 1 < n {
            assert_entry(verify(&tdir), i as u64, &format!("entry {i} deleted"));
        } else {
            // The last entry: what remains is consistent, but the last
            // checkpoint signs more entries than there are.
            assert_checkpoint(verify(&tdir), "00000006.checkpoint", "last entry deleted");
        }

        // Duplicated.
        let mut r = original.clone();
        r.insert(i, original[i].clone());
        rewrite(&tdir, &r);
        assert_entry(
            verify(&tdir),
            i as u64 + 1,
            &format!("entry {i} duplicated"),
        );

        // Swapped with the next.
        if i + 1 < n {
            let mut r = original.clone();
            r.swap(i, i + 1);
            rewrite(&tdir, &r);
            assert_entry(
                verify(&tdir),
                i as u64,
                &format!("entries {i} and {} swapped", i + 1),
            );
        }
    }
    rewrite(&tdir, &original);
    verify(&tdir).expect("restored");
}

#[test]
fn a_consistent_forgery_is_caught_by_the_signed_checkpoints() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let original = records(&tdir);
    // Rewrite entry 2 (the file read) with another hash, keeping it
    // canonical and in place, and fix the index: only the signatures can
    // tell. The first checkpoint covering entry 2 signs size 4.
    let text = String::from_utf8(original[2].clone()).expect("utf8");
    let good = ceremony_transcript::entry::Digest::of(b"hello, world\n").to_string();
    let bad = ceremony_transcript::entry::Digest::of(b"evil").to_string();
    let json = payload(text.as_bytes()).to_vec();
    let forged_json = String::from_utf8(json).expect("utf8").replace(&good, &bad);
    let mut r = original.clone();
    r[2] = format!("{} {forged_json}\n", forged_json.len()).into_bytes();
    rewrite(&tdir, &r);
    assert_checkpoint(verify(&tdir), "00000004.checkpoint", "forged entry 2");

    // Removing the signed checkpoints does not help: the last one of a
    // closed ceremony must sign every entry.
    rewrite(&tdir, &original);
    let files = checkpoint_files(&tdir);
    let last = std::fs::read(&files[2]).expect("read");
    std::fs::remove_file(&files[2]).expect("rm");
    assert_checkpoint(
        verify(&tdir),
        "00000006.checkpoint",
        "last checkpoint removed",
    );
    // Renaming one checkpoint to another's name is caught.
    std::fs::write(&files[2], std::fs::read(&files[1]).expect("read")).expect("write");
    assert_checkpoint(
        verify(&tdir),
        "00000006.checkpoint",
        "checkpoint 4 renamed to 6",
    );
    std::fs::write(&files[2], last).expect("restore");
    verify(&tdir).expect("restored");

    // Appended garbage after the last entry, or a stray index line.
    let mut data = std::fs::read(tdir.join("entries")).expect("read");
    data.extend_from_slice(b"3 {}\n");
    std::fs::write(tdir.join("entries"), &data).expect("write");
    assert_entry(verify(&tdir), 6, "garbage after the last entry");
    rewrite(&tdir, &original);
    let mut index = std::fs::read(tdir.join("index")).expect("read");
    index.extend_from_slice(b"0000");
    std::fs::write(tdir.join("index"), &index).expect("write");
    assert_entry(verify(&tdir), 6, "partial index line");
}
