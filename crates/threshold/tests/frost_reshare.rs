//! Moving a FROST Ed25519 key to a new holder set (`frost::reshare`): enrol
//! new indices by repair, refresh onto the new set, same group key; the
//! threshold cannot change.

mod common;

use std::collections::BTreeMap;

use ceremony_threshold::frost::{self, refresh, repair, reshare, GroupKey, Holder};
use ceremony_threshold::{Error, ShareFault};
use common::frost::{holder, sign, signed_data, verify_everywhere};
use common::subsets;
use rand_core::OsRng;

/// The repair sigmas that `helpers` send to new index `new`.
fn sigmas(holders: &[Holder], helpers: &[u16], new: u16) -> Vec<repair::Sigma> {
    let mut received: BTreeMap<u16, Vec<repair::Delta>> = BTreeMap::new();
    for h in helpers {
        let deltas =
            repair::helper_deltas(holder(holders, *h), helpers, new, &mut OsRng).expect("deltas");
        for (to, delta) in deltas {
            received.entry(to).or_default().push(delta);
        }
    }
    helpers
        .iter()
        .map(|h| repair::helper_sigma(&received[h]))
        .collect()
}

fn copy(h: &Holder) -> Holder {
    Holder::from_key_package(h.key_package().clone())
}

#[test]
fn two_of_three_moves_to_two_of_four_new_holders_with_the_same_key() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    let old_key = dealing.group.public_key().expect("key");
    reshare::check_threshold(&dealing.group, 2).expect("same threshold");

    // Holder 1 leaves; 4 and 5 join, enrolled by helpers 1 and 3.
    let extended = reshare::extend_group(&dealing.group, &[4, 5]).expect("extend");
    assert_eq!(extended.holders(), vec![1, 2, 3, 4, 5]);
    let mut stay: Vec<Holder> = [2u16, 3]
        .iter()
        .map(|i| copy(holder(&dealing.holders, *i)))
        .collect();
    for new in [4u16, 5] {
        let sigmas = sigmas(&dealing.holders, &[1, 3], new);
        stay.push(repair::recover(new, &sigmas, &extended).expect("enrol"));
    }

    let new_set = [2u16, 3, 4, 5];
    let (zero_shares, new_group) =
        refresh::deal_refresh(&extended, &new_set, &mut OsRng).expect("refresh");
    let new_holders: Vec<Holder> = stay
        .iter()
        .zip(zero_shares)
        .map(|(h, zero)| h.refresh(zero, &new_group).expect("apply"))
        .collect();
    assert_eq!(new_group.public_key().expect("key"), old_key, "same DNSKEY");
    assert_eq!(new_group.holders(), new_set.to_vec(), "holder 1 is gone");
    assert_eq!(new_group.min_signers().expect("t"), 2);

    let data = signed_data(&new_group.dnskey().expect("dnskey"));
    let pairs = subsets(5, 2)
        .into_iter()
        .filter(|set| !set.contains(&1))
        .collect::<Vec<_>>();
    assert_eq!(pairs.len(), 6, "C(4,2)");
    for set in pairs {
        let signature = sign(&new_group, &new_holders, &set, &data).expect("sign");
        verify_everywhere(&new_group, &data, &signature);
    }

    // Holder 2's pre-refresh share with new holder 3: refused, holder 2 named.
    let mixed = vec![
        copy(holder(&dealing.holders, 2)),
        copy(holder(&new_holders, 3)),
    ];
    assert!(matches!(
        sign(&new_group, &mixed, &[2, 3], &data),
        Err(Error::BadShare {
            index: 2,
            fault: ShareFault::BadFrostShare
        })
    ));
    // Removed holder 1 is no longer in the group at all.
    let with_removed = vec![
        copy(holder(&dealing.holders, 1)),
        copy(holder(&new_holders, 4)),
    ];
    assert!(sign(&new_group, &with_removed, &[1, 4], &data).is_err());
}

#[test]
fn an_enrolment_that_does_not_match_the_group_is_refused() {
    let dealing = frost::deal(3, 5, &mut OsRng).expect("deal");
    let extended = reshare::extend_group(&dealing.group, &[6]).expect("extend");
    // Extending keeps every existing verifying share.
    for i in 1..=5u16 {
        let id = frost_ed25519::Identifier::try_from(i).expect("id");
        assert_eq!(
            extended.package().verifying_shares().get(&id),
            dealing.group.package().verifying_shares().get(&id)
        );
    }
    let sigmas = sigmas(&dealing.holders, &[1, 2, 4], 6);
    repair::recover(6, &sigmas, &extended).expect("three helpers enrol 6");
    // Two of the three sigmas rebuild some other scalar: the interpolated
    // verifying share of 6 catches it.
    assert!(matches!(
        repair::recover(6, &sigmas[..2], &extended),
        Err(Error::Protocol(_))
    ));
    // Without the extension there is nothing to check 6 against.
    assert!(repair::recover(6, &sigmas, &dealing.group).is_err());
}

#[test]
fn the_threshold_cannot_change() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    match reshare::check_threshold(&dealing.group, 3) {
        Err(Error::InvalidParameters(text)) => {
            assert!(text.contains("keeps its threshold"), "{text}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let group: &GroupKey = &dealing.group;
    assert!(reshare::check_threshold(group, 2).is_ok());
}

/// A scalar with its first byte changed (still canonical: the top byte is untouched).
fn bump(bytes: &[u8]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    bytes[0] ^= 1;
    bytes
}

#[test]
fn committed_repair_messages_name_the_helper_that_sent_a_bad_one() {
    let dealing = frost::deal(2, 3, &mut OsRng).expect("deal");
    let (helpers, new) = ([1u16, 3], 4u16);
    let extended = reshare::extend_group(&dealing.group, &[new]).expect("extend");
    let mut commitments: BTreeMap<u16, repair::DeltaCommitments> = BTreeMap::new();
    let mut received: BTreeMap<u16, Vec<(u16, repair::Delta)>> = BTreeMap::new();
    for h in helpers {
        let deltas = repair::helper_deltas(holder(&dealing.holders, h), &helpers, new, &mut OsRng)
            .expect("deltas");
        let c = repair::commit_deltas(&deltas).expect("commit");
        repair::check_commitments(&dealing.group, &helpers, new, h, &c).expect("commitments");
        commitments.insert(h, c);
        for (to, delta) in deltas {
            received.entry(to).or_default().push((h, delta));
        }
    }
    // Helper 1's commitments claimed for helper 3 do not sum to 3's part.
    assert!(matches!(
        repair::check_commitments(&dealing.group, &helpers, new, 3, &commitments[&1]),
        Err(Error::BadCommitments { dealer: 3, .. })
    ));
    let mut sigmas = BTreeMap::new();
    for (k, deltas) in &received {
        for (from, delta) in deltas {
            repair::check_delta(*from, *k, delta, &commitments[from]).expect("delta");
        }
        let plain: Vec<repair::Delta> = deltas.iter().map(|(_, d)| *d).collect();
        sigmas.insert(*k, repair::helper_sigma(&plain));
    }
    // A delta from helper 1 to helper 3, changed in transit.
    let (from, delta) = received[&3][0];
    let bad = repair::Delta::deserialize(&bump(&delta.serialize())).expect("delta");
    match repair::check_delta(from, 3, &bad, &commitments[&from]) {
        Err(e @ Error::BadSubShare { dealer: 1, .. }) => {
            assert!(e.to_string().contains("old holder 1"), "{e}");
        }
        other => panic!("a bad delta must name helper 1, got {other:?}"),
    }
    for (k, sigma) in &sigmas {
        repair::check_sigma(*k, new, sigma, &commitments).expect("sigma");
    }
    // Helper 3's sigma, changed: named before the share is rebuilt.
    let bad = repair::Sigma::deserialize(&bump(&sigmas[&3].serialize())).expect("sigma");
    assert!(matches!(
        repair::check_sigma(3, new, &bad, &commitments),
        Err(Error::BadSubShare {
            dealer: 3,
            recipient: 4,
            ..
        })
    ));
    let all: Vec<repair::Sigma> = sigmas.values().copied().collect();
    let enrolled = repair::recover(new, &all, &extended).expect("recover");
    let mut signers: Vec<Holder> = vec![copy(holder(&dealing.holders, 2)), enrolled];
    signers.sort_by_key(|h| h.index().expect("index"));
    let data = signed_data(&extended.dnskey().expect("dnskey"));
    let signature = sign(&extended, &signers, &[2, 4], &data).expect("2 and 4 sign");
    verify_everywhere(&extended, &data, &signature);
}
