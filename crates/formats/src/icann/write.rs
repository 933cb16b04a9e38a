//! Writing KSRs and SKRs in the layout of the root's recent SKRs.

use std::fmt::Write as _;

use base64::Engine as _;

use super::read::rtype_name;
use crate::model::{AlgorithmParams, Bundle, Header, Ksr, SignaturePolicy, Skr};
use crate::time::format_datetime;

/// Writes an SKR exactly as the root's SKRs look: one element per line, no indentation.
pub fn write_skr(skr: &Skr) -> String {
    let mut out = String::with_capacity(24 * 1024);
    open_document(&mut out, &skr.header);
    out.push_str(&timestamped("Response", skr.timestamp));
    out.push_str("<ResponsePolicy>\n");
    write_policy(&mut out, "KSK", &skr.ksk_policy);
    write_policy(&mut out, "ZSK", &skr.zsk_policy);
    out.push_str("</ResponsePolicy>\n");
    for bundle in &skr.bundles {
        write_bundle(&mut out, "ResponseBundle", bundle);
    }
    out.push_str("</Response>\n</KSR>\n");
    out
}

/// Writes a KSR in the same layout as [`write_skr`].
pub fn write_ksr(ksr: &Ksr) -> String {
    let mut out = String::with_capacity(24 * 1024);
    open_document(&mut out, &ksr.header);
    out.push_str(&timestamped("Request", ksr.timestamp));
    out.push_str("<RequestPolicy>\n");
    write_policy(&mut out, "ZSK", &ksr.zsk_policy);
    out.push_str("</RequestPolicy>\n");
    for bundle in &ksr.bundles {
        write_bundle(&mut out, "RequestBundle", bundle);
    }
    out.push_str("</Request>\n</KSR>\n");
    out
}

fn open_document(out: &mut String, header: &Header) {
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KSR id=\"{}\" domain=\"{}\" serial=\"{}\">",
        escape(&header.id),
        escape(&header.domain),
        header.serial
    );
}

fn timestamped(element: &str, timestamp: Option<jiff::Timestamp>) -> String {
    match timestamp {
        Some(t) => format!("<{element} timestamp=\"{}\">\n", format_datetime(t)),
        None => format!("<{element}>\n"),
    }
}

fn write_policy(out: &mut String, element: &str, policy: &SignaturePolicy) {
    let _ = writeln!(out, "<{element}>");
    for (name, value) in [
        ("PublishSafety", policy.publish_safety),
        ("RetireSafety", policy.retire_safety),
        ("MaxSignatureValidity", policy.max_signature_validity),
        ("MinSignatureValidity", policy.min_signature_validity),
        ("MaxValidityOverlap", policy.max_validity_overlap),
        ("MinValidityOverlap", policy.min_validity_overlap),
    ] {
        let _ = writeln!(out, "<{name}>{}</{name}>", value.to_xsd());
    }
    for alg in &policy.algorithms {
        let _ = writeln!(
            out,
            "<SignatureAlgorithm algorithm=\"{}\">",
            alg.algorithm.to_int()
        );
        let _ = match alg.params {
            AlgorithmParams::Rsa { size, exponent } => {
                writeln!(out, "<RSA size=\"{size}\" exponent=\"{exponent}\"/>")
            }
            AlgorithmParams::Ecdsa { size } => writeln!(out, "<ECDSA size=\"{size}\"/>"),
            AlgorithmParams::EdDsa { size } => writeln!(out, "<EdDSA size=\"{size}\"/>"),
        };
        out.push_str("</SignatureAlgorithm>\n");
    }
    let _ = writeln!(out, "</{element}>");
}

fn write_bundle(out: &mut String, element: &str, bundle: &Bundle) {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let _ = writeln!(out, "<{element} id=\"{}\">", escape(&bundle.id));
    let _ = writeln!(
        out,
        "<Inception>{}</Inception>",
        format_datetime(bundle.inception)
    );
    let _ = writeln!(
        out,
        "<Expiration>{}</Expiration>",
        format_datetime(bundle.expiration)
    );
    for signer in &bundle.signers {
        let _ = writeln!(out, "<Signer keyIdentifier=\"{}\"/>", escape(signer));
    }
    for key in &bundle.keys {
        // The root's signers zero-pad tags to five digits; the schema allows it.
        let _ = write!(
            out,
            "<Key keyIdentifier=\"{}\" keyTag=\"{:05}\">\n<TTL>{}</TTL>\n<Flags>{}</Flags>\n<Protocol>{}</Protocol>\n<Algorithm>{}</Algorithm>\n<PublicKey>{}</PublicKey>\n</Key>\n",
            escape(&key.key_identifier),
            key.key_tag.0,
            key.ttl,
            key.dnskey.flags(),
            key.dnskey.protocol(),
            key.dnskey.algorithm().to_int(),
            key.dnskey.public_key_base64(),
        );
    }
    for sig in &bundle.signatures {
        let _ = write!(
            out,
            "<Signature keyIdentifier=\"{}\">\n<TTL>{}</TTL>\n<TypeCovered>{}</TypeCovered>\n<Algorithm>{}</Algorithm>\n<Labels>{}</Labels>\n<OriginalTTL>{}</OriginalTTL>\n<SignatureExpiration>{}</SignatureExpiration>\n<SignatureInception>{}</SignatureInception>\n<KeyTag>{:05}</KeyTag>\n<SignersName>{}</SignersName>\n<SignatureData>{}</SignatureData>\n</Signature>\n",
            escape(&sig.key_identifier),
            sig.ttl,
            rtype_name(sig.type_covered),
            sig.algorithm.to_int(),
            sig.labels,
            sig.original_ttl,
            format_datetime(sig.expiration),
            format_datetime(sig.inception),
            sig.key_tag.0,
            escape(&sig.signers_name),
            b64.encode(&sig.signature_data),
        );
    }
    let _ = writeln!(out, "</{element}>");
}

/// Escapes text for an attribute value or element content, so that a reader gets it back unchanged.
///
/// Besides the markup characters, tab, line feed and carriage return are
/// written as character references: a reader replaces them by spaces in an
/// attribute value (XML 1.0 §3.3.3) and turns a carriage return into a line
/// feed anywhere (§2.11), so written literally they would not survive.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
    out
}
