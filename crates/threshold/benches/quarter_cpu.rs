//! CPU time of a 9-bundle quarter signed 3-of-7 with RSA-2048, against `ring`.
//!
//! divan (`benches/threshold.rs`) reports wall time, which a busy machine
//! inflates; the target ("9 bundles in under 0.5 s of CPU") is about CPU
//! time, so this reads the thread's own CPU clock from
//! `/proc/thread-self/schedstat` (Linux, nanoseconds). Everything runs on
//! one thread: the coordinator and the three holders, from their key files.
//!
//! Run with `cargo bench -p ceremony-threshold --bench quarter_cpu`.

use std::path::PathBuf;
use std::time::Instant;

use base64::Engine as _;
use ceremony_threshold::danger::{deal_from_primes, safe_prime_pair};
use ceremony_threshold::shoup::{KeyShare, SigningSession, ThresholdPublicKey};
use rand_core::OsRng;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

const RUNS: usize = 11;

/// CPU time this thread has used, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat (Linux)")
}

/// (wall, CPU) medians in milliseconds over RUNS runs of `f`.
fn measure(mut f: impl FnMut()) -> (f64, f64) {
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        f();
        cpu.push((thread_cpu_ns() - c) as f64 / 1e6);
        wall.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut wall), median(&mut cpu))
}

fn main() {
    let bundles: Vec<Vec<u8>> = (0..9)
        .map(|b| (0..1100).map(|i| (i * 7 + b) as u8).collect())
        .collect();

    let pair = safe_prime_pair(2048, &mut OsRng, &mut |_| {}).expect("safe primes");
    let dealing = deal_from_primes(&pair.p, &pair.q, 65537, 3, 7, &mut OsRng).expect("deal");
    let key_json = serde_json::to_string(&dealing.public_key).expect("key");
    let share_jsons: Vec<String> = [1usize, 4, 6]
        .iter()
        .map(|i| serde_json::to_string(&dealing.shares[i - 1]).expect("share"))
        .collect();

    let (wall, cpu) = measure(|| {
        let key: ThresholdPublicKey = serde_json::from_str(&key_json).expect("key");
        let holders: Vec<KeyShare> = share_jsons
            .iter()
            .map(|s| serde_json::from_str(s).expect("share"))
            .collect();
        for data in &bundles {
            let mut session = SigningSession::new(&key, data).expect("session");
            for holder in &holders {
                let share = holder.sign_share(data, &mut OsRng).expect("share");
                session.add_share(&share).expect("valid");
            }
            std::hint::black_box(session.combine().expect("combine"));
        }
    });

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann/softhsm-keys/rsa-2048-1.pem");
    let pem = std::fs::read_to_string(path).expect("shared test key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    let rng = ring::rand::SystemRandom::new();
    let (ring_wall, ring_cpu) = measure(|| {
        let key = RsaKeyPair::from_der(&der).expect("RSA key");
        let mut signature = vec![0u8; key.public().modulus_len()];
        for data in &bundles {
            key.sign(&RSA_PKCS1_SHA256, &rng, data, &mut signature)
                .expect("sign");
        }
    });

    println!("9-bundle quarter, RSA-2048, medians of {RUNS} runs:");
    println!("  threshold 3-of-7 (load files, 27 shares with proofs, 27 checks, 9 combinations): CPU {cpu:.1} ms, wall {wall:.1} ms");
    println!("  ring, one key (load, 9 signatures):                                          CPU {ring_cpu:.2} ms, wall {ring_wall:.2} ms");
    println!(
        "  ratio (CPU): {:.0}x; target < 500 ms CPU: {}",
        cpu / ring_cpu,
        if cpu < 500.0 { "met" } else { "MISSED" }
    );
}
