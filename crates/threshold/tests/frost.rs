//! FROST(Ed25519, SHA-512): every t-subset signs a DNSKEY RRset, the result is
//! a standard Ed25519 signature (ring, ceremony-dnssec algorithm 15), t − 1
//! holders cannot sign, cheaters are named, and refresh and repair keep the key.

mod common;

use std::collections::BTreeMap;

use ceremony_threshold::frost::{
    self, aggregate, dkg, refresh, repair, GroupKey, Holder, SignatureShare, SigningPackage,
    SigningSession,
};
use ceremony_threshold::{Error, ShareFault};
use common::frost::{holder, sign, signed_data, verify_everywhere};
use common::subsets;
use rand_core::OsRng;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};

fn check_t_of_n(t: u16, n: u16) {
    let dealing = frost::deal(t, n, &mut OsRng).expect("deal");
    let group = &dealing.group;
    assert_eq!(group.min_signers().expect("min"), t);
    assert_eq!(group.holders(), (1..=n).collect::<Vec<_>>());
    let data = signed_data(&group.dnskey().expect("dnskey"));
    for set in subsets(n, t) {
        let signature = sign(group, &dealing.holders, &set, &data).expect("t holders sign");
        verify_everywhere(group, &data, &signature);
    }
    for set in subsets(n, t - 1) {
        match sign(group, &dealing.holders, &set, &data) {
            Err(Error::NotEnoughShares { need, .. }) if need == t => {}
            other => panic!("{t}-of-{n}: {set:?} must not sign, got {other:?}"),
        }
    }
}

#[test]
fn two_of_three() {
    check_t_of_n(2, 3);
}

#[test]
fn three_of_seven() {
    check_t_of_n(3, 7);
}

#[test]
fn five_of_seven() {
    check_t_of_n(5, 7);
}

#[test]
fn a_package_of_t_minus_one_commitments_is_refused_by_the_holders() {
    // A coordinator that skips the session's check still gets nothing.
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let data = b"data";
    let (nonces, commitments) = dealing.holders[0].commit(&mut OsRng);
    let (_, other) = dealing.holders[1].commit(&mut OsRng);
    let ids = [1u16, 2].map(|i| frost_ed25519::Identifier::try_from(i).expect("id"));
    let package = SigningPackage::new(
        BTreeMap::from([(ids[0], commitments), (ids[1], other)]),
        data,
    );
    assert!(matches!(
        dealing.holders[0].sign(nonces, &package, data),
        Err(Error::Frost { .. })
    ));
}

#[test]
fn split_keeps_the_existing_ed25519_key() {
    let seed = [0x42u8; 32];
    let existing = Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
    let dealing = frost::split(&seed, 2, 3, &mut OsRng).expect("split");
    assert_eq!(
        dealing.group.public_key().expect("public key").as_slice(),
        existing.public_key().as_ref(),
        "the group key is the key that was split"
    );
    let data = signed_data(&dealing.group.dnskey().expect("dnskey"));
    let signature = sign(&dealing.group, &dealing.holders, &[1, 3], &data).expect("sign");
    UnparsedPublicKey::new(&ED25519, existing.public_key().as_ref())
        .verify(&data, &signature)
        .expect("verifies under the original public key");
}

#[test]
fn dkg_in_process_three_of_five() {
    let (t, n) = (3u16, 5u16);
    let mut round1 = BTreeMap::new();
    let mut broadcast = BTreeMap::new();
    for i in 1..=n {
        let (state, package) = dkg::start(i, t, n, &mut OsRng).expect("round 1");
        round1.insert(i, state);
        broadcast.insert(i, package);
    }
    let mut round2 = BTreeMap::new();
    let mut inbox: BTreeMap<u16, BTreeMap<u16, dkg::Round2Package>> = BTreeMap::new();
    for (i, state) in round1 {
        let others = broadcast
            .iter()
            .filter(|(j, _)| **j != i)
            .map(|(j, p)| (*j, p.clone()))
            .collect();
        let (state, outgoing) = state.receive(&others).expect("round 2");
        round2.insert(i, state);
        for (to, package) in outgoing {
            inbox.entry(to).or_default().insert(i, package);
        }
    }
    let mut holders = Vec::new();
    let mut groups = Vec::new();
    for (i, state) in round2 {
        let (holder, group) = state.finish(&inbox[&i]).expect("round 3");
        holders.push(holder);
        groups.push(group);
    }
    assert!(
        groups.windows(2).all(|w| w[0] == w[1]),
        "one group key for all"
    );
    let group = &groups[0];
    let data = signed_data(&group.dnskey().expect("dnskey"));
    let signature = sign(group, &holders, &[2, 4, 5], &data).expect("sign");
    verify_everywhere(group, &data, &signature);
}

#[test]
fn a_cheating_holder_is_named() {
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let group = &dealing.group;
    let data = b"the approved data".to_vec();
    let mut session = SigningSession::new(group, &data);
    let mut nonces = BTreeMap::new();
    for i in [1u16, 2, 4] {
        let (n, c) = dealing.holders[usize::from(i) - 1].commit(&mut OsRng);
        nonces.insert(i, n);
        session.add_commitments(i, c).expect("commitments");
    }
    // A holder outside the group, and a second commitment, are refused.
    let (_, stray) = dealing.holders[2].commit(&mut OsRng);
    assert!(matches!(
        session.add_commitments(9, stray),
        Err(Error::BadShare {
            index: 9,
            fault: ShareFault::UnknownHolder
        })
    ));
    assert!(matches!(
        session.add_commitments(1, stray),
        Err(Error::BadShare {
            index: 1,
            fault: ShareFault::Duplicate
        })
    ));
    let package = session.signing_package().expect("package");

    let mut shares: BTreeMap<u16, SignatureShare> = BTreeMap::new();
    for (i, n) in nonces {
        let share = dealing.holders[usize::from(i) - 1]
            .sign(n, &package, &data)
            .expect("sign");
        shares.insert(i, share);
    }
    // Holder 2 tampers with its share; the session names it and stays usable.
    let mut bytes = shares[&2].serialize();
    bytes[0] ^= 1;
    let tampered = SignatureShare::deserialize(&bytes).expect("still a scalar");
    assert!(matches!(
        session.add_share(2, tampered),
        Err(Error::BadShare {
            index: 2,
            fault: ShareFault::BadFrostShare
        })
    ));
    // Holder 4's genuine share sent as holder 1's is refused as holder 1's.
    assert!(matches!(
        session.add_share(1, shares[&4]),
        Err(Error::BadShare {
            index: 1,
            fault: ShareFault::BadFrostShare
        })
    ));
    // FROST's own aggregation names the cheater too.
    let mut with_cheater = shares.clone();
    with_cheater.insert(2, tampered);
    assert!(matches!(
        aggregate(group, &package, &with_cheater),
        Err(Error::BadShare {
            index: 2,
            fault: ShareFault::BadFrostShare
        })
    ));
    with_cheater.insert(4, shares[&1]);
    match aggregate(group, &package, &with_cheater) {
        Err(Error::BadShares { indices, .. }) => assert_eq!(indices, vec![2, 4]),
        other => panic!("expected both cheaters, got {other:?}"),
    }
    for (i, share) in &shares {
        session.add_share(*i, *share).expect("genuine share");
    }
    let signature = session.aggregate().expect("aggregate");
    verify_everywhere(group, &data, &signature);
}

#[test]
fn a_holder_signs_only_the_data_it_built() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    let mut session = SigningSession::new(&dealing.group, b"what the coordinator wants");
    let (n1, c1) = dealing.holders[0].commit(&mut OsRng);
    let (_, c2) = dealing.holders[1].commit(&mut OsRng);
    session.add_commitments(1, c1).expect("c1");
    session.add_commitments(2, c2).expect("c2");
    let package = session.signing_package().expect("package");
    assert!(matches!(
        dealing.holders[0].sign(n1, &package, b"what the holder approved"),
        Err(Error::MessageMismatch)
    ));
}

#[test]
fn refresh_gives_new_shares_of_the_same_key() {
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let old_key = dealing.group.public_key().expect("key");
    let indices = [1u16, 2, 3, 4, 5];
    let (zero_shares, new_group) =
        refresh::deal_refresh(&dealing.group, &indices, &mut OsRng).expect("refresh");
    let refreshed: Vec<Holder> = dealing
        .holders
        .iter()
        .zip(zero_shares)
        .map(|(h, zero)| h.refresh(zero, &new_group).expect("apply"))
        .collect();
    assert_eq!(new_group.public_key().expect("key"), old_key, "same DNSKEY");
    let data = signed_data(&new_group.dnskey().expect("dnskey"));
    let signature = sign(&new_group, &refreshed, &[1, 3, 5], &data).expect("new shares sign");
    verify_everywhere(&new_group, &data, &signature);

    // An old share no longer fits: holder 1 signs with its pre-refresh share.
    let mixed: Vec<Holder> = refreshed
        .into_iter()
        .enumerate()
        .map(|(n, h)| {
            if n == 0 {
                Holder::from_key_package(dealing.holders[0].key_package().clone())
            } else {
                h
            }
        })
        .collect();
    assert!(matches!(
        sign(&new_group, &mixed, &[1, 2, 3], &data),
        Err(Error::BadShare {
            index: 1,
            fault: ShareFault::BadFrostShare
        })
    ));
}

/// Regression: frost-core 3.0's `refresh_share` kept the pre-refresh verifying
/// share in the new key package, so a refreshed holder did not match the
/// refreshed group (signing still worked, which hid it).
#[test]
fn a_refreshed_holder_carries_the_refreshed_verifying_share() {
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let indices = [2u16, 4, 5];
    let (zero_shares, new_group) =
        refresh::deal_refresh(&dealing.group, &indices, &mut OsRng).expect("refresh");
    let refreshed: Vec<Holder> = indices
        .iter()
        .zip(zero_shares)
        .map(|(i, zero)| {
            holder(&dealing.holders, *i)
                .refresh(zero, &new_group)
                .expect("apply")
        })
        .collect();
    for h in &refreshed {
        let package = h.key_package();
        let old = holder(&dealing.holders, h.index().expect("index")).key_package();
        assert_ne!(
            package.verifying_share(),
            old.verifying_share(),
            "holder {:?}: the verifying share changes with the share",
            h.index()
        );
        assert_eq!(
            new_group
                .package()
                .verifying_shares()
                .get(package.identifier()),
            Some(package.verifying_share()),
            "holder {:?}: the refreshed group's verifying share",
            h.index()
        );
    }
    // The coordinator checks every share against the refreshed group, then aggregates.
    let data = signed_data(&new_group.dnskey().expect("dnskey"));
    let signature = sign(&new_group, &refreshed, &indices, &data).expect("refreshed holders sign");
    verify_everywhere(&new_group, &data, &signature);
}

/// A zero-share from one refresh applied against the group of another: the
/// new share does not match that group, and the holder is named.
#[test]
fn a_refresh_that_does_not_match_the_new_group_names_the_holder() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    let indices = [1u16, 2, 3];
    let (zero_shares, _) =
        refresh::deal_refresh(&dealing.group, &indices, &mut OsRng).expect("refresh a");
    let (_, other_group) =
        refresh::deal_refresh(&dealing.group, &indices, &mut OsRng).expect("refresh b");
    let zero = zero_shares
        .into_iter()
        .nth(1)
        .expect("holder 2's zero-share");
    match holder(&dealing.holders, 2).refresh(zero, &other_group) {
        Err(e @ Error::InvalidKeyShare { index: 2, .. }) => {
            assert!(e.to_string().contains("holder 2"), "{e}");
        }
        other => panic!("a mismatched refresh must name holder 2, got {other:?}"),
    }
}

#[test]
fn repair_rebuilds_a_lost_share() {
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let group = &dealing.group;
    let (lost, helpers) = (2u16, [1u16, 3, 4]);
    // Each helper sends one delta to every helper…
    let mut received: BTreeMap<u16, Vec<repair::Delta>> = BTreeMap::new();
    for h in helpers {
        let deltas = repair::helper_deltas(holder(&dealing.holders, h), &helpers, lost, &mut OsRng)
            .expect("deltas");
        for (to, delta) in deltas {
            received.entry(to).or_default().push(delta);
        }
    }
    // …each helper sends the sum to the holder being repaired.
    let sigmas: Vec<repair::Sigma> = helpers
        .iter()
        .map(|h| repair::helper_sigma(&received[h]))
        .collect();
    let repaired = repair::recover(lost, &sigmas, group).expect("recover");
    assert_eq!(
        repaired.key_package().signing_share(),
        holder(&dealing.holders, lost).key_package().signing_share(),
        "the very share that was lost"
    );
    let mut holders: Vec<Holder> = dealing
        .holders
        .iter()
        .filter(|h| h.index().expect("index") != lost)
        .map(|h| Holder::from_key_package(h.key_package().clone()))
        .collect();
    holders.push(repaired);
    let data = signed_data(&group.dnskey().expect("dnskey"));
    let signature = sign(group, &holders, &[2, 5, 1], &data).expect("sign");
    verify_everywhere(group, &data, &signature);

    assert!(matches!(
        repair::helper_deltas(holder(&dealing.holders, 1), &[1, 2, 3], 2, &mut OsRng),
        Err(Error::Protocol(_))
    ));
}

#[test]
fn holders_and_group_keys_round_trip_through_json() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    let group_json = serde_json::to_string(&dealing.group).expect("serialize");
    let group: GroupKey = serde_json::from_str(&group_json).expect("parse");
    assert_eq!(group, dealing.group);
    let holders: Vec<Holder> = dealing
        .holders
        .iter()
        .map(|h| {
            let json = serde_json::to_string(h).expect("serialize");
            serde_json::from_str(&json).expect("parse")
        })
        .collect();
    let data = b"after a round trip";
    let signature = sign(&group, &holders, &[1, 2], data).expect("sign");
    verify_everywhere(&group, data, &signature);
}
