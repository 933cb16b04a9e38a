//! Turning a checked KSR into an SKR: build each bundle's DNSKEY RRset from the
//! schema, sign it with every signing KSK, re-verify, and check the result.
//!
//! The flow mirrors the root KSK operator's: every KSR check first, then the
//! signing-time checks, then signing, then SKR-VERIFY on every signature and
//! the SKR checks on the whole response. Any failure means no SKR.

use std::collections::BTreeMap;

use ceremony_dnssec::{
    parse_name, verify, DigestAlgorithm, Dnskey, Ds, KeyParams, KeyTag, RrsigHeader, DNSKEY_RTYPE,
};
use ceremony_formats::model::{AlgorithmParams, AlgorithmPolicy};
use ceremony_formats::{Bundle, Key, Ksr, Signature, SignaturePolicy, Skr};
use ceremony_keys::KeySigner;
use ceremony_policy::{
    check_safety, validate_ksr, verify_skr, CheckId, KsrContext, Outcome, Report, SkrContext,
    Violation,
};
use jiff::Timestamp;

use crate::config::{KskConfig, SignerConfig};
use crate::schema::Schema;
use crate::SignError;

/// The KSKs available for signing, by their names in the configuration.
pub type KeyRing<'a> = BTreeMap<String, &'a dyn KeySigner>;

/// Everything one signing needs.
pub struct SignRequest<'a> {
    /// The KSR, already parsed.
    pub ksr: &'a Ksr,
    /// The schema to apply.
    pub schema: &'a Schema,
    /// Keys, policies and schemas.
    pub config: &'a SignerConfig,
    /// The loaded KSKs; every key the schema names must be here.
    pub keys: &'a KeyRing<'a>,
    /// The SKR of the previous quarter, for the chain and safety checks.
    pub previous: Option<&'a Skr>,
    /// The instant checks are judged at.
    pub now: Timestamp,
}

/// A signed response and the report of every check that let it through.
#[derive(Debug)]
pub struct Signed {
    /// The SKR, ready to write.
    pub skr: Skr,
    /// Every check, all passed, skipped or not applicable.
    pub report: Report,
}

/// Tags the operator's KSKs have or will have, revoked included: no ZSK may share one.
pub fn ksk_tags(keys: &KeyRing<'_>) -> Vec<KeyTag> {
    let mut tags: Vec<KeyTag> = keys
        .values()
        .flat_map(|k| [k.dnskey().key_tag(), k.dnskey().revoked().key_tag()])
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// Tags no ZSK may have: those of the loaded KSKs (revoked too), and the
/// configured tags of keys the schema does not load, such as a next KSK not
/// yet in use. For those only the configured tag is known, so the revoked
/// tag is taken as the tag plus 128 (the REVOKE bit is added to the sum), and
/// one more for the end-around carry.
fn forbidden_zsk_tags(request: &SignRequest<'_>) -> Vec<KeyTag> {
    let mut tags = ksk_tags(request.keys);
    for key in request.config.keys.values() {
        if let Some(tag) = key.key_tag {
            for candidate in [tag, tag.wrapping_add(128), tag.wrapping_add(129)] {
                tags.push(KeyTag(candidate));
            }
        }
    }
    tags.sort();
    tags.dedup();
    tags
}

/// Runs the KSR checks and the signing-time checks, without signing.
pub fn check(request: &SignRequest<'_>) -> Report {
    let config = request.config;
    let tags = forbidden_zsk_tags(request);
    let mut report = validate_ksr(
        request.ksr,
        &KsrContext {
            policy: &config.request_policy,
            previous: request.previous,
            now: request.now,
            ksk_tags: &tags,
        },
    );
    report.record(
        CheckId::KskMatch,
        key_match_violations(request),
        "every KSK matches its configured algorithm, size, tag and DS",
    );
    let (validity, coverage) = slot_violations(request);
    report.record(
        CheckId::KskValidity,
        validity,
        "every KSK is within its configured validity in every slot it is used",
    );
    report.record(
        CheckId::KskAlgorithms,
        coverage,
        "the KSK signatures cover every ZSK algorithm in every bundle",
    );
    if let Some(previous) = request.previous {
        if config.request_policy.check_chain_keys_in_hsm {
            report.add_violations(
                CheckId::KsrChainKeys,
                chain_in_hsm_violations(request, previous),
            );
        }
    }
    report
}

/// Checks, signs and re-checks; returns the SKR only when every check passes.
///
/// # Errors
/// [`SignError::Policy`] with the report when a check fails, or the key or schema error.
pub fn sign_ksr(request: &SignRequest<'_>) -> Result<Signed, SignError> {
    sign_checked(request, &|_| {})
}

/// [`sign_ksr`], with `adjust` applied to the report after each stage of
/// checks (see [`crate::danger`]).
pub(crate) fn sign_checked(
    request: &SignRequest<'_>,
    adjust: &dyn Fn(&mut Report),
) -> Result<Signed, SignError> {
    let mut report = check(request);
    adjust(&mut report);
    if !report.is_ok() {
        return Err(SignError::Policy(Box::new(report)));
    }
    let skr = build_skr(request)?;
    let after = verify_skr(
        &skr,
        &SkrContext {
            policy: &request.config.response_policy,
            ksr: Some(request.ksr),
            anchors: None,
            previous: None,
        },
    );
    for id in [CheckId::SkrVerify, CheckId::SkrMatch, CheckId::SkrPair] {
        if let Some(outcome) = after.outcome(id) {
            report.replace(id, outcome.clone());
        }
    }
    if let Some(previous) = request.previous {
        report.merge(check_safety(previous, &skr, &request.config.request_policy));
    }
    adjust(&mut report);
    if !report.is_ok() {
        return Err(SignError::Policy(Box::new(report)));
    }
    Ok(Signed { skr, report })
}

fn signers_name(request: &SignRequest<'_>) -> String {
    request
        .config
        .ksk_policy
        .signers_name
        .clone()
        .unwrap_or_else(|| request.ksr.header.domain.clone())
}

fn key_config<'c>(
    request: &'c SignRequest<'_>,
    name: &str,
) -> Result<(&'c KskConfig, &'c dyn KeySigner), SignError> {
    let config = request
        .config
        .keys
        .get(name)
        .ok_or_else(|| SignError::Config {
            file: "configuration".to_owned(),
            message: format!(
                "schema {:?} names key {name:?}, which is not in the keys section",
                request.schema.name
            ),
        })?;
    let key = request
        .keys
        .get(name)
        .copied()
        .ok_or_else(|| SignError::MissingKey {
            name: name.to_owned(),
            label: config.label.clone(),
            reason: "not loaded from the HSM or keystore".to_owned(),
        })?;
    Ok((config, key))
}

fn key_match_violations(request: &SignRequest<'_>) -> Vec<Violation> {
    let mut violations = Vec::new();
    let zone = parse_name(&request.ksr.header.domain).ok();
    for (name, key) in request.keys.iter() {
        let Some(config) = request.config.keys.get(name) else {
            continue;
        };
        let dnskey = key.dnskey();
        let tag = dnskey.key_tag();
        let mut wrong = |what: String| {
            violations
                .push(Violation::new(format!("key {name} ({}): {what}", config.label)).for_key(tag))
        };
        if dnskey.algorithm() != config.algorithm {
            wrong(format!(
                "algorithm {} in the HSM, {} configured",
                dnskey.algorithm().to_int(),
                config.algorithm.to_int()
            ));
        }
        if let Some(expected) = config.key_tag {
            if tag.0 != expected {
                wrong(format!("key tag {tag}, {expected} configured"));
            }
        }
        if let Ok(KeyParams::Rsa { bits, exponent }) = dnskey.params() {
            if config.rsa_size.is_some_and(|size| size != bits) {
                wrong(format!(
                    "RSA-{bits}, RSA-{} configured",
                    config.rsa_size.unwrap_or_default()
                ));
            }
            if let (Some(configured), Some(actual)) = (config.rsa_exponent, exponent) {
                if configured != actual {
                    wrong(format!("exponent {actual}, {configured} configured"));
                }
            }
        }
        if let (Some(hex), Some(zone)) = (&config.ds_sha256, &zone) {
            match Ds::compute(zone, dnskey, DigestAlgorithm::SHA256) {
                Ok(ds) if ds.digest_hex().eq_ignore_ascii_case(hex) => {}
                Ok(ds) => wrong(format!(
                    "DS SHA-256 {}, {} configured",
                    ds.digest_hex(),
                    hex.to_ascii_uppercase()
                )),
                Err(err) => wrong(err.to_string()),
            }
        }
    }
    violations
}

fn slot_violations(request: &SignRequest<'_>) -> (Vec<Violation>, Vec<Violation>) {
    let mut validity = Vec::new();
    let mut coverage = Vec::new();
    for (i, bundle) in request.ksr.bundles.iter().enumerate() {
        let Some(action) = request.schema.slot(i + 1) else {
            continue;
        };
        // A key both published and signing is one key: one violation per slot.
        let mut names: Vec<&String> = action.keys().collect();
        names.sort();
        names.dedup();
        for name in names {
            let Some(config) = request.config.keys.get(name) else {
                continue;
            };
            let early = bundle.inception < config.valid_from;
            let late = config
                .valid_until
                .is_some_and(|until| bundle.expiration > until);
            if early || late {
                validity.push(
                    Violation::new(format!(
                        "slot {}: key {name} is valid {} to {}, the bundle {} to {}",
                        i + 1,
                        config.valid_from,
                        config
                            .valid_until
                            .map_or("(open)".to_owned(), |t| t.to_string()),
                        bundle.inception,
                        bundle.expiration
                    ))
                    .in_bundle(&bundle.id),
                );
            }
        }
        let mut zsk_algs: Vec<u8> = bundle
            .keys
            .iter()
            .map(|k| k.dnskey.algorithm().to_int())
            .collect();
        let mut ksk_algs: Vec<u8> = action
            .sign
            .iter()
            .chain(&action.revoke)
            .filter_map(|name| request.config.keys.get(name))
            .map(|c| c.algorithm.to_int())
            .collect();
        zsk_algs.sort_unstable();
        zsk_algs.dedup();
        ksk_algs.sort_unstable();
        ksk_algs.dedup();
        if zsk_algs != ksk_algs {
            coverage.push(
                Violation::new(format!(
                    "slot {}: the ZSKs use algorithms {zsk_algs:?}, the signing KSKs {ksk_algs:?}",
                    i + 1
                ))
                .in_bundle(&bundle.id),
            );
        }
    }
    (validity, coverage)
}

/// The previous SKR's last bundle must be signed by a key we hold: we continue our own chain.
fn chain_in_hsm_violations(request: &SignRequest<'_>, previous: &Skr) -> Vec<Violation> {
    let Some(last) = previous.bundles.last() else {
        return vec![Violation::new("the previous SKR has no bundles")];
    };
    let held: Vec<Dnskey> = request
        .keys
        .values()
        .flat_map(|k| [k.dnskey().clone(), k.dnskey().revoked()])
        .collect();
    let signed_by_us = last.signatures.iter().any(|sig| {
        last.keys
            .iter()
            .any(|key| key.dnskey.key_tag() == sig.key_tag && held.contains(&key.dnskey))
    });
    if signed_by_us {
        Vec::new()
    } else {
        let signers: Vec<String> = last
            .signatures
            .iter()
            .map(|s| s.key_tag.to_string())
            .collect();
        let ours: Vec<String> = request
            .keys
            .values()
            .map(|k| k.dnskey().key_tag().to_string())
            .collect();
        vec![Violation::new(format!(
            "the previous SKR's last bundle is signed by KSK {}, which is none of the keys held here ({})",
            signers.join(", "),
            ours.join(", ")
        ))
        .in_bundle(&last.id)]
    }
}

fn build_skr(request: &SignRequest<'_>) -> Result<Skr, SignError> {
    build_skr_with(request, true)
}

/// [`build_skr`], with the seam's SKR-VERIFY of each signature optional: a
/// threshold holder's [`KeySigner`] returns no signature, only records the data.
pub(crate) fn build_skr_with(
    request: &SignRequest<'_>,
    verify_each: bool,
) -> Result<Skr, SignError> {
    let ksr = request.ksr;
    let zone = parse_name(&ksr.header.domain).map_err(|err| SignError::Config {
        file: "KSR".to_owned(),
        message: format!("domain {:?}: {err}", ksr.header.domain),
    })?;
    let signer = signers_name(request);
    let signer_name = parse_name(&signer).map_err(|err| SignError::Config {
        file: "configuration".to_owned(),
        message: format!("ksk_policy.signers_name {signer:?}: {err}"),
    })?;
    let ttl = request.config.ksk_policy.ttl;
    let mut bundles = Vec::with_capacity(ksr.bundles.len());
    let mut used = Vec::new();
    for (i, bundle) in ksr.bundles.iter().enumerate() {
        let slot = i + 1;
        let action = request
            .schema
            .slot(slot)
            .ok_or_else(|| SignError::SchemaSlot {
                schema: request.schema.name.clone(),
                slot,
                bundles: ksr.bundles.len(),
            })?;
        let mut keys: Vec<Key> = bundle
            .keys
            .iter()
            .map(|k| Key { ttl, ..k.clone() })
            .collect();
        let add = |keys: &mut Vec<Key>, label: &str, dnskey: Dnskey| {
            // The revoked form replaces the published one: one key, one entry (RFC 5011).
            keys.retain(|k| k.dnskey.public_key() != dnskey.public_key());
            keys.push(Key {
                key_identifier: label.to_owned(),
                key_tag: dnskey.key_tag(),
                ttl,
                dnskey,
            });
        };
        for name in &action.publish {
            let (config, key) = key_config(request, name)?;
            add(&mut keys, &config.label, key.dnskey().clone());
        }
        for name in &action.revoke {
            let (config, key) = key_config(request, name)?;
            add(&mut keys, &config.label, key.dnskey().revoked());
        }
        for name in &action.sign {
            let (config, key) = key_config(request, name)?;
            if !keys
                .iter()
                .any(|k| k.dnskey.public_key() == key.dnskey().public_key())
            {
                add(&mut keys, &config.label, key.dnskey().clone());
            }
        }
        let mut signatures = Vec::new();
        let mut signing: Vec<&String> = action.sign.iter().collect();
        for name in &action.revoke {
            // RFC 5011 §2.1: a revoked key signs the RRset that revokes it.
            if !signing.contains(&name) {
                signing.push(name);
            }
        }
        for name in signing {
            let (config, key) = key_config(request, name)?;
            let published = keys
                .iter()
                .find(|k| k.dnskey.public_key() == key.dnskey().public_key())
                .map(|k| k.dnskey.clone())
                .unwrap_or_else(|| key.dnskey().clone());
            let header = RrsigHeader {
                type_covered: DNSKEY_RTYPE,
                algorithm: published.algorithm(),
                labels: (zone.label_count() - 1) as u8,
                original_ttl: ttl,
                expiration: rrsig_time(bundle.expiration),
                inception: rrsig_time(bundle.inception),
                key_tag: published.key_tag(),
                signer_name: signer_name.clone(),
            };
            let data = header
                .signed_data_dnskeys(&zone, keys.iter().map(|k| &k.dnskey))
                .map_err(|err| SignError::Config {
                    file: "KSR".to_owned(),
                    message: err.to_string(),
                })?;
            let signature_data = key.sign(&data)?;
            // SKR-VERIFY at the seam: never write a signature software cannot verify.
            let verified = if verify_each {
                verify(&published, &data, &signature_data)
            } else {
                Ok(())
            };
            verified.map_err(|err| {
                let mut report = Report::default();
                report.push(
                    CheckId::SkrVerify,
                    Outcome::Failed(vec![Violation::new(format!(
                        "bundle #{slot} {}: the signature by {} does not verify in software: {err}",
                        bundle.id, config.label
                    ))
                    .in_bundle(&bundle.id)]),
                );
                SignError::Policy(Box::new(report))
            })?;
            signatures.push(Signature {
                key_identifier: config.label.clone(),
                ttl,
                type_covered: header.type_covered,
                algorithm: header.algorithm,
                labels: header.labels,
                original_ttl: ttl,
                expiration: bundle.expiration,
                inception: bundle.inception,
                key_tag: published.key_tag(),
                signers_name: signer.clone(),
                signature_data,
            });
            used.push(name.clone());
        }
        bundles.push(Bundle {
            id: bundle.id.clone(),
            inception: bundle.inception,
            expiration: bundle.expiration,
            signers: Vec::new(),
            keys,
            signatures,
        });
    }
    Ok(Skr {
        header: ksr.header.clone(),
        timestamp: None,
        ksk_policy: ksk_signature_policy(request, &used),
        zsk_policy: ksr.zsk_policy.clone(),
        bundles,
    })
}

/// The `<KSK>` policy of the response: the configured periods and the signing keys' algorithms.
fn ksk_signature_policy(request: &SignRequest<'_>, used: &[String]) -> SignaturePolicy {
    let policy = &request.config.ksk_policy;
    let mut algorithms: Vec<AlgorithmPolicy> = Vec::new();
    for name in used {
        let (Some(config), Some(key)) = (request.config.keys.get(name), request.keys.get(name))
        else {
            continue;
        };
        let params = match key.dnskey().params() {
            Ok(KeyParams::Rsa { bits, exponent }) => AlgorithmParams::Rsa {
                size: config.rsa_size.unwrap_or(bits),
                exponent: config.rsa_exponent.or(exponent).unwrap_or(65537),
            },
            Ok(KeyParams::Ecdsa { bits }) => AlgorithmParams::Ecdsa { size: bits },
            Ok(KeyParams::EdDsa { bits }) => AlgorithmParams::EdDsa { size: bits },
            Err(_) => continue,
        };
        let entry = AlgorithmPolicy {
            algorithm: config.algorithm,
            params,
        };
        if !algorithms.contains(&entry) {
            algorithms.push(entry);
        }
    }
    SignaturePolicy {
        publish_safety: policy.publish_safety,
        retire_safety: policy.retire_safety,
        max_signature_validity: policy.max_signature_validity,
        min_signature_validity: policy.min_signature_validity,
        max_validity_overlap: policy.max_validity_overlap,
        min_validity_overlap: policy.min_validity_overlap,
        algorithms,
    }
}

fn rrsig_time(instant: Timestamp) -> u32 {
    instant.as_second().rem_euclid(1 << 32) as u32
}
