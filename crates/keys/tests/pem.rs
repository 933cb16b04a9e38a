//! The shared test keys load, with the tags DESIGN.md gives them.

use std::path::PathBuf;

use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;

fn pem(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann")
        .join(rel);
    std::fs::read_to_string(path).expect("shared key")
}

#[test]
fn shared_keys_have_their_documented_tags() {
    for (rel, tag, bits) in [
        ("legacy/ksk1.pem", 5017, 2048),
        ("legacy/ksk2.pem", 55186, 2048),
        ("softhsm-keys/rsa-2048-1.pem", 25486, 2048),
        ("softhsm-keys/rsa-2048-2.pem", 33946, 2048),
        // DESIGN.md lists EC1 as 45613 and EC2 as 24391: those are the tags of a DNSKEY
        // that wrongly keeps the 0x04 point prefix (65 bytes). RFC 6605 §4 puts x‖y
        // (64 bytes) in the DNSKEY, which gives these tags; dnspython agrees.
        ("softhsm-keys/ec-p256-1.pem", 9144, 256),
        ("softhsm-keys/ec-p256-2.pem", 15717, 256),
    ] {
        let key = SoftKey::from_pem("test", &pem(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(key.dnskey().key_tag().0, tag, "{rel}");
        assert_eq!(key.identity().bits, bits, "{rel}");
        if tag == 5017 {
            assert_eq!(key.dnskey().revoked().key_tag().0, 5145, "KSK1 revoked");
        }
    }
}

#[test]
fn garbage_is_refused_without_echoing_it() {
    let err = SoftKey::from_pem(
        "k",
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .expect_err("garbage");
    assert!(!err.to_string().contains("AAAA"), "{err}");
}
