//! `--ceremony DIR` on every state-changing command: `key generate`, `key
//! delete`, `anchor write`, `quorum split`, `quorum activate`, `threshold
//! deal`, `threshold sign` and `threshold combine` each record a ceremony
//! whose transcript verifies, whose timeline holds the acts the command
//! did, and in which a flipped byte of an output file (or, for the commands
//! that write none, of the entry that records the change) fails verify with
//! exit 1, naming the file or the entry.

mod common;

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret as _;
use common::{ceremony, ceremony_with, s};
use serde_json::Value;

/// The legacy KSR's ceremony day: its bundles are valid then.
const NOW: &str = "2009-10-20T00:00:00Z";

/// `transcript verify DIR --json`: exits 0, and the event kinds in order.
#[track_caller]
fn verified_kinds(dir: &Path) -> (Value, Vec<String>) {
    let run = ceremony(&["transcript", "verify", "--json", s(dir)]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["ok"], true, "{json}");
    assert_eq!(json["status"], "closed", "{json}");
    let kinds = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["event"]["type"].as_str().expect("type").to_owned())
        .collect();
    (json, kinds)
}

/// The transcript of `dir` verifies, and holds `expected` kinds of event in
/// this order (others may come between); every output file matches.
#[track_caller]
fn expect_timeline(dir: &Path, expected: &[&str]) -> Value {
    let (json, kinds) = verified_kinds(dir);
    let mut rest = kinds.iter();
    for kind in expected {
        assert!(
            rest.any(|k| k == kind),
            "{}: {kind} missing, or out of order, in {kinds:?}",
            dir.display()
        );
    }
    for f in json["files"].as_array().expect("files") {
        assert_eq!(f["status"], "ok", "{f}");
    }
    json
}

/// Flips one bit of `file` (relative to `dir`) at `at`; verify must exit 1
/// and its message contain `names`; the file is then restored and verify
/// passes again.
#[track_caller]
fn flip_is_caught(dir: &Path, file: &str, at: usize, names: &str) {
    let path = dir.join(file);
    let original = std::fs::read(&path).expect("read");
    let mut bytes = original.clone();
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");
    let run = ceremony(&["transcript", "verify", s(dir)]);
    std::fs::write(&path, &original).expect("restore");
    run.expect_code(1).expect_stderr(&[names]);
    ceremony(&["transcript", "verify", s(dir)]).expect_code(0);
}

/// A flipped byte in the middle of each output file the transcript logs is
/// caught and named with its entry; returns how many files were tried.
#[track_caller]
fn outputs_are_tamper_evident(dir: &Path, json: &Value) -> usize {
    let files = json["files"].as_array().expect("files");
    for f in files {
        let name = f["name"].as_str().expect("name");
        let entry = f["entry"].as_u64().expect("entry");
        let len = std::fs::metadata(dir.join(name)).expect("output").len() as usize;
        flip_is_caught(
            dir,
            name,
            len / 2,
            &format!("entry {entry}: {name} has SHA-256"),
        );
    }
    files.len()
}

/// A flipped byte inside the first entry of `kind` is caught and named.
#[track_caller]
fn entry_is_tamper_evident(dir: &Path, json: &Value, kind: &str) {
    let seq = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["event"]["type"] == kind)
        .and_then(|e| e["seq"].as_u64())
        .unwrap_or_else(|| panic!("no {kind} entry"));
    let index = std::fs::read(dir.join("transcript/index")).expect("index");
    // Each index line is 82 bytes and starts with the record's end offset in hex.
    let end = |i: u64| {
        let line = &index[i as usize * 82..][..16];
        usize::from_str_radix(std::str::from_utf8(line).expect("hex"), 16).expect("offset")
    };
    let start = if seq == 0 { 0 } else { end(seq - 1) };
    let at = (start + end(seq)) / 2;
    flip_is_caught(dir, "transcript/entries", at, &format!("entry {seq}:"));
}

/// A keystore configuration (fast scrypt) with one configured KSK, `KSK-W`.
fn keystore_config(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("passphrase"), "correct horse battery staple\n").expect("pass");
    let config = dir.join("signer.toml");
    std::fs::write(
        &config,
        r#"[keystore]
dir = "keys"
passphrase_file = "passphrase"
work_factor = 10

[keys.ksk]
label = "KSK-W"
algorithm = "ECDSAP256SHA256"
valid_from = "2026-01-01T00:00:00Z"
"#,
    )
    .expect("config");
    config
}

#[test]
fn key_generate_anchor_write_and_key_delete_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = keystore_config(tmp.path());

    // key generate: the key's public file is the ceremony's output.
    let kc = tmp.path().join("KC-generate");
    ceremony(&[
        "key",
        "generate",
        "KSK-W",
        "--config",
        s(&config),
        "--algorithm",
        "ECDSAP256SHA256",
        "--bits",
        "256",
        "--ceremony",
        s(&kc),
    ])
    .expect_code(0)
    .expect_stderr(&["Recording this ceremony in", "Check it with"]);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "act_started",
            "file_read",
            "act_started",
            "key_generated",
            "file_written",
            "ceremony_closed",
        ],
    );
    let dnskey = std::fs::read_to_string(kc.join("KSK-W.dnskey")).expect("dnskey file");
    assert!(dnskey.contains(" IN DNSKEY 257 3 13 "), "{dnskey}");
    assert!(dnskey.contains(" IN DS "), "{dnskey}");
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 1);

    // anchor write: declares the KSK, writes root-anchors.xml inside DIR.
    let anchor_write = |output: &Path, kc: &Path| {
        let args = ["anchor", "write", "-o", s(output), "--config", s(&config)];
        ceremony(&[&args[..], &["--ceremony", s(kc)]].concat())
    };
    let kc = tmp.path().join("KC-anchor");
    anchor_write(&kc.join("root-anchors.xml"), &kc).expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "file_written",
            "ceremony_closed",
        ],
    );
    assert_eq!(json["entries"][0]["event"]["keys"][0]["name"], "KSK-W");
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 1);
    // Outside the ceremony directory: refused before anything is recorded.
    let outside = tmp.path().join("KC-outside");
    anchor_write(&tmp.path().join("root-anchors.xml"), &outside)
        .expect_code(2)
        .expect_stderr(&["beside its transcript"]);
    assert!(!outside.join("transcript").exists());
    assert!(!tmp.path().join("root-anchors.xml").exists());
    // An output that exists already: refused before anything is recorded.
    let taken = tmp.path().join("KC-taken");
    std::fs::create_dir_all(&taken).expect("mkdir");
    std::fs::write(taken.join("root-anchors.xml"), "earlier").expect("write");
    anchor_write(&taken.join("root-anchors.xml"), &taken)
        .expect_code(2)
        .expect_stderr(&["exists: a recorded ceremony never replaces a file"]);
    assert!(!taken.join("transcript").exists());
    assert_eq!(
        std::fs::read_to_string(taken.join("root-anchors.xml")).expect("kept"),
        "earlier"
    );

    // key delete: no output file; the deletion is an entry, tamper-evident.
    let kc = tmp.path().join("KC-delete");
    ceremony(&[
        "key",
        "delete",
        "KSK-W",
        "--config",
        s(&config),
        "--yes",
        "--ceremony",
        s(&kc),
    ])
    .expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "key_deleted",
            "ceremony_closed",
        ],
    );
    let deleted = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["event"]["type"] == "key_deleted")
        .expect("key_deleted");
    assert_eq!(deleted["event"]["name"], "KSK-W");
    assert!(
        deleted["event"]["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("257 3 13 ")),
        "{deleted}"
    );
    entry_is_tamper_evident(&kc, &json, "key_deleted");

    // key import: the key's public file is the output; the PEM (a secret) is not logged.
    let kc = tmp.path().join("KC-import");
    let pem = common::data("softhsm-keys/ec-p256-1.pem");
    ceremony(&[
        "key",
        "import",
        "KSK-W",
        "--pem",
        s(&pem),
        "--config",
        s(&config),
        "--ceremony",
        s(&kc),
    ])
    .expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "act_started",
            "file_read",
            "act_started",
            "key_imported",
            "file_written",
            "ceremony_closed",
        ],
    );
    let entries = std::fs::read_to_string(kc.join("transcript/entries")).expect("entries");
    assert!(
        !entries.contains("ec-p256-1.pem"),
        "the private key file is logged"
    );
    assert!(kc.join("KSK-W.dnskey").exists());
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 1);
}

/// `n` age identities in `dir`: (identity files, recipients).
fn identities(dir: &Path, n: usize) -> (Vec<PathBuf>, Vec<String>) {
    (1..=n)
        .map(|i| {
            let identity = age::x25519::Identity::generate();
            let path = dir.join(format!("tcr{i}.key"));
            std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret()))
                .expect("identity");
            (path, identity.to_public().to_string())
        })
        .unzip()
}

#[test]
fn quorum_split_and_activate_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ids, recipients) = identities(tmp.path(), 3);
    let kc = tmp.path().join("KC-split");
    let quorum = kc.join("quorum");
    let mut args = vec!["quorum", "split", "--m", "2", "--n", "3"];
    for r in &recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    args.extend(["-o", s(&quorum), "--ceremony", s(&kc)]);
    ceremony(&args).expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "act_started",
            "act_started",
            "file_written",
            "file_written",
            "file_written",
            "file_written",
            "ceremony_closed",
        ],
    );
    // Three shares and quorum.json, each logged and tamper-evident.
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 4);

    // Shares 1 and 3, opened with the identities given, in the ceremony `kc`.
    let activate = |kc: &Path, first: &Path| {
        let (share1, share3) = (quorum.join("share-1.age"), quorum.join("share-3.age"));
        ceremony(&[
            "quorum",
            "activate",
            "--quorum",
            s(&quorum.join("quorum.json")),
            "--share",
            s(&share1),
            "--identity",
            s(first),
            "--share",
            s(&share3),
            "--identity",
            s(&ids[2]),
            "--ceremony",
            s(kc),
        ])
    };
    let kc = tmp.path().join("KC-activate");
    activate(&kc, &ids[0]).expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "file_read",
            "file_read",
            "check_report",
            "ceremony_closed",
        ],
    );
    let report = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["event"]["type"] == "check_report")
        .expect("check_report");
    assert_eq!(report["event"]["checks"][0]["id"], "QUORUM-ACTIVATE");
    assert_eq!(report["event"]["checks"][0]["status"], "passed");
    // Activation writes nothing: its record is the check report.
    entry_is_tamper_evident(&kc, &json, "check_report");

    // A share with the wrong identity: refused, and the refusal recorded.
    let kc = tmp.path().join("KC-activate-wrong");
    activate(&kc, &ids[1])
        .expect_code(1)
        .expect_stderr(&["wrong credential"]);
    let (json, _) = verified_kinds(&kc);
    let failed = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["event"]["checks"][0]["status"] == "failed");
    assert!(failed, "{json}");
}

#[test]
fn threshold_deal_sign_and_combine_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ids, recipients) = identities(tmp.path(), 3);

    // deal: 2 of 3, a small modulus to keep the test quick.
    let kc_deal = tmp.path().join("KC-deal");
    let shares = kc_deal.join("quorum");
    let mut args = vec![
        "threshold",
        "deal",
        "--bits",
        "1024",
        "--threshold",
        "2",
        "--holders",
        "3",
        "-o",
        s(&shares),
        "--ceremony",
        s(&kc_deal),
    ];
    for r in &recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    ceremony(&args).expect_code(0);
    let json = expect_timeline(
        &kc_deal,
        &[
            "ceremony_opened",
            "act_started",
            "key_generated",
            "file_written",
            "ceremony_closed",
        ],
    );
    assert_eq!(outputs_are_tamper_evident(&kc_deal, &json), 4);
    let public = shares.join("public.json");
    let tag = serde_json::from_str::<Value>(&std::fs::read_to_string(&public).expect("public"))
        .expect("json")["key_tag"]
        .as_u64()
        .expect("tag");

    // The legacy policy and KSR, with the threshold key as KSK1.
    let config = tmp.path().join("threshold.toml");
    let legacy = std::fs::read_to_string(common::repo("testdata/signer/legacy.toml"))
        .expect("legacy.toml")
        .replacen("key_tag = 5017", &format!("key_tag = {tag}"), 1)
        .replacen("rsa_size = 2048", "rsa_size = 1024", 1);
    std::fs::write(&config, legacy).expect("config");
    let ksr = common::data("legacy/ksr-2009-q4-2.xml");

    // Holders 1 and 3 sign, each in a ceremony of their own.
    let mut partials = Vec::new();
    for holder in [1usize, 3] {
        let kc = tmp.path().join(format!("KC-holder-{holder}"));
        let out = kc.join(format!("partials-{holder}.json"));
        ceremony_with(
            &[
                "--now",
                NOW,
                "threshold",
                "sign",
                s(&ksr),
                "--public",
                s(&public),
                "--share",
                s(&shares.join(format!("share-{holder}.age"))),
                "--identity",
                s(&ids[holder - 1]),
                "--config",
                s(&config),
                "-o",
                s(&out),
                "--ceremony",
                s(&kc),
            ],
            Some(b"Yes\n"),
            &[],
        )
        .expect_code(0);
        let json = expect_timeline(
            &kc,
            &[
                "ceremony_opened",
                "file_read",
                "check_report",
                "file_written",
                "ceremony_closed",
            ],
        );
        assert_eq!(outputs_are_tamper_evident(&kc, &json), 1);
        partials.push(out);
    }

    // `threshold combine` of `given` in the ceremony `kc`, writing kc/skr.xml.
    let combine = |kc: &Path, given: &[PathBuf]| {
        let skr = kc.join("skr.xml");
        let fixed = [NOW, "threshold", "combine", s(&ksr), "--public", s(&public)];
        let mut args = vec!["--now"];
        args.extend(fixed);
        args.extend(["--config", s(&config), "-o", s(&skr), "--ceremony", s(kc)]);
        args.push("--partials");
        args.extend(given.iter().map(|p| s(p)));
        (ceremony(&args), skr)
    };

    // combine: the partials received, the signatures produced, the SKR.
    let kc = tmp.path().join("KC-combine");
    combine(&kc, &partials).0.expect_code(0);
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "check_report",
            "partial_signature_received",
            "signature_produced",
            "check_report",
            "file_written",
            "ceremony_closed",
        ],
    );
    let declared = &json["entries"][0]["event"]["keys"][0];
    assert_eq!(declared["role"], "ksk");
    assert_eq!(declared["name"], format!("threshold key tag {tag}"));
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 1);

    // One holder's partials are not a quorum: refused, recorded, no SKR.
    let kc = tmp.path().join("KC-combine-short");
    let (run, skr) = combine(&kc, &partials[..1]);
    run.expect_code(1);
    assert!(!skr.exists());
    let (json, kinds) = verified_kinds(&kc);
    assert!(
        !kinds.iter().any(|k| k == "signature_produced"),
        "{kinds:?}"
    );
    assert!(
        json["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["event"]["checks"][0]["id"] == "THRESHOLD-PARTIALS"
                && e["event"]["checks"][0]["status"] == "failed"),
        "{json}"
    );
}
