//! Known-answer tests run on the ceremony machine before it is used.
//!
//! The root KSK operator's auditors asked for a self-test before each
//! production use, on the ceremony OS itself. Each test here checks one
//! piece against an answer fixed in advance: a signature of the root's
//! earlier signer reproduced byte for byte, RFC 8032's first Ed25519
//! vector, a real root SKR verified, the PGP word list, the XML codec.
//! An HSM round trip is added when a key is given.

use ceremony_dnssec::{parse_name, verify, Dnskey, RrsigHeader, SecurityAlgorithm, DNSKEY_RTYPE};
use ceremony_formats::{icann, Fingerprint, Skr};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;

/// The golden SKR of the root's earlier signer, signed with the published test key KSK1.
const LEGACY_SKR: &str = include_str!("../assets/skr-2010-q1-0.xml");
/// KSK1: a published test key (shared/data/icann/legacy), never a production key.
const KSK1_PEM: &str = include_str!("../assets/ksk1.pem");

/// One self-test and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfTest {
    /// What was tested.
    pub name: String,
    /// `Ok` or why it failed.
    pub result: Result<(), String>,
}

/// Runs every known-answer test, and the round trip through `hsm_key` when given.
pub fn run(hsm_key: Option<&dyn KeySigner>) -> Vec<SelfTest> {
    let mut tests = vec![
        test(
            "XML codec: the legacy SKR parses and is rewritten byte for byte",
            codec,
        ),
        test(
            "RSASHA256 (8): KSK1 reproduces the legacy SKR's first signature",
            rsa_kat,
        ),
        test(
            "RSASHA256 (8): every signature of the legacy SKR verifies",
            rsa_verify,
        ),
        test(
            "ED25519 (15): RFC 8032 test 1 signs and verifies",
            ed25519_kat,
        ),
        test(
            "ECDSAP256SHA256 (13): a fresh key signs, verifies, and rejects a flipped bit",
            ecdsa_roundtrip,
        ),
        test(
            "PGP words: SHA-256 of \"hello, world\\n\" reads music customer waffle consensus",
            pgp_words,
        ),
    ];
    if let Some(key) = hsm_key {
        let name = format!(
            "HSM round trip: {} ({} bits) signs a fixed message, verified in software",
            key.identity().label,
            key.identity().bits
        );
        tests.push(SelfTest {
            name,
            result: roundtrip(key),
        });
    }
    tests
}

fn test(name: &str, f: fn() -> Result<(), String>) -> SelfTest {
    SelfTest {
        name: name.to_owned(),
        result: f(),
    }
}

fn legacy() -> Result<Skr, String> {
    icann::parse_skr(LEGACY_SKR, "embedded legacy SKR").map_err(|e| e.to_string())
}

fn codec() -> Result<(), String> {
    let skr = legacy()?;
    if icann::write_skr(&skr) != LEGACY_SKR {
        return Err("the rewritten SKR differs from the original".to_owned());
    }
    Ok(())
}

/// The signed data of the first bundle's first signature.
fn first_signed_data(skr: &Skr) -> Result<(Vec<u8>, Vec<u8>, Dnskey), String> {
    let zone = parse_name(&skr.header.domain).map_err(|e| e.to_string())?;
    let bundle = skr.bundles.first().ok_or("no bundle")?;
    let sig = bundle.signatures.first().ok_or("no signature")?;
    let key = bundle
        .keys
        .iter()
        .find(|k| k.dnskey.key_tag() == sig.key_tag)
        .ok_or("no signing key")?;
    let header = RrsigHeader {
        type_covered: DNSKEY_RTYPE,
        algorithm: sig.algorithm,
        labels: sig.labels,
        original_ttl: sig.original_ttl,
        expiration: sig.expiration.as_second() as u32,
        inception: sig.inception.as_second() as u32,
        key_tag: sig.key_tag,
        signer_name: zone.clone(),
    };
    let data = header
        .signed_data_dnskeys(&zone, bundle.dnskeys())
        .map_err(|e| e.to_string())?;
    Ok((data, sig.signature_data.clone(), key.dnskey.clone()))
}

fn rsa_kat() -> Result<(), String> {
    let skr = legacy()?;
    let (data, expected, dnskey) = first_signed_data(&skr)?;
    let key = SoftKey::from_pem("KSK1", KSK1_PEM).map_err(|e| e.to_string())?;
    if key.dnskey() != &dnskey {
        return Err("the embedded KSK1 is not the legacy SKR's key".to_owned());
    }
    let signature = key.sign(&data).map_err(|e| e.to_string())?;
    if signature != expected {
        return Err("the signature differs from the known answer".to_owned());
    }
    Ok(())
}

fn rsa_verify() -> Result<(), String> {
    let skr = legacy()?;
    let (data, signature, dnskey) = first_signed_data(&skr)?;
    verify(&dnskey, &data, &signature).map_err(|e| e.to_string())?;
    let mut flipped = signature;
    flipped[0] ^= 1;
    match verify(&dnskey, &data, &flipped) {
        Ok(()) => Err("a flipped signature verified".to_owned()),
        Err(_) => Ok(()),
    }
}

fn ed25519_kat() -> Result<(), String> {
    // RFC 8032 §7.1, TEST 1: empty message.
    let secret = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let expected = hex(concat!(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555",
        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    ));
    let pair = ring::signature::Ed25519KeyPair::from_seed_and_public_key(&secret, &public)
        .map_err(|e| e.to_string())?;
    if pair.sign(b"").as_ref() != expected.as_slice() {
        return Err("the signature differs from RFC 8032".to_owned());
    }
    let dnskey =
        Dnskey::new(257, 3, SecurityAlgorithm::ED25519, public).map_err(|e| e.to_string())?;
    verify(&dnskey, b"", &expected).map_err(|e| e.to_string())
}

fn ecdsa_roundtrip() -> Result<(), String> {
    let key = SoftKey::generate("selftest", SecurityAlgorithm::ECDSAP256SHA256, 256)
        .map_err(|e| e.to_string())?;
    roundtrip(&key)
}

fn roundtrip(key: &dyn KeySigner) -> Result<(), String> {
    let message = b"Ceremony self-test: a fixed message signed by the KSK";
    let signature = key.sign(message).map_err(|e| e.to_string())?;
    verify(key.dnskey(), message, &signature).map_err(|e| e.to_string())?;
    let mut flipped = signature;
    flipped[0] ^= 1;
    match verify(key.dnskey(), message, &flipped) {
        Ok(()) => Err("a flipped signature verified".to_owned()),
        Err(_) => Ok(()),
    }
}

fn pgp_words() -> Result<(), String> {
    let fp = Fingerprint::of(b"hello, world\n");
    let words = fp.words();
    if !fp.hex().starts_with("853ff937")
        || words.get(..4) != Some(&["music", "customer", "waffle", "consensus"][..])
    {
        return Err(format!("got {} {:?}", fp.hex(), words.get(..4)));
    }
    Ok(())
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_known_answer_passes() {
        for test in super::run(None) {
            assert_eq!(test.result, Ok(()), "{}", test.name);
        }
    }
}
