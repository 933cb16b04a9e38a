//! `ceremony sign` end to end, through the real binary: KSKs in a real SoftHSM2
//! token and in the keystore, golden vectors, the real root KSR of 2017 Q2,
//! ECDSA and Ed25519, and faults. Every SKR written is checked independently
//! by dnspython; every failure is checked to leave no SKR and no temp file.
//!
//! Needs `softhsm2`, `openssl`, `/usr/bin/python3` with dnspython, and root
//! for the tests that mount a small tmpfs (read-only output, disk full).

mod common;

use std::path::{Path, PathBuf};

use ceremony_formats::{icann, Fingerprint, Skr};
use common::{
    assert_empty, ceremony, ceremony_with, data, dnspython, example_ksr, hsm_toml, out_dir, repo,
    s, signature_data, Mount, SoftHsm, MODULE, PIN, SO_PIN, TOKEN,
};

/// The legacy KSRs, their golden SKRs (signed with KSK1), and the day to judge them on.
const GOLDEN: [(&str, &str, &str); 2] = [
    (
        "legacy/ksr-2009-q4-2.xml",
        "legacy/skr-2009-q4-2.xml",
        "2009-10-20T00:00:00Z",
    ),
    (
        "legacy/ksr-2010-q1-0.xml",
        "legacy/skr-2010-q1-0.xml",
        "2009-12-15T00:00:00Z",
    ),
];
const KSR_2010: &str = "legacy/ksr-2010-q1-0.xml";
const NOW_2010: &str = "2009-12-15T00:00:00Z";

const ROOT_KSR: &str = "root/ksr-root-2017-q2-0.xml";
const ROOT_PREVIOUS: &str = "root/skr-root-2017-q1-0.xml";
const ROOT_NOW: &str = "2017-03-15T00:00:00Z";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_owned()
}

/// A SoftHSM token in `dir` holding KSK1 and KSK2, and `dir/legacy.toml` using it.
fn legacy_softhsm(dir: &Path) -> PathBuf {
    SoftHsm::new(dir)
        .import("legacy/ksk1.pem", "KSK1", 1)
        .import("legacy/ksk2.pem", "KSK2", 2);
    write(
        &dir.join("legacy.toml"),
        &format!(
            "{}{}",
            hsm_toml(),
            read(&repo("testdata/signer/legacy.toml"))
        ),
    )
}

/// `ceremony sign KSR --config CFG -o OUT --yes --now NOW` plus `extra`.
fn sign(ksr: &Path, config: &Path, output: &Path, now: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "sign",
        s(ksr),
        "--config",
        s(config),
        "-o",
        s(output),
        "--yes",
        "--now",
        now,
    ];
    args.extend_from_slice(extra);
    ceremony(&args)
}

/// Signs both legacy KSRs with `config` and checks the output against the golden SKRs.
fn assert_golden(config: &Path, out: &Path, source: &str) {
    for (ksr_rel, skr_rel, now) in GOLDEN {
        let ksr = data(ksr_rel);
        let output = out.join(Path::new(skr_rel).file_name().expect("name"));
        let run = sign(&ksr, config, &output, now, &[]);
        run.expect_code(0);
        let written = std::fs::read(&output).expect("the SKR was written");
        let golden = read(&data(skr_rel));
        let expected = signature_data(&golden);
        let actual = signature_data(&String::from_utf8_lossy(&written));
        assert!(!expected.is_empty(), "{skr_rel} has signatures");
        assert_eq!(
            actual, expected,
            "{ksr_rel} signed with KSK1 from {source}: the SignatureData differ from {skr_rel}"
        );
        // The room compares hash words: the KSR's before, the SKR's after.
        let ksr_print = Fingerprint::of(&std::fs::read(&ksr).expect("ksr"));
        let skr_print = Fingerprint::of(&written);
        run.expect_stdout(&[&ksr_print.hex(), &skr_print.hex()]);
        for word in ksr_print.words().into_iter().chain(skr_print.words()) {
            run.expect_stdout(&[word]);
        }
        run.expect_stdout(&[&format!("Signed {} bundles", expected.len())]);
        assert_eq!(dnspython(&output), expected.len(), "{skr_rel}");
        // The JSON record names where the key came from.
        let json_out = out.join("json.xml");
        let run = sign(&ksr, config, &json_out, now, &["--json"]);
        run.expect_code(0);
        let json = run.json();
        assert_eq!(json["keys"][0]["name"], "KSK1");
        assert!(
            json["keys"][0]["source"]
                .as_str()
                .is_some_and(|src| src.starts_with(source)),
            "{json}"
        );
        assert_eq!(
            json["output"]["sha256"],
            Fingerprint::of(&std::fs::read(&json_out).expect("json out")).hex()
        );
        assert_eq!(run.checks("failed"), Vec::<String>::new());
        std::fs::remove_file(&json_out).expect("remove");
    }
    // Nothing but the two SKRs: no temp file was left behind.
    let mut left: Vec<String> = std::fs::read_dir(out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["skr-2009-q4-2.xml", "skr-2010-q1-0.xml"]);
}

#[test]
fn golden_vectors_from_softhsm_with_a_toml_config() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    assert_golden(&config, &out_dir(dir.path()), "hsm soft, token ceremony");
}

#[test]
fn golden_vectors_from_softhsm_with_a_ksrsigner_yaml() {
    let dir = tempdir();
    SoftHsm::new(dir.path()).import("legacy/ksk1.pem", "KSK1", 1);
    // The root signer's form as it is: the PIN (a number) in the file, SOFTHSM2_CONF
    // in env, and no token label, so every token is searched for the key label.
    let hsm = format!(
        "hsm:\n  softhsm:\n    module: {MODULE}\n    pin: {PIN}\n    so_pin: {SO_PIN}\n    env:\n      SOFTHSM2_CONF: softhsm2.conf\n\n"
    );
    let config = write(
        &dir.path().join("ksrsigner.yaml"),
        &format!("{hsm}{}", read(&repo("testdata/signer/legacy.yaml"))),
    );
    assert_golden(&config, &out_dir(dir.path()), "hsm softhsm, token ceremony");
}

#[test]
fn golden_vectors_from_the_keystore_after_key_import() {
    let dir = tempdir();
    let config = write(
        &dir.path().join("keystore.toml"),
        &format!(
            "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n{}",
            read(&repo("testdata/signer/legacy.toml"))
        ),
    );
    write(
        &dir.path().join("passphrase"),
        "correct horse battery staple\n",
    );
    let pem = data("legacy/ksk1.pem");
    let run = ceremony(&[
        "key",
        "import",
        "KSK1",
        "--pem",
        s(&pem),
        "--config",
        s(&config),
    ]);
    run.expect_code(0).expect_stdout(&[
        "imported KSK1: RSASHA256 (8) tag 5017 (revoked 5145)",
        "DS SHA-256",
    ]);
    // Encrypted at rest: the PEM's base64 is nowhere in the keystore.
    let pem_line = read(&pem).lines().nth(1).expect("a base64 line").to_owned();
    for entry in std::fs::read_dir(dir.path().join("keys")).expect("keystore dir") {
        let text = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(!String::from_utf8_lossy(&text).contains(&pem_line));
    }
    let run = ceremony(&["key", "list", "--config", s(&config)]);
    run.expect_code(0)
        .expect_stdout(&["KSK1", "5017", "config KSK1: matches"]);
    assert_golden(&config, &out_dir(dir.path()), "keystore");
}

/// One bundle's KSKs as (tag, flags), sorted, and the tags that sign, sorted.
type SlotShape = (Vec<(u16, u16)>, Vec<u16>);

/// The [`SlotShape`] of every bundle.
fn ksk_shape(skr: &Skr) -> Vec<SlotShape> {
    skr.bundles
        .iter()
        .map(|b| {
            let mut keys: Vec<(u16, u16)> = b
                .keys
                .iter()
                .filter(|k| k.dnskey.flags() & 1 == 1)
                .map(|k| (k.key_tag.0, k.dnskey.flags()))
                .collect();
            let mut signers: Vec<u16> = b.signatures.iter().map(|s| s.key_tag.0).collect();
            keys.sort_unstable();
            signers.sort_unstable();
            (keys, signers)
        })
        .collect()
}

#[test]
fn roll_and_revoke_schemas_from_softhsm() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    let out = out_dir(dir.path());
    let ksr_path = data(KSR_2010);
    let ksr = icann::parse_ksr(&read(&ksr_path), KSR_2010).expect("ksr");
    let published = (vec![(5017, 257)], vec![5017]);
    let both = (vec![(5017, 257), (55186, 257)], vec![5017]);
    let revoking = (vec![(5145, 385), (55186, 257)], vec![5145, 55186]);
    let next = (vec![(55186, 257)], vec![55186]);
    let revoked = (vec![(5145, 385)], vec![5145]);
    let cases = [
        (
            "roll",
            vec![
                published,
                both.clone(),
                both.clone(),
                both.clone(),
                both.clone(),
                both,
                revoking.clone(),
                revoking,
                next,
            ],
            11,
        ),
        ("revoke", vec![revoked; 9], 9),
    ];
    for (schema, expected, signatures) in cases {
        let output = out.join(format!("skr-{schema}.xml"));
        let run = sign(&ksr_path, &config, &output, NOW_2010, &["--schema", schema]);
        run.expect_code(0);
        let skr = icann::parse_skr(&read(&output), schema).expect("the SKR parses");
        assert_eq!(ksk_shape(&skr), expected, "schema {schema}");
        for (signed, asked) in skr.bundles.iter().zip(&ksr.bundles) {
            // The ZSKs are the request's, untouched; the KSKs carry their labels.
            let zsks: Vec<_> = signed
                .keys
                .iter()
                .filter(|k| k.dnskey.flags() == 256)
                .map(|k| &k.dnskey)
                .collect();
            let requested: Vec<_> = asked.keys.iter().map(|k| &k.dnskey).collect();
            assert_eq!(zsks, requested, "schema {schema}, bundle {}", signed.id);
            for key in signed.keys.iter().filter(|k| k.dnskey.flags() & 1 == 1) {
                let label = if key.key_tag.0 == 55186 {
                    "KSK2"
                } else {
                    "KSK1"
                };
                assert_eq!(key.key_identifier, label);
            }
        }
        // The revoked KSK1 appears as 5145, flags 385, in the report too.
        if schema == "revoke" {
            run.expect_stdout(&["5145(revoked)"]);
        }
        assert_eq!(dnspython(&output), signatures, "schema {schema}");
    }
}

/// The root test config (testdata/signer/root-softhsm.toml) beside a token holding RSA1;
/// `policy` replaces its `[request_policy]` section.
fn root_softhsm(dir: &Path, policy: &str) -> PathBuf {
    let text = read(&repo("testdata/signer/root-softhsm.toml"));
    let (head, _) = text
        .split_once("[request_policy]")
        .expect("root-softhsm.toml has a [request_policy] section");
    write(
        &dir.join("root.toml"),
        &format!("{head}[request_policy]\n{policy}"),
    )
}

#[test]
fn root_2017_q2_is_refused_on_the_chain_then_signed_with_the_chain_checks_off() {
    let dir = tempdir();
    SoftHsm::new(dir.path()).import("softhsm-keys/rsa-2048-1.pem", "RSA1", 0x11);
    let out = out_dir(dir.path());
    let ksr = data(ROOT_KSR);
    let previous = data(ROOT_PREVIOUS);
    let output = out.join("skr-root-2017-q2-0.xml");
    let with_previous = ["--previous-skr", s(&previous)];

    // Every check on: Q1 ends signed by KSK-2010 (19036), a key this token does not hold.
    let config = root_softhsm(dir.path(), "");
    let mut json_args = with_previous.to_vec();
    json_args.push("--json");
    let run = sign(&ksr, &config, &output, ROOT_NOW, &json_args);
    run.expect_code(1)
        .expect_stderr(&["KSR-CHAIN-KEYS", "no SKR was written"]);
    assert!(
        run.checks("failed").contains(&"KSR-CHAIN-KEYS".to_owned()),
        "{}",
        run.stdout
    );
    assert!(run.json()["output"].is_null());
    let violations = run.json()["report"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "KSR-CHAIN-KEYS")
        .map(|c| c["violations"].to_string())
        .unwrap_or_default();
    assert!(
        violations.contains("19036") && violations.contains("25486"),
        "{violations}"
    );
    assert_empty(&out, &run);
    let run = sign(&ksr, &config, &output, ROOT_NOW, &with_previous);
    run.expect_code(1)
        .expect_stdout(&["✗ KSR-CHAIN-KEYS", "Result: FAILED"]);
    assert_empty(&out, &run);

    // The chain-in-HSM check off: signing happens, then the safety checks refuse the result.
    let config = root_softhsm(dir.path(), "check_chain_keys_in_hsm = false\n");
    let run = sign(&ksr, &config, &output, ROOT_NOW, &json_args);
    run.expect_code(1).expect_stderr(&["KSR-POLICY-SAFETY"]);
    assert_eq!(
        run.checks("failed"),
        ["KSR-POLICY-SAFETY"],
        "{}",
        run.stdout
    );
    assert_empty(&out, &run);
    let run = sign(&ksr, &config, &output, ROOT_NOW, &with_previous);
    run.expect_code(1).expect_stdout(&[
        "✗ KSR-POLICY-SAFETY",
        "KSK 19036 stops signing",
        "Result: FAILED",
    ]);
    assert_empty(&out, &run);

    // All three off (the file as committed): signed, every check that ran passed.
    let config = write(
        &dir.path().join("root.toml"),
        &read(&repo("testdata/signer/root-softhsm.toml")),
    );
    let run = sign(&ksr, &config, &output, ROOT_NOW, &json_args);
    run.expect_code(0);
    assert_eq!(run.checks("failed"), Vec::<String>::new());
    let passed = run.checks("passed");
    for id in [
        "KSR-CHAIN-KEYS",
        "KSR-CHAIN-OVERLAP",
        "KSR-BUNDLE-POP",
        "SKR-VERIFY",
        "KSK-MATCH",
    ] {
        assert!(
            passed.contains(&id.to_owned()),
            "{id} did not pass: {passed:?}"
        );
    }
    assert_eq!(run.json()["keys"][0]["source"], "hsm soft, token ceremony");

    let anchors = dir.path().join("anchors.xml");
    let run = ceremony(&["anchor", "write", "-o", s(&anchors), "--config", s(&config)]);
    run.expect_code(0)
        .expect_stdout(&[". 172800 IN DS 25486 8 2 "]);
    assert!(read(&anchors).contains("<KeyTag>25486</KeyTag>"));
    ceremony(&["anchor", "verify", s(&anchors)]).expect_code(0);
    let run = ceremony(&[
        "skr",
        "verify",
        s(&output),
        "--ksr",
        s(&ksr),
        "--trust-anchor",
        s(&anchors),
    ]);
    run.expect_code(0).expect_stdout(&[
        "✓ SKR-VERIFY",
        "✓ SKR-MATCH",
        "✓ SKR-PAIR",
        "✓ SKR-TRUST-ANCHOR",
        "Result: PASSED",
    ]);
    // Against the real IANA anchors, the test key is no trust anchor.
    let run = ceremony(&["skr", "verify", s(&output), "--ksr", s(&ksr), "--json"]);
    run.expect_code(1);
    assert_eq!(run.checks("failed"), ["SKR-TRUST-ANCHOR"]);
    assert_eq!(dnspython(&output), 9);
}

/// `[schemas.NAME]` signing with `key` in each of 9 slots.
fn schema(name: &str, key: &str) -> String {
    let mut text = format!("[schemas.{name}]\n");
    for slot in 1..=9 {
        text.push_str(&format!(
            "{slot} = {{ publish = \"{key}\", sign = \"{key}\" }}\n"
        ));
    }
    text.push('\n');
    text
}

#[test]
fn ecdsa_and_ed25519_ksks_from_softhsm_and_the_keystore() {
    use ceremony_dnssec::SecurityAlgorithm;
    let dir = tempdir();
    SoftHsm::new(dir.path()).import("softhsm-keys/ec-p256-1.pem", "EC1", 0x21);
    let out = out_dir(dir.path());
    let p256_ksr = dir.path().join("ksr-p256.xml");
    let ed_ksr = dir.path().join("ksr-ed25519.xml");
    example_ksr(
        &p256_ksr,
        SecurityAlgorithm::ECDSAP256SHA256,
        256,
        "ksr-p256",
    );
    example_ksr(&ed_ksr, SecurityAlgorithm::ED25519, 256, "ksr-ed25519");

    let key = |name: &str, label: &str, algorithm: &str, tag: &str| {
        format!("[keys.{name}]\nlabel = \"{label}\"\nalgorithm = \"{algorithm}\"\n{tag}valid_from = \"2026-01-01T00:00:00Z\"\n\n")
    };
    let mut text = hsm_toml();
    text.push_str(
        "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n",
    );
    text.push_str(&key("EC1", "EC1", "ECDSAP256SHA256", "key_tag = 9144\n"));
    text.push_str(&key("ED_HSM", "KSK-ED-HSM", "ED25519", ""));
    text.push_str(&key("P256_KS", "KSK-P256-KS", "ECDSAP256SHA256", ""));
    text.push_str(&key("ED_KS", "KSK-ED-KS", "ED25519", ""));
    text.push_str(
        "[request_policy]\nacceptable_domains = [\"example.\"]\napproved_algorithms = [\"ECDSAP256SHA256\", \"ED25519\"]\n\n",
    );
    for (name, key) in [
        ("ec1", "EC1"),
        ("ed-hsm", "ED_HSM"),
        ("p256-ks", "P256_KS"),
        ("ed-ks", "ED_KS"),
    ] {
        text.push_str(&schema(name, key));
    }
    let config = write(&dir.path().join("ceremony.toml"), &text);
    write(&dir.path().join("passphrase"), "a test passphrase\n");

    // The first key generated in the keystore creates it.
    for (label, algorithm, place) in [
        ("KSK-P256-KS", "ECDSAP256SHA256", "keystore"),
        ("KSK-ED-KS", "ED25519", "keystore"),
        ("KSK-ED-HSM", "ED25519", "soft"),
    ] {
        let run = ceremony(&[
            "key",
            "generate",
            label,
            "--config",
            s(&config),
            "--algorithm",
            algorithm,
            "--bits",
            "256",
            "--in",
            place,
        ]);
        run.expect_code(0)
            .expect_stdout(&[&format!("generated {label}: {algorithm} (")]);
    }
    let run = ceremony(&["key", "list", "--config", s(&config), "--json"]);
    run.expect_code(0);
    let listed = run.json();
    let places: Vec<(String, String)> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["label"].as_str().expect("label").to_owned(),
                e["place"]
                    .as_str()
                    .expect("place")
                    .split(' ')
                    .next()
                    .expect("place")
                    .to_owned(),
            )
        })
        .collect();
    for (label, place) in [
        ("EC1", "hsm"),
        ("KSK-ED-HSM", "hsm"),
        ("KSK-P256-KS", "keystore"),
        ("KSK-ED-KS", "keystore"),
    ] {
        assert!(
            places.contains(&(label.to_owned(), place.to_owned())),
            "{label} not in {place}: {places:?}"
        );
    }

    for (schema, ksr, algorithm) in [
        ("ec1", &p256_ksr, SecurityAlgorithm::ECDSAP256SHA256),
        ("ed-hsm", &ed_ksr, SecurityAlgorithm::ED25519),
        ("p256-ks", &p256_ksr, SecurityAlgorithm::ECDSAP256SHA256),
        ("ed-ks", &ed_ksr, SecurityAlgorithm::ED25519),
    ] {
        let output = out.join(format!("skr-{schema}.xml"));
        let run = sign(
            ksr,
            &config,
            &output,
            "2026-03-15T00:00:00Z",
            &["--schema", schema],
        );
        run.expect_code(0).expect_stdout(&["Signed 9 bundles"]);
        let skr = icann::parse_skr(&read(&output), schema).expect("the SKR parses");
        for bundle in &skr.bundles {
            assert_eq!(bundle.signatures.len(), 1, "{schema}");
            let sig = &bundle.signatures[0];
            assert_eq!(sig.algorithm, algorithm, "{schema}");
            if schema == "ec1" {
                assert_eq!((sig.key_tag.0, sig.key_identifier.as_str()), (9144, "EC1"));
            }
            // P-256 and Ed25519 signatures are both 64 octets (RFC 6605, RFC 8080).
            assert_eq!(sig.signature_data.len(), 64, "{schema}");
        }
        let run = ceremony(&["skr", "verify", s(&output), "--ksr", s(ksr)]);
        run.expect_code(0)
            .expect_stdout(&["✓ SKR-VERIFY", "✓ SKR-MATCH", "Result: PASSED"]);
        assert_eq!(dnspython(&output), 9, "{schema}");
    }
}

// ---------------------------------------------------------------- faults

/// Signs the 2010 Q1 KSR with `config` into `dir/out/`, expecting failure with `code`.
fn sign_fails(dir: &Path, config: &Path, code: i32, stderr: &[&str]) -> common::Run {
    let out = out_dir(dir);
    let run = sign(&data(KSR_2010), config, &out.join("skr.xml"), NOW_2010, &[]);
    run.expect_code(code).expect_stderr(stderr);
    assert_empty(&out, &run);
    run
}

/// The legacy SoftHSM config with `from` replaced by `to`.
fn legacy_edited(dir: &Path, from: &str, to: &str) -> PathBuf {
    let config = legacy_softhsm(dir);
    let text = read(&config);
    assert!(text.contains(from), "{from:?} not in the config");
    write(&config, &text.replacen(from, to, 1))
}

#[test]
fn wrong_pin_is_an_environment_failure_that_never_shows_the_pin() {
    let dir = tempdir();
    let config = legacy_edited(dir.path(), "pin = \"123456\"", "pin = \"654321\"");
    let run = sign_fails(
        dir.path(),
        &config,
        3,
        &[
            "error: wrong PIN for token \"ceremony\"",
            "hint: check the HSM",
        ],
    );
    assert!(!run.stderr.contains("654321") && !run.stdout.contains("654321"));
}

#[test]
fn missing_token_is_an_environment_failure_naming_the_tokens_found() {
    let dir = tempdir();
    let config = legacy_edited(
        dir.path(),
        "token_label = \"ceremony\"",
        "token_label = \"ksk-2017\"",
    );
    sign_fails(
        dir.path(),
        &config,
        3,
        &[
            "no PKCS#11 token labelled \"ksk-2017\"",
            "tokens found: \"ceremony\"",
        ],
    );
}

#[test]
fn missing_key_label_is_an_environment_failure() {
    let dir = tempdir();
    let config = legacy_edited(dir.path(), "label = \"KSK1\"", "label = \"KSK9\"");
    sign_fails(
        dir.path(),
        &config,
        3,
        &[
            "key \"KSK1\" (label \"KSK9\") is not available",
            "no private key labelled \"KSK9\"",
        ],
    );
}

#[test]
fn wrong_module_path_is_an_environment_failure() {
    let dir = tempdir();
    let config = legacy_edited(dir.path(), MODULE, "/usr/lib/softhsm/libsofthsm3.so");
    sign_fails(
        dir.path(),
        &config,
        3,
        &[
            "PKCS#11 module /usr/lib/softhsm/libsofthsm3.so",
            "no such file",
        ],
    );
}

/// The DS SHA-256 of `label`, as `ceremony key ds` prints it.
fn ds_sha256(config: &Path, label: &str) -> String {
    let run = ceremony(&["key", "ds", label, "--config", s(config)]);
    run.expect_code(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(" DS ") && l.contains(" 8 2 "))
        .unwrap_or_else(|| panic!("no SHA-256 DS in {}", run.stdout));
    line.rsplit(' ').next().expect("digest").to_owned()
}

#[test]
fn a_key_whose_ds_differs_from_the_configured_one_fails_ksk_match() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    let ds = ds_sha256(&config, "KSK1");
    assert_eq!(ds.len(), 64);
    // The right DS passes; one digit off fails, before anything is signed.
    let with_ds = |digest: &str| {
        let text = read(&config).replacen(
            "key_tag = 5017\n",
            &format!("key_tag = 5017\nds_sha256 = \"{digest}\"\n"),
            1,
        );
        write(&dir.path().join("ds.toml"), &text)
    };
    let out = out_dir(dir.path());
    let good = with_ds(&ds.to_ascii_lowercase());
    sign(&data(KSR_2010), &good, &out.join("skr.xml"), NOW_2010, &[]).expect_code(0);
    std::fs::remove_file(out.join("skr.xml")).expect("remove");
    let last = if ds.ends_with('0') { "1" } else { "0" };
    let wrong = format!("{}{last}", &ds[..63]);
    let bad = with_ds(&wrong);
    let run = sign_fails(dir.path(), &bad, 1, &["KSK-MATCH", "no SKR was written"]);
    run.expect_stdout(&[
        "✗ KSK-MATCH",
        &format!("DS SHA-256 {ds}, {wrong} configured"),
    ]);
    let run = sign(
        &data(KSR_2010),
        &bad,
        &out.join("skr.xml"),
        NOW_2010,
        &["--json"],
    );
    run.expect_code(1);
    assert_eq!(run.checks("failed"), ["KSK-MATCH"]);
    assert_empty(&out, &run);
}

#[test]
fn a_key_outside_its_validity_window_fails_ksk_validity() {
    let dir = tempdir();
    // KSK1 retires on 1 February 2010: bundles 3 to 9 of 2010 Q1 end after that.
    let config = legacy_edited(
        dir.path(),
        "valid_from = \"2009-01-01T00:00:00Z\"",
        "valid_from = \"2009-01-01T00:00:00Z\"\nvalid_until = \"2010-02-01T00:00:00Z\"",
    );
    let run = sign_fails(
        dir.path(),
        &config,
        1,
        &["KSK-VALIDITY", "no SKR was written"],
    );
    run.expect_stdout(&[
        "✗ KSK-VALIDITY",
        "7 violations",
        "slot 3: key KSK1 is valid",
    ]);
    assert!(!run.stdout.contains("slot 2: key KSK1"), "{}", run.stdout);
    // Not yet valid is refused the same way.
    let text = read(&config).replacen(
        "valid_from = \"2009-01-01T00:00:00Z\"\nvalid_until = \"2010-02-01T00:00:00Z\"",
        "valid_from = \"2010-06-01T00:00:00Z\"",
        1,
    );
    let config = write(&config, &text);
    let run = sign(
        &data(KSR_2010),
        &config,
        &out_dir(dir.path()).join("skr.xml"),
        NOW_2010,
        &["--json"],
    );
    run.expect_code(1);
    assert_eq!(run.checks("failed"), ["KSK-VALIDITY"]);
    assert_empty(&out_dir(dir.path()), &run);
}

#[test]
fn an_unwritable_output_directory_is_an_environment_failure() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    // Root ignores permission bits, so the directory is a read-only mount: EROFS for everyone.
    let ro = dir.path().join("ro");
    let mount = Mount::tmpfs(&ro, "ro,size=64k,mode=0755");
    let run = sign(&data(KSR_2010), &config, &ro.join("skr.xml"), NOW_2010, &[]);
    run.expect_code(3)
        .expect_stderr(&["skr.xml: cannot create", "Read-only file system"]);
    assert_empty(&ro, &run);
    drop(mount);
    // And without privileges: an output path below a regular file (ENOTDIR).
    let out = out_dir(dir.path());
    write(&out.join("not-a-dir"), "a file\n");
    let run = sign(
        &data(KSR_2010),
        &config,
        &out.join("not-a-dir/skr.xml"),
        NOW_2010,
        &[],
    );
    run.expect_code(3)
        .expect_stderr(&["not-a-dir/skr.xml: cannot create", "Not a directory"]);
    assert_eq!(read(&out.join("not-a-dir")), "a file\n");
    assert_eq!(std::fs::read_dir(&out).expect("out").count(), 1);
}

#[test]
fn a_full_disk_is_an_environment_failure_that_leaves_no_temp_file() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    // 8 KiB: the 18 KB SKR cannot fit, and the temp file must be removed.
    let full = dir.path().join("full");
    let mount = Mount::tmpfs(&full, "size=8k,mode=0755");
    let run = sign(
        &data(KSR_2010),
        &config,
        &full.join("skr.xml"),
        NOW_2010,
        &[],
    );
    run.expect_code(3)
        .expect_stderr(&["skr.xml: cannot write", "No space left on device"]);
    assert_empty(&full, &run);
    drop(mount);
}

#[test]
fn only_the_word_yes_signs() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    let out = out_dir(dir.path());
    let output = out.join("skr.xml");
    let ksr = data(KSR_2010);
    let args = [
        "sign",
        s(&ksr),
        "--config",
        s(&config),
        "-o",
        s(&output),
        "--now",
        NOW_2010,
    ];
    for answer in ["yes\n", "YES\n", "Yes please\n", " Yes\n", "y\n", "\n", ""] {
        let run = ceremony_with(&args, Some(answer.as_bytes()), &[]);
        run.expect_code(2)
            .expect_stdout(&["Result: PASSED"])
            .expect_stderr(&[
                "Sign every bundle of this KSR? Type Yes to go on",
                "not signed: the answer was not Yes",
                "pass --yes",
            ]);
        assert_empty(&out, &run);
    }
    let run = ceremony_with(&args, Some(b"Yes\n"), &[]);
    run.expect_code(0).expect_stdout(&["Signed 9 bundles"]);
    assert_eq!(
        signature_data(&read(&output)),
        signature_data(&read(&data("legacy/skr-2010-q1-0.xml")))
    );
}

#[test]
fn key_generate_refuses_an_existing_label() {
    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    let text = format!(
        "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n{}",
        read(&config)
    );
    let config = write(&config, &text);
    write(&dir.path().join("passphrase"), "a test passphrase\n");
    let generate = |label: &str, place: &str| {
        ceremony(&[
            "key",
            "generate",
            label,
            "--config",
            s(&config),
            "--algorithm",
            "ED25519",
            "--bits",
            "256",
            "--in",
            place,
        ])
    };
    // The first key generated in the keystore creates it.
    generate("NEW", "keystore").expect_code(0);
    // KSK1 is in the token: neither the token nor the keystore may get another.
    for place in ["soft", "keystore"] {
        generate("KSK1", place)
            .expect_code(2)
            .expect_stderr(&["a key labelled \"KSK1\" already exists in hsm soft, token ceremony"]);
    }
    for place in ["soft", "keystore"] {
        generate("NEW", place)
            .expect_code(2)
            .expect_stderr(&["a key labelled \"NEW\" already exists in keystore"]);
    }
    // Still one of each.
    let run = ceremony(&["key", "list", "--config", s(&config), "--json"]);
    run.expect_code(0);
    let labels: Vec<String> = run
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["label"].as_str().expect("label").to_owned())
        .collect();
    let count = |l: &str| labels.iter().filter(|x| *x == l).count();
    assert_eq!((count("KSK1"), count("NEW")), (1, 1), "{labels:?}");
}

#[test]
fn key_generate_and_import_refuse_tags_of_configured_keys() {
    let dir = tempdir();
    SoftHsm::new(dir.path());
    // Configured keys (not yet made) hold the tags t with t mod 256 <= 128. A new key's
    // revoked tag is its tag + 128 or + 129 (the REVOKE bit, and the carry of the
    // one's-complement sum), so every key has its tag or its revoked tag in the set:
    // generation can only give up, in the token and in the keystore alike.
    // In ksrsigner.yaml form: the 33,024 keys parse four times faster than as TOML.
    let mut text = format!(
        "hsm:\n  soft:\n    module: {MODULE}\n    token_label: {TOKEN}\n    pin: {PIN}\n    env: {{SOFTHSM2_CONF: softhsm2.conf}}\n\
         keystore: {{dir: keys, passphrase_file: passphrase, work_factor: 10}}\nkeys:\n"
    );
    for tag in (0..=u16::MAX).filter(|t| t % 256 <= 128) {
        text.push_str(&format!(
            "  k{tag}: {{label: k{tag}, key_tag: {tag}, algorithm: 15, valid_from: 2026-01-01T00:00:00Z}}\n"
        ));
    }
    let config = write(&dir.path().join("crowded.yaml"), &text);
    write(&dir.path().join("passphrase"), "a test passphrase\n");
    let generate = |place: &str| {
        ceremony(&[
            "key",
            "generate",
            "NEW",
            "--config",
            s(&config),
            "--algorithm",
            "ED25519",
            "--bits",
            "256",
            "--in",
            place,
        ])
    };
    generate("keystore").expect_code(2).expect_stderr(&[
        "key NEW: key tag",
        "collides with a forbidden or existing key tag after 32 attempts",
    ]);
    generate("soft")
        .expect_code(2)
        .expect_stderr(&["generated keys in a row clashed with existing key tags"]);
    let run = ceremony(&["key", "list", "--config", s(&config), "--json"]);
    run.expect_code(0);
    assert_eq!(run.json(), serde_json::json!([]), "nothing was kept");

    // An imported key cannot be regenerated: a clash with a configured key is refused.
    let config = write(
        &dir.path().join("legacy.toml"),
        &format!(
            "{}[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n{}",
            hsm_toml(),
            read(&repo("testdata/signer/legacy.toml"))
        ),
    );
    let import = |label: &str, pem: &str| {
        ceremony(&[
            "key",
            "import",
            label,
            "--pem",
            s(&data(pem)),
            "--config",
            s(&config),
        ])
    };
    import("OTHER", "legacy/ksk1.pem")
        .expect_code(2)
        .expect_stderr(&["key OTHER: key tag 5017 (revoked: 5145) collides"]);
    import("OTHER", "legacy/ksk2.pem")
        .expect_code(2)
        .expect_stderr(&["key OTHER: key tag 55186 (revoked: 55314) collides"]);
    // Under its configured label, the key is the configured one: imported.
    import("KSK1", "legacy/ksk1.pem").expect_code(0);
    let run = ceremony(&["key", "list", "--config", s(&config), "--json"]);
    let labels: Vec<_> = run
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["label"].clone())
        .collect();
    assert_eq!(labels, [serde_json::json!("KSK1")]);
    // An endless or binary "PEM" is refused after a bounded read, naming the file.
    ceremony(&[
        "key",
        "import",
        "ZERO",
        "--pem",
        "/dev/zero",
        "--config",
        s(&config),
    ])
    .expect_code(2)
    .expect_stderr(&["/dev/zero: larger than 65536 bytes"]);
}

// ---------------------------------------------------------------- selftest

#[test]
fn selftest_lists_its_tests_and_adds_the_hsm_round_trip_with_a_config() {
    let run = ceremony(&["selftest"]);
    run.expect_code(0).expect_stdout(&[
        "✓ XML codec",
        "✓ RSASHA256 (8)",
        "✓ ED25519 (15)",
        "✓ ECDSAP256SHA256 (13)",
        "✓ PGP words",
        "Result: PASSED",
    ]);
    assert!(!run.stdout.contains("HSM"), "{}", run.stdout);
    let plain = ceremony(&["selftest", "--json"]);
    plain.expect_code(0);
    let plain_tests = plain.json()["tests"].as_array().expect("tests").len();
    assert!(plain_tests >= 5);

    let dir = tempdir();
    let config = legacy_softhsm(dir.path());
    let run = ceremony(&["selftest", "--config", s(&config)]);
    run.expect_code(0).expect_stdout(&[
        "✓ HSM round trip: KSK1 (2048 bits)",
        "✓ HSM round trip: KSK2 (2048 bits)",
        &format!("Result: PASSED, all {} tests", plain_tests + 2),
    ]);
    let run = ceremony(&["selftest", "--config", s(&config), "--json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["ok"], true);
    let tests = json["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), plain_tests + 2);
    assert!(tests.iter().all(|t| t["passed"] == true), "{json}");

    // With the token unreachable the self-test cannot vouch for the machine.
    let config = write(
        &config,
        &read(&config).replacen("pin = \"123456\"", "pin = \"000000\"", 1),
    );
    ceremony(&["selftest", "--config", s(&config)])
        .expect_code(3)
        .expect_stderr(&["wrong PIN"]);
}
