//! ECDSA P-256 and Ed25519 KSKs: the zone operator's KSR, signed, verified by us and by dnspython.

use std::path::PathBuf;
use std::process::Command;

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_formats::icann;
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;
use ceremony_policy::{verify_skr, ResponsePolicy, SkrContext};
use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
use ceremony_signer::{sign_ksr, KeyRing, SignRequest, SignerConfig};

fn config(algorithm: &str) -> SignerConfig {
    let text = format!(
        r#"
[keys.ksk]
label = "KSK-{algorithm}"
algorithm = "{algorithm}"
valid_from = "2026-01-01T00:00:00Z"

[request_policy]
acceptable_domains = ["example."]
approved_algorithms = ["{algorithm}"]
"#
    );
    SignerConfig::parse(&text, "inline.toml", false).expect("config")
}

fn dnspython(path: &std::path::Path) -> std::process::Output {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify-skr-dnspython.py");
    Command::new("/usr/bin/python3")
        .arg(script)
        .arg(path)
        .output()
        .expect("run /usr/bin/python3 (apt-get install python3-dnspython python3-cryptography)")
}

#[test]
fn ecdsa_and_ed25519_ksks_sign_a_ksr_that_validators_accept() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, algorithm) in [
        ("ECDSAP256SHA256", SecurityAlgorithm::ECDSAP256SHA256),
        ("ED25519", SecurityAlgorithm::ED25519),
    ] {
        let zsk = |label: &str| {
            SoftKey::generate(label, algorithm, 256)
                .and_then(|k| k.with_flags(256))
                .expect("zsk")
        };
        let (old, current, next) = (zsk("zsk-old"), zsk("zsk-current"), zsk("zsk-next"));
        let start = "2026-04-01T00:00:00Z".parse().expect("start");
        let ksr = generate_ksr(
            "example.",
            &format!("ksr-{name}"),
            &[
                ZskSlots {
                    key: &old,
                    key_identifier: "old".into(),
                    first: 1,
                    last: 1,
                },
                ZskSlots {
                    key: &current,
                    key_identifier: "current".into(),
                    first: 1,
                    last: 9,
                },
                ZskSlots {
                    key: &next,
                    key_identifier: "next".into(),
                    first: 9,
                    last: 9,
                },
            ],
            &Schedule::root_quarter(start),
            172_800,
        )
        .expect("ksr");
        let ksk = SoftKey::generate(&format!("KSK-{name}"), algorithm, 256).expect("ksk");
        let keys: KeyRing<'_> = [("ksk".to_owned(), &ksk as &dyn KeySigner)]
            .into_iter()
            .collect();
        let config = config(name);
        let schema = config.schema("normal", 9).expect("schema");
        let signed = sign_ksr(&SignRequest {
            ksr: &ksr,
            schema: &schema,
            config: &config,
            keys: &keys,
            previous: None,
            now: "2026-03-15T00:00:00Z".parse().expect("now"),
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = verify_skr(
            &signed.skr,
            &SkrContext {
                policy: &ResponsePolicy::default(),
                ksr: Some(&ksr),
                anchors: None,
                previous: None,
            },
        );
        assert!(report.is_ok(), "{name}: {report:#?}");
        assert!(signed
            .skr
            .bundles
            .iter()
            .all(|b| b.signatures.iter().all(|s| s.algorithm == algorithm)));

        let path = dir.path().join(format!("skr-{name}.xml"));
        std::fs::write(&path, icann::write_skr(&signed.skr)).expect("write");
        let out = dnspython(&path);
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .matches("valid")
                .count(),
            9
        );
    }
}
