//! Verifying a bundle's signatures, shared by the KSR and SKR checks.

use ceremony_dnssec::{parse_name, verify, Name, RrsigHeader};
use ceremony_formats::{Bundle, Key, Signature};

/// Converts a time to the 32-bit serial form RRSIGs carry (RFC 4034 §3.1.5).
pub(crate) fn rrsig_time(instant: jiff::Timestamp) -> u32 {
    // Serial arithmetic wraps modulo 2^32 by design.
    instant.as_second().rem_euclid(1 << 32) as u32
}

/// The zone's name, or a message saying why the domain attribute is not one.
pub(crate) fn zone_name(domain: &str) -> Result<Name, String> {
    parse_name(domain).map_err(|err| format!("domain {domain:?}: {err}"))
}

/// The key in the bundle that `sig` claims, by identifier, tag and algorithm.
pub(crate) fn signing_key<'b>(bundle: &'b Bundle, sig: &Signature) -> Option<&'b Key> {
    bundle.keys.iter().find(|key| {
        key.key_identifier == sig.key_identifier
            && key.dnskey.key_tag() == sig.key_tag
            && key.dnskey.algorithm() == sig.algorithm
    })
}

/// Verifies `sig` by `key` over the bundle's DNSKEY RRset at `zone`.
pub(crate) fn verify_signature(
    zone: &Name,
    bundle: &Bundle,
    sig: &Signature,
    key: &Key,
) -> Result<(), String> {
    let signer = parse_name(&sig.signers_name).map_err(|err| err.to_string())?;
    let header = RrsigHeader {
        type_covered: sig.type_covered,
        algorithm: sig.algorithm,
        labels: sig.labels,
        original_ttl: sig.original_ttl,
        expiration: rrsig_time(sig.expiration),
        inception: rrsig_time(sig.inception),
        key_tag: sig.key_tag,
        signer_name: signer,
    };
    let data = header
        .signed_data_dnskeys(zone, bundle.dnskeys())
        .map_err(|err| err.to_string())?;
    verify(&key.dnskey, &data, &sig.signature_data).map_err(|err| err.to_string())
}

/// A short name for a bundle in messages: its position and id.
pub(crate) fn bundle_label(index: usize, bundle: &Bundle) -> String {
    format!("#{} {}", index + 1, bundle.id)
}
