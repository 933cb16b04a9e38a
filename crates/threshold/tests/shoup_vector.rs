//! The known-answer vector for Shoup threshold RSA (k = 3 of l = 5, 511-bit n).
//!
//! `shared/data/vectors/shoup-threshold-rsa.txt`: "Any k valid signature shares
//! must combine to exactly this RSASSA-PKCS1-v1_5 / SHA-256 signature, which
//! is also the plain RSA signature with d = e^-1 mod phi(n)."

mod common;

use ceremony_threshold::danger::deal_from_primes;
use ceremony_threshold::shoup::{Dealing, SessionStatus, SignatureShare, SigningSession};
use ceremony_threshold::{Error, ShareFault};
use common::{subsets, vector, Vector};
use rand_core::SeedableRng;

fn dealt(v: &Vector, seed: u64) -> Dealing {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    deal_from_primes(&v.p, &v.q, v.e, v.k, v.l, &mut rng).expect("the vector's primes are safe")
}

fn all_shares(dealing: &Dealing, message: &[u8], seed: u64) -> Vec<SignatureShare> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    dealing
        .shares
        .iter()
        .map(|share| share.sign_share(message, &mut rng).expect("sign"))
        .collect()
}

fn rejected_index(result: Result<impl std::fmt::Debug, Error>) -> (u16, ShareFault) {
    match result {
        Err(Error::BadShare { index, fault }) => (index, fault),
        other => panic!("expected a rejected share, got {other:?}"),
    }
}

#[test]
fn the_vector_modulus_and_public_key() {
    let v = vector();
    let dealing = dealt(&v, 1);
    let key = &dealing.public_key;
    assert_eq!(key.modulus(), v.n, "n = p·q");
    assert_eq!(key.modulus_bits(), 511);
    assert_eq!(
        (key.threshold(), key.holders(), key.exponent()),
        (3, 5, 65537)
    );
    for share in &dealing.shares {
        share.check().expect("v^s_i = v_i");
    }
}

#[test]
fn every_k_subset_combines_to_the_vector_signature() {
    let v = vector();
    let dealing = dealt(&v, 2);
    let shares = all_shares(&dealing, &v.message, 3);
    let sets = subsets(v.l, v.k);
    assert_eq!(sets.len(), 10, "C(5,3)");
    for set in sets {
        let chosen: Vec<SignatureShare> = set
            .iter()
            .map(|i| shares[usize::from(*i) - 1].clone())
            .collect();
        let signature = dealing
            .public_key
            .combine(&v.message, &chosen)
            .expect("combine");
        assert_eq!(signature, v.signature, "subset {set:?}");
    }
    dealing
        .public_key
        .verify_signature(&v.message, &v.signature)
        .expect("the vector verifies under (n, e)");
}

#[test]
fn the_signature_does_not_depend_on_the_dealing() {
    // Another polynomial and another v: same (n, e, d), same signature.
    let v = vector();
    let dealing = dealt(&v, 99);
    let shares = all_shares(&dealing, &v.message, 100);
    let signature = dealing
        .public_key
        .combine(&v.message, &shares[2..])
        .expect("combine");
    assert_eq!(signature, v.signature);
}

#[test]
fn corrupted_shares_are_rejected_and_named() {
    let v = vector();
    let dealing = dealt(&v, 4);
    let key = &dealing.public_key;
    let shares = all_shares(&dealing, &v.message, 5);

    let mut bad_x = shares[1].clone();
    bad_x.x_i[40] ^= 1;
    assert_eq!(
        rejected_index(key.verify_share(&v.message, &bad_x)),
        (2, ShareFault::BadProof)
    );

    let mut bad_z = shares[2].clone();
    let last = bad_z.z.len() - 1;
    bad_z.z[last] ^= 1;
    assert_eq!(
        rejected_index(key.verify_share(&v.message, &bad_z)),
        (3, ShareFault::BadProof)
    );

    let mut bad_c = shares[3].clone();
    bad_c.c[0] ^= 0x80;
    assert_eq!(
        rejected_index(key.verify_share(&v.message, &bad_c)),
        (4, ShareFault::BadProof)
    );

    // A share for another message does not verify for this one.
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(6);
    let other = dealing.shares[4]
        .sign_share(b"Hello world!", &mut rng)
        .expect("sign");
    assert_eq!(
        rejected_index(key.verify_share(&v.message, &other)),
        (5, ShareFault::BadProof)
    );

    // A genuine share relabelled as another holder's.
    let mut relabelled = shares[0].clone();
    relabelled.index = 2;
    assert_eq!(
        rejected_index(key.verify_share(&v.message, &relabelled)),
        (2, ShareFault::BadProof)
    );

    // Indices outside 1..=l.
    for index in [0u16, 6, 65535] {
        let mut stranger = shares[0].clone();
        stranger.index = index;
        assert_eq!(
            rejected_index(key.verify_share(&v.message, &stranger)),
            (index, ShareFault::UnknownHolder)
        );
    }

    // Wrong lengths and out-of-range values.
    let mut short = shares[0].clone();
    short.x_i.pop();
    assert!(matches!(
        rejected_index(key.verify_share(&v.message, &short)),
        (1, ShareFault::Malformed(_))
    ));
    let mut big = shares[0].clone();
    big.x_i = key.modulus();
    assert!(matches!(
        rejected_index(key.verify_share(&v.message, &big)),
        (1, ShareFault::Malformed(_))
    ));
    let mut huge_z = shares[0].clone();
    huge_z.z.insert(0, 1);
    assert!(matches!(
        rejected_index(key.verify_share(&v.message, &huge_z)),
        (1, ShareFault::Malformed(_))
    ));

    // Combining with one bad share among k names it.
    let set = [shares[0].clone(), bad_x, shares[4].clone()];
    assert_eq!(
        rejected_index(key.combine(&v.message, &set)),
        (2, ShareFault::BadProof)
    );
}

#[test]
fn a_session_rejects_duplicates_and_survives_bad_shares() {
    let v = vector();
    let dealing = dealt(&v, 7);
    let shares = all_shares(&dealing, &v.message, 8);
    let mut session = SigningSession::new(&dealing.public_key, &v.message).expect("session");
    assert_eq!(
        session.add_share(&shares[0]).expect("valid"),
        SessionStatus::NeedMore { have: 1, need: 3 }
    );
    assert_eq!(
        rejected_index(session.add_share(&shares[0])),
        (1, ShareFault::Duplicate)
    );
    let mut bad = shares[1].clone();
    bad.c[5] ^= 4;
    assert_eq!(
        rejected_index(session.add_share(&bad)),
        (2, ShareFault::BadProof)
    );
    assert_eq!(session.accepted().collect::<Vec<_>>(), vec![1]);
    // The holder resends a good share; the session completes.
    session.add_share(&shares[1]).expect("valid");
    assert_eq!(
        session.add_share(&shares[4]).expect("valid"),
        SessionStatus::Ready
    );
    assert_eq!(session.combine().expect("combine"), v.signature);

    // The convenience path rejects a duplicated index too.
    let twice = [shares[0].clone(), shares[0].clone(), shares[2].clone()];
    assert_eq!(
        rejected_index(dealing.public_key.combine(&v.message, &twice)),
        (1, ShareFault::Duplicate)
    );
}

#[test]
fn k_minus_one_shares_cannot_combine() {
    let v = vector();
    let dealing = dealt(&v, 9);
    let shares = all_shares(&dealing, &v.message, 10);
    for set in subsets(v.l, v.k - 1) {
        let chosen: Vec<SignatureShare> = set
            .iter()
            .map(|i| shares[usize::from(*i) - 1].clone())
            .collect();
        match dealing.public_key.combine(&v.message, &chosen) {
            Err(Error::NotEnoughShares { have: 2, need: 3 }) => {}
            other => panic!("subset {set:?}: expected NotEnoughShares, got {other:?}"),
        }
    }
}

#[test]
fn dealing_erases_every_secret() {
    let v = vector();
    let dealing = dealt(&v, 11);
    let names: Vec<&str> = dealing.erasure.names().collect();
    for expected in ["p", "q", "p'", "q'", "m", "d", "a_1", "a_2"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(dealing.erasure.all_erased(), "{:?}", dealing.erasure);
}

#[test]
fn shares_and_keys_round_trip_through_json() {
    let v = vector();
    let dealing = dealt(&v, 12);
    let json = serde_json::to_string(&dealing.public_key).expect("serialize");
    let key: ceremony_threshold::shoup::ThresholdPublicKey =
        serde_json::from_str(&json).expect("parse");
    assert_eq!(key, dealing.public_key);

    let share_json = serde_json::to_string(&dealing.shares[2]).expect("serialize");
    let share: ceremony_threshold::shoup::KeyShare =
        serde_json::from_str(&share_json).expect("parse");
    share.check().expect("still v^s_i = v_i");
    assert!(
        !format!("{share:?}").contains(&share_json[30..60]),
        "Debug hides s_i"
    );

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(13);
    let signature_share = share.sign_share(&v.message, &mut rng).expect("sign");
    let text = serde_json::to_string(&signature_share).expect("serialize");
    let back: SignatureShare = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, signature_share);
    key.verify_share(&v.message, &back)
        .expect("valid after the round trip");

    // A file with l that disagrees with the verification keys is refused.
    let tampered = json.replace("\"l\":5", "\"l\":4");
    assert!(
        serde_json::from_str::<ceremony_threshold::shoup::ThresholdPublicKey>(&tampered).is_err()
    );
}

#[test]
fn primes_that_are_not_safe_are_refused() {
    let v = vector();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(14);
    let mut p = v.p.clone();
    let last = p.len() - 1;
    p[last] ^= 2; // still odd, no longer a safe prime
    assert!(matches!(
        deal_from_primes(&p, &v.q, v.e, 3, 5, &mut rng),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        deal_from_primes(&v.p, &v.p, v.e, 3, 5, &mut rng),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        deal_from_primes(&v.p, &v.q, v.e, 4, 3, &mut rng),
        Err(Error::InvalidParameters(_))
    ));
}
