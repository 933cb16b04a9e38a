//! `ceremony demo`: a complete small ceremony, explained step by step as a script reads.
//!
//! Everything runs on embedded defaults with the software keystore: the KSK
//! is generated and encrypted at rest, the zone operator's part is played
//! (three ZSKs and a 9-bundle KSR with proof of possession for the next
//! quarter), then the KSR is checked, signed, verified, and published with
//! the trust anchor. All files go into `--dir`.

use std::path::Path;

use ceremony_dnssec::{algorithm_name, SecurityAlgorithm};
use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::{icann, Document, Fingerprint};
use ceremony_keys::keystore::{Keystore, Unlock};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::KeySigner;
use ceremony_policy::{verify_skr, SkrContext};
use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
use ceremony_signer::{check, sign_ksr, KeyRing, SignRequest, SignerConfig};
use jiff::Timestamp;

use super::emit;
use super::sign::sign_failure;
use crate::args::Global;
use crate::fsutil::write_atomic;
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

pub fn run(dir: &Path, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let now = super::now(global, env)?;
    std::fs::create_dir_all(dir).map_err(|err| {
        Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
    })?;
    emit(env, INTRO)?;

    step(env, "Act 1. The KSK is generated and stored encrypted")?;
    let keystore_dir = dir.join("keystore");
    if keystore_dir.exists() {
        return Err(Failure::input(format!(
            "{} exists: a demo starts from an empty directory",
            keystore_dir.display()
        ))
        .hint("pass another --dir, or remove the old one"));
    }
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

    step(
        env,
        "Act 2. The zone operator sends the KSR for the next quarter",
    )?;
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
    let ksr_text = icann::write_ksr(&ksr);
    let ksr_path = dir.join("ksr.xml");
    write_atomic(&ksr_path, ksr_text.as_bytes())?;
    let mut out = String::from("Three ZSKs roll at the quarter's edges; each signs every bundle it is in.\nRead the hash aloud and compare it with the zone operator's:\n\n");
    out.push_str(&heading(
        "KSR",
        &ksr_path.display().to_string(),
        ksr_text.as_bytes(),
    ));
    out.push_str(&render::document(&Document::Ksr(ksr.clone())));
    emit(env, &out)?;

    step(env, "Act 3. The KSR is checked against the root's policy")?;
    let config_text = format!(
        "[keys.ksk]\nlabel = \"{KSK_LABEL}\"\nalgorithm = \"RSASHA256\"\nrsa_size = 2048\nrsa_exponent = 65537\nkey_tag = {}\nvalid_from = \"{}\"\n",
        info.key_tag,
        now.strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    let config =
        SignerConfig::parse(&config_text, "demo configuration", false).map_err(sign_failure)?;
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
    let report = check(&request);
    emit(
        env,
        &render::report(&report, &format!("root defaults, as of {now}")),
    )?;

    step(env, "Act 4. The KSK signs every bundle")?;
    let signed = sign_ksr(&request).map_err(sign_failure)?;
    let skr_text = icann::write_skr(&signed.skr);
    let skr_path = dir.join("skr.xml");
    write_atomic(&skr_path, skr_text.as_bytes())?;
    let mut out = format!(
        "Signed {} bundles with {KSK_LABEL}; every signature was re-verified in software.\n\n",
        signed.skr.bundles.len()
    );
    out.push_str(&heading(
        "SKR",
        &skr_path.display().to_string(),
        skr_text.as_bytes(),
    ));
    out.push_str(&render::document(&Document::Skr(signed.skr.clone())));
    emit(env, &out)?;

    step(
        env,
        "Act 5. The trust anchor is published, and the zone operator verifies the SKR",
    )?;
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
    write_atomic(&anchor_path, anchor_text.as_bytes())?;
    let skr_report = verify_skr(
        &signed.skr,
        &SkrContext {
            policy: &config.response_policy,
            ksr: Some(&ksr),
            anchors: Some(&anchor),
            previous: None,
        },
    );
    let mut out = heading(
        "Trust anchor",
        &anchor_path.display().to_string(),
        anchor_text.as_bytes(),
    );
    out.push_str(&render::report(
        &skr_report,
        &format!("trust anchor {}", anchor_path.display()),
    ));
    out.push_str(&format!(
        "\nThe ceremony's files are in {}: ksr.xml, skr.xml, root-anchors.xml, keystore/.\nCheck them again with:\n  ceremony skr verify {} --ksr {} --trust-anchor {}\n",
        dir.display(),
        skr_path.display(),
        ksr_path.display(),
        anchor_path.display()
    ));
    emit(env, &out)?;
    Ok(if report.is_ok() && skr_report.is_ok() {
        0
    } else {
        crate::EXIT_CHECKS_FAILED
    })
}
