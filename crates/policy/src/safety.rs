//! KSR-POLICY-SAFETY: KSKs published long enough before they sign, and after.
//!
//! The check looks at the hand-over between the previous SKR and a new one:
//! a KSK that signs the new SKR's first bundle must already be published in
//! the previous SKR's last bundle (publish safety), and a KSK that stops
//! signing must stay published for the retire-safety period of the new SKR
//! (the root: 28 days), so that caches holding the old signatures still
//! find it.

use ceremony_dnssec::KeyTag;
use ceremony_formats::{Bundle, Duration, Skr};

use crate::{CheckId, Outcome, Report, RequestPolicy, Violation};

fn signing_tags(bundle: &Bundle) -> Vec<KeyTag> {
    let mut tags: Vec<KeyTag> = bundle.signatures.iter().map(|s| s.key_tag).collect();
    tags.sort();
    tags.dedup();
    tags
}

fn publishes(bundle: &Bundle, tag: KeyTag) -> bool {
    // A key stays published while it is present, revoked or not.
    bundle
        .dnskeys()
        .any(|k| k.key_tag() == tag || unrevoked_tag(k) == tag)
}

fn unrevoked_tag(key: &ceremony_dnssec::Dnskey) -> KeyTag {
    ceremony_dnssec::Dnskey::new(
        key.flags() & !ceremony_dnssec::Dnskey::REVOKE,
        key.protocol(),
        key.algorithm(),
        key.public_key().to_vec(),
    )
    .map_or(KeyTag(0), |k| k.key_tag())
}

/// Checks KSK publish and retire safety across the hand-over from `previous` to `new`.
pub fn check_safety(previous: &Skr, new: &Skr, policy: &RequestPolicy) -> Report {
    let mut report = Report::default();
    if !policy.check_keys_publish_safety && !policy.check_keys_retire_safety {
        report.push(
            CheckId::KsrPolicySafety,
            Outcome::Skipped(
                "check_keys_publish_safety = false and check_keys_retire_safety = false".to_owned(),
            ),
        );
        return report;
    }
    let (Some(last), Some(first)) = (previous.bundles.last(), new.bundles.first()) else {
        report.push(
            CheckId::KsrPolicySafety,
            Outcome::NotApplicable("an SKR has no bundles".to_owned()),
        );
        return report;
    };
    let mut violations = Vec::new();
    if policy.check_keys_publish_safety {
        let publish_safety = new.ksk_policy.publish_safety;
        for tag in signing_tags(first) {
            if publish_safety > Duration::ZERO && !publishes(last, tag) {
                violations.push(
                    Violation::new(format!(
                        "KSK {tag} signs the first bundle but was not published in the previous SKR's last bundle (publish safety {publish_safety})"
                    ))
                    .in_bundle(&first.id)
                    .for_key(tag),
                );
            }
            if publish_safety == Duration::ZERO
                && !publishes(last, tag)
                && !signing_tags(last).contains(&tag)
            {
                // Even with no publish safety, a KSK nobody has seen cannot take over the chain.
                violations.push(
                    Violation::new(format!(
                        "KSK {tag} signs the first bundle but appears nowhere in the previous SKR's last bundle"
                    ))
                    .in_bundle(&first.id)
                    .for_key(tag),
                );
            }
        }
    }
    if policy.check_keys_retire_safety {
        let retire_safety = new.ksk_policy.retire_safety;
        let new_signers: Vec<KeyTag> = new.bundles.iter().flat_map(signing_tags).collect();
        for tag in signing_tags(last)
            .into_iter()
            .filter(|t| !new_signers.contains(t))
        {
            let needed_until = first.inception.as_second() + retire_safety.as_seconds();
            let published_until = new
                .bundles
                .iter()
                .take_while(|b| publishes(b, tag))
                .map(|b| b.expiration.as_second())
                .max()
                .unwrap_or(first.inception.as_second());
            if published_until < needed_until {
                violations.push(
                    Violation::new(format!(
                        "KSK {tag} stops signing but is published only {} into the new SKR, less than the retire safety {retire_safety}",
                        Duration::from_seconds(published_until - first.inception.as_second())
                    ))
                    .in_bundle(&first.id)
                    .for_key(tag),
                );
            }
        }
    }
    report.record(
        CheckId::KsrPolicySafety,
        violations,
        "KSKs are published before they sign and kept for the retire safety period after",
    );
    report
}
