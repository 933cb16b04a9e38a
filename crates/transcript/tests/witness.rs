//! The witness's add-checkpoint answers, C2SP tlog-witness outcome by outcome.

mod common;

use ceremony_transcript::checkpoint::{Checkpoint, SignedCheckpoint};
use ceremony_transcript::merkle::{leaf_hash, Hash, Tree};
use ceremony_transcript::witness::{AddCheckpoint, LogState};
use ceremony_transcript::{Signer, Witness, WitnessError};
use common::*;

/// A log as a witness sees it: leaves and signed checkpoints, no storage.
struct FakeLog {
    signer: Signer,
    tree: Tree,
}

impl FakeLog {
    fn new(seed: u8) -> FakeLog {
        FakeLog {
            signer: Signer::from_seed(ORIGIN, &[seed; 32]).expect("key"),
            tree: Tree::new(),
        }
    }

    fn grow(&mut self, to: u64, salt: &str) {
        while self.tree.size() < to {
            self.tree
                .push(leaf_hash(format!("{salt}{}", self.tree.size()).as_bytes()));
        }
    }

    fn signed(&self, size: u64) -> SignedCheckpoint {
        let root = self.tree.root_at(size).expect("size");
        SignedCheckpoint::sign(
            Checkpoint::new(ORIGIN, size, root).expect("cp"),
            &self.signer,
        )
        .expect("sign")
    }

    fn request(&self, old: u64, size: u64) -> Vec<u8> {
        AddCheckpoint {
            old_size: old,
            proof: self.tree.consistency_proof(old, size).expect("proof"),
            checkpoint: self.signed(size),
        }
        .to_string()
        .into_bytes()
    }
}

fn witness(dir: &std::path::Path) -> Witness {
    Witness::open(dir, cosigner(), &[FakeLog::new(1).signer.verifier_key()]).expect("open")
}

#[test]
fn a_good_sequence_is_cosigned_and_the_state_advances() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut w = witness(tmp.path());
    let mut log = FakeLog::new(1);
    let mut old = 0;
    for (i, size) in [1u64, 2, 5, 8, 8, 13, 64, 100].into_iter().enumerate() {
        log.grow(size, "a");
        let body = log.request(old, size);
        let lines = w
            .add_checkpoint(&body, 1_700_000_000 + i as u64)
            .expect("cosigned");
        // The answer is cosignature lines that verify on the checkpoint.
        let mut cp = log.signed(size);
        for line in lines.lines() {
            cp.add_signature(
                ceremony_transcript::note::NoteSignature::parse_line(line).expect("line"),
            );
        }
        let cosigned = cp
            .verify(&log.signer.verifier_key(), &[witness_key()])
            .expect("verify");
        assert_eq!(cosigned.len(), 1);
        assert_eq!(cosigned[0].timestamp, 1_700_000_000 + i as u64);
        assert_eq!(
            w.state(ORIGIN),
            Some(LogState {
                size,
                root: log.tree.root_at(size).expect("root")
            })
        );
        old = size;
    }
    // The state survives a restart.
    drop(w);
    let w = witness(tmp.path());
    assert_eq!(w.state(ORIGIN).map(|s| s.size), Some(100));
    let state =
        std::fs::read_to_string(tmp.path().join("ceremony.example%2FKC-2026-Q4.checkpoint"))
            .expect("state file");
    assert!(state.starts_with("ceremony.example/KC-2026-Q4\n100\n"));
}

#[test]
fn a_split_view_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut w = witness(tmp.path());
    let mut honest = FakeLog::new(1);
    honest.grow(4, "a");
    w.add_checkpoint(&honest.request(0, 4), 1)
        .expect("first view");
    // The same log key signs another tree of the same size.
    let mut fork = FakeLog::new(1);
    fork.grow(4, "b");
    let err = w
        .add_checkpoint(&fork.request(4, 4), 2)
        .expect_err("split view");
    assert!(
        matches!(err, WitnessError::SplitView { size: 4, .. }),
        "{err}"
    );
    assert_eq!(err.status(), 422);
    // Still the first view.
    assert_eq!(
        w.state(ORIGIN).map(|s| s.root),
        Some(honest.tree.root_at(4).expect("root"))
    );
    // The honest checkpoint again is fine (and cosigned again).
    w.add_checkpoint(&honest.request(4, 4), 3)
        .expect("same view");
}

#[test]
fn an_inconsistent_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut w = witness(tmp.path());
    let mut honest = FakeLog::new(1);
    honest.grow(5, "a");
    w.add_checkpoint(&honest.request(0, 5), 1).expect("first");
    // A fork that rewrote entry 3 and grew to 9: its own proof does not
    // lead from the witnessed root.
    let mut fork = FakeLog::new(1);
    fork.grow(3, "a");
    fork.grow(9, "b");
    let err = w
        .add_checkpoint(&fork.request(5, 9), 2)
        .expect_err("inconsistent");
    assert!(
        matches!(
            err,
            WitnessError::BadProof {
                old: 5,
                size: 9,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status(), 422);
    // An honest checkpoint with a damaged proof is refused too.
    honest.grow(9, "a");
    let mut request = AddCheckpoint::parse(&honest.request(5, 9)).expect("parse");
    request.proof[0][0] ^= 1;
    let err = w
        .add_checkpoint(request.to_string().as_bytes(), 3)
        .expect_err("bad proof");
    assert_eq!(err.status(), 422);
    // A proof when old is 0 must be empty.
    let tmp2 = tempfile::tempdir().expect("tmp");
    let mut fresh = witness(tmp2.path());
    let mut request = AddCheckpoint::parse(&honest.request(0, 9)).expect("parse");
    request.proof.push([0; 32]);
    assert_eq!(
        fresh
            .add_checkpoint(request.to_string().as_bytes(), 4)
            .expect_err("proof from 0")
            .status(),
        422
    );
    assert_eq!(w.state(ORIGIN).map(|s| s.size), Some(5));
}

#[test]
fn replays_and_stale_old_sizes_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut w = witness(tmp.path());
    let mut log = FakeLog::new(1);
    log.grow(10, "a");
    w.add_checkpoint(&log.request(0, 5), 1).expect("5");
    w.add_checkpoint(&log.request(5, 10), 2).expect("10");
    // Replaying the request for 5 (old 0): 409, with the latest size as body.
    let err = w.add_checkpoint(&log.request(0, 5), 3).expect_err("replay");
    assert!(
        matches!(err, WitnessError::Conflict { old: 0, latest: 10 }),
        "{err}"
    );
    assert_eq!(err.status(), 409);
    assert_eq!(err.body(), Some(("text/x.tlog.size", "10\n".to_owned())));
    // An older checkpoint claimed from the latest size: old > size, 400.
    let stale = AddCheckpoint {
        old_size: 10,
        proof: vec![],
        checkpoint: log.signed(5),
    };
    let err = w
        .add_checkpoint(stale.to_string().as_bytes(), 4)
        .expect_err("rollback");
    assert!(
        matches!(err, WitnessError::OldSizeTooLarge { old: 10, size: 5 }),
        "{err}"
    );
    assert_eq!(err.status(), 400);
    assert_eq!(w.state(ORIGIN).map(|s| s.size), Some(10));
}

#[test]
fn unknown_origins_bad_signatures_and_malformed_bodies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut w = witness(tmp.path());
    // 404: a log the witness does not follow.
    let other = Signer::from_seed("other.example/log", &[1; 32]).expect("key");
    let cp = SignedCheckpoint::sign(
        Checkpoint::new("other.example/log", 1, leaf_hash(b"x")).expect("cp"),
        &other,
    )
    .expect("sign");
    let body = format!("old 0\n\n{cp}");
    let err = w.add_checkpoint(body.as_bytes(), 1).expect_err("unknown");
    assert_eq!(err.status(), 404, "{err}");
    // 403: the right origin, signed by another key.
    let mut impostor = FakeLog::new(9);
    impostor.grow(3, "a");
    let err = w
        .add_checkpoint(&impostor.request(0, 3), 1)
        .expect_err("impostor");
    assert_eq!(err.status(), 403, "{err}");
    // 400: malformed bodies.
    let mut log = FakeLog::new(1);
    log.grow(3, "a");
    let good = String::from_utf8(log.request(0, 3)).expect("utf8");
    let hash: Hash = [7; 32];
    let too_many = format!(
        "old 0\n{}\n{}",
        vec![ceremony_transcript::checkpoint::fmt_hash(&hash); 64].join("\n"),
        log.signed(3)
    );
    for bad in [
        good.replacen("old 0", "old 00", 1),
        good.replacen("old 0", "old +0", 1),
        good.replacen("old 0", "old", 1),
        good.replacen("old 0\n\n", "old 0\n", 1),
        good.replacen("old 0\n", "old 0\nnot base64\n", 1),
        good.replacen('\u{2014}', "-", 1),
        too_many,
        String::new(),
    ] {
        let err = w.add_checkpoint(bad.as_bytes(), 1).expect_err("malformed");
        assert_eq!(err.status(), 400, "{bad:?}: {err}");
    }
    assert_eq!(w.state(ORIGIN), None);
    w.add_checkpoint(good.as_bytes(), 1).expect("the good body");
}

#[test]
fn a_witness_state_that_cannot_be_written_cosigns_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("state");
    let mut w = witness(&dir);
    let mut log = FakeLog::new(1);
    log.grow(3, "a");
    // Make the state directory unusable: replace it with a file.
    std::fs::remove_dir_all(&dir).expect("rm");
    std::fs::write(&dir, b"not a directory").expect("file");
    let err = w
        .add_checkpoint(&log.request(0, 3), 1)
        .expect_err("cannot persist");
    assert_eq!(err.status(), 500, "{err}");
    assert_eq!(w.state(ORIGIN), None);
}
