//! The quorum end to end: split, any M of N unlock, fewer do not, tampering and
//! mixing are named, transfer, the keystore opens, and no file holds a secret.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use base64::Engine as _;
use ceremony_dnssec::SecurityAlgorithm;
use ceremony_keys::keystore::Keystore;
use ceremony_keys::KeySigner as _;
use ceremony_quorum::{
    activate, activate_unlock, activate_with, kek_recipient, kek_unlock, new_kek, seal_pin, split,
    transfer, unseal_pin, write_split, AgeIdentity, DecryptedShare, EncryptedShare,
    HolderRecipient, QuorumError, QuorumInfo, SecretString, Unlock,
};

struct Fixture {
    kek: zeroize::Zeroizing<[u8; 32]>,
    ids: Vec<AgeIdentity>,
    info: QuorumInfo,
    shares: Vec<EncryptedShare>,
}

fn fixture(m: u8, n: u8) -> Fixture {
    let kek = new_kek().unwrap();
    let ids: Vec<AgeIdentity> = (0..n).map(|_| AgeIdentity::generate()).collect();
    let recipients: Vec<HolderRecipient> = ids
        .iter()
        .map(|id| HolderRecipient::X25519(id.to_public()))
        .collect();
    let split = split(&kek, m, n, &recipients).unwrap();
    Fixture {
        kek,
        ids,
        info: split.info,
        shares: split.shares,
    }
}

impl Fixture {
    fn decrypt(&self, indexes: &[usize]) -> Vec<DecryptedShare> {
        indexes
            .iter()
            .map(|&i| {
                self.shares[i]
                    .decrypt(&Unlock::Identity(self.ids[i].clone()))
                    .unwrap()
            })
            .collect()
    }
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
        .collect()
}

#[test]
fn every_three_of_five_unlocks_and_every_two_does_not() {
    let f = fixture(3, 5);
    for k in 3..=5 {
        for subset in subsets(5, k) {
            let kek = activate(&f.info, &f.decrypt(&subset)).unwrap();
            assert_eq!(*kek, *f.kek, "subset {subset:?}");
        }
    }
    for k in 0..3 {
        for subset in subsets(5, k) {
            let err = activate(&f.info, &f.decrypt(&subset)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("insufficient shares (have {k}, need 3)")
            );
        }
    }
}

#[test]
fn three_of_seven_sampled() {
    let f = fixture(3, 7);
    // Every 3-subset (35) and a sample of larger ones.
    for subset in subsets(7, 3)
        .into_iter()
        .chain(subsets(7, 5).into_iter().step_by(4))
    {
        let unlock = activate_unlock(&f.info, &f.decrypt(&subset)).unwrap();
        let Unlock::Identity(id) = unlock else {
            panic!("not an identity")
        };
        assert_eq!(id.to_public().to_string(), f.info.kek_recipient);
    }
    let err = activate(&f.info, &f.decrypt(&[6, 0])).unwrap_err();
    assert!(matches!(
        err,
        QuorumError::Insufficient { have: 2, need: 3 }
    ));
}

#[test]
fn a_tampered_decrypted_share_is_named() {
    let f = fixture(3, 5);
    let mut shares = f.decrypt(&[0, 2, 4]);
    shares[1].tamper_for_tests(5);
    let err = activate(&f.info, &shares).unwrap_err();
    assert!(matches!(err, QuorumError::Tampered { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("share 3"), "{text}");
    assert!(text.contains(&f.ids[2].to_public().to_string()), "{text}");
}

#[test]
fn a_tampered_ciphertext_is_named() {
    let f = fixture(2, 3);
    let text = f.shares[1].to_text();
    // Change one base64 character of the body, near the end (the payload chunk).
    let end = text.find("-----END").unwrap();
    let at = end - 8;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let bad = EncryptedShare::parse(std::str::from_utf8(&bytes).unwrap(), "share-2.age").unwrap();
    let err = bad
        .decrypt(&Unlock::Identity(f.ids[1].clone()))
        .unwrap_err();
    assert!(matches!(err, QuorumError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("share 2"), "{err}");
    assert!(err.to_string().contains("share-2.age"), "{err}");
}

#[test]
fn a_wrong_credential_is_named() {
    let f = fixture(2, 3);
    let err = f.shares[0]
        .decrypt(&Unlock::Identity(f.ids[1].clone()))
        .unwrap_err();
    assert!(matches!(err, QuorumError::WrongCredential { .. }), "{err}");
    assert!(err.to_string().contains("share 1"), "{err}");
}

#[test]
fn shares_of_two_quorums_are_not_mixed() {
    let a = fixture(2, 3);
    let b = fixture(2, 3);
    let mut shares = a.decrypt(&[0]);
    shares.extend(b.decrypt(&[1]));
    let err = activate(&a.info, &shares).unwrap_err();
    assert!(matches!(err, QuorumError::ForeignShare { .. }), "{err}");
    assert!(err.to_string().contains("share 2"), "{err}");
    // Even with the other quorum's file, the first share is refused.
    let err = activate(&b.info, &shares).unwrap_err();
    assert!(matches!(err, QuorumError::ForeignShare { .. }), "{err}");
}

#[test]
fn a_duplicate_share_does_not_count() {
    let f = fixture(3, 5);
    let err = activate(&f.info, &f.decrypt(&[0, 1, 1])).unwrap_err();
    assert!(
        matches!(err, QuorumError::Duplicate { index: 2, .. }),
        "{err}"
    );
}

#[test]
fn parameters_are_checked() {
    let kek = new_kek().unwrap();
    let r = HolderRecipient::X25519(AgeIdentity::generate().to_public());
    assert!(split(&kek, 1, 1, std::slice::from_ref(&r)).is_err());
    assert!(split(&kek, 3, 2, &[r.clone(), r.clone()]).is_err());
    assert!(split(&kek, 2, 3, &[r.clone(), r]).is_err());
}

#[test]
fn passphrase_holders() {
    let kek = new_kek().unwrap();
    let recipients: Vec<HolderRecipient> = (0..3)
        .map(|i| HolderRecipient::Passphrase {
            passphrase: SecretString::from(format!("holder {i} passphrase")),
            work_factor: Some(4),
        })
        .collect();
    let s = split(&kek, 2, 3, &recipients).unwrap();
    let shares: Vec<(EncryptedShare, Unlock)> = [0, 2]
        .iter()
        .map(|&i| {
            (
                s.shares[i].clone(),
                Unlock::passphrase(format!("holder {i} passphrase")),
            )
        })
        .collect();
    assert_eq!(*activate_with(&s.info, &shares).unwrap(), *kek);
    let err = s.shares[1]
        .decrypt(&Unlock::passphrase("wrong"))
        .unwrap_err();
    assert!(matches!(err, QuorumError::WrongCredential { .. }), "{err}");
}

#[test]
fn a_transferred_share_opens_with_the_one_time_key() {
    let f = fixture(2, 3);
    let one_time = AgeIdentity::generate();
    let (moved, event) = transfer(
        &f.shares[2],
        &Unlock::Identity(f.ids[2].clone()),
        &one_time.to_public(),
    )
    .unwrap();
    assert_eq!(event.index, 3);
    assert_eq!(event.to, one_time.to_public().to_string());
    assert_eq!(event.share_hash, f.shares[2].share_hash);
    let reparsed = EncryptedShare::parse(&moved.to_text(), "moved").unwrap();
    assert_eq!(
        reparsed.transferred_to.as_deref(),
        Some(one_time.to_public().to_string().as_str())
    );
    // The holder's own identity no longer opens the transferred copy.
    assert!(reparsed
        .decrypt(&Unlock::Identity(f.ids[2].clone()))
        .is_err());
    let kek = activate_with(
        &f.info,
        &[
            (f.shares[0].clone(), Unlock::Identity(f.ids[0].clone())),
            (reparsed, Unlock::Identity(one_time)),
        ],
    )
    .unwrap();
    assert_eq!(*kek, *f.kek);
}

#[test]
fn files_round_trip_and_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture(3, 5);
    let split = ceremony_quorum::Split {
        info: f.info.clone(),
        shares: f.shares.clone(),
    };
    write_split(dir.path(), &split).unwrap();
    // Writing again refuses to replace anything.
    assert!(write_split(dir.path(), &split).is_err());
    let info = QuorumInfo::read(&dir.path().join("quorum.json")).unwrap();
    assert_eq!(info, f.info);

    // A keystore key encrypted to the KEK's recipient, and a sealed PIN.
    let keystore = Keystore::create(dir.path().join("keystore")).unwrap();
    let unlock = kek_unlock(&f.kek).unwrap();
    keystore
        .generate("KSK-Q", SecurityAlgorithm::ECDSAP256SHA256, 256, &unlock)
        .unwrap();
    let sealed = seal_pin(
        &kek_recipient(&f.kek).unwrap(),
        &SecretString::from("1234".to_owned()),
    )
    .unwrap();
    std::fs::write(dir.path().join("sealed-pin.age"), &sealed).unwrap();

    // Activate from the files with three holders, open the key, sign and verify.
    let shares: Vec<(EncryptedShare, Unlock)> = [1usize, 3, 4]
        .iter()
        .map(|&i| {
            (
                EncryptedShare::read(&dir.path().join(format!("share-{}.age", i + 1))).unwrap(),
                Unlock::Identity(f.ids[i].clone()),
            )
        })
        .collect();
    let kek = activate_with(&info, &shares).unwrap();
    let key = keystore.load("KSK-Q", &kek_unlock(&kek).unwrap()).unwrap();
    let signature = key.sign(b"quorum test message").unwrap();
    ceremony_dnssec::verify(key.dnskey(), b"quorum test message", &signature).unwrap();
    let pin = unseal_pin(&kek, &sealed).unwrap();
    assert_eq!(age::secrecy::ExposeSecret::expose_secret(&pin), "1234");
    // Another KEK does not open the PIN.
    assert!(unseal_pin(&new_kek().unwrap(), &sealed).is_err());

    // No file holds the KEK, its identity, or the key in the clear.
    let identity = kek_unlock(&kek).unwrap();
    let Unlock::Identity(identity) = identity else {
        panic!()
    };
    let identity_text = age::secrecy::ExposeSecret::expose_secret(&identity.to_string()).to_owned();
    let mut needles: Vec<Vec<u8>> = secret_forms(&kek[..]);
    needles.extend(secret_forms(&key.pkcs8()[..]));
    needles.push(identity_text.as_bytes().to_vec());
    needles.push(identity_text.to_lowercase().into_bytes());
    scan(dir.path(), &needles);
}

/// The bytes, hex (both cases) and base64 (standard, URL-safe, with and without padding).
fn secret_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let forms = vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        b64.trim_end_matches('=').as_bytes().to_vec(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
    ];
    // A long secret's base64 in a file may be wrapped: also look for its first 40 characters.
    let mut more = forms.clone();
    if b64.len() > 40 {
        more.push(b64.as_bytes()[..40].to_vec());
    }
    more
}

fn scan(dir: &Path, needles: &[Vec<u8>]) {
    let mut count = 0;
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds a secret",
                entry.display()
            );
        }
        count += 1;
    }
    assert!(count >= 8, "scanned {count} files");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
