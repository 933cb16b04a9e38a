//! What others attest in a transcript, checked by `ceremony transcript
//! verify`: TCR approvals, each signed with the identity key the TCR
//! declared when recorded present, and held to the ceremony's quorum rule;
//! and an outside witness's cosignature, returned after the fact and stored
//! by `ceremony transcript attach` only when it is a declared witness's
//! signature over one of the transcript's checkpoints.

mod common;

use std::path::{Path, PathBuf};

use ceremony_transcript::entry::{
    ActStarted, Approval, BundleHash, CeremonyClosed, CeremonyOpened, CheckOutcome, CheckReport,
    CheckStatus, DeclaredKey, Digest, ParticipantPresent, SignatureProduced,
};
use ceremony_transcript::{Event, Log, NewEntry, Signer};
use common::{ceremony, s};

const ORIGIN: &str = "ceremony.example/KC-attest";

fn log_signer() -> Signer {
    Signer::from_seed(ORIGIN, &[1; 32]).expect("log key")
}

/// A TCR's identity key: an Ed25519 signed-note key named for them.
fn tcr(name: &str) -> Signer {
    let seed = match name {
        "alice" => [11; 32],
        "bob" => [12; 32],
        _ => [13; 32],
    };
    Signer::from_seed(name, &seed).expect("identity")
}

/// The signed data of bundle `b1`, as the TCRs computed it.
fn b1() -> Vec<BundleHash> {
    vec![BundleHash {
        bundle: "b1".to_owned(),
        signed_data: Digest::of(b"the RRSIG signed data of bundle b1"),
    }]
}

/// An approval of `b1` by `by`, signed with `key`'s identity.
fn approval(by: &str, key: &str) -> Event {
    Event::Approval(Approval::sign(by, b1(), ORIGIN, &tcr(key)).expect("sign"))
}

/// The events of a ceremony whose quorum rule needs `quorum` approvals:
/// three TCRs present, checks passed, `approvals`, then bundle b1 signed by
/// KSK tag 20326, and the close.
fn events(quorum: u32, approvals: Vec<Event>) -> Vec<Event> {
    let mut events = vec![Event::CeremonyOpened(CeremonyOpened {
        origin: ORIGIN.to_owned(),
        script: "attest test".to_owned(),
        log_key: log_signer().verifier_key(),
        keys: vec![DeclaredKey {
            role: "ksk".to_owned(),
            name: "KSK-2017".to_owned(),
            key: "20326".to_owned(),
        }],
        approvals: quorum,
    })];
    for name in ["alice", "bob", "carol"] {
        events.push(Event::ParticipantPresent(ParticipantPresent {
            name: name.to_owned(),
            role: "tcr".to_owned(),
            identity_key: tcr(name).verifier_key().to_string(),
        }));
    }
    events.push(Event::ActStarted(ActStarted {
        act: "1".to_owned(),
        title: "The KSR is checked and approved".to_owned(),
    }));
    events.push(Event::CheckReport(CheckReport {
        checks: vec![CheckOutcome {
            id: "KSR-BUNDLE-POP".to_owned(),
            status: CheckStatus::Passed,
        }],
    }));
    events.extend(approvals);
    events.push(Event::SignatureProduced(SignatureProduced {
        bundle: "b1".to_owned(),
        key_tag: 20326,
    }));
    events.push(Event::CeremonyClosed(CeremonyClosed {}));
    events
}

/// Writes `events` as a closed, signed transcript in `dir/transcript`.
fn write_ceremony(dir: &Path, events: Vec<Event>) -> PathBuf {
    let mut log = Log::create(&dir.join("transcript"), log_signer()).expect("create");
    let now = jiff::Timestamp::from_second(1_790_863_200).expect("time");
    log.append_batch(
        events
            .into_iter()
            .map(|e| NewEntry::new(now, "ca", e))
            .collect(),
    )
    .expect("append");
    log.checkpoint().expect("checkpoint");
    dir.to_owned()
}

/// The index of the first entry of `kind` (its `type`) by `who`, if given.
fn index_of(events: &[Event], pick: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(pick).expect("the event")
}

#[test]
fn approvals_are_signed_by_the_tcrs_and_held_to_the_quorum_rule() {
    let tmp = tempfile::tempdir().expect("tmp");

    // Two of three TCRs approve, each with their own key: verified.
    let good = events(2, vec![approval("alice", "alice"), approval("bob", "bob")]);
    let dir = write_ceremony(&tmp.path().join("good"), good);
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(0)
        .expect_stdout(&["approval by alice of bundles b1", "the story holds"]);

    // Bob's approval forged with Carol's key: refused, naming the entry.
    let forged = events(
        2,
        vec![approval("alice", "alice"), approval("bob", "carol")],
    );
    let at = index_of(
        &forged,
        |e| matches!(e, Event::Approval(a) if a.tcr == "bob"),
    );
    let dir = write_ceremony(&tmp.path().join("forged"), forged);
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(1)
        .expect_stderr(&[&format!("entry {at}: approval by bob"), "does not verify"]);

    // Alice's approval with the signed-data hash changed after she signed.
    let Event::Approval(mut changed) = approval("alice", "alice") else {
        unreachable!("an approval")
    };
    changed.bundles[0].signed_data = Digest::of(b"other signed data");
    let mismatched = events(2, vec![Event::Approval(changed), approval("bob", "bob")]);
    let at = index_of(
        &mismatched,
        |e| matches!(e, Event::Approval(a) if a.tcr == "alice"),
    );
    let dir = write_ceremony(&tmp.path().join("mismatched"), mismatched);
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(1)
        .expect_stderr(&[&format!("entry {at}: approval by alice")]);

    // An approval with no signature at all.
    let Event::Approval(mut unsigned) = approval("bob", "bob") else {
        unreachable!("an approval")
    };
    unsigned.signature.clear();
    let dir = write_ceremony(
        &tmp.path().join("unsigned"),
        events(
            2,
            vec![approval("alice", "alice"), Event::Approval(unsigned)],
        ),
    );
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(1)
        .expect_stderr(&["approval by bob"]);

    // One approval where the quorum rule needs two: the signature is named.
    let short = events(2, vec![approval("alice", "alice")]);
    let at = index_of(&short, |e| matches!(e, Event::SignatureProduced(_)));
    let dir = write_ceremony(&tmp.path().join("short"), short);
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(1)
        .expect_stderr(&[
            &format!("entry {at}: a signature of bundle b1 approved by 1 TCRs (alice)"),
            "needs 2 signed approvals",
        ]);
    // A forged approval does not count towards the quorum either.
    let forged_only = events(1, vec![approval("bob", "carol")]);
    let at = index_of(&forged_only, |e| matches!(e, Event::SignatureProduced(_)));
    let dir = write_ceremony(&tmp.path().join("forged-only"), forged_only);
    let run = ceremony(&["transcript", "verify", s(&dir)]);
    run.expect_code(1);
    assert!(
        run.stdout.contains(&format!(
            "entry {at}: a signature of bundle b1 approved by 0 TCRs"
        )),
        "{}",
        run.stdout
    );

    // A TCR whose identity key is not an Ed25519 verifier key.
    let mut odd = events(0, vec![]);
    if let Event::ParticipantPresent(p) = &mut odd[1] {
        p.identity_key = "age1notanidentitykey".to_owned();
    }
    let dir = write_ceremony(&tmp.path().join("odd-key"), odd);
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(1)
        .expect_stderr(&["entry 1: the TCR alice's identity key", "not an Ed25519"]);
}

/// A witness key made by `transcript witness-keygen`: (key file, verifier key).
fn witness(dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(format!("{}.key", name.replace('/', "-")));
    // The key file is sealed to an age identity kept beside it (`.id`).
    let id_name = file.with_extension("id");
    let (_, recipient) =
        common::age_identity(dir, &id_name.file_name().expect("name").to_string_lossy());
    let run = ceremony(&[
        "transcript",
        "witness-keygen",
        name,
        "--key-file",
        s(&file),
        "--recipient",
        &recipient,
    ]);
    run.expect_code(0);
    (file, run.stdout.trim().to_owned())
}

/// A small ceremony declaring `witness_key`, with checkpoints at 2 and 4
/// entries; `script` makes two such ceremonies differ.
fn witnessed_ceremony(dir: &Path, witness_key: &str, script: &str) -> PathBuf {
    let signer = Signer::from_seed(ORIGIN, &[2; 32]).expect("log key");
    let log_key = signer.verifier_key();
    let mut log = Log::create(&dir.join("transcript"), signer).expect("create");
    let now = jiff::Timestamp::from_second(1_790_863_200).expect("time");
    let entry = |e| NewEntry::new(now, "ca", e);
    log.append_batch(vec![
        entry(Event::CeremonyOpened(CeremonyOpened {
            origin: ORIGIN.to_owned(),
            script: script.to_owned(),
            log_key,
            keys: vec![DeclaredKey {
                role: "witness".to_owned(),
                name: "w1".to_owned(),
                key: witness_key.to_owned(),
            }],
            approvals: 0,
        })),
        entry(Event::ActStarted(ActStarted {
            act: "1".to_owned(),
            title: script.to_owned(),
        })),
    ])
    .expect("append");
    log.checkpoint().expect("checkpoint");
    log.append_batch(vec![
        entry(Event::ActStarted(ActStarted {
            act: "2".to_owned(),
            title: "more".to_owned(),
        })),
        entry(Event::CeremonyClosed(CeremonyClosed {})),
    ])
    .expect("append");
    log.checkpoint().expect("checkpoint");
    dir.to_owned()
}

/// `transcript cosign` of the consistency proof 0 → 4 of `dir`, by the
/// witness with `key_file` and its state in `state`: the cosignature lines.
fn cosign(dir: &Path, key_file: &Path, state: &Path, out: &Path) -> PathBuf {
    let request = out.with_extension("request");
    let proof = ceremony(&["transcript", "prove", s(dir), "--consistency", "0", "4"]);
    proof.expect_code(0);
    std::fs::write(&request, &proof.stdout).expect("request");
    let log_key = Signer::from_seed(ORIGIN, &[2; 32])
        .expect("log key")
        .verifier_key()
        .to_string();
    let run = ceremony(&[
        "transcript",
        "cosign",
        "--state",
        s(state),
        "--key-file",
        s(key_file),
        "--identity",
        s(&key_file.with_extension("id")),
        "--log-key",
        &log_key,
        s(&request),
    ]);
    run.expect_code(0);
    std::fs::write(out, &run.stdout).expect("lines");
    out.to_owned()
}

#[test]
fn an_outside_witness_cosignature_is_attached_only_from_a_declared_witness_over_a_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    let (w1_file, w1) = witness(t, "witness.example/w1");
    let (w2_file, w2) = witness(t, "witness.example/w2");
    let a = witnessed_ceremony(&t.join("a"), &w1, "ceremony A");
    let attach = |dir: &Path, lines: &Path, key: &str| {
        ceremony(&[
            "transcript",
            "attach",
            s(dir),
            "--cosignature",
            s(lines),
            "--witness-key",
            key,
        ])
    };
    let checkpoint = a.join("transcript/checkpoints/00000004.checkpoint");
    let pristine = std::fs::read(&checkpoint).expect("checkpoint");

    // W1 cosigns offline; its lines are verified and stored with checkpoint 4.
    let lines = cosign(&a, &w1_file, &t.join("w1-state"), &t.join("w1.lines"));
    attach(&a, &lines, &w1).expect_code(0).expect_stdout(&[
        "Stored the cosignature of witness.example/w1 over checkpoint 00000004.checkpoint (4 entries)",
    ]);
    ceremony(&["transcript", "verify", s(&a)])
        .expect_code(0)
        .expect_stdout(&["cosigned by witness.example/w1", "(1 witnessed)"]);
    // Given twice, it is stored once.
    attach(&a, &lines, &w1)
        .expect_code(0)
        .expect_stdout(&["Already stored"]);
    // A stored cosignature is checked by verify: one flipped byte in it fails.
    let mut bytes = std::fs::read(&checkpoint).expect("checkpoint");
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    std::fs::write(&checkpoint, &bytes).expect("write");
    ceremony(&["transcript", "verify", s(&a)])
        .expect_code(1)
        .expect_stderr(&["checkpoint 00000004.checkpoint:"]);
    std::fs::write(&checkpoint, &pristine).expect("restore");

    // W2, whom the ceremony did not declare: refused, nothing stored.
    let lines2 = cosign(&a, &w2_file, &t.join("w2-state"), &t.join("w2.lines"));
    attach(&a, &lines2, &w2)
        .expect_code(1)
        .expect_stderr(&["not a witness this ceremony declared"]);
    // W2's lines given as W1's: refused.
    attach(&a, &lines2, &w1)
        .expect_code(1)
        .expect_stderr(&["line 1 is by witness.example/w2"]);
    assert_eq!(std::fs::read(&checkpoint).expect("checkpoint"), pristine);

    // W1's cosignature of another ceremony's checkpoint: refused.
    let b = witnessed_ceremony(&t.join("b"), &w1, "ceremony B");
    let other = cosign(&b, &w1_file, &t.join("w1-state-b"), &t.join("b.lines"));
    attach(&a, &other, &w1)
        .expect_code(1)
        .expect_stderr(&["verifies over none of this transcript's checkpoints (of 2, 4 entries)"]);
    assert_eq!(std::fs::read(&checkpoint).expect("checkpoint"), pristine);
    ceremony(&["transcript", "verify", s(&a)]).expect_code(0);
}
