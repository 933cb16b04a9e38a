//! The zone operator's side: a KSR with proof of possession, from a set of ZSKs and a schedule.
//!
//! The demo plays the zone operator with it, and `ceremony ksr generate`
//! builds on it. Each bundle holds the ZSKs the schedule publishes in that
//! slot, and each ZSK signs the bundle's DNSKEY RRset (KSR-BUNDLE-POP).

use ceremony_dnssec::{parse_name, RrsigHeader, DNSKEY_RTYPE};
use ceremony_formats::model::{AlgorithmParams, AlgorithmPolicy, ProofOfPossession};
use ceremony_formats::{Bundle, Duration, Header, Key, Ksr, Signature, SignaturePolicy};
use ceremony_keys::KeySigner;
use jiff::Timestamp;

use crate::SignError;

/// When the bundles of a KSR start and how long they last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Inception of the first bundle.
    pub start: Timestamp,
    /// Number of bundles.
    pub bundles: usize,
    /// Time between inceptions.
    pub interval: Duration,
    /// Validity of each bundle.
    pub validity: Duration,
}

impl Schedule {
    /// The root's practice: 9 bundles 10 days apart, each valid 21 days.
    pub fn root_quarter(start: Timestamp) -> Schedule {
        Schedule {
            start,
            bundles: 9,
            interval: Duration::from_days(10),
            validity: Duration::from_days(21),
        }
    }
}

/// A ZSK and the slots (1-based, inclusive) in which it is published.
pub struct ZskSlots<'a> {
    /// The key; its DNSKEY must have flags 256.
    pub key: &'a dyn KeySigner,
    /// The key identifier written in the KSR.
    pub key_identifier: String,
    /// First slot it is published in.
    pub first: usize,
    /// Last slot it is published in.
    pub last: usize,
}

/// Builds a KSR for `domain` with proof of possession by every ZSK in every bundle.
///
/// # Errors
/// [`SignError::Config`] for a bad domain, or the key's error when a ZSK cannot sign.
pub fn generate_ksr(
    domain: &str,
    id: &str,
    zsks: &[ZskSlots<'_>],
    schedule: &Schedule,
    ttl: u32,
) -> Result<Ksr, SignError> {
    let zone = parse_name(domain).map_err(|err| SignError::Config {
        file: "KSR".to_owned(),
        message: format!("domain {domain:?}: {err}"),
    })?;
    let mut bundles = Vec::with_capacity(schedule.bundles);
    for slot in 1..=schedule.bundles {
        let offset = schedule.interval.as_seconds() * (slot as i64 - 1);
        let inception =
            Timestamp::from_second(schedule.start.as_second() + offset).map_err(time_error)?;
        let expiration =
            Timestamp::from_second(inception.as_second() + schedule.validity.as_seconds())
                .map_err(time_error)?;
        let published: Vec<&ZskSlots<'_>> = zsks
            .iter()
            .filter(|z| (z.first..=z.last).contains(&slot))
            .collect();
        let keys: Vec<Key> = published
            .iter()
            .map(|z| Key {
                key_identifier: z.key_identifier.clone(),
                key_tag: z.key.dnskey().key_tag(),
                ttl,
                dnskey: z.key.dnskey().clone(),
            })
            .collect();
        let mut signatures = Vec::new();
        for zsk in &published {
            let dnskey = zsk.key.dnskey();
            let header = RrsigHeader::for_dnskeys(
                &zone,
                dnskey,
                ttl,
                inception.as_second() as u32,
                expiration.as_second() as u32,
            );
            let data = header
                .signed_data_dnskeys(&zone, keys.iter().map(|k| &k.dnskey))
                .map_err(|err| SignError::Config {
                    file: "KSR".to_owned(),
                    message: err.to_string(),
                })?;
            signatures.push(Signature {
                key_identifier: zsk.key_identifier.clone(),
                ttl,
                type_covered: DNSKEY_RTYPE,
                algorithm: dnskey.algorithm(),
                labels: header.labels,
                original_ttl: ttl,
                expiration,
                inception,
                key_tag: dnskey.key_tag(),
                signers_name: domain.to_owned(),
                signature_data: zsk.key.sign(&data)?,
            });
        }
        bundles.push(Bundle {
            id: bundle_id(id, slot),
            inception,
            expiration,
            signers: Vec::new(),
            keys,
            signatures,
        });
    }
    let mut algorithms: Vec<AlgorithmPolicy> = Vec::new();
    for zsk in zsks {
        let dnskey = zsk.key.dnskey();
        let params = match dnskey.params() {
            Ok(ceremony_dnssec::KeyParams::Rsa { bits, exponent }) => AlgorithmParams::Rsa {
                size: bits,
                exponent: exponent.unwrap_or(65537),
            },
            Ok(ceremony_dnssec::KeyParams::Ecdsa { bits }) => AlgorithmParams::Ecdsa { size: bits },
            Ok(ceremony_dnssec::KeyParams::EdDsa { bits }) => AlgorithmParams::EdDsa { size: bits },
            Err(_) => continue,
        };
        let entry = AlgorithmPolicy {
            algorithm: dnskey.algorithm(),
            params,
        };
        if !algorithms.contains(&entry) {
            algorithms.push(entry);
        }
    }
    let overlap =
        Duration::from_seconds(schedule.validity.as_seconds() - schedule.interval.as_seconds());
    Ok(Ksr {
        header: Header {
            id: id.to_owned(),
            serial: 1,
            domain: domain.to_owned(),
        },
        timestamp: None,
        zsk_policy: SignaturePolicy {
            publish_safety: schedule.interval,
            retire_safety: schedule.interval,
            max_signature_validity: schedule.validity,
            min_signature_validity: schedule.validity,
            max_validity_overlap: overlap,
            min_validity_overlap: overlap,
            algorithms,
        },
        bundles,
        proof_of_possession: ProofOfPossession::Required,
    })
}

fn time_error(err: jiff::Error) -> SignError {
    SignError::Config {
        file: "schedule".to_owned(),
        message: err.to_string(),
    }
}

/// A bundle id derived from the KSR id and the slot, unique across KSRs with unique ids.
fn bundle_id(ksr_id: &str, slot: usize) -> String {
    let digest = ceremony_formats::Fingerprint::of(format!("{ksr_id}/{slot}").as_bytes()).hex();
    format!(
        "{}-{}-{}-{}-{}",
        &digest[..8],
        &digest[8..12],
        &digest[12..16],
        &digest[16..20],
        &digest[20..32]
    )
}
