//! `ceremony quorum split|activate|transfer` end to end: a keystore key moved
//! under a 3-of-5 quorum, opened by any three holders, refused to two, to a
//! wrong credential and to a share of another quorum; a transfer; and no file
//! left holding the KEK or the key in the clear.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ceremony_keys::keystore::{Keystore, Protection};
use ceremony_quorum::{AgeIdentity, EncryptedShare, QuorumInfo, Unlock};
use common::{ceremony, s};

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_owned()
}

/// Writes `n` age identity files; returns their paths and recipients.
fn holders(dir: &Path, prefix: &str, n: usize) -> (Vec<PathBuf>, Vec<String>, Vec<AgeIdentity>) {
    let mut files = Vec::new();
    let mut recipients = Vec::new();
    let mut ids = Vec::new();
    for i in 1..=n {
        let id = AgeIdentity::generate();
        let text = format!(
            "# holder {i}\n{}\n",
            age::secrecy::ExposeSecret::expose_secret(&id.to_string())
        );
        files.push(write(&dir.join(format!("{prefix}{i}.id")), &text));
        recipients.push(id.to_public().to_string());
        ids.push(id);
    }
    (files, recipients, ids)
}

fn split_args<'a>(recipients: &'a [String], out: &'a str) -> Vec<&'a str> {
    let mut args = vec!["quorum", "split", "--m", "3", "--n", "5", "-o", out];
    for r in recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    args
}

#[test]
fn a_keystore_key_under_a_three_of_five_quorum() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("passphrase"), "quorum test passphrase\n");
    write(&dir.join("pin"), "123456\n");
    let config = write(
        &dir.join("keystore.toml"),
        "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n",
    );
    ceremony(&[
        "key",
        "generate",
        "KSK-Q",
        "--config",
        s(&config),
        "--algorithm",
        "ECDSAP256SHA256",
        "--bits",
        "256",
    ])
    .expect_code(0);

    let (ids, recipients, identities) = holders(dir, "holder", 5);
    // Recorded as a ceremony, the re-encryption included.
    let recorded = dir.join("KC-split");
    let qdir = recorded.join("quorum");
    let pin = dir.join("pin");
    let mut args = split_args(&recipients, s(&qdir));
    args.extend([
        "--keystore-key",
        "KSK-Q",
        "--config",
        s(&config),
        "--seal-pin-file",
        s(&pin),
        "--json",
        "--ceremony",
        s(&recorded),
    ]);
    let run = ceremony(&args);
    run.expect_code(0);
    let entries = std::fs::read_to_string(recorded.join("transcript/entries")).unwrap();
    assert!(
        entries.contains("\"type\":\"key_reencrypted\",\"name\":\"KSK-Q\""),
        "the re-encryption is not recorded"
    );
    ceremony(&["transcript", "verify", s(&recorded)])
        .expect_code(0)
        .expect_stdout(&["key KSK-Q in keystore re-encrypted"]);
    let report = run.json();
    let kek_recipient = report["kek_recipient"].as_str().unwrap().to_owned();
    assert!(kek_recipient.starts_with("age1"));

    // The key is now encrypted to the KEK's recipient, and nothing else is left of it.
    let store = Keystore::open(dir.join("keys")).unwrap();
    assert_eq!(
        store.info("KSK-Q").unwrap().protection,
        Protection::X25519 {
            recipient: kek_recipient.clone()
        }
    );
    let names: Vec<String> = std::fs::read_dir(dir.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let quorum = qdir.join("quorum.json");
    let share = |i: usize| qdir.join(format!("share-{i}.age"));
    let activate = |pairs: &[(PathBuf, PathBuf)], extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "quorum".into(),
            "activate".into(),
            "--quorum".into(),
            s(&quorum).into(),
        ];
        for (share, id) in pairs {
            args.extend([
                "--share".into(),
                s(share).into(),
                "--identity".into(),
                s(id).into(),
            ]);
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ceremony(&args)
    };

    // Any three holders open the key, sign and verify, and unseal the PIN.
    for trio in [[1, 3, 5], [2, 3, 4], [5, 4, 1]] {
        let pairs: Vec<_> = trio
            .iter()
            .map(|&i| (share(i), ids[i - 1].clone()))
            .collect();
        activate(
            &pairs,
            &[
                "--load-key",
                "KSK-Q",
                "--config",
                s(&config),
                "--sealed-pin",
                s(&qdir.join("sealed-pin.age")),
            ],
        )
        .expect_code(0)
        .expect_stdout(&[
            &kek_recipient,
            "matches quorum.json",
            "test signature verified",
            "unsealed",
        ]);
    }

    // Two are insufficient.
    activate(
        &[(share(1), ids[0].clone()), (share(2), ids[1].clone())],
        &[],
    )
    .expect_code(1)
    .expect_stderr(&["insufficient shares (have 2, need 3)"]);

    // A wrong credential is named.
    activate(
        &[
            (share(1), ids[0].clone()),
            (share(2), ids[2].clone()),
            (share(3), ids[2].clone()),
        ],
        &[],
    )
    .expect_code(1)
    .expect_stderr(&["share 2", &recipients[1], "share-2.age"]);

    // A flipped byte in a share's ciphertext is named.
    let text = std::fs::read_to_string(share(4)).unwrap();
    let end = text.find("-----END").unwrap() - 8;
    let mut bytes = text.into_bytes();
    bytes[end] = if bytes[end] == b'A' { b'B' } else { b'A' };
    let bad = dir.join("bad-share-4.age");
    std::fs::write(&bad, &bytes).unwrap();
    activate(
        &[
            (share(1), ids[0].clone()),
            (share(2), ids[1].clone()),
            (bad, ids[3].clone()),
        ],
        &[],
    )
    .expect_code(1)
    .expect_stderr(&["share 4", "corrupt"]);

    // A share of another quorum is refused.
    let (ids2, recipients2, _) = holders(dir, "other", 5);
    let qdir2 = dir.join("quorum2");
    ceremony(&split_args(&recipients2, s(&qdir2))).expect_code(0);
    activate(
        &[
            (share(1), ids[0].clone()),
            (share(2), ids[1].clone()),
            (qdir2.join("share-3.age"), ids2[2].clone()),
        ],
        &[],
    )
    .expect_code(1)
    .expect_stderr(&["share 3", "belongs to quorum"]);

    // Holder 5 is absent: their share is transferred to the ceremony's one-time key.
    let (one_time, one_time_recipient, _) = holders(dir, "one-time", 1);
    let moved = dir.join("share-5-transferred.age");
    let run = ceremony(&[
        "quorum",
        "transfer",
        "--share",
        s(&share(5)),
        "--identity",
        s(&ids[4]),
        "--to",
        &one_time_recipient[0],
        "-o",
        s(&moved),
        "--json",
    ]);
    run.expect_code(0);
    let event = run.json();
    assert_eq!(event["event"], "quorum-share-transfer");
    assert_eq!(event["index"], 5);
    assert_eq!(event["to"], one_time_recipient[0].as_str());
    // The same transfer, recorded as a ceremony: the transcript verifies and names it.
    let cdir = dir.join("transfer-ceremony");
    let recorded = cdir.join("share-5.age");
    ceremony(&[
        "quorum",
        "transfer",
        "--share",
        s(&share(5)),
        "--identity",
        s(&ids[4]),
        "--to",
        &one_time_recipient[0],
        "-o",
        s(&recorded),
        "--ceremony",
        s(&cdir),
    ])
    .expect_code(0);
    ceremony(&["transcript", "verify", s(&cdir)])
        .expect_code(0)
        .expect_stdout(&["share 5 of quorum", "share-5.age"]);
    activate(
        &[
            (share(1), ids[0].clone()),
            (share(2), ids[1].clone()),
            (moved, one_time[0].clone()),
        ],
        &["--load-key", "KSK-Q", "--config", s(&config)],
    )
    .expect_code(0)
    .expect_stdout(&["test signature verified"]);

    // No file holds the KEK, its identity, the key or the PIN-protected material in the clear.
    let info = QuorumInfo::read(&quorum).unwrap();
    let pairs: Vec<_> = (0..3)
        .map(|i| {
            (
                EncryptedShare::read(&share(i + 1)).unwrap(),
                Unlock::Identity(identities[i].clone()),
            )
        })
        .collect();
    let kek = ceremony_quorum::activate_with(&info, &pairs).unwrap();
    let Unlock::Identity(kek_id) = ceremony_quorum::kek_unlock(&kek).unwrap() else {
        panic!()
    };
    let key = store
        .load("KSK-Q", &Unlock::Identity(kek_id.clone()))
        .unwrap();
    let kek_id_text = age::secrecy::ExposeSecret::expose_secret(&kek_id.to_string()).to_owned();
    let mut needles = forms(&kek[..]);
    needles.extend(forms(&key.pkcs8()[..]));
    needles.push(kek_id_text.as_bytes().to_vec());
    needles.push(kek_id_text.to_lowercase().into_bytes());
    let files = walk(dir);
    assert!(files.len() > 15, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds a secret in the clear",
                file.display()
            );
        }
    }
}

#[test]
fn usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, recipients, _) = holders(tmp.path(), "h", 2);
    let out = tmp.path().join("q");
    // n does not match the recipients.
    let mut args = split_args(&recipients, s(&out));
    args.push("--json");
    ceremony(&args)
        .expect_code(2)
        .expect_stderr(&["--n 5 but 2 holders"]);
    // m > n.
    ceremony(&[
        "quorum",
        "split",
        "--m",
        "3",
        "--n",
        "2",
        "--recipient",
        &recipients[0],
        "--recipient",
        &recipients[1],
        "-o",
        s(&out),
    ])
    .expect_code(2)
    .expect_stderr(&["m = 3 is more than n = 2"]);
    ceremony(&[
        "quorum",
        "split",
        "--m",
        "1",
        "--n",
        "1",
        "--recipient",
        "age1nope",
        "-o",
        s(&out),
    ])
    .expect_code(2);
}

fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let mut out = vec![
        secret.to_vec(),
        hex_lower(secret).into_bytes(),
        hex_lower(secret).to_uppercase().into_bytes(),
        b64.trim_end_matches('=').as_bytes().to_vec(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
    ];
    if b64.len() > 40 {
        out.push(b64.as_bytes()[..40].to_vec());
    }
    out
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn passphrase_holders_and_a_key_generated_under_the_kek() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = write(
        &dir.join("keystore.toml"),
        "[keystore]\ndir = \"keys\"\nwork_factor = 10\n",
    );
    let (ids, recipients, _) = holders(dir, "holder", 1);
    let p2 = write(&dir.join("p2"), "second holder's passphrase\n");
    let p3 = write(&dir.join("p3"), "third holder's passphrase\n");
    let qdir = dir.join("q");
    let run = ceremony(&[
        "quorum",
        "split",
        "--m",
        "2",
        "--n",
        "3",
        "--recipient",
        &recipients[0],
        "--passphrase-file",
        s(&p2),
        "--passphrase-file",
        s(&p3),
        "--work-factor",
        "4",
        "--generate-key",
        "KSK-G",
        "--config",
        s(&config),
        "-o",
        s(&qdir),
    ]);
    run.expect_code(0)
        .expect_stdout(&["share 2 -> passphrase", "KSK-G: generated under the KEK"]);
    let quorum = qdir.join("quorum.json");
    // Two passphrase holders.
    ceremony(&[
        "quorum",
        "activate",
        "--quorum",
        s(&quorum),
        "--share",
        s(&qdir.join("share-2.age")),
        "--identity",
        s(&p2),
        "--share",
        s(&qdir.join("share-3.age")),
        "--credential",
        s(&p3),
        "--load-key",
        "KSK-G",
        "--config",
        s(&config),
    ])
    .expect_code(0)
    .expect_stdout(&["test signature verified"]);
    // An identity holder and a passphrase holder; a swapped passphrase is named.
    ceremony(&[
        "quorum",
        "activate",
        "--quorum",
        s(&quorum),
        "--share",
        s(&qdir.join("share-1.age")),
        "--identity",
        s(&ids[0]),
        "--share",
        s(&qdir.join("share-3.age")),
        "--identity",
        s(&p2),
    ])
    .expect_code(1)
    .expect_stderr(&["share 3", "passphrase"]);
}
