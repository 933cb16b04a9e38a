//! The software keystore: keys encrypted at rest, public half in the clear, no secret on disk.
//!
//! Every keystore here uses scrypt work factor 10 so that the suite stays fast;
//! `default_work_factor_timing` (ignored) measures age's calibrated default.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ceremony_dnssec::{
    parse_name, verify, DigestAlgorithm, Ds, Name, RrsigHeader, SecurityAlgorithm,
};
use ceremony_keys::keystore::{
    check_label, AgeIdentity, Keystore, Protection, Unlock, KEY_SUFFIX, MAX_TAG_ATTEMPTS,
    META_SUFFIX,
};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::{KeyError, KeySigner};
use tempfile::TempDir;

const PASSPHRASE: &str = "correct horse battery staple";

fn keystore() -> (TempDir, Keystore) {
    let tmp = TempDir::new().expect("temp dir");
    let mut store = Keystore::open(tmp.path().join("keys")).expect("keystore");
    store.set_work_factor(10).expect("work factor");
    (tmp, store)
}

fn pass() -> Unlock {
    Unlock::passphrase(PASSPHRASE)
}

fn ksk1_pem() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann/legacy/ksk1.pem");
    std::fs::read_to_string(path).expect("shared ksk1.pem")
}

/// Signs a DNSKEY RRset with the key and checks it with the verifier of `ceremony-dnssec`.
fn sign_and_verify(key: &dyn KeySigner) -> Vec<u8> {
    let root = parse_name(".").expect("root");
    let header =
        RrsigHeader::for_dnskeys(&root, key.dnskey(), 172800, 1_500_000_000, 1_600_000_000);
    let data = header
        .signed_data_dnskeys(&root, [key.dnskey()])
        .expect("signed data");
    let signature = key.sign(&data).expect("signs");
    verify(key.dnskey(), &data, &signature).expect("verifies");
    signature
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_algorithm_generates_lists_loads_and_signs() {
    let (_tmp, store) = keystore();
    let cases = [
        ("KSK-rsa", SecurityAlgorithm::RSASHA256, 2048),
        ("KSK-p256", SecurityAlgorithm::ECDSAP256SHA256, 256),
        ("KSK-ed25519", SecurityAlgorithm::ED25519, 256),
    ];
    let mut generated = Vec::new();
    for (label, algorithm, bits) in cases {
        let info = store
            .generate(label, algorithm, bits, &pass())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            (info.label.as_str(), info.algorithm, info.bits),
            (label, algorithm, bits)
        );
        assert_eq!(info.dnskey.flags(), 257);
        assert_eq!(info.key_tag, info.dnskey.key_tag());
        assert_eq!(info.revoked_key_tag, info.dnskey.revoked().key_tag());
        assert_eq!(
            info.ds_sha256,
            Ds::compute(&Name::root_vec(), &info.dnskey, DigestAlgorithm::SHA256).expect("ds")
        );
        assert_eq!(info.protection, Protection::Passphrase);
        generated.push(info);
    }

    // The public half is readable without unlocking, sorted by label.
    let listed = store.list().expect("list");
    let mut expected = generated.clone();
    expected.sort_by(|a, b| a.label.cmp(&b.label));
    assert_eq!(listed, expected);
    for info in &generated {
        assert_eq!(store.dnskey(&info.label).expect("dnskey"), info.dnskey);
    }

    for info in &generated {
        let key = store.load(&info.label, &pass()).expect("loads");
        assert_eq!(key.dnskey(), &info.dnskey, "{}", info.label);
        assert_eq!(key.identity().bits, info.bits);
        sign_and_verify(&key);
    }

    // Two files per key, nothing else (no temporary file left behind).
    let mut names = Vec::new();
    for (label, _, _) in cases {
        names.push(format!("{label}{KEY_SUFFIX}"));
        names.push(format!("{label}{META_SUFFIX}"));
    }
    names.sort();
    assert_eq!(files_in(store.dir()), names);
}

#[cfg(unix)]
#[test]
fn directory_is_0700_and_key_files_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_tmp, store) = keystore();
    store
        .generate("k", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("generates");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(store.dir()), 0o700);
    for name in files_in(store.dir()) {
        assert_eq!(mode(&store.dir().join(&name)), 0o600, "{name}");
    }
}

#[test]
fn the_metadata_file_carries_the_public_half() {
    let (_tmp, store) = keystore();
    let info = store
        .import_pem("KSK1", &ksk1_pem(), &pass())
        .expect("imports");
    let text = std::fs::read_to_string(store.dir().join("KSK1.meta.json")).expect("meta");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["format"], "ceremony-keystore-v1");
    assert_eq!(json["label"], "KSK1");
    assert_eq!(json["algorithm"], 8);
    assert_eq!(json["bits"], 2048);
    assert_eq!(json["flags"], 257);
    assert_eq!(json["key_tag"], 5017);
    assert_eq!(json["revoked_key_tag"], 5145);
    assert_eq!(json["public_key"], info.dnskey.public_key_base64());
    assert_eq!(json["ds"]["owner"], ".");
    assert_eq!(json["ds"]["digest_type"], 2);
    assert_eq!(json["ds"]["digest"], info.ds_sha256.digest_hex());
    assert_eq!(json["encryption"]["scheme"], "scrypt");
    assert!(json["created"].as_str().expect("created").ends_with('Z'));
    let armored = std::fs::read_to_string(store.dir().join("KSK1.key.age")).expect("key file");
    assert!(
        armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
        "{armored}"
    );
}

#[test]
fn wrong_passphrase_fails_clearly() {
    let (_tmp, store) = keystore();
    store
        .generate("KSK-a", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("generates");
    let err = store
        .load(
            "KSK-a",
            &Unlock::passphrase("correct horse battery stapler"),
        )
        .expect_err("wrong passphrase");
    assert!(matches!(err, KeyError::WrongUnlock { .. }), "{err:?}");
    assert_eq!(err.to_string(), "wrong passphrase for key KSK-a");
    let debug = format!("{err:?}");
    assert!(!debug.contains("stapler"), "{debug}");
}

#[test]
fn an_age_identity_unlocks_too() {
    let (_tmp, store) = keystore();
    let identity = AgeIdentity::generate();
    let recipient = identity.to_public().to_string();
    let unlock = Unlock::Identity(identity);
    let info = store
        .generate("KSK-x", SecurityAlgorithm::ECDSAP256SHA256, 256, &unlock)
        .expect("generates");
    assert_eq!(
        info.protection,
        Protection::X25519 {
            recipient: recipient.clone()
        }
    );
    let key = store.load("KSK-x", &unlock).expect("loads");
    sign_and_verify(&key);

    let err = store
        .load("KSK-x", &Unlock::Identity(AgeIdentity::generate()))
        .expect_err("another identity");
    assert_eq!(err.to_string(), "wrong age identity for key KSK-x");
    let err = store.load("KSK-x", &pass()).expect_err("a passphrase");
    assert!(matches!(err, KeyError::UnlockMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains(&recipient), "{err}");

    // Debug shows the public recipient at most, never the secret key.
    let debug = format!("{unlock:?}");
    assert!(
        debug.contains(&recipient) && !debug.contains("AGE-SECRET-KEY"),
        "{debug}"
    );
    let debug = format!("{:?}", pass());
    assert!(!debug.contains(PASSPHRASE), "{debug}");
}

#[test]
fn an_existing_label_is_refused_and_kept() {
    let (_tmp, store) = keystore();
    let first = store
        .generate("KSK", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("generates");
    let err = store
        .generate("KSK", SecurityAlgorithm::ED25519, 256, &pass())
        .expect_err("label taken");
    assert!(matches!(err, KeyError::Exists { .. }), "{err:?}");
    assert!(err.to_string().contains("key KSK already exists"), "{err}");
    let err = store
        .import_pem("KSK", &ksk1_pem(), &pass())
        .expect_err("label taken");
    assert!(matches!(err, KeyError::Exists { .. }), "{err:?}");
    // The first key is untouched.
    assert_eq!(
        store.load("KSK", &pass()).expect("loads").dnskey(),
        &first.dnskey
    );
    assert_eq!(files_in(store.dir()).len(), 2);
}

#[test]
fn generation_avoids_forbidden_tags_and_their_revoked_twins() {
    let (_tmp, store) = keystore();
    // Forbid every odd tag: a key qualifies only if its tag AND its revoked tag are even.
    let odd: Vec<u16> = (0..=u16::MAX).filter(|t| t % 2 == 1).collect();
    let info = store
        .generate_avoiding("KSK-even", SecurityAlgorithm::ED25519, 256, &pass(), &odd)
        .expect("an even pair is found");
    assert_eq!(info.key_tag.0 % 2, 0, "tag {}", info.key_tag);
    assert_eq!(
        info.revoked_key_tag.0 % 2,
        0,
        "revoked tag {}",
        info.revoked_key_tag
    );

    // Nothing can avoid every tag: refused after the attempts, and nothing written.
    let all: Vec<u16> = (0..=u16::MAX).collect();
    let err = store
        .generate_avoiding("KSK-none", SecurityAlgorithm::ED25519, 256, &pass(), &all)
        .expect_err("no tag is free");
    match &err {
        KeyError::TagCollision {
            label, attempts, ..
        } => {
            assert_eq!((label.as_str(), *attempts), ("KSK-none", MAX_TAG_ATTEMPTS));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        files_in(store.dir()),
        ["KSK-even.key.age", "KSK-even.meta.json"]
    );
}

#[test]
fn import_refuses_a_forbidden_tag_or_revoked_tag() {
    let (_tmp, store) = keystore();
    let ksk1 = SoftKey::from_pem("KSK1", &ksk1_pem()).expect("ksk1");
    // KSK1 is tag 5017, and 5145 once revoked: either one in the list refuses it.
    for forbidden in [[5017u16], [5145]] {
        let err = store
            .import(&ksk1, &pass(), &forbidden)
            .expect_err("collides");
        match err {
            KeyError::TagCollision {
                tag, revoked_tag, ..
            } => {
                assert_eq!((tag, revoked_tag), (5017, 5145));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(files_in(store.dir()).is_empty());
    store
        .import(&ksk1, &pass(), &[5018, 5144])
        .expect("no collision");

    // The same key under another label collides with the key already in the keystore.
    let again = SoftKey::from_pem("KSK1-copy", &ksk1_pem()).expect("ksk1");
    let err = store
        .import(&again, &pass(), &[])
        .expect_err("tag of a stored key");
    assert!(matches!(err, KeyError::TagCollision { .. }), "{err:?}");
    assert!(err.to_string().contains("5017"), "{err}");
}

#[test]
fn the_legacy_ksk1_imports_with_its_tags() {
    let (_tmp, store) = keystore();
    let pem = ksk1_pem();
    let reference = SoftKey::from_pem("KSK1", &pem).expect("ksk1");
    let info = store.import_pem("KSK1", &pem, &pass()).expect("imports");
    assert_eq!((info.key_tag.0, info.revoked_key_tag.0), (5017, 5145));
    assert_eq!(&info.dnskey, reference.dnskey());
    assert_eq!(store.dnskey("KSK1").expect("dnskey"), *reference.dnskey());
    let loaded = store.load("KSK1", &pass()).expect("loads");
    assert_eq!(loaded.pkcs8().as_slice(), reference.pkcs8().as_slice());
    // RSA PKCS#1 v1.5 is deterministic: the stored key signs exactly as the PEM does.
    assert_eq!(sign_and_verify(&loaded), sign_and_verify(&reference));
}

/// Rewrites the last line of the armored body (the payload) with one character changed.
fn flip_payload(armored: &str) -> String {
    let mut lines: Vec<String> = armored.lines().map(str::to_owned).collect();
    let last_body = lines.len() - 2; // before "-----END AGE ENCRYPTED FILE-----"
    let line = &mut lines[last_body];
    let first = if line.starts_with('A') { "B" } else { "A" };
    line.replace_range(0..1, first);
    lines.join("\n") + "\n"
}

#[test]
fn tampering_with_the_key_file_is_detected_not_blamed_on_the_passphrase() {
    let (_tmp, store) = keystore();
    store
        .generate("KSK", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("generates");
    let path = store.dir().join("KSK.key.age");
    let original = std::fs::read_to_string(&path).expect("key file");

    let header_flipped = original.replacen(
        "-----BEGIN AGE ENCRYPTED FILE-----\nY",
        "-----BEGIN AGE ENCRYPTED FILE-----\nZ",
        1,
    );
    assert_ne!(header_flipped, original);
    let truncated = {
        let lines: Vec<&str> = original.lines().collect();
        let mut kept = lines[..lines.len() - 2].join("\n");
        kept.push_str("\n-----END AGE ENCRYPTED FILE-----\n");
        kept
    };
    for (what, text) in [
        ("payload byte", flip_payload(&original)),
        ("header byte", header_flipped),
        ("truncated", truncated),
        ("not age at all", "hello\n".to_owned()),
    ] {
        std::fs::write(&path, &text).expect("tamper");
        let err = store.load("KSK", &pass()).expect_err(what);
        assert!(matches!(err, KeyError::Corrupt { .. }), "{what}: {err:?}");
        assert!(
            err.to_string().contains("damaged or was tampered with"),
            "{what}: {err}"
        );
    }
    std::fs::write(&path, &original).expect("restore");
    store.load("KSK", &pass()).expect("loads again");
}

#[test]
fn swapped_key_files_are_detected() {
    let (_tmp, store) = keystore();
    let a = store
        .generate("A", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("a");
    let b = store
        .generate("B", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("b");
    let dir = store.dir();
    let key_a = std::fs::read(dir.join("A.key.age")).expect("a");
    let key_b = std::fs::read(dir.join("B.key.age")).expect("b");
    std::fs::write(dir.join("A.key.age"), &key_b).expect("swap");
    std::fs::write(dir.join("B.key.age"), &key_a).expect("swap");
    let err = store.load("A", &pass()).expect_err("swapped");
    match err {
        KeyError::KeyMismatch {
            meta_tag,
            actual_tag,
            ..
        } => {
            assert_eq!((meta_tag, actual_tag), (a.key_tag.0, b.key_tag.0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tampering_with_the_metadata_is_detected() {
    let (_tmp, store) = keystore();
    store
        .generate("A", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("a");
    let b = store
        .generate("B", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("b");
    let path = store.dir().join("A.meta.json");
    let original = std::fs::read_to_string(&path).expect("meta");
    let json: serde_json::Value = serde_json::from_str(&original).expect("json");

    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        f(&mut v);
        serde_json::to_string_pretty(&v).expect("json")
    };
    let bad_metadata = [
        ("key tag", edit(&|v| v["key_tag"] = 1.into())),
        ("revoked tag", edit(&|v| v["revoked_key_tag"] = 2.into())),
        (
            "DS digest",
            edit(&|v| v["ds"]["digest"] = "00".repeat(32).into()),
        ),
        ("bits", edit(&|v| v["bits"] = 2048.into())),
        ("flags", edit(&|v| v["flags"] = 385.into())),
        ("label", edit(&|v| v["label"] = "B".into())),
        ("unknown field", edit(&|v| v["note"] = "hi".into())),
        (
            "format",
            edit(&|v| v["format"] = "ceremony-keystore-v0".into()),
        ),
        (
            "public key alone",
            edit(&|v| v["public_key"] = b.dnskey.public_key_base64().into()),
        ),
        ("not json", "{".to_owned()),
    ];
    for (what, text) in &bad_metadata {
        std::fs::write(&path, text).expect("tamper");
        let err = store.info("A").expect_err(what);
        assert!(matches!(err, KeyError::Corrupt { .. }), "{what}: {err:?}");
        assert!(store.list().is_err(), "{what}: list reports it");
        assert!(store.load("A", &pass()).is_err(), "{what}: load refuses");
    }

    // A consistent forgery (B's public half under A's label) passes the metadata
    // checks but not the load: the decrypted key is not the published DNSKEY.
    let forged = edit(&|v| {
        v["public_key"] = b.dnskey.public_key_base64().into();
        v["key_tag"] = b.key_tag.0.into();
        v["revoked_key_tag"] = b.revoked_key_tag.0.into();
        v["ds"]["digest"] = b.ds_sha256.digest_hex().into();
    });
    std::fs::write(&path, forged).expect("forge");
    assert_eq!(store.dnskey("A").expect("reads"), b.dnskey);
    let err = store.load("A", &pass()).expect_err("forged");
    assert!(matches!(err, KeyError::KeyMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("tampered"), "{err}");

    std::fs::write(&path, &original).expect("restore");
    store.load("A", &pass()).expect("loads again");
}

#[test]
fn a_missing_half_is_reported() {
    let (_tmp, store) = keystore();
    store
        .generate("A", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("a");
    std::fs::rename(store.dir().join("A.meta.json"), store.dir().join("x")).expect("hide");
    let err = store.list().expect_err("orphan key file");
    assert!(
        err.to_string()
            .contains("metadata file A.meta.json is missing"),
        "{err}"
    );
    std::fs::rename(store.dir().join("x"), store.dir().join("A.meta.json")).expect("back");
    std::fs::remove_file(store.dir().join("A.key.age")).expect("remove");
    let err = store.load("A", &pass()).expect_err("no key file");
    assert!(
        err.to_string().contains("key file A.key.age is missing"),
        "{err}"
    );
}

#[test]
fn delete_removes_both_files() {
    let (_tmp, store) = keystore();
    store
        .generate("A", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("a");
    store
        .generate("B", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("b");
    store.delete("A").expect("deletes");
    assert_eq!(files_in(store.dir()), ["B.key.age", "B.meta.json"]);
    let labels: Vec<String> = store
        .list()
        .expect("list")
        .into_iter()
        .map(|i| i.label)
        .collect();
    assert_eq!(labels, ["B"]);
    assert!(matches!(
        store.load("A", &pass()),
        Err(KeyError::NotFound { .. })
    ));
    assert!(matches!(store.delete("A"), Err(KeyError::NotFound { .. })));
    // The label is free again.
    store
        .generate("A", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("a again");
}

#[test]
fn labels_are_validated() {
    let (tmp, store) = keystore();
    let long = "k".repeat(65);
    for label in [
        "../x",
        "",
        long.as_str(),
        "a/b",
        ".hidden",
        "..",
        "a b",
        "é",
        "a\0b",
        "KSK\n",
    ] {
        let err = check_label(label).expect_err(label);
        assert!(
            matches!(err, KeyError::BadLabel { .. }),
            "{label:?}: {err:?}"
        );
        let err = store
            .generate(label, SecurityAlgorithm::ED25519, 256, &pass())
            .expect_err(label);
        assert!(
            matches!(err, KeyError::BadLabel { .. }),
            "{label:?}: {err:?}"
        );
        assert!(matches!(
            store.import_pem(label, &ksk1_pem(), &pass()),
            Err(KeyError::BadLabel { .. })
        ));
        assert!(matches!(
            store.load(label, &pass()),
            Err(KeyError::BadLabel { .. })
        ));
        assert!(matches!(
            store.delete(label),
            Err(KeyError::BadLabel { .. })
        ));
        assert!(matches!(
            store.dnskey(label),
            Err(KeyError::BadLabel { .. })
        ));
    }
    // Nothing escaped the keystore.
    assert_eq!(files_in(tmp.path()), ["keys"]);
    assert!(files_in(store.dir()).is_empty());
    for label in ["k".repeat(64), "KSK-2024_q1.a".to_owned(), "-x".to_owned()] {
        check_label(&label).expect("valid");
    }
    store
        .generate(&"k".repeat(64), SecurityAlgorithm::ED25519, 256, &pass())
        .expect("64 characters are fine");
}

#[test]
fn passphrases_from_the_environment_and_files() {
    let (tmp, store) = keystore();
    store
        .generate("K", SecurityAlgorithm::ED25519, 256, &pass())
        .expect("generates");

    std::env::set_var("CEREMONY_TEST_KEYSTORE_PASSPHRASE", PASSPHRASE);
    let unlock = Unlock::passphrase_from_env("CEREMONY_TEST_KEYSTORE_PASSPHRASE").expect("env");
    store.load("K", &unlock).expect("loads");
    let err = Unlock::passphrase_from_env("CEREMONY_TEST_KEYSTORE_UNSET").expect_err("unset");
    assert!(
        err.to_string().contains("CEREMONY_TEST_KEYSTORE_UNSET"),
        "{err}"
    );

    for (name, content) in [
        ("lf", format!("{PASSPHRASE}\n")),
        ("crlf", format!("{PASSPHRASE}\r\n")),
        ("bare", PASSPHRASE.to_owned()),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).expect("write");
        let unlock = Unlock::passphrase_from_file(&path).expect("file");
        store.load("K", &unlock).expect(name);
    }
    let empty = tmp.path().join("empty");
    std::fs::write(&empty, "\n").expect("write");
    let err = Unlock::passphrase_from_file(&empty).expect_err("empty");
    assert!(matches!(err, KeyError::UnlockSource { .. }), "{err:?}");
    let err = store
        .generate(
            "E",
            SecurityAlgorithm::ED25519,
            256,
            &Unlock::passphrase(""),
        )
        .expect_err("an empty passphrase protects nothing");
    assert!(matches!(err, KeyError::UnlockSource { .. }), "{err:?}");

    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "not it\n").expect("write");
    let err = store
        .load("K", &Unlock::passphrase_from_file(&wrong).expect("file"))
        .expect_err("wrong");
    assert_eq!(err.to_string(), "wrong passphrase for key K");
}

#[test]
fn an_identity_from_an_age_identity_file() {
    let (tmp, store) = keystore();
    let identity = AgeIdentity::generate();
    let secret = {
        use age::secrecy::ExposeSecret as _;
        identity.to_string().expose_secret().to_owned()
    };
    let path = tmp.path().join("identity.txt");
    std::fs::write(
        &path,
        format!(
            "# created: now\n# public key: {}\n{secret}\n",
            identity.to_public()
        ),
    )
    .expect("write");
    let unlock = Unlock::identity_from_file(&path).expect("identity file");
    store
        .generate(
            "K",
            SecurityAlgorithm::ED25519,
            256,
            &Unlock::Identity(identity),
        )
        .expect("generates");
    store.load("K", &unlock).expect("loads");

    std::fs::write(&path, format!("{secret}\n{secret}\n")).expect("write");
    assert!(Unlock::identity_from_file(&path).is_err(), "two identities");
    std::fs::write(&path, "AGE-SECRET-KEY-1NOTAKEY\n").expect("write");
    let err = Unlock::identity_from_file(&path).expect_err("garbage");
    assert!(!err.to_string().contains("NOTAKEY"), "{err}");
}

// ---------------------------------------------------------------------------
// No secret on disk.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Base64 fragments that any base64 text containing `secret` must contain, whatever
/// the secret's alignment in the encoded stream: for each of the three alignments,
/// the whole 3-byte groups.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    (0..3)
        .map(|skip| {
            let rest = &secret[skip..];
            let whole = rest.len() / 3 * 3;
            b64.encode(&rest[..whole])
        })
        .collect()
}

/// The private parts of a PKCS#8 key: the Ed25519 seed, the P-256 scalar, or RSA d, p, q.
fn private_parts(key: &SoftKey) -> Vec<Vec<u8>> {
    let der = key.pkcs8().as_slice();
    match key.identity().algorithm {
        SecurityAlgorithm::ED25519 => {
            // PKCS#8 privateKey: OCTET STRING { OCTET STRING (32) seed }.
            let at = der
                .windows(4)
                .position(|w| w == [0x04, 0x22, 0x04, 0x20])
                .expect("seed");
            vec![der[at + 4..at + 36].to_vec()]
        }
        SecurityAlgorithm::ECDSAP256SHA256 => {
            use p256::pkcs8::DecodePrivateKey as _;
            let secret = p256::SecretKey::from_pkcs8_der(der).expect("p256");
            vec![secret.to_bytes().to_vec()]
        }
        SecurityAlgorithm::RSASHA256 => {
            use rsa::pkcs8::DecodePrivateKey as _;
            use rsa::traits::PrivateKeyParts as _;
            let rsa = rsa::RsaPrivateKey::from_pkcs8_der(der).expect("rsa");
            let mut parts = vec![rsa.d().to_bytes_be()];
            parts.extend(rsa.primes().iter().map(|p| p.to_bytes_be()));
            parts
        }
        other => panic!("{other:?}"),
    }
}

fn all_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            let bytes = std::fs::read(&path).expect("read");
            out.push((path, bytes));
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_secret_reaches_the_disk() {
    let (tmp, store) = keystore();
    let identity = AgeIdentity::generate();
    let identity_secret = {
        use age::secrecy::ExposeSecret as _;
        identity.to_string().expose_secret().to_owned()
    };
    store
        .generate("rsa", SecurityAlgorithm::RSASHA256, 2048, &pass())
        .expect("rsa");
    store
        .generate("p256", SecurityAlgorithm::ECDSAP256SHA256, 256, &pass())
        .expect("p256");
    store
        .generate(
            "ed25519",
            SecurityAlgorithm::ED25519,
            256,
            &Unlock::Identity(identity.clone()),
        )
        .expect("ed25519");
    let pem = ksk1_pem();
    store.import_pem("KSK1", &pem, &pass()).expect("ksk1");

    // The secrets, from the keys as they come back out.
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    let add = |needles: &mut Vec<(String, Vec<u8>)>, name: String, secret: &[u8]| {
        needles.push((format!("{name} raw"), secret.to_vec()));
        // Any 16-byte window of the raw secret, in case part of it leaked.
        for (i, window) in secret.windows(16).enumerate().step_by(8) {
            needles.push((format!("{name} raw[{i}..]"), window.to_vec()));
        }
        needles.push((format!("{name} hex"), hex(secret).into_bytes()));
        needles.push((
            format!("{name} HEX"),
            hex(secret).to_uppercase().into_bytes(),
        ));
        for (i, fragment) in base64_fragments(secret).into_iter().enumerate() {
            needles.push((format!("{name} base64/{i}"), fragment.into_bytes()));
        }
    };
    for (label, unlock) in [
        ("rsa", pass()),
        ("p256", pass()),
        ("ed25519", Unlock::Identity(identity)),
        ("KSK1", pass()),
    ] {
        let key = store.load(label, &unlock).expect("loads");
        add(&mut needles, format!("{label} PKCS#8"), key.pkcs8());
        for (i, part) in private_parts(&key).iter().enumerate() {
            add(&mut needles, format!("{label} private part {i}"), part);
        }
    }
    // The PEM body of ksk1.pem, line by line, and the DER under it.
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for line in &body {
        needles.push(("ksk1.pem line".to_owned(), line.as_bytes().to_vec()));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.concat())
        .expect("pem body");
    add(&mut needles, "ksk1.pem DER".to_owned(), &der);
    needles.push(("passphrase".to_owned(), PASSPHRASE.as_bytes().to_vec()));
    needles.push(("age identity".to_owned(), identity_secret.into_bytes()));

    let mut files = Vec::new();
    all_files(tmp.path(), &mut files);
    assert_eq!(files.len(), 8, "two files per key, no leftovers");
    for (path, bytes) in &files {
        for (name, needle) in &needles {
            assert!(
                !contains(bytes, needle),
                "{name} found in {}",
                path.display()
            );
        }
    }
}
