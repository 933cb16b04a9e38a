//! Independent verification: every SKR, real or written by us, checked by
//! dnspython through `scripts/verify-skr-dnspython.py`.
//!
//! The script shares no code with Ceremony: it reads the XML with Python's
//! ElementTree and validates the RRSIGs with `dns.dnssec.validate_rrsig`. So
//! an SKR our writer produced and our signed-data builder signed passing here
//! means a resolver that is not ours agrees with us.
//!
//! These tests fail, not skip, when `/usr/bin/python3` or dnspython is
//! missing: run `apt-get install python3-dnspython python3-cryptography`.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use ceremony_dnssec::{parse_name, verify, Dnskey, KeyTag, RrsigHeader, SecurityAlgorithm};
use ceremony_formats::model::{AlgorithmParams, AlgorithmPolicy};
use ceremony_formats::{icann, read_text_file, Skr};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
};

const PYTHON: &str = "/usr/bin/python3";
const INSTALL_HINT: &str = "run `apt-get install python3-dnspython python3-cryptography`";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify-skr-dnspython.py")
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

const ROOT_SKRS: [&str; 2] = [
    "icann/root/skr-root-2017-q1-0.xml",
    "icann/root/skr-root-2017-q2-0.xml",
];
const LEGACY_SKRS: [&str; 2] = [
    "icann/legacy/skr-2009-q4-2.xml",
    "icann/legacy/skr-2010-q1-0.xml",
];

/// Panics, with the install command, unless Python, dnspython and its crypto backend are there.
fn require_dnspython() {
    let probe = Command::new(PYTHON)
        .args([
            "-c",
            "import dns.dnssec, dns.version, cryptography\n\
             assert getattr(dns.dnssec, '_have_pyca', True), 'no cryptography backend'\n\
             print(dns.version.version)",
        ])
        .output()
        .unwrap_or_else(|err| panic!("cannot run {PYTHON} ({err}): {INSTALL_HINT}"));
    assert!(
        probe.status.success(),
        "dnspython is not usable by {PYTHON}: {INSTALL_HINT}\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    assert!(script().is_file(), "{} is missing", script().display());
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run_script(file: &Path) -> Outcome {
    require_dnspython();
    let out = Command::new(PYTHON)
        .arg(script())
        .arg(file)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {PYTHON} ({err}): {INSTALL_HINT}"));
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts the script accepts `file` and says so for each of `bundle_ids`.
fn assert_all_valid(file: &Path, bundle_ids: &[&str]) {
    let outcome = run_script(file);
    assert_eq!(
        outcome.code,
        Some(0),
        "{} does not verify under dnspython:\n{}",
        file.display(),
        outcome.describe()
    );
    assert_eq!(outcome.stdout.lines().count(), bundle_ids.len());
    for id in bundle_ids {
        assert!(
            outcome
                .stdout
                .contains(&format!("bundle {id}: 1 signature(s) valid")),
            "bundle {id} not reported valid:\n{}",
            outcome.describe()
        );
    }
}

/// Flips one bit of the signature of bundle `index` in the SKR `text`, through its base64.
fn flip_signature_bit(text: &str, index: usize) -> String {
    const OPEN: &str = "<SignatureData>";
    let start = text
        .match_indices(OPEN)
        .nth(index)
        .map(|(at, _)| at + OPEN.len())
        .expect("the bundle has a signature");
    let end = start + text[start..].find('<').expect("closing tag");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut signature = b64.decode(&text[start..end]).expect("base64");
    let middle = signature.len() / 2;
    signature[middle] ^= 0x10;
    format!(
        "{}{}{}",
        &text[..start],
        b64.encode(&signature),
        &text[end..]
    )
}

/// Asserts the script rejects `file` and names exactly the bundle `bad_id` as failing.
fn assert_only_bundle_fails(file: &Path, bad_id: &str, bundle_count: usize) {
    let outcome = run_script(file);
    assert_eq!(
        outcome.code,
        Some(1),
        "a flipped signature must fail:\n{}",
        outcome.describe()
    );
    let failed: Vec<&str> = outcome
        .stdout
        .lines()
        .filter(|line| line.contains("FAILED"))
        .collect();
    assert_eq!(failed.len(), 1, "{}", outcome.describe());
    assert!(
        failed[0].starts_with(&format!("bundle {bad_id}: FAILED: ")),
        "{}",
        outcome.describe()
    );
    let valid = outcome
        .stdout
        .lines()
        .filter(|line| line.ends_with("1 signature(s) valid"))
        .count();
    assert_eq!(valid, bundle_count - 1, "{}", outcome.describe());
}

fn bundle_ids(skr: &Skr) -> Vec<&str> {
    skr.bundles.iter().map(|b| b.id.as_str()).collect()
}

#[test]
fn real_root_and_legacy_skrs_verify_under_dnspython() {
    for rel in ROOT_SKRS.iter().chain(&LEGACY_SKRS) {
        let path = data(rel);
        let skr = icann::parse_skr(&read_text_file(&path).expect("readable"), rel).expect("skr");
        assert_all_valid(&path, &bundle_ids(&skr));
    }
}

#[test]
fn a_flipped_bit_in_a_real_root_skr_is_caught() {
    let rel = "icann/root/skr-root-2017-q2-0.xml";
    let text = read_text_file(&data(rel)).expect("readable");
    let skr = icann::parse_skr(&text, rel).expect("skr");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flipped.xml");
    std::fs::write(&path, flip_signature_bit(&text, 4)).expect("write");
    assert_only_bundle_fails(&path, &skr.bundles[4].id, skr.bundles.len());
}

#[test]
fn script_refuses_a_doctype_and_reports_usage_errors() {
    let rel = "icann/root/skr-root-2017-q2-0.xml";
    let text = read_text_file(&data(rel)).expect("readable");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doctype.xml");
    let with_dtd = text.replacen("<KSR ", "<!DOCTYPE KSR [<!ENTITY e \"x\">]>\n<KSR ", 1);
    std::fs::write(&path, with_dtd).expect("write");
    let outcome = run_script(&path);
    assert_eq!(outcome.code, Some(2), "{}", outcome.describe());
    assert!(outcome.stderr.contains("DOCTYPE"), "{}", outcome.describe());

    let outcome = run_script(&dir.path().join("no-such-file.xml"));
    assert_eq!(outcome.code, Some(2), "{}", outcome.describe());
}

/// Signs data with a private key made in the test.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A KSK made in the test, and how it signs.
struct TestKsk {
    dnskey: Dnskey,
    policy: AlgorithmPolicy,
    sign: SignFn,
}

fn ed25519_ksk() -> TestKsk {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pkcs8");
    let dnskey = Dnskey::new(
        257,
        3,
        SecurityAlgorithm::ED25519,
        pair.public_key().as_ref().to_vec(),
    )
    .expect("dnskey");
    TestKsk {
        dnskey,
        policy: AlgorithmPolicy {
            algorithm: SecurityAlgorithm::ED25519,
            params: AlgorithmParams::EdDsa { size: 256 },
        },
        sign: Box::new(move |data| pair.sign(data).as_ref().to_vec()),
    }
}

fn p256_ksk() -> TestKsk {
    let rng = SystemRandom::new();
    let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("keygen");
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("pkcs8");
    // DNSSEC carries x || y (RFC 6605 §4), without the uncompressed-point prefix 0x04.
    let point = pair.public_key().as_ref();
    assert_eq!((point.len(), point[0]), (65, 0x04));
    let dnskey = Dnskey::new(
        257,
        3,
        SecurityAlgorithm::ECDSAP256SHA256,
        point[1..].to_vec(),
    )
    .expect("dnskey");
    TestKsk {
        dnskey,
        policy: AlgorithmPolicy {
            algorithm: SecurityAlgorithm::ECDSAP256SHA256,
            params: AlgorithmParams::Ecdsa { size: 256 },
        },
        sign: Box::new(move |data| {
            let signature = pair.sign(&rng, data).expect("sign");
            assert_eq!(signature.as_ref().len(), 64, "r || s");
            signature.as_ref().to_vec()
        }),
    }
}

fn rrsig_time(t: jiff::Timestamp) -> u32 {
    u32::try_from(t.as_second()).expect("time fits an RRSIG field")
}

/// The real 2017-Q2 root SKR with KSK-2010 replaced by `ksk`, every bundle re-signed.
fn resigned_root_skr(ksk: &TestKsk) -> Skr {
    let rel = "icann/root/skr-root-2017-q2-0.xml";
    let mut skr =
        icann::parse_skr(&read_text_file(&data(rel)).expect("readable"), rel).expect("skr");
    let owner = parse_name(&skr.header.domain).expect("owner");
    skr.ksk_policy.algorithms = vec![ksk.policy];
    for bundle in &mut skr.bundles {
        let mut replaced = 0;
        for key in &mut bundle.keys {
            if key.dnskey.is_sep() {
                assert_eq!(key.key_tag, KeyTag(19036), "the real KSK is KSK-2010");
                key.dnskey = ksk.dnskey.clone();
                key.key_tag = ksk.dnskey.key_tag();
                replaced += 1;
            }
        }
        assert_eq!(replaced, 1, "bundle {} has one KSK", bundle.id);
        let ttl = bundle.keys[0].ttl;
        assert!(bundle.keys.iter().all(|k| k.ttl == ttl));
        assert_eq!(bundle.signatures.len(), 1);
        for sig in &mut bundle.signatures {
            assert_eq!(sig.key_tag, KeyTag(19036));
            let header = RrsigHeader::for_dnskeys(
                &owner,
                &ksk.dnskey,
                ttl,
                rrsig_time(sig.inception),
                rrsig_time(sig.expiration),
            );
            let signed = header
                .signed_data_dnskeys(&owner, bundle.keys.iter().map(|k| &k.dnskey))
                .expect("signed data");
            let signature = (ksk.sign)(&signed);
            verify(&ksk.dnskey, &signed, &signature).expect("our own verify accepts it");
            sig.algorithm = header.algorithm;
            sig.labels = header.labels;
            sig.original_ttl = header.original_ttl;
            sig.key_tag = header.key_tag;
            assert_eq!(parse_name(&sig.signers_name).expect("signer"), owner);
            sig.signature_data = signature;
        }
    }
    skr
}

fn check_written_skr_verifies(ksk: &TestKsk) {
    let skr = resigned_root_skr(ksk);
    let text = icann::write_skr(&skr);
    assert_eq!(
        icann::parse_skr(&text, "written").expect("our writer's output parses"),
        skr
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("skr.xml");
    std::fs::write(&path, &text).expect("write");
    assert_all_valid(&path, &bundle_ids(&skr));

    let bad = 3;
    let flipped = dir.path().join("skr-flipped.xml");
    std::fs::write(&flipped, flip_signature_bit(&text, bad)).expect("write");
    assert_only_bundle_fails(&flipped, &skr.bundles[bad].id, skr.bundles.len());
}

#[test]
fn our_skr_signed_with_ed25519_verifies_under_dnspython() {
    check_written_skr_verifies(&ed25519_ksk());
}

#[test]
fn our_skr_signed_with_p256_verifies_under_dnspython() {
    check_written_skr_verifies(&p256_ksk());
}
