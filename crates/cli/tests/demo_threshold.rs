//! `ceremony demo` by default: a 3-of-7 threshold KSK, seven simulated TCRs,
//! three approve and sign; the SKR is ordinary RSA that dnspython accepts, and
//! the transcript records each approval and partial signature and verifies.

mod common;

use std::collections::BTreeSet;

use common::{ceremony, s};

/// The TCR names in "3 of 7: TCR-a, TCR-b, TCR-c signed."
fn signers(stdout: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.contains(", 3 of 7: "))
        .unwrap_or_else(|| panic!("no line names the signers:\n{stdout}"));
    let list = line
        .split(", 3 of 7: ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" signed."))
        .unwrap_or_else(|| panic!("{line}"));
    list.split(", ").map(str::to_owned).collect()
}

#[test]
fn the_default_demo_is_signed_by_three_of_seven_tcrs_with_an_ordinary_rsa_signature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    let run = ceremony(&["demo", "--dir", s(&dir)]);
    run.expect_code(0)
        .expect_stdout(&[
            "seven\nsimulated TCRs each hold one share",
            "Act 1. The KSK is dealt to seven TCRs, any three of whom sign",
            "Dealt KSK-DEMO: RSASHA256 (8) 2048-bit",
            "any 3 of them sign; no one holds the whole key",
            "each read back as zero",
            "Act 4. Three TCRs approve, and their shares sign every bundle",
            "The result is an ordinary RSA signature: each of the 9 RRSIGs verifies",
            "Result: VERIFIED",
            "the story holds",
        ])
        // The dealer's progress, while it searches the safe primes.
        .expect_stderr(&[
            "safe prime 1 of 2: found, 1024 bits",
            "safe prime 2 of 2: found, 1024 bits",
            "sharing the exponent among 7 TCRs",
        ]);
    assert_eq!(run.stdout.matches("Result: PASSED").count(), 2);

    // Three distinct TCRs signed; each recomputed the same data and checks passed.
    let names = signers(&run.stdout);
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), 3);
    let mut digests = BTreeSet::new();
    for name in &names {
        assert!(
            (1..=7).any(|i| *name == format!("TCR-{i}")),
            "{name} is not one of the seven"
        );
        let line = run
            .stdout
            .lines()
            .find(|l| {
                l.trim_start().starts_with(&format!(
                    "{name}: 9 RRSIGs recomputed, checks PASSED, digest "
                ))
            })
            .unwrap_or_else(|| panic!("{name} did not recompute and check:\n{}", run.stdout));
        digests.insert(line.rsplit(' ').next().expect("digest").to_owned());
    }
    assert_eq!(digests.len(), 1, "the TCRs saw different data: {digests:?}");

    // No keystore: the key exists only as the TCRs' shares.
    assert!(!dir.join("keystore").exists());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "KSK-DEMO.dnskey",
            "ksr.xml",
            "root-anchors.xml",
            "skr.xml",
            "transcript",
            "witness"
        ]
    );

    // Any validator: dnspython checks the 9 RRSIGs with the plain DNSKEY.
    assert_eq!(common::dnspython(&dir.join("skr.xml")), 9);
    ceremony(&[
        "skr",
        "verify",
        s(&dir.join("skr.xml")),
        "--ksr",
        s(&dir.join("ksr.xml")),
        "--trust-anchor",
        s(&dir.join("root-anchors.xml")),
    ])
    .expect_code(0);

    // The transcript holds the seven TCRs, the three approvals and their 27
    // partial signatures, and verifies (story rules included).
    let entries = std::fs::read_to_string(dir.join("transcript/entries")).expect("entries");
    let count = |kind: &str| entries.matches(&format!("\"type\":\"{kind}\"")).count();
    // The ceremony opens with the quorum rule that verify holds each signature to.
    assert!(
        entries.contains("\"approvals\":3"),
        "no quorum rule of 3 approvals declared"
    );
    assert_eq!(count("participant_present"), 7);
    assert_eq!(count("approval"), 3);
    assert_eq!(count("partial_signature_received"), 27);
    assert_eq!(count("signature_produced"), 9);
    for name in &names {
        assert!(
            entries.contains(&format!("\"type\":\"approval\",\"tcr\":\"{name}\"")),
            "no approval by {name}"
        );
    }
    ceremony(&["transcript", "verify", s(&dir)])
        .expect_code(0)
        .expect_stdout(&["Result: VERIFIED", "the story holds"]);
}
