//! Crash safety, in process: a crash can leave `entries` cut at any byte and
//! `index` behind or ahead of it. Opening the log recovers a valid prefix,
//! says what it cut, and the transcript verifies; it never goes below a
//! signed checkpoint.

mod common;

use std::path::Path;

use ceremony_transcript::log::INDEX_LINE_LEN;
use ceremony_transcript::{verify_committed, verify_dir, Error, Log, Recovery};
use common::*;

/// The pristine files of a transcript with 6 entries (3 acts) and one
/// checkpoint, after act 1 (size 2), cosigned.
struct Pristine {
    data: Vec<u8>,
    index: Vec<u8>,
    checkpoint: Vec<u8>,
    /// End offset of each record.
    ends: Vec<usize>,
}

const SIGNED: usize = 2;

fn pristine(dir: &Path) -> Pristine {
    let tdir = dir.join("transcript");
    let mut log = Log::create(&tdir, signer()).expect("create");
    let mut witness =
        ceremony_transcript::Witness::open(&dir.join("witness"), cosigner(), &[log_key()])
            .expect("witness");
    let acts = acts();
    log.append_batch(acts[0].clone()).expect("act 1");
    log.checkpoint().expect("checkpoint");
    witness_latest(&mut log, &mut witness, 1);
    log.append_batch(acts[1].clone()).expect("act 2");
    log.append_batch(acts[2].clone()).expect("act 3");
    let data = std::fs::read(tdir.join("entries")).expect("entries");
    let ends = data
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    Pristine {
        index: std::fs::read(tdir.join("index")).expect("index"),
        checkpoint: std::fs::read(tdir.join("checkpoints/00000002.checkpoint")).expect("cp"),
        data,
        ends,
    }
}

fn lay(tdir: &Path, p: &Pristine, data: &[u8], index: &[u8]) {
    std::fs::create_dir_all(tdir.join("checkpoints")).expect("mkdir");
    std::fs::write(tdir.join("entries"), data).expect("write");
    std::fs::write(tdir.join("index"), index).expect("write");
    std::fs::write(tdir.join("checkpoints/00000002.checkpoint"), &p.checkpoint).expect("write");
}

/// Opens after a crash, checks the recovery report against what a correct
/// recovery keeps, verifies, and proves the log can go on.
fn recover_and_continue(tdir: &Path, p: &Pristine, data_len: usize, index_len: usize, go_on: bool) {
    // Complete records in the data, and complete index lines: the smaller wins.
    let complete = p.ends.iter().filter(|&&e| e <= data_len).count();
    let kept = complete.min(index_len / INDEX_LINE_LEN);
    // An auditor sees, read-only, what opening the log will keep.
    let (seen, would_cut) = verify_committed(tdir, &log_key(), &[witness_key()])
        .unwrap_or_else(|e| panic!("data cut at {data_len}, index at {index_len}: {e}"));
    assert_eq!(seen.size(), kept as u64);
    let (mut log, recovery) = Log::open(tdir, signer())
        .unwrap_or_else(|e| panic!("data cut at {data_len}, index at {index_len}: {e}"));
    assert_eq!(would_cut, recovery);
    let kept_end = if kept == 0 { 0 } else { p.ends[kept - 1] };
    assert_eq!(
        recovery,
        Recovery {
            kept: kept as u64,
            truncated_bytes: (data_len - kept_end) as u64,
            index_truncated_bytes: (index_len - kept * INDEX_LINE_LEN) as u64,
        },
        "data cut at {data_len}, index at {index_len}"
    );
    assert_eq!(
        std::fs::metadata(tdir.join("entries")).expect("meta").len(),
        kept_end as u64
    );
    if log.is_closed() {
        // The close survived but its checkpoint was never signed; a closed
        // ceremony must be signed to the end, so the runner signs on reopen.
        log.checkpoint().expect("sign the close");
    }
    let timeline = verify_dir(tdir, &log_key(), &[witness_key()])
        .unwrap_or_else(|e| panic!("data cut at {data_len}, index at {index_len}: verify: {e}"));
    assert_eq!(timeline.size(), kept as u64);
    if go_on {
        // The rest of the ceremony can be appended again, and signed.
        let rest: Vec<_> = acts().into_iter().flatten().skip(kept).collect();
        log.append_batch(rest).expect("append the rest");
        log.checkpoint().expect("checkpoint");
        let timeline = verify_dir(tdir, &log_key(), &[witness_key()]).expect("verify after");
        assert_eq!(timeline.size(), 6);
        assert!(timeline.is_closed());
    }
}

#[test]
fn a_crash_at_any_byte_of_entries_recovers_the_last_complete_entry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = pristine(tmp.path());
    let tdir = tmp.path().join("crashed");
    let signed_end = p.ends[SIGNED - 1];
    let (mut recovered, mut refused) = (0, 0);
    for cut in 0..=p.data.len() {
        let _ = std::fs::remove_dir_all(&tdir);
        lay(&tdir, &p, &p.data[..cut], &p.index);
        if cut >= signed_end {
            recover_and_continue(
                &tdir,
                &p,
                cut,
                p.index.len(),
                cut % 7 == 0 || cut == signed_end,
            );
            recovered += 1;
        } else {
            // Entries covered by a signed checkpoint are gone: continuing
            // would fork the log, so opening refuses.
            match Log::open(&tdir, signer()) {
                Err(Error::Log { reason, .. }) => {
                    assert!(reason.contains("checkpoint"), "{reason}")
                }
                other => panic!("cut at {cut}: expected a refusal, got {other:?}"),
            }
            assert!(
                verify_committed(&tdir, &log_key(), &[witness_key()]).is_err(),
                "cut at {cut}: signed entries are missing"
            );
            refused += 1;
        }
    }
    assert_eq!(recovered + refused, p.data.len() + 1);
    eprintln!(
        "entries cut at each of {} offsets: {recovered} recovered, {refused} refused",
        p.data.len() + 1
    );
}

#[test]
fn an_index_behind_the_entries_rolls_back_to_the_index() {
    // A crash after the records were synced but before (or while) their
    // index lines were written: the index is the commit record, so the
    // batch is dropped whole, at every byte of the index.
    let tmp = tempfile::tempdir().expect("tmp");
    let p = pristine(tmp.path());
    let tdir = tmp.path().join("crashed");
    let signed_index = SIGNED * INDEX_LINE_LEN;
    for cut in signed_index..=p.index.len() {
        let _ = std::fs::remove_dir_all(&tdir);
        lay(&tdir, &p, &p.data, &p.index[..cut]);
        recover_and_continue(&tdir, &p, p.data.len(), cut, cut % 5 == 0);
    }
    // And both at once: entries cut inside a record and a torn index line.
    for (data_cut, index_cut) in [
        (p.ends[3] + 5, 4 * INDEX_LINE_LEN + 30),
        (p.ends[2] - 1, 5 * INDEX_LINE_LEN),
    ] {
        let _ = std::fs::remove_dir_all(&tdir);
        lay(&tdir, &p, &p.data[..data_cut], &p.index[..index_cut]);
        recover_and_continue(&tdir, &p, data_cut, index_cut, true);
    }
}

#[test]
fn an_index_ahead_of_the_entries_is_cut_back_to_them() {
    // Index lines whose records are missing (the data lost its tail): the
    // index is cut back to the complete records.
    let tmp = tempfile::tempdir().expect("tmp");
    let p = pristine(tmp.path());
    let tdir = tmp.path().join("crashed");
    // One more line than there are records, as for a seventh entry whose
    // record was lost.
    let mut longer = p.index.clone();
    longer
        .extend_from_slice(format!("{:016x} {}\n", p.data.len() + 100, "ab".repeat(32)).as_bytes());
    for records in SIGNED..=6 {
        let _ = std::fs::remove_dir_all(&tdir);
        let data = &p.data[..p.ends[records - 1]];
        lay(&tdir, &p, data, &longer);
        recover_and_continue(&tdir, &p, data.len(), longer.len(), true);
    }
}

#[test]
fn a_complete_record_that_disagrees_with_its_index_is_corruption_not_a_crash() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = pristine(tmp.path());
    let tdir = tmp.path().join("crashed");
    let mut data = p.data.clone();
    let pos = p.ends[3] - 10; // inside entry 3's JSON
    data[pos] ^= 0x01;
    lay(&tdir, &p, &data, &p.index);
    match Log::open(&tdir, signer()) {
        Err(Error::Entry { index: 3, reason }) => {
            assert!(reason.contains("hash mismatch"), "{reason}")
        }
        other => panic!("expected entry 3 to be named, got {other:?}"),
    }
    // Nothing was cut.
    assert_eq!(std::fs::read(tdir.join("entries")).expect("read"), data);
}

#[test]
fn a_crash_while_writing_a_checkpoint_leaves_the_last_one() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = pristine(tmp.path());
    let tdir = tmp.path().join("crashed");
    lay(&tdir, &p, &p.data, &p.index);
    // The temporary file of an interrupted write, cut short.
    std::fs::write(
        tdir.join("checkpoints/00000006.checkpoint.tmp"),
        &p.checkpoint[..40],
    )
    .expect("write");
    let (mut log, recovery) = Log::open(&tdir, signer()).expect("open");
    assert!(recovery.is_clean());
    assert_eq!(log.latest_checkpoint().expect("cp").checkpoint().size(), 2);
    // Closed but not signed to the end: verification says which checkpoint is missing.
    match verify_dir(&tdir, &log_key(), &[witness_key()]) {
        Err(Error::Checkpoint { file, .. }) => assert_eq!(file, "00000006.checkpoint"),
        other => panic!("expected the missing checkpoint named, got {other:?}"),
    }
    log.checkpoint().expect("checkpoint again");
    assert!(!tdir.join("checkpoints/00000006.checkpoint.tmp").exists());
    verify_dir(&tdir, &log_key(), &[witness_key()]).expect("verify");
}
