//! Cross-checks against hickory-proto, a DNSSEC implementation that shares
//! no code with `domain`, on which this crate builds.
//!
//! For real root SKRs and for keys made here, hickory and we must agree on
//! everything a ceremony relies on: the signed data of an RRSIG over a DNSKEY
//! RRset (byte for byte), whether a signature verifies (both accept the good
//! ones, both reject a one-bit flip), key tags and DS digests. Signatures are
//! made on both sides: by `ring` over our signed data, and by hickory's own
//! signing keys over hickory's to-be-signed data.

use std::path::PathBuf;

use base64::Engine as _;
use ceremony_dnssec::{
    parse_name, verify, DigestAlgorithm, Dnskey, Ds, Error, KeyTag, Name, RrsigHeader,
    SecurityAlgorithm,
};
use ceremony_formats::{icann, read_text_file, Bundle, Signature, Skr};
use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey};
use hickory_proto::dnssec::rdata::{DNSSECRData, SigInput, DNSKEY, RRSIG};
use hickory_proto::dnssec::{
    Algorithm, DigestType, PublicKey as _, PublicKeyBuf, SigningKey, Verifier as _, TBS,
};
use hickory_proto::rr::{DNSClass, Name as HName, RData, Record, RecordType, SerialNumber};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn read_skr(rel: &str) -> Skr {
    let text = read_text_file(&data(rel)).expect("shared data is readable");
    icann::parse_skr(&text, rel).expect("a real SKR parses")
}

/// The two real root SKRs, signed by KSK-2010, and the legacy test SKRs signed by `ksk1.pem`.
const SKRS: [&str; 4] = [
    "icann/root/skr-root-2017-q1-0.xml",
    "icann/root/skr-root-2017-q2-0.xml",
    "icann/legacy/skr-2009-q4-2.xml",
    "icann/legacy/skr-2010-q1-0.xml",
];

// ---------------------------------------------------------------------------
// Conversions to hickory's types, from raw fields only.

fn h_name(text: &str) -> HName {
    let name = HName::from_ascii(text).expect("hickory parses the name");
    assert!(name.is_fqdn(), "{text} is absolute");
    name
}

fn h_algorithm(algorithm: SecurityAlgorithm) -> Algorithm {
    let theirs = Algorithm::from_u8(algorithm.to_int());
    assert_eq!(u8::from(theirs), algorithm.to_int());
    theirs
}

fn h_dnskey(key: &Dnskey) -> DNSKEY {
    // hickory's DNSKEY always carries protocol 3; every key here has it.
    assert_eq!(key.protocol(), 3);
    DNSKEY::with_flags(
        key.flags(),
        PublicKeyBuf::new(key.public_key().to_vec(), h_algorithm(key.algorithm())),
    )
}

fn h_records<'a>(
    owner: &HName,
    ttl: u32,
    keys: impl IntoIterator<Item = &'a Dnskey>,
) -> Vec<Record> {
    keys.into_iter()
        .map(|key| {
            Record::from_rdata(
                owner.clone(),
                ttl,
                RData::DNSSEC(DNSSECRData::DNSKEY(h_dnskey(key))),
            )
        })
        .collect()
}

fn h_input(header: &RrsigHeader, signer_name: &str) -> SigInput {
    SigInput {
        type_covered: RecordType::from(header.type_covered),
        algorithm: h_algorithm(header.algorithm),
        num_labels: header.labels,
        original_ttl: header.original_ttl,
        sig_expiration: SerialNumber::new(header.expiration),
        sig_inception: SerialNumber::new(header.inception),
        key_tag: header.key_tag.0,
        signer_name: h_name(signer_name),
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// Flips one bit of `bytes` at byte `at`.
fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 1 << (at % 8);
    out
}

/// Everything about one RRSIG over one DNSKEY RRset, both ways.
struct Case<'a> {
    what: String,
    owner: &'a Name,
    owner_text: &'a str,
    ttl: u32,
    keys: Vec<&'a Dnskey>,
    signer: &'a Dnskey,
    header: RrsigHeader,
    signer_name: &'a str,
}

impl Case<'_> {
    fn ours(&self) -> Vec<u8> {
        self.header
            .signed_data_dnskeys(self.owner, self.keys.iter().copied())
            .expect("our signed data")
    }

    fn hickory_records(&self) -> Vec<Record> {
        h_records(
            &h_name(self.owner_text),
            self.ttl,
            self.keys.iter().copied(),
        )
    }

    fn hickory_tbs(&self) -> Vec<u8> {
        let records = self.hickory_records();
        TBS::from_input(
            &h_name(self.owner_text),
            DNSClass::IN,
            &h_input(&self.header, self.signer_name),
            records.iter(),
        )
        .expect("hickory's to-be-signed data")
        .as_ref()
        .to_vec()
    }

    /// hickory's full RRSIG path: TBS from the records, then the key.
    fn hickory_verify_rrsig(&self, signature: &[u8]) -> Result<(), String> {
        let records = self.hickory_records();
        let rrsig = RRSIG::from_sig(h_input(&self.header, self.signer_name), signature.to_vec());
        h_dnskey(self.signer)
            .verify_rrsig(
                &h_name(self.owner_text),
                DNSClass::IN,
                &rrsig,
                records.iter(),
            )
            .map_err(|err| err.to_string())
    }

    /// hickory's raw path: a public key and a message.
    fn hickory_verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        PublicKeyBuf::new(
            self.signer.public_key().to_vec(),
            h_algorithm(self.signer.algorithm()),
        )
        .verify(message, signature)
        .map_err(|err| err.to_string())
    }

    /// Asserts both sides build the same data, accept `signature` and reject flips of it.
    fn assert_agree(&self, signature: &[u8]) {
        let what = &self.what;
        let ours = self.ours();
        assert_eq!(
            ours,
            self.hickory_tbs(),
            "{what}: signed data differs from hickory's TBS"
        );

        assert_eq!(
            verify(self.signer, &ours, signature),
            Ok(()),
            "{what}: we reject"
        );
        assert_eq!(
            self.hickory_verify_rrsig(signature),
            Ok(()),
            "{what}: hickory RRSIG path rejects"
        );
        assert_eq!(
            self.hickory_verify_raw(&ours, signature),
            Ok(()),
            "{what}: hickory raw path rejects"
        );

        let last = signature.len() - 1;
        for at in [0, 1, signature.len() / 2, last] {
            let bad = flipped(signature, at);
            assert_eq!(
                verify(self.signer, &ours, &bad),
                Err(Error::BadSignature),
                "{what}: we accept a flip at byte {at}"
            );
            assert!(
                self.hickory_verify_rrsig(&bad).is_err(),
                "{what}: hickory accepts a flip at byte {at}"
            );
            assert!(
                self.hickory_verify_raw(&ours, &bad).is_err(),
                "{what}: hickory (raw) accepts a flip at byte {at}"
            );
        }

        // The data side too: one bit of the signed data, e.g. in a key or the TTL.
        for at in [8, ours.len() / 2, ours.len() - 1] {
            let bad = flipped(&ours, at);
            assert!(
                verify(self.signer, &bad, signature).is_err(),
                "{what}: we accept altered data at {at}"
            );
            assert!(
                self.hickory_verify_raw(&bad, signature).is_err(),
                "{what}: hickory accepts altered data at {at}"
            );
        }
    }
}

/// Key tag and DS digests (SHA-256 and SHA-384) of `key` at `owner`, ours against hickory's.
fn assert_tag_and_ds_agree(owner: &Name, owner_text: &str, key: &Dnskey) {
    let theirs = h_dnskey(key);
    let tag = theirs.calculate_key_tag().expect("hickory key tag");
    assert_eq!(
        key.key_tag(),
        KeyTag(tag),
        "key tag of {}",
        key.public_key_base64()
    );
    for (ours_type, their_type) in [
        (DigestAlgorithm::SHA256, DigestType::SHA256),
        (DigestAlgorithm::SHA384, DigestType::SHA384),
    ] {
        let ours = Ds::compute(owner, key, ours_type).expect("our DS");
        let digest = theirs
            .to_digest(&h_name(owner_text), their_type)
            .expect("hickory DS digest");
        assert_eq!(
            ours.digest,
            digest.as_ref(),
            "DS {ours_type:?} of key {tag} at {owner_text}"
        );
    }
}

fn rrsig_time(seconds: i64) -> u32 {
    u32::try_from(seconds).expect("time fits an RRSIG field")
}

/// Our header for a `<Signature>`, field by field as the document gives it.
fn header_of(sig: &Signature) -> RrsigHeader {
    RrsigHeader {
        type_covered: sig.type_covered,
        algorithm: sig.algorithm,
        labels: sig.labels,
        original_ttl: sig.original_ttl,
        expiration: rrsig_time(sig.expiration.as_second()),
        inception: rrsig_time(sig.inception.as_second()),
        key_tag: sig.key_tag,
        signer_name: parse_name(&sig.signers_name).expect("signer name"),
    }
}

fn signing_key<'a>(bundle: &'a Bundle, sig: &Signature) -> &'a Dnskey {
    let mut candidates = bundle
        .dnskeys()
        .filter(|k| k.key_tag() == sig.key_tag && k.algorithm() == sig.algorithm);
    let key = candidates
        .next()
        .unwrap_or_else(|| panic!("bundle {}: no key for tag {}", bundle.id, sig.key_tag));
    assert!(
        candidates.next().is_none(),
        "bundle {}: two keys with one tag",
        bundle.id
    );
    key
}

// ---------------------------------------------------------------------------
// Real SKRs.

#[test]
fn real_skr_signatures_agree_with_hickory() {
    let mut checked = 0;
    for rel in SKRS {
        let skr = read_skr(rel);
        let owner = parse_name(&skr.header.domain).expect("owner");
        for bundle in &skr.bundles {
            assert!(!bundle.signatures.is_empty());
            for sig in &bundle.signatures {
                let ttl = bundle.keys[0].ttl;
                assert!(bundle.keys.iter().all(|k| k.ttl == ttl));
                let case = Case {
                    what: format!("{rel} bundle {} key {}", bundle.id, sig.key_tag),
                    owner: &owner,
                    owner_text: &skr.header.domain,
                    ttl,
                    keys: bundle.dnskeys().collect(),
                    signer: signing_key(bundle, sig),
                    header: header_of(sig),
                    signer_name: &sig.signers_name,
                };
                case.assert_agree(&sig.signature_data);
                checked += 1;
            }
        }
    }
    // 9 + 9 root bundles, 6 + 9 legacy ones, one KSK signature each.
    assert_eq!(checked, 33);
}

#[test]
fn real_skr_key_tags_and_ds_agree_with_hickory() {
    for rel in SKRS {
        let skr = read_skr(rel);
        let owner = parse_name(&skr.header.domain).expect("owner");
        for bundle in &skr.bundles {
            for key in &bundle.keys {
                assert_eq!(
                    key.dnskey.key_tag(),
                    key.key_tag,
                    "{rel}: the document's keyTag"
                );
                assert_tag_and_ds_agree(&owner, &skr.header.domain, &key.dnskey);
                // The revoked form (RFC 5011) has its own tag; both must agree on it.
                assert_tag_and_ds_agree(&owner, &skr.header.domain, &key.dnskey.revoked());
            }
        }
    }
}

#[test]
fn ksk_2010_ds_from_hickory_is_the_published_root_anchor() {
    let skr = read_skr("icann/root/skr-root-2017-q2-0.xml");
    let ksk = skr.bundles[0]
        .dnskeys()
        .find(|k| k.is_sep())
        .expect("a KSK");
    let theirs = h_dnskey(ksk);
    assert_eq!(theirs.calculate_key_tag().expect("tag"), 19036);
    let digest = theirs
        .to_digest(&HName::root(), DigestType::SHA256)
        .expect("digest");
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        hex,
        "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5"
    );
    let ours = Ds::compute(&Name::root_vec(), ksk, DigestAlgorithm::SHA256).expect("ds");
    assert_eq!(ours.digest_hex(), hex);
}

// ---------------------------------------------------------------------------
// Fresh keys.

/// Signs data with a private key made in the test.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A key pair made here: its DNSKEY and a way to sign.
struct Fresh {
    dnskey: Dnskey,
    sign: SignFn,
}

fn ring_ed25519(flags: u16) -> Fresh {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pkcs8");
    Fresh {
        dnskey: Dnskey::new(
            flags,
            3,
            SecurityAlgorithm::ED25519,
            pair.public_key().as_ref().to_vec(),
        )
        .expect("dnskey"),
        sign: Box::new(move |data| pair.sign(data).as_ref().to_vec()),
    }
}

fn ring_p256(flags: u16) -> Fresh {
    let rng = SystemRandom::new();
    let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("keygen");
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("pkcs8");
    let point = pair.public_key().as_ref();
    assert_eq!((point.len(), point[0]), (65, 0x04), "uncompressed point");
    Fresh {
        dnskey: Dnskey::new(
            flags,
            3,
            SecurityAlgorithm::ECDSAP256SHA256,
            point[1..].to_vec(),
        )
        .expect("dnskey"),
        sign: Box::new(move |data| pair.sign(&rng, data).expect("sign").as_ref().to_vec()),
    }
}

/// An RSA key from the shared test keys (ring cannot generate RSA), as RFC 3110 encodes it.
fn ring_rsa(pem_rel: &str, flags: u16) -> Fresh {
    let pem = std::fs::read_to_string(data(pem_rel)).expect("PEM");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64");
    let pair = RsaKeyPair::from_der(&der).expect("PKCS#1 RSA key");
    let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    let mut key = Vec::new();
    let e_len = public.e.len();
    if let Ok(len) = u8::try_from(e_len) {
        key.push(len);
    } else {
        key.push(0);
        key.extend_from_slice(&u16::try_from(e_len).expect("exponent").to_be_bytes());
    }
    key.extend_from_slice(&public.e);
    key.extend_from_slice(&public.n);
    Fresh {
        dnskey: Dnskey::new(flags, 3, SecurityAlgorithm::RSASHA256, key).expect("dnskey"),
        sign: Box::new(move |data| {
            let mut signature = vec![0; pair.public().modulus_len()];
            pair.sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                data,
                &mut signature,
            )
            .expect("sign");
            signature
        }),
    }
}

/// A KSK signs {KSK, ZSK} at `owner_text`, with ring over our signed data.
fn check_fresh_pair(label: &str, owner_text: &str, ksk: &Fresh, zsk: &Fresh) {
    let owner = parse_name(owner_text).expect("owner");
    let (ttl, inception) = (3600, 1_700_000_000);
    let case = Case {
        what: format!("fresh {label} at {owner_text}"),
        owner: &owner,
        owner_text,
        ttl,
        keys: vec![&zsk.dnskey, &ksk.dnskey],
        signer: &ksk.dnskey,
        header: RrsigHeader::for_dnskeys(
            &owner,
            &ksk.dnskey,
            ttl,
            inception,
            inception + 21 * 86400,
        ),
        signer_name: owner_text,
    };
    let signature = (ksk.sign)(&case.ours());
    case.assert_agree(&signature);
    for key in [&ksk.dnskey, &zsk.dnskey] {
        assert_tag_and_ds_agree(&owner, owner_text, key);
    }
}

#[test]
fn fresh_ed25519_signatures_agree_with_hickory() {
    for owner in [".", "example.", "Sub.ExAmple.COM."] {
        check_fresh_pair("Ed25519", owner, &ring_ed25519(257), &ring_ed25519(256));
    }
}

#[test]
fn fresh_p256_signatures_agree_with_hickory() {
    for owner in [".", "example.", "Sub.ExAmple.COM."] {
        check_fresh_pair("P-256", owner, &ring_p256(257), &ring_p256(256));
    }
}

#[test]
fn shared_rsa_test_key_signatures_agree_with_hickory() {
    let ksk = ring_rsa("icann/softhsm-keys/rsa-2048-1.pem", 257);
    let zsk = ring_rsa("icann/softhsm-keys/rsa-2048-2.pem", 256);
    for owner in [".", "Example."] {
        check_fresh_pair("RSA-2048", owner, &ksk, &zsk);
    }
}

/// The reverse direction: hickory's own signing keys sign hickory's TBS; we verify.
#[test]
fn hickory_signed_data_verifies_with_us() {
    let ed = Ed25519SigningKey::from_pkcs8(&Ed25519SigningKey::generate_pkcs8().expect("keygen"))
        .expect("key");
    let ec_alg = Algorithm::ECDSAP256SHA256;
    let ec = EcdsaSigningKey::from_pkcs8(
        &EcdsaSigningKey::generate_pkcs8(ec_alg).expect("keygen"),
        ec_alg,
    )
    .expect("key");
    let signers: [(&str, &dyn SigningKey); 2] = [("Ed25519", &ed), ("P-256", &ec)];
    for (label, signing_key) in signers {
        let public = signing_key.to_public_key().expect("public key");
        let algorithm = SecurityAlgorithm::from_int(u8::from(public.algorithm()));
        let ksk = Dnskey::new(257, 3, algorithm, public.public_bytes().to_vec()).expect("dnskey");
        let zsk = ring_ed25519(256);
        let owner_text = "example.";
        let owner = parse_name(owner_text).expect("owner");
        let case = Case {
            what: format!("hickory-signed {label}"),
            owner: &owner,
            owner_text,
            ttl: 86400,
            keys: vec![&ksk, &zsk.dnskey],
            signer: &ksk,
            header: RrsigHeader::for_dnskeys(
                &owner,
                &ksk,
                86400,
                1_600_000_000,
                1_600_000_000 + 14 * 86400,
            ),
            signer_name: owner_text,
        };
        let records = case.hickory_records();
        let tbs = TBS::from_input(
            &h_name(owner_text),
            DNSClass::IN,
            &h_input(&case.header, owner_text),
            records.iter(),
        )
        .expect("tbs");
        let signature = signing_key.sign(&tbs).expect("hickory signs");
        case.assert_agree(&signature);
    }
}
