//! FROST test helpers: the signed data, both signing rounds, verification.

use std::collections::BTreeMap;

use ceremony_dnssec::{parse_name, Dnskey, RrsigHeader, SecurityAlgorithm};
use ceremony_threshold::frost::{GroupKey, Holder, SessionStatus, SigningSession};
use ceremony_threshold::Error;
use rand_core::OsRng;
use ring::signature::{UnparsedPublicKey, ED25519};

/// The RRSIG signed data over `.`'s DNSKEY RRset: the group KSK and a ZSK.
pub fn signed_data(ksk: &Dnskey) -> Vec<u8> {
    let root = parse_name(".").expect("root");
    let zsk = Dnskey::new(256, 3, SecurityAlgorithm::ED25519, vec![7; 32]).expect("zsk");
    RrsigHeader::for_dnskeys(&root, ksk, 172_800, 1_735_689_600, 1_737_504_000)
        .signed_data_dnskeys(&root, [ksk, &zsk])
        .expect("signed data")
}

/// The holder with this index.
pub fn holder(holders: &[Holder], index: u16) -> &Holder {
    holders
        .iter()
        .find(|h| h.index().expect("index") == index)
        .expect("holder present")
}

/// Runs both rounds with the holders in `set`, each signing the data it built itself.
pub fn sign(
    group: &GroupKey,
    holders: &[Holder],
    set: &[u16],
    data: &[u8],
) -> Result<[u8; 64], Error> {
    let mut session = SigningSession::new(group, data);
    let mut nonces = BTreeMap::new();
    for &i in set {
        let (n, commitments) = holder(holders, i).commit(&mut OsRng);
        nonces.insert(i, n);
        session.add_commitments(i, commitments)?;
    }
    let package = session.signing_package()?;
    for (i, n) in nonces {
        let share = holder(holders, i).sign(n, &package, data)?;
        session.add_share(i, share)?;
    }
    assert_eq!(session.status()?, SessionStatus::Ready);
    session.aggregate()
}

pub fn verify_everywhere(group: &GroupKey, data: &[u8], signature: &[u8; 64]) {
    let public = group.public_key().expect("public key");
    UnparsedPublicKey::new(&ED25519, public)
        .verify(data, signature)
        .expect("ring verifies the aggregate as plain Ed25519");
    let dnskey = group.dnskey().expect("dnskey");
    assert_eq!(
        (dnskey.flags(), dnskey.algorithm()),
        (257, SecurityAlgorithm::ED25519)
    );
    ceremony_dnssec::verify(&dnskey, data, signature).expect("DNSSEC algorithm 15 verifies");
    group.verify(data, signature).expect("group key verifies");
}
