//! The PKCS#11 backend against a real SoftHSM2: the shared keys load with
//! their tags and sign exactly as the software keys do, keys are generated,
//! listed and deleted in the token, and faults name what is wrong without
//! ever naming the PIN.

mod softhsm;

use ceremony_dnssec::{parse_name, verify, RrsigHeader, SecurityAlgorithm};
use ceremony_keys::pkcs11::{Hsm, Pin, RsaMechanism};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::{KeyError, KeySigner};
use secrecy::SecretString;
use softhsm::{config, pem, DUPLICATE, FAULTS, GENERATED, IMPORTED, KEYS, PIN, PRIVATE_ONLY};

fn open(token: &str) -> Hsm {
    Hsm::open(&config(token)).unwrap_or_else(|e| panic!("opening {token}: {e}"))
}

/// RRSIG signed data over the key's own DNSKEY RRset, as the signer builds it.
fn signed_data(key: &dyn KeySigner) -> Vec<u8> {
    let root = parse_name(".").expect("root");
    let header =
        RrsigHeader::for_dnskeys(&root, key.dnskey(), 172800, 1_700_000_000, 1_701_814_400);
    header
        .signed_data_dnskeys(&root, [key.dnskey()])
        .expect("signed data")
}

/// Every error message is checked for the PINs the tests use.
fn assert_no_pin(err: &KeyError) {
    let text = format!("{err} {err:?}");
    for pin in [PIN, "987654321"] {
        assert!(!text.contains(pin), "PIN in error: {text}");
    }
}

#[test]
fn shared_keys_load_with_their_tags_and_match_the_software_keys() {
    let hsm = open(IMPORTED);
    for shared in KEYS {
        let key = hsm
            .key(shared.label, None)
            .unwrap_or_else(|e| panic!("{}: {e}", shared.label));
        let soft = SoftKey::from_pem(shared.label, &pem(shared.file)).expect("soft key");
        assert_eq!(key.dnskey().key_tag().0, shared.tag, "{}", shared.label);
        assert_eq!(key.dnskey().flags(), 257, "{}", shared.label);
        assert_eq!(key.dnskey(), soft.dnskey(), "{}", shared.label);
        assert_eq!(key.identity(), soft.identity(), "{}", shared.label);
        assert_eq!(key.identity().bits, shared.bits, "{}", shared.label);
        assert_eq!(key.id(), shared.id, "{}", shared.label);
        // Imported, so not generated in the token.
        assert!(
            !key.protection().expect("attributes").local,
            "{}",
            shared.label
        );
        // The same key by label and id.
        let by_id = hsm.key(shared.label, Some(shared.id)).expect("by id");
        assert_eq!(by_id.dnskey(), key.dnskey());
    }
}

#[test]
fn rsa_signatures_equal_the_software_keys_byte_for_byte_with_both_mechanisms() {
    // RFC 8017 §8.2: RSASSA-PKCS1-v1_5 is deterministic, so a token and ring must agree.
    let hsm = open(IMPORTED);
    for shared in KEYS.iter().filter(|k| k.bits == 2048) {
        let soft = SoftKey::from_pem(shared.label, &pem(shared.file)).expect("soft key");
        let data = signed_data(&soft);
        let expected = soft.sign(&data).expect("soft signs");
        let key = hsm.key(shared.label, None).expect("hsm key");
        assert_eq!(key.rsa_mechanism(), RsaMechanism::Sha256RsaPkcs);
        let pkcs = key.sign(&data).expect("CKM_SHA256_RSA_PKCS signs");
        assert_eq!(pkcs, expected, "{} CKM_SHA256_RSA_PKCS", shared.label);
        let x509 = key.with_rsa_mechanism(RsaMechanism::X509);
        let raw = x509.sign(&data).expect("CKM_RSA_X_509 signs");
        assert_eq!(raw, expected, "{} CKM_RSA_X_509", shared.label);
    }
}

#[test]
fn ecdsa_signatures_are_raw_r_s_and_verify() {
    let hsm = open(IMPORTED);
    for shared in KEYS.iter().filter(|k| k.bits == 256) {
        let key = hsm.key(shared.label, None).expect("hsm key");
        assert_eq!(key.identity().algorithm, SecurityAlgorithm::ECDSAP256SHA256);
        let data = signed_data(&key);
        let sig = key.sign(&data).expect("signs");
        // RFC 6605 §4: r and s, 32 octets each.
        assert_eq!(sig.len(), 64, "{}", shared.label);
        verify(key.dnskey(), &data, &sig).expect("verifies");
        let soft = SoftKey::from_pem(shared.label, &pem(shared.file)).expect("soft key");
        verify(soft.dnskey(), &data, &sig).expect("verifies with the software key's DNSKEY");
        let mut wrong = data.clone();
        wrong[0] ^= 1;
        assert!(verify(key.dnskey(), &wrong, &sig).is_err());
    }
}

#[test]
fn an_rsa_key_without_a_public_object_reads_the_modulus_from_the_private_one() {
    let hsm = open(IMPORTED);
    let key = hsm.key(PRIVATE_ONLY, None).expect("loads");
    assert_eq!(key.dnskey().key_tag().0, 5017);
    let data = signed_data(&key);
    verify(key.dnskey(), &data, &key.sign(&data).expect("signs")).expect("verifies");
}

#[test]
fn a_label_shared_by_two_keys_needs_the_id() {
    let hsm = open(IMPORTED);
    let err = hsm.key(DUPLICATE, None).expect_err("ambiguous");
    assert!(
        matches!(err, KeyError::KeyAmbiguous { count: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(DUPLICATE), "{err}");
    let key = hsm.key(DUPLICATE, Some(&[0x32])).expect("by id");
    assert_eq!(key.dnskey().key_tag().0, 9144);
    let err = hsm.delete(DUPLICATE).expect_err("ambiguous delete");
    assert!(matches!(err, KeyError::KeyAmbiguous { .. }), "{err}");
    hsm.key(DUPLICATE, Some(&[0x31]))
        .expect("nothing was deleted");
}

#[test]
fn handles_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Hsm>();
    send_sync::<ceremony_keys::pkcs11::HsmKey>();
    let hsm = open(IMPORTED);
    let key = hsm.key("EC2", None).expect("key");
    let data = signed_data(&key);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let sig = key.sign(&data).expect("signs");
                verify(key.dnskey(), &data, &sig).expect("verifies");
            });
        }
    });
}

#[test]
fn softhsm_offers_the_mechanisms_we_use() {
    let hsm = open(IMPORTED);
    let mechanisms = hsm.mechanisms().expect("mechanism list");
    for needed in [
        "CKM_SHA256_RSA_PKCS",
        "CKM_RSA_X_509",
        "CKM_ECDSA",
        "CKM_EDDSA",
    ] {
        assert!(
            mechanisms.iter().any(|m| m == needed),
            "{needed} missing: {mechanisms:?}"
        );
    }
    // The reason ECDSA hashes on the host.
    eprintln!("SoftHSM mechanisms: {mechanisms:?}");
}

#[test]
fn keys_are_generated_listed_refused_twice_and_deleted() {
    let hsm = open(GENERATED);
    let cases = [
        ("GEN-RSA", SecurityAlgorithm::RSASHA256, 2048),
        ("GEN-P256", SecurityAlgorithm::ECDSAP256SHA256, 256),
        ("GEN-ED25519", SecurityAlgorithm::ED25519, 256),
    ];
    let mut tags = Vec::new();
    for (label, algorithm, bits) in cases {
        let key = hsm
            .generate(label, algorithm, bits)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(key.identity().algorithm, algorithm, "{label}");
        assert_eq!(key.identity().bits, bits, "{label}");
        assert_eq!(key.id().len(), 16, "{label}");
        let protection = key.protection().expect("attributes");
        assert!(
            protection.local
                && protection.sensitive
                && protection.always_sensitive
                && protection.never_extractable
                && !protection.extractable,
            "{label}: {protection:?}"
        );
        let data = signed_data(&key);
        let sig = key.sign(&data).unwrap_or_else(|e| panic!("{label}: {e}"));
        verify(key.dnskey(), &data, &sig).expect("verifies");
        if algorithm == SecurityAlgorithm::RSASHA256 {
            let x509 = hsm
                .key(label, None)
                .expect("reload")
                .with_rsa_mechanism(RsaMechanism::X509);
            assert_eq!(x509.sign(&data).expect("x509 signs"), sig, "{label}");
        }
        // Found again by label, with the same DNSKEY.
        assert_eq!(hsm.key(label, None).expect("reload").dnskey(), key.dnskey());
        tags.push(key.dnskey().key_tag().0);

        let err = hsm
            .generate(label, algorithm, bits)
            .expect_err("label taken");
        assert!(matches!(err, KeyError::KeyExists { .. }), "{err}");
        assert!(err.to_string().contains(label), "{err}");
    }

    let listed = hsm.list().expect("lists");
    for ((label, algorithm, bits), tag) in cases.iter().zip(&tags) {
        let entry = listed
            .iter()
            .find(|e| e.label == *label)
            .unwrap_or_else(|| panic!("{label} not listed: {listed:?}"));
        assert!(entry.has_private && entry.has_public, "{entry:?}");
        assert_eq!(entry.id.len(), 32, "{entry:?}");
        assert_eq!(entry.algorithm, Some(*algorithm));
        assert_eq!(entry.bits, Some(*bits));
        assert_eq!(entry.key_tag, Some(*tag));
    }
    let types: Vec<&str> = listed.iter().map(|e| e.key_type.as_str()).collect();
    assert!(types.contains(&"RSA") && types.contains(&"EC") && types.contains(&"EC_EDWARDS"));

    for (label, _, _) in cases {
        assert_eq!(hsm.delete(label).expect("deletes"), 2, "{label}");
        let err = hsm.key(label, None).expect_err("gone");
        assert!(matches!(err, KeyError::KeyNotFound { .. }), "{err}");
        let err = hsm.delete(label).expect_err("gone");
        assert!(matches!(err, KeyError::KeyNotFound { .. }), "{err}");
    }
    assert!(hsm
        .list()
        .expect("lists")
        .iter()
        .all(|e| !e.label.starts_with("GEN-")));
}

#[test]
fn unsupported_sizes_are_refused_before_the_token_is_asked() {
    let hsm = open(GENERATED);
    for (algorithm, bits) in [
        (SecurityAlgorithm::RSASHA256, 1024),
        (SecurityAlgorithm::ECDSAP256SHA256, 384),
        (SecurityAlgorithm::RSASHA1, 2048),
    ] {
        let err = hsm.generate("NEVER", algorithm, bits).expect_err("refused");
        assert!(matches!(err, KeyError::Unsupported { .. }), "{err}");
    }
    assert!(hsm.key("NEVER", None).is_err());
}

#[test]
fn a_wrong_pin_is_reported_as_such_without_the_pin() {
    let mut wrong = config(FAULTS);
    wrong.pin = Pin::Value(SecretString::from("987654321"));
    let err = Hsm::open(&wrong).expect_err("wrong PIN");
    assert!(matches!(err, KeyError::WrongPin { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("wrong PIN") && text.contains(FAULTS),
        "{text}"
    );
    assert_no_pin(&err);
    // The config's Debug output does not show the PIN either.
    let shown = format!("{wrong:?} {:?}", config(FAULTS));
    assert!(
        !shown.contains("987654321") && !shown.contains(PIN),
        "{shown}"
    );
}

#[test]
fn pin_sources_that_fail_name_the_source() {
    let mut cfg = config(FAULTS);
    cfg.pin = Pin::Env("CEREMONY_TEST_UNSET_PIN_VARIABLE".to_owned());
    let err = Hsm::open(&cfg).expect_err("unset variable");
    assert!(
        err.to_string().contains("CEREMONY_TEST_UNSET_PIN_VARIABLE"),
        "{err}"
    );
    cfg.pin = Pin::File("/nonexistent/ceremony/pin".into());
    let err = Hsm::open(&cfg).expect_err("missing file");
    assert!(
        err.to_string().contains("/nonexistent/ceremony/pin"),
        "{err}"
    );
    assert_no_pin(&err);
}

#[test]
fn a_missing_token_is_named_with_the_tokens_present() {
    let err = Hsm::open(&config("no-such-token")).expect_err("missing token");
    assert!(matches!(err, KeyError::TokenNotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("no-such-token") && text.contains(IMPORTED),
        "{text}"
    );
    assert_no_pin(&err);
}

#[test]
fn a_missing_key_is_named_with_its_token() {
    let hsm = open(IMPORTED);
    let err = hsm.key("NO-SUCH-KEY", None).expect_err("missing key");
    let text = err.to_string();
    assert!(
        text.contains("NO-SUCH-KEY") && text.contains(IMPORTED),
        "{text}"
    );
    let err = hsm.key("KSK1", Some(&[0x7f])).expect_err("wrong id");
    assert!(err.to_string().contains("7f"), "{err}");
    assert_no_pin(&err);
}

#[test]
fn a_wrong_module_path_is_named() {
    let mut cfg = config(IMPORTED);
    cfg.module = "/nonexistent/lib/libsofthsm-nope.so".into();
    let err = Hsm::open(&cfg).expect_err("no module");
    assert!(matches!(err, KeyError::Module { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("/nonexistent/lib/libsofthsm-nope.so"),
        "{err}"
    );
    assert_no_pin(&err);
    // A file that is not a shared library.
    let not_a_library = softhsm::shared("legacy/ksk1.pem");
    cfg.module = not_a_library.clone();
    let err = Hsm::open(&cfg).expect_err("not a library");
    assert!(matches!(err, KeyError::Module { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&*not_a_library.to_string_lossy()),
        "{err}"
    );
    assert_no_pin(&err);
}

#[test]
fn the_module_is_initialised_once_and_a_different_environment_is_refused() {
    let first = open(IMPORTED);
    let second = open(IMPORTED);
    assert_eq!(
        first.key("EC2", None).expect("first").dnskey(),
        second.key("EC2", None).expect("second").dnskey()
    );
    drop(first);
    // The second session still signs after the first has closed.
    let key = second.key("RSA1", None).expect("key");
    let data = signed_data(&key);
    key.sign(&data).expect("signs after the first Hsm closed");

    let mut other = config(IMPORTED);
    other.env = vec![(
        "SOFTHSM2_CONF".to_owned(),
        "/elsewhere/softhsm2.conf".to_owned(),
    )];
    let err = Hsm::open(&other).expect_err("different env");
    assert!(err.to_string().contains("already initialised"), "{err}");
}
