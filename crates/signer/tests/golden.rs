//! Golden vectors: signing the legacy KSRs with KSK1 reproduces the legacy SKRs' signatures.
//!
//! RSA PKCS#1 v1.5 is deterministic, so the same key over the same RRset at
//! the same times must give the same bytes as the root's earlier signer.

use std::path::PathBuf;

use ceremony_formats::model::AlgorithmParams;
use ceremony_formats::{icann, read_text_file, Ksr, Skr};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;
use ceremony_policy::CheckId;
use ceremony_signer::{sign_ksr, KeyRing, SignError, SignRequest, SignerConfig};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn ksr(rel: &str) -> Ksr {
    icann::parse_ksr(&read_text_file(&shared(rel)).expect("read"), rel).expect("parse")
}

fn skr(rel: &str) -> Skr {
    icann::parse_skr(&read_text_file(&shared(rel)).expect("read"), rel).expect("parse")
}

fn key(label: &str, rel: &str) -> SoftKey {
    SoftKey::from_pem(label, &std::fs::read_to_string(shared(rel)).expect("pem")).expect("key")
}

/// Per slot: the KSKs as (tag, flags), and the tags that sign.
type SlotShape = (Vec<(u16, u16)>, Vec<u16>);

const CASES: [(&str, &str, &str); 2] = [
    (
        "icann/legacy/ksr-2009-q4-2.xml",
        "icann/legacy/skr-2009-q4-2.xml",
        "2009-10-20T00:00:00Z",
    ),
    (
        "icann/legacy/ksr-2010-q1-0.xml",
        "icann/legacy/skr-2010-q1-0.xml",
        "2009-12-15T00:00:00Z",
    ),
];

fn sign(
    config: &SignerConfig,
    schema: &str,
    ksr: &Ksr,
    keys: &KeyRing<'_>,
    now: &str,
) -> Result<Skr, SignError> {
    let schema = config.schema(schema, ksr.bundles.len())?;
    let request = SignRequest {
        ksr,
        schema: &schema,
        config,
        keys,
        previous: None,
        now: now.parse().expect("instant"),
    };
    sign_ksr(&request).map(|signed| signed.skr)
}

fn assert_reproduces(config: &SignerConfig) {
    let ksk1 = key("KSK1", "icann/legacy/ksk1.pem");
    let ksk2 = key("KSK2", "icann/legacy/ksk2.pem");
    let keys: KeyRing<'_> = [
        ("KSK1".to_owned(), &ksk1 as &dyn KeySigner),
        ("KSK2".to_owned(), &ksk2 as &dyn KeySigner),
    ]
    .into_iter()
    .collect();
    for (ksr_rel, skr_rel, now) in CASES {
        let ours = sign(config, "normal", &ksr(ksr_rel), &keys, now)
            .unwrap_or_else(|e| panic!("{ksr_rel}: {e}"));
        let golden = skr(skr_rel);
        assert_eq!(ours.bundles.len(), golden.bundles.len());
        for (a, b) in ours.bundles.iter().zip(&golden.bundles) {
            assert_eq!(a.signatures.len(), 1);
            assert_eq!(
                a.signatures[0].signature_data, b.signatures[0].signature_data,
                "bundle {}",
                a.id
            );
            assert_eq!(a.signatures[0].key_tag, b.signatures[0].key_tag);
            let mut ours_keys: Vec<_> = a
                .keys
                .iter()
                .map(|k| (&k.key_identifier, k.key_tag, k.dnskey.rdata()))
                .collect();
            let mut their_keys: Vec<_> = b
                .keys
                .iter()
                .map(|k| (&k.key_identifier, k.key_tag, k.dnskey.rdata()))
                .collect();
            ours_keys.sort();
            their_keys.sort();
            assert_eq!(ours_keys, their_keys, "bundle {}", a.id);
        }
        // The legacy signer stated exponent 3 for KSK1, whose exponent is 65537;
        // we state the key's real parameters. Everything else matches.
        let mut golden_policy = golden.ksk_policy.clone();
        for alg in &mut golden_policy.algorithms {
            if let AlgorithmParams::Rsa { exponent, .. } = &mut alg.params {
                assert_eq!(*exponent, 3);
                *exponent = 65537;
            }
        }
        assert_eq!(ours.ksk_policy, golden_policy, "{skr_rel}: KSK policy");
        assert_eq!(ours.zsk_policy, golden.zsk_policy);
        assert_eq!(ours.header, golden.header);
    }
}

#[test]
fn toml_config_reproduces_every_legacy_signature() {
    let config = SignerConfig::load(&repo("testdata/signer/legacy.toml")).expect("config");
    assert_reproduces(&config);
}

#[test]
fn ksrsigner_yaml_reproduces_every_legacy_signature() {
    let config = SignerConfig::load(&repo("testdata/signer/legacy.yaml")).expect("config");
    assert_reproduces(&config);
}

#[test]
fn a_roll_publishes_revokes_and_signs_per_slot() {
    let config = SignerConfig::load(&repo("testdata/signer/legacy.toml")).expect("config");
    let ksk1 = key("KSK1", "icann/legacy/ksk1.pem");
    let ksk2 = key("KSK2", "icann/legacy/ksk2.pem");
    let keys: KeyRing<'_> = [
        ("KSK1".to_owned(), &ksk1 as &dyn KeySigner),
        ("KSK2".to_owned(), &ksk2 as &dyn KeySigner),
    ]
    .into_iter()
    .collect();
    let request = ksr("icann/legacy/ksr-2010-q1-0.xml");
    let ours = sign(&config, "roll", &request, &keys, "2009-12-15T00:00:00Z").expect("signs");
    let shape: Vec<SlotShape> = ours
        .bundles
        .iter()
        .map(|b| {
            let mut ksks: Vec<(u16, u16)> = b
                .keys
                .iter()
                .filter(|k| k.dnskey.is_sep())
                .map(|k| (k.dnskey.key_tag().0, k.dnskey.flags()))
                .collect();
            ksks.sort();
            let mut signers: Vec<u16> = b.signatures.iter().map(|s| s.key_tag.0).collect();
            signers.sort();
            (ksks, signers)
        })
        .collect();
    let both = vec![(5017, 257), (55186, 257)];
    let revoked = vec![(5145, 385), (55186, 257)];
    assert_eq!(
        shape,
        vec![
            (vec![(5017, 257)], vec![5017]),
            (both.clone(), vec![5017]),
            (both.clone(), vec![5017]),
            (both.clone(), vec![5017]),
            (both.clone(), vec![5017]),
            (both, vec![5017]),
            (revoked.clone(), vec![5145, 55186]),
            (revoked, vec![5145, 55186]),
            (vec![(55186, 257)], vec![55186]),
        ]
    );
    // Slot 1 is the unrevoked KSK1 alone, so its signature is the golden one.
    assert_eq!(
        ours.bundles[0].signatures[0].signature_data,
        skr("icann/legacy/skr-2010-q1-0.xml").bundles[0].signatures[0].signature_data
    );
}

#[test]
fn revoke_only_schema_self_signs_with_the_revoked_tag() {
    let config = SignerConfig::load(&repo("testdata/signer/legacy.toml")).expect("config");
    let ksk1 = key("KSK1", "icann/legacy/ksk1.pem");
    let keys: KeyRing<'_> = [("KSK1".to_owned(), &ksk1 as &dyn KeySigner)]
        .into_iter()
        .collect();
    let ours = sign(
        &config,
        "revoke",
        &ksr("icann/legacy/ksr-2010-q1-0.xml"),
        &keys,
        "2009-12-15T00:00:00Z",
    )
    .expect("signs");
    for bundle in &ours.bundles {
        let ksks: Vec<_> = bundle.keys.iter().filter(|k| k.dnskey.is_sep()).collect();
        assert_eq!(ksks.len(), 1);
        assert_eq!((ksks[0].dnskey.flags(), ksks[0].key_tag.0), (385, 5145));
        assert_eq!(bundle.signatures.len(), 1);
        assert_eq!(bundle.signatures[0].key_tag.0, 5145);
    }
}

#[test]
fn a_ksr_failing_policy_is_not_signed() {
    let config = SignerConfig::load(&repo("testdata/signer/legacy.toml")).expect("config");
    let ksk1 = key("KSK1", "icann/legacy/ksk1.pem");
    let keys: KeyRing<'_> = [("KSK1".to_owned(), &ksk1 as &dyn KeySigner)]
        .into_iter()
        .collect();
    // Judged from 2011, every bundle has expired: KSR-POLICY-SIG-HORIZON.
    let err = sign(
        &config,
        "normal",
        &ksr("icann/legacy/ksr-2010-q1-0.xml"),
        &keys,
        "2011-01-01T00:00:00Z",
    )
    .expect_err("refused");
    let SignError::Policy(report) = err else {
        panic!("not a policy error: {err}")
    };
    assert_eq!(
        report.failed().collect::<Vec<_>>(),
        [CheckId::KsrPolicySigHorizon]
    );
}

#[test]
fn a_zsk_sharing_a_configured_ksk_tag_fails_bundle_keys() {
    // KSK3 is configured but unused by the schema, so it is not loaded: its
    // configured tag alone must keep a ZSK from taking it (49920 is a ZSK of the KSR).
    let text = std::fs::read_to_string(repo("testdata/signer/legacy.toml")).expect("config")
        + "\n[keys.KSK3]\nlabel = \"KSK3\"\nkey_tag = 49920\nalgorithm = \"RSASHA256\"\nvalid_from = \"2009-01-01T00:00:00Z\"\n";
    let config = SignerConfig::parse(&text, "legacy+KSK3.toml", false).expect("config");
    let ksk1 = key("KSK1", "icann/legacy/ksk1.pem");
    let keys: KeyRing<'_> = [("KSK1".to_owned(), &ksk1 as &dyn KeySigner)]
        .into_iter()
        .collect();
    let err = sign(
        &config,
        "normal",
        &ksr("icann/legacy/ksr-2010-q1-0.xml"),
        &keys,
        "2009-12-15T00:00:00Z",
    )
    .expect_err("refused");
    let SignError::Policy(report) = err else {
        panic!("not a policy error: {err}")
    };
    assert_eq!(
        report.failed().collect::<Vec<_>>(),
        [CheckId::KsrBundleKeys]
    );
}
