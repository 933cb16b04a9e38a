//! The checks a KSK operator runs on a KSR before signing it.

use std::collections::{BTreeMap, HashSet};

use ceremony_dnssec::{algorithm_name, Dnskey, KeyParams, KeyTag, SecurityAlgorithm};
use ceremony_formats::model::{AlgorithmParams, AlgorithmPolicy, ProofOfPossession};
use ceremony_formats::{Bundle, Duration, Key, Ksr, Skr};
use jiff::Timestamp;

use crate::sig::{bundle_label, signing_key, verify_signature, zone_name};
use crate::{CheckId, Outcome, Report, RequestPolicy, Violation};

/// What the KSR checks read besides the KSR.
#[derive(Clone, Copy, Debug)]
pub struct KsrContext<'a> {
    /// The operator's knobs.
    pub policy: &'a RequestPolicy,
    /// The SKR answering the previous KSR, for the chain checks.
    pub previous: Option<&'a Skr>,
    /// The instant the horizon is measured from.
    pub now: Timestamp,
    /// Tags of the operator's KSKs (current, next and revoked), which no ZSK may share.
    pub ksk_tags: &'a [KeyTag],
}

/// Runs every KSR check and reports each one, never stopping at the first failure.
pub fn validate_ksr(ksr: &Ksr, ctx: &KsrContext<'_>) -> Report {
    let policy = ctx.policy;
    let mut report = Report::default();
    check_domain(ksr, policy, &mut report);
    check_id(ksr, ctx.previous, &mut report);
    check_bundle_unique(ksr, ctx.previous, &mut report);
    check_bundle_keys(ksr, ctx, &mut report);
    check_bundle_pop(ksr, policy, &mut report);
    check_bundle_count(ksr, policy, &mut report);
    check_cycle_duration(ksr, policy, &mut report);
    check_policy_keys(ksr, policy, &mut report);
    check_policy_alg(ksr, policy, &mut report);
    check_sig_overlap(ksr, policy, &mut report);
    check_sig_validity(ksr, policy, &mut report);
    check_sig_horizon(ksr, policy, ctx.now, &mut report);
    check_bundle_intervals(ksr, policy, &mut report);
    check_chain_keys(ksr, ctx.previous, policy, &mut report);
    check_chain_overlap(ksr, ctx.previous, policy, &mut report);
    report.push(
        CheckId::KsrPolicySafety,
        Outcome::NotApplicable(
            "checked when signing: KSK publish and retire safety depend on the schema's KSK plan"
                .to_owned(),
        ),
    );
    report
}

const NEEDS_PREVIOUS: &str = "needs the previous SKR (--previous-skr)";

fn check_domain(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    let domain = &ksr.header.domain;
    let accepted = policy.acceptable_domains.iter().any(|d| {
        d.trim_end_matches('.')
            .eq_ignore_ascii_case(domain.trim_end_matches('.'))
    });
    let mut violations = Vec::new();
    if !accepted {
        violations.push(Violation::new(format!(
            "domain {domain:?} is not among the acceptable domains {:?}",
            policy.acceptable_domains
        )));
    }
    report.record(
        CheckId::KsrDomain,
        violations,
        format!("domain {domain:?} is accepted"),
    );
}

fn check_id(ksr: &Ksr, previous: Option<&Skr>, report: &mut Report) {
    let Some(previous) = previous else {
        report.push(
            CheckId::KsrId,
            Outcome::NotApplicable(NEEDS_PREVIOUS.to_owned()),
        );
        return;
    };
    let mut violations = Vec::new();
    if ksr.header.id == previous.header.id {
        violations.push(Violation::new(format!(
            "the KSR id {} is the previous SKR's: this KSR was already signed",
            ksr.header.id
        )));
    }
    report.record(
        CheckId::KsrId,
        violations,
        "the KSR id differs from the previous SKR's",
    );
}

fn check_bundle_unique(ksr: &Ksr, previous: Option<&Skr>, report: &mut Report) {
    let mut violations = Vec::new();
    let mut seen = HashSet::new();
    for (i, bundle) in ksr.bundles.iter().enumerate() {
        if !seen.insert(bundle.id.as_str()) {
            violations.push(
                Violation::new(format!(
                    "bundle {} repeats an earlier bundle's id",
                    bundle_label(i, bundle)
                ))
                .in_bundle(&bundle.id),
            );
        }
    }
    if let Some(previous) = previous {
        let old: HashSet<&str> = previous.bundles.iter().map(|b| b.id.as_str()).collect();
        for bundle in ksr.bundles.iter().filter(|b| old.contains(b.id.as_str())) {
            violations.push(
                Violation::new(format!(
                    "bundle id {} was already used by the previous SKR",
                    bundle.id
                ))
                .in_bundle(&bundle.id),
            );
        }
    }
    let scope = if previous.is_some() {
        " and unused by the previous SKR"
    } else {
        ""
    };
    report.record(
        CheckId::KsrBundleUnique,
        violations,
        format!("all {} bundle ids are unique{scope}", ksr.bundles.len()),
    );
}

fn check_bundle_keys(ksr: &Ksr, ctx: &KsrContext<'_>, report: &mut Report) {
    let policy = ctx.policy;
    let mut violations = Vec::new();
    let mut by_identifier: BTreeMap<&str, &Key> = BTreeMap::new();
    let mut by_tag: BTreeMap<KeyTag, &Key> = BTreeMap::new();
    let mut notes = Vec::new();
    for bundle in &ksr.bundles {
        for key in &bundle.keys {
            let tag = key.dnskey.key_tag();
            let at = |message: String| Violation::new(message).in_bundle(&bundle.id).for_key(tag);
            if key.key_tag != tag {
                violations.push(at(format!(
                    "key {} states tag {} but its tag is {tag} (RFC 4034 App. B)",
                    key.key_identifier, key.key_tag
                )));
            }
            if key.dnskey.flags() != 256 {
                violations.push(at(format!(
                    "key {tag} has flags {}; a KSR carries ZSKs only (flags 256)",
                    key.dnskey.flags()
                )));
            }
            if ctx.ksk_tags.contains(&tag) {
                violations.push(at(format!(
                    "ZSK tag {tag} equals the tag of one of the operator's KSKs (current, next or revoked)"
                )));
            }
            match by_identifier.insert(&key.key_identifier, key) {
                Some(earlier) if earlier != key => violations.push(at(format!(
                    "key identifier {} names a different key here than in an earlier bundle",
                    key.key_identifier
                ))),
                _ => {}
            }
            match by_tag.insert(tag, key) {
                Some(earlier) if earlier.dnskey != key.dnskey => {
                    violations.push(at(format!("key tag {tag} is shared by two different keys")))
                }
                _ => {}
            }
            if policy.keys_match_zsk_policy {
                match zsk_policy_match(
                    &key.dnskey,
                    &ksr.zsk_policy.algorithms,
                    policy.rsa_exponent_match_zsk_policy,
                ) {
                    Ok(None) => {}
                    Ok(Some(note)) => notes.push(format!("key {tag}: {note}")),
                    Err(why) => violations.push(at(format!("key {tag} {why}"))),
                }
            }
        }
    }
    notes.sort();
    notes.dedup();
    let mut passed = format!(
        "{} distinct keys, consistent across bundles, with correct tags",
        by_identifier.len()
    );
    if policy.keys_match_zsk_policy {
        passed.push_str(", matching the KSR's ZSK policy");
    }
    if !notes.is_empty() {
        passed.push_str(&format!(" ({})", notes.join("; ")));
    }
    report.record(CheckId::KsrBundleKeys, violations, passed);
}

/// Whether a key fits one of the policy's algorithms; `Ok(Some(_))` is a tolerated exponent mismatch.
fn zsk_policy_match(
    key: &Dnskey,
    algorithms: &[AlgorithmPolicy],
    exponent_must_match: bool,
) -> Result<Option<String>, String> {
    let params = key
        .params()
        .map_err(|err| format!("cannot be decoded: {err}"))?;
    let mut exponent_mismatch = None;
    for alg in algorithms.iter().filter(|a| a.algorithm == key.algorithm()) {
        match (alg.params, params) {
            (AlgorithmParams::Rsa { size, exponent }, KeyParams::Rsa { bits, exponent: e })
                if size == bits =>
            {
                if e == Some(exponent) {
                    return Ok(None);
                }
                exponent_mismatch = Some(format!(
                    "has exponent {} where the ZSK policy says {exponent}",
                    e.map_or("(over 64 bits)".to_owned(), |e| e.to_string())
                ));
            }
            (AlgorithmParams::Ecdsa { size }, KeyParams::Ecdsa { bits })
            | (AlgorithmParams::EdDsa { size }, KeyParams::EdDsa { bits })
                if size == bits =>
            {
                return Ok(None)
            }
            _ => {}
        }
    }
    match exponent_mismatch {
        Some(why) if !exponent_must_match => Ok(Some(why)),
        Some(why) => Err(why),
        None => Err(format!(
            "(algorithm {}, {}-bit) matches no SignatureAlgorithm of the KSR's ZSK policy",
            algorithm_name(key.algorithm()),
            params.bits()
        )),
    }
}

fn check_bundle_pop(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    // Knot DNS and BIND 9 requests have no self-signatures to check: not
    // applicable, never passed. Only their readers set this marker.
    if ksr.proof_of_possession == ProofOfPossession::NotInFormat {
        report.push(
            CheckId::KsrBundlePop,
            Outcome::NotApplicable(
                "the KSR's format (Knot DNS or BIND 9 text) carries no proof of possession"
                    .to_owned(),
            ),
        );
        return;
    }
    if !policy.validate_signatures {
        report.push(
            CheckId::KsrBundlePop,
            Outcome::Skipped("validate_signatures = false".to_owned()),
        );
        return;
    }
    let zone = match zone_name(&ksr.header.domain) {
        Ok(zone) => zone,
        Err(why) => {
            report.record(CheckId::KsrBundlePop, vec![Violation::new(why)], "");
            return;
        }
    };
    let mut violations = Vec::new();
    let mut checked = 0;
    for (i, bundle) in ksr.bundles.iter().enumerate() {
        let label = bundle_label(i, bundle);
        let mut proven = HashSet::new();
        for sig in &bundle.signatures {
            let Some(key) = signing_key(bundle, sig) else {
                violations.push(
                    Violation::new(format!(
                        "bundle {label}: signature by {} (tag {}) is by no key in the bundle",
                        sig.key_identifier, sig.key_tag
                    ))
                    .in_bundle(&bundle.id)
                    .for_key(sig.key_tag),
                );
                continue;
            };
            checked += 1;
            match verify_signature(&zone, bundle, sig, key) {
                Ok(()) => {
                    proven.insert(&key.key_identifier);
                }
                Err(why) => violations.push(
                    Violation::new(format!(
                        "bundle {label}: proof-of-possession signature by key {} does not verify: {why}",
                        sig.key_tag
                    ))
                    .in_bundle(&bundle.id)
                    .for_key(sig.key_tag),
                ),
            }
        }
        for key in bundle
            .keys
            .iter()
            .filter(|k| !proven.contains(&k.key_identifier))
        {
            let tag = key.dnskey.key_tag();
            violations.push(
                Violation::new(format!(
                    "bundle {label}: key {tag} has no valid self-signature"
                ))
                .in_bundle(&bundle.id)
                .for_key(tag),
            );
        }
    }
    report.record(
        CheckId::KsrBundlePop,
        violations,
        format!(
            "all {checked} signatures in {} bundles verify; every key proves possession",
            ksr.bundles.len()
        ),
    );
}

fn check_bundle_count(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    if policy.num_bundles == 0 {
        report.push(
            CheckId::KsrBundleCount,
            Outcome::Skipped("num_bundles = 0".to_owned()),
        );
        return;
    }
    let mut violations = Vec::new();
    if ksr.bundles.len() != policy.num_bundles {
        violations.push(Violation::new(format!(
            "{} bundles, expected {}",
            ksr.bundles.len(),
            policy.num_bundles
        )));
    }
    report.record(
        CheckId::KsrBundleCount,
        violations,
        format!("{} bundles", ksr.bundles.len()),
    );
}

fn check_cycle_duration(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    if !policy.check_cycle_length {
        report.push(
            CheckId::KsrBundleCycleDuration,
            Outcome::Skipped("check_cycle_length = false".to_owned()),
        );
        return;
    }
    let (Some(first), Some(last)) = (ksr.bundles.first(), ksr.bundles.last()) else {
        return;
    };
    let span = Duration::between(first.inception, last.inception);
    let (min, max) = (
        policy.min_cycle_inception_length,
        policy.max_cycle_inception_length,
    );
    let mut violations = Vec::new();
    if span < min || span > max {
        violations.push(Violation::new(format!(
            "first to last inception spans {span}, outside {min} to {max}"
        )));
    }
    report.record(
        CheckId::KsrBundleCycleDuration,
        violations,
        format!("inceptions span {span}, within {min} to {max}"),
    );
}

fn check_policy_keys(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    if !policy.check_keys_match_ksk_operator_policy {
        report.push(
            CheckId::KsrPolicyKeys,
            Outcome::Skipped("check_keys_match_ksk_operator_policy = false".to_owned()),
        );
        return;
    }
    let mut violations = Vec::new();
    let expected = &policy.num_keys_per_bundle;
    if !expected.is_empty() {
        if expected.len() != ksr.bundles.len() {
            violations.push(Violation::new(format!(
                "the policy gives key counts for {} bundles, the KSR has {}",
                expected.len(),
                ksr.bundles.len()
            )));
        }
        for (i, (bundle, want)) in ksr.bundles.iter().zip(expected).enumerate() {
            if bundle.keys.len() != *want {
                violations.push(
                    Violation::new(format!(
                        "bundle {} has {} keys, the policy says {want}",
                        bundle_label(i, bundle),
                        bundle.keys.len()
                    ))
                    .in_bundle(&bundle.id),
                );
            }
        }
    }
    let distinct: HashSet<&Dnskey> = ksr.bundles.iter().flat_map(Bundle::dnskeys).collect();
    let want_distinct = policy.num_different_keys_in_all_bundles;
    if want_distinct != 0 && distinct.len() != want_distinct {
        violations.push(Violation::new(format!(
            "{} distinct keys in the KSR, the policy says {want_distinct}",
            distinct.len()
        )));
    }
    for bundle in &ksr.bundles {
        for key in bundle.keys.iter().filter(|k| k.ttl != policy.dns_ttl) {
            violations.push(
                Violation::new(format!(
                    "key {} has TTL {}, the policy says {}",
                    key.dnskey.key_tag(),
                    key.ttl,
                    policy.dns_ttl
                ))
                .in_bundle(&bundle.id)
                .for_key(key.dnskey.key_tag()),
            );
        }
    }
    let counts: Vec<String> = ksr
        .bundles
        .iter()
        .map(|b| b.keys.len().to_string())
        .collect();
    report.record(
        CheckId::KsrPolicyKeys,
        violations,
        format!(
            "keys per bundle [{}], {} distinct keys, TTL {}",
            counts.join(","),
            distinct.len(),
            policy.dns_ttl
        ),
    );
}

/// RFC 8624 §3.1: algorithms that MUST NOT be used for signing.
const DEPRECATED: [SecurityAlgorithm; 5] = [
    SecurityAlgorithm::RSAMD5,
    SecurityAlgorithm::DSA,
    SecurityAlgorithm::DSA_NSEC3_SHA1,
    SecurityAlgorithm::ECC_GOST,
    SecurityAlgorithm::RSASHA1,
];

fn check_policy_alg(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    let mut violations = Vec::new();
    for alg in &ksr.zsk_policy.algorithms {
        if DEPRECATED.contains(&alg.algorithm) {
            violations.push(Violation::new(format!(
                "the ZSK policy uses algorithm {}, which must not be used for signing (RFC 8624 §3.1)",
                algorithm_name(alg.algorithm)
            )));
        }
    }
    if !policy.signature_algorithms_match_zsk_policy {
        if violations.is_empty() {
            report.push(
                CheckId::KsrPolicyAlg,
                Outcome::Skipped("signature_algorithms_match_zsk_policy = false".to_owned()),
            );
        } else {
            report.record(CheckId::KsrPolicyAlg, violations, "");
        }
        return;
    }
    for alg in &ksr.zsk_policy.algorithms {
        if !policy.approved_algorithms.contains(&alg.algorithm) {
            violations.push(Violation::new(format!(
                "the ZSK policy uses algorithm {}, the policy approves only [{}]",
                algorithm_name(alg.algorithm),
                policy
                    .approved_algorithms
                    .iter()
                    .map(|a| algorithm_name(*a))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
            continue;
        }
        match alg.params {
            AlgorithmParams::Rsa { size, exponent } => {
                if !policy.rsa_approved_key_sizes.contains(&size) {
                    violations.push(Violation::new(format!(
                        "the ZSK policy has RSA-{size}, the policy approves sizes {}",
                        list(&policy.rsa_approved_key_sizes)
                    )));
                }
                if !policy.rsa_approved_exponents.contains(&exponent) {
                    violations.push(Violation::new(format!(
                        "the ZSK policy has RSA exponent {exponent}, the policy approves {}",
                        list(&policy.rsa_approved_exponents)
                    )));
                }
            }
            AlgorithmParams::Ecdsa { size } | AlgorithmParams::EdDsa { size } => {
                let fits = matches!(
                    (alg.algorithm, size),
                    (SecurityAlgorithm::ECDSAP256SHA256, 256)
                        | (SecurityAlgorithm::ECDSAP384SHA384, 384)
                        | (SecurityAlgorithm::ED25519, 256)
                        | (SecurityAlgorithm::ED448, 456)
                );
                if !fits {
                    violations.push(Violation::new(format!(
                        "the ZSK policy gives size {size} for algorithm {}, which has no such size",
                        algorithm_name(alg.algorithm)
                    )));
                }
            }
        }
    }
    let algs: Vec<String> = ksr.zsk_policy.algorithms.iter().map(describe_alg).collect();
    report.record(
        CheckId::KsrPolicyAlg,
        violations,
        format!("ZSK algorithms {} approved", algs.join(", ")),
    );
}

fn describe_alg(alg: &AlgorithmPolicy) -> String {
    match alg.params {
        AlgorithmParams::Rsa { size, exponent } => {
            format!("{} RSA-{size} e={exponent}", algorithm_name(alg.algorithm))
        }
        AlgorithmParams::Ecdsa { size } | AlgorithmParams::EdDsa { size } => {
            format!("{} {size}-bit", algorithm_name(alg.algorithm))
        }
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let text: Vec<String> = items.iter().map(T::to_string).collect();
    format!("[{}]", text.join(", "))
}

/// Checks `value` against the operator's range, and the KSR's stated range when given.
fn range_violations(
    what: &str,
    value: Duration,
    operator: (Duration, Duration),
    stated: Option<(Duration, Duration)>,
) -> Vec<String> {
    let mut out = Vec::new();
    let (min, max) = operator;
    if value < min || value > max {
        out.push(format!(
            "{what} {value} is outside the policy's {min} to {max}"
        ));
    }
    if let Some((min, max)) = stated {
        if value < min || value > max {
            out.push(format!(
                "{what} {value} is outside the KSR's own stated {min} to {max}"
            ));
        }
    }
    out
}

/// The KSR's stated overlap range, when the policy holds the KSR to it.
fn stated_overlap(ksr: &Ksr, policy: &RequestPolicy) -> Option<(Duration, Duration)> {
    policy.overlap_match_zsk_policy.then_some((
        ksr.zsk_policy.min_validity_overlap,
        ksr.zsk_policy.max_validity_overlap,
    ))
}

fn check_sig_overlap(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    if !policy.check_bundle_overlap {
        report.push(
            CheckId::KsrPolicySigOverlap,
            Outcome::Skipped("check_bundle_overlap = false".to_owned()),
        );
        return;
    }
    let mut violations = Vec::new();
    for (i, pair) in ksr.bundles.windows(2).enumerate() {
        let (prev, this) = (&pair[0], &pair[1]);
        let overlap = Duration::between(this.inception, prev.expiration);
        let what = format!(
            "bundle {} overlaps bundle {} by",
            bundle_label(i + 1, this),
            bundle_label(i, prev)
        );
        let what = if overlap < Duration::ZERO {
            format!(
                "bundle {} leaves a gap after bundle {}: overlap",
                bundle_label(i + 1, this),
                bundle_label(i, prev)
            )
        } else {
            what
        };
        for message in range_violations(
            &what,
            overlap,
            (policy.min_validity_overlap, policy.max_validity_overlap),
            stated_overlap(ksr, policy),
        ) {
            violations.push(Violation::new(message).in_bundle(&this.id));
        }
    }
    report.record(
        CheckId::KsrPolicySigOverlap,
        violations,
        format!(
            "consecutive bundles overlap within {} to {}{}",
            policy.min_validity_overlap,
            policy.max_validity_overlap,
            stated_overlap(ksr, policy)
                .map(|(min, max)| format!(" and the KSR's stated {min} to {max}"))
                .unwrap_or_default()
        ),
    );
}

fn check_sig_validity(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    let stated = policy.signature_validity_match_zsk_policy.then_some((
        ksr.zsk_policy.min_signature_validity,
        ksr.zsk_policy.max_signature_validity,
    ));
    let mut violations = Vec::new();
    for (i, bundle) in ksr.bundles.iter().enumerate() {
        for message in range_violations(
            &format!("bundle {} validity", bundle_label(i, bundle)),
            bundle.validity(),
            (policy.min_signature_validity, policy.max_signature_validity),
            stated,
        ) {
            violations.push(Violation::new(message).in_bundle(&bundle.id));
        }
    }
    let mut passed = format!(
        "every bundle's validity lies within {} to {}",
        policy.min_signature_validity, policy.max_signature_validity
    );
    if let Some((min, max)) = stated {
        passed.push_str(&format!(" and the KSR's stated {min} to {max}"));
    }
    report.record(CheckId::KsrPolicySigValidity, violations, passed);
}

fn check_sig_horizon(ksr: &Ksr, policy: &RequestPolicy, now: Timestamp, report: &mut Report) {
    if !policy.signature_check_expire_horizon {
        report.push(
            CheckId::KsrPolicySigHorizon,
            Outcome::Skipped("signature_check_expire_horizon = false".to_owned()),
        );
        return;
    }
    let horizon = Duration::from_days(policy.signature_horizon_days);
    let mut violations = Vec::new();
    for (i, bundle) in ksr.bundles.iter().enumerate() {
        let ahead = Duration::between(now, bundle.expiration);
        if ahead > horizon {
            violations.push(
                Violation::new(format!(
                    "bundle {} expires {ahead} from now ({now}), beyond the {horizon} horizon",
                    bundle_label(i, bundle)
                ))
                .in_bundle(&bundle.id),
            );
        } else if ahead < Duration::ZERO {
            violations.push(
                Violation::new(format!(
                    "bundle {} expired before now ({now}); is the clock or --now right?",
                    bundle_label(i, bundle)
                ))
                .in_bundle(&bundle.id),
            );
        }
    }
    report.record(
        CheckId::KsrPolicySigHorizon,
        violations,
        format!("every bundle expires after {now} and within {horizon} of it"),
    );
}

fn check_bundle_intervals(ksr: &Ksr, policy: &RequestPolicy, report: &mut Report) {
    if !policy.check_bundle_intervals {
        report.push(
            CheckId::KsrPolicyBundleIntervals,
            Outcome::Skipped("check_bundle_intervals = false".to_owned()),
        );
        return;
    }
    let (min, max) = (policy.min_bundle_interval, policy.max_bundle_interval);
    let mut violations = Vec::new();
    for (i, pair) in ksr.bundles.windows(2).enumerate() {
        let interval = Duration::between(pair[0].inception, pair[1].inception);
        if interval < min || interval > max {
            violations.push(
                Violation::new(format!(
                    "bundle {} starts {interval} after the one before, outside {min} to {max}",
                    bundle_label(i + 1, &pair[1])
                ))
                .in_bundle(&pair[1].id),
            );
        }
    }
    report.record(
        CheckId::KsrPolicyBundleIntervals,
        violations,
        format!("inceptions are {min} to {max} apart"),
    );
}

fn check_chain_keys(
    ksr: &Ksr,
    previous: Option<&Skr>,
    policy: &RequestPolicy,
    report: &mut Report,
) {
    if !policy.check_chain_keys {
        report.push(
            CheckId::KsrChainKeys,
            Outcome::Skipped("check_chain_keys = false".to_owned()),
        );
        return;
    }
    let Some(previous) = previous else {
        report.push(
            CheckId::KsrChainKeys,
            Outcome::NotApplicable(NEEDS_PREVIOUS.to_owned()),
        );
        return;
    };
    let mut violations: Vec<Violation> = crate::skr::signature_violations(previous)
        .into_iter()
        .map(|v| Violation {
            message: format!("previous SKR: {}", v.message),
            ..v
        })
        .collect();
    if let (Some(last), Some(first)) = (previous.bundles.last(), ksr.bundles.first()) {
        let zsks = |b: &Bundle| -> HashSet<Dnskey> {
            b.dnskeys().filter(|k| !k.is_sep()).cloned().collect()
        };
        let (old, new) = (zsks(last), zsks(first));
        for key in by_tag(old.difference(&new)) {
            violations.push(
                Violation::new(format!(
                    "ZSK {} of the previous SKR's last bundle is missing from the KSR's first bundle",
                    key.key_tag()
                ))
                .in_bundle(&first.id)
                .for_key(key.key_tag()),
            );
        }
        for key in by_tag(new.difference(&old)) {
            violations.push(
                Violation::new(format!(
                    "ZSK {} of the KSR's first bundle was not in the previous SKR's last bundle",
                    key.key_tag()
                ))
                .in_bundle(&first.id)
                .for_key(key.key_tag()),
            );
        }
    }
    report.record(
        CheckId::KsrChainKeys,
        violations,
        "the previous SKR verifies, and its last ZSK set equals the KSR's first",
    );
}

fn check_chain_overlap(
    ksr: &Ksr,
    previous: Option<&Skr>,
    policy: &RequestPolicy,
    report: &mut Report,
) {
    if !policy.check_chain_overlap {
        report.push(
            CheckId::KsrChainOverlap,
            Outcome::Skipped("check_chain_overlap = false".to_owned()),
        );
        return;
    }
    let Some(previous) = previous else {
        report.push(
            CheckId::KsrChainOverlap,
            Outcome::NotApplicable(NEEDS_PREVIOUS.to_owned()),
        );
        return;
    };
    let (Some(last), Some(first)) = (previous.bundles.last(), ksr.bundles.first()) else {
        return;
    };
    let overlap = Duration::between(first.inception, last.expiration);
    let violations = range_violations(
        &format!(
            "the KSR's first bundle {} overlaps the previous SKR's last bundle {} by",
            first.id, last.id
        ),
        overlap,
        (policy.min_validity_overlap, policy.max_validity_overlap),
        stated_overlap(ksr, policy),
    )
    .into_iter()
    .map(|m| Violation::new(m).in_bundle(&first.id))
    .collect();
    report.record(
        CheckId::KsrChainOverlap,
        violations,
        format!("the first bundle overlaps the previous SKR's last by {overlap}"),
    );
}

/// Keys in key-tag order, so reports read the same on every run.
fn by_tag<'k>(keys: impl Iterator<Item = &'k Dnskey>) -> Vec<&'k Dnskey> {
    let mut keys: Vec<&Dnskey> = keys.collect();
    keys.sort_by_key(|k| k.key_tag());
    keys
}

#[cfg(test)]
mod pop_tests {
    use super::*;

    /// A real root KSR with every self-signature removed.
    fn unsigned_ksr() -> Ksr {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/icann/root/ksr-root-2017-q2-0.xml"
        );
        let text = std::fs::read_to_string(path).expect("shared data");
        let mut ksr = ceremony_formats::icann::parse_ksr(&text, path).expect("parses");
        for bundle in &mut ksr.bundles {
            bundle.signatures.clear();
        }
        ksr
    }

    fn pop_outcome(ksr: &Ksr) -> Outcome {
        let mut report = Report::default();
        check_bundle_pop(ksr, &RequestPolicy::default(), &mut report);
        report
            .outcome(CheckId::KsrBundlePop)
            .cloned()
            .expect("reported")
    }

    /// Knot and BIND KSRs have no proof of possession: the check does not apply, and never passes.
    #[test]
    fn pop_is_not_applicable_to_formats_without_it() {
        let mut ksr = unsigned_ksr();
        ksr.proof_of_possession = ProofOfPossession::NotInFormat;
        assert!(matches!(pop_outcome(&ksr), Outcome::NotApplicable(_)));
    }

    /// Stripping the signatures from an ICANN KSR does not make the check inapplicable.
    #[test]
    fn an_icann_ksr_without_signatures_fails_pop() {
        let ksr = unsigned_ksr();
        assert_eq!(ksr.proof_of_possession, ProofOfPossession::Required);
        assert!(matches!(pop_outcome(&ksr), Outcome::Failed(_)));
    }
}
