//! The log end to end: append, checkpoint, witness, reopen, verify, prove.

mod common;

use ceremony_transcript::entry::Digest;
use ceremony_transcript::entry::{CeremonyClosed, Entry, FileWritten};
use ceremony_transcript::log::{checkpoint_file_name, parse_checkpoint_file_name};
use ceremony_transcript::merkle::root;
use ceremony_transcript::{
    read_opening, verify_dir, ConsistencyProof, Error, Event, Log, NewEntry, Signer, TlogProof,
};
use common::*;

#[test]
fn the_first_entry_declares_the_keys() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let opened = read_opening(&tdir).expect("reads").expect("opened");
    assert_eq!(opened.log_key, log_key());
    assert_eq!(opened.keys.len(), 2);
    let empty = tmp.path().join("empty");
    Log::create(&empty, signer()).expect("create");
    assert_eq!(read_opening(&empty).expect("reads"), None);
}

#[test]
fn a_sample_ceremony_verifies_and_reads_as_a_story() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let timeline = verify_dir(&tdir, &log_key(), &[witness_key()]).expect("verifies");
    assert_eq!(timeline.size(), 6);
    assert_eq!(timeline.checkpoints().len(), 3);
    assert_eq!(
        timeline
            .checkpoints()
            .iter()
            .map(|c| c.size())
            .collect::<Vec<_>>(),
        [2, 4, 6]
    );
    assert!(timeline.is_closed());
    assert_eq!(timeline.signed_size(), 6);
    assert_eq!(timeline.witnessed_size(1), 6);
    assert_eq!(timeline.witnessed_size(2), 0);
    let written: Vec<_> = timeline
        .files_written()
        .map(|(i, f)| (i, f.name.clone()))
        .collect();
    assert_eq!(written, [(4, "skr.xml".to_owned())]);
    assert_eq!(timeline.files_read().count(), 1);

    let story = timeline.to_string();
    for needle in [
        "ceremony.example/KC-2026-Q4: 6 entries, 3 checkpoints, closed",
        "2026-10-01T14:00:00Z  ca",
        "present: Alice as tcr",
        "read ksr.xml (13 bytes) sha256 853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020 \"music customer",
        "checks: 1 passed, 0 failed, 1 skipped, 0 not applicable",
        "checkpoint 6 root",
        "cosigned by witness.example/w1 at 2026-10-01T14:30:00Z",
        "ceremony closed",
    ] {
        assert!(story.contains(needle), "{needle:?} missing from\n{story}");
    }

    // The entries file reads as text: one record per line.
    let data = std::fs::read_to_string(tdir.join("entries")).expect("entries");
    assert_eq!(data.lines().count(), 6);
    assert!(data.starts_with(&format!(
        "{} {{\"seq\":0,\"time\":\"2026-10-01T14:00:00Z\",\"by\":\"ca\",\"event\":{{\"type\":\"ceremony_opened\",\"origin\":\"ceremony.example/KC-2026-Q4\"",
        data.lines().next().and_then(|l| l.split_once(' ')).map(|(n, _)| n).unwrap_or_default()
    )));
    // Checkpoint files are C2SP notes with the log's and the witness's lines.
    let note =
        std::fs::read_to_string(tdir.join("checkpoints").join("00000006.checkpoint")).expect("cp");
    assert!(note.starts_with("ceremony.example/KC-2026-Q4\n6\n"));
    assert_eq!(note.matches('\u{2014}').count(), 2);
}

#[test]
fn entries_are_canonical_and_strictly_decoded() {
    let entry = Entry {
        seq: 4,
        time: at(20),
        by: "ca".to_owned(),
        event: Event::FileWritten(FileWritten {
            name: "skr.xml".to_owned(),
            sha256: Digest::of(b"skr"),
        }),
    };
    let bytes = entry.encode();
    assert_eq!(
        String::from_utf8(bytes.clone()).expect("utf8"),
        format!(
            "{{\"seq\":4,\"time\":\"2026-10-01T14:20:00Z\",\"by\":\"ca\",\"event\":{{\"type\":\"file_written\",\"name\":\"skr.xml\",\"sha256\":\"{}\"}}}}",
            Digest::of(b"skr")
        )
    );
    assert_eq!(Entry::decode(&bytes).expect("decode"), entry);
    let text = String::from_utf8(bytes).expect("utf8");
    for other in [
        text.replace("{\"seq\":4,", "{ \"seq\":4,"),
        text.replace("\"seq\":4,\"time\"", "\"time\""),
        text.replace("14:20:00Z", "16:20:00+02:00"),
        text.replace("\"by\":\"ca\"", "\"by\":\"\\u0063a\""),
        text.replace("\"name\":\"skr.xml\",", "\"name\":\"skr.xml\",\"extra\":1,"),
        text.replace("\"seq\":4", "\"seq\":4.0"),
        text.replace(
            &Digest::of(b"skr").to_string(),
            &Digest::of(b"skr").to_string().to_uppercase(),
        ),
        text.replace("file_written", "file_deleted"),
        text.clone() + " ",
    ] {
        assert!(Entry::decode(other.as_bytes()).is_err(), "accepted {other}");
    }
}

#[test]
fn the_log_enforces_the_story_shape() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = tmp.path().join("transcript");
    let mut log = Log::create(&tdir, signer()).expect("create");
    // The first entry opens the ceremony ...
    let closed = NewEntry::new(at(0), "ca", Event::CeremonyClosed(CeremonyClosed {}));
    assert!(matches!(
        log.append(closed.clone()),
        Err(Error::Entry { index: 0, .. })
    ));
    // ... for this log's origin and key.
    let other = Signer::from_seed(ORIGIN, &[9; 32]).expect("key");
    let mut wrong = opened();
    if let Event::CeremonyOpened(o) = &mut wrong {
        o.log_key = other.verifier_key();
    }
    assert!(matches!(
        log.append(NewEntry::new(at(0), "ca", wrong)),
        Err(Error::Entry { index: 0, .. })
    ));
    // A failed batch writes nothing.
    assert!(log
        .append_batch(vec![
            NewEntry::new(at(0), "ca", opened()),
            NewEntry::new(at(1), "ca", opened())
        ])
        .is_err());
    assert_eq!(log.size(), 0);
    assert!(matches!(log.checkpoint(), Err(Error::Log { .. })));
    assert_eq!(
        log.append(NewEntry::new(at(0), "ca", opened()))
            .expect("opened"),
        0
    );
    assert_eq!(log.append(closed.clone()).expect("closed"), 1);
    assert!(log.is_closed());
    // Nothing after the close.
    assert!(matches!(
        log.append(closed),
        Err(Error::Entry { index: 2, .. })
    ));
    // A second log in the same place is refused.
    assert!(matches!(
        Log::create(&tdir, signer()),
        Err(Error::Log { .. })
    ));
    // Another key cannot continue this log.
    assert!(Log::open(&tdir, other).is_err());
}

#[test]
fn reopen_continues_where_it_stopped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = tmp.path().join("transcript");
    let acts = acts();
    let root_after_two;
    {
        let mut log = Log::create(&tdir, signer()).expect("create");
        assert_eq!(log.append_batch(acts[0].clone()).expect("act 1"), 0..2);
        log.checkpoint().expect("cp");
        assert_eq!(log.append_batch(acts[1].clone()).expect("act 2"), 2..4);
        root_after_two = log.root();
    }
    let (mut log, recovery) = Log::open(&tdir, signer()).expect("open");
    assert!(recovery.is_clean(), "{recovery:?}");
    assert_eq!(recovery.kept, 4);
    assert_eq!(log.root(), root_after_two);
    assert_eq!(log.latest_checkpoint().expect("cp").checkpoint().size(), 2);
    // Checkpointing twice without appending gives the same checkpoint.
    let cp = log.checkpoint().expect("cp");
    assert_eq!(log.checkpoint().expect("cp again"), cp);
    log.append_batch(acts[2].clone()).expect("act 3");
    log.checkpoint().expect("cp");
    let timeline = verify_dir(&tdir, &log_key(), &[]).expect("verifies without witnesses");
    assert_eq!(timeline.size(), 6);
    // Leaf hashes are the RFC 6962 hashes of the canonical JSON.
    let leaves: Vec<_> = timeline
        .entries()
        .iter()
        .map(|e| ceremony_transcript::merkle::leaf_hash(&e.encode()))
        .collect();
    assert_eq!(root(&leaves), *timeline.checkpoints()[2].root());
}

#[test]
fn proofs_round_trip_through_text() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let timeline = verify_dir(&tdir, &log_key(), &[witness_key()]).expect("verifies");
    let (log, _) = Log::open(&tdir, signer()).expect("open");
    for index in 0..6 {
        let proof = timeline.prove_inclusion(index).expect("prove");
        // The log and the verified timeline give the same proof.
        assert_eq!(log.prove_inclusion(index).expect("log proof"), proof);
        let text = proof.to_string();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
        assert!(text.contains(&format!("\nindex {index}\n")));
        let parsed = TlogProof::parse(text.as_bytes()).expect("parse");
        assert_eq!(parsed, proof);
        let entry = parsed.extra().expect("extra is the entry");
        assert_eq!(Entry::decode(entry).expect("entry").seq, index);
        let cosigned = parsed
            .verify(entry, &log_key(), &[witness_key()])
            .expect("verify");
        assert_eq!(cosigned.len(), 1);
        // Another entry, or another index, does not verify.
        let other = timeline.entries()[((index + 1) % 6) as usize].encode();
        assert!(parsed.verify(&other, &log_key(), &[]).is_err());
        let moved = text.replace(
            &format!("\nindex {index}\n"),
            &format!("\nindex {}\n", (index + 1) % 6),
        );
        let moved = TlogProof::parse(moved.as_bytes()).expect("parse");
        assert!(moved.verify(entry, &log_key(), &[]).is_err());
    }
    assert!(timeline.prove_inclusion(6).is_err());

    let cps = timeline.checkpoints();
    for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 2)] {
        let (old, new) = (cps[a].signed.checkpoint(), cps[b].signed.checkpoint());
        let proof = timeline
            .prove_consistency(old.size(), new.size())
            .expect("prove");
        assert_eq!(
            log.prove_consistency(old.size(), new.size())
                .expect("log proof"),
            proof
        );
        proof.verify(old, new).expect("consistent");
        if a != b {
            assert!(proof.verify(new, old).is_err());
        }
        assert_eq!(proof.to_string().lines().count(), proof.hashes.len());
    }
    let bad = ConsistencyProof {
        old_size: 2,
        new_size: 6,
        hashes: vec![[0; 32]],
    };
    assert!(bad
        .verify(cps[0].signed.checkpoint(), cps[2].signed.checkpoint())
        .is_err());
    assert!(timeline.prove_consistency(4, 7).is_err());
}

#[test]
fn cosignatures_from_unknown_witnesses_are_not_stored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = tmp.path().join("transcript");
    let mut log = Log::create(&tdir, signer()).expect("create");
    log.append_batch(acts()[0].clone()).expect("append");
    let cp = log.checkpoint().expect("cp");
    let stranger =
        ceremony_transcript::Cosigner::from_seed("other.example/w9", &[5; 32]).expect("key");
    let line = stranger
        .cosign(cp.checkpoint(), 1)
        .expect("cosign")
        .to_string();
    assert_eq!(
        log.add_cosignatures(2, &line, &[witness_key()])
            .expect("ignored"),
        0
    );
    // A known witness with a bad signature is refused.
    let raw = ceremony_transcript::note::NoteSignature::parse_line(line.trim_end()).expect("line");
    let forged = ceremony_transcript::note::NoteSignature::new(
        WITNESS,
        witness_key().key_id(),
        raw.signature().to_vec(),
    )
    .expect("signature")
    .to_string();
    assert!(matches!(
        log.add_cosignatures(2, &forged, &[witness_key()]),
        Err(Error::BadSignature { .. })
    ));
    // Adding the same cosignature twice stores it once.
    let good = cosigner()
        .cosign(cp.checkpoint(), 7)
        .expect("cosign")
        .to_string();
    assert_eq!(
        log.add_cosignatures(2, &good, &[witness_key()])
            .expect("added"),
        1
    );
    assert_eq!(
        log.add_cosignatures(2, &good, &[witness_key()])
            .expect("again"),
        0
    );
    verify_dir(&tdir, &log_key(), &[witness_key()]).expect("verifies");
    // Without the witness's key the stored cosignature is unaccounted for.
    assert!(matches!(
        verify_dir(&tdir, &log_key(), &[]),
        Err(Error::Checkpoint { .. })
    ));
}

#[test]
fn checkpoint_file_names_are_canonical() {
    assert_eq!(checkpoint_file_name(6), "00000006.checkpoint");
    assert_eq!(checkpoint_file_name(123_456_789), "123456789.checkpoint");
    assert_eq!(parse_checkpoint_file_name("00000006.checkpoint"), Some(6));
    assert_eq!(
        parse_checkpoint_file_name("123456789.checkpoint"),
        Some(123_456_789)
    );
    for bad in [
        "6.checkpoint",
        "000000006.checkpoint",
        "0000000a.checkpoint",
        "00000006",
        "+0000006.checkpoint",
    ] {
        assert_eq!(parse_checkpoint_file_name(bad), None, "{bad}");
    }
}

#[test]
fn the_crate_doc_shows_the_sample_ceremonys_real_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let tdir = sample(tmp.path());
    let note =
        std::fs::read_to_string(tdir.join("checkpoints").join("00000006.checkpoint")).expect("cp");
    let lib = include_str!("../src/lib.rs");
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .skip_while(|l| *l != "```text")
        .skip(1)
        .take_while(|l| *l != "```")
        .map(|l| format!("{l}\n"))
        .collect();
    // The doc's blank line is "//!" with no space.
    let doc = doc.replacen("=\n—", "=\n\n—", 1);
    assert_eq!(doc, note, "update the sample in src/lib.rs");
}
