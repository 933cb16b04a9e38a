//! What a threshold ceremony costs, against one plain HSM-style signature.
//!
//! * `rsa_3_of_7_signature`: one RSA-2048 signature the threshold way: three
//!   holders' signature shares with proofs, the coordinator's check of the
//!   three proofs, and the combination (steady state: keys already loaded).
//! * `rsa_3_of_7_quarter`: a whole quarter, 9 bundles, from cold: the
//!   coordinator and three holders load their key files, then sign 9 times.
//! * `ring_rsa_2048_signature`, `ring_rsa_2048_quarter`: the same with `ring`
//!   and one software key (`shared/data/icann/softhsm-keys/rsa-2048-1.pem`).
//! * `frost_3_of_7_signature`: FROST Ed25519, both rounds, 3 of 7.
//! * `deal_rsa_2048`: a full 2048-bit 3-of-7 dealing, safe primes included
//!   (slow; `crates/threshold/bench/safe-primes.sh` runs it against OpenSSL).
//!
//! divan reports wall time; `benches/quarter_cpu.rs` measures the quarter's CPU time.
//!
//! Run with `cargo bench -p ceremony-threshold`; divan prints medians.

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use ceremony_threshold::danger::{deal_from_primes, safe_prime_pair};
use ceremony_threshold::frost;
use ceremony_threshold::shoup::{deal, Dealing, KeyShare, SigningSession, ThresholdPublicKey};
use divan::Bencher;
use rand_core::OsRng;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

fn main() {
    divan::main();
}

/// A DNSKEY RRset's RRSIG signed data is about this long at the root (2 KSKs, 2 ZSKs).
const BUNDLE_DATA_LEN: usize = 1100;
const BUNDLES: usize = 9;

fn bundles() -> Vec<Vec<u8>> {
    (0..BUNDLES)
        .map(|b| (0..BUNDLE_DATA_LEN).map(|i| (i * 7 + b) as u8).collect())
        .collect()
}

fn dealing() -> &'static Dealing {
    static DEALING: OnceLock<Dealing> = OnceLock::new();
    DEALING.get_or_init(|| {
        let pair = safe_prime_pair(2048, &mut OsRng, &mut |_| {}).expect("safe primes");
        deal_from_primes(&pair.p, &pair.q, 65537, 3, 7, &mut OsRng).expect("deal")
    })
}

/// The files a quarter starts from: the public key and three holders' shares, as JSON.
fn key_files() -> &'static (String, Vec<String>) {
    static FILES: OnceLock<(String, Vec<String>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let d = dealing();
        let key = serde_json::to_string(&d.public_key).expect("key");
        let shares = [1usize, 4, 6]
            .iter()
            .map(|i| serde_json::to_string(&d.shares[i - 1]).expect("share"))
            .collect();
        (key, shares)
    })
}

fn threshold_signature(key: &ThresholdPublicKey, holders: &[&KeyShare], data: &[u8]) -> Vec<u8> {
    let shares: Vec<_> = holders
        .iter()
        .map(|h| h.sign_share(data, &mut OsRng).expect("share"))
        .collect();
    let mut session = SigningSession::new(key, data).expect("session");
    for share in &shares {
        session.add_share(share).expect("valid");
    }
    session.combine().expect("combine")
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn rsa_3_of_7_signature(bencher: Bencher) {
    let d = dealing();
    let holders = [&d.shares[0], &d.shares[3], &d.shares[5]];
    let data = &bundles()[0];
    threshold_signature(&d.public_key, &holders, data); // warm the per-key tables
    bencher.bench(|| threshold_signature(&d.public_key, &holders, data));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn rsa_3_of_7_quarter(bencher: Bencher) {
    let (key_json, share_jsons) = key_files();
    let bundles = bundles();
    bencher.bench(|| {
        let key: ThresholdPublicKey = serde_json::from_str(key_json).expect("key");
        let shares: Vec<KeyShare> = share_jsons
            .iter()
            .map(|s| serde_json::from_str(s).expect("share"))
            .collect();
        let holders: Vec<&KeyShare> = shares.iter().collect();
        for data in &bundles {
            let signature = threshold_signature(&key, &holders, data);
            divan::black_box(signature);
        }
    });
}

/// The root's RSA test key, PKCS#1 DER.
fn ring_key() -> RsaKeyPair {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann/softhsm-keys/rsa-2048-1.pem");
    let pem = std::fs::read_to_string(path).expect("shared test key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    RsaKeyPair::from_der(&der).expect("RSA private key")
}

#[divan::bench(sample_count = 200)]
fn ring_rsa_2048_signature(bencher: Bencher) {
    let key = ring_key();
    let rng = ring::rand::SystemRandom::new();
    let data = &bundles()[0];
    let mut signature = vec![0u8; key.public().modulus_len()];
    bencher.bench_local(|| {
        key.sign(&RSA_PKCS1_SHA256, &rng, data, &mut signature)
            .expect("sign");
    });
}

#[divan::bench(sample_count = 50)]
fn ring_rsa_2048_quarter(bencher: Bencher) {
    let rng = ring::rand::SystemRandom::new();
    let bundles = bundles();
    bencher.bench(|| {
        let key = ring_key();
        let mut signature = vec![0u8; key.public().modulus_len()];
        for data in &bundles {
            key.sign(&RSA_PKCS1_SHA256, &rng, data, &mut signature)
                .expect("sign");
        }
    });
}

#[divan::bench(sample_count = 50)]
fn frost_3_of_7_signature(bencher: Bencher) {
    let dealing = frost::deal(3, 7, &mut OsRng).expect("deal");
    let data = &bundles()[0];
    let signers = [1usize, 4, 6];
    bencher.bench_local(|| {
        let mut session = frost::SigningSession::new(&dealing.group, data);
        let mut nonces = Vec::new();
        for i in signers {
            let (n, c) = dealing.holders[i - 1].commit(&mut OsRng);
            nonces.push((i, n));
            session.add_commitments(i as u16, c).expect("commit");
        }
        let package = session.signing_package().expect("package");
        for (i, n) in nonces {
            let share = dealing.holders[i - 1]
                .sign(n, &package, data)
                .expect("share");
            session.add_share(i as u16, share).expect("valid");
        }
        session.aggregate().expect("aggregate")
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn deal_rsa_2048(bencher: Bencher) {
    bencher.bench(|| deal(2048, 3, 7, &mut OsRng, &mut |_| {}).expect("deal"));
}
