//! Integer resharing of a Shoup key (`shoup::reshare`), on the known-answer
//! vector's key (511-bit n, 3 of 5).
//!
//! What must hold: after 3-of-5 → 2-of-3 and then 2-of-3 → 3-of-7, every
//! t-subset of the new holders combines to the vector's signature, which "is
//! also the plain RSA signature with d = e^-1 mod phi(n)"; old shares do not
//! combine with new ones; a corrupted sub-share is caught and its dealer
//! named; and t − 1 new holders cannot sign.

mod common;

use ceremony_threshold::danger::deal_from_primes;
use ceremony_threshold::shoup::reshare::{ReshareCommitments, ResharePlan, SubShare};
use ceremony_threshold::shoup::{KeyShare, SignatureShare, ThresholdPublicKey};
use ceremony_threshold::{Error, ShareFault};
use common::{subsets, vector, Vector};
use rand_core::SeedableRng;

/// The new key and every new holder's share, holder 1 first.
struct Reshared {
    plan: ResharePlan,
    key: ThresholdPublicKey,
    shares: Vec<KeyShare>,
}

fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

fn dealt(v: &Vector) -> Vec<KeyShare> {
    deal_from_primes(&v.p, &v.q, v.e, v.k, v.l, &mut rng(1))
        .expect("the vector's primes are safe")
        .shares
}

/// Every dealer deals; returns the commitments and, per new holder, its sub-shares.
fn deal_all(
    plan: &ResharePlan,
    old: &[KeyShare],
    seed: u64,
) -> (Vec<ReshareCommitments>, Vec<Vec<SubShare>>) {
    let mut commitments = Vec::new();
    let mut inbox: Vec<Vec<SubShare>> = (0..plan.new_holders()).map(|_| Vec::new()).collect();
    for dealer in plan.dealers() {
        let share = &old[usize::from(*dealer) - 1];
        let output = plan
            .deal(share, &mut rng(seed + u64::from(*dealer)))
            .expect("deal");
        commitments.push(output.commitments);
        for sub in output.sub_shares {
            inbox[usize::from(sub.recipient()) - 1].push(sub);
        }
    }
    (commitments, inbox)
}

fn reshare(old: &[KeyShare], dealers: &[u16], new_k: u16, new_l: u16, seed: u64) -> Reshared {
    let plan = ResharePlan::new(old[0].public_key(), dealers, new_k, new_l).expect("plan");
    let (commitments, inbox) = deal_all(&plan, old, seed);
    let key = plan.public_key(&commitments).expect("new key");
    let shares: Vec<KeyShare> = inbox
        .iter()
        .zip(1..)
        .map(|(subs, j)| plan.combine(j, &commitments, subs).expect("combine"))
        .collect();
    for share in &shares {
        assert_eq!(
            share.public_key(),
            &key,
            "every new holder derives the same key"
        );
    }
    Reshared { plan, key, shares }
}

/// The holder and fault of a refused signature share.
fn rejected(result: Result<Vec<u8>, Error>) -> (u16, ShareFault) {
    match result {
        Err(Error::BadShare { index, fault }) => (index, fault),
        other => panic!("expected a refused share, got {other:?}"),
    }
}

/// The key's scale K as a number.
fn scale(key: &ThresholdPublicKey) -> u64 {
    key.scale()
        .iter()
        .fold(0, |acc, b| acc << 8 | u64::from(*b))
}

fn sign_all(shares: &[KeyShare], message: &[u8], seed: u64) -> Vec<SignatureShare> {
    let mut rng = rng(seed);
    shares
        .iter()
        .map(|share| share.sign_share(message, &mut rng).expect("sign"))
        .collect()
}

/// Every t-subset of the holders combines to the vector's signature.
fn every_subset_signs(v: &Vector, key: &ThresholdPublicKey, shares: &[KeyShare]) -> usize {
    let signature_shares = sign_all(shares, &v.message, 7);
    let sets = subsets(key.holders(), key.threshold());
    for set in &sets {
        let chosen: Vec<SignatureShare> = set
            .iter()
            .map(|i| signature_shares[usize::from(*i) - 1].clone())
            .collect();
        let signature = key.combine(&v.message, &chosen).expect("combine");
        assert_eq!(signature, v.signature, "subset {set:?}");
    }
    sets.len()
}

#[test]
fn five_to_three_to_seven_holders_keep_the_same_signature() {
    let v = vector();
    let old = dealt(&v);

    let first = reshare(&old, &[1, 3, 5], 2, 3, 100);
    assert_eq!((first.key.threshold(), first.key.holders()), (2, 3));
    assert_eq!(first.key.modulus(), v.n, "same n");
    assert_eq!(
        first.key.rsa_public_key(),
        old[0].public_key().rsa_public_key()
    );
    assert_eq!(scale(&first.key), 120 * 6, "K = Δ_old·Δ_new = 5!·3!");
    // L(n) + bits(max|w_i| = 3!·225) + 131 + 2·bits(k′) + 2·bits(k_old)
    // + bits(k′−1) + (k′−1)·bits(l′) = 511 + 11 + 131 + 4 + 4 + 1 + 2.
    assert_eq!(first.key.share_bits(), 511 + 153);
    assert_eq!(first.key.share_bits(), first.plan.new_share_bits());
    assert_eq!(every_subset_signs(&v, &first.key, &first.shares), 3);

    let second = reshare(&first.shares, &[1, 3], 3, 7, 200);
    assert_eq!((second.key.threshold(), second.key.holders()), (3, 7));
    assert_eq!(
        scale(&second.key),
        720 * 6 * 5040,
        "K′ = K·Δ_old·Δ_new = 720·3!·7!"
    );
    assert!(second.key.share_bits() > first.key.share_bits());
    assert_eq!(every_subset_signs(&v, &second.key, &second.shares), 35);
    second
        .key
        .verify_signature(&v.message, &v.signature)
        .expect("plain RSA verification under (n, e)");
}

#[test]
fn any_threshold_of_old_holders_can_deal() {
    // Another dealer set, with negative Lagrange weights in other places.
    let v = vector();
    let old = dealt(&v);
    let reshared = reshare(&old, &[4, 2, 5], 3, 4, 300);
    assert_eq!(every_subset_signs(&v, &reshared.key, &reshared.shares), 4);
}

#[test]
fn old_shares_do_not_combine_with_new_ones() {
    let v = vector();
    let old = dealt(&v);
    let new = reshare(&old, &[1, 2, 3], 2, 3, 400);
    let old_signature_shares = sign_all(&old, &v.message, 8);
    let new_signature_shares = sign_all(&new.shares, &v.message, 9);

    // Old holder 2's share, offered as holder 2 of the new key: its z is
    // sized for the old share bound, so it is malformed as it stands…
    let mixed = [
        new_signature_shares[0].clone(),
        old_signature_shares[1].clone(),
    ];
    assert_eq!(
        rejected(new.key.combine(&v.message, &mixed)),
        (
            2,
            ShareFault::Malformed("z is not ⌈(share bound+2·L1+1)/8⌉ bytes long")
        )
    );
    // …and padded to the new length, its proof fails against v′_2.
    let mut padded = old_signature_shares[1].clone();
    let width = new_signature_shares[1].z.len();
    padded
        .z
        .splice(0..0, std::iter::repeat_n(0, width - padded.z.len()));
    let mixed = [new_signature_shares[0].clone(), padded];
    assert_eq!(
        rejected(new.key.combine(&v.message, &mixed)),
        (2, ShareFault::BadProof)
    );
    // A new share offered to the old key: refused too.
    let mixed = [
        old_signature_shares[0].clone(),
        new_signature_shares[1].clone(),
        old_signature_shares[2].clone(),
    ];
    assert_eq!(
        rejected(old[0].public_key().combine(&v.message, &mixed)).0,
        2
    );
    // An old key share cannot deal again into the new key's plan.
    let plan = ResharePlan::new(&new.key, &[1, 2], 2, 3).expect("plan");
    assert!(matches!(
        plan.deal(&old[0], &mut rng(1)),
        Err(Error::InvalidKeyShare { index: 1, .. })
    ));
}

#[test]
fn a_corrupted_sub_share_is_caught_and_its_dealer_named() {
    let v = vector();
    let old = dealt(&v);
    let plan = ResharePlan::new(old[0].public_key(), &[2, 3, 4], 2, 3).expect("plan");
    let (commitments, mut inbox) = deal_all(&plan, &old, 500);

    // Holder 2's sub-share from dealer 3, with its lowest bit flipped.
    let slot = inbox[1]
        .iter()
        .position(|s| s.dealer() == 3)
        .expect("from 3");
    let mut json: serde_json::Value = serde_json::to_value(&inbox[1][slot]).expect("serialize");
    let value = json["value"].as_str().expect("hex").to_owned();
    let last = u8::from_str_radix(&value[value.len() - 1..], 16).expect("hex digit") ^ 1;
    json["value"] = format!("{}{last:x}", &value[..value.len() - 1]).into();
    inbox[1][slot] = serde_json::from_value(json).expect("still a sub-share");

    let dealer_commitments = commitments.iter().find(|c| c.dealer == 3).expect("3's");
    for result in [
        plan.verify_sub_share(dealer_commitments, &inbox[1][slot])
            .map(|_| ()),
        plan.combine(2, &commitments, &inbox[1]).map(|_| ()),
    ] {
        match result {
            Err(Error::BadSubShare {
                dealer, recipient, ..
            }) => assert_eq!((dealer, recipient), (3, 2)),
            other => panic!("expected dealer 3 to be named, got {other:?}"),
        }
    }
    // The other holders are unaffected.
    plan.combine(1, &commitments, &inbox[0]).expect("holder 1");
    plan.combine(3, &commitments, &inbox[2]).expect("holder 3");

    // A tampered commitment also names its dealer, for every recipient.
    let mut forged = commitments.clone();
    let victim = forged.iter_mut().find(|c| c.dealer == 4).expect("4's");
    victim.commitments[0] = commitments
        .iter()
        .find(|c| c.dealer == 2)
        .expect("2's")
        .commitments[0]
        .clone();
    match plan.combine(1, &forged, &inbox[0]) {
        Err(Error::BadSubShare { dealer: 4, .. }) => {}
        other => panic!("expected dealer 4 to be named, got {other:?}"),
    }

    // Missing and unknown senders are named too.
    let without_2: Vec<ReshareCommitments> = commitments
        .iter()
        .filter(|c| c.dealer != 2)
        .cloned()
        .collect();
    assert!(matches!(
        plan.public_key(&without_2),
        Err(Error::BadCommitments { dealer: 2, .. })
    ));
    let mut short_inbox = std::mem::take(&mut inbox[2]);
    short_inbox.retain(|s| s.dealer() != 4);
    assert!(matches!(
        plan.combine(3, &commitments, &short_inbox),
        Err(Error::BadSubShare { dealer: 4, .. })
    ));
}

#[test]
fn sub_shares_of_another_plan_are_refused() {
    let v = vector();
    let old = dealt(&v);
    let plan = ResharePlan::new(old[0].public_key(), &[1, 2, 3], 2, 3).expect("plan");
    let other = ResharePlan::new(old[0].public_key(), &[1, 2, 3], 2, 4).expect("plan");
    assert_ne!(plan.id(), other.id());
    let (commitments, _) = deal_all(&plan, &old, 600);
    let (_, other_inbox) = deal_all(&other, &old, 700);
    assert!(matches!(
        plan.combine(1, &commitments, &other_inbox[0]),
        Err(Error::BadSubShare { reason, .. }) if reason.contains("another resharing plan")
    ));
}

#[test]
fn fewer_than_the_new_threshold_cannot_sign() {
    let v = vector();
    let old = dealt(&v);
    let new = reshare(&old, &[1, 4, 5], 3, 4, 800);
    let signature_shares = sign_all(&new.shares, &v.message, 10);
    assert!(matches!(
        new.key.combine(&v.message, &signature_shares[..2]),
        Err(Error::NotEnoughShares { have: 2, need: 3 })
    ));
    // Even interpolating 2 shares as if the threshold were 2: the shares'
    // proofs verify, but the result is not a signature.
    let mut json = serde_json::to_value(&new.key).expect("serialize");
    json["k"] = 2.into();
    let lowered: ThresholdPublicKey = serde_json::from_value(json).expect("a 2-of-4 key");
    for pair in subsets(4, 2) {
        let chosen: Vec<SignatureShare> = pair
            .iter()
            .map(|i| signature_shares[usize::from(*i) - 1].clone())
            .collect();
        assert!(
            matches!(
                lowered.combine(&v.message, &chosen),
                Err(Error::CombineFailed)
            ),
            "pair {pair:?}"
        );
    }
}

#[test]
fn reshared_keys_and_shares_round_trip_through_json() {
    let v = vector();
    let old = dealt(&v);
    let dealt_json = serde_json::to_value(old[0].public_key()).expect("serialize");
    assert!(
        dealt_json.get("scale").is_none() && dealt_json.get("share_bits").is_none(),
        "a dealt key's file is unchanged"
    );
    let new = reshare(&old, &[1, 2, 3], 2, 3, 900);
    let key_json = serde_json::to_string(&new.key).expect("serialize");
    let key: ThresholdPublicKey = serde_json::from_str(&key_json).expect("parse");
    assert_eq!(key, new.key);
    assert!(
        key_json.contains("\"scale\":\"02d0\""),
        "K = 720: {key_json}"
    );
    let share_json = serde_json::to_string(&new.shares[1]).expect("serialize");
    let share: KeyShare = serde_json::from_str(&share_json).expect("parse");
    share.check().expect("v^s′_2 = v′_2 after the round trip");
    let signature_shares = [
        new.shares[0]
            .sign_share(&v.message, &mut rng(1))
            .expect("sign"),
        share.sign_share(&v.message, &mut rng(2)).expect("sign"),
    ];
    assert_eq!(
        key.combine(&v.message, &signature_shares).expect("combine"),
        v.signature
    );
    // A sub-share never shows its value in Debug.
    let plan = ResharePlan::new(&new.key, &[1, 2], 2, 2).expect("plan");
    let output = plan.deal(&new.shares[0], &mut rng(3)).expect("deal");
    let text = serde_json::to_value(&output.sub_shares[0]).expect("serialize");
    let value = text["value"].as_str().expect("hex");
    assert!(!format!("{output:?}").contains(&value[value.len() - 16..]));
}

#[test]
fn bad_plans_are_refused() {
    let v = vector();
    let old = dealt(&v);
    let key = old[0].public_key();
    for (dealers, k, l) in [
        (&[1u16, 2][..], 2u16, 3u16), // fewer dealers than the old threshold
        (&[1, 2, 2][..], 2, 3),       // a repeated dealer
        (&[1, 2, 6][..], 2, 3),       // not a holder
        (&[1, 2, 3][..], 1, 3),       // threshold 1
        (&[1, 2, 3][..], 4, 3),       // k > l
    ] {
        assert!(
            matches!(
                ResharePlan::new(key, dealers, k, l),
                Err(Error::InvalidParameters(_))
            ),
            "{dealers:?} → {k} of {l}"
        );
    }
    let plan = ResharePlan::new(key, &[1, 2, 3], 2, 3).expect("plan");
    assert!(matches!(
        plan.deal(&old[3], &mut rng(1)),
        Err(Error::InvalidKeyShare { index: 4, .. })
    ));
    // Holder 2's secret relabelled as holder 1's: the dealer's own check refuses it.
    let mut json = serde_json::to_value(&old[1]).expect("serialize");
    json["index"] = 1.into();
    let relabelled: KeyShare = serde_json::from_value(json).expect("parse");
    assert!(matches!(
        plan.deal(&relabelled, &mut rng(2)),
        Err(Error::InvalidKeyShare { index: 1, .. })
    ));
}
