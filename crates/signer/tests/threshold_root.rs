//! Issue 5's must-show, on real root data: a dealt threshold key in place of
//! the root's KSK signs the real 2017 Q2 root KSR (`ksr-root-2017-q2-0.xml`,
//! 9 bundles) for t-of-n in {2-of-3, 3-of-7, 5-of-7}, with Shoup RSA-2048 and
//! FROST Ed25519.
//!
//! * Every t-subset of holders signs every bundle, through the signer's
//!   threshold backend and [`sign_ksr`] (every KSR check, SKR-VERIFY,
//!   SKR-MATCH, SKR-PAIR), as `ceremony threshold combine` does.
//! * Every resulting signature verifies with `ring`, and every SKR with
//!   dnspython (`scripts/verify-skr-dnspython.py`, all SKRs of one algorithm
//!   in one Python run).
//! * No t−1 subset signs: the combiner refuses, and no SKR comes out.
//!
//! What is relaxed for the foreign KSK, and why:
//! * RSA: nothing. The dealt key is configured under its own label, without a
//!   pinned key tag or DS, so KSK-MATCH checks its algorithm and size only.
//! * Ed25519: KSK-ALGORITHMS (RFC 6840 §5.11) is waived, through
//!   [`ceremony_signer::danger`]: the real KSR's ZSKs are RSA (algorithm 8), so
//!   an Ed25519 KSK does not cover their algorithm. The waiver is reported as
//!   skipped, and the test asserts it is the only check not passed or not
//!   applicable.
//!
//! A holder's RSA signature share over given data does not depend on who else
//! signs, so each RSA holder signs the quarter once, the combiner admits every
//! holder's partials once (each proof verified), and every subset combines
//! from its holders' shares (the combiner verifies them again as it combines).
//! FROST nonces are per signing, so each FROST subset runs both rounds afresh.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};
use ceremony_formats::{icann, Ksr, Skr};
use ceremony_keys::{KeyError, KeySigner};
use ceremony_policy::{CheckId, Outcome};
use ceremony_signer::danger::{sign_ksr_waiving, Waiver};
use ceremony_signer::threshold::{
    admit, partials_for, sha256, signed_data, signed_data_for, BundleData, FrostCombiner, Partials,
    ThresholdCombiner,
};
use ceremony_signer::{sign_ksr, KeyRing, SignError, SignRequest, Signed, SignerConfig};
use ceremony_threshold::{frost, shoup};

/// The quorums the issue asks for: (t, n).
const QUORUMS: [(u16, u16); 3] = [(2, 3), (3, 7), (5, 7)];
/// The real KSR signed.
const KSR: &str = "icann/root/ksr-root-2017-q2-0.xml";
/// The day of its ceremony, as the policy tests judge it.
const NOW: &str = "2017-03-15T00:00:00Z";
/// The label of the threshold KSK in the configuration and the SKR.
const LABEL: &str = "KSK-THRESHOLD";

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// The real KSR and the SHA-256 of its bytes.
fn root_ksr() -> (Ksr, [u8; 32]) {
    let path = shared(KSR);
    let bytes = std::fs::read(&path).expect("read the root KSR");
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    let ksr = icann::parse_ksr(&text, KSR).expect("parse the root KSR");
    assert_eq!(ksr.bundles.len(), 9, "{KSR} has 9 bundles");
    (ksr, sha256(&bytes))
}

/// Root defaults, with the threshold key as the one KSK `ksk`.
fn config(algorithm: &str) -> SignerConfig {
    let text = format!(
        "[keys.ksk]\nlabel = \"{LABEL}\"\nalgorithm = \"{algorithm}\"\nvalid_from = \"2017-01-01T00:00:00Z\"\n"
    );
    SignerConfig::parse(&text, "threshold_root.toml", false).expect("config")
}

fn now() -> jiff::Timestamp {
    NOW.parse().expect("now")
}

/// Every `k`-subset of holders 1..=n, in lexicographic order.
fn subsets(n: u16, k: u16) -> Vec<Vec<u16>> {
    fn extend(from: u16, n: u16, k: u16, current: &mut Vec<u16>, out: &mut Vec<Vec<u16>>) {
        if current.len() == usize::from(k) {
            out.push(current.clone());
            return;
        }
        for i in from..=n {
            current.push(i);
            extend(i + 1, n, k, current, out);
            current.pop();
        }
    }
    let mut out = Vec::new();
    extend(1, n, k, &mut Vec::new(), &mut out);
    out
}

fn binomial(n: u16, k: u16) -> usize {
    (0..usize::from(k)).fold(1, |acc, i| acc * (usize::from(n) - i) / (i + 1))
}

/// Signs the KSR with `key` as the KSK, waiving `waivers`.
fn sign(
    ksr: &Ksr,
    config: &SignerConfig,
    key: &dyn KeySigner,
    waivers: &[Waiver],
) -> Result<Signed, SignError> {
    let schema = config.schema("normal", ksr.bundles.len()).expect("schema");
    let ring: KeyRing<'_> = [("ksk".to_owned(), key)].into_iter().collect();
    let request = SignRequest {
        ksr,
        schema: &schema,
        config,
        keys: &ring,
        previous: None,
        now: now(),
    };
    if waivers.is_empty() {
        sign_ksr(&request)
    } else {
        sign_ksr_waiving(&request, waivers)
    }
}

/// Checks one SKR's signatures with `ring` against the group's DNSKEY, over the
/// signed data the holders were given (one RRSIG per bundle, in order).
fn ring_verify(skr: &Skr, data: &[BundleData], dnskey: &Dnskey, who: &str) -> usize {
    assert_eq!(skr.bundles.len(), data.len(), "{who}");
    for (bundle, expected) in skr.bundles.iter().zip(data) {
        assert_eq!(bundle.id, expected.bundle_id, "{who}");
        assert_eq!(bundle.signatures.len(), 1, "{who}: bundle {}", bundle.id);
        let signature = &bundle.signatures[0];
        assert_eq!(signature.key_tag, dnskey.key_tag(), "{who}");
        assert_eq!(signature.key_identifier, LABEL, "{who}");
        let verified = match dnskey.algorithm() {
            SecurityAlgorithm::RSASHA256 => {
                // RFC 3110 §2: exponent length, exponent, modulus.
                let key = dnskey.public_key();
                let (e_len, rest) = match key[0] {
                    0 => (usize::from(u16::from_be_bytes([key[1], key[2]])), &key[3..]),
                    len => (usize::from(len), &key[1..]),
                };
                let (e, n) = rest.split_at(e_len);
                ring::signature::RsaPublicKeyComponents { n, e }.verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    &expected.data,
                    &signature.signature_data,
                )
            }
            SecurityAlgorithm::ED25519 => ring::signature::UnparsedPublicKey::new(
                &ring::signature::ED25519,
                dnskey.public_key(),
            )
            .verify(&expected.data, &signature.signature_data),
            other => panic!("{who}: unexpected algorithm {other:?}"),
        };
        assert!(
            verified.is_ok(),
            "{who}: ring rejects the signature of bundle {}",
            bundle.id
        );
    }
    data.len()
}

/// Runs dnspython once over every SKR; returns the valid signatures it counts.
fn dnspython(files: &[PathBuf]) -> usize {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify-skr-dnspython.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .args(files)
        .output()
        .expect("run /usr/bin/python3 (apt-get install python3-dnspython python3-cryptography)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dnspython rejects:\n{stdout}{stderr}");
    for file in files {
        assert!(
            stderr.contains(&format!(
                "OK: 9 signature(s) in 9 bundle(s) of {} verify",
                file.display()
            )),
            "{}: no OK line\n{stderr}",
            file.display()
        );
    }
    let summary = stderr
        .lines()
        .find_map(|l| l.strip_prefix("ALL: "))
        .unwrap_or_else(|| panic!("no ALL line:\n{stderr}"));
    summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the count: {summary}"))
}

fn write_skr(dir: &Path, name: &str, skr: &Skr) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, icann::write_skr(skr)).expect("write SKR");
    path
}

/// Asserts a refusal by the threshold key itself: the seam's error, no SKR.
#[track_caller]
fn assert_refused(result: Result<Signed, SignError>, words: &str, who: &str) {
    match result {
        Err(SignError::Key(KeyError::SignFailed { what, reason })) => {
            assert!(what.contains(LABEL), "{who}: {what}");
            assert!(reason.contains(words), "{who}: {reason}");
        }
        Err(other) => panic!("{who}: refused, but for another reason: {other}"),
        Ok(_) => panic!("{who}: signed below the threshold"),
    }
}

#[test]
fn every_t_subset_of_a_shoup_rsa_2048_key_signs_the_real_2017_q2_root_ksr() {
    let started = Instant::now();
    let (ksr, ksr_sha256) = root_ksr();
    let config = config("RSASHA256");
    let schema = config.schema("normal", 9).expect("schema");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut signatures = 0;
    let mut refusals = 0;
    for (t, n) in QUORUMS {
        let dealt = Instant::now();
        let dealing = shoup::deal(2048, t, n, &mut rand_core::OsRng, &mut |_| {}).expect("deal");
        let public = dealing.public_key;
        assert_eq!(public.modulus_bits(), 2048);
        let dnskey = public.dnskey().expect("dnskey");
        eprintln!("{t}-of-{n}: dealt in {:.1?}", dealt.elapsed());

        // Each holder recomputes the quarter's signed data and signs it once.
        let data = signed_data(&ksr, &schema, &config, &public, now()).expect("signed data");
        assert_eq!(data.len(), 9);
        let partials: Vec<Partials> = dealing
            .shares
            .iter()
            .map(|share| partials_for(share, &data, &ksr, &ksr_sha256).expect("partials"))
            .collect();
        let files_of = |subset: &[u16]| -> Vec<(String, Partials)> {
            subset
                .iter()
                .map(|&i| {
                    (
                        format!("partials-{i}.json"),
                        partials[usize::from(i) - 1].clone(),
                    )
                })
                .collect()
        };
        // The combiner admits every holder's file once: each share's proof verifies.
        let everyone: Vec<u16> = (1..=n).collect();
        let admission = admit(&public, &data, &ksr_sha256, &files_of(&everyone));
        assert!(admission.is_ok(), "RSA {t}-of-{n}: {admission:?}");
        assert!(admission.shares.values().all(|s| s.len() == usize::from(n)));
        // The verified shares of `subset`'s holders only, by signed data.
        let shares_of = |subset: &[u16]| -> HashMap<[u8; 32], Vec<shoup::SignatureShare>> {
            admission
                .shares
                .iter()
                .map(|(hash, shares)| {
                    let mine = shares
                        .iter()
                        .filter(|s| subset.contains(&s.index))
                        .cloned()
                        .collect();
                    (*hash, mine)
                })
                .collect()
        };

        let quorum = subsets(n, t);
        assert_eq!(quorum.len(), binomial(n, t));
        let mut first: Option<Skr> = None;
        for subset in &quorum {
            let who = format!("RSA {t}-of-{n}, holders {subset:?}");
            let key = ThresholdCombiner::new(LABEL, public.clone())
                .expect("combiner")
                .with_shares(shares_of(subset));
            let signed = sign(&ksr, &config, &key, &[]).unwrap_or_else(|e| panic!("{who}: {e}"));
            assert!(signed.report.is_ok(), "{who}: {:#?}", signed.report);
            signatures += ring_verify(&signed.skr, &data, &dnskey, &who);
            // RSASSA-PKCS1-v1_5 is deterministic: every quorum makes the same bytes.
            match &first {
                None => first = Some(signed.skr.clone()),
                Some(skr) => assert_eq!(
                    icann::write_skr(skr),
                    icann::write_skr(&signed.skr),
                    "{who}: another SKR than the first quorum's"
                ),
            }
            let name = format!(
                "rsa-{t}-of-{n}-{}.xml",
                subset
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join("-")
            );
            files.push(write_skr(dir.path(), &name, &signed.skr));
        }

        // t−1 holders: `threshold combine` with their files says the quorum is
        // short for every bundle…
        let short = subsets(n, t - 1);
        let admission = admit(&public, &data, &ksr_sha256, &files_of(&short[0]));
        assert!(admission.rejected.is_empty(), "{admission:?}");
        assert_eq!(admission.short.len(), 9, "{admission:?}");
        assert!(
            admission.short[0].contains(&format!("{t} needed: the quorum is missing 1 more")),
            "{}",
            admission.short[0]
        );
        // …and for every t−1 subset, the key itself refuses to sign with their shares.
        for subset in &short {
            let who = format!("RSA {t}-of-{n}, holders {subset:?} only");
            let key = ThresholdCombiner::new(LABEL, public.clone())
                .expect("combiner")
                .with_shares(shares_of(subset));
            assert_refused(
                sign(&ksr, &config, &key, &[]),
                &format!("{} valid signature shares, {t} needed", t - 1),
                &who,
            );
            refusals += 1;
        }
        eprintln!(
            "{t}-of-{n}: {} quorums signed, {} short quorums refused, {:.1?} since the start",
            quorum.len(),
            binomial(n, t - 1),
            started.elapsed()
        );
    }
    assert_eq!(files.len(), 3 + 35 + 21);
    assert_eq!(signatures, 59 * 9);
    assert_eq!(refusals, 3 + 21 + 35);
    let checked = Instant::now();
    assert_eq!(dnspython(&files), 59 * 9);
    eprintln!(
        "RSA: {} SKRs, {signatures} signatures verified by ring and dnspython (dnspython {:.1?}); {refusals} short quorums refused; {:.1?} in all",
        files.len(),
        checked.elapsed(),
        started.elapsed()
    );
}

/// Runs FROST's two rounds for every bundle among `signers`; `withheld` holders
/// commit but never send their share. Returns the coordinator's sessions.
fn frost_rounds(
    dealing: &frost::Dealing,
    data: &[BundleData],
    signers: &[u16],
    withheld: &[u16],
) -> HashMap<[u8; 32], frost::SigningSession> {
    let mut rng = rand_core::OsRng;
    let mut sessions = HashMap::new();
    for bundle in data {
        let mut session = frost::SigningSession::new(&dealing.group, &bundle.data);
        let mut nonces = Vec::new();
        for &i in signers.iter().chain(withheld) {
            let holder = &dealing.holders[usize::from(i) - 1];
            let (secret, commitments) = holder.commit(&mut rng);
            session
                .add_commitments(i, commitments)
                .expect("commitments");
            nonces.push((i, secret));
        }
        let package = session.signing_package().expect("package");
        for (i, secret) in nonces {
            if withheld.contains(&i) {
                continue;
            }
            // The holder signs only the data it computed itself.
            let share = dealing.holders[usize::from(i) - 1]
                .sign(secret, &package, &bundle.data)
                .expect("signature share");
            session.add_share(i, share).expect("share verifies");
        }
        sessions.insert(sha256(&bundle.data), session);
    }
    sessions
}

#[test]
fn every_t_subset_of_a_frost_ed25519_key_signs_the_real_2017_q2_root_ksr() {
    let started = Instant::now();
    let (ksr, _) = root_ksr();
    let config = config("ED25519");
    let schema = config.schema("normal", 9).expect("schema");
    let waivers = [Waiver {
        id: CheckId::KskAlgorithms,
        reason: "an Ed25519 test key in place of the root's RSA KSK, over the real KSR's RSA ZSKs"
            .to_owned(),
    }];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut signatures = 0;
    let mut refusals = 0;
    for (t, n) in QUORUMS {
        let dealing = frost::deal(t, n, &mut rand_core::OsRng).expect("deal");
        let dnskey = dealing.group.dnskey().expect("dnskey");
        assert_eq!(dnskey.algorithm(), SecurityAlgorithm::ED25519);
        let data = signed_data_for(&ksr, &schema, &config, &dnskey, now()).expect("signed data");
        assert_eq!(data.len(), 9);
        // Without the waiver the real KSR is refused, by KSK-ALGORITHMS alone.
        let unwaived = FrostCombiner::new(LABEL, dealing.group.clone()).expect("combiner");
        match sign(&ksr, &config, &unwaived, &[]) {
            Err(SignError::Policy(report)) => {
                assert_eq!(
                    report.failed().collect::<Vec<_>>(),
                    [CheckId::KskAlgorithms]
                );
            }
            other => panic!("Ed25519 {t}-of-{n} without the waiver: {other:?}"),
        }

        let quorum = subsets(n, t);
        assert_eq!(quorum.len(), binomial(n, t));
        for subset in &quorum {
            let who = format!("Ed25519 {t}-of-{n}, holders {subset:?}");
            let key = FrostCombiner::new(LABEL, dealing.group.clone())
                .expect("combiner")
                .with_sessions(frost_rounds(&dealing, &data, subset, &[]));
            let signed =
                sign(&ksr, &config, &key, &waivers).unwrap_or_else(|e| panic!("{who}: {e}"));
            // The waiver is the only check that did not pass (or not apply).
            for result in &signed.report.results {
                match (&result.id, &result.outcome) {
                    (CheckId::KskAlgorithms, Outcome::Skipped(why)) => {
                        assert!(why.contains("waived for this signing"), "{who}: {why}");
                        assert!(why.contains("algorithms [8]"), "{who}: {why}");
                    }
                    (_, Outcome::Passed(_) | Outcome::NotApplicable(_)) => {}
                    (id, outcome) => panic!("{who}: {id} is {outcome:?}"),
                }
            }
            signatures += ring_verify(&signed.skr, &data, &dnskey, &who);
            let name = format!(
                "ed25519-{t}-of-{n}-{}.xml",
                subset
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join("-")
            );
            files.push(write_skr(dir.path(), &name, &signed.skr));
        }

        for subset in subsets(n, t - 1) {
            let who = format!("Ed25519 {t}-of-{n}, holders {subset:?} only");
            // A coordinator cannot fix a signing package with t−1 commitments…
            let mut session = frost::SigningSession::new(&dealing.group, &data[0].data);
            for &i in &subset {
                let (_, commitments) =
                    dealing.holders[usize::from(i) - 1].commit(&mut rand_core::OsRng);
                session
                    .add_commitments(i, commitments)
                    .expect("commitments");
            }
            match session.signing_package() {
                Err(ceremony_threshold::Error::NotEnoughShares { have, need }) => {
                    assert_eq!((have, need), (usize::from(t) - 1, t), "{who}");
                }
                other => panic!("{who}: a package for t−1 signers: {other:?}"),
            }
            // …and when a t-th holder commits but withholds its share, the t−1
            // shares do not aggregate: the key refuses, no SKR.
            let absent = (1..=n)
                .find(|i| !subset.contains(i))
                .expect("an absent holder");
            let key = FrostCombiner::new(LABEL, dealing.group.clone())
                .expect("combiner")
                .with_sessions(frost_rounds(&dealing, &data, &subset, &[absent]));
            assert_refused(
                sign(&ksr, &config, &key, &waivers),
                &format!("{} valid signature shares, {t} needed", t - 1),
                &who,
            );
            refusals += 1;
        }
    }
    assert_eq!(files.len(), 3 + 35 + 21);
    assert_eq!(signatures, 59 * 9);
    assert_eq!(refusals, 3 + 21 + 35);
    let checked = Instant::now();
    assert_eq!(dnspython(&files), 59 * 9);
    eprintln!(
        "Ed25519: {} SKRs, {signatures} signatures verified by ring and dnspython (dnspython {:.1?}); {refusals} short quorums refused; {:.1?} in all",
        files.len(),
        checked.elapsed(),
        started.elapsed()
    );
}
