//! C2SP signed-note, tlog-checkpoint and cosignature/v1 against the shared
//! vector: build the note from the 8-leaf tree, sign it with the vector's
//! seeds, compare bytes; parse and verify the vector's note with its keys;
//! and the strict-parsing rules, one test each.

use std::path::PathBuf;

use ceremony_transcript::checkpoint::{parse_decimal, Checkpoint, SignedCheckpoint};
use ceremony_transcript::cosignature::{signed_message, Cosigner};
use ceremony_transcript::merkle::{leaf_hash, root, Hash};
use ceremony_transcript::note::{KeyId, Note, NoteSignature, SignatureType, Signer, VerifierKey};
use ceremony_transcript::Error;

const LOG_SEED: [u8; 32] = [0x01; 32];
const WITNESS_SEED: [u8; 32] = [0x02; 32];
const TIMESTAMP: u64 = 1_700_000_000;

struct Vector {
    log_vkey: String,
    witness_vkey: String,
    note: String,
}

fn vector() -> Vector {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vectors/c2sp-checkpoint-cosignature.txt");
    let text = std::fs::read_to_string(path).expect("../shared/data/vectors");
    let (head, note) = text.split_once("-----\n").expect("----- line");
    let value = |key: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
            .expect(key)
            .to_owned()
    };
    Vector {
        log_vkey: value("log_vkey"),
        witness_vkey: value("witness_vkey"),
        note: note.to_owned(),
    }
}

/// The 8-leaf tree of rfc6962-merkle.txt.
fn eight_leaf_root() -> Hash {
    let leaves: [&[u8]; 8] = [
        b"",
        &[0x00],
        &[0x10],
        &[0x20, 0x21],
        &[0x30, 0x31],
        &[0x40, 0x41, 0x42, 0x43],
        &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        &[
            0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
            0x6e, 0x6f,
        ],
    ];
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    root(&hashes)
}

fn keys() -> (Signer, Cosigner) {
    (
        Signer::from_seed("example.com/ksk-ceremony-log", &LOG_SEED).expect("log key"),
        Cosigner::from_seed("witness.example/w1", &WITNESS_SEED).expect("witness key"),
    )
}

#[test]
fn signing_reproduces_the_vector_byte_for_byte() {
    let v = vector();
    let (log, witness) = keys();
    assert_eq!(log.verifier_key().to_string(), v.log_vkey);
    assert_eq!(witness.verifier_key().to_string(), v.witness_vkey);

    let checkpoint =
        Checkpoint::new("example.com/ksk-ceremony-log", 8, eight_leaf_root()).expect("checkpoint");
    let mut signed = SignedCheckpoint::sign(checkpoint.clone(), &log).expect("sign");
    signed.add_signature(witness.cosign(&checkpoint, TIMESTAMP).expect("cosign"));
    assert_eq!(signed.to_string(), v.note);
}

#[test]
fn the_vector_parses_and_verifies() {
    let v = vector();
    let log_key: VerifierKey = v.log_vkey.parse().expect("log vkey");
    let witness_key: VerifierKey = v.witness_vkey.parse().expect("witness vkey");
    assert_eq!(log_key.kind(), SignatureType::ED25519);
    assert_eq!(witness_key.kind(), SignatureType::COSIGNATURE_V1);
    // The verifier key string round-trips.
    assert_eq!(log_key.to_string(), v.log_vkey);

    let signed = SignedCheckpoint::parse(v.note.as_bytes()).expect("parse");
    assert_eq!(signed.checkpoint().origin(), "example.com/ksk-ceremony-log");
    assert_eq!(signed.checkpoint().size(), 8);
    assert_eq!(signed.checkpoint().root(), &eight_leaf_root());
    let cosigned = signed
        .verify(&log_key, std::slice::from_ref(&witness_key))
        .expect("verify");
    assert_eq!(cosigned.len(), 1);
    assert_eq!(cosigned[0].witness, "witness.example/w1");
    assert_eq!(cosigned[0].timestamp, TIMESTAMP);
    // Re-composed, the note is the same bytes.
    assert_eq!(signed.to_string(), v.note);

    // Without the witness key, the cosignature is ignored, not an error.
    assert_eq!(signed.verify(&log_key, &[]).expect("log only"), vec![]);
    // Without the log key's signature, it is refused.
    let other_log = Signer::from_seed("example.com/ksk-ceremony-log", &[7; 32]).expect("key");
    assert!(matches!(
        signed.verify(&other_log.verifier_key(), &[witness_key]),
        Err(Error::NotSigned { .. })
    ));
}

#[test]
fn cosignature_message_is_header_time_then_checkpoint() {
    // C2SP tlog-cosignature: "two newline terminated lines (one header line
    // and one timestamp line) followed by the whole note body".
    let text =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_eq!(
        signed_message(text, 1679315147),
        format!("cosignature/v1\ntime 1679315147\n{text}")
    );
}

#[test]
fn every_flipped_byte_of_the_vector_note_fails() {
    let v = vector();
    let keys: Vec<VerifierKey> = [&v.log_vkey, &v.witness_vkey]
        .iter()
        .map(|k| k.parse().expect("vkey"))
        .collect();
    let bytes = v.note.as_bytes();
    let mut failures = 0;
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut bad = bytes.to_vec();
            bad[i] ^= bit;
            let result = SignedCheckpoint::parse(&bad).and_then(|s| {
                s.verify(&keys[0], &keys[1..])?;
                Ok(s)
            });
            // A flip in a signature line may turn the witness's line into an
            // unknown key's (name or key ID changed), which is ignored: the
            // log signature still binds the text.
            if let Ok(s) = &result {
                assert_eq!(s.note().text(), Note::parse(bytes).expect("vector").text());
                assert!(
                    s.note().signatures()[1] != Note::parse(bytes).expect("vector").signatures()[1]
                );
                continue;
            }
            failures += 1;
        }
    }
    assert!(failures > bytes.len() * 2, "{failures} failures");
}

#[test]
fn parse_is_strict() {
    let v = vector();
    let (text, sigs) = v.note.split_once("\n\n").expect("blank line");
    let text = format!("{text}\n");
    let ok = |s: &str| SignedCheckpoint::parse(s.as_bytes());

    // The vector parses; each edit below breaks one rule.
    ok(&v.note).expect("vector");
    let cases: Vec<(&str, String)> = vec![
        ("leading zero size", v.note.replacen("\n8\n", "\n08\n", 1)),
        ("plus size", v.note.replacen("\n8\n", "\n+8\n", 1)),
        ("negative size", v.note.replacen("\n8\n", "\n-8\n", 1)),
        ("space in size", v.note.replacen("\n8\n", "\n 8\n", 1)),
        (
            "size overflow",
            v.note.replacen("\n8\n", "\n18446744073709551616\n", 1),
        ),
        (
            "root not base64",
            v.note.replacen("XcnaeacG", "XcnaeacG!", 1),
        ),
        (
            "root 31 bytes",
            v.note.replacen(
                "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
                "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==",
                1,
            ),
        ),
        (
            "root non-canonical bits",
            v.note.replacen("RgQyg=", "RgQyh=", 1),
        ),
        ("no signature", text.clone() + "\n"),
        ("no blank line", text.clone() + sigs),
        ("hyphen instead of em dash", v.note.replace('\u{2014}', "-")),
        (
            "missing final newline",
            v.note.trim_end_matches('\n').to_owned(),
        ),
        ("CRLF", v.note.replace('\n', "\r\n")),
        (
            "tab in origin",
            v.note.replacen("example.com/ksk", "example.com/\tksk", 1),
        ),
        (
            "empty extension line",
            v.note.replacen("=\n\n", "=\n\n\n", 1),
        ),
        ("two lines only", v.note.replacen("\n8\n", "\n", 1)),
        (
            "signature too short",
            format!("{text}\n\u{2014} example.com/ksk-ceremony-log AAAA\n"),
        ),
        (
            "signature name with plus",
            v.note.replacen(
                "\u{2014} witness.example/w1",
                "\u{2014} witness+example/w1",
                1,
            ),
        ),
    ];
    for (what, note) in cases {
        assert!(ok(&note).is_err(), "{what} was accepted");
    }
    // Raw invalid UTF-8 bytes.
    let mut raw = v.note.clone().into_bytes();
    raw[0] = 0xff;
    assert!(SignedCheckpoint::parse(&raw).is_err());

    // Tree size: azul's rule, not u64::from_str's.
    assert_eq!(parse_decimal("0"), Some(0));
    assert_eq!(parse_decimal("20852163"), Some(20852163));
    for bad in [
        "",
        "00",
        "01",
        "+1",
        "-1",
        " 1",
        "1 ",
        "1e3",
        "18446744073709551616",
    ] {
        assert_eq!(parse_decimal(bad), None, "{bad:?}");
    }
}

#[test]
fn extension_lines_round_trip() {
    let (log, _) = keys();
    let text = "example.com/ksk-ceremony-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nextension one\n";
    let checkpoint = Checkpoint::parse(text).expect("with extension");
    assert_eq!(checkpoint.extensions(), ["extension one"]);
    assert_eq!(checkpoint.text(), text);
    let sig = log.sign(text).expect("sign");
    let note = Note::new(text, vec![sig]).expect("note");
    let signed = SignedCheckpoint::parse(note.to_string().as_bytes()).expect("parse");
    signed.verify(&log.verifier_key(), &[]).expect("verify");
}

#[test]
fn unknown_keys_are_ignored_and_known_bad_ones_refused() {
    let v = vector();
    let log_key: VerifierKey = v.log_vkey.parse().expect("vkey");
    let signed = SignedCheckpoint::parse(v.note.as_bytes()).expect("parse");
    let text = signed.note().text().to_owned();

    // An unknown signer, even one sharing the log's name (but not key ID).
    let stranger = Signer::from_seed("example.com/ksk-ceremony-log", &[9; 32]).expect("key");
    let mut with_stranger = signed.clone();
    with_stranger.add_signature(stranger.sign(&text).expect("sign"));
    with_stranger
        .verify(&log_key, &[])
        .expect("unknown key ignored");

    // A known key whose signature does not verify rejects the whole note.
    let forged = NoteSignature::new(
        log_key.name(),
        log_key.key_id(),
        stranger.sign(&text).expect("sign").signature().to_vec(),
    )
    .expect("signature");
    let note = Note::new(
        text.clone(),
        vec![signed.note().signatures()[0].clone(), forged],
    )
    .expect("note");
    let forged = SignedCheckpoint::parse(note.to_string().as_bytes()).expect("parse");
    assert!(matches!(
        forged.verify(&log_key, &[]),
        Err(Error::BadSignature { .. })
    ));

    // Only unknown signatures: refused.
    let note = Note::new(
        text,
        vec![stranger.sign(signed.note().text()).expect("sign")],
    )
    .expect("note");
    assert!(matches!(
        note.verify(std::slice::from_ref(&log_key)),
        Err(Error::NotSigned { .. })
    ));
}

#[test]
fn verifier_keys_are_parsed_strictly() {
    let v = vector();
    let good: VerifierKey = v.log_vkey.parse().expect("vkey");
    assert_eq!(
        good.key_id(),
        KeyId::compute(good.name(), SignatureType::ED25519, good.public_key())
    );
    // The base64 of the witness key holds no '+', so build one that does and
    // check the split on the first two '+'.
    let mut seed = 0u8;
    let plus_key = loop {
        let key = Signer::from_seed("example.com/log", &[seed; 32])
            .expect("key")
            .verifier_key();
        if key.to_string().matches('+').count() > 2 {
            break key;
        }
        seed += 1;
    };
    assert_eq!(
        plus_key.to_string().parse::<VerifierKey>().expect("parse"),
        plus_key
    );

    let bad = [
        v.log_vkey.replacen("+45b540b2+", "+45b540b3+", 1),
        v.log_vkey.replacen("+45b540b2+", "+45B540B2+", 1),
        v.log_vkey.replacen("+45b540b2+", "+45b540b+", 1),
        v.log_vkey.replacen("example.com/ksk-ceremony-log", "", 1),
        v.log_vkey.replacen("+AYqI", "+A4qI", 1),
        v.log_vkey.replacen("+AYqI", "+BYqI", 1),
        "example.com/log+45b540b2".to_owned(),
        v.log_vkey.clone() + "=",
    ];
    for key in bad {
        assert!(key.parse::<VerifierKey>().is_err(), "{key} was accepted");
    }
}
