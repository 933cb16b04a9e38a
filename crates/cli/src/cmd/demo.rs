//! `ceremony demo`: a complete small ceremony, explained step by step as a script reads.
//!
//! Everything runs on embedded defaults with the software keystore: the KSK
//! is generated and encrypted at rest, the zone operator's part is played
//! (three ZSKs and a 9-bundle KSR with proof of possession for the next
//! quarter), then the KSR is checked, signed, verified, and published with
//! the trust anchor. All files go into `--dir`.
//!
//! With `--format knot` or `--format bind` the same ceremony runs through
//! that program's offline-KSK format: the zone operator's KSR is a Knot DNS
//! or BIND 9 KSR (no proof of possession), the checks use the text preset,
//! and the KSK answers by that program's rules (`ceremony sign --preset`).
//!
//! The ceremony is recorded as it goes: `DIR/transcript/` is its Merkle log,
//! one batch and one signed checkpoint per act, each checkpoint cosigned by a
//! witness played in this process (its state in `DIR/witness/`). Every output
//! is logged before it is renamed into place (see [`crate::ceremony_log`]).
//! The log and witness keys live only in this process, so the log cannot be
//! extended later: the demo closes it, verifies it as `ceremony transcript
//! verify` does, and shows its root hash as PGP words.

use std::path::Path;

use ceremony_dnssec::{algorithm_name, Name, SecurityAlgorithm};
use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::model::TextKsr;
use ceremony_formats::{bind, icann, knot, Document, Fingerprint};
use ceremony_keys::keystore::{Keystore, Unlock};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;
use ceremony_policy::{verify_skr, SkrContext};
use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
use ceremony_signer::textsign::{
    overlay_request_policy, request_policy, sign_text_ksr, verify_text_skr, Peer, TextPolicy,
};
use ceremony_signer::{check, sign_ksr, KeyRing, SignRequest, SignerConfig};
use jiff::Timestamp;

use ceremony_transcript::entry::DeclaredKey;
use ceremony_transcript::{Cosigner, Witness};

use super::emit;
use super::sign::sign_failure;
use super::transcript::{audit, render_audit, Keys};
use crate::args::Global;
use crate::ceremony_log::{check_report, file_read, signatures, Recorder, WITNESS_ROLE};
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

This demo plays every part on this machine, with the software keystore.
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

pub fn run(
    dir: &Path,
    format: crate::args::Format,
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

    // The witness's key must be declared as the ceremony opens, and it must
    // know the log's key: make the witness's key first, then the log.
    let witness_seed = ceremony_transcript::note::generate_seed()
        .map_err(|e| Failure::environment(e.to_string()))?;
    let cosigner = Cosigner::from_seed(WITNESS, &witness_seed)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let witness_key = cosigner.verifier_key();
    let mut record = Recorder::open(
        dir,
        "ceremony demo",
        "demo",
        vec![DeclaredKey {
            role: WITNESS_ROLE.to_owned(),
            name: WITNESS.to_owned(),
            key: witness_key.to_string(),
        }],
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

    step(env, "Act 1. The KSK is generated and stored encrypted")?;
    record.act(env.now(), "1", "The KSK is generated and stored encrypted");
    let mut keystore =
        Keystore::create(&keystore_dir).map_err(|e| Failure::environment(e.to_string()))?;
    keystore
        .set_work_factor(DEMO_WORK_FACTOR)
        .map_err(|e| Failure::environment(e.to_string()))?;
    // The passphrase lives only in this process: the demo's key is thrown away with it.
    let unlock = Unlock::passphrase(random_secret()?);
    let info = keystore
        .generate(KSK_LABEL, SecurityAlgorithm::RSASHA256, 2048, &unlock)
        .map_err(|e| Failure::environment(e.to_string()))?;
    emit(
        env,
        &format!(
            "Generated {KSK_LABEL}: {} 2048-bit, key tag {} (revoked {}), DS SHA-256\n  {}\nThe private key is in {} encrypted with age; it never touches disk in the clear.\n",
            algorithm_name(info.algorithm),
            info.key_tag,
            info.revoked_key_tag,
            info.ds_sha256.digest_hex(),
            keystore_dir.display()
        ),
    )?;
    let root = Name::root_vec();
    let public_text = format!(
        "; {KSK_LABEL}, generated in this ceremony: its DNSKEY and DS records\n{}\n{}\n",
        info.dnskey.to_zonefile(&root, 172_800),
        info.ds_sha256.to_zonefile(&root, 172_800)
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
        info.key_tag,
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
    let ksk = keystore
        .load(KSK_LABEL, &unlock)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let keys: KeyRing<'_> = [("ksk".to_owned(), &ksk as &dyn KeySigner)]
        .into_iter()
        .collect();
    let request = SignRequest {
        ksr: &ksr,
        schema: &schema,
        config: &config,
        keys: &keys,
        previous: None,
        now,
    };
    let mut report = check(&request);
    if peer.is_some() {
        report.replace(
            ceremony_policy::CheckId::KsrPolicySafety,
            ceremony_policy::Outcome::NotApplicable(
                "the same KSK signs every bundle: none is published or retired".to_owned(),
            ),
        );
    }
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

    step(env, "Act 4. The KSK signs every bundle")?;
    record.act(env.now(), "4", "The KSK signs every bundle");
    let (signed_skr, signed_report, text_skr) = match (&text, peer) {
        (Some(text), Some(peer)) => {
            // BIND answers the last bundle up to an end: ten days on, one more re-signing.
            let end = ksr
                .bundles
                .last()
                .map(|b| b.inception.as_second() + 10 * 86400)
                .and_then(|t| Timestamp::from_second(t).ok());
            let policy = TextPolicy::preset(peer, now, end);
            let skr = sign_text_ksr(peer, text, &[&ksk], &policy).map_err(sign_failure)?;
            let mut after = report.clone();
            after.merge(verify_text_skr(&skr, Some(&text.ksr), true));
            (skr.skr.clone(), after, Some(skr))
        }
        _ => {
            let signed = sign_ksr(&request).map_err(sign_failure)?;
            (signed.skr, signed.report, None)
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
    let mut out = format!(
        "Signed {} bundles with {KSK_LABEL} by {program} rules; every signature was re-verified in software.\n\n",
        signed_skr.bundles.len()
    );
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
        &[(KSK_LABEL.to_owned(), valid_from, None, ksk.dnskey().clone())],
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
    out.push_str(&format!(
        "\nThe ceremony's files are in {}: {KSK_LABEL}.dnskey, {ksr_name}, {skr_name}, root-anchors.xml,\nkeystore/, transcript/ (and witness/, the witness's state). Check them again with:\n  ceremony skr verify {} --ksr {} --trust-anchor {}\n  ceremony transcript verify {} --log-key {log_key} --witness-key {witness_key}\n",
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
