//! The policy checks on the root zone's real KSRs and SKRs.

use std::path::PathBuf;

use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::{icann, read_text_file, Ksr, Skr};
use ceremony_policy::{
    validate_ksr, verify_skr, CheckId, KsrContext, Outcome, PolicyConfig, Report, RequestPolicy,
    ResponsePolicy, SkrContext, ROOT_ANCHORS_XML,
};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn ksr(rel: &str) -> Ksr {
    icann::parse_ksr(&read_text_file(&data(rel)).expect("readable"), rel).expect("parses")
}

fn skr(rel: &str) -> Skr {
    icann::parse_skr(&read_text_file(&data(rel)).expect("readable"), rel).expect("parses")
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("timestamp")
}

fn validate(ksr: &Ksr, previous: Option<&Skr>, policy: &RequestPolicy, now: &str) -> Report {
    validate_ksr(
        ksr,
        &KsrContext {
            policy,
            previous,
            now: at(now),
            ksk_tags: &[],
        },
    )
}

fn failed(report: &Report) -> Vec<CheckId> {
    report.failed().collect()
}

/// The failed checks with their messages, for assertion output.
fn failures(report: &Report) -> String {
    let mut out = String::new();
    for result in &report.results {
        if let Outcome::Failed(violations) = &result.outcome {
            for v in violations {
                out.push_str(&format!("{}: {}\n", result.id, v.message));
            }
        }
    }
    out
}

const Q2: &str = "icann/root/ksr-root-2017-q2-0.xml";
const Q1_SKR: &str = "icann/root/skr-root-2017-q1-0.xml";
/// ksr-bad-pop.xml is a 2018 Q1 KSR; its ceremony was in late 2017.
const BAD_POP_NOW: &str = "2017-11-15T00:00:00Z";

#[test]
fn ksr_2017_q2_passes_every_check_under_root_defaults() {
    let report = validate(
        &ksr(Q2),
        None,
        &RequestPolicy::default(),
        "2017-03-15T00:00:00Z",
    );
    assert!(report.is_ok(), "{report:#?}");
    for id in [
        CheckId::KsrId,
        CheckId::KsrChainKeys,
        CheckId::KsrChainOverlap,
    ] {
        assert!(
            matches!(report.outcome(id), Some(Outcome::NotApplicable(_))),
            "{id}"
        );
    }
    let passed = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Passed(_)))
        .count();
    assert_eq!(passed, 12, "{report:#?}");
}

#[test]
fn with_the_previous_skr_the_chain_checks_pass_too() {
    let previous = skr(Q1_SKR);
    let report = validate(
        &ksr(Q2),
        Some(&previous),
        &RequestPolicy::default(),
        "2017-03-15T00:00:00Z",
    );
    assert!(report.is_ok(), "{report:#?}");
    for id in [
        CheckId::KsrId,
        CheckId::KsrBundleUnique,
        CheckId::KsrChainKeys,
        CheckId::KsrChainOverlap,
    ] {
        assert!(
            matches!(report.outcome(id), Some(Outcome::Passed(_))),
            "{id}: {report:#?}"
        );
    }
}

#[test]
fn a_ksr_is_not_its_own_successor() {
    // Chaining Q2's KSR onto Q2's own SKR: same id, same bundle ids, wrong overlap.
    let previous = skr("icann/root/skr-root-2017-q2-0.xml");
    let report = validate(
        &ksr(Q2),
        Some(&previous),
        &RequestPolicy::default(),
        "2017-03-15T00:00:00Z",
    );
    let failed = failed(&report);
    for id in [
        CheckId::KsrId,
        CheckId::KsrBundleUnique,
        CheckId::KsrChainOverlap,
    ] {
        assert!(failed.contains(&id), "{id} should fail: {failed:?}");
    }
}

#[test]
fn swapped_signatures_fail_exactly_bundle_pop() {
    let report = validate(
        &ksr("icann/ksr-bad-pop.xml"),
        None,
        &RequestPolicy::default(),
        BAD_POP_NOW,
    );
    assert_eq!(
        failed(&report),
        [CheckId::KsrBundlePop],
        "{}",
        failures(&report)
    );
}

#[test]
fn rsa_1024_zsks_of_2016_q3_fail_policy_alg() {
    let report = validate(
        &ksr("icann/root/ksr-root-2016-q3-0.xml"),
        None,
        &RequestPolicy::default(),
        "2016-06-15T00:00:00Z",
    );
    assert!(
        failed(&report).contains(&CheckId::KsrPolicyAlg),
        "{report:#?}"
    );
    let Some(Outcome::Failed(violations)) = report.outcome(CheckId::KsrPolicyAlg) else {
        panic!("no KSR-POLICY-ALG failure")
    };
    assert!(
        violations.iter().any(|v| v.message.contains("RSA-1024")),
        "{violations:#?}"
    );
}

fn policy_2010() -> RequestPolicy {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/policy-2010.toml");
    PolicyConfig::load(&path)
        .expect("the 2010 policy loads")
        .request_policy
}

#[test]
fn early_ksrs_fail_root_defaults_and_pass_the_2010_policy() {
    for (rel, now) in [
        ("icann/root/ksr-root-2009-q4-2.xml", "2009-10-20T00:00:00Z"),
        ("icann/root/ksr-root-2010-q1-0.xml", "2009-12-15T00:00:00Z"),
    ] {
        let ksr = ksr(rel);
        let strict = validate(&ksr, None, &RequestPolicy::default(), now);
        assert!(!strict.is_ok(), "{rel} passes root defaults");
        let old = validate(&ksr, None, &policy_2010(), now);
        assert!(
            old.is_ok(),
            "{rel} under the 2010 policy:\n{}",
            failures(&old)
        );
    }
}

#[test]
fn horizon_is_measured_from_now() {
    let ksr = ksr(Q2);
    let too_early = validate(
        &ksr,
        None,
        &RequestPolicy::default(),
        "2016-12-01T00:00:00Z",
    );
    assert_eq!(failed(&too_early), [CheckId::KsrPolicySigHorizon]);
    let too_late = validate(
        &ksr,
        None,
        &RequestPolicy::default(),
        "2017-08-01T00:00:00Z",
    );
    assert_eq!(failed(&too_late), [CheckId::KsrPolicySigHorizon]);
}

#[test]
fn switched_off_checks_are_skipped_not_passed() {
    let policy = RequestPolicy {
        validate_signatures: false,
        check_bundle_overlap: false,
        ..RequestPolicy::default()
    };
    let report = validate(&ksr("icann/ksr-bad-pop.xml"), None, &policy, BAD_POP_NOW);
    assert!(report.is_ok(), "{}", failures(&report));
    assert!(matches!(
        report.outcome(CheckId::KsrBundlePop),
        Some(Outcome::Skipped(_))
    ));
    assert!(matches!(
        report.outcome(CheckId::KsrPolicySigOverlap),
        Some(Outcome::Skipped(_))
    ));
}

fn verify(skr: &Skr, ksr: Option<&Ksr>) -> Report {
    let anchors = TrustAnchor::parse(ROOT_ANCHORS_XML, "built-in").expect("anchors");
    verify_skr(
        skr,
        &SkrContext {
            policy: &ResponsePolicy::default(),
            ksr,
            anchors: Some(&anchors),
            previous: None,
        },
    )
}

#[test]
fn both_real_skrs_verify_against_the_root_anchor() {
    for rel in [Q1_SKR, "icann/root/skr-root-2017-q2-0.xml"] {
        let report = verify(&skr(rel), None);
        assert!(report.is_ok(), "{rel}: {report:#?}");
        let Some(Outcome::Passed(text)) = report.outcome(CheckId::SkrTrustAnchor) else {
            panic!("{rel}: anchor check did not pass")
        };
        assert!(text.contains("19036"), "{text}");
    }
}

#[test]
fn skr_answers_its_ksr() {
    let report = verify(&skr("icann/root/skr-root-2017-q2-0.xml"), Some(&ksr(Q2)));
    assert!(report.is_ok(), "{report:#?}");
    assert!(matches!(
        report.outcome(CheckId::SkrMatch),
        Some(Outcome::Passed(_))
    ));
    assert!(matches!(
        report.outcome(CheckId::SkrPair),
        Some(Outcome::Passed(_))
    ));
    let wrong = verify(&skr(Q1_SKR), Some(&ksr(Q2)));
    assert!(failed(&wrong).contains(&CheckId::SkrMatch), "{wrong:#?}");
    assert!(failed(&wrong).contains(&CheckId::SkrPair), "{wrong:#?}");
}

#[test]
fn flipping_any_signature_bit_fails_skr_verify_naming_the_bundle() {
    let original = skr("icann/root/skr-root-2017-q2-0.xml");
    for (b, bundle) in original.bundles.iter().enumerate() {
        for bit in [0usize, 7, 1000, 2047] {
            let mut tampered = original.clone();
            let data = &mut tampered.bundles[b].signatures[0].signature_data;
            data[bit / 8] ^= 1 << (bit % 8);
            let report = verify(&tampered, None);
            let Some(Outcome::Failed(violations)) = report.outcome(CheckId::SkrVerify) else {
                panic!("bundle {b} bit {bit} not detected")
            };
            assert!(
                violations
                    .iter()
                    .all(|v| v.bundle.as_deref() == Some(&bundle.id)),
                "{violations:#?}"
            );
        }
    }
}

#[test]
fn key_safety_across_the_real_hand_over() {
    let previous = skr(Q1_SKR);
    let new = skr("icann/root/skr-root-2017-q2-0.xml");
    let report = ceremony_policy::check_safety(&previous, &new, &RequestPolicy::default());
    assert!(report.is_ok(), "{report:#?}");
}
