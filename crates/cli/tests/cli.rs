//! The `ceremony` binary on the root zone's real files: exit codes, reports, JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
        .display()
        .to_string()
}

fn repo(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
        .display()
        .to_string()
}

fn ceremony(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs with `--json` and returns the ids of failed checks.
fn failed_checks(args: &[&str]) -> (i32, Vec<String>) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = ceremony(&all);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(&out), stderr(&out)));
    let failed = json["report"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    (code(&out), failed)
}

const Q2_KSR: &str = "icann/root/ksr-root-2017-q2-0.xml";
const Q1_SKR: &str = "icann/root/skr-root-2017-q1-0.xml";
const Q2_SKR: &str = "icann/root/skr-root-2017-q2-0.xml";
const NOW: &str = "--now=2017-03-15T00:00:00Z";

#[test]
fn all_six_real_root_files_parse() {
    for rel in [
        "icann/root/ksr-root-2009-q4-2.xml",
        "icann/root/ksr-root-2010-q1-0.xml",
        "icann/root/ksr-root-2016-q3-0.xml",
        Q2_KSR,
    ] {
        let out = ceremony(&["ksr", "validate", &data(rel)]);
        assert!(matches!(code(&out), 0 | 1), "{rel}: {}", stderr(&out));
        assert!(stdout(&out).contains("Checks ("), "{rel}");
    }
    for rel in [Q1_SKR, Q2_SKR] {
        let out = ceremony(&["skr", "verify", &data(rel)]);
        assert_eq!(code(&out), 0, "{rel}: {}{}", stdout(&out), stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("✓ SKR-VERIFY"), "{text}");
        assert!(
            text.contains("✓ SKR-TRUST-ANCHOR") && text.contains("19036 (Kjqmt7v)"),
            "{text}"
        );
    }
}

#[test]
fn ksr_2017_q2_passes_under_root_defaults_and_with_the_chain() {
    let out = ceremony(&["ksr", "validate", &data(Q2_KSR), NOW]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("Result: PASSED"));
    let (exit, failed) = failed_checks(&[
        "ksr",
        "validate",
        &data(Q2_KSR),
        NOW,
        "--previous-skr",
        &data(Q1_SKR),
    ]);
    assert_eq!((exit, failed), (0, vec![]));
    let out = ceremony(&[
        "ksr",
        "validate",
        &data(Q2_KSR),
        NOW,
        "--previous-skr",
        &data(Q1_SKR),
        "--json",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    for id in [
        "KSR-ID",
        "KSR-BUNDLE-UNIQUE",
        "KSR-CHAIN-KEYS",
        "KSR-CHAIN-OVERLAP",
    ] {
        let check = json["report"]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(check["status"], "passed", "{id}");
    }
    assert_eq!(json["file"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(json["file"]["words"].as_array().map(Vec::len), Some(32));
}

#[test]
fn bad_pop_fails_exactly_bundle_pop() {
    let (exit, failed) = failed_checks(&[
        "ksr",
        "validate",
        &data("icann/ksr-bad-pop.xml"),
        "--now=2017-11-15T00:00:00Z",
    ]);
    assert_eq!((exit, failed), (1, vec!["KSR-BUNDLE-POP".to_owned()]));
}

#[test]
fn rsa_1024_ksr_of_2016_q3_fails_policy_alg() {
    let (exit, failed) = failed_checks(&[
        "ksr",
        "validate",
        &data("icann/root/ksr-root-2016-q3-0.xml"),
        "--now=2016-06-15T00:00:00Z",
    ]);
    assert_eq!(exit, 1);
    assert!(failed.contains(&"KSR-POLICY-ALG".to_owned()), "{failed:?}");
}

#[test]
fn early_ksrs_need_the_2010_policy() {
    let policy = repo("config/policy-2010.toml");
    for (rel, now) in [
        (
            "icann/root/ksr-root-2009-q4-2.xml",
            "--now=2009-10-20T00:00:00Z",
        ),
        (
            "icann/root/ksr-root-2010-q1-0.xml",
            "--now=2009-12-15T00:00:00Z",
        ),
    ] {
        let (exit, failed) = failed_checks(&["ksr", "validate", &data(rel), now]);
        assert_eq!(exit, 1, "{rel}");
        assert!(!failed.is_empty());
        let (exit, failed) =
            failed_checks(&["ksr", "validate", &data(rel), now, "--config", &policy]);
        assert_eq!((exit, failed), (0, vec![]), "{rel}");
    }
}

/// Replaces the `nth` occurrence of `<tag>…</tag>` content by `f(content)`.
fn edit_element(text: &str, tag: &str, nth: usize, f: impl Fn(&str) -> String) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.match_indices(&open).nth(nth).expect("occurrence").0 + open.len();
    let end = start + text[start..].find(&close).expect("closed");
    format!("{}{}{}", &text[..start], f(&text[start..end]), &text[end..])
}

/// Flips one bit of the decoded bytes, with a hand-rolled codec to keep the test independent.
fn flip_base64_bit(b64: &str, bit: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = Vec::new();
    for c in b64.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64") as u8;
        for i in (0..6).rev() {
            bits.push((v >> i) & 1);
        }
    }
    bits[bit] ^= 1;
    let mut out = String::new();
    for chunk in bits.chunks(6) {
        let v = chunk.iter().fold(0u8, |acc, b| acc << 1 | b) << (6 - chunk.len());
        out.push(ALPHABET[v as usize] as char);
    }
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

fn bundle_ids(text: &str) -> Vec<String> {
    text.match_indices("<ResponseBundle id=\"")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest[..rest.find('"').expect("quote")].to_owned()
        })
        .collect()
}

/// One bit flipped in any SignatureData, PublicKey or Inception of a real SKR: exit 1, naming the bundle.
#[test]
fn any_flipped_bit_in_a_real_skr_fails_naming_the_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    for rel in [Q1_SKR, Q2_SKR] {
        let original = std::fs::read_to_string(data(rel)).expect("read");
        let ids = bundle_ids(&original);
        let mut cases = Vec::new();
        for (b, id) in ids.iter().enumerate() {
            for bit in [0, 1001, 2047] {
                cases.push((
                    format!("SignatureData bit {bit}"),
                    id,
                    edit_element(&original, "SignatureData", b, |s| flip_base64_bit(s, bit)),
                ));
            }
            cases.push((
                "Inception".to_owned(),
                id,
                edit_element(&original, "Inception", b, |s| s.replacen(":00+", ":01+", 1)),
            ));
            cases.push((
                "SignatureInception".to_owned(),
                id,
                edit_element(&original, "SignatureInception", b, |s| {
                    s.replacen(":00+", ":01+", 1)
                }),
            ));
            let bundle_start = original
                .match_indices("<ResponseBundle ")
                .nth(b)
                .expect("bundle")
                .0;
            let first_key = original[..bundle_start].matches("<PublicKey>").count();
            let keys = original[bundle_start..]
                .split("</ResponseBundle>")
                .next()
                .expect("bundle")
                .matches("<PublicKey>")
                .count();
            for k in 0..keys {
                cases.push((
                    format!("PublicKey {k}"),
                    id,
                    edit_element(&original, "PublicKey", first_key + k, |s| {
                        flip_base64_bit(s, 100)
                    }),
                ));
            }
        }
        for (what, id, text) in cases {
            assert_ne!(text, original);
            let path = dir.path().join("tampered.xml");
            std::fs::write(&path, &text).expect("write");
            let out = ceremony(&["skr", "verify", &path.display().to_string()]);
            assert_eq!(
                code(&out),
                1,
                "{rel} {what} in {id}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let report = stdout(&out);
            let failures: Vec<&str> = report.lines().filter(|l| l.starts_with("      ")).collect();
            assert!(!failures.is_empty(), "{rel} {what}: no violation lines");
            assert!(
                failures.iter().all(|l| l.contains(id.as_str())),
                "{rel} {what} in {id}: {failures:#?}"
            );
        }
    }
}

#[test]
fn skr_answers_its_ksr_and_not_another() {
    let (exit, failed) = failed_checks(&["skr", "verify", &data(Q2_SKR), "--ksr", &data(Q2_KSR)]);
    assert_eq!((exit, failed), (0, vec![]));
    let (exit, failed) = failed_checks(&["skr", "verify", &data(Q1_SKR), "--ksr", &data(Q2_KSR)]);
    assert_eq!(exit, 1);
    assert_eq!(failed, ["SKR-MATCH", "SKR-PAIR"]);
}

#[test]
fn hash_reads_stdin_and_prints_hex_and_pgp_words() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(["hash", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello, world\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"),
        "{text}"
    );
    assert!(text.contains("music customer waffle consensus"), "{text}");
}

#[test]
fn anchor_verify_checks_each_digest() {
    let good = repo("testdata/anchors/root-anchors.xml");
    let out = ceremony(&["anchor", "verify", &good]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(stdout(&out).matches("✓").count(), 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.xml");
    let text = std::fs::read_to_string(&good)
        .expect("read")
        .replace("<Digest>E06D", "<Digest>F06D");
    std::fs::write(&bad, text).expect("write");
    let out = ceremony(&["anchor", "verify", &bad.display().to_string()]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("✗ Klajeyz"), "{}", stdout(&out));
}

#[test]
fn usage_and_config_errors_exit_2_with_the_reason() {
    let out = ceremony(&["ksr", "validate", &data(Q2_KSR), "--now", "yesterday"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("--now \"yesterday\""),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("policy.toml");
    std::fs::write(&config, "[request_policy]\nnum_bundels = 9\n").expect("write");
    let out = ceremony(&[
        "ksr",
        "validate",
        &data(Q2_KSR),
        "--config",
        &config.display().to_string(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("num_bundels") && stderr(&out).contains("policy.toml"),
        "{}",
        stderr(&out)
    );

    let out = ceremony(&["ksr", "validate", &data(Q2_SKR)]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("this is an SKR"), "{}", stderr(&out));

    let out = ceremony(&["ksr", "validate", "/nonexistent/ksr.xml"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("/nonexistent/ksr.xml"),
        "{}",
        stderr(&out)
    );

    let out = ceremony(&["ksr", "frobnicate"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn demo_with_a_keystore_ksk_runs_a_whole_ceremony_and_writes_its_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ceremony(&[
        "demo",
        "--key",
        "keystore",
        "--dir",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("A DNSSEC key ceremony"));
    for act in ["Act 1.", "Act 2.", "Act 3.", "Act 4.", "Act 5."] {
        assert!(text.contains(act), "{act} missing");
    }
    assert_eq!(text.matches("Result: PASSED").count(), 2, "{text}");
    for name in ["ksr.xml", "skr.xml", "root-anchors.xml"] {
        assert!(Path::new(&dir.path().join(name)).exists(), "{name}");
    }
    // The keystore holds only the encrypted key and its public metadata.
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("keystore"))
        .expect("keystore")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["KSK-DEMO.key.age", "KSK-DEMO.meta.json"]);
    // The zone operator's view: the SKR answers the KSR under the published anchor.
    let path = |name: &str| dir.path().join(name).display().to_string();
    let verify = ceremony(&[
        "skr",
        "verify",
        &path("skr.xml"),
        "--ksr",
        &path("ksr.xml"),
        "--trust-anchor",
        &path("root-anchors.xml"),
    ]);
    assert_eq!(code(&verify), 0, "{}", stdout(&verify));
    let anchors = ceremony(&["anchor", "verify", &path("root-anchors.xml")]);
    assert_eq!(code(&anchors), 0, "{}", stdout(&anchors));
    let script = repo("scripts/verify-skr-dnspython.py");
    let python = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(path("skr.xml"))
        .output()
        .expect("python3");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stdout)
    );
    // A demo starts from an empty directory.
    let again = ceremony(&["demo", "--dir", &dir.path().display().to_string()]);
    assert_eq!(code(&again), 2);
}

#[test]
fn knot_and_bind_ksrs_are_detected_and_pop_is_not_applicable() {
    for rel in ["knot/example.ksr", "bind/example.ksr"] {
        let out = ceremony(&["ksr", "validate", &data(rel), "--json"]);
        assert!(matches!(code(&out), 0 | 1), "{rel}: {}", stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).expect("json");
        let pop = json["report"]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "KSR-BUNDLE-POP")
            .expect("KSR-BUNDLE-POP reported");
        assert_eq!(pop["status"], "not_applicable", "{rel}");
        assert!(json["document"]["bundles"]
            .as_array()
            .is_some_and(|b| !b.is_empty()));
    }
    // Naming the wrong format gives the reader's located error.
    let out = ceremony(&[
        "ksr",
        "validate",
        &data("knot/example.ksr"),
        "--format",
        "icann",
    ]);
    assert_eq!(code(&out), 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plain.txt");
    std::fs::write(&path, "hello\n").expect("write");
    let out = ceremony(&["ksr", "validate", &path.display().to_string()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("plain.txt:1:1: not well-formed XML"),
        "{}",
        stderr(&out)
    );
}
