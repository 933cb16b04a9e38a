//! `--ceremony DIR` on every state-changing command: `key generate`, `key
//! delete`, `anchor write`, `quorum split`, `quorum activate`, `threshold
//! deal`, `threshold sign` and `threshold combine` (RSA and FROST Ed25519),
//! `threshold package`, `threshold reshare deal|combine|refresh|apply` and
//! `threshold reshare enrol deltas|sigma|combine` each record a ceremony
//! whose transcript verifies, whose timeline holds the acts the command did,
//! and in which a flipped byte of an output file (or, for the commands that
//! write none, of the entry that records the change) fails verify with exit
//! 1, naming the file or the entry.

mod common;
#[path = "common/frost_cli.rs"]
mod frost_cli;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
    let (shares, tag, _) = deal_recorded(tmp.path(), "KC-deal", &["--bits", "1024"], &recipients);
    let public = shares.join("public.json");

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

    let combine = Combine {
        now: NOW,
        ksr: &ksr,
        public: &public,
        config: &config,
        package: None,
    };

    // combine: the partials received, the signatures produced, the SKR.
    let json = combine.combined(&tmp.path().join("KC-combine"), &partials, tag);
    assert_eq!(json["entries"][0]["event"]["keys"][0]["role"], "ksk");

    // One holder's partials are not a quorum: refused, recorded, no SKR.
    combine.refused(&tmp.path().join("KC-combine-short"), &partials[..1]);
}

/// `threshold deal` of a 2-of-3 key (with `extra` options) to `recipients`,
/// recorded in `tmp/name`, its shares in `tmp/name/quorum`: the key
/// generated, then public.json and the three shares, each tamper-evident.
/// Returns the shares' directory, the key tag and the verified transcript.
#[track_caller]
fn deal_recorded(
    tmp: &Path,
    name: &str,
    extra: &[&str],
    recipients: &[String],
) -> (PathBuf, u64, Value) {
    let kc = tmp.join(name);
    let shares = kc.join("quorum");
    let mut args = vec!["threshold", "deal", "--threshold", "2", "--holders", "3"];
    args.extend(extra);
    args.extend(["-o", s(&shares), "--ceremony", s(&kc)]);
    for r in recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    ceremony(&args)
        .expect_code(0)
        .expect_stderr(&["Recording this ceremony in", "Check it with"]);
    let mut written = vec!["file_written"; 4];
    let mut timeline = vec!["ceremony_opened", "act_started", "key_generated"];
    timeline.append(&mut written);
    timeline.push("ceremony_closed");
    let json = expect_timeline(&kc, &timeline);
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 4);
    let public = std::fs::read_to_string(shares.join("public.json")).expect("public");
    let tag = serde_json::from_str::<Value>(&public).expect("json")["key_tag"]
        .as_u64()
        .expect("tag");
    (shares, tag, json)
}

/// The timeline of a `threshold combine` that wrote its SKR.
const COMBINED: &[&str] = &[
    "ceremony_opened",
    "file_read",
    "check_report",
    "partial_signature_received",
    "signature_produced",
    "check_report",
    "file_written",
    "ceremony_closed",
];

/// `threshold combine` of one KSR and key (FROST: with its signing package).
struct Combine<'a> {
    now: &'a str,
    ksr: &'a Path,
    public: &'a Path,
    config: &'a Path,
    package: Option<&'a Path>,
}

impl Combine<'_> {
    /// Combines the partials `given` in the ceremony `kc`, writing kc/skr.xml.
    fn run(&self, kc: &Path, given: &[PathBuf]) -> (common::Run, PathBuf) {
        let skr = kc.join("skr.xml");
        let fixed = [
            "threshold",
            "combine",
            s(self.ksr),
            "--public",
            s(self.public),
        ];
        let mut args = vec!["--now", self.now];
        args.extend(fixed);
        args.extend([
            "--config",
            s(self.config),
            "-o",
            s(&skr),
            "--ceremony",
            s(kc),
        ]);
        if let Some(package) = self.package {
            args.extend(["--package", s(package)]);
        }
        args.push("--partials");
        args.extend(given.iter().map(|p| s(p)));
        (ceremony(&args), skr)
    }

    /// Combines `given` in `kc`: the timeline [`COMBINED`], the key (tag
    /// `tag`) declared, the SKR tamper-evident. Returns the verified transcript.
    #[track_caller]
    fn combined(&self, kc: &Path, given: &[PathBuf], tag: u64) -> Value {
        self.run(kc, given).0.expect_code(0);
        let json = expect_timeline(kc, COMBINED);
        let declared = &json["entries"][0]["event"]["keys"][0];
        assert_eq!(declared["name"], format!("threshold key tag {tag}"));
        assert_eq!(outputs_are_tamper_evident(kc, &json), 1);
        json
    }

    /// Combines `given` in `kc`, which is no quorum: exit 1, no SKR, and a
    /// transcript that verifies and records THRESHOLD-PARTIALS failed, with
    /// no partial received and no signature.
    #[track_caller]
    fn refused(&self, kc: &Path, given: &[PathBuf]) {
        let (run, skr) = self.run(kc, given);
        run.expect_code(1);
        assert!(!skr.exists());
        let (json, kinds) = verified_kinds(kc);
        for kind in ["partial_signature_received", "signature_produced"] {
            assert!(!kinds.iter().any(|k| k == kind), "{kinds:?}");
        }
        assert_eq!(
            checks(&json),
            [("THRESHOLD-PARTIALS".to_owned(), "failed".to_owned())]
        );
    }
}

/// The transcript of `dir` holds `timeline` (as [`expect_timeline`]), its
/// one check `id` passed, and `outputs` output files, each tamper-evident.
#[track_caller]
fn expect_record(dir: &Path, timeline: &[&str], (id, outputs): (&str, usize)) -> Value {
    let json = expect_timeline(dir, timeline);
    assert_eq!(checks(&json), [(id.to_owned(), "passed".to_owned())]);
    assert_eq!(outputs_are_tamper_evident(dir, &json), outputs);
    json
}

/// A refusal recorded in `dir`: the transcript verifies and is closed, no
/// file was written, and its one check `id` failed.
#[track_caller]
fn expect_refusal(dir: &Path, id: &str) -> Value {
    let (json, kinds) = verified_kinds(dir);
    assert!(!kinds.iter().any(|k| k == "file_written"), "{kinds:?}");
    assert_eq!(checks(&json), [(id.to_owned(), "failed".to_owned())]);
    json
}

/// The `check_report` entries' first check, as (ID, status), in order.
fn checks(json: &Value) -> Vec<(String, String)> {
    json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["event"]["type"] == "check_report")
        .map(|e| {
            let check = &e["event"]["checks"][0];
            (
                check["id"].as_str().unwrap_or_default().to_owned(),
                check["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The titles of the acts, in order.
fn act_titles(json: &Value) -> Vec<String> {
    json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["event"]["type"] == "act_started")
        .map(|e| e["event"]["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The binary, started in the background with `args` (a FROST holder, which
/// lives through both rounds).
fn spawn_ceremony(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .env_remove("SOFTHSM2_CONF")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ceremony binary runs")
}

#[test]
fn frost_deal_sign_package_and_combine_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ids, recipients) = identities(tmp.path(), 3);

    // deal --algorithm ED25519: the key generated, public.json and three shares.
    let (shares, tag, json) = deal_recorded(
        tmp.path(),
        "KC-frost-deal",
        &["--algorithm", "ED25519", "--zone", "example."],
        &recipients,
    );
    let public = shares.join("public.json");
    let generated = json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["event"]["type"] == "key_generated")
        .expect("key_generated");
    assert_eq!(
        generated["event"]["name"],
        format!("threshold key tag {tag}")
    );
    assert!(
        generated["event"]["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("257 3 15 ")),
        "{generated}"
    );

    let cfg = frost_cli::config(tmp.path(), u16::try_from(tag).expect("tag"));
    let ksr = tmp.path().join("ksr.xml");
    common::example_ksr(
        &ksr,
        ceremony_dnssec::SecurityAlgorithm::ED25519,
        256,
        "ksr-frost-recorded",
    );
    let kc_package = tmp.path().join("KC-package");
    let package = kc_package.join("package.json");

    // Holders 1 and 3: both rounds in one live process, each in a ceremony of its own.
    let holder = |h: usize| {
        let kc = tmp.path().join(format!("KC-frost-holder-{h}"));
        (kc.join("commitments.json"), kc.join("partials.json"), kc)
    };
    let started: Vec<(usize, Child)> = [1usize, 3]
        .into_iter()
        .map(|h| {
            let (commitments, partials, kc) = holder(h);
            let share = shares.join(format!("share-{h}.age"));
            let child = spawn_ceremony(&[
                "--now",
                frost_cli::NOW,
                "threshold",
                "sign",
                s(&ksr),
                "--public",
                s(&public),
                "--share",
                s(&share),
                "--identity",
                s(&ids[h - 1]),
                "--config",
                s(&cfg),
                "--yes",
                "--commitments-out",
                s(&commitments),
                "--package",
                s(&package),
                "--wait",
                "2m",
                "-o",
                s(&partials),
                "--ceremony",
                s(&kc),
            ]);
            (h, child)
        })
        .collect();
    for h in [1, 3] {
        frost_cli::wait_for(&holder(h).0);
    }

    // package: the commitments read and checked, the package written.
    let package_run = |kc: &Path, out: &Path, given: &[usize]| {
        let mut args = vec![
            "--now",
            frost_cli::NOW,
            "threshold",
            "package",
            s(&ksr),
            "--public",
            s(&public),
            "--config",
            s(&cfg),
            "-o",
            s(out),
            "--ceremony",
            s(kc),
            "--commitments",
        ];
        let commitments: Vec<PathBuf> = given.iter().map(|h| holder(*h).0).collect();
        args.extend(commitments.iter().map(|p| s(p)));
        ceremony(&args)
    };
    // One holder's commitments are no quorum: refused, recorded, no package.
    let kc_short = tmp.path().join("KC-package-short");
    let short = kc_short.join("package.json");
    package_run(&kc_short, &short, &[1]).expect_code(1);
    assert!(!short.exists());
    expect_refusal(&kc_short, "FROST-COMMITMENTS");
    package_run(&kc_package, &package, &[1, 3]).expect_code(0);
    expect_record(
        &kc_package,
        &[
            "ceremony_opened",
            "file_read",
            "file_read",
            "file_read",
            "check_report",
            "act_started",
            "file_written",
            "ceremony_closed",
        ],
        ("FROST-COMMITMENTS", 1),
    );

    // Each holder's ceremony: the KSR checked, round one's commitments, the
    // package read and checked, round two's partials.
    for (h, child) in started {
        frost_cli::finish(child)
            .expect_code(0)
            .expect_stderr(&["Recording this ceremony in", "Check it with"]);
        let kc = holder(h).2;
        let json = expect_timeline(
            &kc,
            &[
                "ceremony_opened",
                "file_read",
                "check_report",
                "act_started",
                "file_written",
                "act_started",
                "file_read",
                "check_report",
                "file_written",
                "ceremony_closed",
            ],
        );
        let last = checks(&json).pop().expect("a check");
        assert_eq!(last, ("FROST-PACKAGE".to_owned(), "passed".to_owned()));
        let names: Vec<&str> = json["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        assert_eq!(names, ["commitments.json", "partials.json"]);
        assert_eq!(outputs_are_tamper_evident(&kc, &json), 2);
        // The share is logged by its (encrypted) file's hash, never its plaintext.
        let entries = std::fs::read_to_string(kc.join("transcript/entries")).expect("entries");
        assert!(
            !entries.contains("signing_share"),
            "a share's plaintext is logged"
        );
        assert!(!entries.contains("AGE-SECRET-KEY"), "an identity is logged");
    }

    // combine: the partials received, the signatures produced, the SKR.
    let combine = Combine {
        now: frost_cli::NOW,
        ksr: &ksr,
        public: &public,
        config: &cfg,
        package: Some(&package),
    };
    let partials: Vec<PathBuf> = [1, 3].iter().map(|h| holder(*h).1).collect();
    let json = combine.combined(&tmp.path().join("KC-frost-combine"), &partials, tag);
    let kinds = |kind: &str| {
        json["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["event"]["type"] == kind)
            .count()
    };
    // 9 bundles, each signed by holders 1 and 3, then once by the group key.
    assert_eq!(kinds("partial_signature_received"), 18);
    assert_eq!(kinds("signature_produced"), 9);

    // One holder's partials miss a signer of the package: refused, recorded, no SKR.
    combine.refused(&tmp.path().join("KC-frost-combine-short"), &partials[..1]);
}

#[test]
fn rsa_reshare_deal_and_combine_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (old_ids, old_recipients) = identities(tmp.path(), 3);
    let new_dir = tmp.path().join("new-ids");
    std::fs::create_dir_all(&new_dir).expect("mkdir");
    let (new_ids, new_recipients) = identities(&new_dir, 3);
    let old = tmp.path().join("old");
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
        s(&old),
    ];
    for r in &old_recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    ceremony(&args).expect_code(0);
    let public = old.join("public.json");

    // Old holders 1 and 2 each deal, in a ceremony of their own.
    let dealt = |i: usize| tmp.path().join(format!("KC-reshare-deal-{i}")).join("out");
    for i in [1usize, 2] {
        let kc = tmp.path().join(format!("KC-reshare-deal-{i}"));
        let share = old.join(format!("share-{i}.age"));
        let mut args = vec![
            "threshold",
            "reshare",
            "deal",
            "--public",
            s(&public),
            "--share",
            s(&share),
            "--identity",
            s(&old_ids[i - 1]),
            "--dealers",
            "1,2",
            "--threshold",
            "2",
            "-o",
        ];
        let out = dealt(i);
        args.extend([s(&out), "--ceremony", s(&kc)]);
        for r in &new_recipients {
            args.extend(["--recipient", r.as_str()]);
        }
        ceremony(&args).expect_code(0);
        let json = expect_timeline(
            &kc,
            &[
                "ceremony_opened",
                "act_started",
                "file_read",
                "file_read",
                "act_started",
                "file_written",
                "file_written",
                "file_written",
                "file_written",
                "ceremony_closed",
            ],
        );
        // The commitments and one sub-share per new holder.
        assert_eq!(outputs_are_tamper_evident(&kc, &json), 4);
    }

    // New holder 2 combines what dealers `from` sent, in the ceremony `kc`.
    let combine = |kc: &Path, from: &[usize]| {
        let out = kc.join("quorum2");
        let commitments: Vec<PathBuf> = [1, 2]
            .iter()
            .map(|i| dealt(*i).join(format!("commitments-{i}.json")))
            .collect();
        let subs: Vec<PathBuf> = from
            .iter()
            .map(|i| dealt(*i).join(format!("sub-share-{i}-to-2.age")))
            .collect();
        let mut args = vec![
            "threshold",
            "reshare",
            "combine",
            "--public",
            s(&public),
            "--identity",
            s(&new_ids[1]),
            "-o",
            s(&out),
            "--ceremony",
            s(kc),
            "--commitments",
        ];
        args.extend(commitments.iter().map(|p| s(p)));
        args.push("--sub-share");
        args.extend(subs.iter().map(|p| s(p)));
        (ceremony(&args), out)
    };
    let kc = tmp.path().join("KC-reshare-combine");
    combine(&kc, &[1, 2]).0.expect_code(0);
    // The new public.json and the new holder's share.
    let json = expect_record(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "check_report",
            "file_written",
            "file_written",
            "ceremony_closed",
        ],
        ("RESHARE-SUB-SHARES", 2),
    );
    assert!(
        act_titles(&json)
            .iter()
            .any(|t| t.contains("sub-shares of old holders [1, 2]")),
        "{:?}",
        act_titles(&json)
    );

    // Dealer 2's sub-share missing: refused, the dealer named in the record, no share.
    let kc = tmp.path().join("KC-reshare-combine-short");
    let (run, out) = combine(&kc, &[1]);
    run.expect_code(1).expect_stderr(&["old holder 2"]);
    assert!(!out.join("share-2.age").exists());
    let json = expect_refusal(&kc, "RESHARE-SUB-SHARES");
    assert!(
        act_titles(&json).iter().any(|t| t.contains("old holder 2")),
        "{:?}",
        act_titles(&json)
    );
}

#[test]
fn frost_refresh_and_apply_record_their_ceremonies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ids, recipients) = identities(tmp.path(), 3);
    let (shares, _, _) = deal_recorded(
        tmp.path(),
        "KC-frost-deal",
        &["--algorithm", "ED25519"],
        &recipients,
    );
    let (r1, r3) = (&recipients[0], &recipients[2]);
    let public = shares.join("public.json");
    let refresh = |out: &Path, kc: Option<&Path>| {
        let mut args = vec![
            "threshold",
            "reshare",
            "refresh",
            "--public",
            s(&public),
            "--holders",
            "1,3",
            "--recipient",
            r1,
            "--recipient",
            r3,
            "-o",
            s(out),
        ];
        if let Some(kc) = kc {
            args.extend(["--ceremony", s(kc)]);
        }
        ceremony(&args).expect_code(0);
    };
    let kc = tmp.path().join("KC-refresh");
    let refreshed = kc.join("out");
    refresh(&refreshed, Some(&kc));
    let json = expect_timeline(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "act_started",
            "file_written",
            "file_written",
            "file_written",
            "ceremony_closed",
        ],
    );
    // The refreshed public.json and a zero-share for holders 1 and 3.
    assert_eq!(outputs_are_tamper_evident(&kc, &json), 3);
    // Another refresh of the same key, whose public.json holder 1's zero-share does not fit.
    let other = tmp.path().join("refresh-other");
    refresh(&other, None);

    let apply = |kc: &Path, new_public: &Path| {
        let out = kc.join("shares");
        let run = ceremony(&[
            "threshold",
            "reshare",
            "apply",
            "--public",
            s(&public),
            "--new-public",
            s(new_public),
            "--share",
            s(&shares.join("share-1.age")),
            "--zero-share",
            s(&refreshed.join("zero-share-1.age")),
            "--identity",
            s(&ids[0]),
            "-o",
            s(&out),
            "--ceremony",
            s(kc),
        ]);
        (run, out.join("share-1.age"))
    };
    let kc = tmp.path().join("KC-apply");
    let (run, share) = apply(&kc, &refreshed.join("public.json"));
    run.expect_code(0);
    assert!(share.exists());
    expect_record(
        &kc,
        &[
            "ceremony_opened",
            "file_read",
            "file_read",
            "file_read",
            "file_read",
            "check_report",
            "act_started",
            "file_written",
            "ceremony_closed",
        ],
        ("FROST-REFRESH", 1),
    );

    // The zero-share with the other refresh's public.json: refused, recorded, no share.
    let kc = tmp.path().join("KC-apply-mismatch");
    let (run, share) = apply(&kc, &other.join("public.json"));
    run.expect_code(2);
    assert!(!share.exists());
    expect_refusal(&kc, "FROST-REFRESH");
}

#[test]
fn frost_enrol_deltas_sigma_and_combine_record_their_ceremonies() {
    use frost_cli::{enrol_combine, enrol_deltas, enrol_sigma, flip_scalar, reseal};
    // A 2-of-3 FROST key enrols holder 4, with helpers 1 and 3.
    let st = frost_cli::setup(2, 3, "ksr-frost-enrol-recorded");
    let (id4, r4) = common::age_identity(st.dir.path(), "holder-4.key");
    let kc = |step: &str| st.path(&format!("KC-enrol-{step}"));

    // deltas, outside its ceremony directory: refused before anything is recorded.
    let outside = kc("deltas-outside");
    enrol_deltas(
        &st,
        1,
        &[1, 3],
        &st.path("out"),
        &["--ceremony", s(&outside)],
    )
    .expect_code(2)
    .expect_stderr(&["beside its transcript"]);
    assert!(!outside.join("transcript").exists());

    // deltas: each helper in a ceremony of its own; the public.json and the
    // (encrypted) share read, the commitments and a delta per helper written.
    let dealt = |h: usize| kc(&format!("deltas-{h}")).join("out");
    for h in [1, 3] {
        let dir = kc(&format!("deltas-{h}"));
        enrol_deltas(&st, h, &[1, 3], &dealt(h), &["--ceremony", s(&dir)]).expect_code(0);
        let json = expect_timeline(
            &dir,
            &[
                "ceremony_opened",
                "act_started",
                "file_read",
                "file_read",
                "act_started",
                "file_written",
                "file_written",
                "file_written",
                "ceremony_closed",
            ],
        );
        assert_eq!(outputs_are_tamper_evident(&dir, &json), 3);
    }
    let commitments: Vec<PathBuf> = [1, 3]
        .iter()
        .map(|h| dealt(*h).join(format!("enrol-commitments-{h}.json")))
        .collect();
    let deltas_to = |k: usize| -> Vec<PathBuf> {
        [1, 3]
            .iter()
            .map(|h| dealt(*h).join(format!("delta-{h}-to-{k}.age")))
            .collect()
    };

    // sigma: helper `k` checks `deltas` (FROST-ENROL-DELTAS) in the ceremony `dir`.
    let sigma = |k: usize, deltas: &[PathBuf], dir: &Path| {
        let out = dir.join("out");
        let run = enrol_sigma(
            &st,
            (&commitments, deltas),
            (k, &r4),
            &out,
            &["--ceremony", s(dir)],
        );
        (run, out.join(format!("sigma-{k}-for-4.age")))
    };
    let mut sigmas = Vec::new();
    for k in [1, 3] {
        let dir = kc(&format!("sigma-{k}"));
        let (run, out) = sigma(k, &deltas_to(k), &dir);
        run.expect_code(0);
        let json = expect_record(
            &dir,
            &[
                "ceremony_opened",
                "file_read",
                "file_read",
                "file_read",
                "file_read",
                "file_read",
                "check_report",
                "act_started",
                "file_written",
                "ceremony_closed",
            ],
            ("FROST-ENROL-DELTAS", 1),
        );
        assert!(
            act_titles(&json)
                .iter()
                .any(|t| t.contains(&format!("Helper {k} checks the deltas of helpers [1, 3]"))),
            "{:?}",
            act_titles(&json)
        );
        sigmas.push(out);
    }

    // Helper 1's delta to helper 3, changed by helper 1: helper 3's refusal
    // is recorded, helper 1 named in the act's title, and no sigma written.
    let tampered = st.path("delta-1-to-3-tampered.age");
    reseal(
        &deltas_to(3)[0],
        &st.identities[2],
        &tampered,
        flip_scalar("delta"),
    );
    let dir = kc("sigma-3-tampered");
    let (run, out) = sigma(3, &[tampered, deltas_to(3)[1].clone()], &dir);
    run.expect_code(1)
        .expect_stderr(&["enrolment refused: helper 1's "]);
    assert!(!out.exists());
    let json = expect_refusal(&dir, "FROST-ENROL-DELTAS");
    assert!(
        act_titles(&json)
            .iter()
            .any(|t| t.contains("helper 1's ") && t.contains("does not match")),
        "{:?}",
        act_titles(&json)
    );

    // combine: the sigmas checked (FROST-ENROL-SIGMAS), the new public.json and share 4.
    let dir = kc("combine");
    let refs: Vec<&Path> = sigmas.iter().map(PathBuf::as_path).collect();
    let ceremony_args = ["--ceremony", s(&dir)];
    enrol_combine(
        &st,
        (&commitments, &refs),
        &id4,
        &dir.join("out"),
        &ceremony_args,
    )
    .expect_code(0);
    let json = expect_record(
        &dir,
        &[
            "ceremony_opened",
            "file_read",
            "check_report",
            "act_started",
            "file_written",
            "file_written",
            "ceremony_closed",
        ],
        ("FROST-ENROL-SIGMAS", 2),
    );
    let declared = &json["entries"][0]["event"]["keys"][0];
    assert_eq!(declared["role"], "ksk");

    // Every secret is logged by its encrypted file's hash, never in the clear.
    for step in ["deltas-1", "deltas-3", "sigma-1", "sigma-3", "combine"] {
        let entries =
            std::fs::read_to_string(kc(step).join("transcript/entries")).expect("entries");
        for secret in ["signing_share", "\"delta\"", "\"sigma\"", "AGE-SECRET-KEY"] {
            assert!(!entries.contains(secret), "{step}: {secret} is logged");
        }
    }
}
