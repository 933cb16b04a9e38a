//! `ceremony demo`: a small ceremony on embedded root-zone data, explained step by step.
//!
//! For now the demo plays the checking half of a ceremony on real files:
//! the 2017 Q2 KSR of the root zone, checked against the 2017 Q1 SKR, and
//! the SKR that answered it. Signing joins when the signer lands.

use std::path::Path;

use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::{icann, Document};
use ceremony_policy::{
    validate_ksr, verify_skr, KsrContext, PolicyConfig, SkrContext, ROOT_ANCHORS_XML,
};

use super::emit;
use crate::args::Global;
use crate::fsutil::write_atomic;
use crate::render::{self, FileFacts};
use crate::{Env, Failure};
use ceremony_formats::Fingerprint;

const KSR: &[u8] = include_bytes!("../../assets/ksr-root-2017-q2-0.xml");
const PREVIOUS_SKR: &[u8] = include_bytes!("../../assets/skr-root-2017-q1-0.xml");
const SKR: &[u8] = include_bytes!("../../assets/skr-root-2017-q2-0.xml");
/// The day the 2017 Q2 KSR would have been checked, so the horizon check is meaningful.
const CEREMONY_DAY: &str = "2017-03-15T00:00:00Z";

const INTRO: &str = "\
A DNSSEC key ceremony

The root zone's Key Signing Key (KSK) lives offline in an HSM. Each quarter
the zone operator sends a Key Signing Request (KSR): nine bundles, one per
10-day slot, each holding the Zone Signing Keys (ZSKs) to publish and a ZSK
self-signature proving possession. In the ceremony the KSK operator checks
the KSR against policy and against the previous quarter's Signed Key Response
(SKR), a quorum of Trusted Community Representatives activates the KSK, and
the KSK signs every bundle. Everyone present compares the hash of each file,
read aloud as PGP words. This demo replays the checks of the real 2017 Q2
root ceremony.
";

pub fn run(dir: &Path, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let _ = global;
    std::fs::create_dir_all(dir).map_err(|err| {
        Failure::environment(format!("{}: cannot create directory: {err}", dir.display()))
    })?;
    let now: jiff::Timestamp = CEREMONY_DAY
        .parse()
        .map_err(|_| Failure::input("bad embedded date"))?;
    emit(env, INTRO)?;

    let mut files = Vec::new();
    for (name, bytes) in [
        ("ksr.xml", KSR),
        ("previous-skr.xml", PREVIOUS_SKR),
        ("skr.xml", SKR),
    ] {
        let path = dir.join(name);
        write_atomic(&path, bytes)?;
        files.push((path.display().to_string(), bytes));
    }

    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let ksr = icann::parse_ksr(&text(KSR), &files[0].0)?;
    let previous = icann::parse_skr(&text(PREVIOUS_SKR), &files[1].0)?;
    let skr = icann::parse_skr(&text(SKR), &files[2].0)?;

    let fingerprint = Fingerprint::of(KSR);
    let facts = FileFacts {
        name: &files[0].0,
        size: KSR.len(),
        fingerprint: &fingerprint,
    };
    let mut out = String::from(
        "\nStep 1. The KSR arrives. Read its hash aloud and compare with the zone operator's.\n\n",
    );
    out.push_str(&render::file_heading("KSR", &facts));
    out.push_str(&render::document(&Document::Ksr(ksr.clone())));
    out.push_str(
        "\nStep 2. Check the KSR against the root's policy and the previous quarter's SKR.\n",
    );
    let config = PolicyConfig::default();
    let ksr_report = validate_ksr(
        &ksr,
        &KsrContext {
            policy: &config.request_policy,
            previous: Some(&previous),
            now,
            ksk_tags: &[],
        },
    );
    out.push_str(&render::report(
        &ksr_report,
        &format!("root defaults, as of {now}"),
    ));
    emit(env, &out)?;

    let anchors = TrustAnchor::parse(ROOT_ANCHORS_XML, "built-in root anchors")?;
    let skr_report = verify_skr(
        &skr,
        &SkrContext {
            policy: &config.response_policy,
            ksr: Some(&ksr),
            anchors: Some(&anchors),
            previous: Some((&previous, &config.request_policy)),
        },
    );
    let fingerprint = Fingerprint::of(SKR);
    let facts = FileFacts {
        name: &files[2].0,
        size: SKR.len(),
        fingerprint: &fingerprint,
    };
    let mut out = String::from(
        "\nStep 3. The KSK signs each bundle (here: the real SKR of that ceremony, signed by KSK-2010).\n        Verify it as the zone operator will, and read its hash aloud.\n\n",
    );
    out.push_str(&render::file_heading("SKR", &facts));
    out.push_str(&render::report(
        &skr_report,
        "trust anchors: built-in IANA root anchors",
    ));
    out.push_str(&format!(
        "\nThe ceremony's files are in {}.\n",
        dir.display()
    ));
    emit(env, &out)?;
    Ok(if ksr_report.is_ok() && skr_report.is_ok() {
        0
    } else {
        crate::EXIT_CHECKS_FAILED
    })
}
