//! Freshly dealt RSA-2048 threshold keys: every t-subset signs, the result is
//! the ordinary RSA signature, ring and DNSSEC verification accept it, and
//! t − 1 shares cannot sign.
//!
//! Safe primes of 1024 bits take seconds each, so this binary generates one
//! pair and deals 2-of-3, 3-of-7 and 5-of-7 keys from it; one more test runs
//! the public `deal` end to end.

use std::sync::OnceLock;

use ceremony_dnssec::{parse_name, Dnskey, RrsigHeader, SecurityAlgorithm};
use ceremony_threshold::danger::{deal_from_primes, safe_prime_pair};
use ceremony_threshold::shoup::{deal, DealProgress, Dealing, SignatureShare, SigningSession};
use ceremony_threshold::{Error, ShareFault};
use num_bigint::BigUint;
use rand_core::{OsRng, SeedableRng};
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};

/// One 2048-bit safe-prime pair per test process. A seeded generator makes
/// it the same pair every run, so the search costs the same every run (under
/// nextest each test is its own process); the dealings use fresh randomness.
fn primes() -> &'static (Vec<u8>, Vec<u8>) {
    static PRIMES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let mut seeded = rand_chacha::ChaCha20Rng::seed_from_u64(2048);
        let pair = safe_prime_pair(2048, &mut seeded, &mut |_| {}).expect("safe primes");
        (pair.p.to_vec(), pair.q.to_vec())
    })
}

/// The ordinary RSASSA-PKCS1-v1_5 / SHA-256 signature, with d = e^{-1} mod φ(n)
/// computed here from the primes.
fn plain_rsa_signature(p: &[u8], q: &[u8], e: u32, message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let p = BigUint::from_bytes_be(p);
    let q = BigUint::from_bytes_be(q);
    let n = &p * &q;
    let phi = (&p - 1u32) * (&q - 1u32);
    let d = BigUint::from(e).modinv(&phi).expect("e is prime to φ(n)");
    let len = n.bits().div_ceil(8) as usize;
    let mut em = vec![0x00, 0x01];
    em.resize(len - 19 - 32 - 1, 0xFF);
    em.push(0x00);
    em.extend_from_slice(&hex::decode("3031300d060960864801650304020105000420").expect("hex"));
    em.extend_from_slice(&Sha256::digest(message));
    let s = BigUint::from_bytes_be(&em).modpow(&d, &n).to_bytes_be();
    let mut out = vec![0u8; len - s.len()];
    out.extend_from_slice(&s);
    out
}

fn ring_verify(dealing: &Dealing, message: &[u8], signature: &[u8]) {
    let key = &dealing.public_key;
    RsaPublicKeyComponents {
        n: key.modulus(),
        e: BigUint::from(key.exponent()).to_bytes_be(),
    }
    .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
    .expect("ring accepts the combined signature");
}

/// The DNSKEY RRset of `.` (the threshold KSK and a ZSK) as an RRSIG signs it.
fn dnskey_rrset_signed_data(ksk: &Dnskey) -> Vec<u8> {
    let root = parse_name(".").expect("root");
    let zsk = Dnskey::new(
        256,
        3,
        SecurityAlgorithm::RSASHA256,
        vec![3, 1, 0, 1, 0xC3, 0x5B],
    )
    .expect("zsk");
    RrsigHeader::for_dnskeys(&root, ksk, 172_800, 1_735_689_600, 1_737_504_000)
        .signed_data_dnskeys(&root, [ksk, &zsk])
        .expect("signed data")
}

fn subsets(l: u16, k: u16) -> Vec<Vec<u16>> {
    (0u32..(1 << l))
        .filter(|mask| mask.count_ones() == u32::from(k))
        .map(|mask| (1..=l).filter(|i| mask & (1 << (i - 1)) != 0).collect())
        .collect()
}

fn check_t_of_n(k: u16, l: u16) {
    let (p, q) = primes();
    let dealing = deal_from_primes(p, q, 65537, k, l, &mut OsRng).expect("deal");
    let key = &dealing.public_key;
    assert_eq!(key.modulus_bits(), 2048);
    let dnskey = key.dnskey().expect("dnskey");
    assert_eq!(
        (dnskey.flags(), dnskey.algorithm()),
        (257, SecurityAlgorithm::RSASHA256)
    );

    let message = dnskey_rrset_signed_data(&dnskey);
    let expected = plain_rsa_signature(p, q, 65537, &message);
    // Each holder computes its share over the data it built itself.
    let shares: Vec<SignatureShare> = dealing
        .shares
        .iter()
        .map(|share| share.sign_share(&message, &mut OsRng).expect("sign"))
        .collect();

    for set in subsets(l, k) {
        let mut session = SigningSession::new(key, &message).expect("session");
        for i in &set {
            session
                .add_share(&shares[usize::from(*i) - 1])
                .expect("valid share");
        }
        let signature = session.combine().expect("combine");
        assert_eq!(signature, expected, "{k}-of-{l}, subset {set:?}");
    }
    ring_verify(&dealing, &message, &expected);
    ceremony_dnssec::verify(&dnskey, &message, &expected).expect("DNSSEC alg 8 verifies");

    for set in subsets(l, k - 1) {
        let chosen: Vec<SignatureShare> = set
            .iter()
            .map(|i| shares[usize::from(*i) - 1].clone())
            .collect();
        assert!(
            matches!(
                key.combine(&message, &chosen),
                Err(Error::NotEnoughShares { .. })
            ),
            "{k}-of-{l}: {} shares must not sign",
            k - 1
        );
    }
}

#[test]
fn two_of_three_rsa_2048() {
    check_t_of_n(2, 3);
}

#[test]
fn three_of_seven_rsa_2048() {
    check_t_of_n(3, 7);
}

#[test]
fn five_of_seven_rsa_2048() {
    check_t_of_n(5, 7);
}

#[test]
fn a_z_above_the_bound_is_malformed() {
    // For L(n) = 2048 the bound 2^2561 sits inside z's top byte.
    let (p, q) = primes();
    let dealing = deal_from_primes(p, q, 65537, 2, 3, &mut OsRng).expect("deal");
    let mut share = dealing.shares[0]
        .sign_share(b"data", &mut OsRng)
        .expect("sign");
    assert_eq!(share.z.len(), 321);
    share.z[0] = 0x02;
    match dealing.public_key.verify_share(b"data", &share) {
        Err(Error::BadShare {
            index: 1,
            fault: ShareFault::Malformed(_),
        }) => {}
        other => panic!("expected a malformed z, got {other:?}"),
    }
}

#[test]
fn deal_makes_an_exact_2048_bit_key_and_erases_its_secrets() {
    let mut candidates = [0u64; 2];
    let mut found = Vec::new();
    let mut sharing = false;
    let dealing = deal(2048, 3, 7, &mut OsRng, &mut |event| match event {
        DealProgress::Candidate { prime, tested } => {
            candidates[usize::from(prime) - 1] = tested;
        }
        DealProgress::PrimeFound { prime, bits, .. } => found.push((prime, bits)),
        DealProgress::Sharing => sharing = true,
        _ => {}
    })
    .expect("deal");
    assert_eq!(dealing.public_key.modulus_bits(), 2048, "never 2047");
    assert_eq!(found, vec![(1, 1024), (2, 1024)]);
    assert!(
        sharing && candidates.iter().all(|c| *c > 0),
        "{candidates:?}"
    );
    assert!(dealing.erasure.all_erased(), "{:?}", dealing.erasure);
    assert_eq!(dealing.shares.len(), 7);
    for share in &dealing.shares {
        share.check().expect("v^s_i = v_i");
    }

    let message = b"a fresh key signs";
    let shares: Vec<SignatureShare> = [2usize, 4, 7]
        .iter()
        .map(|i| {
            dealing.shares[i - 1]
                .sign_share(message, &mut OsRng)
                .expect("sign")
        })
        .collect();
    let signature = dealing
        .public_key
        .combine(message, &shares)
        .expect("combine");
    ring_verify(&dealing, message, &signature);
    dealing
        .public_key
        .verify_signature(message, &signature)
        .expect("verifies under (n, e)");
}

#[test]
fn deal_hits_every_size_exactly() {
    // An odd size splits into primes of different lengths; the top two bits
    // of each keep the product at full length.
    for bits in [1024u32, 1025, 1031] {
        let dealing = deal(bits, 2, 3, &mut OsRng, &mut |_| {}).expect("deal");
        assert_eq!(dealing.public_key.modulus_bits(), bits);
        let shares: Vec<SignatureShare> = dealing.shares[1..]
            .iter()
            .map(|s| s.sign_share(b"size", &mut OsRng).expect("sign"))
            .collect();
        let signature = dealing
            .public_key
            .combine(b"size", &shares)
            .expect("combine");
        dealing
            .public_key
            .verify_signature(b"size", &signature)
            .expect("verifies");
    }
}

#[test]
fn deal_refuses_bad_parameters() {
    for (bits, k, l) in [
        (1000, 2, 3),
        (8192, 2, 3),
        (2048, 0, 3),
        (2048, 4, 3),
        (2048, 2, 256),
    ] {
        assert!(
            matches!(
                deal(bits, k, l, &mut OsRng, &mut |_| {}),
                Err(Error::InvalidParameters(_))
            ),
            "{bits} bits, {k}-of-{l}"
        );
    }
}
