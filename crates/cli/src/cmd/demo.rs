//! `ceremony demo`: a complete small ceremony, explained step by step as a script reads.
//!
//! Everything runs on embedded defaults. By default the KSK is a 3-of-7
//! Shoup threshold RSA-2048 key: the dealer (its safe-prime search shown as
//! progress on standard error) hands one share to each of seven simulated
//! TCRs and erases the rest. The zone operator's part is played (three ZSKs
//! and a 9-bundle KSR with proof of possession for the next quarter), the KSR
//! is checked, and three TCRs picked at random each recompute the signed data
//! with the signer's own code, run the same checks, approve (signed with their
//! identity key) and make partial signatures with proofs; the coordinator
//! admits only shares over the data it recomputed whose proofs verify, and
//! signs through the threshold backend. Each combined signature is then
//! checked under the DNSKEY alone, as any validator does. With `--key
//! keystore` the KSK is one key generated into the encrypted software keystore
//! instead. The SKR is verified and published with the trust anchor. All files
//! go into `--dir`.
//!
//! With `--format knot` or `--format bind` the same ceremony runs through
//! that program's offline-KSK format: the zone operator's KSR is a Knot DNS
//! or BIND 9 KSR (no proof of possession), the checks use the text preset,
//! and the KSK answers by that program's rules (`ceremony sign --preset`).
//!
//! The ceremony is recorded as it goes: `DIR/transcript/` is its Merkle log,
//! one batch and one signed checkpoint per act, each checkpoint cosigned by a
//! witness played in this process (its state in `DIR/witness/`). The TCRs are
//! recorded present with their identity keys, then each approval and partial
//! signature. Every output
//! is logged before it is renamed into place (see [`crate::ceremony_log`]).
//! The log and witness keys live only in this process, so the log cannot be
//! extended later: the demo closes it, verifies it as `ceremony transcript
//! verify` does, and shows its root hash as PGP words.

use std::path::Path;

use ceremony_dnssec::{algorithm_name, DigestAlgorithm, Dnskey, Ds, Name, SecurityAlgorithm};
use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::model::{TextKsr, TextSkr};
use ceremony_formats::{bind, icann, knot, Document, Fingerprint, Ksr, Skr};
use ceremony_keys::keystore::{Keystore, Unlock};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;
use ceremony_policy::{verify_skr, CheckId, Outcome, Report, SkrContext};
use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
use ceremony_signer::textsign::{
    overlay_request_policy, request_policy, sign_text_ksr, verify_text_skr, Peer, TextPolicy,
};
use ceremony_signer::threshold::{
    admit, partials_for, sha256, signed_data_for, text_signed_data, BundleData, ThresholdCombiner,
};
use ceremony_signer::{check, sign_ksr, KeyRing, Schema, SignError, SignRequest, SignerConfig};
use ceremony_threshold::shoup::{KeyShare, ThresholdPublicKey};
use jiff::Timestamp;
use ring::rand::SystemRandom;

use ceremony_transcript::entry::{
    Approval, BundleHash, DeclaredKey, Digest, PartialSignatureReceived, ParticipantPresent,
    TCR_ROLE,
};
use ceremony_transcript::{Cosigner, Event, Signer, Witness};

use super::emit;
use super::sign::sign_failure;
use super::transcript::{audit, render_audit, Keys};
use crate::args::{DemoKey, Global};
use crate::ceremony_log::{check_report, file_read, key_event, signatures, Recorder, WITNESS_ROLE};
use crate::render::{self, FileFacts};
use crate::{Env, Failure};

const INTRO: &str = "\
A DNSSEC key ceremony

The root zone's Key Signing Key (KSK) lives offline. Each quarter the zone
operator sends a Key Signing Request (KSR): nine bundles, one per 10-day slot,
each holding the Zone Signing Keys (ZSKs) to publish and a ZSK self-signature
proving possession. In the ceremony the KSK operator checks the KSR against
policy, the KSK signs every bundle, and the Signed Key Response (SKR) goes back.
Everyone present compares the hash of each file, read aloud as PGP words.

";

/// A low scrypt work factor: the demo keystore holds a throw-away key.
const DEMO_WORK_FACTOR: u8 = 14;
const KSK_LABEL: &str = "KSK-DEMO";
/// The witness the demo plays.
const WITNESS: &str = "witness.demo/w1";
/// Its state directory, inside the demo's directory.
const WITNESS_DIR: &str = "witness";

fn step(env: &mut dyn Env, title: &str) -> Result<(), Failure> {
    emit(env, &format!("\n== {title}\n\n"))
}

/// The first day of the quarter after `now`: the next KSR's first inception.
fn next_quarter(now: Timestamp) -> Result<Timestamp, Failure> {
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let (year, month) = match date.month() {
        1..=3 => (date.year(), 4),
        4..=6 => (date.year(), 7),
        7..=9 => (date.year(), 10),
        _ => (date.year() + 1, 1),
    };
    jiff::civil::date(year, month, 1)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| Failure::input(format!("no next quarter: {e}")))
}

fn random_secret() -> Result<String, Failure> {
    let mut bytes = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Failure::environment("no randomness"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn heading(kind: &str, name: &str, bytes: &[u8]) -> String {
    let fingerprint = Fingerprint::of(bytes);
    render::file_heading(
        kind,
        &FileFacts {
            name,
            size: bytes.len(),
            fingerprint: &fingerprint,
        },
    )
}

/// The demo's KSR in a Knot DNS or BIND 9 file: the same bundles and ZSKs, no self-signatures.
fn text_ksr(ksr: &ceremony_formats::Ksr, peer: Peer) -> TextKsr {
    let mut ksr = ksr.clone();
    for bundle in &mut ksr.bundles {
        bundle.signatures.clear();
        bundle.id = match peer {
            Peer::Knot => bundle.inception.as_second().to_string(),
            Peer::Bind => bundle.inception.strftime("%Y%m%d%H%M%S").to_string(),
        };
    }
    // A text bundle lasts until the next one starts.
    for i in 0..ksr.bundles.len().saturating_sub(1) {
        ksr.bundles[i].expiration = ksr.bundles[i + 1].inception;
    }
    if let Some(last) = ksr.bundles.last_mut() {
        last.expiration = last.inception;
    }
    ksr.header.id = ksr
        .bundles
        .first()
        .map(|b| b.id.clone())
        .unwrap_or_default();
    ksr.header.serial = 0;
    ksr.proof_of_possession = ceremony_formats::model::ProofOfPossession::NotInFormat;
    TextKsr {
        ksr,
        generator: match peer {
            Peer::Knot => knot::KNOT_VERSION.to_owned(),
            Peer::Bind => bind::BIND_VERSION.to_owned(),
        },
    }
}

/// How many simulated TCRs hold a share of the threshold KSK, as at the root.
const TCRS: u16 = 7;
/// How many of them must approve for the KSK to sign.
const QUORUM: u16 = 3;

/// The demo's KSK.
enum Ksk {
    /// One key in the encrypted software keystore.
    Keystore(SoftKey),
    /// A 3-of-7 threshold key held by seven simulated TCRs.
    Threshold(Tcrs),
}

impl Ksk {
    /// The key as the checks see it (for the threshold key: no shares yet).
    fn signer(&self) -> &dyn KeySigner {
        match self {
            Ksk::Keystore(key) => key,
            Ksk::Threshold(tcrs) => &tcrs.key,
        }
    }
}

/// Seven simulated Trusted Community Representatives: each holds one share of
/// the KSK, as on their own token, and an identity key that signs their approval.
struct Tcrs {
    public: ThresholdPublicKey,
    /// The group key with no shares: what the checks see.
    key: ThresholdCombiner,
    holders: Vec<Tcr>,
}

struct Tcr {
    name: String,
    share: KeyShare,
    /// Signs the TCR's approvals (an Ed25519 signed-note key), declared when they are present.
    identity: Signer,
}

/// Act 1 with the keystore: an RSA-2048 KSK generated and stored encrypted.
fn keystore_ksk(keystore_dir: &Path) -> Result<(Ksk, String), Failure> {
    let mut keystore =
        Keystore::create(keystore_dir).map_err(|e| Failure::environment(e.to_string()))?;
    keystore
        .set_work_factor(DEMO_WORK_FACTOR)
        .map_err(|e| Failure::environment(e.to_string()))?;
    // The passphrase lives only in this process: the demo's key is thrown away with it.
    let unlock = Unlock::passphrase(random_secret()?);
    keystore
        .generate(KSK_LABEL, SecurityAlgorithm::RSASHA256, 2048, &unlock)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let ksk = keystore
        .load(KSK_LABEL, &unlock)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let how = format!(
        "The private key is in {} encrypted with age; it never touches disk in the clear.\n",
        keystore_dir.display()
    );
    Ok((Ksk::Keystore(ksk), how))
}

/// Act 1 with the threshold key: the dealer makes a 3-of-7 Shoup RSA-2048 key,
/// hands one share to each simulated TCR, and erases everything else.
fn threshold_ksk(env: &mut dyn Env) -> Result<(Ksk, String), Failure> {
    let dealing = super::threshold::deal_with_progress(env, 2048, QUORUM, TCRS, "TCRs")
        .map_err(|e| Failure::environment(format!("cannot deal the threshold KSK: {e}")))?;
    if !dealing.erasure.all_erased() {
        return Err(Failure::environment(
            "the dealer's erasure failed: a secret did not read back as zero, so the key is not used",
        ));
    }
    let erased = dealing.erasure.values.len();
    let key = ThresholdCombiner::new(KSK_LABEL, dealing.public_key.clone())
        .map_err(|e| Failure::environment(e.to_string()))?;
    let holders = dealing
        .shares
        .into_iter()
        .map(|share| {
            let name = format!("TCR-{}", share.index());
            let identity = ceremony_transcript::note::generate_seed()
                .and_then(|seed| Signer::from_seed(&name, &seed))
                .map_err(|e| Failure::environment(format!("{name}'s identity key: {e}")))?;
            Ok(Tcr {
                name,
                share,
                identity,
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let how = format!(
        "It is a threshold key: each of the {TCRS} TCRs holds one share, on their own token, and\nany {QUORUM} of them sign; no one holds the whole key. The dealer overwrote its {erased}\nsecrets (p, q, d, the polynomial…), each read back as zero.\n"
    );
    Ok((
        Ksk::Threshold(Tcrs {
            public: dealing.public_key,
            key,
            holders,
        }),
        how,
    ))
}

/// Everything needed to answer the KSR, the same for the act 3 checks, each
/// TCR's tool and the coordinator.
struct Answer<'a> {
    ksr: &'a Ksr,
    /// The KSR file's bytes, as the TCRs hash them.
    ksr_bytes: &'a [u8],
    /// For a Knot DNS or BIND 9 demo: whose rules, and the KSR as read.
    text: Option<(Peer, &'a TextKsr)>,
    schema: &'a Schema,
    config: &'a SignerConfig,
    now: Timestamp,
}

impl Answer<'_> {
    fn keys(key: &dyn KeySigner) -> KeyRing<'_> {
        [("ksk".to_owned(), key)].into_iter().collect()
    }

    /// The KSR checks and the signing-time checks, with `key` as the KSK.
    fn checks(&self, key: &dyn KeySigner) -> Report {
        let keys = Answer::keys(key);
        let mut report = check(&SignRequest {
            ksr: self.ksr,
            schema: self.schema,
            config: self.config,
            keys: &keys,
            previous: None,
            now: self.now,
        });
        if self.text.is_some() {
            report.replace(
                CheckId::KsrPolicySafety,
                Outcome::NotApplicable(
                    "the same KSK signs every bundle: none is published or retired".to_owned(),
                ),
            );
        }
        report
    }

    /// The text signing rules: BIND answers the last bundle up to an end, ten days on.
    fn text_policy(&self, peer: Peer) -> TextPolicy {
        let end = self
            .ksr
            .bundles
            .last()
            .map(|b| b.inception.as_second() + 10 * 86400)
            .and_then(|t| Timestamp::from_second(t).ok());
        TextPolicy::preset(peer, self.now, end)
    }

    /// The signed data of every RRSIG the KSK `dnskey` is to make, as the signer builds it.
    fn signed_data(&self, dnskey: &Dnskey) -> Result<Vec<BundleData>, Failure> {
        match self.text {
            Some((peer, text)) => {
                text_signed_data(peer, text, dnskey, &self.text_policy(peer)).map_err(sign_failure)
            }
            None => signed_data_for(self.ksr, self.schema, self.config, dnskey, self.now)
                .map_err(sign_failure),
        }
    }

    /// Signs with `key`; returns the SKR, the report of every check, and the text SKR if any.
    fn sign(
        &self,
        key: &dyn KeySigner,
        checked: &Report,
    ) -> Result<(Skr, Report, Option<TextSkr>), Failure> {
        match self.text {
            Some((peer, text)) => {
                let skr = sign_text_ksr(peer, text, &[key], &self.text_policy(peer))
                    .map_err(sign_failure)?;
                let mut after = checked.clone();
                after.merge(verify_text_skr(&skr, Some(&text.ksr), true));
                Ok((skr.skr.clone(), after, Some(skr)))
            }
            None => {
                let keys = Answer::keys(key);
                let signed = sign_ksr(&SignRequest {
                    ksr: self.ksr,
                    schema: self.schema,
                    config: self.config,
                    keys: &keys,
                    previous: None,
                    now: self.now,
                })
                .map_err(sign_failure)?;
                Ok((signed.skr, signed.report, None))
            }
        }
    }
}

/// Picks `QUORUM` of the TCRs at random, in index order: who turns up.
fn who_approves(tcrs: &Tcrs) -> Result<Vec<&Tcr>, Failure> {
    // A random sort key per TCR; the first QUORUM in key order take part.
    let mut keyed = Vec::with_capacity(tcrs.holders.len());
    for (i, tcr) in tcrs.holders.iter().enumerate() {
        let mut draw = [0u8; 4];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut draw)
            .map_err(|_| Failure::environment("no randomness"))?;
        keyed.push((u32::from_be_bytes(draw), i, tcr));
    }
    keyed.sort_unstable_by_key(|(key, i, _)| (*key, *i));
    let mut chosen: Vec<(usize, &Tcr)> = keyed
        .into_iter()
        .take(usize::from(QUORUM))
        .map(|(_, i, tcr)| (i, tcr))
        .collect();
    chosen.sort_unstable_by_key(|(i, _)| *i);
    Ok(chosen.into_iter().map(|(_, tcr)| tcr).collect())
}

/// Act 4 with the threshold key: three TCRs each recompute and check what the
/// KSK is to sign, approve it, and sign it with their share; the coordinator
/// verifies every share's proof. Returns the key that combines their shares,
/// the signed data, and the names of the TCRs who signed.
fn tcrs_approve(
    tcrs: &Tcrs,
    answer: &Answer<'_>,
    record: &mut Recorder,
    origin: &str,
    env: &mut dyn Env,
) -> Result<(ThresholdCombiner, Vec<BundleData>, Vec<String>), Failure> {
    let dnskey = tcrs.key.dnskey().clone();
    let ksr_sha256 = sha256(answer.ksr_bytes);
    let mut out = format!(
        "{QUORUM} of the {TCRS} TCRs take part. Each one's own tool reads the KSR, recomputes the\nsigned data of every RRSIG the KSK is to make, runs the same checks, and shows\nthe digest of that data; the TCRs compare it, approve, and sign it with their share:\n\n"
    );
    let mut files = Vec::new();
    let mut words = String::new();
    for tcr in who_approves(tcrs)? {
        let data = answer.signed_data(&dnskey)?;
        let report = answer.checks(&tcrs.key);
        if !report.is_ok() {
            return Err(sign_failure(SignError::Policy(Box::new(report))));
        }
        let digests: Vec<u8> = data.iter().flat_map(|b| sha256(&b.data)).collect();
        let fingerprint = Fingerprint::of(&digests);
        let bundles = data
            .iter()
            .map(|b| BundleHash {
                bundle: b.bundle_id.clone(),
                signed_data: Digest(sha256(&b.data)),
            })
            .collect();
        let approval = Approval::sign(&tcr.name, bundles, origin, &tcr.identity)
            .map_err(|e| Failure::environment(format!("{}'s approval: {e}", tcr.name)))?;
        record.record(env.now(), Event::Approval(approval));
        let partials = partials_for(&tcr.share, &data, answer.ksr, &ksr_sha256)
            .map_err(|e| Failure::environment(format!("{}: {e}", tcr.name)))?;
        for entry in &partials.bundles {
            let share = serde_json::to_vec(&entry.share).unwrap_or_default();
            record.record(
                env.now(),
                Event::PartialSignatureReceived(PartialSignatureReceived {
                    holder: tcr.name.clone(),
                    bundle: entry.id.clone(),
                    share: Digest::of(&share),
                }),
            );
        }
        out.push_str(&format!(
            "  {}: {} RRSIGs recomputed, checks PASSED, digest {}\n        approved (signed with {}'s identity key); {} partial signatures, each with its proof\n",
            tcr.name,
            data.len(),
            fingerprint.hex(),
            tcr.name,
            partials.bundles.len()
        ));
        words = fingerprint.words_block("    ");
        files.push((tcr.name.clone(), partials));
    }
    out.push_str(&format!("\nThe digest every TCR read aloud:\n{words}\n"));
    // The coordinator recomputes the same data and admits only shares over it whose proofs verify.
    let data = answer.signed_data(&dnskey)?;
    let admission = admit(&tcrs.public, &data, &ksr_sha256, &files);
    if !admission.is_ok() {
        let mut problems = admission.rejected.clone();
        problems.extend(admission.short.iter().cloned());
        return Err(Failure {
            code: crate::EXIT_CHECKS_FAILED,
            message: format!("threshold combine refused: {}", problems.join("; ")),
            hint: Some("no SKR was written".to_owned()),
        });
    }
    let names: Vec<String> = files.into_iter().map(|(name, _)| name).collect();
    let absent: Vec<&str> = tcrs
        .holders
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !names.iter().any(|m| m == n))
        .collect();
    out.push_str(&format!(
        "\nThe coordinator recomputes the same data, verifies the proof of every partial\nsignature, and combines the shares of {}.\nThe shares of {} were not needed. No share left its holder,\nand the coordinator could sign nothing else.\n",
        names.join(", "),
        absent.join(", ")
    ));
    emit(env, &out)?;
    let key = ThresholdCombiner::new(KSK_LABEL, tcrs.public.clone())
        .map_err(|e| Failure::environment(e.to_string()))?
        .with_shares(admission.shares);
    Ok((key, data, names))
}

/// How many of `data` have a signature in `skr` that verifies under the
/// DNSKEY's plain public key, as any validator checks it (RFC 4034 §3.1.8.1):
/// no share, no threshold parameter, only (n, e).
fn plain_verified(
    dnskey: &Dnskey,
    data: &[BundleData],
    skr: &Skr,
    text: Option<&TextSkr>,
) -> usize {
    let signatures: Vec<&[u8]> = skr
        .bundles
        .iter()
        .flat_map(|b| &b.signatures)
        .chain(
            text.into_iter()
                .flat_map(|t| t.extra.iter().flat_map(|x| &x.signatures)),
        )
        .map(|s| s.signature_data.as_slice())
        .collect();
    data.iter()
        .filter(|d| {
            signatures
                .iter()
                .any(|sig| ceremony_dnssec::verify(dnskey, &d.data, sig).is_ok())
        })
        .count()
}

pub fn run(
    dir: &Path,
    format: crate::args::Format,
    key: DemoKey,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let peer = match format {
        crate::args::Format::Knot => Some(Peer::Knot),
        crate::args::Format::Bind => Some(Peer::Bind),
        crate::args::Format::Icann | crate::args::Format::Auto => None,
    };
    let (ksr_name, skr_name, program) = match peer {
        None => ("ksr.xml", "skr.xml", "the root's"),
        Some(Peer::Knot) => ("ksr.knot", "skr.knot", "Knot DNS's"),
        Some(Peer::Bind) => ("ksr.bind", "skr.bind", "BIND 9's"),
    };
    let now = super::now(global, env)?;
    std::fs::create_dir_all(dir).map_err(|err| {
        Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
    })?;
    let keystore_dir = dir.join("keystore");
    for taken in ["keystore", "transcript", WITNESS_DIR] {
        if dir.join(taken).exists() {
            return Err(Failure::input(format!(
                "{} exists: a demo starts from an empty directory",
                dir.join(taken).display()
            ))
            .hint("pass another --dir, or remove the old one"));
        }
    }
    emit(env, INTRO)?;
    emit(
        env,
        match key {
            DemoKey::Threshold => "\nThis demo plays every part on this machine. The KSK is a threshold key: seven\nsimulated TCRs each hold one share, and any three of them sign, as three of the\nroot's seven Crypto Officers activate its HSM.\n",
            DemoKey::Keystore => "\nThis demo plays every part on this machine, with the software keystore.\n",
        },
    )?;

    // The witness's key must be declared as the ceremony opens, and it must
    // know the log's key: make the witness's key first, then the log.
    let witness_seed = ceremony_transcript::note::generate_seed()
        .map_err(|e| Failure::environment(e.to_string()))?;
    let cosigner = Cosigner::from_seed(WITNESS, &witness_seed)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let witness_key = cosigner.verifier_key();
    // With the threshold key, every signature needs the quorum's signed approvals.
    let approvals = match key {
        DemoKey::Threshold => u32::from(QUORUM),
        DemoKey::Keystore => 0,
    };
    let mut record = Recorder::open_with_quorum(
        dir,
        "ceremony demo",
        "demo",
        vec![DeclaredKey {
            role: WITNESS_ROLE.to_owned(),
            name: WITNESS.to_owned(),
            key: witness_key.to_string(),
        }],
        approvals,
        env.now(),
    )?;
    let log_key = record
        .log_key()
        .cloned()
        .ok_or_else(|| Failure::environment("transcript: not recording"))?;
    let witness = Witness::open(
        &dir.join(WITNESS_DIR),
        cosigner,
        std::slice::from_ref(&log_key),
    )
    .map_err(|e| Failure::environment(format!("witness: {e}")))?;
    record.attach_witness(witness, witness_key.clone())?;
    emit(
        env,
        &format!(
            "\nThe ceremony is recorded in {}: every act is appended to a Merkle log\nand signed as a checkpoint, which the witness {WITNESS} cosigns. The log's\nkey was made for this ceremony and is never stored; write it down, it is how\nanyone checks the transcript later:\n  {log_key}\nThe witness's key:\n  {witness_key}\n",
            dir.join("transcript").display()
        ),
    )?;

    let act1 = match key {
        DemoKey::Threshold => "The KSK is dealt to seven TCRs, any three of whom sign",
        DemoKey::Keystore => "The KSK is generated and stored encrypted",
    };
    step(env, &format!("Act 1. {act1}"))?;
    record.act(env.now(), "1", act1);
    let (ksk, how) = match key {
        DemoKey::Threshold => threshold_ksk(env)?,
        DemoKey::Keystore => keystore_ksk(&keystore_dir)?,
    };
    let root = Name::root_vec();
    let dnskey = ksk.signer().dnskey().clone();
    let ds = Ds::compute(&root, &dnskey, DigestAlgorithm::SHA256)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let place = match key {
        DemoKey::Threshold => format!("{QUORUM}-of-{TCRS} threshold shares, one with each TCR"),
        DemoKey::Keystore => "keystore".to_owned(),
    };
    record.record(
        env.now(),
        Event::KeyGenerated(key_event(KSK_LABEL, &place, Some(&dnskey))),
    );
    if let Ksk::Threshold(tcrs) = &ksk {
        for tcr in &tcrs.holders {
            record.record(
                env.now(),
                Event::ParticipantPresent(ParticipantPresent {
                    name: tcr.name.clone(),
                    role: TCR_ROLE.to_owned(),
                    identity_key: tcr.identity.verifier_key().to_string(),
                }),
            );
        }
    }
    emit(
        env,
        &format!(
            "{} {KSK_LABEL}: {} 2048-bit, key tag {} (revoked {}), DS SHA-256\n  {}\n{how}",
            match key {
                DemoKey::Threshold => "Dealt",
                DemoKey::Keystore => "Generated",
            },
            algorithm_name(dnskey.algorithm()),
            dnskey.key_tag(),
            dnskey.revoked().key_tag(),
            ds.digest_hex(),
        ),
    )?;
    let public_text = format!(
        "; {KSK_LABEL}, generated in this ceremony: its DNSKEY and DS records\n{}\n{}\n",
        dnskey.to_zonefile(&root, 172_800),
        ds.to_zonefile(&root, 172_800)
    );
    let public_path = dir.join(format!("{KSK_LABEL}.dnskey"));
    record.write_file(env.now(), &public_path, public_text.as_bytes())?;
    let mut out = String::from("Its public half is published for the room to compare:\n\n");
    out.push_str(&heading(
        "DNSKEY and DS",
        &public_path.display().to_string(),
        public_text.as_bytes(),
    ));
    emit(env, &out)?;

    step(
        env,
        "Act 2. The zone operator sends the KSR for the next quarter",
    )?;
    record.act(
        env.now(),
        "2",
        "The zone operator sends the KSR for the next quarter",
    );
    let start = next_quarter(now)?;
    let zsk = |label: &str| {
        SoftKey::generate(label, SecurityAlgorithm::RSASHA256, 2048)
            .and_then(|k| k.with_flags(256))
            .map_err(|e| Failure::environment(e.to_string()))
    };
    let (outgoing, current, incoming) = (
        zsk("ZSK-outgoing")?,
        zsk("ZSK-current")?,
        zsk("ZSK-incoming")?,
    );
    let ksr_id = format!("demo-{}", start.strftime("%Y-%m-%d"));
    let ksr = generate_ksr(
        ".",
        &ksr_id,
        &[
            ZskSlots {
                key: &outgoing,
                key_identifier: "ZSK-outgoing".into(),
                first: 1,
                last: 1,
            },
            ZskSlots {
                key: &current,
                key_identifier: "ZSK-current".into(),
                first: 1,
                last: 9,
            },
            ZskSlots {
                key: &incoming,
                key_identifier: "ZSK-incoming".into(),
                first: 9,
                last: 9,
            },
        ],
        &Schedule::root_quarter(start),
        172_800,
    )
    .map_err(sign_failure)?;
    let text = peer.map(|peer| text_ksr(&ksr, peer));
    let ksr_text = match (&text, peer) {
        (Some(text), Some(Peer::Knot)) => knot::write_ksr(text),
        (Some(text), _) => bind::write_ksr(text),
        (None, _) => icann::write_ksr(&ksr),
    };
    let ksr = text.as_ref().map_or(ksr, |t| t.ksr.clone());
    let ksr_path = dir.join(ksr_name);
    record.write_file(env.now(), &ksr_path, ksr_text.as_bytes())?;
    let mut out = String::from(match peer {
        None => "Three ZSKs roll at the quarter's edges; each signs every bundle it is in.\nRead the hash aloud and compare it with the zone operator's:\n\n",
        Some(_) => "Three ZSKs roll at the quarter's edges. The file is in the zone operator's\nprogram's own format, which carries no proof of possession.\nRead the hash aloud and compare it with the zone operator's:\n\n",
    });
    out.push_str(&heading(
        "KSR",
        &ksr_path.display().to_string(),
        ksr_text.as_bytes(),
    ));
    out.push_str(&render::document(&Document::Ksr(ksr.clone())));
    emit(env, &out)?;

    let act3 = format!("Act 3. The KSR is checked against {program} policy");
    step(env, &act3)?;
    record.act(env.now(), "3", &act3["Act 3. ".len()..]);
    let ksr_fingerprint = Fingerprint::of(ksr_text.as_bytes());
    record.record(
        env.now(),
        file_read(&FileFacts {
            name: ksr_name,
            size: ksr_text.len(),
            fingerprint: &ksr_fingerprint,
        }),
    );
    let config_text = format!(
        "[keys.ksk]\nlabel = \"{KSK_LABEL}\"\nalgorithm = \"RSASHA256\"\nrsa_size = 2048\nrsa_exponent = 65537\nkey_tag = {}\nvalid_from = \"{}\"\n",
        dnskey.key_tag(),
        now.strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    let mut config =
        SignerConfig::parse(&config_text, "demo configuration", false).map_err(sign_failure)?;
    if let Some(peer) = peer {
        config.request_policy =
            overlay_request_policy(request_policy(peer, ".", 172_800), &config.request_policy);
    }
    let schema = config
        .schema("normal", ksr.bundles.len())
        .map_err(sign_failure)?;
    let answer = Answer {
        ksr: &ksr,
        ksr_bytes: ksr_text.as_bytes(),
        text: peer.zip(text.as_ref()),
        schema: &schema,
        config: &config,
        now,
    };
    let report = answer.checks(ksk.signer());
    record.record(env.now(), check_report(&report));
    record.commit()?;
    let policy_name = match peer {
        None => "root defaults".to_owned(),
        Some(peer) => format!("the {} preset", peer.name()),
    };
    emit(
        env,
        &render::report(&report, &format!("{policy_name}, as of {now}")),
    )?;

    let act4 = match key {
        DemoKey::Threshold => "Three TCRs approve, and their shares sign every bundle",
        DemoKey::Keystore => "The KSK signs every bundle",
    };
    step(env, &format!("Act 4. {act4}"))?;
    record.act(env.now(), "4", act4);
    let (signed_skr, signed_report, text_skr, signers) = match &ksk {
        Ksk::Keystore(key) => {
            let (skr, report, text) = answer.sign(key, &report)?;
            (skr, report, text, None)
        }
        Ksk::Threshold(tcrs) => {
            let origin = log_key.name().to_owned();
            let (combiner, data, names) = tcrs_approve(tcrs, &answer, &mut record, &origin, env)?;
            let (skr, report, text) = answer.sign(&combiner, &report)?;
            let plain = plain_verified(&dnskey, &data, &skr, text.as_ref());
            if plain != data.len() {
                return Err(Failure {
                    code: crate::EXIT_CHECKS_FAILED,
                    message: format!(
                        "{} of the {} combined signatures do not verify under the plain RSA public key",
                        data.len() - plain,
                        data.len()
                    ),
                    hint: Some("no SKR was written".to_owned()),
                });
            }
            (skr, report, text, Some((names, plain)))
        }
    };
    for event in signatures(&signed_skr) {
        record.record(env.now(), event);
    }
    record.record(env.now(), check_report(&signed_report));
    let skr_text = match (&text_skr, peer) {
        (Some(skr), Some(Peer::Knot)) => knot::write_skr(skr),
        (Some(skr), _) => bind::write_skr(skr),
        (None, _) => icann::write_skr(&signed_skr),
    };
    let skr_path = dir.join(skr_name);
    record.write_file(env.now(), &skr_path, skr_text.as_bytes())?;
    let mut out = match &signers {
        None => format!(
            "Signed {} bundles with {KSK_LABEL} by {program} rules; every signature was re-verified in software.\n\n",
            signed_skr.bundles.len()
        ),
        Some((names, plain)) => format!(
            "Signed {} bundles with {KSK_LABEL} by {program} rules, {QUORUM} of {TCRS}: {} signed.\nThe result is an ordinary RSA signature: each of the {plain} RRSIGs verifies with the\nDNSKEY's plain RSA public key (n, e) alone, as dnspython or any validator checks it.\nNothing in the SKR shows that the key was shared.\n\n",
            signed_skr.bundles.len(),
            names.join(", ")
        ),
    };
    out.push_str(&heading(
        "SKR",
        &skr_path.display().to_string(),
        skr_text.as_bytes(),
    ));
    out.push_str(&render::document(&Document::Skr(signed_skr.clone())));
    emit(env, &out)?;

    step(
        env,
        "Act 5. The trust anchor is published, and the zone operator verifies the SKR",
    )?;
    record.act(
        env.now(),
        "5",
        "The trust anchor is published, and the zone operator verifies the SKR",
    );
    let valid_from =
        ceremony_formats::parse_datetime(&now.strftime("%Y-%m-%dT%H:%M:%S").to_string())
            .map_err(Failure::input)?; // whole seconds, as the anchor file writes them
    let anchor = TrustAnchor::for_keys(
        ".",
        &[(KSK_LABEL.to_owned(), valid_from, None, dnskey.clone())],
    )
    .map_err(Failure::input)?;
    let anchor_text = anchor.to_xml();
    let anchor_path = dir.join("root-anchors.xml");
    record.write_file(env.now(), &anchor_path, anchor_text.as_bytes())?;
    let mut skr_report = verify_skr(
        &signed_skr,
        &SkrContext {
            policy: &config.response_policy,
            ksr: Some(&ksr),
            anchors: Some(&anchor),
            previous: None,
        },
    );
    if let Some(skr) = &text_skr {
        // Knot DNS and BIND 9 SKRs answer by their own rules.
        skr_report.merge(verify_text_skr(skr, Some(&ksr), true));
    }
    record.record(env.now(), check_report(&skr_report));
    record.commit()?;
    let mut out = heading(
        "Trust anchor",
        &anchor_path.display().to_string(),
        anchor_text.as_bytes(),
    );
    out.push_str(&render::report(
        &skr_report,
        &format!("trust anchor {}", anchor_path.display()),
    ));
    emit(env, &out)?;

    step(env, "The ceremony closes, and its transcript is verified")?;
    record.close(env.now())?;
    drop(record); // the log and witness keys are gone with it
    let audit = audit(dir, &Keys::log(log_key.clone()), false)?
        .ok_or_else(|| Failure::environment("transcript: no entry was recorded"))?;
    let mut out = String::from(
        "Every entry hash, the Merkle tree, every checkpoint signature and cosignature,\nconsistency between checkpoints, every output file against its logged hash,\nand the story (checks before signatures, acts, the close) are checked, as\n`ceremony transcript verify` does. Read the root hash aloud: the witness and\neveryone present compare it.\n\n",
    );
    out.push_str(&render_audit(&audit));
    let key_place = match key {
        DemoKey::Threshold => "",
        DemoKey::Keystore => "keystore/, ",
    };
    out.push_str(&format!(
        "\nThe ceremony's files are in {}: {KSK_LABEL}.dnskey, {ksr_name}, {skr_name}, root-anchors.xml,\n{key_place}transcript/ (and witness/, the witness's state). Check them again with:\n  ceremony skr verify {} --ksr {} --trust-anchor {}\n  ceremony transcript verify {} --log-key {log_key} --witness-key {witness_key}\n",
        dir.display(),
        skr_path.display(),
        ksr_path.display(),
        anchor_path.display(),
        dir.display(),
    ));
    emit(env, &out)?;
    Ok(if report.is_ok() && skr_report.is_ok() && audit.is_ok() {
        0
    } else {
        crate::EXIT_CHECKS_FAILED
    })
}
