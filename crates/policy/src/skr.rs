//! The checks on an SKR: its signatures, its answer to the KSR, its anchors, its safety.

use std::collections::HashSet;

use ceremony_dnssec::{Dnskey, Ds, Name};
use ceremony_formats::anchor::TrustAnchor;
use ceremony_formats::{Bundle, Ksr, Skr};

use crate::sig::{bundle_label, signing_key, verify_signature, zone_name};
use crate::{CheckId, Outcome, Report, RequestPolicy, ResponsePolicy, Violation};

/// What the SKR checks read besides the SKR.
#[derive(Clone, Copy, Debug)]
pub struct SkrContext<'a> {
    /// The operator's SKR knobs.
    pub policy: &'a ResponsePolicy,
    /// The KSR this SKR answers, for SKR-MATCH and SKR-PAIR.
    pub ksr: Option<&'a Ksr>,
    /// Trust anchors for the zone, for SKR-TRUST-ANCHOR.
    pub anchors: Option<&'a TrustAnchor>,
    /// The previous SKR and the KSR knobs, for KSR-POLICY-SAFETY.
    pub previous: Option<(&'a Skr, &'a RequestPolicy)>,
}

/// Runs every SKR check and reports each one.
pub fn verify_skr(skr: &Skr, ctx: &SkrContext<'_>) -> Report {
    let mut report = Report::default();
    check_verify(skr, ctx.policy, &mut report);
    match ctx.ksr {
        Some(ksr) => {
            check_match(skr, ksr, &mut report);
            check_pair(skr, ksr, &mut report);
        }
        None => {
            for id in [CheckId::SkrMatch, CheckId::SkrPair] {
                report.push(
                    id,
                    Outcome::NotApplicable("needs the KSR it answers (--ksr)".to_owned()),
                );
            }
        }
    }
    match ctx.anchors {
        Some(anchors) => check_trust_anchor(skr, anchors, &mut report),
        None => report.push(
            CheckId::SkrTrustAnchor,
            Outcome::NotApplicable(format!(
                "no trust anchor for {:?} (--trust-anchor)",
                skr.header.domain
            )),
        ),
    }
    match ctx.previous {
        Some((previous, policy)) => {
            report.merge(crate::safety::check_safety(previous, skr, policy))
        }
        None => report.push(
            CheckId::KsrPolicySafety,
            Outcome::NotApplicable("needs the previous SKR (--previous-skr)".to_owned()),
        ),
    }
    report
}

/// Every problem with an SKR's signatures: each must be by a KSK of its bundle and verify.
pub(crate) fn signature_violations(skr: &Skr) -> Vec<Violation> {
    let zone = match zone_name(&skr.header.domain) {
        Ok(zone) => zone,
        Err(why) => return vec![Violation::new(why)],
    };
    let mut violations = Vec::new();
    for (i, bundle) in skr.bundles.iter().enumerate() {
        violations.extend(bundle_signature_violations(
            &zone,
            &bundle_label(i, bundle),
            bundle,
        ));
    }
    violations
}

fn bundle_signature_violations(zone: &Name, label: &str, bundle: &Bundle) -> Vec<Violation> {
    let mut violations = Vec::new();
    let at = |message: String| {
        Violation::new(format!("bundle {label}: {message}")).in_bundle(&bundle.id)
    };
    if bundle.signatures.is_empty() {
        violations.push(at("has no signature".to_owned()));
    }
    let mut signed_by = HashSet::new();
    for sig in &bundle.signatures {
        let Some(key) = signing_key(bundle, sig) else {
            violations.push(
                at(format!(
                    "signature by {} (tag {}) is by no key in the bundle",
                    sig.key_identifier, sig.key_tag
                ))
                .for_key(sig.key_tag),
            );
            continue;
        };
        if !key.dnskey.is_sep() {
            violations.push(
                at(format!(
                    "signature by key {}, which is not a KSK (flags {})",
                    sig.key_tag,
                    key.dnskey.flags()
                ))
                .for_key(sig.key_tag),
            );
        }
        if sig.inception != bundle.inception || sig.expiration != bundle.expiration {
            violations.push(
                at(format!(
                    "signature by key {} is valid {} to {}, not the bundle's {} to {}",
                    sig.key_tag, sig.inception, sig.expiration, bundle.inception, bundle.expiration
                ))
                .for_key(sig.key_tag),
            );
        }
        if sig.original_ttl != key.ttl {
            violations.push(
                at(format!(
                    "signature by key {} covers TTL {}, the keys have TTL {}",
                    sig.key_tag, sig.original_ttl, key.ttl
                ))
                .for_key(sig.key_tag),
            );
        }
        match verify_signature(zone, bundle, sig, key) {
            Ok(()) => {
                signed_by.insert(sig.key_tag);
            }
            Err(why) => violations.push(
                at(format!(
                    "signature by key {} does not verify: {why}",
                    sig.key_tag
                ))
                .for_key(sig.key_tag),
            ),
        }
    }
    // RFC 5011 §2.1: a revoked key must sign the RRset that announces its revocation.
    for key in bundle.keys.iter().filter(|k| k.dnskey.is_revoked()) {
        let tag = key.dnskey.key_tag();
        if !signed_by.contains(&tag) {
            violations.push(
                at(format!(
                    "revoked key {tag} does not sign the bundle (RFC 5011 §2.1)"
                ))
                .for_key(tag),
            );
        }
    }
    violations
}

fn check_verify(skr: &Skr, policy: &ResponsePolicy, report: &mut Report) {
    if !policy.validate_signatures {
        report.push(
            CheckId::SkrVerify,
            Outcome::Skipped("validate_signatures = false".to_owned()),
        );
        return;
    }
    let mut violations = signature_violations(skr);
    if policy.num_bundles != 0 && skr.bundles.len() != policy.num_bundles {
        violations.push(Violation::new(format!(
            "{} bundles, expected {}",
            skr.bundles.len(),
            policy.num_bundles
        )));
    }
    let count: usize = skr.bundles.iter().map(|b| b.signatures.len()).sum();
    report.record(
        CheckId::SkrVerify,
        violations,
        format!(
            "all {count} signatures in {} bundles verify, each by a KSK of its bundle",
            skr.bundles.len()
        ),
    );
}

fn check_match(skr: &Skr, ksr: &Ksr, report: &mut Report) {
    let mut violations = Vec::new();
    let (s, k) = (&skr.header, &ksr.header);
    if s.id != k.id {
        violations.push(Violation::new(format!(
            "SKR id {} is not the KSR's {}",
            s.id, k.id
        )));
    }
    if s.serial != k.serial {
        violations.push(Violation::new(format!(
            "SKR serial {} is not the KSR's {}",
            s.serial, k.serial
        )));
    }
    if !s.domain.eq_ignore_ascii_case(&k.domain) {
        violations.push(Violation::new(format!(
            "SKR domain {:?} is not the KSR's {:?}",
            s.domain, k.domain
        )));
    }
    if skr.bundles.len() != ksr.bundles.len() {
        violations.push(Violation::new(format!(
            "the SKR has {} bundles, the KSR {}",
            skr.bundles.len(),
            ksr.bundles.len()
        )));
    }
    for (i, (response, request)) in skr.bundles.iter().zip(&ksr.bundles).enumerate() {
        if response.id != request.id {
            violations.push(
                Violation::new(format!(
                    "response bundle #{} is {}, the request's is {}",
                    i + 1,
                    response.id,
                    request.id
                ))
                .in_bundle(&request.id),
            );
        }
        if response.inception != request.inception || response.expiration != request.expiration {
            violations.push(
                Violation::new(format!(
                    "bundle {} spans {} to {} in the SKR, {} to {} in the KSR",
                    bundle_label(i, request),
                    response.inception,
                    response.expiration,
                    request.inception,
                    request.expiration
                ))
                .in_bundle(&request.id),
            );
        }
    }
    report.record(
        CheckId::SkrMatch,
        violations,
        format!(
            "id, serial, domain and all {} bundle ids and times match the KSR",
            ksr.bundles.len()
        ),
    );
}

fn check_pair(skr: &Skr, ksr: &Ksr, report: &mut Report) {
    let zone = match zone_name(&skr.header.domain) {
        Ok(zone) => zone,
        Err(why) => {
            report.record(CheckId::SkrPair, vec![Violation::new(why)], "");
            return;
        }
    };
    let mut violations = Vec::new();
    for (i, (response, request)) in skr.bundles.iter().zip(&ksr.bundles).enumerate() {
        let label = bundle_label(i, request);
        let at = |message: String| {
            Violation::new(format!("bundle {label}: {message}")).in_bundle(&request.id)
        };
        let requested: HashSet<&Dnskey> = request.dnskeys().collect();
        let zsks: HashSet<&Dnskey> = response.dnskeys().filter(|k| !k.is_sep()).collect();
        for key in requested.difference(&zsks) {
            violations.push(
                at(format!(
                    "requested ZSK {} is missing from the response",
                    key.key_tag()
                ))
                .for_key(key.key_tag()),
            );
        }
        for key in zsks.difference(&requested) {
            violations.push(
                at(format!(
                    "response has ZSK {}, which was not requested",
                    key.key_tag()
                ))
                .for_key(key.key_tag()),
            );
        }
        if !response.dnskeys().any(Dnskey::is_sep) {
            violations.push(at("the response bundle has no KSK".to_owned()));
        }
        let mut ksk_signatures = 0;
        for sig in &response.signatures {
            let Some(key) = signing_key(response, sig).filter(|k| k.dnskey.is_sep()) else {
                violations.push(
                    at(format!(
                        "signature by {} is not by a KSK of the bundle",
                        sig.key_tag
                    ))
                    .for_key(sig.key_tag),
                );
                continue;
            };
            ksk_signatures += 1;
            if sig.inception > request.inception {
                violations.push(
                    at(format!(
                        "KSK {} signature starts {}, after the request's {}",
                        sig.key_tag, sig.inception, request.inception
                    ))
                    .for_key(sig.key_tag),
                );
            }
            if sig.expiration < request.expiration {
                violations.push(
                    at(format!(
                        "KSK {} signature ends {}, before the request's {}",
                        sig.key_tag, sig.expiration, request.expiration
                    ))
                    .for_key(sig.key_tag),
                );
            }
            if let Err(why) = verify_signature(&zone, response, sig, key) {
                violations.push(
                    at(format!(
                        "KSK {} signature does not verify: {why}",
                        sig.key_tag
                    ))
                    .for_key(sig.key_tag),
                );
            }
        }
        if ksk_signatures == 0 {
            violations.push(at("no KSK signature".to_owned()));
        }
    }
    report.record(
        CheckId::SkrPair,
        violations,
        "every response bundle has exactly the requested ZSKs and valid KSK signatures covering its window",
    );
}

fn check_trust_anchor(skr: &Skr, anchors: &TrustAnchor, report: &mut Report) {
    let zone = match zone_name(&skr.header.domain) {
        Ok(zone) => zone,
        Err(why) => {
            report.record(CheckId::SkrTrustAnchor, vec![Violation::new(why)], "");
            return;
        }
    };
    let mut violations = Vec::new();
    if !anchors
        .zone
        .trim_end_matches('.')
        .eq_ignore_ascii_case(skr.header.domain.trim_end_matches('.'))
    {
        violations.push(Violation::new(format!(
            "the trust anchors are for {:?}, the SKR for {:?}",
            anchors.zone, skr.header.domain
        )));
    }
    let mut matched = Vec::new();
    for (i, bundle) in skr.bundles.iter().enumerate() {
        for sig in &bundle.signatures {
            let Some(key) = signing_key(bundle, sig) else {
                continue;
            };
            // A revoked key signs as itself, but its anchor is the unrevoked key.
            let unrevoked = Dnskey::new(
                key.dnskey.flags() & !Dnskey::REVOKE,
                3,
                key.dnskey.algorithm(),
                key.dnskey.public_key().to_vec(),
            );
            let Ok(unrevoked) = unrevoked else { continue };
            let anchor = anchors.digests.iter().find(|d| {
                Ds::compute(&zone, &unrevoked, d.ds.digest_type).is_ok_and(|ds| ds == d.ds)
            });
            match anchor {
                None => violations.push(
                    Violation::new(format!(
                        "bundle {}: signing KSK {} matches no trust anchor digest",
                        bundle_label(i, bundle),
                        sig.key_tag
                    ))
                    .in_bundle(&bundle.id)
                    .for_key(sig.key_tag),
                ),
                Some(anchor) => {
                    let too_early = bundle.inception < anchor.valid_from;
                    let too_late = anchor
                        .valid_until
                        .is_some_and(|until| bundle.inception >= until);
                    if too_early || too_late {
                        violations.push(
                            Violation::new(format!(
                                "bundle {}: anchor {} (KSK {}) is not valid at the bundle's inception {}",
                                bundle_label(i, bundle),
                                anchor.id,
                                unrevoked.key_tag(),
                                bundle.inception
                            ))
                            .in_bundle(&bundle.id)
                            .for_key(sig.key_tag),
                        );
                    }
                    matched.push(format!("{} ({})", unrevoked.key_tag(), anchor.id));
                }
            }
        }
    }
    matched.sort();
    matched.dedup();
    report.record(
        CheckId::SkrTrustAnchor,
        violations,
        format!(
            "signing KSKs {} match the zone's trust anchors",
            matched.join(", ")
        ),
    );
}
